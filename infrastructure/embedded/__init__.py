"""Servers Trawl can run in-process when no external one is configured."""
