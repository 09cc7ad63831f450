"""Parity: one seeded database exported to JSONL, MongoDB, OTLP and CloudEvents; counts and ids agree across
the formats for the datasets they share."""

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from apmseed.exporters.datasets import DATASETS
from tests.conftest import run_cli
from tests.test_export_mongo import DATES, client, ferretdb_dir, mongo_url  # noqa: F401 (fixtures)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_mongo_otlp_and_cloudevents_agree(runner: CliRunner, seeded: sa.Engine, tmp_path: Path,
                                                 client: Any, mongo_url: str) -> None:  # noqa: F811
    url = seeded.url.render_as_string(hide_password=False)
    db_name = f"parity_{seeded.url.database}"
    for args in (["jsonl", tmp_path / "jsonl"], ["mongo", "--url", mongo_url, "--db", db_name],
                 ["otlp", "--out", tmp_path / "otlp"], ["cloudevents", "--out", tmp_path / "ce.jsonl"]):
        result = run_cli(runner, "export", *args, "--database-url", url, "-q")
        assert result.exit_code == 0, (args, result.output)
    jsonl = {name: _lines(tmp_path / "jsonl" / d.file) for name, d in DATASETS.items()}
    mdb = client.get_database(db_name, codec_options=DATES)
    try:
        # MongoDB: one document per record (_id = natural id); metric series as buckets covering every point
        for name, records in jsonl.items():
            docs = list(mdb[name].find({}, {"_id": 1, "seriesId": 1, "count": 1}))
            if name == "metrics_timeseries":
                assert {d["seriesId"] for d in docs} == {r["seriesId"] for r in records}
                assert sum(d["count"] for d in docs) == sum(len(next(iter(r["metrics"].values()))) for r in records)
                continue
            key = DATASETS[name].id_key
            assert sorted(str(d["_id"]) for d in docs) == sorted(str(r[key]) for r in records), name
    finally:
        client.drop_database(db_name)

    # OTLP: the same traces, one log record per log line, one data point per metric point
    traces = {span["traceId"] for request in _lines(tmp_path / "otlp" / "traces.jsonl")
              for rs in request["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]}
    assert traces == {"0" * 16 + t["id"] for t in jsonl["application_traces"]}
    span_ids = {span["spanId"] for request in _lines(tmp_path / "otlp" / "traces.jsonl")
                for rs in request["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]}
    assert {c["id"] for c in jsonl["calls"]} <= span_ids
    logs = [r for request in _lines(tmp_path / "otlp" / "logs.jsonl")
            for rl in request["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]
    assert len(logs) == len(jsonl["logs"])
    points = 0
    for request in _lines(tmp_path / "otlp" / "metrics.jsonl"):
        for rm in request["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    points += len((metric.get("gauge") or metric.get("sum"))["dataPoints"])
    assert points == sum(len(next(iter(r["metrics"].values()))) for r in jsonl["metrics_timeseries"])

    # CloudEvents: an opened event per issue (and a closed one per closed issue), a created event per release
    events = _lines(tmp_path / "ce.jsonl")
    by_type: dict[str, list[str]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event["subject"])
    assert sorted(by_type["com.apmseed.issue.opened"]) == sorted(i["eventId"] for i in jsonl["issues"])
    assert sorted(by_type.get("com.apmseed.issue.closed", [])) == sorted(
        i["eventId"] for i in jsonl["issues"] if i["state"] == "closed")
    assert sorted(by_type.get("com.apmseed.release.created", [])) == sorted(r["id"] for r in jsonl["releases"])
    changes = [e["eventId"] for e in jsonl["events"] if e["type"] == "change"]
    assert sorted(by_type.get("com.apmseed.change.recorded", [])) == sorted(changes)
