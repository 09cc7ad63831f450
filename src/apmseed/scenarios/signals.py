"""Vectorised metric signals: one call computes a whole bundle (all series of one entity) over the window,
so related series stay consistent (p50 <= p95 <= p99, erroneous calls <= calls, an issue shows up)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
Z95, Z99 = 1.6449, 2.3263

# median calls per minute by entity type (entities differ around it, lognormally)
CALL_RATE = {"APPLICATION": 900.0, "SERVICE": 250.0, "ENDPOINT": 40.0}


@dataclass(frozen=True)
class Incident:
    """An excursion on one bundle, in point indices [start, end); `strength` depends on `kind`:
    latency factor, erroneous-call share, or utilisation level."""

    kind: str  # latency | errors | cpu | memory
    start: int
    end: int
    strength: float


def daily_shape(ts_ms: np.ndarray, phase_h: float) -> np.ndarray:
    """1.0 at the afternoon peak, about 0.25 in the small hours; weekends are quieter."""
    hours = ((ts_ms % DAY_MS) / 3_600_000.0 + phase_h) % 24.0
    shape = 0.625 + 0.375 * np.cos(2 * np.pi * (hours - 14.0) / 24.0)
    weekday = ((ts_ms // DAY_MS) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    return shape * np.where(weekday >= 5, 0.7, 1.0)


def _ramp(n: int, start: int, end: int, rise: float = 0.2) -> np.ndarray:
    """0 outside [start, end), rising to 1 over the first `rise` of the window, then flat."""
    out = np.zeros(n)
    length = end - start
    if length <= 0:
        return out
    up = max(1, int(length * rise))
    out[start:end] = np.minimum(1.0, (np.arange(length) + 1) / up)
    return out


def traffic(rng: np.random.Generator, ts_ms: np.ndarray, entity_type: str, resolution_min: int,
            incidents: list[Incident]) -> dict[tuple[str, str], np.ndarray]:
    n = ts_ms.size
    shape = daily_shape(ts_ms, rng.uniform(-2.0, 2.0))
    rate = CALL_RATE[entity_type] * rng.lognormal(0.0, 0.8)
    calls = rng.poisson(rate * shape * resolution_min).astype(np.float64)

    err_share = np.full(n, rng.uniform(0.001, 0.02))
    latency_factor = np.ones(n)
    for inc in incidents:
        ramp = _ramp(n, inc.start, inc.end)
        if inc.kind == "latency":
            latency_factor *= 1.0 + (inc.strength - 1.0) * ramp
        elif inc.kind == "errors":
            err_share = np.maximum(err_share, inc.strength * ramp)
            latency_factor *= 1.0 + 0.3 * ramp  # failing calls slow callers down a little
    errors = rng.binomial(calls.astype(np.int64), np.clip(err_share, 0.0, 1.0)).astype(np.float64)

    median = float(np.clip(rng.lognormal(np.log(60.0), 0.7), 2.0, 2_000.0))
    spread = rng.uniform(0.35, 0.8) * np.exp(rng.normal(0.0, 0.05, n))
    p50 = median * (1.0 + 0.25 * (shape - 0.6)) * np.exp(rng.normal(0.0, 0.05, n)) * latency_factor
    return {
        ("calls", "SUM"): calls,
        ("erroneousCalls", "SUM"): errors,
        ("latency", "P50"): np.round(p50, 1),
        ("latency", "P95"): np.round(p50 * np.exp(Z95 * spread), 1),
        ("latency", "P99"): np.round(p50 * np.exp(Z99 * spread), 1),
        ("latency", "MEAN"): np.round(p50 * np.exp(spread**2 / 2.0), 1),
    }


def utilisation(rng: np.random.Generator, ts_ms: np.ndarray, incidents: list[Incident]
                ) -> dict[tuple[str, str], np.ndarray]:
    n = ts_ms.size
    shape = daily_shape(ts_ms, rng.uniform(-2.0, 2.0))
    cpu = rng.uniform(0.08, 0.45) * (0.6 + 0.5 * shape) + rng.normal(0.0, 0.02, n)
    memory = rng.uniform(0.3, 0.65) + np.cumsum(rng.normal(0.0, 0.002, n))  # slow drift
    for inc in incidents:
        ramp = _ramp(n, inc.start, inc.end, rise=0.1 if inc.kind == "cpu" else 0.9)
        if inc.kind == "cpu":
            cpu = cpu * (1 - ramp) + (inc.strength + rng.normal(0.0, 0.01, n)) * ramp
        elif inc.kind == "memory":  # a leak: climbs through the window
            memory = memory * (1 - ramp) + inc.strength * ramp
    return {
        ("cpu.used", "MEAN"): np.round(np.clip(cpu, 0.005, 0.995), 4),
        ("memory.used", "MEAN"): np.round(np.clip(memory, 0.05, 0.99), 4),
    }
