"""Lance's compute pool on small machines: never one thread for two searches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infrastructure.lancedb import tables

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("cores", "threads"), [(1, None), (2, 2), (3, 2), (4, None), (8, None)])
def test_lance_gets_two_compute_threads_where_its_own_rule_leaves_one(
    cores: int, threads: int | None
) -> None:
    # Lance's rule: cores minus two kept for I/O, and 1 when that leaves none.
    assert tables.lance_cpu_threads(cores) == threads


def test_the_setting_is_in_the_environment_before_any_query() -> None:
    wanted = tables.lance_cpu_threads(tables._cores())
    if wanted is not None:
        assert int(os.environ["LANCE_CPU_THREADS"]) >= 1


@pytest.mark.parametrize(
    ("quota", "cores"),
    [("max 100000\n", None), ("200000 100000\n", 2), ("150000 100000\n", 2), ("50000 100000", 1)],
)
def test_a_cgroup_quota_caps_the_cores_counted(
    tmp_path: Path, quota: str, cores: int | None
) -> None:
    """A container given `--cpus 2` on a larger host has two cores, as Lance counts."""
    machine = tables._cores(str(tmp_path / "none"))  # no quota file: the CPUs it may run on
    limit = tmp_path / "cpu.max"
    limit.write_text(quota)
    assert tables._cores(str(limit)) == min(machine, cores or machine)
