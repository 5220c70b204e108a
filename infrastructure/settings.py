"""Settings: every `TRAWL_*` variable, read once into one typed object.

The README's configuration reference is generated from this class
(`trawl settings --markdown`), and a test keeps the two equal.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import msgspec

PREFIX = "TRAWL_"


_JOB_KIND = "(fetch|extract|chunk|vectorize|refresh)"
_JOB_LIST = rf"^ *{_JOB_KIND} *(, *{_JOB_KIND} *)*$"


def _doc(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    host: Annotated[str, _doc("Address the HTTP API listens on.")] = "127.0.0.1"
    port: Annotated[int, _doc("Port of the HTTP API."), msgspec.Meta(ge=0, le=65535)] = 8000
    data_dir: Annotated[
        str, _doc("Data directory: embedded Postgres, mail files, generated secrets.")
    ] = "./.trawl"
    database_url: Annotated[
        str | None,
        _doc("PostgreSQL URL (`postgresql://user@host:port/db`); unset = embedded Postgres."),
    ] = None
    db_pool_size: Annotated[
        int, _doc("Connections the Postgres pool keeps open."), msgspec.Meta(ge=1, le=200)
    ] = 4
    db_max_overflow: Annotated[
        int, _doc("Extra connections the pool may open under load."), msgspec.Meta(ge=0)
    ] = 16
    group_commit: Annotated[
        bool, _doc("Save concurrent commands in one transaction (each keeps its answer).")
    ] = True
    jwt_secret: Annotated[
        str | None,
        _doc("HS256 secret for access tokens; unset = generated into the data directory."),
    ] = None
    audit_signing_key: Annotated[
        str | None,
        _doc(
            "Ed25519 private key (64 hex digits) that signs audit checkpoints;"
            " unset = generated into the data directory."
        ),
    ] = None
    token_ttl_seconds: Annotated[
        int, _doc("Lifetime of access tokens."), msgspec.Meta(ge=60, le=30 * 86400)
    ] = 3600
    token_rate_limit_per_minute: Annotated[
        int,
        _doc("Token requests allowed per email and per client address per minute."),
        msgspec.Meta(ge=1),
    ] = 10
    consistency_wait_ms: Annotated[
        int, _doc("Longest wait of a query for `X-Trawl-Wait-For`."), msgspec.Meta(ge=0, le=60000)
    ] = 5000
    max_body_bytes: Annotated[
        int, _doc("Largest accepted request body."), msgspec.Meta(ge=1024)
    ] = 1_048_576
    smtp_url: Annotated[
        str | None,
        _doc("`smtp://[user:pass@]host[:port][?starttls=true]` or `smtps://`; unset = .eml files."),
    ] = None
    mail_from: Annotated[str, _doc("Sender address of Trawl's mail.")] = "trawl@localhost"
    public_url: Annotated[
        str | None, _doc("Base URL used in links inside mails; unset = http://HOST:PORT.")
    ] = None
    projector: Annotated[
        bool, _doc("Run the projectors inside `trawl serve` (`trawl api` never does).")
    ] = True
    log_level: Annotated[str, _doc("Python log level.")] = "INFO"
    # A worker thread mostly waits (on the network, on an extraction process,
    # on commits), so more threads than cores keep the cores busy.
    workers: Annotated[
        int, _doc("Ingestion worker threads inside `trawl serve` (0 = none)."), msgspec.Meta(ge=0)
    ] = 8
    worker_jobs: Annotated[
        str,
        _doc(
            "Job kinds the ingestion workers run, comma-separated, of fetch, extract, chunk,"
            " vectorize, refresh (e.g. `vectorize` alone on embedding machines and the rest"
            " elsewhere). Every kind must run somewhere, or its jobs wait."
        ),
        msgspec.Meta(pattern=_JOB_LIST),
    ] = "fetch,extract,chunk,vectorize,refresh"
    per_host_concurrency: Annotated[
        int, _doc("Fetches of one host running at once, over all workers."), msgspec.Meta(ge=1)
    ] = 2
    vectorize_linger_seconds: Annotated[
        float,
        _doc(
            "How long a vectorize job waits for a full batch (16) to embed and record"
            " with; then the next claim takes it (0 = claim at once)."
        ),
        msgspec.Meta(ge=0, le=60),
    ] = 1.0
    fetch_allow_private_networks: Annotated[
        bool, _doc("Let the fetcher reach private, loopback and link-local addresses.")
    ] = False
    fetch_max_bytes: Annotated[
        int, _doc("Largest response body a fetch accepts."), msgspec.Meta(ge=1024)
    ] = 10_000_000
    fetch_timeout_seconds: Annotated[
        float, _doc("Time limit of one fetch, redirects included."), msgspec.Meta(gt=0)
    ] = 30.0
    extract_processes: Annotated[
        int,
        _doc(
            "Child processes that extract main text (CPU work the worker threads hand over);"
            " -1 = one per core (at most 4), 0 = in the worker threads."
        ),
        msgspec.Meta(ge=-1),
    ] = -1
    fetch_respect_robots: Annotated[
        bool, _doc("Honour robots.txt (a disallowed URL gets status `blocked`).")
    ] = True
    fetch_max_attempts: Annotated[
        int, _doc("Attempts of a fetch before the URL is `failed`."), msgspec.Meta(ge=1, le=20)
    ] = 5
    blob_retention_seconds: Annotated[
        int,
        _doc("How long blobs no live URL version references are kept before deletion."),
        msgspec.Meta(ge=0),
    ] = 7 * 24 * 3600
    blob_dir: Annotated[
        str | None, _doc("Directory of fetched and extracted blobs; unset = <data dir>/blobs.")
    ] = None
    nats_url: Annotated[
        str | None,
        _doc(
            "NATS server with JetStream (`nats://host:4222`) the relay publishes every event to;"
            " unset = an embedded server in `trawl serve`; `off` = no relay."
        ),
    ] = None
    nats_subject_prefix: Annotated[
        str,
        _doc("First token(s) of the event subjects: `<prefix>.<aggregate>.<event>`."),
        msgspec.Meta(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"),
    ] = "trawl"
    nats_stream: Annotated[
        str,
        _doc("JetStream stream holding the events (created or updated at start)."),
        msgspec.Meta(pattern=r"^[A-Za-z0-9_-]+$"),
    ] = "TRAWL"
    nats_duplicate_window_seconds: Annotated[
        float, _doc("The stream's deduplication window on `Nats-Msg-Id`."), msgspec.Meta(gt=0)
    ] = 120.0
    nats_max_age_seconds: Annotated[
        float,
        _doc("Age after which the stream drops an event (0 = keep forever)."),
        msgspec.Meta(ge=0),
    ] = 0.0
    nats_max_bytes: Annotated[
        int,
        _doc("Size beyond which the stream drops its oldest events (0 = unlimited)."),
        msgspec.Meta(ge=0),
    ] = 0
    s3_bucket: Annotated[
        str | None, _doc("Keep blobs in this S3 bucket instead of `TRAWL_BLOB_DIR`.")
    ] = None
    s3_prefix: Annotated[str, _doc("Key prefix of the blobs in `TRAWL_S3_BUCKET`.")] = ""
    s3_endpoint_url: Annotated[str | None, _doc("S3-compatible endpoint (MinIO); unset = AWS.")] = (
        None
    )

    embedder: Annotated[
        str,
        _doc(
            "Embedding model of new projects: `wordllama/<config>-<dims>` (offline) or "
            "`bedrock/amazon.titan-embed-text-v2:0/<dims>` (256, 512 or 1024)."
        ),
    ] = "wordllama/l2_supercat-256"
    bedrock_region: Annotated[str | None, _doc("AWS region of Bedrock; unset = boto3's.")] = None
    bedrock_endpoint_url: Annotated[
        str | None, _doc("Bedrock Runtime endpoint; unset = the region's.")
    ] = None
    bedrock_concurrency: Annotated[
        int, _doc("Bedrock calls in flight at once per process."), msgspec.Meta(ge=1, le=64)
    ] = 4
    bedrock_requests_per_minute: Annotated[
        int, _doc("Bedrock calls started per minute per process."), msgspec.Meta(ge=1)
    ] = 600
    lancedb_uri: Annotated[
        str | None, _doc("Search index location (`s3://bucket/path`); unset = <data dir>/lancedb.")
    ] = None
    lancedb_storage_options: Annotated[
        str | None, _doc("JSON object of LanceDB storage options (S3 region, endpoint...).")
    ] = None
    search_ann_threshold: Annotated[
        int,
        _doc("Rows of a search table past which it gets an ANN index (exact search below)."),
        msgspec.Meta(ge=1),
    ] = 20_000
    search_maintenance_seconds: Annotated[
        float,
        _doc("Pause between upkeeps of the search tables (indexes, optimize, cleanup)."),
        msgspec.Meta(gt=0),
    ] = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **overrides: object) -> Settings:
        """Read `TRAWL_*` variables (strings are converted and validated)."""
        environ = os.environ if environ is None else environ
        known = {f.name for f in msgspec.structs.fields(cls)}
        values: dict[str, object] = {}
        for name, value in environ.items():
            if name.startswith(PREFIX) and name[len(PREFIX) :].lower() in known:
                values[name[len(PREFIX) :].lower()] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        return msgspec.convert(values, cls, strict=False)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()

    @property
    def blob_path(self) -> Path:
        if self.blob_dir:
            return Path(self.blob_dir).expanduser().resolve()
        return self.data_path / "blobs"

    @property
    def worker_kinds(self) -> tuple[str, ...]:
        """`worker_jobs` as a tuple, in the order given, each kind once."""
        return tuple(dict.fromkeys(kind.strip() for kind in self.worker_jobs.split(",")))

    @property
    def relay_enabled(self) -> bool:
        return (self.nats_url or "").lower() != "off"

    @property
    def lancedb_location(self) -> str:
        return self.lancedb_uri or str(self.data_path / "lancedb")

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    def resolved_jwt_secret(self) -> str:
        """The configured secret, or one generated once into the data directory."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_path / "jwt_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside, then linked into place: of processes starting together
            # exactly one wins, and none reads a half-written (empty) secret.
            aside = path.with_name(f".jwt_secret.{secrets.token_hex(8)}")
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(aside, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(aside)
        return path.read_text().strip()


def reference_markdown() -> str:
    """The configuration reference table (README), generated from Settings."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    defaults = Settings()
    for field in msgspec.structs.fields(Settings):
        meta = [m for m in getattr(field.type, "__metadata__", ()) if m.description]
        default = getattr(defaults, field.name)
        shown = (
            "unset"
            if default is None
            else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        )
        text = meta[0].description if meta else ""
        lines.append(f"| `{PREFIX}{field.name.upper()}` | {shown} | {text} |")
    return "\n".join(lines)
