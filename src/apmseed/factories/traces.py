"""Traces and calls (Instana `Trace`, `GetTraceDownloadResultItem`): bulk rows, built trace by trace as plain
lists in `CALL_COLUMNS` order (no factory_boy, no dicts: the xl profile has millions of calls), handed to COPY
in chunks as they are made.

Every trace is a tree of calls along the service map (a call A -> B only where the map has A -> B). A call's
duration is what its caller saw: network time + the callee's own time + its children's durations, the children
running one after the other inside the parent. Calls agree with the metrics of the services and endpoints they
reach: the callee's time follows its latency series at that minute, a call is erroneous only in a minute whose
erroneousCalls point is > 0 (and then about as often as the error share), and a service or endpoint never gets
more sampled calls in a minute than its calls series counts."""

from __future__ import annotations

import math
import random
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apmseed.factories.web import hex_ids

MAX_DEPTH = 5  # calls below the root
MAX_CALLS = 40  # per trace
TRIES = 6  # placements tried per trace before it is dropped
END_MARGIN_MS = 15_000  # sampled traces start at least this long before the end of the window
DEFAULT_ERROR_SHARE = 0.005  # for a service or endpoint without series
STORE_CALL_P, WEB_CALL_P = 0.7, 0.45  # chance that a call reaches each datastore / web callee
MAX_MISSES = 10_000  # sampled traces in a row that found no room: every budget is spent, stop sampling

CALL_COLUMNS = ("id", "trace_id", "parent_id", "name", "start_ms", "duration_ms", "network_time_ms", "error_count",
                "src_service_id", "dst_service_id", "dst_endpoint_id")
TRACE_COLUMNS = ("id", "label", "start_ms", "duration_ms", "erroneous", "application_id", "service_id",
                 "endpoint_id")
# positions in a call row
ID, TRACE, PARENT, NAME, START, DURATION, NETWORK, ERRORS, SRC, DST, ENDPOINT = range(len(CALL_COLUMNS))
Call = list[Any]
NV_MAGICCONST = 4 * math.exp(-0.5) / math.sqrt(2.0)  # random.normalvariate's constant
_log, _exp = math.log, math.exp


@dataclass
class Signals:
    """The series of one service or endpoint that bound its calls, one value per point (None: no series)."""

    calls: Sequence[float] | None = None
    errors: Sequence[float] | None = None
    latency: Sequence[float] | None = None  # P50 (service) or MEAN (endpoint), ms


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
        self.endpoint_ids = {s: [e["id"] for e in rows] for s, rows in self.endpoints.items()}
        self.endpoint_name = {e: row["label"][:128] for e, row in self.endpoint_rows.items()}
        self.web = {s for s, row in self.services.items() if "HTTP" in row["types"]}
        # callable callees in call order, each with "is a datastore"
        self.kids = {s: [(d, d not in self.web) for d in dsts if self.callable(d)] for s, dsts in self.callees.items()}
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
        return service_id in self.web

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
    """Builds traces one by one and keeps the per-point budget of sampled calls of every series. Accepted calls
    collect in `calls` (rows in CALL_COLUMNS order) until the caller takes them (`take_calls`); the trace rows
    (TRACE_COLUMNS) stay in `traces`, about a sixth as many."""

    def __init__(self, world: ServiceMap, rand: random.Random, seed: int) -> None:
        self.w = world
        self.rand = rand
        self.seed = seed
        self.traces: list[tuple[Any, ...]] = []
        self.calls: list[Call] = []
        self.n_calls = 0  # accepted so far, taken or not
        self._call_n = 0
        self._trace_n = 0
        self._call_id = hex_ids(seed, "call")
        self._sampled_id = hex_ids(seed, "trace:sampled")
        self._base_ms: dict[str, float] = {}
        self._entries = world.entry_services()
        self._points = (world.end_ms - world.start_ms) // world.step_ms
        self._stretch = 0  # minimum duration of the call at the end of a forced path (to cover log lines)
        self._hit: Call | None = None  # that call, in the trace built last
        # the signals as flat float arrays (indexing them gives Python floats, fast; a third of numpy's memory
        # as lists would take), and the sampled calls so far per point of every calls series
        for signals in (world.service_signals, world.endpoint_signals):
            for sig in signals.values():
                for name in ("calls", "errors", "latency"):
                    values = getattr(sig, name)
                    if values is not None and not isinstance(values, array):
                        setattr(sig, name, array("d", np.ascontiguousarray(values, dtype=np.float64).tobytes()))
        self._budget: dict[tuple[str, str], tuple[Sequence[float], list[int]]] = {}
        for kind, signals in (("S", world.service_signals), ("E", world.endpoint_signals)):
            for key, sig in signals.items():
                if sig.calls is not None:
                    self._budget[kind, key] = (sig.calls, [0] * self._points)
        self._latency = {s: sig.latency for s, sig in world.service_signals.items() if sig.latency is not None}
        self._ep_latency = {e: sig.latency for e, sig in world.endpoint_signals.items() if sig.latency is not None}
        self._errors = {s: (sig.errors, sig.calls) for s, sig in world.service_signals.items()
                        if sig.errors is not None}
        self._ep_errors = {e: (sig.errors, sig.calls) for e, sig in world.endpoint_signals.items()
                           if sig.errors is not None}
        self._randbelow = rand._randbelow  # type: ignore[attr-defined]  # what randint and choice draw from
        self._random = rand.random
        self._start_ms, self._step_ms = world.start_ms, world.step_ms
        self._names, self._endpoint_ids, self._kids = world.endpoint_name, world.endpoint_ids, world.kids

    def take_calls(self) -> list[Call]:
        """The calls accepted since the last call (parents before children, trace after trace)."""
        calls, self.calls = self.calls, []
        return calls

    # -- metric lookups ---------------------------------------------------------------------------------
    def index(self, ts_ms: int) -> int:
        return (ts_ms - self.w.start_ms) // self.w.step_ms

    def _base_latency(self, service_id: str) -> float:
        """A typical time for a service without latency series: web services slower than datastores."""
        if service_id not in self._base_ms:
            r = random.Random(f"{self.seed}:latency:{service_id}")
            self._base_ms[service_id] = r.uniform(15.0, 150.0) if self.w.is_web(service_id) else r.uniform(1.0, 15.0)
        return self._base_ms[service_id]

    def _lognormal(self, sigma: float) -> float:
        """random.lognormvariate(0, sigma), drawing the very same numbers."""
        random_ = self.rand.random
        while True:
            u1 = random_()
            u2 = 1.0 - random_()
            z = NV_MAGICCONST * (u1 - 0.5) / u2
            if z * z / 4.0 <= -math.log(u2):
                return math.exp(z * sigma)

    def _target_ms(self, service_id: str, endpoint_id: str | None, idx: int) -> int:
        series = self._latency.get(service_id)
        if series is None and endpoint_id:
            series = self._ep_latency.get(endpoint_id)
        base = series[idx] if series is not None else self._base_latency(service_id)
        return max(1, round(base * self._lognormal(0.3)))

    def error_share(self, service_id: str, endpoint_id: str | None, idx: int) -> float:
        """How likely a call at point `idx` fails: 0 where a series says no call failed in that minute."""
        share = -1.0
        for found in (self._errors.get(service_id), self._ep_errors.get(endpoint_id) if endpoint_id else None):
            if found is None:
                continue
            errors_at, calls_at = found
            errors = errors_at[idx]
            if errors <= 0:
                return 0.0
            calls = calls_at[idx] if calls_at is not None else 0.0
            share = max(share, errors / calls if calls > 0 else DEFAULT_ERROR_SHARE)
        return share if share >= 0 else DEFAULT_ERROR_SHARE

    # -- one trace ------------------------------------------------------------------------------------
    def _endpoint(self, service_id: str) -> str:
        choices = self.w.endpoint_ids[service_id]
        return choices[self._randbelow(len(choices))]

    def _children(self, service_id: str, depth: int, forced: list[tuple[str, str | None]]
                  ) -> list[tuple[str, str, list[tuple[str, str | None]] | None]]:
        """(callee, endpoint, rest of the forced path or None for an optional call), in call order."""
        kids: list[tuple[str, str, list[tuple[str, str | None]] | None]] = []
        nxt = forced[0] if forced else None
        random_ = self.rand.random
        for dst, store in self.w.kids.get(service_id, ()):
            if nxt is not None and dst == nxt[0]:
                kids.append((dst, nxt[1] or self._endpoint(dst), forced[1:]))
                continue
            if depth >= MAX_DEPTH:
                continue
            if random_() < (STORE_CALL_P if store else WEB_CALL_P):
                for _ in range(1 + self._randbelow(3) if store else 1):
                    kids.append((dst, self._endpoint(dst), None))
        if len(kids) > 1:
            self.rand.shuffle(kids)
        return kids

    def _call(self, out: list[Call], trace_id: str, parent: Call | None, service_id: str, endpoint_id: str,
              t_start: int, depth: int, forced: list[tuple[str, str | None]] | None) -> Call:
        """One call and, depth first, its children; `forced` is the rest of the path the trace must take (None
        off that path). The call at the end of the path takes at least `self._stretch` ms (`self._hit`).

        The hot loop of the largest table: `_target_ms`, `_children` and `error_share` are inlined here, drawing
        the very same random numbers in the same order."""
        below, random_ = self._randbelow, self._random
        idx = (t_start - self._start_ms) // self._step_ms
        idx_safe = 0 if idx < 0 else (self._points - 1 if idx >= self._points else idx)
        if parent is None:
            network = None
            net_in = 0
            call_id = trace_id
        else:
            network = 1 + below(6)
            net_in = network // 2
            self._call_n += 1
            call_id = self._call_id(self._call_n)
        # target time (_target_ms): the latency series at that point, or a typical time; a lognormal spread
        series = self._latency.get(service_id)
        if series is None:
            series = self._ep_latency.get(endpoint_id)
        base = series[idx_safe] if series is not None else self._base_ms.get(service_id) or \
            self._base_latency(service_id)
        while True:  # random.lognormvariate(0.0, 0.3)
            u1 = random_()
            u2 = 1.0 - random_()
            z = NV_MAGICCONST * (u1 - 0.5) / u2
            if z * z / 4.0 <= -_log(u2):
                break
        target = round(base * _exp(z * 0.3))
        if target < 1:
            target = 1
        is_target = forced is not None and not forced
        if is_target and self._stretch:
            target = max(target, self._stretch)
        call: Call = [call_id, trace_id, None if parent is None else parent[ID], self._names[endpoint_id],
                      t_start, 0, network, 0, None if parent is None else parent[DST], service_id, endpoint_id]
        out.append(call)  # before its children: the rows come parents first
        if is_target:
            self._hit = call
        entry = t_start + net_in
        cursor = entry + max(1, round(target * (0.02 + (0.15 - 0.02) * random_())))  # uniform(0.02, 0.15)
        # children (_children): (callee, endpoint, rest of the forced path or None for an optional call)
        nxt = forced[0] if forced else None
        kids: list[tuple[str, str, list[tuple[str, str | None]] | None]] = []
        if nxt is not None or depth < MAX_DEPTH:
            endpoints = self._endpoint_ids
            for dst, store in self._kids.get(service_id, ()):
                if nxt is not None and dst == nxt[0]:
                    if nxt[1]:
                        kids.append((dst, nxt[1], forced[1:]))  # type: ignore[index]
                    else:
                        choices = endpoints[dst]
                        kids.append((dst, choices[below(len(choices))], forced[1:]))  # type: ignore[index]
                    continue
                if depth >= MAX_DEPTH:
                    continue
                if random_() < (STORE_CALL_P if store else WEB_CALL_P):
                    choices = endpoints[dst]
                    for _ in range(1 + below(3) if store else 1):
                        kids.append((dst, choices[below(len(choices))], None))
            for i in range(len(kids) - 1, 0, -1):  # random.shuffle
                j = below(i + 1)
                kids[i], kids[j] = kids[j], kids[i]
        child_failed = False
        for dst, dst_endpoint, rest in kids:
            if rest is None and len(out) >= MAX_CALLS:
                continue  # a big enough trace: only the forced path goes on
            child = self._call(out, trace_id, call, dst, dst_endpoint, cursor, depth + 1, rest)
            child_failed |= child[ERRORS] == 1
            cursor += child[DURATION] + round(target * (0.05 * random_()))  # uniform(0.0, 0.05)
        end = max(cursor + 1, entry + target)
        call[DURATION] = end - t_start + (0 if network is None else network - net_in)
        # error share (error_share): 0 where a series says no call failed in that minute
        share = -1.0
        for found in (self._errors.get(service_id), self._ep_errors.get(endpoint_id)):
            if found is None:
                continue
            errors = found[0][idx_safe]
            if errors <= 0:
                share = 0.0
                break
            calls = found[1][idx_safe] if found[1] is not None else 0.0
            found_share = errors / calls if calls > 0 else DEFAULT_ERROR_SHARE
            if found_share > share:
                share = found_share
        if share < 0:
            share = DEFAULT_ERROR_SHARE
        if share > 0 and (random_() < share or (child_failed and random_() < 0.5)):
            call[ERRORS] = 1
        return call

    def _build(self, trace_id: str, root: str, root_endpoint: str | None, t_start: int,
               path: list[str], target_endpoint: str | None) -> list[Call]:
        """Calls of one trace rooted at `root`, reaching every service of `path` (root first) in turn."""
        forced = [(s, target_endpoint if i == len(path) - 2 else None) for i, s in enumerate(path[1:])]
        out: list[Call] = []
        self._hit = None
        first_endpoint = root_endpoint or self._endpoint(root)
        self._call(out, trace_id, None, root, first_endpoint, t_start, 0, forced)
        return out

    def fits(self, calls: list[Call]) -> bool:
        """Inside the window, erroneous only where the metrics allow it, within every calls budget."""
        start, end, step, points = self.w.start_ms, self.w.end_ms, self.w.step_ms, self._points
        budget = self._budget
        wanted: dict[tuple[str, str, int], int] = {}
        for c in calls:
            t = c[START]
            idx = (t - start) // step
            if t < start or t + c[DURATION] >= end or idx >= points:
                return False
            if c[ERRORS] and self.error_share(c[DST], c[ENDPOINT], idx) <= 0:
                return False
            for key in (("S", c[DST], idx), ("E", c[ENDPOINT], idx)):
                if key[:2] in budget:
                    wanted[key] = wanted.get(key, 0) + 1
        for (kind, eid, idx), n in wanted.items():
            cap, used = budget[kind, eid]
            if used[idx] + n > cap[idx]:
                return False
        return True

    def accept(self, calls: list[Call], application_id: str) -> None:
        start, step, budget = self.w.start_ms, self.w.step_ms, self._budget
        for c in calls:
            idx = (c[START] - start) // step
            for key in (("S", c[DST]), ("E", c[ENDPOINT])):
                entry = budget.get(key)
                if entry is not None:
                    entry[1][idx] += 1
        root = calls[0]
        self.traces.append((root[TRACE], root[NAME], root[START], root[DURATION], any(c[ERRORS] for c in calls),
                            application_id, root[DST], root[ENDPOINT]))
        self.calls.extend(calls)
        self.n_calls += len(calls)

    def _application(self, service_id: str) -> str:
        return self.rand.choice(self.w.apps_of[service_id])

    # -- sampled traces -------------------------------------------------------------------------------
    def sampled(self, focus: list[tuple[str, str | None, int, int]], count: int | None = None,
                until_calls: int | None = None, focus_share: float = 0.3) -> Iterator[None]:
        """Traces at random times, `count` of them or as many as it takes until `until_calls` calls exist in all
        (stopping early only when MAX_MISSES traces in a row find no room); about `focus_share` of them inside
        a problem window (service, endpoint or None, from, to) and through that service, so they show the
        problem. Yields after each trace, so the caller can take the calls made so far."""
        if not self._entries:
            return
        window = self.w.end_ms - self.w.start_ms
        made, misses = 0, 0
        while (count is None or made < count) and (until_calls is None or self.n_calls < until_calls) \
                and (count is not None or misses < MAX_MISSES):
            made += 1
            self._trace_n += 1
            trace_id = self._sampled_id(self._trace_n)
            target = self.rand.choice(focus) if focus and self.rand.random() < focus_share else None
            misses += 1
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
                    misses = 0
                    break
                self._call_n -= len(calls) - 1  # reuse the ids of a rejected placement
            yield

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
            if error and self.error_share(hit[DST], hit[ENDPOINT], self._clamp(self.index(hit[START]))) > 0:
                hit[ERRORS] = 1
            # move the trace so that the logging call is running from before the first line to after the last
            slack = max(0, hit[DURATION] - (hi - lo) - 2)
            offset = lo + shift_ms - 1 - self.rand.randint(0, slack) - hit[START]
            root_call = calls[0]
            offset = max(offset, self.w.start_ms - root_call[START])
            offset = min(offset, self.w.end_ms - 1 - root_call[START] - root_call[DURATION])
            for c in calls:
                c[START] += offset
            if attempt >= TRIES * 2:
                for c in calls:
                    c[ERRORS] = 0
            if self.fits(calls):
                self.accept(calls, self._application(root))
                return
            self._call_n -= len(calls) - 1
        # every placement collided with a full budget: one root call wherever there is room
        for idx in self.rand.sample(range(self._points), self._points):
            t = self.w.start_ms + idx * self.w.step_ms + self.rand.randint(0, self.w.step_ms // 2)
            root = service or path[0]
            endpoint_id = endpoint if endpoint else self._endpoint(root)
            calls = [[trace_id, trace_id, None, self.w.endpoint_name[endpoint_id], t,
                      self._target_ms(root, endpoint_id, idx), None, 0, None, root, endpoint_id]]
            if self.fits(calls):
                self.accept(calls, self._application(root))
                return
        raise RuntimeError(f"no room for trace {trace_id}: every calls budget is exhausted")

    def _clamp(self, idx: int) -> int:
        return min(max(idx, 0), self._points - 1)
