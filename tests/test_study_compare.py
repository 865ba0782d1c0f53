"""``ha.compare`` on a small scenario: closed forms, bounds, confidence intervals, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import openha as ha
from openha.study.compare import COLUMNS
from tests.openha_errors import raises_openha_error

P = 1e-3
SCENARIO = {
    "name": "three nodes",
    "deployment": {
        "rtt": "aws-2020",
        "clients": ["us-east-1"],
        "zones": [{"region": "us-east-1", "zone": "az-a", "nodes": 3}],
    },
    "nodes": {"cpu_ms": 0.01, "fsync_ms": 0.02},
    "failures": {"node": {"p_fail": P, "source": "a round number for the test"}},
    "workload": {"clients": 8},
    "strategies": [
        {"name": "majority of 3", "kind": "majority-quorum", "n": 3},
        {"name": "Raft", "kind": "raft", "n": 3, "election_timeout_ms": [50, 100]},
        {
            "name": "Multi-Paxos",
            "kind": "multipaxos",
            "n": 3,
            "election_timeout_ms": [50, 100],
            "thrifty": True,
        },
        {"name": "PB async", "kind": "primary-backup", "n": 3, "sync": False, "lease_ms": 50},
        {"name": "Paxos", "kind": "paxos", "n": 3},
        {"name": "Chain", "kind": "chain", "n": 3},
    ],
    "run": {"seed": 3, "commits": 3000, "trials": 300},
}


@pytest.fixture(scope="module")
def scenario() -> ha.Scenario:
    return ha.Scenario.from_dict(SCENARIO)


@pytest.fixture(scope="module")
def frame(scenario: ha.Scenario) -> pd.DataFrame:
    return ha.compare(scenario)


def value(df: pd.DataFrame, strategy: str, metric: str) -> pd.Series:
    row = df[(df["strategy"] == strategy) & (df["metric"] == metric)]
    assert len(row) == 1, (strategy, metric)
    return row.iloc[0]


def test_columns_and_methods(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == COLUMNS
    assert set(frame["method"]) <= {"exact", "analytic", "simulated", "monte-carlo"}
    assert set(frame["strategy"]) == {
        "majority of 3",
        "Raft",
        "Multi-Paxos",
        "PB async",
        "Paxos",
        "Chain",
    }


def test_availability_is_the_binomial_closed_form(frame: pd.DataFrame) -> None:
    down = 3 * P**2 * (1 - P) + P**3  # two or three of three down
    for s in ("majority of 3", "Raft", "Multi-Paxos"):
        assert value(frame, s, "availability").value == pytest.approx(1 - down, rel=1e-12)
        assert value(frame, s, "nines").value == pytest.approx(-np.log10(down), rel=1e-9)
        minutes = down * 365.25 * 24 * 60
        assert value(frame, s, "downtime per year").value == pytest.approx(minutes, rel=1e-9)


def test_simulated_rows_carry_intervals_and_respect_bounds(frame: pd.DataFrame) -> None:
    sim = frame[frame["method"] == "simulated"]
    sampled = sim[sim["ci_low"].notna()]
    assert len(sampled) >= 5
    assert (sampled["ci_low"] <= sampled["value"]).all()
    assert (sampled["value"] <= sampled["ci_high"]).all()
    tp = value(frame, "Raft", "throughput").value
    assert 0 < tp <= value(frame, "Raft", "throughput ceiling").value
    # Little's law: 8 clients, each with one request outstanding
    assert tp * value(frame, "Raft", "latency mean").value / 1000 == pytest.approx(8, rel=0.03)
    assert value(frame, "Raft", "safety violations").value == 0
    assert value(frame, "Raft", "RPO").value == 0
    # a follower times out 50-100 ms after the last heartbeat, which came at most 25 ms
    # before the crash
    assert 25 <= value(frame, "Raft", "failover p50").value <= 110


def test_every_simulated_protocol_gets_the_same_rows(frame: pd.DataFrame) -> None:
    rows = {k: set(g["metric"]) for k, g in frame.groupby("strategy")}
    for s in ("Multi-Paxos", "PB async", "Paxos", "Chain"):
        assert rows[s] == rows["Raft"] - {"failover p50", "failover p99"}, s
    for s in ("Raft", "Multi-Paxos"):
        # the outage under load: the first of two fresh U(50, 100) follower timeouts, then
        # one round of votes or promises (under a millisecond on this cluster)
        assert 50 <= value(frame, s, "outage p50").value <= 102
        assert value(frame, s, "RTO p99").value == value(frame, s, "outage p99").value
        assert value(frame, s, "safety violations").value == 0
    # thrifty Multi-Paxos on 3 nodes: the leader serves 1 + 1 messages per commit, not 1 + 2
    ceiling = value(frame, "Multi-Paxos", "throughput ceiling").value
    assert ceiling == pytest.approx(1000 / (2 * 0.01))
    assert value(frame, "Multi-Paxos", "messages per commit").value == pytest.approx(4, rel=0.02)
    # asynchronous primary-backup: any one live replica serves writes
    assert value(frame, "PB async", "availability").value == pytest.approx(1 - P**3, rel=1e-12)
    assert value(frame, "PB async", "safety violations").value == 0
    assert value(frame, "PB async", "RPO").value >= 0
    # leaderless Paxos: one proposer serves 1 + 2 x 2 messages per command
    assert value(frame, "Paxos", "throughput ceiling").value == pytest.approx(1000 / (5 * 0.01))
    tp = value(frame, "Paxos", "throughput").value
    assert 0 < tp <= value(frame, "Paxos", "throughput ceiling").value
    # chain: the head's disk, one fsync per request without group commit
    assert value(frame, "Chain", "throughput ceiling").value == pytest.approx(1000 / 0.02)
    assert value(frame, "Chain", "availability").value == pytest.approx(1 - P**3, rel=1e-12)
    assert value(frame, "Chain", "messages per commit").value >= 2 + 2
    assert value(frame, "Chain", "safety violations").value == 0


def test_same_seed_same_frame(scenario: ha.Scenario, frame: pd.DataFrame) -> None:
    again = ha.compare(None, scenario)
    pd.testing.assert_frame_equal(frame, again)
    one = ha.compare(["Raft"], scenario)  # seeds follow the scenario's order
    pd.testing.assert_frame_equal(
        one.reset_index(drop=True), frame[frame["strategy"] == "Raft"].reset_index(drop=True)
    )


def test_bad_input(scenario: ha.Scenario) -> None:
    raises_openha_error(lambda: ha.compare(["no such"], scenario), "no such")
    raises_openha_error(lambda: ha.compare(None, None), "scenario")
    raises_openha_error(lambda: ha.compare(None, scenario, trials=0), "trials")
