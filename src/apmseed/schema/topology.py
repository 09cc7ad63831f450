"""Dataset 1.1: infrastructure topology, application topology (service map) and the entity-type catalog."""

from sqlalchemy import BigInteger, CheckConstraint, Double, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

RELATIONS = ("in", "is", "to", "of", "connected", "describes", "of20", "to20", "dummy", "parent")
_RELATIONS_SQL = ", ".join(f"'{r}'" for r in RELATIONS)


class SnapshotRelation(Base):
    """An edge of Instana's infrastructure topology graph (GraphEdge), between two snapshots."""

    __tablename__ = "snapshot_relation"
    __table_args__ = (
        CheckConstraint(f"relation IN ({_RELATIONS_SQL})", name="relation"),
        CheckConstraint("source_snapshot_id <> destination_snapshot_id", name="no_self_loop"),
    )

    source_snapshot_id: Mapped[str] = mapped_column(ForeignKey("snapshot.snapshot_id"), primary_key=True)
    destination_snapshot_id: Mapped[str] = mapped_column(
        ForeignKey("snapshot.snapshot_id"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(String(16), primary_key=True)


class ServiceConnection(Base):
    """A service-map edge: calls from one service to another over the data window, consistent with the
    callee's metrics (its callers' calls add up to at most its own calls)."""

    __tablename__ = "service_connection"
    __table_args__ = (
        CheckConstraint("from_service_id <> to_service_id", name="no_self_call"),
        CheckConstraint("calls >= 0", name="calls_non_negative"),
        CheckConstraint("erroneous_calls >= 0 AND erroneous_calls <= calls", name="errors_within_calls"),
        CheckConstraint("latency_ms >= 0", name="latency_non_negative"),
        CheckConstraint("to_ms > from_ms", name="window"),
    )

    from_service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), primary_key=True)
    to_service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), primary_key=True, index=True)
    calls: Mapped[int] = mapped_column(BigInteger, nullable=False)
    erroneous_calls: Mapped[int] = mapped_column(BigInteger, nullable=False)
    latency_ms: Mapped[float] = mapped_column(Double, nullable=False)
    from_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    to_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)


class EntityType(Base):
    """The plugin catalog (Instana `PluginResult`): exactly the plugins the snapshots use."""

    __tablename__ = "entity_type"
    __table_args__ = (CheckConstraint("snapshot_count > 0", name="used"),)

    plugin: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    snapshot_count: Mapped[int] = mapped_column(Integer, nullable=False)
