"""Readers and dataset entries for dataset 1.4.0: access (users, roles, groups, teams, API tokens, audit and access
logs) and settings (host agents, event specifications, application/service/endpoint configs, custom dashboards).

Each record is shaped like the Instana model of the matching GET operation; extra keys only carry links the model
expresses through URL paths (`roleIds` of a user, `serviceId` of a service rule, `applicationId` of a dashboard,
`type` of an event specification: BUILT_IN or CUSTOM, as in `EventSpecificationInfo`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from apmseed.exporters.base import Record
from apmseed.exporters.datasets_base import Dataset
from apmseed.schema.access import PERMISSION_FLAGS, SCOPE_FLAGS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from apmseed.exporters.snapshot import Snapshot

# ApiPermissionSet: every list key must be present (the model requires them), even when empty
PERMISSION_SET_LISTS = ("apdexIds", "businessPerspectiveIds", "kubernetesClusterUUIDs", "kubernetesNamespaceUIDs",
                        "mobileAppIds", "sloIds", "syntheticCredentialKeys", "syntheticTestIds", "websiteIds")
AGENT_PLUGIN = "instanaAgent"
# audit target column -> (meta.target.type, SQL giving its label)
AUDIT_TARGETS = {
    "application_id": ("APPLICATION_PERSPECTIVE", "(SELECT label FROM application WHERE id = e.application_id)"),
    "api_token_id": ("API_TOKEN", "(SELECT name FROM api_token WHERE internal_id = e.api_token_id)"),
    "custom_dashboard_id": ("CUSTOM_DASHBOARD",
                            "(SELECT title FROM custom_dashboard WHERE id = e.custom_dashboard_id)"),
    "event_specification_id": ("EVENT_SPECIFICATION",
                               "(SELECT name FROM event_specification WHERE id = e.event_specification_id)"),
    "service_config_id": ("SERVICE_CONFIG", "(SELECT name FROM service_config WHERE id = e.service_config_id)"),
    "endpoint_config_service_id": ("ENDPOINT_CONFIG",
                                   "(SELECT label FROM service WHERE id = e.endpoint_config_service_id)"),
}


def _rows(snap: Snapshot, sql: str) -> list[sa.RowMapping]:
    return list(snap.conn.execute(sa.text(sql)).mappings())


def _members(snap: Snapshot, table: str, key: str) -> dict[str, list[Record]]:
    """`ApiMember`s per group/role id: the user's id, name and email."""
    members: dict[str, list[Record]] = defaultdict(list)
    for r in _rows(snap, f"SELECT m.{key} k, u.id, u.full_name, u.email FROM {table} m"
                         f" JOIN user_account u ON u.id = m.user_id ORDER BY 1, 2"):
        members[r["k"]].append({"userId": r["id"], "name": r["full_name"], "email": r["email"]})
    return members


def user_roles(snap: Snapshot) -> Iterator[Record]:
    """Instana `UserResult` (GET /api/settings/users), plus `roleIds`: the roles the user is a member of."""
    for r in _rows(snap, "SELECT u.*,"
                         " ARRAY(SELECT role_id FROM role_member m WHERE m.user_id = u.id ORDER BY 1) role_ids,"
                         " (SELECT count(*) FROM user_group_member g WHERE g.user_id = u.id) group_count,"
                         " ARRAY(SELECT t.tag FROM team_member m JOIN team t ON t.id = m.team_id"
                         "       WHERE m.user_id = u.id ORDER BY 1) team_names"
                         " FROM user_account u ORDER BY u.id"):
        item: Record = {"id": r["id"], "email": r["email"], "fullName": r["full_name"],
                        "tfaEnabled": r["tfa_enabled"], "groupCount": int(r["group_count"]),
                        "teamNames": list(r["team_names"]), "roleIds": list(r["role_ids"])}
        if r["last_logged_in_ms"] is not None:
            item["lastLoggedIn"] = r["last_logged_in_ms"]
        yield item


def roles(snap: Snapshot) -> Iterator[Record]:
    """Instana `ApiRole` (GET /api/settings/rbac/roles)."""
    members = _members(snap, "role_member", "role_id")
    for r in _rows(snap, "SELECT * FROM role ORDER BY id"):
        yield {"id": r["id"], "name": r["name"], "description": r["description"], "members": members[r["id"]],
               "permissions": list(r["permissions"])}


def groups(snap: Snapshot) -> Iterator[Record]:
    """Instana `ApiGroup` (GET /api/settings/rbac/groups); the application scope is `permissionSet.applicationIds`."""
    members = _members(snap, "user_group_member", "group_id")
    scopes: dict[str, list[Record]] = defaultdict(list)
    for r in _rows(snap, "SELECT group_id, application_id FROM user_group_application ORDER BY 1, 2"):
        scopes[r["group_id"]].append({"scopeId": r["application_id"]})
    for r in _rows(snap, "SELECT * FROM user_group ORDER BY id"):
        permission_set: Record = {key: [] for key in PERMISSION_SET_LISTS}
        permission_set.update({"applicationIds": scopes[r["id"]], "permissions": list(r["permissions"]),
                               "infraDfqFilter": None})
        yield {"id": r["id"], "name": r["name"], "description": r["description"], "members": members[r["id"]],
               "permissionSet": permission_set}


def teams(snap: Snapshot) -> Iterator[Record]:
    """Instana `ApiTeam` (GET /api/settings/rbac/teams): members with their roles in the team, and the scope."""
    member_roles: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in _rows(snap, "SELECT m.team_id, m.user_id, m.role_id, m.via_idp, r.name FROM team_member_role m"
                         " JOIN role r ON r.id = m.role_id ORDER BY 1, 2, 3"):
        member_roles[(r["team_id"], r["user_id"])].append(
            {"roleId": r["role_id"], "roleName": r["name"], "viaIdP": r["via_idp"]})
    members: dict[str, list[Record]] = defaultdict(list)
    for r in _rows(snap, "SELECT m.team_id, u.id, u.full_name, u.email FROM team_member m"
                         " JOIN user_account u ON u.id = m.user_id ORDER BY 1, 2"):
        members[r["team_id"]].append({"userId": r["id"], "name": r["full_name"], "email": r["email"],
                                      "roles": member_roles[(r["team_id"], r["id"])]})
    apps: dict[str, list[str]] = defaultdict(list)
    for r in _rows(snap, "SELECT team_id, application_id FROM team_application ORDER BY 1, 2"):
        apps[r["team_id"]].append(r["application_id"])
    for r in _rows(snap, "SELECT * FROM team ORDER BY id"):
        yield {"id": r["id"], "tag": r["tag"], "info": {"description": r["description"]}, "members": members[r["id"]],
               "scope": {"accessPermissions": list(r["access_permissions"]), "applications": apps[r["id"]]}}


def api_tokens(snap: Snapshot) -> Iterator[Record]:
    """Instana `ApiToken` (GET /api/settings/api-tokens), every permission flag spelled out."""
    for r in _rows(snap, "SELECT * FROM api_token ORDER BY internal_id"):
        granted = set(r["permissions"])
        item: Record = {"internalId": r["internal_id"], "id": r["id"], "name": r["name"],
                        "accessGrantingToken": r["access_granting_token"], "createdBy": r["created_by"],
                        "createdOn": r["created_on_ms"]}
        for key, column in (("expiresOn", "expires_on_ms"), ("lastUsedOn", "last_used_on_ms")):
            if r[column] is not None:
                item[key] = r[column]
        for permission, flag in {**PERMISSION_FLAGS, **SCOPE_FLAGS}.items():
            item[flag] = permission in granted
        yield item


def _log_entries(snap: Snapshot, table: str, targets: bool) -> Iterator[Record]:
    target_sql = "".join(f", {sql} AS {column}_label" for column, (_, sql) in AUDIT_TARGETS.items()) if targets else ""
    rows = snap.stream(f"SELECT e.*, u.full_name, u.email, t.name token_name{target_sql} FROM {table} e"
                       " LEFT JOIN user_account u ON u.id = e.actor_user_id"
                       " LEFT JOIN api_token t ON t.internal_id = e.actor_token_id"
                       f" WHERE {snap._window('e.timestamp_ms')} ORDER BY e.timestamp_ms, e.id", mappings=True)
    for r in rows:
        if r["actor_type"] == "USER":
            actor = {"id": r["actor_user_id"], "name": r["full_name"], "type": "USER", "email": r["email"]}
        else:
            actor = {"id": r["actor_token_id"], "name": r["token_name"], "type": "API_TOKEN"}
        meta = dict(r["meta"])
        if targets:
            column = next(c for c in AUDIT_TARGETS if r[c] is not None)
            meta["target"] = {"type": AUDIT_TARGETS[column][0], "id": r[column], "label": r[f"{column}_label"]}
        yield {"id": r["id"], "timestamp": r["timestamp_ms"], "action": r["action"], "message": r["message"],
               "actor": actor, "meta": meta}


def audit_logs(snap: Snapshot) -> Iterator[Record]:
    """Instana `AuditLogEntry` (GET /api/settings/auditlog); `meta.target` names the changed object."""
    return _log_entries(snap, "audit_log_entry", targets=True)


def access_logs(snap: Snapshot) -> Iterator[Record]:
    """Instana `AuditLogEntry` of the access log (GET /api/settings/accesslog): logins and API token calls."""
    return _log_entries(snap, "access_log_entry", targets=False)


def host_agent_status(snap: Snapshot) -> Iterator[Record]:
    """Instana `SnapshotItem` of a host agent (GET /api/host-agent); agent facts in `data` (dict of dicts)."""
    for r in _rows(snap, "SELECT a.*, h.label host_label, h.host, h.tags, h.data host_data FROM host_agent a"
                         " JOIN snapshot h ON h.snapshot_id = a.snapshot_id ORDER BY a.agent_snapshot_id"):
        network = r["host_data"].get("network", {})
        item: Record = {
            "snapshotId": r["agent_snapshot_id"], "plugin": AGENT_PLUGIN, "label": f"Instana Agent ({r['host_label']})",
            "host": r["host"], "from": r["from_ms"], "tags": r["tags"],
            "data": {
                "agent": {"id": r["agent_id"], "version": r["version"], "mode": r["mode"], "status": r["status"],
                          "autoUpdate": r["auto_update"], "lastSeen": r["last_seen_ms"],
                          "uptimeSeconds": (r["last_seen_ms"] - r["from_ms"]) // 1000,
                          "cpuUsagePercent": r["cpu_usage_percent"], "memoryUsageMb": r["memory_usage_mb"]},
                "host": {"snapshotId": r["snapshot_id"], "hostname": r["host_label"]},
                "plugins": {"enabled": list(r["plugins"])},
                "config": {"zone": network.get("availabilityZone", ""), "mode": r["mode"]},
            },
        }
        if r["to_ms"] is not None:
            item["to"] = r["to_ms"]
        yield item


def event_specifications(snap: Snapshot) -> Iterator[Record]:
    """Built-in (`BuiltInEventSpecificationWithLastUpdated`) and custom
    (`CustomEventSpecificationWithLastUpdated`) event specifications, told apart by `type`."""
    for r in _rows(snap, "SELECT * FROM event_specification ORDER BY id"):
        common = {"type": r["kind"], "id": r["id"], "name": r["name"], "description": r["description"],
                  "enabled": r["enabled"], "triggering": r["triggering"], "lastUpdated": r["last_updated_ms"]}
        if r["kind"] == "BUILT_IN":
            yield {**common, "shortPluginId": r["short_plugin_id"], "severity": r["severity"], "hidden": False,
                   "hyperParams": r["hyper_params"], "ruleInputs": r["rule_inputs"]}
        else:
            yield {**common, "entityType": r["entity_type"], "rules": r["rules"],
                   "ruleLogicalOperator": r["rule_logical_operator"], "deleted": False, "migrated": False}


def event_specification_ids(conn: Connection) -> dict[str, str]:
    """event id -> the id of the specification that raised it (`EventResult.eventSpecificationId`), for readers
    of events; empty before 1.4.0."""
    if not sa.inspect(conn).has_table("event_specification_event"):
        return {}
    return dict(conn.execute(sa.text(
        "SELECT event_id, event_specification_id FROM event_specification_event ORDER BY 1")).all())


def app_settings(snap: Snapshot) -> Iterator[Record]:
    """Instana `ApplicationConfig` (GET /api/application-monitoring/settings/application)."""
    rules: dict[str, list[Record]] = defaultdict(list)
    for r in _rows(snap, "SELECT * FROM application_access_rule ORDER BY application_id, ord"):
        rule: Record = {"accessType": r["access_type"], "relationType": r["relation_type"]}
        related = r["user_id"] or r["api_token_id"] or r["role_id"] or r["team_id"]
        if related is not None:
            rule["relatedId"] = related
        rules[r["application_id"]].append(rule)
    for r in _rows(snap, "SELECT c.*, a.label, a.boundary_scope, a.business_criticality FROM application_config c"
                         " JOIN application a ON a.id = c.application_id ORDER BY c.application_id"):
        yield {"id": r["application_id"], "label": r["label"], "boundaryScope": r["boundary_scope"],
               "businessCriticality": r["business_criticality"], "scope": r["scope"],
               "tagFilterExpression": r["tag_filter_expression"], "accessRules": rules[r["application_id"]],
               "createdAt": r["created_ms"], "createdBy": r["created_by"], "modifiedAt": r["modified_ms"],
               "modifiedBy": r["modified_by"]}


def service_configs(snap: Snapshot) -> Iterator[Record]:
    """Instana `ServiceConfig` (GET /api/application-monitoring/settings/service), plus the `serviceId` it maps
    calls to; `label` joins the tag keys with dashes, as Instana does."""
    for r in _rows(snap, "SELECT * FROM service_config ORDER BY id"):
        spec: list[dict[str, Any]] = r["match_specification"]
        yield {"id": r["id"], "name": r["name"], "label": "-".join(m["key"] for m in spec), "enabled": r["enabled"],
               "comment": r["comment"], "matchSpecification": spec, "serviceId": r["service_id"]}


def endpoint_configs(snap: Snapshot) -> Iterator[Record]:
    """Instana `EndpointConfig` (GET /api/application-monitoring/settings/endpoint)."""
    for r in _rows(snap, "SELECT * FROM endpoint_config ORDER BY service_id"):
        item: Record = {"serviceId": r["service_id"], "endpointCase": r["endpoint_case"],
                        "endpointNameByCollectedPathTemplateRuleEnabled": r["by_path_template"],
                        "endpointNameByFirstPathSegmentRuleEnabled": r["by_first_path_segment"]}
        if r["rules"]:
            item["rules"] = r["rules"]
        yield item


def custom_dashboards(snap: Snapshot) -> Iterator[Record]:
    """Instana `CustomDashboardPreview` (GET /api/custom-dashboard), plus the `applicationId` it is about."""
    for r in _rows(snap, "SELECT * FROM custom_dashboard ORDER BY id"):
        item: Record = {"id": r["id"], "title": r["title"], "ownerId": r["owner_id"],
                        "annotations": [a for a, on in (("SHARED", r["shared"]), ("WRITABLE", r["writable"])) if on]}
        if r["application_id"] is not None:
            item["applicationId"] = r["application_id"]
        yield item


# in validation order: what a dataset refers to comes before it
DATASETS: list[Dataset] = [
    Dataset("user_roles", "user_roles.jsonl", "id", ("user_account",), since="1.4.0", reader=user_roles),
    Dataset("roles", "roles.jsonl", "id", ("role", "role_member"), since="1.4.0", reader=roles),
    Dataset("groups", "groups.jsonl", "id", ("user_group", "user_group_member", "user_group_application"),
            since="1.4.0", reader=groups),
    Dataset("teams", "teams.jsonl", "id", ("team", "team_member", "team_member_role", "team_application"),
            since="1.4.0", reader=teams),
    Dataset("api_tokens", "api_tokens.jsonl", "internalId", ("api_token",), since="1.4.0", reader=api_tokens),
    Dataset("host_agent_status", "host_agent_status.jsonl", "snapshotId", ("host_agent",), since="1.4.0",
            reader=host_agent_status),
    Dataset("event_specifications", "event_specifications.jsonl", "id",
            ("event_specification", "event_specification_event"), since="1.4.0", reader=event_specifications),
    Dataset("app_settings", "app_settings.jsonl", "id", ("application_config", "application_access_rule"),
            since="1.4.0", reader=app_settings),
    Dataset("service_configs", "service_configs.jsonl", "id", ("service_config",), since="1.4.0",
            reader=service_configs),
    Dataset("endpoint_configs", "endpoint_configs.jsonl", "serviceId", ("endpoint_config",), since="1.4.0",
            reader=endpoint_configs),
    Dataset("custom_dashboards", "custom_dashboards.jsonl", "id", ("custom_dashboard",), since="1.4.0",
            reader=custom_dashboards),
    Dataset("audit_logs", "audit_logs.jsonl", "id", ("audit_log_entry",), since="1.4.0", time_key="timestamp",
            reader=audit_logs, per_row="audit_log_entry"),
    Dataset("access_logs", "access_logs.jsonl", "id", ("access_log_entry",), since="1.4.0", time_key="timestamp",
            reader=access_logs, per_row="access_log_entry"),
]
