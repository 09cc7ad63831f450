"""Mobile apps: app and Smart Alert factories, the vocabulary of devices, releases and crashes, and the
vectorised session/beacon generator."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable
from typing import Any

import factory
import numpy as np

from apmseed import ids
from apmseed.factories.base import RowFactory
from apmseed.factories.web import (
    PLACES,
    SERVER_ERRORS,
    SUCCESS_STATUS,
    Estate,
    EumAlertConfigFactory,
    Sequence,
    Traffic,
    app_host,
    by_service,
    derive_points,
    effects_at,
    fill_path,
    lognormal,
    poisson_times,
    randint,
    slug,
    split_label,
)

PLATFORMS = ("iOS", "Android")
# platform -> (manufacturer, model, os versions, weight)
DEVICES: dict[str, tuple[tuple[str, str, tuple[str, ...], float], ...]] = {
    "iOS": (("Apple", "iPhone 15 Pro", ("18.1", "17.6.1"), 0.3), ("Apple", "iPhone 14", ("18.1", "17.6.1"), 0.3),
            ("Apple", "iPhone 13 mini", ("17.6.1", "16.7.10"), 0.2), ("Apple", "iPad Air (5th generation)",
                                                                       ("18.1",), 0.2)),
    "Android": (("samsung", "SM-S921B", ("14",), 0.3), ("Google", "Pixel 8", ("15", "14"), 0.25),
                ("Xiaomi", "23049PCD8G", ("14", "13"), 0.2), ("samsung", "SM-A546B", ("14", "13"), 0.25)),
}
CARRIERS = ("Vodafone", "T-Mobile", "Verizon", "AT&T", "O2", "Orange", "Telstra", "NTT docomo")
VIEWS: tuple[tuple[str, float], ...] = (
    ("HomeScreen", 0.3), ("ProductListScreen", 0.2), ("ProductDetailScreen", 0.18), ("CartScreen", 0.12),
    ("CheckoutScreen", 0.08), ("AccountScreen", 0.07), ("LoginScreen", 0.05),
)
# the releases in the field: (version, build, crash-rate multiplier, share of sessions): older builds crash more
RELEASES: tuple[tuple[str, str, float, float], ...] = (
    ("4.12.0", "4412", 1.0, 0.6), ("4.11.2", "4375", 1.6, 0.3), ("4.10.1", "4301", 3.0, 0.1))
CRASHES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "iOS": (
        ("NSInvalidArgumentException",
         "-[__NSCFNumber length]: unrecognized selector sent to instance 0x8000000000000000",
         "0 CoreFoundation __exceptionPreprocess\n1 libobjc.A.dylib objc_exception_throw\n"
         "2 CoreFoundation -[NSObject(NSObject) doesNotRecognizeSelector:]\n3 App ProductCell.configure(with:)"),
        ("EXC_BAD_ACCESS", "KERN_INVALID_ADDRESS at 0x0000000000000010",
         "0 libswiftCore.dylib swift_retain\n1 App CartViewModel.reload()\n2 App CartScreen.viewWillAppear(_:)"),
        ("Fatal error", "Unexpectedly found nil while unwrapping an Optional value",
         "0 libswiftCore.dylib _assertionFailure\n1 App CheckoutScreen.submitOrder()\n"
         "2 UIKitCore -[UIControl sendAction:to:forEvent:]"),
    ),
    "Android": (
        ("java.lang.NullPointerException", "Attempt to invoke virtual method 'java.lang.String "
         "com.example.app.model.Product.getName()' on a null object reference",
         "at com.example.app.ui.ProductAdapter.onBindViewHolder(ProductAdapter.kt:58)\n"
         "at androidx.recyclerview.widget.RecyclerView$Adapter.bindViewHolder(RecyclerView.java:7254)"),
        ("java.lang.IllegalStateException", "Fragment CheckoutFragment not attached to a context.",
         "at androidx.fragment.app.Fragment.requireContext(Fragment.java:972)\n"
         "at com.example.app.ui.CheckoutFragment.onOrderFailed(CheckoutFragment.kt:141)"),
        ("android.view.WindowManager$BadTokenException", "Unable to add window -- token null is not valid",
         "at android.view.ViewRootImpl.setView(ViewRootImpl.java:1412)\n"
         "at com.example.app.ui.LoginActivity.showError(LoginActivity.kt:88)"),
    ),
}

SESSIONS_PER_MINUTE = 1.0  # per app at the daily peak
HTTP_CALLS_PER_SESSION = 2.5
CRASH_RATE = 0.02  # sessions of the newest release that crash on their own
CRASH_AFTER_FAILURE = 0.15  # extra chance a session crashes right after a failed request
BASE_HTTP_FAILURE = 0.005

MOBILE_METRICS: tuple[dict[str, Any], ...] = (
    {"metric_id": "sessions", "label": "Sessions", "formatter": "NUMBER", "aggregations": ["SUM"],
     "default_aggregation": "SUM", "beacon_types": ["sessionStart"], "path_to_value": None,
     "description": "Number of started sessions (sessionStart beacons)"},
    {"metric_id": "crashCount", "label": "Crashes", "formatter": "NUMBER", "aggregations": ["SUM"],
     "default_aggregation": "SUM", "beacon_types": ["crash"], "path_to_value": None,
     "description": "Number of app crashes (crash beacons)"},
    {"metric_id": "httpLatency", "label": "HTTP latency", "formatter": "MILLIS", "aggregations": ["MEAN", "P95"],
     "default_aggregation": "MEAN", "beacon_types": ["httpRequest"], "path_to_value": ["duration"],
     "description": "Duration of the HTTP requests the app makes, in ms"},
)
MOBILE_SERIES = (("sessions", "SUM"), ("crashCount", "SUM"), ("httpLatency", "MEAN"), ("httpLatency", "P95"))


class MobileAppFactory(RowFactory):
    """One app per platform in front of an application perspective."""

    class Params:
        app: dict = factory.Dict({})

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "mobile_app", o.n, 22))
    name = factory.LazyAttribute(lambda o: f"{o.app['label']} {o.platform}")
    platform = "iOS"
    bundle_identifier = factory.LazyAttribute(lambda o: "com.example." + slug(o.app["label"]).replace("-", ""))
    business_criticality = factory.LazyAttribute(lambda o: max(1, o.app["business_criticality"]))
    application_id = factory.LazyAttribute(lambda o: o.app["id"])


class MobileAppAlertConfigFactory(EumAlertConfigFactory):
    """Traits: the kinds of mobile app Smart Alert generated."""

    class Params:
        crashes = factory.Trait(
            alert_type="crash", metric_id="crashCount", aggregation="SUM", threshold_operator=">",
            texts=("Crashes of {subject}",
                   "{subject} crashed more than {warning} (warning) or {critical} (critical) times in {minutes} "
                   "minutes."))
        slow_requests = factory.Trait(
            alert_type="slowness", metric_id="httpLatency", aggregation="P95", threshold_operator=">",
            unit=" ms", texts=("Slow HTTP requests in {subject}",
                               "The 95th percentile latency of the HTTP requests {subject} makes is above {warning} "
                               "(warning) or {critical} (critical) over {minutes} minutes."))

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "mobile_app_alert_config", o.n, 22))
    mobile_app_id = "mobile_app"


SESSION_COLUMNS = ("session_id", "mobile_app_id", "start_ms", "app_version", "app_build", "os_version",
                   "device_manufacturer", "device_model", "carrier", "connection_type", "country_code", "country",
                   "city", "user_id")
BEACON_COLUMNS = ("beacon_id", "mobile_app_id", "session_id", "type", "timestamp_ms", "duration_ms", "view", "url",
                  "http_call_method", "http_call_status", "endpoint_id", "error_type", "error_message", "stack_trace")
POINT_COLUMNS = ("mobile_app_id", "metric_id", "aggregation", "ts_ms", "granularity_s", "value")


def _picker(r: random.Random, options: tuple[tuple[Any, ...], ...]) -> Callable[[], tuple[Any, ...]]:
    """`r.choices(options, weights=<last field>)[0]`, drawing the very same numbers, weights summed once."""
    cum = list(itertools.accumulate(o[-1] for o in options))
    total, hi, draw = cum[-1] + 0.0, len(options) - 1, r.random
    return lambda: options[bisect.bisect(cum, draw() * total, 0, hi)]


def mobile_traffic(est: Estate, app: dict[str, Any], rng: np.random.Generator, r: random.Random,
                   beacon_ids: Sequence, session_ids: Sequence) -> Traffic:
    """Sessions of one app: a sessionStart beacon, HTTP requests to the application's real endpoints (slow or
    failing while an issue hits the endpoint's service), and sometimes a crash that ends the session (more often
    on older releases and right after a failed request); then the metric points derived from them."""
    services = est.app_services.get(app["application_id"], [])
    own = by_service(est.issues_of(services))
    endpoints = est.app_http_endpoints(app["application_id"])
    origin = f"https://{app_host(app['application_label'])}"
    starts = poisson_times(rng, est.start_ms, est.end_ms, SESSIONS_PER_MINUTE * rng.lognormal(0.0, 0.35))
    lengths = rng.exponential(240_000.0, starts.size).astype(np.int64) + 5_000
    n_http = rng.poisson(HTTP_CALLS_PER_SESSION, starts.size) if endpoints else np.zeros(starts.size, np.int64)

    sessions: list[tuple[Any, ...]] = []
    beacons: list[tuple[Any, ...]] = []
    add = beacons.append
    http_ts: list[int] = []
    http_dur: list[int] = []
    crash_ts: list[int] = []
    app_id, end_ms, platform = app["id"], est.end_ms, app["platform"]
    below, between, lognormvariate, random_ = r._randbelow, randint(r), lognormal(r), r.random  # type: ignore[attr-defined]
    release_of, device_of = _picker(r, RELEASES), _picker(r, DEVICES[platform])
    place_of, view_of = _picker(r, PLACES), _picker(r, VIEWS)
    next_id, user_kind, log_220 = beacon_ids.next, f"mobile_user:{app_id}", np.log(220.0)
    targets = [(ep["id"], *split_label(ep["label"]), own.get(ep["service_id"], [])) for ep in endpoints]
    first_view, crashes = VIEWS[0][0], CRASHES[platform]
    for t0, length, http_k in zip(starts.tolist(), lengths.tolist(), n_http.tolist(), strict=True):
        release = release_of()
        device = device_of()
        place = place_of()
        wifi = random_() < 0.6
        sid = session_ids.next()
        sessions.append((sid, app_id, t0, release[0], release[1], device[2][below(len(device[2]))], device[0],
                         device[1], None if wifi else CARRIERS[below(len(CARRIERS))], "wifi" if wifi else "cellular",
                         place[0], place[1], place[2], ids.hexid(est.seed, user_kind, between(1, 5_000), 12)))
        add((next_id(), app_id, sid, "sessionStart", t0, None, first_view, None, None, None, None, None, None, None))
        calls = []
        for _ in range(http_k):
            ts = t0 + between(200, length)
            if ts >= end_ms:
                continue
            ep_id, method, path, ep_issues = targets[below(len(targets))]
            factor, share = effects_at(ep_issues, ts) if ep_issues else (1.0, 0.0)
            fail = random_() < max(BASE_HTTP_FAILURE, share)
            calls.append((ts, ep_id, method, path, fail, factor))
        calls.sort(key=lambda c: c[0])
        crash_at: int | None = None
        failures = [c[0] for c in calls if c[4]]
        if failures and random_() < CRASH_AFTER_FAILURE:
            crash_at = failures[0] + between(100, 3_000)
        elif random_() < CRASH_RATE * release[2]:
            crash_at = t0 + between(1_000, length)
        for ts, ep_id, method, path, fail, factor in calls:
            if crash_at is not None and ts >= crash_at:
                break
            duration = int(lognormvariate(log_220, 0.55) * factor)
            add((next_id(), app_id, sid, "httpRequest", ts, duration, view_of()[0], origin + fill_path(path, r), method,
                 SERVER_ERRORS[below(len(SERVER_ERRORS))] if fail else SUCCESS_STATUS.get(method, 200), ep_id, None,
                 None, None))
            http_ts.append(ts)
            http_dur.append(duration)
        if crash_at is not None and crash_at < end_ms:
            crash = crashes[below(len(crashes))]
            add((next_id(), app_id, sid, "crash", crash_at, None, view_of()[0], None, None, None, None, crash[0],
                 crash[1], crash[2]))
            crash_ts.append(crash_at)

    order = np.argsort(np.array(http_ts, dtype=np.int64), kind="stable")
    points = derive_points(est.start_ms, est.step_ms, est.buckets, [
        ("sessions", "SUM", starts, None),
        ("crashCount", "SUM", np.array(crash_ts, dtype=np.int64), None),
        ("httpLatency", "MEAN", np.array(http_ts, dtype=np.int64)[order], np.array(http_dur, dtype=np.int64)[order]),
        ("httpLatency", "P95", np.array(http_ts, dtype=np.int64)[order], np.array(http_dur, dtype=np.int64)[order]),
    ])
    minutes = max(1.0, (est.end_ms - est.start_ms) / 60_000)
    stats = {"httpLatency.p95": float(np.percentile(http_dur, 95)) if http_dur else 800.0,
             "crashCount.per_minute": len(crash_ts) / minutes, "sessions.per_minute": starts.size / minutes}
    return Traffic(sessions, beacons, points, stats)
