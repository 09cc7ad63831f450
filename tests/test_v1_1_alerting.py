"""Dataset 1.1.0 alerting: alerting channels and Smart Alert configs (application, global, infrastructure).

One tiny database and its export are shared by the module (read-only; the tests that break rows roll back):
every exported line is accepted by the official instana-client model, the database rejects broken
relationships, static thresholds sit between the metrics' normal values and their issue peaks, and
`apmseed validate` (schemas and cross-file rules) passes the export and reports crafted violations."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import instana_client.models as models
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from apmseed import db, profiles, seeding
from apmseed.exporters.datasets import DATASETS
from apmseed.progress import Reporter
from apmseed.validation import load_schema, schema_problem, validate_export
from apmseed.validation_rules import Index, keep_for
from apmseed.validation_rules import v1_1_0 as rules
from tests.conftest import END_MS, run_cli
from tests.conftest import jsonl_records as _records

FILE_MODELS: dict[str, Any] = {
    "alerting_channels.jsonl": models.AbstractIntegration,
    "alert_configs.jsonl": models.ApplicationAlertConfigWithMetadata,
    "global_alert_configs.jsonl": models.GlobalApplicationAlertConfigWithMetadata,
    "infra_alert_configs.jsonl": models.InfraAlertConfigWithMetadata,
}
CHANNEL_MODELS = {"EMAIL": "EmailIntegration", "SLACK": "SlackIntegration", "WEB_HOOK": "WebhookIntegration",
                  "PAGER_DUTY": "PagerdutyIntegration", "OPS_GENIE": "OpsgenieIntegration",
                  "OFFICE_365": "Office365Integration"}
RULE_MODELS = {"slowness": "SlownessApplicationAlertRule", "errorRate": "ErrorsApplicationAlertRule",
               "throughput": "ThroughputApplicationAlertRule", "genericRule": "GenericInfraAlertRule"}
SEVERITY_KEYS = {5: "warning", 10: "critical"}
START_MS = END_MS - 60 * 60_000  # the tiny profile's window
VERSION = "1.1.0"


def _seed(engine: sa.Engine, **overrides: int) -> None:
    """Seed the tiny profile at dataset 1.1.0 (later versions are not this module's business)."""
    with engine.begin() as conn:
        seeding.seed(conn, profiles.resolve("tiny", overrides), 7, END_MS, Reporter(False), dataset_version=VERSION)


@pytest.fixture(scope="module")
def alert_db(server_url: str) -> Iterator[sa.Engine]:
    """A tiny dataset at 1.1.0, shared by the module."""
    name = f"t_alert_{uuid.uuid4().hex[:8]}"
    admin = db.create_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = db.create_engine(sa.make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        _seed(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def export_dir(alert_db: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("alerting") / "out"
    url = alert_db.url.render_as_string(hide_password=False)
    result = run_cli(CliRunner(), "export", "jsonl", out, "--database-url", url, "-q")
    assert result.exit_code == 0, result.output
    return out


def _without_none(value: Any) -> Any:
    """to_dict() adds explicit nulls for some optional nested keys; they carry no data."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


# -- Instana fidelity ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_name", FILE_MODELS)
def test_every_record_is_accepted_by_the_official_model(export_dir: Path, file_name: str) -> None:
    records = _records(export_dir, file_name)
    assert records, f"{file_name} is empty"
    for number, record in enumerate(records, 1):
        parsed = FILE_MODELS[file_name].from_dict(record)
        known = {f.alias or n for n, f in type(parsed).model_fields.items()}
        expected = {k: v for k, v in record.items() if k in known}
        round_trip = parsed.to_dict()
        # nothing the model knows is lost or coerced (top-level nulls such as tagFilterExpression included)
        assert {k: round_trip.get(k) for k in expected} == expected or _without_none(
            {k: round_trip.get(k) for k in expected}) == _without_none(expected), f"{file_name}:{number}"
        extra = set(record) - known
        assert extra <= {"snapshotId"}, f"{file_name}:{number}: keys the model lacks: {extra}"


def test_channels_cover_the_usual_integrations(export_dir: Path) -> None:
    seen = set()
    for record in _records(export_dir, "alerting_channels.jsonl"):
        assert type(models.AbstractIntegration.from_dict(record)).__name__ == CHANNEL_MODELS[record["kind"]]
        seen.add(record["kind"])
    assert {"EMAIL", "SLACK", "WEB_HOOK", "PAGER_DUTY"} <= seen


def test_rules_thresholds_and_scopes_use_the_instana_subtypes(export_dir: Path) -> None:
    evaluation_types, time_types = set(), set()
    for file_name in ("alert_configs.jsonl", "global_alert_configs.jsonl", "infra_alert_configs.jsonl"):
        for record in _records(export_dir, file_name):
            parsed = FILE_MODELS[file_name].from_dict(record)
            assert type(parsed.rule).__name__ == RULE_MODELS[record["rule"]["alertType"]]
            assert type(parsed.rules[0].rule).__name__ == RULE_MODELS[record["rule"]["alertType"]]
            key = SEVERITY_KEYS[record["severity"]]
            assert record["rules"][0]["thresholds"][key]["type"] == record["threshold"]["type"]
            evaluation_types.add(record["evaluationType"])
            time_types.add(record["timeThreshold"]["type"])
    assert {"PER_AP", "PER_AP_SERVICE", "PER_AP_ENDPOINT", "PER_ENTITY"} <= evaluation_types
    assert "violationsInSequence" in time_types


def test_configs_notify_real_channels_and_page_only_for_critical(export_dir: Path) -> None:
    kinds = {c["id"]: c["kind"] for c in _records(export_dir, "alerting_channels.jsonl")}
    linked = 0
    for file_name in ("alert_configs.jsonl", "global_alert_configs.jsonl", "infra_alert_configs.jsonl"):
        for record in _records(export_dir, file_name):
            assert set(record["alertChannelIds"]) <= set(kinds)
            assert record["alertChannelIds"] == sorted(record["alertChannelIds"])
            for key, ids in record["alertChannels"].items():
                assert set(ids) <= set(record["alertChannelIds"])
                if key == "warning":
                    assert not {kinds[i] for i in ids} & {"PAGER_DUTY", "OPS_GENIE"}
            linked += len(record["alertChannelIds"])
    assert linked > 0


# -- the data makes sense -----------------------------------------------------------------------------------------


def _points(conn: sa.Connection, column: str, entity: str, metric: str, aggregation: str) -> dict[int, float]:
    return dict(conn.execute(sa.text(
        f"SELECT p.ts_ms, p.value FROM metric_series s JOIN metric_point p USING (series_id) WHERE s.{column} = :e"
        " AND s.metric_id = :m AND s.aggregation = :a"), {"e": entity, "m": metric, "a": aggregation}).all())


def _issues(conn: sa.Connection, kind: str, column: str, entity: str) -> list[tuple[str, int, int]]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT problem, start_ms, coalesce(end_ms, :end) FROM event WHERE type = 'issue' AND entity_type = :k"
        f" AND {column} = :e"),
        {"k": kind, "e": entity, "end": END_MS})]


def _watched(conn: sa.Connection) -> Iterator[tuple[dict[str, Any], str, str, str, dict[int, float]]]:
    """(config, entity kind, entity column, entity id, per-minute values of the metric it watches) for every
    config that watches one entity with a static threshold."""
    configs = conn.execute(sa.text(
        "SELECT a.*, coalesce(e.endpoint_id, s.service_id, x.application_id) scoped,"
        " CASE WHEN e.endpoint_id IS NOT NULL THEN 'ENDPOINT' WHEN s.service_id IS NOT NULL THEN 'SERVICE'"
        " ELSE 'APPLICATION' END scope_kind FROM alert_config a"
        " LEFT JOIN alert_scope_application x ON x.alert_config_id = a.id AND a.family = 'APPLICATION'"
        " LEFT JOIN alert_scope_service s ON s.alert_config_id = a.id AND a.family = 'APPLICATION'"
        " LEFT JOIN alert_scope_endpoint e ON e.alert_config_id = a.id AND a.family = 'APPLICATION'"
        " WHERE a.family = 'APPLICATION' OR a.snapshot_id IS NOT NULL ORDER BY a.id")).mappings().all()
    columns = {"APPLICATION": "application_id", "SERVICE": "service_id", "ENDPOINT": "endpoint_id",
               "INFRASTRUCTURE": "snapshot_id"}
    for c in configs:
        kind = "INFRASTRUCTURE" if c["family"] == "INFRA" else c["scope_kind"]
        entity = c["snapshot_id"] or c["scoped"]
        rule = c["rule"]
        if rule["alertType"] == "errorRate":
            calls = _points(conn, columns[kind], entity, "calls", "SUM")
            errors = _points(conn, columns[kind], entity, "erroneousCalls", "SUM")
            values = {t: errors[t] / calls[t] for t in calls if calls[t] > 0}
        else:
            values = _points(conn, columns[kind], entity, rule["metricName"], rule["aggregation"])
        assert values, f"{c['name']} watches a metric without data"
        yield dict(c), kind, columns[kind], entity, values


def test_static_thresholds_sit_between_normal_values_and_issue_peaks(alert_db: sa.Engine) -> None:
    """Above every value outside the entity's issues (normal traffic never fires) and, for the issue kind the
    alert is meant for, below each issue's peak (each such issue fires it)."""
    catches = {"latency": "Sudden increase in average latency", "cpu.used": "High CPU usage",
               "memory.used": "Memory usage high", "errors": "Sudden increase in the number of erroneous calls"}
    checked = crossed = 0
    with alert_db.connect() as conn:
        for config, kind, column, entity, values in _watched(conn):
            issues = _issues(conn, kind, column, entity)
            warning = config["thresholds"]["warning"]["value"]
            critical = config["thresholds"].get("critical", {}).get("value")
            normal = [v for t, v in values.items() if not any(s <= t < u for _, s, u in issues)]
            if config["threshold_operator"] == "<":
                assert all(v >= warning for v in normal), config["name"]
                assert critical is None or critical < warning
                continue
            assert config["threshold_operator"] == ">"
            assert all(v <= warning for v in normal), f"{config['name']}: normal traffic crosses {warning}"
            assert critical is None or critical > warning
            for problem, start, until in issues:
                if problem == catches.get(config["rule"]["metricName"]):
                    inside = [v for t, v in values.items() if start <= t < until]
                    if max(inside) > max(normal) * 1.05:
                        assert max(inside) > warning, f"{config['name']}: issue at {start} never crosses {warning}"
                        crossed += 1
            checked += 1
    assert checked >= 5 and crossed >= 1


def test_latency_thresholds_are_above_the_normal_p95(alert_db: sa.Engine) -> None:
    """In SQL, as a user would check it: a service's slowness threshold against its p95 outside its issues."""
    with alert_db.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT (a.thresholds->'warning'->>'value')::float8 warning, max(p.value) p95, count(*) n"
            " FROM alert_config a JOIN alert_scope_service s ON s.alert_config_id = a.id"
            " JOIN metric_series m ON m.service_id = s.service_id AND m.metric_id = 'latency'"
            " AND m.aggregation = 'P95' JOIN metric_point p USING (series_id)"
            " WHERE a.rule->>'alertType' = 'slowness' AND a.family = 'APPLICATION' AND NOT EXISTS ("
            "  SELECT 1 FROM event e WHERE e.entity_type = 'SERVICE' AND e.service_id = s.service_id"
            "  AND p.ts_ms >= e.start_ms AND p.ts_ms < coalesce(e.end_ms, m.to_ms))"
            " GROUP BY a.id")).all()
    assert rows and all(warning > p95 and n > 0 for warning, p95, n in rows)


def test_configs_were_created_before_the_window(alert_db: sa.Engine) -> None:
    with alert_db.connect() as conn:
        first, last = conn.execute(sa.text("SELECT min(initial_created_ms), max(created_ms) FROM alert_config")).one()
    assert first > 0 and last < START_MS


def test_global_configs_cover_real_applications(export_dir: Path) -> None:
    applications = {a["id"] for a in _records(export_dir, "applications.jsonl")}
    records = _records(export_dir, "global_alert_configs.jsonl")
    assert any(r["builtIn"] for r in records) and not all(r["builtIn"] for r in records)
    for record in records:
        assert record["applicationIds"] and set(record["applicationIds"]) <= applications
        assert all(node["inclusive"] and not node["services"] for node in record["applications"].values())


# -- integrity in the database ------------------------------------------------------------------------------------


def _one(conn: sa.Connection, sql: str) -> dict[str, Any]:
    row = conn.execute(sa.text(sql)).mappings().first()
    assert row is not None, sql
    return dict(row)


def _service_outside_application(conn: sa.Connection) -> None:
    x = _one(conn, "SELECT s.* FROM alert_scope_service s ORDER BY 1, 2, 3")
    other = _one(conn, "SELECT id FROM service WHERE id NOT IN (SELECT service_id FROM application_service"
                       f" WHERE application_id = '{x['application_id']}') ORDER BY id")
    conn.execute(sa.text("INSERT INTO alert_scope_service VALUES (:c, :a, :s, true)"),
                 {"c": x["alert_config_id"], "a": x["application_id"], "s": other["id"]})


def _endpoint_outside_service(conn: sa.Connection) -> None:
    x = _one(conn, "SELECT s.* FROM alert_scope_service s ORDER BY 1, 2, 3")
    other = _one(conn, f"SELECT id FROM endpoint WHERE service_id <> '{x['service_id']}' ORDER BY id")
    conn.execute(sa.text("INSERT INTO alert_scope_endpoint VALUES (:c, :a, :s, :e, true)"),
                 {"c": x["alert_config_id"], "a": x["application_id"], "s": x["service_id"], "e": other["id"]})


def _application_config_scoping_another_application(conn: sa.Connection) -> None:
    c = _one(conn, "SELECT id, application_id FROM alert_config WHERE family = 'APPLICATION' ORDER BY id")
    other = _one(conn, f"SELECT id FROM application WHERE id <> '{c['application_id']}' ORDER BY id")
    conn.execute(sa.text("INSERT INTO alert_scope_application VALUES (:c, :a, 'APPLICATION', :a, true)"),
                 {"c": c["id"], "a": other["id"]})


def _scope_on_an_infrastructure_config(conn: sa.Connection) -> None:
    c = _one(conn, "SELECT id FROM alert_config WHERE family = 'INFRA' ORDER BY id")
    app = _one(conn, "SELECT id FROM application ORDER BY id")
    conn.execute(sa.text("INSERT INTO alert_scope_application VALUES (:c, :a, 'GLOBAL_APPLICATION', NULL, true)"),
                 {"c": c["id"], "a": app["id"]})


def _link_to_a_missing_channel(conn: sa.Connection) -> None:
    c = _one(conn, "SELECT id FROM alert_config ORDER BY id")
    conn.execute(sa.text("INSERT INTO alert_config_channel VALUES (:c, 'no-such-channel')"), {"c": c["id"]})


def _slack_channel_without_webhook(conn: sa.Connection) -> None:
    conn.execute(sa.text("INSERT INTO alerting_channel VALUES ('x1', 'SLACK', 'broken', '{\"channel\": \"#x\"}')"))


def _email_channel_without_addresses(conn: sa.Connection) -> None:
    conn.execute(sa.text("INSERT INTO alerting_channel VALUES ('x2', 'EMAIL', 'broken', '{\"emails\": []}')"))


def _critical_config_without_critical_threshold(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE alert_config SET severity = 10, thresholds = thresholds - 'critical'"
                         " WHERE id = (SELECT min(id) FROM alert_config)"))


def _severity_seven(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE alert_config SET severity = 7 WHERE id = (SELECT min(id) FROM alert_config)"))


def _revision_before_the_first(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE alert_config SET created_ms = initial_created_ms - 1"
                         " WHERE id = (SELECT min(id) FROM alert_config)"))


def _application_config_without_application(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE alert_config SET application_id = NULL"
                         " WHERE id = (SELECT min(id) FROM alert_config WHERE family = 'APPLICATION')"))


def _infra_rule_on_an_application_config(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE alert_config SET rule = jsonb_set(rule, '{alertType}', '\"genericRule\"')"
                         " WHERE id = (SELECT min(id) FROM alert_config WHERE family = 'APPLICATION')"))


VIOLATIONS = [_service_outside_application, _endpoint_outside_service, _application_config_scoping_another_application,
              _scope_on_an_infrastructure_config, _link_to_a_missing_channel, _slack_channel_without_webhook,
              _email_channel_without_addresses, _critical_config_without_critical_threshold, _severity_seven,
              _revision_before_the_first, _application_config_without_application,
              _infra_rule_on_an_application_config]


@pytest.mark.parametrize("violate", VIOLATIONS, ids=[v.__name__.lstrip("_") for v in VIOLATIONS])
def test_the_database_rejects_broken_relationships(alert_db: sa.Engine, violate: Any) -> None:
    with alert_db.connect() as conn:
        trans = conn.begin()
        try:
            with pytest.raises(sa.exc.IntegrityError):
                violate(conn)
        finally:
            trans.rollback()


# -- validation ---------------------------------------------------------------------------------------------------


def test_validate_accepts_the_export(export_dir: Path) -> None:
    result = run_cli(CliRunner(), "validate", export_dir)
    assert result.exit_code == 0, result.output


def _index(export_dir: Path) -> Index:
    """What `apmseed validate` builds: ids per dataset and the attributes rule modules keep."""
    index = Index()
    for dataset in DATASETS.values():
        path = export_dir / dataset.file
        if path.is_file():
            for record in _records(export_dir, dataset.file):
                index.add(dataset.name, record[dataset.id_key], record, keep_for(dataset.name))
    return index


ALERT_DATASETS = ("alert_configs", "global_alert_configs", "infra_alert_configs")


def test_cross_file_rules_pass_the_export(export_dir: Path) -> None:
    index = _index(export_dir)
    index.window = (START_MS, END_MS)  # type: ignore[attr-defined]
    for dataset in ALERT_DATASETS:
        for number, record in enumerate(_records(export_dir, DATASETS[dataset].file), 1):
            assert rules.check(dataset, number, record, index) == [], f"{dataset}:{number}"


def _first(export_dir: Path, dataset: str, evaluation_type: str | None = None) -> dict[str, Any]:
    return next(r for r in _records(export_dir, DATASETS[dataset].file)
                if evaluation_type is None or r.get("evaluationType") == evaluation_type)


def test_cross_file_rules_report_crafted_violations(export_dir: Path) -> None:
    index = _index(export_dir)
    index.window = (START_MS, END_MS)  # type: ignore[attr-defined]
    services = _records(export_dir, "services.jsonl")
    endpoints = _records(export_dir, "endpoints.jsonl")

    def problems(dataset: str, record: dict[str, Any]) -> str:
        return " | ".join(rules.check(dataset, 1, record, index))

    r = _first(export_dir, "alert_configs", "PER_AP_SERVICE")
    app = r["applicationId"]
    (node,) = r["applications"][app]["services"].values()
    stranger = next(s["id"] for s in services if app not in s["applicationIds"])
    r["applications"][app]["services"] = {stranger: {**node, "serviceId": stranger}}
    assert "is not in application" in problems("alert_configs", r)

    r = _first(export_dir, "alert_configs", "PER_AP_ENDPOINT")
    app = r["applicationId"]
    ((service_id, node),) = r["applications"][app]["services"].items()
    foreign = next(e["id"] for e in endpoints if e["serviceId"] != service_id)
    node["endpoints"] = {foreign: {"endpointId": foreign, "inclusive": True}}
    assert "is not an endpoint of service" in problems("alert_configs", r)

    r = _first(export_dir, "alert_configs", "PER_AP")
    r["applications"]["AAAAAAAAAAAAAAAAAAAAAA"] = {"applicationId": "AAAAAAAAAAAAAAAAAAAAAA", "services": {}}
    found = problems("alert_configs", r)
    assert "is not just its own application" in found and "does not exist in applications" in found

    r = _first(export_dir, "infra_alert_configs")
    r["alertChannelIds"] = [*r["alertChannelIds"], "no-such-channel"]
    r["threshold"] = {**r["threshold"], "value": 123}
    r["created"] = START_MS + 1
    found = problems("infra_alert_configs", r)
    assert "'no-such-channel' does not exist" in found and "threshold is not rules[0]" in found
    assert "not before the data window" in found

    r = next(x for x in _records(export_dir, "infra_alert_configs.jsonl") if "snapshotId" in x)
    r["rule"]["entityType"] = r["rules"][0]["rule"]["entityType"] = "kubernetesPod"
    r["tagFilterExpression"] = None
    found = problems("infra_alert_configs", r)
    assert "is not the snapshot's plugin" in found and "does not select" in found

    r = _first(export_dir, "global_alert_configs")
    r["applicationIds"] = r["applicationIds"][:-1] if len(r["applicationIds"]) > 1 else []
    assert "applicationIds are not the applications of the scope" in problems("global_alert_configs", r)


def test_schemas_reject_what_instana_would_not_send(export_dir: Path, tmp_path: Path) -> None:
    record = _first(export_dir, "alert_configs")
    assert schema_problem("alert_configs", record) is None
    bad = json.loads(json.dumps(record))
    bad["severity"] = 10
    bad["rules"][0]["thresholds"].pop("critical", None)
    assert "critical" in (schema_problem("alert_configs", bad) or "")
    channel = _first(export_dir, "alerting_channels")
    assert "emails" in (schema_problem("alerting_channels", {"id": "x", "kind": "EMAIL", "name": "n"}) or "")
    assert schema_problem("alerting_channels", channel) is None

    broken = tmp_path / "broken"
    shutil.copytree(export_dir, broken)
    lines = (broken / "infra_alert_configs.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["timeThreshold"] = {"type": "violationsInPeriod", "timeWindow": 60000, "violations": 2}
    lines[0] = json.dumps(first)
    (broken / "infra_alert_configs.jsonl").write_text("\n".join(lines) + "\n")
    assert any(str(v).startswith("infra_alert_configs.jsonl:1: schema:") for v in validate_export(broken))


def test_config_schemas_share_their_definitions() -> None:
    """Each schema file stands alone, so shared definitions are written three times: they must not drift."""
    schemas = [load_schema(d)["$defs"] for d in ALERT_DATASETS]
    for name in set(schemas[0]) & set(schemas[1]) & set(schemas[2]):
        assert schemas[0][name] == schemas[1][name] == schemas[2][name], name
    assert schemas[0] == schemas[1]


def test_thresholds_scale_with_the_resolution(engine: sa.Engine) -> None:
    """With 5-minute points the configs evaluate 5-minute windows, and the layer still fills every table."""
    _seed(engine, minutes=60, resolution=5, series=20, issues=3)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT DISTINCT granularity_ms FROM alert_config")).scalars().all() == [300_000]
        windows = conn.execute(sa.text("SELECT DISTINCT (time_threshold->>'timeWindow')::int % 300000"
                                       " FROM alert_config")).scalars().all()
    assert windows == [0]
