"""The raw PostgreSQL baselines every figure is a ratio to, measured on the same server in the same run:
binary COPY of metric-point rows into a bare table (the ceiling for loading), and
`COPY (SELECT row_to_json(t) FROM t) TO STDOUT` of every table (the ceiling for exporting)."""

from __future__ import annotations

import os
import time

import numpy as np
import sqlalchemy as sa

from apmseed import db, load
from apmseed.bench import END_MS, SEED
from apmseed.bench.server import Server
from apmseed.profiles import Profile

MINUTE_MS = 60_000
CHUNK_ROWS = 500_000  # World.point_chunks' default chunk size


def point_payloads(profile: Profile) -> list[bytes]:
    """Binary COPY buffers with the profile's point count and layout, built before timing so the baseline is
    the server's and the socket's speed only."""
    n = profile.points_per_series
    start_ms = END_MS - profile.minutes * MINUTE_MS
    ts = start_ms + np.arange(n, dtype=np.int64) * profile.resolution * MINUTE_MS
    rng = np.random.default_rng(SEED)
    per_chunk = max(1, CHUNK_ROWS // max(1, n))
    payloads = []
    for first in range(1, profile.series + 1, per_chunk):
        k = min(per_chunk, profile.series + 1 - first)
        ids = np.repeat(np.arange(first, first + k, dtype=np.int32), n)
        payloads.append(load.encode_points(ids, np.tile(ts, k), np.round(rng.random(k * n) * 100.0, 2)))
    return payloads


def raw_copy(srv: Server, label: str, payloads: list[bytes], add_pk: bool, add_fk: bool = False
             ) -> tuple[int, float, float]:
    """CREATE TABLE + COPY (+ ADD PRIMARY KEY (+ ADD FOREIGN KEY to a table of the series ids)) + COMMIT in one
    transaction, like seed; returns (rows, seconds from COPY start to commit, seconds of the keys)."""
    with srv.database(label) as url:
        engine = db.create_engine(url)
        try:
            with db.connect(engine) as conn:
                conn.execute(sa.text("SET maintenance_work_mem = '256MB'"))  # what load_world sets
                if add_fk:  # the referenced series, committed before the timing starts
                    conn.execute(sa.text("CREATE TABLE metric_series (series_id int4 PRIMARY KEY)"))
                    conn.execute(sa.text("INSERT INTO metric_series SELECT unnest(CAST(:ids AS int4[]))"),
                                 {"ids": _series_ids(payloads)})
                conn.commit()
                srv.checkpoint()
                # with the PK to come, the key columns are NOT NULL from the start, as in apmseed's schema:
                # otherwise ADD PRIMARY KEY would add a second full scan to check for NULLs
                not_null = " NOT NULL" if add_pk else ""
                conn.execute(sa.text(f"CREATE TABLE metric_point (series_id int4{not_null}, ts_ms int8{not_null},"
                                     " value float8)"))
                pg = conn.connection.driver_connection
                start = time.perf_counter()
                rows = 0
                with pg.cursor() as cur, cur.copy(
                        "COPY metric_point (series_id, ts_ms, value) FROM STDIN (FORMAT BINARY)") as cp:
                    cp.write(load.BINARY_HEADER)
                    for payload in payloads:
                        cp.write(payload)
                        rows += len(payload) // load.POINT_DTYPE.itemsize
                    cp.write(load.BINARY_TRAILER)
                pk_seconds = 0.0
                if add_pk:
                    pk_start = time.perf_counter()
                    conn.execute(sa.text("ALTER TABLE metric_point ADD PRIMARY KEY (series_id, ts_ms)"))
                    if add_fk:
                        conn.execute(sa.text("ALTER TABLE metric_point ADD FOREIGN KEY (series_id)"
                                             " REFERENCES metric_series"))
                    pk_seconds = time.perf_counter() - pk_start
                conn.commit()
                seconds = time.perf_counter() - start
        finally:
            engine.dispose()
    return rows, seconds, pk_seconds


def _series_ids(payloads: list[bytes]) -> list[int]:
    return np.unique(np.concatenate([np.frombuffer(p, dtype=load.POINT_DTYPE)["series_id"] for p in payloads])
                     ).tolist()


def row_to_json(url: str, tables: list[str]) -> float:
    """COPY (SELECT row_to_json(t) FROM <table> t) TO STDOUT for every table, drained to /dev/null; seconds."""
    engine = db.create_engine(url)
    try:
        with db.connect(engine) as conn, open(os.devnull, "wb") as sink:
            pg = conn.connection.driver_connection
            start = time.perf_counter()
            with pg.cursor() as cur:
                for table in tables:
                    with cur.copy(f'COPY (SELECT row_to_json(t) FROM "{table}" t) TO STDOUT') as cp:
                        for data in cp:
                            sink.write(data)
            seconds = time.perf_counter() - start
            conn.rollback()
    finally:
        engine.dispose()
    return seconds
