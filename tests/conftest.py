"""Fixtures shared by the test modules."""

from __future__ import annotations

import numba
import pytest


@pytest.fixture
def restore_threads():
    """Let a test change numba's thread count; put it back afterwards."""
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)
