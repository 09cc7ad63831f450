"""Cross-file and temporal rules for dataset 1.1.0 alerting: Smart Alert configs name real channels,
applications, services, endpoints and snapshots; scope nodes lie inside their parents (a service inside its
application, an endpoint inside its service); the legacy `rule`/`threshold` repeat the `rules` entry; configs
were created before the data window. A referenced dataset that was not exported (empty in the index) is not
checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apmseed.validation_rules import Index

KEEP: dict[str, tuple[str, ...]] = {
    "services": ("applicationIds",),
    "endpoints": ("serviceId",),
    "infrastructure_entities": ("plugin", "label", "host"),
    "alerting_channels": ("kind",),
}
SEVERITY_KEYS = {5: "warning", 10: "critical"}
# tag that names an entity in an infrastructure tag filter, and the snapshot field it carries
ENTITY_TAGS = {"host": ("host.name", "host"), "docker": ("docker.container.name", "label"),
               "process": ("host.name", "host")}


def check(dataset: str, number: int, record: dict[str, Any], index: Index) -> list[str]:
    if dataset == "alert_configs":
        problems = _common(record, index) + _scope(record, index)
        app = record.get("applicationId")
        if _read(index, "applications"):
            problems += index.missing("applications", app, "applicationId")
        if isinstance(record.get("applications"), dict) and set(record["applications"]) != {app}:
            problems.append(f"applications {sorted(record['applications'])} is not just its own application {app!r}")
        return problems
    if dataset == "global_alert_configs":
        problems = _common(record, index) + _scope(record, index)
        if isinstance(record.get("applications"), dict) and record.get("applicationIds") != sorted(
                record["applications"]):
            problems.append("applicationIds are not the applications of the scope")
        return problems
    if dataset == "infra_alert_configs":
        return _common(record, index) + _entity(record, index)
    return []


def _read(index: Index, dataset: str) -> bool:
    """Whether `dataset` was exported (references into it can be checked)."""
    return bool(index.ids(dataset))


def _common(r: dict[str, Any], index: Index) -> list[str]:
    problems: list[str] = []
    channels = r.get("alertChannelIds") or []
    if _read(index, "alerting_channels"):
        for channel in channels:
            problems += index.missing("alerting_channels", channel, "alertChannelId")
    for key, ids in (r.get("alertChannels") or {}).items():
        if not set(ids) <= set(channels):
            problems.append(f"alertChannels[{key!r}] names channels missing from alertChannelIds")
    rules = r.get("rules") or [{}]
    key = SEVERITY_KEYS.get(r.get("severity"))  # type: ignore[arg-type]
    entry = rules[0]
    if r.get("rule") != entry.get("rule"):
        problems.append("rule differs from rules[0].rule")
    wanted = (entry.get("thresholds") or {}).get(key)
    if wanted is None:
        problems.append(f"rules[0].thresholds has no {key!r} threshold for severity {r.get('severity')}")
    elif r.get("threshold") != {**wanted, "operator": entry.get("thresholdOperator")}:
        problems.append(f"threshold is not rules[0].thresholds[{key!r}] with its operator")
    created, initial = r.get("created"), r.get("initialCreated")
    if isinstance(created, int) and isinstance(initial, int):
        if created < initial:
            problems.append(f"created {created} is before initialCreated {initial}")
        window = getattr(index, "window", None)  # the export's [from, to), where the validator provides it
        if window and created >= window[0]:
            problems.append(f"created {created} is not before the data window ({window[0]})")
    return problems


def _scope(r: dict[str, Any], index: Index) -> list[str]:
    """Every node names what its key says, exists, and lies inside its parent; the depth fits evaluationType."""
    problems: list[str] = []
    apps = r.get("applications")
    if not isinstance(apps, dict):
        return problems
    services_seen = endpoints_seen = 0
    for app_id, app in apps.items():
        if app.get("applicationId") != app_id:
            problems.append(f"application node {app_id!r} has applicationId {app.get('applicationId')!r}")
        if _read(index, "applications"):
            problems += index.missing("applications", app_id, "scope application")
        for service_id, service in (app.get("services") or {}).items():
            services_seen += 1
            if service.get("serviceId") != service_id:
                problems.append(f"service node {service_id!r} has serviceId {service.get('serviceId')!r}")
            kept = index.get("services", service_id)
            if _read(index, "services") and not index.has("services", service_id):
                problems.append(f"scope service {service_id!r} does not exist in services")
            elif kept is not None and app_id not in (kept.get("applicationIds") or []):
                problems.append(f"scope service {service_id!r} is not in application {app_id!r}")
            for endpoint_id, endpoint in (service.get("endpoints") or {}).items():
                endpoints_seen += 1
                if endpoint.get("endpointId") != endpoint_id:
                    problems.append(f"endpoint node {endpoint_id!r} has endpointId {endpoint.get('endpointId')!r}")
                kept = index.get("endpoints", endpoint_id)
                if _read(index, "endpoints") and not index.has("endpoints", endpoint_id):
                    problems.append(f"scope endpoint {endpoint_id!r} does not exist in endpoints")
                elif kept is not None and kept.get("serviceId") != service_id:
                    problems.append(f"scope endpoint {endpoint_id!r} is not an endpoint of service {service_id!r}")
    kind = r.get("evaluationType")
    if kind == "PER_AP" and services_seen:
        problems.append("evaluationType PER_AP with services in the scope")
    if kind == "PER_AP_SERVICE" and endpoints_seen:
        problems.append("evaluationType PER_AP_SERVICE with endpoints in the scope")
    if kind == "PER_AP_ENDPOINT" and not endpoints_seen:
        problems.append("evaluationType PER_AP_ENDPOINT without endpoints in the scope")
    return problems


def _entity(r: dict[str, Any], index: Index) -> list[str]:
    """An infrastructure alert on one snapshot: it exists, the rule's entityType is its plugin, and the tag
    filter selects it."""
    snapshot_id = r.get("snapshotId")
    if snapshot_id is None or not _read(index, "infrastructure_entities"):
        return []
    if not index.has("infrastructure_entities", snapshot_id):
        return [f"snapshotId {snapshot_id!r} does not exist in infrastructure_entities"]
    snap = index.get("infrastructure_entities", snapshot_id)
    if snap is None:
        return []
    problems = []
    plugin = snap.get("plugin")
    if (r.get("rule") or {}).get("entityType") != plugin:
        problems.append(f"rule.entityType {(r.get('rule') or {}).get('entityType')!r} is not the snapshot's "
                        f"plugin {plugin!r}")
    tag = ENTITY_TAGS.get(plugin)  # type: ignore[arg-type]
    expression = r.get("tagFilterExpression") or {}
    filters = [expression] if expression.get("type") == "TAG_FILTER" else expression.get("elements") or []
    if tag is not None and not any(f and f.get("name") == tag[0] and f.get("value") == snap.get(tag[1])
                                   for f in filters):
        problems.append(f"tagFilterExpression does not select {plugin} {snap.get(tag[1])!r} by {tag[0]}")
    return problems
