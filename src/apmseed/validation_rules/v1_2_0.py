"""Cross-file and temporal rules for dataset 1.2.0 (websites, mobile apps, logs, synthetics):

* every id a record names exists in its dataset, and labels repeated from it agree (websiteLabel, serviceName,
  hostName, ...);
* beacons name a page load seen before them (the file is in time order); HTTP beacons and API tests reach a real
  endpoint whose label matches the method and the URL path;
* metric points are in time order, inside the exported window, on catalog metrics and aggregations;
* WARN/ERROR log lines lie inside the issue they name, of their own service; failed synthetic runs lie inside the
  issue that explains them, of the tested service; runs come from the test's own locations;
* Smart Alert thresholds point the way their operator says.

A referenced dataset that was not exported (empty in the index) is not checked, nor an issue absent from an export
cut with --from/--to (`Index.export_window`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from apmseed.validation_rules import Index

KEEP: dict[str, tuple[str, ...]] = {
    "services": ("label", "applicationIds"),
    "endpoints": ("label", "serviceId"),
    "infrastructure_entities": ("plugin", "label"),
    "issues": ("serviceId", "endpointServiceId", "start", "end", "problem"),
    "website_catalog": ("aggregations",),
    "mobile_catalog": ("aggregations",),
    "website_config": ("name",),
    "mobile_config": ("name",),
    "synthetic_locations": ("playbackCapabilities",),
    "synthetic_checks": ("locations", "active", "label", "serviceId", "applicationId"),
}
ISSUE_KINDS = {"Sudden increase in average latency": "latency",
               "Sudden increase in the number of erroneous calls": "errors"}
_PARAM = re.compile(r"\{[^}/]+\}")


def check(dataset: str, number: int, record: dict[str, Any], index: Index) -> list[str]:
    rule = RULES.get(dataset)
    if rule is None:
        return []
    try:
        return rule(record, index)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return []  # a malformed record: its schema problem is reported instead


def _read(index: Index, dataset: str) -> bool:
    return bool(index.ids(dataset))


def _ref(index: Index, dataset: str, ident: Any, what: str) -> list[str]:
    return index.missing(dataset, ident, what) if _read(index, dataset) and ident is not None else []


def _same(index: Index, dataset: str, ident: Any, key: str, value: Any, what: str) -> list[str]:
    kept = index.get(dataset, ident)
    if kept is None or kept.get(key) is None or kept[key] == value:
        return []
    return [f"{what} {value!r} is not the {key} {kept[key]!r} of {ident!r} in {dataset}"]


def _endpoint_call(index: Index, endpoint_id: Any, method: Any, url: Any, what: str) -> list[str]:
    """An HTTP call (method + URL) really is a call of the endpoint: `POST /api/cart/{id}` matches
    `POST https://host/api/cart/42`."""
    problems = _ref(index, "endpoints", endpoint_id, "endpointId")
    endpoint = index.get("endpoints", endpoint_id)
    if endpoint is None or not isinstance(url, str):
        return problems
    verb, _, template = str(endpoint["label"]).partition(" ")
    path = urlsplit(url).path
    regex = "^" + "[^/]+".join(re.escape(p) for p in _PARAM.split(template)) + "$"
    if verb != method or not re.match(regex, path):
        problems.append(f"{what} {method} {path} does not call endpoint {endpoint['label']!r}")
    return problems


def _catalog_metric(index: Index, catalog: str, metric: str, aggregation: str, what: str) -> list[str]:
    if not _read(index, catalog):
        return []
    if not index.has(catalog, metric):
        return [f"{what} metric {metric!r} is not in {catalog}"]
    kept = index.get(catalog, metric) or {}
    if aggregation.upper() not in (kept.get("aggregations") or [aggregation.upper()]):
        return [f"{what} aggregation {aggregation} is not offered for {metric!r} by {catalog}"]
    return []


def _issue_ref(index: Index, event_id: Any) -> list[str]:
    """Issues are exported by start: in an export cut with --from/--to (`export_window`, where the validator
    provides it) an issue that started before the cut is legitimately absent."""
    if getattr(index, "export_window", None) and not index.has("issues", event_id):
        return []
    return _ref(index, "issues", event_id, "eventId")


def _inside(index: Index, event_id: Any, service_id: Any, ts: Any, what: str) -> list[str]:
    """The issue exists, concerns the service, and was open at `ts`."""
    problems = _issue_ref(index, event_id)
    issue = index.get("issues", event_id)
    if issue is None:
        return problems
    owner = issue.get("serviceId") or issue.get("endpointServiceId")
    if owner != service_id:
        problems.append(f"{what} names issue {event_id!r} of service {owner!r}, not of {service_id!r}")
    end = issue.get("end")
    if not (issue["start"] <= ts and (end is None or ts <= end)):
        problems.append(f"{what} at {ts} lies outside issue {event_id!r} [{issue['start']}, {end or 'open'}]")
    return problems


# -- per dataset ---------------------------------------------------------------------------------------------------

def _config(r: dict[str, Any], index: Index) -> list[str]:
    return _ref(index, "applications", r.get("applicationId"), "applicationId")


def _alerts(catalog: str, entities: str, link: str) -> Any:
    def rule(r: dict[str, Any], index: Index) -> list[str]:
        problems = _ref(index, entities, r[link], link)
        for channel in r.get("alertChannelIds") or []:
            problems += _ref(index, "alerting_channels", channel, "alertChannelId")
        (entry,) = r["rules"]
        problems += _catalog_metric(index, catalog, entry["rule"]["metricName"], entry["rule"]["aggregation"],
                                    "rule")
        warning = entry["thresholds"].get("warning", {}).get("value")
        critical = entry["thresholds"]["critical"]["value"]
        if warning is not None:
            rising = entry["thresholdOperator"] in (">", ">=")
            if (warning >= critical) if rising else (warning <= critical):
                problems.append(f"warning threshold {warning} is not {'below' if rising else 'above'} critical "
                                f"{critical} for operator {entry['thresholdOperator']!r}")
        if r["initialCreated"] > r["created"]:
            problems.append("initialCreated is after created")
        return problems
    return rule


def _website_beacon(r: dict[str, Any], index: Index) -> list[str]:
    problems = _ref(index, "website_config", r["websiteId"], "websiteId")
    problems += _same(index, "website_config", r["websiteId"], "name", r["websiteLabel"], "websiteLabel")
    if r["type"] == "pageLoad":
        if r["pageLoadId"] != r["beaconId"]:
            problems.append("a pageLoad beacon is not its own page load")
    elif not index.has("website_analyze", r["pageLoadId"]):
        problems.append(f"pageLoadId {r['pageLoadId']!r} is not a page load before this beacon")
    if r["type"] == "httpRequest":
        problems += _endpoint_call(index, r.get("endpointId"), r.get("httpCallMethod"), r.get("httpCallUrl"),
                                   "HTTP call")
    return problems


def _mobile_beacon(r: dict[str, Any], index: Index) -> list[str]:
    problems = _ref(index, "mobile_config", r["mobileAppId"], "mobileAppId")
    problems += _same(index, "mobile_config", r["mobileAppId"], "name", r["mobileAppLabel"], "mobileAppLabel")
    if r["type"] == "httpRequest":
        problems += _endpoint_call(index, r.get("endpointId"), r.get("httpCallMethod"), r.get("httpCallUrl"),
                                   "HTTP call")
    return problems


def _metrics(catalog: str, entities: str, link: str) -> Any:
    def rule(r: dict[str, Any], index: Index) -> list[str]:
        problems = _ref(index, entities, r[link], link)
        tf = r["adjustedTimeframe"]
        lo, hi = tf["to"] - tf["windowSize"], tf["to"]
        for key, points in r["metrics"].items():
            metric, aggregation, _ = key.split(".")
            problems += _catalog_metric(index, catalog, metric, aggregation, f"series {key!r}:")
            stamps = [p[0] for p in points]
            if stamps != sorted(set(stamps)):
                problems.append(f"series {key!r}: points are not in strictly increasing time order")
            if any(not lo <= ts < hi for ts in stamps):
                problems.append(f"series {key!r}: points outside the adjustedTimeframe [{lo}, {hi})")
            if aggregation == "sum" and any(not isinstance(p[1], int) for p in points):
                problems.append(f"series {key!r}: a count that is not an integer")
        return problems
    return rule


def _log(r: dict[str, Any], index: Index) -> list[str]:
    service = r["log.serviceId"]
    problems = _ref(index, "services", service, "log.serviceId")
    problems += _same(index, "services", service, "label", r["log.serviceName"], "log.serviceName")
    problems += _ref(index, "infrastructure_entities", r["log.hostId"], "log.hostId")
    problems += _same(index, "infrastructure_entities", r["log.hostId"], "label", r["log.hostName"], "log.hostName")
    host = index.get("infrastructure_entities", r["log.hostId"])
    if host is not None and host.get("plugin") != "host":
        problems.append(f"log.hostId {r['log.hostId']!r} is a {host.get('plugin')} snapshot, not a host")
    for app in r["log.applications"]:
        problems += _ref(index, "applications", app, "log.applications entry")
    if "eventId" in r:
        problems += _inside(index, r["eventId"], service, r["log.timestamp"], f"{r['log.level']} line")
        issue = index.get("issues", r["eventId"])
        wanted = {"ERROR": "errors", "WARN": "latency"}.get(r["log.level"])
        if issue is not None and wanted and ISSUE_KINDS.get(issue.get("problem")) != wanted:
            problems.append(f"{r['log.level']} line names issue {r['eventId']!r}, which is not a {wanted} issue")
    if "endpointId" in r:
        problems += _ref(index, "endpoints", r["endpointId"], "endpointId")
        problems += _same(index, "endpoints", r["endpointId"], "serviceId", service, "log.serviceId")
    return problems


def _check(r: dict[str, Any], index: Index) -> list[str]:
    config = r["configuration"]
    kind = config["syntheticType"]
    problems = _ref(index, "applications", r["applicationId"], "applicationId")
    for location in r["locations"]:
        problems += _ref(index, "synthetic_locations", location, "location")
        able = (index.get("synthetic_locations", location) or {}).get("playbackCapabilities")
        browser = config.get("browser")
        if able and (kind not in able["syntheticType"] or (browser and browser not in able["browserType"])):
            problems.append(f"location {location!r} cannot run a {kind} test" + (f" in {browser}" if browser else ""))
    for website in r.get("websites") or []:
        problems += _ref(index, "website_config", website, "website")
    if "endpointId" in r:
        problems += _same(index, "endpoints", r["endpointId"], "serviceId", r["serviceId"], "serviceId")
        if kind == "HTTPAction":
            problems += _endpoint_call(index, r["endpointId"], config.get("operation"), config.get("url"),
                                       "configuration")
        else:
            problems += _ref(index, "endpoints", r["endpointId"], "endpointId")
    if r["modifiedAt"] < r["createdAt"]:
        problems.append("modifiedAt is before createdAt")
    return problems


def _run(r: dict[str, Any], index: Index) -> list[str]:
    common = r["testResultCommonProperties"]
    problems = _ref(index, "synthetic_checks", r["testId"], "testId")
    if common["testId"] != r["testId"] or common["id"] != r["testResultId"]:
        problems.append("testResultCommonProperties do not repeat testId / testResultId")
    test = index.get("synthetic_checks", r["testId"])
    if test is not None:
        if not test.get("active"):
            problems.append(f"test {r['testId']!r} is not active but has a run")
        if common["locationId"] not in (test.get("locations") or []):
            problems.append(f"locationId {common['locationId']!r} is not one of the test's locations")
        problems += _same(index, "synthetic_checks", r["testId"], "label", common.get("testName"), "testName")
    for key, points in r["metrics"].items():
        if any(p[0] != r["startTime"] for p in points):
            problems.append(f"metric {key!r} is not at startTime {r['startTime']}")
    if "eventId" in r:
        issue = index.get("issues", r["eventId"])
        problems += _issue_ref(index, r["eventId"])
        if issue is not None:
            end = issue.get("end")
            if not (issue["start"] <= r["startTime"] and (end is None or r["startTime"] <= end)):
                problems.append(f"failed run at {r['startTime']} lies outside issue {r['eventId']!r}")
            owner = issue.get("serviceId") or issue.get("endpointServiceId")
            if test is not None and test.get("serviceId") and owner != test["serviceId"]:
                problems.append(f"issue {r['eventId']!r} is of service {owner!r}, not of the tested service")
            apps = (index.get("services", owner) or {}).get("applicationIds")
            if test is not None and not test.get("serviceId") and apps is not None \
                    and test.get("applicationId") not in apps:
                problems.append(f"issue {r['eventId']!r} is of a service outside the tested website's application")
    return problems


RULES = {
    "website_config": _config,
    "mobile_config": _config,
    "website_alert_configs": _alerts("website_catalog", "website_config", "websiteId"),
    "mobile_alert_configs": _alerts("mobile_catalog", "mobile_config", "mobileAppId"),
    "website_analyze": _website_beacon,
    "mobile_analyze": _mobile_beacon,
    "website_metrics": _metrics("website_catalog", "website_config", "websiteId"),
    "mobile_metrics": _metrics("mobile_catalog", "mobile_config", "mobileAppId"),
    "logs": _log,
    "synthetic_checks": _check,
    "synthetic_runs": _run,
}
