"""Rich progress bars on stderr (rows, rate, ETA) that switch off when quiet or not on a terminal. A step whose
size is not known beforehand (a stream of generated rows, an index build) shows what it has done, its rate and
its elapsed time; the bar completes when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Task as RichTask

stderr = Console(stderr=True)


class Reporter:
    """What long steps talk to; a disabled reporter costs next to nothing."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.console = console or stderr
        self.enabled = enabled and self.console.is_terminal
        self._progress: Progress | None = None
        self.finished: dict[str, RichTask] = {}  # the bars of the last `running` block, by description

    @contextmanager
    def running(self) -> Iterator[Reporter]:
        if not self.enabled:
            yield self
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=self.console, transient=False,
        )
        with self._progress:
            yield self
        self.finished = {t.description: t for t in self._progress.tasks}
        self._progress = None

    def task(self, description: str, total: int | None, unit: str = "rows") -> Task:
        """`total` None: unknown (the bar pulses, no ETA)."""
        if self._progress is None:
            return Task(None, None)
        return Task(self._progress, self._progress.add_task(description, total=total, rate="", estimate=total), unit)

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        """A step without rows to count (building keys, planning): shown running, then done."""
        task = self.task(description, None)
        yield
        task.done()


class Task:
    def __init__(self, progress: Progress | None, task_id: int | None, unit: str = "rows") -> None:
        self.progress, self.task_id, self.unit = progress, task_id, unit

    def advance(self, rows: int) -> None:
        if self.progress is None or self.task_id is None:
            return
        self.progress.advance(self.task_id, rows)
        task = self.progress.tasks[self.task_id]
        speed = task.speed
        self.progress.update(self.task_id, rate=f"{speed:,.0f} {self.unit}/s" if speed else "")

    def done(self) -> None:
        """The step ended: the bar is full at whatever was counted (an estimate may have been off)."""
        if self.progress is None or self.task_id is None:
            return
        completed = self.progress.tasks[self.task_id].completed
        self.progress.update(self.task_id, total=max(completed, 1), completed=max(completed, 1))
