"""Metric catalog, metric series (one per entity x metric x aggregation) and their points."""

from sqlalchemy import (
    CheckConstraint,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

ENTITY_KINDS = ("APPLICATION", "SERVICE", "ENDPOINT", "INFRASTRUCTURE")
AGGREGATIONS = ("SUM", "MEAN", "MAX", "MIN", "P50", "P90", "P95", "P99")
_KINDS_SQL = ", ".join(f"'{k}'" for k in ENTITY_KINDS)
_AGGS_SQL = ", ".join(f"'{a}'" for a in AGGREGATIONS)


class MetricDefinition(Base):
    """The catalog: which metric ids exist for which entity kind (Instana ids like `calls`, `cpu.used`)."""

    __tablename__ = "metric_definition"
    __table_args__ = (
        CheckConstraint(f"entity_kind IN ({_KINDS_SQL})", name="entity_kind"),
        CheckConstraint(f"aggregations <@ ARRAY[{_AGGS_SQL}]::varchar[]", name="aggregations_enum"),
        CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="range"),
    )

    entity_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    metric_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    aggregations: Mapped[list[str]] = mapped_column(ARRAY(String(8)), nullable=False)
    min_value: Mapped[float | None] = mapped_column(Double)
    max_value: Mapped[float | None] = mapped_column(Double)


class MetricSeries(Base):
    """One time series; exactly one entity column is set, matching `entity_kind`."""

    __tablename__ = "metric_series"
    __table_args__ = (
        CheckConstraint(f"aggregation IN ({_AGGS_SQL})", name="aggregation"),
        CheckConstraint("granularity_s > 0", name="granularity_positive"),
        CheckConstraint("to_ms > from_ms", name="window"),
        CheckConstraint(
            "num_nonnulls(application_id, service_id, endpoint_id, snapshot_id) = 1", name="one_entity"
        ),
        CheckConstraint(
            "CASE entity_kind"
            " WHEN 'APPLICATION' THEN application_id IS NOT NULL"
            " WHEN 'SERVICE' THEN service_id IS NOT NULL"
            " WHEN 'ENDPOINT' THEN endpoint_id IS NOT NULL"
            " WHEN 'INFRASTRUCTURE' THEN snapshot_id IS NOT NULL END",
            name="entity_matches_kind",
        ),
        ForeignKeyConstraint(
            ["entity_kind", "metric_id"], ["metric_definition.entity_kind", "metric_definition.metric_id"]
        ),
        # one series per entity x metric x aggregation (an expression index: NULLS NOT DISTINCT needs PG 15)
        Index(
            "uq_metric_series_entity_metric",
            "entity_kind",
            func.coalesce(text("application_id"), text("service_id"), text("endpoint_id"), text("snapshot_id")),
            "metric_id",
            "aggregation",
            unique=True,
        ),
    )

    series_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entity_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("endpoint.id"), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(ForeignKey("snapshot.snapshot_id"), index=True)
    metric_id: Mapped[str] = mapped_column(String(64), nullable=False)
    aggregation: Mapped[str] = mapped_column(String(8), nullable=False)
    granularity_s: Mapped[int] = mapped_column(Integer, nullable=False)
    from_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    to_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)


class MetricPoint(Base):
    """Bulk table (millions of rows): narrow on purpose, loaded with binary COPY."""

    __tablename__ = "metric_point"
    __table_args__ = (
        CheckConstraint("value >= 0 AND value <> 'NaN'::float8", name="value_non_negative"),
    )

    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.series_id"), primary_key=True)
    ts_ms: Mapped[int] = mapped_column(EpochMs, primary_key=True)
    value: Mapped[float] = mapped_column(Double, nullable=False)
