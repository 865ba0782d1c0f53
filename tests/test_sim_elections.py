"""Simulated Raft elections against the Raft paper's measurements and the analytic model."""

from __future__ import annotations

import numpy as np
import pytest

import openha as ha
from openha.models import election_model
from tests.openha_errors import raises_openha_error

WIDE = ["12-24", "25-50", "50-100", "100-200", "150-200", "150-300"]
NARROW = ["150-150", "150-151", "150-155"]


@pytest.fixture(scope="module")
def figure16():
    return ha.sim.figure16(WIDE + NARROW, trials=1000, seed=0)


@pytest.mark.parametrize("label", WIDE)
def test_figure16_median_and_mean_within_ten_percent_of_logcabin(figure16, label):
    measured = np.asarray(ha.data.raft_election_times(label).samples)
    sim = figure16.loc[figure16["range"] == label, "time_to_elect_ms"].to_numpy()
    assert not np.isnan(sim).any()
    assert np.median(sim) == pytest.approx(np.median(measured), rel=0.10)
    assert sim.mean() == pytest.approx(measured.mean(), rel=0.10)


def test_figure16_narrow_ranges_keep_the_measured_order(figure16):
    def stat(label, f):
        return f(figure16.loc[figure16["range"] == label, "time_to_elect_ms"].to_numpy())

    for f in (np.median, np.mean):
        measured = [f(np.asarray(ha.data.raft_election_times(r).samples)) for r in NARROW]
        assert measured[0] > measured[1] > measured[2]  # the paper's order
        assert stat(NARROW[0], f) > stat(NARROW[1], f) > stat(NARROW[2], f)


# The analytic model's assumptions: constant latency, no disk, no CPU, every live
# server eligible. Times are measured from the followers' timer reset, which is when
# the leader's last heartbeat arrived (latency L after time 0).
MODEL_CASES = [
    (5, (150.0, 300.0), 5.0),
    (5, (150.0, 165.0), 2.0),
    (5, (10.0, 20.0), 1.0),
    (3, (50.0, 60.0), 4.0),
    (7, (100.0, 130.0), 3.0),
]


@pytest.mark.parametrize(("n", "timeout", "latency"), MODEL_CASES)
def test_first_round_matches_the_analytic_election_model(n, timeout, latency):
    trials = 4000
    cluster = ha.Cluster(n=n, network=ha.Network(delay=latency))
    df = ha.elections(ha.Raft(election_timeout=timeout), cluster, trials, seed=11)
    model = election_model(n, timeout, latency, live=n - 1)
    first = (df["term"] == 2).to_numpy()  # won by the first candidate of term 2
    p = 1.0 - model.split_vote_probability
    se = np.sqrt(max(p * (1 - p), 1e-4) / trials)
    assert first.mean() == pytest.approx(p, abs=4.5 * se)
    since_reset = (df["time_to_elect_ms"] + df["crash_ms"] - latency).to_numpy()
    for t in np.quantile(since_reset[first], [0.1, 0.5, 0.9]):
        q = float(model.first_round_cdf(t))
        se = np.sqrt(max(q * (1 - q), 1e-4) / trials)
        assert np.mean(first & (since_reset <= t)) == pytest.approx(q, abs=4.5 * se)


def test_mean_time_to_elect_matches_the_model_when_split_votes_are_rare():
    n, timeout, latency = 5, (150.0, 300.0), 0.5
    model = election_model(n, timeout, latency, live=n - 1)
    assert model.split_vote_probability < 0.01
    cluster = ha.Cluster(n=n, network=ha.Network(delay=latency))
    df = ha.elections(ha.Raft(election_timeout=timeout), cluster, 4000, seed=5)
    since_reset = (df["time_to_elect_ms"] + df["crash_ms"] - latency).to_numpy()
    se = since_reset.std(ddof=1) / np.sqrt(len(since_reset))
    assert since_reset.mean() == pytest.approx(model.mean_time_to_elect(), abs=4.5 * se)


def test_elections_are_deterministic_and_independent_of_batch_size():
    cluster = ha.sim.LOGCABIN
    raft = ha.Raft(election_timeout=(150.0, 155.0))
    a = ha.elections(raft, cluster, 50, stale=2, seed=3)
    b = ha.elections(raft, cluster, 50, stale=2, seed=3)
    assert a.equals(b)
    c = ha.elections(raft, cluster, 20, stale=2, seed=3)  # trial i has stream i
    assert a.iloc[:20].equals(c)


def test_elections_bad_input():
    cluster = ha.Cluster(n=5)
    raft = ha.Raft()
    raises_openha_error(lambda: ha.elections(raft, cluster, 0), "trials")
    raises_openha_error(lambda: ha.elections(raft, cluster, 10, stale=5), "stale")
    raises_openha_error(lambda: ha.elections(raft, cluster, 10, crash="follower"), "crash")
    raises_openha_error(lambda: ha.elections(raft, ha.Cluster(n=1), 10), "n >= 2")
    raises_openha_error(lambda: ha.sim.figure16(["150to300"], trials=1), "ranges")
