"""Section `extraction`: main-text quality and speed of the Extractor port.

Over the 79 readability pages of ../shared/corpus, our text is scored against
the text of Readability.js's expected output for the page (a proxy reference,
not human gold: read it as a sanity check, never tune to it). The score is
token-shingle precision / recall / F1 (3-grams of lower-cased word tokens,
counted as multisets; a Chinese or Japanese character is a token), averaged
over pages. The baseline, scored in the same run, is the page's full visible
text (scripts, styles and <head> dropped, tags stripped): what an extractor
that removes nothing would score. Extraction speed is in pages/s against the
baseline's own rate. A page the extractor fails on scores 0.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html

from application.ports import ExtractionFailed
from bench.report import Figure
from infrastructure.extraction.trafilatura import TrafilaturaExtractor, decode

CORPUS = Path(
    os.environ.get("TRAWL_CORPUS_DIR") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)
PAGES = CORPUS / "html" / "readability"
REFERENCE = CORPUS / "reference" / "readability-expected"
SHINGLE = 3
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKENS = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_INVISIBLE = ("head", "script", "style", "noscript", "template", "svg")
_INLINE = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "dfn",
        "em",
        "i",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
    ]
)
# Other configurations, measured beside the chosen one so the choice is visible.
VARIANTS: dict[str, dict[str, Any]] = {
    "favor_precision": {"focus": "precision"},
    "favor_recall": {"focus": "recall"},
    "fast": {"fast": True},
    "no tables": {"include_tables": False},
}


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKENS.findall(text.lower())
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def score(candidate: str, reference: str) -> Score:
    ours, theirs = shingles(candidate), shingles(reference)
    if not ours or not theirs:
        return Score(0.0, 0.0, 0.0)
    common = sum((ours & theirs).values())
    precision, recall = common / sum(ours.values()), common / sum(theirs.values())
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return Score(precision, recall, f1)


def visible_text(html: str) -> str:
    """All text a reader could see, block elements kept apart by whitespace."""
    root = lxml.html.fromstring(_XML_DECLARATION.sub("", html, count=1))
    for element in root.xpath(" | ".join(f"//{tag}" for tag in _INVISIBLE)):
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag not in _INLINE:
            element.text, element.tail = " " + (element.text or ""), " " + (element.tail or "")
    return " ".join(str(root.text_content()).split())


def pages() -> list[tuple[str, bytes, str]]:
    """(name, page bytes, reference text) for every page with a reference."""
    return [
        (
            page.stem,
            page.read_bytes(),
            visible_text((REFERENCE / f"{page.stem}.expected.html").read_text("utf-8")),
        )
        for page in sorted(PAGES.glob("*.html"))
        if (REFERENCE / f"{page.stem}.expected.html").exists()
    ]


def measure(
    texts: Callable[[bytes], str], corpus: list[tuple[str, bytes, str]]
) -> tuple[Score, float, int]:
    """Macro-averaged score, pages per second, and pages with no text."""
    started, outputs = time.perf_counter(), [texts(body) for _, body, _ in corpus]
    rate = len(corpus) / (time.perf_counter() - started)
    scores = [
        score(text, reference) for text, (_, _, reference) in zip(outputs, corpus, strict=True)
    ]
    mean = Score(
        *(sum(getattr(s, f) for s in scores) / len(scores) for f in ("precision", "recall", "f1"))
    )
    return mean, rate, sum(1 for text in outputs if not text)


def extractor_text(extractor: TrafilaturaExtractor) -> Callable[[bytes], str]:
    def text(body: bytes) -> str:
        try:
            return extractor.extract(body, url="", content_type="text/html").text
        except ExtractionFailed:
            return ""

    return text


def _line(label: str, s: Score) -> str:
    return f"  {label:<26}{s.precision:.3f} / {s.recall:.3f} / {s.f1:.3f}"


def run(command: str) -> list[Figure]:
    if not PAGES.is_dir():
        print(f"extraction: corpus not found at {PAGES}, section skipped", flush=True)
        return []
    corpus = pages()
    extractor_text(TrafilaturaExtractor())(corpus[0][1])  # warm-up: imports, compiled XPaths
    # the baseline decodes as the adapter does, so only the extraction differs
    base, base_rate, _ = measure(lambda body: visible_text(decode(body, None)), corpus)
    ours, rate, failed = measure(extractor_text(TrafilaturaExtractor()), corpus)
    details = {"pages": len(corpus), "failed": failed, "ours": vars(ours), "baseline": vars(base)}
    print(f"extraction, {len(corpus)} pages, {SHINGLE}-gram shingles, P / R / F1 (macro):")
    print(_line("full-page text", base))
    print(_line("trafilatura (chosen)", ours) + f"  {failed} failed")
    for name, options in VARIANTS.items():
        variant, _, _ = measure(extractor_text(TrafilaturaExtractor(**options)), corpus)
        details[f"variant {name}"] = vars(variant)
        print(_line(f"  variant {name}", variant), flush=True)
    return [
        Figure(
            "extraction",
            "shingle F1 vs Readability ref. (x100)",
            100 * ours.f1,
            "full-page text",
            100 * base.f1,
            "%",
            command=command,
            details=details,
        ),
        Figure(
            "extraction",
            "extraction rate",
            rate,
            "full-page text",
            base_rate,
            "pages/s",
            command=command,
        ),
    ]
