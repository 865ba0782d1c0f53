"""Random fault schedules for the simulator's safety tests (every protocol)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import openha as ha

FAULT_HORIZON_MS = 300.0


def fault_run(
    seed: int,
    protocol: Callable[[np.random.Generator, int], Any],
    *,
    fsync_ms: tuple[float, float] = (0.01, 0.05),
    strict: bool = False,
    partitions: bool = True,
    loss: bool = True,
) -> ha.SimResult:
    """One random fault schedule on a random small cluster, 300 ms of simulated time.

    3 or 5 nodes; up to n crashes (a tenth of them permanent, the rest down for
    Exponential(30 ms)); up to 3 partitions cutting off a random set of 1 .. n-1 nodes (a
    minority or a majority) for Exponential(40 ms); a fifth of the runs add random
    crash/repair cycles on every node; loss 0-5 %; LAN delays, FIFO or not; election
    timeouts of 10-20 ms (``protocol(rng, n)`` makes the protocol, drawing its own settings);
    1-4 clients with 20 % reads; a stable leader or a cold start.

    ``partitions=False`` or ``loss=False`` give the same schedule without its
    partitions or without message loss (the random draws are made all the same, so the
    rest of the run's settings do not change): crash-only schedules for protocols that
    assume fail-stop nodes and a perfect failure detector.
    """
    rng = np.random.default_rng(seed)
    n = int(rng.choice([3, 5]))
    crashes = []
    for _ in range(int(rng.integers(0, n + 1))):
        at = float(rng.uniform(0.0, FAULT_HORIZON_MS))
        back = None if rng.random() < 0.1 else at + float(rng.exponential(30.0))
        crashes.append(ha.Crash(node=int(rng.integers(n)), at_ms=at, recover_ms=back))
    cuts = []
    for _ in range(int(rng.integers(0, 4))):
        side = rng.choice(n, size=int(rng.integers(1, n)), replace=False)
        start = float(rng.uniform(0.0, FAULT_HORIZON_MS))
        end = start + float(rng.exponential(40.0))
        cuts.append(ha.Partition(nodes=tuple(side.tolist()), start_ms=start, end_ms=end))
    cycles = rng.random() < 0.2
    faults = ha.Faults(
        crashes=crashes,
        partitions=cuts if partitions else [],
        time_to_failure=ha.dist.Exponential(mean=150.0) if cycles else None,
        time_to_repair=ha.dist.Exponential(mean=15.0) if cycles else None,
    )
    delay = ha.dist.Exponential(mean=float(rng.choice([0.1, 0.5])), shift=0.1)
    fifo = bool(rng.random() < 0.5)
    p_loss = float(rng.uniform(0.0, 0.05))
    network = ha.Network(delay=delay, fifo=fifo, loss=p_loss if loss else 0.0)
    cluster = ha.Cluster(
        n=n,
        network=network,
        cpu_ms=0.01,
        fsync_ms=float(rng.uniform(*fsync_ms)),
        group_commit=bool(rng.random() < 0.5),
    )
    proto = protocol(rng, n)
    workload = ha.ClosedLoop(
        clients=int(rng.integers(1, 5)), reads=0.2, timeout_ms=20.0, retry_ms=2.0
    )
    return ha.simulate(
        proto,
        cluster,
        workload,
        faults=faults,
        stop=ha.Stop(time_ms=FAULT_HORIZON_MS),
        seed=seed,
        leader=0 if rng.random() < 0.5 else None,
        strict=strict,
    )
