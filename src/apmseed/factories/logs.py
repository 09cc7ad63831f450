"""Log lines of the services' processes: message vocabularies per runtime and datastore, and the generator that
places INFO/DEBUG lines over the whole window and WARN/ERROR lines inside the latency/error issues of their
service (each tied to its issue), with deterministic 16-hex trace ids on request-scoped lines."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from apmseed.factories.web import Estate, Issue, Sequence, fill_path, lognormal, poisson_times, split_label
from apmseed.scenarios.signals import daily_shape

# the Instana technology of a service -> the vocabulary its lines use
RUNTIMES = {"springbootApplicationContainer": "java", "nodeJsRuntimePlatform": "node",
            "pythonRuntimePlatform": "python", "golangRuntimePlatform": "go", "clrRuntimePlatform": "dotnet",
            "postgreSqlDatabase": "postgres", "redisDatabase": "redis", "elasticsearchCluster": "elasticsearch",
            "kafkaCluster": "kafka"}
DATASTORES = frozenset({"postgres", "redis", "elasticsearch", "kafka"})
EXCEPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "java": (("java.net.SocketTimeoutException", "Read timed out"),
             ("org.springframework.dao.DataAccessResourceFailureException", "Unable to acquire JDBC Connection"),
             ("org.springframework.web.client.HttpServerErrorException$ServiceUnavailable",
              "503 Service Unavailable: \"upstream connect error or disconnect/reset before headers\"")),
    "node": (("Error", "connect ECONNREFUSED 10.12.4.17:5432"),
             ("TypeError", "Cannot read properties of undefined (reading 'items')"),
             ("FetchError", "request to http://inventory:8080/api/stock failed, reason: socket hang up")),
    "python": (("psycopg.OperationalError", "connection to server at \"orders-db\" (10.12.3.9), port 5432 failed: "
                                            "timeout expired"),
               ("requests.exceptions.ReadTimeout", "HTTPConnectionPool(host='pricing', port=8080): Read timed out. "
                                                   "(read timeout=2.0)"),
               ("KeyError", "'currency'")),
    "go": (("context.deadlineExceededError", "context deadline exceeded"),
           ("*net.OpError", "dial tcp 10.12.7.21:6379: connect: connection refused"),
           ("*errors.errorString", "upstream returned 503 Service Unavailable")),
    "dotnet": (("System.TimeoutException", "The operation has timed out."),
               ("Npgsql.NpgsqlException", "Exception while reading from stream"),
               ("System.Net.Http.HttpRequestException",
                "Response status code does not indicate success: 503 (Service Unavailable).")),
}
STORE_ERRORS: dict[str, tuple[str, ...]] = {
    "postgres": ("ERROR:  canceling statement due to statement timeout", "ERROR:  deadlock detected",
                 "FATAL:  remaining connection slots are reserved for non-replication superuser connections"),
    "redis": ("Error accepting a client connection: max number of clients reached",
              "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk"),
    "elasticsearch": ("rejected execution of coordinating operation [coordinating_and_primary_bytes=0, "
                      "replica_bytes=0, all_bytes=0, coordinating_operation_bytes=64234, max_coordinating_and_"
                      "primary_bytes=107374182]", "search_phase_execution_exception: all shards failed"),
    "kafka": ("Error processing append operation on partition {resource}-0 (kafka.server.ReplicaManager)",
              "[ReplicaFetcher replicaId=1, leaderId=2, fetcherId=0] Error sending fetch request"),
}
STORE_SLOW: dict[str, str] = {
    "postgres": "duration: {ms}.{frac:03d} ms  statement: {op} FROM {resource} WHERE id = $1",
    "redis": "Slow command: {op} {resource} took {ms} ms",
    "elasticsearch": "[index.search.slowlog.query] [{resource}][0] took[{ms}ms], took_millis[{ms}], total_hits[{n}]",
    "kafka": "[Producer clientId=producer-1] Request to partition {resource}-0 took {ms} ms",
}
STORE_INFO: dict[str, tuple[str, ...]] = {
    "postgres": ("checkpoint complete: wrote {n} buffers ({pct}.{frac}%); write={sec}.{msec:03d} s, "
                 "sync=0.004 s", "automatic vacuum of table \"app.public.{resource}\": index scans: 1"),
    "redis": ("{n} changes in 60 seconds. Saving...", "Background saving terminated with success"),
    "elasticsearch": ("[gc][{n}] overhead, spent [{ms}ms] collecting in the last [1s]",
                      "updating number_of_replicas to [1] for indices [{resource}]"),
    "kafka": ("[Log partition={resource}-0] Rolled new log segment at offset {n}",
              "[GroupCoordinator 1]: Stabilized group order-processor generation {sec}"),
}
APP_INFO = ("Refreshed {n} feature flags from feature-flags", "Connection pool stats: active={sec}, idle={pct}, "
            "waiting=0", "Scheduled job cleanup-expired-sessions finished in {ms} ms",
            "Cache hit ratio {pct}.{frac}% over the last 60 s")
APP_DEBUG = ("Outgoing request GET http://auth:8080/api/token returned 200 in {ms} ms",
             "Resolved {n} price rules for the request", "JWT validated for subject u-{n}")

BACKGROUND_PER_MINUTE = 0.1  # INFO/DEBUG lines per service and minute
REQUEST_SCOPED = {"INFO": 0.6, "DEBUG": 0.3}  # share of lines logged inside a request (they carry a trace id)
ERRORS_PER_MINUTE = 0.4  # plus 2.5 x the erroneous share of the issue
WARNINGS_PER_MINUTE = 0.3  # plus 0.1 x the latency factor of the issue
COMPANION = 0.6  # share of error lines preceded by an INFO line of the same request


LOG_COLUMNS = ("log_id", "timestamp_ms", "level", "message", "service_id", "process_snapshot_id", "host_snapshot_id",
               "endpoint_id", "trace_id", "event_id", "stream_name", "exception_type", "exception_message")


def _fmt(template: str, r: random.Random, **extra: Any) -> str:
    below = r._randbelow  # type: ignore[attr-defined]  # r.randint(a, b) is a + below(b - a + 1)
    return template.format(n=2 + below(9_998), ms=2 + below(899), pct=40 + below(60), sec=1 + below(60),
                           frac=below(10), msec=below(1_000), **extra)


def background_per_minute(est: Estate, rng: np.random.Generator) -> float:
    """The service's own rate of INFO/DEBUG lines at scale 1 (the first draw of its private stream)."""
    return BACKGROUND_PER_MINUTE * rng.lognormal(0.0, 0.3)


def expected_lines(est: Estate, per_minute: float) -> float:
    """How many background lines `per_minute` gives over the window on average (see `poisson_times`)."""
    minutes = np.arange(est.start_ms, est.end_ms, 60_000, dtype=np.int64)
    return per_minute * float(np.sum(daily_shape(minutes, 0.0) / 0.8))


def expected_issue_lines(est: Estate, service: dict[str, Any]) -> float:
    """How many WARN/ERROR lines (and the INFO lines that precede errors) the service's issues give on average."""
    store = RUNTIMES.get(service["technologies"][0] if service["technologies"] else "", "java") in DATASTORES
    companions = 0.0 if store or not est.endpoints.get(service["id"]) else COMPANION
    total = 0.0
    for issue in est.issues_of([service["id"]]):
        minutes = (issue.end_ms - issue.start_ms) / 60_000
        if issue.kind == "errors":
            total += (ERRORS_PER_MINUTE + 2.5 * issue.strength) * minutes * (1 + companions)
        else:
            total += (WARNINGS_PER_MINUTE + 0.1 * issue.strength) * minutes
    return total


def _housekeeping(service: dict[str, Any], endpoints: list[dict[str, Any]], vocab: str, level: str,
                  r: random.Random) -> str:
    """An INFO/DEBUG line no request caused (a datastore's own chatter, an application's jobs and pools)."""
    below = r._randbelow  # type: ignore[attr-defined]
    resource = split_label(endpoints[below(len(endpoints))]["label"])[1].split(" ")[0] \
        if endpoints else service["label"]
    templates = STORE_INFO[vocab] if vocab in DATASTORES else (APP_INFO if level == "INFO" else APP_DEBUG)
    return _fmt(templates[below(len(templates))], r, resource=resource)


def housekeeping_logs(est: Estate, service: dict[str, Any], rng: np.random.Generator, r: random.Random,
                      log_ids: Sequence, count: int) -> list[tuple[Any, ...]]:
    """Exactly `count` more INFO/DEBUG lines of one service, no request behind them, at times that follow the daily
    shape: what tops a `logs` target up when the random volume fell short of it."""
    runtimes = est.runtimes[service["id"]]
    vocab = RUNTIMES.get(service["technologies"][0] if service["technologies"] else "", "java")
    endpoints = est.endpoints.get(service["id"], [])
    minutes = np.arange(est.start_ms, est.end_ms, 60_000, dtype=np.int64)
    shape = daily_shape(minutes, 0.0)
    stamps = np.sort(np.minimum(rng.choice(minutes, count, p=shape / shape.sum()) + rng.integers(0, 60_000, count),
                                est.end_ms - 1))
    rows = []
    for ts in stamps.tolist():
        level = "INFO" if r.random() < 0.65 else "DEBUG"
        message = _housekeeping(service, endpoints, vocab, level, r)
        process, host = runtimes[r._randbelow(len(runtimes))]  # type: ignore[attr-defined]
        rows.append((log_ids.next(), ts, level, message, service["id"], process, host, None, None, None, "stdout",
                     None, None))
    return rows


def service_logs(est: Estate, service: dict[str, Any], rng: np.random.Generator, r: random.Random,
                 log_ids: Sequence, trace_ids: Sequence, scale: float = 1.0) -> list[tuple[Any, ...]]:
    """All lines of one service (it must have at least one runtime process), as rows in LOG_COLUMNS order.
    `scale` multiplies the INFO/DEBUG lines but not the requests: a larger share of them is housekeeping, so the
    traces the lines name grow with the traffic, not with the log volume."""
    runtimes = est.runtimes[service["id"]]
    vocab = RUNTIMES.get(service["technologies"][0] if service["technologies"] else "", "java")
    store = vocab in DATASTORES
    endpoints = est.endpoints.get(service["id"], [])
    rows: list[tuple[Any, ...]] = []
    sid = service["id"]
    below, lognormvariate, uniform = r._randbelow, lognormal(r), r.uniform  # type: ignore[attr-defined]
    scoped = {level: share / max(1.0, scale) for level, share in REQUEST_SCOPED.items()}

    def line(ts: int, level: str, message: str, endpoint: dict[str, Any] | None = None, trace: str | None = None,
             issue: Issue | None = None, exception: tuple[str, str] | None = None) -> None:
        process, host = runtimes[below(len(runtimes))]
        rows.append((log_ids.next(), ts, level, message, sid, process, host, endpoint["id"] if endpoint else None,
                     trace, issue.event_id if issue else None, "stderr" if level in ("ERROR", "WARN") else "stdout",
                     exception[0] if exception else None, exception[1] if exception else None))

    def request(endpoint: dict[str, Any]) -> tuple[str, str, str]:
        """(operation, concrete path or resource, display) of a call to an endpoint."""
        op, rest = split_label(endpoint["label"])
        rest = fill_path(rest, r) if rest.startswith("/") else rest.split(" ")[0]
        return op, rest, f"{op} {rest}"

    log_60 = np.log(60.0)

    def latency(ts: int, factor: float = 1.0) -> int:
        base = est.latency_at(sid, ts) or lognormvariate(log_60, 0.5)
        return max(1, int(base * factor * uniform(0.7, 1.4)))

    # INFO and DEBUG all over the window
    rate = background_per_minute(est, rng)
    for ts in poisson_times(rng, est.start_ms, est.end_ms, rate * scale if scale != 1.0 else rate).tolist():
        level = "INFO" if r.random() < 0.65 else "DEBUG"
        if endpoints and not store and r.random() < scoped[level]:
            endpoint = endpoints[below(len(endpoints))]
            op, _, shown = request(endpoint)
            status = {"POST": 201, "DELETE": 204}.get(op, 200)
            message = (f"Completed {shown} in {latency(ts)} ms with status {status}" if level == "INFO"
                       else f"Handling {shown}")
            line(ts, level, message, endpoint, trace_ids.next())
        else:
            line(ts, level, _housekeeping(service, endpoints, vocab, level, r))

    # WARN and ERROR only while an issue of the service is open
    for issue in est.issues_of([sid]):
        minutes = (issue.end_ms - issue.start_ms) / 60_000
        if issue.kind == "errors":
            rate = ERRORS_PER_MINUTE + 2.5 * issue.strength
        else:
            rate = WARNINGS_PER_MINUTE + 0.1 * issue.strength
        count = int(rng.poisson(rate * minutes))
        stamps = np.sort(rng.integers(issue.start_ms, issue.end_ms, count))
        pinned = [e for e in endpoints if e["id"] == issue.endpoint_id]
        for ts in stamps.tolist():
            endpoint = pinned[0] if pinned else (endpoints[below(len(endpoints))] if endpoints else None)
            trace = trace_ids.next() if endpoint and not store else None  # datastores do not see traces
            op, resource, shown = request(endpoint) if endpoint else ("call", service["label"], service["label"])
            if issue.kind == "latency":
                took = latency(ts, issue.strength)
                message = (STORE_SLOW[vocab].format(ms=took, frac=r.randint(0, 999), op=op, resource=resource,
                                                    n=r.randint(10, 5_000)) if store
                           else f"Slow request: {shown} took {took} ms (threshold 1000 ms)")
                line(ts, "WARN", message, endpoint, trace, issue)
                continue
            if store:
                line(ts, "ERROR", STORE_ERRORS[vocab][below(len(STORE_ERRORS[vocab]))].format(
                    resource=resource), endpoint, trace, issue)
                continue
            exception = EXCEPTIONS[vocab][below(len(EXCEPTIONS[vocab]))]
            if endpoint and r.random() < COMPANION and ts - 5 >= est.start_ms:
                line(ts - r.randint(5, 2_000) if ts - 2_000 >= est.start_ms else ts - 5, "INFO", f"Handling {shown}",
                     endpoint, trace)
            line(ts, "ERROR", f"{shown} failed: {exception[0]}: {exception[1]}", endpoint, trace, issue, exception)
    return rows
