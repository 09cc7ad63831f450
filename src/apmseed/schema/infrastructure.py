"""Infrastructure snapshots: hosts, containers and processes with their parent links."""

from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

PLUGINS = ("host", "docker", "process")


class Snapshot(Base):
    """An Instana infrastructure snapshot; the id is the wire `snapshotId`."""

    __tablename__ = "snapshot"
    __table_args__ = (
        CheckConstraint("plugin IN ('host', 'docker', 'process')", name="plugin"),
        # hosts are roots; containers and processes always hang off something
        CheckConstraint("(plugin = 'host') = (parent_snapshot_id IS NULL)", name="parent_by_plugin"),
        CheckConstraint("to_ms IS NULL OR to_ms >= from_ms", name="to_after_from"),
        CheckConstraint("jsonb_typeof(data) = 'object'", name="data_object"),
        CheckConstraint("jsonb_typeof(tags) = 'array'", name="tags_array"),
    )

    snapshot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    host: Mapped[str] = mapped_column(Text, nullable=False)
    parent_snapshot_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("snapshot.snapshot_id"), index=True
    )
    from_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    to_ms: Mapped[int | None] = mapped_column(EpochMs)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    tags: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
