"""What a report was made from, so a figure in a design review can be regenerated exactly."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import openha

__all__ = ["LIBRARIES", "git_commit", "provenance", "result_id"]

LIBRARIES = ("numpy", "numba", "scipy", "pandas", "altair", "vl-convert-python", "llvmlite")


def git_commit() -> dict[str, Any]:
    """The commit of the openha checkout and whether it had uncommitted changes (None if unknown)."""
    root = Path(openha.__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def result_id(inputs: dict[str, Any]) -> str:
    """A stable id for a result: a hash of the inputs and the openha version.

    Examples
    --------
    >>> from openha.report.provenance import result_id
    >>> result_id({"a": 1}) == result_id({"a": 1}) != result_id({"a": 2})
    True
    """
    blob = json.dumps({"inputs": inputs, "openha": openha.__version__}, sort_keys=True, default=str)
    return "openha-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def provenance(
    inputs: dict[str, Any],
    timings_s: dict[str, float],
    title: str,
    regenerate: str = "openha report --out DIR",
) -> dict[str, Any]:
    """The provenance record written beside every report (``provenance.json``).

    ``regenerate`` is the command that rebuilds the report, quoted in ``cite_as``.
    """
    rid = result_id(inputs)
    git = git_commit()
    return {
        "result_id": rid,
        "title": title,
        "openha_version": openha.__version__,
        "git": git,
        "inputs": inputs,
        "libraries": _versions(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "timings_s": timings_s,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "cite_as": (
            f"openha {openha.__version__} (commit {(git['commit'] or 'unknown')[:12]}), "
            f'"{title}", result {rid}. Regenerate with: {regenerate}'
        ),
    }
