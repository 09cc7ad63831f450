"""Factories produce rows the SQL constraints accept; the database itself rejects dangling references and
out-of-range values."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from apmseed import profiles
from apmseed.scenarios.world import build_world
from tests.conftest import END_MS, seed_db


def test_seeded_counts_match_profile(seeded: sa.Engine) -> None:
    p = profiles.PROFILES["tiny"]
    with seeded.connect() as conn:
        count = lambda t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: E731
        assert count("snapshot") == p.entities
        assert count("application") == p.apps
        assert count("service") == p.services
        assert count("endpoint") == p.endpoints
        assert count("metric_series") == p.series
        assert count("event") == p.issues
        assert count("metric_point") == p.series * p.points_per_series
        # every service belongs to an application and runs somewhere
        assert conn.execute(sa.text(
            "SELECT count(*) FROM service s WHERE NOT EXISTS (SELECT 1 FROM application_service x"
            " WHERE x.service_id = s.id)")).scalar() == 0
        plugins = dict(conn.execute(sa.text("SELECT plugin, count(*) FROM snapshot GROUP BY 1")).all())
        assert set(plugins) == {"host", "docker", "process"}


def test_every_factory_row_is_accepted_by_the_database(engine: sa.Engine) -> None:
    """Seeding the small profile loads every table through COPY with all constraints in force."""
    result = seed_db(engine, "small", seed=3)
    assert result.counts["metric_point"] == 120 * 120
    assert result.counts["event"] == 30


BAD_ROWS = {
    "dangling endpoint service":
        "INSERT INTO endpoint (id, service_id, label, type, technologies, synthetic_type)"
        " VALUES ('e-x', 'no-such-service', 'GET /x', 'HTTP', '{}', 'NON_SYNTHETIC')",
    "endpoint type outside the Instana enum":
        "INSERT INTO endpoint (id, service_id, label, type, technologies, synthetic_type)"
        " SELECT 'e-y', id, 'GET /y', 'FTP', '{}', 'NON_SYNTHETIC' FROM service LIMIT 1",
    "severity 7":
        "UPDATE event SET severity = 7 WHERE event_id = (SELECT min(event_id) FROM event)",
    "end before start":
        "UPDATE event SET end_ms = start_ms - 1, state = 'closed'"
        " WHERE event_id = (SELECT min(event_id) FROM event)",
    "closed issue without end":
        "UPDATE event SET end_ms = NULL, state = 'closed' WHERE event_id = (SELECT min(event_id) FROM event)",
    "negative metric value":
        "UPDATE metric_point SET value = -1 WHERE series_id = 1 AND ts_ms = (SELECT min(ts_ms) FROM metric_point)",
    "point of a missing series":
        "INSERT INTO metric_point VALUES (999999, 0, 1.0)",
    "process without parent":
        "UPDATE snapshot SET parent_snapshot_id = NULL WHERE plugin = 'process'",
    "service event naming an application that does not contain the service":
        "INSERT INTO event (event_id, type, entity_type, state, severity, start_ms, problem, detail,"
        " fix_suggestion, entity_name, entity_label, application_id, service_id)"
        " SELECT 'ev-x', 'issue', 'SERVICE', 'open', 5, 1, 'p', 'd', 'f', 'Service', 's', a.id, s.id"
        " FROM application a, service s WHERE NOT EXISTS (SELECT 1 FROM application_service x"
        " WHERE x.application_id = a.id AND x.service_id = s.id) LIMIT 1",
    "series with two entities":
        "UPDATE metric_series SET snapshot_id = (SELECT min(snapshot_id) FROM snapshot)"
        " WHERE entity_kind = 'SERVICE'",
    "business criticality 9": "UPDATE application SET business_criticality = 9",
    # dataset 1.1.0
    "service map edge to a missing service":
        "INSERT INTO service_connection SELECT id, 'missing', 1, 0, 1.0, 0, 1 FROM service LIMIT 1",
    "service calling itself":
        "INSERT INTO service_connection SELECT id, id, 1, 0, 1.0, 0, 1 FROM service LIMIT 1",
    "more erroneous calls than calls":
        "UPDATE service_connection SET erroneous_calls = calls + 1",
    "topology relation outside Instana's enum":
        "UPDATE snapshot_relation SET relation = 'hosts'",
    "topology edge to a missing snapshot":
        "UPDATE snapshot_relation SET destination_snapshot_id = 'missing'",
}


@pytest.mark.parametrize("statement", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_database_rejects_bad_rows(seeded: sa.Engine, statement: str) -> None:
    with pytest.raises(IntegrityError), seeded.begin() as conn:
        result = conn.execute(sa.text(statement))
        assert result.rowcount != 0, "the crafted statement must touch a row to be meaningful"


def test_world_metrics_are_plausible() -> None:
    world = build_world(profiles.resolve("small", {}), 11, END_MS)
    for bundle in world.bundles:
        values = world.bundle_values(bundle)
        if ("calls", "SUM") in values:
            assert (values[("erroneousCalls", "SUM")] <= values[("calls", "SUM")]).all()
            assert (values[("latency", "P50")] <= values[("latency", "P95")]).all()
            assert (values[("latency", "P95")] <= values[("latency", "P99")]).all()
            assert (values[("latency", "P50")] > 0).all()
        else:
            for key in (("cpu.used", "MEAN"), ("memory.used", "MEAN")):
                assert ((values[key] >= 0) & (values[key] <= 1)).all()


def test_issue_entities_show_an_excursion_in_the_issue_window() -> None:
    world = build_world(profiles.resolve("small", {}), 5, END_MS)
    checked = 0
    for bundle in world.bundles:
        values = world.bundle_values(bundle)
        for inc in bundle.incidents:
            inside = slice(inc.start + max(1, (inc.end - inc.start) // 4), inc.end)  # after the ramp-up
            if inside.start >= inside.stop:
                continue
            outside = [i for i in range(len(world.timestamps()))
                       if not any(o.start <= i < o.end for o in bundle.incidents)]
            if inc.kind == "latency" and ("latency", "P50") in values:
                series = values[("latency", "P50")]
                assert series[inside].mean() > 1.5 * series[outside].mean()
            elif inc.kind == "errors":
                calls, errs = values[("calls", "SUM")], values[("erroneousCalls", "SUM")]
                assert errs[inside].sum() / max(1, calls[inside].sum()) > 3 * (
                    errs[outside].sum() / max(1, calls[outside].sum()))
            elif inc.kind == "cpu":
                series = values[("cpu.used", "MEAN")]
                assert series[inside].mean() > series[outside].mean() + 0.2
            elif inc.kind == "memory":
                series = values[("memory.used", "MEAN")]
                assert series[inc.end - 1] > series[outside].mean()
            checked += 1
    assert checked >= 20


def test_seeding_is_one_transaction(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure in the last step leaves the database exactly as it was: no tables, no rows."""
    from apmseed import seeding

    def boom(conn: sa.Connection) -> None:
        raise RuntimeError("simulated crash after the bulk load")

    monkeypatch.setattr(seeding, "check_integrity", boom)
    with pytest.raises(RuntimeError):
        seed_db(engine)
    assert sa.inspect(engine).get_table_names() == []
