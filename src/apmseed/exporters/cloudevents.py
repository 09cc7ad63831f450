"""CloudEvents 1.0 from the event-like datasets: a JSON Lines file (structured mode, one event a line), a JSON
batch file (`application/cloudevents-batch+json`), or HTTP POSTs to a sink (binary or structured content mode).

A dataset takes part by having an entry in `MAPPINGS`: a function from one of its records to the CloudEvents it
stands for, in causal order (e.g. opened before closed). Every type such a function emits is listed in
`EVENT_TYPES` and ships a JSON Schema for its `data` as `jsonschemas/cloudevents/<type>.schema.json`, which the
event's `dataschema` names.

Events are buffered and emitted at `close(True)` in one deterministic order: by time, then by position in the
record's lifecycle (so an issue that closes in the millisecond it opens still reads opened-then-closed), then by
id. Files are written to a temporary name next to the target and renamed into place; an HTTP sink cannot be
published atomically, so a failure there leaves the events already delivered (ids are stable: receivers can
drop duplicates when the export is rerun)."""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from time import sleep
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import orjson

from apmseed import __version__
from apmseed.errors import ApmseedError
from apmseed.exporters.base import Record
from apmseed.exporters.datasets import Dataset

SPECVERSION = "1.0"
SCHEMA_BASE = "https://apmseed.dev/schemas/cloudevents/"
SOURCE_BASE = "/apmseed"
DATA_CONTENT_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
FORMATS = ("jsonl", "batch")
MODES = ("binary", "structured")

CloudEvent = dict[str, Any]
EventMapping = Callable[[Record], list[CloudEvent]]

# Every type an entry of MAPPINGS can emit; each has jsonschemas/cloudevents/<type>.schema.json.
EVENT_TYPES: tuple[str, ...] = ("com.apmseed.issue.opened", "com.apmseed.issue.closed",
                                 # dataset 1.3.0
                                 "com.apmseed.incident.opened", "com.apmseed.incident.closed",
                                 "com.apmseed.change.recorded", "com.apmseed.release.created")


# -- attributes -------------------------------------------------------------------------------------------
def rfc3339_ms(epoch_ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC with milliseconds: 2025-11-20T14:03:00.000Z."""
    seconds, millis = divmod(int(epoch_ms), 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def dataschema(event_type: str) -> str:
    return f"{SCHEMA_BASE}{event_type}.json"


def schema_resource(event_type: str) -> Traversable:
    """The shipped JSON Schema of a type's `data` (its `$id` is `dataschema(event_type)`)."""
    return resources.files("apmseed") / "jsonschemas" / "cloudevents" / f"{event_type}.schema.json"


ENTITY_SOURCES = {  # entityType -> (collection in the source URI, record key holding the entity's id)
    "APPLICATION": ("applications", "applicationId"),
    "SERVICE": ("services", "serviceId"),
    "ENDPOINT": ("endpoints", "endpointId"),
    "INFRASTRUCTURE": ("infrastructure", "snapshotId"),
}


def entity_source(record: Record) -> str:
    """The URI-reference of the entity an Instana event is about, e.g. /apmseed/services/<serviceId>."""
    collection, key = ENTITY_SOURCES[record["entityType"]]
    return f"{SOURCE_BASE}/{collection}/{quote(str(record[key]), safe='')}"


def make_event(event_type: str, event_id: str, source: str, subject: str, epoch_ms: int,
               data: Record) -> CloudEvent:
    return {"specversion": SPECVERSION, "id": event_id, "source": source, "type": event_type, "subject": subject,
            "time": rfc3339_ms(epoch_ms), "datacontenttype": DATA_CONTENT_TYPE,
            "dataschema": dataschema(event_type), "data": data}


# -- mappings ---------------------------------------------------------------------------------------------
def issue_events(record: Record) -> list[CloudEvent]:
    """An Instana issue: `opened` at its start, carrying the issue as it was then (state open, no end), and,
    once closed, `closed` at its end, carrying the record as exported."""
    event_id, source = record["eventId"], entity_source(record)
    opened = {k: v for k, v in record.items() if k != "end"} | {"state": "open"}
    events = [make_event("com.apmseed.issue.opened", f"{event_id}:opened", source, event_id, record["start"],
                         opened)]
    if record["state"] == "closed":
        events.append(make_event("com.apmseed.issue.closed", f"{event_id}:closed", source, event_id,
                                 record["end"], record))
    return events


def _as_of(event: Record, epoch_ms: int) -> Record:
    """An event as it was at `epoch_ms`: still open (no `end`) unless it had closed by then."""
    if event.get("end") is not None and event["end"] <= epoch_ms:
        return event
    return {k: v for k, v in event.items() if k != "end"} | {"state": "open"}


def incident_and_change_events(record: Record) -> list[CloudEvent]:
    """events.jsonl (dataset 1.3.0) minus its issues, which the `issues` entry already emits. An incident:
    `opened` at its start, carrying it as it was then (open, only the issues that had started, no metric windows
    yet), and, once closed, `closed` at its end with the record as exported. A change: `recorded` at its start."""
    event_id, kind = record["eventId"], record["type"]
    if kind == "incident":
        start = record["start"]
        opened = {k: v for k, v in record.items() if k not in ("end", "metrics")} | {"state": "open"}
        opened["recentEvents"] = [{"event": _as_of(e["event"], start)} for e in record["recentEvents"]
                                  if e["event"]["start"] <= start]
        events = [make_event("com.apmseed.incident.opened", f"{event_id}:opened", entity_source(record), event_id,
                             start, opened)]
        if record["state"] == "closed":
            events.append(make_event("com.apmseed.incident.closed", f"{event_id}:closed", entity_source(record),
                                     event_id, record["end"], record))
        return events
    if kind == "change":
        return [make_event("com.apmseed.change.recorded", f"{event_id}:recorded", entity_source(record), event_id,
                           record["start"], record)]
    return []


def release_events(record: Record) -> list[CloudEvent]:
    """A release (dataset 1.3.0): `created` at its start, carrying the releases.jsonl record."""
    release_id = record["id"]
    return [make_event("com.apmseed.release.created", f"{release_id}:created", f"{SOURCE_BASE}/releases",
                       release_id, record["start"], record)]


# dataset name -> record -> CloudEvents (in causal order). A later dataset plugs in with one entry here.
MAPPINGS: dict[str, EventMapping] = {
    "issues": issue_events,
    "events": incident_and_change_events,  # 1.3.0
    "releases": release_events,  # 1.3.0
}


# -- serialisation ----------------------------------------------------------------------------------------
def dumps(event: CloudEvent) -> bytes:
    """The structured-mode JSON of one event (sorted keys, so files are byte-for-byte reproducible)."""
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


# HTTP binding 3.1.3.2: printable ASCII other than space, double quote and percent goes into headers as is.
_HEADER_SAFE = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in ' "%')


def header_value(value: Any) -> str:
    return quote(str(value), safe=_HEADER_SAFE)


def binary_message(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """HTTP binary content mode: attributes as ce-* headers, datacontenttype as Content-Type, body = data."""
    headers = {"Content-Type": event.get("datacontenttype", DATA_CONTENT_TYPE)}
    for name, value in event.items():
        if name not in ("data", "datacontenttype") and value is not None:
            headers[f"ce-{name}"] = header_value(value)
    return headers, orjson.dumps(event["data"], option=orjson.OPT_SORT_KEYS)


def structured_message(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    return {"Content-Type": f"{STRUCTURED_CONTENT_TYPE}; charset=utf-8"}, dumps(event)


def redact(url: str) -> str:
    """The URL without any password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# -- destinations -----------------------------------------------------------------------------------------
class FileTarget:
    """One file, JSON Lines or a JSON batch, written under a temporary name and renamed when complete."""

    def __init__(self, path: Path, fmt: str = "jsonl") -> None:
        if fmt not in FORMATS:
            raise ApmseedError(f"unknown CloudEvents format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
        self.path = path
        self.format = fmt
        self._tmp: Path | None = None

    def check(self) -> None:
        path = self.path
        if path.is_dir():
            suffix = "json" if self.format == "batch" else "jsonl"
            raise ApmseedError(f"--out {path} is a directory", f"pass a file path, e.g. {path / ('events.' + suffix)}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ApmseedError(f"cannot create directory {path.parent}: {exc.strerror}",
                               "pass a writable location for --out") from None

    def publish(self, events: list[CloudEvent]) -> dict[str, Any]:
        self._tmp = tmp = self.path.parent / f".{self.path.name}.tmp-{os.getpid()}"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb", buffering=1 << 20) as fh:
                for chunk in self._chunks(events):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            os.replace(tmp, self.path)
        except OSError as exc:
            self.discard()
            raise ApmseedError(f"cannot write {self.path}: {exc.strerror}",
                               "free disk space or pick another --out path") from None
        self._tmp = None
        summary = {"target": "file", "path": str(self.path), "format": self.format, "bytes": size,
                   "sha256": digest.hexdigest()}
        if self.format == "batch":
            summary["contentType"] = BATCH_CONTENT_TYPE
        return summary

    def _chunks(self, events: list[CloudEvent]) -> Iterable[bytes]:
        if self.format == "jsonl":
            for event in events:
                yield dumps(event) + b"\n"
            return
        if not events:
            yield b"[]\n"
            return
        for i, event in enumerate(events):  # one event a line inside the array: still one JSON document
            yield (b"[\n" if i == 0 else b",\n") + dumps(event)
        yield b"\n]\n"

    def discard(self) -> None:
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None


class HttpSink:
    """One POST per event, in order. Connection errors, timeouts, 429 and 5xx are retried with exponential
    backoff (`tries` attempts in all); any other answer but 2xx stops the export."""

    def __init__(self, url: str, mode: str = "binary", *, tries: int = 3, backoff: float = 0.5,
                 timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApmseedError(f"--sink {redact(url)!r} is not an http(s) URL",
                               "pass e.g. http://127.0.0.1:8080/events")
        if mode not in MODES:
            raise ApmseedError(f"unknown HTTP content mode {mode!r}", f"use one of: {', '.join(MODES)}")
        self.url, self.mode, self.tries, self.backoff, self.timeout = url, mode, max(1, tries), backoff, timeout
        self.retries = 0
        self._opener = urllib.request.build_opener(_NoRedirect)

    def check(self) -> None:
        """Nothing to prepare: reachability shows with the first event."""

    def publish(self, events: list[CloudEvent]) -> dict[str, Any]:
        encode = binary_message if self.mode == "binary" else structured_message
        for delivered, event in enumerate(events):
            headers, body = encode(event)
            self._post(event, headers, body, delivered, len(events))
        return {"target": "http", "sink": redact(self.url), "mode": self.mode, "requests": len(events),
                "retries": self.retries}

    def _post(self, event: CloudEvent, headers: dict[str, str], body: bytes, delivered: int, total: int) -> None:
        headers = {**headers, "User-Agent": f"apmseed/{__version__}"}
        problem = "no answer"
        for attempt in range(self.tries):
            if attempt:
                self.retries += 1
                sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                status = f"HTTP {exc.code} {exc.reason}".strip()
                if exc.code >= 500 or exc.code == 429:
                    problem = status
                    continue
                detail = _first_line(exc.read(300))
                raise ApmseedError(
                    f"the sink {redact(self.url)} rejected CloudEvent {event['id']} with {status}"
                    + (f": {detail}" if detail else "") + f"; {delivered} of {total} events delivered",
                    "check what the sink accepts (--mode binary|structured) and its URL") from None
            except urllib.error.URLError as exc:
                problem = _reason(exc.reason)
            except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, malformed answers
                problem = _reason(exc)
        raise ApmseedError(
            f"cannot deliver CloudEvents to {redact(self.url)} after {self.tries} tries: {problem}; "
            f"{delivered} of {total} events delivered",
            "check that the sink is running and reachable, then rerun; event ids are stable, "
            "so the sink can drop duplicates")

    def discard(self) -> None:
        """Delivered events cannot be recalled."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a body-less GET: report the redirect instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return _first_line(str(reason)) or type(reason).__name__


def _first_line(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


# -- the exporter -----------------------------------------------------------------------------------------
class CloudEventsExporter:
    """`Exporter` for CloudEvents: datasets without an entry in MAPPINGS are skipped unread."""

    def __init__(self, target: FileTarget | HttpSink, mappings: dict[str, EventMapping] | None = None) -> None:
        self.target = target
        self.mappings = MAPPINGS if mappings is None else mappings
        self.info: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.skipped: list[str] = []
        self._events: list[tuple[str, int, str, CloudEvent]] = []

    def open(self, info: dict[str, Any]) -> None:
        self.info = info
        self.target.check()

    def export(self, dataset: Dataset, records: Iterable[Record]) -> int:
        mapping = self.mappings.get(dataset.name)
        if mapping is None:
            self.skipped.append(dataset.name)
            return 0
        count = 0
        for record in records:
            for position, event in enumerate(mapping(record)):
                self._events.append((event["time"], position, event["id"], event))
            count += 1
        self.counts[dataset.name] = count
        return count

    def events(self) -> list[CloudEvent]:
        """Every buffered event, by (time, lifecycle position, id)."""
        return [item[3] for item in sorted(self._events, key=lambda item: item[:3])]

    def close(self, ok: bool) -> dict[str, Any]:
        if not ok:
            self.target.discard()
            self._events.clear()
            return {}
        events = self.events()
        published = self.target.publish(events)
        return {"tool": "apmseed", "toolVersion": self.info.get("tool_version"),
                "datasetVersion": self.info.get("dataset_version"), "specversion": SPECVERSION, **published,
                "events": len(events), "eventTypes": dict(sorted(Counter(e["type"] for e in events).items())),
                "counts": self.counts, "skipped": self.skipped}


__all__ = ["EVENT_TYPES", "MAPPINGS", "CloudEventsExporter", "FileTarget", "HttpSink", "entity_source",
           "incident_and_change_events", "issue_events", "release_events", "rfc3339_ms"]
