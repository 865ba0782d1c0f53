"""``ha.sim.failover``: the outage after a leader crash against the order statistic of
the followers' election timeouts, determinism and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import openha as ha
from openha.sim.failover import COLUMNS
from tests.openha_errors import raises_openha_error as _raises

LAN = ha.Network(delay=ha.dist.Exponential(mean=0.1, shift=0.1))
CLUSTER = ha.Cluster(n=5, network=LAN, cpu_ms=0.01, fsync_ms=0.02)
WORK = ha.ClosedLoop(clients=8, timeout_ms=20.0, retry_ms=2.0)


@pytest.mark.parametrize("protocol", [ha.Raft(election_timeout=(150.0, 300.0)),
                                      ha.MultiPaxos(election_timeout=(150.0, 300.0))])  # fmt: skip
def test_outage_is_the_first_follower_timeout(protocol):
    """Under load every follower resets its timer at the leader's last message (within a
    millisecond of the crash), so the outage is the smallest of n - 1 fresh
    U(150, 300) timeouts, lo + (hi - lo) / n = 180 ms on average, plus one round of
    votes or promises and a commit (under 2 ms here; rare split rounds add more)."""
    df = ha.sim.failover(protocol, CLUSTER, WORK, trials=300, horizon_ms=450.0, seed=7)
    assert list(df.columns) == COLUMNS
    assert df["violations"].sum() == 0 and (df["lost_writes"] == 0).all()
    rto = df["rto_ms"].to_numpy()
    expected = 150.0 + 150.0 / 5
    se = rto.std(ddof=1) / np.sqrt(rto.size)
    assert expected - 4.5 * se <= rto.mean() <= expected + 2.0 + 4.5 * se
    # the smallest of 4 fresh U(150, 300) draws is never below 150
    assert rto.min() >= 150.0
    # clients notice later: their requests to the dead leader wait out the 20 ms timeout
    # (or a 2 ms back-off after a redirect to it) before they reach the new leader
    late = df["client_rto_ms"] - df["rto_ms"]
    assert (late >= -1.0).all() and (late <= 20.0 + 2.0 * 2.0 + 2.0).all()


def test_same_seed_same_frame():
    a = ha.sim.failover(ha.MultiPaxos(election_timeout=(10, 20)), CLUSTER, WORK, trials=5, seed=3)
    b = ha.sim.failover(ha.MultiPaxos(election_timeout=(10, 20)), CLUSTER, WORK, trials=5, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a["crash_ms"].between(50.0, 55.0).all()  # crash at 50 ms + U(0, heartbeat 5 ms)
    assert a["crash_ms"].nunique() == 5


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: ha.sim.failover(ha.Raft(), CLUSTER, WORK, trials=0), ["trials", "0"]),
        (lambda: ha.sim.failover(ha.Raft(), CLUSTER, WORK, leader=5), ["leader", "5"]),
        (lambda: ha.sim.failover(ha.Raft(), CLUSTER, WORK, horizon_ms=-1.0), ["horizon_ms"]),
        (lambda: ha.sim.failover(ha.Raft(), CLUSTER, None), ["workload", "None"]),
        (
            lambda: ha.sim.failover(ha.Raft(), CLUSTER, ha.ClosedLoop(clients=0)),
            ["workload", "clients"],
        ),
    ],
)
def test_bad_input_raises_openha_error(make, words):
    _raises(make, *words)
