"""Helpers behind the fixtures in tests/conftest.py (real services, no mocks)."""
