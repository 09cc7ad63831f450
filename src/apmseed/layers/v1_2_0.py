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
from typing import Any

import numpy as np
import sqlalchemy as sa

from apmseed import vocab
from apmseed.factories.base import reseed
from apmseed.factories.logs import service_logs
from apmseed.factories.mobile import (
    MOBILE_METRICS,
    PLATFORMS,
    MobileAppAlertConfigFactory,
    MobileAppFactory,
    mobile_traffic,
)
from apmseed.factories.synthetics import SyntheticLocationFactory, SyntheticTestFactory, run_results
from apmseed.factories.web import (
    SUCCESS_STATUS,
    WEBSITE_METRICS,
    Estate,
    Issue,
    Sequence,
    WebsiteAlertConfigFactory,
    WebsiteFactory,
    app_host,
    fill_path,
    split_label,
    website_traffic,
)
from apmseed.layers import LayerContext, Rows

PROBLEM_KIND = {vocab.PROBLEMS["latency"][0]: "latency", vocab.PROBLEMS["errors"][0]: "errors"}
STRENGTH = {"latency": (re.compile(r"(\d+(?:\.\d+)?)x"), 1.0, 2.5), "errors": (re.compile(r"(\d+(?:\.\d+)?)%"),
                                                                               0.01, 0.1)}


def fill(ctx: LayerContext) -> Rows:
    reseed(zlib.crc32(f"{ctx.seed}:{ctx.version}".encode()))
    est = _estate(ctx)
    rows: Rows = {}
    rows.update(_websites(ctx, est))
    rows.update(_mobile_apps(ctx, est))
    rows["log_entry"] = _logs(est)
    rows.update(_synthetics(ctx, est, rows["website"]))
    return rows


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
    for r in ctx.conn.execute(sa.text(
            "SELECT s.service_id, array_agg(p.ts_ms ORDER BY p.ts_ms), array_agg(p.value ORDER BY p.ts_ms)"
            " FROM metric_series s JOIN metric_point p USING (series_id) WHERE s.entity_kind = 'SERVICE'"
            " AND s.metric_id = 'latency' AND s.aggregation = 'P50' GROUP BY s.service_id ORDER BY 1")):
        series = np.full(buckets, np.nan)
        k = (np.asarray(r[1], dtype=np.int64) - ctx.start_ms) // step_ms
        inside = (k >= 0) & (k < buckets)
        series[k[inside]] = np.asarray(r[2], dtype=np.float64)[inside]
        latency[r[0]] = series

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


# -- websites -------------------------------------------------------------------------------------------------

def _websites(ctx: LayerContext, est: Estate) -> Rows:
    apps = _fronted_apps(ctx, est, max(1, len(est.applications) // 3))
    WebsiteFactory.reset_sequence(0, force=True)
    websites = [WebsiteFactory.build(seed=est.seed, app=a) for a in apps]
    sessions, beacons, points, alerts, links = [], [], [], [], []
    beacon_ids, session_ids = Sequence(est.seed, "website_beacon"), Sequence(est.seed, "website_session")
    WebsiteAlertConfigFactory.reset_sequence(0, force=True)
    for k, (website, app) in enumerate(zip(websites, apps, strict=True)):
        rng, r = _streams(est, 1, k)
        traffic = website_traffic(est, {**website, "application_label": app["label"]}, rng, r, beacon_ids,
                                  session_ids)
        sessions += traffic.sessions
        beacons += traffic.beacons
        points += traffic.points
        for kind, warning, critical in _website_thresholds(ctx, traffic.stats):
            granularity = ctx.rand.choice((300_000, 600_000, 600_000, 900_000))
            scale = granularity / 60_000 if kind != "slow_pages" else 1.0
            config = WebsiteAlertConfigFactory.build(
                seed=est.seed, website_id=website["id"], subject=website["name"], window_start_ms=est.start_ms,
                granularity_ms=granularity, warning_value=_nice(warning * scale, kind != "traffic_drop"),
                critical_value=_nice(critical * scale, kind != "traffic_drop"), **{kind: True})
            _separate(config)
            alerts.append(config)
            links += _channels(ctx, est, config["id"])
    return {
        "website_metric_definition": [dict(m) for m in WEBSITE_METRICS],
        "website": websites,
        "website_session": sessions,
        "website_beacon": beacons,
        "website_metric_point": points,
        "website_alert_config": alerts,
        "website_alert_config_channel": links,
    }


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

def _mobile_apps(ctx: LayerContext, est: Estate) -> Rows:
    wanted = max(1, len(est.applications) // 5)
    perspectives = _fronted_apps(ctx, est, math.ceil(wanted / len(PLATFORMS)))
    MobileAppFactory.reset_sequence(0, force=True)
    pairs = [(p, platform) for p in perspectives for platform in PLATFORMS][:wanted]
    apps = [MobileAppFactory.build(seed=est.seed, app=p, platform=platform) for p, platform in pairs]
    sessions, beacons, points, alerts, links = [], [], [], [], []
    beacon_ids, session_ids = Sequence(est.seed, "mobile_beacon"), Sequence(est.seed, "mobile_session")
    MobileAppAlertConfigFactory.reset_sequence(0, force=True)
    for k, (app, (perspective, _)) in enumerate(zip(apps, pairs, strict=True)):
        rng, r = _streams(est, 2, k)
        traffic = mobile_traffic(est, {**app, "application_label": perspective["label"]}, rng, r, beacon_ids,
                                 session_ids)
        sessions += traffic.sessions
        beacons += traffic.beacons
        points += traffic.points
        crashes = max(traffic.stats["crashCount.per_minute"], 0.02)
        p95 = traffic.stats["httpLatency.p95"]
        for kind, warning, critical in (("crashes", crashes * 3, crashes * 8), ("slow_requests", p95 * 1.6, p95 * 3)):
            granularity = ctx.rand.choice((300_000, 600_000, 900_000))
            scale = granularity / 60_000 if kind == "crashes" else 1.0
            config = MobileAppAlertConfigFactory.build(
                seed=est.seed, mobile_app_id=app["id"], subject=app["name"], window_start_ms=est.start_ms,
                granularity_ms=granularity, warning_value=_nice(warning * scale),
                critical_value=_nice(critical * scale), **{kind: True})
            _separate(config)
            alerts.append(config)
            links += _channels(ctx, est, config["id"])
    return {
        "mobile_metric_definition": [dict(m) for m in MOBILE_METRICS],
        "mobile_app": apps,
        "mobile_session": sessions,
        "mobile_beacon": beacons,
        "mobile_metric_point": points,
        "mobile_app_alert_config": alerts,
        "mobile_app_alert_config_channel": links,
    }


# -- logs -------------------------------------------------------------------------------------------------------

def _logs(est: Estate) -> list[dict[str, Any]]:
    log_ids, trace_ids = Sequence(est.seed, "log_entry"), Sequence(est.seed, "trace")
    rows: list[dict[str, Any]] = []
    for k, sid in enumerate(sorted(est.runtimes)):
        rng, r = _streams(est, 3, k)
        rows += service_logs(est, est.services[sid], rng, r, log_ids, trace_ids)
    return rows


# -- synthetics -------------------------------------------------------------------------------------------------

def _synthetics(ctx: LayerContext, est: Estate, websites: list[dict[str, Any]]) -> Rows:
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
    targets += _browser_targets(ctx, websites)
    SyntheticTestFactory.reset_sequence(0, force=True)
    tests, test_locations, labels = [], [], set()
    for target, trait in targets:
        test = SyntheticTestFactory.build(seed=est.seed, target=target, window_start_ms=est.start_ms,
                                          **{trait: True})
        if test["label"] in labels:  # two services of one application with the same endpoint label
            test["label"] = f"{test['label']} ({target['service_label']})"
        labels.add(test["label"])
        tests.append(test)
        if trait in ("http_action", "http_script"):
            able = locations
        else:
            able = [loc for loc in locations if target["browser"] in loc["browser_types"]
                    and test["synthetic_type"] in loc["synthetic_types"]]
        chosen = ctx.rand.sample(able, k=min(len(able), ctx.rand.randint(1, 3)))
        test_locations += [{"test_id": test["id"], "location_id": loc["id"]} for loc in chosen]

    by_test: dict[str, list[dict[str, Any]]] = defaultdict(list)
    location_by_id = {loc["id"]: loc for loc in locations}
    for link in test_locations:
        by_test[link["test_id"]].append(location_by_id[link["location_id"]])
    results: list[dict[str, Any]] = []
    counter = [0]
    for k, test in enumerate(tests):
        if test["active"]:
            rng, r = _streams(est, 4, k)
            results += run_results(est, test, by_test[test["id"]], rng, r, counter)
    return {"synthetic_location": locations, "synthetic_test": tests, "synthetic_test_location": test_locations,
            "synthetic_result": results}


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
