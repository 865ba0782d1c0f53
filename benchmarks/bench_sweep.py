"""``ha.sweep``'s overhead per point, beside the loops a user would otherwise write.

A "W1-sized point" stands in for one ``ha.simulate`` run of workload W1 (143-152 ms
measured in ``bench_sim.py``): 150 ms of ``time.sleep`` (``sleep``, pure scheduling
overhead) or 150 ms of spinning on the CPU (``busy``, so the sweep's own work competes
with the points for the 2 cores), then one numpy draw from the point's seed. 16 points
on 2 workers take at best ``ceil(16 / 2) x 150 ms = 1.2 s``, and every entry records

    overhead_per_point_s = (mean wall - ideal parallel wall) / points

and that as a fraction of a point (``overhead_fraction``; the target is under 5 %).

Groups:

- ``sweep local, 16 x 150 ms sleep`` / ``busy``: ``ha.sweep`` with its default executor
  (a fresh 2-process forkserver pool per call; the forkserver itself, which imports
  openha once, ~1 s, is started by a fixture before timing and its cost recorded as
  ``first_sweep_s``) against ``ProcessPoolExecutor(2).map`` with Python's default
  start method (fork, on Linux with 3.11), pool made per round too, and (sleep only) a
  plain ``for`` loop.
- ``sweep dask, 16 x 150 ms sleep``: ``ha.sweep(executor=client)`` on a
  ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` against
  ``client.gather(client.map(..., pure=False))`` on the same cluster.

Every entry checks its answer: 16 rows, no errors, the same draws as a serial sweep.

- ``sweep local, 16 x no work``: what a sweep costs besides its points: ``ha.sweep``
  with its default executor and on a forkserver pool kept open across rounds, against
  ``ProcessPoolExecutor(2).map`` (fork, made per round) and ``map`` on the kept pool.

Measured on 2026-11-27 (2-core VM, load average 1.7-2.0 from other sessions before each run;
three runs), mean wall and overhead per point (fraction of a 150 ms point):

==========================  ===================  =====================  ==================
entry                       16 x 150 ms sleep    16 x 150 ms busy       16 x no work
==========================  ===================  =====================  ==================
ha.sweep, default           1.30-1.38 s, 4-7 %   1.28-1.47 s, 3-11 %    88-130 ms
ProcessPoolExecutor.map     1.28-1.29 s, 3-4 %   1.28-1.30 s, 4 %       56-79 ms
ha.sweep, kept pool                                                     2.2-5.8 ms
kept pool .map                                                          1.6-1.9 ms
for loop                    2.41 s
ha.sweep, Dask (2 workers)  1.23 s, 1.2-1.4 %
client.map + gather         1.23 s, 1.0-1.1 %
==========================  ===================  =====================  ==================

So the 5 % target holds on Dask and on a kept pool (~0.2 ms a point over ``map``), and
only at the edge for the default executor at 16 points: its start-up, 90-130 ms a sweep
here (each forkserver worker re-runs the main module, here pytest's, and imports the
point's module), is a fixed cost, under 5 % of the points' time from ~32 W1-sized points
on 2 workers. The busy rows vary with the other sessions' load more than between entries.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import math
import time
from typing import Any

import numpy as np
import pytest

import openha as ha

POINT_S = 0.15  # one ha.simulate W1 run, rounded (bench_sim.py: 143-152 ms)
POINTS = 16
WORKERS = 2
ROUNDS = 3
SEED = 7


def w1_sized_point(work: str, i: int, seed: Any) -> dict[str, float]:
    """POINT_S of sleeping or spinning (or no work), then one draw from the point's stream."""
    if work == "sleep":
        time.sleep(POINT_S)
    elif work == "busy":
        end = time.perf_counter() + POINT_S
        while time.perf_counter() < end:
            pass
    return {"draw": float(np.random.default_rng(seed).random())}


def grid(work: str) -> dict[str, list[Any]]:
    return {"work": [work], "i": list(range(POINTS))}


def expected_draws() -> list[float]:
    return [
        float(np.random.default_rng(s).random()) for s in np.random.SeedSequence(SEED).spawn(POINTS)
    ]


@pytest.fixture(scope="module")
def first_sweep_s() -> float:
    """Start the forkserver (imports openha once) outside the timings; return how long."""
    start = time.perf_counter()
    ha.sweep(w1_sized_point, {"work": ["none"], "i": [0, 1]}, seed=0, progress=False)
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=WORKERS,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    client.gather(client.map(w1_sized_point, ["none"] * 4, range(4), range(4), pure=False))
    yield client
    client.close()
    cluster.close()


def record_overhead(benchmark: Any, record_rate: Any, workers: int) -> None:
    record_rate(benchmark, "samples_per_s", POINTS)  # points per second
    if benchmark.stats is None:
        return
    ideal = math.ceil(POINTS / workers) * POINT_S
    per_point = (benchmark.stats.stats.mean - ideal) / POINTS
    benchmark.extra_info.update(
        point_s=POINT_S,
        points=POINTS,
        workers=workers,
        ideal_s=ideal,
        overhead_per_point_s=per_point,
        overhead_fraction=per_point / POINT_S,
    )


def check(draws: list[float]) -> None:
    assert draws == expected_draws()


def seeds() -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(SEED).spawn(POINTS)


def pool_map(work: str = "none") -> list[dict[str, float]]:
    with cf.ProcessPoolExecutor(WORKERS) as pool:
        return list(pool.map(w1_sized_point, [work] * POINTS, range(POINTS), seeds()))


def for_loop(work: str) -> list[dict[str, float]]:
    return [w1_sized_point(work, i, s) for i, s in enumerate(seeds())]


LOCAL_CASES = [
    ("sleep", "openha"),
    ("sleep", "process_pool_map"),
    ("sleep", "for_loop"),
    ("busy", "openha"),
    ("busy", "process_pool_map"),
]


@pytest.mark.parametrize(("work", "impl"), LOCAL_CASES, ids=[f"{w}-{i}" for w, i in LOCAL_CASES])
def test_sweep_local(benchmark, record_rate, first_sweep_s, work, impl):
    benchmark.group = f"sweep local, {POINTS} x {POINT_S * 1e3:.0f} ms {work}"
    benchmark.extra_info.update(impl=impl, work=work)
    workers = 1 if impl == "for_loop" else WORKERS
    if impl == "openha":
        benchmark.extra_info["first_sweep_s"] = first_sweep_s
        df = benchmark.pedantic(
            ha.sweep,
            args=(w1_sized_point, grid(work)),
            kwargs={"seed": SEED, "progress": False},
            rounds=ROUNDS,
            iterations=1,
        )
        assert df.error.isna().all()
        draws = df["draw"].tolist()
    else:
        run = pool_map if impl == "process_pool_map" else for_loop
        rounds = 2 if impl == "for_loop" else ROUNDS  # 2.4 s a round
        draws = [r["draw"] for r in benchmark.pedantic(run, args=(work,), rounds=rounds)]
    check(draws)
    record_overhead(benchmark, record_rate, workers)


@pytest.fixture(scope="module")
def kept_pool():
    """A forkserver pool kept open across rounds, as a user running many sweeps would."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(WORKERS, mp_context=ctx) as pool:
        list(pool.map(w1_sized_point, ["none"] * 4, range(4), range(4)))
        yield pool


FIXED_CASES = ["openha", "openha_kept_pool", "process_pool_map", "kept_pool_map"]


@pytest.mark.parametrize("impl", FIXED_CASES)
def test_sweep_fixed_cost(benchmark, record_rate, first_sweep_s, kept_pool, impl):
    """Points that do no work: what a sweep costs besides its points (start-up and all)."""
    benchmark.group = f"sweep local, {POINTS} x no work"
    benchmark.extra_info["impl"] = impl
    if impl.startswith("openha"):
        kwargs = {"seed": SEED, "progress": False}
        if impl == "openha_kept_pool":
            kwargs["executor"] = kept_pool
        df = benchmark.pedantic(
            ha.sweep, args=(w1_sized_point, grid("none")), kwargs=kwargs, rounds=20
        )
        draws = df["draw"].tolist()
    else:

        def kept_pool_map() -> list[dict[str, float]]:
            return list(kept_pool.map(w1_sized_point, ["none"] * POINTS, range(POINTS), seeds()))

        run = kept_pool_map if impl == "kept_pool_map" else pool_map
        draws = [r["draw"] for r in benchmark.pedantic(run, args=(), rounds=20)]
    check(draws)
    record_rate(benchmark, "samples_per_s", POINTS)
    if benchmark.stats is not None:
        benchmark.extra_info["per_point_s"] = benchmark.stats.stats.mean / POINTS


@pytest.mark.parametrize("impl", ["openha", "client_map"])
def test_sweep_dask(benchmark, record_rate, dask_client, impl):
    benchmark.group = f"sweep dask LocalCluster, {POINTS} x {POINT_S * 1e3:.0f} ms sleep"
    benchmark.extra_info["impl"] = impl
    if impl == "openha":
        df = benchmark.pedantic(
            ha.sweep,
            args=(w1_sized_point, grid("sleep")),
            kwargs={"executor": dask_client, "seed": SEED, "progress": False},
            rounds=ROUNDS,
            iterations=1,
        )
        assert df.error.isna().all()
        draws = df["draw"].tolist()
    else:

        def client_map() -> list[dict[str, float]]:
            futures = dask_client.map(
                w1_sized_point, ["sleep"] * POINTS, range(POINTS), seeds(), pure=False
            )
            return dask_client.gather(futures)

        draws = [r["draw"] for r in benchmark.pedantic(client_map, rounds=ROUNDS)]
    check(draws)
    record_overhead(benchmark, record_rate, WORKERS)
