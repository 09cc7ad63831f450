"""Readers and dataset entries for dataset 1.2.0: websites, mobile apps, logs, synthetic monitoring.

Each record is the Instana model of the matching REST operation (listed per dataset below); keys the model lacks
are only links the REST API expresses through the request (`websiteId` of a metrics result, `applicationId` of
a website) or ids the registry needs (`logId`: Instana log items have none)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from apmseed.exporters.base import Record
from apmseed.exporters.datasets_base import Dataset

if TYPE_CHECKING:
    from apmseed.exporters.snapshot import Snapshot

SINCE = "1.2.0"
SEVERITY_KEYS = (("warning", "warning_value"), ("critical", "critical_value"))  # `RuleWithThreshold.thresholds`


def _rows(snap: Snapshot, sql: str, **params: Any) -> Iterator[sa.RowMapping]:
    yield from snap.stream(sql, mappings=True, **params)


def _timeframe(snap: Snapshot) -> tuple[int, int]:
    """The export's [from, to): the dataset window, narrowed by --from/--to."""
    end = int(snap.info["end_time_ms"])
    start = end - int(snap.info["options"]["minutes"]) * 60_000
    lo = max(start, snap.window_from) if snap.window_from is not None else start
    hi = min(end, snap.window_to) if snap.window_to is not None else end
    return lo, max(lo, hi)


def _catalog(snap: Snapshot, table: str) -> Iterator[Record]:
    """`WebsiteMonitoringMetricDescription` / `MobileAppMonitoringMetricDescription`."""
    for r in _rows(snap, f"SELECT * FROM {table} ORDER BY metric_id"):
        item: Record = {"metricId": r["metric_id"], "label": r["label"], "formatter": r["formatter"],
                        "description": r["description"], "aggregations": list(r["aggregations"]),
                        "defaultAggregation": r["default_aggregation"], "beaconTypes": list(r["beacon_types"])}
        if r["path_to_value"] is not None:
            item["pathToValueInBeacon"] = list(r["path_to_value"])
        yield item


def _metrics(snap: Snapshot, table: str, key: str, entity_key: str) -> Iterator[Record]:
    """One `MetricAPIResult` per website / mobile app: every derived series under Instana's
    `metric.aggregation.granularity` key, points inside the export window (+ the entity id)."""
    lo, hi = _timeframe(snap)
    entities = [r[0] for r in snap.conn.execute(sa.text(f"SELECT id FROM {entity_key} ORDER BY id"))]
    series: dict[str, dict[str, list[list[Any]]]] = defaultdict(dict)
    for r in _rows(snap, f"SELECT {key} AS eid, metric_id, aggregation, granularity_s, ts_ms, value FROM {table}"
                         f" WHERE {snap._window('ts_ms')} ORDER BY 1, 2, 3, 5"):
        name = f"{r['metric_id']}.{r['aggregation'].lower()}.{r['granularity_s']}"
        value = int(r["value"]) if r["aggregation"] == "SUM" else r["value"]
        series[r["eid"]].setdefault(name, []).append([r["ts_ms"], value])
    link = "websiteId" if entity_key == "website" else "mobileAppId"
    for eid in entities:
        yield {link: eid, "metrics": series.get(eid, {}), "adjustedTimeframe": {"to": hi, "windowSize": hi - lo}}


def _alert_configs(snap: Snapshot, table: str, link_table: str, key: str, link: str) -> Iterator[Record]:
    """`WebsiteAlertConfigWithRBACTag` / `MobileAppAlertConfigWithRBACTag` with one rule and static warning and
    critical thresholds."""
    channels: dict[str, list[str]] = defaultdict(list)
    for r in _rows(snap, f"SELECT alert_config_id, channel_id FROM {link_table} ORDER BY 1, 2"):
        channels[r["alert_config_id"]].append(r["channel_id"])
    for r in _rows(snap, f"SELECT * FROM {table} ORDER BY id"):
        rule: Record = {"alertType": r["alert_type"], "metricName": r["metric_id"], "aggregation": r["aggregation"]}
        if r["rule_operator"] is not None:
            rule["operator"] = r["rule_operator"]
        if r["rule_value"] is not None:
            rule["value"] = r["rule_value"]
        thresholds = {severity: {"type": "staticThreshold", "value": r[column]}
                      for severity, column in SEVERITY_KEYS if r[column] is not None}
        yield {"id": r["id"], "name": r["name"], "description": r["description"], link: r[key],
               "enabled": r["enabled"], "triggering": r["triggering"], "severity": r["severity"],
               "granularity": r["granularity_ms"], "tagFilterExpression": r["tag_filter_expression"],
               "customPayloadFields": r["custom_payload_fields"], "alertChannelIds": channels.get(r["id"], []),
               "rules": [{"rule": rule, "thresholdOperator": r["threshold_operator"], "thresholds": thresholds}],
               "timeThreshold": r["time_threshold"], "created": r["created_ms"],
               "initialCreated": r["initial_created_ms"], "readOnly": False}


def _http_call(url: str) -> Record:
    parts = urlsplit(url)
    return {"httpCallUrl": url, "httpCallOrigin": f"{parts.scheme}://{parts.netloc}", "httpCallPath": parts.path}


def _error_id(kind: str, message: str) -> str:
    """Instana groups errors by type and message: the same error always gets the same id."""
    return hashlib.blake2b(f"{kind}: {message}".encode(), digest_size=8).hexdigest()


# -- websites -----------------------------------------------------------------------------------------------------

def website_config(snap: Snapshot) -> Iterator[Record]:
    """`Website` (+ `applicationId`, the application perspective serving its HTTP calls)."""
    for r in _rows(snap, "SELECT * FROM website ORDER BY id"):
        yield {"id": r["id"], "name": r["name"], "appName": r["app_name"],
               "businessCriticality": r["business_criticality"], "applicationId": r["application_id"]}


def website_catalog(snap: Snapshot) -> Iterator[Record]:
    return _catalog(snap, "website_metric_definition")


def website_alert_configs(snap: Snapshot) -> Iterator[Record]:
    return _alert_configs(snap, "website_alert_config", "website_alert_config_channel", "website_id", "websiteId")


def website_metrics(snap: Snapshot) -> Iterator[Record]:
    return _metrics(snap, "website_metric_point", "website_id", "website")


def website_analyze(snap: Snapshot) -> Iterator[Record]:
    """`WebsiteMonitoringBeacon` per beacon, in time order (a page load before the beacons of its page), with
    the session's browser and geo facts and the page load's URL as `locationUrl` (+ `endpointId` on HTTP
    requests: the backend endpoint called)."""
    rows = _rows(snap, "SELECT b.*, w.name AS website_name, w.origin, pl.url AS page_url, s.browser_name,"
                       " s.browser_version, s.os_name, s.os_version, s.device_type, s.country_code, s.country, s.city"
                       " FROM website_beacon b JOIN website w ON w.id = b.website_id"
                       " JOIN website_session s ON s.session_id = b.session_id"
                       " JOIN website_beacon pl ON pl.beacon_id = b.page_load_id"
                       f" WHERE {snap._window('b.timestamp_ms')} ORDER BY b.timestamp_ms, b.beacon_id")
    for r in rows:
        item: Record = {
            "beaconId": r["beacon_id"], "type": r["type"], "websiteId": r["website_id"],
            "websiteLabel": r["website_name"], "timestamp": r["timestamp_ms"], "page": r["page"],
            "pageLoadId": r["page_load_id"], "sessionId": r["session_id"], "locationOrigin": r["origin"],
            "locationUrl": r["page_url"], "locationPath": urlsplit(r["page_url"]).path,
            "browserName": r["browser_name"], "browserVersion": r["browser_version"], "osName": r["os_name"],
            "osVersion": r["os_version"], "deviceType": r["device_type"], "countryCode": r["country_code"],
            "country": r["country"], "city": r["city"],
        }
        kind = r["type"]
        if r["duration_ms"] is not None:
            item["duration"] = r["duration_ms"]
        if kind == "pageLoad":
            item.update(onLoadTime=r["duration_ms"], backendTime=r["backend_time_ms"],
                        frontendTime=r["duration_ms"] - r["backend_time_ms"])
        elif kind == "resourceLoad":
            item.update(resourceType=r["resource_type"], label=r["url"])
        elif kind == "httpRequest":
            item.update(_http_call(r["url"]), httpCallMethod=r["http_call_method"],
                        httpCallStatus=r["http_call_status"], httpCallAsynchronous=True,
                        endpointId=r["endpoint_id"])
        else:
            item.update(errorType=r["error_type"], errorMessage=r["error_message"], errorCount=1,
                        errorId=_error_id(r["error_type"], r["error_message"]))
        yield item


# -- mobile apps --------------------------------------------------------------------------------------------------

def mobile_config(snap: Snapshot) -> Iterator[Record]:
    """`MobileApp` (+ `applicationId`, the application perspective serving its HTTP calls)."""
    for r in _rows(snap, "SELECT * FROM mobile_app ORDER BY id"):
        yield {"id": r["id"], "name": r["name"], "businessCriticality": r["business_criticality"],
               "applicationId": r["application_id"]}


def mobile_catalog(snap: Snapshot) -> Iterator[Record]:
    return _catalog(snap, "mobile_metric_definition")


def mobile_alert_configs(snap: Snapshot) -> Iterator[Record]:
    return _alert_configs(snap, "mobile_app_alert_config", "mobile_app_alert_config_channel", "mobile_app_id",
                          "mobileAppId")


def mobile_metrics(snap: Snapshot) -> Iterator[Record]:
    return _metrics(snap, "mobile_metric_point", "mobile_app_id", "mobile_app")


def mobile_analyze(snap: Snapshot) -> Iterator[Record]:
    """`MobileAppMonitoringBeacon` per beacon, in time order, with the app's and the session's facts
    (+ `endpointId` on HTTP requests)."""
    rows = _rows(snap, "SELECT b.*, a.name AS app_name, a.platform, a.bundle_identifier, s.app_version, s.app_build,"
                       " s.os_version, s.device_manufacturer, s.device_model, s.carrier, s.connection_type,"
                       " s.country_code, s.country, s.city, s.user_id"
                       " FROM mobile_beacon b JOIN mobile_app a ON a.id = b.mobile_app_id"
                       " JOIN mobile_session s ON s.session_id = b.session_id"
                       f" WHERE {snap._window('b.timestamp_ms')} ORDER BY b.timestamp_ms, b.beacon_id")
    for r in rows:
        item: Record = {
            "beaconId": r["beacon_id"], "type": r["type"], "performanceSubtype": "",
            "rateLimitBeaconType": r["type"], "mobileAppId": r["mobile_app_id"], "mobileAppLabel": r["app_name"],
            "timestamp": r["timestamp_ms"], "sessionId": r["session_id"], "view": r["view"],
            "platform": r["platform"], "osName": r["platform"], "osVersion": r["os_version"],
            "appVersion": r["app_version"], "appBuild": r["app_build"], "bundleIdentifier": r["bundle_identifier"],
            "deviceManufacturer": r["device_manufacturer"], "deviceModel": r["device_model"],
            "connectionType": r["connection_type"], "countryCode": r["country_code"], "country": r["country"],
            "city": r["city"], "userId": r["user_id"],
        }
        if r["carrier"] is not None:
            item["carrier"] = r["carrier"]
        if r["type"] == "httpRequest":
            item.update(_http_call(r["url"]), duration=r["duration_ms"], httpCallMethod=r["http_call_method"],
                        httpCallStatus=r["http_call_status"], endpointId=r["endpoint_id"])
        elif r["type"] == "crash":
            item.update(errorType=r["error_type"], errorMessage=r["error_message"], stackTrace=r["stack_trace"],
                        errorCount=1, errorId=_error_id(r["error_type"], r["error_message"]))
        yield item


# -- logs ---------------------------------------------------------------------------------------------------------

def logs(snap: Snapshot) -> Iterator[Record]:
    """`ApiLogItem` (dotted keys) per line, in time order, + `logId`; `eventId` names the issue a WARN/ERROR line
    belongs to, `endpointId` the endpoint a request-scoped line was logged for."""
    apps: dict[str, list[str]] = defaultdict(list)
    for r in _rows(snap, "SELECT service_id, application_id FROM application_service ORDER BY 1, 2"):
        apps[r["service_id"]].append(r["application_id"])
    rows = _rows(snap, "SELECT l.*, s.label AS service_name, h.label AS host_name,"
                       " p.data->'process'->>'pid' AS pid, c.plugin AS parent_plugin,"
                       " c.data->'container'->>'id' AS container_id, c.label AS container_name"
                       " FROM log_entry l JOIN service s ON s.id = l.service_id"
                       " JOIN snapshot h ON h.snapshot_id = l.host_snapshot_id"
                       " JOIN snapshot p ON p.snapshot_id = l.process_snapshot_id"
                       " JOIN snapshot c ON c.snapshot_id = p.parent_snapshot_id"
                       f" WHERE {snap._window('l.timestamp_ms')} ORDER BY l.timestamp_ms, l.log_id")
    optional = [("log.traceId", "trace_id"), ("log.exception.type", "exception_type"),
                ("log.exception.message", "exception_message"), ("eventId", "event_id"), ("endpointId", "endpoint_id")]
    optional += [(f"kubernetes.{part}.name", f"kubernetes_{part}_name")
                 for part in ("cluster", "namespace", "deployment", "pod", "container", "node")]
    for r in rows:
        item: Record = {
            "logId": r["log_id"], "log.timestamp": r["timestamp_ms"], "log.level": r["level"],
            "log.message": r["message"], "log.serviceId": r["service_id"], "log.serviceName": r["service_name"],
            "log.applications": apps.get(r["service_id"], []), "log.hostId": r["host_snapshot_id"],
            "log.hostName": r["host_name"], "log.streamName": r["stream_name"],
        }
        if r["pid"] is not None:
            item["log.processId"] = str(r["pid"])
        if r["parent_plugin"] == "docker":
            item["docker.containerId"] = r["container_id"]
            item["docker.containerName"] = r["container_name"]
        item.update({key: r[column] for key, column in optional if r[column] is not None})
        yield item


# -- synthetics ---------------------------------------------------------------------------------------------------

def synthetic_locations(snap: Snapshot) -> Iterator[Record]:
    """`SyntheticLocation` (+ how many tests run there, `totalTests`)."""
    for r in _rows(snap, "SELECT l.*, (SELECT count(*) FROM synthetic_test_location t WHERE t.location_id = l.id)"
                         " AS tests FROM synthetic_location l ORDER BY l.id"):
        yield {"id": r["id"], "label": r["label"], "displayLabel": r["display_label"],
               "description": r["description"], "locationType": r["location_type"], "status": r["status"],
               "popVersion": r["pop_version"], "createdAt": r["created_ms"], "totalTests": r["tests"],
               "geoPoint": {"cityName": r["city_name"], "countryName": r["country_name"],
                            "latitude": r["latitude"], "longitude": r["longitude"]},
               "playbackCapabilities": {"syntheticType": list(r["synthetic_types"]),
                                        "browserType": list(r["browser_types"])}}


def synthetic_checks(snap: Snapshot) -> Iterator[Record]:
    """`SyntheticTest` with its locations, application and website (+ `serviceId` and `endpointId` of the
    endpoint an API test calls)."""
    locations: dict[str, list[sa.RowMapping]] = defaultdict(list)
    for r in _rows(snap, "SELECT t.test_id, l.id, l.label, l.display_label FROM synthetic_test_location t"
                         " JOIN synthetic_location l ON l.id = t.location_id ORDER BY 1, 2"):
        locations[r["test_id"]].append(r)
    for r in _rows(snap, "SELECT t.*, a.label AS app_label, w.name AS website_name FROM synthetic_test t"
                         " JOIN application a ON a.id = t.application_id LEFT JOIN website w ON w.id = t.website_id"
                         " ORDER BY t.id"):
        where = locations.get(r["id"], [])
        item: Record = {
            "id": r["id"], "label": r["label"], "active": r["active"], "testFrequency": r["test_frequency_min"],
            "playbackMode": r["playback_mode"], "configuration": r["configuration"],
            "locations": [loc["id"] for loc in where], "locationLabels": [loc["label"] for loc in where],
            "locationDisplayLabels": [loc["display_label"] for loc in where],
            "applicationId": r["application_id"], "applications": [r["application_id"]],
            "applicationLabel": r["app_label"], "applicationLabels": [r["app_label"]],
            "createdAt": r["created_ms"], "modifiedAt": r["modified_ms"],
        }
        if r["description"] is not None:
            item["description"] = r["description"]
        if r["website_id"] is not None:
            item.update(websites=[r["website_id"]], websiteLabels=[r["website_name"]])
        if r["endpoint_id"] is not None:
            item.update(serviceId=r["service_id"], endpointId=r["endpoint_id"])
        yield item


def synthetic_runs(snap: Snapshot) -> Iterator[Record]:
    """`TestResultListItem` per run (`testResultCommonProperties` + `metrics` with the keys synctl reads:
    response_time, response_size, status, and status_code where a response came), + `testId`, `testResultId`
    and `startTime` as in `TestResultMetadata`, + `eventId` of the issue that explains a failure."""
    rows = _rows(snap, "SELECT r.*, t.label AS test_name, l.label AS location_label,"
                       " l.display_label AS location_display FROM synthetic_result r"
                       " JOIN synthetic_test t ON t.id = r.test_id JOIN synthetic_location l ON l.id = r.location_id"
                       f" WHERE {snap._window('r.start_ms')} ORDER BY r.start_ms, r.result_id")
    for r in rows:
        start = r["start_ms"]
        common: Record = {"id": r["result_id"], "testId": r["test_id"], "testName": r["test_name"],
                          "clientId": r["location_label"], "locationId": r["location_id"],
                          "locationDisplayLabel": r["location_display"], "runType": r["run_type"]}
        if r["errors"]:
            common["errors"] = list(r["errors"])
        metrics: Record = {"response_time": [[start, r["response_time_ms"]]],
                           "response_size": [[start, r["response_size_bytes"]]], "status": [[start, r["status"]]]}
        if r["http_status"] is not None:
            metrics["status_code"] = [[start, r["http_status"]]]
        item: Record = {"testResultId": r["result_id"], "testId": r["test_id"], "startTime": start,
                        "testResultCommonProperties": common, "metrics": metrics}
        if r["event_id"] is not None:
            item["eventId"] = r["event_id"]
        yield item


# in validation order: what a record refers to comes before it
DATASETS: list[Dataset] = [
    Dataset("website_catalog", "website_catalog.jsonl", "metricId", ("website_metric_definition",), since=SINCE,
            reader=website_catalog),
    Dataset("website_config", "website_config.jsonl", "id", ("website",), since=SINCE, reader=website_config),
    Dataset("website_alert_configs", "website_alert_configs.jsonl", "id",
            ("website_alert_config", "website_alert_config_channel"), since=SINCE, reader=website_alert_configs),
    Dataset("website_analyze", "website_analyze.jsonl", "beaconId", ("website_beacon", "website_session"),
            since=SINCE, time_key="timestamp", reader=website_analyze, per_row="website_beacon"),
    Dataset("website_metrics", "website_metrics.jsonl", "websiteId", ("website_metric_point",), since=SINCE,
            time_key="adjustedTimeframe", reader=website_metrics),
    Dataset("mobile_catalog", "mobile_catalog.jsonl", "metricId", ("mobile_metric_definition",), since=SINCE,
            reader=mobile_catalog),
    Dataset("mobile_config", "mobile_config.jsonl", "id", ("mobile_app",), since=SINCE, reader=mobile_config),
    Dataset("mobile_alert_configs", "mobile_alert_configs.jsonl", "id",
            ("mobile_app_alert_config", "mobile_app_alert_config_channel"), since=SINCE, reader=mobile_alert_configs),
    Dataset("mobile_analyze", "mobile_analyze.jsonl", "beaconId", ("mobile_beacon", "mobile_session"), since=SINCE,
            time_key="timestamp", reader=mobile_analyze, per_row="mobile_beacon"),
    Dataset("mobile_metrics", "mobile_metrics.jsonl", "mobileAppId", ("mobile_metric_point",), since=SINCE,
            time_key="adjustedTimeframe", reader=mobile_metrics),
    Dataset("logs", "logs.jsonl", "logId", ("log_entry",), since=SINCE, time_key="log.timestamp", reader=logs,
            per_row="log_entry"),
    Dataset("synthetic_locations", "synthetic_locations.jsonl", "id", ("synthetic_location",), since=SINCE,
            reader=synthetic_locations),
    Dataset("synthetic_checks", "synthetic_checks.jsonl", "id", ("synthetic_test", "synthetic_test_location"),
            since=SINCE, reader=synthetic_checks),
    Dataset("synthetic_runs", "synthetic_runs.jsonl", "testResultId", ("synthetic_result",), since=SINCE,
            time_key="startTime", reader=synthetic_runs, per_row="synthetic_result"),
]
