import os
import stat
import threading
from pathlib import Path

import msgspec
import pytest

from infrastructure.settings import Settings

pytestmark = pytest.mark.unit


def test_a_configured_jwt_secret_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path), jwt_secret="configured")

    assert settings.resolved_jwt_secret() == "configured"
    assert not (tmp_path / "jwt_secret").exists()


def test_a_generated_jwt_secret_is_kept_private_and_reused(tmp_path: Path) -> None:
    first = Settings(data_dir=str(tmp_path / "data")).resolved_jwt_secret()
    again = Settings(data_dir=str(tmp_path / "data")).resolved_jwt_secret()

    assert len(first) >= 32
    assert again == first
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "jwt_secret").st_mode)
    assert mode == 0o600


def resolve_together(settings: Settings, count: int) -> list[object]:
    """`resolved_jwt_secret()` from `count` threads released at once: answers or errors."""
    barrier = threading.Barrier(count)
    answers: list[object] = []

    def start() -> None:
        barrier.wait()
        try:
            answers.append(settings.resolved_jwt_secret())
        except Exception as error:  # the assertion shows it
            answers.append(error)

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_processes_starting_together_agree_on_one_non_empty_secret(tmp_path: Path) -> None:
    # Several starters on a fresh data directory: none may fail, none may read a
    # half-written (empty) secret, all must sign with the same one.
    for attempt in range(20):
        data_dir = tmp_path / str(attempt)

        answers = resolve_together(Settings(data_dir=str(data_dir)), 8)

        assert len(set(map(repr, answers))) == 1, answers
        assert isinstance(answers[0], str)
        assert answers[0]
        assert [p.name for p in data_dir.iterdir()] == ["jwt_secret"]


def test_from_env_reads_trawl_variables_only(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "TRAWL_DATA_DIR": str(tmp_path),
            "TRAWL_DB_POOL_SIZE": "3",
            "TRAWL_GROUP_COMMIT": "false",
            "DATA_DIR": "/elsewhere",
        }
    )

    assert (settings.data_dir, settings.db_pool_size, settings.group_commit) == (
        str(tmp_path),
        3,
        False,
    )


def test_worker_jobs_name_the_kinds_a_worker_runs() -> None:
    assert Settings().worker_kinds == ("fetch", "extract", "chunk", "vectorize", "refresh")
    chosen = Settings.from_env({"TRAWL_WORKER_JOBS": " extract, chunk ,extract"})
    assert chosen.worker_kinds == ("extract", "chunk")


@pytest.mark.parametrize("jobs", ["", "fetch,", "fetch,,chunk", "embed", "fetch;chunk"])
def test_worker_jobs_refuse_unknown_kinds(jobs: str) -> None:
    with pytest.raises(msgspec.ValidationError, match="worker_jobs"):
        Settings.from_env({"TRAWL_WORKER_JOBS": jobs})
