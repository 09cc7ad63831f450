"""The one small interface every export target implements (in the spirit of OpenTelemetry's exporters)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from apmseed.exporters.datasets import Dataset

Record = dict[str, Any]


class Exporter(Protocol):
    """Lifecycle: `open` once with the snapshot's description, `export` each dataset's records in order,
    then `close(ok)`: publish everything at once when ok, leave the destination untouched otherwise."""

    def open(self, info: dict[str, Any]) -> None: ...

    def export(self, dataset: Dataset, records: Iterable[Record]) -> int: ...

    def close(self, ok: bool) -> dict[str, Any]: ...
