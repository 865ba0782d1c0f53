"""``ha.sim.failover``: crash the leader under load and measure the outage, for any protocol.

Each trial runs the protocol with a stable leader (or head, or primary) and a workload,
crashes that node at ``crash_ms`` plus a uniform fraction of the protocol's heartbeat
interval (so the crash falls at a random phase of the heartbeats, as in the Raft paper's
experiment) and keeps running for ``horizon_ms``. From the committed log it reads:

- ``rto_ms``: time from the crash until commits resume after the outage: the end of the
  first window after the crash with no commit for longer than ``threshold_ms``
  (0 if there is none: the crash was not visible to commits);
- ``client_rto_ms``: as a client sees it (:meth:`SimResult.recovery_ms`): until the first
  write completed at a client after a new leader took office, so it includes the clients'
  timeout and redirects (NaN when no leader change is recorded, e.g. leaderless Paxos);
- ``lost_writes`` and ``rpo_ms``: acknowledged writes that did not survive, and the span
  of acknowledged history lost (asynchronous primary-backup only; 0 and NaN otherwise);
- ``violations``: safety violations in the trial (always 0 for correct protocols).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from openha._random import SeedLike, as_seed_sequence
from openha.errors import OpenHAError, check_int, check_positive
from openha.sim.cluster import Cluster, Crash, Faults
from openha.sim.result import SimResult
from openha.sim.simulate import simulate
from openha.sim.workload import ClosedLoop, OpenLoop, Stop

__all__ = ["failover", "outage_ms"]

#: Columns of :func:`failover`'s frame.
COLUMNS = [
    "trial",
    "crash_ms",
    "rto_ms",
    "client_rto_ms",
    "lost_writes",
    "rpo_ms",
    "commits",
    "violations",
]


def outage_ms(res: SimResult, crash_ms: float, threshold_ms: float) -> float:
    """Time from ``crash_ms`` until commits resume after the first gap longer than
    ``threshold_ms`` that ends after the crash (0 if none; the run's end if commits
    never resume).

    Examples
    --------
    >>> import openha as ha
    >>> cluster = ha.Cluster(n=3, network=ha.Network(delay=0.1), cpu_ms=0.01)
    >>> res = ha.simulate(ha.Raft(election_timeout=(10, 20)), cluster, ha.ClosedLoop(clients=2),
    ...                   faults=ha.Faults(crashes=[ha.Crash(node=0, at_ms=30.0)]),
    ...                   stop=ha.Stop(time_ms=100.0), seed=1)
    >>> 10.0 <= ha.sim.outage_ms(res, 30.0, threshold_ms=2.0) <= 25.0  # one election timeout
    True
    """
    windows = res.unavailability(threshold_ms)
    after = windows[windows["end_ms"] > crash_ms]
    if after.empty:
        return 0.0
    return float(after["end_ms"].iloc[0]) - crash_ms


def _period_ms(protocol: Any) -> float:
    """The protocol's heartbeat interval (0 if it has none)."""
    return float(getattr(protocol, "heartbeat_ms", None) or 0.0)


def _threshold_ms(res: SimResult, crash_ms: float) -> float:
    """Twice the longest gap between commits in the second half of the time before the
    crash (at least 1 ms): longer than any gap of normal operation."""
    t = np.sort(res.commits["time_ms"].to_numpy())
    t = t[(t >= crash_ms / 2) & (t <= crash_ms)]
    gap = float(np.diff(t).max()) if t.size > 1 else crash_ms / 2
    return max(1.0, 2.0 * gap)


def failover(
    protocol: Any,
    cluster: Cluster,
    workload: ClosedLoop | OpenLoop,
    *,
    trials: int = 100,
    crash_ms: float = 50.0,
    horizon_ms: float = 1_000.0,
    threshold_ms: float | None = None,
    leader: int = 0,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Crash the leader under load, ``trials`` times; one row per trial.

    Parameters
    ----------
    protocol : Raft, MultiPaxos or another ``ha.simulate`` protocol
    cluster : Cluster
    workload : ClosedLoop or OpenLoop
        Its client timeout sets how soon clients of the crashed node try another.
    trials : int
    crash_ms : float
        The crash falls at ``crash_ms + U(0, heartbeat)``.
    horizon_ms : float
        Simulated time after the crash.
    threshold_ms : float, optional
        A window without commits longer than this is an outage. Default: twice the
        longest gap between commits in the second half of the time before the crash
        (at least 1 ms), so normal operation is never an outage.
    leader : int
        The node that leads at the start and crashes.
    seed : int, Generator, SeedSequence or None
        Trial i runs on the i-th child stream: same seed, same frame.

    Returns
    -------
    pandas.DataFrame
        Columns ``trial, crash_ms, rto_ms, client_rto_ms, lost_writes, rpo_ms, commits,
        violations``.

    Examples
    --------
    >>> import openha as ha
    >>> cluster = ha.Cluster(n=5, network=ha.Network(delay=0.1), cpu_ms=0.01)
    >>> df = ha.sim.failover(ha.MultiPaxos(election_timeout=(10, 20)), cluster,
    ...                      ha.ClosedLoop(clients=4, timeout_ms=5.0), trials=20, seed=1)
    >>> bool(df["rto_ms"].between(10.0, 30.0).all()), int(df["violations"].sum())
    (True, 0)
    """
    trials = check_int("trials", trials, low=1)
    crash_ms = check_positive("crash_ms", crash_ms)
    horizon_ms = check_positive("horizon_ms", horizon_ms)
    if threshold_ms is not None:
        threshold_ms = check_positive("threshold_ms", threshold_ms)
    leader = check_int("leader", leader, low=0, high=cluster.n - 1)
    if not isinstance(workload, ClosedLoop | OpenLoop) or workload.clients == 0:
        raise OpenHAError(
            f"workload must be a ClosedLoop or OpenLoop with clients; got {workload!r}"
        )
    children = as_seed_sequence(seed).spawn(trials)
    period = _period_ms(protocol)
    rows = []
    for t in range(trials):
        # the crash's phase and the run get their own streams from the trial's child
        phase_seed, run_seed = children[t].spawn(2)
        at = crash_ms + float(np.random.default_rng(phase_seed).random()) * period
        res = simulate(
            protocol,
            cluster,
            workload,
            faults=Faults(crashes=(Crash(node=leader, at_ms=at),)),
            stop=Stop(time_ms=at + horizon_ms),
            seed=run_seed,
            leader=leader,
        )
        rows.append(
            {
                "trial": t,
                "crash_ms": at,
                "rto_ms": outage_ms(
                    res, at, _threshold_ms(res, at) if threshold_ms is None else threshold_ms
                ),
                "client_rto_ms": res.recovery_ms(at),
                "lost_writes": int(getattr(res, "lost_writes", 0)),
                "rpo_ms": float(getattr(res, "rpo_ms", math.nan)),
                "commits": len(res.commits),
                "violations": len(res.violations),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
