"""Declarative base with a naming convention, so Alembic revisions and models name constraints alike."""

from typing import Any

from sqlalchemy import BigInteger, MetaData, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.schema import CreateColumn
from sqlalchemy.sql.compiler import DDLCompiler

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


EpochMs = BigInteger


@compiles(CreateColumn, "postgresql")
def _text_in_byte_order(element: CreateColumn, compiler: DDLCompiler, **kw: Any) -> str:
    """Every text column apmseed creates (models and migrations alike) sorts in byte order, whatever the
    database's default collation: seeding reads rows back in id order and draws random numbers in that order,
    and exports sort by ids, so an en_US database would otherwise give other data and other files than the
    embedded server does. Byte order is code point order for UTF-8, as Python's sorted(); it also builds the
    keys of text ids about three times faster than a libc locale."""
    spec = compiler.visit_create_column(element, **kw)
    column = element.element
    if not isinstance(column.type, String) or column.type.collation is not None:
        return spec
    type_sql = compiler.dialect.type_compiler_instance.process(column.type)
    head = f"{compiler.preparer.format_column(column)} {type_sql}"
    return spec.replace(head, f'{head} COLLATE "C"', 1) if spec.startswith(head) else spec
