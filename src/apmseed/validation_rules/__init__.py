"""Pluggable validation rules for datasets added after 1.0.0.

`apmseed validate` reads the export's files in registry order (exporters/datasets.py), so a dataset can refer
to any dataset registered before it. For every record of every dataset it records the record's id (the
dataset's `id_key`) in the Index, plus the attributes rule modules ask to keep (their `KEEP` mapping), then calls
each rule module's `check(dataset, number, record, index)`, which returns problems as strings.

A rule module (one per dataset version, e.g. `v1_2_0.py`) defines:
    KEEP: dict[str, tuple[str, ...]]     # dataset -> record keys to remember per id (small values only)
    def check(dataset: str, number: int, record: dict, index: Index) -> list[str]
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from types import ModuleType
from typing import Any


class Index:
    """Ids per dataset, and the kept attributes of each record, from the files read so far."""

    def __init__(self) -> None:
        self.window: tuple[int, int] | None = None  # the manifest's data window [from, to), once read
        # a --from/--to export's cut [from, to) (either end may be None): events outside it are left out
        self.export_window: tuple[int | None, int | None] | None = None
        self._ids: dict[str, set[str]] = {}
        self._kept: dict[str, dict[str, dict[str, Any]]] = {}

    def add(self, dataset: str, ident: Any, record: dict[str, Any], keep: tuple[str, ...] = ()) -> None:
        key = str(ident)
        self._ids.setdefault(dataset, set()).add(key)
        if keep:
            self._kept.setdefault(dataset, {})[key] = {k: record.get(k) for k in keep}

    def has(self, dataset: str, ident: Any) -> bool:
        return str(ident) in self._ids.get(dataset, ())

    def ids(self, dataset: str) -> set[str]:
        return self._ids.get(dataset, set())

    def get(self, dataset: str, ident: Any) -> dict[str, Any] | None:
        return self._kept.get(dataset, {}).get(str(ident))

    def missing(self, dataset: str, ident: Any, what: str) -> list[str]:
        """The usual reference problem, or nothing."""
        return [] if self.has(dataset, ident) else [f"{what} {ident!r} does not exist in {dataset}"]


@functools.cache
def modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{m.name}") for m in sorted(pkgutil.iter_modules(__path__),
                                                                            key=lambda m: m.name)]


def keep_for(dataset: str) -> tuple[str, ...]:
    keys: list[str] = []
    for module in modules():
        keys.extend(getattr(module, "KEEP", {}).get(dataset, ()))
    return tuple(dict.fromkeys(keys))


def check(dataset: str, number: int, record: dict[str, Any], index: Index) -> list[str]:
    problems: list[str] = []
    for module in modules():
        problems.extend(module.check(dataset, number, record, index))
    return problems
