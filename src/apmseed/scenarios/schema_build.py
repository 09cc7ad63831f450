"""Builds scenario.schema.json from the spec's vocabulary, so the published schema and the loader cannot drift
apart: a test compares the shipped file with `render()`. Regenerate after changing a name list or a range:

    .venv/bin/python -m apmseed.scenarios.schema_build
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from apmseed import profiles
from apmseed.scenarios import spec as S

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "jsonschemas" / "scenario.schema.json"
DUR = r"(?:\d+d(?:\d+h)?(?:\d+m)?|\d+h(?:\d+m)?|\d+m)"  # parse_duration's language, without the empty string


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


def bound(b: S.Bound) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "number"}
    if b.lo is not None:
        out["exclusiveMinimum" if b.lo_open else "minimum"] = b.lo
    if b.hi is not None:
        out["exclusiveMaximum" if b.hi_open else "maximum"] = b.hi
    return out


def obj(required: list[str], props: dict[str, Any], desc: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    if desc:
        out["description"] = desc
    if required:
        out["required"] = list(required)
    out["additionalProperties"] = False
    out["properties"] = props
    out.update({k.rstrip("_"): v for k, v in extra.items()})  # not_ -> not
    return out


def magnitude_rules() -> list[dict[str, Any]]:
    """Per anomaly type: the magnitude's range and the metrics it acts on."""
    return [{"if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
             "then": {"properties": {"magnitude": bound(S.MAGNITUDE_KINDS[S.ANOMALY_MAGNITUDE[kind]]),
                                     "metric": {"enum": list(S.ANOMALY_METRICS[kind])}}}}
            for kind in S.ANOMALY_TYPES]


def distribution(name: str) -> dict[str, Any]:
    params = S.DISTRIBUTIONS[name]
    optional = S.DISTRIBUTION_DEFAULTS.get(name, {})
    props: dict[str, Any] = {"metric": ref("metric"), "distribution": {"const": name},
                             "entity_type": {"enum": list(S.ENTITY_TYPES)}, "entity": ref("entityName")}
    for p, check in params.items():
        if check == "path":
            props[p] = {"type": "string", "minLength": 1, "description": "CSV file, relative to the scenario file"}
        else:
            props[p] = bound(S.PARAM_BOUNDS[check])
        if p in optional:
            props[p]["default"] = optional[p]
    return obj(["metric", "distribution", *[p for p in params if p not in optional]], props)


DESCRIPTION = (
    "A scenario file: the world apmseed generates (profile sizes, time window, seasonality, regions, pinned "
    "services and hosts, distribution overrides) and what happens in it (incidents, cascades, releases, traffic "
    "surges). Times are ISO 8601 or offsets: -3h before the window end, +2h after its start. References to "
    "services, hosts and regions, overlapping incidents and time windows are checked by `apmseed scenarios "
    "validate`, not by this schema.")


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": ["array", "null"], "items": item}  # `key:` with nothing after it is an empty list


def _profile() -> dict[str, Any]:
    names = {"enum": list(profiles.PROFILES)}
    sizes = {k: {"type": "integer", "minimum": max(3, profiles.MINIMUMS[k]) if k == "entities"
                 else profiles.MINIMUMS[k]} for k in profiles.OVERRIDES}
    return {"oneOf": [names, obj(["name"], {"name": names, **sizes,
                                            "scale": {"type": "number", "exclusiveMinimum": 0}})],
            "default": "small"}


def _topology() -> dict[str, Any]:
    service = obj(["name"], {
        "name": ref("entityName"), "kind": {"enum": list(S.SERVICE_KINDS), "default": "web"},
        "technology": {"enum": list(S.TECHNOLOGIES)}, "region": ref("region"),
        "calls": {"type": "array", "items": ref("entityName"), "description": "declared services it calls"}})
    host = obj(["name"], {
        "name": ref("entityName"), "kind": {"enum": list(S.HOST_KINDS), "default": "host"}, "region": ref("region"),
        "runs": {"type": "array", "items": ref("entityName"), "description": "declared services running on it"}})
    regions = {"type": "object", "propertyNames": {"enum": list(S.REGIONS)},
               "additionalProperties": {"oneOf": [{"type": "null"}, obj([], {
                   "share": bound(S.SHARE), "seasonality": ref("seasonality")})]}}
    return {"regions": regions, "services": _list_of(service), "hosts": _list_of(host)}


def _incident() -> dict[str, Any]:
    return obj(["entity", "type", "at", "duration"], {
        "entity": {**ref("entityName"), "description": "a declared service, host or region"},
        "type": ref("anomalyType"), "at": ref("at"), "duration": ref("duration"),
        "magnitude": {"type": "number", "description": "a factor, level or share, by type; default: the type's"},
        "metric": ref("metric"), "allow_overlap": {"type": "boolean", "default": False},
    }, allOf=magnitude_rules())


def _cascade() -> dict[str, Any]:
    defaults = S.CASCADE_DEFAULTS
    default_magnitude = bound(S.MAGNITUDE_KINDS[S.ANOMALY_MAGNITUDE[str(defaults["type"])]])
    return obj(["root"], {
        "root": {**ref("entityName"), "description": "a declared service, host or region"},
        "at": ref("at"), "duration": ref("duration"), "type": {**ref("anomalyType"), "default": defaults["type"]},
        "magnitude": {"type": "number"}, "metric": ref("metric"), "allow_overlap": {"type": "boolean"},
        "delay": {**ref("duration"), "default": defaults["delay"]},
        "damping": {**bound(S.DAMPING), "default": defaults["damping"]},
        "max_depth": {"type": "integer", "minimum": 1, "maximum": S.MAX_DEPTH, "default": defaults["max_depth"]},
        "propagates_as": {**ref("anomalyType"), "default": defaults["propagates_as"]},
    }, "without `duration` it spreads the root's incident (the one starting at `at`, or its only one)",
        dependentRequired={"duration": ["at"], "type": ["duration"], "magnitude": ["duration"],
                           "metric": ["duration"], "allow_overlap": ["duration"]},
        allOf=[*magnitude_rules(), {"if": {"not": {"required": ["type"]}},
                                    "then": {"properties": {"magnitude": default_magnitude}}}])


def _release() -> dict[str, Any]:
    triggers = obj(["type", "duration"], {
        "type": ref("anomalyType"), "after": ref("duration"), "duration": ref("duration"),
        "magnitude": {"type": "number"}, "metric": ref("metric"), "allow_overlap": {"type": "boolean"},
    }, "the incident the deploy opens, `after` it lands", allOf=magnitude_rules())
    return obj(["service", "at", "effect"], {
        "service": ref("entityName"), "at": ref("at"), "version": {"type": "string"},
        "effect": {"enum": list(S.RELEASE_EFFECTS)}, "latency_factor": bound(S.POSITIVE),
        "error_rate_delta": bound(S.ERROR_RATE_DELTA), "triggers": triggers,
    }, anyOf=[{"required": ["latency_factor"]}, {"required": ["error_rate_delta"]}], allOf=[
        {"if": {"properties": {"effect": {"const": "regression"}}},
         "then": {"properties": {"latency_factor": {"minimum": 1}, "error_rate_delta": {"minimum": 0}}}},
        {"if": {"properties": {"effect": {"const": "improvement"}}},
         "then": {"properties": {"latency_factor": {"maximum": 1}, "error_rate_delta": {"maximum": 0}}}},
    ])


def _surge() -> dict[str, Any]:
    return obj(["at", "duration", "multiplier"], {
        "at": ref("at"), "duration": ref("duration"), "multiplier": bound(S.POSITIVE), "ramp": ref("duration"),
        "region": ref("region"), "entity": ref("entityName"),
    }, not_={"required": ["region", "entity"]})


def _defs() -> dict[str, Any]:
    return {
        "duration": {"type": "string", "pattern": f"^{DUR}$", "examples": ["20m", "1h30m", "2d"]},
        "isoTime": {"type": "string", "pattern": S.ISO_RE.pattern, "examples": ["2025-11-20T14:00:00Z"]},
        "at": {"type": "string", "anyOf": [{"pattern": f"^[+-]{DUR}$"}, {"pattern": S.ISO_RE.pattern}],
               "description": "ISO 8601 time, or an offset: -3h before the window end, +2h after its start",
               "examples": ["-3h", "+2h", "2025-11-20T14:00:00Z"]},
        "entityName": {"type": "string", "pattern": S.ENTITY_RE.pattern},
        "region": {"enum": list(S.REGIONS)},
        "metric": {"enum": list(S.METRIC_IDS)},
        "anomalyType": {"enum": list(S.ANOMALY_TYPES)},
        "seasonality": obj([], {k: bound(b) for k, b in S.SEASONALITY_KEYS.items()}),
    }


def build_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "apmseed scenario",
        "description": DESCRIPTION,
        "type": "object",
        "required": list(S.TOP_REQUIRED),
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": S.NAME_RE.pattern},
            "description": {"type": "string", "pattern": r"\S"},
            "profile": _profile(),
            "seed": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
            "end_time": {**ref("isoTime"), "description": "end of the window (default: --end-time, else now)"},
            "seasonality": ref("seasonality"),
            **_topology(),
            "distributions": _list_of({"oneOf": [distribution(d) for d in S.DISTRIBUTIONS],
                                       "not": {"required": ["entity", "entity_type"]}}),
            "incidents": _list_of(_incident()),
            "cascades": _list_of(_cascade()),
            "releases": _list_of(_release()),
            "traffic": _list_of(_surge()),
        },
        "$defs": _defs(),
    }


def render() -> str:
    """The schema as shipped: indented, with lists of plain values on one line."""
    text = json.dumps(build_schema(), indent=2) + "\n"
    return re.sub(r"\[\n((?:\s*(?:\"[^\"\n]*\"|-?[\d.]+|true|false|null),?\n)+)\s*\]",
                  lambda m: "[" + ", ".join(x.strip().rstrip(",") for x in m.group(1).strip().splitlines()) + "]",
                  text)


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render())
    print(f"wrote {SCHEMA_PATH}")
