"""Where the shared HTML corpus is: `TRAWL_CORPUS_DIR`, else ../shared/corpus
beside the checkout (as the workplace and CI lay it out)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("TRAWL_CORPUS_DIR") or REPO.parent / "shared" / "corpus")
HTML = CORPUS / "html"
REFERENCE = CORPUS / "reference" / "readability-expected"


def corpus_file(relative: str) -> Path:
    """A corpus file; a missing corpus fails the test (it is part of the test input)."""
    path = CORPUS / relative
    if not path.exists():
        pytest.fail(f"the shared corpus is not at {CORPUS}: put it there or set TRAWL_CORPUS_DIR")
    return path
