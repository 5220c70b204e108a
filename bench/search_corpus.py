"""The search bench's data: corpus chunks, their embeddings, and the evaluation queries.

Every httpd-docs page of ../shared/corpus is extracted (trafilatura) and
chunked (the default settings). The queries were written by hand from the
pages' content, each with the one page that answers it; they paraphrase
rather than quote, so text search does not win by construction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.extraction import CORPUS
from domain.chunks.splitter import ChunkSettings, split
from infrastructure.embedding.wordllama import WordLlamaEmbedder
from infrastructure.extraction.trafilatura import TrafilaturaExtractor

PAGES = CORPUS / "html" / "httpd-docs"
MODEL = "wordllama/l2_supercat-256"

QUERIES: tuple[tuple[str, str], ...] = (
    ("make the server listen on a specific IP address and port", "bind.html"),
    ("how cached responses stay fresh and when the cache is invalidated", "caching.html"),
    ("pick between language or format variants of the same document", "content-negotiation.html"),
    ("show my own page when a not found error happens", "custom-error.html"),
    ("load modules at runtime as dynamic shared objects", "dso.html"),
    ("pass environment variables to CGI scripts", "env.html"),
    ("syntax of boolean expressions used in If directives", "expr.html"),
    ("allow or deny clients by host name or IP address", "howto_access.html"),
    ("password protect a directory with basic authentication", "howto_auth.html"),
    ("run CGI programs and configure ScriptAlias", "howto_cgi.html"),
    ("per-directory configuration files without access to the main config", "howto_htaccess.html"),
    ("enable the HTTP/2 protocol", "howto_http2.html"),
    ("users publishing web sites from their home directories", "howto_public_html.html"),
    (
        "forward requests to backend application servers as a reverse proxy",
        "howto_reverse_proxy.html",
    ),
    ("server side includes to add dynamic content to HTML pages", "howto_ssi.html"),
    ("format of the access log and rotating log files", "logs.html"),
    ("tune performance: memory, swapping and the number of workers", "misc_perf-tuning.html"),
    ("security tips for protecting server files and dynamic content", "misc_security_tips.html"),
    ("benchmarking tool sending many concurrent requests", "programs_ab.html"),
    ("control script to start, stop and gracefully restart the server", "programs_apachectl.html"),
    ("build and install extension modules from source", "programs_apxs.html"),
    ("create and update the password file of basic authentication users", "programs_htpasswd.html"),
    ("pipe logs to a program that rotates them without restarting", "programs_rotatelogs.html"),
    ("clean the disk cache to keep it under a size limit", "programs_htcacheclean.html"),
    ("rewrite rule flags such as redirect, last and proxy", "rewrite_flags.html"),
    ("external lookup maps for the substitution of a rewrite rule", "rewrite_rewritemap.html"),
    ("when not to use mod_rewrite and the simpler alternatives", "rewrite_avoid.html"),
    ("regular expressions introduction for mod_rewrite", "rewrite_intro.html"),
    ("how Directory, Location and Files sections are merged", "sections.html"),
    ("signals to stop and restart the parent process gracefully", "stopping.html"),
    ("run CGI programs under different user ids", "suexec.html"),
    ("upgrade the configuration from 2.2 to 2.4", "upgrading.html"),
    ("map URLs to filesystem locations with DocumentRoot and Alias", "urlmapping.html"),
    ("name-based virtual hosts sharing one IP address", "vhosts_name-based.html"),
    ("dynamically configured mass virtual hosting", "vhosts_mass.html"),
    ("set up TLS with a certificate and a private key", "ssl_ssl_howto.html"),
    ("introduction to cryptography, certificates and the SSL protocol", "ssl_ssl_intro.html"),
    ("multi-processing modules and choosing one", "mpm.html"),
    ("compile and install from source: download, configure, make", "install.html"),
    ("run Apache as a service on Microsoft Windows", "platform_windows.html"),
    ("compress responses with gzip before they reach the client", "mod_mod_deflate.html"),
    ("add, change or remove HTTP request and response headers", "mod_mod_headers.html"),
    ("correct misspelled URLs and ignore capitalization", "mod_mod_speling.html"),
    ("balance load between the members of a backend cluster", "mod_mod_proxy_balancer.html"),
    ("tunnel websocket connections through the proxy", "mod_mod_proxy_wstunnel.html"),
    ("time limits for receiving request headers and body", "mod_mod_reqtimeout.html"),
    ("login with an HTML form and a session cookie", "mod_mod_auth_form.html"),
    ("definitions of the technical terms used in the documentation", "glossary.html"),
    ("writing a module: hooks and the request handler", "developer_modguide.html"),
    ("thread safety of libraries used by modules", "developer_thread_safety.html"),
)

# Written after hybrid's fusion weight was chosen on QUERIES, for pages QUERIES
# leaves out: they check the choice on queries it was not made on.
HELD_OUT: tuple[tuple[str, str], ...] = (
    ("set a policy that rejects requests not compliant with the HTTP protocol", "compliance.html"),
    (
        "where the main configuration file lives and how other files are included",
        "configuring.html",
    ),
    ("write API documentation comments with Doxygen", "developer_documenting.html"),
    (
        "register a hook function the server calls while processing a request",
        "developer_hooks.html",
    ),
    ("write request handlers and scripts in Lua", "developer_lua.html"),
    ("port a module written for Apache 1.3 to the 2.0 API", "developer_modules.html"),
    (
        "common mistakes when writing output filters that handle bucket brigades",
        "developer_output-filters.html",
    ),
    ("why the configuration should not depend on DNS lookups", "dns-caveats.html"),
    ("how the filter chain processes incoming and outgoing data", "filter.html"),
    ("what a handler is and how files are mapped to an action", "handler.html"),
    ("serve my site over https with a certificate", "howto_encrypt.html"),
    ("how httpd is started on Unix and what happens at startup", "invoking.html"),
    (
        "password hash formats accepted for basic authentication such as bcrypt and MD5",
        "misc_password_encryptions.html",
    ),
    ("scaling the server to handle heavy traffic on modern hardware", "misc_perf-scaling.html"),
    (
        "meaning of Context, Override and Status in the description of a directive",
        "mod_directive-dict.html",
    ),
    ("run a CGI script for a given media type or request method", "mod_mod_actions.html"),
    ("send files that already contain their own HTTP headers", "mod_mod_asis.html"),
    ("keep session data in a browser cookie", "mod_mod_session_cookie.html"),
    (
        "mass virtual hosting with the host name interpolated into the document root path",
        "mod_mod_vhost_alias.html",
    ),
    ("hybrid multi-process multi-threaded MPM and its ThreadsPerChild setting", "mod_worker.html"),
    ("log the bytes received and sent for each request", "mod_mod_logio.html"),
    ("WebDAV distributed authoring support", "mod_mod_dav.html"),
    ("server-side image map files", "mod_mod_imagemap.html"),
    ("filter a response body through an external program", "mod_mod_ext_filter.html"),
    (
        "load balancer that picks the worker with the fewest pending requests",
        "mod_mod_lbmethod_bybusyness.html",
    ),
    (
        "authorize access by comparing the file owner with the authenticated user",
        "mod_mod_authz_owner.html",
    ),
    ("install httpd from source on Red Hat or CentOS as RPM packages", "platform_rpm.html"),
    ("build httpd on Windows with cmake", "platform_win_compiling.html"),
    ("options of the configure script for compiling the source tree", "programs_configure.html"),
    ("tool to manage the user file of digest authentication", "programs_htdigest.html"),
    ("convert a text file into a dbm file for RewriteMap", "programs_httxt2dbm.html"),
    ("resolve IP addresses to host names in access logs afterwards", "programs_logresolve.html"),
    ("split a combined access log into one file per virtual host", "programs_split-logfile.html"),
    (
        "stop other sites from hotlinking my images and deny access with mod_rewrite",
        "rewrite_access.html",
    ),
    ("shard users across backend servers with a rewrite map", "rewrite_advanced.html"),
    (
        "how rewrite rules behave differently in per-directory htaccess files",
        "rewrite_htaccess.html",
    ),
    ("in which phases of request handling mod_rewrite applies its rules", "rewrite_tech.html"),
    (
        "create a virtual host for every hostname automatically using mod_rewrite",
        "rewrite_vhosts.html",
    ),
    ("ServerAdmin and ServerTokens settings for the whole server", "server-wide.html"),
    ("share cached data such as SSL sessions across all worker processes", "socache.html"),
    ("how the server decides which virtual host answers a request", "vhosts_details.html"),
    (
        "running out of file descriptors with many virtual hosts and log files",
        "vhosts_fd-limits.html",
    ),
    ("different sites on different IP addresses of one machine", "vhosts_ip-based.html"),
    ("mod_ssl compatibility with other SSL solutions and their directives", "ssl_ssl_compat.html"),
    ("demultiplex a captured stream of connections into separate files", "programs_firehose.html"),
    ("start a FastCGI program listening on a port", "programs_fcgistarter.html"),
)


@dataclass
class Chunks:
    page: list[str]  # the page (file name) of each chunk
    text: list[str]
    vectors: np.ndarray  # (n, 256) float32, unit-normalised
    embed_seconds: float  # raw WordLlama time for all the chunk texts


def corpus_chunks(settings: ChunkSettings | None = None) -> Chunks:
    """Every page's chunks and their WordLlama vectors."""
    import time

    extractor = TrafilaturaExtractor()
    pages, texts = [], []
    for path in sorted(PAGES.glob("*.html")):
        text = extractor.extract(
            path.read_bytes(), url=f"https://httpd.example/{path.name}", content_type="text/html"
        ).text
        for piece in split(text, settings or ChunkSettings()):
            pages.append(path.name)
            texts.append(text[piece.start : piece.end])
    embedder = WordLlamaEmbedder(MODEL)
    embedder.embed(texts[:64])  # warm
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    return Chunks(pages, texts, vectors, time.perf_counter() - started)


def page_ids(pages: list[str]) -> dict[str, uuid.UUID]:
    return {name: uuid.uuid5(uuid.NAMESPACE_URL, name) for name in sorted(set(pages))}


def page_file(name: str) -> Path:
    return PAGES / name
