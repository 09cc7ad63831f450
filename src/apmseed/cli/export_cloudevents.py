"""`apmseed export cloudevents`: the event-like datasets as CloudEvents 1.0, to a file or an HTTP sink."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from apmseed.cli.common import database_options, export_options, run_export_command, stdout
from apmseed.errors import ApmseedError
from apmseed.exporters.cloudevents import (
    ALERT_INPUTS,
    FORMATS,
    MAPPINGS,
    MODES,
    CloudEventsExporter,
    FileTarget,
    HttpSink,
    redact,
)
from apmseed.exporters.datasets import DATASETS
from apmseed.progress import Reporter


def build_target(out: Path | None, fmt: str | None, sink: str | None, mode: str | None) -> FileTarget | HttpSink:
    """Check the destination options together (before any database is touched) and build the target."""
    if (out is None) == (sink is None):
        raise ApmseedError("pass exactly one of --out PATH and --sink URL",
                           "--out writes a file, --sink POSTs every event to an HTTP endpoint")
    if out is not None:
        if mode is not None:
            raise ApmseedError("--mode applies to --sink only", "drop --mode, or pick the file layout with --format")
        return FileTarget(out, fmt or "jsonl")
    if fmt is not None:
        raise ApmseedError("--format applies to --out only",
                           "drop --format, or pick the HTTP content mode with --mode binary|structured")
    assert sink is not None
    return HttpSink(sink, mode or "binary")


def event_datasets(value: str | None) -> str:
    """--datasets for this target: by default every dataset that yields CloudEvents (a mapping, or alert
    configs); naming a dataset without events is an error (unknown names are left to the shared check). Alert
    configs bring along the datasets they are evaluated on (ALERT_INPUTS)."""
    mapped = [name for name in DATASETS if name in MAPPINGS or name in ALERT_INPUTS]
    if not value:
        chosen = mapped
    else:
        chosen = [d.strip() for d in value.split(",") if d.strip()]
        unmapped = [d for d in chosen if d in DATASETS and d not in mapped]
        if unmapped:
            raise ApmseedError(f"dataset(s) without CloudEvents: {', '.join(unmapped)}",
                               f"use any of: {', '.join(mapped)}")
    inputs = [d for name in chosen for d in ALERT_INPUTS.get(name, ())]
    return ",".join(dict.fromkeys([*chosen, *inputs]))


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--out", type=click.Path(path_type=Path), help="Write the events to this file.")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                  help="File layout for --out: jsonl (one structured-mode event a line; the default) or batch "
                       "(one JSON array, application/cloudevents-batch+json).")
    @click.option("--sink", metavar="URL", help="POST every event, one request each, to this http(s) URL.")
    @click.option("--mode", type=click.Choice(MODES), default=None,
                  help="HTTP content mode for --sink: binary (ce-* headers, body = data; the default) or "
                       "structured (body = the whole event, application/cloudevents+json).")
    @functools.wraps(func)
    def wrapper(*args: Any, out: Path | None, fmt: str | None, sink: str | None, mode: str | None,
                datasets: str | None, **kw: Any) -> Any:
        target = build_target(out, fmt, sink, mode)
        return func(*args, target=target, datasets=event_datasets(datasets), **kw)

    return wrapper


@click.command("cloudevents")
@target_options
@export_options
@database_options
def cloudevents(engine: sa.Engine, reporter: Reporter, target: FileTarget | HttpSink, **opts: Any) -> None:
    """Emit the event-like datasets as CloudEvents 1.0.

    \b
    Issues become com.apmseed.issue.opened (at start) and, once closed,
    com.apmseed.issue.closed (at end). From dataset 1.1.0 on, Smart Alert
    configs are evaluated on the metric points they watch:
    com.apmseed.alert.triggered where a config's threshold is crossed long
    enough, com.apmseed.alert.resolved where that stops. From 1.2.0 on,
    failed synthetic test runs become com.apmseed.synthetic.failed; from
    1.3.0 on, incidents (com.apmseed.incident.opened/closed), change events
    (com.apmseed.change.recorded) and releases (com.apmseed.release.created)
    follow. `data` is the Instana-shaped record and `dataschema` names its
    JSON Schema. Events come in time order with stable ids. --from/--to
    select records by start, so a closed event may lie after --to; alerts
    are evaluated on the points inside the window only.

    \b
    apmseed export cloudevents --out events.jsonl
    apmseed export cloudevents --out events.json --format batch
    apmseed export cloudevents --sink http://127.0.0.1:8080/ --mode structured
    """
    if isinstance(target, FileTarget):
        where = f"written to {target.path}"
    else:
        where = f"sent to {redact(target.url)} ({target.mode} mode)"
    summary = run_export_command(engine, reporter, CloudEventsExporter(target), f"CloudEvents {where}", **opts)
    if not opts.get("as_json") and not summary.get("dryRun"):
        kinds = ", ".join(f"{n:,} {t}" for t, n in summary["eventTypes"].items()) or "none"
        stdout.print(f"{summary['events']:,} events: {kinds}")
