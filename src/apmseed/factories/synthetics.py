"""Synthetic monitoring: managed locations (PoPs), tests (HTTPAction / HTTPScript against real endpoints,
WebpageAction / BrowserScript against real websites) and the generator of their scheduled results."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import factory
import numpy as np
from factory.fuzzy import FuzzyChoice, FuzzyInteger

from apmseed import ids
from apmseed.factories.base import RowFactory, rand
from apmseed.factories.web import (
    SERVER_ERRORS,
    SUCCESS_STATUS,
    Estate,
    Issue,
    b64_ids,
    error_issue,
    latency_factor,
    split_label,
)

DAY_MS = 86_400_000
# (label, city, country, latitude, longitude, round trip to the services in ms)
LOCATIONS: tuple[tuple[str, str, str, float, float, int], ...] = (
    ("aws-eu-west-1", "Dublin", "Ireland", 53.3498, -6.2603, 4),
    ("aws-us-east-1", "Ashburn", "United States", 39.0438, -77.4874, 76),
    ("aws-eu-central-1", "Frankfurt", "Germany", 50.1109, 8.6821, 22),
    ("aws-ap-southeast-1", "Singapore", "Singapore", 1.3521, 103.8198, 168),
    ("aws-us-west-2", "Boardman", "United States", 45.8399, -119.7006, 128),
    ("aws-ap-northeast-1", "Tokyo", "Japan", 35.6762, 139.6503, 212),
    ("aws-ap-southeast-2", "Sydney", "Australia", -33.8688, 151.2093, 254),
    ("aws-sa-east-1", "São Paulo", "Brazil", -23.5505, -46.6333, 186),
)
API_TYPES = ["HTTPAction", "HTTPScript", "DNS", "SSLCertificate"]
BROWSER_TYPES = ["BrowserScript", "WebpageAction", "WebpageScript"]
API_FREQUENCIES = (2, 5, 5, 10, 15, 30)  # minutes
BROWSER_FREQUENCIES = (10, 15, 30, 60)
BASE_FAILURE_RATE = 0.005  # runs that fail with nothing in the data to explain it (network trouble)
BASE_FAILURES = ("Error: socket hang up", "Error: getaddrinfo EAI_AGAIN {host}", "Error: read ECONNRESET",
                 "Error: Client network socket disconnected before secure TLS connection was established")
TIMEOUT_MS = {"HTTPAction": 10_000, "HTTPScript": 30_000, "WebpageAction": 60_000, "BrowserScript": 120_000}


def _browser_types(n: int) -> list[str]:
    """Every third PoP runs API tests only; the others run browsers too."""
    return [[], ["chrome", "firefox"], ["chrome"]][(n + 1) % 3]


class SyntheticLocationFactory(RowFactory):
    """A managed point of presence; its capabilities decide which tests may run there."""

    class Params:
        place = factory.LazyAttribute(lambda o: LOCATIONS[o.n % len(LOCATIONS)])
        window_start_ms = 0

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "synthetic_location", o.n, 22))
    label = factory.LazyAttribute(lambda o: o.place[0] if o.n < len(LOCATIONS) else f"{o.place[0]}-{o.n}")
    display_label = factory.LazyAttribute(lambda o: o.place[1])
    description = factory.LazyAttribute(lambda o: f"Managed PoP in {o.place[1]}, {o.place[2]}")
    location_type = "Managed"
    status = "Online"
    pop_version = FuzzyChoice(("1.1.62", "1.1.63"))
    city_name = factory.LazyAttribute(lambda o: o.place[1])
    country_name = factory.LazyAttribute(lambda o: o.place[2])
    latitude = factory.LazyAttribute(lambda o: o.place[3])
    longitude = factory.LazyAttribute(lambda o: o.place[4])
    synthetic_types = factory.LazyAttribute(lambda o: API_TYPES + (BROWSER_TYPES if _browser_types(o.n) else []))
    browser_types = factory.LazyAttribute(lambda o: _browser_types(o.n))
    created_ms = factory.LazyAttribute(lambda o: o.window_start_ms - rand.randint(200, 900) * DAY_MS)


def _api_script(method: str, url: str, status: int) -> str:
    body = ", json: { quantity: 1 }" if method in ("POST", "PUT", "PATCH") else ""
    return (
        "const assert = require('assert');\n\n"
        f"$http({{ method: '{method}', url: '{url}'{body}, headers: {{ Accept: 'application/json' }} }},\n"
        "  function (err, response, body) {\n"
        "    if (err) throw err;\n"
        f"    assert.equal(response.statusCode, {status}, 'Expected a {status} response');\n"
        "  });\n")


def _browser_script(origin: str) -> str:
    return (
        "const assert = require('assert');\n\n"
        "(async function () {\n"
        f"  await $browser.get('{origin}/login');\n"
        "  await $browser.waitForAndFindElement($driver.By.id('email'), 10000).sendKeys('synthetic@example.com');\n"
        "  await $browser.findElement($driver.By.id('password')).sendKeys($secure.syntheticPassword);\n"
        "  await $browser.findElement($driver.By.css('button[type=submit]')).click();\n"
        "  await $browser.waitForAndFindElement($driver.By.css('[data-test=account-menu]'), 15000);\n"
        f"  await $browser.get('{origin}/cart');\n"
        "  const title = await $browser.getTitle();\n"
        "  assert.ok(title.length > 0, 'cart page has a title');\n"
        "})();\n")


class SyntheticTestFactory(RowFactory):
    """One trait per synthetic type; `target` is what the layer chose to test: an endpoint (with its service,
    application and URL) or a website (with its application and origin)."""

    class Params:
        target: dict = factory.Dict({})
        window_start_ms = 0
        age_days = FuzzyInteger(2, 300)
        http_action = factory.Trait(
            synthetic_type="HTTPAction",
            label=factory.LazyAttribute(lambda o: f"{o.target['app_label']}: {o.target['endpoint_label']}"),
            description=factory.LazyAttribute(
                lambda o: f"Calls {o.target['endpoint_label']} of {o.target['service_label']} and expects "
                          f"HTTP {o.target['expect']}."),
            configuration=factory.LazyAttribute(lambda o: {
                "syntheticType": "HTTPAction", "markSyntheticCall": True, "retries": 1, "retryInterval": 1,
                "timeout": "10s", "url": o.target["url"], "operation": o.target["method"],
                "expectStatus": o.target["expect"], "followRedirect": True, "allowInsecure": False,
                "headers": {"Accept": "application/json", "X-Synthetic-Check": "instana"},
                **({"body": json.dumps({"quantity": 1})} if o.target["method"] in ("POST", "PUT", "PATCH") else {}),
            }))
        http_script = factory.Trait(
            synthetic_type="HTTPScript",
            label=factory.LazyAttribute(lambda o: f"{o.target['app_label']}: {o.target['endpoint_label']} (script)"),
            description=factory.LazyAttribute(
                lambda o: f"Scripted call of {o.target['endpoint_label']} of {o.target['service_label']}."),
            configuration=factory.LazyAttribute(lambda o: {
                "syntheticType": "HTTPScript", "markSyntheticCall": True, "retries": 0, "timeout": "30s",
                "scriptType": "Basic",
                "script": _api_script(o.target["method"], o.target["url"], o.target["expect"])}))
        webpage_action = factory.Trait(
            synthetic_type="WebpageAction",
            label=factory.LazyAttribute(lambda o: f"{o.target['website_name']}: home page"),
            description=factory.LazyAttribute(lambda o: f"Loads {o.target['url']} in a browser."),
            configuration=factory.LazyAttribute(lambda o: {
                "syntheticType": "WebpageAction", "markSyntheticCall": True, "retries": 1, "retryInterval": 2,
                "timeout": "60s", "url": o.target["url"], "browser": o.target["browser"], "recordVideo": False}))
        browser_script = factory.Trait(
            synthetic_type="BrowserScript",
            label=factory.LazyAttribute(lambda o: f"{o.target['website_name']}: login and cart journey"),
            description=factory.LazyAttribute(lambda o: f"Logs in on {o.target['url']} and opens the cart."),
            configuration=factory.LazyAttribute(lambda o: {
                "syntheticType": "BrowserScript", "markSyntheticCall": True, "retries": 0, "timeout": "120s",
                "browser": o.target["browser"], "scriptType": "Basic", "recordVideo": True,
                "script": _browser_script(o.target["url"])}))

    id = factory.LazyAttribute(lambda o: ids.b64id(o.seed, "synthetic_test", o.n, 20))
    label = "test"
    description = None
    active = factory.LazyFunction(lambda: rand.random() < 0.93)
    test_frequency_min = factory.LazyAttribute(
        lambda o: rand.choice(API_FREQUENCIES if o.synthetic_type in ("HTTPAction", "HTTPScript")
                              else BROWSER_FREQUENCIES))
    playback_mode = FuzzyChoice(("Simultaneous", "Staggered"))
    synthetic_type = "HTTPAction"
    configuration: Any = None
    url = factory.LazyAttribute(lambda o: o.target["url"])
    application_id = factory.LazyAttribute(lambda o: o.target["application_id"])
    service_id = factory.LazyAttribute(lambda o: o.target.get("service_id"))
    endpoint_id = factory.LazyAttribute(lambda o: o.target.get("endpoint_id"))
    website_id = factory.LazyAttribute(lambda o: o.target.get("website_id"))
    created_ms = factory.LazyAttribute(lambda o: o.window_start_ms - o.age_days * DAY_MS
                                       - rand.randint(0, 86_399) * 1000)
    modified_ms = factory.LazyAttribute(lambda o: o.created_ms + rand.randint(0, o.age_days - 1) * DAY_MS)


RESULT_COLUMNS = ("result_id", "test_id", "location_id", "start_ms", "run_type", "status", "response_time_ms",
                  "response_size_bytes", "http_status", "errors", "event_id")


def _latency_at(est: Estate, service_id: str, starts: np.ndarray) -> list[float | None]:
    """`est.latency_at` for many timestamps at once."""
    series = est.service_latency.get(service_id)
    if series is None:
        return [None] * starts.size
    values = series[np.minimum(series.size - 1, np.maximum(0, (starts - est.start_ms) // est.step_ms))]
    return [None if math.isnan(v) else v for v in values.tolist()]


def run_results(est: Estate, test: dict[str, Any], locations: list[dict[str, Any]], rng: np.random.Generator,
                r: random.Random, result_n: list[int]) -> list[tuple[Any, ...]]:
    """The scheduled runs of one active test from each of its locations over the window, as rows in
    RESULT_COLUMNS order. Response times follow the target (the service's own latency series, or page load
    times), slowed by latency issues; a run fails when an issue of the target's service(s) explains it (error
    share, or a timeout under a latency issue), or rarely (BASE_FAILURE_RATE) for no visible reason."""
    freq_ms = test["test_frequency_min"] * 60_000
    api = test["synthetic_type"] in ("HTTPAction", "HTTPScript")
    services = [test["service_id"]] if api else est.app_services.get(test["application_id"], [])
    issues = est.issues_of(services)
    timeout = TIMEOUT_MS[test["synthetic_type"]]
    first = est.start_ms + int(rng.integers(0, freq_ms))
    expect = 200
    if api:
        endpoint = next(e for e in est.endpoints[test["service_id"]] if e["id"] == test["endpoint_id"])
        expect = SUCCESS_STATUS.get(split_label(endpoint["label"])[0], 200)
    size_base = r.randint(300, 40_000) if api else r.randint(900_000, 2_600_000)
    result_id = b64_ids(est.seed, "synthetic_result", 22)
    test_id, uniform = test["id"], r.uniform
    rows = []
    for k, loc in enumerate(sorted(locations, key=lambda x: x["id"])):
        offset = 0 if test["playback_mode"] == "Simultaneous" else (k * freq_ms) // len(locations)
        starts = np.arange(first + offset, est.end_ms, freq_ms, dtype=np.int64)
        if starts.size == 0:
            continue
        rtt = next(p[5] for p in LOCATIONS if loc["label"].startswith(p[0]))
        factor = latency_factor(issues, starts)
        which, share = error_issue(issues, starts)
        if api:
            own = _latency_at(est, test["service_id"], starts)
            # the metric series already show a latency issue; without a series, apply it here
            service_ms = np.array([v if v is not None else r.lognormvariate(np.log(80.0), 0.4) * f
                                   for v, f in zip(own, factor, strict=True)])
            response = rtt * 2 + service_ms * rng.uniform(0.9, 1.3, starts.size) + rng.uniform(5, 40, starts.size)
            if test["synthetic_type"] == "HTTPScript":
                response = response * 1.2 + 60
            fail_p = np.minimum(0.95, share * (2.5 if test["endpoint_id"] in {
                i.endpoint_id for i in issues} else 1.5))
        else:
            response = rng.lognormal(np.log(1800.0), 0.25, starts.size) * (1 + 0.5 * (factor - 1)) + rtt * 12
            if test["synthetic_type"] == "BrowserScript":
                response = response * 3.2
            fail_p = share
        timeout_p = np.where(factor > 1, np.minimum(0.5, 0.08 * (factor - 1)), 0.0)
        draws = rng.random(starts.size)
        location_id = loc["id"]
        for start, rt, draw, fail, slow, cause_k in zip(
                starts.tolist(), response.astype(np.int64).tolist(), draws.tolist(), fail_p.tolist(),
                timeout_p.tolist(), which.tolist(), strict=True):
            result_n[0] += 1
            status, http, errors, event = 1, expect, [], None
            size = int(size_base * uniform(0.95, 1.05))
            if draw < fail:
                issue: Issue = issues[cause_k]
                status, http, event = 0, r.choice(SERVER_ERRORS), issue.event_id
                errors = [f"Expected status code {expect} but received {http}" if api
                          else f"Page {test['url']} returned HTTP {http}"]
                size = r.randint(150, 600)
            elif draw < fail + slow:
                cause = next(iss for iss in issues if iss.kind == "latency"
                             and iss.start_ms <= start < iss.end_ms)
                status, http, event, rt, size = 0, None, cause.event_id, timeout, 0
                errors = [f"Request timed out after {timeout} ms" if api
                          else f"TimeoutError: Navigation timeout of {timeout} ms exceeded"]
            elif draw > 1 - BASE_FAILURE_RATE:
                status, http, size = 0, None, 0
                errors = [r.choice(BASE_FAILURES).format(host=test["url"].split("/")[2])]
            rows.append((result_id(result_n[0]), test_id, location_id, start, "Scheduled", status, max(1, rt), size,
                         http, errors, event))
    return rows
