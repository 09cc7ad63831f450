"""`apmseed export mongo`: one consistent snapshot into MongoDB (registered with `export.add_command(mongo)`)."""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa

from apmseed.cli.common import database_options, export_options, run_export_command
from apmseed.progress import Reporter


@click.command("mongo")
@click.option("--url", required=True, envvar="APMSEED_MONGO_URL", metavar="URL",
              help="MongoDB URL, e.g. mongodb://user:password@host:27017/ [env: APMSEED_MONGO_URL].")
@click.option("--db", "db_name", default="apmseed", show_default=True, metavar="NAME", help="Database to write.")
@click.option("--bucket-minutes", type=click.IntRange(1, 1440), default=60, show_default=True,
              help="Length of the metric buckets: one document per series per bucket.")
@export_options
@database_options
def mongo(engine: sa.Engine, reporter: Reporter, url: str, db_name: str, bucket_minutes: int, **opts: Any) -> None:
    """Write one collection per dataset (`_id` = the natural id, times as dates, metric points in per-series
    buckets) and replace the previous collections only when everything was written."""
    from apmseed.exporters.mongo import MongoExporter

    exporter = MongoExporter(url, db_name, bucket_minutes)
    run_export_command(engine, reporter, exporter, f"exported to {exporter.target}", **opts)
