"""Dataset 1.1 alerting: alerting channels and Smart Alert configurations (application, global application,
infrastructure), with the application/service/endpoint scope tree and the channels each config notifies.

Polymorphic Instana sub-objects (a channel's kind-specific keys, rules, thresholds, time thresholds, tag
filters, custom payload fields) are JSONB already in wire format; the relationships are proven by foreign
keys, composite where a scope node must lie inside its parent (a service inside its application, an endpoint
inside its service, an application config scoping only its own application)."""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

# AbstractIntegration.kind, and the keys each kind requires on the wire besides id, kind and name
CHANNEL_KINDS = (
    "EMAIL", "SLACK", "WEB_HOOK", "PAGER_DUTY", "OFFICE_365", "GOOGLE_CHAT", "OPS_GENIE", "SPLUNK",
    "SERVICE_NOW_APPLICATION", "SERVICE_NOW_WEBHOOK", "VICTOR_OPS", "PROMETHEUS_WEBHOOK", "WATSON_AIOPS_WEBHOOK",
    "WEBEX_TEAMS_WEBHOOK", "NS1", "SALESFORCE", "Z_CHATOPS", "BIDIRECTIONAL_MS_TEAMS", "BIDIRECTIONAL_SLACK",
)
CHANNEL_REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "EMAIL": ("emails",), "SLACK": ("webhookUrl",), "WEB_HOOK": ("webhookUrls",),
    "PAGER_DUTY": ("serviceIntegrationKey",), "OFFICE_365": ("webhookUrl",), "GOOGLE_CHAT": ("webhookUrl",),
    "OPS_GENIE": ("apiKey", "region"), "SPLUNK": ("url", "token"),
    "SERVICE_NOW_APPLICATION": ("serviceNowUrl", "username", "password", "tenant", "unit"),
    "SERVICE_NOW_WEBHOOK": ("serviceNowUrl", "username", "password"), "VICTOR_OPS": ("apiKey", "routingKey"),
    "PROMETHEUS_WEBHOOK": ("webhookUrl",), "WATSON_AIOPS_WEBHOOK": ("webhookUrl",),
    "WEBEX_TEAMS_WEBHOOK": ("webhookUrl",), "NS1": ("webhookUrls",),
    "SALESFORCE": ("salesforceUrl", "clientId", "clientSecret"),
    "BIDIRECTIONAL_MS_TEAMS": ("apiTokenId", "channelId", "channelName", "instanaUrl", "teamId", "tenantId"),
}
LIST_KEYS = ("emails", "webhookUrls")  # required lists with at least one entry

FAMILIES = ("APPLICATION", "GLOBAL_APPLICATION", "INFRA")
GRANULARITIES = (60_000, 300_000, 600_000, 900_000, 1_200_000, 1_800_000)
APPLICATION_ALERT_TYPES = ("slowness", "errorRate", "errors", "throughput", "statusCode", "logs", "customMetric")
THRESHOLD_OPERATORS = (">", ">=", "<", "<=", "OUTSIDE", "BETWEEN")
THRESHOLD_TYPES = ("staticThreshold", "adaptiveBaseline", "historicBaseline")
APPLICATION_TIME_THRESHOLDS = ("violationsInSequence", "violationsInPeriod", "requestImpact")
SEVERITY_KEYS = {5: "warning", 10: "critical"}  # the key of `rules[0].thresholds` a config's severity uses


def _sql_list(values: tuple[Any, ...]) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)


def _channel_keys_sql() -> str:
    whens = []
    for kind, keys in CHANNEL_REQUIRED_KEYS.items():
        parts = [f"details ? '{k}'" for k in keys]
        parts += [f"jsonb_typeof(details->'{k}') = 'array' AND jsonb_array_length(details->'{k}') > 0"
                  for k in keys if k in LIST_KEYS]
        whens.append(f" WHEN '{kind}' THEN " + " AND ".join(parts))
    return "CASE kind" + "".join(whens) + " ELSE TRUE END"


class AlertingChannel(Base):
    """An Instana alerting channel (`AbstractIntegration`); `details` holds the kind's own keys (e.g. `emails`,
    `webhookUrl`) in wire format, so a record is `{id, kind, name, **details}`."""

    __tablename__ = "alerting_channel"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_list(CHANNEL_KINDS)})", name="kind"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint("jsonb_typeof(details) = 'object'", name="details_object"),
        CheckConstraint("NOT details ?| ARRAY['id', 'kind', 'name']", name="details_not_overlapping"),
        CheckConstraint(_channel_keys_sql(), name="details_required_keys"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class AlertConfig(Base):
    """A Smart Alert configuration, one table for three Instana families (single-table inheritance on
    `family`): APPLICATION (`ApplicationAlertConfigWithMetadata`), GLOBAL_APPLICATION
    (`GlobalApplicationAlertConfigWithMetadata`) and INFRA (`InfraAlertConfigWithMetadata`).

    `rule` + `threshold_operator` + `thresholds` are the one entry of Instana's `rules` list; `thresholds` is
    keyed by severity (`warning`, `critical`) and must hold the key of the config's `severity`, which is what
    the legacy `threshold` field reports."""

    __tablename__ = "alert_config"
    __table_args__ = (
        CheckConstraint(f"family IN ({_sql_list(FAMILIES)})", name="family"),
        CheckConstraint("length(name) BETWEEN 1 AND 256", name="name_length"),
        CheckConstraint(f"granularity_ms IN ({_sql_list(GRANULARITIES)})", name="granularity"),
        CheckConstraint("severity IN (5, 10)", name="severity"),
        CheckConstraint("(family = 'APPLICATION') = (application_id IS NOT NULL)", name="application_iff_family"),
        CheckConstraint("(family = 'INFRA') = (boundary_scope IS NULL)", name="boundary_scope_iff_application"),
        CheckConstraint("boundary_scope IN ('ALL', 'INBOUND')", name="boundary_scope"),
        CheckConstraint(
            "CASE family WHEN 'INFRA' THEN evaluation_type IN ('PER_ENTITY', 'CUSTOM')"
            " ELSE evaluation_type IN ('PER_AP', 'PER_AP_SERVICE', 'PER_AP_ENDPOINT', 'CUSTOM') END",
            name="evaluation_type_by_family",
        ),
        CheckConstraint(
            "jsonb_typeof(rule) = 'object' AND rule ? 'metricName' AND CASE family"
            " WHEN 'INFRA' THEN rule->>'alertType' = 'genericRule' AND rule ? 'entityType'"
            f" ELSE rule->>'alertType' IN ({_sql_list(APPLICATION_ALERT_TYPES)}) END",
            name="rule_by_family",
        ),
        CheckConstraint(f"threshold_operator IN ({_sql_list(THRESHOLD_OPERATORS)})", name="threshold_operator"),
        CheckConstraint(
            "jsonb_typeof(thresholds) = 'object' AND thresholds - 'warning' - 'critical' = '{}'::jsonb"
            " AND thresholds ? CASE severity WHEN 10 THEN 'critical' ELSE 'warning' END",
            name="thresholds_hold_severity",
        ),
        CheckConstraint(
            "CASE family WHEN 'INFRA' THEN time_threshold->>'type' = 'violationsInSequence'"
            f" ELSE time_threshold->>'type' IN ({_sql_list(APPLICATION_TIME_THRESHOLDS)}) END",
            name="time_threshold_by_family",
        ),
        CheckConstraint(
            "tag_filter_expression IS NULL OR tag_filter_expression->>'type' IN ('TAG_FILTER', 'EXPRESSION')",
            name="tag_filter_expression",
        ),
        CheckConstraint(
            "jsonb_typeof(custom_payload_fields) = 'array' AND jsonb_array_length(custom_payload_fields) <= 20",
            name="custom_payload_fields",
        ),
        CheckConstraint("jsonb_typeof(group_by) = 'array' AND jsonb_array_length(group_by) <= 5", name="group_by"),
        CheckConstraint("grace_period_ms IS NULL OR grace_period_ms > 0", name="grace_period_positive"),
        CheckConstraint("(family = 'INFRA') = (include_internal IS NULL AND include_synthetic IS NULL)",
                        name="call_flags_iff_application"),
        CheckConstraint("(family = 'GLOBAL_APPLICATION') = (built_in IS NOT NULL)", name="built_in_iff_global"),
        CheckConstraint("snapshot_id IS NULL OR family = 'INFRA'", name="snapshot_only_infra"),
        CheckConstraint("initial_created_ms > 0 AND created_ms >= initial_created_ms", name="created_after_initial"),
        # targets of the scope tree's composite foreign keys
        UniqueConstraint("id", "family"),
        UniqueConstraint("application_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    family: Mapped[str] = mapped_column(String(24), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"))
    boundary_scope: Mapped[str | None] = mapped_column(String(16))
    evaluation_type: Mapped[str] = mapped_column(String(16), nullable=False)
    granularity_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    triggering: Mapped[bool] = mapped_column(Boolean, nullable=False)
    rule: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    threshold_operator: Mapped[str] = mapped_column(String(8), nullable=False)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    time_threshold: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    tag_filter_expression: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    custom_payload_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    group_by: Mapped[list[Any]] = mapped_column(JSONB, nullable=False)
    grace_period_ms: Mapped[int | None] = mapped_column(BigInteger)
    include_internal: Mapped[bool | None] = mapped_column(Boolean)
    include_synthetic: Mapped[bool | None] = mapped_column(Boolean)
    built_in: Mapped[bool | None] = mapped_column(Boolean)
    # an infrastructure alert on one entity (its tag filter names it); Instana has no field for this link
    snapshot_id: Mapped[str | None] = mapped_column(ForeignKey("snapshot.snapshot_id"), index=True)
    created_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    initial_created_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)


class AlertConfigChannel(Base):
    """`alertChannelIds`: the channels a config notifies."""

    __tablename__ = "alert_config_channel"

    alert_config_id: Mapped[str] = mapped_column(ForeignKey("alert_config.id"), primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("alerting_channel.id"), primary_key=True, index=True)


class AlertScopeApplication(Base):
    """Root of the scope tree (`applications{appId: ApplicationNode}`) of an application or global config.
    `family` ties the node to an application-family config; `config_application_id` is set exactly for a
    per-application config and proves, by foreign key, that it scopes only its own application."""

    __tablename__ = "alert_scope_application"
    __table_args__ = (
        CheckConstraint("family IN ('APPLICATION', 'GLOBAL_APPLICATION')", name="family"),
        CheckConstraint("(family = 'APPLICATION') = (config_application_id IS NOT NULL)",
                        name="config_application_iff_family"),
        CheckConstraint("config_application_id IS NULL OR config_application_id = application_id",
                        name="own_application"),
        ForeignKeyConstraint(["alert_config_id", "family"], ["alert_config.id", "alert_config.family"]),
        ForeignKeyConstraint(["config_application_id", "alert_config_id"],
                             ["alert_config.application_id", "alert_config.id"]),
    )

    alert_config_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), primary_key=True, index=True)
    family: Mapped[str] = mapped_column(String(24), nullable=False)
    config_application_id: Mapped[str | None] = mapped_column(String(64))
    inclusive: Mapped[bool] = mapped_column(Boolean, nullable=False)


class AlertScopeService(Base):
    """A `ServiceNode`: the service must belong to the application of its parent node."""

    __tablename__ = "alert_scope_service"
    __table_args__ = (
        ForeignKeyConstraint(["alert_config_id", "application_id"],
                             ["alert_scope_application.alert_config_id", "alert_scope_application.application_id"]),
        ForeignKeyConstraint(["application_id", "service_id"],
                             ["application_service.application_id", "application_service.service_id"]),
    )

    alert_config_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    inclusive: Mapped[bool] = mapped_column(Boolean, nullable=False)


class AlertScopeEndpoint(Base):
    """An `EndpointNode`: the endpoint must belong to the service of its parent node."""

    __tablename__ = "alert_scope_endpoint"
    __table_args__ = (
        ForeignKeyConstraint(["alert_config_id", "application_id", "service_id"],
                             ["alert_scope_service.alert_config_id", "alert_scope_service.application_id",
                              "alert_scope_service.service_id"]),
        ForeignKeyConstraint(["endpoint_id", "service_id"], ["endpoint.id", "endpoint.service_id"]),
    )

    alert_config_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    inclusive: Mapped[bool] = mapped_column(Boolean, nullable=False)
