"""Scenario specs: the declarative description of a world (size, time window, seasonality, pinned services and
hosts, distribution overrides, incidents, cascades, releases, traffic surges) as frozen dataclasses with absolute
times. The YAML file and the fluent builder both end here, through the checks in `loader`."""

from __future__ import annotations

import dataclasses
import difflib
import importlib.resources
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apmseed import catalog, timeutil, vocab
from apmseed.errors import ApmseedError
from apmseed.profiles import Profile

MINUTE_MS = 60_000

# --- vocabulary shared with the signal engine ------------------------------------------------------------------
# These names MUST match src/apmseed/scenarios/distributions.py, seasonality.py and anomalies.py (the signal
# engine, not imported here so the declarative side stands alone) and jsonschemas/scenario.schema.json.

# distribution -> parameter -> check (number | positive | nonnegative | path); see DISTRIBUTION_DEFAULTS
DISTRIBUTIONS: dict[str, dict[str, str]] = {
    "normal": {"mean": "number", "sd": "positive"},
    "lognormal": {"median": "positive", "sigma": "positive"},
    "poisson": {"lam": "nonnegative"},
    "gamma": {"shape": "positive", "scale": "positive"},
    "pareto": {"alpha": "positive", "scale": "positive"},
    "beta": {"a": "positive", "b": "positive", "scale": "positive"},
    "constant": {"value": "number"},
    "empirical": {"csv": "path"},  # relative to the scenario file
}
DISTRIBUTION_DEFAULTS: dict[str, dict[str, float]] = {"beta": {"scale": 1.0}}  # optional parameters
ANOMALY_TYPES = ("spike", "level_shift", "degradation", "memory_leak", "saturation", "flapping", "outage")
# the metrics each anomaly type acts on (anomalies.EFFECTS)
ANOMALY_METRICS: dict[str, tuple[str, ...]] = {
    "spike": ("calls", "erroneousCalls", "latency", "cpu.used", "memory.used"),
    "level_shift": ("calls", "erroneousCalls", "latency", "cpu.used", "memory.used"),
    "degradation": ("calls", "erroneousCalls", "latency", "cpu.used", "memory.used"),
    "memory_leak": ("memory.used", "cpu.used", "latency"),
    "saturation": ("cpu.used", "memory.used", "erroneousCalls", "latency"),
    "flapping": ("erroneousCalls", "calls", "cpu.used", "memory.used"),
    "outage": ("calls", "erroneousCalls", "cpu.used", "memory.used"),
}
REGIONS = ("AMER", "EMEA", "APAC")
REGION_UTC_OFFSETS = {"AMER": -5.0, "EMEA": 1.0, "APAC": 8.0}  # seasonality.REGIONS
ENTITY_TYPES = ("APPLICATION", "SERVICE", "ENDPOINT", "INFRASTRUCTURE")


@dataclass(frozen=True)
class Bound:
    """An allowed numeric range, shared by the loader's checks and the wording of its fixes."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def contains(self, value: float) -> bool:
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        return not (self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi))

    def describe(self) -> str:
        parts = []
        if self.lo is not None:
            parts.append(f"{'above' if self.lo_open else 'at least'} {self.lo:g}")
        if self.hi is not None:
            parts.append(f"{'below' if self.hi_open else 'at most'} {self.hi:g}")
        return " and ".join(parts) or "any number"


SEASONALITY_KEYS: dict[str, Bound] = {
    "daily_amplitude": Bound(0, 1, hi_open=True),  # the daily cycle swings the mean by +- this share
    "peak_hour": Bound(0, 24, hi_open=True),  # local hour of the daily peak
    "weekend_factor": Bound(0, None, lo_open=True),  # weekend traffic relative to a weekday
    "trend_per_day": Bound(-1, None, lo_open=True),  # compound growth per day
    "noise": Bound(0, 1),  # sigma of the multiplicative noise
    "utc_offset_h": Bound(-12, 14),  # local time = UTC + offset
}
# what `magnitude` means per anomaly type (anomalies.MAGNITUDE_KIND): a factor > 0, a level in (0, 1] that
# utilisation or the error share reaches, or a share in [0, 1] of the calls lost or failing
MAGNITUDE_KINDS = {"factor": Bound(0, None, lo_open=True), "level": Bound(0, 1, lo_open=True), "share": Bound(0, 1)}
ANOMALY_MAGNITUDE = {"spike": "factor", "level_shift": "factor", "degradation": "factor", "memory_leak": "level",
                     "saturation": "level", "flapping": "share", "outage": "share"}
# ------------------------------------------------------------------------------------------------------------------

TRAFFIC_METRIC_IDS = tuple(m["metric_id"] for m in catalog.TRAFFIC_METRICS)
INFRA_METRIC_IDS = tuple(m["metric_id"] for m in catalog.INFRA_METRICS)
METRIC_IDS = TRAFFIC_METRIC_IDS + INFRA_METRIC_IDS
SERVICE_KINDS = tuple(sorted({k.category for k in vocab.SERVICES}))  # database, messaging, web
TECHNOLOGIES = (*vocab.LANGUAGES, "postgresql", "redis", "elasticsearch", "kafka")
HOST_KINDS = ("host", "pod")
RELEASE_EFFECTS = ("regression", "improvement")
POSITIVE = Bound(0, None, lo_open=True)
PARAM_BOUNDS = {"number": Bound(), "positive": POSITIVE, "nonnegative": Bound(0)}
SHARE = Bound(0, 1, lo_open=True)
DAMPING = Bound(0, 1, lo_open=True)
ERROR_RATE_DELTA = Bound(-1, 1)
MAX_DEPTH = 10
CASCADE_DEFAULTS = {"type": "outage", "delay": "2m", "damping": 0.5, "max_depth": 3, "propagates_as": "degradation"}

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ENTITY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
OFFSET_RE = re.compile(r"^([+-])(\S+)$")
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
AT_FIX = "write e.g. -3h (before the window end), +2h (after the window start) or 2025-11-20T14:00:00Z"
DURATION_FIX = "write it like 20m, 1h30m or 2d"

TOP_REQUIRED = ("name", "description")
TOP_OPTIONAL = ("profile", "seed", "end_time", "seasonality", "regions", "services", "hosts", "distributions",
                "incidents", "cascades", "releases", "traffic")


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest known name, for "did you mean" fixes."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def parse_duration(text: str) -> int | None:
    """`20m`, `1h30m`, `2d` -> milliseconds; None if malformed (zero is allowed here, callers decide)."""
    match = DURATION_RE.match(text)
    if not text or not match:
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * MINUTE_MS


def format_duration(ms: int) -> str:
    """The inverse of parse_duration, shortest form (`90 min` -> `1h30m`)."""
    minutes = ms // MINUTE_MS
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return text or "0m"


@dataclass(frozen=True)
class Seasonality:
    """Seasonality settings; None means the signal engine's default."""

    daily_amplitude: float | None = None
    peak_hour: float | None = None
    weekend_factor: float | None = None
    trend_per_day: float | None = None
    noise: float | None = None
    utc_offset_h: float | None = None

    def given(self) -> dict[str, float]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def merged(self, override: Seasonality) -> Seasonality:
        return dataclasses.replace(self, **override.given())


@dataclass(frozen=True)
class Region:
    name: str  # AMER | EMEA | APAC
    share: float | None  # share of the traffic, None = even split
    seasonality: Seasonality  # effective: global settings < the region's UTC offset < the region's own settings


@dataclass(frozen=True)
class ServiceDecl:
    """A service the generated world must contain under this name; `calls` are topology edges."""

    name: str
    kind: str  # web | database | messaging
    technology: str | None
    region: str | None
    calls: tuple[str, ...]


@dataclass(frozen=True)
class HostDecl:
    name: str
    kind: str  # host | pod
    region: str | None
    runs: tuple[str, ...]  # declared services running on it


@dataclass(frozen=True)
class DistributionOverride:
    """The distribution of one metric, for every entity, an entity type or one named entity."""

    metric: str
    distribution: str
    params: dict[str, float | str]  # defaults filled in; empirical `csv` is an absolute path
    entity_type: str | None = None
    entity: str | None = None


@dataclass(frozen=True)
class IncidentSpec:
    """An anomaly on one declared entity (service, host or region) over [start_ms, end_ms)."""

    entity: str
    type: str
    start_ms: int
    end_ms: int
    magnitude: float | None = None  # None: the engine's default for the type
    metric: str | None = None
    allow_overlap: bool = False
    source: str = "incident"  # incident | cascade (a cascade's own root) | release (triggered by a deploy)

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class CascadeSpec:
    """A failure on `root` that spreads along the topology: callers degrade `delay_ms` per hop later,
    weaker by `damping` per hop, at most `max_depth` hops away."""

    root: str
    incident: IncidentSpec
    delay_ms: int
    damping: float
    max_depth: int
    propagates_as: str


@dataclass(frozen=True)
class CascadeHop:
    """One entity reached by a cascade. Depth 0: inside the failing region or on the failing host (fails with
    the root); depth n: n call edges away (degrades later and weaker)."""

    entity: str
    depth: int
    via: str
    type: str
    start_ms: int
    end_ms: int
    factor: float  # damping ** depth, relative to the root incident's magnitude


@dataclass(frozen=True)
class ReleaseSpec:
    """A deploy that shifts a service's baseline from `at_ms` on, and may trigger an incident."""

    service: str
    at_ms: int
    effect: str  # regression | improvement
    latency_factor: float = 1.0
    error_rate_delta: float = 0.0
    version: str | None = None
    triggers: IncidentSpec | None = None


@dataclass(frozen=True)
class TrafficSurge:
    """Traffic multiplied by `multiplier` over [start_ms, end_ms), reached over `ramp_ms` at both ends; for
    the whole world, one region or one service."""

    start_ms: int
    end_ms: int
    multiplier: float
    ramp_ms: int = 0
    region: str | None = None
    entity: str | None = None


@dataclass(frozen=True)
class ScenarioSpec:
    name: str
    description: str
    profile: Profile
    end_ms: int
    seed: int | None = None
    seasonality: Seasonality = Seasonality()
    regions: tuple[Region, ...] = ()
    services: tuple[ServiceDecl, ...] = ()
    hosts: tuple[HostDecl, ...] = ()
    distributions: tuple[DistributionOverride, ...] = ()
    incidents: tuple[IncidentSpec, ...] = ()  # every incident (cascade roots and release triggers too), by start
    cascades: tuple[CascadeSpec, ...] = ()
    releases: tuple[ReleaseSpec, ...] = ()
    traffic: tuple[TrafficSurge, ...] = ()
    source: str = field(default="", compare=False)

    @property
    def start_ms(self) -> int:
        return self.end_ms - self.profile.minutes * MINUTE_MS

    @property
    def step_ms(self) -> int:
        return self.profile.resolution * MINUTE_MS

    @property
    def n_points(self) -> int:
        return self.profile.points_per_series

    def point_index(self, ms: int) -> int:
        """Index of the first point at or after `ms` (points sit at start + i * step), clipped to the window."""
        return min(self.n_points, max(0, -((self.start_ms - ms) // self.step_ms)))

    def point_range(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """Half-open point indices [i, j) of the points inside [start_ms, end_ms)."""
        return self.point_index(start_ms), self.point_index(end_ms)

    def entity_kind(self, name: str) -> str | None:
        """service | host | region, or None for an undeclared name."""
        if any(s.name == name for s in self.services):
            return "service"
        if any(h.name == name for h in self.hosts):
            return "host"
        return "region" if any(r.name == name for r in self.regions) else None

    def dependents(self, name: str) -> tuple[list[str], list[str]]:
        """(entities that fail with `name`: its region's members or its host's services, callers of `name`)."""
        kind = self.entity_kind(name)
        contained: list[str] = []
        if kind == "region":
            contained = [e.name for e in (*self.services, *self.hosts) if e.region == name]
        elif kind == "host":
            contained = list(next(h for h in self.hosts if h.name == name).runs)
        callers = [s.name for s in self.services if name in s.calls]
        return sorted(contained), sorted(callers)

    def cascade_hops(self, cascade: CascadeSpec) -> tuple[CascadeHop, ...]:
        """The entities a cascade reaches, breadth first (each at its smallest depth), in time order; hops that
        would start after the window are dropped. The root is never a hop, and depth >= 1 starts after it."""
        root = cascade.incident
        hops: list[CascadeHop] = []
        seen = {cascade.root}
        queue: deque[tuple[str, int]] = deque([(cascade.root, 0)])
        while queue:
            name, depth = queue.popleft()
            contained, callers = self.dependents(name)
            steps = [(e, depth, root.type) for e in contained]
            if depth < cascade.max_depth:
                steps += [(e, depth + 1, cascade.propagates_as) for e in callers]
            for entity, hop_depth, hop_type in steps:
                if entity in seen:
                    continue
                seen.add(entity)
                shift = hop_depth * cascade.delay_ms
                start, end = root.start_ms + shift, min(self.end_ms, root.end_ms + shift)
                if start < self.end_ms:
                    hops.append(CascadeHop(entity, hop_depth, name, hop_type, start, end,
                                           cascade.damping ** hop_depth))
                queue.append((entity, hop_depth))
        return tuple(sorted(hops, key=lambda h: (h.start_ms, h.depth, h.entity)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the window and each cascade's hops spelled out (`apmseed scenarios show --json`)."""
        data = dataclasses.asdict(self)
        del data["source"]
        data["window"] = {"start": timeutil.iso(self.start_ms), "end": timeutil.iso(self.end_ms),
                          "start_ms": self.start_ms, "end_ms": self.end_ms, "points": self.n_points}
        for cascade, out in zip(self.cascades, data["cascades"], strict=True):
            out["hops"] = [dataclasses.asdict(h) for h in self.cascade_hops(cascade)]
        return data


def builtin_dir() -> Path:
    return Path(str(importlib.resources.files("apmseed.scenarios") / "builtin"))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def scenario_source(name_or_path: str) -> tuple[Path, str]:
    """(file, text) of a built-in scenario name or a scenario file."""
    path = Path(name_or_path)
    if not path.is_file():
        if name_or_path in builtin_names():
            path = builtin_dir() / f"{name_or_path}.yaml"
        elif path.suffix in (".yaml", ".yml") or "/" in name_or_path or path.exists():
            raise ApmseedError(f"no scenario file {name_or_path!r}", "check the path")
        else:
            close = suggest(name_or_path, builtin_names())
            hint = f"did you mean {close!r}? " if close else ""
            raise ApmseedError(f"unknown scenario {name_or_path!r}",
                               f"{hint}use a path to a .yaml file or a built-in: {', '.join(builtin_names())}")
    try:
        return path, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ApmseedError(f"cannot read scenario file {str(path)!r}: {err}", "check the file") from None


def resolve_scenario(name_or_path: str, *, end_ms: int | None = None,
                     profile_overrides: Mapping[str, int | None] | None = None) -> ScenarioSpec:
    """The spec of a built-in scenario (`steady`, ...) or a scenario file; what `seed --scenario` uses.
    `end_ms` (--end-time) wins over the file's end_time, which wins over now; `profile_overrides` (--minutes,
    ...) win over the file's sizes. Raises ScenarioError (FILE:LINE: problem (fix)) or ApmseedError."""
    from apmseed.scenarios.loader import load_text  # the loader builds these dataclasses: import it late

    path, text = scenario_source(name_or_path)
    return load_text(text, str(path), base_dir=path.parent, end_ms=end_ms, profile_overrides=profile_overrides)
