"""Vectorised metric signals: one call computes a whole bundle (all series of one entity) over the window,
so related series stay consistent (p50 <= p90 <= p95 <= p99, erroneous calls <= calls, an issue shows up).

Baseline per metric kind: calls are Poisson around a seasonal rate; the erroneous share is small, bounded and
bursty; latency is lognormal per point, its percentiles derived from one median and spread; CPU follows the
load, memory barely, both with a slow bounded drift. A declared distribution (`overrides`, by metric id)
replaces a baseline: the per-point value becomes a draw times the metric's seasonal factor (exactly 1 under
Seasonality.flat(), so the values are then i.i.d. draws of the declared distribution; counts are rounded,
utilisation is kept inside (0, 1), erroneous calls at most the calls). Anomalies apply last.

The bundle's rng is consumed in a fixed order (entity parameters, load noise, calls, errors, latency) and
anomalies draw last, so an anomaly changes its own metrics inside its window only and everything else stays
bit for bit the same; overriding latency leaves calls and errors untouched too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from apmseed.errors import ApmseedError
from apmseed.scenarios import anomalies as anomaly_model
from apmseed.scenarios.anomalies import Anomaly, Incident, from_incident
from apmseed.scenarios.distributions import Distribution, sample
from apmseed.scenarios.seasonality import Seasonality

__all__ = ["CALL_RATE", "Incident", "crashes", "daily_shape", "page_loads", "traffic", "utilisation"]

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 1440 * MINUTE_MS
Z90, Z95, Z99 = 1.2816, 1.6449, 2.3263

# median calls per minute at the busiest time of the week, by entity type (entities differ around it,
# lognormally); the seasonal shape averages 1, so the rate it scales is this divided by its peak
CALL_RATE = {"APPLICATION": 900.0, "SERVICE": 250.0, "ENDPOINT": 40.0}
TRAFFIC_METRICS = ("calls", "erroneousCalls", "latency")
UTILISATION_METRICS = ("cpu.used", "memory.used")
UTILISATION_RANGE = (0.001, 0.999)
ERROR_BURSTS_PER_DAY = 4.0
LATENCY_LOAD = 0.25  # latency rises by a quarter of the load's excess over its mean
CPU_LOAD, MEMORY_LOAD = 0.4, 0.1


def daily_shape(ts_ms: np.ndarray, phase_h: float) -> np.ndarray:
    """1.0 at the afternoon peak, about 0.25 in the small hours; weekends are quieter (the beacon factories'
    shape, kept as it was so their data does not change)."""
    hours = ((ts_ms % DAY_MS) / 3_600_000.0 + phase_h) % 24.0
    shape = 0.625 + 0.375 * np.cos(2 * np.pi * (hours - 14.0) / 24.0)
    weekday = ((ts_ms // DAY_MS) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    return shape * np.where(weekday >= 5, 0.7, 1.0)


def _checked(overrides: Mapping[str, Distribution] | None, anomalies: Sequence[Anomaly],
             incidents: Sequence[Incident], metrics: tuple[str, ...], what: str
             ) -> tuple[Mapping[str, Distribution], list[Anomaly]]:
    overrides = overrides or {}
    for key, dist in overrides.items():
        if key not in metrics:
            raise ApmseedError(f"overrides: {what} has no metric {key!r}", f"override one of: {', '.join(metrics)}")
        if not isinstance(dist, Distribution):
            raise ApmseedError(f"overrides.{key}: {dist!r} is not a Distribution",
                               "build it with parse_distribution or Distribution.of")
    for a in anomalies:
        if a.metric is not None and a.metric not in metrics:
            raise ApmseedError(f"anomalies: a {a.type} on {a.metric!r} cannot show on {what}",
                               f"target one of: {', '.join(metrics)}, or leave the metric out")
    return overrides, [a for inc in incidents for a in from_incident(inc)] + list(anomalies)


def _counts(values: np.ndarray) -> np.ndarray:
    return np.rint(np.maximum(values, 0.0))


def _error_share(rng: np.random.Generator, base: float, n: int, resolution_min: int) -> np.ndarray:
    """`base`, plus a few short bursts a day (Poisson many, at random points) at 3-10x; never above 1."""
    share = np.full(n, base)
    bursts = int(rng.poisson(ERROR_BURSTS_PER_DAY * n * resolution_min / 1440.0))
    length = max(1, int(rng.integers(2, 9)) // resolution_min)
    starts = rng.integers(0, max(1, n), bursts)
    factors = rng.uniform(3.0, 10.0, bursts)
    if bursts and n:
        for offset in range(length):  # a handful of slices, not a loop over points
            at = starts + offset
            inside = at < n
            share[at[inside]] = base * factors[inside]
    return np.minimum(share, 1.0)


def _drift(rng: np.random.Generator, ts_ms: np.ndarray, amplitude: float) -> np.ndarray:
    """A slow, bounded wander (|drift| <= amplitude): three sines with periods of 6 h to 3 days."""
    speeds = 2 * np.pi / (rng.uniform(6.0, 72.0, 3) * HOUR_MS)
    phases = rng.uniform(0.0, 2 * np.pi, 3)
    weights = rng.uniform(0.5, 1.0, 3)
    weights *= amplitude / weights.sum()
    elapsed = (ts_ms - ts_ms[0]).astype(np.float64) if ts_ms.size else np.zeros(0)
    return weights @ np.sin(np.outer(speeds, elapsed) + phases[:, None])


def traffic(rng: np.random.Generator, ts_ms: np.ndarray, entity_type: str, resolution_min: int,
            incidents: Sequence[Incident] = (), *, seasonality: Seasonality | None = None,
            overrides: Mapping[str, Distribution] | None = None, anomalies: Sequence[Anomaly] = (),
            ) -> dict[tuple[str, str], np.ndarray]:
    """Calls, erroneous calls and latency (P50, P90, P95, P99, MEAN) of one application, service or
    endpoint at `ts_ms`; `seasonality` None gives the default cycle with a per-entity peak hour."""
    n = ts_ms.size
    overrides, applied = _checked(overrides, anomalies, incidents, TRAFFIC_METRICS, entity_type)
    # entity parameters first, always all of them (the draw order is what keeps the metrics apart)
    peak_shift = rng.uniform(-2.0, 2.0)
    rate = CALL_RATE[entity_type] * rng.lognormal(0.0, 0.8)
    base_share = rng.uniform(0.001, 0.02)
    median = float(np.clip(rng.lognormal(np.log(60.0), 0.7), 2.0, 2_000.0))
    spread0 = rng.uniform(0.35, 0.8)
    seasonality = seasonality or Seasonality(peak_hour=(14.0 + peak_shift) % 24.0)
    load = seasonality.shape(ts_ms, rng)

    if "calls" in overrides:
        calls = _counts(sample(overrides["calls"], rng, n) * load)
        expected = calls
    else:
        expected = (rate / seasonality.peak * resolution_min) * load
        calls = rng.poisson(expected).astype(np.float64)

    share = _error_share(rng, base_share, n, resolution_min)
    if "erroneousCalls" in overrides:
        errors = np.minimum(_counts(sample(overrides["erroneousCalls"], rng, n) * load), calls)
        share = errors / np.maximum(calls, 1.0)
    else:
        errors = rng.binomial(calls.astype(np.int64), share).astype(np.float64)

    latency_load = 1.0 + LATENCY_LOAD * (load - 1.0)
    jitter = np.exp(rng.normal(0.0, 0.05, (2, n)))
    spread = spread0 * jitter[0]
    if "latency" in overrides:
        p50 = np.maximum(sample(overrides["latency"], rng, n) * latency_load, 0.0)
    else:
        p50 = median * latency_load * jitter[1]

    if applied:
        windows = [anomaly_model.window(a, n, rng) for a in applied]
        unit = np.ones(n)
        factor = anomaly_model.apply(unit, "calls", applied, windows)
        new_share = anomaly_model.apply(share, "erroneousCalls", applied, windows)
        changed = np.zeros(n, dtype=bool)
        if factor is not unit:  # more calls: Poisson superposition; fewer: binomial thinning (both stay Poisson)
            calls = calls.copy()
            up, down = np.flatnonzero(factor > 1.0), np.flatnonzero(factor < 1.0)
            if up.size:
                calls[up] += rng.poisson((factor[up] - 1.0) * expected[up])
            if down.size:
                calls[down] = rng.binomial(calls[down].astype(np.int64), factor[down])
            changed[up] = changed[down] = True
        if new_share is not share:
            new_share = np.minimum(new_share, 1.0)
            changed |= new_share != share
        hit = np.flatnonzero(changed)
        if hit.size:  # the errors of every point whose calls or share moved, drawn again
            errors = errors.copy()
            errors[hit] = rng.binomial(calls[hit].astype(np.int64), new_share[hit])
        p50 = anomaly_model.apply(p50, "latency", applied, windows)

    keep = "latency" in overrides  # declared values stay exact; the baseline is rounded to 0.1 ms
    def rnd(a: np.ndarray) -> np.ndarray:
        return a if keep else np.round(a, 1)
    return {
        ("calls", "SUM"): calls,
        ("erroneousCalls", "SUM"): errors,
        ("latency", "P50"): rnd(p50),
        ("latency", "P90"): rnd(p50 * np.exp(Z90 * spread)),
        ("latency", "P95"): rnd(p50 * np.exp(Z95 * spread)),
        ("latency", "P99"): rnd(p50 * np.exp(Z99 * spread)),
        ("latency", "MEAN"): rnd(p50 * np.exp(spread**2 / 2.0)),
    }


def utilisation(rng: np.random.Generator, ts_ms: np.ndarray, incidents: Sequence[Incident] = (), *,
                seasonality: Seasonality | None = None, overrides: Mapping[str, Distribution] | None = None,
                anomalies: Sequence[Anomaly] = ()) -> dict[tuple[str, str], np.ndarray]:
    """CPU and memory used (shares of 0..1) of one infrastructure entity at `ts_ms`."""
    n = ts_ms.size
    overrides, applied = _checked(overrides, anomalies, incidents, UTILISATION_METRICS, "INFRASTRUCTURE")
    peak_shift = rng.uniform(-2.0, 2.0)
    cpu_level = rng.uniform(0.08, 0.45)
    memory_level = rng.uniform(0.3, 0.65)
    seasonality = seasonality or Seasonality(peak_hour=(14.0 + peak_shift) % 24.0)
    load = seasonality.shape(ts_ms, rng)
    cpu_load = 1.0 + CPU_LOAD * (load - 1.0)
    memory_load = 1.0 + MEMORY_LOAD * (load - 1.0)

    # the baseline's measurement noise is added after the anomalies: a saturated CPU still wobbles at its cap
    if "cpu.used" in overrides:
        cpu, cpu_noise = sample(overrides["cpu.used"], rng, n) * cpu_load, None
    else:
        cpu = cpu_level * cpu_load + _drift(rng, ts_ms, 0.04)
        cpu_noise = rng.normal(0.0, 0.02, n)
    if "memory.used" in overrides:
        memory, memory_noise = sample(overrides["memory.used"], rng, n) * memory_load, None
    else:
        memory = memory_level * memory_load + _drift(rng, ts_ms, 0.05)
        memory_noise = rng.normal(0.0, 0.003, n)
    if applied:
        windows = [anomaly_model.window(a, n, rng) for a in applied]
        cpu = anomaly_model.apply(cpu, "cpu.used", applied, windows)
        memory = anomaly_model.apply(memory, "memory.used", applied, windows)
    if cpu_noise is not None:
        cpu = cpu + cpu_noise
    if memory_noise is not None:
        memory = memory + memory_noise
    cpu, memory = np.clip(cpu, *UTILISATION_RANGE), np.clip(memory, *UTILISATION_RANGE)
    return {
        ("cpu.used", "MEAN"): cpu if "cpu.used" in overrides else np.round(cpu, 4),
        ("memory.used", "MEAN"): memory if "memory.used" in overrides else np.round(memory, 4),
    }


def _seasonal_poisson(rng: np.random.Generator, ts_ms: np.ndarray, rate_per_min: float, resolution_min: int,
                      seasonality: Seasonality | None) -> np.ndarray:
    load = (seasonality or Seasonality()).shape(ts_ms, rng)
    return rng.poisson(rate_per_min * load * resolution_min).astype(np.float64)


def page_loads(rng: np.random.Generator, ts_ms: np.ndarray, rate_per_min: float, resolution_min: int,
               seasonality: Seasonality | None = None) -> np.ndarray:
    """Page loads of a website per point: Poisson around the seasonal rate (default cycle if None)."""
    return _seasonal_poisson(rng, ts_ms, rate_per_min, resolution_min, seasonality)


def crashes(rng: np.random.Generator, ts_ms: np.ndarray, rate_per_min: float = 0.02, resolution_min: int = 1,
            seasonality: Seasonality | None = None) -> np.ndarray:
    """Crashes of a mobile app per point: rare (Poisson with a small rate) and more of them when it is used."""
    return _seasonal_poisson(rng, ts_ms, rate_per_min, resolution_min, seasonality)
