"""numba policy in one place: caching, fastmath, threads, fast mode.

Environment overrides (read once, at import):

``OPENHA_NUMBA_CACHE``  ``0`` disables on-disk caching of compiled kernels (default on).
``OPENHA_FASTMATH``     ``1`` allows fastmath in kernels that declare it safe (default off).
``OPENHA_FAST``         ``1`` makes notebooks and examples shrink trial counts (tests use it).

Compiled kernels are cached under ``$NUMBA_CACHE_DIR`` (default ``~/.cache/openha``)
in a folder named by a hash of openha's sources. numba checks only the changed
file's own time stamp, so a kernel that calls an edited kernel in another module
would otherwise keep running the old code.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

__all__ = ["CACHE", "FAST", "FASTMATH", "jit_options", "trials"]


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in {"0", "false", "no", "off"}


CACHE: bool = _flag("OPENHA_NUMBA_CACHE", True)


def _sources_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(path.as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _cache_dir() -> str:
    root = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "openha"
    )
    return os.path.join(root, "numba-" + _sources_hash())


if CACHE:
    numba.config.CACHE_DIR = _cache_dir()  # type: ignore[attr-defined]
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
