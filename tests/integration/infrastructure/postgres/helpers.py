"""Helpers of the Postgres integration tests: fakes, direct SQL, bounded waits."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from application.auth.principal import Caller
from application.ports import MailMessage
from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.postgres.projector import Projector
from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl, bootstrap
from tests.support.waiting import wait_until  # noqa: F401 - re-exported for the tests here

PASSWORD = "correct horse battery staple"


class ListMailer:
    """A Mailer fake: keeps every message in order."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> None:
        self.sent.append(message)


def start(url: str, data_dir: str, **settings: Any) -> Trawl:
    """Trawl on `url` with cheap hashing, a small pool and no background projectors."""
    settings = {"db_pool_size": 2, "db_max_overflow": 8, **settings}
    return bootstrap(
        Settings(data_dir=data_dir, **settings),
        url,
        mailer=ListMailer(),
        hasher=Argon2PasswordHasher(time_cost=1, memory_cost=1024),
        run_projectors=False,
    )


def new_caller() -> Caller:
    """A caller for project commands (projects do not need the account to exist)."""
    return Caller.user(uuid.uuid4(), "user")


def projector(trawl: Trawl, view: str = "projects") -> Projector:
    return next(p for p in trawl.projectors if p.view == view)


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Rows of one statement on a connection of its own (what another process sees)."""
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Run one statement on a connection of its own, committed."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql, params)  # type: ignore[arg-type]


def scalar(url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    [row] = query(url, sql, params)
    [value] = row.values()
    return value


class Writers:
    """`count` threads running `target(i)`, released together; results or exceptions."""

    def __init__(self, count: int, target: Callable[[int], Any]) -> None:
        self.results: list[Any] = [None] * count
        barrier = threading.Barrier(count)

        def run(i: int) -> None:
            barrier.wait()
            try:
                self.results[i] = target(i)
            except Exception as error:  # the test inspects it
                self.results[i] = error

        self.threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in self.threads:
            thread.start()

    def join(self) -> list[Any]:
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads), "a writer thread hung"
        return self.results


def run_in_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Run `target(i)` in `count` threads released together; results or exceptions."""
    return Writers(count, target).join()


def failures(results: list[Any]) -> list[BaseException]:
    """The exceptions among results (shown in full when an assertion fails)."""
    return [r for r in results if isinstance(r, BaseException)]


@contextmanager
def events_table_locked(url: str) -> Iterator[None]:
    """Hold the events table's write lock, so the group committer queues up behind it."""
    with psycopg.connect(url) as conn:
        conn.execute("LOCK TABLE trawl_events IN EXCLUSIVE MODE")
        yield
        conn.rollback()


def writers_waiting_on_a_lock(url: str) -> int:
    return int(
        scalar(
            url,
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    )


def wipe(url: str) -> None:
    """Empty every table and restart every sequence: a fresh log, cheaper than a new database."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@contextmanager
def following(trawl: Trawl) -> Iterator[None]:
    """Every projector following the log in a thread (quick to stop, unlike the defaults)."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=p.follow, args=(stop,), kwargs={"idle_timeout": 0.05})
        for p in trawl.projectors
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


_closing: list[threading.Thread] = []


def close_soon(app: Trawl) -> None:
    """Close `app` in the background: its position listener takes up to half a second
    to notice, and the next test need not wait for that (it works on emptied tables)."""
    thread = threading.Thread(target=app.close, name="close-trawl", daemon=True)
    thread.start()
    _closing.append(thread)


def closed() -> None:
    """Wait until every app handed to `close_soon` has closed."""
    while _closing:
        _closing.pop().join(timeout=10)
