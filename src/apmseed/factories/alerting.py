"""Alerting channels (one trait per Instana integration kind) and Smart Alert configurations (one trait per
family). The layer decides what is alerted on and where the thresholds lie (from the seeded metrics); the
factories dress that up as Instana would show it: names, descriptions, channel details, custom payloads,
time thresholds, revision timestamps."""

from __future__ import annotations

from typing import Any

import factory
from factory.fuzzy import FuzzyChoice

from apmseed import ids
from apmseed.factories.base import RowFactory, rand

DAY_MS = 86_400_000

# problem -> what is measured, the rule (without aggregation), name and description templates, unit
PROBLEMS: dict[str, dict[str, Any]] = {
    "slowness": {"label": "latency", "rule": {"alertType": "slowness", "metricName": "latency"},
                 "name": "Slow calls on {subject}",
                 "description": "The {aggregation} latency of calls to {subject} is above {value}.",
                 "unit": "ms"},
    "errorRate": {"label": "erroneous call rate", "rule": {"alertType": "errorRate", "metricName": "errors"},
                  "name": "Erroneous call rate of {subject} is too high",
                  "description": "More than {value} of the calls to {subject} are erroneous.",
                  "unit": "ratio"},
    "throughput": {"label": "call count", "rule": {"alertType": "throughput", "metricName": "calls"},
                   "name": "Throughput drop in {subject}",
                   "description": "{subject} receives fewer than {value} calls per evaluation window.",
                   "unit": "count"},
    "cpu": {"label": "CPU usage", "rule": {"alertType": "genericRule", "metricName": "cpu.used"},
            "name": "High CPU usage on {subject}",
            "description": "CPU usage of {subject} is above {value}.",
            "unit": "ratio"},
    "memory": {"label": "memory usage", "rule": {"alertType": "genericRule", "metricName": "memory.used"},
               "name": "Memory usage high on {subject}",
               "description": "Memory usage of {subject} is above {value}.",
               "unit": "ratio"},
}


def _format(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:g} ms"
    if unit == "ratio":
        return f"{value:.1%}"
    return f"{value:g}"


# -- channels ----------------------------------------------------------------------------------------------

def _secret(o: Any, what: str, length: int) -> str:
    return ids.hexid(o.seed, f"alerting_channel:{what}", o.n, length)


class AlertingChannelFactory(RowFactory):
    """`team` names the channel's owner; each trait is one `AbstractIntegration` kind with its own keys."""

    class Params:
        team = "platform"
        generation = 0  # > 0 when a team has several channels of one kind
        email = factory.Trait(kind="EMAIL", details=factory.LazyAttribute(lambda o: {
            "emails": [f"{o.team}-oncall@example.com", f"sre+{o.team}@example.com"]}))
        slack = factory.Trait(kind="SLACK", details=factory.LazyAttribute(lambda o: {
            "webhookUrl": "https://hooks.slack.com/services/T{}/B{}/{}".format(
                _secret(o, "workspace", 8).upper(), _secret(o, "bot", 10).upper(), _secret(o, "slack", 24)),
            "channel": f"#{o.team}-alerts", "emojiRendering": True}))
        webhook = factory.Trait(kind="WEB_HOOK", details=factory.LazyAttribute(lambda o: {
            "webhookUrls": [f"https://alerts.example.com/hooks/instana/{o.team}"],
            "headers": [f"X-Api-Key: {_secret(o, 'webhook', 32)}"]}))
        pagerduty = factory.Trait(kind="PAGER_DUTY", details=factory.LazyAttribute(lambda o: {
            "serviceIntegrationKey": _secret(o, "pagerduty", 32)}))
        opsgenie = factory.Trait(kind="OPS_GENIE", details=factory.LazyAttribute(lambda o: {
            "apiKey": "{}-{}-{}-{}-{}".format(*(_secret(o, f"opsgenie{i}", n) for i, n in enumerate((8, 4, 4, 4, 12)))),
            "region": rand.choice(("EU", "US")), "tags": f"team:{o.team},source:instana", "alias": "{{eventId}}"}))
        office365 = factory.Trait(kind="OFFICE_365", details=factory.LazyAttribute(lambda o: {
            "webhookUrl": f"https://example.webhook.office.com/webhookb2/{_secret(o, 'office365', 32)}"}))

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "alerting_channel", o.n, 22))
    kind = "EMAIL"
    name = factory.LazyAttribute(lambda o: {
        "EMAIL": "{team} on-call email", "SLACK": "Slack #{team}-alerts", "WEB_HOOK": "{team} alert webhook",
        "PAGER_DUTY": "PagerDuty {team}", "OPS_GENIE": "Opsgenie {team}", "OFFICE_365": "Teams {team} channel",
    }[o.kind].format(team=o.team) + (f" {o.generation + 1}" if o.generation else ""))
    details = factory.LazyAttribute(lambda o: {"emails": [f"{o.team}-oncall@example.com"]})


# -- Smart Alert configs -----------------------------------------------------------------------------------

def _time_threshold(o: Any) -> dict[str, Any]:
    """Instana evaluates `timeWindow` in whole granularity steps."""
    if o.family == "INFRA":
        return {"type": "violationsInSequence", "timeWindow": o.granularity_ms * rand.choice((1, 2, 3, 5))}
    pick = rand.random()
    if o.problem == "slowness" and pick < 0.15:
        return {"type": "requestImpact", "timeWindow": o.granularity_ms * 10, "requests": rand.choice((50, 100, 250))}
    if pick < 0.4:
        return {"type": "violationsInPeriod", "timeWindow": o.granularity_ms * 10, "violations": rand.randint(3, 5)}
    return {"type": "violationsInSequence", "timeWindow": o.granularity_ms * rand.choice((1, 2, 3, 5))}


def _thresholds(o: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("warning", "critical"):
        if o.levels.get(key) is not None:
            out[key] = ({"type": "adaptiveBaseline", "deviationFactor": o.levels[key]} if o.adaptive
                        else {"type": "staticThreshold", "value": o.levels[key]})
    return out


def _payload(o: Any) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = [{"type": "staticString", "key": "team", "value": o.team}]
    if rand.random() < 0.6:
        slug = "-".join(o.name.lower().replace(":", "").split())[:60]
        fields.append({"type": "staticString", "key": "runbook", "value": f"https://runbooks.example.com/{slug}"})
    if o.family == "INFRA" and rand.random() < 0.5:
        fields.append({"type": "dynamic", "key": "zone", "value": {"tagName": "host.availability-zone"}})
    return fields


def _describe(o: Any) -> str:
    key = "critical" if "critical" in o.levels and "warning" not in o.levels else "warning"
    if o.adaptive:
        return (f"The {PROBLEMS[o.problem]['label']} of {o.subject} deviates from its adaptive "
                f"baseline by more than {o.levels[key]:g} standard deviations.")
    return PROBLEMS[o.problem]["description"].format(subject=o.subject,
                                                     value=_format(o.levels[key], PROBLEMS[o.problem]["unit"]),
                                                     aggregation=(o.aggregation or "").lower() or "mean")


def _created(o: Any) -> tuple[int, int]:
    """(initial revision, latest revision): both before the data window."""
    initial = o.window_start_ms - rand.randint(30, 540) * DAY_MS - rand.randint(0, DAY_MS - 1)
    latest = initial if rand.random() < 0.4 else rand.randint(initial, o.window_start_ms - DAY_MS)
    return initial, latest


class AlertConfigFactory(RowFactory):
    """`problem` picks the rule; `levels` ({"warning": x, "critical": y}) come from the layer, which derives
    them from the seeded metrics. The severity is critical when a critical level is given."""

    class Params:
        problem = "slowness"
        subject = ""  # what the name and description talk about
        aggregation = None
        levels: dict = factory.Dict({})
        adaptive = False
        entity_type = "host"  # infrastructure rules: the plugin
        team = "platform"
        window_start_ms = 0
        revisions = factory.LazyAttribute(_created)

        application = factory.Trait(
            family="APPLICATION",
            boundary_scope=FuzzyChoice(("INBOUND", "INBOUND", "ALL")),
            include_internal=False,
            include_synthetic=False,
        )
        global_application = factory.Trait(
            family="GLOBAL_APPLICATION",
            boundary_scope="ALL",
            include_internal=False,
            include_synthetic=False,
            built_in=False,
        )
        infra = factory.Trait(family="INFRA", evaluation_type="PER_ENTITY")

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "alert_config", o.n, 22))
    family = "APPLICATION"
    name = factory.LazyAttribute(lambda o: PROBLEMS[o.problem]["name"].format(subject=o.subject))
    description = factory.LazyAttribute(_describe)
    application_id = None
    boundary_scope = None
    evaluation_type = "PER_AP"
    granularity_ms = 60_000
    severity = factory.LazyAttribute(lambda o: 10 if "critical" in o.levels else 5)
    enabled = factory.LazyFunction(lambda: rand.random() < 0.9)
    triggering = factory.LazyAttribute(lambda o: o.severity == 10 and rand.random() < 0.5)
    rule = factory.LazyAttribute(lambda o: {
        **PROBLEMS[o.problem]["rule"],
        **({"aggregation": o.aggregation} if o.aggregation else {}),
        **({"entityType": o.entity_type, "crossSeriesAggregation": o.aggregation or "MEAN", "regex": False,
            "metricGroupBy": []} if o.family == "INFRA" else {}),
    })
    threshold_operator = factory.LazyAttribute(lambda o: "<" if o.problem == "throughput" else ">")
    thresholds = factory.LazyAttribute(_thresholds)
    time_threshold = factory.LazyAttribute(_time_threshold)
    tag_filter_expression = None
    custom_payload_fields = factory.LazyAttribute(_payload)
    group_by = factory.LazyAttribute(lambda o: [])
    grace_period_ms = factory.LazyFunction(lambda: rand.choice((None, None, 300_000, 600_000, 1_800_000)))
    include_internal = None
    include_synthetic = None
    built_in = None
    snapshot_id = None
    initial_created_ms = factory.LazyAttribute(lambda o: o.revisions[0])
    created_ms = factory.LazyAttribute(lambda o: o.revisions[1])
