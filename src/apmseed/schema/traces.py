"""Dataset 1.3: traces and their calls (Instana Application Analyze: `Trace`, `GetTraceDownloadResultItem`).

The database proves the shape of every trace: a call from service A to B exists only where the service map has
the connection A -> B, a call's caller is its parent call's destination in the same trace, each trace has one
root call, and an endpoint belongs to the service the call reaches. Timing (children inside their parent,
durations that add up) and agreement with the metrics are checked by `apmseed validate` and the tests."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs
from apmseed.schema.logs import LogEntry

HEX16 = "'^[0-9a-f]{16}$'"


class Trace(Base):
    """One trace: its root call's endpoint name, start, duration and service (`TraceResult.items[].trace`);
    `application_id` is the application perspective of the root service (Instana's `application.id` filter)."""

    __tablename__ = "trace"
    __table_args__ = (
        CheckConstraint(f"id ~ {HEX16}", name="id_hex16"),
        CheckConstraint("length(label) > 0", name="label_not_empty"),
        CheckConstraint("duration_ms >= 0", name="duration_non_negative"),
        ForeignKeyConstraint(["application_id", "service_id"],
                             ["application_service.application_id", "application_service.service_id"]),
        ForeignKeyConstraint(["endpoint_id", "service_id"], ["endpoint.id", "endpoint.service_id"]),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    erroneous: Mapped[bool] = mapped_column(Boolean, nullable=False)
    application_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    service_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    endpoint_id: Mapped[str | None] = mapped_column(String(64))


class Call(Base):
    """One call of a trace (a span pair: exit at the caller, entry at the callee). The root call comes from
    outside the service map (no parent, no source service). `duration_ms` is what the caller saw, network time
    included; the callee's own time is `duration_ms - network_time_ms`."""

    __tablename__ = "call"
    __table_args__ = (
        CheckConstraint(f"id ~ {HEX16}", name="id_hex16"),
        CheckConstraint("length(name) BETWEEN 1 AND 128", name="name_length"),
        CheckConstraint("duration_ms >= 0", name="duration_non_negative"),
        CheckConstraint("network_time_ms >= 0 AND network_time_ms <= duration_ms", name="network_within_duration"),
        CheckConstraint("error_count IN (0, 1)", name="error_count"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        CheckConstraint("(parent_id IS NULL) = (src_service_id IS NULL)", name="root_has_no_source"),
        UniqueConstraint("id", "trace_id", "dst_service_id"),
        # the parent is in the same trace, and the caller is the service the parent call reached
        ForeignKeyConstraint(["parent_id", "trace_id", "src_service_id"],
                             ["call.id", "call.trace_id", "call.dst_service_id"]),
        # calls follow the service map
        ForeignKeyConstraint(["src_service_id", "dst_service_id"],
                             ["service_connection.from_service_id", "service_connection.to_service_id"]),
        ForeignKeyConstraint(["dst_endpoint_id", "dst_service_id"], ["endpoint.id", "endpoint.service_id"]),
        Index("uq_call_one_root_per_trace", "trace_id", unique=True, postgresql_where=text("parent_id IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    trace_id: Mapped[str] = mapped_column(ForeignKey("trace.id"), nullable=False, index=True)
    parent_id: Mapped[str | None] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    network_time_ms: Mapped[int | None] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    src_service_id: Mapped[str | None] = mapped_column(String(64))
    dst_service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), nullable=False, index=True)
    dst_endpoint_id: Mapped[str | None] = mapped_column(String(64), index=True)


# The one constraint dataset 1.3.0 adds to an older table: every trace id a 1.2.0 log line carries is a trace.
# The revision adds it NOT VALID (the log lines exist before the traces are loaded); the layer creates a trace
# for each of those ids, and the tests VALIDATE it.
LogEntry.__table__.append_constraint(ForeignKeyConstraint(["trace_id"], ["trace.id"]))
