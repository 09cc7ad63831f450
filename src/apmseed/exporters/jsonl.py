"""JSONL files, one per dataset, plus manifest.json. Everything is written to temporary names in the target
directory and renamed into place only when the whole export succeeded."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from apmseed.errors import ApmseedError
from apmseed.exporters.base import Record
from apmseed.exporters.datasets import Dataset

JSON_OPTIONS = orjson.OPT_SORT_KEYS


def dumps_line(record: Record) -> bytes:
    return orjson.dumps(record, option=JSON_OPTIONS) + b"\n"


class JsonlExporter:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.info: dict[str, Any] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self._temps: list[tuple[Path, Path]] = []

    def open(self, info: dict[str, Any]) -> None:
        self.info = info
        target = self.directory
        if target.exists() and not target.is_dir():
            raise ApmseedError(f"export target {target} is a file, not a directory",
                               "pass a directory path (it is created if missing)")
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ApmseedError(f"cannot create export directory {target}: {exc.strerror}",
                               "pass a writable directory") from None

    def _temp(self, name: str) -> Path:
        tmp = self.directory / f".{name}.tmp-{os.getpid()}"
        self._temps.append((tmp, self.directory / name))
        return tmp

    def export(self, dataset: Dataset, records: Iterable[Record]) -> int:
        name = dataset.file
        digest = hashlib.sha256()
        count = size = 0
        try:
            with open(self._temp(name), "wb", buffering=1 << 20) as fh:
                for record in records:
                    line = dumps_line(record)
                    fh.write(line)
                    digest.update(line)
                    count += 1
                    size += len(line)
        except OSError as exc:
            raise ApmseedError(f"cannot write {self.directory / name}: {exc.strerror}",
                               "free disk space or pick another directory") from None
        self.files[name] = {"dataset": dataset.name, "records": count, "bytes": size, "sha256": digest.hexdigest()}
        return count

    def manifest(self) -> dict[str, Any]:
        info = self.info
        return {
            "tool": "apmseed",
            "toolVersion": info["tool_version"],
            "datasetVersion": info["dataset_version"],
            "schemaRevision": info["schema_revision"],
            "seed": info["seed"],
            "endTime": info["end_time_ms"],
            "options": info["options"],
            "timeframe": {"from": info["end_time_ms"] - info["options"]["minutes"] * 60_000,
                          "to": info["end_time_ms"], "windowSize": info["options"]["minutes"] * 60_000},
            "files": dict(sorted(self.files.items())),
            **self._export_window(),
        }

    def _export_window(self) -> dict[str, Any]:
        """A --from/--to export says so: its points and events cover only this part of the timeframe."""
        start, end = self.info.get("export_window") or (None, None)
        if start is None and end is None:
            return {}
        return {"exportWindow": {k: v for k, v in (("from", start), ("to", end)) if v is not None}}

    def close(self, ok: bool) -> dict[str, Any]:
        if not ok:
            for tmp, _ in self._temps:
                tmp.unlink(missing_ok=True)
            return {}
        manifest = self.manifest()
        with open(self._temp("manifest.json"), "wb") as fh:
            fh.write(orjson.dumps(manifest, option=JSON_OPTIONS | orjson.OPT_INDENT_2) + b"\n")
        for tmp, final in self._temps:  # the manifest goes last: its presence means a complete export
            os.replace(tmp, final)
        return manifest
