"""Websites (EUM): website and Smart Alert factories, the vocabulary of pages, browsers and places, and the
vectorised beacon generator. Also the pieces every dataset-1.2 generator shares: the estate read from the
database (`Estate`), the issues that shape the traffic (`Issue`), URLs built from endpoint labels, and metric
points derived from beacons."""

from __future__ import annotations

import math
import random
import re
from base64 import urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

import factory
import numpy as np
from factory.fuzzy import FuzzyChoice, FuzzyInteger

from apmseed import ids
from apmseed.factories.base import RowFactory, rand
from apmseed.scenarios.signals import daily_shape

DAY_MS = 86_400_000
HTTP_VERBS = ("GET", "POST", "PUT", "DELETE", "PATCH")
SUCCESS_STATUS = {"GET": 200, "POST": 201, "PUT": 200, "DELETE": 204, "PATCH": 200}
SERVER_ERRORS = (500, 502, 503, 504)
# sample values for the path parameters of the endpoint labels (`/api/products/{id}`)
PARAM_VALUES: dict[str, Callable[[random.Random], str]] = {
    "id": lambda r: str(r.randint(1000, 99_999)),
    "sku": lambda r: f"SKU-{r.randint(10_000, 99_999)}",
    "userId": lambda r: f"u-{r.randint(100_000, 999_999)}",
    "slug": lambda r: r.choice(("running-shoes", "espresso-grinder", "winter-jackets", "usb-c-hubs", "yoga-mats")),
    "proxy": lambda r: r.choice(("orders", "customers", "payments", "catalog")),
    "key": lambda r: r.choice(("new-checkout", "dark-mode", "one-click-pay", "smart-search")),
}
_PARAM = re.compile(r"\{([^}/]+)\}")
NV_MAGICCONST = 4 * math.exp(-0.5) / math.sqrt(2.0)  # random.normalvariate's constant


# -- shared by the 1.2 generators ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Issue:
    """A latency or error issue of a service (entity SERVICE or ENDPOINT), as read from the event table; `end_ms`
    is exclusive and is the end of the data window for open issues; `strength` is the latency factor or the
    share of erroneous calls the issue text states."""

    event_id: str
    kind: str  # latency | errors
    service_id: str
    endpoint_id: str | None
    start_ms: int
    end_ms: int
    strength: float


@dataclass
class Estate:
    """What 1.0/1.1 hold that the 1.2 generators build on (read once by the layer)."""

    seed: int
    start_ms: int
    end_ms: int
    step_ms: int
    applications: list[dict[str, Any]]  # id, label, business_criticality; ordered by id
    app_services: dict[str, list[str]]
    services: dict[str, dict[str, Any]]  # id -> id, label, types, technologies
    endpoints: dict[str, list[dict[str, Any]]]  # service id -> its endpoints (id, label, type, service_id)
    issues: list[Issue]
    runtimes: dict[str, list[tuple[str, str]]]  # service id -> (process snapshot, host snapshot)
    service_latency: dict[str, np.ndarray]  # service id -> P50 latency (ms) per time bucket, NaN where unknown
    channels: list[str] = field(default_factory=list)  # alerting channel ids (dataset 1.1), may be empty

    @property
    def buckets(self) -> int:
        return max(1, (self.end_ms - self.start_ms) // self.step_ms)

    def issues_of(self, service_ids: set[str] | list[str], kind: str | None = None) -> list[Issue]:
        wanted = set(service_ids)
        return [i for i in self.issues if i.service_id in wanted and (kind is None or i.kind == kind)]

    def http_endpoints(self, service_id: str) -> list[dict[str, Any]]:
        """Endpoints a client can call over HTTP (`GET /api/...`)."""
        return [e for e in self.endpoints.get(service_id, [])
                if e["type"] == "HTTP" and split_label(e["label"])[0] in HTTP_VERBS]

    def app_http_endpoints(self, app_id: str) -> list[dict[str, Any]]:
        return [e for sid in self.app_services.get(app_id, []) for e in self.http_endpoints(sid)]

    def latency_at(self, service_id: str, ts: int) -> float | None:
        """The service's P50 latency (ms) in the bucket of `ts`, where a series exists."""
        series = self.service_latency.get(service_id)
        if series is None:
            return None
        value = series[min(series.size - 1, max(0, (ts - self.start_ms) // self.step_ms))]
        return None if np.isnan(value) else float(value)


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def split_label(label: str) -> tuple[str, str]:
    """`POST /api/checkout` -> ("POST", "/api/checkout")."""
    method, _, path = label.partition(" ")
    return method, path


def fill_path(path: str, r: random.Random) -> str:
    """A concrete request path for an endpoint's path template."""
    if "{" not in path:
        return path
    return _PARAM.sub(lambda m: PARAM_VALUES.get(m.group(1), PARAM_VALUES["id"])(r), path)


def randint(r: random.Random) -> Callable[[int, int], int]:
    """`r.randint`, drawing the very same numbers with two Python frames less (it is called per bulk row)."""
    below = r._randbelow  # type: ignore[attr-defined]
    return lambda a, b: a + below(b - a + 1) if b >= a else r.randint(a, b)  # (the latter raises)


def lognormal(r: random.Random) -> Callable[[float, float], float]:
    """`r.lognormvariate`, drawing the very same numbers (the same Kinderman-Monahan loop, inlined)."""
    draw, log, exp = r.random, math.log, math.exp

    def lognormvariate(mu: float, sigma: float) -> float:
        while True:
            u1 = draw()
            u2 = 1.0 - draw()
            z = NV_MAGICCONST * (u1 - 0.5) / u2
            if z * z / 4.0 <= -log(u2):
                return exp(mu + z * sigma)
    return lognormvariate


def path_pattern(label_path: str) -> re.Pattern[str]:
    """The paths an endpoint label's template matches (`/api/products/{id}` -> `/api/products/[^/]+`)."""
    parts = _PARAM.split(label_path)
    regex = "".join(re.escape(p) if i % 2 == 0 else "[^/]+" for i, p in enumerate(parts))
    return re.compile(f"^{regex}$")


def app_host(app_label: str) -> str:
    return f"{slug(app_label)}.example.com"


def latency_factor(issues: list[Issue], ts: np.ndarray) -> np.ndarray:
    """Per timestamp: the factor the active latency issues (of the services concerned) slow calls down by."""
    factor = np.ones(ts.size)
    for issue in issues:
        if issue.kind == "latency":
            active = (ts >= issue.start_ms) & (ts < issue.end_ms)
            factor[active] = np.maximum(factor[active], issue.strength)
    return factor


def error_issue(issues: list[Issue], ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per timestamp: (index into `issues` of an active error issue or -1, its erroneous share or 0)."""
    which = np.full(ts.size, -1)
    share = np.zeros(ts.size)
    for k, issue in enumerate(issues):
        if issue.kind == "errors":
            active = (ts >= issue.start_ms) & (ts < issue.end_ms) & (share < issue.strength)
            which[active] = k
            share[active] = issue.strength
    return which, share


def effects_at(issues: list[Issue], ts: int) -> tuple[float, float]:
    """Scalar `latency_factor` and erroneous share at one timestamp (for per-row loops)."""
    factor, share = 1.0, 0.0
    for issue in issues:
        if issue.start_ms <= ts < issue.end_ms:
            if issue.kind == "latency":
                factor = max(factor, issue.strength)
            else:
                share = max(share, issue.strength)
    return factor, share


def by_service(issues: list[Issue]) -> dict[str, list[Issue]]:
    grouped: dict[str, list[Issue]] = {}
    for issue in issues:
        grouped.setdefault(issue.service_id, []).append(issue)
    return grouped


def poisson_times(rng: np.random.Generator, start_ms: int, end_ms: int, per_minute: float) -> np.ndarray:
    """Sorted event times of a Poisson process with a daily shape (busy afternoons, quiet nights)."""
    minutes = np.arange(start_ms, end_ms, 60_000, dtype=np.int64)
    counts = rng.poisson(per_minute * daily_shape(minutes, 0.0) / 0.8)
    starts = np.repeat(minutes, counts)
    offsets = rng.integers(0, 60_000, starts.size)
    ts = np.minimum(starts + offsets, end_ms - 1)
    return np.sort(ts)


def derive_points(start_ms: int, step_ms: int, buckets: int,
                  series: list[tuple[str, str, np.ndarray, np.ndarray | None]]) -> list[Points]:
    """Metric points of one entity from its beacons: (metric, aggregation, beacon timestamps, values) -> one
    point per time bucket [start + k*step, start + (k+1)*step). SUM of counts (values None) has a point in
    every bucket; MEAN and percentiles (as PostgreSQL's percentile_cont) only where the bucket has beacons."""
    out = []
    for metric_id, aggregation, ts, values in series:
        idx = ((np.asarray(ts, dtype=np.int64) - start_ms) // step_ms).astype(np.int64)
        counts = np.bincount(idx, minlength=buckets)[:buckets]
        if values is None:
            keys, found = np.arange(buckets), counts.astype(np.float64)
        else:
            vals = np.asarray(values, dtype=np.float64)
            keys = np.flatnonzero(counts)
            if aggregation == "MEAN":
                found = (np.bincount(idx, weights=vals, minlength=buckets)[:buckets] / np.maximum(counts, 1))[keys]
            else:  # linear interpolation between the closest ranks, per bucket, without a Python loop
                order = np.lexsort((vals, idx))
                ordered = vals[order]
                first = np.r_[0, np.cumsum(counts)][keys]
                rank = int(aggregation[1:]) / 100 * (counts[keys] - 1)
                low = np.floor(rank).astype(np.int64)
                high = np.minimum(low + 1, counts[keys] - 1)
                found = ordered[first + low] + (rank - low) * (ordered[first + high] - ordered[first + low])
        out.append(Points(metric_id, aggregation, start_ms + keys.astype(np.int64) * step_ms,
                          np.asarray(found, dtype=np.float64)))
    return out


@dataclass
class Points:
    """The points of one derived series: compact arrays until COPY takes them as rows (`point_rows`)."""

    metric_id: str
    aggregation: str
    ts_ms: np.ndarray
    value: np.ndarray


def point_rows(entity_id: str, points: list[Points], step_ms: int) -> list[tuple[Any, ...]]:
    """Rows (entity id, metric, aggregation, ts_ms, granularity_s, value) of one entity's derived series."""
    granularity = step_ms // 1000
    return [(entity_id, p.metric_id, p.aggregation, t, granularity, v) for p in points
            for t, v in zip(p.ts_ms.tolist(), p.value.tolist(), strict=True)]


def hex_ids(seed: int, kind: str, length: int = 16) -> Callable[[int], str]:
    """`n -> ids.hexid(seed, kind, n, length)`, with the key prefix encoded once: bulk tables need millions."""
    prefix, size = f"{seed}:{kind}:".encode(), (length + 1) // 2
    if length % 2:
        return lambda n: blake2b(b"%s%d" % (prefix, n), digest_size=size).hexdigest()[:length]
    return lambda n: blake2b(b"%s%d" % (prefix, n), digest_size=size).hexdigest()


def b64_ids(seed: int, kind: str, length: int) -> Callable[[int], str]:
    """`n -> ids.b64id(seed, kind, n, length)`, with the key prefix encoded once."""
    prefix, size = f"{seed}:{kind}:".encode(), (length * 3) // 4 + 3
    return lambda n: urlsafe_b64encode(blake2b(b"%s%d" % (prefix, n), digest_size=size).digest()).decode()[:length]


class Sequence:
    """Deterministic 16-hex ids for bulk rows of one kind: (seed, kind, running number)."""

    def __init__(self, seed: int, kind: str) -> None:
        self.seed, self.kind, self.n = seed, kind, 0
        self._id = hex_ids(seed, kind)

    def next(self) -> str:
        self.n += 1
        return self._id(self.n)


# -- vocabulary ---------------------------------------------------------------------------------------------

# page name -> path template (a page load goes to the website origin + path)
PAGES: tuple[tuple[str, str, float], ...] = (
    ("home", "/", 0.24), ("search", "/search", 0.14), ("product-detail", "/products/{slug}", 0.2),
    ("category", "/c/{slug}", 0.1), ("cart", "/cart", 0.09), ("checkout", "/checkout", 0.06),
    ("account", "/account", 0.07), ("login", "/login", 0.06), ("order-history", "/account/orders", 0.04),
)
# (browser, version, os, os version, device type, weight)
USER_AGENTS: tuple[tuple[str, str, str, str, str, float], ...] = (
    ("Chrome", "131.0.6778", "Windows", "10", "desktop", 0.26),
    ("Chrome", "131.0.6778", "macOS", "14.6", "desktop", 0.1),
    ("Edge", "131.0.2903", "Windows", "11", "desktop", 0.08), ("Firefox", "133.0", "Windows", "10", "desktop", 0.05),
    ("Safari", "18.1", "macOS", "15.1", "desktop", 0.07), ("Mobile Safari", "18.1", "iOS", "18.1", "mobile", 0.2),
    ("Chrome Mobile", "131.0.6778", "Android", "14", "mobile", 0.16), ("Safari", "17.6", "iOS", "17.6", "tablet", 0.04),
    ("Samsung Internet", "26.0", "Android", "13", "mobile", 0.04),
)
# (country code, country, city, weight)
PLACES: tuple[tuple[str, str, str, float], ...] = (
    ("DE", "Germany", "Berlin", 0.12), ("DE", "Germany", "Munich", 0.07), ("GB", "United Kingdom", "London", 0.12),
    ("FR", "France", "Paris", 0.08), ("NL", "Netherlands", "Amsterdam", 0.05),
    ("US", "United States", "New York", 0.14),
    ("US", "United States", "Seattle", 0.07), ("US", "United States", "Austin", 0.06),
    ("SG", "Singapore", "Singapore", 0.05), ("JP", "Japan", "Tokyo", 0.07), ("AU", "Australia", "Sydney", 0.05),
    ("BR", "Brazil", "São Paulo", 0.05), ("IN", "India", "Bengaluru", 0.07),
)
RESOURCES: tuple[tuple[str, str], ...] = (
    ("script", "/static/js/main.{hash}.js"), ("script", "/static/js/vendor.{hash}.js"),
    ("css", "/static/css/main.{hash}.css"), ("img", "/static/img/hero-banner.webp"),
    ("img", "/static/img/logo.svg"), ("font", "/static/fonts/inter-var.woff2"),
)
JS_ERRORS: tuple[tuple[str, str], ...] = (
    ("TypeError", "Cannot read properties of undefined (reading 'price')"),
    ("TypeError", "Cannot read properties of null (reading 'addEventListener')"),
    ("ReferenceError", "gtag is not defined"),
    ("SyntaxError", "Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON"),
    ("Error", "ResizeObserver loop completed with undelivered notifications."),
)

PAGE_LOADS_PER_MINUTE = 1.5  # per website at the daily peak
RESOURCES_PER_PAGE = 0.7  # beyond the first
HTTP_CALLS_PER_PAGE = 0.9
JS_ERROR_RATE = 0.015  # page loads with a JavaScript error of their own
BASE_HTTP_FAILURE = 0.005

WEBSITE_METRICS: tuple[dict[str, Any], ...] = (
    {"metric_id": "pageLoads", "label": "Page loads", "formatter": "NUMBER", "aggregations": ["SUM"],
     "default_aggregation": "SUM", "beacon_types": ["pageLoad"], "path_to_value": None,
     "description": "Number of page loads (pageLoad beacons)"},
    {"metric_id": "onLoadTime", "label": "Page load time", "formatter": "MILLIS", "aggregations": ["MEAN", "P95"],
     "default_aggregation": "MEAN", "beacon_types": ["pageLoad"], "path_to_value": ["onLoadTime"],
     "description": "Time until the browser's load event of a page load (loadEventEnd - fetchStart) in ms"},
    {"metric_id": "jsErrors", "label": "JavaScript errors", "formatter": "NUMBER", "aggregations": ["SUM"],
     "default_aggregation": "SUM", "beacon_types": ["error"], "path_to_value": None,
     "description": "Number of JavaScript errors (error beacons)"},
    {"metric_id": "httpCalls", "label": "HTTP calls", "formatter": "NUMBER", "aggregations": ["SUM"],
     "default_aggregation": "SUM", "beacon_types": ["httpRequest"], "path_to_value": None,
     "description": "Number of HTTP requests made by pages (httpRequest beacons)"},
)
# (metric, aggregation) series derived per website, in export order
WEBSITE_SERIES = (("pageLoads", "SUM"), ("onLoadTime", "MEAN"), ("onLoadTime", "P95"), ("jsErrors", "SUM"),
                  ("httpCalls", "SUM"))


# -- factories ----------------------------------------------------------------------------------------------

class WebsiteFactory(RowFactory):
    """A website in front of an application perspective, named like it and served from its own host."""

    class Params:
        app: dict = factory.Dict({})

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "website", o.n, 22))
    name = factory.LazyAttribute(lambda o: o.app["label"])
    app_name = factory.LazyAttribute(lambda o: slug(o.app["label"]))
    business_criticality = factory.LazyAttribute(lambda o: max(1, o.app["business_criticality"]))
    application_id = factory.LazyAttribute(lambda o: o.app["id"])
    origin = factory.LazyAttribute(lambda o: f"https://www.{app_host(o.app['label'])}")


def _static(key: str, value: str) -> dict[str, str]:
    return {"type": "staticString", "key": key, "value": value}


EVERYTHING = {"type": "EXPRESSION", "logicalOperator": "AND", "elements": []}


class EumAlertConfigFactory(RowFactory):
    """Shared by website and mobile app Smart Alerts: the layer passes the subject, the rule and the thresholds
    it derived from the observed traffic; this dresses them as Instana shows them."""

    class Params:
        subject = "Webshop"
        window_start_ms = 0
        unit = ""
        texts = ("{subject}: alert", "{subject} alert")
        fmt = factory.LazyAttribute(lambda o: {
            "subject": o.subject, "warning": f"{o.warning_value:g}{o.unit}",
            "critical": f"{o.critical_value:g}{o.unit}", "minutes": o.granularity_ms // 60_000})
        team = FuzzyChoice(("frontend", "mobile", "web-platform", "checkout", "sre"))
        age_days = FuzzyInteger(3, 400)
        revised_days = factory.LazyAttribute(lambda o: rand.randint(0, max(0, o.age_days - 1)))

    name = factory.LazyAttribute(lambda o: o.texts[0].format(**o.fmt))
    description = factory.LazyAttribute(lambda o: o.texts[1].format(**o.fmt))
    enabled = factory.LazyFunction(lambda: rand.random() < 0.9)
    triggering = factory.LazyFunction(lambda: rand.random() < 0.3)
    severity = 10  # the critical threshold is always set
    granularity_ms = FuzzyChoice((300_000, 600_000, 600_000, 900_000))
    alert_type = "slowness"
    metric_id = "onLoadTime"
    aggregation = "P95"
    rule_operator = None
    rule_value = None
    threshold_operator = ">"
    warning_value = None
    critical_value = 0.0
    time_threshold = factory.LazyAttribute(lambda o: rand.choice((
        {"type": "violationsInSequence", "timeWindow": o.granularity_ms * 2},
        {"type": "violationsInPeriod", "timeWindow": o.granularity_ms * 6, "violations": 3},
        {"type": "userImpactOfViolationsInSequence", "timeWindow": o.granularity_ms * 2,
         "impactMeasurementMethod": "AGGREGATED", "userPercentage": 0.1},
    )))
    tag_filter_expression = EVERYTHING
    custom_payload_fields = factory.LazyAttribute(lambda o: [_static("team", o.team),
                                                             _static("runbook", f"https://runbooks.example.com/"
                                                                                f"{slug(o.subject)}/{o.alert_type}")])
    created_ms = factory.LazyAttribute(lambda o: o.window_start_ms - o.revised_days * DAY_MS
                                       - rand.randint(0, DAY_MS // 1000) * 1000)
    initial_created_ms = factory.LazyAttribute(lambda o: o.window_start_ms - o.age_days * DAY_MS)


class WebsiteAlertConfigFactory(EumAlertConfigFactory):
    """Traits: the three kinds of website Smart Alert generated."""

    class Params:
        slow_pages = factory.Trait(
            alert_type="slowness", metric_id="onLoadTime", aggregation="P95", threshold_operator=">",
            unit=" ms", texts=("Slow page loads on {subject}",
                               "The 95th percentile page load time of {subject} is above {warning} (warning) or "
                               "{critical} (critical) over {minutes} minutes."))
        traffic_drop = factory.Trait(
            alert_type="throughput", metric_id="pageLoads", aggregation="SUM", threshold_operator="<",
            texts=("Page loads of {subject} dropped",
                   "{subject} had fewer than {warning} (warning) or {critical} (critical) page loads in "
                   "{minutes} minutes."))
        js_errors = factory.Trait(
            alert_type="specificJsError", metric_id="jsErrors", aggregation="SUM", threshold_operator=">",
            rule_operator="NOT_EMPTY", texts=("JavaScript errors on {subject}",
                                              "More than {warning} (warning) or {critical} (critical) JavaScript "
                                              "errors on {subject} in {minutes} minutes."))

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "website_alert_config", o.n, 22))
    website_id = "website"


# -- beacons ------------------------------------------------------------------------------------------------

def _weights(options: tuple[tuple[Any, ...], ...]) -> np.ndarray:
    w = np.array([o[-1] for o in options], dtype=np.float64)
    return w / w.sum()


SESSION_COLUMNS = ("session_id", "website_id", "start_ms", "browser_name", "browser_version", "os_name",
                   "os_version", "device_type", "country_code", "country", "city")
BEACON_COLUMNS = ("beacon_id", "website_id", "session_id", "page_load_id", "type", "timestamp_ms", "duration_ms",
                  "page", "backend_time_ms", "resource_type", "url", "http_call_method", "http_call_status",
                  "endpoint_id", "error_type", "error_message")
POINT_COLUMNS = ("website_id", "metric_id", "aggregation", "ts_ms", "granularity_s", "value")


@dataclass
class Traffic:
    """What one website or mobile app produced: rows as tuples in the tables' column order, the derived metric
    points as arrays (turned into rows only when COPY takes them) and the stats alert thresholds come from."""

    sessions: list[tuple[Any, ...]]
    beacons: list[tuple[Any, ...]]
    points: list[Points]
    stats: dict[str, float]


def website_traffic(est: Estate, website: dict[str, Any], rng: np.random.Generator, r: random.Random,
                    beacon_ids: Sequence, session_ids: Sequence) -> Traffic:
    """Sessions and beacons of one website: page loads (slower while a latency issue hits a service of its
    application), their resources and HTTP calls (to the application's real endpoints, failing mostly while an
    error issue hits the endpoint's service), and JavaScript errors (often after a failed call); then the metric
    points derived from them."""
    app_services = est.app_services.get(website["application_id"], [])
    issues = est.issues_of(app_services)
    endpoints = est.app_http_endpoints(website["application_id"])
    api = f"https://{app_host(website['application_label'])}"  # the application's API, called cross-origin
    own = by_service(issues)
    volume = PAGE_LOADS_PER_MINUTE * rng.lognormal(0.0, 0.35)

    # visitors arrive as a Poisson process and load about 2.5 pages each, some 45 s apart
    starts = poisson_times(rng, est.start_ms, est.end_ms, volume / 2.5)
    counts = rng.geometric(0.4, starts.size)
    session_of = np.repeat(np.arange(starts.size), counts)
    gaps = rng.exponential(45_000.0, session_of.size)
    firsts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    gaps[firsts] = 0.0
    elapsed = np.cumsum(gaps)
    load_ts = np.repeat(starts, counts) + (elapsed - np.repeat(elapsed[firsts], counts)).astype(np.int64)
    keep = load_ts < est.end_ms
    order = np.argsort(load_ts[keep], kind="stable")
    load_ts, session_of = load_ts[keep][order], session_of[keep][order]
    n = load_ts.size

    agents = rng.choice(len(USER_AGENTS), starts.size, p=_weights(USER_AGENTS))
    places = rng.choice(len(PLACES), starts.size, p=_weights(PLACES))
    wid = website["id"]
    sid_of = [session_ids.next() for _ in range(starts.size)]
    sessions = [(sid, wid, t, *USER_AGENTS[a][:5], *PLACES[p][:3])
                for sid, t, a, p in zip(sid_of, starts.tolist(), agents.tolist(), places.tolist(), strict=True)]

    pages = rng.choice(len(PAGES), n, p=_weights(PAGES))
    base = rng.lognormal(np.log(1100.0), 0.45, n)
    backend_share = rng.uniform(0.15, 0.35, n)
    slow = latency_factor(issues, load_ts)
    backend = np.round(base * backend_share * slow).astype(np.int64)
    duration = backend + np.round(base * (1 - backend_share)).astype(np.int64)

    beacons: list[tuple[Any, ...]] = []
    add = beacons.append
    http_ts_all: list[int] = []
    error_ts_all: list[int] = []
    n_res = 1 + rng.poisson(RESOURCES_PER_PAGE, n)
    n_http = rng.poisson(HTTP_CALLS_PER_PAGE, n) if endpoints else np.zeros(n, dtype=np.int64)
    below, between, lognormvariate, random_ = r._randbelow, randint(r), lognormal(r), r.random  # type: ignore[attr-defined]
    next_id, end_ms, origin = beacon_ids.next, est.end_ms, website["origin"]
    resource_urls = [(kind, origin + path.format(hash=ids.hexid(est.seed, kind, 1, 8))) for kind, path in RESOURCES]
    log_60, log_140 = np.log(60.0), np.log(140.0)
    targets = [(ep["id"], *split_label(ep["label"]), own.get(ep["service_id"], [])) for ep in endpoints]
    for t0, dur, back, page_k, sess, res_k, http_k in zip(
            load_ts.tolist(), duration.tolist(), backend.tolist(), pages.tolist(), session_of.tolist(),
            n_res.tolist(), n_http.tolist(), strict=True):
        page, path, _ = PAGES[page_k]
        sid = sid_of[sess]
        pl_id = next_id()
        add((pl_id, wid, sid, pl_id, "pageLoad", t0, dur, page, back, None, origin + fill_path(path, r), None, None,
             None, None, None))
        for _ in range(res_k):
            kind, url = resource_urls[below(len(RESOURCES))]
            ts = t0 + between(1, max(1, dur - back))
            if ts < end_ms:
                add((next_id(), wid, sid, pl_id, "resourceLoad", ts, int(lognormvariate(log_60, 0.6)), page, None,
                     kind, url, None, None, None, None, None))
        failed_at: tuple[int, int] | None = None
        for _ in range(http_k):
            ep_id, method, ep_path, ep_issues = targets[below(len(targets))]
            ts = t0 + between(max(1, dur // 2), dur + 20_000)
            if ts >= end_ms:
                continue
            factor, share = effects_at(ep_issues, ts) if ep_issues else (1.0, 0.0)
            fail = random_() < max(BASE_HTTP_FAILURE, share)
            status = SERVER_ERRORS[below(len(SERVER_ERRORS))] if fail else SUCCESS_STATUS.get(method, 200)
            if fail and failed_at is None:
                failed_at = (ts, status)
            add((next_id(), wid, sid, pl_id, "httpRequest", ts, int(lognormvariate(log_140, 0.5) * factor), page,
                 None, None, api + fill_path(ep_path, r), method, status, ep_id, None, None))
            http_ts_all.append(ts)
        error: tuple[str, str] | None = None
        if failed_at is not None and random_() < 0.6:
            error = ("Error", f"Request failed with status code {failed_at[1]}")
            ts = failed_at[0] + between(1, 400)
        elif random_() < JS_ERROR_RATE:
            error = JS_ERRORS[below(len(JS_ERRORS))]
            ts = t0 + between(1, dur + 30_000)
        if error is not None and ts < end_ms:
            add((next_id(), wid, sid, pl_id, "error", ts, None, page, None, None, None, None, None, None, error[0],
                 error[1]))
            error_ts_all.append(ts)

    points = derive_points(est.start_ms, est.step_ms, est.buckets, [
        ("pageLoads", "SUM", load_ts, None),
        ("onLoadTime", "MEAN", load_ts, duration),
        ("onLoadTime", "P95", load_ts, duration),
        ("jsErrors", "SUM", np.array(error_ts_all, dtype=np.int64), None),
        ("httpCalls", "SUM", np.array(http_ts_all, dtype=np.int64), None),
    ])
    quiet = ~(slow > 1.0)
    p95 = float(np.percentile(duration[quiet], 95)) if quiet.any() else 3000.0
    stats = {"onLoadTime.p95": p95, "pageLoads.per_minute": n / max(1.0, (est.end_ms - est.start_ms) / 60_000),
             "jsErrors.per_minute": len(error_ts_all) / max(1.0, (est.end_ms - est.start_ms) / 60_000)}
    return Traffic(sessions, beacons, points, stats)
