"""`apmseed export mongo` against a real MongoDB wire protocol server: FerretDB v1.24.2 (SQLite backend), from
APMSEED_TEST_MONGO_URL or started here with scripts/ferretdb.sh. Under CI=true a missing server fails the run."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
import sqlalchemy as sa
from bson import DatetimeMS
from bson.codec_options import CodecOptions, DatetimeConversion
from click.testing import CliRunner, Result

from apmseed import db as apmseed_db
from apmseed.cli.export_mongo import mongo
from apmseed.cli.main import export
from apmseed.errors import ApmseedError
from apmseed.exporters import mongo as mongo_exporter
from apmseed.exporters.datasets import DATASETS
from apmseed.exporters.mongo import INDEXES, METRICS, MongoExporter, indexes, storable, undo_dates
from apmseed.exporters.snapshot import Snapshot
from tests.conftest import END_MS, require_service, run_cli, seed_db

if "mongo" not in export.commands:  # the lead registers it in cli/main.py; until then, here
    export.add_command(mongo)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "ferretdb.sh"
BUCKET_FIELDS = {"metricKey", "bucketStart", "bucketEnd", "count", "min", "max", "sum", "points"}
DATES = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_MS)  # dates read back as epoch ms
HOUR = 3_600_000
CORE = "infrastructure_entities,applications,services,endpoints,metrics_timeseries,issues"  # dataset 1.0.0


# -- fixtures -----------------------------------------------------------------------------------------------
def _ping(url: str) -> None:
    client: pymongo.MongoClient = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        client.admin.command("ping")
    finally:
        client.close()


@pytest.fixture(scope="module")
def seeded(server_url: str) -> Iterator[sa.Engine]:
    """Overrides conftest's per-test `seeded`: one tiny database (seed 7) for the whole module, since these
    tests only read PostgreSQL (seeding every dataset version takes seconds)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = apmseed_db.create_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = apmseed_db.create_engine(sa.make_url(server_url).set(database=name).render_as_string(hide_password=False))
    seed_db(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def ferretdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ferretdb")


def _start_ferretdb(directory: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([str(SCRIPT), "start", str(directory)], capture_output=True, text=True, timeout=900,
                          check=False, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output")
    return proc.stdout.strip()


def _stop_ferretdb(directory: Path) -> None:
    subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True, timeout=60, check=False)


@pytest.fixture(scope="session")
def mongo_url(ferretdb_dir: Path) -> Iterator[str]:
    url = os.environ.get("APMSEED_TEST_MONGO_URL")
    started = False
    try:
        if not url:
            url = _start_ferretdb(ferretdb_dir / "main")
            started = True
        _ping(url)
    except Exception as exc:  # any failure to build, start or reach the server
        require_service(f"MongoDB/FerretDB not available: {exc}")
    yield url
    if started:
        _stop_ferretdb(ferretdb_dir / "main")


@pytest.fixture(scope="session")
def client(mongo_url: str) -> Iterator[pymongo.MongoClient]:
    c: pymongo.MongoClient = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    yield c
    c.close()


@pytest.fixture(scope="session")
def is_ferretdb(client: pymongo.MongoClient) -> bool:
    return "ferretdbVersion" in client.admin.command("buildInfo")


@pytest.fixture
def mdb(client: pymongo.MongoClient) -> Iterator[Any]:
    """A fresh database per test; dates come back as epoch ms (DatetimeMS)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield client.get_database(name, codec_options=DATES)
    client.drop_database(name)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mongo_exporter, "BACKOFF_S", 0.01)


# -- helpers ------------------------------------------------------------------------------------------------
def pg_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def export_mongo(runner: CliRunner, engine: sa.Engine, url: str, db: Any, *extra: str) -> Result:
    return run_cli(runner, "export", "mongo", "--url", url, "--db", db.name, "--database-url", pg_url(engine),
                   "-q", "--json", *extra)


def ok_summary(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def dump(db: Any) -> dict[str, list[dict[str, Any]]]:
    return {name: list(db[name].find().sort("_id", 1)) for name in sorted(db.list_collection_names())}


def scalar(engine: sa.Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def series_from_buckets(docs: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """JSONL-shaped series records rebuilt from bucket documents (which must agree on the metadata)."""
    by_series: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        by_series[doc["seriesId"]].append(undo_dates(doc))
    out = {}
    for sid, buckets in by_series.items():
        buckets.sort(key=lambda b: b["bucketStart"])
        meta = {k: v for k, v in buckets[0].items() if k not in BUCKET_FIELDS}
        assert all({k: v for k, v in b.items() if k not in BUCKET_FIELDS} == meta for b in buckets)
        meta["metrics"] = {buckets[0]["metricKey"]: [[p["t"], p["v"]] for b in buckets for p in b["points"]]}
        out[sid] = meta
    return out


def canonical(value: Any) -> Any:
    """Nested objects and dotted keys alike as flat dotted paths (escaped keys restored): a record and its
    document compare equal although the document nests `{"log.level": ...}` as `{"log": {"level": ...}}`."""
    if isinstance(value, list):  # undo the stored form of lists in lists: {t, v} points, {items}
        return [[v["t"], canonical(v["v"])] if isinstance(v, dict) and v.keys() == {"t", "v"}
                else canonical(v["items"]) if isinstance(v, dict) and v.keys() == {"items"} else canonical(v)
                for v in value]
    if not isinstance(value, dict):
        return value
    flat: dict[str, Any] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict) and node:
            for key, child in node.items():
                walk(prefix + key.replace("\uff0e", ".").replace("\uff04", "$") + ".", child)
        else:
            flat[prefix[:-1]] = {} if isinstance(node, dict) else canonical(node)

    walk("", value)
    return flat


def check_buckets(docs: list[dict[str, Any]], bucket_ms: int) -> None:
    for doc in docs:
        start, end = int(doc["bucketStart"]), int(doc["bucketEnd"])
        assert doc["_id"] == f"{doc['seriesId']}:{start}"
        assert start % bucket_ms == 0 and end - start == bucket_ms
        values = [p["v"] for p in doc["points"]]
        times = [int(p["t"]) for p in doc["points"]]
        assert times == sorted(times) and all(start <= t < end for t in times)
        assert doc["count"] == len(values) and doc["sum"] == pytest.approx(sum(values))
        assert doc["min"] == (min(values) if values else None) and doc["max"] == (max(values) if values else None)


def inject(monkeypatch: pytest.MonkeyPatch, dataset: str, transform: Any) -> None:
    """Wrap the snapshot reader of one dataset (the records stream, not MongoDB)."""
    original = Snapshot.records

    def records(self: Snapshot, name: str) -> Iterator[dict[str, Any]]:
        it = original(self, name)
        return transform(it) if name == dataset else it

    monkeypatch.setattr(Snapshot, "records", records)


def fail_after(n: int) -> Any:
    def transform(it: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for i, record in enumerate(it):
            if i == n:
                raise ApmseedError("injected failure while reading the snapshot", "this is a test")
            yield record
    return transform


def leftovers(db: Any) -> list[str]:
    return [n for n in db.list_collection_names() if n.startswith(("tmp_", "old_"))]


def is_epoch_ms(value: Any) -> bool:
    return type(value) is int and 10**12 <= value < 10**13


def check_dates(record: Any, doc: Any, where: str) -> None:
    """Walk a record and its document (both canonical): every epoch-ms int became a date, nothing else did."""
    if isinstance(record, dict):
        assert isinstance(doc, dict) and doc.keys() == record.keys(), where
        for key, value in record.items():
            check_dates(value, doc[key], f"{where}.{key}")
    elif isinstance(record, list):
        assert isinstance(doc, list) and len(doc) == len(record), where
        for i, (value, stored) in enumerate(zip(record, doc, strict=True)):
            check_dates(value, stored, f"{where}[{i}]")
    elif is_epoch_ms(record):
        assert isinstance(doc, DatetimeMS) and int(doc) == record, f"{where}: {doc!r} is not a date"
    else:
        assert not isinstance(doc, DatetimeMS), f"{where}: {record!r} became a date"


# -- content ------------------------------------------------------------------------------------------------
def test_dotted_keys_nest_and_the_rest_is_escaped() -> None:
    record = {"logId": "1", "log.level": "ERROR", "log.timestamp": 5, "kubernetes.pod.name": "p",
              "metrics": {"httpCalls.sum.60": [[1, 2]]}, "list": [{"a.b": 1}], "x": 1, "x.y": 2, "$k": 3,
              "data": {"plain": {"nested": True}}, "pairs": [[5, 1.5], [6, 2]], "matrix": [["a", "b"]]}
    doc = storable(record)
    assert doc["log"] == {"level": "ERROR", "timestamp": 5} and doc["kubernetes"] == {"pod": {"name": "p"}}
    assert doc["metrics"] == {"httpCalls": {"sum": {"60": [{"t": DatetimeMS(1), "v": 2}]}}}
    assert doc["list"] == [{"a": {"b": 1}}]
    assert doc["x"] == 1 and doc["x\uff0ey"] == 2 and doc["\uff04k"] == 3  # cannot nest: escaped in place
    assert doc["pairs"] == [{"t": DatetimeMS(5), "v": 1.5}, {"t": DatetimeMS(6), "v": 2}]  # no lists in lists
    assert doc["matrix"] == [{"items": ["a", "b"]}]
    assert canonical(undo_dates(doc)) == canonical(record)
    assert storable(record) == doc and record["log.level"] == "ERROR"  # the record itself is left alone


def test_time_fields_become_dates_at_any_depth() -> None:
    """Top-level, dotted (`log.timestamp`), nested, inside lists and under any key (`metrics/*/from`)."""
    t = 1_763_650_000_000
    event = {"eventId": "e", "type": "incident", "start": t, "end": t + 60_000, "severity": 10,
             "recentEvents": [{"event": {"eventId": "i", "start": t - 600_000, "severity": 5}}],
             "metrics": [{"latency.p95.60": {"from": t - 600_000, "to": t, "granularity": 60, "peak": 812.5}}],
             "probableCause": {"release": {"start": t - 900_000, "name": "cart/v1"}}}
    before = json.dumps(event)
    doc = mongo_exporter.to_document(DATASETS["events"], event)
    assert json.dumps(event) == before  # the record itself is left alone
    assert doc["start"] == DatetimeMS(t) and doc["end"] == DatetimeMS(t + 60_000) and doc["severity"] == 10
    assert doc["recentEvents"][0]["event"]["start"] == DatetimeMS(t - 600_000)
    window = doc["metrics"][0]["latency"]["p95"]["60"]
    assert window["from"] == DatetimeMS(t - 600_000) and window["to"] == DatetimeMS(t) and window["granularity"] == 60
    assert doc["probableCause"]["release"]["start"] == DatetimeMS(t - 900_000)
    check_dates(canonical(event), canonical({k: v for k, v in doc.items() if k != "_id"}), "events")
    log = mongo_exporter.to_document(DATASETS["logs"], {"logId": "l", "log.timestamp": t, "log.level": "INFO"})
    assert log["log"] == {"timestamp": DatetimeMS(t), "level": "INFO"}
    release = mongo_exporter.to_document(DATASETS["releases"], {"id": "r", "start": t, "lastUpdated": t + 1})
    assert release["start"] == DatetimeMS(t) and release["lastUpdated"] == DatetimeMS(t + 1)


def test_collections_match_postgres_jsonl_and_have_indexes(runner: CliRunner, seeded: sa.Engine, mongo_url: str,
                                                            mdb: Any, tmp_path: Path) -> None:
    summary = ok_summary(export_mongo(runner, seeded, mongo_url, mdb))
    jsonl = tmp_path / "jsonl"
    assert run_cli(runner, "export", "jsonl", jsonl, "--database-url", pg_url(seeded), "-q").exit_code == 0
    manifest = json.loads((jsonl / "manifest.json").read_text())
    names = {meta["dataset"] for meta in manifest["files"].values()}
    assert set(mdb.list_collection_names()) == names | {"manifest"}
    assert summary["counts"] == {meta["dataset"]: meta["records"] for meta in manifest["files"].values()}

    for file, meta in manifest["files"].items():
        dataset = DATASETS[meta["dataset"]]
        records = [json.loads(line) for line in (jsonl / file).read_text().splitlines()]
        docs = list(mdb[dataset.name].find())
        if dataset.name == METRICS:
            check_buckets(docs, HOUR)
            rebuilt = series_from_buckets(docs)
            assert {k: canonical(v) for k, v in rebuilt.items()} == {r["seriesId"]: canonical(r) for r in records}
            continue
        assert len(docs) == len(records) == mdb[dataset.name].count_documents({})
        assert all(d["_id"] == d[dataset.id_key] for d in docs)
        assert {d["_id"]: canonical(undo_dates(d)) for d in docs} == {r[dataset.id_key]: canonical(r) for r in records}
        # every point in time is a BSON date (at any depth), and nothing else is
        stored = {d["_id"]: d for d in docs}
        for record in records:
            doc = {k: v for k, v in stored[record[dataset.id_key]].items() if k != "_id"}
            check_dates(canonical(record), canonical(doc), f"{dataset.name}[{record[dataset.id_key]}]")

    # native types: times are dates, ints stay ints
    issue = mdb.issues.find_one({"end": {"$exists": True}}) or mdb.issues.find_one()
    assert isinstance(issue["start"], DatetimeMS) and type(issue["severity"]) is int
    host = mdb.infrastructure_entities.find_one()
    assert isinstance(host["from"], DatetimeMS)
    bucket = mdb[METRICS].find_one({"metricId": "calls"})
    assert isinstance(bucket["timeframe"]["from"], DatetimeMS) and type(bucket["timeframe"]["windowSize"]) is int
    assert all(type(p["v"]) is int for p in bucket["points"]) and type(bucket["sum"]) is int

    # against PostgreSQL
    for collection, table in [("applications", "application"), ("services", "service"), ("endpoints", "endpoint"),
                              ("infrastructure_entities", "snapshot")]:
        assert mdb[collection].count_documents({}) == scalar(seeded, f"SELECT count(*) FROM {table}")
    assert mdb.issues.count_documents({}) == scalar(seeded, "SELECT count(*) FROM event WHERE type = 'issue'")
    assert len(mdb[METRICS].distinct("seriesId")) == scalar(seeded, "SELECT count(*) FROM metric_series")
    points = list(mdb[METRICS].aggregate([{"$group": {"_id": None, "n": {"$sum": "$count"}}}]))
    assert points[0]["n"] == scalar(seeded, "SELECT count(*) FROM metric_point")
    assert summary["collections"][METRICS]["documents"] == mdb[METRICS].count_documents({})

    # every collection has its indexes
    for name in mdb.list_collection_names():
        have = {tuple(tuple(k) for k in info["key"]) for info in mdb[name].index_information().values()}
        assert (("_id", 1),) in have
        for keys in indexes(DATASETS[name]) if name in DATASETS else []:
            assert tuple(keys) in have, f"{name}: index {keys} missing"
    assert len(INDEXES["issues"]) >= 3 and len(INDEXES[METRICS]) >= 3
    for dataset in DATASETS.values():  # every time-bound dataset can be searched by its time key
        if dataset.time_key and dataset.name != METRICS:
            assert any(keys[0][0] == dataset.time_key for keys in indexes(dataset)), dataset.name
    for name, fields in {"releases": ("start", "lastUpdated"), "events": ("start", "end")}.items():
        assert {keys[0][0] for keys in INDEXES[name]} >= set(fields), name
    assert {"synthetic_runs", "application_traces", "calls", "events", "releases", "logs", "audit_logs"} <= set(
        mdb.list_collection_names())

    doc = mdb.manifest.find_one({"_id": "manifest"})
    assert doc["datasetVersion"] == manifest["datasetVersion"] and int(doc["endTime"]) == END_MS
    assert doc["collections"][METRICS]["records"] == manifest["files"]["metrics_timeseries.jsonl"]["records"]


def documented_pymongo() -> str:
    """The pymongo block of the "Exporting to MongoDB" section (README.md once pasted there, else the docs)."""
    for path in (ROOT / "README.md", ROOT / "docs" / "mongo-queries.md"):
        text = path.read_text() if path.exists() else ""
        if "### Exporting to MongoDB" in text:
            section = text.split("### Exporting to MongoDB", 1)[1].split("\n### ", 1)[0]
            return re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    raise AssertionError("no 'Exporting to MongoDB' section with a python block")


def test_documented_queries_agree_with_sql(runner: CliRunner, seeded: sa.Engine, mongo_url: str, mdb: Any,
                                           is_ferretdb: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs the documented pymongo queries as written and checks every answer against SQL."""
    ok_summary(export_mongo(runner, seeded, mongo_url, mdb, "--datasets",
                            f"{CORE},logs,synthetic_runs,releases,calls,events,audit_logs"))
    app_id = scalar(seeded, "SELECT application_id FROM application_service GROUP BY 1 ORDER BY count(*) DESC, 1"
                            " LIMIT 1")
    service_id = scalar(seeded, "SELECT s.service_id FROM metric_series s WHERE s.entity_kind = 'SERVICE'"
                                " AND s.metric_id = 'latency' AND s.aggregation = 'P95' ORDER BY"
                                " (SELECT count(*) FROM endpoint e WHERE e.service_id = s.service_id) DESC,"
                                " s.series_id LIMIT 1")
    test_id = scalar(seeded, "SELECT test_id FROM synthetic_result WHERE status = 0 GROUP BY 1"
                             " ORDER BY count(*) DESC, 1 LIMIT 1")
    trace_id = scalar(seeded, "SELECT trace_id FROM call GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
    user_id = scalar(seeded, "SELECT actor_user_id FROM audit_log_entry WHERE actor_user_id IS NOT NULL GROUP BY 1"
                             " ORDER BY count(*) DESC, 1 LIMIT 1")
    monkeypatch.setattr(pymongo, "MongoClient", lambda *args, **kwargs: {"apmseed": mdb})
    ns: dict[str, Any] = {"app_id": app_id, "service_id": service_id, "test_id": test_id, "trace_id": trace_id,
                          "user_id": user_id}
    exec(compile(documented_pymongo(), "docs/mongo-queries.md", "exec"), ns)

    assert ns["services"] and sorted(d["_id"] for d in ns["services"]) == sorted(r.service_id for r in rows(
        seeded, "SELECT service_id FROM application_service WHERE application_id = :a", a=app_id))
    assert sorted(d["_id"] for d in ns["endpoints"]) == sorted(r.id for r in rows(
        seeded, "SELECT id FROM endpoint WHERE service_id = :s", s=service_id))
    hosts = rows(seeded, "SELECT snapshot_id, tags FROM snapshot WHERE plugin = 'host'")
    expected_hosts = sorted(r.snapshot_id for r in hosts if "env:production" in r.tags)
    assert expected_hosts and sorted(d["_id"] for d in ns["hosts"]) == expected_hosts

    assert [d["_id"] for d in ns["open_critical"]] == [r.event_id for r in rows(
        seeded, "SELECT event_id FROM event WHERE type = 'issue' AND severity = 10 AND state = 'open'"
                " ORDER BY start_ms DESC, event_id COLLATE \"C\"")]
    got = {(d["_id"]["severity"], d["_id"]["state"]): d["n"] for d in ns["per_severity_state"]}
    assert got == {(r.severity, r.state): r.n for r in rows(
        seeded, "SELECT severity, state, count(*) n FROM event WHERE type = 'issue' GROUP BY 1, 2")}
    start, end = END_MS - 40 * 60_000, END_MS - 10 * 60_000  # 14:20 to 14:50, as documented
    assert sorted(d["_id"] for d in ns["in_range"]) == sorted(r.event_id for r in rows(
        seeded, "SELECT event_id FROM event WHERE type = 'issue' AND start_ms >= :a AND start_ms < :b",
        a=start, b=end))

    expected_points = [(r.ts_ms, r.value) for r in rows(
        seeded, "SELECT p.ts_ms, p.value FROM metric_point p JOIN metric_series s USING (series_id)"
                " WHERE s.service_id = :s AND s.metric_id = 'latency' AND s.aggregation = 'P95'"
                " AND p.ts_ms >= :a AND p.ts_ms < :b ORDER BY p.ts_ms", s=service_id, a=END_MS - HOUR, b=END_MS)]
    assert expected_points and [(int(t), v) for t, v in ns["points"]] == expected_points

    expected_avg = {r.service_id: r.avg for r in rows(
        seeded, "SELECT s.service_id, avg(p.value) avg FROM metric_point p JOIN metric_series s USING (series_id)"
                " WHERE s.entity_kind = 'SERVICE' AND s.metric_id = 'latency' AND s.aggregation = 'P95'"
                " GROUP BY 1")}
    assert expected_avg and ns["avg_p95"] == pytest.approx(expected_avg)
    assert ns["total_points"] == scalar(seeded, "SELECT count(*) FROM metric_point")

    times = [int(d["log"]["timestamp"]) for d in ns["error_logs"]]
    assert times == sorted(times, reverse=True)
    assert sorted(d["_id"] for d in ns["error_logs"]) == sorted(r.log_id for r in rows(
        seeded, "SELECT log_id FROM log_entry WHERE service_id = :s AND level = 'ERROR'", s=service_id))
    expected_errors = {r.service_id: r.n for r in rows(
        seeded, "SELECT service_id, count(*) n FROM log_entry WHERE level = 'ERROR' GROUP BY 1")}
    assert expected_errors and ns["errors_per_service"] == expected_errors

    # the later datasets, by their date fields
    expected_releases = [r.id for r in rows(
        seeded, "SELECT r.id FROM release r JOIN release_application a ON a.release_id = r.id"
                " WHERE a.application_id = :a ORDER BY r.start_ms DESC, r.id COLLATE \"C\"", a=app_id)]
    assert expected_releases and [d["_id"] for d in ns["app_releases"]] == expected_releases
    at = END_MS - 30 * 60_000  # 14:30, as documented
    expected_open = [r.event_id for r in rows(
        seeded, "SELECT event_id FROM event WHERE type = 'issue' AND start_ms <= :t AND (end_ms > :t OR end_ms IS NULL)"
                " UNION ALL SELECT event_id FROM incident WHERE start_ms <= :t AND (end_ms > :t OR end_ms IS NULL)"
                " UNION ALL SELECT event_id FROM change_event WHERE start_ms <= :t AND end_ms > :t", t=at)]
    assert expected_open and sorted(d["_id"] for d in ns["open_at"]) == sorted(expected_open)
    expected_failed = [r.result_id for r in rows(
        seeded, "SELECT result_id FROM synthetic_result WHERE test_id = :t AND status = 0"
                " ORDER BY start_ms DESC, result_id COLLATE \"C\"", t=test_id)]
    assert expected_failed and [d["_id"] for d in ns["failed_runs"]] == expected_failed
    assert [d["_id"] for d in ns["trace_calls"]] == [r.id for r in rows(
        seeded, "SELECT id FROM call WHERE trace_id = :t ORDER BY start_ms, id COLLATE \"C\"", t=trace_id)]
    assert len(ns["trace_calls"]) > 1
    expected_actions = [r.id for r in rows(
        seeded, "SELECT id FROM audit_log_entry WHERE actor_user_id = :u ORDER BY timestamp_ms DESC, id COLLATE \"C\"",
        u=user_id)]
    assert expected_actions and [d["_id"] for d in ns["user_actions"]] == expected_actions

    # the one-pipeline form of the mongosh example: MongoDB only (FerretDB 1.24 computes only the first
    # accumulator of a $group and lacks $divide)
    if not is_ferretdb:
        got = {d["_id"]: d["avg"] for d in mdb[METRICS].aggregate([
            {"$match": {"entityType": "SERVICE", "metricId": "latency", "aggregation": "P95"}},
            {"$group": {"_id": "$service.id", "total": {"$sum": "$sum"}, "points": {"$sum": "$count"}}},
            {"$project": {"avg": {"$divide": ["$total", "$points"]}}}])}
        assert got == pytest.approx(expected_avg)


def test_bucket_minutes_and_time_window(runner: CliRunner, seeded: sa.Engine, mongo_url: str, mdb: Any) -> None:
    summary = ok_summary(export_mongo(runner, seeded, mongo_url, mdb, "--bucket-minutes", "15",
                                          "--datasets", METRICS))
    docs = list(mdb[METRICS].find())
    check_buckets(docs, 15 * 60_000)
    assert summary["bucketMinutes"] == 15 and mdb.manifest.find_one()["bucketMinutes"] == 15
    assert len(docs) == scalar(seeded, "SELECT count(DISTINCT (series_id, ts_ms / 900000)) FROM metric_point")

    # --from/--to: only points in the window
    ok_summary(export_mongo(runner, seeded, mongo_url, mdb, "--datasets", METRICS, "--from", "2025-11-20T14:30:00Z",
                            "--to", "2025-11-20T14:40:00Z"))
    start, end = END_MS - 30 * 60_000, END_MS - 20 * 60_000
    docs = list(mdb[METRICS].find())
    check_buckets(docs, HOUR)
    assert sum(d["count"] for d in docs) == scalar(
        seeded, "SELECT count(*) FROM metric_point WHERE ts_ms >= :a AND ts_ms < :b", a=start, b=end)
    assert all(start <= int(p["t"]) < end for d in docs for p in d["points"])
    assert mdb.manifest.find_one()["exportWindow"] == {"from": DatetimeMS(start), "to": DatetimeMS(end)}

    # a window without points keeps every series as one empty bucket
    ok_summary(export_mongo(runner, seeded, mongo_url, mdb, "--datasets", METRICS,
                            "--from", "2025-11-21T00:00:00Z"))
    docs = list(mdb[METRICS].find())
    assert len(docs) == scalar(seeded, "SELECT count(*) FROM metric_series")
    assert all(d["count"] == 0 and d["points"] == [] and d["min"] is None for d in docs)
    check_buckets(docs, HOUR)


# -- all or nothing -----------------------------------------------------------------------------------------
def test_export_is_idempotent(runner: CliRunner, seeded: sa.Engine, mongo_url: str, mdb: Any) -> None:
    first = ok_summary(export_mongo(runner, seeded, mongo_url, mdb))
    before = dump(mdb)
    second = ok_summary(export_mongo(runner, seeded, mongo_url, mdb))
    after = dump(mdb)
    assert first["runId"] != second["runId"]
    assert after == before
    assert not leftovers(mdb)
    for name, docs in after.items():
        ids = [d["_id"] for d in docs]
        assert len(ids) == len(set(ids)) == mdb[name].count_documents({})


def test_failed_export_keeps_previous_collections(runner: CliRunner, seeded: sa.Engine, mongo_url: str, mdb: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ok_summary(export_mongo(runner, seeded, mongo_url, mdb, "--datasets", CORE))
    before = dump(mdb)
    inject(monkeypatch, "issues", fail_after(2))  # after metrics_timeseries and the entities are written
    result = export_mongo(runner, seeded, mongo_url, mdb, "--bucket-minutes", "5", "--datasets", CORE)
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == ["Error: injected failure while reading the snapshot (this is a test)"]
    assert dump(mdb) == before
    assert not leftovers(mdb)


def test_rejected_write_keeps_previous_collections(runner: CliRunner, seeded: sa.Engine, mongo_url: str, mdb: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ok_summary(export_mongo(runner, seeded, mongo_url, mdb, "--datasets", "applications,services"))
    before = dump(mdb)

    def duplicate(it: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        records = list(it)
        yield from [*records, {**records[0], "label": "duplicate"}]

    inject(monkeypatch, "services", duplicate)
    result = export_mongo(runner, seeded, mongo_url, mdb, "--datasets", CORE)
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: MongoDB rejected 1 document(s) while writing services:") and "E11000" in line
    assert dump(mdb) == before
    assert not leftovers(mdb)


class Killed(BaseException):
    """Stands in for the process dying: nothing catches it."""


def test_interrupted_publish_is_rolled_back_by_the_next_export(
        runner: CliRunner, seeded: sa.Engine, mongo_url: str, mdb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ok_summary(export_mongo(runner, seeded, mongo_url, mdb, "--datasets", "applications,services,endpoints"))
    before = dump(mdb)

    # die after the third rename of the publish, with no chance to roll back (as with kill -9)
    renames = []
    rename = MongoExporter._rename

    def dying_rename(self: MongoExporter, source: str, target: str) -> None:
        if len(renames) == 3:
            raise Killed
        renames.append((source, target))
        rename(self, source, target)

    with monkeypatch.context() as m:
        m.setattr(MongoExporter, "_rename", dying_rename)
        m.setattr(MongoExporter, "_roll_back", lambda *a: None)
        with pytest.raises(Killed):
            export_mongo(runner, seeded, mongo_url, mdb, "--datasets", "applications,services,endpoints")
    assert leftovers(mdb) and dump(mdb) != before  # a mix of old and new collections, and the journal

    # the next export (here one that fails, so nothing new is published) restores the previous collections
    monkeypatch.setattr(mongo_exporter, "PUBLISH_TIMEOUT_S", 0)
    monkeypatch.setattr(mongo_exporter, "STALE_AFTER_S", 0)
    inject(monkeypatch, "applications", fail_after(1))
    assert export_mongo(runner, seeded, mongo_url, mdb).exit_code != 0
    assert dump(mdb) == before
    assert not leftovers(mdb)


def test_server_dies_mid_export(runner: CliRunner, seeded: sa.Engine, ferretdb_dir: Path, mdb: Any,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A FerretDB of its own (even when APMSEED_TEST_MONGO_URL is set), killed while the export writes:
    one-line error, previous collections intact."""
    directory = ferretdb_dir / f"stop-{uuid.uuid4().hex[:6]}"
    try:
        url = _start_ferretdb(directory)
    except Exception as exc:
        require_service(f"FerretDB could not be started: {exc}")
    try:
        ok_summary(export_mongo(runner, seeded, url, mdb, "--datasets", CORE))
        c: pymongo.MongoClient = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
        before = dump(c.get_database(mdb.name, codec_options=DATES))
        c.close()

        def crash_midway(it: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for i, record in enumerate(it):
                if i == 2:  # the server dies (SIGKILL to the pid the script started)
                    pid = int((directory / "ferretdb.pid").read_text())
                    os.kill(pid, signal.SIGKILL)
                    deadline = time.monotonic() + 10
                    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                        time.sleep(0.05)
                yield record

        inject(monkeypatch, "issues", crash_midway)
        result = export_mongo(runner, seeded, url + "?serverSelectionTimeoutMS=300", mdb, "--datasets", CORE)
        assert result.exit_code != 0
        (line,) = result.output.strip().splitlines()
        assert line.startswith(f"Error: lost MongoDB at {url}?serverSelectionTimeoutMS=300 while writing issues")

        url = _start_ferretdb(directory)  # same data, new port
        c = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
        db = c.get_database(mdb.name, codec_options=DATES)
        assert {k: v for k, v in dump(db).items() if not k.startswith("tmp_")} == before
        # the dead run's temporaries are dropped by a later export once they are stale
        monkeypatch.setattr(mongo_exporter, "STALE_AFTER_S", 0)
        exporter = MongoExporter(url, mdb.name)
        exporter.open({})
        exporter.close(False)
        assert not leftovers(db) and dump(db) == before
        c.close()
    finally:
        _stop_ferretdb(directory)


# -- errors -------------------------------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_one_line(runner: CliRunner, seeded: sa.Engine) -> None:
    port = _closed_port()
    url = f"mongodb://qa:s3cret@127.0.0.1:{port}/?serverSelectionTimeoutMS=200"
    result = run_cli(runner, "export", "mongo", "--url", url, "--database-url", pg_url(seeded), "-q")
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: cannot reach MongoDB at mongodb://127.0.0.1:{port}/") and "(3 tries)" in line
    assert "s3cret" not in line and line.endswith("(start the server or fix --url / APMSEED_MONGO_URL)")

    result = run_cli(runner, "export", "mongo", "--url", "http://localhost:27017", "--database-url", pg_url(seeded))
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: invalid MongoDB --url or --db:")


def test_login_failures_are_one_line(runner: CliRunner, seeded: sa.Engine, ferretdb_dir: Path) -> None:
    """A FerretDB of its own that requires a login (SCRAM), even when APMSEED_TEST_MONGO_URL is set."""
    directory = ferretdb_dir / f"auth-{uuid.uuid4().hex[:6]}"
    try:
        url = _start_ferretdb(directory, {"FERRETDB_TEST_ENABLE_NEW_AUTH": "true", "FERRETDB_SETUP_USERNAME": "qa",
                                          "FERRETDB_SETUP_PASSWORD": "good", "FERRETDB_SETUP_DATABASE": "apmseed"})
    except Exception as exc:
        require_service(f"FerretDB could not be started: {exc}")
    host = url.removeprefix("mongodb://")
    try:
        def export_to(target: str) -> Result:
            return run_cli(runner, "export", "mongo", "--url", target, "--database-url", pg_url(seeded), "-q",
                           "--datasets", "applications")

        result = export_to(f"mongodb://qa:bad@{host}?authSource=apmseed")
        assert result.exit_code != 0
        (line,) = result.output.strip().splitlines()
        assert line == (f"Error: MongoDB at mongodb://{host}?authSource=apmseed refused the login: Authentication "
                        "failed. (check user, password and authSource in --url)")
        result = export_to(url)  # no login at all: the first command that needs one fails
        assert result.exit_code != 0
        (line,) = result.output.strip().splitlines()
        assert line.startswith("Error: MongoDB denied access while cleaning up earlier runs:")
        assert line.endswith("(log in with a user that has readWrite on the --db database)")
        assert export_to(f"mongodb://qa:good@{host}?authSource=apmseed").exit_code == 0
    finally:
        _stop_ferretdb(directory)


def test_options_and_dry_run(runner: CliRunner, seeded: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(runner, "export", "mongo", "--help")
    assert result.exit_code == 0
    for option in ("--url", "--db", "--bucket-minutes", "--datasets", "--from", "--dry-run", "--database-url"):
        assert option in result.output
    result = run_cli(runner, "export", "mongo", "--database-url", pg_url(seeded))
    assert result.exit_code != 0 and "--url" in result.output
    result = run_cli(runner, "export", "mongo", "--url", "mongodb://x/", "--bucket-minutes", "0")
    assert result.exit_code != 0 and "--bucket-minutes" in result.output
    # --dry-run never connects; the URL may come from the environment
    monkeypatch.setenv("APMSEED_MONGO_URL", f"mongodb://127.0.0.1:{_closed_port()}/")
    result = run_cli(runner, "export", "mongo", "--dry-run", "--json", "--database-url", pg_url(seeded), "-q")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["dryRun"] is True
