"""Application perspectives, services, endpoints and their links."""

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base

# Instana's endpoint/service type enum (Service.types, Endpoint.type)
ENDPOINT_TYPES = (
    "UNDEFINED", "RPC", "EVENT", "GRAPHQL", "BATCH", "SHELL", "HTTP", "SDK",
    "OPENTELEMETRY", "INTERNAL", "RPG", "DATABASE", "MESSAGING", "PAGE", "PAGE_RESOURCE",
)
_TYPES_SQL = ", ".join(f"'{t}'" for t in ENDPOINT_TYPES)


class Application(Base):
    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint("boundary_scope IN ('ALL', 'INBOUND', 'DEFAULT')", name="boundary_scope"),
        CheckConstraint("business_criticality BETWEEN 0 AND 5", name="business_criticality"),
        CheckConstraint("length(label) > 0", name="label_not_empty"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    boundary_scope: Mapped[str] = mapped_column(String(16), nullable=False)
    business_criticality: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("length(label) > 0", name="label_not_empty"),
        CheckConstraint(f"types <@ ARRAY[{_TYPES_SQL}]::varchar[]", name="types_enum"),
        CheckConstraint("cardinality(types) > 0", name="types_not_empty"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    types: Mapped[list[str]] = mapped_column(ARRAY(String(16)), nullable=False)
    technologies: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)


class ApplicationService(Base):
    """Many-to-many: a service can belong to several application perspectives."""

    __tablename__ = "application_service"

    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), primary_key=True, index=True)


class ServiceSnapshot(Base):
    """Which infrastructure snapshots (processes) a service runs on: `Service.snapshotIds`."""

    __tablename__ = "service_snapshot"

    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), primary_key=True)
    snapshot_id: Mapped[str] = mapped_column(
        ForeignKey("snapshot.snapshot_id"), primary_key=True, index=True
    )


class Endpoint(Base):
    __tablename__ = "endpoint"
    __table_args__ = (
        CheckConstraint(f"type IN ({_TYPES_SQL})", name="type_enum"),
        CheckConstraint(
            "synthetic_type IN ('NON_SYNTHETIC', 'SYNTHETIC', 'MIXED')", name="synthetic_type"
        ),
        CheckConstraint("length(label) > 0", name="label_not_empty"),
        ForeignKeyConstraint(["service_id"], ["service.id"]),
        UniqueConstraint("service_id", "label"),
        # lets events reference (endpoint, its service) with one composite FK
        UniqueConstraint("id", "service_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    technologies: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    synthetic_type: Mapped[str] = mapped_column(String(16), nullable=False)
