"""Dataset 1.2: log entries of the services' processes, correlated with issues (error/warning logs) and carrying
the trace ids dataset 1.3 builds traces for."""

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
_LEVELS_SQL = ", ".join(f"'{level}'" for level in LOG_LEVELS)


class LogEntry(Base):
    """Bulk table: one log line (Instana `ApiLogItem`). It comes from a process that really runs its service
    (composite FK to service_snapshot) on a host; ERROR and WARN lines exist only inside an issue of their
    service (`event_id`). Kubernetes columns stay NULL until Kubernetes entities exist (dataset 1.6)."""

    __tablename__ = "log_entry"
    __table_args__ = (
        CheckConstraint(f"level IN ({_LEVELS_SQL})", name="level"),
        CheckConstraint("length(message) > 0", name="message_not_empty"),
        CheckConstraint("trace_id ~ '^[0-9a-f]{16}$'", name="trace_id_format"),
        CheckConstraint("stream_name IN ('stdout', 'stderr')", name="stream_name"),
        CheckConstraint("(level IN ('ERROR', 'WARN')) = (event_id IS NOT NULL)", name="issue_iff_error_or_warn"),
        CheckConstraint("(exception_type IS NULL) = (exception_message IS NULL)", name="exception_complete"),
        CheckConstraint("exception_type IS NULL OR level = 'ERROR'", name="exception_only_on_error"),
        ForeignKeyConstraint(["service_id", "process_snapshot_id"],
                             ["service_snapshot.service_id", "service_snapshot.snapshot_id"]),
        # a request-scoped line names an endpoint of its own service
        ForeignKeyConstraint(["endpoint_id", "service_id"], ["endpoint.id", "endpoint.service_id"]),
    )

    log_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    timestamp_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), nullable=False, index=True)
    process_snapshot_id: Mapped[str] = mapped_column(String(64), nullable=False)
    host_snapshot_id: Mapped[str] = mapped_column(ForeignKey("snapshot.snapshot_id"), nullable=False, index=True)
    endpoint_id: Mapped[str | None] = mapped_column(String(64), index=True)
    trace_id: Mapped[str | None] = mapped_column(String(16), index=True)
    event_id: Mapped[str | None] = mapped_column(ForeignKey("event.event_id"), index=True)
    stream_name: Mapped[str] = mapped_column(String(8), nullable=False)
    exception_type: Mapped[str | None] = mapped_column(Text)
    exception_message: Mapped[str | None] = mapped_column(Text)
    kubernetes_cluster_name: Mapped[str | None] = mapped_column(Text)
    kubernetes_namespace_name: Mapped[str | None] = mapped_column(Text)
    kubernetes_deployment_name: Mapped[str | None] = mapped_column(Text)
    kubernetes_pod_name: Mapped[str | None] = mapped_column(Text)
    kubernetes_container_name: Mapped[str | None] = mapped_column(Text)
    kubernetes_node_name: Mapped[str | None] = mapped_column(Text)
