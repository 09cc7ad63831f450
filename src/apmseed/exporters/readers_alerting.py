"""Readers for dataset 1.1.0 alerting: alerting channels (`AbstractIntegration`) and Smart Alert configs
(`ApplicationAlertConfigWithMetadata`, `GlobalApplicationAlertConfigWithMetadata`,
`InfraAlertConfigWithMetadata`), as `GET /api/events/settings/...` returns them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from apmseed.exporters.base import Record
from apmseed.exporters.datasets_base import Dataset
from apmseed.schema.alerting import SEVERITY_KEYS

if TYPE_CHECKING:
    from apmseed.exporters.snapshot import Snapshot

PAGING_KINDS = ("PAGER_DUTY", "OPS_GENIE")
SCOPE_TABLES = ("alert_scope_application", "alert_scope_service", "alert_scope_endpoint")


def alerting_channels(snap: Snapshot) -> Iterator[Record]:
    for r in snap.conn.execute(sa.text("SELECT id, kind, name, details FROM alerting_channel ORDER BY id")):
        yield {"id": r.id, "kind": r.kind, "name": r.name, **r.details}


def _channels(snap: Snapshot, family: str) -> dict[str, list[tuple[str, str]]]:
    """config id -> [(channel id, kind)] in id order."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in snap.conn.execute(sa.text(
            "SELECT l.alert_config_id, c.id, c.kind FROM alert_config_channel l"
            " JOIN alerting_channel c ON c.id = l.channel_id JOIN alert_config a ON a.id = l.alert_config_id"
            " WHERE a.family = :family ORDER BY 1, 2"), {"family": family}):
        out[r.alert_config_id].append((r.id, r.kind))
    return out


def _scopes(snap: Snapshot, family: str) -> dict[str, dict[str, Any]]:
    """config id -> the `applications` map (ApplicationNode > ServiceNode > EndpointNode)."""
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in snap.conn.execute(sa.text(
            "SELECT alert_config_id, application_id, inclusive FROM alert_scope_application"
            " WHERE family = :family ORDER BY 1, 2"), {"family": family}):
        out[r.alert_config_id][r.application_id] = {"applicationId": r.application_id, "inclusive": r.inclusive,
                                                    "services": {}}
    for r in snap.conn.execute(sa.text("SELECT * FROM alert_scope_service ORDER BY 1, 2, 3")):
        if r.alert_config_id in out:
            out[r.alert_config_id][r.application_id]["services"][r.service_id] = {
                "serviceId": r.service_id, "inclusive": r.inclusive, "endpoints": {}}
    for r in snap.conn.execute(sa.text("SELECT * FROM alert_scope_endpoint ORDER BY 1, 2, 3, 4")):
        if r.alert_config_id in out:
            services = out[r.alert_config_id][r.application_id]["services"]
            services[r.service_id]["endpoints"][r.endpoint_id] = {"endpointId": r.endpoint_id,
                                                                  "inclusive": r.inclusive}
    return out


def _configs(snap: Snapshot, family: str) -> Iterator[tuple[Any, Record]]:
    """Each config row with the keys every Smart Alert model shares. `rule`/`threshold`/`severity` are the
    legacy form of the single `rules` entry; `threshold` is the entry's threshold for the config's severity."""
    channels = _channels(snap, family)
    rows = snap.conn.execute(sa.text("SELECT * FROM alert_config WHERE family = :family ORDER BY id"),
                             {"family": family})
    for r in rows:
        notified = channels.get(r.id, [])
        record: Record = {
            "id": r.id, "name": r.name, "description": r.description, "severity": r.severity,
            "enabled": r.enabled, "triggering": r.triggering, "granularity": r.granularity_ms,
            "rule": r.rule, "threshold": {**r.thresholds[SEVERITY_KEYS[r.severity]], "operator": r.threshold_operator},
            "rules": [{"rule": r.rule, "thresholdOperator": r.threshold_operator, "thresholds": r.thresholds}],
            "timeThreshold": r.time_threshold, "tagFilterExpression": r.tag_filter_expression,
            "customPayloadFields": r.custom_payload_fields,
            "alertChannelIds": [c for c, _ in notified],
            # paging channels are for critical alerts only
            "alertChannels": {key: [c for c, kind in notified if key == "critical" or kind not in PAGING_KINDS]
                              for key in ("warning", "critical") if key in r.thresholds},
            "created": r.created_ms, "initialCreated": r.initial_created_ms, "readOnly": False,
        }
        if r.grace_period_ms is not None:
            record["gracePeriod"] = r.grace_period_ms
        yield r, record


def _application_keys(r: Any, scope: dict[str, Any]) -> Record:
    return {"applications": scope, "boundaryScope": r.boundary_scope, "evaluationType": r.evaluation_type,
            "includeInternal": r.include_internal, "includeSynthetic": r.include_synthetic}


def alert_configs(snap: Snapshot) -> Iterator[Record]:
    scopes = _scopes(snap, "APPLICATION")
    for r, record in _configs(snap, "APPLICATION"):
        yield {**record, "applicationId": r.application_id, **_application_keys(r, scopes.get(r.id, {}))}


def global_alert_configs(snap: Snapshot) -> Iterator[Record]:
    scopes = _scopes(snap, "GLOBAL_APPLICATION")
    for r, record in _configs(snap, "GLOBAL_APPLICATION"):
        scope = scopes.get(r.id, {})
        yield {**record, "applicationIds": sorted(scope), "builtIn": r.built_in, **_application_keys(r, scope)}


def infra_alert_configs(snap: Snapshot) -> Iterator[Record]:
    for r, record in _configs(snap, "INFRA"):
        record = {**record, "groupBy": r.group_by, "evaluationType": r.evaluation_type}
        if r.snapshot_id is not None:  # the entity the tag filter selects (Instana has no field for it)
            record["snapshotId"] = r.snapshot_id
        yield record


_CONFIG_TABLES = ("alert_config", "alert_config_channel")
DATASETS: list[Dataset] = [
    Dataset("alerting_channels", "alerting_channels.jsonl", "id", ("alerting_channel",), since="1.1.0",
            reader=alerting_channels),
    Dataset("alert_configs", "alert_configs.jsonl", "id", (*_CONFIG_TABLES, *SCOPE_TABLES), since="1.1.0",
            reader=alert_configs),
    Dataset("global_alert_configs", "global_alert_configs.jsonl", "id", (*_CONFIG_TABLES, *SCOPE_TABLES),
            since="1.1.0", reader=global_alert_configs),
    Dataset("infra_alert_configs", "infra_alert_configs.jsonl", "id", _CONFIG_TABLES, since="1.1.0",
            reader=infra_alert_configs),
]
