import uuid

import pytest

from domain.common import Context
from domain.projects import errors, values
from domain.projects.aggregate import Project

pytestmark = pytest.mark.unit

CTX = Context("user:ada", "corr-1")


def new_project(name: str = "Research", description: str = "") -> Project:
    return Project.create(CTX, uuid.uuid4(), uuid.uuid4(), name, description)


def test_name_is_trimmed() -> None:
    assert values.normalize_name("  Research notes \n") == "Research notes"


@pytest.mark.parametrize("length", [1, 200])
def test_name_of_1_to_200_characters_is_accepted(length: int) -> None:
    assert values.normalize_name("n" * length) == "n" * length


@pytest.mark.parametrize("name", ["", "   ", "\n\t", "n" * 201])
def test_name_empty_or_longer_than_200_characters_is_refused(name: str) -> None:
    with pytest.raises(errors.InvalidName):
        values.normalize_name(name)


def test_trimming_happens_before_the_length_check() -> None:
    assert values.normalize_name("  " + "n" * 200 + "  ") == "n" * 200


@pytest.mark.parametrize("name", ["a\x00b", "line\nbreak", "tab\tinside", "bell\x07", "del\x7f"])
def test_name_with_control_characters_is_refused(name: str) -> None:
    with pytest.raises(errors.InvalidName):
        values.normalize_name(name)


def test_name_may_hold_any_printable_unicode() -> None:
    assert values.normalize_name("Récits — 東京 🐟") == "Récits — 東京 🐟"


def test_description_may_be_empty() -> None:
    assert values.normalize_description("   ") == ""


def test_description_is_trimmed_and_keeps_inner_newlines_and_tabs() -> None:
    text = "  first line\n\tsecond\r\nthird  "
    assert values.normalize_description(text) == "first line\n\tsecond\r\nthird"


def test_description_of_2000_characters_is_accepted() -> None:
    assert len(values.normalize_description("d" * 2000)) == 2000


def test_description_longer_than_2000_characters_is_refused() -> None:
    with pytest.raises(errors.InvalidDescription):
        values.normalize_description("d" * 2001)


@pytest.mark.parametrize("description", ["nul\x00", "escape\x1b[0m", "bell\x07"])
def test_description_with_other_control_characters_is_refused(description: str) -> None:
    with pytest.raises(errors.InvalidDescription):
        values.normalize_description(description)


def test_create_stores_the_normalized_name_and_description() -> None:
    project = new_project("  Research  ", "  about fish \n")

    assert (project.name, project.description) == ("Research", "about fish")
    [created] = project.collect_events()
    assert (created.name, created.description) == ("Research", "about fish")


def test_create_with_an_invalid_name_raises_before_any_event() -> None:
    with pytest.raises(errors.InvalidName):
        new_project(" ")


def test_rename_with_an_invalid_name_records_nothing() -> None:
    project = new_project()
    project.collect_events()

    with pytest.raises(errors.InvalidName):
        project.rename(CTX, "x" * 201)

    assert project.collect_events() == []
    assert project.name == "Research"


def test_description_change_with_an_invalid_value_records_nothing() -> None:
    project = new_project()
    project.collect_events()

    with pytest.raises(errors.InvalidDescription):
        project.change_description(CTX, "\x00")

    assert project.collect_events() == []
