"""Mermaid ER diagram generated from the SQLAlchemy models, so the README's diagram cannot drift."""

from __future__ import annotations

import sqlalchemy as sa

from apmseed.schema import metadata


def _type(column: sa.Column) -> str:
    name = type(column.type).__name__.lower()
    return {"string": "varchar", "biginteger": "bigint", "smallinteger": "smallint", "double": "float8"}.get(
        name, name)


def mermaid(meta: sa.MetaData = metadata) -> str:
    lines = ["erDiagram"]
    for table in sorted(meta.tables.values(), key=lambda t: t.name):
        lines.append(f"    {table.name} {{")
        fk_cols = {c.name for fk in table.foreign_key_constraints for c in fk.columns}
        for col in table.columns:
            keys = ",".join(k for k, on in (("PK", col.primary_key), ("FK", col.name in fk_cols)) if on)
            lines.append(f"        {_type(col)} {col.name}{' ' + keys if keys else ''}")
        lines.append("    }")
    for table in sorted(meta.tables.values(), key=lambda t: t.name):
        for fk in sorted(table.foreign_key_constraints, key=lambda f: f.name or ""):
            optional = any(c.nullable for c in fk.columns)
            label = ", ".join(c.name for c in fk.columns)
            lines.append(f'    {fk.referred_table.name} ||--{"o" if optional else "|"}{{ {table.name} : "{label}"')
    return "\n".join(lines) + "\n"
