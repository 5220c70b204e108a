"""Re-vectorize a project in the background when its embedding model changes.

The project's URLs get `vectorize` jobs; each job embeds with the project's
model of that moment (read by the vectorize step), reusing the cache for text
that model has seen. The index keeps the old model's table, and search keeps
answering from it (`SearchIndex.model_of`) until every URL it holds for the
project has the new model's rows; then search switches and the project's
old rows are deleted. To be hooked on the
project-settings event (issue 4): `Revectorizer.project(project_id)`.
"""

from __future__ import annotations

from uuid import UUID

from application.ports import JobQueue
from application.urls.pipeline import VECTORIZE
from application.urls.queries import UrlsView
from domain.urls.values import CHUNKED, VECTORIZED

PAGE = 500


class Revectorizer:
    def __init__(self, urls: UrlsView, queue: JobQueue) -> None:
        self.urls = urls
        self.queue = queue

    def project(self, project_id: UUID) -> int:
        """Queue a vectorize job for each chunked or vectorized URL of the project; how many."""
        queued = 0
        for status in (VECTORIZED, CHUNKED):
            after: UUID | None = None
            while page := self.urls.in_project(project_id, status, PAGE, after):
                for url in page:
                    if url.version is not None:
                        self.queue.enqueue(VECTORIZE, url.id, {"version": url.version})
                        queued += 1
                after = page[-1].id
        return queued
