"""The Extractor port on trafilatura, for bytes our own fetcher got.

trafilatura only ever sees a decoded string: we pick the charset (BOM,
valid UTF-8, Content-Type, <meta>, then trafilatura's detection; see
`decode`). Nothing is downloaded here: no `fetch_url`, and trafilatura's
extraction functions do no I/O.

Settings (measured with `python -m bench extraction`, chosen on principle
rather than fitted to that proxy reference):
- balanced focus, neither `favor_precision` nor `favor_recall`, with the
  fallbacks on (`fast=False`, formerly `no_fallback=False`: readability and
  jusText are consulted when the main pass finds little), the configuration
  trafilatura's own evaluations rank best on F1;
- `include_comments=False`: reader comments are not the page's text;
- `include_tables=True`: tables on article pages mostly carry content
  (figures, timelines, specifications), not layout;
- metadata on, for the title; the date is not used, so htmldate's extensive
  search is off and its upper bound fixed (the result never depends on today);
- a result under 250 characters (where trafilatura falls back to the whole
  page) is replaced by a `favor_precision` pass with nav/header/footer/aside
  pruned, and the page fails when that finds nothing (boilerplate only).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from trafilatura import bare_extraction
from trafilatura.settings import Document
from trafilatura.utils import detect_encoding

from application.ports import Extracted, ExtractionFailed
from domain.chunks.splitter import ChunkSettings

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_LANG = re.compile(
    r"""<html\b[^>]*?\blang\s*=\s*["']?\s*([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*)""", re.I
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# What browsers mean by these labels (WHATWG Encoding): windows-1252, not strict Latin-1.
_WHATWG = dict.fromkeys(
    ("iso-8859-1", "iso8859-1", "latin-1", "latin1", "ascii", "us-ascii"), "cp1252"
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Chinese and Japanese are written without spaces: there each character counts as a word.
_WORDS = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+(?:['\u2019-][^\W{_CJK}]+)*")
_SHORT = 250  # trafilatura's MIN_EXTRACTED_SIZE
_CHROME = ["//nav", "//header", "//footer", "//aside", "//*[@role='navigation']"]
_DATES = {"original_date": True, "extensive_search": False, "max_date": "2100-01-01"}


class TrafilaturaExtractor:
    """Main text, title and stated language of HTML pages; plain text passes through."""

    def __init__(
        self, *, include_tables: bool = True, focus: str = "balanced", fast: bool = False
    ) -> None:
        if focus not in ("balanced", "precision", "recall"):
            raise ValueError(f"focus must be balanced, precision or recall, not {focus!r}")
        self._options: dict[str, Any] = {
            "fast": fast,
            "favor_precision": focus == "precision",
            "favor_recall": focus == "recall",
            "include_comments": False,
            "include_tables": include_tables,
            "include_formatting": False,
            "include_links": False,
            "include_images": False,
            "with_metadata": True,
            "date_extraction_params": _DATES,
        }

    def extract(
        self, body: bytes, *, url: str, content_type: str, chunking: ChunkSettings | None = None
    ) -> Extracted:
        """The main text of `body` (and its chunks, given `chunking`);
        ExtractionFailed when there is none."""
        return self._extract(body, url, content_type).chunked(chunking)

    def _extract(self, body: bytes, url: str, content_type: str) -> Extracted:
        mime, declared = _media_type(content_type)
        if mime == "text/plain":
            return _extracted(decode(body, declared, sniff=False), title=None, language=None)
        page = decode(body, declared)
        document = _extraction(page, url, self._options)
        text = self._main_text(page, url, document.text or "") if document else ""
        if document is None or not text:
            raise ExtractionFailed("no main text found")
        language = document.language or _stated_language(page)
        return _extracted(text, title=_clean(document.title), language=language)

    def _main_text(self, page: str, url: str, text: str) -> str:
        # Below this size trafilatura falls back to the whole page's text, which
        # on a page without an article is its chrome (menus, footer): keep what
        # a strict pass finds outside the navigation landmarks, if anything.
        if len(text.strip()) >= _SHORT:
            return text
        options = {
            **self._options,
            "favor_precision": True,
            "favor_recall": False,
            "with_metadata": False,
        }
        strict = _extraction(page, url, {**options, "prune_xpath": _CHROME})
        return str(strict.text or "") if strict is not None else ""


def _extraction(page: str, url: str, options: dict[str, Any]) -> Document | None:
    try:
        document = bare_extraction(page, url=url or None, **options)
    except Exception as error:
        # a page that breaks the heuristics is a failed page, not a dead worker
        raise ExtractionFailed(f"extractor error: {type(error).__name__}: {error}") from error
    return document if isinstance(document, Document) else None


def decode(body: bytes, declared: str | None, *, sniff: bool = True) -> str:
    """Decode by BOM; as UTF-8 when valid; else by the declared or <meta> charset, or a guess.

    Valid UTF-8 beats a declared legacy charset: text in a legacy encoding is
    almost never valid UTF-8, while pages re-saved as UTF-8 keep a stale
    `<meta charset=gb2312>` or `latin-1` header quite often.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    meta = _META_CHARSET.search(body[:4096]) if sniff else None
    labels = [
        _codec(label) for label in (declared, meta.group(1).decode("ascii") if meta else None)
    ]
    if labels[0] is not None and labels[0].startswith("utf-16"):
        return body.decode(labels[0], errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for label in labels:
        if label is not None:
            return body.decode(label, errors="replace")
    for guess in detect_encoding(body):
        try:
            return str(body.decode(guess))
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def normalize(text: str) -> str:
    """Spaces collapsed within lines, blank-line runs collapsed to one paragraph break."""
    lines = (
        " ".join(line.split())
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def word_count(text: str) -> int:
    return len(_WORDS.findall(text))


def _extracted(raw: str, *, title: str | None, language: str | None) -> Extracted:
    text = normalize(raw)
    if not text:
        raise ExtractionFailed("no text")
    return Extracted(text=text, title=title, language=language, word_count=word_count(text))


def _media_type(content_type: str) -> tuple[str, str | None]:
    mime, _, params = content_type.partition(";")
    charset = re.search(r"""charset\s*=\s*["']?([^"';\s]+)""", params, re.I)
    return mime.strip().lower(), charset.group(1) if charset else None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    try:
        return _WHATWG.get(label) or codecs.lookup(label).name
    except LookupError:
        return None


def _stated_language(page: str) -> str | None:
    found = _HTML_LANG.search(page)
    return found.group(1).replace("_", "-").lower() if found else None


def _clean(title: str | None) -> str | None:
    return (" ".join(title.split()) or None) if title else None
