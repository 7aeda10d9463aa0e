"""Fixtures shared by the language-server tests that build on tests/e2e/test_lsp_server.py's client."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def client_experimental() -> dict[str, Any] | None:
    """The test client's `experimental` capabilities; a test module overrides it (e.g. per-hunk review)."""
    return None
