"""Dataset 1.4: access. Users, roles, groups and teams (Instana RBAC), API tokens, and the audit and access logs.

Memberships are link tables with foreign keys, so a role member, a group scope or a log entry's actor is always a
real row. Permissions are stored as Instana's permission strings (`CAN_CONFIGURE_APPLICATIONS`); an API token's
wire flags (`canConfigureApplications`) are the same vocabulary in camelCase."""

from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

# Instana permission string -> the ApiToken flag that grants the same thing
PERMISSION_FLAGS: dict[str, str] = {
    "CAN_CONFIGURE_APPLICATIONS": "canConfigureApplications",
    "CAN_CONFIGURE_EUM_APPLICATIONS": "canConfigureEumApplications",
    "CAN_CONFIGURE_AGENTS": "canConfigureAgents",
    "CAN_INSTALL_NEW_AGENTS": "canInstallNewAgents",
    "CAN_CONFIGURE_AGENT_RUN_MODE": "canConfigureAgentRunMode",
    "CAN_VIEW_TRACE_DETAILS": "canViewTraceDetails",
    "CAN_VIEW_LOGS": "canViewLogs",
    "CAN_CONFIGURE_SESSION_SETTINGS": "canConfigureSessionSettings",
    "CAN_CONFIGURE_INTEGRATIONS": "canConfigureIntegrations",
    "CAN_CONFIGURE_EVENTS_AND_ALERTS": "canConfigureEventsAndAlerts",
    "CAN_CONFIGURE_MAINTENANCE_WINDOWS": "canConfigureMaintenanceWindows",
    "CAN_CONFIGURE_APPLICATION_SMART_ALERTS": "canConfigureApplicationSmartAlerts",
    "CAN_CONFIGURE_WEBSITE_SMART_ALERTS": "canConfigureWebsiteSmartAlerts",
    "CAN_CONFIGURE_GLOBAL_ALERT_PAYLOAD": "canConfigureGlobalAlertPayload",
    "CAN_CONFIGURE_USERS": "canConfigureUsers",
    "CAN_CONFIGURE_TEAMS": "canConfigureTeams",
    "CAN_CONFIGURE_API_TOKENS": "canConfigureApiTokens",
    "CAN_CONFIGURE_PERSONAL_API_TOKENS": "canConfigurePersonalApiTokens",
    "CAN_CONFIGURE_AUTHENTICATION_METHODS": "canConfigureAuthenticationMethods",
    "CAN_VIEW_AUDIT_LOG": "canViewAuditLog",
    "CAN_CONFIGURE_RELEASES": "canConfigureReleases",
    "CAN_CONFIGURE_SERVICE_MAPPING": "canConfigureServiceMapping",
    "CAN_CREATE_PUBLIC_CUSTOM_DASHBOARDS": "canCreatePublicCustomDashboards",
    "CAN_EDIT_ALL_ACCESSIBLE_CUSTOM_DASHBOARDS": "canEditAllAccessibleCustomDashboards",
    "CAN_CONFIGURE_SYNTHETIC_TESTS": "canConfigureSyntheticTests",
    "CAN_VIEW_SYNTHETIC_TESTS": "canViewSyntheticTests",
    "CAN_VIEW_SYNTHETIC_TEST_RESULTS": "canViewSyntheticTestResults",
    "CAN_CONFIGURE_LOG_MANAGEMENT": "canConfigureLogManagement",
    "CAN_VIEW_LOG_VOLUME": "canViewLogVolume",
    "CAN_MANUALLY_CLOSE_ISSUE": "canManuallyCloseIssue",
    "CAN_CREATE_THREAD_DUMP": "canCreateThreadDump",
    "CAN_CREATE_HEAP_DUMP": "canCreateHeapDump",
    "CAN_VIEW_ACCOUNT_AND_BILLING_INFORMATION": "canViewAccountAndBillingInformation",
}
# scope limits: not powers, they restrict what a token or team sees
SCOPE_FLAGS: dict[str, str] = {
    "LIMITED_APPLICATIONS_SCOPE": "limitedApplicationsScope",
    "LIMITED_WEBSITES_SCOPE": "limitedWebsitesScope",
    "LIMITED_INFRASTRUCTURE_SCOPE": "limitedInfrastructureScope",
    "LIMITED_LOGS_SCOPE": "limitedLogsScope",
}
PERMISSIONS = tuple(PERMISSION_FLAGS)
SCOPES = tuple(SCOPE_FLAGS)

AUDIT_ACTIONS = ("APPLICATION_CONFIG_UPDATED", "API_TOKEN_CREATED", "CUSTOM_DASHBOARD_CREATED",
                 "CUSTOM_DASHBOARD_UPDATED", "EVENT_SPECIFICATION_UPDATED", "SERVICE_CONFIG_UPDATED",
                 "ENDPOINT_CONFIG_UPDATED")
ACCESS_ACTIONS = ("LOGIN_SUCCEEDED", "LOGIN_FAILED", "LOGOUT", "API_TOKEN_USED")
# which target column an audit action names (exactly that one is set)
AUDIT_TARGETS = {
    "APPLICATION_CONFIG_UPDATED": "application_id",
    "API_TOKEN_CREATED": "api_token_id",
    "CUSTOM_DASHBOARD_CREATED": "custom_dashboard_id",
    "CUSTOM_DASHBOARD_UPDATED": "custom_dashboard_id",
    "EVENT_SPECIFICATION_UPDATED": "event_specification_id",
    "SERVICE_CONFIG_UPDATED": "service_config_id",
    "ENDPOINT_CONFIG_UPDATED": "endpoint_config_service_id",
}
AUDIT_TARGET_COLUMNS = tuple(dict.fromkeys(AUDIT_TARGETS.values()))


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _subset(column: str, values: tuple[str, ...]) -> str:
    return f"{column} <@ ARRAY[{_sql_list(values)}]::varchar[]"


class UserAccount(Base):
    """An Instana user (`UserResult`); `last_logged_in_ms` is the user's latest successful login."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("email ~ '^[^@ ]+@[^@ ]+\\.[a-z]+$'", name="email_format"),
        CheckConstraint("length(full_name) > 0", name="full_name_not_empty"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    full_name: Mapped[str] = mapped_column(Text, nullable=False)
    tfa_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    last_logged_in_ms: Mapped[int | None] = mapped_column(EpochMs)


class Role(Base):
    """An RBAC role (`ApiRole`) with the permissions it grants."""

    __tablename__ = "role"
    __table_args__ = (
        CheckConstraint(_subset("permissions", PERMISSIONS), name="permissions_enum"),
        CheckConstraint("cardinality(permissions) > 0", name="permissions_not_empty"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)


class RoleMember(Base):
    """`ApiRole.members`: the users a role is assigned to."""

    __tablename__ = "role_member"

    role_id: Mapped[str] = mapped_column(ForeignKey("role.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), primary_key=True, index=True)


class UserGroup(Base):
    """A permission group (`ApiGroup`); its `permissionSet.applicationIds` scope is `user_group_application`."""

    __tablename__ = "user_group"
    __table_args__ = (CheckConstraint(_subset("permissions", PERMISSIONS), name="permissions_enum"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)


class UserGroupMember(Base):
    __tablename__ = "user_group_member"

    group_id: Mapped[str] = mapped_column(ForeignKey("user_group.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), primary_key=True, index=True)


class UserGroupApplication(Base):
    """`ApiPermissionSet.applicationIds[].scopeId`: the application perspectives a group may see."""

    __tablename__ = "user_group_application"

    group_id: Mapped[str] = mapped_column(ForeignKey("user_group.id"), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), primary_key=True, index=True)


class Team(Base):
    """A team (`ApiTeam`); `access_permissions` are the scope limits of `ApiTeamScope.accessPermissions`."""

    __tablename__ = "team"
    __table_args__ = (
        CheckConstraint(_subset("access_permissions", SCOPES), name="access_permissions_enum"),
        CheckConstraint("length(tag) > 0", name="tag_not_empty"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tag: Mapped[str] = mapped_column(String(256), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    access_permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)


class TeamMember(Base):
    __tablename__ = "team_member"

    team_id: Mapped[str] = mapped_column(ForeignKey("team.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), primary_key=True, index=True)


class TeamMemberRole(Base):
    """`ApiTeamMember.roles`: a role a member holds within the team; only members of the team hold one."""

    __tablename__ = "team_member_role"
    __table_args__ = (
        ForeignKeyConstraint(["team_id", "user_id"], ["team_member.team_id", "team_member.user_id"]),
    )

    team_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("role.id"), primary_key=True, index=True)
    via_idp: Mapped[bool] = mapped_column(Boolean, nullable=False)


class TeamApplication(Base):
    """`ApiTeamScope.applications`: the application perspectives a team is scoped to."""

    __tablename__ = "team_application"

    team_id: Mapped[str] = mapped_column(ForeignKey("team.id"), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), primary_key=True, index=True)


class ApiToken(Base):
    """An API token (`ApiToken`). `permissions` become the token's boolean flags; a token never grants more
    than its creator's roles do (checked by the tests), and it is used only while valid."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint(_subset("permissions", PERMISSIONS + SCOPES), name="permissions_enum"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint("expires_on_ms IS NULL OR expires_on_ms > created_on_ms", name="expires_after_created"),
        CheckConstraint("last_used_on_ms IS NULL OR (last_used_on_ms >= created_on_ms"
                        " AND (expires_on_ms IS NULL OR last_used_on_ms <= expires_on_ms))", name="used_while_valid"),
    )

    internal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    access_granting_token: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    created_on_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    expires_on_ms: Mapped[int | None] = mapped_column(EpochMs)
    last_used_on_ms: Mapped[int | None] = mapped_column(EpochMs)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)


_ACTOR_CHECK = ("CASE actor_type WHEN 'USER' THEN actor_user_id IS NOT NULL AND actor_token_id IS NULL"
                " WHEN 'API_TOKEN' THEN actor_token_id IS NOT NULL AND actor_user_id IS NULL END")
_TARGET_CHECK = ("CASE action " + " ".join(f"WHEN '{a}' THEN {c} IS NOT NULL" for a, c in AUDIT_TARGETS.items())
                 + " END")


class AuditLogEntry(Base):
    """An audit-log entry (`AuditLogEntry`): a configuration change by a user or an API token, naming exactly the
    object it changed (one target column, fixed by the action). `meta` holds the request (wire format)."""

    __tablename__ = "audit_log_entry"
    __table_args__ = (
        CheckConstraint(f"action IN ({_sql_list(AUDIT_ACTIONS)})", name="action"),
        CheckConstraint("actor_type IN ('USER', 'API_TOKEN')", name="actor_type"),
        CheckConstraint(_ACTOR_CHECK, name="actor_matches_type"),
        CheckConstraint(f"num_nonnulls({', '.join(AUDIT_TARGET_COLUMNS)}) = 1", name="one_target"),
        CheckConstraint(_TARGET_CHECK, name="target_matches_action"),
        CheckConstraint("length(message) > 0", name="message_not_empty"),
        CheckConstraint("jsonb_typeof(meta) = 'object'", name="meta_object"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    timestamp_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_token_id: Mapped[str | None] = mapped_column(ForeignKey("api_token.internal_id"), index=True)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application_config.application_id"))
    api_token_id: Mapped[str | None] = mapped_column(ForeignKey("api_token.internal_id"))
    custom_dashboard_id: Mapped[str | None] = mapped_column(ForeignKey("custom_dashboard.id"))
    event_specification_id: Mapped[str | None] = mapped_column(ForeignKey("event_specification.id"))
    service_config_id: Mapped[str | None] = mapped_column(ForeignKey("service_config.id"))
    endpoint_config_service_id: Mapped[str | None] = mapped_column(ForeignKey("endpoint_config.service_id"))
    meta: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class AccessLogEntry(Base):
    """An access-log entry (`AuditLogEntry` of the access log): logins of users and calls with API tokens."""

    __tablename__ = "access_log_entry"
    __table_args__ = (
        CheckConstraint(f"action IN ({_sql_list(ACCESS_ACTIONS)})", name="action"),
        CheckConstraint("actor_type IN ('USER', 'API_TOKEN')", name="actor_type"),
        CheckConstraint(_ACTOR_CHECK, name="actor_matches_type"),
        CheckConstraint("(action = 'API_TOKEN_USED') = (actor_type = 'API_TOKEN')", name="token_use_by_token"),
        CheckConstraint("length(message) > 0", name="message_not_empty"),
        CheckConstraint("jsonb_typeof(meta) = 'object'", name="meta_object"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    timestamp_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_token_id: Mapped[str | None] = mapped_column(ForeignKey("api_token.internal_id"), index=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
