"""Moved to the one fixture home: tests/support/people.py. Kept so `tests.api.hashers.CountingHasher` resolves."""

from tests.support.people import CountingHasher

__all__ = ["CountingHasher"]
