"""Application metrics are their services' added up: calls and erroneous calls are at least the sum of the
member services' (the rest is entry traffic of services without series), latency lies within the parts, and the
percentiles stay ordered; the chunked point stream equals the values computed bundle by bundle."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa

from apmseed import profiles
from apmseed.scenarios.world import World, build_world
from tests.conftest import END_MS, rows, seeded_database


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(profiles.resolve("small", {}), 7, END_MS)


@pytest.fixture(scope="module")
def seeded(server_url: str) -> Iterator[sa.Engine]:
    with seeded_database(server_url, "agg", profile="small", dataset_version="1.0.0") as engine:
        yield engine


def test_applications_with_services_add_them_up(world: World) -> None:
    with_members = [(app, members) for app, members in world.members.items() if members]
    assert with_members, "the small profile has applications whose services have series"
    for app, members in with_members:
        total = world.bundle_values(world.bundles[app])
        parts = [world.bundle_values(world.bundles[i]) for i in members]
        for metric in (("calls", "SUM"), ("erroneousCalls", "SUM")):
            assert (total[metric] >= np.sum([p[metric] for p in parts], axis=0)).all(), metric
        assert (total[("erroneousCalls", "SUM")] <= total[("calls", "SUM")]).all()
        # without an issue of its own, the application's latency is a calls-weighted mean: never above every part
        if not world.bundles[app].incidents:
            top = np.max([p[("latency", "P99")] for p in parts], axis=0)
            assert (total[("latency", "P50")] <= np.maximum(top, total[("latency", "P50")].min())).all()


def test_point_stream_equals_bundle_values(world: World) -> None:
    expected = {}
    for bundle in world.bundles:
        values = world.bundle_values(bundle)
        for series_id, metric, aggregation in bundle.series:
            expected[series_id] = values[(metric, aggregation)]
    seen = 0
    for ids, _, values in world.point_chunks(max_rows=3_000):  # many chunks: services cached across them
        for series_id in np.unique(ids):
            assert np.array_equal(values[ids == series_id], expected[int(series_id)])
            seen += 1
    assert seen >= len(expected)


def test_stored_application_calls_cover_their_services(seeded: sa.Engine) -> None:
    short = rows(seeded, """
        WITH app AS (SELECT s.application_id, p.ts_ms, p.value
                     FROM metric_series s JOIN metric_point p USING (series_id)
                     WHERE s.entity_kind = 'APPLICATION' AND s.metric_id = 'calls'),
             svc AS (SELECT l.application_id, p.ts_ms, sum(p.value) AS value
                     FROM metric_series s JOIN metric_point p USING (series_id)
                     JOIN application_service l ON l.service_id = s.service_id
                     WHERE s.entity_kind = 'SERVICE' AND s.metric_id = 'calls'
                       AND l.application_id IN (SELECT application_id FROM app)
                     GROUP BY 1, 2)
        SELECT count(*) AS compared, count(*) FILTER (WHERE app.value < svc.value) AS short
        FROM app JOIN svc USING (application_id, ts_ms)""")[0]
    assert short["compared"] > 0 and short["short"] == 0


def test_stored_percentiles_are_ordered(seeded: sa.Engine) -> None:
    bad = rows(seeded, """
        SELECT count(*) AS n FROM (
          SELECT coalesce(s.application_id, s.service_id) AS e, p.ts_ms,
                 array_agg(p.value ORDER BY array_position(ARRAY['P50','P90','P95','P99'], s.aggregation::text)) v
          FROM metric_series s JOIN metric_point p USING (series_id)
          WHERE s.metric_id = 'latency' AND s.aggregation IN ('P50', 'P90', 'P95', 'P99')
            AND s.entity_kind IN ('APPLICATION', 'SERVICE')
          GROUP BY 1, 2) x
        WHERE NOT (v[1] <= v[2] AND v[2] <= v[3] AND v[3] <= v[4])""")[0]
    assert bad["n"] == 0
