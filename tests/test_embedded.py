"""The embedded server: a fresh data directory gives a cluster whose databases sort text in byte order, with
UTF-8 encoding, and leaves the caller's locale environment as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from apmseed import db, embedded


def test_a_fresh_cluster_sorts_text_in_byte_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # even a user's LC_ALL does not decide the collation
    monkeypatch.delenv("LC_COLLATE", raising=False)
    engine = db.create_engine(embedded.start(tmp_path / "data"))
    try:
        with engine.connect() as conn:
            collate, encoding = conn.execute(sa.text(
                "SELECT datcollate, pg_encoding_to_char(encoding) FROM pg_database"
                " WHERE datname = current_database()")).one()
            # byte order: uppercase before lowercase, '-' before digits, as Python's sorted() does
            words = ["b", "B", "a-1", "a1", "é", "z", "_x"]
            ordered = conn.execute(sa.text("SELECT w FROM unnest(CAST(:w AS text[])) w ORDER BY w"),
                                   {"w": words}).scalars().all()
    finally:
        engine.dispose()
    assert (collate, encoding) == ("C", "UTF8")
    assert ordered == sorted(words)
    assert os.environ["LC_ALL"] == "C.UTF-8" and "LC_COLLATE" not in os.environ
