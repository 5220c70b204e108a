"""Break candidates: which gaps the splitter may use, by kind."""

from __future__ import annotations

import pytest

from domain.chunks.boundaries import find_boundaries, first_in, is_cjk, last_in

pytestmark = pytest.mark.unit


def test_word_ends_and_starts_lie_at_whitespace() -> None:
    bounds = find_boundaries("  one two\tthree ")
    assert bounds.word_ends == [5, 9, 15]
    assert bounds.word_starts == [2, 6, 10]


def test_han_and_kana_are_words_of_their_own_but_hangul_is_not() -> None:
    assert is_cjk("日") and is_cjk("か") and is_cjk("カ") and is_cjk("。")
    assert not is_cjk("한") and not is_cjk("a") and not is_cjk("\u3000")
    assert find_boundaries("日本語").word_ends == [1, 2, 3]
    assert find_boundaries("한국어").word_ends == [3]


def test_no_cjk_break_before_what_belongs_to_the_previous_character() -> None:
    assert find_boundaries("あ。い").word_ends == [2, 3]
    assert find_boundaries("あ「い」").word_ends == [1, 2, 4]
    assert find_boundaries("人々ー").word_ends == [3]


def test_sentence_ends_follow_terminators_and_closing_quotes() -> None:
    text = 'He said "Go." Then left! 終わり。次'
    assert find_boundaries(text).sentence_ends == [13, 24, 29]
    assert find_boundaries("3.14 and e.g.x stay whole").sentence_ends == []


def test_paragraph_ends_are_blank_lines_in_any_newline_convention() -> None:
    text = "one\n\ntwo\r\n  \r\nthree\u2029four\nfive"
    assert find_boundaries(text).paragraph_ends == [3, 8, 19]


def test_sentence_starts_are_the_words_after_sentence_and_paragraph_ends() -> None:
    assert find_boundaries("One. Two\n\nThree").sentence_starts == [5, 10]


def test_sorted_lookups_respect_their_bounds() -> None:
    values = [2, 5, 9]
    assert (
        last_in(values, 2, 9) == 9 and last_in(values, 2, 8) == 5 and last_in(values, 5, 8) is None
    )
    assert (
        first_in(values, 2, 9) == 2
        and first_in(values, 3, 9) == 5
        and first_in(values, 6, 9) is None
    )
