"""The scenario loader: walks a YAML node tree (or the builder's) once, checks every key, type, reference and
time window, records each problem with the line of the offending key, and builds the frozen ScenarioSpec."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apmseed import profiles, timeutil
from apmseed.errors import ApmseedError
from apmseed.profiles import Profile
from apmseed.scenarios.spec import (
    ANOMALY_MAGNITUDE,
    ANOMALY_METRICS,
    ANOMALY_TYPES,
    AT_FIX,
    CASCADE_DEFAULTS,
    DAMPING,
    DISTRIBUTION_DEFAULTS,
    DISTRIBUTIONS,
    DURATION_FIX,
    ENTITY_RE,
    ENTITY_TYPES,
    ERROR_RATE_DELTA,
    HOST_KINDS,
    INFRA_METRIC_IDS,
    ISO_RE,
    MAGNITUDE_KINDS,
    MAX_DEPTH,
    METRIC_IDS,
    MINUTE_MS,
    NAME_RE,
    OFFSET_RE,
    PARAM_BOUNDS,
    POSITIVE,
    REGION_UTC_OFFSETS,
    REGIONS,
    RELEASE_EFFECTS,
    SEASONALITY_KEYS,
    SERVICE_KINDS,
    SHARE,
    TECHNOLOGIES,
    TOP_OPTIONAL,
    TOP_REQUIRED,
    TRAFFIC_METRIC_IDS,
    Bound,
    CascadeSpec,
    DistributionOverride,
    HostDecl,
    IncidentSpec,
    Region,
    ReleaseSpec,
    ScenarioSpec,
    Seasonality,
    ServiceDecl,
    TrafficSurge,
    format_duration,
    parse_duration,
    suggest,
)
from apmseed.scenarios.yaml_lines import Issue, Node, ScenarioError, parse_yaml


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _listing(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names) if names else "none"


@dataclass(frozen=True)
class _Window:
    start_ms: int
    end_ms: int


@dataclass
class _Located:
    """A resolved incident and where it was declared, for overlap messages."""

    incident: IncidentSpec
    line: int
    path: str


class _Parser:
    """Walks the node tree once, recording every problem (not just the first) as an Issue."""

    def __init__(self, source: str, base_dir: Path | None) -> None:
        self.source = source
        self.base_dir = base_dir
        self.issues: list[Issue] = []
        self.window: _Window | None = None
        self.services: dict[str, tuple[ServiceDecl, Node]] = {}
        self.hosts: dict[str, tuple[HostDecl, Node]] = {}
        self.regions: dict[str, Region] = {}
        self.incidents: list[_Located] = []
        self.edges: list[tuple[str, str, Node]] = []  # (declaring service, path, name node) of calls and runs

    # --- basic checks -------------------------------------------------------------------------------------------

    def fail(self, line: int, path: str, problem: str, fix: str) -> None:
        self.issues.append(Issue(self.source, line, f"{path}: {problem}" if path else problem, fix))

    def mapping(self, node: Node, path: str, required: Sequence[str], optional: Sequence[str]
                ) -> dict[str, Node] | None:
        """The keys of a mapping; unknown keys (with a suggestion) and missing required keys are problems."""
        if node.kind != "map":
            self.fail(node.line, path, f"must be a mapping, got {node.described}",
                      f"write {path or 'the scenario'} as `key: value` lines")
            return None
        allowed = [*required, *optional]
        for key, child in node.value.items():
            if key not in allowed:
                close = suggest(key, allowed)
                hint = f"did you mean {close!r}? " if close else ""
                self.fail(child.line, path, f"unknown key {key!r}",
                          f"{hint}keys allowed here: {', '.join(allowed)}")
        for key in required:
            if key not in node.value:
                self.fail(node.line, path, f"missing required key {key!r}", f"add `{key}:`")
        return {k: v for k, v in node.value.items() if k in allowed}

    def items(self, node: Node, path: str) -> list[tuple[str, Node]]:
        """(path, node) of each list item; `key:` with nothing after it is an empty list."""
        if node.kind == "null":
            return []
        if node.kind != "seq":
            self.fail(node.line, path, f"must be a list, got {node.described}", "write each item as `- ...`")
            return []
        return [(_join(path, i), item) for i, item in enumerate(node.value)]

    def string(self, node: Node, path: str, pattern: re.Pattern[str] | None = None, what: str = "") -> str | None:
        if node.kind != "str":
            fix = "quote it" if node.kind in ("int", "float", "bool", "timestamp") else "write a string"
            self.fail(node.line, path, f"must be a string, got {node.described}", fix)
            return None
        if not node.value.strip():
            self.fail(node.line, path, "must not be empty", "write a value")
            return None
        if pattern and not pattern.match(node.value):
            self.fail(node.line, path, f"{node.value!r} is not a valid {what}", f"use {pattern.pattern}")
            return None
        return node.value

    def number(self, node: Node, path: str, bound: Bound = Bound(), fix: str | None = None) -> float | None:
        if node.kind not in ("int", "float") or not math.isfinite(node.value):
            self.fail(node.line, path, f"must be a number, got {node.described}",
                      fix or f"write a number, {bound.describe()}")
            return None
        if not bound.contains(node.value):
            self.fail(node.line, path, f"{node.value:g} is out of range", fix or f"use a number {bound.describe()}")
            return None
        return float(node.value)

    def integer(self, node: Node, path: str, lo: int, hi: int | None = None) -> int | None:
        ok = node.kind == "int" or (node.kind == "float" and math.isfinite(node.value) and node.value.is_integer())
        if not ok:
            self.fail(node.line, path, f"must be an integer, got {node.described}", "write a whole number")
            return None
        value = int(node.value)
        if value < lo or (hi is not None and value > hi):
            limit = f"between {lo} and {hi}" if hi is not None else f"{lo} or more"
            self.fail(node.line, path, f"{value} is out of range", f"use {limit}")
            return None
        return value

    def boolean(self, node: Node, path: str) -> bool | None:
        if node.kind != "bool":
            self.fail(node.line, path, f"must be true or false, got {node.described}", "write true or false")
            return None
        return bool(node.value)

    def choice(self, node: Node, path: str, choices: Sequence[str], what: str) -> str | None:
        value = self.string(node, path)
        if value is None:
            return None
        if value not in choices:
            close = suggest(value, choices)
            hint = f"did you mean {close!r}? " if close else ""
            self.fail(node.line, path, f"unknown {what} {value!r}", f"{hint}use one of: {', '.join(choices)}")
            return None
        return value

    def reference(self, node: Node, path: str, known: Sequence[str], what: str) -> str | None:
        """A name that must be declared elsewhere in the scenario; the fix lists the declared ones."""
        value = self.string(node, path)
        if value is None:
            return None
        if value not in known:
            close = suggest(value, known)
            hint = f"did you mean {close!r}? " if close else ""
            self.fail(node.line, path, f"{value!r} is not a declared {what}",
                      f"{hint}declared: {_listing(known)}")
            return None
        return value

    def duration(self, node: Node, path: str) -> int | None:
        """A positive duration in ms."""
        if node.kind != "str":
            self.fail(node.line, path, f"must be a duration, got {node.described}", DURATION_FIX)
            return None
        ms = parse_duration(node.value)
        if ms is None:
            self.fail(node.line, path, f"{node.value!r} is not a duration", DURATION_FIX)
            return None
        if ms <= 0:
            self.fail(node.line, path, "must be longer than zero", DURATION_FIX)
            return None
        return ms

    def instant(self, node: Node, path: str) -> int | None:
        """`at`: an ISO 8601 time, `-3h` (before the window end) or `+2h` (after the window start), in ms."""
        if node.kind not in ("str", "timestamp"):
            self.fail(node.line, path, f"must be a time or an offset, got {node.described}", AT_FIX)
            return None
        text = node.value
        offset = OFFSET_RE.match(text)
        if offset:
            ms = parse_duration(offset.group(2))
            if ms is None:
                self.fail(node.line, path, f"{text!r} is not an offset", AT_FIX)
                return None
            if self.window is None:
                return None
            return self.window.end_ms - ms if offset.group(1) == "-" else self.window.start_ms + ms
        if not ISO_RE.match(text):
            self.fail(node.line, path, f"{text!r} is neither an ISO 8601 time nor an offset", AT_FIX)
            return None
        try:
            return timeutil.parse_time(text, "the time")
        except ApmseedError as err:
            self.fail(node.line, path, err.problem, err.fix or AT_FIX)
            return None

    def span(self, at: int | None, at_node: Node, at_path: str, duration: int | None, dur_node: Node,
             dur_path: str) -> tuple[int, int] | None:
        """[start, end) after checking it lies inside the scenario's window."""
        if at is None or duration is None or self.window is None:
            return None
        if not self.inside(at, at_node, at_path):
            return None
        window = self.window
        if at + duration > window.end_ms:
            self.fail(dur_node.line, dur_path,
                      f"{format_duration(duration)} from {timeutil.iso(at)} runs past the window end "
                      f"{timeutil.iso(window.end_ms)}",
                      f"shorten it to at most {format_duration(window.end_ms - at)} or start earlier")
            return None
        return at, at + duration

    def inside(self, at: int, node: Node, path: str) -> bool:
        window = self.window
        assert window is not None
        if window.start_ms <= at < window.end_ms:
            return True
        length = format_duration(window.end_ms - window.start_ms)
        self.fail(node.line, path, f"{timeutil.iso(at)} is outside the scenario window "
                  f"{timeutil.iso(window.start_ms)} .. {timeutil.iso(window.end_ms)}",
                  f"use an offset from -{length} to -1m, or raise profile.minutes")
        return False

    # --- sections -----------------------------------------------------------------------------------------------

    def scenario(self, root: Node, end_ms: int | None, overrides: Mapping[str, int | None]) -> ScenarioSpec | None:
        top = self.mapping(root, "", TOP_REQUIRED, TOP_OPTIONAL)
        if top is None:
            return None
        name = self.string(top["name"], "name", NAME_RE, "scenario name") if "name" in top else None
        description = self.string(top["description"], "description") if "description" in top else None
        profile = self.profile(top.get("profile"), overrides)
        seed = self.integer(top["seed"], "seed", 0, 2**31 - 1) if "seed" in top else None
        file_end = self.end_time(top["end_time"]) if "end_time" in top else None
        end_ms = end_ms if end_ms is not None else file_end if file_end is not None else timeutil.parse_end_time(None)
        if profile is not None:
            self.window = _Window(end_ms - profile.minutes * MINUTE_MS, end_ms)

        empty = Node(None, 0, "null")
        seasonality = self.seasonality(top["seasonality"], "seasonality") if "seasonality" in top else Seasonality()
        self.parse_regions(top.get("regions", empty), seasonality or Seasonality())
        self.declare_entities(top.get("services", empty), top.get("hosts", empty))
        self.check_topology()
        distributions = [d for p, n in self.items(top.get("distributions", empty), "distributions")
                         if (d := self.distribution(n, p)) is not None]
        for path, node in self.items(top.get("incidents", empty), "incidents"):
            self.incident(node, path)
        releases = [r for p, n in self.items(top.get("releases", empty), "releases")
                    if (r := self.release(n, p)) is not None]
        cascades = [c for p, n in self.items(top.get("cascades", empty), "cascades")
                    if (c := self.cascade(n, p)) is not None]
        traffic = [t for p, n in self.items(top.get("traffic", empty), "traffic")
                   if (t := self.surge(n, p)) is not None]
        self.check_overlaps()
        if profile is not None:
            self.check_sizes(profile, top)
        if self.issues or name is None or description is None or profile is None or seasonality is None:
            return None
        incidents = sorted((loc.incident for loc in self.incidents), key=lambda i: (i.start_ms, i.entity, i.type))
        return ScenarioSpec(
            name=name, description=description.strip(), profile=profile, end_ms=end_ms, seed=seed,
            seasonality=seasonality, regions=tuple(self.regions.values()),
            services=tuple(s for s, _ in self.services.values()), hosts=tuple(h for h, _ in self.hosts.values()),
            distributions=tuple(distributions), incidents=tuple(incidents), cascades=tuple(cascades),
            releases=tuple(releases), traffic=tuple(traffic), source=self.source)

    def profile(self, node: Node | None, overrides: Mapping[str, int | None]) -> Profile | None:
        """`profile: small`, or a mapping with `name`, size overrides and `scale` (overrides passed in win)."""
        given: dict[str, int] = {}
        lines: dict[str, int] = {}
        scale: float | None = None
        line = node.line if node is not None else 0
        if node is None:
            name: str | None = "small"
        elif node.kind == "str":
            name = self.choice(node, "profile", list(profiles.PROFILES), "profile")
        elif node.kind != "map":
            self.fail(node.line, "profile", f"must be a profile name or a mapping, got {node.described}",
                      "write e.g. `profile: small` or `profile: {name: small, minutes: 240}`")
            return None
        else:
            keys = self.mapping(node, "profile", ("name",), (*profiles.OVERRIDES, "scale")) or {}
            name = self.choice(keys["name"], "profile.name", list(profiles.PROFILES), "profile") \
                if "name" in keys else None
            for key in profiles.OVERRIDES:
                if key not in keys:
                    continue
                lowest = 3 if key == "entities" else profiles.MINIMUMS[key]  # a host, a container, a process
                value = self.integer(keys[key], f"profile.{key}", lowest)
                if value is None:
                    return None
                given[key], lines[key] = value, keys[key].line
            if "scale" in keys and (scale := self.number(keys["scale"], "profile.scale", POSITIVE)) is None:
                return None
        if name is None:
            return None
        given.update({k: v for k, v in overrides.items() if v is not None})
        merged = dataclasses.replace(profiles.PROFILES[name], **given)
        if merged.minutes % merged.resolution:
            self.fail(lines.get("resolution", lines.get("minutes", line)), "profile",
                      f"minutes {merged.minutes} is not a multiple of resolution {merged.resolution}",
                      "pick a window that is a whole number of resolution steps")
            return None
        try:
            return profiles.resolve(name, given, scale)
        except ApmseedError as err:
            self.fail(line, "profile", err.problem, err.fix or "see `apmseed seed --help`")
            return None

    def end_time(self, node: Node) -> int | None:
        if node.kind not in ("str", "timestamp") or not ISO_RE.match(str(node.value)):
            self.fail(node.line, "end_time", f"must be an ISO 8601 time, got {node.described}",
                      "write e.g. 2025-11-20T15:00:00Z")
            return None
        try:
            return timeutil.parse_time(node.value, "end_time")
        except ApmseedError as err:
            self.fail(node.line, "end_time", err.problem, err.fix or "write e.g. 2025-11-20T15:00:00Z")
            return None

    def seasonality(self, node: Node, path: str) -> Seasonality | None:
        keys = self.mapping(node, path, (), tuple(SEASONALITY_KEYS))
        if keys is None:
            return None
        values = {k: self.number(v, _join(path, k), SEASONALITY_KEYS[k]) for k, v in keys.items()}
        if any(v is None for v in values.values()):
            return None
        return Seasonality(**values)

    def parse_regions(self, node: Node, seasonality: Seasonality) -> None:
        if node.kind == "null":
            return
        if node.kind != "map":
            self.fail(node.line, "regions", f"must be a mapping of region to settings, got {node.described}",
                      f"write e.g. `regions: {{EMEA: {{share: 0.4}}}}` with regions from {', '.join(REGIONS)}")
            return
        for name, child in node.value.items():
            path = _join("regions", name)
            if name not in REGIONS:
                close = suggest(name, REGIONS)
                hint = f"did you mean {close!r}? " if close else ""
                self.fail(child.line, "regions", f"unknown region {name!r}", f"{hint}use one of: {', '.join(REGIONS)}")
                continue
            keys = {} if child.kind == "null" else self.mapping(child, path, (), ("share", "seasonality"))
            if keys is None:
                continue
            share = self.number(keys["share"], _join(path, "share"), SHARE) if "share" in keys else None
            own = self.seasonality(keys["seasonality"], _join(path, "seasonality")) \
                if "seasonality" in keys else Seasonality()
            located = Seasonality(utc_offset_h=REGION_UTC_OFFSETS[name])  # the region's local time by default
            self.regions[name] = Region(name, share, seasonality.merged(located).merged(own or Seasonality()))
        shares = [r.share for r in self.regions.values()]
        if any(s is not None for s in shares):
            if any(s is None for s in shares):
                self.fail(node.line, "regions", "some regions have a share and some do not",
                          "give every region a share, or none (an even split)")
            elif abs(sum(s for s in shares if s is not None) - 1.0) > 1e-6:
                total = sum(s for s in shares if s is not None)
                self.fail(node.line, "regions", f"the shares add up to {total:g}, not 1", "make them add up to 1")

    def declare_entities(self, services: Node, hosts: Node) -> None:
        """Services and hosts share one namespace (incidents name either); region names are reserved."""
        first_line: dict[str, int] = {}

        def name_of(keys: dict[str, Node], path: str) -> str | None:
            if "name" not in keys:
                return None
            node = keys["name"]
            value = self.string(node, _join(path, "name"), ENTITY_RE, "name")
            if value is None:
                return None
            if value in REGIONS:
                self.fail(node.line, _join(path, "name"), f"{value!r} is a region name",
                          "name the entity differently")
                return None
            if value in first_line:
                self.fail(node.line, _join(path, "name"),
                          f"{value!r} is declared twice (first at line {first_line[value]})", "rename one of them")
                return None
            first_line[value] = node.line
            return value

        for path, node in self.items(services, "services"):
            keys = self.mapping(node, path, ("name",), ("kind", "technology", "region", "calls"))
            if keys is None or (name := name_of(keys, path)) is None:
                continue
            kind = self.choice(keys["kind"], _join(path, "kind"), SERVICE_KINDS, "service kind") \
                if "kind" in keys else "web"
            tech = self.choice(keys["technology"], _join(path, "technology"), TECHNOLOGIES, "technology") \
                if "technology" in keys else None
            region = self.region_ref(keys.get("region"), _join(path, "region"))
            calls = tuple(self.name_list(name, keys.get("calls"), _join(path, "calls")))
            self.services[name] = (ServiceDecl(name, kind or "web", tech, region, calls), node)
        for path, node in self.items(hosts, "hosts"):
            keys = self.mapping(node, path, ("name",), ("kind", "region", "runs"))
            if keys is None or (name := name_of(keys, path)) is None:
                continue
            kind = self.choice(keys["kind"], _join(path, "kind"), HOST_KINDS, "host kind") \
                if "kind" in keys else "host"
            region = self.region_ref(keys.get("region"), _join(path, "region"))
            runs = tuple(self.name_list("", keys.get("runs"), _join(path, "runs")))
            self.hosts[name] = (HostDecl(name, kind or "host", region, runs), node)

    def region_ref(self, node: Node | None, path: str) -> str | None:
        if node is None:
            return None
        value = self.choice(node, path, REGIONS, "region")
        if value is not None and value not in self.regions:
            self.fail(node.line, path, f"region {value!r} is not declared under regions:",
                      f"add `{value}: {{}}` under regions: (declared: {_listing(self.regions)})")
            return None
        return value

    def name_list(self, owner: str, node: Node | None, path: str) -> list[str]:
        """Names of other services (`calls`, `runs`); checked by check_topology once all are declared."""
        if node is None:
            return []
        names = []
        for item_path, item in self.items(node, path):
            if self.string(item, item_path) is not None:
                names.append(item.value)
                self.edges.append((owner, item_path, item))
        return names

    def check_topology(self) -> None:
        """`calls` and `runs` must name declared services (checked after all are declared: order is free)."""
        services = list(self.services)
        for owner, path, node in self.edges:
            if node.value == owner:
                self.fail(node.line, path, f"{owner!r} calls itself", "remove the self-call")
            else:
                self.reference(node, path, services, "service")
        self.check_acyclic()

    def check_acyclic(self) -> None:
        """Calls must not go round in a circle: traces follow them, and a cascade's root must come first."""
        graph: dict[str, list[tuple[str, str, Node]]] = {}
        for owner, path, node in self.edges:
            if ".calls" in path and node.value in self.services and node.value != owner:
                graph.setdefault(owner, []).append((node.value, path, node))
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(name: str) -> None:
            state[name] = 1
            for callee, path, node in graph.get(name, ()):
                if state.get(callee) == 1:
                    self.fail(node.line, path, f"{name!r} calling {callee!r} closes a circle of calls",
                              "remove one call of the circle: calls must flow one way (callers -> callees)")
                elif callee not in state:
                    visit(callee)
            state[name] = 2

        for name in self.services:
            if name not in state:
                visit(name)

    def entity_names(self, regions: bool = True) -> list[str]:
        return [*self.services, *self.hosts, *(self.regions if regions else ())]

    def metric_for(self, node: Node, path: str, entity: str | None) -> str | None:
        """A metric id that exists for the entity's kind (traffic metrics on services, usage on hosts)."""
        metric = self.choice(node, path, METRIC_IDS, "metric")
        if metric is None or entity is None:
            return metric
        allowed = TRAFFIC_METRIC_IDS if entity in self.services else INFRA_METRIC_IDS if entity in self.hosts \
            else METRIC_IDS
        if metric not in allowed:
            kind = "service" if entity in self.services else "host"
            self.fail(node.line, path, f"a {kind} has no {metric!r} series", f"use one of: {', '.join(allowed)}")
            return None
        return metric

    def distribution(self, node: Node, path: str) -> DistributionOverride | None:
        if node.kind != "map":
            self.mapping(node, path, (), ())
            return None
        base = ("metric", "distribution")
        scope = ("entity_type", "entity")
        if "distribution" not in node.value:
            self.mapping(node, path, base, (*scope, *sorted({p for ps in DISTRIBUTIONS.values() for p in ps})))
            return None
        dist = self.choice(node.value["distribution"], _join(path, "distribution"), list(DISTRIBUTIONS),
                           "distribution")
        if dist is None:
            return None
        optional = tuple(DISTRIBUTION_DEFAULTS.get(dist, {}))
        required = tuple(p for p in DISTRIBUTIONS[dist] if p not in optional)
        keys = self.mapping(node, path, (*base, *required), (*scope, *optional))
        if keys is None:
            return None
        entity = self.reference(keys["entity"], _join(path, "entity"), self.entity_names(False), "service or host") \
            if "entity" in keys else None
        entity_type = self.choice(keys["entity_type"], _join(path, "entity_type"), ENTITY_TYPES, "entity type") \
            if "entity_type" in keys else None
        if "entity" in keys and "entity_type" in keys:
            self.fail(keys["entity_type"].line, path, "give `entity` or `entity_type`, not both",
                      "drop entity_type: a named entity has its own type")
        metric = self.metric_for(keys["metric"], _join(path, "metric"), entity) if "metric" in keys else None
        if metric and entity_type:
            fits = ("INFRASTRUCTURE",) if metric in INFRA_METRIC_IDS else ("APPLICATION", "SERVICE", "ENDPOINT")
            if entity_type not in fits:
                self.fail(keys["entity_type"].line, _join(path, "entity_type"),
                          f"{entity_type} entities have no {metric!r} series", f"use one of: {', '.join(fits)}")
        params: dict[str, float | str] = dict(DISTRIBUTION_DEFAULTS.get(dist, {}))
        ok = True
        for param, check in DISTRIBUTIONS[dist].items():
            if param not in keys:
                continue
            value: float | str | None
            if check == "path":
                value = self.csv_path(keys[param], _join(path, param))
            else:
                value = self.number(keys[param], _join(path, param), PARAM_BOUNDS[check])
            if value is None:
                ok = False
            else:
                params[param] = value
        if not ok or metric is None:
            return None
        return DistributionOverride(metric, dist, params, entity_type, entity)

    def csv_path(self, node: Node, path: str) -> str | None:
        text = self.string(node, path)
        if text is None:
            return None
        resolved = ((self.base_dir or Path.cwd()) / text).resolve()
        if not resolved.is_file():
            self.fail(node.line, path, f"no such file: {resolved}",
                      "give a CSV path relative to the scenario file's folder")
            return None
        return str(resolved)

    def incident_fields(self, keys: dict[str, Node], path: str, entity: str | None, default_type: str | None = None
                        ) -> dict[str, Any] | None:
        """type, magnitude, metric and allow_overlap of an incident-like mapping (all optional here); the
        magnitude's range and the metric depend on the type (`default_type` when none is given)."""
        fields: dict[str, Any] = {}
        ok = True
        if "type" in keys:
            fields["type"] = self.choice(keys["type"], _join(path, "type"), ANOMALY_TYPES, "anomaly type")
            ok &= fields["type"] is not None
        kind = fields.get("type", default_type)
        if "magnitude" in keys:
            meaning = ANOMALY_MAGNITUDE.get(kind or "", "factor")
            bound = MAGNITUDE_KINDS[meaning]
            fields["magnitude"] = self.number(keys["magnitude"], _join(path, "magnitude"), bound,
                                              f"a {kind or 'factor'}'s magnitude is a {meaning}: use a number "
                                              f"{bound.describe()}, or leave it out")
            ok &= fields["magnitude"] is not None
        if "metric" in keys:
            metric = self.metric_for(keys["metric"], _join(path, "metric"), entity)
            if metric is not None and kind is not None and metric not in ANOMALY_METRICS[kind]:
                self.fail(keys["metric"].line, _join(path, "metric"), f"a {kind} does not act on {metric!r}",
                          f"use one of: {', '.join(ANOMALY_METRICS[kind])}, or leave it out")
                metric = None
            fields["metric"] = metric
            ok &= metric is not None
        if "allow_overlap" in keys:
            fields["allow_overlap"] = self.boolean(keys["allow_overlap"], _join(path, "allow_overlap"))
            ok &= fields["allow_overlap"] is not None
        return fields if ok else None

    def incident(self, node: Node, path: str) -> None:
        keys = self.mapping(node, path, ("entity", "type", "at", "duration"), ("magnitude", "metric", "allow_overlap"))
        if keys is None:
            return
        entity = self.reference(keys["entity"], _join(path, "entity"), self.entity_names(), "service, host or region") \
            if "entity" in keys else None
        fields = self.incident_fields(keys, path, entity)
        at = self.instant(keys["at"], _join(path, "at")) if "at" in keys else None
        duration = self.duration(keys["duration"], _join(path, "duration")) if "duration" in keys else None
        span = self.span(at, keys["at"], _join(path, "at"), duration, keys["duration"], _join(path, "duration")) \
            if "at" in keys and "duration" in keys else None
        if entity is None or fields is None or span is None or "type" not in fields:
            return
        self.incidents.append(_Located(IncidentSpec(entity, start_ms=span[0], end_ms=span[1], **fields),
                                       node.line, path))

    def release(self, node: Node, path: str) -> ReleaseSpec | None:
        keys = self.mapping(node, path, ("service", "at", "effect"),
                            ("version", "latency_factor", "error_rate_delta", "triggers"))
        if keys is None:
            return None
        service = self.reference(keys["service"], _join(path, "service"), list(self.services), "service") \
            if "service" in keys else None
        effect = self.choice(keys["effect"], _join(path, "effect"), RELEASE_EFFECTS, "effect") \
            if "effect" in keys else None
        at = self.instant(keys["at"], _join(path, "at")) if "at" in keys else None
        if at is not None and self.window is not None and not self.inside(at, keys["at"], _join(path, "at")):
            at = None
        version = self.string(keys["version"], _join(path, "version")) if "version" in keys else None
        latency = self.number(keys["latency_factor"], _join(path, "latency_factor"), POSITIVE) \
            if "latency_factor" in keys else None
        errors = self.number(keys["error_rate_delta"], _join(path, "error_rate_delta"), ERROR_RATE_DELTA) \
            if "error_rate_delta" in keys else None
        if "latency_factor" not in keys and "error_rate_delta" not in keys:
            self.fail(node.line, path, "a release needs `latency_factor` or `error_rate_delta`",
                      "add e.g. `latency_factor: 1.5` (a regression) or `0.8` (an improvement)")
        worse = effect == "regression"
        if effect and latency is not None and (latency < 1 if worse else latency > 1):
            self.fail(keys["latency_factor"].line, _join(path, "latency_factor"),
                      f"{latency:g} contradicts effect: {effect}",
                      f"use a factor {'of at least' if worse else 'of at most'} 1, or change the effect")
            latency = None
        if effect and errors is not None and (errors < 0 if worse else errors > 0):
            self.fail(keys["error_rate_delta"].line, _join(path, "error_rate_delta"),
                      f"{errors:g} contradicts effect: {effect}",
                      f"use a change {'of at least' if worse else 'of at most'} 0, or change the effect")
            errors = None
        triggered = self.trigger(keys["triggers"], _join(path, "triggers"), service, at) if "triggers" in keys \
            else None
        if service is None or effect is None or at is None or ("triggers" in keys and triggered is None):
            return None
        if ("latency_factor" in keys and latency is None) or ("error_rate_delta" in keys and errors is None):
            return None
        return ReleaseSpec(service, at, effect, latency if latency is not None else 1.0,
                           errors if errors is not None else 0.0, version, triggered)

    def trigger(self, node: Node, path: str, service: str | None, at: int | None) -> IncidentSpec | None:
        keys = self.mapping(node, path, ("type", "duration"), ("after", "magnitude", "metric", "allow_overlap"))
        if keys is None:
            return None
        fields = self.incident_fields(keys, path, service)
        after = self.duration(keys["after"], _join(path, "after")) if "after" in keys else 0
        duration = self.duration(keys["duration"], _join(path, "duration")) if "duration" in keys else None
        if fields is None or after is None or duration is None or service is None or at is None:
            return None
        at_node = keys.get("after", node)
        span = self.span(at + after, at_node, _join(path, "after"), duration, keys["duration"],
                         _join(path, "duration"))
        if span is None:
            return None
        incident = IncidentSpec(service, start_ms=span[0], end_ms=span[1], source="release", **fields)
        self.incidents.append(_Located(incident, node.line, path))
        return incident

    def cascade(self, node: Node, path: str) -> CascadeSpec | None:
        keys = self.mapping(node, path, ("root",), ("at", "duration", "type", "magnitude", "delay", "damping",
                                                    "max_depth", "propagates_as"))
        if keys is None:
            return None
        root = self.reference(keys["root"], _join(path, "root"), self.entity_names(), "service, host or region") \
            if "root" in keys else None
        fields = self.incident_fields(keys, path, root, str(CASCADE_DEFAULTS["type"]))
        delay = self.duration(keys["delay"], _join(path, "delay")) if "delay" in keys \
            else parse_duration(str(CASCADE_DEFAULTS["delay"]))
        damping = self.number(keys["damping"], _join(path, "damping"), DAMPING) if "damping" in keys \
            else float(CASCADE_DEFAULTS["damping"])
        depth = self.integer(keys["max_depth"], _join(path, "max_depth"), 1, MAX_DEPTH) if "max_depth" in keys \
            else int(CASCADE_DEFAULTS["max_depth"])
        spreads = self.choice(keys["propagates_as"], _join(path, "propagates_as"), ANOMALY_TYPES, "anomaly type") \
            if "propagates_as" in keys else str(CASCADE_DEFAULTS["propagates_as"])
        at = self.instant(keys["at"], _join(path, "at")) if "at" in keys else None
        if root is None or fields is None or None in (delay, damping, depth, spreads):
            return None
        incident = self.cascade_root(keys, path, node, root, at, fields)
        if incident is None:
            return None
        assert delay is not None and damping is not None and depth is not None and spreads is not None
        return CascadeSpec(root, incident, delay, damping, depth, spreads)

    def cascade_root(self, keys: dict[str, Node], path: str, node: Node, root: str, at: int | None,
                     fields: dict[str, Any]) -> IncidentSpec | None:
        """The failure a cascade spreads: its own (`at` + `duration`), the root's incident starting at `at`, or
        the root's only incident."""
        if "duration" in keys:
            if "at" not in keys:
                self.fail(keys["duration"].line, path, "`duration` without `at`",
                          "add `at:` to give the cascade its own root incident, or drop duration")
                return None
            duration = self.duration(keys["duration"], _join(path, "duration"))
            span = self.span(at, keys["at"], _join(path, "at"), duration, keys["duration"], _join(path, "duration"))
            if span is None:
                return None
            fields = {"type": CASCADE_DEFAULTS["type"], **fields}
            incident = IncidentSpec(root, start_ms=span[0], end_ms=span[1], source="cascade", **fields)
            self.incidents.append(_Located(incident, node.line, path))
            return incident
        own = [k for k in ("type", "magnitude", "metric", "allow_overlap") if k in keys]
        if own:
            self.fail(keys[own[0]].line, _join(path, own[0]), "only a cascade with `at` and `duration` has its "
                      "own root incident", f"add `duration:` and `at:`, or set {own[0]} on the incident")
            return None
        existing = [loc.incident for loc in self.incidents if loc.incident.entity == root]
        if "at" in keys:
            if at is None:
                return None
            existing = [i for i in existing if i.start_ms == at]
            if not existing:
                self.fail(keys["at"].line, _join(path, "at"), f"no incident on {root!r} starts at {timeutil.iso(at)}",
                          "add `duration:` to give the cascade its own root incident, or match an incident's `at`")
                return None
        if len(existing) != 1:
            what = "no incident" if not existing else f"{len(existing)} incidents"
            self.fail(keys["root"].line, _join(path, "root"), f"{what} on {root!r} to spread",
                      "give the cascade `at:` and `duration:`, or `at:` of the one incident to spread")
            return None
        return existing[0]

    def surge(self, node: Node, path: str) -> TrafficSurge | None:
        keys = self.mapping(node, path, ("at", "duration", "multiplier"), ("ramp", "region", "entity"))
        if keys is None:
            return None
        multiplier = self.number(keys["multiplier"], _join(path, "multiplier"), POSITIVE) \
            if "multiplier" in keys else None
        at = self.instant(keys["at"], _join(path, "at")) if "at" in keys else None
        duration = self.duration(keys["duration"], _join(path, "duration")) if "duration" in keys else None
        span = self.span(at, keys["at"], _join(path, "at"), duration, keys["duration"], _join(path, "duration")) \
            if "at" in keys and "duration" in keys else None
        ramp = self.duration(keys["ramp"], _join(path, "ramp")) if "ramp" in keys else 0
        if ramp and duration and 2 * ramp > duration:
            self.fail(keys["ramp"].line, _join(path, "ramp"), f"a ramp of {format_duration(ramp)} at both ends "
                      f"does not fit in {format_duration(duration)}",
                      f"use a ramp of at most {format_duration(duration // 2)}")
            ramp = None
        region = self.reference(keys["region"], _join(path, "region"), list(self.regions), "region") \
            if "region" in keys else None
        entity = self.reference(keys["entity"], _join(path, "entity"), list(self.services), "service") \
            if "entity" in keys else None
        if "region" in keys and "entity" in keys:
            self.fail(keys["entity"].line, path, "give `region` or `entity`, not both", "drop one of them")
            return None
        if span is None or multiplier is None or ramp is None or ("region" in keys and region is None) \
                or ("entity" in keys and entity is None):
            return None
        return TrafficSurge(span[0], span[1], multiplier, ramp, region, entity)

    # --- cross checks -------------------------------------------------------------------------------------------

    def check_overlaps(self) -> None:
        """Two incidents on one entity may not overlap unless one of them says `allow_overlap: true`."""
        by_entity: dict[str, list[_Located]] = {}
        for loc in self.incidents:
            by_entity.setdefault(loc.incident.entity, []).append(loc)
        for locs in by_entity.values():
            for i, later in enumerate(locs):
                for earlier in locs[:i]:
                    a, b = earlier.incident, later.incident
                    if a.start_ms < b.end_ms and b.start_ms < a.end_ms and not (a.allow_overlap or b.allow_overlap):
                        where = f"line {earlier.line}" if earlier.line else earlier.path
                        self.fail(later.line, later.path,
                                  f"{b.type} on {b.entity!r} ({timeutil.iso(b.start_ms)} .. "
                                  f"{timeutil.iso(b.end_ms)}) overlaps the {a.type} at {where} "
                                  f"({timeutil.iso(a.start_ms)} .. {timeutil.iso(a.end_ms)})",
                                  "move one of them, or set `allow_overlap: true` on one")
                        break

    def check_sizes(self, profile: Profile, top: dict[str, Node]) -> None:
        """Declared services and hosts must fit in the profile's world."""
        if len(self.services) > profile.services:
            self.fail(top["services"].line, "services", f"{len(self.services)} services declared but the profile "
                      f"has {profile.services}", f"set profile.services to {len(self.services)} or more")
        if 3 * len(self.hosts) > profile.entities:
            self.fail(top["hosts"].line, "hosts", f"{len(self.hosts)} hosts declared but the profile's "
                      f"{profile.entities} entities hold at most {profile.entities // 3}",
                      f"set profile.entities to {3 * len(self.hosts)} or more (a host, a container, a process each)")


def parse_node(root: Node, source: str, *, base_dir: Path | None = None, end_ms: int | None = None,
               profile_overrides: Mapping[str, int | None] | None = None) -> ScenarioSpec:
    """A spec from a node tree; raises ScenarioError listing every problem. `end_ms` (e.g. --end-time) wins
    over the file's end_time, which wins over now; `profile_overrides` win over the file's sizes."""
    parser = _Parser(source, base_dir)
    spec = parser.scenario(root, end_ms, profile_overrides or {})
    if parser.issues or spec is None:
        issues = sorted(parser.issues, key=lambda i: i.line)  # top to bottom, as an editor shows the file
        raise ScenarioError(issues or [Issue(source, 1, "the scenario is incomplete", "see the schema")])
    return spec


def load_text(text: str, source: str, *, base_dir: Path | None = None, end_ms: int | None = None,
              profile_overrides: Mapping[str, int | None] | None = None) -> ScenarioSpec:
    return parse_node(parse_yaml(text, source), source, base_dir=base_dir, end_ms=end_ms,
                      profile_overrides=profile_overrides)


