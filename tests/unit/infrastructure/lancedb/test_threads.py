"""Lance's compute pool on small machines: never one thread for two searches."""

from __future__ import annotations

import os

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
