"""One table of figures, printed and saved as JSON under bench/results/.

Every figure is a ratio against a baseline measured in the same run (disk
fsync speed here varies up to 10x between runs, so only same-run ratios
mean anything), with the command that reproduces it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


@dataclass
class Figure:
    """One measured figure beside its same-run baseline."""

    section: str
    name: str
    value: float
    baseline_name: str
    baseline: float
    unit: str
    target: str = ""
    passed: bool | None = None  # None: context only, no target
    command: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


def _fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:,.0f} {unit}"


def rows(figures: list[Figure]) -> list[list[str]]:
    header = ["section", "figure", "value", "baseline", "ratio", "target", "result"]
    body = [
        [
            f.section,
            f.name,
            _fmt(f.value, f.unit),
            f"{_fmt(f.baseline, f.unit)} ({f.baseline_name})",
            f"{f.ratio:.2f}x",
            f.target or "-",
            {True: "PASS", False: "FAIL", None: "context"}[f.passed],
        ]
        for f in figures
    ]
    return [header, *body]


def table(figures: list[Figure]) -> str:
    """A Markdown table (readable in a terminal, pasteable into the docs)."""
    all_rows = rows(figures)
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(all_rows[0]))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(all_rows[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in all_rows[1:]]
    commands = dict.fromkeys(f.command for f in figures if f.command)
    out += ["", "Reproduce: " + "; ".join(f"`{c}`" for c in commands)]
    return "\n".join(out)


def machine(postgres_version: str = "?") -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "?"
    with open("/proc/cpuinfo") as handle:
        for text in handle:
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        mem_kib = int(handle.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": postgres_version,
        "git": _git_head(),
    }


def load_average() -> float:
    """The 1-minute load average: other work on the machine skews every figure."""
    with open("/proc/loadavg") as handle:
        return float(handle.read().split()[0])


def _git_head() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def save(figures: list[Figure], meta: dict[str, Any]) -> Path:
    """Write the figures and the run's description to bench/results/<timestamp>.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / time.strftime("%Y%m%dT%H%M%S.json")
    payload = {
        **meta,
        "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
