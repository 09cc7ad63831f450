"""The incident-heavy scenario of the realism pair: a profile's own sizes with about twenty declared services in
a call topology, a few hosts running them, an incident of every anomaly type on a service and on a host, two
cascades over the topology, a release regression that triggers an incident and a traffic surge, spread over the
window. Built with the fluent builder, written as YAML so the child seeds it as `seed --scenario FILE` would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apmseed import profiles
from apmseed.profiles import Profile
from apmseed.scenarios.builder import Scenario, ScenarioBuilder
from apmseed.scenarios.spec import ANOMALY_TYPES, ScenarioSpec

NAME = "bench-incidents"
DECLARED_SERVICES = 20
DECLARED_HOSTS = 4
LANGUAGES = ("java", "go", "node", "python", "dotnet")
STORES = (("database", "postgresql"), ("database", "redis"), ("database", "elasticsearch"), ("messaging", "kafka"))


@dataclass(frozen=True)
class Topology:
    services: list[tuple[str, str, str, list[str]]]  # (name, kind, technology, calls), callees later in the list
    hosts: list[tuple[str, list[str]]]  # (name, services it runs)

    @property
    def stores(self) -> list[str]:
        return [name for name, kind, _, _ in self.services if kind != "web"]


def topology(profile: Profile) -> Topology:
    """A gateway, frontends, backends and stores (as many as the profile holds, up to twenty), each calling only
    services after it (no circles); hosts running the backends."""
    n = min(DECLARED_SERVICES, profile.services)
    if n < 4:  # a chain: each service calls the next
        names = [f"svc-{i + 1}" for i in range(n)]
        services = [(name, "web", LANGUAGES[i % len(LANGUAGES)], names[i + 1:i + 2]) for i, name in enumerate(names)]
        hosts = [("host-1", names[:1])] if profile.entities >= 3 else []
        return Topology(services, hosts)
    n_front = max(1, round(0.15 * n))
    n_store = max(1, round(0.25 * n))
    n_back = n - 1 - n_front - n_store
    front = [f"frontend-{i + 1}" for i in range(n_front)]
    back = [f"backend-{i + 1}" for i in range(n_back)]
    stores = [f"store-{i + 1}" for i in range(n_store)]
    services: list[tuple[str, str, str, list[str]]] = [("api-gateway", "web", "go", front)]
    for i, name in enumerate(front):
        calls = sorted({back[i % n_back], back[(i + 1) % n_back]}) if back else stores[:1]
        services.append((name, "web", "node", calls))
    for i, name in enumerate(back):
        calls = [back[i + 1]] if i + 1 < n_back and i % 2 == 0 else []  # a few backend -> backend edges
        calls += sorted({stores[i % n_store], stores[(i + 2) % n_store]})
        services.append((name, "web", LANGUAGES[i % len(LANGUAGES)], calls))
    for i, name in enumerate(stores):
        kind, tech = STORES[i % len(STORES)]
        services.append((name, kind, tech, []))
    n_hosts = min(DECLARED_HOSTS, profile.entities // 3, max(1, len(back)))
    hosts = [(f"node-{h + 1}", [b for i, b in enumerate(back) if i % n_hosts == h]) for h in range(n_hosts)]
    return Topology(services, hosts)


def builder(profile: Profile) -> ScenarioBuilder:
    """The scenario for `profile`'s sizes and window: every declared incident in its own time slot (so none
    overlaps another on the same entity), cascades reaching their callers a few minutes per hop later."""
    topo = topology(profile)
    sizes: dict[str, Any] = {k: getattr(profile, k) for k in profiles.OVERRIDES}
    if profile.scale != 1.0:  # recorded as the profile records it (the explicit sizes above win)
        sizes["scale"] = profile.scale
    b = Scenario.build(NAME, f"Benchmark: every anomaly type, two cascades, a release regression and a traffic "
                             f"surge over the {profile.name} profile's sizes")
    b.profile(profile.name, **sizes)
    for name, kind, tech, calls in topo.services:
        b.service(name, kind=kind, technology=tech, calls=calls)
    for name, runs in topo.hosts:
        b.host(name, runs=runs)
    services = [name for name, _, _, _ in topo.services]
    hosts = [name for name, _ in topo.hosts]
    n_slots = 2 * len(ANOMALY_TYPES) + 3  # the incidents, the two cascade roots, the release's trigger
    slot = profile.minutes // (n_slots + 1)
    if slot < 2:
        raise ValueError(f"a window of {profile.minutes} minutes is too short for {n_slots} incidents")
    duration = f"{max(1, slot // 2)}m"
    starts = iter(f"+{k * slot + max(1, slot // 4)}m" for k in range(n_slots))
    for i, kind in enumerate(ANOMALY_TYPES):  # each type on a service, then on a host (or a second service)
        b.incident(services[(3 * i + 1) % len(services)], kind, at=next(starts), duration=duration)
        other = hosts[i % len(hosts)] if hosts else services[(3 * i + 2) % len(services)]
        b.incident(other, kind, at=next(starts), duration=duration)
    delay = f"{max(1, slot // 8)}m"
    root = topo.stores[0] if topo.stores else services[-1]
    b.cascade(root, at=next(starts), duration=duration, type="outage", delay=delay, damping=0.6, max_depth=3,
              propagates_as="degradation")
    second = hosts[0] if hosts else services[len(services) // 2]
    b.cascade(second, at=next(starts), duration=duration, type="saturation", delay=delay, damping=0.5,
              max_depth=3, propagates_as="spike")
    released = services[len(services) // 2]
    b.release(released, at=next(starts), effect="regression", latency_factor=1.6, error_rate_delta=0.02,
              version="2.0.0", triggers={"type": "degradation", "duration": duration})
    surge = max(2, profile.minutes // 6)
    b.traffic(at=f"+{profile.minutes // 2}m", duration=f"{surge}m", multiplier=1.8, ramp=f"{surge // 4}m")
    return b


@dataclass(frozen=True)
class Written:
    path: Path
    spec: ScenarioSpec

    def describe(self) -> dict[str, int]:
        spec = self.spec
        hops = sum(len(spec.cascade_hops(c)) for c in spec.cascades)
        return {"services": len(spec.services), "hosts": len(spec.hosts), "incidents": len(spec.incidents),
                "anomalyTypes": len({i.type for i in spec.incidents}), "cascades": len(spec.cascades),
                "cascadeHops": hops, "releases": len(spec.releases), "surges": len(spec.traffic)}


def write(profile: Profile, directory: Path, end_ms: int) -> Written:
    """Check the scenario (the loader's own checks) and write it as `<directory>/bench-incidents.yaml`."""
    b = builder(profile)
    spec = b.done(end_ms=end_ms)
    if spec.profile.points != profile.points:  # the pair compares like with like
        raise ValueError(f"the scenario has {spec.profile.points:,} points, the profile {profile.points:,}")
    path = directory / f"{NAME}.yaml"
    path.write_text(b.to_yaml(), encoding="utf-8")
    return Written(path, spec)
