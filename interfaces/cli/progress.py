"""A rich progress bar for long walks (verify, rebuild, rebuild --check)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Advance = Callable[[int, int], None]


@contextmanager
def bar(label: str, total: int) -> Iterator[Advance]:
    """A bar; the yielded callable takes (done, position-or-total)."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ) as progress:
        task = progress.add_task(label, total=max(total, 1))

        def advance(done: int, at: int) -> None:
            progress.update(task, completed=min(max(at, done), max(total, 1)))

        yield advance
