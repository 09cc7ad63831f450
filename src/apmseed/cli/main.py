"""The `apmseed` command line. Every command is a thin layer over the library; errors are one line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson
import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from apmseed import __version__, db, profiles, seeding, timeutil, versioning
from apmseed.cli.bench import bench
from apmseed.cli.common import database_options, export_options, run_export_command, stdout, summary_table
from apmseed.cli.export_cloudevents import cloudevents
from apmseed.cli.export_mongo import mongo
from apmseed.cli.export_otlp import otlp
from apmseed.cli.scenarios import scenarios
from apmseed.errors import ApmseedError
from apmseed.exporters.jsonl import JsonlExporter
from apmseed.exporters.run import run_export
from apmseed.progress import Reporter
from apmseed.scenarios import plan as scenario_plan

QUICKSTART_DB = "apmseed_quickstart"


class ApmseedGroup(click.Group):
    """Turns every user-fixable failure into `Error: <problem> (<fix>)` and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApmseedError as err:
            raise click.ClickException(str(err)) from None
        except OperationalError as err:
            raise click.ClickException(str(db.describe_db_error(err, "the database"))) from None
        except (DBAPIError, psycopg.Error) as err:
            orig = getattr(err, "orig", None) or err
            first = str(orig).strip().splitlines()[0]
            raise click.ClickException(f"the database rejected the operation: {first}"
                                       " (nothing was committed)") from None
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was committed", err=True)
            sys.exit(130)


@click.group(cls=ApmseedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="apmseed",
                      message="%(prog)s %(version)s (dataset " + versioning.latest_version() + ")")
def cli() -> None:
    """Fill PostgreSQL with realistic, deterministic synthetic APM data shaped like Instana's REST API,
    upgrade it across dataset versions, and export consistent snapshots.

    \b
    Quick start:   apmseed quickstart
    Seed:          apmseed seed --profile small --seed 42 --end-time 2025-11-20T15:00:00Z
    Export:        apmseed export jsonl ./out
    Check export:  apmseed validate ./out
    """


def profile_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--scale, then one override per size; the command passes `scale` and the overrides to profiles.resolve."""
    what = {"calls": "target number of trace calls (1.3.0)", "logs": "target number of log entries (1.2.0)"}
    for name in reversed(profiles.OVERRIDES):
        func = click.option(f"--{name}", type=int, default=None,
                            help=f"Override the profile's {what.get(name, name)} (after --scale).")(func)
    # text, not float: profiles.parse_scale turns a bad value into the usual one-line error
    return click.option("--scale", metavar="FACTOR", default=None,
                        help="Multiply every size of the profile (not the time window) by FACTOR > 0.")(func)


@cli.command()
@click.option("--profile", "profile_name", default=None,
              help=f"Dataset size: {', '.join(profiles.PROFILES)} (default: small, or the scenario's).")
@click.option("--scenario", "scenario_name", metavar="NAME|FILE", default=None,
              help="Seed a scenario: a built-in name (see `apmseed scenarios list`) or a scenario YAML file.")
@profile_options
@click.option("--seed", "seed_value", type=click.IntRange(0, 2**31 - 1), default=None,
              help="Random seed (default: the scenario's, else 42); with the same options and --end-time the "
                   "data is identical.")
@click.option("--end-time", help="End of the data window, ISO 8601 (default: now, floored to the minute).")
@click.option("--dataset-version", help="Dataset version to seed (default: the latest).")
@click.option("--reset", is_flag=True, help="Replace the data the database already holds.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@database_options
def seed(engine: sa.Engine, reporter: Reporter, profile_name: str | None, scenario_name: str | None,
         seed_value: int | None, end_time: str | None, dataset_version: str | None, reset: bool, as_json: bool,
         scale: str | None, **overrides: int | None) -> None:
    """Seed the database with one dataset (one transaction: all or nothing)."""
    if dataset_version:
        versioning.check_version(dataset_version)
    if scenario_name is None:
        profile = profiles.resolve(profile_name or "small", overrides, scale)
        end_ms = timeutil.parse_end_time(end_time)
        result = _seed(engine, reporter, profile, 42 if seed_value is None else seed_value, end_ms, reset,
                       dataset_version)
    else:
        if profile_name is not None or scale is not None:
            raise ApmseedError("--profile and --scale do not combine with --scenario (the scenario sets the size)",
                               "set `profile:` in the scenario file, or pass size overrides such as --minutes")
        spec, stored = scenario_plan.load(scenario_name, timeutil.parse_end_time(end_time) if end_time else None,
                                          overrides)
        seed_value = seed_value if seed_value is not None else spec.seed if spec.seed is not None else 42
        result = _seed(engine, reporter, spec.profile, seed_value, spec.end_ms, reset, dataset_version, spec,
                       stored)
    _print_seed(result, as_json)


def _seed(engine: sa.Engine, reporter: Reporter, profile: profiles.Profile, seed_value: int, end_ms: int,
          reset: bool, dataset_version: str | None = None, scenario: Any = None,
          scenario_stored: dict[str, Any] | None = None) -> seeding.SeedResult:
    with db.connect(engine) as conn, reporter.running(), conn.begin():
        return seeding.seed(conn, profile, seed_value, end_ms, reporter, reset=reset,
                            dataset_version=dataset_version, scenario=scenario, scenario_stored=scenario_stored)


def _print_seed(result: seeding.SeedResult, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps({"datasetVersion": result.dataset_version, "seed": result.seed,
                                 "endTime": timeutil.iso(result.end_ms), "profile": result.profile.options(),
                                 "counts": result.counts}, option=orjson.OPT_SORT_KEYS).decode())
        return
    stdout.print(summary_table(
        f"apmseed {result.dataset_version} - profile {result.profile.name}, seed {result.seed}, "
        f"window ending {timeutil.iso(result.end_ms)}", result.counts))


@cli.group()
def export() -> None:
    """Export one consistent snapshot of the database."""


@export.command("jsonl")
@click.argument("directory", type=click.Path(path_type=Path))
@export_options
@database_options
def export_jsonl(engine: sa.Engine, reporter: Reporter, directory: Path, **opts: Any) -> None:
    """Write one Instana-shaped JSONL file per dataset and a manifest.json to DIRECTORY."""
    run_export_command(engine, reporter, JsonlExporter(directory), f"exported to {directory}", **opts)


cli.add_command(bench)
cli.add_command(scenarios)
export.add_command(cloudevents)
export.add_command(mongo)
export.add_command(otlp)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print violations as JSON.")
def validate(directory: Path, as_json: bool) -> None:
    """Check an export directory: JSON, schemas, cross-file references, time windows, manifest."""
    from apmseed.validation import validate_export

    violations = validate_export(directory)
    if as_json:
        click.echo(orjson.dumps({"ok": not violations, "violations": [str(v) for v in violations]}).decode())
    else:
        for v in violations:
            click.echo(str(v))
    if violations:
        raise click.ClickException(f"{len(violations)} violation(s) in {directory}")
    if not as_json:
        click.echo(f"{directory}: valid")


@cli.group("db")
def db_group() -> None:
    """Schema versions: each dataset version is an Alembic revision."""


def _migrate(engine: sa.Engine, action: Callable[[sa.Connection], None]) -> str | None:
    with db.connect(engine) as conn, conn.begin():
        action(conn)
        return versioning.current_version(conn)


@db_group.command("upgrade")
@click.argument("version", required=False)
@database_options
def db_upgrade(engine: sa.Engine, reporter: Reporter, version: str | None) -> None:
    """Upgrade the schema to VERSION (default: the latest)."""
    target = versioning.check_version(version or versioning.latest_version())
    now = _migrate(engine, lambda conn: seeding.upgrade_dataset(conn, target, reporter))
    click.echo(f"database at dataset version {now}")


@db_group.command("downgrade")
@click.argument("version")
@database_options
def db_downgrade(engine: sa.Engine, reporter: Reporter, version: str) -> None:
    """Downgrade the schema to VERSION (`base` removes every apmseed table)."""
    if version != "base":
        versioning.check_version(version)
    now = _migrate(engine, lambda conn: seeding.downgrade_dataset(conn, version))
    click.echo(f"database at dataset version {now or 'base (empty)'}")


@db_group.command("current")
@database_options
def db_current(engine: sa.Engine, reporter: Reporter) -> None:
    """Show the dataset version, seed and options the database holds."""
    with db.connect(engine) as conn:
        version = versioning.current_version(conn)
        info = seeding.dataset_info(conn) if version else None
    if version is None:
        click.echo("no apmseed schema (run `apmseed db upgrade` or `apmseed seed`)")
        return
    click.echo(f"schema revision {version}")
    if info:
        click.echo(f"dataset {info['dataset_version']}, seed {info['seed']}, "
                   f"end time {timeutil.iso(info['end_time_ms'])}, profile {info['options'].get('name')}")
    else:
        click.echo("no data seeded")


@db_group.command("erd")
def db_erd() -> None:
    """Print the schema as a Mermaid ER diagram (generated from the models)."""
    from apmseed.erd import mermaid

    click.echo(mermaid(), nl=False)


@db_group.command("history")
def db_history() -> None:
    """List the dataset versions, oldest first."""
    for rev in reversed(list(versioning.script_directory().walk_revisions())):
        click.echo(f"{rev.revision}  {(rev.doc or '').splitlines()[0]}")


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("apmseed-out"), show_default=True,
              help="Export directory.")
@click.option("--seed", "seed_value", type=click.IntRange(0, 2**31 - 1), default=42, show_default=True)
@click.option("--end-time", help="End of the data window, ISO 8601 (default: now).")
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="APMSEED_DATA_DIR",
              help="Data directory of the embedded PostgreSQL.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def quickstart(out: Path, seed_value: int, end_time: str | None, data_dir: Path | None, quiet: bool) -> None:
    """Seed the `small` profile into the embedded PostgreSQL (database `apmseed_quickstart`, replaced on
    every run) and export it as JSONL."""
    from apmseed import embedded

    reporter = Reporter(not quiet)
    end_ms = timeutil.parse_end_time(end_time)
    server_url = embedded.start(data_dir or embedded.default_data_dir())
    _ensure_database(server_url, QUICKSTART_DB)
    engine = db.create_engine(str(sa.make_url(server_url).set(database=QUICKSTART_DB)))
    try:
        result = _seed(engine, reporter, profiles.resolve("small", {}), seed_value, end_ms, reset=True)
        with reporter.running():
            manifest = run_export(engine, JsonlExporter(out), reporter)
    finally:
        engine.dispose()
    _print_seed(result, as_json=False)
    total = sum(meta["records"] for meta in manifest["files"].values())
    stdout.print(f"exported {total:,} records in {len(manifest['files'])} files to {out}/ "
                 f"(check them with: apmseed validate {out})")


def _ensure_database(server_url: str, name: str) -> None:
    engine = db.create_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with db.connect(engine) as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def main() -> None:
    """Console entry point: unexpected failures still end in one line (APMSEED_DEBUG=1 shows the traceback)."""
    import os

    try:
        cli(prog_name="apmseed")
    except Exception as exc:
        if os.environ.get("APMSEED_DEBUG"):
            raise
        click.echo(f"Error: internal error: {type(exc).__name__}: {exc} (rerun with APMSEED_DEBUG=1 and "
                   "report the traceback)", err=True)
        sys.exit(1)
