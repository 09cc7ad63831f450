"""Events; dataset 1.0 holds issues (Instana event type `issue`) on any monitored entity."""

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint(
            "entity_type IN ('APPLICATION', 'SERVICE', 'ENDPOINT', 'INFRASTRUCTURE')", name="entity_type"
        ),
        CheckConstraint("type IN ('issue')", name="type"),
        CheckConstraint("severity IN (5, 10)", name="severity"),
        CheckConstraint("state IN ('open', 'closed')", name="state"),
        CheckConstraint("(state = 'closed') = (end_ms IS NOT NULL)", name="end_iff_closed"),
        CheckConstraint("end_ms IS NULL OR end_ms >= start_ms", name="end_after_start"),
        CheckConstraint("length(problem) > 0", name="problem_not_empty"),
        CheckConstraint(
            "CASE entity_type"
            " WHEN 'APPLICATION' THEN application_id IS NOT NULL AND num_nonnulls(service_id,"
            " endpoint_id, snapshot_id) = 0"
            " WHEN 'SERVICE' THEN application_id IS NOT NULL AND service_id IS NOT NULL"
            " AND num_nonnulls(endpoint_id, snapshot_id) = 0"
            " WHEN 'ENDPOINT' THEN application_id IS NOT NULL AND service_id IS NOT NULL"
            " AND endpoint_id IS NOT NULL AND snapshot_id IS NULL"
            " WHEN 'INFRASTRUCTURE' THEN snapshot_id IS NOT NULL"
            " AND num_nonnulls(application_id, service_id, endpoint_id) = 0 END",
            name="entity_matches_type",
        ),
        # a service event names an application that really contains the service
        ForeignKeyConstraint(
            ["application_id", "service_id"],
            ["application_service.application_id", "application_service.service_id"],
        ),
        # an endpoint event names the endpoint's own service
        ForeignKeyConstraint(["endpoint_id", "service_id"], ["endpoint.id", "endpoint.service_id"]),
    )

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(8), nullable=False)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    end_ms: Mapped[int | None] = mapped_column(EpochMs)
    problem: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    fix_suggestion: Mapped[str] = mapped_column(Text, nullable=False)
    entity_name: Mapped[str] = mapped_column(Text, nullable=False)
    entity_label: Mapped[str] = mapped_column(Text, nullable=False)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(String(64), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(ForeignKey("snapshot.snapshot_id"), index=True)
