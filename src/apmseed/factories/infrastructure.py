"""Hosts, containers and processes (Instana plugins `host`, `docker`, `process`)."""

from __future__ import annotations

import factory
from factory.fuzzy import FuzzyChoice

from apmseed import ids, vocab
from apmseed.factories.base import RowFactory, rand

MINUTE_MS = 60_000


def _ip(region: str) -> str:
    second = 10 + vocab.REGIONS.index(region)
    return f"10.{second}.{rand.randint(0, 255)}.{rand.randint(2, 254)}"


class HostFactory(RowFactory):
    class Params:
        region = FuzzyChoice(vocab.REGIONS)
        zone = factory.LazyAttribute(lambda o: o.region + rand.choice(vocab.ZONE_SUFFIX))
        ip = factory.LazyAttribute(lambda o: _ip(o.region))
        instance = FuzzyChoice(vocab.INSTANCE_TYPES)
        environment = FuzzyChoice(vocab.ENVIRONMENTS)
        team = FuzzyChoice(vocab.TEAMS)
        window_start_ms = 0

    snapshot_id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "snapshot:host", o.n, 27))
    plugin = "host"
    label = factory.LazyAttribute(lambda o: f"ip-{o.ip.replace('.', '-')}.{o.region}.compute.internal")
    host = factory.SelfAttribute("label")
    parent_snapshot_id = None
    # hosts were started days before the window; they stay online (to_ms NULL)
    from_ms = factory.LazyAttribute(lambda o: o.window_start_ms - rand.randint(2 * 1440, 90 * 1440) * MINUTE_MS)
    to_ms = None
    data = factory.LazyAttribute(lambda o: {
        "system": {"hostname": o.label, "os": "linux", "osVersion": rand.choice(vocab.OS_VERSIONS),
                   "cpuModel": rand.choice(vocab.CPU_MODELS), "cpuCount": o.instance[1],
                   "memoryBytes": o.instance[2] * 1024**3, "instanceType": o.instance[0]},
        "network": {"ip": o.ip, "availabilityZone": o.zone, "region": o.region},
    })
    tags = factory.LazyAttribute(lambda o: [f"env:{o.environment}", f"zone:{o.zone}", f"team:{o.team}"])


class ContainerFactory(RowFactory):
    class Params:
        parent: dict = factory.Dict({})
        app_name = FuzzyChoice(vocab.SIDECARS)
        # a container that runs no application service: a proxy, log shipper or exporter
        sidecar = factory.Trait(app_name=FuzzyChoice(vocab.SIDECARS))
        image_tag = factory.LazyFunction(lambda: f"{rand.randint(1, 4)}.{rand.randint(0, 30)}.{rand.randint(0, 9)}")
        short_id = factory.LazyAttribute(lambda o: ids.hexid(o.seed, "container", o.n, 12))

    snapshot_id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "snapshot:docker", o.n, 27))
    plugin = "docker"
    label = factory.LazyAttribute(lambda o: f"{o.app_name}-{o.short_id[:5]}")
    host = factory.LazyAttribute(lambda o: o.parent["host"])
    parent_snapshot_id = factory.LazyAttribute(lambda o: o.parent["snapshot_id"])
    from_ms = factory.LazyAttribute(lambda o: o.parent["from_ms"] + rand.randint(10, 1440) * MINUTE_MS)
    to_ms = None
    data = factory.LazyAttribute(lambda o: {
        "container": {"id": o.short_id, "name": o.label, "runtime": "containerd",
                      "image": f"registry.example.com/{o.app_name}:{o.image_tag}"},
        "parent": {"snapshotId": o.parent["snapshot_id"], "plugin": "host"},
    })
    tags = factory.LazyAttribute(lambda o: [*o.parent["tags"], f"container:{o.app_name}"])


class ProcessFactory(RowFactory):
    """A process in a container or on a host; `serves` (a service row) makes it the service's runtime."""

    class Params:
        parent: dict = factory.Dict({})
        serves = None
        daemon = factory.LazyFunction(lambda: rand.choice(vocab.DAEMONS))
        executable = factory.LazyAttribute(lambda o: o.serves["_executable"] if o.serves else o.daemon[0])
        args = factory.LazyAttribute(lambda o: o.serves["_args"] if o.serves else o.daemon[1])
        # an application runtime is PID 1 of its container; daemons get any pid
        pid = factory.LazyAttribute(lambda o: 1 if o.serves else rand.randint(300, 65_000))

    snapshot_id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "snapshot:process", o.n, 27))
    plugin = "process"
    label = factory.LazyAttribute(lambda o: f"{o.executable.rsplit('/', 1)[-1]} {o.args}")
    host = factory.LazyAttribute(lambda o: o.parent["host"])
    parent_snapshot_id = factory.LazyAttribute(lambda o: o.parent["snapshot_id"])
    from_ms = factory.LazyAttribute(lambda o: o.parent["from_ms"] + rand.randint(0, 60) * MINUTE_MS)
    to_ms = None
    data = factory.LazyAttribute(lambda o: {
        "process": {"pid": o.pid, "executable": o.executable, "args": o.args, "user": "app"},
        "parent": {"snapshotId": o.parent["snapshot_id"], "plugin": o.parent["plugin"]},
    })
    tags = factory.LazyAttribute(lambda o: list(o.parent["tags"]))
