"""The metric catalog: the Instana metric ids apmseed generates, per entity kind, and the bundles of series
generated together for one entity (so they stay consistent with each other)."""

from __future__ import annotations

from typing import Any

TRAFFIC_METRICS: list[dict[str, Any]] = [
    {"metric_id": "calls", "label": "Calls", "unit": "NUMBER", "aggregations": ["SUM", "PER_SECOND"],
     "description": "Number of received calls", "min_value": 0.0, "max_value": None},
    {"metric_id": "erroneousCalls", "label": "Erroneous calls", "unit": "NUMBER", "aggregations": ["SUM"],
     "description": "Number of erroneous calls", "min_value": 0.0, "max_value": None},
    {"metric_id": "latency", "label": "Call latency", "unit": "MILLIS",
     "aggregations": ["MEAN", "P50", "P90", "P95", "P99"], "description": "Latency of received calls in ms",
     "min_value": 0.0, "max_value": None},
]
INFRA_METRICS: list[dict[str, Any]] = [
    {"metric_id": "cpu.used", "label": "CPU used", "unit": "PERCENTAGE", "aggregations": ["MEAN", "MAX"],
     "description": "Share of CPU time used (0..1)", "min_value": 0.0, "max_value": 1.0},
    {"metric_id": "memory.used", "label": "Memory used", "unit": "PERCENTAGE", "aggregations": ["MEAN", "MAX"],
     "description": "Share of memory used (0..1)", "min_value": 0.0, "max_value": 1.0},
]

# series of one bundle, in dependency order: truncating a bundle keeps calls before erroneous calls and
# lower percentiles before higher ones, so a partial bundle is still internally consistent
BUNDLES: dict[str, list[tuple[str, str]]] = {
    "APPLICATION": [("calls", "SUM"), ("erroneousCalls", "SUM"), ("latency", "P50"), ("latency", "P90"),
                    ("latency", "P95"), ("latency", "P99")],
    "SERVICE": [("calls", "SUM"), ("erroneousCalls", "SUM"), ("latency", "P50"), ("latency", "P90"),
                ("latency", "P95"), ("latency", "P99")],
    "ENDPOINT": [("calls", "SUM"), ("erroneousCalls", "SUM"), ("latency", "MEAN")],
    "INFRASTRUCTURE": [("cpu.used", "MEAN"), ("memory.used", "MEAN")],
}
COUNT_METRICS = frozenset({"calls", "erroneousCalls"})  # exported as integers


def definitions() -> list[dict[str, Any]]:
    rows = []
    for kind in ("APPLICATION", "SERVICE", "ENDPOINT"):
        for m in TRAFFIC_METRICS:
            rows.append({"entity_kind": kind, **m,
                         "aggregations": [a for a in m["aggregations"] if a != "PER_SECOND"]})
    for m in INFRA_METRICS:
        rows.append({"entity_kind": "INFRASTRUCTURE", **m})
    return rows
