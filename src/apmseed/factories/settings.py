"""Host agents, event specifications, service and endpoint configurations and custom dashboards, as dict rows."""

from __future__ import annotations

import re
from typing import Any

import factory
from factory.fuzzy import FuzzyChoice

from apmseed import ids, vocab
from apmseed.factories.base import RowFactory, rand

MINUTE_MS = 60_000
DAY_MS = 86_400_000
AGENT_VERSIONS = ("1.2.28", "1.2.30", "1.2.31", "1.2.33")
# the plugin Instana names an issue's entity by, per entity type of application issues
APPLICATION_PLUGINS = {"APPLICATION": "application", "SERVICE": "service", "ENDPOINT": "endpoint"}

# problem kind -> (description, default severity, rule inputs, hyper parameters); the defaults sit below what
# the 1.0.0 incidents inject, so every issue is one its specification would raise
_KIND_SPECS: dict[str, tuple[str, int, list[dict[str, Any]], list[dict[str, Any]]]] = {
    "latency": ("Detects a sudden increase of the average latency compared with the learned baseline.", 10,
                [{"inputKind": "METRIC", "inputName": "latency", "metricRollup": 60}],
                [{"id": "sensitivity", "name": "Sensitivity", "description": "Factor over the baseline latency.",
                  "defaultValue": 2.0, "minValue": 1.2, "maxValue": 10.0, "valueFormat": "NUMBER"}]),
    "errors": ("Detects a sudden increase of the share of erroneous calls.", 10,
               [{"inputKind": "METRIC", "inputName": "calls", "metricRollup": 60},
                {"inputKind": "METRIC", "inputName": "erroneousCalls", "metricRollup": 60}],
               [{"id": "errorRate", "name": "Error rate", "description": "Share of erroneous calls.",
                 "defaultValue": 0.05, "minValue": 0.0, "maxValue": 1.0, "valueFormat": "PERCENTAGE"}]),
    "cpu": ("CPU usage stayed above the threshold for the whole duration.", 5,
            [{"inputKind": "METRIC", "inputName": "cpu.used", "metricRollup": 60}],
            [{"id": "threshold", "name": "Threshold", "description": "CPU usage that counts as high.",
              "defaultValue": 0.85, "minValue": 0.5, "maxValue": 1.0, "valueFormat": "PERCENTAGE"},
             {"id": "duration", "name": "Duration", "description": "How long usage must stay high.",
              "defaultValue": 300, "minValue": 60, "maxValue": 3600, "valueFormat": "SECONDS"}]),
    "memory": ("Memory usage stayed above the threshold for the whole duration.", 5,
               [{"inputKind": "METRIC", "inputName": "memory.used", "metricRollup": 60}],
               [{"id": "threshold", "name": "Threshold", "description": "Memory usage that counts as high.",
                 "defaultValue": 0.85, "minValue": 0.5, "maxValue": 1.0, "valueFormat": "PERCENTAGE"}]),
}
# built-in specifications no 1.0.0 issue uses: (plugin, name, description, rule input metric)
EXTRA_BUILT_INS = (
    ("host", "Disk almost full", "A file system of the host is more than 90 % full.", "fs.used"),
    ("docker", "Container restarted frequently", "The container restarted more than three times in an hour.",
     "restartCount"),
)

SERVICE_MATCHERS = (("docker.label", "com.example.service-name"), ("kubernetes.pod.label", "app.kubernetes.io/name"),
                    ("kubernetes.namespace.label", "team"), ("process.env", "SERVICE_NAME"),
                    ("agent.tag", "service"))
DASHBOARDS_PER_APP = ("{app} golden signals", "{app} SLOs and error budget", "{app} release health")
DASHBOARDS_GLOBAL = ("Infrastructure overview", "On-call: open issues", "Agent fleet", "Latency by service",
                     "Database load", "Capacity planning")


def built_in_catalog(problem_kinds: dict[str, tuple[str, ...]],
                     infra_plugins: tuple[str, ...]) -> list[tuple[str, str, str | None]]:
    """(plugin, name, problem kind or None) of every built-in specification."""
    specs: list[tuple[str, str, str | None]] = []
    for entity, kinds in problem_kinds.items():
        plugins = infra_plugins if entity == "INFRASTRUCTURE" else (APPLICATION_PLUGINS[entity],)
        for plugin in plugins:
            specs += [(plugin, vocab.PROBLEMS[kind][0], kind) for kind in kinds]
    specs += [(plugin, name, None) for plugin, name, _, _ in EXTRA_BUILT_INS]
    return sorted(specs)


def _extra(plugin: str, name: str) -> tuple[str, str, str, str]:
    return next(e for e in EXTRA_BUILT_INS if e[0] == plugin and e[1] == name)


class BuiltInSpecificationFactory(RowFactory):
    """Built-in ids are the same on every tenant, so they do not depend on the seed."""

    class Params:
        plugin = "host"
        name_ = "High CPU usage"
        kind_ = None  # problem kind (vocab.PROBLEMS), or None for an extra built-in
        spec = factory.LazyAttribute(lambda o: _KIND_SPECS[o.kind_] if o.kind_ else (
            _extra(o.plugin, o.name_)[2], 5, [{"inputKind": "METRIC", "inputName": _extra(o.plugin, o.name_)[3],
                                               "metricRollup": 60}], []))
        window_start_ms = 0

    id = factory.LazyAttribute(lambda o: ids.b64id(0, f"event_specification:{o.plugin}:{o.name_}", 0, 27))
    kind = "BUILT_IN"
    name = factory.SelfAttribute("name_")
    entity_type = factory.SelfAttribute("plugin")
    short_plugin_id = factory.SelfAttribute("plugin")
    description = factory.LazyAttribute(lambda o: o.spec[0])
    severity = factory.LazyAttribute(lambda o: o.spec[1])
    enabled = True
    triggering = factory.LazyAttribute(lambda o: o.spec[1] == 10)
    hyper_params = factory.LazyAttribute(lambda o: o.spec[3])
    rule_inputs = factory.LazyAttribute(lambda o: o.spec[2])
    rules = factory.LazyFunction(list)
    rule_logical_operator = None
    # shipped with the product, long before the window
    last_updated_ms = factory.LazyAttribute(lambda o: o.window_start_ms - rand.randint(60, 720) * DAY_MS)


def _custom_template(o: Any) -> tuple[str, str, str, list[dict[str, Any]]]:
    """(name, entity type, description, rules) of the n-th custom event specification."""
    process, hosts = o.process_label, o.host_count
    templates = (
        ("CPU saturated for 5 minutes", "host", "Average CPU usage above 95 % over five minutes.",
         [{"ruleType": "threshold", "severity": 10, "metricName": "cpu.used", "rollup": 60_000,
           "window": 300_000, "aggregation": "avg", "conditionOperator": ">", "conditionValue": 0.95}]),
        (f"{process} stopped", "host", f"The process {process} is no longer running on the host.",
         [{"ruleType": "entity_verification", "severity": 10, "matchingEntityType": "process",
           "matchingOperator": "is", "matchingEntityLabel": process, "offlineDuration": 60_000}]),
        ("Production host offline", "host", "A production host stopped reporting for five minutes.",
         [{"ruleType": "host_availability", "severity": 10, "offlineDuration": 300_000, "closeAfter": 86_400_000,
           "tagFilter": {"type": "TAG_FILTER", "name": "host.tag", "entity": "NOT_APPLICABLE",
                         "operator": "EQUALS", "stringValue": "env:production", "value": "env:production"}}]),
        ("Container memory pressure", "docker", "Average container memory usage above 90 % over ten minutes.",
         [{"ruleType": "threshold", "severity": 5, "metricName": "memory.used", "rollup": 60_000,
           "window": 600_000, "aggregation": "avg", "conditionOperator": ">", "conditionValue": 0.9}]),
        (f"Fewer than {hosts} hosts", "host", f"Fewer than the {hosts} hosts of the estate are online.",
         [{"ruleType": "entity_count", "severity": 10, "conditionOperator": "<", "conditionValue": hosts}]),
        ("Monitored entity offline", "host", "Instana lost an entity it monitored.",
         [{"ruleType": "system", "severity": 5, "systemRuleId": "entity.offline"}]),
    )
    name, entity, description, rules = templates[o.n % len(templates)]
    generation = o.n // len(templates)
    return (name + (f" #{generation + 1}" if generation else ""), entity, description, rules)


class CustomSpecificationFactory(RowFactory):
    class Params:
        process_label = "postgres"
        host_count = 1
        template = factory.LazyAttribute(_custom_template)
        window_start_ms = 0

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "event_specification:custom", o.n, 22))
    kind = "CUSTOM"
    name = factory.LazyAttribute(lambda o: o.template[0])
    entity_type = factory.LazyAttribute(lambda o: o.template[1])
    short_plugin_id = None
    description = factory.LazyAttribute(lambda o: o.template[2])
    severity = factory.LazyAttribute(lambda o: max(r["severity"] for r in o.template[3]))
    enabled = FuzzyChoice((True, True, True, False))
    triggering = factory.LazyAttribute(lambda o: o.severity == 10)
    hyper_params = factory.LazyFunction(list)
    rule_inputs = factory.LazyFunction(list)
    rules = factory.LazyAttribute(lambda o: o.template[3])
    rule_logical_operator = "AND"
    # the latest EVENT_SPECIFICATION_UPDATED of the audit log, when there is one (set by the layer)
    last_updated_ms = factory.LazyAttribute(lambda o: o.window_start_ms - rand.randint(1, 200) * DAY_MS)


def _agent_id(seed: int, n: int) -> str:
    """An EUI-64 style agent id (`02:42:ac:ff:fe:11:00:02`), as Instana derives it from the host's MAC."""
    raw = ids.hexid(seed, "agent", n, 12)
    octets = [raw[i:i + 2] for i in range(0, 12, 2)]
    return ":".join([*octets[:3], "ff", "fe", *octets[3:]])


class HostAgentFactory(RowFactory):
    """The agent on `host` (a snapshot row); `plugins` are the sensors it runs there, `mode` APM when it traces
    services on the host."""

    class Params:
        host: dict = factory.Dict({})
        window_end_ms = 0
        restarted = factory.LazyFunction(lambda: rand.random() < 0.3)  # e.g. an agent update since boot

    snapshot_id = factory.LazyAttribute(lambda o: o.host["snapshot_id"])
    agent_snapshot_id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "snapshot:agent", o.n, 27))
    agent_id = factory.LazyAttribute(lambda o: _agent_id(o.seed, o.n))
    version = FuzzyChoice(AGENT_VERSIONS)
    mode = "APM"
    status = "ONLINE"
    auto_update = FuzzyChoice((True, True, False))
    from_ms = factory.LazyAttribute(
        lambda o: rand.randint(o.host["from_ms"] + 10 * MINUTE_MS, o.window_end_ms - 2 * DAY_MS) if o.restarted
        and o.window_end_ms - 2 * DAY_MS > o.host["from_ms"] + 10 * MINUTE_MS
        else o.host["from_ms"] + rand.randint(1, 5) * MINUTE_MS)
    to_ms = None
    last_seen_ms = factory.LazyAttribute(lambda o: o.window_end_ms - rand.randint(0, 20_000))
    cpu_usage_percent = factory.LazyFunction(lambda: round(rand.uniform(0.3, 4.5), 2))
    memory_usage_mb = factory.LazyFunction(lambda: round(rand.uniform(220.0, 780.0), 1))
    plugins = factory.LazyFunction(list)


class ServiceConfigFactory(RowFactory):
    class Params:
        service: dict = factory.Dict({})
        matchers = factory.LazyFunction(lambda: rand.sample(SERVICE_MATCHERS, k=rand.choice((1, 1, 2))))

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "service_config", o.n, 22))
    service_id = factory.LazyAttribute(lambda o: o.service["id"])
    name = factory.LazyAttribute(lambda o: f"{o.service['label']} service rule")
    enabled = FuzzyChoice((True, True, True, False))
    comment = factory.LazyAttribute(
        lambda o: f"Maps the calls of {o.service['label']} to one service, whatever container serves them.")
    match_specification = factory.LazyAttribute(lambda o: [{"key": k, "value": v} for k, v in o.matchers])


def _sample_value(name: str, i: int) -> str:
    return {"id": str(4711 + i), "sku": f"SKU-{1000 + i}", "slug": f"item-{i}", "userId": str(90210 + i),
            "key": f"flag-{i}"}.get(name, f"{name}-{i}")


def endpoint_rules(endpoint_labels: list[str]) -> list[dict[str, Any]]:
    """HttpEndpointRules for the parameterised HTTP paths of a service's endpoints, each with a test case made
    from the path itself (none when no path has a parameter)."""
    rules: dict[str, dict[str, Any]] = {}
    for label in sorted(endpoint_labels):
        path = label.split(" ", 1)[1] if " " in label else label
        if "{" not in path or path in rules:
            continue
        segments, example = [], []
        for i, part in enumerate(p for p in path.split("/") if p):
            param = re.fullmatch(r"\{(\w+)\}", part)
            if param and param.group(1) == "proxy":  # a gateway forwards whatever follows
                segments.append({"type": "MATCH_ALL"})
                example += ["orders", str(100 + i)]
                break
            if param:
                segments.append({"type": "PARAMETER", "name": param.group(1)})
                example.append(_sample_value(param.group(1), i))
            else:
                segments.append({"type": "FIXED", "name": part})
                example.append(part)
        rules[path] = {"enabled": True, "pathSegments": segments[:16], "testCases": ["/" + "/".join(example)]}
    return list(rules.values())


class EndpointConfigFactory(RowFactory):
    class Params:
        service: dict = factory.Dict({})
        endpoint_labels = factory.LazyFunction(list)

    service_id = factory.LazyAttribute(lambda o: o.service["id"])
    endpoint_case = FuzzyChoice(("ORIGINAL",) * 6 + ("LOWER",))
    by_path_template = True
    by_first_path_segment = FuzzyChoice((False, False, False, True))
    rules = factory.LazyAttribute(lambda o: endpoint_rules(list(o.endpoint_labels)))


class CustomDashboardFactory(RowFactory):
    """`title` is picked by the layer (per application or global); `shared` needs an owner allowed to publish."""

    class Params:
        owner: dict = factory.Dict({})
        title_ = "Infrastructure overview"
        application = None
        may_publish = False
        window_start_ms = 0
        window_end_ms = 0
        created_in_window = factory.LazyFunction(lambda: rand.random() < 0.2)

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "custom_dashboard", o.n, 22))
    title = factory.SelfAttribute("title_")
    owner_id = factory.LazyAttribute(lambda o: o.owner["id"])
    application_id = factory.LazyAttribute(lambda o: o.application["id"] if o.application else None)
    shared = factory.LazyAttribute(lambda o: o.may_publish and rand.random() < 0.7)
    writable = factory.LazyAttribute(lambda o: o.shared and rand.random() < 0.5)
    created_ms = factory.LazyAttribute(
        lambda o: rand.randint(o.window_start_ms, o.window_end_ms - MINUTE_MS) if o.created_in_window
        else o.window_start_ms - rand.randint(1, 300) * DAY_MS)
