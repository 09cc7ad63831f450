"""Profiles: named sizes of a dataset, plus explicit overrides, validated once with clear messages."""

from __future__ import annotations

import dataclasses
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
    minutes: int  # length of the time window
    resolution: int  # minutes between points

    @property
    def points_per_series(self) -> int:
        return self.minutes // self.resolution

    @property
    def points(self) -> int:
        return self.series * self.points_per_series

    def options(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("tiny", entities=30, apps=3, services=8, endpoints=24, series=30, issues=5, minutes=60,
                resolution=1),
        # the roadmap's reference sizes
        Profile("small", entities=120, apps=15, services=40, endpoints=160, series=120, issues=30, minutes=120,
                resolution=1),
        Profile("medium", entities=2_000, apps=60, services=300, endpoints=1_500, series=3_000, issues=200,
                minutes=1_440, resolution=1),
        Profile("large", entities=20_000, apps=200, services=1_500, endpoints=8_000, series=15_000,
                issues=1_000, minutes=1_440, resolution=1),
    )
}

OVERRIDES = ("entities", "apps", "services", "endpoints", "series", "issues", "minutes", "resolution")
MINIMUMS = {"entities": 1, "apps": 1, "services": 1, "endpoints": 0, "series": 0, "issues": 0, "minutes": 1,
            "resolution": 1}


def resolve(name: str, overrides: dict[str, int | None]) -> Profile:
    if name not in PROFILES:
        raise ApmseedError(f"unknown profile {name!r}", f"use one of: {', '.join(PROFILES)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    for key, value in given.items():
        if key not in OVERRIDES:
            raise ApmseedError(f"unknown profile option {key!r}", f"use one of: {', '.join(OVERRIDES)}")
        if value < MINIMUMS[key]:
            raise ApmseedError(f"--{key} must be at least {MINIMUMS[key]}, got {value}",
                               f"pass --{key} {MINIMUMS[key]} or more")
    profile = dataclasses.replace(PROFILES[name], **given)
    if profile.minutes % profile.resolution:
        raise ApmseedError(f"--minutes {profile.minutes} is not a multiple of --resolution {profile.resolution}",
                           "pick a window that is a whole number of resolution steps")
    if profile.entities < 3:
        raise ApmseedError(f"--entities {profile.entities} is too small",
                           "pass --entities 3 or more (a host, a container and a process)")
    return profile
