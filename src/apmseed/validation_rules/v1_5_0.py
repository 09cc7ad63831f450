"""Cross-file and temporal rules for dataset 1.5.0: ground truth.

* every entity a record names (root cause and affected) exists in its dataset, and its series are series of
  that entity in metrics_timeseries;
* the root cause is the first affected entity in time (hop 0 starts no later than any other hop), and a hop
  starts no earlier than the hop before it;
* every expected event exists in issues.jsonl on the affected entity, and starts inside that entity's window;
* a release effect names a release that exists; windows lie inside the data window.

A referenced dataset that was not exported is not checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apmseed.validation_rules import Index

KEEP: dict[str, tuple[str, ...]] = {
    "issues": ("start", "entityType", "applicationId", "serviceId", "endpointId", "snapshotId"),
    "metrics_timeseries": ("entityType", "snapshotId", "application", "service", "endpoint"),
}
ENTITY_DATASET = {"APPLICATION": "applications", "SERVICE": "services", "ENDPOINT": "endpoints",
                  "INFRASTRUCTURE": "infrastructure_entities"}
ISSUE_KEY = {"APPLICATION": "applicationId", "SERVICE": "serviceId", "ENDPOINT": "endpointId",
             "INFRASTRUCTURE": "snapshotId"}
SERIES_KEY = {"APPLICATION": "application", "SERVICE": "service", "ENDPOINT": "endpoint"}


def check(dataset: str, number: int, record: dict[str, Any], index: Index) -> list[str]:
    if dataset != "ground_truth":
        return []
    try:
        return _ground_truth(record, index)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return []  # a malformed record: its schema check reports it


def _entity_problems(entity: dict[str, Any], index: Index, what: str) -> list[str]:
    dataset = ENTITY_DATASET[entity["entityType"]]
    if not index.ids(dataset):
        return []
    return index.missing(dataset, entity["entityId"], f"{what} {entity['entityType'].lower()}")


def _series_entity(series: dict[str, Any]) -> str | None:
    if series["entityType"] == "INFRASTRUCTURE":
        return series.get("snapshotId")
    ref = series.get(SERIES_KEY[series["entityType"]])
    return ref.get("id") if isinstance(ref, dict) else ref


def _ground_truth(record: dict[str, Any], index: Index) -> list[str]:
    problems = _entity_problems(record["rootCause"], index, "root cause")
    window = index.window
    first = min(a["window"]["from"] for a in record["affected"])
    previous: tuple[int, int] | None = None
    for position, effect in enumerate(record["affected"]):
        where = f"affected[{position}]"
        problems += _entity_problems(effect, index, where)
        start, end = effect["window"]["from"], effect["window"]["to"]
        if end <= start:
            problems.append(f"{where}: window ends before it starts")
        if window and (start < window[0] or end > window[1]):
            problems.append(f"{where}: window [{start}, {end}) is outside the data window")
        if effect["hop"] == 0 and start > first:
            problems.append(f"{where}: the root cause (hop 0) starts after an entity it affects")
        if previous and effect["hop"] > previous[0] and start < previous[1]:
            problems.append(f"{where}: hop {effect['hop']} starts before hop {previous[0]}")
        previous = (effect["hop"], start)
        if index.ids("metrics_timeseries"):
            for series_id in effect["seriesIds"]:
                series = index.get("metrics_timeseries", series_id)
                if series is None:
                    problems.append(f"{where}: series {series_id} does not exist in metrics_timeseries")
                elif series["entityType"] != effect["entityType"] or _series_entity(series) != effect["entityId"]:
                    problems.append(f"{where}: series {series_id} is not a series of {effect['entityId']}")
        event_id = effect.get("eventId")
        if event_id is not None and index.ids("issues"):
            issue = index.get("issues", event_id)
            if issue is None:
                problems.append(f"{where}: event {event_id!r} does not exist in issues")
            elif issue.get(ISSUE_KEY[effect["entityType"]]) != effect["entityId"]:
                problems.append(f"{where}: event {event_id!r} is not on {effect['entityId']}")
            elif not start <= issue["start"] < end:
                problems.append(f"{where}: event {event_id!r} starts outside the effect's window")
    if "releaseId" in record and index.ids("releases"):
        problems += index.missing("releases", record["releaseId"], "release")
    return problems
