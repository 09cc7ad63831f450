"""Rich progress bars on stderr (rows, rate, ETA) that switch off when quiet or not on a terminal."""

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

stderr = Console(stderr=True)


class Reporter:
    """What long steps talk to; a disabled reporter costs next to nothing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and stderr.is_terminal
        self._progress: Progress | None = None

    @contextmanager
    def running(self) -> Iterator[Reporter]:
        if not self.enabled:
            yield self
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=stderr, transient=False,
        )
        with self._progress:
            yield self
        self._progress = None

    def task(self, description: str, total: int) -> Task:
        if self._progress is None:
            return Task(None, None)
        return Task(self._progress, self._progress.add_task(description, total=total, rate=""))


class Task:
    def __init__(self, progress: Progress | None, task_id: int | None) -> None:
        self.progress, self.task_id = progress, task_id

    def advance(self, rows: int) -> None:
        if self.progress is None or self.task_id is None:
            return
        self.progress.advance(self.task_id, rows)
        task = self.progress.tasks[self.task_id]
        speed = task.speed
        self.progress.update(self.task_id, rate=f"{speed:,.0f} rows/s" if speed else "")
