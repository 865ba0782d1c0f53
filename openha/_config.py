"""numba policy in one place: caching, fastmath, threads, fast mode.

Environment overrides (read once, at import):

``OPENHA_NUMBA_CACHE``  ``0`` disables on-disk caching of compiled kernels (default on).
``OPENHA_FASTMATH``     ``1`` allows fastmath in kernels that declare it safe (default off).
``OPENHA_FAST``         ``1`` makes notebooks and examples shrink trial counts (tests use it).
"""

from __future__ import annotations

import os

__all__ = ["CACHE", "FAST", "FASTMATH", "jit_options", "trials"]


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in {"0", "false", "no", "off"}


CACHE: bool = _flag("OPENHA_NUMBA_CACHE", True)
FASTMATH: bool = _flag("OPENHA_FASTMATH", False)
FAST: bool = _flag("OPENHA_FAST", False)


def jit_options(*, parallel: bool = False, fastmath_safe: bool = False) -> dict[str, object]:
    """Keyword arguments for ``numba.njit`` under the project's policy.

    ``fastmath`` is on only when the kernel declares it safe *and* the user opted in.
    """
    return {
        "cache": CACHE,
        "nogil": True,
        "parallel": parallel,
        "fastmath": FASTMATH and fastmath_safe,
        "error_model": "numpy",
    }


def trials(full: int, fast: int) -> int:
    """Trial count for notebooks and examples: ``fast`` under ``OPENHA_FAST=1``."""
    return fast if FAST else full
