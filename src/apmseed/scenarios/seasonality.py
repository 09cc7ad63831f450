"""The seasonal baseline of a signal: a multiplicative factor with a daily cycle (afternoon peak, quiet
nights), quieter weekends, a trend and noise. Real APM traffic follows its users' clock, so the cycle is
computed in local time (`utc_offset_h`, or a region) and normalised to a weekly mean of about 1, which keeps
a metric's configured level meaningful whatever the shape."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from apmseed.errors import ApmseedError

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (0 = Monday)
REGIONS: dict[str, float] = {"AMER": -5.0, "EMEA": 1.0, "APAC": 8.0}

# field -> (lowest, highest, lowest allowed itself, highest allowed itself, what a good value looks like)
_RANGES: dict[str, tuple[float, float, bool, bool, str]] = {
    "daily_amplitude": (0.0, 1.0, True, False, "between 0 (no daily cycle) and 0.95"),
    "peak_hour": (0.0, 24.0, True, False, "an hour of the local day, 0 <= h < 24"),
    "weekend_factor": (0.0, math.inf, False, False, "> 0; 0.7 means weekends carry 70 % of a weekday"),
    "trend_per_day": (-1.0, math.inf, False, False, "a daily growth rate > -1, e.g. 0.02 for +2 %/day"),
    "noise": (0.0, 1.0, True, True, "a relative noise between 0 and 1, e.g. 0.05"),
    "utc_offset_h": (-12.0, 14.0, True, True, "hours from UTC between -12 and 14, or a region"),
}


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


@dataclass(frozen=True)
class Seasonality:
    """A multiplicative seasonal factor; `shape(ts_ms)` is > 0 and averages about 1 over a whole week."""

    daily_amplitude: float = 0.6  # the peak is 1 + a, the trough 1 - a (before the weekend factor)
    peak_hour: float = 14.0  # local hour of the daily peak
    weekend_factor: float = 0.7  # Saturday and Sunday relative to a weekday
    trend_per_day: float = 0.0  # compound growth per day, from the first timestamp of the window
    noise: float = 0.05  # sigma of the multiplicative lognormal noise (mean 1), needs an rng
    utc_offset_h: float = 0.0  # local time = UTC + offset; see REGIONS

    def __post_init__(self) -> None:
        _check({key: getattr(self, key) for key in _RANGES}, "")

    @classmethod
    def flat(cls) -> Seasonality:
        """No cycle, no weekend dip, no trend, no noise: `shape` is exactly 1 everywhere."""
        return cls(daily_amplitude=0.0, weekend_factor=1.0, trend_per_day=0.0, noise=0.0)

    @classmethod
    def for_region(cls, region: str, **fields: float) -> Seasonality:
        """The users of `region` (AMER, EMEA, APAC) peak at their local afternoon."""
        if region not in REGIONS:
            raise ApmseedError(f"region: unknown region {region!r}", f"use one of: {', '.join(REGIONS)}")
        return cls(**{**fields, "utc_offset_h": REGIONS[region]})

    @property
    def peak(self) -> float:
        """The largest value of the noiseless, trendless shape: a weekday (or weekend day) afternoon."""
        weekday_level = 7.0 / (5.0 + 2.0 * self.weekend_factor)
        return (1.0 + self.daily_amplitude) * weekday_level * max(1.0, self.weekend_factor)

    def shape(self, ts_ms: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The factor at each timestamp (ms since the epoch); noise is added only when `rng` is given, so
        the noiseless shape is a pure function of time."""
        ts = np.asarray(ts_ms, dtype=np.int64)
        local = ts + round(self.utc_offset_h * HOUR_MS)
        day = local // DAY_MS
        if self.daily_amplitude:
            radians = (local - day * DAY_MS) * (2.0 * np.pi / DAY_MS) - self.peak_hour * (2.0 * np.pi / 24.0)
            out = np.cos(radians)
            out *= self.daily_amplitude
            out += 1.0
        else:
            out = np.ones(ts.shape, dtype=np.float64)
        if self.weekend_factor != 1.0:
            weekday_level = 7.0 / (5.0 + 2.0 * self.weekend_factor)  # keeps the weekly mean at 1
            weekend = (day + EPOCH_WEEKDAY) % 7 >= 5
            out *= np.where(weekend, self.weekend_factor * weekday_level, weekday_level)
        if self.trend_per_day and ts.size:
            out *= np.exp((ts - ts.flat[0]) * (math.log1p(self.trend_per_day) / DAY_MS))
        if rng is not None and self.noise:
            noise = rng.standard_normal(ts.shape)
            noise *= self.noise
            noise -= self.noise**2 / 2.0
            out *= np.exp(noise, out=noise)
        return out


def _check(values: Mapping[str, Any], where: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ApmseedError(f"{_at(where, key)}: {value!r} is not a number", f"give {key} as a number")
        value = float(value)
        low, high, low_ok, high_ok, hint = _RANGES[key]
        if not (math.isfinite(value) and (low <= value if low_ok else low < value)
                and (value <= high if high_ok else value < high)):
            raise ApmseedError(f"{_at(where, key)}: {value:g} is out of range", f"use {hint}")
        out[key] = value
    return out


def parse_seasonality(spec: Mapping[str, Any] | str | None, where: str = "") -> Seasonality:
    """A mapping of Seasonality fields (missing ones keep their defaults), optionally `region: EMEA` instead
    of `utc_offset_h`; the string "flat" (or null) means Seasonality.flat(). Errors name `where` and the key."""
    if spec is None or spec == "flat":
        return Seasonality.flat()
    if not isinstance(spec, Mapping):
        raise ApmseedError(f"{where or 'seasonality'}: expected a mapping or 'flat', got {spec!r}",
                           "write e.g. {daily_amplitude: 0.6, peak_hour: 14, region: EMEA}")
    fields = {f.name for f in dataclasses.fields(Seasonality)}
    unknown = sorted(set(spec) - fields - {"region"})
    if unknown:
        raise ApmseedError(f"{_at(where, str(unknown[0]))}: unknown seasonality key",
                           f"use: {', '.join(sorted(fields | {'region'}))}")
    given = {k: v for k, v in spec.items() if k != "region"}
    if "region" in spec:
        region = spec["region"]
        if "utc_offset_h" in spec:
            raise ApmseedError(f"{_at(where, 'region')}: both region and utc_offset_h are set",
                               "give only one of them")
        if region not in REGIONS:
            raise ApmseedError(f"{_at(where, 'region')}: unknown region {region!r}",
                               f"use one of: {', '.join(REGIONS)}")
        given["utc_offset_h"] = REGIONS[region]
    return Seasonality(**_check(given, where))
