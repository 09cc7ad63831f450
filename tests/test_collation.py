"""Text sorts in byte order in every apmseed table, whatever the database's default collation: seeding reads
rows back in id order (and draws random numbers in that order) and exports sort by ids, so a database whose
collation orders ids otherwise must still give the very same rows and files. (A database with another default
collation cannot be made on the test server: its PostgreSQL has no ICU and the machine only C locales; the
column collation is what decides the order of ORDER BY on a column, so this is checked on the columns.)"""

from __future__ import annotations

import sqlalchemy as sa

from apmseed import versioning


def test_every_text_column_sorts_in_byte_order(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        versioning.upgrade(conn, versioning.latest_version())
    with engine.connect() as conn:
        columns = conn.execute(sa.text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying')"
            " AND table_name <> 'alembic_version'")).all()
    assert len(columns) > 100
    assert [c for c in columns if c.collation_name != "C"] == []


def test_ids_sort_in_byte_order_in_queries(seeded: sa.Engine) -> None:
    """What the layers and exporters rely on: ORDER BY an id gives Python's sorted() order."""
    with seeded.connect() as conn:
        ids = conn.execute(sa.text("SELECT id FROM application ORDER BY id")).scalars().all()
        labels = conn.execute(sa.text("SELECT label FROM service ORDER BY label")).scalars().all()
    assert ids == sorted(ids) and labels == sorted(labels)
    assert any(c.isupper() for i in ids for c in i) and any(c.islower() for i in ids for c in i)
