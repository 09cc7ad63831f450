"""From a scenario spec to the world: which generated services and hosts carry the declared names, which
anomalies each metric bundle gets, which issues they raise, and the ground-truth stories that record all of it.

The planner only decides; `world.build_world` calls it at fixed points, and without a scenario nothing here
runs, so a plain seed draws exactly the random numbers it always drew."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from apmseed import vocab
from apmseed.factories.applications import ServiceFactory
from apmseed.scenarios import anomalies as anomaly_model
from apmseed.scenarios import distributions, seasonality
from apmseed.scenarios.anomalies import Anomaly
from apmseed.scenarios.spec import IncidentSpec, ScenarioSpec

TRAFFIC_KINDS = ("APPLICATION", "SERVICE", "ENDPOINT")
# a declared store's technology -> the vocabulary kind whose endpoints, process and technology it takes
STORE_KINDS = {"postgresql": "orders-db", "redis": "sessions-redis", "elasticsearch": "catalog-elasticsearch",
               "kafka": "events-kafka"}
CATEGORY_DEFAULT = {"database": "orders-db", "messaging": "events-kafka"}
REGION_CLOUD = {"AMER": "us-east-1", "EMEA": "eu-west-1", "APAC": "ap-southeast-1"}
# issue thresholds of the world's own planner: above these an issue is critical
CRITICAL = {"latency": 3.5, "errors": 0.2, "cpu": 0.93, "memory": 0.94}


@dataclass
class Effect:
    """One entity a story touches (ground_truth_effect)."""

    target: dict[str, Any]
    hop: int
    factor: float
    start_ms: int
    end_ms: int
    event_id: str | None = None


@dataclass
class Story:
    """One injected story (a ground_truth row); `root` None only for a traffic surge of the whole world."""

    type: str
    cause: str
    root: dict[str, Any] | None
    metric: str | None
    magnitude: float
    start_ms: int
    end_ms: int
    scenario: str | None = None
    release: tuple[str, int] | None = None  # (service id, deploy time): the 1.3.0 release it is
    effects: list[Effect] = field(default_factory=list)

    def ident(self, seed: int, position: int) -> str:
        digest = hashlib.sha256(f"{seed}:{position}:{self.cause}:{self.type}:{self.start_ms}".encode())
        return "gt-" + digest.hexdigest()[:16]


def scaled(kind: str, magnitude: float, factor: float) -> float:
    """A cascade hop's magnitude: a factor moves towards 1, a level or share shrinks towards 0."""
    if anomaly_model.MAGNITUDE_KIND[kind] == "factor":
        return 1.0 + (magnitude - 1.0) * factor
    return max(1e-3, magnitude * factor)


def effects_on(entity_type: str, kind: str, start: int, end: int, magnitude: float, metric: str | None
               ) -> tuple[list[Anomaly], tuple[str, float] | None]:
    """The anomalies an incident of `kind` puts on one entity's bundle, and the issue it raises there
    ((problem kind, the strength its text quotes), or None when the metrics give no issue of a known kind)."""
    if end <= start:
        return [], None
    if metric is not None:
        anomaly = Anomaly(kind, start, end, magnitude, metric)
        mode, amount = anomaly.effect(metric) or ("", 0.0)
        issue = {("latency", "mul"): "latency", ("erroneousCalls", "level"): "errors",
                 ("cpu.used", "level"): "cpu", ("memory.used", "level"): "memory"}.get((metric, mode))
        return [anomaly], (issue, amount) if issue and (issue != "latency" or amount > 1.0) else None
    if entity_type == "INFRASTRUCTURE":
        if kind == "memory_leak":
            return [Anomaly(kind, start, end, magnitude, "memory.used")], ("memory", magnitude)
        if kind == "saturation":
            return [Anomaly(kind, start, end, magnitude, "cpu.used")], ("cpu", magnitude)
        if kind == "outage":  # the agent goes quiet with the host: its services report the failure
            return [Anomaly(kind, start, end, magnitude)], None
        return [Anomaly(kind, start, end, magnitude, "cpu.used")], None
    if kind == "outage":  # callers give up on part of the calls; what still arrives fails
        return [Anomaly(kind, start, end, 0.5 * magnitude, "calls"),
                Anomaly(kind, start, end, max(magnitude, 1e-3), "erroneousCalls")], ("errors", magnitude)
    if kind == "flapping":
        return [Anomaly(kind, start, end, max(magnitude, 1e-3), "erroneousCalls")], ("errors", magnitude)
    if kind in ("saturation", "memory_leak"):  # queueing or GC pressure: latency by the type's fixed factor
        anomaly = Anomaly(kind, start, end, magnitude, "latency")
        return [anomaly], ("latency", (anomaly.effect("latency") or ("", 1.0))[1])
    anomaly = Anomaly(kind, start, end, magnitude)
    return [anomaly], ("latency", magnitude) if "latency" in anomaly.metrics and magnitude > 1.0 else None


class ScenarioPlan:
    """The scenario's side of one world build."""

    def __init__(self, spec: ScenarioSpec, seed: int) -> None:
        self.spec = spec
        self.seed = seed
        self.services: dict[str, dict[str, Any]] = {}  # declared name -> service row
        self.hosts: dict[str, dict[str, Any]] = {}  # declared name -> host row
        self.region_of = {e.name: e.region for e in (*spec.services, *spec.hosts) if e.region}
        self.host_of = {svc: h.name for h in spec.hosts for svc in h.runs}

    # -- entities -----------------------------------------------------------------------------------------
    def pin_services(self, services: list[dict[str, Any]]) -> None:
        """Give declared names to generated services: one already called so keeps its row; otherwise a
        service not named like any declared one is rebuilt with the declared kind and technology."""
        declared = {d.name for d in self.spec.services}
        by_label = {s["label"]: i for i, s in enumerate(services)}
        taken: set[int] = set()
        for decl in self.spec.services:
            if decl.name in by_label and decl.technology is None:
                taken.add(by_label[decl.name])
                self.services[decl.name] = services[by_label[decl.name]]
        free = [i for i, s in enumerate(services) if i not in taken and s["label"] not in declared]
        for decl in self.spec.services:
            if decl.name in self.services:
                continue
            index = by_label[decl.name] if decl.name in by_label and by_label[decl.name] not in taken else free.pop(0)
            taken.add(index)
            row = ServiceFactory.build(seed=self.seed, n=index, kind=self._kind(decl.name, decl.kind,
                                                                                  decl.technology),
                                       **({"language": decl.technology} if decl.technology in vocab.LANGUAGES
                                          else {}))
            row["label"] = decl.name
            services[index].clear()
            services[index].update(row)
            self.services[decl.name] = services[index]

    @staticmethod
    def _kind(name: str, category: str, technology: str | None) -> vocab.ServiceKind:
        kinds = {k.name: k for k in vocab.SERVICES}
        if category == "web":
            if name in kinds and kinds[name].category == "web":
                return kinds[name]
            web = [k for k in vocab.SERVICES if k.category == "web"]
            return web[zlib.crc32(name.encode()) % len(web)]
        return kinds[STORE_KINDS.get(technology or "", CATEGORY_DEFAULT.get(category, "orders-db"))]

    def pin_hosts(self, hosts: list[dict[str, Any]]) -> None:
        for decl, row in zip(self.spec.hosts, hosts, strict=False):
            row["label"] = row["host"] = decl.name
            row["data"]["system"]["hostname"] = decl.name
            self.hosts[decl.name] = row

    def host_row_for(self, service_label: str) -> dict[str, Any] | None:
        name = self.host_of.get(service_label)
        return self.hosts.get(name) if name else None

    def pinned_targets(self) -> list[tuple[str, str, str]]:
        """(entity kind, id column, id) of every declared entity, in declaration order: they get metrics first."""
        return ([("SERVICE", "service_id", s["id"]) for s in self.services.values()]
                + [("INFRASTRUCTURE", "snapshot_id", h["snapshot_id"]) for h in self.hosts.values()])

    # -- signals ------------------------------------------------------------------------------------------
    def seasonality_for(self, name: str | None) -> seasonality.Seasonality | None:
        settings = self.spec.seasonality
        region = self.region_of.get(name or "")
        if region:
            declared = {r.name: r.seasonality for r in self.spec.regions}
            given = declared.get(region, settings).given()
            given.setdefault("utc_offset_h", seasonality.REGIONS[region])
            return seasonality.Seasonality(**given)
        given = settings.given()
        return seasonality.Seasonality(**given) if given else None

    def overrides_for(self, entity_type: str, name: str | None) -> dict[str, distributions.Distribution]:
        out: dict[str, distributions.Distribution] = {}
        for o in self.spec.distributions:
            if o.entity_type not in (None, entity_type) or o.entity not in (None, name):
                continue
            out[o.metric] = distributions.parse_distribution({"distribution": o.distribution, **o.params},
                                                             where=f"distributions[{o.metric}]")
        return out

    # -- stories ------------------------------------------------------------------------------------------
    def stories(self, bundle_of: Callable[[str], list[Any]], raise_issue: Callable[..., str]) -> list[Story]:
        """Every incident, cascade, release and surge of the scenario, applied to the bundles `bundle_of(name)`
        returns for a declared name (each bundle has `target` and `anomalies`); `raise_issue(target,
        problem_kind, strength, critical, start_ms, end_ms | None)` builds an issue and returns its id."""
        spec = self.spec
        stories: list[Story] = []
        cascade_roots = {id(c.incident) for c in spec.cascades}
        for incident in spec.incidents:
            if incident.source == "cascade" or id(incident) in cascade_roots:
                continue
            cause = "release" if incident.source == "release" else "incident"
            story = self._incident_story(incident, cause)
            if cause == "release":
                story.release = self._release_of(incident)
            self._apply(story, [(m, 0, 1.0, incident.start_ms, incident.end_ms, incident.type)
                                for m in self._members(incident.entity)],
                        incident, bundle_of, raise_issue)
            stories.append(story)
        for cascade in spec.cascades:
            root = cascade.incident
            story = self._incident_story(root, "cascade")
            reached = [(m, 0, 1.0, root.start_ms, root.end_ms, root.type) for m in self._members(cascade.root)]
            reached += [(hop.entity, hop.depth, hop.factor, hop.start_ms, hop.end_ms, hop.type)
                        for hop in spec.cascade_hops(cascade)]
            self._apply(story, reached, root, bundle_of, raise_issue)
            stories.append(story)
        for release in spec.releases:
            service = self.services[release.service]
            target = self._target(bundle_of, release.service)
            story = Story("level_shift", "release", target, "latency", release.latency_factor, release.at_ms,
                          spec.end_ms, spec.name, (service["id"], release.at_ms))
            start = spec.point_index(release.at_ms)
            shifts = [Anomaly("level_shift", start, spec.n_points, release.latency_factor, "latency")]
            if release.error_rate_delta > 0:
                shifts.append(Anomaly("saturation", start, spec.n_points, min(1.0, release.error_rate_delta),
                                      "erroneousCalls"))
            for bundle in bundle_of(release.service):
                bundle.anomalies.extend(shifts if bundle.target["entity_type"] != "INFRASTRUCTURE" else ())
            if start < spec.n_points:
                story.effects.append(Effect(target, 0, 1.0, release.at_ms, spec.end_ms))
                stories.append(story)
        for surge in spec.traffic:
            story = Story("level_shift", "traffic", None, "calls", surge.multiplier, surge.start_ms, surge.end_ms,
                          spec.name)
            start, end = spec.point_range(surge.start_ms, surge.end_ms)
            names = ([surge.entity] if surge.entity else
                     [n for n, r in self.region_of.items() if r == surge.region] if surge.region else None)
            bundles = ([b for n in names for b in bundle_of(n)] if names is not None else bundle_of("*"))
            bundles = [b for b in bundles if b.target["entity_type"] in TRAFFIC_KINDS]
            if surge.entity:
                story.root = self._target(bundle_of, surge.entity)
            for bundle in bundles:
                if end > start:
                    bundle.anomalies.append(Anomaly("level_shift", start, end, surge.multiplier, "calls"))
                    story.effects.append(Effect(bundle.target, 0, 1.0, surge.start_ms, surge.end_ms))
            if story.effects:
                stories.append(story)
        return stories

    def _incident_story(self, incident: IncidentSpec, cause: str) -> Story:
        magnitude = incident.magnitude if incident.magnitude is not None else \
            anomaly_model.DEFAULT_MAGNITUDE[incident.type]
        return Story(incident.type, cause, None, incident.metric, magnitude, incident.start_ms, incident.end_ms,
                     self.spec.name)

    def _release_of(self, incident: IncidentSpec) -> tuple[str, int] | None:
        for release in self.spec.releases:
            if release.triggers is incident or release.triggers == incident:
                return self.services[release.service]["id"], release.at_ms
        return None

    def _members(self, name: str) -> list[str]:
        """A region stands for every declared entity in it; anything else for itself."""
        if self.spec.entity_kind(name) == "region":
            return [e.name for e in (*self.spec.services, *self.spec.hosts) if e.region == name]
        return [name]

    @staticmethod
    def _target(bundle_of: Callable[[str], list[Any]], name: str) -> dict[str, Any] | None:
        bundles = bundle_of(name)
        return bundles[0].target if bundles else None

    def _apply(self, story: Story, reached: Sequence[tuple[str, int, float, int, int, str]], incident: IncidentSpec,
               bundle_of: Callable[[str], list[Any]], raise_issue: Callable[..., str]) -> None:
        spec = self.spec
        for name, hop, factor, start_ms, end_ms, kind in sorted(reached, key=lambda r: (r[3], r[1], r[0])):
            magnitude = scaled(kind, story.magnitude if kind == story.type else
                               anomaly_model.DEFAULT_MAGNITUDE[kind], factor)
            start, end = spec.point_range(start_ms, end_ms)
            for position, bundle in enumerate(bundle_of(name)):
                target = bundle.target
                added, issue = effects_on(target["entity_type"], kind, start, end, magnitude,
                                          incident.metric if hop == 0 else None)
                bundle.anomalies.extend(added)
                if not added:
                    continue
                if story.root is None:
                    story.root = target
                event_id = None
                if issue is not None and position == 0:
                    problem, strength = issue
                    detected = min(start_ms + spec.step_ms, end_ms - 1)
                    critical = kind == "outage" or strength >= CRITICAL[problem]
                    event_id = raise_issue(target, problem, strength, critical, detected,
                                           end_ms if end_ms < spec.end_ms else None,
                                           root=None if hop == 0 and story.cause != "cascade" else story.root)
                story.effects.append(Effect(target, hop, factor, start_ms, end_ms, event_id))


def load(name_or_path: str, end_ms: int | None = None,
         profile_overrides: dict[str, int | None] | None = None) -> tuple[ScenarioSpec, dict[str, Any]]:
    """A scenario and what the dataset stores of it (name, file, text): the later dataset versions' layers
    rebuild the very same spec from that when a seeded database is upgraded."""
    from apmseed.scenarios.loader import load_text
    from apmseed.scenarios.spec import scenario_source

    path, text = scenario_source(name_or_path)
    spec = load_text(text, str(path), base_dir=path.parent, end_ms=end_ms, profile_overrides=profile_overrides)
    return spec, {"name": spec.name, "source": str(path), "text": text}


def from_options(options: dict[str, Any], end_ms: int) -> ScenarioSpec | None:
    """The scenario a dataset was seeded with (see `load`), or None."""
    from pathlib import Path

    from apmseed.profiles import OVERRIDES
    from apmseed.scenarios.loader import load_text

    stored = options.get("scenario")
    if not stored:
        return None
    source = Path(stored["source"])
    sizes = {k: options[k] for k in OVERRIDES if k in options}
    return load_text(stored["text"], str(source), base_dir=source.parent, end_ms=end_ms, profile_overrides=sizes)
