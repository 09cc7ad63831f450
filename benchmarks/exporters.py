"""Exporter throughput: one seeded database exported by every target, next to the row_to_json COPY baseline
measured on the same server in the same run (apmseed.bench.exporters). A measurement, not a test.

    python benchmarks/exporters.py [--profile small] [--out BENCHMARKS.md] [--database-url URL]

Starts FerretDB for the MongoDB target (scripts/ferretdb.sh builds it); without it that target is left out.
`apmseed bench --exporters --mongo-url URL` measures the same inside the main benchmark run."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from apmseed.bench import exporters, report  # noqa: E402  (after the path: this checkout's apmseed)
from apmseed.bench.server import server  # noqa: E402

FERRETDB = ROOT / "scripts" / "ferretdb.sh"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start_ferretdb(work: Path) -> str | None:
    result = subprocess.run([str(FERRETDB), "start", str(work)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log(f"FerretDB did not start, the mongo target is left out: {result.stderr.strip()[-300:]}")
        return None
    return result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="small")
    parser.add_argument("--out", type=Path, help="report whose exporters section to replace (e.g. BENCHMARKS.md)")
    parser.add_argument("--database-url", default=os.environ.get("APMSEED_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="apmseed-exp-") as tmp:
        mongo_url = start_ferretdb(Path(tmp))
        try:
            with server(args.database_url) as srv:
                run = exporters.standalone(srv, args.profile, mongo_url, log, "mongo (FerretDB 1.24.2, SQLite)")
        finally:
            if mongo_url:
                subprocess.run([str(FERRETDB), "stop", tmp], check=False, capture_output=True)
    lines = exporters.section(run, f"python benchmarks/exporters.py --profile {args.profile}")
    print("\n".join(lines))
    if args.out:
        report.replace_exporters(args.out, lines)
        log(f"wrote the exporters section of {args.out}")


if __name__ == "__main__":
    main()
