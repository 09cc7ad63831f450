"""Dataset 1.5: ground truth, the record of every anomaly apmseed injected, so detectors and root-cause tools can
be scored against what really happened.

One `ground_truth` row per injected story (an issue's excursion, a scenario incident, a cascade, a release
effect, a traffic surge) names its root-cause entity; `ground_truth_effect` lists every entity it touched, with
its own window, hop from the root and the event it is expected to raise. Instana has no model for this: the
records follow apmseed's own JSON Schema (jsonschemas/ground_truth.schema.json)."""

from sqlalchemy import CheckConstraint, Double, ForeignKey, ForeignKeyConstraint, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

ENTITY_MATCHES_TYPE = (
    "CASE entity_type"
    " WHEN 'APPLICATION' THEN application_id IS NOT NULL AND num_nonnulls(service_id, endpoint_id, snapshot_id) = 0"
    " WHEN 'SERVICE' THEN service_id IS NOT NULL AND num_nonnulls(endpoint_id, snapshot_id) = 0"
    " WHEN 'ENDPOINT' THEN service_id IS NOT NULL AND endpoint_id IS NOT NULL AND snapshot_id IS NULL"
    " WHEN 'INFRASTRUCTURE' THEN snapshot_id IS NOT NULL"
    " AND num_nonnulls(application_id, service_id, endpoint_id) = 0 END"
)
ANOMALY_TYPES = ("spike", "level_shift", "degradation", "memory_leak", "saturation", "flapping", "outage")
CAUSES = ("issue", "incident", "cascade", "release", "traffic")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class GroundTruth(Base):
    """An injected story and its root cause (none for a surge of the whole world's traffic)."""

    __tablename__ = "ground_truth"
    __table_args__ = (
        CheckConstraint(f"type IN ({_sql_list(ANOMALY_TYPES)})", name="type"),
        CheckConstraint(f"cause IN ({_sql_list(CAUSES)})", name="cause"),
        CheckConstraint("entity_type IN ('APPLICATION', 'SERVICE', 'ENDPOINT', 'INFRASTRUCTURE')",
                        name="entity_type"),
        CheckConstraint(ENTITY_MATCHES_TYPE, name="entity_matches_type"),
        # only a surge of the whole world's traffic has no root entity
        CheckConstraint("entity_type IS NOT NULL OR (cause = 'traffic' AND entity_label IS NULL AND"
                        " num_nonnulls(application_id, service_id, endpoint_id, snapshot_id) = 0)",
                        name="root_unless_world_surge"),
        CheckConstraint("(entity_type IS NULL) = (entity_label IS NULL)", name="label_iff_entity"),
        CheckConstraint("end_ms > start_ms", name="end_after_start"),
        CheckConstraint("(cause = 'release') = (release_id IS NOT NULL)", name="release_iff_release_cause"),
        ForeignKeyConstraint(["endpoint_id", "service_id"], ["endpoint.id", "endpoint.service_id"]),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    cause: Mapped[str] = mapped_column(String(16), nullable=False)
    scenario: Mapped[str | None] = mapped_column(Text)
    entity_type: Mapped[str | None] = mapped_column(String(16))
    entity_label: Mapped[str | None] = mapped_column(Text)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"))
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(String(64))
    snapshot_id: Mapped[str | None] = mapped_column(ForeignKey("snapshot.snapshot_id"))
    metric_id: Mapped[str | None] = mapped_column(String(64))
    magnitude: Mapped[float] = mapped_column(Double, nullable=False)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    end_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    release_id: Mapped[str | None] = mapped_column(ForeignKey("release.id"))


class GroundTruthEffect(Base):
    """One entity a story touched: the root itself at hop 0, then (for cascades) its callers, each later than the
    hop before. `event_id` is the event apmseed raised for it, when the excursion is big enough to raise one."""

    __tablename__ = "ground_truth_effect"
    __table_args__ = (
        CheckConstraint("entity_type IN ('APPLICATION', 'SERVICE', 'ENDPOINT', 'INFRASTRUCTURE')",
                        name="entity_type"),
        CheckConstraint(ENTITY_MATCHES_TYPE, name="entity_matches_type"),
        CheckConstraint("end_ms > start_ms", name="end_after_start"),
        CheckConstraint("hop >= 0", name="hop_not_negative"),
        CheckConstraint("factor > 0", name="factor_positive"),
        ForeignKeyConstraint(["endpoint_id", "service_id"], ["endpoint.id", "endpoint.service_id"]),
    )

    ground_truth_id: Mapped[str] = mapped_column(ForeignKey("ground_truth.id"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hop: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    entity_type: Mapped[str] = mapped_column(String(16), nullable=False)
    entity_label: Mapped[str] = mapped_column(Text, nullable=False)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"))
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(String(64))
    snapshot_id: Mapped[str | None] = mapped_column(ForeignKey("snapshot.snapshot_id"))
    # the share of the root's magnitude this entity sees (damping along a cascade; 1.0 at the root)
    factor: Mapped[float] = mapped_column(Double, nullable=False)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    end_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    event_id: Mapped[str | None] = mapped_column(ForeignKey("event.event_id"), unique=True)
