"""The fluent builder: a scenario written in Python, in the spirit of Elastic's apm-synthtrace. It only assembles
the document a YAML file would hold, so `done()` runs exactly the loader's checks and returns the same
ScenarioSpec, and `to_yaml()` writes a file that loads back to an equal spec.

    spec = (Scenario.build("my-test").profile("small", minutes=180)
            .service("checkout", calls=["payments"]).service("payments", kind="database")
            .incident("payments", "outage", at="-1h", duration="20m")
            .cascade(root="payments", delay="2m", damping=0.6)
            .release("checkout", at="-2h", effect="regression", latency_factor=1.5)
            .done())
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import yaml

from apmseed.scenarios.loader import parse_node
from apmseed.scenarios.spec import ScenarioSpec, resolve_scenario
from apmseed.scenarios.yaml_lines import from_python

Time = str | datetime


def _time(value: Time | None) -> str | None:
    """Offsets (`-3h`) and ISO strings pass through; datetimes become ISO 8601 UTC (naive means UTC)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _given(**fields: Any) -> dict[str, Any]:
    """Only the fields the caller set: defaults stay the loader's, and to_yaml() stays minimal."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in fields.items() if v is not None}


class ScenarioBuilder:
    """Each method adds one part of the scenario and returns the builder; nothing is checked before done()."""

    def __init__(self, name: str, description: str | None = None) -> None:
        self._doc: dict[str, Any] = {"name": name,
                                     "description": description or f"{name} (built with the Python API)"}

    def _append(self, section: str, item: dict[str, Any]) -> Self:
        self._doc.setdefault(section, []).append(item)
        return self

    def describe(self, text: str) -> Self:
        self._doc["description"] = text
        return self

    def profile(self, name: str = "small", **sizes: int) -> Self:
        """A profile name plus size overrides (entities, apps, services, endpoints, series, issues, minutes,
        resolution)."""
        self._doc["profile"] = {"name": name, **sizes} if sizes else name
        return self

    def seed(self, value: int) -> Self:
        self._doc["seed"] = value
        return self

    def end_time(self, value: Time) -> Self:
        self._doc["end_time"] = _time(value)
        return self

    def seasonality(self, **settings: float) -> Self:
        self._doc.setdefault("seasonality", {}).update(settings)
        return self

    def region(self, name: str, *, share: float | None = None, **seasonality: float) -> Self:
        self._doc.setdefault("regions", {})[name] = _given(share=share, seasonality=seasonality or None)
        return self

    def service(self, name: str, *, kind: str | None = None, technology: str | None = None,
                region: str | None = None, calls: Sequence[str] | None = None) -> Self:
        return self._append("services", _given(name=name, kind=kind, technology=technology, region=region,
                                               calls=list(calls) if calls is not None else None))

    def host(self, name: str, *, kind: str | None = None, region: str | None = None,
             runs: Sequence[str] | None = None) -> Self:
        return self._append("hosts", _given(name=name, kind=kind, region=region,
                                            runs=list(runs) if runs is not None else None))

    def distribution(self, metric: str, distribution: str, *, entity_type: str | None = None,
                     entity: str | None = None, **params: float | str) -> Self:
        return self._append("distributions", _given(metric=metric, entity_type=entity_type, entity=entity,
                                                    distribution=distribution, **params))

    def incident(self, entity: str, type: str, *, at: Time, duration: str, magnitude: float | None = None,
                 metric: str | None = None, allow_overlap: bool | None = None) -> Self:
        return self._append("incidents", _given(entity=entity, type=type, at=_time(at), duration=duration,
                                                magnitude=magnitude, metric=metric, allow_overlap=allow_overlap))

    def cascade(self, root: str, *, at: Time | None = None, duration: str | None = None, type: str | None = None,
                magnitude: float | None = None, delay: str | None = None, damping: float | None = None,
                max_depth: int | None = None, propagates_as: str | None = None) -> Self:
        """Spread a failure of `root` to its callers: its own (`at` + `duration`) or the root's incident."""
        return self._append("cascades", _given(root=root, type=type, at=_time(at), duration=duration,
                                               magnitude=magnitude, delay=delay, damping=damping,
                                               max_depth=max_depth, propagates_as=propagates_as))

    def release(self, service: str, *, at: Time, effect: str, latency_factor: float | None = None,
                error_rate_delta: float | None = None, version: str | None = None,
                triggers: Mapping[str, Any] | None = None) -> Self:
        """A deploy; `triggers` is the incident it opens, e.g. {"type": "degradation", "duration": "30m"}."""
        return self._append("releases", _given(service=service, at=_time(at), version=version, effect=effect,
                                               latency_factor=latency_factor, error_rate_delta=error_rate_delta,
                                               triggers=dict(triggers) if triggers is not None else None))

    def traffic(self, *, at: Time, duration: str, multiplier: float, ramp: str | None = None,
                region: str | None = None, entity: str | None = None) -> Self:
        return self._append("traffic", _given(at=_time(at), duration=duration, multiplier=multiplier, ramp=ramp,
                                              region=region, entity=entity))

    def to_dict(self) -> dict[str, Any]:
        """The scenario document, as a YAML file would hold it."""
        return yaml.safe_load(yaml.safe_dump(self._doc))  # a deep copy of plain values

    def to_yaml(self) -> str:
        return yaml.safe_dump(self._doc, sort_keys=False, allow_unicode=True, width=120)

    def done(self, *, end_ms: int | None = None, profile_overrides: Mapping[str, int | None] | None = None,
             base_dir: Path | None = None) -> ScenarioSpec:
        """The checked spec (raises ScenarioError naming the key path of each problem); `base_dir` resolves
        empirical CSV paths (default: the working directory)."""
        return parse_node(from_python(self._doc), f"scenario {self._doc['name']!r} (builder)", base_dir=base_dir,
                          end_ms=end_ms, profile_overrides=profile_overrides)


class Scenario:
    """Entry points: `Scenario.build(name)` for the fluent builder, `Scenario.load(name_or_path)` for a file."""

    @staticmethod
    def build(name: str, description: str | None = None) -> ScenarioBuilder:
        return ScenarioBuilder(name, description)

    @staticmethod
    def load(name_or_path: str, *, end_ms: int | None = None) -> ScenarioSpec:
        return resolve_scenario(name_or_path, end_ms=end_ms)
