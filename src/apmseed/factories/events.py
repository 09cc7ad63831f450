"""Issues (Instana events of type `issue`) on applications, services, endpoints and snapshots."""

from __future__ import annotations

import factory

from apmseed import ids, vocab
from apmseed.factories.base import RowFactory

# what Instana calls the entity in `entityName`, per snapshot plugin or application entity type
ENTITY_NAMES = {"APPLICATION": "Application", "SERVICE": "Service", "ENDPOINT": "Endpoint",
                "host": "Host", "docker": "Docker Container", "process": "Process"}


class IssueFactory(RowFactory):
    """`target` is a metric bundle (entity + kind); `window` (start, end|None) and `strength` come from the
    incident planner, so the text states the excursion the metrics really show."""

    class Params:
        target: dict = factory.Dict({})
        problem_kind = "latency"
        window_start = 0
        window_end = None  # None: still open at the end of the data window
        strength = 2.0  # latency factor / error rate / utilisation level, by problem kind
        texts = factory.LazyAttribute(lambda o: vocab.PROBLEMS[o.problem_kind])
        fmt = factory.LazyAttribute(lambda o: {"label": o.target["label"], "factor": o.strength,
                                               "rate": o.strength, "level": o.strength})
        critical = factory.Trait(severity=10)

    event_id = factory.LazyAttribute(lambda o: ids.event_id(o.seed, o.n))
    type = "issue"
    entity_type = factory.LazyAttribute(lambda o: o.target["entity_type"])
    state = factory.LazyAttribute(lambda o: "open" if o.window_end is None else "closed")
    severity = 5
    start_ms = factory.SelfAttribute("window_start")
    end_ms = factory.SelfAttribute("window_end")
    problem = factory.LazyAttribute(lambda o: o.texts[0])
    detail = factory.LazyAttribute(lambda o: o.texts[1].format(**o.fmt))
    fix_suggestion = factory.LazyAttribute(lambda o: o.texts[2].format(**o.fmt))
    entity_name = factory.LazyAttribute(lambda o: ENTITY_NAMES[o.target.get("plugin") or o.target["entity_type"]])
    entity_label = factory.LazyAttribute(lambda o: o.target["label"])
    application_id = factory.LazyAttribute(lambda o: o.target.get("application_id"))
    service_id = factory.LazyAttribute(lambda o: o.target.get("service_id"))
    endpoint_id = factory.LazyAttribute(lambda o: o.target.get("endpoint_id"))
    snapshot_id = factory.LazyAttribute(lambda o: o.target.get("snapshot_id"))
