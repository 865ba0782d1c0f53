"""The one exception type openha raises for bad input, and the checks that raise it.

Every public function validates its arguments here, in the Python layer, before
any numba kernel runs, so a user sees which parameter was wrong, the value given
and what is allowed, never a numba traceback.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "OpenHAError",
    "check_finite",
    "check_int",
    "check_nonnegative",
    "check_positive",
    "check_probability",
]


class OpenHAError(ValueError):
    """Invalid input to openha.

    The message names the parameter, the value given and what is allowed.

    Examples
    --------
    >>> import openha as ha
    >>> try:
    ...     ha.Node("a", p_fail=1.5)
    ... except ha.OpenHAError as e:
    ...     print(e)
    p_fail of node 'a' must be a probability in [0, 1]; got 1.5
    """


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise OpenHAError(f"{name} must be a number; got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise OpenHAError(f"{name} must be a number; got {value!r}") from None


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float in [0, 1] or raise :class:`OpenHAError`."""
    x = _as_float(name, value)
    if not (0.0 <= x <= 1.0):  # also rejects NaN
        raise OpenHAError(f"{name} must be a probability in [0, 1]; got {value!r}")
    return x


def check_finite(name: str, value: Any) -> float:
    """Return ``value`` as a finite float or raise :class:`OpenHAError`."""
    x = _as_float(name, value)
    if not math.isfinite(x):
        raise OpenHAError(f"{name} must be a finite number; got {value!r}")
    return x


def check_nonnegative(name: str, value: Any) -> float:
    """Return ``value`` as a finite float >= 0 or raise :class:`OpenHAError`."""
    x = _as_float(name, value)
    if not (math.isfinite(x) and x >= 0.0):
        raise OpenHAError(f"{name} must be a finite number >= 0; got {value!r}")
    return x


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a finite float > 0 or raise :class:`OpenHAError`."""
    x = _as_float(name, value)
    if not (math.isfinite(x) and x > 0.0):
        raise OpenHAError(f"{name} must be a finite number > 0; got {value!r}")
    return x


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high] or raise :class:`OpenHAError`."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise OpenHAError(f"{name} must be an integer; got {value!r}")
    x = int(value.__index__())
    if (low is not None and x < low) or (high is not None and x > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise OpenHAError(f"{name} must be an integer in [{lo}, {hi}]; got {value!r}")
    return x
