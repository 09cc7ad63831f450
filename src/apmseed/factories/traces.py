"""Traces and calls (Instana `Trace`, `GetTraceDownloadResultItem`): bulk rows, built trace by trace as plain
dicts (no factory_boy: the large profile has hundreds of thousands of calls).

Every trace is a tree of calls along the service map (a call A -> B only where the map has A -> B). A call's
duration is what its caller saw: network time + the callee's own time + its children's durations, the children
running one after the other inside the parent. Calls agree with the metrics of the services and endpoints they
reach: the callee's time follows its latency series at that minute, a call is erroneous only in a minute whose
erroneousCalls point is > 0 (and then about as often as the error share), and a service or endpoint never gets
more sampled calls in a minute than its calls series counts."""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apmseed import ids

MAX_DEPTH = 5  # calls below the root
MAX_CALLS = 40  # per trace
TRIES = 6  # placements tried per trace before it is dropped
END_MARGIN_MS = 15_000  # sampled traces start at least this long before the end of the window
DEFAULT_ERROR_SHARE = 0.005  # for a service or endpoint without series
STORE_CALL_P, WEB_CALL_P = 0.7, 0.45  # chance that a call reaches each datastore / web callee


@dataclass
class Signals:
    """The series of one service or endpoint that bound its calls, one value per point (None: no series)."""

    calls: np.ndarray | None = None
    errors: np.ndarray | None = None
    latency: np.ndarray | None = None  # P50 (service) or MEAN (endpoint), ms


@dataclass
class ServiceMap:
    """What traces are built from: entities, the service map and the metric signals, read by the layer."""

    start_ms: int
    end_ms: int
    step_ms: int
    services: dict[str, dict[str, Any]]  # id -> row (label, types, technologies)
    endpoints: dict[str, list[dict[str, Any]]]  # service id -> its endpoint rows, by id
    apps_of: dict[str, list[str]]  # service id -> application ids, sorted
    callees: dict[str, list[str]]  # service id -> services it calls, sorted
    service_signals: dict[str, Signals] = field(default_factory=dict)
    endpoint_signals: dict[str, Signals] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.endpoint_rows = {e["id"]: e for rows in self.endpoints.values() for e in rows}
        self._entries = [s for s in sorted(self.services) if self.is_web(s) and self.callable(s)]
        self._paths: dict[tuple[str, str], list[str] | None] = {}
        self._callers: dict[str, list[str]] = {}
        self._reverse: dict[str, list[str]] = {}
        for src, dsts in sorted(self.callees.items()):
            for dst in dsts:
                self._reverse.setdefault(dst, []).append(src)

    def callable(self, service_id: str) -> bool:
        return bool(self.endpoints.get(service_id))

    def is_web(self, service_id: str) -> bool:
        return "HTTP" in self.services[service_id]["types"]

    def entry_services(self) -> list[str]:
        """Services a trace can start at: web services with endpoints."""
        return self._entries

    def path(self, root: str, target: str) -> list[str] | None:
        """The shortest call path root -> ... -> target (deterministic: callees in id order)."""
        if (root, target) not in self._paths:
            self._paths[root, target] = self._shortest(root, target)
        return self._paths[root, target]

    def _shortest(self, root: str, target: str) -> list[str] | None:
        previous: dict[str, str | None] = {root: None}
        queue = deque([root])
        while queue:
            here = queue.popleft()
            if here == target:
                path = [here]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])  # type: ignore[arg-type]
                return path[::-1]
            for nxt in self.callees.get(here, []):
                if nxt not in previous and self.callable(nxt):
                    previous[nxt] = here
                    queue.append(nxt)
        return None

    def callers_of(self, target: str) -> list[str]:
        """Entry services from which `target` can be reached (itself included if it is one)."""
        if target not in self._callers:
            seen = {target}
            queue = deque([target])
            while queue:
                here = queue.popleft()
                for src in self._reverse.get(here, []):
                    if src not in seen and self.callable(src):
                        seen.add(src)
                        queue.append(src)
            self._callers[target] = [s for s in self._entries if s in seen] if self.callable(target) else []
        return self._callers[target]


@dataclass
class LoggedSpan:
    """A log line that names a trace: the trace must reach `service_id` around `ts_ms`."""

    service_id: str | None
    ts_ms: int
    error: bool = False
    endpoint_id: str | None = None  # a request-scoped line names the endpoint the call reached


class TraceBuilder:
    """Builds traces one by one and keeps the per-point budget of sampled calls of every series."""

    def __init__(self, world: ServiceMap, rand: random.Random, seed: int) -> None:
        self.w = world
        self.rand = rand
        self.seed = seed
        self.used: Counter[tuple[str, str, int]] = Counter()  # (kind, entity id, point index) -> sampled calls
        self.traces: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self._call_n = 0
        self._trace_n = 0
        self._base_ms: dict[str, float] = {}
        self._entries = world.entry_services()
        self._stretch = 0  # minimum duration of the call at the end of a forced path (to cover log lines)
        self._hit: dict[str, Any] | None = None  # that call, in the trace built last

    # -- metric lookups ---------------------------------------------------------------------------------
    def index(self, ts_ms: int) -> int:
        return (ts_ms - self.w.start_ms) // self.w.step_ms

    def _base_latency(self, service_id: str) -> float:
        """A typical time for a service without latency series: web services slower than datastores."""
        if service_id not in self._base_ms:
            r = random.Random(f"{self.seed}:latency:{service_id}")
            self._base_ms[service_id] = r.uniform(15.0, 150.0) if self.w.is_web(service_id) else r.uniform(1.0, 15.0)
        return self._base_ms[service_id]

    def _target_ms(self, service_id: str, endpoint_id: str | None, idx: int) -> int:
        s = self.w.service_signals.get(service_id)
        e = self.w.endpoint_signals.get(endpoint_id) if endpoint_id else None
        if s is not None and s.latency is not None:
            base = float(s.latency[idx])
        elif e is not None and e.latency is not None:
            base = float(e.latency[idx])
        else:
            base = self._base_latency(service_id)
        return max(1, round(base * self.rand.lognormvariate(0.0, 0.3)))

    def error_share(self, service_id: str, endpoint_id: str | None, idx: int) -> float:
        """How likely a call at point `idx` fails: 0 where a series says no call failed in that minute."""
        shares = []
        for sig in (self.w.service_signals.get(service_id),
                    self.w.endpoint_signals.get(endpoint_id) if endpoint_id else None):
            if sig is None or sig.errors is None:
                continue
            errors = float(sig.errors[idx])
            if errors <= 0:
                return 0.0
            calls = float(sig.calls[idx]) if sig.calls is not None else 0.0
            shares.append(errors / calls if calls > 0 else DEFAULT_ERROR_SHARE)
        return max(shares) if shares else DEFAULT_ERROR_SHARE

    # -- one trace ------------------------------------------------------------------------------------
    def _endpoint(self, service_id: str) -> dict[str, Any]:
        return self.rand.choice(self.w.endpoints[service_id])

    def _children(self, service_id: str, depth: int, forced: list[tuple[str, str | None]]
                  ) -> list[tuple[str, str, list[tuple[str, str | None]] | None]]:
        """(callee, endpoint, rest of the forced path or None for an optional call), in call order."""
        kids: list[tuple[str, str, list[tuple[str, str | None]] | None]] = []
        nxt = forced[0] if forced else None
        for dst in self.w.callees.get(service_id, []):
            if not self.w.callable(dst):
                continue
            if nxt is not None and dst == nxt[0]:
                kids.append((dst, nxt[1] or self._endpoint(dst)["id"], forced[1:]))
                continue
            if depth >= MAX_DEPTH:
                continue
            store = not self.w.is_web(dst)
            if self.rand.random() < (STORE_CALL_P if store else WEB_CALL_P):
                for _ in range(self.rand.randint(1, 3) if store else 1):
                    kids.append((dst, self._endpoint(dst)["id"], None))
        self.rand.shuffle(kids)
        return kids

    def _call(self, out: list[dict[str, Any]], trace_id: str, parent: dict[str, Any] | None, service_id: str,
              endpoint_id: str, t_start: int, depth: int, forced: list[tuple[str, str | None]] | None
              ) -> dict[str, Any]:
        """One call and, depth first, its children; `forced` is the rest of the path the trace must take (None
        off that path). The call at the end of the path takes at least `self._stretch` ms (`self._hit`)."""
        idx = self.index(t_start)
        idx_safe = min(max(idx, 0), self._points() - 1)
        endpoint = self.w.endpoint_rows[endpoint_id]
        network = None if parent is None else self.rand.randint(1, 6)
        net_in = 0 if network is None else network // 2
        target = self._target_ms(service_id, endpoint_id, idx_safe)
        is_target = forced is not None and not forced
        if is_target and self._stretch:
            target = max(target, self._stretch)
        call = {
            "id": trace_id if parent is None else self._next_call_id(),
            "trace_id": trace_id, "parent_id": None if parent is None else parent["id"],
            "name": endpoint["label"][:128], "start_ms": t_start, "duration_ms": 0, "network_time_ms": network,
            "error_count": 0, "src_service_id": None if parent is None else parent["dst_service_id"],
            "dst_service_id": service_id, "dst_endpoint_id": endpoint_id,
        }
        out.append(call)  # before its children: the rows come parents first
        if is_target:
            self._hit = call
        entry = t_start + net_in
        cursor = entry + max(1, round(target * self.rand.uniform(0.02, 0.15)))
        child_failed = False
        for dst, dst_endpoint, rest in self._children(service_id, depth, forced or []):
            if rest is None and len(out) >= MAX_CALLS:
                continue  # a big enough trace: only the forced path goes on
            child = self._call(out, trace_id, call, dst, dst_endpoint, cursor, depth + 1, rest)
            child_failed |= child["error_count"] == 1
            cursor += child["duration_ms"] + round(target * self.rand.uniform(0.0, 0.05))
        end = max(cursor + 1, entry + target)
        call["duration_ms"] = end - t_start + (0 if network is None else network - net_in)
        share = self.error_share(service_id, endpoint_id, idx_safe)
        if share > 0 and (self.rand.random() < share or (child_failed and self.rand.random() < 0.5)):
            call["error_count"] = 1
        return call

    def _points(self) -> int:
        return (self.w.end_ms - self.w.start_ms) // self.w.step_ms

    def _next_call_id(self) -> str:
        self._call_n += 1
        return ids.hexid(self.seed, "call", self._call_n, 16)

    def _build(self, trace_id: str, root: str, root_endpoint: str | None, t_start: int,
               path: list[str], target_endpoint: str | None) -> list[dict[str, Any]]:
        """Calls of one trace rooted at `root`, reaching every service of `path` (root first) in turn."""
        forced = [(s, target_endpoint if i == len(path) - 2 else None) for i, s in enumerate(path[1:])]
        out: list[dict[str, Any]] = []
        self._hit = None
        first_endpoint = root_endpoint or self._endpoint(root)["id"]
        self._call(out, trace_id, None, root, first_endpoint, t_start, 0, forced)
        return out

    def fits(self, calls: list[dict[str, Any]]) -> bool:
        """Inside the window, erroneous only where the metrics allow it, within every calls budget."""
        points = self._points()
        wanted: Counter[tuple[str, str, int]] = Counter()
        for c in calls:
            idx = self.index(c["start_ms"])
            if c["start_ms"] < self.w.start_ms or c["start_ms"] + c["duration_ms"] >= self.w.end_ms or idx >= points:
                return False
            if c["error_count"] and self.error_share(c["dst_service_id"], c["dst_endpoint_id"], idx) <= 0:
                return False
            for kind, key, signals in (("S", c["dst_service_id"], self.w.service_signals),
                                       ("E", c["dst_endpoint_id"], self.w.endpoint_signals)):
                sig = signals.get(key)
                if sig is not None and sig.calls is not None:
                    wanted[kind, key, idx] += 1
        for (kind, key, idx), n in wanted.items():
            signals = self.w.service_signals if kind == "S" else self.w.endpoint_signals
            if self.used[kind, key, idx] + n > signals[key].calls[idx]:  # type: ignore[index]
                return False
        return True

    def accept(self, calls: list[dict[str, Any]], application_id: str) -> None:
        for c in calls:
            idx = self.index(c["start_ms"])
            for kind, key, signals in (("S", c["dst_service_id"], self.w.service_signals),
                                       ("E", c["dst_endpoint_id"], self.w.endpoint_signals)):
                sig = signals.get(key)
                if sig is not None and sig.calls is not None:
                    self.used[kind, key, idx] += 1
        root = calls[0]
        self.traces.append({
            "id": root["trace_id"], "label": root["name"], "start_ms": root["start_ms"],
            "duration_ms": root["duration_ms"], "erroneous": any(c["error_count"] for c in calls),
            "application_id": application_id, "service_id": root["dst_service_id"],
            "endpoint_id": root["dst_endpoint_id"],
        })
        self.calls.extend(calls)

    def _application(self, service_id: str) -> str:
        return self.rand.choice(self.w.apps_of[service_id])

    # -- sampled traces -------------------------------------------------------------------------------
    def sampled(self, count: int, focus: list[tuple[str, str | None, int, int]], focus_share: float = 0.3) -> None:
        """`count` traces at random times; about `focus_share` of them inside a problem window
        (service, endpoint or None, from, to) and through that service, so they show the problem."""
        if not self._entries:
            return
        window = self.w.end_ms - self.w.start_ms
        for _ in range(count):
            self._trace_n += 1
            trace_id = ids.hexid(self.seed, "trace:sampled", self._trace_n, 16)
            target = self.rand.choice(focus) if focus and self.rand.random() < focus_share else None
            for _ in range(TRIES):
                if target is not None:
                    service, endpoint, lo, hi = target
                    roots = self.w.callers_of(service)
                    if not roots:
                        target = None
                        continue
                    root = self.rand.choice(roots)
                    path = self.w.path(root, service) or [root]
                    t = self.rand.randint(lo, max(lo, min(hi, self.w.end_ms - END_MARGIN_MS)))
                    calls = self._build(trace_id, root, endpoint if root == service else None, t, path,
                                        endpoint)
                else:
                    root = self.rand.choice(self._entries)
                    t = self.w.start_ms + self.rand.randint(0, max(0, window - END_MARGIN_MS))
                    calls = self._build(trace_id, root, None, t, [root], None)
                if self.fits(calls):
                    self.accept(calls, self._application(root))
                    break
                self._call_n -= len(calls) - 1  # reuse the ids of a rejected placement

    # -- traces that logs name -------------------------------------------------------------------------
    def logged(self, trace_id: str, spans: Iterable[LoggedSpan]) -> None:
        """A trace with the given id whose call to the logging service (at the logged endpoint, if any) is
        running at the time of each of its log lines, erroneous if one of them is an ERROR (where the metrics
        allow an error)."""
        spans = sorted(spans, key=lambda s: s.ts_ms)
        anchor = spans[0]
        service = anchor.service_id if anchor.service_id in self.w.services and self.w.callable(
            anchor.service_id) else None
        mine = [s for s in spans if s.service_id == anchor.service_id]
        lo, hi = mine[0].ts_ms, mine[-1].ts_ms
        endpoint = next((s.endpoint_id for s in mine if s.endpoint_id in self.w.endpoint_rows
                         and self.w.endpoint_rows[s.endpoint_id]["service_id"] == service), None)
        error = any(s.error for s in mine)
        for attempt in range(TRIES * 4):
            if service is not None:
                roots = self.w.callers_of(service)
                use_caller = roots and (self.rand.random() < 0.5 or not self.w.is_web(service))
                path = (self.w.path(self.rand.choice(roots), service) if use_caller else None) or [service]
            else:
                path = [self.rand.choice(self._entries)] if self._entries else [
                    next(s for s in sorted(self.w.services) if self.w.callable(s))]
            root = path[0]
            # a nearby minute if the log lines' minute has no budget left
            shift_ms = 0 if attempt < TRIES else self.rand.randint(-5, 5) * self.w.step_ms
            self._stretch = hi - lo + 3
            calls = self._build(trace_id, root, endpoint if len(path) == 1 else None, lo + shift_ms, path, endpoint)
            self._stretch = 0
            hit = self._hit or calls[0]
            if error and self.error_share(hit["dst_service_id"], hit["dst_endpoint_id"],
                                          self._clamp(self.index(hit["start_ms"]))) > 0:
                hit["error_count"] = 1
            # move the trace so that the logging call is running from before the first line to after the last
            slack = max(0, hit["duration_ms"] - (hi - lo) - 2)
            offset = lo + shift_ms - 1 - self.rand.randint(0, slack) - hit["start_ms"]
            root_call = calls[0]
            offset = max(offset, self.w.start_ms - root_call["start_ms"])
            offset = min(offset, self.w.end_ms - 1 - root_call["start_ms"] - root_call["duration_ms"])
            for c in calls:
                c["start_ms"] += offset
            if attempt >= TRIES * 2:
                for c in calls:
                    c["error_count"] = 0
            if self.fits(calls):
                self.accept(calls, self._application(root))
                return
            self._call_n -= len(calls) - 1
        # every placement collided with a full budget: one root call wherever there is room
        for idx in self.rand.sample(range(self._points()), self._points()):
            t = self.w.start_ms + idx * self.w.step_ms + self.rand.randint(0, self.w.step_ms // 2)
            root = service or path[0]
            row = self.w.endpoint_rows[endpoint] if endpoint else self._endpoint(root)
            calls = [{"id": trace_id, "trace_id": trace_id, "parent_id": None, "name": row["label"][:128],
                      "start_ms": t, "duration_ms": self._target_ms(root, row["id"], idx),
                      "network_time_ms": None, "error_count": 0, "src_service_id": None, "dst_service_id": root,
                      "dst_endpoint_id": row["id"]}]
            if self.fits(calls):
                self.accept(calls, self._application(root))
                return
        raise RuntimeError(f"no room for trace {trace_id}: every calls budget is exhausted")

    def _clamp(self, idx: int) -> int:
        return min(max(idx, 0), self._points() - 1)
