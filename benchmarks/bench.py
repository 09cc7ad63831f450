"""apmseed benchmark: raw COPY baselines next to `seed` and `export jsonl`, measured in one run on one server.

    python benchmarks/bench.py [--profiles medium,large] [--database-url URL] [--out BENCHMARKS.md]

Every step runs in a fresh database (CREATE DATABASE per step) on the same server: APMSEED_DATABASE_URL /
--database-url, else an embedded pgserver in a temporary directory. The seed and export steps run in child
processes (`--child seed|export`) so their peak RSS can be read with wait4(). This is a measurement, never a
test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import sqlalchemy as sa

from apmseed import db, embedded, load, profiles, seeding, versioning
from apmseed.exporters import jsonl as jsonl_module
from apmseed.exporters import snapshot as snapshot_module
from apmseed.exporters.jsonl import JsonlExporter
from apmseed.exporters.run import run_export
from apmseed.progress import Reporter
from apmseed.scenarios import world as world_module

HERE = Path(__file__).resolve()
SEED = 42
END_MS = 1_763_650_800_000  # 2025-11-20T15:00:00Z, the tests' fixed end time
MINUTE_MS = 60_000
CHUNK_ROWS = 500_000  # World.point_chunks' default chunk size
URL_ENV = "APMSEED_BENCH_URL"  # hands the database URL to children without putting it on a command line

# acceptance targets of the issue (the later ones are reported for context)
TARGET_POINTS_VS_COPY = 0.50
TARGET_QUICKSTART_S = 10.0
LATER_POINTS_VS_COPY = 0.70
LATER_EXPORT_VS_BASELINE = 0.70
LATER_ENTITY_ROWS_S = 50_000


# -- results -------------------------------------------------------------------------------------------
@dataclass
class Step:
    profile: str
    name: str
    rows: int | None
    seconds: float
    baseline: Step | None = None
    rss_mb: float | None = None
    detail: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.rows is None and self.seconds == 0.0

    @property
    def rate(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds > 0 else None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.rate is None or self.baseline.rate is None:
            return None
        return self.rate / self.baseline.rate


@dataclass
class ProfileRun:
    profile: profiles.Profile
    steps: dict[str, Step] = field(default_factory=dict)
    seed_phases: dict[str, float] = field(default_factory=dict)
    export_phases: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    statements: list[tuple[str, tuple[int, float]]] = field(default_factory=list)
    base_phases: dict[str, float] = field(default_factory=dict)  # seed of the first dataset version only


# -- timing helpers (also used inside the children) ----------------------------------------------------
class Clock:
    """Accumulates wall time per phase name; `wrap` times a module attribute without changing behaviour.
    Exclusive wrappers (main thread only) do not count time spent in other exclusive wrappers they call, so
    their phases add up to at most the wall time; detail wrappers just accumulate."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._nested: list[float] = []  # time spent in exclusive callees, per active exclusive call
        self._active: list[str] = []  # keys of the active exclusive calls, innermost last

    def add(self, key: str, seconds: float) -> None:
        self.totals[key] = self.totals.get(key, 0.0) + seconds

    def wrap(self, owner: Any, attr: str, key: str, exclusive: bool = True, under_active: bool = False) -> None:
        """`under_active`: a detail filed under the innermost active exclusive phase ("  <phase>: <key>")."""
        original = getattr(owner, attr, None)
        if original is None:  # the library changed shape: that phase is simply not reported
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            name = f"  {self._active[-1]}: {key}" if under_active and self._active else key
            if exclusive:
                self._nested.append(0.0)
                self._active.append(key)
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                if exclusive:
                    self._active.pop()
                    self.add(key, elapsed - self._nested.pop())
                    if self._nested:
                        self._nested[-1] += elapsed
                else:
                    self.add(name, elapsed)

        setattr(owner, attr, timed)

    def wrap_iterator(self, owner: Any, attr: str, key: str) -> None:
        """Time spent inside next() of the iterator `owner.attr(...)` returns (pulls, not the consumer)."""
        original = getattr(owner, attr, None)
        if original is None:
            return
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            it = iter(original(*args, **kwargs))
            while True:
                start = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    clock.add(key, time.perf_counter() - start)
                    return
                clock.add(key, time.perf_counter() - start)
                yield item

        setattr(owner, attr, timed)


# A tiny launcher between us and each measured command: a child's ru_maxrss starts from the RSS of the
# process that exec'd it (Linux carries the old mm's high-water mark over exec), so the benchmark's own large
# buffers would leak into the figure. The launcher imports nothing heavy, so its RSS is far below any step's.
LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump({"seconds": time.perf_counter() - start, "maxrss_kib": usage.ru_maxrss,
               "returncode": os.waitstatus_to_exitcode(status)}, fh)
"""


class StepFailed(Exception):
    pass


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of that command and the children it waited for).
    Raises StepFailed with the command's stderr tail when it fails."""
    with tempfile.TemporaryDirectory(prefix="apmseed-bench-") as tmp, tempfile.TemporaryFile() as err:
        measured = Path(tmp) / "rusage.json"
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, str(measured), *cmd], env=env,
                              stdout=subprocess.DEVNULL, stderr=err)
        result = json.loads(measured.read_text()) if measured.exists() else {"returncode": proc.returncode}
        if proc.returncode != 0 or result["returncode"] != 0:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            raise StepFailed(lines[-1] if lines else f"exit status {result['returncode']}")
    return result["seconds"], result["maxrss_kib"] / 1024.0  # Linux reports KiB


def vm_hwm_mib() -> float | None:
    """This process's own peak RSS (Linux), a cross-check for the launcher's figure."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


# -- children ------------------------------------------------------------------------------------------
def child_seed(url: str, profile_name: str, dataset_version: str | None = None) -> dict[str, Any]:
    """`seeding.seed` in one committed transaction, with phase timers around the library's own functions."""
    profile = profiles.resolve(profile_name, {})
    clock = Clock()
    per_table = time_copy_rows_per_table()
    clock.wrap(seeding, "ensure_empty_or_reset", "check target")
    clock.wrap(versioning, "upgrade", "migrate (create schema)")
    clock.wrap(seeding, "build_world", "build_world (factories)")
    clock.wrap(load, "copy_rows", "entity COPY")
    clock.wrap(load, "copy_points", "point COPY (generation overlapped)")
    clock.wrap(seeding, "check_integrity", "integrity checks (all calls)")
    clock.wrap(seeding, "upgrade_dataset", "upgrade_dataset: later versions' layers (rest)")
    # producer thread: generating and encoding; consumer: time the COPY loop waited for the producer
    clock.wrap_iterator(world_module.World, "point_chunks", "  producer: generate points (thread)")
    clock.wrap(load, "encode_points", "  producer: encode_points (thread)", exclusive=False)
    clock.wrap_iterator(load, "_prefetch", "  consumer: waiting for producer")
    # the end of a COPY: the server catches up and runs the row triggers (foreign key checks) it queued
    clock.wrap(psycopg.Copy, "finish", "end of COPY (server catching up, FK triggers)", exclusive=False,
               under_active=True)

    engine = db.create_engine(url)
    statements = time_statements(engine)
    try:
        with db.connect(engine) as conn:
            start = time.perf_counter()
            with conn.begin():
                result = seeding.seed(conn, profile, SEED, END_MS, Reporter(False), dataset_version=dataset_version)
                seeded = time.perf_counter()
            end = time.perf_counter()
    finally:
        engine.dispose()
    t = dict(clock.totals)
    rebuild = [seconds for text, (_, seconds) in statements.items() if text.startswith(REBUILD_SQL)]
    if rebuild:  # load_world's own statements, outside every wrapped function
        t["ADD PK + FK (rebuild constraints)"] = sum(rebuild)
    t["commit"] = end - seeded
    order = ["check target", "migrate (create schema)", "build_world (factories)", "entity COPY",
             "point COPY (generation overlapped)", "  consumer: waiting for producer",
             "  producer: generate points (thread)", "  producer: encode_points (thread)",
             "ADD PK + FK (rebuild constraints)", "integrity checks (all calls)",
             "upgrade_dataset: later versions' layers (rest)", "commit"]
    slow_tables = sorted(per_table.items(), key=lambda kv: -kv[1])[:SLOWEST_TABLES]
    for table, seconds in slow_tables:
        t[f"  entity COPY: {table} ({result.counts.get(table, 0):,} rows)"] = seconds
    phases: dict[str, float] = {}
    for key in order:
        if key in t:
            phases[key] = t[key]
            phases.update({k: v for k, v in t.items() if k.startswith(f"  {key}:")})
    top = sum(v for k, v in phases.items() if not k.startswith("  "))
    phases["other (connection, DDL, dataset row)"] = (end - start) - top
    entity_rows = sum(n for name, n in result.counts.items() if name != "metric_point")
    slowest = sorted(statements.items(), key=lambda kv: -kv[1][1])[:SLOWEST_STATEMENTS]
    return {"seconds": end - start, "counts": result.counts, "entity_rows": entity_rows, "phases": phases,
            "statements": slowest, "vm_hwm_mib": vm_hwm_mib()}


SLOWEST_STATEMENTS = 8
SLOWEST_TABLES = 5


def time_copy_rows_per_table() -> dict[str, float]:
    """Wall time of load.copy_rows per table (row formatting, COPY and its FK triggers)."""
    totals: dict[str, float] = {}
    original = load.copy_rows

    def timed(pg: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(pg, table_name, *args, **kwargs)
        finally:
            totals[table_name] = totals.get(table_name, 0.0) + time.perf_counter() - start

    load.copy_rows = timed
    return totals
REBUILD_SQL = "ALTER TABLE metric_point ADD CONSTRAINT"


def time_statements(engine: sa.Engine) -> dict[str, list[float]]:
    """Wall time per SQL statement sent through SQLAlchemy (DDL, checks, layer queries; COPY goes around it),
    keyed by its first words: {statement: [calls, seconds]}."""
    totals: dict[str, list[float]] = {}

    @sa.event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @sa.event.listens_for(engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seconds = time.perf_counter() - conn.info["bench_started"].pop()
        entry = totals.setdefault(" ".join(statement.split())[:110], [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    return totals


class TimedJsonl(JsonlExporter):
    def __init__(self, directory: Path, clock: Clock) -> None:
        super().__init__(directory)
        self.clock = clock

    def export(self, dataset: str, records: Any) -> int:
        start = time.perf_counter()
        try:
            return super().export(dataset, records)
        finally:
            self.clock.add(f"dataset {getattr(dataset, 'name', dataset)}", time.perf_counter() - start)


def child_export(url: str, directory: Path) -> dict[str, Any]:
    clock = Clock()
    clock.wrap_iterator(snapshot_module.Snapshot, "_points", "  fetch points (server cursor + array decode)")
    clock.wrap(jsonl_module, "dumps_line", "  orjson dumps_line (all datasets)", exclusive=False)
    engine = db.create_engine(url)
    try:
        start = time.perf_counter()
        manifest = run_export(engine, TimedJsonl(directory, clock), Reporter(False))
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    records = sum(meta["records"] for meta in manifest["files"].values())
    size = sum(meta["bytes"] for meta in manifest["files"].values())
    phases: dict[str, float] = {}
    for key, value in clock.totals.items():  # datasets in export order, each followed by its details
        if key.startswith("dataset "):
            phases[key] = value
            if key == "dataset metrics_timeseries":
                phases.update({k: v for k, v in clock.totals.items() if k.startswith("  fetch")})
    phases.update({k: v for k, v in clock.totals.items() if k not in phases})
    return {"seconds": seconds, "records": records, "bytes": size, "phases": phases,
            "vm_hwm_mib": vm_hwm_mib()}


# -- the server and its databases ----------------------------------------------------------------------
class Server:
    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = db.create_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        self.tag = uuid.uuid4().hex[:6]

    def scalar(self, sql: str) -> Any:
        with db.connect(self.admin) as conn:
            return conn.execute(sa.text(sql)).scalar()

    @contextmanager
    def database(self, label: str) -> Iterator[str]:
        name = f"apmseed_bench_{self.tag}_{label}"
        with db.connect(self.admin) as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(self.url).set(database=name).render_as_string(hide_password=False)
        finally:
            with db.connect(self.admin) as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def checkpoint(self) -> None:
        """Start each timed step with no dirty buffers left over from the previous one (needs superuser)."""
        try:
            with db.connect(self.admin) as conn:
                conn.execute(sa.text("CHECKPOINT"))
        except sa.exc.DBAPIError:
            pass

    def dispose(self) -> None:
        self.admin.dispose()


@contextmanager
def server(url: str | None) -> Iterator[Server]:
    if url:
        srv = Server(db.normalise_url(url))
        try:
            yield srv
        finally:
            srv.dispose()
        return
    tmp = Path(tempfile.mkdtemp(prefix="apmseed-bench-"))
    data_dir = tmp / "pg"
    srv = Server(embedded.start(data_dir))
    try:
        yield srv
    finally:
        srv.dispose()
        try:
            import pgserver  # type: ignore[import-untyped]

            pgserver.get_server(data_dir.resolve()).cleanup()  # stop it before its directory goes
        except Exception:  # the initdb/pg_ctl fallback, or already stopped
            pass
        shutil.rmtree(tmp, ignore_errors=True)


# -- steps ---------------------------------------------------------------------------------------------
def baseline_payloads(profile: profiles.Profile) -> list[bytes]:
    """Binary COPY buffers with the profile's point count and layout, in World.point_chunks' chunk size."""
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


def step_raw_copy(srv: Server, profile: profiles.Profile, payloads: list[bytes], add_pk: bool
                  ) -> tuple[int, float, float]:
    """CREATE TABLE + COPY (+ ADD PRIMARY KEY) + COMMIT in one transaction, like seed; returns
    (rows, seconds from COPY start to commit, seconds of the ADD PRIMARY KEY)."""
    label = f"{profile.name}_copy_pk" if add_pk else f"{profile.name}_copy"
    with srv.database(label) as url:
        engine = db.create_engine(url)
        try:
            with db.connect(engine) as conn:
                conn.execute(sa.text("SET maintenance_work_mem = '256MB'"))  # what load_world sets
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
                    pk_seconds = time.perf_counter() - pk_start
                conn.commit()
                seconds = time.perf_counter() - start
        finally:
            engine.dispose()
    return rows, seconds, pk_seconds


def child_cmd(kind: str, *args: str) -> list[str]:
    return [sys.executable, str(HERE), "--child", kind, *args]


def child_env(url: str) -> dict[str, str]:
    return {**os.environ, URL_ENV: url}


def run_json_child(kind: str, url: str, *args: str) -> tuple[dict[str, Any], float]:
    with tempfile.TemporaryDirectory(prefix="apmseed-bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        _, rss = run_child(child_cmd(kind, "--result", str(result_file), *args), child_env(url))
        return json.loads(result_file.read_text()), rss


def export_baseline(url: str, tables: list[str]) -> float:
    """COPY (SELECT row_to_json(t) FROM <table> t) TO STDOUT for every table, drained to /dev/null."""
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


def run_profile(srv: Server, profile: profiles.Profile, log: Callable[[str], None], repeat: int) -> ProfileRun:
    """`repeat` rounds of steps 1-4; each step keeps its fastest round (phases come with it)."""
    log(f"[{profile.name}] building {profile.points:,} baseline rows with encode_points (untimed)")
    payloads = baseline_payloads(profile)
    best = ProfileRun(profile)
    for round_no in range(1, repeat + 1):
        if repeat > 1:
            log(f"[{profile.name}] round {round_no} of {repeat}")
        run = one_round(srv, profile, payloads, log)
        for key, step in run.steps.items():
            kept = best.steps.get(key)
            if kept is None or (kept.failed and not step.failed) or (not step.failed and step.seconds < kept.seconds):
                best.steps[key] = step
                if key == "seed":
                    best.seed_phases, best.counts, best.statements = run.seed_phases, run.counts, run.statements
                if key == "export":
                    best.export_phases = run.export_phases
                if key == "seed_base":
                    best.base_phases = run.base_phases
    steps = best.steps
    for key, base in (("copy", "copy"), ("copy_pk", "copy"), ("seed_base", "copy"), ("seed", "copy"),
                      ("json_base", "json_base"), ("export", "json_base")):
        if key in steps and base in steps:
            steps[key].baseline = steps[base]
    if "copy_pk" in steps:
        best.seed_phases["(baseline 2: ADD PRIMARY KEY alone)"] = steps["copy_pk"].detail.get("pk", 0.0)
    return best


def one_round(srv: Server, profile: profiles.Profile, payloads: list[bytes], log: Callable[[str], None]
              ) -> ProfileRun:
    run = ProfileRun(profile)
    name = profile.name
    log(f"[{name}] 1. raw binary COPY, no constraints")
    rows, seconds, _ = step_raw_copy(srv, profile, payloads, add_pk=False)
    copy = run.steps["copy"] = Step(name, "1. raw binary COPY, no constraints (baseline)", rows, seconds)
    copy.baseline = copy

    log(f"[{name}] 2. raw binary COPY + ADD PRIMARY KEY")
    rows, seconds, pk_seconds = step_raw_copy(srv, profile, payloads, add_pk=True)
    run.steps["copy_pk"] = Step(name, "2. raw binary COPY (NOT NULL keys) + ADD PRIMARY KEY afterwards", rows,
                                seconds, copy, detail={"pk": pk_seconds})

    known = versioning.known_versions()
    if len(known) > 1:  # the points pipeline alone: the first version is the world (entities + points)
        with srv.database(f"{name}_seed_base") as url:
            log(f"[{name}] 3a. seed of dataset {known[0]} only (child process)")
            srv.checkpoint()
            seeded, rss = run_json_child("seed", url, "--profiles", name, "--dataset-version", known[0])
            log(f"[{name}]    {seeded['seconds']:.2f} s; peak RSS {rss:.0f} MiB")
            run.base_phases = seeded["phases"]
            run.steps["seed_base"] = Step(
                name, f"3a. seed of dataset {known[0]} only (world: entities + points): points / wall time",
                seeded["counts"]["metric_point"], seeded["seconds"], copy, rss)

    with srv.database(f"{name}_seed") as url:
        log(f"[{name}] 3. seed of dataset {known[-1]} (child process)")
        srv.checkpoint()
        seeded, rss = run_json_child("seed", url, "--profiles", name)
        log(f"[{name}]    {seeded['seconds']:.2f} s; peak RSS {rss:.0f} MiB (VmHWM {seeded['vm_hwm_mib'] or 0:.0f})")
        run.counts = seeded["counts"]
        run.statements = [(text, (int(calls), seconds)) for text, (calls, seconds) in seeded["statements"]]
        points = seeded["counts"]["metric_point"]
        phases = seeded["phases"]
        run.seed_phases = dict(phases)
        run.steps["seed"] = Step(name, f"3. seed of dataset {known[-1]}: metric points / wall time", points,
                                 seeded["seconds"], copy, rss)
        entity_seconds = sum(phases.get(k, 0.0) for k in (
            "build_world (factories)", "entity COPY", "upgrade_dataset: later versions' layers (rest)"))
        run.steps["entities"] = Step(name, "3. seed: entity rows (build_world + layers + entity COPY)",
                                     seeded["entity_rows"], entity_seconds)

        log(f"[{name}] 4. row_to_json COPY TO STDOUT baseline")
        tables = [t for t in run.counts if t != "metric_point"] + ["metric_point"]
        baseline_rows = sum(run.counts.values())
        srv.checkpoint()
        seconds = export_baseline(url, tables)
        json_base = run.steps["json_base"] = Step(
            name, "4. COPY (SELECT row_to_json(t) ...) TO STDOUT, all tables (baseline)", baseline_rows, seconds)
        json_base.baseline = json_base

        log(f"[{name}] 4. export jsonl (child process)")
        try:
            with tempfile.TemporaryDirectory(prefix="apmseed-bench-export-") as out:
                exported, rss = run_json_child("export", url, "--export-dir", out)
        except StepFailed as exc:  # report it and go on: the other figures still stand
            log(f"[{name}]    export failed: {exc}")
            run.steps["export"] = Step(name, f"4. export jsonl FAILED: {str(exc)[:200]}", None, 0.0, json_base)
            return run
        log(f"[{name}]    {exported['seconds']:.2f} s; peak RSS {rss:.0f} MiB "
            f"(VmHWM {exported['vm_hwm_mib'] or 0:.0f})")
        run.export_phases = exported["phases"]
        run.export_phases["(output: MiB of JSONL)"] = exported["bytes"] / 2**20
        run.steps["export"] = Step(name, "4. export jsonl (records + points)", exported["records"] + points,
                                   exported["seconds"], json_base, rss)
    return run


def run_quickstart(log: Callable[[str], None], repeat: int) -> list[Step]:
    """A fresh --data-dir (initdb + start + seed small + export), then the same again; best of `repeat`."""
    exe = shutil.which("apmseed")
    cmd = [exe] if exe else [sys.executable, "-m", "apmseed"]
    env = {k: v for k, v in os.environ.items() if k not in ("APMSEED_DATA_DIR", "APMSEED_DATABASE_URL")}
    labels = ("fresh --data-dir: initdb + start + seed small + export", "same --data-dir again")
    best: dict[str, Step] = {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="apmseed-bench-qs-") as tmp:
            data_dir, out = Path(tmp) / "data", Path(tmp) / "out"
            for label in labels:
                log(f"[quickstart] 5. {label}")
                try:
                    seconds, rss = run_child(
                        [*cmd, "quickstart", "--data-dir", str(data_dir), "--out", str(out), "-q"], env)
                except StepFailed as exc:
                    log(f"[quickstart]    failed: {exc}")
                    return [Step("small", f"5. quickstart FAILED: {str(exc)[:200]}", None, 0.0)]
                log(f"[quickstart]    {seconds:.2f} s")
                manifest = json.loads((out / "manifest.json").read_text())
                records = sum(meta["records"] for meta in manifest["files"].values())
                if label not in best or seconds < best[label].seconds:
                    best[label] = Step("small", f"5. quickstart, {label}", records, seconds, None, rss)
    return [best[label] for label in labels]


# -- report --------------------------------------------------------------------------------------------
def machine(srv: Server) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:", 1)[1].split()[0])
        ram = f"{kib / 2**20:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    settings = ", ".join(f"{s}={srv.scalar(f'SHOW {s}')}" for s in (
        "shared_buffers", "wal_level", "fsync", "synchronous_commit", "max_wal_size"))
    return {
        "CPUs (nproc)": str(nproc()),
        "CPU model": cpu,
        "RAM": ram,
        "OS": platform.platform(),
        "PostgreSQL": srv.scalar("SELECT version()"),
        "server settings": settings,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "libraries": f"numpy {np.__version__}, psycopg {psycopg.__version__}, SQLAlchemy {sa.__version__}",
        "apmseed": source_revision(),
    }


def source_revision() -> str:
    """apmseed's version and, in a git checkout, the commit measured (and whether src/ had local changes)."""
    from apmseed import __version__

    repo = HERE.parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "src"], capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return __version__
    return f"{__version__}, commit {commit}" + (" with uncommitted changes in src/" if dirty else "")


def load_average() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def nproc() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def fmt_int(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


def fmt_ratio(step: Step) -> str:
    if step.baseline is step:
        return "1.00 (baseline)"
    return f"{step.ratio:.2f}" if step.ratio is not None else "-"


def table(steps: list[Step]) -> list[str]:
    lines = ["| profile | step | rows | seconds | rows/s | ratio to baseline | peak RSS (MiB) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for s in steps:
        rss = f"{s.rss_mb:,.0f}" if s.rss_mb is not None else "-"
        seconds = "-" if s.failed else f"{s.seconds:.2f}"
        lines.append(f"| {s.profile} | {s.name} | {fmt_int(s.rows)} | {seconds} | {fmt_int(s.rate)} | "
                     f"{fmt_ratio(s)} | {rss} |")
    return lines


def phase_table(title: str, total: float, phases: dict[str, float]) -> list[str]:
    lines = [f"**{title}** (wall {total:.2f} s)", "", "| phase | seconds | share |", "|---|---:|---:|"]
    small = [k for k, v in phases.items() if k.startswith("dataset ") and v < 0.01 * total]
    tail = [k for k in phases if k.startswith(("(", "  orjson"))]
    for key, seconds in phases.items():
        if key in small or key in tail:
            continue
        share = "" if key.startswith(("(", "  ")) else f"{100 * seconds / total:.0f} %"
        lines.append(f"| {key.replace('  ', '&nbsp;&nbsp;')} | {seconds:.2f} | {share} |")
    if small:
        seconds = sum(phases[k] for k in small)
        lines.append(f"| {len(small)} other datasets, each under 1 % | {seconds:.2f} | {100 * seconds / total:.0f} % |")
    for key in tail:
        if key.startswith("(output"):
            lines.append(f"| {key} | {phases[key]:,.1f} MiB | |")
        else:
            lines.append(f"| {key.replace('  ', '&nbsp;&nbsp;')} | {phases[key]:.2f} | |")
    return lines


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def biggest_phases(phases: dict[str, float], n: int = 3) -> str:
    top = sorted(((k, v) for k, v in phases.items() if not k.startswith(("  ", "("))), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v:.1f} s" for k, v in top[:n])


def points_sentence(label: str, step: Step, phases: dict[str, float]) -> str:
    ratio = step.ratio or 0.0
    return (f"{label} reaches {ratio:.0%} of the raw COPY rate ({fmt_int(step.rate)} points/s; target >= "
            f"{TARGET_POINTS_VS_COPY:.0%}: {verdict(ratio >= TARGET_POINTS_VS_COPY)}, later target "
            f"{LATER_POINTS_VS_COPY:.0%}: {verdict(ratio >= LATER_POINTS_VS_COPY)}); its biggest phases of "
            f"{step.seconds:.1f} s: {biggest_phases(phases)}.")


def interpretation(runs: list[ProfileRun], quick: list[Step]) -> list[str]:
    lines = []
    for run in runs:
        s, copy, ph = run.steps["seed"], run.steps["copy"], run.seed_phases
        ex, ent = run.steps["export"], run.steps["entities"]
        head = f"- **{run.profile.name}** ({run.profile.points:,} points): "
        if "seed_base" in run.steps:
            lines.append(head + points_sentence(f"seeding only {run.steps['seed_base'].name.split()[4]} (the "
                                                "points pipeline)", run.steps["seed_base"], run.base_phases))
            head = "  "
        lines.append(head + points_sentence("the full seed" if head.startswith("-") else "The full seed", s, ph) + (
            f" Its point COPY takes {ph.get('point COPY (generation overlapped)', 0.0):.1f} s against "
            f"{copy.seconds:.1f} s raw (waiting {ph.get('  consumer: waiting for producer', 0.0):.1f} s for the "
            f"generator thread); PK + FK take {ph.get('ADD PK + FK (rebuild constraints)', 0.0):.1f} s (ADD PRIMARY "
            f"KEY alone in step 2: {ph.get('(baseline 2: ADD PRIMARY KEY alone)', 0.0):.1f} s)."))
        entity = (f"  Entity rows: {fmt_int(ent.rate)} rows/s (later target {LATER_ENTITY_ROWS_S:,}: "
                  f"{verdict((ent.rate or 0) >= LATER_ENTITY_ROWS_S)}).")
        if ex.failed:
            lines.append(f"{entity} Export: failed in this run, no figure.")
            continue
        lines.append(
            f"{entity} Export: {ex.ratio or 0:.0%} of the row_to_json baseline (later target "
            f"{LATER_EXPORT_VS_BASELINE:.0%}: {verdict((ex.ratio or 0) >= LATER_EXPORT_VS_BASELINE)}); its biggest "
            f"parts of {ex.seconds:.1f} s: {biggest_phases(run.export_phases)}.")
    if quick:
        fresh = quick[0]
        if fresh.failed:
            lines.append("- quickstart failed in this run, no figure.")
        else:
            lines.append(f"- quickstart with a fresh data directory takes {fresh.seconds:.1f} s including initdb "
                         f"and server start (target < {TARGET_QUICKSTART_S:.0f} s: "
                         f"{verdict(fresh.seconds < TARGET_QUICKSTART_S)}).")
    lines.append(f"- Seed and export are single Python processes talking to a server on the same machine "
                 f"({nproc()} CPUs): client and server compete for CPU, so ratios on other machines can differ.")
    return lines


def report(srv: Server, runs: list[ProfileRun], quick: list[Step], command: str,
           loads: tuple[str, str], repeat: int) -> str:
    steps = [s for run in runs for s in run.steps.values()] + quick
    out = ["# apmseed benchmarks", "",
           "Generated by `benchmarks/bench.py` (see benchmarks/README.md). A measurement on one machine, not a "
           "test: every step runs in a fresh database on the same PostgreSQL server, in the same run.", "",
           "## Machine", ""]
    out += [f"- {k}: {v}" for k, v in machine(srv).items()]
    out.append(f"- load average (1, 5, 15 min) at start / end of the run: {loads[0]} / {loads[1]} "
               "(anything well above 0 means other work shared the CPUs)")
    out += ["", "## Reproduce", "", "```sh", command, "```", "", "## Results", ""]
    out += table(steps)
    best_of = f"Each figure is the fastest of {repeat} rounds. " if repeat > 1 else ""
    out += ["", best_of + "Ratios: seed points/s against step 1 (same rows, same layout, buffer pre-built); "
            "export rows/s (records + points) against the row_to_json baseline; "
            "peak RSS is the child process's maximum resident set (wait4).", "", "## Where the time goes", ""]
    for run in runs:
        out += [*phase_table(f"{run.profile.name}: seed", run.steps["seed"].seconds, run.seed_phases), ""]
        if run.statements:
            out += ["Slowest SQL statements of that seed (sent through SQLAlchemy; COPY is not among them):", "",
                    "| statement | calls | seconds |", "|---|---:|---:|"]
            out += [f"| `{text.replace('|', '/')}` | {calls} | {seconds:.2f} |"
                    for text, (calls, seconds) in run.statements]
            out.append("")
        if not run.steps["export"].failed:
            out += [*phase_table(f"{run.profile.name}: export jsonl", run.steps["export"].seconds,
                                 run.export_phases), ""]
    out += ["Indented rows are parts of the row above them (the producer thread overlaps the COPY); rows in "
            "parentheses are context, not part of the wall time.", "", "## Interpretation", ""]
    out += interpretation(runs, quick)
    return "\n".join(out) + "\n"


def reproduce_command(args: argparse.Namespace) -> str:
    parts = ["python benchmarks/bench.py", "--profiles", ",".join(args.profiles)]
    if args.database_url:
        parts += ["--database-url", sa.make_url(db.normalise_url(args.database_url)).render_as_string()]
    if args.skip_quickstart:
        parts.append("--skip-quickstart")
    if args.repeat > 1:
        parts += ["--repeat", str(args.repeat)]
    return " ".join(parts) + ("" if args.database_url else "   # embedded pgserver in a temporary directory")


# -- entry point ---------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="medium", type=lambda v: [p.strip() for p in v.split(",") if p.strip()],
                        help=f"comma-separated profiles ({', '.join(profiles.PROFILES)}); default: medium")
    parser.add_argument("--database-url", default=os.environ.get("APMSEED_DATABASE_URL"),
                        help="server to use (needs CREATE DATABASE); default: APMSEED_DATABASE_URL, else an "
                             "embedded pgserver in a temporary directory")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="markdown report to write")
    parser.add_argument("--skip-quickstart", action="store_true", help="leave out step 5")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every step; each step reports its fastest round (default 1)")
    parser.add_argument("--child", choices=("seed", "export"), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--export-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dataset-version", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    for name in args.profiles:
        if name not in profiles.PROFILES:
            parser.error(f"unknown profile {name!r}: use {', '.join(profiles.PROFILES)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        url = os.environ[URL_ENV]
        if args.child == "seed":
            result = child_seed(url, args.profiles[0], args.dataset_version)
        else:
            result = child_export(url, args.export_dir)
        args.result.write_text(json.dumps(result))
        return

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    command = reproduce_command(args)
    with server(args.database_url) as srv:
        load_before = load_average()
        runs = [run_profile(srv, profiles.PROFILES[name], log, args.repeat) for name in args.profiles]
        quick = [] if args.skip_quickstart else run_quickstart(log, args.repeat)
        text = report(srv, runs, quick, command, (load_before, load_average()), args.repeat)
    print(text)
    args.out.write_text(text)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
