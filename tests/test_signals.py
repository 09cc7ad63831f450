"""Statistical tests of the signal model, with fixed seeds and honest tolerances: daily seasonality shows as
autocorrelation at a 24 h lag (a shuffled copy is the control), declared distributions survive into the
series (KS), invariants hold with and without overrides and anomalies, each anomaly type leaves the baseline
band inside its window and touches nothing outside it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import stats

from apmseed import catalog
from apmseed.errors import ApmseedError
from apmseed.scenarios import signals
from apmseed.scenarios.anomalies import (
    ANOMALY_TYPES,
    DEFAULT_MAGNITUDE,
    DEFAULT_METRICS,
    Anomaly,
    Incident,
    parse_anomaly,
    profile,
)
from apmseed.scenarios.distributions import Distribution, parse_distribution
from apmseed.scenarios.seasonality import REGIONS, Seasonality, parse_seasonality

END_MS = 1_763_650_800_000  # 2025-11-20T15:00:00Z, a Thursday
MINUTE = 60_000
WEEK = 7 * 1440
TS_WEEK = END_MS - WEEK * MINUTE + np.arange(WEEK, dtype=np.int64) * MINUTE
TS_DAY = TS_WEEK[-1440:]
FLAT = Seasonality.flat()
Values = dict[tuple[str, str], np.ndarray]


def autocorrelation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float((x[:-lag] * x[lag:]).sum() / (x * x).sum())


def service(seed: int = 5, ts: np.ndarray = TS_DAY, **kw: Any) -> Values:
    return signals.traffic(np.random.default_rng(seed), ts, "SERVICE", 1, **kw)


def infra(seed: int = 5, ts: np.ndarray = TS_DAY, **kw: Any) -> Values:
    return signals.utilisation(np.random.default_rng(seed), ts, **kw)


# -- seasonality ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("entity_type", ["APPLICATION", "SERVICE", "ENDPOINT"])
def test_daily_seasonality_shows_as_autocorrelation_at_24_hours(entity_type: str) -> None:
    calls = signals.traffic(np.random.default_rng(1), TS_WEEK, entity_type, 1)[("calls", "SUM")]
    control = np.random.default_rng(2).permutation(calls)
    assert autocorrelation(calls, 1440) > 0.5
    assert abs(autocorrelation(control, 1440)) < 0.05
    # and it is the seasonality that makes it: the same entity without one has none
    flat = signals.traffic(np.random.default_rng(1), TS_WEEK, entity_type, 1, seasonality=FLAT)[("calls", "SUM")]
    assert abs(autocorrelation(flat, 1440)) < 0.05


def test_nights_and_weekends_are_quieter_and_the_week_averages_one() -> None:
    season = Seasonality(noise=0.0)
    shape = season.shape(TS_WEEK)
    assert shape.min() > 0
    assert shape.mean() == pytest.approx(1.0, abs=1e-3)
    local_hour = (TS_WEEK % 86_400_000) // 3_600_000
    weekday = (TS_WEEK // 86_400_000 + 3) % 7
    work = weekday < 5
    assert shape[work & (local_hour == 14)].mean() > 3 * shape[work & (local_hour == 2)].mean()
    assert shape[~work].mean() == pytest.approx(0.7 * shape[work].mean(), rel=1e-3)


@pytest.mark.parametrize("region", REGIONS)
def test_regions_peak_at_their_local_afternoon(region: str) -> None:
    shape = Seasonality.for_region(region, noise=0.0, weekend_factor=1.0).shape(TS_DAY)
    peak_utc_hour = (TS_DAY[np.argmax(shape)] % 86_400_000) / 3_600_000
    assert peak_utc_hour == pytest.approx((14.0 - REGIONS[region]) % 24, abs=1 / 60)


def test_trend_compounds_per_day_and_noise_keeps_the_mean() -> None:
    days = Seasonality(trend_per_day=0.1, weekend_factor=1.0, noise=0.0).shape(TS_WEEK).reshape(7, 1440)
    assert days[-1].mean() / days[0].mean() == pytest.approx(1.1**6, rel=1e-9)
    noisy = Seasonality(noise=0.2).shape(TS_WEEK, np.random.default_rng(0)) / Seasonality(noise=0.2).shape(TS_WEEK)
    assert noisy.mean() == pytest.approx(1.0, abs=0.01)
    assert np.std(np.log(noisy)) == pytest.approx(0.2, rel=0.05)
    assert (Seasonality.flat().shape(TS_WEEK, np.random.default_rng(0)) == 1.0).all()


# -- declared distributions survive into the series ----------------------------------------------------------

LATENCY = {
    "normal": ({"distribution": "normal", "mean": 120, "sd": 12}, stats.norm(120, 12), stats.norm(120, 15)),
    "lognormal": ({"distribution": "lognormal", "median": 80, "sigma": 0.5}, stats.lognorm(0.5, scale=80),
                  stats.lognorm(0.5, scale=88)),
    "gamma": ({"distribution": "gamma", "shape": 2, "scale": 30}, stats.gamma(2, scale=30),
              stats.gamma(2.4, scale=25)),
    "pareto": ({"distribution": "pareto", "alpha": 3, "scale": 40}, stats.pareto(3, scale=40),
               stats.pareto(2.5, scale=40)),
    "beta": ({"distribution": "beta", "a": 2, "b": 5, "scale": 500}, stats.beta(2, 5, scale=500),
             stats.beta(2, 4, scale=500)),
}


@pytest.mark.parametrize("name", LATENCY)
def test_a_latency_override_is_the_declared_distribution(name: str) -> None:
    spec, declared, wrong = LATENCY[name]
    values = service(ts=TS_WEEK, seasonality=FLAT, overrides={"latency": parse_distribution(spec)})
    p50 = values[("latency", "P50")]
    assert stats.kstest(p50, declared.cdf).pvalue > 0.01
    assert stats.kstest(p50, wrong.cdf).pvalue < 1e-6


def test_a_poisson_override_of_erroneous_calls_gives_poisson_error_spikes() -> None:
    values = service(ts=TS_WEEK, seasonality=FLAT,
                     overrides={"erroneousCalls": Distribution.of("poisson", lam=4)})
    errors = values[("erroneousCalls", "SUM")]
    assert (errors <= values[("calls", "SUM")]).all()
    support = np.arange(13)
    observed = np.bincount(np.minimum(errors.astype(int), 12), minlength=13)

    def p_value(lam: float) -> float:
        probs = np.append(stats.poisson(lam).pmf(support[:-1]), stats.poisson(lam).sf(11))
        return float(stats.chisquare(observed, probs * errors.size).pvalue)
    assert p_value(4.0) > 0.01
    assert p_value(4.4) < 1e-6


def test_a_cpu_override_is_the_declared_beta_and_stays_inside_0_1() -> None:
    values = infra(ts=TS_WEEK, seasonality=FLAT, overrides={"cpu.used": Distribution.of("beta", a=2, b=5)})
    cpu = values[("cpu.used", "MEAN")]
    assert stats.kstest(cpu, stats.beta(2, 5).cdf).pvalue > 0.01
    assert stats.kstest(cpu, stats.beta(2.3, 5).cdf).pvalue < 1e-6
    wild = infra(overrides={"memory.used": Distribution.of("normal", mean=0.9, sd=0.3)})[("memory.used", "MEAN")]
    assert ((wild > 0) & (wild < 1)).all()


def test_an_override_times_the_seasonal_shape_carries_the_daily_cycle() -> None:
    flat_calls = Distribution.of("gamma", shape=50, scale=2)
    calls = service(ts=TS_WEEK, overrides={"calls": flat_calls})[("calls", "SUM")]
    assert autocorrelation(calls, 1440) > 0.5
    assert (calls == np.round(calls)).all()


def test_an_empirical_override_only_yields_its_values() -> None:
    dist = Distribution.of("empirical", values=[5.0, 50.0, 500.0])
    p50 = service(seasonality=FLAT, overrides={"latency": dist})[("latency", "P50")]
    assert set(np.unique(p50)) == {5.0, 50.0, 500.0}


# -- invariants ----------------------------------------------------------------------------------------------

EVERY_TYPE = [Anomaly.default(kind, 100 + 150 * i, 220 + 150 * i) for i, kind in enumerate(ANOMALY_TYPES)]
TRAFFIC_OVERRIDES = {"calls": Distribution.of("normal", mean=30, sd=20),
                     "erroneousCalls": Distribution.of("pareto", alpha=1.5, scale=5),
                     "latency": Distribution.of("normal", mean=20, sd=15)}
INCIDENTS = [Incident("latency", 40, 90, 4.0), Incident("errors", 300, 340, 0.3)]
CASES = {"baseline": {}, "overrides": {"overrides": TRAFFIC_OVERRIDES},
         "anomalies": {"anomalies": EVERY_TYPE, "incidents": INCIDENTS},
         "both": {"overrides": TRAFFIC_OVERRIDES, "anomalies": EVERY_TYPE}}


@pytest.mark.parametrize("entity_type", ["APPLICATION", "SERVICE", "ENDPOINT"])
@pytest.mark.parametrize("case", CASES)
def test_traffic_invariants_hold_with_and_without_overrides_and_anomalies(entity_type: str, case: str) -> None:
    for seed in range(5):
        v = signals.traffic(np.random.default_rng(seed), TS_DAY, entity_type, 1, **CASES[case])
        calls, errors = v[("calls", "SUM")], v[("erroneousCalls", "SUM")]
        assert (calls >= 0).all() and (calls == np.round(calls)).all()
        assert (errors >= 0).all() and (errors == np.round(errors)).all()
        assert (errors <= calls).all()
        p50, p90, p95, p99 = (v[("latency", p)] for p in ("P50", "P90", "P95", "P99"))
        assert (p50 >= 0).all()
        assert (p50 <= p90).all() and (p90 <= p95).all() and (p95 <= p99).all()
        assert (v[("latency", "MEAN")] >= p50).all()


@pytest.mark.parametrize("case", ["baseline", "overrides", "anomalies"])
def test_utilisation_stays_inside_0_1(case: str) -> None:
    kw: dict[str, Any] = {
        "baseline": {},
        "overrides": {"overrides": {"cpu.used": Distribution.of("normal", mean=0.5, sd=0.5),
                                    "memory.used": Distribution.of("pareto", alpha=1, scale=0.5)}},
        "anomalies": {"anomalies": EVERY_TYPE, "incidents": [Incident("cpu", 10, 60, 0.98)]},
    }[case]
    for seed in range(5):
        for values in infra(seed, **kw).values():
            assert ((values > 0) & (values < 1)).all()


def test_the_service_bundle_has_p90_between_p50_and_p95() -> None:
    for kind in ("APPLICATION", "SERVICE"):
        bundle = catalog.BUNDLES[kind]
        assert bundle.index(("latency", "P50")) < bundle.index(("latency", "P90")) < bundle.index(("latency", "P95"))


def test_the_error_share_is_bounded_and_bursty() -> None:
    v = service(ts=TS_WEEK)
    share = v[("erroneousCalls", "SUM")] / np.maximum(v[("calls", "SUM")], 1)
    assert share.max() <= 1
    assert np.quantile(share, 0.999) > 3 * np.median(share)  # bursts, not just binomial noise
    assert np.median(share) < 0.05


def test_memory_drifts_slowly_within_bounds() -> None:
    memory = infra(ts=TS_WEEK)[("memory.used", "MEAN")]
    assert autocorrelation(memory, 60) > 0.8  # an hour apart still alike: drift, not noise
    assert memory.max() - memory.min() < 0.3


# -- anomalies -----------------------------------------------------------------------------------------------

START, END = 600, 800
INSIDE, OUTSIDE = np.r_[START:END], np.r_[0:START, END:1440]
# the series that must leave the baseline band, per anomaly type and bundle kind
PRIMARY = {
    "spike": (("calls", "SUM"), ("cpu.used", "MEAN")),
    "level_shift": (("latency", "P50"), ("cpu.used", "MEAN")),
    "degradation": (("latency", "P95"), ("cpu.used", "MEAN")),
    "memory_leak": (("latency", "P50"), ("memory.used", "MEAN")),
    "saturation": (("latency", "P99"), ("cpu.used", "MEAN")),
    "flapping": (("erroneousCalls", "SUM"), ("cpu.used", "MEAN")),
    "outage": (("calls", "SUM"), ("cpu.used", "MEAN")),
}
GENERATORS: dict[str, Callable[..., Values]] = {"traffic": service, "utilisation": infra}


@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("kind", ANOMALY_TYPES)
def test_each_anomaly_leaves_the_baseline_band_inside_its_window_only(kind: str, generator: str) -> None:
    make = GENERATORS[generator]
    for seed in (5, 6, 7):
        base = make(seed, seasonality=FLAT)
        hit = make(seed, seasonality=FLAT, anomalies=[Anomaly.default(kind, START, END)])
        for key in base:  # outside the window: bit for bit the same
            assert np.array_equal(base[key][OUTSIDE], hit[key][OUTSIDE]), key
        key = PRIMARY[kind][0 if generator == "traffic" else 1]
        low, high = np.quantile(base[key], [0.005, 0.995])
        beyond = (hit[key][INSIDE] < low) | (hit[key][INSIDE] > high)
        assert beyond.sum() >= 0.1 * INSIDE.size, (seed, key)
        # and every metric the type acts on by default moves somewhere inside the window
        for metric in DEFAULT_METRICS[kind]:
            for (m, _), series in hit.items():
                if m == metric:
                    assert not np.array_equal(series[INSIDE], base[(m, _)][INSIDE]), (seed, m)


def test_an_outage_drops_calls_to_zero_and_fails_what_is_left() -> None:
    full = service(anomalies=[Anomaly.default("outage", START, END)])
    assert (full[("calls", "SUM")][INSIDE] == 0).all()
    partial = service(anomalies=[Anomaly("outage", START, END, 0.8)])
    calls, errors = partial[("calls", "SUM")][INSIDE], partial[("erroneousCalls", "SUM")][INSIDE]
    base = service()[("calls", "SUM")][INSIDE]
    assert calls.sum() == pytest.approx(0.2 * base.sum(), rel=0.1)
    assert errors.sum() / calls.sum() == pytest.approx(0.8, abs=0.05)


def test_an_anomaly_on_one_metric_leaves_the_others_alone() -> None:
    base = service()
    hit = service(anomalies=[Anomaly("spike", START, END, 6.0, metric="erroneousCalls")])
    assert np.array_equal(base[("calls", "SUM")], hit[("calls", "SUM")])
    assert np.array_equal(base[("latency", "P50")], hit[("latency", "P50")])
    assert hit[("erroneousCalls", "SUM")][START:START + 20].sum() > 3 * base[("erroneousCalls", "SUM")][
        START:START + 20].sum()


@pytest.mark.parametrize("kind", ANOMALY_TYPES)
def test_profiles_are_shaped_like_their_type(kind: str) -> None:
    p = profile(Anomaly.default(kind, 20, 80), 100, np.random.default_rng(0))
    inside = p[20:80]
    assert ((p >= 0) & (p <= 1)).all()
    assert (p[:20] == 0).all() and (p[80:] == 0).all()
    if kind == "spike":
        assert inside[0] == 1 and inside[-1] < 0.01 and (np.diff(inside) < 0).all()
    elif kind in ("level_shift", "outage"):
        assert (inside == 1).all()
    elif kind in ("degradation", "memory_leak"):
        assert (np.diff(inside) > 0).all() and inside[-1] == 1 and inside[0] < 0.05
    elif kind == "saturation":
        assert (inside[6:] == 1).all() and inside[0] < 1
    else:  # flapping: on and off, more than once
        assert set(np.unique(inside)) == {0.0, 1.0}
        assert np.count_nonzero(np.diff(inside)) >= 4
    assert profile(Anomaly.default(kind, 90, 120), 100, np.random.default_rng(0))[90:].size == 10  # clipped


def test_incidents_still_map_onto_anomalies() -> None:
    base = infra()
    hit = infra(incidents=[Incident("memory", START, END, 0.93), Incident("cpu", 100, 200, 0.9)])
    assert hit[("memory.used", "MEAN")][END - 1] == pytest.approx(0.93, abs=0.01)
    assert hit[("cpu.used", "MEAN")][120:200].mean() == pytest.approx(0.9, abs=0.03)
    assert np.array_equal(base[("cpu.used", "MEAN")][:100], hit[("cpu.used", "MEAN")][:100])


# -- determinism ---------------------------------------------------------------------------------------------

def test_same_seed_same_arrays_other_seed_other_arrays() -> None:
    kw: dict[str, Any] = {"anomalies": EVERY_TYPE, "overrides": {"latency": Distribution.of("gamma", shape=2, scale=9)},
                          "seasonality": Seasonality(noise=0.1, utc_offset_h=8)}
    for make in (service, infra):
        extra = kw if make is service else {"anomalies": EVERY_TYPE}
        one, two, other = make(3, **extra), make(3, **extra), make(4, **extra)
        assert one.keys() == two.keys()
        assert all(np.array_equal(one[k], two[k]) for k in one)
        assert not all(np.array_equal(one[k], other[k]) for k in one)


def test_an_override_does_not_disturb_the_other_metrics() -> None:
    base = service()
    other = service(overrides={"latency": Distribution.of("constant", value=50.0)})
    assert np.array_equal(base[("calls", "SUM")], other[("calls", "SUM")])
    assert np.array_equal(base[("erroneousCalls", "SUM")], other[("erroneousCalls", "SUM")])
    assert (other[("latency", "P50")] != base[("latency", "P50")]).any()


# -- bad input -----------------------------------------------------------------------------------------------

BAD_SEASONALITY: dict[str, tuple[Any, str]] = {
    "amplitude of 1": ({"daily_amplitude": 1.0}, "s.daily_amplitude"),
    "hour 24": ({"peak_hour": 24}, "s.peak_hour"),
    "no weekends at all": ({"weekend_factor": 0}, "s.weekend_factor"),
    "shrinking to nothing": ({"trend_per_day": -1}, "s.trend_per_day"),
    "negative noise": ({"noise": -0.1}, "s.noise"),
    "offset off the globe": ({"utc_offset_h": 15}, "s.utc_offset_h"),
    "a string": ({"noise": "low"}, "s.noise"),
    "unknown key": ({"amplitude": 0.5}, "s.amplitude"),
    "unknown region": ({"region": "MARS"}, "s.region"),
    "region and offset": ({"region": "EMEA", "utc_offset_h": 1}, "s.region"),
    "not a mapping": (3, "s"),
}


@pytest.mark.parametrize("spec, key", BAD_SEASONALITY.values(), ids=BAD_SEASONALITY.keys())
def test_bad_seasonality_names_the_key(spec: Any, key: str) -> None:
    with pytest.raises(ApmseedError) as err:
        parse_seasonality(spec, "s")
    assert key in str(err.value) and err.value.fix


def test_seasonality_specs_parse() -> None:
    assert parse_seasonality({"region": "APAC", "noise": 0}, "s") == Seasonality(utc_offset_h=8.0, noise=0.0)
    assert parse_seasonality("flat", "s") == Seasonality.flat()
    assert parse_seasonality({}, "s") == Seasonality()


BAD_ANOMALIES: dict[str, tuple[Any, str]] = {
    "unknown type": ({"type": "meltdown", "start": 1, "end": 2}, "a.type"),
    "missing end": ({"type": "spike", "start": 1}, "a.end"),
    "empty window": ({"type": "spike", "start": 5, "end": 5}, "a.end"),
    "negative start": ({"type": "spike", "start": -1, "end": 5}, "a.start"),
    "fractional index": ({"type": "spike", "start": 1.5, "end": 5}, "a.start"),
    "level above 1": ({"type": "saturation", "start": 1, "end": 5, "magnitude": 1.5}, "a.magnitude"),
    "negative factor": ({"type": "spike", "start": 1, "end": 5, "magnitude": -2}, "a.magnitude"),
    "metric it cannot move": ({"type": "outage", "start": 1, "end": 5, "metric": "latency"}, "a.metric"),
    "unknown key": ({"type": "spike", "start": 1, "end": 5, "size": 3}, "a.size"),
}


@pytest.mark.parametrize("spec, key", BAD_ANOMALIES.values(), ids=BAD_ANOMALIES.keys())
def test_bad_anomalies_name_the_key(spec: Any, key: str) -> None:
    with pytest.raises(ApmseedError) as err:
        parse_anomaly(spec, "a")
    assert key in str(err.value) and err.value.fix


def test_anomaly_specs_parse_with_the_type_default_magnitude() -> None:
    parsed = parse_anomaly({"type": "memory_leak", "start": 3, "end": 9}, "a")
    assert parsed == Anomaly("memory_leak", 3, 9, DEFAULT_MAGNITUDE["memory_leak"])


def test_overrides_and_anomalies_must_fit_the_bundle() -> None:
    with pytest.raises(ApmseedError, match=r"cpu\.used"):
        service(overrides={"cpu.used": Distribution.of("constant", value=0.5)})
    with pytest.raises(ApmseedError, match="latency"):
        infra(anomalies=[Anomaly("spike", 1, 5, 3.0, metric="latency")])
    with pytest.raises(ApmseedError, match="Distribution"):
        service(overrides={"calls": {"distribution": "poisson", "lam": 3}})
