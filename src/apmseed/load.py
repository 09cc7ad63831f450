"""Bulk loading with COPY: text COPY for entity rows, binary COPY built straight from numpy for points."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa
from psycopg import Connection as PgConnection
from sqlalchemy.dialects import postgresql

from apmseed.schema import metadata

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
BINARY_TRAILER = (-1).to_bytes(2, "big", signed=True)
POINT_DTYPE = np.dtype([("nfields", ">i2"), ("len1", ">i4"), ("series_id", ">i4"), ("len2", ">i4"),
                        ("ts_ms", ">i8"), ("len3", ">i4"), ("value", ">f8")])


_SYNONYMS = {"integer": "int4", "bigint": "int8", "smallint": "int2", "double precision": "float8"}


def pg_type(column: sa.Column) -> str:
    """The psycopg type name for COPY (`varchar(16)[]` -> `varchar[]`, `integer` -> `int4`)."""
    name = re.sub(r"\(\d+\)", "", column.type.compile(dialect=postgresql.dialect()).lower())
    base, array = (name[:-2], "[]") if name.endswith("[]") else (name, "")
    return _SYNONYMS.get(base, base) + array


def copy_rows(pg: PgConnection, table_name: str, rows: Iterable[dict[str, Any]]) -> int:
    """COPY dict rows (keys = column names) into a table; JSON columns are serialised once with orjson."""
    table = metadata.tables[table_name]
    columns = list(table.columns)
    json_cols = {c.name for c in columns if isinstance(c.type, postgresql.JSONB)}
    names = ", ".join(f'"{c.name}"' for c in columns)
    count = 0
    with pg.cursor() as cur, cur.copy(f'COPY "{table_name}" ({names}) FROM STDIN') as copy:
        copy.set_types(["text" if c.name in json_cols else pg_type(c) for c in columns])
        for row in rows:
            copy.write_row([
                orjson.dumps(row[c.name], option=orjson.OPT_SORT_KEYS).decode()
                if c.name in json_cols else row[c.name]
                for c in columns
            ])
            count += 1
    return count


def encode_points(series_id: np.ndarray, ts_ms: np.ndarray, value: np.ndarray) -> bytes:
    """Binary COPY tuples for (int4, int8, float8) without a Python loop."""
    buf = np.empty(series_id.size, dtype=POINT_DTYPE)
    buf["nfields"] = 3
    buf["len1"] = 4
    buf["series_id"] = series_id
    buf["len2"] = 8
    buf["ts_ms"] = ts_ms
    buf["len3"] = 8
    buf["value"] = value
    return buf.tobytes()


def _prefetch(chunks: Iterator[Any], transform: Callable[[Any], bytes], depth: int = 3) -> Iterator[bytes]:
    """Run generation + encoding in a producer thread so it overlaps with the COPY (numpy and the socket
    both release the GIL)."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for chunk in chunks:
                q.put(transform(chunk))
        except BaseException as exc:  # hand errors to the consumer
            q.put(exc)
        finally:
            q.put(done)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    while True:
        item = q.get()
        if item is done:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()


def copy_points(pg: PgConnection, chunks: Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]],
                on_rows: Callable[[int], None] | None = None, table: str = "metric_point") -> int:
    total = 0
    with pg.cursor() as cur, cur.copy(f"COPY {table} (series_id, ts_ms, value) FROM STDIN (FORMAT BINARY)") as cp:
        cp.write(BINARY_HEADER)
        for payload in _prefetch(chunks, lambda c: encode_points(*c)):
            cp.write(payload)
            rows = len(payload) // POINT_DTYPE.itemsize
            total += rows
            if on_rows:
                on_rows(rows)
        cp.write(BINARY_TRAILER)
    return total
