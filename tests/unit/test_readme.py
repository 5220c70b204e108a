"""The README's promises that can drift: the settings reference, the commands."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from infrastructure.settings import Settings, reference_markdown
from interfaces.cli.main import build_parser

pytestmark = pytest.mark.unit

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_readme_holds_the_generated_settings_reference() -> None:
    assert reference_markdown() in README


def test_every_cli_command_is_in_the_readme() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"`trawl {name}" in README, name


def test_settings_are_read_from_trawl_variables_and_validated() -> None:
    settings = Settings.from_env({"TRAWL_PORT": "9001", "TRAWL_GROUP_COMMIT": "false", "HOME": "/"})
    assert settings.port == 9001 and settings.group_commit is False
    with pytest.raises(msgspec.ValidationError):
        Settings.from_env({"TRAWL_PORT": "99999"})


def test_command_line_options_win_over_the_environment() -> None:
    settings = Settings.from_env({"TRAWL_PORT": "9001"}, port=9002)
    assert settings.port == 9002
