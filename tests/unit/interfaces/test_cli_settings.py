import pytest

from interfaces.cli.main import main

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("argv", "environ", "named"),
    [
        (["worker", "--jobs", "fetch,embed"], {}, "worker_jobs"),
        (["worker"], {"TRAWL_WORKER_JOBS": "all"}, "worker_jobs"),
        (["serve"], {"TRAWL_PORT": "eighty"}, "port"),
    ],
)
def test_a_bad_setting_stops_the_command_with_a_message(
    argv: list[str], environ: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as stopped:
        main(argv)

    assert str(stopped.value).startswith("trawl: invalid setting:")
    assert f"$.{named}" in str(stopped.value)
