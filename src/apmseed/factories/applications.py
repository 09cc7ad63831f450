"""Application perspectives, services (traits per kind of service) and endpoints."""

from __future__ import annotations

import factory
from factory.fuzzy import FuzzyChoice, FuzzyInteger

from apmseed import ids, vocab
from apmseed.factories.base import RowFactory


def _service_label(o: factory.builder.Resolver) -> str:
    base = vocab.SERVICES[o.n % len(vocab.SERVICES)].name
    generation = o.n // len(vocab.SERVICES)
    return base if generation == 0 else f"{base}-{vocab.REGIONS[(generation - 1) % len(vocab.REGIONS)]}" + (
        f"-{(generation - 1) // len(vocab.REGIONS) + 2}" if generation > len(vocab.REGIONS) else "")


def _datastore(kind: vocab.ServiceKind) -> tuple[str, str, str, str]:
    return vocab.DATASTORE_TECH[kind.name.rsplit("-", 1)[-1]]


class ApplicationFactory(RowFactory):
    id = factory.LazyAttribute(lambda o: ids.application_id(o.seed, o.n))
    label = factory.LazyAttribute(lambda o: " ".join(filter(None, (
        vocab.APPLICATIONS[o.n % len(vocab.APPLICATIONS)],
        vocab.APPLICATION_QUALIFIERS[(o.n // len(vocab.APPLICATIONS)) % len(vocab.APPLICATION_QUALIFIERS)],
    ))) + (f" {o.n // (len(vocab.APPLICATIONS) * len(vocab.APPLICATION_QUALIFIERS)) + 1}"
           if o.n >= len(vocab.APPLICATIONS) * len(vocab.APPLICATION_QUALIFIERS) else ""))
    boundary_scope = FuzzyChoice(("ALL", "ALL", "INBOUND", "DEFAULT"))
    business_criticality = FuzzyInteger(0, 5)


class ServiceFactory(RowFactory):
    """The underscore keys (`_kind`, `_language`, ...) feed processes and endpoints; they are not columns."""

    class Params:
        kind = factory.LazyAttribute(lambda o: vocab.SERVICES[o.n % len(vocab.SERVICES)])
        language = FuzzyChoice(tuple(vocab.LANGUAGES))

    id = factory.LazyAttribute(lambda o: ids.service_id(o.seed, o.n))
    label = factory.LazyAttribute(_service_label)
    types = factory.LazyAttribute(lambda o: {"web": ["HTTP"], "database": ["DATABASE"],
                                             "messaging": ["MESSAGING"]}[o.kind.category])
    technologies = factory.LazyAttribute(
        lambda o: [vocab.LANGUAGES[o.language][0]] if o.kind.category == "web" else [_datastore(o.kind)[0]]
    )
    _kind = factory.SelfAttribute("kind")
    _executable = factory.LazyAttribute(
        lambda o: (vocab.LANGUAGES[o.language][1] if o.kind.category == "web" else _datastore(o.kind)[1]).format(
            name=o.kind.name)
    )
    _args = factory.LazyAttribute(
        lambda o: (vocab.LANGUAGES[o.language][2] if o.kind.category == "web" else _datastore(o.kind)[2]).format(
            name=o.kind.name)
    )


def _endpoint_label(kind: vocab.ServiceKind, i: int) -> tuple[str, str]:
    """(label, type) of the i-th endpoint of a service: unique per service for any i."""
    resource = kind.resources[i % len(kind.resources)]
    round_ = i // len(kind.resources)
    if kind.category == "database":
        style = _datastore(kind)[3]
        ops = {"sql": ("SELECT", "INSERT", "UPDATE", "DELETE"), "redis": ("GET", "SET", "DEL", "EXPIRE"),
               "es": ("SEARCH", "INDEX", "GET", "BULK")}[style]
        op = ops[round_ % len(ops)]
        suffix = f" #{round_ // len(ops) + 1}" if round_ >= len(ops) else ""
        return f"{op} {resource}{suffix}", "DATABASE"
    if kind.category == "messaging":
        verbs = ("publish", "consume")
        suffix = f" #{round_ // 2 + 1}" if round_ >= 2 else ""
        return f"{verbs[round_ % 2]} {resource}{suffix}", "MESSAGING"
    verbs = ("GET", "POST", "PUT", "DELETE", "PATCH")
    verb = verbs[round_ % len(verbs)]
    version = f"/v{round_ // len(verbs) + 1}" if round_ >= len(verbs) else ""
    return f"{verb} /api{version}/{resource}".rstrip("/"), "HTTP"


class EndpointFactory(RowFactory):
    class Params:
        service: dict = factory.Dict({})
        index = 0  # position of the endpoint within its service
        resolved = factory.LazyAttribute(lambda o: _endpoint_label(o.service["_kind"], o.index))
        synthetic = factory.Trait(synthetic_type="SYNTHETIC")

    id = factory.LazyAttribute(lambda o: ids.endpoint_id(o.seed, o.n))
    service_id = factory.LazyAttribute(lambda o: o.service["id"])
    label = factory.LazyAttribute(lambda o: o.resolved[0])
    type = factory.LazyAttribute(lambda o: o.resolved[1])
    technologies = factory.LazyAttribute(lambda o: list(o.service["technologies"]))
    synthetic_type = FuzzyChoice(("NON_SYNTHETIC",) * 9 + ("MIXED",))
