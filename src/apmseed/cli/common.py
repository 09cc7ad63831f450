"""Pieces shared by the CLI's commands: database options, export options, summaries."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from apmseed import db, timeutil
from apmseed.errors import ApmseedError
from apmseed.exporters.base import Exporter
from apmseed.exporters.datasets import DATASETS
from apmseed.exporters.run import CountingExporter, run_export
from apmseed.progress import Reporter

stdout = Console(highlight=False, soft_wrap=True)


def database_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--database-url", envvar="APMSEED_DATABASE_URL", metavar="URL",
                  help="PostgreSQL >= 14 URL [env: APMSEED_DATABASE_URL]; default: the embedded server.")
    @click.option("--data-dir", type=click.Path(path_type=Path), envvar="APMSEED_DATA_DIR",
                  help="Data directory of the embedded PostgreSQL [env: APMSEED_DATA_DIR].")
    @click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
    @functools.wraps(func)
    def wrapper(*args: Any, database_url: str | None, data_dir: Path | None, quiet: bool, **kw: Any) -> Any:
        url = db.resolve_url(database_url, data_dir)
        engine = db.create_engine(url)
        try:
            return func(*args, engine=engine, reporter=Reporter(not quiet), **kw)
        finally:
            engine.dispose()

    return wrapper


def summary_table(title: str, counts: dict[str, int]) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    return table


def parse_datasets(value: str | None) -> list[str] | None:
    if not value:
        return None
    chosen = [d.strip() for d in value.split(",") if d.strip()]
    unknown = [d for d in chosen if d not in DATASETS]
    if unknown:
        raise ApmseedError(f"unknown dataset(s): {', '.join(unknown)}", f"use any of: {', '.join(DATASETS)}")
    return chosen


def export_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options every `apmseed export <target>` command has."""
    func = click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")(func)
    func = click.option("--dry-run", is_flag=True, help="Read the snapshot and count records; write nothing.")(func)
    func = click.option("--to", "window_to", metavar="TIME",
                        help="Only time-bound data (points, events) before this ISO 8601 time.")(func)
    func = click.option("--from", "window_from", metavar="TIME",
                        help="Only time-bound data (points, events) at or after this ISO 8601 time.")(func)
    return click.option("--datasets", help=f"Comma-separated subset of: {', '.join(DATASETS)}.")(func)


def run_export_command(engine: sa.Engine, reporter: Reporter, exporter: Exporter, title: str, *,
                       datasets: str | None, window_from: str | None, window_to: str | None, dry_run: bool,
                       as_json: bool) -> dict[str, Any]:
    chosen = parse_datasets(datasets)
    start = timeutil.parse_time(window_from, "--from") if window_from else None
    end = timeutil.parse_time(window_to, "--to") if window_to else None
    if start is not None and end is not None and end <= start:
        raise ApmseedError("--to must be later than --from", "swap the two times")
    target: Exporter = CountingExporter() if dry_run else exporter
    with reporter.running():
        summary = run_export(engine, target, reporter, chosen, start, end)
    counts = summary.get("counts") or {meta["dataset"]: meta["records"] for meta in summary.get("files", {}).values()}
    if as_json:
        click.echo(orjson.dumps(summary, option=orjson.OPT_SORT_KEYS).decode())
    else:
        stdout.print(summary_table(("dry run: would have " if dry_run else "") + title, counts))
    return summary
