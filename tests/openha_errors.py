"""The check every bad-input test makes: exactly an OpenHAError naming what was wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import openha as ha


def raises_openha_error(fn: Callable[[], Any], *words: str) -> str:
    """Call ``fn``; it must raise exactly OpenHAError whose message contains every word."""
    with pytest.raises(ha.OpenHAError) as info:
        fn()
    err = info.value
    assert type(err) is ha.OpenHAError  # nothing from numba, nothing wrapped
    assert isinstance(err, ValueError)
    msg = str(err)
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"
    return msg
