"""SQLAlchemy models, one module per domain; importing this package registers them all on `Base.metadata`."""

from apmseed.schema.applications import Application, ApplicationService, Endpoint, Service, ServiceSnapshot
from apmseed.schema.base import Base
from apmseed.schema.events import Event
from apmseed.schema.infrastructure import Snapshot
from apmseed.schema.meta import DatasetInfo
from apmseed.schema.metrics import MetricDefinition, MetricPoint, MetricSeries
from apmseed.schema.topology import EntityType, ServiceConnection, SnapshotRelation

metadata = Base.metadata

__all__ = [
    "Application", "ApplicationService", "Base", "DatasetInfo", "Endpoint", "EntityType", "Event",
    "MetricDefinition", "MetricPoint", "MetricSeries", "Service", "ServiceConnection", "ServiceSnapshot", "Snapshot",
    "SnapshotRelation", "metadata",
]
