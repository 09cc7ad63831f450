"""Bulk loading with COPY: text COPY for entity rows, binary COPY built straight from numpy for points."""

from __future__ import annotations

import itertools
import operator
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa
from psycopg import Connection as PgConnection
from psycopg import Copy
from sqlalchemy.dialects import postgresql

from apmseed.schema import metadata

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
BINARY_TRAILER = (-1).to_bytes(2, "big", signed=True)
POINT_DTYPE = np.dtype([("nfields", ">i2"), ("len1", ">i4"), ("series_id", ">i4"), ("len2", ">i4"),
                        ("ts_ms", ">i8"), ("len3", ">i4"), ("value", ">f8")])


try:  # psycopg's row encoder (C in its binary package): what `write_row` calls, minus two Python frames a row
    from psycopg._copy_base import format_row_binary as _format_row_binary
except ImportError:  # pragma: no cover - a psycopg that moved it: text COPY through `write_row` instead
    _format_row_binary = None

_SYNONYMS = {"integer": "int4", "bigint": "int8", "smallint": "int2", "double precision": "float8"}


def pg_type(column: sa.Column) -> str:
    """The psycopg type name for COPY (`varchar(16)[]` -> `varchar[]`, `integer` -> `int4`)."""
    name = re.sub(r"\(\d+\)", "", column.type.compile(dialect=postgresql.dialect()).lower())
    base, array = (name[:-2], "[]") if name.endswith("[]") else (name, "")
    return _SYNONYMS.get(base, base) + array


def copy_rows(pg: PgConnection, table_name: str, rows: Iterable[dict[str, Any]]) -> int:
    """COPY dict rows (keys = column names) into a table; JSON columns are serialised once with orjson."""
    names = [c.name for c in metadata.tables[table_name].columns]
    get = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    values = map(get, rows)
    return copy_tuples(pg, table_name, names, iter(lambda: list(itertools.islice(values, 10_000)), []))


def copy_tuples(pg: PgConnection, table_name: str, columns: Sequence[str], chunks: Iterable[Iterable[Sequence[Any]]],
                on_rows: Callable[[int], None] | None = None) -> int:
    """COPY rows given as tuples (or lists) in `columns` order, chunk by chunk, as they are made, in binary
    (cheaper for the server to take than text): psycopg encodes each row in C, far cheaper than building dicts;
    JSON columns are serialised here with orjson, keys sorted. Columns not named get their defaults."""
    table = metadata.tables[table_name]
    cols = [table.columns[name] for name in columns]
    json_at = [i for i, c in enumerate(cols) if isinstance(c.type, postgresql.JSONB)]
    names = ", ".join(f'"{c.name}"' for c in cols)
    binary = _format_row_binary is not None
    count = 0
    with pg.cursor() as cur, cur.copy(f'COPY "{table_name}" ({names}) FROM STDIN'
                                      + (" (FORMAT BINARY)" if binary else "")) as copy:
        # a JSON value goes as jsonb's binary form (version 1 + the text), passed through as bytes
        copy.set_types([("bytea" if binary else "text") if i in json_at else pg_type(c) for i, c in enumerate(cols)])
        if binary:
            copy.write(BINARY_HEADER)
        for chunk in chunks:
            if json_at:
                chunk = [_with_json(row, json_at, binary) for row in chunk]
            n = _write_rows(copy, chunk, binary)
            count += n
            if on_rows:
                on_rows(n)
        if binary:
            copy.write(BINARY_TRAILER)
    return count


def _with_json(row: Sequence[Any], json_at: list[int], binary: bool) -> list[Any]:
    values = list(row)
    for i in json_at:
        text = orjson.dumps(values[i], option=orjson.OPT_SORT_KEYS)
        values[i] = b"\x01" + text if binary else text.decode()
    return values


def _write_rows(copy: Copy, rows: Iterable[Sequence[Any]], binary: bool) -> int:
    """Encode rows into one buffer with psycopg's row encoder and send it in one write."""
    n = 0
    if not binary:
        for row in rows:
            copy.write_row(row)
            n += 1
        return n
    transformer, buffer = copy.formatter.transformer, bytearray()
    for row in rows:
        _format_row_binary(row, transformer, buffer)
        n += 1
    copy.write(buffer)
    return n


def series_points(pg: PgConnection, series_ids: Iterable[int], batch: int = 512
                  ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(series id, ts_ms, value) of each given series that has points, in series id order, points by time. The
    server packs each series into two binary strings that numpy reads as they are (no Python object per point,
    no array decoding), a batch of series at a time, so memory stays bounded."""
    wanted = sorted({int(s) for s in series_ids})
    for k in range(0, len(wanted), batch):
        with pg.cursor(binary=True) as cur:
            cur.execute("SELECT series_id, string_agg(int8send(ts_ms), ''::bytea ORDER BY ts_ms),"
                        " string_agg(float8send(value), ''::bytea ORDER BY ts_ms) FROM metric_point"
                        " WHERE series_id = ANY(%s) GROUP BY series_id ORDER BY series_id", (wanted[k:k + batch],))
            for series_id, ts, value in cur:
                yield (series_id, np.frombuffer(ts, dtype=">i8").astype(np.int64),
                       np.frombuffer(value, dtype=">f8").astype(np.float64))


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
