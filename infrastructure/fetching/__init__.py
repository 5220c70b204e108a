"""Fetching web pages for ingestion: the Fetcher port's SSRF-safe httpx adapter."""

from infrastructure.fetching.safe import SafeFetcher

__all__ = ["SafeFetcher"]
