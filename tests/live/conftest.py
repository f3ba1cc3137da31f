"""The API fixtures (the real app over HTTP) for live-data tests."""

from tests.api.conftest import api

__all__ = ["api"]
