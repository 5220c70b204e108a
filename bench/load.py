"""The load generator of section `commands`: N keep-alive clients POSTing a body.

The same generator drives both servers of a comparison. `wrk` (C, a few % of
one core) is used when installed; otherwise an asyncio client on raw
keep-alive sockets (uvloop when available) stands in. Both are closed-loop:
each client sends its next request when the previous answer arrived, and the
latency of every request counts toward p50/p99. A warm-up run comes first and
is discarded.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Load:
    """What to send: one POST with a JSON body and headers, repeated."""

    base_url: str  # http://127.0.0.1:PORT
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Result:
    requests: int  # answered within the measured window
    errors: int  # answers outside 2xx, and socket errors
    seconds: float
    p50_ms: float
    p99_ms: float
    tool: str

    @property
    def rate(self) -> float:
        """Successful answers per second."""
        return (self.requests - self.errors) / self.seconds


def pick_tool(preference: str) -> str:
    if preference == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if preference == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), use --load python")
    return preference


def run(load: Load, clients: int, duration: float, warmup: float, tool: str) -> Result:
    """Warm up for `warmup` s, then measure `duration` s with `clients` connections."""
    measure = _wrk if tool == "wrk" else _python
    if warmup > 0:
        measure(load, clients, warmup)
    return measure(load, clients, duration)


# -- wrk -----------------------------------------------------------------------

_LUA = """
wrk.method = "POST"
wrk.path = {path}
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {{\\"requests\\": %d, \\"us\\": %d, \\"p50\\": %d, \\"p99\\": %d,"
    .. " \\"errors\\": %d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def _wrk(load: Load, clients: int, duration: float) -> Result:
    headers = "\n".join(
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in load.headers.items()
    )
    script = _LUA.format(
        path=_lua_string(load.path), body=_lua_string(load.body.decode()), headers=headers
    )
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "post.lua"
        lua.write_text(script)
        threads = min(2, clients)
        argv = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{duration:g}s", "--timeout", "10s"]
        out = subprocess.run(
            [*argv, "-s", str(lua), load.base_url], capture_output=True, text=True, check=True
        ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return Result(
        requests=data["requests"],
        errors=data["errors"],
        seconds=data["us"] / 1e6,
        p50_ms=data["p50"] / 1000,
        p99_ms=data["p99"] / 1000,
        tool="wrk",
    )


# -- Python --------------------------------------------------------------------


def _python(load: Load, clients: int, duration: float) -> Result:
    try:
        import uvloop

        return uvloop.run(_python_async(load, clients, duration))
    except ImportError:
        return asyncio.run(_python_async(load, clients, duration))


async def _python_async(load: Load, clients: int, duration: float) -> Result:
    host, port = load.base_url.removeprefix("http://").split(":")
    head = [f"POST {load.path} HTTP/1.1", f"Host: {host}:{port}"]
    head += [f"{k}: {v}" for k, v in load.headers.items()]
    head += [f"Content-Length: {len(load.body)}", "", ""]
    request = "\r\n".join(head).encode() + load.body
    latencies: list[float] = []
    errors = [0]
    start = time.perf_counter()
    deadline = start + duration
    await asyncio.gather(
        *(_client(host, int(port), request, deadline, latencies, errors) for _ in range(clients))
    )
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if latencies else [0.0] * 99
    return Result(
        requests=len(latencies),
        errors=errors[0],
        seconds=duration,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        tool="python",
    )


async def _client(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (sent := time.perf_counter()) < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            answered = time.perf_counter()
            if answered <= deadline:
                latencies.append(answered - sent)
                if not head.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")):
                    errors[0] += 1
    except (OSError, asyncio.IncompleteReadError):
        errors[0] += 1
    finally:
        writer.close()
