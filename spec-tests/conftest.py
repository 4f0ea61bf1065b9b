"""Shared fixtures for spec-tests/: where the WAMP conformance vectors are (wamp-spec §7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from vectorsuite import missing_reason, suite_dir


@pytest.fixture(scope="session")
def testsuite_dir() -> Path:
    """The wamp-testsuite directory (``WAMP_TESTSUITE`` or ``../shared/wamp-testsuite``).

    Tests that use it are skipped, with the reason stated, when the vectors are absent.
    """
    root = suite_dir()
    if root is None:
        pytest.skip(missing_reason())
    return root
