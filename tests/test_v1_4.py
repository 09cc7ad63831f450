"""Dataset 1.4.0 (access and settings): every record is accepted by its Instana model, every new relationship is
enforced by the database or reported by `apmseed validate`, and the data keeps the promises of its layer (logs
decide last logins, last uses and last modifications; tokens and actors stay within their permissions)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import instana_client.models as models
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from instana_client.models.audit_log_entry import AuditLogEntry

from apmseed import versioning
from apmseed.exporters import readers_v1_4_0
from apmseed.schema.access import PERMISSION_FLAGS, PERMISSIONS
from tests.conftest import END_MS, run_cli, seed_db, seeded_database
from tests.conftest import drop_none as _drop_none
from tests.conftest import jsonl_records as _records
from tests.conftest import rows as _rows
from tests.conftest import url_of as _url

FILE_MODELS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "user_roles.jsonl": lambda r: models.UserResult,
    "roles.jsonl": lambda r: models.ApiRole,
    "groups.jsonl": lambda r: models.ApiGroup,
    "teams.jsonl": lambda r: models.ApiTeam,
    "api_tokens.jsonl": lambda r: models.ApiToken,
    "host_agent_status.jsonl": lambda r: models.SnapshotItem,
    "event_specifications.jsonl": lambda r: (models.BuiltInEventSpecificationWithLastUpdated
                                             if r["type"] == "BUILT_IN"
                                             else models.CustomEventSpecificationWithLastUpdated),
    "app_settings.jsonl": lambda r: models.ApplicationConfig,
    "service_configs.jsonl": lambda r: models.ServiceConfig,
    "endpoint_configs.jsonl": lambda r: models.EndpointConfig,
    "custom_dashboards.jsonl": lambda r: models.CustomDashboardPreview,
    "audit_logs.jsonl": lambda r: AuditLogEntry,
    "access_logs.jsonl": lambda r: AuditLogEntry,
}


@pytest.fixture(scope="module")
def db14(server_url: str) -> Iterator[sa.Engine]:
    """One database seeded (tiny profile) up to the latest version, shared by the module: tests only read it or
    roll back what they try."""
    with seeded_database(server_url, "t14") as engine:
        yield engine


@pytest.fixture(scope="module")
def out14(db14: sa.Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export14") / "out"
    result = run_cli(CliRunner(), "export", "jsonl", out, "--database-url", _url(db14), "-q")
    assert result.exit_code == 0, result.output
    return out


# -- fidelity ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_name", FILE_MODELS)
def test_every_record_is_accepted_by_the_official_model(out14: Path, file_name: str) -> None:
    records = _records(out14, file_name)
    assert records, f"{file_name} is empty"
    for number, record in enumerate(records, 1):
        model = FILE_MODELS[file_name](record)
        parsed = model.from_dict(record)  # raises ValidationError on a wrong type, enum or missing key
        assert parsed is not None
        aliases = {f.alias or name for name, f in type(parsed).model_fields.items()}
        expected = _drop_none({k: v for k, v in record.items() if k in aliases})
        round_trip = _drop_none(parsed.to_dict())
        assert {k: round_trip.get(k) for k in expected} == expected, f"{file_name}:{number}"


def test_event_specifications_of_both_kinds(out14: Path) -> None:
    kinds = {r["type"] for r in _records(out14, "event_specifications.jsonl")}
    assert kinds == {"BUILT_IN", "CUSTOM"}
    for r in _records(out14, "event_specifications.jsonl"):
        if r["type"] == "CUSTOM":
            spec = models.CustomEventSpecificationWithLastUpdated.from_dict(r)
            assert all(type(rule).__name__.endswith("Rule") for rule in spec.rules)


def test_export_validates_cleanly(out14: Path) -> None:
    result = run_cli(CliRunner(), "validate", out14)
    assert result.exit_code == 0, result.output


def test_tiny_profile_stays_small(db14: sa.Engine) -> None:
    counts = {t: _rows(db14, f"SELECT count(*) n FROM {t}")[0]["n"]
              for t in ("user_account", "audit_log_entry", "access_log_entry", "api_token")}
    assert 4 <= counts["user_account"] <= 10
    assert 10 <= counts["audit_log_entry"] <= 100
    assert 1 <= counts["access_log_entry"] <= 100
    assert counts["api_token"] >= 2


# -- the database enforces every new relationship -------------------------------------------------------------

ONE = "(SELECT {col} FROM {table} ORDER BY 1 LIMIT 1)"
USER, APP, EVENT = ONE.format(col="id", table="user_account"), ONE.format(col="id", table="application"), \
    ONE.format(col="event_id", table="event")
TOKEN, SPEC = ONE.format(col="internal_id", table="api_token"), ONE.format(col="id", table="event_specification")
DASHBOARD = ONE.format(col="id", table="custom_dashboard")
VIOLATIONS = {
    "role member is no user": "INSERT INTO role_member VALUES ((SELECT id FROM role LIMIT 1), 'nobody')",
    "group scope is no application": "INSERT INTO user_group_application VALUES ((SELECT id FROM user_group LIMIT 1),"
                                     " 'no-such-application')",
    "team role of a non-member": "INSERT INTO team_member_role SELECT t.id, u.id, (SELECT id FROM role LIMIT 1), false"
                                 " FROM team t, user_account u WHERE NOT EXISTS (SELECT 1 FROM team_member m"
                                 " WHERE m.team_id = t.id AND m.user_id = u.id) LIMIT 1",
    "token made by nobody": "INSERT INTO api_token VALUES ('i1', 'x1', 'n', 's1', 'nobody', 1, NULL, NULL, '{}')",
    "token expiring before creation": f"INSERT INTO api_token VALUES ('i1', 'x1', 'n', 's1', {USER}, 10, 5, NULL,"
                                      " '{}')",
    "token used after expiry": f"INSERT INTO api_token VALUES ('i1', 'x1', 'n', 's1', {USER}, 1, 5, 9, '{{}}')",
    "token with an unknown permission": f"INSERT INTO api_token VALUES ('i1', 'x1', 'n', 's1', {USER}, 1, NULL, NULL,"
                                        " '{CAN_DO_ANYTHING}')",
    "audit actor of the wrong type": f"INSERT INTO audit_log_entry (id, timestamp_ms, action, message, actor_type,"
                                     f" actor_user_id, actor_token_id, custom_dashboard_id, meta) VALUES ('a1', 1,"
                                     f" 'CUSTOM_DASHBOARD_UPDATED', 'm', 'USER', {USER}, {TOKEN}, {DASHBOARD}, '{{}}')",
    "audit target not the action's": f"INSERT INTO audit_log_entry (id, timestamp_ms, action, message, actor_type,"
                                     f" actor_user_id, custom_dashboard_id, meta) VALUES ('a1', 1,"
                                     f" 'APPLICATION_CONFIG_UPDATED', 'm', 'USER', {USER}, {DASHBOARD}, '{{}}')",
    "audit actor is no user": "INSERT INTO audit_log_entry (id, timestamp_ms, action, message, actor_type,"
                              f" actor_user_id, custom_dashboard_id, meta) VALUES ('a1', 1,"
                              f" 'CUSTOM_DASHBOARD_UPDATED', 'm', 'USER', 'nobody', {DASHBOARD}, '{{}}')",
    "access by an unknown token": "INSERT INTO access_log_entry VALUES ('a1', 1, 'API_TOKEN_USED', 'm', 'API_TOKEN',"
                                  " NULL, 'no-token', '{}')",
    "token use by a user": f"INSERT INTO access_log_entry VALUES ('a1', 1, 'API_TOKEN_USED', 'm', 'USER', {USER},"
                           " NULL, '{}')",
    "specification of an unknown event": f"INSERT INTO event_specification_event VALUES ('no-event', {SPEC})",
    "event of an unknown specification": "UPDATE event_specification_event SET event_specification_id = 'no-spec'",
    "second specification for an event": f"INSERT INTO event_specification_event VALUES ({EVENT}, {SPEC})",
    "custom specification without rules": "INSERT INTO event_specification VALUES ('c1', 'CUSTOM', 'n', 'host', NULL,"
                                          " 'd', 5, true, false, '[]', '[]', '[]', 'AND', 1)",
    "second agent on a host": "INSERT INTO host_agent SELECT snapshot_id, 'other', 'other', version, mode, status,"
                              " auto_update, from_ms, to_ms, last_seen_ms, cpu_usage_percent, memory_usage_mb, plugins"
                              " FROM host_agent LIMIT 1",
    "agent on an unknown snapshot": "INSERT INTO host_agent SELECT 'no-host', 'other', 'other', version, mode, status,"
                                    " auto_update, from_ms, to_ms, last_seen_ms, cpu_usage_percent, memory_usage_mb,"
                                    " plugins FROM host_agent LIMIT 1",
    "access rule naming the wrong kind": "INSERT INTO application_access_rule VALUES ((SELECT application_id FROM"
                                         " application_config LIMIT 1), 63, 'READ', 'USER', NULL, NULL,"
                                         " (SELECT id FROM role LIMIT 1), NULL)",
    "access rule for an unknown team": "INSERT INTO application_access_rule VALUES ((SELECT application_id FROM"
                                       " application_config LIMIT 1), 63, 'READ', 'TEAM', NULL, NULL, NULL, 'no-team')",
    "config of an unknown application": f"INSERT INTO application_config VALUES ('no-app', 'INCLUDE_NO_DOWNSTREAM',"
                                        f" '{{}}', 1, {USER}, 1, {USER})",
    "writable dashboard that is not shared": f"INSERT INTO custom_dashboard VALUES ('d1', 't', {USER}, {APP}, false,"
                                             " true, 1)",
    "dashboard owned by nobody": "INSERT INTO custom_dashboard VALUES ('d1', 't', 'nobody', NULL, false, false, 1)",
    "endpoint config of an unknown service": "INSERT INTO endpoint_config VALUES ('no-service', 'ORIGINAL', true,"
                                             " false, '[]')",
    "second service rule for a service": "INSERT INTO service_config SELECT 'other', service_id, 'other name', enabled,"
                                         " comment, match_specification FROM service_config LIMIT 1",
}


# the constraint each violation must trip (not some other one by accident)
CONSTRAINTS = {
    "role member is no user": "fk_role_member_user_id_user_account",
    "group scope is no application": "fk_user_group_application_application_id_application",
    "team role of a non-member": "fk_team_member_role_team_id_team_member",
    "token made by nobody": "fk_api_token_created_by_user_account",
    "token expiring before creation": "ck_api_token_expires_after_created",
    "token used after expiry": "ck_api_token_used_while_valid",
    "token with an unknown permission": "ck_api_token_permissions_enum",
    "audit actor of the wrong type": "ck_audit_log_entry_actor_matches_type",
    "audit target not the action's": "ck_audit_log_entry_target_matches_action",
    "audit actor is no user": "fk_audit_log_entry_actor_user_id_user_account",
    "access by an unknown token": "fk_access_log_entry_actor_token_id_api_token",
    "token use by a user": "ck_access_log_entry_token_use_by_token",
    "specification of an unknown event": "fk_event_specification_event_event_id_event",
    "event of an unknown specification": "fk_event_specification_event_specification",
    "second specification for an event": "pk_event_specification_event",
    "custom specification without rules": "ck_event_specification_fields_by_kind",
    "second agent on a host": "pk_host_agent",
    "agent on an unknown snapshot": "fk_host_agent_snapshot_id_snapshot",
    "access rule naming the wrong kind": "ck_application_access_rule_related_matches_type",
    "access rule for an unknown team": "fk_application_access_rule_team_id_team",
    "config of an unknown application": "fk_application_config_application_id_application",
    "writable dashboard that is not shared": "ck_custom_dashboard_writable_only_if_shared",
    "dashboard owned by nobody": "fk_custom_dashboard_owner_id_user_account",
    "endpoint config of an unknown service": "fk_endpoint_config_service_id_service",
    "second service rule for a service": "uq_service_config_service_id",
}


@pytest.mark.parametrize("case", VIOLATIONS, ids=VIOLATIONS.keys())
def test_database_rejects_broken_relationships(db14: sa.Engine, case: str) -> None:
    with db14.connect() as conn:
        transaction = conn.begin()
        try:
            with pytest.raises(sa.exc.IntegrityError, match=CONSTRAINTS[case]):
                conn.execute(sa.text(VIOLATIONS[case]))
        finally:
            transaction.rollback()  # the shared database stays as seeded, whatever happened


def test_validate_reports_what_the_database_cannot_express(out14: Path, tmp_path: Path) -> None:
    """A host agent on a process, a token granting more than its creator, an application config whose tag filter
    forgets a service, a login after the user's lastLoggedIn: all reported."""
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in out14.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    process = next(r for r in _records(out14, "infrastructure_entities.jsonl") if r["plugin"] == "process")

    def edit(file: str, change: Callable[[dict[str, Any]], None], where: Callable[[dict[str, Any]], bool]) -> None:
        records = _records(broken, file)
        change(next(r for r in records if where(r)))
        (broken / file).write_text("".join(json.dumps(r) + "\n" for r in records))

    edit("host_agent_status.jsonl", lambda r: r["data"]["host"].update(snapshotId=process["snapshotId"]),
         lambda r: True)
    edit("api_tokens.jsonl", lambda r: r.update(canConfigureUsers=True), lambda r: not r["canConfigureUsers"])
    edit("app_settings.jsonl", lambda r: r["tagFilterExpression"]["elements"].pop(),
         lambda r: r["tagFilterExpression"]["elements"])
    login = next(r for r in _records(out14, "access_logs.jsonl") if r["action"] == "LOGIN_SUCCEEDED")
    edit("user_roles.jsonl", lambda r: r.update(lastLoggedIn=login["timestamp"] - 1),
         lambda r: r["id"] == login["actor"]["id"])
    result = run_cli(CliRunner(), "validate", broken)
    assert result.exit_code != 0
    for needle in ("the agent runs on a process snapshot, not a host", "which its creator's roles do not",
                   "the tag filter names services", "is after the user's lastLoggedIn"):
        assert needle in result.output, needle


# -- consistency ----------------------------------------------------------------------------------------------


def test_every_issue_is_linked_to_the_built_in_specification_of_its_problem(db14: sa.Engine) -> None:
    rows = _rows(db14, "SELECT e.event_id, e.problem, e.entity_type, s.plugin, sp.kind, sp.name, sp.short_plugin_id"
                       " FROM event e LEFT JOIN snapshot s USING (snapshot_id)"
                       " LEFT JOIN event_specification_event l USING (event_id)"
                       " LEFT JOIN event_specification sp ON sp.id = l.event_specification_id"
                       " WHERE e.type = 'issue'")
    assert rows
    plugins = {"APPLICATION": "application", "SERVICE": "service", "ENDPOINT": "endpoint"}
    for r in rows:
        assert r["kind"] == "BUILT_IN" and r["name"] == r["problem"], r["event_id"]
        assert r["short_plugin_id"] == (r["plugin"] or plugins[r["entity_type"]]), r["event_id"]
    links = {r["event_id"]: r["event_specification_id"]
             for r in _rows(db14, "SELECT * FROM event_specification_event")}
    with db14.connect() as conn:
        assert readers_v1_4_0.event_specification_ids(conn) == links
    assert set(links) == {r["event_id"] for r in rows}


def test_logs_decide_last_login_and_last_use(db14: sa.Engine) -> None:
    for r in _rows(db14, "SELECT u.last_logged_in_ms, max(a.timestamp_ms) latest FROM user_account u"
                         " JOIN access_log_entry a ON a.actor_user_id = u.id AND a.action = 'LOGIN_SUCCEEDED'"
                         " GROUP BY u.id"):
        assert r["last_logged_in_ms"] == r["latest"]
    start = END_MS - 60 * 60_000
    for r in _rows(db14, "SELECT u.last_logged_in_ms FROM user_account u WHERE NOT EXISTS (SELECT 1 FROM"
                         " access_log_entry a WHERE a.actor_user_id = u.id AND a.action = 'LOGIN_SUCCEEDED')"):
        assert r["last_logged_in_ms"] is None or r["last_logged_in_ms"] < start
    for r in _rows(db14, "SELECT t.last_used_on_ms, max(a.timestamp_ms) latest, min(a.timestamp_ms) first,"
                         " t.created_on_ms, t.expires_on_ms FROM api_token t"
                         " JOIN access_log_entry a ON a.actor_token_id = t.internal_id GROUP BY t.internal_id"):
        assert r["last_used_on_ms"] == r["latest"]
        assert r["first"] >= r["created_on_ms"] and (r["expires_on_ms"] is None or r["latest"] <= r["expires_on_ms"])


def _user_permissions(engine: sa.Engine) -> dict[str, set[str]]:
    perms: dict[str, set[str]] = {}
    for r in _rows(engine, "SELECT m.user_id, r.permissions FROM role_member m JOIN role r ON r.id = m.role_id"):
        perms.setdefault(r["user_id"], set()).update(r["permissions"])
    return perms


def test_tokens_grant_no_more_than_their_creator(db14: sa.Engine, out14: Path) -> None:
    perms = _user_permissions(db14)
    for r in _rows(db14, "SELECT created_by, permissions FROM api_token"):
        assert {p for p in r["permissions"] if p in PERMISSIONS} <= perms[r["created_by"]]
    for token in _records(out14, "api_tokens.jsonl"):  # the wire flags say the same
        granted = {p for p, flag in PERMISSION_FLAGS.items() if token[flag]}
        assert granted <= perms[token["createdBy"]]


def test_audit_actors_hold_what_their_action_needs(db14: sa.Engine) -> None:
    perms = _user_permissions(db14)
    needs = {"APPLICATION_CONFIG_UPDATED": "CAN_CONFIGURE_APPLICATIONS",
             "EVENT_SPECIFICATION_UPDATED": "CAN_CONFIGURE_EVENTS_AND_ALERTS",
             "SERVICE_CONFIG_UPDATED": "CAN_CONFIGURE_SERVICE_MAPPING",
             "ENDPOINT_CONFIG_UPDATED": "CAN_CONFIGURE_SERVICE_MAPPING"}
    tokens = {r["internal_id"]: set(r["permissions"]) for r in _rows(db14, "SELECT * FROM api_token")}
    writers = {(r["application_id"], r["user_id"]) for r in _rows(
        db14, "SELECT x.application_id, u.id user_id FROM application_access_rule x, user_account u"
              " WHERE x.access_type = 'READ_WRITE' AND (x.relation_type = 'GLOBAL' OR x.user_id = u.id"
              " OR x.role_id IN (SELECT role_id FROM role_member WHERE user_id = u.id)"
              " OR x.team_id IN (SELECT team_id FROM team_member WHERE user_id = u.id))")}
    entries = _rows(db14, "SELECT * FROM audit_log_entry")
    assert {e["action"] for e in entries} >= {"APPLICATION_CONFIG_UPDATED", "CUSTOM_DASHBOARD_UPDATED"}
    for e in entries:
        held = tokens[e["actor_token_id"]] if e["actor_token_id"] else perms[e["actor_user_id"]]
        if e["action"] in needs:
            assert needs[e["action"]] in held, e["id"]
        if e["action"] == "APPLICATION_CONFIG_UPDATED":
            assert (e["application_id"], e["actor_user_id"]) in writers, e["id"]
        if e["action"] == "API_TOKEN_CREATED":
            assert held & {"CAN_CONFIGURE_API_TOKENS", "CAN_CONFIGURE_PERSONAL_API_TOKENS"}
        assert END_MS - 60 * 60_000 <= e["timestamp_ms"] < END_MS


def test_latest_changes_are_the_audited_ones(db14: sa.Engine) -> None:
    for r in _rows(db14, "SELECT c.modified_ms, c.modified_by, a.timestamp_ms, a.actor_user_id"
                         " FROM application_config c JOIN LATERAL (SELECT * FROM audit_log_entry a"
                         " WHERE a.application_id = c.application_id"
                         " ORDER BY a.timestamp_ms DESC, a.id DESC LIMIT 1) a ON true"):
        assert (r["modified_ms"], r["modified_by"]) == (r["timestamp_ms"], r["actor_user_id"])
    for r in _rows(db14, "SELECT s.last_updated_ms, max(a.timestamp_ms) latest FROM event_specification s"
                         " JOIN audit_log_entry a ON a.event_specification_id = s.id GROUP BY s.id"):
        assert r["last_updated_ms"] == r["latest"]


def test_settings_follow_the_topology(db14: sa.Engine, out14: Path) -> None:
    services_of: dict[str, set[str]] = {}
    for r in _rows(db14, "SELECT a.application_id, s.label FROM application_service a"
                         " JOIN service s ON s.id = a.service_id"):
        services_of.setdefault(r["application_id"], set()).add(r["label"])
    configs = _records(out14, "app_settings.jsonl")
    assert len(configs) == len(_records(out14, "applications.jsonl"))
    for config in configs:
        assert {e["stringValue"] for e in config["tagFilterExpression"]["elements"]} == services_of[config["id"]]
    hosts = {r["snapshot_id"] for r in _rows(db14, "SELECT snapshot_id FROM snapshot WHERE plugin = 'host'")}
    agents = _rows(db14, "SELECT * FROM host_agent")
    assert {a["snapshot_id"] for a in agents} == hosts
    subtree = _rows(db14, "WITH RECURSIVE t AS (SELECT snapshot_id root, snapshot_id, plugin FROM snapshot"
                          " WHERE plugin = 'host' UNION ALL SELECT t.root, s.snapshot_id, s.plugin FROM snapshot s"
                          " JOIN t ON s.parent_snapshot_id = t.snapshot_id)"
                          " SELECT root, array_agg(DISTINCT plugin) plugins,"
                          " bool_or(EXISTS (SELECT 1 FROM service_snapshot ss WHERE ss.snapshot_id = t.snapshot_id))"
                          " traced FROM t GROUP BY root")
    by_host = {r["root"]: r for r in subtree}
    for agent in agents:
        assert set(by_host[agent["snapshot_id"]]["plugins"]) <= set(agent["plugins"])
        assert (agent["mode"] == "APM") == by_host[agent["snapshot_id"]]["traced"]
    for r in _rows(db14, "SELECT d.shared, d.owner_id FROM custom_dashboard d WHERE d.shared"):
        assert "CAN_CREATE_PUBLIC_CUSTOM_DASHBOARDS" in _user_permissions(db14)[r["owner_id"]]


def test_user_records_count_their_groups_teams_and_roles(out14: Path) -> None:
    groups, teams, roles = (_records(out14, f) for f in ("groups.jsonl", "teams.jsonl", "roles.jsonl"))
    for user in _records(out14, "user_roles.jsonl"):
        uid = user["id"]
        assert user["groupCount"] == sum(any(m["userId"] == uid for m in g["members"]) for g in groups)
        assert user["teamNames"] == sorted(t["tag"] for t in teams if any(m["userId"] == uid for m in t["members"]))
        assert user["roleIds"] == sorted(r["id"] for r in roles if any(m["userId"] == uid for m in r["members"]))


def test_time_window_limits_the_logs(db14: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "window"
    result = run_cli(CliRunner(), "export", "jsonl", out, "--from", "2025-11-20T14:30:00Z", "--to",
                     "2025-11-20T14:50Z", "--datasets", "audit_logs,access_logs", "--database-url", _url(db14), "-q")
    assert result.exit_code == 0, result.output
    lo, hi = END_MS - 30 * 60_000, END_MS - 10 * 60_000
    for file, table in (("audit_logs.jsonl", "audit_log_entry"), ("access_logs.jsonl", "access_log_entry")):
        records = _records(out, file)
        assert all(lo <= r["timestamp"] < hi for r in records)
        expected = _rows(db14, f"SELECT count(*) n FROM {table} WHERE timestamp_ms >= :a AND timestamp_ms < :b",
                         a=lo, b=hi)[0]["n"]
        assert len(records) == expected


def test_downgrade_to_1_3_removes_exactly_the_new_tables(engine: sa.Engine) -> None:
    seed_db(engine, dataset_version="1.4.0")
    mine = {d for ds in readers_v1_4_0.DATASETS for d in ds.tables}
    before = set(sa.inspect(engine).get_table_names())
    assert mine <= before
    with engine.begin() as conn:
        versioning.downgrade(conn, "1.3.0")
    assert set(sa.inspect(engine).get_table_names()) == before - mine


def test_issues_in_events_name_their_event_specification(db14: sa.Engine, out14: Path) -> None:
    """The link event -> specification is exported as Instana's `EventResult.eventSpecificationId`."""
    linked = {r["event_id"]: r["event_specification_id"] for r in _rows(
        db14, "SELECT event_id, event_specification_id FROM event_specification_event")}
    events = [json.loads(line) for line in (out14 / "events.jsonl").read_text().splitlines()]
    issues = [e for e in events if e["type"] == "issue"]
    assert issues and all(e["eventSpecificationId"] == linked[e["eventId"]] for e in issues)
    specs = {json.loads(line)["id"] for line in (out14 / "event_specifications.jsonl").read_text().splitlines()}
    assert {e["eventSpecificationId"] for e in issues} <= specs
