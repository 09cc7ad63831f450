"""Declared value distributions a user can put on a metric ("Poisson for error spikes"), validated once with
messages that name the offending key, and sampled only from a seeded numpy Generator (determinism)."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from apmseed.errors import ApmseedError

DISTRIBUTIONS = ("normal", "lognormal", "poisson", "gamma", "pareto", "beta", "constant", "empirical")

# per distribution: required parameters, optional parameters with their defaults
PARAMETERS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "normal": (("mean", "sd"), {}),
    "lognormal": (("median", "sigma"), {}),
    "poisson": (("lam",), {}),
    "gamma": (("shape", "scale"), {}),
    "pareto": (("alpha", "scale"), {}),
    "beta": (("a", "b"), {"scale": 1.0}),
    "constant": (("value",), {}),
    "empirical": (("csv",), {}),  # a path, not a number: read into `Distribution.values`
}
# parameters that must be > 0 (or >= 0); everything else only has to be a finite number
POSITIVE = frozenset({"sd", "median", "sigma", "shape", "scale", "alpha", "a", "b"})
NON_NEGATIVE = frozenset({"lam"})
MAX_LAM = 1e12  # numpy's Poisson sampler refuses rates near 2**63
EXAMPLE = {"normal": "mean: 100, sd: 15", "lognormal": "median: 80, sigma: 0.5", "poisson": "lam: 3",
           "gamma": "shape: 2, scale: 3", "pareto": "alpha: 2.5, scale: 10", "beta": "a: 2, b: 5, scale: 1",
           "constant": "value: 42", "empirical": "csv: latencies.csv"}


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


@dataclass(frozen=True, eq=False)
class Distribution:
    """A validated distribution: `params` are floats (defaults filled in); `values` holds the sample of an
    empirical distribution (read-only), `source` where it came from."""

    name: str
    params: Mapping[str, float]
    values: np.ndarray | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        params = _check_params(self.name, dict(self.params), "")
        object.__setattr__(self, "params", MappingProxyType(params))
        if self.name == "empirical":
            values = _check_values(self.values, "", self.source or "values")
            object.__setattr__(self, "values", values)
        elif self.values is not None:
            raise ApmseedError(f"a {self.name} distribution takes no sample values",
                               "pass values only with the empirical distribution")

    @classmethod
    def of(cls, name: str, values: Any = None, **params: float) -> Distribution:
        """Fluent construction: `Distribution.of("gamma", shape=2, scale=3)`,
        `Distribution.of("empirical", values=[12, 15, 90])`."""
        return cls(name, params, None if values is None else np.asarray(values, dtype=np.float64))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Distribution):
            return NotImplemented
        same_values = (self.values is None and other.values is None) or (
            self.values is not None and other.values is not None and np.array_equal(self.values, other.values))
        return self.name == other.name and dict(self.params) == dict(other.params) and same_values

    def __hash__(self) -> int:
        values = None if self.values is None else self.values.tobytes()
        return hash((self.name, tuple(sorted(self.params.items())), values))

    def __repr__(self) -> str:
        extra = f", values=<{self.values.size} values>" if self.values is not None else ""
        return f"Distribution({self.name!r}, {dict(self.params)}{extra})"


def _check_params(name: str, params: dict[str, Any], where: str) -> dict[str, float]:
    if name not in DISTRIBUTIONS:
        raise ApmseedError(f"{_at(where, 'distribution')}: unknown distribution {name!r}",
                           f"use one of: {', '.join(DISTRIBUTIONS)}")
    required, optional = PARAMETERS[name]
    if name == "empirical":
        required = ()  # the CSV path is consumed by parse_distribution; the values travel separately
    extra = sorted(set(params) - set(required) - set(optional))
    if extra:
        fix = (f"{name} takes {', '.join((*required, *optional))} (e.g. {EXAMPLE[name]})" if required else
               "an empirical distribution takes its sample as values=..., or csv: in a scenario file")
        raise ApmseedError(f"{_at(where, extra[0])}: {name} has no parameter {extra[0]!r}", fix)
    missing = [k for k in required if k not in params]
    if missing:
        raise ApmseedError(f"{_at(where, missing[0])}: {name} needs parameter {missing[0]!r}",
                           f"give it, e.g. {EXAMPLE[name]}")
    out = {**optional, **params}
    for key, value in out.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ApmseedError(f"{_at(where, key)}: {value!r} is not a number", f"give {key} as a number")
        value = float(value)
        if not math.isfinite(value):
            raise ApmseedError(f"{_at(where, key)}: {value!r} is not finite", f"give {key} as a finite number")
        if key in POSITIVE and value <= 0:
            raise ApmseedError(f"{_at(where, key)}: {name} {key} must be > 0, got {value:g}",
                               f"use a positive {key}")
        if key in NON_NEGATIVE and not 0 <= value <= MAX_LAM:
            raise ApmseedError(f"{_at(where, key)}: {name} {key} must be between 0 and {MAX_LAM:g}, got {value:g}",
                               f"use a non-negative {key} (a rate per point)")
        out[key] = value
    return out


def _check_values(values: Any, where: str, what: str) -> np.ndarray:
    if values is None:
        raise ApmseedError(f"{_at(where, 'csv')}: an empirical distribution needs sample values",
                           "give csv: a file with one numeric column")
    arr = np.array(values, dtype=np.float64).ravel()  # a copy: the caller's array may change later
    if arr.size == 0:
        raise ApmseedError(f"{_at(where, 'csv')}: {what} holds no values", "put at least one number in it")
    if not np.isfinite(arr).all():
        raise ApmseedError(f"{_at(where, 'csv')}: {what} holds a value that is not finite",
                           "remove NaN and infinite values")
    arr.flags.writeable = False
    return arr


def read_csv_column(path: Path, where: str = "") -> np.ndarray:
    """One numeric column, an optional header line; blank lines are ignored."""
    key = _at(where, "csv")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = [(i + 1, row) for i, row in enumerate(csv.reader(fh)) if any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError) as err:
        raise ApmseedError(f"{key}: cannot read {str(path)!r}: {err}",
                           "give the path of a readable CSV file (relative paths start at the scenario file)"
                           ) from err
    except csv.Error as err:
        raise ApmseedError(f"{key}: {str(path)!r} is not a valid CSV file: {err}",
                           "use one numeric column") from err
    values: list[float] = []
    for n, (line, row) in enumerate(rows):
        cells = [c.strip() for c in row]
        if len(cells) != 1:
            raise ApmseedError(f"{key}: {path}:{line} has {len(cells)} columns", "keep one numeric column")
        try:
            values.append(float(cells[0]))
        except ValueError as err:
            if n == 0:
                continue  # the header
            raise ApmseedError(f"{key}: {path}:{line}: {cells[0]!r} is not a number",
                               "keep one numeric column with at most a header line") from err
    return _check_values(values, where, str(path))


def parse_distribution(spec: Mapping[str, Any], where: str = "", base_dir: Path | None = None) -> Distribution:
    """`{"distribution": "gamma", "shape": 2, "scale": 3}` -> Distribution; errors name `where` and the key.
    An empirical `csv` path is resolved against `base_dir` (the scenario file's folder) when relative."""
    if not isinstance(spec, Mapping):
        raise ApmseedError(f"{where or 'distribution'}: expected a mapping with a 'distribution' key, "
                           f"got {spec!r}", "write e.g. {distribution: gamma, shape: 2, scale: 3}")
    if "distribution" not in spec:
        raise ApmseedError(f"{_at(where, 'distribution')}: missing", f"name one of: {', '.join(DISTRIBUTIONS)}")
    name = spec["distribution"]
    if not isinstance(name, str) or name not in DISTRIBUTIONS:
        raise ApmseedError(f"{_at(where, 'distribution')}: unknown distribution {name!r}",
                           f"use one of: {', '.join(DISTRIBUTIONS)}")
    params = {k: v for k, v in spec.items() if k != "distribution"}
    if name != "empirical":
        return Distribution(name, _check_params(name, params, where))
    extra = sorted(set(params) - {"csv"})
    if extra:
        raise ApmseedError(f"{_at(where, extra[0])}: empirical has no parameter {extra[0]!r}",
                           "empirical takes only csv (a file with one numeric column)")
    raw = params.get("csv")
    if not isinstance(raw, str | Path) or not str(raw).strip():
        raise ApmseedError(f"{_at(where, 'csv')}: " + ("missing" if raw is None else f"{raw!r} is not a path"),
                           "give csv: the path of a file with one numeric column")
    path = Path(raw)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return Distribution("empirical", {}, read_csv_column(path, where), source=str(path))


def sample(dist: Distribution, rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` i.i.d. float64 draws; pareto is the classical one (values >= scale), beta is scaled to
    [0, scale]; empirical resamples its values with replacement."""
    p = dist.params
    if dist.name == "normal":
        return rng.normal(p["mean"], p["sd"], size)
    if dist.name == "lognormal":
        return rng.lognormal(math.log(p["median"]), p["sigma"], size)
    if dist.name == "poisson":
        return rng.poisson(p["lam"], size).astype(np.float64)
    if dist.name == "gamma":
        return rng.gamma(p["shape"], p["scale"], size)
    if dist.name == "pareto":
        return p["scale"] * (1.0 + rng.pareto(p["alpha"], size))  # numpy's pareto is Lomax (shifted by 1)
    if dist.name == "beta":
        return p["scale"] * rng.beta(p["a"], p["b"], size)
    if dist.name == "constant":
        return np.full(size, p["value"])
    assert dist.values is not None  # empirical, checked on construction
    return dist.values[rng.integers(0, dist.values.size, size)]


def mean(dist: Distribution) -> float:
    """The expected value (inf for a Pareto with alpha <= 1): lets callers scale a declared distribution."""
    p = dist.params
    return {
        "normal": lambda: p["mean"],
        "lognormal": lambda: p["median"] * math.exp(p["sigma"] ** 2 / 2.0),
        "poisson": lambda: p["lam"],
        "gamma": lambda: p["shape"] * p["scale"],
        "pareto": lambda: math.inf if p["alpha"] <= 1 else p["alpha"] * p["scale"] / (p["alpha"] - 1.0),
        "beta": lambda: p["scale"] * p["a"] / (p["a"] + p["b"]),
        "constant": lambda: p["value"],
        "empirical": lambda: float(np.mean(dist.values)),
    }[dist.name]()
