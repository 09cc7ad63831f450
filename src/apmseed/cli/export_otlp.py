"""`apmseed export otlp`: calls, metric series and log lines as OpenTelemetry traces, metrics and logs, written
as OTLP/JSON files and/or pushed to an OTLP/HTTP receiver."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from apmseed.cli.common import database_options, export_options, run_export_command, stdout
from apmseed.errors import ApmseedError
from apmseed.exporters.datasets import DATASETS
from apmseed.exporters.otlp import (
    FILE_NAMES,
    REFERENCE_DATASETS,
    SIGNAL_DATASETS,
    FileSink,
    HttpSink,
    OtlpExporter,
    redact,
)
from apmseed.progress import Reporter


def build_sinks(out: Path | None, endpoint: str | None, headers: tuple[str, ...]) -> list[FileSink | HttpSink]:
    """Check the destination options together (before any database is touched) and build the sinks."""
    if out is None and endpoint is None:
        raise ApmseedError("pass --out DIR, --endpoint URL, or both",
                           "--out writes traces.jsonl, metrics.jsonl and logs.jsonl; --endpoint pushes over OTLP/HTTP")
    if headers and endpoint is None:
        raise ApmseedError("--header applies to --endpoint only", "drop --header, or add --endpoint URL")
    sinks: list[FileSink | HttpSink] = []
    if out is not None:
        if out.exists() and not out.is_dir():
            raise ApmseedError(f"--out {out} is a file", "pass a directory for traces.jsonl, metrics.jsonl, logs.jsonl")
        sinks.append(FileSink(out))
    if endpoint is not None:
        parsed: dict[str, str] = {}
        for header in headers:
            name, sep, value = header.partition("=")
            if not sep or not name.strip():
                raise ApmseedError(f"--header {header!r} is not NAME=VALUE", "e.g. --header 'Authorization=Bearer x'")
            parsed[name.strip()] = value.strip()
        sinks.append(HttpSink(endpoint, headers=parsed))
    return sinks


def otlp_datasets(value: str | None) -> str:
    """--datasets for this target: the signal datasets chosen (default: all), plus the reference datasets that
    describe resources. Naming a dataset without an OTLP mapping is an error (unknown names are left to the
    shared check)."""
    if not value:
        return ",".join([*REFERENCE_DATASETS, *SIGNAL_DATASETS])
    chosen = [d.strip() for d in value.split(",") if d.strip()]
    unmapped = [d for d in chosen if d in DATASETS and d not in SIGNAL_DATASETS and d not in REFERENCE_DATASETS]
    if unmapped:
        raise ApmseedError(f"dataset(s) without an OTLP mapping: {', '.join(unmapped)}",
                           f"use any of: {', '.join(SIGNAL_DATASETS)}")
    return ",".join([*REFERENCE_DATASETS, *(d for d in chosen if d not in REFERENCE_DATASETS)])


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
                  help=f"Write {', '.join(FILE_NAMES.values())} (OTLP/JSON, one request a line) into DIR.")
    @click.option("--endpoint", metavar="URL",
                  help="Push to this OTLP/HTTP receiver: POST URL/v1/traces, /v1/metrics, /v1/logs "
                       "(protobuf, gzip), e.g. http://127.0.0.1:4318.")
    @click.option("--header", "headers", multiple=True, metavar="NAME=VALUE",
                  help="Extra HTTP header for --endpoint (repeatable), e.g. an API key.")
    @functools.wraps(func)
    def wrapper(*args: Any, out: Path | None, endpoint: str | None, headers: tuple[str, ...],
                datasets: str | None, **kw: Any) -> Any:
        sinks = build_sinks(out, endpoint, headers)
        return func(*args, sinks=sinks, datasets=otlp_datasets(datasets), **kw)

    return wrapper


@click.command("otlp")
@target_options
@export_options
@database_options
def otlp(engine: sa.Engine, reporter: Reporter, sinks: list[FileSink | HttpSink], **opts: Any) -> None:
    """Export traces, metrics and logs as OpenTelemetry (OTLP).

    \b
    calls               -> spans (SERVER at the callee, CLIENT/PRODUCER/
                           CONSUMER at the caller; ids as Instana's)
    metrics_timeseries  -> metrics named by the Instana metric id:
                           `calls`, `erroneousCalls` (delta sums),
                           `latency.p95`, `cpu.used.mean`, ... (gauges)
    logs                -> log records (with the trace and span ids of
                           the call they were logged in, when exported)

    --datasets picks among calls, application_traces, metrics_timeseries
    and logs (entities, services and endpoints are always read: they make
    the resources). Logs carry trace and span ids only for traces in the
    same export.

    \b
    apmseed export otlp --out ./otlp
    apmseed export otlp --endpoint http://127.0.0.1:4318
    apmseed export otlp --out ./otlp --datasets calls,logs
    """
    where = []
    for sink in sinks:
        if isinstance(sink, FileSink):
            where.append(f"written to {sink.directory}")
        else:
            where.append(f"pushed to {redact(sink.endpoint)}")
    summary = run_export_command(engine, reporter, OtlpExporter(sinks), f"OTLP {' and '.join(where)}", **opts)
    if not opts.get("as_json") and not summary.get("dryRun"):
        stdout.print(f"{summary['spans']:,} spans, {summary['metrics']:,} metrics ({summary['dataPoints']:,} "
                     f"points), {summary['logRecords']:,} log records")
