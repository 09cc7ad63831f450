"""Dataset 1.2.0: website and mobile app monitoring, logs, synthetic monitoring, all built on the estate 1.0/1.1
left in the database:

* websites and mobile apps front application perspectives; their beacons call the perspective's real HTTP
  endpoints and get slower / fail while a latency / error issue of the endpoint's service is open; their metric
  points are computed from the beacons (so they can be recomputed from them) and their Smart Alert thresholds
  from the traffic observed;
* log lines come from processes that run their service; WARN and ERROR lines exist only inside a latency /
  error issue of the service and name it; request-scoped lines carry 16-hex trace ids (1.3 builds the traces);
* synthetic tests call real endpoints (URL from the endpoint label) or load real websites from locations able to
  run them; a run fails when an issue of the target explains it, or at BASE_FAILURE_RATE.

Every random choice comes from private streams derived from (seed, version, domain, index), so seeding 1.2.0
directly and upgrading to it give identical rows."""

from __future__ import annotations

import math
import random
import re
import zlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np
import sqlalchemy as sa

from apmseed import load, vocab
from apmseed.factories import mobile as mobile_f
from apmseed.factories import web as web_f
from apmseed.factories.base import reseed
from apmseed.factories.logs import (
    LOG_COLUMNS,
    background_per_minute,
    expected_issue_lines,
    expected_lines,
    housekeeping_logs,
    service_logs,
)
from apmseed.factories.mobile import (
    MOBILE_METRICS,
    PLATFORMS,
    MobileAppAlertConfigFactory,
    MobileAppFactory,
    mobile_traffic,
)
from apmseed.factories.synthetics import (
    RESULT_COLUMNS,
    SyntheticLocationFactory,
    SyntheticTestFactory,
    run_results,
)
from apmseed.factories.web import (
    SUCCESS_STATUS,
    WEBSITE_METRICS,
    Estate,
    Issue,
    Points,
    Sequence,
    WebsiteAlertConfigFactory,
    WebsiteFactory,
    app_host,
    fill_path,
    point_rows,
    split_label,
    website_traffic,
)
from apmseed.layers import Later, LayerContext, Rows, Stream, rechunk

PROBLEM_KIND = {vocab.PROBLEMS["latency"][0]: "latency", vocab.PROBLEMS["errors"][0]: "errors"}
# the traits of the factories used here (all named in every build: see `_traits`)
WEBSITE_ALERT_TRAITS = ("slow_pages", "traffic_drop", "js_errors")
MOBILE_ALERT_TRAITS = ("crashes", "slow_requests")
TEST_TRAITS = ("http_action", "http_script", "webpage_action", "browser_script")
STRENGTH = {"latency": (re.compile(r"(\d+(?:\.\d+)?)x"), 1.0, 2.5), "errors": (re.compile(r"(\d+(?:\.\d+)?)%"),
                                                                               0.01, 0.1)}


def fill(ctx: LayerContext) -> Rows:
    """Bulk tables stream; what their generation decides (sessions, derived points, alert configs) follows them.
    Everything that draws from the shared random streams (the layer's and factory_boy's) runs lazily in the
    order of the tables, so the draws come in the same order whatever the chunk size."""
    reseed(zlib.crc32(f"{ctx.seed}:{ctx.version}".encode()))
    est = _estate(ctx)
    web = _Websites(ctx, est)
    mobile = _MobileApps(ctx, est)
    synthetics = _Synthetics(ctx, est, web.websites)
    size = ctx.chunk_rows
    return {
        "website_metric_definition": [dict(m) for m in WEBSITE_METRICS],
        "website": web.websites,
        "website_beacon": Stream(web_f.BEACON_COLUMNS, rechunk(web.beacons(), size)),
        "website_session": Stream(web_f.SESSION_COLUMNS, _drain(web.sessions, size),
                                  expected=lambda: len(web.sessions)),
        "website_metric_point": Stream(web_f.POINT_COLUMNS, rechunk(web.points(), size), expected=web.point_count),
        "website_alert_config": Later(lambda: web.alerts),
        "website_alert_config_channel": Later(lambda: web.links),
        "mobile_metric_definition": [dict(m) for m in MOBILE_METRICS],
        "mobile_app": Later(mobile.build),
        "mobile_beacon": Stream(mobile_f.BEACON_COLUMNS, rechunk(mobile.beacons(), size)),
        "mobile_session": Stream(mobile_f.SESSION_COLUMNS, _drain(mobile.sessions, size),
                                 expected=lambda: len(mobile.sessions)),
        "mobile_metric_point": Stream(mobile_f.POINT_COLUMNS, rechunk(mobile.points(), size),
                                      expected=mobile.point_count),
        "mobile_app_alert_config": Later(lambda: mobile.alerts),
        "mobile_app_alert_config_channel": Later(lambda: mobile.links),
        "log_entry": Stream(LOG_COLUMNS, rechunk(_logs(ctx, est), size), expected=ctx.options.get("logs")),
        "synthetic_location": Later(synthetics.plan),
        "synthetic_test": Later(lambda: synthetics.tests),
        "synthetic_test_location": Later(lambda: synthetics.test_locations),
        "synthetic_result": Stream(RESULT_COLUMNS, rechunk(synthetics.results(), size),
                                   expected=synthetics.result_count),
    }


def _drain(rows: list[Any], size: int) -> Iterator[list[Any]]:
    """Chunks of a list that fills up before its turn comes (a stream before it appends to it), emptied after."""
    for k in range(0, len(rows), size):
        yield rows[k:k + size]
    rows.clear()


def _streams(est: Estate, domain: int, index: int) -> tuple[np.random.Generator, random.Random]:
    """Private random streams of one entity of one domain: independent of every other entity's."""
    return (np.random.default_rng([est.seed, 0x120, domain, index]),
            random.Random(f"{est.seed}:1.2.0:{domain}:{index}"))


# -- what is there --------------------------------------------------------------------------------------------

def _estate(ctx: LayerContext) -> Estate:
    step_ms = int(ctx.options["resolution"]) * 60_000
    apps = [dict(r) for r in ctx.rows("SELECT id, label, business_criticality FROM application ORDER BY id")]
    app_services: dict[str, list[str]] = defaultdict(list)
    for r in ctx.rows("SELECT application_id, service_id FROM application_service ORDER BY 1, 2"):
        app_services[r["application_id"]].append(r["service_id"])
    services = {r["id"]: dict(r) for r in ctx.rows("SELECT id, label, types, technologies FROM service ORDER BY id")}
    endpoints: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ctx.rows("SELECT id, service_id, label, type FROM endpoint ORDER BY service_id, id"):
        endpoints[r["service_id"]].append(dict(r))

    issues = []
    for r in ctx.rows("SELECT event_id, problem, detail, service_id, endpoint_id, start_ms, end_ms FROM event"
                      " WHERE service_id IS NOT NULL ORDER BY start_ms, event_id"):
        kind = PROBLEM_KIND.get(r["problem"])
        if kind is None:
            continue
        pattern, scale, default = STRENGTH[kind]
        found = pattern.search(r["detail"])
        strength = float(found.group(1)) * scale if found else default
        issues.append(Issue(r["event_id"], kind, r["service_id"], r["endpoint_id"], r["start_ms"],
                            r["end_ms"] if r["end_ms"] is not None else ctx.end_ms, strength))

    runtimes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in ctx.rows(
            "SELECT ss.service_id, p.snapshot_id AS process,"
            " CASE WHEN parent.plugin = 'host' THEN parent.snapshot_id ELSE parent.parent_snapshot_id END AS host"
            " FROM service_snapshot ss JOIN snapshot p ON p.snapshot_id = ss.snapshot_id AND p.plugin = 'process'"
            " JOIN snapshot parent ON parent.snapshot_id = p.parent_snapshot_id ORDER BY 1, 2"):
        runtimes[r["service_id"]].append((r["process"], r["host"]))

    buckets = max(1, (ctx.end_ms - ctx.start_ms) // step_ms)
    latency: dict[str, np.ndarray] = {}
    service_of = {r["series_id"]: r["service_id"] for r in ctx.rows(
        "SELECT series_id, service_id FROM metric_series WHERE entity_kind = 'SERVICE' AND metric_id = 'latency'"
        " AND aggregation = 'P50'")}
    for series_id, ts, values in load.series_points(ctx.pg, service_of):
        series = np.full(buckets, np.nan)
        k = (ts - ctx.start_ms) // step_ms
        inside = (k >= 0) & (k < buckets)
        series[k[inside]] = values[inside]
        latency[service_of[series_id]] = series

    channels: list[str] = []
    if ctx.conn.execute(sa.text("SELECT to_regclass('alerting_channel')")).scalar() is not None:
        channels = [r["id"] for r in ctx.rows("SELECT id FROM alerting_channel ORDER BY id")]
    return Estate(ctx.seed, ctx.start_ms, ctx.end_ms, step_ms, apps, dict(app_services), services, dict(endpoints),
                  issues, dict(runtimes), latency, channels)


def _fronted_apps(ctx: LayerContext, est: Estate, count: int) -> list[dict[str, Any]]:
    """Application perspectives to put websites / apps in front of: those with HTTP endpoints first."""
    with_http = [a for a in est.applications if est.app_http_endpoints(a["id"])]
    pool = with_http or list(est.applications)
    return ctx.rand.sample(pool, k=min(count, len(pool)))


def _nice(value: float, up: bool = True) -> float:
    """A round threshold a person would type (two significant digits)."""
    if value <= 0:
        return 0.0
    magnitude = 10 ** max(0, math.floor(math.log10(value)) - 1)
    return float((math.ceil if up else math.floor)(value / magnitude) * magnitude)


def _separate(config: dict[str, Any]) -> None:
    """Rounding may bring the two thresholds together: keep the warning before the critical one."""
    if config["threshold_operator"] == "<" and config["warning_value"] <= config["critical_value"]:
        config["warning_value"] = config["critical_value"] + 1
    elif config["threshold_operator"] == ">" and config["warning_value"] >= config["critical_value"]:
        config["critical_value"] = _nice(config["warning_value"] * 1.5) or 1.0


def _channels(ctx: LayerContext, est: Estate, config_id: str) -> list[dict[str, str]]:
    if not est.channels:
        return []
    picked = ctx.rand.sample(est.channels, k=min(len(est.channels), ctx.rand.randint(1, 2)))
    return [{"alert_config_id": config_id, "channel_id": c} for c in sorted(picked)]


class _BeaconSource:
    """What websites and mobile apps share: beacons stream first, and the metric points derived from them wait
    in `derived` (per website or app) until their own table's turn."""

    est: Estate
    derived: list[tuple[str, list[Points]]]

    def point_count(self) -> int:
        return sum(len(p.ts_ms) for _, points in self.derived for p in points)

    def points(self) -> Iterator[list[tuple[Any, ...]]]:
        while self.derived:
            owner_id, points = self.derived.pop(0)
            yield point_rows(owner_id, points, self.est.step_ms)


# -- websites -------------------------------------------------------------------------------------------------

class _Websites(_BeaconSource):
    """Websites in front of a third of the perspectives (picked and built at once: the layer's first draws); their
    traffic, derived points and alert configs when the beacon stream runs."""

    def __init__(self, ctx: LayerContext, est: Estate) -> None:
        self.ctx, self.est = ctx, est
        self.apps = _fronted_apps(ctx, est, max(1, len(est.applications) // 3))
        WebsiteFactory.reset_sequence(0, force=True)
        self.websites = [WebsiteFactory.build(seed=est.seed, app=a) for a in self.apps]
        self.sessions: list[tuple[Any, ...]] = []
        self.derived: list[tuple[str, list[Points]]] = []
        self.alerts: list[dict[str, Any]] = []
        self.links: list[dict[str, str]] = []

    def beacons(self) -> Iterator[list[tuple[Any, ...]]]:
        ctx, est = self.ctx, self.est
        beacon_ids, session_ids = Sequence(est.seed, "website_beacon"), Sequence(est.seed, "website_session")
        WebsiteAlertConfigFactory.reset_sequence(0, force=True)
        for k, (website, app) in enumerate(zip(self.websites, self.apps, strict=True)):
            rng, r = _streams(est, 1, k)
            traffic = website_traffic(est, {**website, "application_label": app["label"]}, rng, r, beacon_ids,
                                      session_ids)
            self.sessions += traffic.sessions
            self.derived.append((website["id"], traffic.points))
            for kind, warning, critical in _website_thresholds(ctx, traffic.stats):
                granularity = ctx.rand.choice((300_000, 600_000, 600_000, 900_000))
                scale = granularity / 60_000 if kind != "slow_pages" else 1.0
                config = WebsiteAlertConfigFactory.build(
                    seed=est.seed, website_id=website["id"], subject=website["name"], window_start_ms=est.start_ms,
                    granularity_ms=granularity, warning_value=_nice(warning * scale, kind != "traffic_drop"),
                    critical_value=_nice(critical * scale, kind != "traffic_drop"),
                    **_traits(WEBSITE_ALERT_TRAITS, kind))
                _separate(config)
                self.alerts.append(config)
                self.links += _channels(ctx, est, config["id"])
            yield traffic.beacons



def _website_thresholds(ctx: LayerContext, stats: dict[str, float]) -> list[tuple[str, float, float]]:
    """(trait, warning, critical) per alert, from normal traffic: page load p95 outside latency issues, page
    loads and JavaScript errors per minute (scaled to the granularity by the caller)."""
    p95 = stats["onLoadTime.p95"]
    alerts = [("slow_pages", p95 * 1.5, p95 * 2.5)]
    if stats["pageLoads.per_minute"] >= 0.5:
        rate = stats["pageLoads.per_minute"]
        alerts.append(("traffic_drop", rate * 0.5, rate * 0.2))
    if ctx.rand.random() < 0.6:
        rate = max(stats["jsErrors.per_minute"], 0.05)
        alerts.append(("js_errors", rate * 4, rate * 12))
    return alerts


# -- mobile apps ----------------------------------------------------------------------------------------------

class _MobileApps(_BeaconSource):
    """An app per platform in front of a fifth of the perspectives, picked when the websites are done (their
    alert configs draw from the layer's stream first)."""

    def __init__(self, ctx: LayerContext, est: Estate) -> None:
        self.ctx, self.est = ctx, est
        self.apps: list[dict[str, Any]] = []
        self.pairs: list[tuple[dict[str, Any], str]] = []
        self.sessions: list[tuple[Any, ...]] = []
        self.derived: list[tuple[str, list[Points]]] = []
        self.alerts: list[dict[str, Any]] = []
        self.links: list[dict[str, str]] = []

    def build(self) -> list[dict[str, Any]]:
        ctx, est = self.ctx, self.est
        wanted = max(1, len(est.applications) // 5)
        perspectives = _fronted_apps(ctx, est, math.ceil(wanted / len(PLATFORMS)))
        MobileAppFactory.reset_sequence(0, force=True)
        self.pairs = [(p, platform) for p in perspectives for platform in PLATFORMS][:wanted]
        self.apps = [MobileAppFactory.build(seed=est.seed, app=p, platform=platform) for p, platform in self.pairs]
        return self.apps

    def beacons(self) -> Iterator[list[tuple[Any, ...]]]:
        ctx, est = self.ctx, self.est
        beacon_ids, session_ids = Sequence(est.seed, "mobile_beacon"), Sequence(est.seed, "mobile_session")
        MobileAppAlertConfigFactory.reset_sequence(0, force=True)
        for k, (app, (perspective, _)) in enumerate(zip(self.apps, self.pairs, strict=True)):
            rng, r = _streams(est, 2, k)
            traffic = mobile_traffic(est, {**app, "application_label": perspective["label"]}, rng, r, beacon_ids,
                                     session_ids)
            self.sessions += traffic.sessions
            self.derived.append((app["id"], traffic.points))
            crashes = max(traffic.stats["crashCount.per_minute"], 0.02)
            p95 = traffic.stats["httpLatency.p95"]
            for kind, warning, critical in (("crashes", crashes * 3, crashes * 8),
                                            ("slow_requests", p95 * 1.6, p95 * 3)):
                granularity = ctx.rand.choice((300_000, 600_000, 900_000))
                scale = granularity / 60_000 if kind == "crashes" else 1.0
                config = MobileAppAlertConfigFactory.build(
                    seed=est.seed, mobile_app_id=app["id"], subject=app["name"], window_start_ms=est.start_ms,
                    granularity_ms=granularity, warning_value=_nice(warning * scale),
                    critical_value=_nice(critical * scale), **_traits(MOBILE_ALERT_TRAITS, kind))
                _separate(config)
                self.alerts.append(config)
                self.links += _channels(ctx, est, config["id"])
            yield traffic.beacons



def _traits(names: tuple[str, ...], chosen: str) -> dict[str, bool]:
    """Every trait of a factory named, the chosen one on: factory_boy looks up a trait not given through a
    failing attribute lookup whose error message alone costs more than building the row."""
    return {name: name == chosen for name in names}


# -- logs -------------------------------------------------------------------------------------------------------

def _logs(ctx: LayerContext, est: Estate) -> Iterator[list[tuple[Any, ...]]]:
    """Each service's lines in turn. With the profile's `logs` target, the INFO/DEBUG volume is scaled so that
    about that many lines come out (the issues' WARN/ERROR lines are what they are), and housekeeping lines top
    it up to the target if chance left it short; without it, every service logs at its own base rate."""
    log_ids, trace_ids = Sequence(est.seed, "log_entry"), Sequence(est.seed, "trace")
    services = sorted(est.runtimes)
    target = ctx.options.get("logs")
    rates = [background_per_minute(est, _streams(est, 3, k)[0]) for k in range(len(services))]
    scale = 1.0
    if target is not None:
        base = sum(expected_lines(est, rate) for rate in rates)
        issues = sum(expected_issue_lines(est, est.services[sid]) for sid in services)
        scale = max(0.0, int(target) - issues) / base if base > 0 else 0.0
    made = 0
    for k, sid in enumerate(services):
        rng, r = _streams(est, 3, k)
        rows = service_logs(est, est.services[sid], rng, r, log_ids, trace_ids, scale)
        made += len(rows)
        yield rows
    if target is None or made >= int(target) or not services:
        return
    rng, r = _streams(est, 5, 0)
    counts = rng.multinomial(int(target) - made, np.asarray(rates) / sum(rates))
    for sid, count in zip(services, counts.tolist(), strict=True):
        if count:
            yield housekeeping_logs(est, est.services[sid], rng, r, log_ids, count)


# -- synthetics -------------------------------------------------------------------------------------------------

class _Synthetics:
    """Locations, tests and their locations are planned when the first of their tables is loaded (after the
    mobile apps' draws); the results stream after them."""

    def __init__(self, ctx: LayerContext, est: Estate, websites: list[dict[str, Any]]) -> None:
        self.ctx, self.est, self.websites = ctx, est, websites
        self.tests: list[dict[str, Any]] = []
        self.test_locations: list[dict[str, str]] = []
        self.by_test: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def plan(self) -> list[dict[str, Any]]:
        """Locations (returned), tests and where each runs."""
        ctx, est = self.ctx, self.est
        n_locations = max(2, len(est.applications) // 3 + 1)
        SyntheticLocationFactory.reset_sequence(0, force=True)
        locations = [SyntheticLocationFactory.build(seed=est.seed, window_start_ms=est.start_ms)
                     for _ in range(min(n_locations, 8))]
        apps = {a["id"]: a for a in est.applications}
        apps_of: dict[str, list[str]] = defaultdict(list)
        for app_id, sids in est.app_services.items():
            for sid in sids:
                apps_of[sid].append(app_id)

        targets = _api_targets(ctx, est, apps, apps_of)
        targets += _browser_targets(ctx, self.websites)
        SyntheticTestFactory.reset_sequence(0, force=True)
        labels: set[str] = set()
        for target, trait in targets:
            test = SyntheticTestFactory.build(seed=est.seed, target=target, window_start_ms=est.start_ms,
                                              **_traits(TEST_TRAITS, trait))
            if test["label"] in labels:  # two services of one application with the same endpoint label
                test["label"] = f"{test['label']} ({target['service_label']})"
            labels.add(test["label"])
            self.tests.append(test)
            if trait in ("http_action", "http_script"):
                able = locations
            else:
                able = [loc for loc in locations if target["browser"] in loc["browser_types"]
                        and test["synthetic_type"] in loc["synthetic_types"]]
            chosen = ctx.rand.sample(able, k=min(len(able), ctx.rand.randint(1, 3)))
            self.test_locations += [{"test_id": test["id"], "location_id": loc["id"]} for loc in chosen]

        location_by_id = {loc["id"]: loc for loc in locations}
        for link in self.test_locations:
            self.by_test[link["test_id"]].append(location_by_id[link["location_id"]])
        return locations

    def result_count(self) -> int:
        """About how many runs `results` makes (each active test, every `frequency` at each of its locations)."""
        window = self.est.end_ms - self.est.start_ms
        return sum(len(self.by_test[t["id"]]) * window // (t["test_frequency_min"] * 60_000)
                   for t in self.tests if t["active"])

    def results(self) -> Iterator[list[tuple[Any, ...]]]:
        counter = [0]
        for k, test in enumerate(self.tests):
            if test["active"]:
                rng, r = _streams(self.est, 4, k)
                yield run_results(self.est, test, self.by_test[test["id"]], rng, r, counter)


def _api_targets(ctx: LayerContext, est: Estate, apps: dict[str, dict[str, Any]],
                 apps_of: dict[str, list[str]]) -> list[tuple[dict[str, Any], str]]:
    """About one API test per eight endpoints, half of them on services that have issues (checks are set up
    where trouble is known), each calling the endpoint on its application's API host."""
    total = sum(len(v) for v in est.endpoints.values())
    troubled = {i.service_id for i in est.issues}
    pool = [e for sid in sorted(apps_of) for e in est.http_endpoints(sid)]
    hot = [e for e in pool if e["service_id"] in troubled]
    cold = [e for e in pool if e["service_id"] not in troubled]
    ctx.rand.shuffle(hot)
    ctx.rand.shuffle(cold)
    wanted = min(len(pool), max(2, total // 8))
    half = min(len(hot), math.ceil(wanted / 2))
    chosen = hot[:half] + cold[:wanted - half]
    chosen += hot[half:half + wanted - len(chosen)]
    targets = []
    for i, endpoint in enumerate(chosen):
        r = random.Random(f"{est.seed}:1.2.0:url:{endpoint['id']}")
        app = apps[ctx.rand.choice(sorted(apps_of[endpoint["service_id"]]))]
        method, path = split_label(endpoint["label"])
        service = est.services[endpoint["service_id"]]
        targets.append(({
            "app_label": app["label"], "endpoint_label": endpoint["label"], "service_label": service["label"],
            "url": f"https://{app_host(app['label'])}{fill_path(path, r)}", "method": method,
            "expect": SUCCESS_STATUS.get(method, 200), "application_id": app["id"], "service_id": service["id"],
            "endpoint_id": endpoint["id"]}, "http_script" if i % 4 == 2 else "http_action"))
    return targets


def _browser_targets(ctx: LayerContext, websites: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Each website gets a home-page check and a scripted login journey."""
    targets = []
    for website in websites:
        common = {"website_name": website["name"], "application_id": website["application_id"],
                  "website_id": website["id"], "service_label": website["name"]}
        targets.append(({**common, "url": website["origin"] + "/", "browser": "chrome"}, "webpage_action"))
        targets.append(({**common, "url": website["origin"], "browser": ctx.rand.choice(("chrome", "firefox"))},
                        "browser_script"))
    return targets
