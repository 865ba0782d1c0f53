"""Every notebook in notebooks/ runs headless, top to bottom, without a cell error.

Notebooks carry ``assert`` cells that hold their prose to the numbers they compute,
so running them is a test of the claims, not just of the code. ``OPENHA_FAST=1``
shrinks Monte Carlo trial counts (see ``openha._config.trials``).
"""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 600


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel inherits this environment; openha reads OPENHA_FAST at import.
    monkeypatch.setenv("OPENHA_FAST", "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},
    )
    # jupyter_client starts the native "python3" kernel with sys.executable, so the
    # notebook runs in this environment, against this checkout's openha.
    client.execute()  # raises CellExecutionError naming the failing cell
