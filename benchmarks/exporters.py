"""Exporter throughput: one seeded database exported by every target, next to the row_to_json COPY baseline
measured on the same server in the same run. A measurement, not a test.

    python benchmarks/exporters.py [--profile small] [--out BENCHMARKS.md]

Needs FerretDB for the MongoDB target (scripts/ferretdb.sh builds and starts it)."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from apmseed import embedded, profiles, seeding
from apmseed.progress import Reporter
from apmseed.schema import metadata

ROOT = Path(__file__).resolve().parent.parent
END_MS = 1_763_650_800_000


def run(cmd: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {result.stdout}{result.stderr}")
    return elapsed, json.loads(result.stdout.strip().splitlines()[-1])


def records_of(summary: dict) -> int:
    if "counts" in summary:
        return sum(summary["counts"].values())
    if "files" in summary:
        return sum(f["records"] for f in summary["files"].values())
    return sum(v for v in summary.get("datasets", {}).values() if isinstance(v, int))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="small")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="apmseed-exp-"))
    url = embedded.start(work / "pg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("CREATE DATABASE bench_export"))
    db_url = sa.make_url(url).set(database="bench_export").render_as_string(hide_password=False)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        seeding.seed(conn, profiles.resolve(args.profile, {}), 1, END_MS, Reporter(False))

    # baseline: every table as row_to_json through COPY TO STDOUT, drained
    rows = 0
    start = time.perf_counter()
    with engine.connect() as conn:
        pg = conn.connection.driver_connection
        for table in metadata.tables:
            with pg.cursor() as cur, cur.copy(f'COPY (SELECT row_to_json(t) FROM "{table}" t) TO STDOUT') as cp:
                for _ in cp.rows():
                    rows += 1
    baseline_seconds = time.perf_counter() - start
    baseline = rows / baseline_seconds

    mongo_url = subprocess.run([str(ROOT / "scripts" / "ferretdb.sh"), "start", str(work / "ferret")],
                               capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    apmseed = [sys.executable, "-m", "apmseed", "export"]
    common = ["--database-url", db_url, "-q", "--json"]
    targets = {
        "jsonl": [*apmseed, "jsonl", str(work / "jsonl"), *common],
        "mongo (FerretDB 1.24.2, SQLite)": [*apmseed, "mongo", "--url", mongo_url, "--db", "bench", *common],
        "otlp (OTLP/JSON files)": [*apmseed, "otlp", "--out", str(work / "otlp"), *common],
        "cloudevents (JSON lines)": [*apmseed, "cloudevents", "--out", str(work / "ce.jsonl"), *common],
    }
    lines = [f"## Exporters ({args.profile} profile, dataset {seeding.versioning.latest_version()})", "",
             f"Baseline: `COPY (SELECT row_to_json(t) ...) TO STDOUT` of every table, {rows:,} rows at "
             f"{baseline:,.0f} rows/s, same server, same run. Each export runs as `apmseed export ...` (process "
             "start included) over the same snapshot; rows/s = the database rows it drains per second (the "
             "baseline's row count / wall time), so the ratio is baseline time / export time. Written = what the "
             "command reports (files: records; MongoDB: documents, metric series bucketed per hour; OTLP: requests).",
             "", "| target | written | seconds | rows/s | ratio to baseline |", "|---|---:|---:|---:|---:|"]
    try:
        for name, cmd in targets.items():
            seconds, summary = run(cmd)
            n = records_of(summary)
            ratio = baseline_seconds / seconds
            lines.append(f"| {name} | {n:,} | {seconds:.2f} | {rows / seconds:,.0f} | {ratio:.2f} |")
            print(lines[-1], flush=True)
    finally:
        subprocess.run([str(ROOT / "scripts" / "ferretdb.sh"), "stop", str(work / "ferret")], check=False,
                       capture_output=True)
    lines += ["", f"Reproduce: `python benchmarks/exporters.py --profile {args.profile}`", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        existing = args.out.read_text() if args.out.exists() else ""
        head = existing.split("## Exporters", 1)[0].rstrip()
        args.out.write_text((head + "\n\n" if head else "") + text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
