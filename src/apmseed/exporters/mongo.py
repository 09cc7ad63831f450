"""MongoDB export: one collection per dataset in one database, published all at once.

Documents
    Every record becomes one document with `_id` = the record's natural id (`Dataset.id_key`: `snapshotId`,
    `id`, `eventId`, ...) and otherwise the exact Instana shape of the JSONL export (the id field itself is
    kept too). Types are native BSON: ints stay ints (int32/int64), floats stay doubles, and the epoch-ms
    fields that are *points in time* become BSON dates (millisecond precision, so nothing is lost):

    * infrastructure_entities: `from`, `to`
    * issues: `start`, `end`
    * metrics_timeseries buckets: `timeframe.from`, `timeframe.to`, `from`, `to` (infrastructure series),
      `bucketStart`, `bucketEnd`, and every point's `t`
    * every other dataset: the fields TIME_FIELDS lists for it (e.g. releases `start`/`lastUpdated`, events
      `start`/`end` and the times inside `recentEvents`, `metrics`, `metadata` and `probableCause`), and in
      any case its --from/--to key (`Dataset.time_key`: `timestamp`, `log.timestamp`, `startTime`, ...)

    Durations and sizes (`timeframe.windowSize`, `granularity`, latencies, counts) stay numbers. A dataset
    missing from TIME_FIELDS gets only its --from/--to key as a date (and an index on it, unless INDEXES says
    more); the tests check that every epoch-ms value of every dataset ends up a date. `undo_dates` turns
    dates back into ms.

    Lists inside lists, which FerretDB cannot store, are the `[epoch ms, value]` metric points of the
    website/mobile metrics and synthetic runs: they become `{t: date, v: value}` as in the buckets (any other
    inner list would become `{items: [...]}`).

    Keys with dots, which Instana uses (`log.level`, `kubernetes.pod.name`, metric keys such as
    `httpCalls.sum.60`) and which FerretDB rejects, become nested objects (see `storable`): the document is
    found with exactly the dotted name, `{"log.level": "ERROR"}`. Keys that cannot nest keep their place with
    `.`/`$` replaced by U+FF0E/U+FF04.

Metric series: the bucket pattern
    `metrics_timeseries` holds one document per series per bucket (`bucket_minutes`, default 60, aligned to
    the epoch, i.e. to full UTC hours): `_id` = f"{seriesId}:{bucketStartMs}", the series metadata of the
    JSONL record (everything but `metrics`), `metricKey` (the key of the JSONL record's `metrics` object, e.g.
    `latency.p95.60`), `bucketStart`/`bucketEnd` (half-open), `count`/`min`/`max`/`sum` of the bucket's values
    and `points: [{t: date, v: number}]` in time order. A series without points in the exported window
    (possible with --from/--to) is kept as one empty bucket at its `timeframe.from` (count 0, sum 0,
    min/max null) so that every series stays discoverable.

All or nothing
    Each dataset is written to `tmp_<runid>_<dataset>` (runid: 12 hex digits of the start time in ms plus 6
    random ones) with unordered `insert_many` batches, then indexed. Only `close(ok=True)` publishes: a
    journal collection `tmp_<runid>__journal` is written, each target is renamed to `old_<runid>_<name>` and
    the new collection renamed into place, the journal is dropped (the commit point) and the backups dropped.
    Any failure before the commit point renames everything back and drops the temporaries, so the previous
    collections stay intact; `close(ok=False)` only drops the temporaries.

    `renameCollection` with `dropTarget: true` is deliberately not used: FerretDB (v1.24) does not implement
    it, and on MongoDB it would drop the old collection for good, so a failure on a later collection could no
    longer be rolled back. The price is that a reader may, for the milliseconds between the two renames, find
    one collection missing; it never sees a partly written one. A process killed in the middle of a publish
    leaves the journal behind: the next export into the same database rolls that run back (after
    `publish_timeout_s`) and drops temporaries and backups of runs older than `stale_after_s`.

    A `manifest` collection (one document, `_id: "manifest"`) describes the snapshot like the JSONL
    export's manifest.json and is renamed into place last. Re-running an export gives the same documents.

Indexes (see INDEXES) cover what a QA engineer asks: entities by id, label, plugin, host, tag, application
and service; issues and events by type/severity/state/time and by the entity they concern; buckets by series,
entity, metric and time; releases by time and by application or service; traces and calls by time, trace,
application, service and endpoint; logs by service, level, issue and time; audit and access logs by time,
actor and action; synthetic runs by time, test, location and status; every other time-bound dataset by its
time key. Only plain ascending/descending (compound, multikey) indexes are used: they work on MongoDB and on
FerretDB (which lacks partial, text, hashed and wildcard indexes).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from apmseed.errors import ApmseedError
from apmseed.exporters.base import Record
from apmseed.exporters.datasets import Dataset

try:
    import pymongo
    from bson import DatetimeMS
    from bson.errors import InvalidDocument
    from pymongo import ASCENDING as ASC
    from pymongo import DESCENDING as DESC
    from pymongo import IndexModel
    from pymongo import errors as mongo_errors
except ImportError:  # pragma: no cover - the `mongo` extra is optional
    pymongo = None  # type: ignore[assignment]
    ASC, DESC = 1, -1

DEFAULT_DB = "apmseed"
DEFAULT_BUCKET_MINUTES = 60
MANIFEST = "manifest"
BATCH_SIZE = 1000
PING_TRIES = 3  # initial ping
WRITE_TRIES = 3  # per batch, on network errors only
BACKOFF_S = 0.5  # doubled after each failed try
SERVER_SELECTION_TIMEOUT_MS = 2000  # unless the URL sets serverSelectionTimeoutMS
PUBLISH_TIMEOUT_S = 600  # a journal this old belongs to a dead run: roll its publish back
STALE_AFTER_S = 12 * 3600  # temporaries and backups this old belong to a dead run: drop them

# fields holding epoch-ms points in time, per dataset (metrics_timeseries is handled by its buckets), besides
# the dataset's --from/--to key. A path is a record key (Instana's dotted keys such as `log.timestamp` are one
# key) or keys separated by "/" into nested objects: lists on the way are walked, "*" stands for any key.
TIME_FIELDS: dict[str, tuple[str, ...]] = {
    "infrastructure_entities": ("from", "to"),
    "issues": ("start", "end"),
    # 1.1.0
    "alert_configs": ("created", "initialCreated"),
    "global_alert_configs": ("created", "initialCreated"),
    "infra_alert_configs": ("created", "initialCreated"),
    # 1.2.0
    "website_alert_configs": ("created", "initialCreated"),
    "mobile_alert_configs": ("created", "initialCreated"),
    "website_metrics": ("adjustedTimeframe/to",),
    "mobile_metrics": ("adjustedTimeframe/to",),
    "synthetic_locations": ("createdAt",),
    "synthetic_checks": ("createdAt", "modifiedAt"),
    # 1.3.0
    "releases": ("start", "lastUpdated"),
    "events": ("start", "end", "recentEvents/event/start", "recentEvents/event/end", "metrics/*/from",
               "metrics/*/to", "metadata/precedingRelease/start", "probableCause/release/start"),
    # 1.4.0
    "user_roles": ("lastLoggedIn",),
    "api_tokens": ("createdOn", "expiresOn", "lastUsedOn"),
    "host_agent_status": ("from", "to", "data/agent/lastSeen"),
    "event_specifications": ("lastUpdated",),
    "app_settings": ("createdAt", "modifiedAt"),
    # 1.5.0
    "ground_truth": ("start", "window/from", "window/to", "affected/window/from", "affected/window/to"),
}
METRICS = "metrics_timeseries"

INDEXES: dict[str, list[list[tuple[str, int]]]] = {
    "infrastructure_entities": [[("plugin", ASC), ("label", ASC)], [("host", ASC)], [("label", ASC)],
                                [("tags", ASC)], [("from", ASC), ("to", ASC)]],
    "applications": [[("label", ASC)]],
    "services": [[("applicationIds", ASC)], [("snapshotIds", ASC)], [("label", ASC)]],
    "endpoints": [[("serviceId", ASC)], [("label", ASC)]],
    "issues": [[("severity", ASC), ("state", ASC), ("start", DESC)], [("state", ASC), ("start", DESC)],
               [("start", ASC)], [("entityType", ASC), ("start", DESC)], [("applicationId", ASC), ("start", DESC)],
               [("serviceId", ASC), ("start", DESC)], [("endpointId", ASC), ("start", DESC)],
               [("snapshotId", ASC), ("start", DESC)]],
    METRICS: [[("seriesId", ASC), ("bucketStart", ASC)],
              [("entityType", ASC), ("metricId", ASC), ("aggregation", ASC), ("bucketStart", ASC)],
              [("application.id", ASC), ("metricId", ASC), ("aggregation", ASC), ("bucketStart", ASC)],
              [("service.id", ASC), ("metricId", ASC), ("aggregation", ASC), ("bucketStart", ASC)],
              [("endpoint.id", ASC), ("metricId", ASC), ("aggregation", ASC), ("bucketStart", ASC)],
              [("endpoint.serviceId", ASC), ("metricId", ASC), ("bucketStart", ASC)],
              [("snapshotId", ASC), ("metricId", ASC), ("bucketStart", ASC)], [("bucketStart", ASC)]],
    "entity_types": [[("label", ASC)]],
    "metrics_catalog": [[("catalog", ASC), ("metricId", ASC)], [("pluginId", ASC)]],
    "infra_topology": [[("nodes.id", ASC)]],
    "app_topology": [[("services.id", ASC)]],
    "logs": [[("log.timestamp", ASC)], [("log.serviceId", ASC), ("log.timestamp", DESC)],
             [("log.level", ASC), ("log.timestamp", DESC)], [("eventId", ASC)]],
    "synthetic_runs": [[("startTime", ASC)], [("testId", ASC), ("startTime", DESC)],
                       [("testResultCommonProperties.locationId", ASC), ("startTime", DESC)],
                       [("metrics.status.v", ASC), ("startTime", DESC)], [("eventId", ASC)]],
    # 1.3.0
    "releases": [[("start", DESC)], [("lastUpdated", DESC)], [("applications.id", ASC), ("start", DESC)],
                 [("services.id", ASC), ("start", DESC)]],
    "application_traces": [[("startTime", ASC)], [("applicationId", ASC), ("startTime", DESC)],
                           [("service.id", ASC), ("startTime", DESC)], [("endpoint.id", ASC), ("startTime", DESC)],
                           [("erroneous", ASC), ("startTime", DESC)]],
    "calls": [[("timestamp", ASC)], [("traceId", ASC), ("timestamp", ASC)],
              [("destination.service.id", ASC), ("timestamp", DESC)],
              [("destination.endpoint.id", ASC), ("timestamp", DESC)]],
    "events": [[("start", ASC)], [("end", ASC)], [("type", ASC), ("state", ASC), ("start", DESC)],
               [("entityType", ASC), ("start", DESC)], [("applicationId", ASC), ("start", DESC)],
               [("serviceId", ASC), ("start", DESC)], [("snapshotId", ASC), ("start", DESC)],
               [("releaseId", ASC)], [("triggeringEventId", ASC)], [("recentEvents.event.eventId", ASC)]],
    # 1.4.0
    "audit_logs": [[("timestamp", ASC)], [("actor.id", ASC), ("timestamp", DESC)],
                   [("action", ASC), ("timestamp", DESC)], [("meta.target.id", ASC), ("timestamp", DESC)]],
    "access_logs": [[("timestamp", ASC)], [("actor.id", ASC), ("timestamp", DESC)],
                    [("action", ASC), ("timestamp", DESC)]],
    # 1.5.0: score a detector by entity and time, find the story behind an event
    "ground_truth": [[("start", ASC)], [("type", ASC), ("cause", ASC)], [("rootCause.entityId", ASC)],
                     [("affected.entityId", ASC), ("start", ASC)], [("expectedEventIds", ASC)]],
}

_RUN_NAME = re.compile(r"^(tmp|old)_([0-9a-f]{12})([0-9a-f]{6})_(.+)$")
_JOURNAL = "_journal"  # tmp_<runid>__journal
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    (mongo_errors.AutoReconnect, mongo_errors.ConnectionFailure) if pymongo is not None else ())


# -- documents ----------------------------------------------------------------------------------------------
def _date(value: Any) -> Any:
    return DatetimeMS(value) if type(value) is int else value


def _ms(value: Any) -> Any:
    return int(value) if isinstance(value, DatetimeMS) else value


def time_fields(dataset: Dataset) -> tuple[str, ...]:
    """The paths of the epoch-ms fields stored as dates: the dataset's --from/--to key and TIME_FIELDS."""
    listed = TIME_FIELDS.get(dataset.name, ())
    if dataset.time_key and dataset.time_key not in listed:
        return (dataset.time_key, *listed)
    return listed


def _dates_at(node: Any, path: list[str]) -> None:
    """Turn the epoch-ms ints at `path` below `node` into dates, in place (lists walked, "*" any key)."""
    if isinstance(node, list):
        for item in node:
            _dates_at(item, path)
        return
    if not isinstance(node, dict) or not path:
        return
    head, rest = path[0], path[1:]
    for key in (list(node) if head == "*" else [head] if head in node else []):
        if rest:
            _dates_at(node[key], rest)
        elif isinstance(node[key], list):
            node[key] = [_date(v) for v in node[key]]
        else:
            node[key] = _date(node[key])


def indexes(dataset: Dataset) -> list[list[tuple[str, int]]]:
    """INDEXES, else one on the dataset's --from/--to key."""
    if dataset.name in INDEXES:
        return INDEXES[dataset.name]
    return [[(dataset.time_key, ASC)]] if dataset.time_key else []


def storable(obj: Any) -> Any:
    """A copy MongoDB (and FerretDB, which rejects them) can store: a key with dots becomes nested objects,
    so `{"log.level": "ERROR"}` is stored as `{"log": {"level": "ERROR"}}` and found with the very same
    dotted path; a key that cannot be nested (a part starting with `$` or empty, or clashing with another
    key) keeps its place with `.` and a leading `$` replaced by U+FF0E and U+FF04."""
    if isinstance(obj, list):
        if not any(isinstance(v, dict | list) for v in obj):
            return obj
        return [_inner_list(v) if isinstance(v, list) else storable(v) if isinstance(v, dict) else v for v in obj]
    if not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    dotted = []
    for key, value in obj.items():
        if isinstance(value, dict | list):
            value = storable(value)
        if "." in key and all(part and part[0] != "$" for part in key.split(".")):
            dotted.append((key, value))
        else:
            out[_escape(key) if "." in key or key.startswith("$") else key] = value
    for key, value in dotted:
        *parents, leaf = key.split(".")
        node: Any = out
        for part in parents:  # can the key nest? (a missing parent counts as an empty object)
            if not isinstance(node, dict):
                break
            node = node.get(part, {})
        if isinstance(node, dict) and leaf not in node:
            node = out
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
        else:
            out[_escape(key)] = value
    return out


def _inner_list(item: list[Any]) -> dict[str, Any]:
    """A list inside a list, which FerretDB cannot store: a `[epoch ms, value]` metric point becomes
    `{t: date, v: value}` (as in the buckets), anything else `{items: [...]}`."""
    if len(item) == 2 and type(item[0]) is int and not isinstance(item[1], dict | list):
        return {"t": DatetimeMS(item[0]), "v": item[1]}
    return {"items": storable(item)}


def _escape(key: str) -> str:
    return ("\uff04" + key[1:] if key.startswith("$") else key).replace(".", "\uff0e")


def to_document(dataset: Dataset, record: Record) -> dict[str, Any]:
    """A non-metric record as a document: `_id` first, the record's fields, time fields as dates, dotted keys
    as nested objects (see storable). The record itself is left alone."""
    doc = {"_id": record[dataset.id_key], **record}
    for path in time_fields(dataset):
        if "/" not in path:
            if path in doc:
                doc[path] = _date(doc[path])
            continue
        head = path.split("/", 1)[0]
        if head in doc:
            doc[head] = _copy(doc[head])  # nested dates must not reach the caller's record
            _dates_at(doc, path.split("/"))
    return storable(doc)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def bucket_documents(record: Record, bucket_ms: int) -> Iterator[dict[str, Any]]:
    """The bucket documents of one metric series record (see the module docstring)."""
    meta = storable({k: v for k, v in record.items() if k != "metrics"})
    timeframe = record.get("timeframe")
    if isinstance(timeframe, dict):
        meta["timeframe"] = {**meta["timeframe"], "from": _date(timeframe.get("from")),
                             "to": _date(timeframe.get("to"))}
    if meta.get("entityType") == "INFRASTRUCTURE":
        for key in ("from", "to"):
            if key in meta:
                meta[key] = _date(meta[key])
    series_id = record["seriesId"]
    metrics = record["metrics"]
    for key, pairs in metrics.items():
        prefix = f"{series_id}:" if len(metrics) == 1 else f"{series_id}:{key}:"
        groups: list[tuple[int, list[list[Any]]]] = []
        for pair in pairs:
            start = pair[0] - pair[0] % bucket_ms
            if not groups or groups[-1][0] != start:
                groups.append((start, []))
            groups[-1][1].append(pair)
        if not groups:
            origin = timeframe["from"] if isinstance(timeframe, dict) else 0
            groups.append((origin - origin % bucket_ms, []))
        for start, points in groups:
            values = [v for _, v in points]
            yield {"_id": f"{prefix}{start}", **meta, "metricKey": key,
                   "bucketStart": DatetimeMS(start), "bucketEnd": DatetimeMS(start + bucket_ms),
                   "count": len(values), "min": min(values, default=None), "max": max(values, default=None),
                   "sum": sum(values), "points": [{"t": DatetimeMS(t), "v": v} for t, v in points]}


def undo_dates(doc: Any) -> Any:
    """Inverse of the date conversion: every date back to epoch ms (and a top-level `_id` dropped)."""
    if isinstance(doc, dict):
        return {k: undo_dates(v) for k, v in doc.items() if k != "_id"}
    if isinstance(doc, list):
        return [undo_dates(v) for v in doc]
    return _ms(doc)


# -- errors -------------------------------------------------------------------------------------------------
def redact(url: str) -> str:
    """The URL without credentials, for messages."""
    return re.sub(r"(?<=://)[^@/]*@", "", url)


def _first_line(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    text = details.get("errmsg") if isinstance(details, dict) and details.get("errmsg") else str(exc)
    text = (text or type(exc).__name__).strip().splitlines()[0]
    for noise in (", full error:", " (configured timeouts:", ", Timeout:"):  # pymongo's long tails
        text = text.split(noise)[0]
    return text if len(text) <= 240 else text[:237] + "..."


_AUTH_CODES = {13, 18}  # Unauthorized, AuthenticationFailed


class MongoExporter:
    """The Exporter protocol over a MongoDB (or MongoDB wire protocol) server."""

    def __init__(self, url: str, db: str = DEFAULT_DB, bucket_minutes: int = DEFAULT_BUCKET_MINUTES, *,
                 batch_size: int = BATCH_SIZE, stale_after_s: float | None = None,
                 publish_timeout_s: float | None = None) -> None:
        if pymongo is None:
            raise ApmseedError("the MongoDB export needs pymongo, which is not installed",
                               "install it with `pip install 'apmseed[mongo]'`")
        if not isinstance(bucket_minutes, int) or not 1 <= bucket_minutes <= 1440:
            raise ApmseedError(f"--bucket-minutes {bucket_minutes!r} is out of range", "use 1 to 1440 minutes")
        self.url = url
        self.db_name = db
        self.bucket_ms = bucket_minutes * 60_000
        self.bucket_minutes = bucket_minutes
        self.batch_size = batch_size
        self.stale_after_s = STALE_AFTER_S if stale_after_s is None else stale_after_s
        self.publish_timeout_s = PUBLISH_TIMEOUT_S if publish_timeout_s is None else publish_timeout_s
        self.run_id = f"{int(time.time() * 1000):012x}{secrets.token_hex(3)}"
        self.info: dict[str, Any] = {}
        self.client: Any = None
        self.db: Any = None
        self.written: dict[str, dict[str, Any]] = {}  # collection name -> {dataset, records, documents}
        self.warnings: list[str] = []
        self._started = 0.0
        self._write_s = 0.0

    @property
    def target(self) -> str:
        return f"{redact(self.url)} database {self.db_name}"

    def tmp(self, name: str) -> str:
        return f"tmp_{self.run_id}_{name}"

    def old(self, name: str) -> str:
        return f"old_{self.run_id}_{name}"

    # -- connection -----------------------------------------------------------------------------------------
    def _connect(self) -> None:
        options: dict[str, Any] = {"appname": "apmseed", "uuidRepresentation": "standard"}
        if "serverselectiontimeoutms" not in self.url.lower():
            options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
        try:
            self.client = pymongo.MongoClient(self.url, **options)
            self.db = self.client[self.db_name]
        except (mongo_errors.ConfigurationError, mongo_errors.InvalidName, ValueError, TypeError) as exc:
            raise ApmseedError(f"invalid MongoDB --url or --db: {_first_line(exc)}",
                               "use e.g. --url mongodb://user:password@host:27017/ --db apmseed") from None
        delay = BACKOFF_S
        for attempt in range(1, PING_TRIES + 1):
            try:
                self.client.admin.command("ping")
                return
            except mongo_errors.OperationFailure as exc:
                if exc.code in _AUTH_CODES:
                    raise ApmseedError(f"MongoDB at {redact(self.url)} refused the login: {_first_line(exc)}",
                                       "check user, password and authSource in --url") from None
                raise ApmseedError(f"MongoDB at {redact(self.url)} failed the ping: {_first_line(exc)}",
                                   "check that --url points at a MongoDB server") from None
            except mongo_errors.PyMongoError as exc:
                if attempt == PING_TRIES:
                    raise ApmseedError(f"cannot reach MongoDB at {redact(self.url)} ({PING_TRIES} tries): "
                                       f"{_first_line(exc)}",
                                       "start the server or fix --url / APMSEED_MONGO_URL") from None
                time.sleep(delay)
                delay *= 2

    @contextmanager
    def _mongo(self, action: str) -> Iterator[None]:
        """PyMongo failures as one-line ApmseedErrors."""
        try:
            yield
        except ApmseedError:
            raise
        except InvalidDocument as exc:
            raise ApmseedError(f"cannot store a record while {action}: {_first_line(exc)}",
                               "report this as an apmseed bug; nothing was published") from None
        except mongo_errors.BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or [{}]
            first = errors[0]
            message = str(first.get("errmsg", "?"))
            message = message if len(message) <= 200 else message[:197] + "..."
            raise ApmseedError(
                f"MongoDB rejected {len(errors)} document(s) while {action}: {message}"
                f" (_id {str(first.get('op', {}).get('_id', '?'))!r})",
                "nothing was published; the previous collections are untouched") from None
        except mongo_errors.OperationFailure as exc:
            if exc.code in _AUTH_CODES:
                raise ApmseedError(f"MongoDB denied access while {action}: {_first_line(exc)}",
                                   "log in with a user that has readWrite on the --db database") from None
            raise ApmseedError(f"MongoDB failed {action}: {_first_line(exc)}",
                               "nothing was published; the previous collections are untouched") from None
        except mongo_errors.PyMongoError as exc:
            raise ApmseedError(f"lost MongoDB at {redact(self.url)} while {action}: {_first_line(exc)}",
                               "check the server and rerun; nothing was published") from None

    # -- protocol -------------------------------------------------------------------------------------------
    def open(self, info: dict[str, Any]) -> None:
        self.info = info
        self._started = time.monotonic()
        try:
            self._connect()
            with self._mongo("cleaning up earlier runs"):
                self.recover()
        except BaseException:
            if self.client is not None:
                self.client.close()
                self.client = None
            raise

    def export(self, dataset: Dataset, records: Iterable[Record]) -> int:
        name = self.tmp(dataset.name)
        counter = [0]

        def counted() -> Iterator[Record]:
            for record in records:
                counter[0] += 1
                yield record

        if dataset.name == METRICS:
            docs: Iterable[dict[str, Any]] = (d for r in counted() for d in bucket_documents(r, self.bucket_ms))
        else:
            docs = (to_document(dataset, r) for r in counted())
        with self._mongo(f"writing {dataset.name}"):
            self._create(name)
            written = self._insert(self.db[name], docs)
            wanted = indexes(dataset)
            if wanted:
                self.db[name].create_indexes([IndexModel(keys) for keys in wanted])
        self.written[dataset.name] = {"dataset": dataset.name, "records": counter[0], "documents": written}
        return counter[0]

    def close(self, ok: bool) -> dict[str, Any]:
        if self.client is None:
            return {}
        try:
            if not ok:
                self._drop_temporaries()
                return {}
            try:
                with self._mongo("writing the manifest"):
                    self._create(self.tmp(MANIFEST))
                    self.db[self.tmp(MANIFEST)].insert_one(self.manifest())
            except BaseException:
                self._drop_temporaries()
                raise
            self._publish([*self.written, MANIFEST])
            return self.summary()
        finally:
            self.client.close()

    # -- writing --------------------------------------------------------------------------------------------
    def _create(self, name: str) -> None:
        try:
            self.db.command("create", name)
        except mongo_errors.OperationFailure as exc:
            if exc.code != 48:  # NamespaceExists
                raise

    def _insert(self, coll: Any, docs: Iterable[dict[str, Any]]) -> int:
        total = 0
        batch: list[dict[str, Any]] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= self.batch_size:
                total += self._insert_batch(coll, batch)
                batch = []
        if batch:
            total += self._insert_batch(coll, batch)
        return total

    def _insert_batch(self, coll: Any, batch: list[dict[str, Any]]) -> int:
        """One unordered insert_many; network errors are retried with backoff, and on a retry the documents
        an earlier, interrupted try already wrote (duplicate key) count as written."""
        delay = BACKOFF_S
        started = time.monotonic()
        for attempt in range(1, WRITE_TRIES + 1):
            try:
                coll.insert_many(batch, ordered=False)
                break
            except mongo_errors.BulkWriteError as exc:
                errors = exc.details.get("writeErrors") or []
                if attempt == 1 or any(e.get("code") != 11000 for e in errors):
                    raise
                break
            except _NETWORK_ERRORS:
                if attempt == WRITE_TRIES:
                    raise
                time.sleep(delay)
                delay *= 2
        self._write_s += time.monotonic() - started
        return len(batch)

    def manifest(self) -> dict[str, Any]:
        info = self.info
        options = info.get("options") or {}
        end = info.get("end_time_ms")
        doc: dict[str, Any] = {
            "_id": MANIFEST, "tool": "apmseed", "toolVersion": info.get("tool_version"),
            "datasetVersion": info.get("dataset_version"), "schemaRevision": info.get("schema_revision"),
            "seed": info.get("seed"), "endTime": _date(end), "options": options,
            "bucketMinutes": self.bucket_minutes,
            "collections": {name: meta for name, meta in sorted(self.written.items())},
        }
        if isinstance(end, int) and isinstance(options.get("minutes"), int):
            window = options["minutes"] * 60_000
            doc["timeframe"] = {"from": DatetimeMS(end - window), "to": DatetimeMS(end), "windowSize": window}
        start, stop = info.get("export_window") or (None, None)
        if start is not None or stop is not None:  # a --from/--to export says so, as in manifest.json
            doc["exportWindow"] = {k: DatetimeMS(v) for k, v in (("from", start), ("to", stop)) if v is not None}
        return doc

    def summary(self) -> dict[str, Any]:
        documents = sum(m["documents"] for m in self.written.values())
        elapsed = time.monotonic() - self._started
        return {
            "target": "mongodb", "url": redact(self.url), "database": self.db_name, "runId": self.run_id,
            "datasetVersion": self.info.get("dataset_version"), "bucketMinutes": self.bucket_minutes,
            "counts": {name: meta["records"] for name, meta in self.written.items()},
            "collections": dict(self.written), "documents": documents, "seconds": round(elapsed, 3),
            "documentsPerSecond": round(documents / self._write_s) if self._write_s > 0 else None,
            "warnings": self.warnings,
        }

    # -- publishing -----------------------------------------------------------------------------------------
    def _rename(self, source: str, target: str) -> None:
        self.client.admin.command("renameCollection", f"{self.db_name}.{source}", to=f"{self.db_name}.{target}")

    def _names(self) -> set[str]:
        return set(self.db.list_collection_names())

    def _publish(self, names: list[str]) -> None:
        journal = self.tmp(_JOURNAL)
        committed = False
        absent: list[str] = []  # targets that did not exist before (a roll back drops them again)
        try:
            with self._mongo("publishing the collections"):
                existing = self._names()
                absent = [n for n in names if n not in existing]
                self.db[journal].insert_one({"_id": "publish", "runId": self.run_id, "names": names,
                                             "absent": absent, "startedAtMs": int(time.time() * 1000)})
                for name in names:
                    if name in existing:
                        self._rename(name, self.old(name))
                    self._rename(self.tmp(name), name)
                self.db.drop_collection(journal)  # the commit point
                committed = True
        except BaseException:
            if not committed:
                self._roll_back(self.run_id, names, absent)
            raise
        for name in names:
            try:
                self.db.drop_collection(self.old(name))
            except mongo_errors.PyMongoError as exc:
                self.warnings.append(f"could not drop backup {self.old(name)}: {_first_line(exc)}")

    def _roll_back(self, run: str, names: list[str], absent: list[str]) -> None:
        """Undo a publish that did not reach its commit point (best effort: a later export retries it)."""
        try:
            present = self._names()
            for name in reversed(names):
                backup = f"old_{run}_{name}"
                if backup in present:
                    if name in present:
                        self.db.drop_collection(name)
                    self._rename(backup, name)
                elif name in absent and name in present and f"tmp_{run}_{name}" not in present:
                    self.db.drop_collection(name)  # installed by this run where there was nothing before
            self._drop_temporaries(run)
        except mongo_errors.PyMongoError as exc:
            self.warnings.append(f"roll back of run {run} incomplete: {_first_line(exc)}")

    def _drop_temporaries(self, run: str | None = None) -> None:
        """Drop a run's tmp_ collections (the journal last); never raises."""
        prefix = f"tmp_{run or self.run_id}_"
        try:
            names = sorted((n for n in self._names() if n.startswith(prefix)), key=lambda n: n.endswith(_JOURNAL))
            for name in names:
                self.db.drop_collection(name)
        except mongo_errors.PyMongoError as exc:
            self.warnings.append(f"could not drop the temporary collections {prefix}*: {_first_line(exc)}")

    def recover(self) -> None:
        """Clean up after earlier runs that died: roll back a publish interrupted before its commit point
        (journal written more than publish_timeout_s ago), drop temporaries and backups of runs that started
        more than stale_after_s ago."""
        now_ms = time.time() * 1000
        runs: dict[str, float] = {}
        present = self._names()
        for name in present:
            m = _RUN_NAME.match(name)
            if m:
                runs[m.group(2) + m.group(3)] = now_ms - int(m.group(2), 16)
        for run, age_ms in sorted(runs.items()):
            if run == self.run_id:
                continue
            journal = self.db[f"tmp_{run}_{_JOURNAL}"].find_one({"_id": "publish"})
            if journal is not None and now_ms - journal.get("startedAtMs", 0) >= self.publish_timeout_s * 1000:
                self._roll_back(run, journal["names"], journal["absent"])
            elif journal is None and age_ms >= self.stale_after_s * 1000:
                for name in sorted(present):
                    if name.startswith((f"tmp_{run}_", f"old_{run}_")):
                        self.db.drop_collection(name)


__all__ = ["DEFAULT_BUCKET_MINUTES", "DEFAULT_DB", "INDEXES", "MongoExporter", "bucket_documents",
           "to_document", "undo_dates"]
