"""Declared distributions are what they claim (Kolmogorov-Smirnov / chi-square against scipy's reference, and a
deliberately wrong reference is rejected, so each test can fail), and bad specs name the offending key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from apmseed.errors import ApmseedError
from apmseed.scenarios.distributions import DISTRIBUTIONS, Distribution, mean, parse_distribution, sample

N = 5_000
PASS, REJECT = 0.01, 1e-6  # a true distribution passes at 1 %; a wrong one fails far beyond chance

# spec, the declared distribution in scipy terms, a plausible but wrong one
CONTINUOUS: dict[str, tuple[dict[str, Any], Any, Any]] = {
    "normal": ({"distribution": "normal", "mean": 100, "sd": 15}, stats.norm(100, 15), stats.norm(100, 18)),
    "lognormal": ({"distribution": "lognormal", "median": 80, "sigma": 0.5},
                  stats.lognorm(0.5, scale=80), stats.lognorm(0.6, scale=80)),
    "gamma": ({"distribution": "gamma", "shape": 2, "scale": 3}, stats.gamma(2, scale=3), stats.expon(scale=6)),
    "pareto": ({"distribution": "pareto", "alpha": 2.5, "scale": 10}, stats.pareto(2.5, scale=10),
               stats.pareto(2.0, scale=10)),
    "beta": ({"distribution": "beta", "a": 2, "b": 5, "scale": 400}, stats.beta(2, 5, scale=400),
             stats.beta(2.5, 5, scale=400)),
}


def _draw(spec: dict[str, Any], seed: int = 7, size: int = N, base_dir: Path | None = None) -> np.ndarray:
    return sample(parse_distribution(spec, "test", base_dir), np.random.default_rng(seed), size)


@pytest.mark.parametrize("name", CONTINUOUS)
def test_continuous_samples_pass_ks_against_the_declared_distribution(name: str) -> None:
    spec, declared, wrong = CONTINUOUS[name]
    values = _draw(spec)
    assert stats.kstest(values, declared.cdf).pvalue > PASS
    assert stats.kstest(values, wrong.cdf).pvalue < REJECT


def test_pareto_values_are_at_least_the_scale() -> None:
    assert _draw({"distribution": "pareto", "alpha": 1.2, "scale": 10}).min() >= 10


def _chi_square_p(values: np.ndarray, support: np.ndarray, probs: np.ndarray) -> float:
    """Chi-square goodness of fit on `support` (values outside it fall in the last bin)."""
    observed = np.bincount(np.searchsorted(support, values).clip(0, support.size - 1), minlength=support.size)
    expected = probs / probs.sum() * values.size
    return float(stats.chisquare(observed, expected).pvalue)


def test_poisson_matches_its_pmf_and_not_a_neighbour() -> None:
    values = _draw({"distribution": "poisson", "lam": 3})
    assert (values == np.round(values)).all()
    support = np.arange(0, 10)
    probs = np.append(stats.poisson(3).pmf(support[:-1]), stats.poisson(3).sf(support[-2]))
    assert _chi_square_p(values, support, probs) > PASS
    wrong = np.append(stats.poisson(3.3).pmf(support[:-1]), stats.poisson(3.3).sf(support[-2]))
    assert _chi_square_p(values, support, wrong) < REJECT


def test_constant_is_constant() -> None:
    assert (_draw({"distribution": "constant", "value": 42.5}) == 42.5).all()


def test_empirical_resamples_the_csv_with_replacement(tmp_path: Path) -> None:
    (tmp_path / "lat.csv").write_text("latency_ms\n10\n20\n20\n\n40\n")
    values = _draw({"distribution": "empirical", "csv": "lat.csv"}, base_dir=tmp_path)
    assert set(np.unique(values)) == {10.0, 20.0, 40.0}
    support = np.array([10.0, 20.0, 40.0])
    assert _chi_square_p(values, support, np.array([1, 2, 1])) > PASS
    assert _chi_square_p(values, support, np.array([1, 1, 1])) < REJECT


def test_empirical_accepts_an_absolute_path_and_no_header(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("1.5\n2.5\n")
    dist = parse_distribution({"distribution": "empirical", "csv": str(path)}, "x", base_dir=Path("/nowhere"))
    assert list(dist.values) == [1.5, 2.5]


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    for name, (spec, _, _) in CONTINUOUS.items():
        assert np.array_equal(_draw(spec, seed=3), _draw(spec, seed=3)), name
        assert not np.array_equal(_draw(spec, seed=3), _draw(spec, seed=4)), name


@pytest.mark.parametrize("spec", [CONTINUOUS[n][0] for n in CONTINUOUS]
                         + [{"distribution": "poisson", "lam": 3}, {"distribution": "constant", "value": 7}])
def test_mean_matches_the_sample_mean(spec: dict[str, Any]) -> None:
    values = _draw(spec, size=200_000)
    assert mean(parse_distribution(spec)) == pytest.approx(values.mean(), rel=0.02)


def test_beta_scale_defaults_to_one_and_distributions_compare_by_value() -> None:
    a = parse_distribution({"distribution": "beta", "a": 2, "b": 5})
    assert dict(a.params) == {"a": 2.0, "b": 5.0, "scale": 1.0}
    assert a == Distribution.of("beta", a=2.0, b=5.0, scale=1.0)
    assert hash(a) == hash(Distribution.of("beta", a=2, b=5))
    assert a != Distribution.of("beta", a=2, b=6)
    assert Distribution.of("empirical", values=[1, 2]) == Distribution.of("empirical", values=[1.0, 2.0])
    assert Distribution.of("empirical", values=[1, 2]) != Distribution.of("empirical", values=[1, 3])


def test_every_declared_name_parses() -> None:
    examples = {"normal": {"mean": 0, "sd": 1}, "lognormal": {"median": 1, "sigma": 1}, "poisson": {"lam": 1},
                "gamma": {"shape": 1, "scale": 1}, "pareto": {"alpha": 1, "scale": 1}, "beta": {"a": 1, "b": 1},
                "constant": {"value": 1}}
    for name in DISTRIBUTIONS:
        if name != "empirical":
            assert parse_distribution({"distribution": name, **examples[name]}).name == name


BAD_SPECS: dict[str, tuple[Any, str]] = {
    "unknown name": ({"distribution": "weibull", "k": 1}, "m.calls.distribution"),
    "no name": ({"lam": 3}, "m.calls.distribution"),
    "not a mapping": ("poisson", "m.calls"),
    "missing parameter": ({"distribution": "gamma", "shape": 2}, "m.calls.scale"),
    "extra parameter": ({"distribution": "poisson", "lam": 3, "mean": 3}, "m.calls.mean"),
    "negative sd": ({"distribution": "normal", "mean": 0, "sd": -1}, "m.calls.sd"),
    "zero alpha": ({"distribution": "pareto", "alpha": 0, "scale": 1}, "m.calls.alpha"),
    "negative lam": ({"distribution": "poisson", "lam": -0.5}, "m.calls.lam"),
    "lam beyond numpy": ({"distribution": "poisson", "lam": 1e19}, "m.calls.lam"),
    "a string": ({"distribution": "constant", "value": "ten"}, "m.calls.value"),
    "a boolean": ({"distribution": "poisson", "lam": True}, "m.calls.lam"),
    "not finite": ({"distribution": "normal", "mean": float("nan"), "sd": 1}, "m.calls.mean"),
    "missing csv": ({"distribution": "empirical"}, "m.calls.csv"),
    "unreadable csv": ({"distribution": "empirical", "csv": "does-not-exist.csv"}, "m.calls.csv"),
    "csv beside a path": ({"distribution": "empirical", "csv": "x.csv", "scale": 2}, "m.calls.scale"),
}


@pytest.mark.parametrize("spec, key", BAD_SPECS.values(), ids=BAD_SPECS.keys())
def test_bad_specs_name_the_key(spec: Any, key: str, tmp_path: Path) -> None:
    with pytest.raises(ApmseedError) as err:
        parse_distribution(spec, "m.calls", base_dir=tmp_path)
    assert key in str(err.value)
    assert err.value.fix


@pytest.mark.parametrize("content, problem", [
    ("", "no values"),
    ("header only\n", "no values"),
    ("v\n1\nfast\n3\n", ":3"),  # a second non-number is not a header: the line is named
    ("1,2\n3,4\n", "columns"),
    ("1\ninf\n", "not finite"),
], ids=["empty", "header only", "text in the middle", "two columns", "infinite"])
def test_bad_csv_files_are_explained(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "d.csv").write_text(content)
    with pytest.raises(ApmseedError, match=r"m\.latency\.csv") as err:
        parse_distribution({"distribution": "empirical", "csv": "d.csv"}, "m.latency", base_dir=tmp_path)
    assert problem in str(err.value)


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ApmseedError, match="sigma"):
        Distribution.of("lognormal", median=10, sigma=0)
    with pytest.raises(ApmseedError, match="values"):
        Distribution("normal", {"mean": 0, "sd": 1}, np.ones(3))
    with pytest.raises(ApmseedError, match="no values"):
        Distribution.of("empirical", values=[])
