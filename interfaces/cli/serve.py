"""Long-running roles: `serve` (all in one), `api`, `projector`, `worker`."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from interfaces.cli.runtime import add_data_dir, settings_from, trawl


def register(commands: Any) -> None:
    for name, help_text in (
        (
            "serve",
            "run API + projectors + ingestion workers + the event relay in one process (embedded "
            "Postgres and NATS unless TRAWL_DATABASE_URL / TRAWL_NATS_URL are set)",
        ),
        ("api", "run only the HTTP API (projectors run elsewhere: `trawl projector`)"),
    ):
        parser = commands.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--host", help="listen address (default: $TRAWL_HOST or 127.0.0.1)")
        parser.add_argument("--port", type=int, help="listen port (default: $TRAWL_PORT or 8000)")
        add_data_dir(parser)
        parser.set_defaults(handler=run_serve if name == "serve" else run_api)
    parser = commands.add_parser(
        "projector",
        help="follow the log and keep every read model up to date",
        description="Follow the event log and apply it to every read model until stopped "
        "(SIGINT/SIGTERM). One active writer per view: extra copies wait safely.",
    )
    add_data_dir(parser)
    parser.set_defaults(handler=run_projector)
    parser = commands.add_parser(
        "worker",
        help="run only ingestion workers (fetch, extract, chunk, vectorize, refresh jobs)",
        description="Claim and run fetch, extract, chunk, vectorize and refresh jobs (or the "
        "kinds --jobs names) until stopped (SIGINT/SIGTERM). Run as many as you like: jobs are "
        "leased, one worker each.",
    )
    parser.add_argument("--threads", type=int, help="worker threads (default: $TRAWL_WORKERS, 8)")
    parser.add_argument(
        "--jobs",
        help="job kinds to run, comma-separated, e.g. `vectorize` or `fetch,extract,chunk,refresh`"
        " (default: $TRAWL_WORKER_JOBS, all)",
    )
    add_data_dir(parser)
    parser.set_defaults(handler=run_worker)


def run_serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    return _http(settings, projectors=True, workers=settings.workers, relay=True)


def run_api(args: argparse.Namespace) -> int:
    return _http(settings_from(args, projector=False), projectors=False, workers=0, relay=False)


def _exit_on_sigterm(signum: int, _: object) -> None:
    """After its graceful shutdown uvicorn raises the signal again (for the
    exit status). SIGTERM's default action would end the process before
    Trawl's own cleanup (worker threads, extraction processes, the embedded
    Postgres and NATS), so it leaves through the `with` blocks instead."""
    raise SystemExit(128 + signum)


def _http(settings: Any, projectors: bool, workers: int, relay: bool) -> int:
    import uvicorn

    from interfaces.http.app import create_app

    with trawl(settings, projectors=projectors, relay=relay) as app:
        if workers:
            app.start_workers(workers)
            print(f"Workers: {workers} ingestion thread(s)", flush=True)
        mail = (
            settings.smtp_url.split("@")[-1] if settings.smtp_url else settings.data_path / "mail"
        )
        print(f"Data directory: {settings.data_path}", flush=True)
        print(f"Mail: {mail}", flush=True)
        print(
            f"HTTP: http://{settings.host}:{settings.port}"
            " (OpenAPI at /schema, AsyncAPI at /asyncapi.json)",
            flush=True,
        )
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        uvicorn.run(
            create_app(app),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,
        )
    return 0


def run_projector(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with trawl(settings, projectors=False) as app:
        followers = app.followers or app.projectors
        threads = [threading.Thread(target=p.follow, args=(stop,), name=p.view) for p in followers]
        for thread in threads:
            thread.start()
        views = ", ".join(p.view for p in followers)
        print(f"Projector: following views {views}", flush=True)
        stop.wait()
        for thread in threads:
            thread.join()
    return 0


def run_worker(args: argparse.Namespace) -> int:
    settings = settings_from(args, worker_jobs=args.jobs)
    threads = settings.workers if args.threads is None else args.threads
    if threads < 1:
        print("--threads must be at least 1", flush=True)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with trawl(settings, projectors=False) as app:
        app.start_workers(threads)
        jobs = ", ".join(settings.worker_kinds)
        print(f"Worker: {threads} thread(s) running {jobs} jobs", flush=True)
        stop.wait()
    return 0
