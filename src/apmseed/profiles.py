"""Profiles: named sizes of a dataset, scaled by `--scale` and then overridden by explicit sizes, validated once
with clear messages."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apmseed.errors import ApmseedError


@dataclass(frozen=True)
class Profile:
    name: str
    entities: int  # infrastructure snapshots: hosts + containers + processes
    apps: int
    services: int
    endpoints: int
    series: int  # metric series (entity x metric x aggregation)
    issues: int
    # targets for the layers of later dataset versions (approximate row counts): they size what the 1.0.0
    # world does not fix by itself, so a profile states every dataset's size in one place
    calls: int  # rows of `call` (1.3.0: sampled traces until about this many calls)
    logs: int  # rows of `log_entry` (1.2.0)
    minutes: int  # length of the time window
    resolution: int  # minutes between points
    scale: float = 1.0  # the --scale factor the sizes above were multiplied by (recorded for reproduction)

    @property
    def points_per_series(self) -> int:
        return self.minutes // self.resolution

    @property
    def points(self) -> int:
        return self.series * self.points_per_series

    def options(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Profile:
        """The profile `options()` stored (the dataset options may hold more, such as the scenario); datasets
        seeded before calls/logs existed lack them (0 stands in)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{"calls": 0, "logs": 0, **{k: v for k, v in options.items() if k in names}})


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("tiny", entities=30, apps=3, services=8, endpoints=24, series=30, issues=5, calls=250, logs=160,
                minutes=60, resolution=1),
        # the roadmap's reference sizes
        Profile("small", entities=120, apps=15, services=40, endpoints=160, series=120, issues=30, calls=4_700,
                logs=900, minutes=120, resolution=1),
        Profile("medium", entities=2_000, apps=60, services=300, endpoints=1_500, series=3_000, issues=200,
                calls=150_000, logs=40_000, minutes=1_440, resolution=1),
        Profile("large", entities=20_000, apps=200, services=1_500, endpoints=8_000, series=15_000,
                issues=1_000, calls=750_000, logs=200_000, minutes=1_440, resolution=1),
        # issue #5's scale target: >= 100k entities, 2k services, 20k endpoints, 10M points, 1M calls and logs;
        # fewer series than `large` on purpose, so it seeds in minutes within 1.5 GB
        Profile("xl", entities=100_000, apps=300, services=2_000, endpoints=20_000, series=7_000, issues=1_500,
                calls=1_000_000, logs=1_000_000, minutes=1_440, resolution=1),
    )
}

OVERRIDES = ("entities", "apps", "services", "endpoints", "series", "issues", "calls", "logs", "minutes",
             "resolution")
SCALED = ("entities", "apps", "services", "endpoints", "series", "issues", "calls", "logs")  # not the window
MINIMUMS = {"entities": 3, "apps": 1, "services": 1, "endpoints": 0, "series": 0, "issues": 0, "calls": 0,
            "logs": 0, "minutes": 1, "resolution": 1}
MAXIMUM = 2**31 - 1  # ids and counts are int4 in the schema


def parse_scale(value: str | float | None) -> float:
    """`--scale` as a finite factor > 0 (given as text so a typo gets the same one-line error as a bad value)."""
    if value is None:
        return 1.0
    try:
        factor = float(value)
    except (TypeError, ValueError):
        raise ApmseedError(f"--scale must be a number, got {value!r}", "pass a factor such as 0.5 or 2") from None
    if not math.isfinite(factor) or factor <= 0:
        raise ApmseedError(f"--scale must be a number greater than 0, got {value}",
                           "pass a factor such as 0.5 or 2 (1 keeps the profile's sizes)")
    return factor


def scaled(profile: Profile, factor: float) -> Profile:
    """Multiply every size (not the time window) by `factor`, rounding half up; a size that was not 0 stays at
    least 1 and every size keeps its minimum, so a small factor thins a dataset out instead of removing it."""
    if factor == 1.0:
        return profile
    sizes = {}
    for key in SCALED:
        base = getattr(profile, key)
        value = math.floor(base * factor + 0.5)
        sizes[key] = max(MINIMUMS[key], 1 if base else 0, value)
        if sizes[key] > MAXIMUM:
            raise ApmseedError(f"--scale {factor:g} makes {key} {sizes[key]:,}, more than {MAXIMUM:,}",
                               "pick a smaller factor")
    return dataclasses.replace(profile, scale=factor, **sizes)


def resolve(name: str, overrides: Mapping[str, int | None], scale: str | float | None = None) -> Profile:
    """The named profile, scaled, then with the explicit sizes applied (an override wins over the scale)."""
    if name not in PROFILES:
        raise ApmseedError(f"unknown profile {name!r}", f"use one of: {', '.join(PROFILES)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    for key, value in given.items():
        if key not in OVERRIDES:
            raise ApmseedError(f"unknown profile option {key!r}", f"use one of: {', '.join(OVERRIDES)}")
        if value < MINIMUMS[key]:
            why = " (a host, a container and a process)" if key == "entities" else ""
            raise ApmseedError(f"--{key} must be at least {MINIMUMS[key]}, got {value}",
                               f"pass --{key} {MINIMUMS[key]} or more{why}")
        if value > MAXIMUM:
            raise ApmseedError(f"--{key} must be at most {MAXIMUM:,}, got {value:,}", f"pass a smaller --{key}")
    profile = dataclasses.replace(scaled(PROFILES[name], parse_scale(scale)), **given)
    if profile.minutes % profile.resolution:
        raise ApmseedError(f"--minutes {profile.minutes} is not a multiple of --resolution {profile.resolution}",
                           "pick a window that is a whole number of resolution steps")
    return profile
