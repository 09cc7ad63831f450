"""Cross-file and temporal rules for dataset 1.4.0: access (users, roles, groups, teams, API tokens, audit and access
logs) and settings (host agents, event specifications, application/service/endpoint configs, custom dashboards).

* roles, groups, teams: every member is a user, under the user's name and email; a role's members are exactly the
  users whose `roleIds` name it; a team member's roles exist under their names and the team is among the member's
  `teamNames`; scoped application perspectives exist.
* api_tokens: made by a user, granting nothing the creator's roles do not; expires after creation; last used
  while valid.
* host_agent_status: the agent runs on a host snapshot, under that host's name, started after the host.
* event_specifications: when issues carry `eventSpecificationId`, a built-in specification's name is the problem
  of every issue it raised.
* app_settings: the application exists under the same label, boundary scope and criticality; the tag filter names
  exactly the application's services; every access rule's `relatedId` exists in the file its `relationType`
  names; created by and last modified by users, created before modified.
* service_configs / endpoint_configs / custom_dashboards: the service (HTTP for endpoint rules), owner and
  application exist; a service rule's label joins its tag keys; every endpoint rule matches its own test cases.
* audit_logs / access_logs: the actor exists under its name (and email); a token acts only while valid and not
  after its `lastUsedOn`; a login is not after the user's `lastLoggedIn`; the audit target exists; a creation
  entry is the object's creation (time and creator); an update is not after the object's last modification.

A referenced dataset that was not exported is not checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apmseed.schema.access import PERMISSION_FLAGS

if TYPE_CHECKING:
    from collections.abc import Callable

    from apmseed.validation_rules import Index

KEEP: dict[str, tuple[str, ...]] = {
    "infrastructure_entities": ("plugin", "host", "from"),
    "applications": ("label", "boundaryScope", "businessCriticality"),
    "services": ("label", "types", "applicationIds"),
    "issues": ("problem", "eventSpecificationId"),
    "user_roles": ("email", "fullName", "roleIds", "teamNames", "lastLoggedIn"),
    "roles": ("name", "permissions"),
    "api_tokens": ("name", "createdBy", "createdOn", "expiresOn", "lastUsedOn"),
    "event_specifications": ("type", "lastUpdated"),
    "app_settings": ("modifiedAt",),
    "custom_dashboards": ("ownerId",),
}
RELATED = {"USER": ("user_roles", "user"), "API_TOKEN": ("api_tokens", "API token"), "ROLE": ("roles", "role"),
           "TEAM": ("teams", "team")}
TARGETS = {"APPLICATION_PERSPECTIVE": "app_settings", "API_TOKEN": "api_tokens",
           "CUSTOM_DASHBOARD": "custom_dashboards", "EVENT_SPECIFICATION": "event_specifications",
           "SERVICE_CONFIG": "service_configs", "ENDPOINT_CONFIG": "endpoint_configs"}
FLAG_PERMISSIONS = {flag: permission for permission, flag in PERMISSION_FLAGS.items()}


def check(dataset: str, number: int, record: dict[str, Any], index: Index) -> list[str]:
    handler = HANDLERS.get(dataset)
    if handler is None:
        return []
    try:
        return handler(record, index)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return []  # a malformed record: its schema check reports it


def _exists(index: Index, dataset: str, ident: Any, what: str) -> list[str]:
    return index.missing(dataset, ident, what) if index.ids(dataset) else []


def _members(record: dict[str, Any], index: Index, what: str) -> list[str]:
    problems = []
    for m in record["members"]:
        problems += _exists(index, "user_roles", m["userId"], f"{what} member")
        user = index.get("user_roles", m["userId"])
        if user is not None and (m["name"], m["email"]) != (user["fullName"], user["email"]):
            problems.append(f"member {m['userId']!r} is not named as the user ({user['fullName']!r}, "
                            f"{user['email']!r})")
    return problems


def _applications(ids: list[str], index: Index, what: str) -> list[str]:
    return [p for app in ids for p in _exists(index, "applications", app, what)]


def _roles(r: dict[str, Any], index: Index) -> list[str]:
    problems = _members(r, index, "role")
    members = {m["userId"] for m in r["members"]}
    claimants = {u for u in index.ids("user_roles") if r["id"] in (index.get("user_roles", u) or {}).get("roleIds", ())}
    if index.ids("user_roles") and members != claimants:
        problems.append(f"members {sorted(members)} are not the users whose roleIds name the role "
                        f"{sorted(claimants)}")
    return problems


def _groups(r: dict[str, Any], index: Index) -> list[str]:
    scopes = [s["scopeId"] for s in r["permissionSet"]["applicationIds"]]
    return _members(r, index, "group") + _applications(scopes, index, "permissionSet.applicationIds scopeId")


def _teams(r: dict[str, Any], index: Index) -> list[str]:
    problems = _members(r, index, "team") + _applications(r["scope"]["applications"], index, "scope application")
    for m in r["members"]:
        user = index.get("user_roles", m["userId"])
        if user is not None and r["tag"] not in user["teamNames"]:
            problems.append(f"team {r['tag']!r} is not among the teamNames of member {m['userId']!r}")
        for role in m["roles"]:
            problems += _exists(index, "roles", role["roleId"], "member role")
            kept = index.get("roles", role["roleId"])
            if kept is not None and kept["name"] != role["roleName"]:
                problems.append(f"roleName {role['roleName']!r} is not the role's name {kept['name']!r}")
    return problems


def _user_permissions(user_id: str, index: Index) -> set[str] | None:
    user = index.get("user_roles", user_id)
    if user is None or not index.ids("roles"):
        return None
    return {p for role in user["roleIds"] for p in (index.get("roles", role) or {}).get("permissions", ())}


def _api_tokens(r: dict[str, Any], index: Index) -> list[str]:
    problems = _exists(index, "user_roles", r["createdBy"], "createdBy user")
    created, expires, used = r["createdOn"], r.get("expiresOn"), r.get("lastUsedOn")
    if expires is not None and expires <= created:
        problems.append(f"expiresOn {expires} is not after createdOn {created}")
    if used is not None and (used < created or (expires is not None and used > expires)):
        problems.append(f"lastUsedOn {used} is outside the token's validity [{created}, {expires}]")
    allowed = _user_permissions(r["createdBy"], index)
    if allowed is not None:
        extra = sorted(f for f, p in FLAG_PERMISSIONS.items() if r.get(f) is True and p not in allowed)
        if extra:
            problems.append(f"grants {extra}, which its creator's roles do not")
    return problems


def _host_agent(r: dict[str, Any], index: Index) -> list[str]:
    host_id = r["data"]["host"]["snapshotId"]
    problems = _exists(index, "infrastructure_entities", host_id, "data.host.snapshotId")
    host = index.get("infrastructure_entities", host_id)
    if host is not None:
        if host["plugin"] != "host":
            problems.append(f"the agent runs on a {host['plugin']} snapshot, not a host")
        if r["host"] != host["host"]:
            problems.append(f"host {r['host']!r} is not its host's {host['host']!r}")
        if r["from"] < host["from"]:
            problems.append(f"from {r['from']} is before its host came up ({host['from']})")
    if r["data"]["agent"]["lastSeen"] < r["from"]:
        problems.append(f"lastSeen {r['data']['agent']['lastSeen']} is before from {r['from']}")
    return problems


def _event_specification(r: dict[str, Any], index: Index) -> list[str]:
    if r["type"] != "BUILT_IN":
        return []
    problems = []
    for event_id in index.ids("issues"):
        issue = index.get("issues", event_id) or {}
        if issue.get("eventSpecificationId") == r["id"] and issue.get("problem") != r["name"]:
            problems.append(f"issue {event_id!r} raised by {r['name']!r} has problem {issue.get('problem')!r}")
    return problems


def _app_settings(r: dict[str, Any], index: Index) -> list[str]:
    problems = _exists(index, "applications", r["id"], "application")
    app = index.get("applications", r["id"])
    if app is not None:
        for key in ("label", "boundaryScope", "businessCriticality"):
            if r[key] != app[key]:
                problems.append(f"{key} {r[key]!r} is not the application's {app[key]!r}")
    if index.ids("services"):
        named = {e["stringValue"] for e in r["tagFilterExpression"]["elements"]}
        contained = {s["label"] for s in (index.get("services", sid) for sid in index.ids("services"))
                     if s is not None and r["id"] in s["applicationIds"]}
        if named != contained:
            problems.append(f"the tag filter names services {sorted(named)}, the application holds "
                            f"{sorted(contained)}")
    for i, rule in enumerate(r["accessRules"]):
        if rule["relationType"] in RELATED:
            dataset, what = RELATED[rule["relationType"]]
            problems += _exists(index, dataset, rule["relatedId"], f"accessRules[{i}] {what}")
    for key in ("createdBy", "modifiedBy"):
        problems += _exists(index, "user_roles", r[key], f"{key} user")
    if r["modifiedAt"] < r["createdAt"]:
        problems.append(f"modifiedAt {r['modifiedAt']} is before createdAt {r['createdAt']}")
    return problems


def _service_config(r: dict[str, Any], index: Index) -> list[str]:
    problems = _exists(index, "services", r["serviceId"], "serviceId")
    label = "-".join(m["key"] for m in r["matchSpecification"])
    if r["label"] != label:
        problems.append(f"label {r['label']!r} does not join the tag keys ({label!r})")
    return problems


def _matches(segments: list[dict[str, Any]], path: str) -> bool:
    parts = [p for p in path.split("/") if p]
    for i, segment in enumerate(segments):
        if segment["type"] == "MATCH_ALL":
            return True
        if i >= len(parts) or (segment["type"] == "FIXED" and parts[i] != segment["name"]):
            return False
    return len(parts) == len(segments)


def _endpoint_config(r: dict[str, Any], index: Index) -> list[str]:
    problems = _exists(index, "services", r["serviceId"], "serviceId")
    service = index.get("services", r["serviceId"])
    if r.get("rules") and service is not None and "HTTP" not in service["types"]:
        problems.append("custom endpoint rules for a service without HTTP endpoints")
    for i, rule in enumerate(r.get("rules", ())):
        for case in rule["testCases"]:
            if not _matches(rule["pathSegments"], case):
                problems.append(f"rules[{i}] does not match its own test case {case!r}")
    return problems


def _dashboard(r: dict[str, Any], index: Index) -> list[str]:
    problems = _exists(index, "user_roles", r["ownerId"], "ownerId user")
    if "applicationId" in r:
        problems += _exists(index, "applications", r["applicationId"], "applicationId")
    return problems


def _actor(r: dict[str, Any], index: Index) -> list[str]:
    actor, ts = r["actor"], r["timestamp"]
    if actor["type"] == "USER":
        problems = _exists(index, "user_roles", actor["id"], "actor user")
        user = index.get("user_roles", actor["id"])
        if user is not None and (actor["name"], actor.get("email")) != (user["fullName"], user["email"]):
            problems.append(f"actor is not named as the user ({user['fullName']!r}, {user['email']!r})")
        if r["action"] == "LOGIN_SUCCEEDED" and user is not None and (
                user.get("lastLoggedIn") is None or ts > user["lastLoggedIn"]):
            problems.append(f"login at {ts} is after the user's lastLoggedIn {user.get('lastLoggedIn')}")
        return problems
    problems = _exists(index, "api_tokens", actor["id"], "actor API token")
    token = index.get("api_tokens", actor["id"])
    if token is not None:
        if actor["name"] != token["name"]:
            problems.append(f"actor name {actor['name']!r} is not the token's {token['name']!r}")
        expires = token.get("expiresOn")
        if ts < token["createdOn"] or (expires is not None and ts > expires):
            problems.append(f"the token acts at {ts}, outside its validity [{token['createdOn']}, {expires}]")
        if token.get("lastUsedOn") is None or ts > token["lastUsedOn"]:
            problems.append(f"the token acts at {ts}, after its lastUsedOn {token.get('lastUsedOn')}")
    return problems


def _audit(r: dict[str, Any], index: Index) -> list[str]:
    problems = _actor(r, index)
    target, ts = r["meta"]["target"], r["timestamp"]
    dataset = TARGETS[target["type"]]
    problems += _exists(index, dataset, target["id"], "meta.target")
    if r["action"] == "API_TOKEN_CREATED":
        token = index.get("api_tokens", target["id"])
        if token is not None and (ts, r["actor"]["id"]) != (token["createdOn"], token["createdBy"]):
            problems.append("the creation is not the token's createdOn and createdBy")
    elif r["action"] == "CUSTOM_DASHBOARD_CREATED":
        board = index.get("custom_dashboards", target["id"])
        if board is not None and r["actor"]["id"] != board["ownerId"]:
            problems.append("the dashboard was not created by its owner")
    elif r["action"] == "APPLICATION_CONFIG_UPDATED":
        app = index.get("app_settings", target["id"])
        if app is not None and ts > app["modifiedAt"]:
            problems.append(f"update at {ts} is after the application's modifiedAt {app['modifiedAt']}")
    elif r["action"] == "EVENT_SPECIFICATION_UPDATED":
        spec = index.get("event_specifications", target["id"])
        if spec is not None and ts > spec["lastUpdated"]:
            problems.append(f"update at {ts} is after the specification's lastUpdated {spec['lastUpdated']}")
    return problems


HANDLERS: dict[str, Callable[[dict[str, Any], Index], list[str]]] = {
    "roles": _roles, "groups": _groups, "teams": _teams, "api_tokens": _api_tokens,
    "host_agent_status": _host_agent, "event_specifications": _event_specification, "app_settings": _app_settings,
    "service_configs": _service_config, "endpoint_configs": _endpoint_config, "custom_dashboards": _dashboard,
    "audit_logs": _audit, "access_logs": _actor,
}
