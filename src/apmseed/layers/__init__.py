"""Dataset layers: each version after 1.0.0 adds tables and fills them from what the database already holds.

Seeding version X directly and upgrading an older seeded database to X run the very same code (1.0.0's world,
then each layer in order, reading the rows already there), so both paths give identical databases.

A layer returns, per table, either all its rows (a list of dicts), a `Later` list or a `Stream`: tuples made chunk
by chunk while COPY loads them, so memory stays bounded whatever the profile size. Tables are loaded in the order
the layer gives them; a stream's iterator (and a `Later`'s function) runs only when its turn comes, so it may use
what the tables before it left behind and draw random numbers after them, and may query the database until it
yields its first chunk, not after. A stream's foreign keys and indexes are created once the whole layer is loaded,
so a stream may come before the rows it references."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

CHUNK_ROWS = 20_000  # rows per chunk of a stream: memory per bulk table, not how many rows there are
T = TypeVar("T")


@dataclass
class Stream:
    """The rows of one bulk table, made while COPY loads them: chunks (lists) of tuples in `columns` order; the
    table's other columns get their defaults. The rows and their order never depend on the chunk size."""

    columns: Sequence[str]
    chunks: Iterable[Sequence[Sequence[Any]]]
    # how many rows to expect, for the progress bar's ETA only (a function: known only when the stream's turn
    # comes); None: unknown
    expected: int | Callable[[], int] | None = None

    def expected_rows(self) -> int | None:
        return self.expected() if callable(self.expected) else self.expected


@dataclass
class Later:
    """A table's rows as a list that can only be made when its turn comes (they depend on a stream loaded
    before them, or must draw random numbers after it): loaded like a list."""

    make: Callable[[], list[dict[str, Any]]]


TableRows = list[dict[str, Any]] | Stream | Later
Rows = dict[str, TableRows]


def rechunk(batches: Iterable[list[T]], size: int) -> Iterator[list[T]]:
    """Regroup batches of rows (one per entity, of any size) into chunks of `size` rows, the last one smaller."""
    buffer: list[T] = []
    for batch in batches:
        buffer.extend(batch)
        if len(buffer) >= size:
            full = len(buffer) - len(buffer) % size
            for k in range(0, full, size):
                yield buffer[k:k + size]
            buffer = buffer[full:]
    if buffer:
        yield buffer


@dataclass
class LayerContext:
    conn: Connection
    version: str
    seed: int
    end_ms: int
    options: dict[str, Any]
    chunk_rows: int = CHUNK_ROWS
    # the 1.0.0 world's ground-truth stories when the seed that built it runs the layers (a `db upgrade` of an
    # older database has none and plans the world again: the same stories, planning is deterministic)
    stories: list[Any] | None = None

    def __post_init__(self) -> None:
        # a stream per layer: adding a layer never shifts the random numbers of another
        self.rand = random.Random(f"{self.seed}:{self.version}")

    @property
    def start_ms(self) -> int:
        return self.end_ms - int(self.options["minutes"]) * 60_000

    @property
    def pg(self) -> Any:
        """The psycopg connection under `conn` (same transaction), for COPY."""
        return self.conn.connection.driver_connection

    def rows(self, sql: str, **params: Any) -> list[sa.RowMapping]:
        return list(self.conn.execute(sa.text(sql), params).mappings())


Layer = Callable[[LayerContext], Rows]


def registry() -> dict[str, Layer]:
    from apmseed.layers import v1_1_0, v1_2_0, v1_3_0, v1_4_0, v1_5_0

    return {"1.1.0": v1_1_0.fill, "1.2.0": v1_2_0.fill, "1.3.0": v1_3_0.fill, "1.4.0": v1_4_0.fill,
            "1.5.0": v1_5_0.fill}
