"""Where the splitter may break a text: paragraph, sentence and word boundaries.

A boundary is an index `b` between `text[b - 1]` and `text[b]`. A word is a
run of non-whitespace characters (`str.isspace`), except in scripts written
without spaces: every Han, kana or fullwidth character counts as a word of
its own (Korean is written with spaces and is not among them). Between two
such characters, no break is offered before a character that belongs to the
one before it (closing punctuation, a combining mark, "々", "ー"), so no chunk
starts with "。" or "」"; opening brackets and quotes may start one.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

# Han (and its extensions and compatibility forms), kana, Bopomofo, CJK
# symbols and punctuation, fullwidth and halfwidth forms.
CJK = re.compile(
    "[\u2e80-\u2fdf\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    "\U00020000-\U0003ffff]"
)
_CJK_RUN = re.compile(CJK.pattern + "+")
_WORD = re.compile(r"\S+")
# A blank line: two line breaks with only spaces between, or U+2029.
_PARAGRAPH = re.compile(r"\S(?=[^\S\r\n]*(?:\r\n?|\n)[^\S\r\n]*(?:\r\n?|\n)|\s*\u2029)")
_CLOSERS = "\"'\u00bb\u2019\u201d)\\]}\u300d\u300f\u3011\u300b\u3009\uff09"
# Latin-style terminators end a sentence before whitespace or the end of the
# text; CJK ones end it wherever they stand (no space follows them).
_SENTENCE = re.compile(
    f"[.!?\u2026]+[{_CLOSERS}]*(?=\\s|\\Z)|[\u3002\uff01\uff1f\uff61]+[{_CLOSERS}]*"
)


@dataclass(frozen=True)
class Boundaries:
    """Sorted candidate indexes: where chunks may end, and where they may start."""

    paragraph_ends: list[int]
    sentence_ends: list[int]
    word_ends: list[int]
    word_starts: list[int]
    sentence_starts: list[int]


def is_cjk(char: str) -> bool:
    """Whether a character is a word on its own (a script without spaces)."""
    return CJK.match(char) is not None


def find_boundaries(text: str) -> Boundaries:
    """All break candidates of a text, in one pass per kind (linear time)."""
    spans = [m.span() for m in _WORD.finditer(text)]  # in order: already sorted
    word_starts = [start for start, _ in spans]
    word_ends = [end for _, end in spans]
    cjk_gaps = _cjk_gaps(text)
    if cjk_gaps:
        word_ends = sorted(cjk_gaps.union(word_ends))
        word_starts = sorted(cjk_gaps.union(word_starts))
    ends = set(word_ends)
    # Only word ends qualify, so a stronger kind never breaks inside a word.
    sentence_ends = sorted({m.end() for m in _SENTENCE.finditer(text)} & ends)
    paragraph_ends = sorted({m.end() for m in _PARAGRAPH.finditer(text)} & ends)
    # The word after a sentence or paragraph end (none after the last one).
    after = (first_in(word_starts, end, len(text)) for end in sentence_ends + paragraph_ends)
    sentence_starts = sorted({start for start in after if start is not None})
    return Boundaries(paragraph_ends, sentence_ends, word_ends, word_starts, sentence_starts)


def last_in(sorted_values: list[int], above: int, up_to: int) -> int | None:
    """The largest value v with above < v <= up_to, if any."""
    index = bisect.bisect_right(sorted_values, up_to) - 1
    return sorted_values[index] if index >= 0 and sorted_values[index] > above else None


def first_in(sorted_values: list[int], from_: int, below: int) -> int | None:
    """The smallest value v with from_ <= v < below, if any."""
    index = bisect.bisect_left(sorted_values, from_)
    found = index < len(sorted_values) and sorted_values[index] < below
    return sorted_values[index] if found else None


def _cjk_gaps(text: str) -> set[int]:
    """Boundaries between two non-space characters, one of them CJK."""
    gaps: set[int] = set()
    for run in _CJK_RUN.finditer(text):
        start, end = run.span()
        # The run's edges count only against a non-space neighbour; inside
        # the run every gap counts.
        low = start if start > 0 and not text[start - 1].isspace() else start + 1
        high = end if end < len(text) and not text[end].isspace() else end - 1
        for index in range(low, high + 1):
            if not _belongs_to_previous(text[index]):
                gaps.add(index)
    return gaps


# Closing, final, dash, connector and other punctuation; modifier letters
# (iteration and length marks); combining marks.
_BELONGS_TO_PREVIOUS = frozenset({"Pe", "Pf", "Pd", "Pc", "Po", "Lm", "Mn", "Mc", "Me"})


def _belongs_to_previous(char: str) -> bool:
    return char == "\u200d" or unicodedata.category(char) in _BELONGS_TO_PREVIOUS
