"""Injected anomalies: a shape in time (`profile`, 0..1 over the point window [start, end)) times an effect
per metric (`EFFECTS`). Keeping shape and effect apart lets one vocabulary (spike, level shift, memory leak,
...) act on any entity: the same anomaly type knows what it does to calls, errors, latency, CPU and memory.

Effects, applied at profile value p (0 outside the window, so nothing changes there):
  mul    value * (1 + (amount - 1) * p)   amount is a factor (calls, the error share, latency, utilisation)
  level  value * (1 - p) + amount * p     amount is a level in 0..1 (utilisation, the error share)
  drop   value * (1 - amount * p)         amount is the share lost (calls, utilisation)
`amount` is the anomaly's magnitude unless the table fixes it (a memory leak slows calls down by at most 2x
whatever level the memory reaches)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apmseed.errors import ApmseedError

ANOMALY_TYPES = ("spike", "level_shift", "degradation", "memory_leak", "saturation", "flapping", "outage")
METRICS = ("calls", "erroneousCalls", "latency", "cpu.used", "memory.used")

# what `magnitude` means for each type, its default, and the valid range
MAGNITUDE_KIND = {"spike": "factor", "level_shift": "factor", "degradation": "factor", "memory_leak": "level",
                  "saturation": "level", "flapping": "share", "outage": "share"}
DEFAULT_MAGNITUDE = {"spike": 4.0, "level_shift": 1.5, "degradation": 3.0, "memory_leak": 0.95,
                     "saturation": 0.97, "flapping": 0.5, "outage": 1.0}
_KIND_HINT = {"factor": "a factor > 0 (e.g. 3 for three times the normal value)",
              "level": "a level in (0, 1] that utilisation or the error share reaches",
              "share": "a share in [0, 1] of the calls lost or failing"}

_ALL_MUL = {m: ("mul", None) for m in METRICS}
# type -> metric -> (mode, fixed amount or None for the magnitude); metrics missing here are not affected
EFFECTS: dict[str, dict[str, tuple[str, float | None]]] = {
    "spike": dict(_ALL_MUL),
    "level_shift": dict(_ALL_MUL),
    "degradation": dict(_ALL_MUL),
    "memory_leak": {"memory.used": ("level", None), "cpu.used": ("level", None), "latency": ("mul", 2.0)},
    "saturation": {"cpu.used": ("level", None), "memory.used": ("level", None), "erroneousCalls": ("level", None),
                   "latency": ("mul", 3.0)},  # queueing at the cap
    "flapping": {"erroneousCalls": ("level", None), "calls": ("drop", None), "cpu.used": ("drop", None),
                 "memory.used": ("drop", None)},
    "outage": {"calls": ("drop", None), "erroneousCalls": ("level", None), "cpu.used": ("drop", None),
               "memory.used": ("drop", None)},
}
# the metrics an anomaly without an explicit `metric` affects
DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "spike": ("calls", "latency", "cpu.used"),  # a burst of traffic; the errors follow the calls
    "level_shift": ("latency", "cpu.used", "memory.used"),  # e.g. a heavier release
    "degradation": ("latency", "erroneousCalls", "cpu.used"),
    "memory_leak": ("memory.used", "latency"),  # GC pressure slows calls down
    "saturation": ("cpu.used", "latency"),
    "flapping": ("erroneousCalls", "cpu.used"),  # down / up / down: failing calls, restarting processes
    "outage": ("calls", "erroneousCalls", "cpu.used", "memory.used"),  # calls -> ~0, all of them failing
}


@dataclass(frozen=True)
class Anomaly:
    """One injected anomaly over point indices [start, end); `metric` None means DEFAULT_METRICS[type]."""

    type: str
    start: int
    end: int
    magnitude: float
    metric: str | None = None

    def __post_init__(self) -> None:
        _check(self.type, self.start, self.end, self.magnitude, self.metric, "")
        object.__setattr__(self, "start", int(self.start))
        object.__setattr__(self, "end", int(self.end))
        object.__setattr__(self, "magnitude", float(self.magnitude))

    @classmethod
    def default(cls, type: str, start: int, end: int, metric: str | None = None) -> Anomaly:
        """An anomaly of `type` with the type's default magnitude."""
        if type not in DEFAULT_MAGNITUDE:
            _check(type, start, end, 1.0, metric, "")
        return cls(type, start, end, DEFAULT_MAGNITUDE[type], metric)

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.metric,) if self.metric else DEFAULT_METRICS[self.type]

    def effect(self, metric: str) -> tuple[str, float] | None:
        """(mode, amount) of this anomaly on `metric`, or None when it leaves the metric alone."""
        if metric not in self.metrics:
            return None
        mode, fixed = EFFECTS[self.type][metric]
        return mode, self.magnitude if fixed is None else fixed


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check(kind: Any, start: Any, end: Any, magnitude: Any, metric: Any, where: str) -> None:
    if kind not in ANOMALY_TYPES:
        raise ApmseedError(f"{_at(where, 'type')}: unknown anomaly type {kind!r}",
                           f"use one of: {', '.join(ANOMALY_TYPES)}")
    for key, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ApmseedError(f"{_at(where, key)}: {value!r} is not a point index",
                               "give a whole number >= 0 (points from the start of the window)")
    if end <= start:
        raise ApmseedError(f"{_at(where, 'end')}: the window [{start}, {end}) is empty",
                           "give an end after the start")
    mkind = MAGNITUDE_KIND[kind]
    ok = not isinstance(magnitude, bool) and isinstance(magnitude, int | float | np.integer | np.floating)
    if ok:
        m = float(magnitude)
        ok = math.isfinite(m) and {"factor": m > 0, "level": 0 < m <= 1, "share": 0 <= m <= 1}[mkind]
    if not ok:
        raise ApmseedError(f"{_at(where, 'magnitude')}: {magnitude!r} does not fit a {kind}",
                           f"give {_KIND_HINT[mkind]}, or leave it out for {DEFAULT_MAGNITUDE[kind]:g}")
    if metric is not None and metric not in EFFECTS[kind]:
        raise ApmseedError(f"{_at(where, 'metric')}: a {kind} does not act on {metric!r}",
                           f"use one of: {', '.join(EFFECTS[kind])}, or leave it out")


def window(anomaly: Anomaly, n: int, rng: np.random.Generator) -> tuple[slice, np.ndarray]:
    """The anomaly's window clipped to `n` points and its strength there (what `profile` embeds in zeros):
    signals work on the window only, so an anomaly costs in proportion to its length."""
    start, end = min(anomaly.start, n), min(anomaly.end, n)
    length = end - start
    t = np.arange(length, dtype=np.float64)
    kind = anomaly.type
    if length <= 0:
        shape = t
    elif kind == "spike":  # sharp onset, decays to almost nothing by the end of the window
        shape = np.exp(-t / max(1.0, length / 6.0))
    elif kind in ("level_shift", "outage"):
        shape = np.ones(length)
    elif kind in ("degradation", "memory_leak"):  # a linear climb that reaches 1 at the last point
        shape = (t + 1.0) / length
    elif kind == "saturation":  # reaches the cap within the first tenth, then stays there
        shape = np.minimum(1.0, (t + 1.0) / max(1.0, math.ceil(0.1 * length)))
    else:  # flapping: on/off with random segment lengths, starting on
        low = 1 if length < 6 else 2
        high = max(low, min(15, length // 3))
        bounds = np.cumsum(rng.integers(low, high + 1, size=length))
        shape = (np.searchsorted(bounds, t, side="right") % 2 == 0).astype(np.float64)
    return slice(start, end), shape


def profile(anomaly: Anomaly, n: int, rng: np.random.Generator) -> np.ndarray:
    """The anomaly's strength at each of `n` points, in [0, 1] and 0 outside [start, end). Only flapping
    draws from `rng` (its on/off lengths)."""
    out = np.zeros(n)
    where, shape = window(anomaly, n, rng)
    out[where] = shape
    return out


def apply(values: np.ndarray, metric: str, anomalies: Sequence[Anomaly],
          windows: Sequence[tuple[slice, np.ndarray]]) -> np.ndarray:
    """`values` of `metric` with every anomaly's effect applied in order, inside its window (from `window`).
    Returns `values` itself when no anomaly acts on the metric, else a copy changed inside the windows only."""
    out = values
    for anomaly, (where, p) in zip(anomalies, windows, strict=True):
        eff = anomaly.effect(metric)
        if eff is None or not p.size:
            continue
        if out is values:
            out = values.copy()
        mode, amount = eff
        if mode == "mul":
            out[where] *= 1.0 + (amount - 1.0) * p
        elif mode == "level":
            out[where] = out[where] * (1.0 - p) + amount * p
        else:  # drop
            out[where] *= 1.0 - amount * p
    return out


@dataclass(frozen=True)
class Incident:
    """An issue's excursion on one bundle, in point indices [start, end); `strength` depends on `kind`:
    latency factor, erroneous-call share, or utilisation level (the numbers the issue text quotes)."""

    kind: str  # latency | errors | cpu | memory
    start: int
    end: int
    strength: float


def from_incident(incident: Incident) -> tuple[Anomaly, ...]:
    """The anomalies that make an issue's text true inside its window."""
    s, e, k = incident.start, incident.end, incident.strength
    if e <= s:
        return ()
    if incident.kind == "latency":
        return (Anomaly("level_shift", s, e, k, "latency"),)
    if incident.kind == "errors":  # the failing share plateaus; failing calls slow their callers a little
        return (Anomaly("saturation", s, e, min(1.0, k), "erroneousCalls"),
                Anomaly("level_shift", s, e, 1.3, "latency"))
    if incident.kind == "cpu":
        return (Anomaly("saturation", s, e, k, "cpu.used"),)
    if incident.kind == "memory":
        return (Anomaly("memory_leak", s, e, k, "memory.used"),)
    raise ApmseedError(f"unknown incident kind {incident.kind!r}", "use latency, errors, cpu or memory")


def parse_anomaly(spec: Mapping[str, Any], where: str = "") -> Anomaly:
    """`{"type": "spike", "start": 10, "end": 20, "magnitude": 5, "metric": "calls"}` (magnitude and metric
    optional) -> Anomaly; errors name `where` and the key."""
    if not isinstance(spec, Mapping):
        raise ApmseedError(f"{where or 'anomaly'}: expected a mapping, got {spec!r}",
                           "write e.g. {type: spike, start: 10, end: 20}")
    unknown = sorted(set(spec) - {"type", "start", "end", "magnitude", "metric"})
    if unknown:
        raise ApmseedError(f"{_at(where, str(unknown[0]))}: unknown anomaly key",
                           "use type, start, end, magnitude, metric")
    for key in ("type", "start", "end"):
        if key not in spec:
            raise ApmseedError(f"{_at(where, key)}: missing", f"give the anomaly's {key}")
    kind = spec["type"]
    magnitude = spec.get("magnitude", DEFAULT_MAGNITUDE.get(kind, 1.0))
    _check(kind, spec["start"], spec["end"], magnitude, spec.get("metric"), where)
    return Anomaly(kind, spec["start"], spec["end"], magnitude, spec.get("metric"))
