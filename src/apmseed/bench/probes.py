"""Timers the child processes wrap around the library's own functions: they change no behaviour, and a function
that no longer exists is simply not reported (the library may change shape under the benchmark)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa


class Clock:
    """Accumulates wall time per phase name. Exclusive wrappers (main thread only) do not count time spent in
    other exclusive wrappers they call, so their phases add up to at most the wall time; detail wrappers just
    accumulate."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._nested: list[float] = []  # time spent in exclusive callees, per active exclusive call
        self._active: list[str] = []  # keys of the active exclusive calls, innermost last

    def add(self, key: str, seconds: float) -> None:
        self.totals[key] = self.totals.get(key, 0.0) + seconds

    def wrap(self, owner: Any, attr: str, key: str, exclusive: bool = True, under_active: bool = False) -> None:
        """`under_active`: a detail filed under the innermost active exclusive phase ("  <phase>: <key>")."""
        original = getattr(owner, attr, None)
        if original is None:
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            name = f"  {self._active[-1]}: {key}" if under_active and self._active else key
            if exclusive:
                self._nested.append(0.0)
                self._active.append(key)
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                if exclusive:
                    self._active.pop()
                    self.add(key, elapsed - self._nested.pop())
                    if self._nested:
                        self._nested[-1] += elapsed
                else:
                    self.add(name, elapsed)

        setattr(owner, attr, timed)

    def wrap_iterator(self, owner: Any, attr: str, key: str) -> None:
        """Time spent inside next() of the iterator `owner.attr(...)` returns (pulls, not the consumer)."""
        original = getattr(owner, attr, None)
        if original is None:
            return
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            it = iter(original(*args, **kwargs))
            while True:
                start = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    clock.add(key, time.perf_counter() - start)
                    return
                clock.add(key, time.perf_counter() - start)
                yield item

        setattr(owner, attr, timed)


COPY_IN = re.compile(r'^\s*COPY\s+(?:"([^"]+)"|([\w.]+)).*\bFROM\s+STDIN\b', re.I | re.S)


class TableTimer:
    """Per table, whoever loads it: seconds inside `COPY <table> ... FROM STDIN` (rows formatted or generated
    while the COPY is open included), and seconds `deferred_constraints(conn, <table>)` spends dropping and then
    rebuilding the table's keys, indexes and foreign keys (not the time in between: a layer defers all of its
    streamed tables at once, so those spans overlap). The table's whole load is the sum of both."""

    def __init__(self) -> None:
        self.copy: dict[str, float] = {}
        self.deferred: dict[str, float] = {}

    def install(self) -> None:
        self._wrap_copy()
        self._wrap_deferred()

    def load_seconds(self, table: str) -> float | None:
        if table not in self.copy and table not in self.deferred:
            return None
        return self.copy.get(table, 0.0) + self.deferred.get(table, 0.0)

    def _wrap_copy(self) -> None:
        original: Callable[..., AbstractContextManager[Any]] = psycopg.Cursor.copy
        copies = self.copy

        @contextmanager
        def copy(cur: psycopg.Cursor[Any], statement: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
            found = COPY_IN.match(statement) if isinstance(statement, str) else None
            start = time.perf_counter()
            try:
                with original(cur, statement, *args, **kwargs) as cp:
                    yield cp
            finally:
                if found:
                    table = found.group(1) or found.group(2)
                    copies[table] = copies.get(table, 0.0) + time.perf_counter() - start

        psycopg.Cursor.copy = copy  # type: ignore[method-assign,assignment]

    def _wrap_deferred(self) -> None:
        """Patch `deferred_constraints` in every apmseed module that holds it (wherever it lives by then)."""
        holders = [m for name, m in list(sys.modules.items())
                   if name.startswith("apmseed.") and callable(getattr(m, "deferred_constraints", None))]
        if not holders:
            return
        original = holders[0].deferred_constraints
        spans = self.deferred

        @contextmanager
        def deferred(conn: Any, table: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
            manager = original(conn, table, *args, **kwargs)
            start = time.perf_counter()
            value = manager.__enter__()  # dropping the keys
            spans[table] = spans.get(table, 0.0) + time.perf_counter() - start
            try:
                yield value
            except BaseException:
                if not manager.__exit__(*sys.exc_info()):
                    raise
            else:
                start = time.perf_counter()
                manager.__exit__(None, None, None)  # rebuilding them
                spans[table] = spans.get(table, 0.0) + time.perf_counter() - start

        for module in holders:
            if module.deferred_constraints is original:
                module.deferred_constraints = deferred


def time_statements(engine: sa.Engine) -> dict[str, list[float]]:
    """Wall time per SQL statement sent through SQLAlchemy (DDL, checks, layer queries; COPY goes around it),
    keyed by its first words: {statement: [calls, seconds]}."""
    totals: dict[str, list[float]] = {}

    @sa.event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    @sa.event.listens_for(engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seconds = time.perf_counter() - conn.info["bench_started"].pop()
        entry = totals.setdefault(" ".join(statement.split())[:110], [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    return totals


def vm_hwm_mib() -> float | None:
    """This process's own peak RSS (Linux), a cross-check for the launcher's wait4 figure."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None
