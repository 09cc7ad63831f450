"""Dataset 1.4: settings. Host agents, event specifications (and which issues they raised), application, service
and endpoint configurations, and custom dashboards.

Polymorphic Instana sub-objects (tag filter expressions, event rules, endpoint rules) are JSONB already in wire
format; their shape is checked by the client models in the tests."""

from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

AGENT_MODES = ("APM", "INFRASTRUCTURE", "AWS", "KUBERNETES")
APPLICATION_SCOPES = ("INCLUDE_NO_DOWNSTREAM", "INCLUDE_IMMEDIATE_DOWNSTREAM_DATABASE_AND_MESSAGING",
                      "INCLUDE_ALL_DOWNSTREAM")
RELATION_TYPES = ("USER", "API_TOKEN", "ROLE", "TEAM", "GLOBAL")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class HostAgent(Base):
    """The Instana agent of one host. Agents are snapshots of their own (`agent_snapshot_id`, plugin
    `instanaAgent`); `snapshot_id` is the host they run on, so there is at most one agent per host."""

    __tablename__ = "host_agent"
    __table_args__ = (
        CheckConstraint(f"mode IN ({_sql_list(AGENT_MODES)})", name="mode"),
        CheckConstraint("status IN ('ONLINE', 'OFFLINE')", name="status"),
        CheckConstraint("(status = 'OFFLINE') = (to_ms IS NOT NULL)", name="offline_iff_ended"),
        CheckConstraint("to_ms IS NULL OR to_ms >= from_ms", name="to_after_from"),
        CheckConstraint("last_seen_ms >= from_ms AND (to_ms IS NULL OR last_seen_ms <= to_ms)", name="seen_while_up"),
        CheckConstraint("cpu_usage_percent BETWEEN 0 AND 100", name="cpu_percent"),
        CheckConstraint("memory_usage_mb > 0", name="memory_positive"),
        CheckConstraint("cardinality(plugins) > 0", name="plugins_not_empty"),
        CheckConstraint("version ~ '^[0-9]+\\.[0-9]+\\.[0-9]+$'", name="version_format"),
    )

    snapshot_id: Mapped[str] = mapped_column(ForeignKey("snapshot.snapshot_id"), primary_key=True)
    agent_snapshot_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    agent_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    version: Mapped[str] = mapped_column(String(32), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    auto_update: Mapped[bool] = mapped_column(Boolean, nullable=False)
    from_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    to_ms: Mapped[int | None] = mapped_column(EpochMs)
    last_seen_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    cpu_usage_percent: Mapped[float] = mapped_column(Double, nullable=False)
    memory_usage_mb: Mapped[float] = mapped_column(Double, nullable=False)
    plugins: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)


class EventSpecification(Base):
    """A built-in or custom event specification. Built-in ones carry `short_plugin_id`, hyper parameters and
    rule inputs; custom ones carry 1..5 rules (polymorphic on `ruleType`, wire format). The lists a kind does
    not use are empty."""

    __tablename__ = "event_specification"
    __table_args__ = (
        CheckConstraint("kind IN ('BUILT_IN', 'CUSTOM')", name="kind"),
        CheckConstraint("severity IN (5, 10)", name="severity"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint("last_updated_ms >= 1", name="last_updated_positive"),
        CheckConstraint("jsonb_typeof(hyper_params) = 'array' AND jsonb_typeof(rule_inputs) = 'array'"
                        " AND jsonb_typeof(rules) = 'array'", name="json_arrays"),
        # the JSON lists a kind does not use are empty (COPY writes JSON columns as JSON, so no SQL NULLs)
        CheckConstraint(
            "CASE kind WHEN 'BUILT_IN' THEN short_plugin_id IS NOT NULL AND jsonb_array_length(rules) = 0"
            " WHEN 'CUSTOM' THEN short_plugin_id IS NULL AND jsonb_array_length(hyper_params) = 0"
            " AND jsonb_array_length(rule_inputs) = 0 AND jsonb_array_length(rules) BETWEEN 1 AND 5 END",
            name="fields_by_kind",
        ),
        CheckConstraint("rule_logical_operator IS NULL OR rule_logical_operator IN ('AND', 'OR')",
                        name="rule_logical_operator"),
        UniqueConstraint("kind", "entity_type", "name"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(64), nullable=False)
    short_plugin_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, nullable=False)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    triggering: Mapped[bool] = mapped_column(Boolean, nullable=False)
    hyper_params: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    rule_inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    rule_logical_operator: Mapped[str | None] = mapped_column(String(8))
    last_updated_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)


class EventSpecificationEvent(Base):
    """Which specification raised an event (`EventResult.eventSpecificationId`); a new table, so the event rows
    of 1.0.0 stay as they were. One specification per event."""

    __tablename__ = "event_specification_event"

    event_id: Mapped[str] = mapped_column(ForeignKey("event.event_id"), primary_key=True)
    # named explicitly: the conventional name would pass PostgreSQL's 63-character limit
    event_specification_id: Mapped[str] = mapped_column(
        ForeignKey("event_specification.id", name="fk_event_specification_event_specification"), nullable=False,
        index=True,
    )


class ApplicationConfig(Base):
    """The settings of an application perspective (`ApplicationConfig`); `label` and `boundaryScope` come from
    the application itself. The tag filter names exactly the application's services (wire format)."""

    __tablename__ = "application_config"
    __table_args__ = (
        CheckConstraint(f"scope IN ({_sql_list(APPLICATION_SCOPES)})", name="scope"),
        CheckConstraint("modified_ms >= created_ms", name="modified_after_created"),
        CheckConstraint("jsonb_typeof(tag_filter_expression) = 'object'", name="tag_filter_object"),
    )

    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), nullable=False)
    tag_filter_expression: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    created_by: Mapped[str] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    modified_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    modified_by: Mapped[str] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)


class ApplicationAccessRule(Base):
    """`ApplicationConfig.accessRules[ord]`; `relatedId` is a real user, API token, role or team, chosen by
    `relation_type` (GLOBAL names nobody)."""

    __tablename__ = "application_access_rule"
    __table_args__ = (
        CheckConstraint("access_type IN ('READ', 'READ_WRITE')", name="access_type"),
        CheckConstraint(f"relation_type IN ({_sql_list(RELATION_TYPES)})", name="relation_type"),
        CheckConstraint("ord BETWEEN 0 AND 63", name="ord_range"),
        CheckConstraint(
            "CASE relation_type"
            " WHEN 'USER' THEN user_id IS NOT NULL AND num_nonnulls(api_token_id, role_id, team_id) = 0"
            " WHEN 'API_TOKEN' THEN api_token_id IS NOT NULL AND num_nonnulls(user_id, role_id, team_id) = 0"
            " WHEN 'ROLE' THEN role_id IS NOT NULL AND num_nonnulls(user_id, api_token_id, team_id) = 0"
            " WHEN 'TEAM' THEN team_id IS NOT NULL AND num_nonnulls(user_id, api_token_id, role_id) = 0"
            " WHEN 'GLOBAL' THEN num_nonnulls(user_id, api_token_id, role_id, team_id) = 0 END",
            name="related_matches_type",
        ),
    )

    application_id: Mapped[str] = mapped_column(ForeignKey("application_config.application_id"), primary_key=True)
    ord: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    access_type: Mapped[str] = mapped_column(String(16), nullable=False)
    relation_type: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    api_token_id: Mapped[str | None] = mapped_column(ForeignKey("api_token.internal_id"), index=True)
    role_id: Mapped[str | None] = mapped_column(ForeignKey("role.id"), index=True)
    team_id: Mapped[str | None] = mapped_column(ForeignKey("team.id"), index=True)


class ServiceConfig(Base):
    """A custom service rule (`ServiceConfig`) and the service its matched calls are mapped to."""

    __tablename__ = "service_config"
    __table_args__ = (
        CheckConstraint("jsonb_typeof(match_specification) = 'array'"
                        " AND jsonb_array_length(match_specification) BETWEEN 1 AND 20", name="match_specification"),
        CheckConstraint("length(name) BETWEEN 1 AND 128", name="name_length"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    match_specification: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)


class EndpointConfig(Base):
    """How a service's endpoints are named (`EndpointConfig`); custom rules only for HTTP services, with test
    cases taken from the service's own endpoints (an empty list: no custom rules, the key is left out)."""

    __tablename__ = "endpoint_config"
    __table_args__ = (
        CheckConstraint("endpoint_case IN ('ORIGINAL', 'LOWER', 'UPPER')", name="endpoint_case"),
        CheckConstraint("jsonb_typeof(rules) = 'array' AND jsonb_array_length(rules) <= 500", name="rules"),
    )

    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), primary_key=True)
    endpoint_case: Mapped[str] = mapped_column(String(16), nullable=False)
    by_path_template: Mapped[bool] = mapped_column(Boolean, nullable=False)
    by_first_path_segment: Mapped[bool] = mapped_column(Boolean, nullable=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)  # empty: Instana's rules only


class CustomDashboard(Base):
    """A custom dashboard (`CustomDashboardPreview`) owned by a user, optionally about one application."""

    __tablename__ = "custom_dashboard"
    __table_args__ = (
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        CheckConstraint("shared OR NOT writable", name="writable_only_if_shared"),
        UniqueConstraint("owner_id", "title"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"), index=True)
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False)
    writable: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
