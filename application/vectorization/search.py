"""Search a project's chunks: hybrid (vector + full text, RRF), vector or text.

Viewer role or a share link (a caller who cannot read the project gets
NotFound, exactly as on its other routes). The query is embedded with the
model whose index answers the project now, so a model change never mixes
vectors of two models. Each hit carries what an exact citation needs: the
URL, the version, the offsets in that version's extracted text, and a
text-fragment link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote
from uuid import UUID

from application import access
from application.auth.principal import Caller
from application.store import InvalidRequest
from application.vectorization.ports import MODES, TEXT, Embedders, Hit, SearchIndex

MAX_K = 100
MAX_QUERY = 1000  # characters
FRAGMENT_WORDS = 4

ModelFor = Callable[[UUID], str]  # a project's embedding model (its setting)


@dataclass(frozen=True)
class SearchHit:
    hit: Hit
    fragment_url: str


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    model: str  # the model whose vectors answered


class SearchQueries:
    def __init__(
        self,
        index: SearchIndex,
        embedders: Embedders,
        policy: access.AccessPolicy,
        model_for: ModelFor,
    ) -> None:
        self.index = index
        self.embedders = embedders
        self.policy = policy
        self.model_for = model_for

    def search(
        self,
        caller: Caller,
        project_id: UUID,
        q: str,
        k: int = 10,
        mode: str = "hybrid",
        url_id: UUID | None = None,
    ) -> SearchResult:
        """The project's best `k` chunks for `q`, best first."""
        self.policy.require(caller, project_id, access.VIEWER)
        query = q.strip()
        if not query:
            raise InvalidRequest("q must not be empty")
        if len(query) > MAX_QUERY:
            raise InvalidRequest(f"q must be at most {MAX_QUERY} characters")
        if not 1 <= k <= MAX_K:
            raise InvalidRequest(f"k must be between 1 and {MAX_K}")
        if mode not in MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(MODES)}")
        model = self.index.model_of(project_id, self.model_for(project_id))
        vector = None if mode == TEXT else self.embedders.get(model).embed([query])[0]
        hits = self.index.search(project_id, model, query, vector, k, mode, url_id)
        return SearchResult([SearchHit(h, fragment_url(h.url, h.text)) for h in hits], model)


def fragment_url(url: str, text: str) -> str:
    """`url#:~:text=start,end`: a link that scrolls to and highlights the chunk."""
    words = text.split()
    if not words:
        return url
    base = url.split("#", 1)[0]
    if len(words) <= 2 * FRAGMENT_WORDS:
        return f"{base}#:~:text={_fragment(' '.join(words))}"
    start = " ".join(words[:FRAGMENT_WORDS])
    end = " ".join(words[-FRAGMENT_WORDS:])
    return f"{base}#:~:text={_fragment(start)},{_fragment(end)}"


def _fragment(text: str) -> str:
    # `-`, `,` and `&` are syntax inside a text directive: always percent-encoded.
    return quote(text, safe="").replace("-", "%2D")
