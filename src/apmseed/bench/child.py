"""The measured processes: `python -m apmseed.bench.child seed|export ...`. Each runs one seed or one export
with timers around the library's own functions and writes its figures as JSON; the parent reads its peak RSS
with wait4 (a separate process, so the benchmark's own buffers do not count)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
from pathlib import Path
from typing import Any

import psycopg

from apmseed import db, load, profiles, seeding, versioning
from apmseed.bench import END_MS, SEED
from apmseed.bench.probes import Clock, TableTimer, time_statements, vm_hwm_mib
from apmseed.exporters import jsonl as jsonl_module
from apmseed.exporters import snapshot as snapshot_module
from apmseed.exporters.jsonl import JsonlExporter
from apmseed.exporters.run import run_export
from apmseed.progress import Reporter
from apmseed.scenarios import plan as scenario_plan
from apmseed.scenarios import world as world_module

URL_ENV = "APMSEED_BENCH_URL"  # the database URL reaches the child without appearing on a command line
SLOWEST_STATEMENTS = 8
POINTS = "metric_point"
CHECK, MIGRATE, WORLD, ENTITY_COPY = ("check target", "migrate (create schema)", "build_world (factories)",
                                      "entity COPY (world tables; streamed layer tables with their generation)")
POINT_COPY, POINT_KEYS = "point COPY (generation overlapped)", "metric_point keys (drop + rebuild PK, FKs)"
INTEGRITY, LAYERS_REST, COMMIT = "integrity checks", "upgrade_dataset: the rest of the layers", "commit"


def layer_phase(version: str) -> str:
    return f"layer {version}: build rows"


def install_seed_probes(clock: Clock) -> None:
    clock.wrap(seeding, "ensure_empty_or_reset", CHECK)
    clock.wrap(versioning, "upgrade", MIGRATE)
    clock.wrap(seeding, "build_world", WORLD)
    clock.wrap(load, "copy_rows", ENTITY_COPY)
    clock.wrap(load, "copy_tuples", ENTITY_COPY)  # where it exists; nested calls of one key add up correctly
    clock.wrap(load, "copy_points", POINT_COPY)
    clock.wrap(seeding, "check_integrity", INTEGRITY)
    clock.wrap(seeding, "upgrade_dataset", LAYERS_REST)
    for version in versioning.known_versions()[1:]:
        try:
            module = importlib.import_module(f"apmseed.layers.v{version.replace('.', '_')}")
        except ImportError:
            continue
        clock.wrap(module, "fill", layer_phase(version))
    # producer thread: generating and encoding; consumer: time the COPY loop waited for the producer
    clock.wrap_iterator(world_module.World, "point_chunks", "  producer: generate points (thread)")
    clock.wrap(load, "encode_points", "  producer: encode_points (thread)", exclusive=False)
    clock.wrap_iterator(load, "_prefetch", "  consumer: waiting for producer")
    # the end of a COPY: the server catches up and runs the row triggers (foreign key checks) it queued
    clock.wrap(psycopg.Copy, "finish", "end of COPY (server catching up, FK triggers)", exclusive=False,
               under_active=True)


def child_seed(url: str, profile_name: str, scale: float | None, dataset_version: str | None = None,
               scenario: Path | None = None) -> dict[str, Any]:
    """`seeding.seed` in one committed transaction, timed per phase and per table; with `scenario` (a file), as
    `seed --scenario FILE` seeds it (its profile, the benchmark's seed and end time)."""
    spec, stored = scenario_plan.load(str(scenario), END_MS) if scenario is not None else (None, None)
    profile = spec.profile if spec is not None else profiles.resolve(profile_name, {}, scale)
    clock, tables = Clock(), TableTimer()
    install_seed_probes(clock)
    tables.install()
    engine = db.create_engine(url)
    statements = time_statements(engine)
    try:
        with db.connect(engine) as conn:
            start = time.perf_counter()
            with conn.begin():
                result = seeding.seed(conn, profile, SEED, END_MS, Reporter(False), dataset_version=dataset_version,
                                      scenario=spec, scenario_stored=stored)
                seeded = time.perf_counter()
            end = time.perf_counter()
    finally:
        engine.dispose()
    t = dict(clock.totals)
    t[COMMIT] = end - seeded
    # load_world's own statements around the point COPY, outside every wrapped function
    if POINTS in tables.deferred:
        t[POINT_KEYS] = tables.deferred[POINTS]
    rebuilt = {k: tables.deferred[k] for k in tables.deferred if k != POINTS}
    if rebuilt:
        t[f"  {LAYERS_REST}: drop + rebuild keys of {len(rebuilt)} bulk tables"] = sum(rebuilt.values())
    layers = [k for k in t if k.startswith("layer ")]
    order = [CHECK, MIGRATE, WORLD, ENTITY_COPY, POINT_COPY, "  consumer: waiting for producer",
             "  producer: generate points (thread)", "  producer: encode_points (thread)", POINT_KEYS, *layers,
             LAYERS_REST, INTEGRITY, COMMIT]
    phases: dict[str, float] = {}
    for key in order:
        if key in t:
            phases[key] = t[key]
            phases.update({k: v for k, v in t.items() if k.startswith(f"  {key}:")})
    top = sum(v for k, v in phases.items() if not k.startswith("  "))
    phases["other (connection, DDL, dataset row)"] = (end - start) - top
    entity_rows = sum(n for name, n in result.counts.items() if name != POINTS)
    # entity rows through the factories: the world, the layers and their COPY (not the points pipeline)
    entity_seconds = sum(v for k, v in t.items() if k in (WORLD, ENTITY_COPY, LAYERS_REST) or k in layers)
    per_table = {name: {"rows": n, "copy_seconds": tables.copy.get(name), "load_seconds": tables.load_seconds(name),
                        "keys_deferred": name in tables.deferred}
                 for name, n in result.counts.items()}
    slowest = sorted(statements.items(), key=lambda kv: -kv[1][1])[:SLOWEST_STATEMENTS]
    return {"seconds": end - start, "profile": profile.options(), "dataset_version": result.dataset_version,
            "counts": result.counts, "entity_rows": entity_rows, "entity_seconds": entity_seconds,
            "phases": phases, "tables": per_table, "statements": slowest, "vm_hwm_mib": vm_hwm_mib()}


class TimedJsonl(JsonlExporter):
    def __init__(self, directory: Path, clock: Clock) -> None:
        super().__init__(directory)
        self.clock = clock

    def export(self, dataset: Any, records: Any) -> int:
        start = time.perf_counter()
        try:
            return super().export(dataset, records)
        finally:
            self.clock.add(f"dataset {getattr(dataset, 'name', dataset)}", time.perf_counter() - start)


def child_export(url: str, directory: Path) -> dict[str, Any]:
    """`export jsonl` of the whole database, timed per dataset."""
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
            "files": {name: meta["records"] for name, meta in manifest["files"].items()}, "vm_hwm_mib": vm_hwm_mib()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m apmseed.bench.child", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("seed", "export"))
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--scale", type=float)
    parser.add_argument("--dataset-version", help="seed this dataset version (default: the latest)")
    parser.add_argument("--scenario", type=Path, help="seed this scenario file")
    parser.add_argument("--export-dir", type=Path)
    args = parser.parse_args(argv)
    url = os.environ[URL_ENV]
    seeded = args.kind == "seed"
    result = child_seed(url, args.profile, args.scale, args.dataset_version, args.scenario) if seeded \
        else child_export(url, args.export_dir)
    args.result.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
