"""Use cases and queries of the urls area."""
