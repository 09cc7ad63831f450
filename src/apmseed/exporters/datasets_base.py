"""The dataset record type, kept apart from the registry so per-version reader modules can import it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Dataset:
    name: str
    file: str  # JSONL file name (the roadmap's reference project names)
    id_key: str  # record key holding the natural id (MongoDB `_id`, CloudEvents subject, parity checks)
    tables: tuple[str, ...]  # database tables whose rows it carries
    since: str = "1.0.0"  # first dataset version that has it
    time_key: str | None = None  # record key filtered by --from/--to (None: not time-bound)
    reader: Callable[[Any], Iterator[dict[str, Any]]] | None = None  # default: Snapshot.<name>()
    # a table with one row per record, on datasets that can reach millions: the export counts it for its ETA
    per_row: str | None = None
