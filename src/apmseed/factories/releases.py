"""Releases (Instana `ReleaseWithMetadata`), their deploy events (type `change`) and incidents.

The layer plans *when* and *what* (which service, which issue a bad deploy precedes, which issues an incident
groups); these factories turn a plan into rows with Instana-like ids, names and texts."""

from __future__ import annotations

import factory
from factory.fuzzy import FuzzyInteger

from apmseed import ids
from apmseed.factories.base import RowFactory, rand

DEPLOY_SECONDS = (20, 180)  # how long a rollout takes: the release's lastUpdated and the change event's end


def _author(o: factory.builder.Resolver) -> str:
    return f"{o.first.lower()}.{o.last.lower()}".replace(" ", "").replace("'", "")


class ReleaseFactory(RowFactory):
    """A release of one service (`<service>/v<version>`) or, with `train`, of several services of one application
    (`<application-slug>/release-<build>`). `rollback_of` (a release row) makes it redeploy an older version."""

    class Params:
        start = 0  # epoch ms, from the planner
        version_text = "1.0.0"
        service_label = "service"
        app_slug = "app"
        rollback_of = None
        first = factory.Faker("first_name")
        last = factory.Faker("last_name")
        deploy_s = FuzzyInteger(*DEPLOY_SECONDS)
        train = factory.Trait(name=factory.LazyAttribute(lambda o: f"{o.app_slug}/release-{o.version_text}"))

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "release", o.n, 22))
    name = factory.LazyAttribute(lambda o: f"{o.service_label}/v{o.version_text}")
    version = factory.SelfAttribute("version_text")
    author = factory.LazyAttribute(_author)
    start_ms = factory.SelfAttribute("start")
    last_updated_ms = factory.LazyAttribute(lambda o: o.start + o.deploy_s * 1000 + rand.randint(0, 999))
    rollback_of_release_id = factory.LazyAttribute(lambda o: o.rollback_of["id"] if o.rollback_of else None)


class ChangeEventFactory(RowFactory):
    """The deploy of one release as an Instana `change` event: from the release's start to its last update."""

    class Params:
        release: dict = factory.Dict({})
        services: list = factory.List([])  # labels of the released services
        application: dict = factory.Dict({})  # the application the event is reported on
        service = None  # the service row for a single-service release

    event_id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "change", o.n, 22))
    release_id = factory.LazyAttribute(lambda o: o.release["id"])
    entity_type = factory.LazyAttribute(lambda o: "SERVICE" if o.service else "APPLICATION")
    application_id = factory.LazyAttribute(lambda o: o.application["id"])
    service_id = factory.LazyAttribute(lambda o: o.service["id"] if o.service else None)
    start_ms = factory.LazyAttribute(lambda o: o.release["start_ms"])
    end_ms = factory.LazyAttribute(lambda o: o.release["last_updated_ms"])
    problem = factory.LazyAttribute(lambda o: (
        f"Rollback {o.release['name']}" if o.release["rollback_of_release_id"] else f"Release {o.release['name']}"))
    detail = factory.LazyAttribute(lambda o: (
        f"{o.release['author']} deployed {', '.join(o.services)} version {o.release['version']}"
        f" to {o.application['label']}"
        + (" (rollback)." if o.release["rollback_of_release_id"] else ".")))
    entity_label = factory.LazyAttribute(lambda o: o.service["label"] if o.service else o.application["label"])


class IncidentFactory(RowFactory):
    """An incident on an application grouping `issues` (event rows, earliest first): it opens with the first,
    takes the highest severity, and closes when all of them have closed. `cause` (a release row) is the deploy
    that preceded the triggering issue, if any."""

    class Params:
        issues: list = factory.List([])
        application: dict = factory.Dict({})
        cause = None
        trigger = factory.LazyAttribute(lambda o: o.issues[0])
        closed = factory.LazyAttribute(lambda o: all(i["end_ms"] is not None for i in o.issues))

    event_id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "incident", o.n, 22))
    application_id = factory.LazyAttribute(lambda o: o.application["id"])
    triggering_event_id = factory.LazyAttribute(lambda o: o.trigger["event_id"])
    state = factory.LazyAttribute(lambda o: "closed" if o.closed else "open")
    severity = factory.LazyAttribute(lambda o: max(i["severity"] for i in o.issues))
    start_ms = factory.LazyAttribute(lambda o: o.trigger["start_ms"])
    end_ms = factory.LazyAttribute(lambda o: max(i["end_ms"] for i in o.issues) if o.closed else None)
    problem = factory.LazyAttribute(lambda o: o.trigger["problem"])
    detail = factory.LazyAttribute(lambda o: (
        f"{len(o.issues)} related issue{'s' if len(o.issues) > 1 else ''} on {o.application['label']}: "
        + "; ".join(f"{i['entity_label']}: {i['problem']}" for i in o.issues) + "."))
    fix_suggestion = factory.LazyAttribute(lambda o: (
        f"Release {o.cause['name']} was deployed just before the first issue: consider rolling it back."
        if o.cause else o.trigger["fix_suggestion"]))
    entity_label = factory.LazyAttribute(lambda o: o.application["label"])
