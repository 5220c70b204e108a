"""End to end: corpus pages served locally, ingested by `trawl serve`, found by search."""

from __future__ import annotations

import html.parser
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import lancedb  # type: ignore[import-untyped]
import pytest

from tests.e2e.test_serve import TRAWL, _signed_in, server  # noqa: F401 - the fixture
from tests.support.corpus import corpus_file
from tests.support.site import serving
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

PAGES = ("caching.html", "bind.html", "dso.html", "env.html")


class _Paragraphs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside, self.found = False, [""]

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.inside = tag == "p" or self.inside

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.inside = False
            self.found.append("")

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.found[-1] += data


def passage(page: Path, words: int = 14) -> str:
    """A long paragraph's opening words: a query only its own page answers well."""
    parser = _Paragraphs()
    parser.feed(page.read_text(errors="replace"))
    longest = max(parser.found, key=lambda text: len(text.split()))
    return " ".join(longest.split()[:words])


def search(client: httpx.Client, auth: dict[str, str], project: str, **params: Any) -> Any:
    answer = client.get(f"/api/v1/projects/{project}/search", params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_pages_are_searchable_by_their_own_passages(
    server: tuple[str, Path],  # noqa: F811 - the fixture
    empty_database_url: str,
) -> None:
    base, data_dir = server
    pages = [corpus_file(f"html/httpd-docs/{name}") for name in PAGES]
    with serving(pages[0].parent) as site, httpx.Client(base_url=base, timeout=30) as client:
        auth = _signed_in(client, data_dir / "mail", "searcher@example.org")
        project = client.post("/api/v1/projects", json={"name": "Docs"}, headers=auth).json()["id"]
        added = client.post(
            f"/api/v1/projects/{project}/urls",
            json={"urls": [site + name for name in PAGES]},
            headers=auth,
        )
        ids = {item["url"].rsplit("/", 1)[-1]: item["id"] for item in added.json()["items"]}

        def all_indexed() -> bool:
            answer = client.get(f"/api/v1/projects/{project}/urls", headers=auth)
            if answer.status_code == 404:  # the project is not in the views yet
                return False
            urls = answer.json()["items"]
            assert not [u for u in urls if u["status"] in ("failed", "blocked")], urls
            return len(urls) == len(PAGES) and all(u["indexed"] for u in urls)

        eventually(all_indexed, timeout=120, what="every page to be indexed", pause=0.2)
        one = client.get(f"/api/v1/urls/{ids['caching.html']}", headers=auth).json()
        assert one["status"] == "vectorized" and one["indexed"] is True

        query = passage(pages[0])
        for mode in ("hybrid", "vector", "text"):
            hits = search(client, auth, project, q=query, k=5, mode=mode)
            assert hits and hits[0]["url_id"] == ids["caching.html"], (mode, hits[:2])
        best = search(client, auth, project, q=query, k=3)[0]
        assert best["fragment_url"].startswith(site + "caching.html#:~:text=")
        assert best["end"] > best["start"] and best["version"] == 1
        assert best["title"]  # the page's <title>
        only = search(client, auth, project, q=query, k=10, url_id=ids["bind.html"])
        assert {hit["url_id"] for hit in only} == {ids["bind.html"]}

        views = client.get("/api/v1/system/projections", headers=auth).json()["items"]
        search_view = next(view for view in views if view["name"] == "search")
        assert search_view["position"] > 0
        assert search_view["lag"] == search_view["head"] - search_view["position"]

        stranger = _signed_in(client, data_dir / "mail", "stranger@example.org")
        refused = client.get(
            f"/api/v1/projects/{project}/search", params={"q": query}, headers=stranger
        )
        assert refused.status_code == 404

        # BM25 over rows the FTS index does not hold yet uses the indexed rows'
        # statistics only, so the live ranking settles once upkeep has indexed
        # every row; the rebuild's index is complete before it serves.
        eventually(
            lambda: _unindexed_text_rows(data_dir) == 0,
            timeout=30,
            what="the live text index to hold every row",
            pause=0.2,
        )
        before = [hit["chunk_id"] for hit in search(client, auth, project, q=query, k=10)]
        rebuilt = subprocess.run(
            [str(TRAWL), "rebuild", "--view", "search"],
            env={
                **os.environ,
                "TRAWL_DATABASE_URL": empty_database_url,
                "TRAWL_DATA_DIR": str(data_dir),
                "TRAWL_LOG_LEVEL": "WARNING",
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        after = [hit["chunk_id"] for hit in search(client, auth, project, q=query, k=10)]
        assert after == before

        removed = client.delete(f"/api/v1/urls/{ids['caching.html']}", headers=auth)
        assert removed.status_code == 200, removed.text

        def gone() -> bool:
            hits = search(client, auth, project, q=query, k=20)
            return all(hit["url_id"] != ids["caching.html"] for hit in hits)

        eventually(gone, timeout=30, what="the removed page to leave the index", pause=0.2)


def _unindexed_text_rows(data_dir: Path) -> int:
    """Rows of the search tables that their FTS index does not hold yet (read
    from the server's LanceDB directory, as an operator could)."""
    db = lancedb.connect(data_dir / "lancedb")
    unindexed = 0
    for name in db.list_tables().tables:
        table = db.open_table(name)
        for index in table.list_indices():
            if tuple(index.columns) == ("text",):
                unindexed += table.index_stats(index.name).num_unindexed_rows
    return unindexed
