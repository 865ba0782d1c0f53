"""``ha.sweep``: the same frame whichever executor ran it; seeds by position; errors kept.

The point functions live at module level so that worker processes import them by
reference; lambdas and local functions travel by value (cloudpickle).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import threading

import numpy as np
import pandas as pd
import pytest

import openha as ha
from openha.models import ReplicaChain
from openha.study.sweep import grid_points

GRID = {"n": [3, 5], "failure_rate": [0.01, 0.05, 0.2]}
SEED = 20240607


def noisy_metrics(n, failure_rate, seed):
    """Uses its seed twice: a numpy draw and a small openha Monte Carlo (kernels cached)."""
    a, b = seed.spawn(2)
    chain = ReplicaChain(n=n, k=n // 2 + 1, failure_rate=failure_rate, repair_rate=1.0)
    est = ha.models.simulate_replicas(chain, horizon_hours=50.0, replications=4, seed=b)
    return {"draw": float(np.random.default_rng(a).normal()), "down": est.mean}


def draw(n, failure_rate, seed):
    """Cheap: one numpy draw per point."""
    return {"draw": float(np.random.default_rng(seed).normal()) + n * failure_rate}


def fails_at_five(n, failure_rate, seed):
    if n == 5 and failure_rate == 0.05:
        raise RuntimeError(f"boom at n={n}")
    return draw(n, failure_rate, seed)


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="wall_s"), b.drop(columns="wall_s"))


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return ha.sweep(noisy_metrics, GRID, executor="serial", seed=SEED)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_frame_layout(serial):
    assert list(serial.columns) == [
        "point",
        "n",
        "failure_rate",
        "draw",
        "down",
        "seed_entropy",
        "seed_spawn_key",
        "error",
        "wall_s",
    ]
    assert serial.point.tolist() == list(range(6))
    # nested-loop order: first key slowest
    assert serial.n.tolist() == [3, 3, 3, 5, 5, 5]
    assert serial.failure_rate.tolist() == [0.01, 0.05, 0.2] * 2
    assert serial.seed_spawn_key.tolist() == [(i,) for i in range(6)]
    assert (serial.seed_entropy == SEED).all()
    assert serial.error.isna().all() and all(e is None for e in serial.error)
    assert (serial.wall_s > 0).all()
    assert serial.down.between(0, 1).all() and serial.draw.nunique() == 6


def test_local_processes_match_serial(serial):
    same(ha.sweep(noisy_metrics, GRID, seed=SEED, progress=False), serial)
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        same(ha.sweep(noisy_metrics, GRID, executor=pool, seed=SEED), serial)


def test_dask_matches_serial(serial, dask_client):
    same(ha.sweep(noisy_metrics, GRID, executor=dask_client, seed=SEED), serial)


def test_thread_pool_matches_serial_without_pickling(serial):
    lock = threading.Lock()  # unpicklable, fine in threads

    def locked(**kw):
        with lock:
            return noisy_metrics(**kw)

    with cf.ThreadPoolExecutor(3) as pool:
        same(ha.sweep(locked, GRID, executor=pool, seed=SEED), serial)


def test_point_i_gets_child_i():
    df = ha.sweep(draw, GRID, executor="serial", seed=SEED)
    children = np.random.SeedSequence(SEED).spawn(6)
    for (i, row), child in zip(df.iterrows(), children, strict=True):
        assert row["draw"] == draw(row["n"], row["failure_rate"], child)["draw"]
        rebuilt = np.random.SeedSequence(row["seed_entropy"], spawn_key=row["seed_spawn_key"])
        assert row["draw"] == draw(row["n"], row["failure_rate"], rebuilt)["draw"], i


def test_seeds_follow_position_not_grid_size():
    """Guaranteed: a prefix of the points gives the same rows. Not: a moved point."""
    points = grid_points(GRID)
    full = ha.sweep(draw, points, executor="serial", seed=SEED)
    head = ha.sweep(draw, points[:2], executor="serial", seed=SEED)
    same(head, full.iloc[:2])
    # values appended to the first (slowest) key append points
    longer = ha.sweep(draw, {**GRID, "n": [3, 5, 7]}, executor="serial", seed=SEED)
    same(longer.iloc[:6], full)
    # a point at another position gets another seed
    moved = ha.sweep(draw, points[1:], executor="serial", seed=SEED)
    assert moved["draw"].iloc[0] != full["draw"].iloc[1]


def test_seed_kinds():
    a = ha.sweep(draw, GRID, executor="serial", seed=np.random.SeedSequence(SEED))
    b = ha.sweep(draw, GRID, executor="serial", seed=SEED)
    same(a, b)
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    same(
        ha.sweep(draw, GRID, executor="serial", seed=g1),
        ha.sweep(draw, GRID, executor="serial", seed=g2),
    )
    fresh = [ha.sweep(draw, GRID, executor="serial")["draw"].iloc[0] for _ in range(2)]
    assert fresh[0] != fresh[1]


@pytest.mark.parametrize("where", ["serial", "processes", "dask"])
def test_errors_recorded_others_kept(where, request):
    executor = {"serial": "serial", "processes": None}.get(where)
    if where == "dask":
        executor = request.getfixturevalue("dask_client")
    df = ha.sweep(fails_at_five, GRID, executor=executor, seed=SEED)
    ok = ha.sweep(draw, GRID, executor="serial", seed=SEED)
    bad = df.point == 4
    assert df.error[bad].tolist() == ["RuntimeError: boom at n=5"]
    assert df["draw"][bad].isna().all() and df.wall_s[bad].notna().all()
    same(df[~bad].drop(columns="error"), ok[~bad].drop(columns="error"))
    assert df.error[~bad].isna().all()


@pytest.mark.parametrize("executor", ["serial", None])
def test_raise_on_error(executor):
    with pytest.raises(RuntimeError, match="boom at n=5"):
        ha.sweep(fails_at_five, GRID, executor=executor, seed=SEED, raise_on_error=True)


def series_out(n, failure_rate, seed):
    return pd.Series({"x": n})


def frame_out(n, failure_rate, seed):
    if n == 5:
        return pd.DataFrame({"x": [n, n]})
    return pd.DataFrame({"x": [n]})


def scalar_out(n, failure_rate, seed):
    return 1.0


def clash_out(n, failure_rate, seed):
    return {"n": 1.0}


def test_return_types():
    df = ha.sweep(series_out, GRID, executor="serial")
    assert df.x.tolist() == [3, 3, 3, 5, 5, 5] and df.error.isna().all()
    df = ha.sweep(frame_out, GRID, executor="serial")
    assert df.x.tolist()[:3] == [3, 3, 3] and df.x.iloc[3:].isna().all()
    assert df.error.iloc[3] == "OpenHAError: fn returned a frame with 2 rows; a point needs one"
    df = ha.sweep(scalar_out, GRID, executor="serial")
    assert df.error.str.startswith("OpenHAError: fn must return a dict").all()
    df = ha.sweep(clash_out, GRID, executor="serial")
    assert df.error.str.contains("metric 'n'").all()


def test_lambdas_and_local_functions_travel_by_value():
    offset = 10.0

    def local(n, failure_rate, seed):
        return {"y": n + offset}

    assert ha.sweep(local, GRID, seed=1).y.tolist() == [13.0] * 3 + [15.0] * 3
    df = ha.sweep(lambda n, failure_rate, seed: {"y": n}, [{"n": 1, "failure_rate": 0}])
    assert df.y.tolist() == [1]


class RecordingExecutor(cf.Executor):
    """An executor that records what was submitted and runs nothing."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        raise AssertionError("nothing should be submitted")


def test_unpicklable_fn_raises_before_anything_runs(dask_client):
    lock = threading.Lock()

    def holds_lock(n, failure_rate, seed):
        with lock:
            return {}

    recorder = RecordingExecutor()
    with pytest.raises(ha.OpenHAError, match=r"fn '.*holds_lock' cannot be sent"):
        ha.sweep(holds_lock, GRID, executor=recorder)
    assert recorder.submitted == 0
    with pytest.raises(ha.OpenHAError, match="holds_lock"):
        ha.sweep(holds_lock, GRID)
    with pytest.raises(ha.OpenHAError, match="holds_lock"):
        ha.sweep(holds_lock, GRID, executor=dask_client)
    with pytest.raises(ha.OpenHAError, match=r"grid value n=<unlocked _thread.lock"):
        ha.sweep(draw, {"n": [lock], "failure_rate": [0.1]}, executor=recorder)
    assert recorder.submitted == 0
    assert ha.sweep(holds_lock, GRID, executor="serial").error.isna().all()


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({}, "at least one parameter"),
        ([], "at least one point"),
        ({"n": 3}, r"grid\['n'\] must be a non-empty list"),
        ({"n": []}, r"grid\['n'\] must be a non-empty list"),
        ({"n": "abc"}, r"grid\['n'\] must be a non-empty list"),
        ({"n": {1, 2}}, r"grid\['n'\] must be a non-empty list"),
        ({"n": [1], "b": np.ones((2, 2))}, r"grid\['b'\]"),
        ([{"n": 1}, {"m": 2}], r"grid\[1\] has parameter 'm'"),
        ([{"n": 1, "m": 1}, {"n": 2}], r"grid\[1\] lacks parameter 'm'"),
        ([{"n": 1}, 3], r"grid\[1\] must be a dict"),
        ({"seed": [1]}, "'seed' is reserved"),
        ({"point": [1]}, "'point' is reserved"),
        ([{"wall_s": 1}], "'wall_s' is reserved"),
        ({"not a name": [1]}, "identifiers"),
        ({1: [1]}, "identifiers"),
        ("abc", "grid must be a dict"),
        (5, "grid must be a dict"),
    ],
)
def test_bad_grid_raises_before_anything_runs(grid, match):
    calls = []

    def record(**kw):
        calls.append(kw)
        return {}

    with pytest.raises(ha.OpenHAError, match=match):
        ha.sweep(record, grid, executor="serial")
    assert calls == []


def test_bad_arguments():
    with pytest.raises(ha.OpenHAError, match="executor must be"):
        ha.sweep(draw, GRID, executor="threads")
    with pytest.raises(ha.OpenHAError, match="fn must be callable"):
        ha.sweep(3, GRID)  # type: ignore[arg-type]
    with pytest.raises(ha.OpenHAError, match="seed must be"):
        ha.sweep(draw, GRID, seed=-1)
    with pytest.raises(ha.OpenHAError, match="progress must be"):
        ha.sweep(draw, GRID, executor="serial", progress="yes")  # type: ignore[arg-type]


def test_progress_bar(capsys):
    ha.sweep(draw, GRID, executor="serial", progress=True)
    assert "sweep: 100%" in capsys.readouterr().err
    ha.sweep(draw, GRID, executor="serial", progress=False)
    assert capsys.readouterr().err == ""
