"""`apmseed bench`: raw COPY baselines next to `seed` and `export jsonl`, one run on one server, written as
BENCHMARKS.md (registered with `cli.add_command(bench)`)."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from apmseed import profiles
from apmseed.bench import DEFAULT_PROFILES
from apmseed.errors import ApmseedError


def parse_profiles(value: str, xl: bool) -> list[str]:
    chosen = [p.strip() for p in value.split(",") if p.strip()]
    if xl and "xl" not in chosen:
        chosen.append("xl")
    if not chosen:
        raise ApmseedError("--profiles names no profile", f"pass e.g. --profiles {','.join(DEFAULT_PROFILES)}")
    unknown = [p for p in chosen if p not in profiles.PROFILES]
    if unknown:
        raise ApmseedError(f"unknown profile(s): {', '.join(unknown)}",
                           f"use any of: {', '.join(profiles.PROFILES)} (xl also with --xl)")
    return list(dict.fromkeys(chosen))


@click.command("bench")
@click.option("--profiles", "profile_list", default=",".join(DEFAULT_PROFILES), show_default=True,
              metavar="LIST", help="Comma-separated profiles to measure (medium, large; xl with --xl).")
@click.option("--xl", is_flag=True, help="Also measure the xl profile (100k entities, 10M points; minutes).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("BENCHMARKS.md"),
              show_default=True, help="Markdown report to write.")
@click.option("--database-url", envvar="APMSEED_DATABASE_URL", metavar="URL",
              help="Server to measure on (needs CREATE DATABASE) [env: APMSEED_DATABASE_URL]; default: an "
                   "embedded PostgreSQL in a temporary directory.")
@click.option("--repeat", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Rounds of every step; each step reports its fastest round.")
@click.option("--skip-quickstart", is_flag=True, help="Leave out the `apmseed quickstart` step.")
@click.option("--exporters", "with_exporters", is_flag=True,
              help="Also run every export target over the first profile's database.")
@click.option("--mongo-url", envvar="APMSEED_MONGO_URL", metavar="URL",
              help="MongoDB for the exporters' mongo target [env: APMSEED_MONGO_URL]; without it, it is left out.")
@click.option("--scale", hidden=True, help="Scale every profile (to look at sizes in between).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary instead of the report.")
@click.option("-q", "--quiet", is_flag=True, help="No step-by-step progress on stderr.")
def bench(profile_list: str, xl: bool, out: Path, database_url: str | None, repeat: int, skip_quickstart: bool,
          with_exporters: bool, mongo_url: str | None, scale: str | None, as_json: bool, quiet: bool) -> None:
    """Measure seed and export against raw PostgreSQL baselines (binary COPY, row_to_json) in one run on one
    server: rows/s per table and its ratio to the baseline, wall time, peak RSS, and the issue's targets.

    A measurement, not a test; large takes minutes, xl longer. Run it on a quiet machine."""
    from apmseed.bench import report, suite

    options = suite.BenchOptions(parse_profiles(profile_list, xl), database_url, repeat, not skip_quickstart,
                                 with_exporters, mongo_url, profiles.parse_scale(scale) if scale else None)
    if out.is_dir():
        raise ApmseedError(f"--out {out} is a directory", "pass a file name such as BENCHMARKS.md")
    if not out.resolve().parent.is_dir():  # found now, not after minutes of measuring
        raise ApmseedError(f"the directory of --out {out} does not exist", "create it or pass another path")

    def log(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    result = suite.run(options, log)
    text = report.markdown(result, None if with_exporters else report.carried_exporters(out))
    out.write_text(text)
    if as_json:
        click.echo(orjson.dumps(report.summary(result), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode())
    else:
        click.echo(text, nl=False)
    log(f"wrote {out}")
    failed = [f"{run.profile.name}: {s.name}" for run in result.runs for s in run.steps.values() if s.failed]
    failed += [s.name for s in result.quickstart if s.failed]
    if failed:  # the report says what failed and why; scripts need to know too
        raise ApmseedError(f"{len(failed)} benchmark step(s) failed: {'; '.join(failed)}", f"see {out}")
