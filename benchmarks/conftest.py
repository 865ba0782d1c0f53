"""Shared set-up for the benchmarks: warm kernels once, record rates, print speed-ups.

Every group holds one openha entry (``extra_info["impl"] == "openha"``) and the
baselines a user would otherwise write. At the end of a ``--benchmark-only`` run a
table prints, per group, how many times faster openha is than each baseline: the
ratio of mean times, or of throughputs when the entries did different amounts of
work (a pure-Python baseline runs fewer trials and records a rate instead).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import pytest

# ``from tests import naive`` needs the repository root on sys.path; the editable
# install provides it, a plain install does not.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import openha as ha  # noqa: E402

RATE_KEYS = ("node_samples_per_s", "samples_per_s")


@pytest.fixture(scope="session", autouse=True)
def openha_warmup() -> float:
    """Compile (or load) every kernel once, so no benchmark times numba compilation."""
    return ha.warmup()


@pytest.fixture
def record_rate() -> Callable[[Any, str, float], float]:
    """``record_rate(benchmark, key, work)``: store ``work / mean seconds`` in extra_info.

    ``work`` (samples, node-samples) is kept too, so speed-ups between entries that did
    different amounts of work compare time per unit of work.
    """

    def record(benchmark: Any, key: str, work: float) -> float:
        if benchmark.stats is None:  # --benchmark-disable: ran once, untimed
            return math.nan
        rate = work / benchmark.stats.stats.mean
        benchmark.extra_info[key] = rate
        benchmark.extra_info["work"] = work
        return rate

    return record


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    """Record what else shaped the numbers: threads and how busy the machine was."""
    machine_info["numba_threads"] = numba.get_num_threads()
    machine_info["cpu_count"] = os.cpu_count()
    if hasattr(os, "getloadavg"):
        machine_info["loadavg_1_5_15"] = list(os.getloadavg())


def _rate(bench: Any) -> tuple[str, float] | None:
    for key in RATE_KEYS:
        if key in bench.extra_info:
            return key, float(bench.extra_info[key])
    return None


def _speedup(bench: Any, ref: Any, stat: str) -> float:
    """How many times faster ``ref`` (openha) is than ``bench``, per unit of work if recorded."""
    mine, theirs = _rate(bench), _rate(ref)
    t_mine, t_ref = float(getattr(bench.stats, stat)), float(getattr(ref.stats, stat))
    if mine is not None and theirs is not None and mine[0] == theirs[0]:
        return (t_mine / bench.extra_info["work"]) / (t_ref / ref.extra_info["work"])
    return t_mine / t_ref


def _fmt_s(t: float) -> str:
    return f"{t * 1e3:.4g} ms" if t >= 1e-3 else f"{t * 1e6:.4g} us"


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own tables
def pytest_terminal_summary(terminalreporter: Any) -> None:
    session = getattr(terminalreporter.config, "_benchmarksession", None)
    done = [b for b in getattr(session, "benchmarks", []) if b and not b.has_error]
    if not done:
        return
    groups: dict[str, list[Any]] = {}
    for b in done:
        groups.setdefault(b.group or "", []).append(b)
    tr = terminalreporter
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    tr.write_sep(
        "-", "openha speed-up over each baseline (x faster; per unit of work where recorded)"
    )
    tr.write_line(
        f"numba threads: {numba.get_num_threads()}; load average now (1, 5, 15 min): {load}"
    )
    head = f"{'group / benchmark':<62} {'mean':>11} {'min':>11} {'rate /s':>9} {'x(mean)':>8} {'x(min)':>8}"
    tr.write_line(head)
    for group, rows in groups.items():
        tr.write_line(group)
        ref = next((b for b in rows if b.extra_info.get("impl") == "openha"), None)
        for b in sorted(rows, key=lambda b: float(b.stats.mean)):
            rate = _rate(b)
            cells = [f"  {b.name:<60}", f"{_fmt_s(float(b.stats.mean)):>11}"]
            cells.append(f"{_fmt_s(float(b.stats.min)):>11}")
            cells.append(f"{rate[1]:>9.3g}" if rate else " " * 9)
            for stat in ("mean", "min"):
                x = f"{_speedup(b, ref, stat):.3g}" if ref is not None and b is not ref else ""
                cells.append(f"{x:>8}")
            tr.write_line(" ".join(cells))
