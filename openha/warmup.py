"""Compile (or load from the on-disk cache) every kernel once, before timing or a demo."""

from __future__ import annotations

import time


def warmup() -> float:
    """Run each numba kernel once on a tiny input; returns the seconds it took.

    Kernels are cached on disk (``cache=True``), so after the first run in an
    environment this mostly loads compiled code.

    Examples
    --------
    >>> import openha as ha
    >>> ha.warmup() >= 0.0
    True
    """
    from openha.dist import Exponential
    from openha.quorum import FailureModel, Node, QuorumSystem, majority

    t0 = time.perf_counter()
    nodes = [
        Node(f"n{i}", p_fail=0.1, latency=Exponential(mean=1.0), domain=f"z{i}") for i in range(3)
    ]
    qs = QuorumSystem(writes=majority(nodes))
    grid_like = QuorumSystem(reads=nodes[0] * nodes[1] + nodes[1] * nodes[2])
    fm = FailureModel(domains={"z0": 0.01})
    for system in (qs, grid_like):
        system.availability()
        system.availability(failures=fm)
        system.availability(method="montecarlo", trials=64, seed=0)
        system.latency_distribution(quantiles=(0.5,))
        system.latency_distribution(method="montecarlo", trials=64, seed=0)
    Exponential(mean=1.0).sample(4, seed=0)
    from openha.models import ReplicaChain, simulate_checkpoint, simulate_replicas

    chain = ReplicaChain(
        n=3, k=2, failure_rate=0.1, repair_rate=1.0, zones=(2, 1), zone_failure_rate=0.01
    )
    simulate_replicas(chain, horizon_hours=10.0, replications=2, seed=0)
    simulate_replicas(chain, horizon_hours=1e6, replications=2, seed=0, first_loss=True)
    simulate_checkpoint(1.0, 0.5, 0.1, 10.0, 0.1, replications=2, seed=0)
    simulate_checkpoint(1.0, 0.5, 0.1, 10.0, 0.1, weibull_shape=0.7, replications=2, seed=0)

    from openha.sim import ClosedLoop, Cluster, Raft, Stop, elections, simulate

    cluster = Cluster(n=3)
    simulate(Raft(), cluster, ClosedLoop(clients=1), stop=Stop(commits=2), seed=0)
    elections(Raft(), cluster, 1, seed=0)
    return time.perf_counter() - t0
