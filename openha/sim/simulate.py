"""``ha.simulate``: run a protocol on a cluster under a workload and faults."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from openha._random import SeedLike, stream_states
from openha.dist import Constant, pack
from openha.errors import OpenHAError, check_int
from openha.sim import _layout as L
from openha.sim._run import execute
from openha.sim._state import Capacity, Config, allocate
from openha.sim.chain import Chain
from openha.sim.cluster import Cluster, Faults
from openha.sim.multipaxos import MultiPaxos
from openha.sim.paxos import Paxos
from openha.sim.primary_backup import PrimaryBackup
from openha.sim.raft import Raft
from openha.sim.result import SimResult, build
from openha.sim.workload import ClosedLoop, OpenLoop, Stop

__all__ = ["simulate"]

Protocol = Raft | MultiPaxos | Paxos | PrimaryBackup | Chain
#: The protocols ``simulate`` runs (each has ``_configure``, ``_check``, ``_messages``).
PROTOCOLS = (Raft, MultiPaxos, Paxos, PrimaryBackup, Chain)
Workload = ClosedLoop | OpenLoop


def _config(
    protocol: Protocol,
    cluster: Cluster,
    workload: Workload | None,
    faults: Faults,
    stop: Stop,
    warmup: int,
) -> Config:
    n = cluster.n
    clients = 0 if workload is None else workload.clients
    ci = np.zeros(L.N_CFG_I, dtype=np.int64)
    cf = np.zeros(L.N_CFG_F, dtype=np.float64)
    ci[L.C_N] = n
    ci[L.C_CLIENTS] = clients
    ci[L.C_GROUP] = int(cluster.group_commit)
    ci[L.C_FIFO] = int(cluster.network.fifo)
    ci[L.C_CLOSED] = int(isinstance(workload, ClosedLoop))
    ci[L.C_STOP_COMMITS] = stop.commits or 0
    ci[L.C_MAX_EVENTS] = stop.events
    ci[L.C_WARMUP] = warmup
    ci[L.C_QUIET_WRITES] = int(workload is None)
    ci[L.C_RANDOM_FAULTS] = int(faults.time_to_failure is not None)
    ci[L.C_TRAIL] = 1
    cf[L.F_STOP_TIME] = math.inf if stop.time_ms is None else stop.time_ms
    cf[L.F_LOSS] = cluster.network.loss
    protocol._configure(ci, cf)
    if workload is not None:
        cf[L.F_CLIENT_TIMEOUT] = workload.timeout_ms
        cf[L.F_RETRY] = workload.retry_ms
        cf[L.F_READ] = workload.reads
        if isinstance(workload, OpenLoop):
            cf[L.F_RATE] = workload.rate_per_s / 1000.0
    think = workload.think_ms if isinstance(workload, ClosedLoop) else Constant(0.0)
    dists = [
        cluster.network.delay,
        cluster.cpu_ms,
        cluster.fsync_ms,
        think,
        faults.time_to_failure or Constant(0.0),
        faults.time_to_repair or Constant(0.0),
    ]
    kinds, offsets, params = pack(dists)
    if faults.time_to_failure is None:
        kinds[L.D_TTF] = kinds[L.D_TTR] = -1
    loc, base = cluster.network._arrays(n, max(1, clients))
    rows = []
    for c in faults.crashes:
        rows.append((c.at_ms, c.node, 1.0))
        if c.recover_ms is not None:
            rows.append((c.recover_ms, c.node, 0.0))
    sched = np.array(sorted(rows), dtype=np.float64).reshape(-1, 3)
    ci[L.C_N_SCHED] = len(sched)
    parts = np.array([(p.start_ms, p.end_ms) for p in faults.partitions], dtype=np.float64)
    masks = np.array([sum(1 << x for x in p.nodes) for p in faults.partitions], dtype=np.int64)
    ci[L.C_N_PART] = len(parts)
    return Config(
        cfg_i=ci,
        cfg_f=cf,
        dk=kinds,
        dlo=offsets[:-1].copy(),
        dhi=offsets[1:].copy(),
        dp=params,
        loc=loc,
        base=base,
        sched=sched,
        parts=parts.reshape(-1, 2),
        part_mask=masks,
    )


def _capacity(protocol: Protocol, cluster: Cluster, workload: Workload | None, stop: Stop,
              warmup: int) -> Capacity:  # fmt: skip
    n = cluster.n
    clients = 0 if workload is None else workload.clients
    window = min(getattr(protocol, "window", None) or 64, 64)
    writes = (stop.commits or 4096) + warmup
    if workload is not None and workload.reads > 0:
        writes = int(writes / max(1e-3, 1.0 - workload.reads))
    flight = 4 * (clients + n * n * window) + 1024
    return Capacity(
        heap=flight,
        messages=flight,
        requests=int(1.05 * writes) + 2 * clients + 64,
        log=int(1.05 * writes) + 2 * clients + 64,
        table=4 * writes + 1024,
        timeouts=int(1.05 * writes) + 2 * clients + 64,
    )


def simulate(
    protocol: Protocol,
    cluster: Cluster,
    workload: Workload | None = None,
    *,
    faults: Faults | None = None,
    stop: Stop,
    seed: SeedLike = None,
    warmup: int = 0,
    leader: int | None = 0,
    strict: bool = False,
    max_rows: int = 2_000_000,
) -> SimResult:
    """Simulate ``protocol`` on ``cluster``, message by message.

    Parameters
    ----------
    protocol : Raft, MultiPaxos, Paxos, PrimaryBackup or Chain
    cluster : Cluster
    workload : ClosedLoop or OpenLoop, optional
        Without one, no client traffic (elections, heartbeats and faults only).
    faults : Faults, optional
    stop : Stop
        When to end; ``Stop(commits=...)`` needs a workload.
    seed : int, Generator, SeedSequence or None
        Same seed, same result, in any process.
    warmup : int
        Writes completed before measurement starts (excluded from throughput and
        latency; the tidy frames keep them).
    leader : int or None
        Node that leads term 1 at time 0 (a stable leader), or None for a cold start
        where the first election happens in the run. Paxos has no leader: every client
        first sends to this node, or (None) to a random one.
    strict : bool
        Raise :class:`OpenHAError` if any safety property is violated.
    max_rows : int
        Most rows kept in ``requests``; beyond that a uniform sample (throughput still
        counts every request).

    Returns
    -------
    SimResult

    Examples
    --------
    >>> import openha as ha
    >>> cluster = ha.Cluster(n=5, network=ha.Network(delay=ha.dist.Exponential(mean=0.1, shift=0.1)),
    ...                      cpu_ms=0.01, fsync_ms=0.02)
    >>> res = ha.simulate(ha.Raft(batch=1, window=None), cluster, ha.ClosedLoop(clients=32),
    ...                   stop=ha.Stop(commits=5_000), warmup=500, seed=1)
    >>> round(res.throughput_per_s, -2)  # the leader's CPU: 1 / (5 x 0.01 ms)
    20000.0
    >>> res.violations
    ()
    """
    if not isinstance(protocol, PROTOCOLS):
        names = ", ".join(f"ha.{p.__name__}" for p in PROTOCOLS)
        raise OpenHAError(f"protocol must be one of {names}; got {protocol!r}")
    if not isinstance(cluster, Cluster):
        raise OpenHAError(f"cluster must be an ha.Cluster; got {cluster!r}")
    if workload is not None and not isinstance(workload, ClosedLoop | OpenLoop):
        raise OpenHAError(f"workload must be ha.ClosedLoop or ha.OpenLoop; got {workload!r}")
    if not isinstance(stop, Stop):
        raise OpenHAError(f"stop must be an ha.Stop; got {stop!r}")
    faults = Faults() if faults is None else faults
    if not isinstance(faults, Faults):
        raise OpenHAError(f"faults must be an ha.Faults; got {faults!r}")
    faults.check_nodes(cluster.n)
    protocol._check(cluster.n)
    warmup = check_int("warmup", warmup, low=0)
    max_rows = check_int("max_rows", max_rows, low=1)
    no_traffic = workload is None or workload.clients == 0
    if stop.commits is not None and no_traffic:
        raise OpenHAError(
            f"stop=Stop(commits={stop.commits}) can never be met: the workload has no clients"
        )
    if leader is not None:
        leader = check_int("leader", leader, low=0, high=cluster.n - 1)
    cfg = _config(protocol, cluster, workload, faults, stop, warmup)
    cap = _capacity(protocol, cluster, workload, stop, warmup)
    state = stream_states(seed, 1)[0]
    a = _run(cfg, cap, state, -1 if leader is None else leader, 0)
    result = build(a, protocol.name, protocol._messages, protocol._gap_ms, max_rows)
    if strict and result.violations:
        raise OpenHAError(
            f"{len(result.violations)} safety violation(s); first: {result.violations[0]}"
        )
    return result


def _run(cfg: Config, cap: Capacity, state: np.ndarray, leader: int, stale: int) -> Any:
    """Run, growing whichever array fills up and starting again (same seed, same run)."""
    while True:
        owner = allocate(cfg, cap, state, N_NI)
        execute(L.unowned(owner), leader, stale)
        a = L.arrays(owner)
        if a.ci[L.K_STATUS] != L.ST_OVERFLOW:
            return a
        cap = cap.grow(int(a.ci[L.K_OVERFLOW]))


N_NI = 32
