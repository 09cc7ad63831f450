"""SQLAlchemy models, one module per domain; importing this package registers them all on `Base.metadata`."""

from apmseed.schema.access import (
    AccessLogEntry,
    ApiToken,
    AuditLogEntry,
    Role,
    RoleMember,
    Team,
    TeamApplication,
    TeamMember,
    TeamMemberRole,
    UserAccount,
    UserGroup,
    UserGroupApplication,
    UserGroupMember,
)
from apmseed.schema.alerting import (
    AlertConfig,
    AlertConfigChannel,
    AlertingChannel,
    AlertScopeApplication,
    AlertScopeEndpoint,
    AlertScopeService,
)
from apmseed.schema.applications import Application, ApplicationService, Endpoint, Service, ServiceSnapshot
from apmseed.schema.base import Base
from apmseed.schema.events import Event
from apmseed.schema.ground_truth import GroundTruth, GroundTruthEffect
from apmseed.schema.infrastructure import Snapshot
from apmseed.schema.logs import LogEntry
from apmseed.schema.meta import DatasetInfo
from apmseed.schema.metrics import MetricDefinition, MetricPoint, MetricSeries
from apmseed.schema.mobile import (
    MobileApp,
    MobileAppAlertConfig,
    MobileAppAlertConfigChannel,
    MobileBeacon,
    MobileMetricDefinition,
    MobileMetricPoint,
    MobileSession,
)
from apmseed.schema.releases import (
    ChangeEvent,
    EventMetric,
    Incident,
    IncidentEvent,
    Release,
    ReleaseApplication,
    ReleaseIssue,
    ReleaseService,
)
from apmseed.schema.settings import (
    ApplicationAccessRule,
    ApplicationConfig,
    CustomDashboard,
    EndpointConfig,
    EventSpecification,
    EventSpecificationEvent,
    HostAgent,
    ServiceConfig,
)
from apmseed.schema.synthetics import SyntheticLocation, SyntheticResult, SyntheticTest, SyntheticTestLocation
from apmseed.schema.topology import EntityType, ServiceConnection, SnapshotRelation
from apmseed.schema.traces import Call, Trace
from apmseed.schema.web import (
    Website,
    WebsiteAlertConfig,
    WebsiteAlertConfigChannel,
    WebsiteBeacon,
    WebsiteMetricDefinition,
    WebsiteMetricPoint,
    WebsiteSession,
)

metadata = Base.metadata

__all__ = [
    "AccessLogEntry",
    "AlertConfig",
    "AlertConfigChannel",
    "AlertScopeApplication",
    "AlertScopeEndpoint",
    "AlertScopeService",
    "AlertingChannel",
    "ApiToken",
    "Application",
    "ApplicationAccessRule",
    "ApplicationConfig",
    "ApplicationService",
    "AuditLogEntry",
    "Base",
    "Call",
    "ChangeEvent",
    "CustomDashboard",
    "DatasetInfo",
    "Endpoint",
    "EndpointConfig",
    "EntityType",
    "Event",
    "EventMetric",
    "EventSpecification",
    "EventSpecificationEvent",
    "GroundTruth",
    "GroundTruthEffect",
    "HostAgent",
    "Incident",
    "IncidentEvent",
    "LogEntry",
    "MetricDefinition",
    "MetricPoint",
    "MetricSeries",
    "MobileApp",
    "MobileAppAlertConfig",
    "MobileAppAlertConfigChannel",
    "MobileBeacon",
    "MobileMetricDefinition",
    "MobileMetricPoint",
    "MobileSession",
    "Release",
    "ReleaseApplication",
    "ReleaseIssue",
    "ReleaseService",
    "Role",
    "RoleMember",
    "Service",
    "ServiceConfig",
    "ServiceConnection",
    "ServiceSnapshot",
    "Snapshot",
    "SnapshotRelation",
    "SyntheticLocation",
    "SyntheticResult",
    "SyntheticTest",
    "SyntheticTestLocation",
    "Team",
    "TeamApplication",
    "TeamMember",
    "TeamMemberRole",
    "Trace",
    "UserAccount",
    "UserGroup",
    "UserGroupApplication",
    "UserGroupMember",
    "Website",
    "WebsiteAlertConfig",
    "WebsiteAlertConfigChannel",
    "WebsiteBeacon",
    "WebsiteMetricDefinition",
    "WebsiteMetricPoint",
    "WebsiteSession",
    "metadata",
]
