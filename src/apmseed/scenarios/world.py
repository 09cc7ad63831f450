"""The world plan: every row of a dataset, built by the factories from (profile, seed, end time), plus the
metric bundles whose points are generated lazily in chunks (they can run into millions)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apmseed import catalog
from apmseed.factories.applications import ApplicationFactory, EndpointFactory, ServiceFactory
from apmseed.factories.base import build_rows, rand, reseed
from apmseed.factories.events import IssueFactory
from apmseed.factories.infrastructure import ContainerFactory, HostFactory, ProcessFactory
from apmseed.profiles import Profile
from apmseed.scenarios import anomalies as anomaly_model
from apmseed.scenarios import signals
from apmseed.scenarios.anomalies import Anomaly, from_incident
from apmseed.scenarios.distributions import Distribution
from apmseed.scenarios.plan import Effect, ScenarioPlan, Story
from apmseed.scenarios.seasonality import Seasonality
from apmseed.scenarios.signals import Incident
from apmseed.scenarios.spec import ScenarioSpec

MINUTE_MS = 60_000
Values = dict[tuple[str, str], np.ndarray]
# bundle kinds in the order series are handed out: about 40 % services, 25 % endpoints, 20 % infrastructure
ALLOCATION_CYCLE = ("SERVICE", "ENDPOINT", "SERVICE", "INFRASTRUCTURE", "APPLICATION", "ENDPOINT", "SERVICE",
                    "INFRASTRUCTURE")
PROBLEM_KINDS = {"APPLICATION": ("latency", "errors"), "SERVICE": ("latency", "errors"),
                 "ENDPOINT": ("latency", "errors"), "INFRASTRUCTURE": ("cpu", "memory")}
# which series a problem kind needs in the bundle to be visible
PROBLEM_NEEDS = {"latency": ("latency",), "errors": ("calls", "erroneousCalls"), "cpu": ("cpu.used",),
                 "memory": ("memory.used",)}


@dataclass
class Bundle:
    index: int
    target: dict[str, Any]  # entity_type, label, ids (what an issue on it references)
    series: list[tuple[int, str, str]]  # (series_id, metric_id, aggregation)
    incidents: list[Incident] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)  # a scenario's, on top of the issues' incidents
    seasonality: Seasonality | None = None  # None: the engine's default cycle
    overrides: dict[str, Distribution] = field(default_factory=dict)

    @property
    def metric_ids(self) -> set[str]:
        return {m for _, m, _ in self.series}


@dataclass
class World:
    profile: Profile
    seed: int
    end_ms: int
    tables: dict[str, list[dict[str, Any]]]  # entity tables in load order
    bundles: list[Bundle]
    stories: list[Story] = field(default_factory=list)  # the ground truth of what was injected
    scenario: ScenarioSpec | None = None
    # application bundle index -> the SERVICE bundles of its services: an application's metrics add them up
    members: dict[int, list[int]] = field(default_factory=dict)

    @property
    def start_ms(self) -> int:
        return self.end_ms - self.profile.minutes * MINUTE_MS

    def timestamps(self) -> np.ndarray:
        step = self.profile.resolution * MINUTE_MS
        return np.arange(self.start_ms, self.end_ms, step, dtype=np.int64)

    def bundle_values(self, bundle: Bundle, cache: dict[int, Values] | None = None) -> Values:
        """All series of one bundle; its own RNG stream makes the values independent of chunking. An
        application's are its services' added up (`cache` holds service values an application will need)."""
        if bundle.index in self.members:
            parts = [cache.get(i) if cache is not None and i in cache else self._own_values(self.bundles[i])
                     for i in self.members[bundle.index]]
            return self._application_values(bundle, parts)
        return self._own_values(bundle)

    def _application_values(self, bundle: Bundle, parts: list[Values]) -> Values:
        """The application's own entry traffic (services without series of their own) plus each member
        service's: calls and erroneous calls add up, latency is the calls-weighted mean of the parts (so it lies
        between them, percentiles stay ordered); the application's own issues then act on the sum."""
        rng = np.random.default_rng([self.seed, 0x5E12, bundle.index])
        ts = self.timestamps()
        surges = [a for a in bundle.anomalies if a.metric == "calls"]
        later = [*from_incidents(bundle.incidents), *(a for a in bundle.anomalies if a.metric != "calls")]
        own = signals.traffic(rng, ts, "APPLICATION", self.profile.resolution, (), seasonality=bundle.seasonality,
                              overrides=bundle.overrides or None, anomalies=surges)
        parts = [own, *parts]
        calls = np.sum([p[("calls", "SUM")] for p in parts], axis=0)
        errors = np.sum([p[("erroneousCalls", "SUM")] for p in parts], axis=0)
        weight = np.maximum(calls, 1.0)
        out: Values = {("calls", "SUM"): calls, ("erroneousCalls", "SUM"): errors}
        for key in own:
            if key[0] == "latency":
                mixed = np.sum([p[key] * np.maximum(p[("calls", "SUM")], 0.0) for p in parts], axis=0) / weight
                out[key] = np.where(calls > 0, np.round(mixed, 1), own[key])
        if later:
            windows = [anomaly_model.window(a, ts.size, rng) for a in later]
            share = errors / weight
            raised = anomaly_model.apply(share, "erroneousCalls", later, windows)
            if raised is not share:
                out[("erroneousCalls", "SUM")] = np.minimum(calls, np.round(calls * np.minimum(raised, 1.0)))
            for key in [k for k in out if k[0] == "latency"]:
                out[key] = np.round(anomaly_model.apply(out[key], "latency", later, windows), 1)
        return out

    def _own_values(self, bundle: Bundle) -> Values:
        rng = np.random.default_rng([self.seed, 0x5E12, bundle.index])
        ts = self.timestamps()
        extra: dict[str, Any] = {"seasonality": bundle.seasonality, "overrides": bundle.overrides or None,
                                 "anomalies": bundle.anomalies}
        if bundle.target["entity_type"] == "INFRASTRUCTURE":
            return signals.utilisation(rng, ts, bundle.incidents, **extra)
        return signals.traffic(rng, ts, bundle.target["entity_type"], self.profile.resolution, bundle.incidents,
                               **extra)

    def point_chunks(self, max_rows: int = 500_000) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(series_id, ts_ms, value) arrays, each at most about `max_rows` long."""
        ts = self.timestamps()
        per_chunk = max(1, max_rows // max(1, ts.size))
        ids: list[np.ndarray] = []
        values: list[np.ndarray] = []
        # a service's values are computed once: kept while an application still needs them
        uses: dict[int, int] = {}
        for members in self.members.values():
            for i in members:
                uses[i] = uses.get(i, 1) + 1
        cache: dict[int, Values] = {}
        for bundle in self.bundles:
            for i in self.members.get(bundle.index, ()):
                if i not in cache:
                    cache[i] = self._own_values(self.bundles[i])
            if bundle.index in cache:
                computed = cache[bundle.index]
            else:
                computed = self.bundle_values(bundle, cache)
                if bundle.index in uses:
                    cache[bundle.index] = computed
            for i in (*self.members.get(bundle.index, ()), bundle.index):
                if i in uses:
                    uses[i] -= 1
                    if uses[i] == 0:
                        del uses[i]
                        cache.pop(i, None)
            for series_id, metric_id, aggregation in bundle.series:
                ids.append(np.full(ts.size, series_id, dtype=np.int32))
                values.append(computed[(metric_id, aggregation)])
                if len(ids) >= per_chunk:
                    yield np.concatenate(ids), np.tile(ts, len(ids)), np.concatenate(values)
                    ids, values = [], []
        if ids:
            yield np.concatenate(ids), np.tile(ts, len(ids)), np.concatenate(values)


def build_world(profile: Profile, seed: int, end_ms: int, scenario: ScenarioSpec | None = None) -> World:
    """Without a scenario, the random world of the profile; with one, the same machinery with the scenario's
    services and hosts pinned under their names and its incidents, cascades, releases and surges injected."""
    reseed(seed)
    plan = ScenarioPlan(scenario, seed) if scenario is not None else None
    start_ms = end_ms - profile.minutes * MINUTE_MS
    snapshots, services, service_snapshots = _infrastructure_and_services(profile, seed, start_ms, plan)
    applications = build_rows(ApplicationFactory, profile.apps, seed=seed)
    app_services = _assign_services(applications, services)
    endpoints = _endpoints(profile, seed, services)
    bundles, series = _allocate_series(profile, seed, start_ms, end_ms, applications, services, endpoints,
                                       snapshots, app_services, plan)
    issues, stories = _plan_issues(profile, seed, start_ms, end_ms, bundles)
    if plan is not None:
        stories += _plan_scenario(plan, seed, bundles, endpoints, issues)
    for svc in services:
        for key in [k for k in svc if k.startswith("_")]:
            del svc[key]
    tables = {
        "metric_definition": catalog.definitions(),
        "snapshot": snapshots,
        "application": applications,
        "service": services,
        "application_service": app_services,
        "service_snapshot": service_snapshots,
        "endpoint": endpoints,
        "metric_series": series,
        "event": issues,
    }
    return World(profile, seed, end_ms, tables, bundles, stories, scenario, _members(bundles, app_services))


def from_incidents(incidents: list[Incident]) -> list[Anomaly]:
    return [a for incident in incidents for a in from_incident(incident)]


def _members(bundles: list[Bundle], app_services: list[dict[str, Any]]) -> dict[int, list[int]]:
    service_bundle = {b.target["service_id"]: b.index for b in bundles if b.target["entity_type"] == "SERVICE"}
    services_of: dict[str, list[str]] = {}
    for link in app_services:
        services_of.setdefault(link["application_id"], []).append(link["service_id"])
    return {b.index: [service_bundle[s] for s in sorted(services_of.get(b.target["application_id"], []))
                      if s in service_bundle]
            for b in bundles if b.target["entity_type"] == "APPLICATION"}


def _split(total: int, weights: tuple[float, ...]) -> list[int]:
    counts = [max(1, int(total * w)) for w in weights]
    counts[-1] = max(1, total - sum(counts[:-1]))
    return counts


def _infrastructure_and_services(profile: Profile, seed: int, start_ms: int, plan: ScenarioPlan | None = None):
    """Hosts, then the services, then a container per service replica (named after it) with the service's
    runtime as its PID 1; leftover containers run sidecars and leftover processes are host daemons."""
    n_hosts, n_containers, n_processes = _split(profile.entities, (0.2, 0.4, 0.4))
    hosts = build_rows(HostFactory, n_hosts, seed=seed, window_start_ms=start_ms)
    services = build_rows(ServiceFactory, profile.services, seed=seed)
    if plan is not None:
        plan.pin_services(services)
        plan.pin_hosts(hosts)

    # replicas: every service one first (as far as the budget goes), then up to two more at random
    replicas = list(services[: min(len(services), n_containers, n_processes)])
    for svc in services:
        for _ in range(rand.randint(0, 2)):
            if len(replicas) < min(n_containers, n_processes):
                replicas.append(svc)
    ContainerFactory.reset_sequence(0, force=True)
    ProcessFactory.reset_sequence(0, force=True)
    containers: list[dict[str, Any]] = []
    processes: list[dict[str, Any]] = []
    links: set[tuple[str, str]] = set()
    for svc in replicas:
        parent = rand.choice(hosts)  # drawn even when a scenario pins the host: the stream stays the same
        pinned = plan.host_row_for(svc["label"]) if plan is not None else None
        container = ContainerFactory.build(seed=seed, parent=pinned or parent, app_name=svc["label"])
        proc = ProcessFactory.build(seed=seed, parent=container, serves=svc)
        containers.append(container)
        processes.append(proc)
        links.add((svc["id"], proc["snapshot_id"]))
    while len(containers) < n_containers:
        containers.append(ContainerFactory.build(seed=seed, parent=rand.choice(hosts), sidecar=True))
    while len(processes) < n_processes:
        processes.append(ProcessFactory.build(seed=seed, parent=rand.choice(hosts)))
    service_snapshots = [{"service_id": s, "snapshot_id": p} for s, p in sorted(links)]
    return hosts + containers + processes, services, service_snapshots


def _assign_services(applications: list[dict], services: list[dict]) -> list[dict[str, Any]]:
    """Every service in one or two applications; every application gets at least one service if it can."""
    pairs: set[tuple[str, str]] = set()
    for i, app in enumerate(applications):
        if i < len(services):
            pairs.add((app["id"], services[i]["id"]))
    for svc in services:
        for app in rand.sample(applications, k=min(len(applications), rand.choice((1, 1, 2)))):
            pairs.add((app["id"], svc["id"]))
    return [{"application_id": a, "service_id": s} for a, s in sorted(pairs)]


def _endpoints(profile: Profile, seed: int, services: list[dict]) -> list[dict[str, Any]]:
    counts = [0] * len(services)
    for i in range(profile.endpoints):  # round-robin keeps every service busy, randomness adds skew
        counts[i % len(services) if i < len(services) else rand.randrange(len(services))] += 1
    EndpointFactory.reset_sequence(0, force=True)
    rows = []
    for svc, count in zip(services, counts, strict=True):
        rows.extend(EndpointFactory.build(seed=seed, service=svc, index=j) for j in range(count))
    return rows


def _allocate_series(profile, seed, start_ms, end_ms, applications, services, endpoints, snapshots,
                     app_services, plan: ScenarioPlan | None = None):
    apps_of: dict[str, list[str]] = {}
    for link in app_services:
        apps_of.setdefault(link["service_id"], []).append(link["application_id"])
    candidates: dict[str, list[dict[str, Any]]] = {
        "APPLICATION": [{"entity_type": "APPLICATION", "label": a["label"], "application_id": a["id"]}
                        for a in applications],
        "SERVICE": [{"entity_type": "SERVICE", "label": s["label"], "service_id": s["id"],
                     "application_id": rand.choice(apps_of[s["id"]])} for s in services if s["id"] in apps_of],
        "ENDPOINT": [{"entity_type": "ENDPOINT", "label": e["label"], "endpoint_id": e["id"],
                      "service_id": e["service_id"], "application_id": rand.choice(apps_of[e["service_id"]])}
                     for e in endpoints if e["service_id"] in apps_of],
        "INFRASTRUCTURE": [{"entity_type": "INFRASTRUCTURE", "label": s["label"], "plugin": s["plugin"],
                            "snapshot_id": s["snapshot_id"]} for s in snapshots],
    }
    for pool in candidates.values():
        rand.shuffle(pool)
    # hosts first among infrastructure (pop() takes from the end): their CPU and memory matter most
    candidates["INFRASTRUCTURE"].sort(key=lambda t: t["plugin"] == "host")

    bundles: list[Bundle] = []
    rows: list[dict[str, Any]] = []
    budget = profile.series
    cycle = 0
    # a scenario's declared entities first: their metrics tell its story
    first: list[tuple[str, dict[str, Any]]] = []
    for kind, column, ident in plan.pinned_targets() if plan is not None else ():
        pool = candidates[kind]
        index = next((i for i, t in enumerate(pool) if t[column] == ident), None)
        if index is not None:
            first.append((kind, pool.pop(index)))
    while budget > 0 and (first or any(candidates.values())):
        if first:
            kind, target = first.pop(0)
        else:
            kind = ALLOCATION_CYCLE[cycle % len(ALLOCATION_CYCLE)]
            cycle += 1
            if not candidates[kind]:
                continue
            target = candidates[kind].pop()
        bundle = Bundle(len(bundles), target, [])
        for metric_id, aggregation in catalog.BUNDLES[kind][:budget]:
            series_id = len(rows) + 1
            bundle.series.append((series_id, metric_id, aggregation))
            column = {"APPLICATION": "application_id", "SERVICE": "service_id", "ENDPOINT": "endpoint_id",
                      "INFRASTRUCTURE": "snapshot_id"}[kind]
            rows.append({"series_id": series_id, "entity_kind": kind, "application_id": None,
                         "service_id": None, "endpoint_id": None, "snapshot_id": None,
                         column: target[column], "metric_id": metric_id, "aggregation": aggregation,
                         "granularity_s": profile.resolution * 60, "from_ms": start_ms, "to_ms": end_ms})
        budget -= len(bundle.series)
        bundles.append(bundle)
    return bundles, rows


def _plan_issues(profile: Profile, seed: int, start_ms: int, end_ms: int, bundles: list[Bundle]
                 ) -> tuple[list[dict[str, Any]], list[Story]]:
    """Issues go where metrics exist, and each one injects the excursion its text describes (and is told as a
    ground-truth story)."""
    options = [(b, kind) for b in bundles for kind in PROBLEM_KINDS[b.target["entity_type"]]
               if set(PROBLEM_NEEDS[kind]) <= b.metric_ids]
    n_points = profile.points_per_series
    step_ms = profile.resolution * MINUTE_MS
    IssueFactory.reset_sequence(0, force=True)
    issues: list[dict[str, Any]] = []
    stories: list[Story] = []
    if not options:
        return issues, stories
    for _ in range(profile.issues):
        bundle, kind = rand.choice(options)
        length = max(1, min(n_points // 2 or 1, rand.randint(5, 30) // profile.resolution or 1))
        still_open = rand.random() < 0.25
        if still_open:  # ongoing at the end of the window: the excursion runs to the last point
            start = rand.randint(max(0, n_points - length), n_points - 1)
            end = n_points
        else:
            start = rand.randint(0, max(0, n_points - length - 1))
            end = min(n_points, start + length)
        strength = {"latency": rand.uniform(2.0, 6.0), "errors": rand.uniform(0.08, 0.4),
                    "cpu": rand.uniform(0.86, 0.98), "memory": rand.uniform(0.88, 0.97)}[kind]
        critical = {"latency": strength >= 3.5, "errors": strength >= 0.2, "cpu": strength >= 0.93,
                    "memory": strength >= 0.94}[kind]
        incident = Incident(kind, start, end, strength)
        bundle.incidents.append(incident)
        issue = IssueFactory.build(
            seed=seed, target=bundle.target, problem_kind=kind, strength=strength, critical=critical,
            window_start=start_ms + start * step_ms,
            window_end=None if still_open else start_ms + end * step_ms,
        )
        issues.append(issue)
        injected = from_incident(incident)
        if injected:
            first_ms, last_ms = start_ms + start * step_ms, min(end_ms, start_ms + end * step_ms)
            stories.append(Story(injected[0].type, "issue", bundle.target, injected[0].metric, strength, first_ms,
                                 last_ms, effects=[Effect(bundle.target, 0, 1.0, first_ms, last_ms,
                                                          issue["event_id"])]))
    return issues, stories


def _plan_scenario(plan: ScenarioPlan, seed: int, bundles: list[Bundle], endpoints: list[dict[str, Any]],
                   issues: list[dict[str, Any]]) -> list[Story]:
    """Seasonality and distributions per bundle, then the scenario's stories on the declared entities' bundles
    (a service's own bundle first, then its endpoints')."""
    names: dict[tuple[str, str], str] = {}
    for name, row in plan.services.items():
        names[("SERVICE", row["id"])] = name
    for name, row in plan.hosts.items():
        names[("INFRASTRUCTURE", row["snapshot_id"])] = name
    endpoint_service = {e["id"]: e["service_id"] for e in endpoints}
    by_name: dict[str, list[Bundle]] = {}
    for bundle in bundles:
        t = bundle.target
        kind = t["entity_type"]
        key = {"SERVICE": ("SERVICE", t.get("service_id")),
               "ENDPOINT": ("SERVICE", endpoint_service.get(t.get("endpoint_id", ""))),
               "INFRASTRUCTURE": ("INFRASTRUCTURE", t.get("snapshot_id"))}.get(kind)
        name = names.get(key) if key else None
        bundle.seasonality = plan.seasonality_for(name)
        bundle.overrides = plan.overrides_for(kind, name if kind != "ENDPOINT" else None)
        if name is not None:
            by_name.setdefault(name, []).append(bundle)
    for group in by_name.values():
        group.sort(key=lambda b: (b.target["entity_type"] == "ENDPOINT", b.index))

    def bundle_of(name: str) -> list[Bundle]:
        return bundles if name == "*" else by_name.get(name, [])

    def raise_issue(target: dict[str, Any], problem: str, strength: float, critical: bool, start_ms: int,
                    end_ms: int | None, root: dict[str, Any] | None = None) -> str:
        issue = IssueFactory.build(seed=seed, target=target, problem_kind=problem, strength=strength,
                                   critical=critical, window_start=start_ms, window_end=end_ms)
        if root is not None and root is not target:
            issue["detail"] += f" Probable root cause: {root['label']} ({root['entity_type'].lower()})."
        issues.append(issue)
        return issue["event_id"]

    return plan.stories(bundle_of, raise_issue)
