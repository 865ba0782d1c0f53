"""Multi-Paxos on the simulator: steady state against the leader model (majority,
Flexible and thrifty quorums), safety under random fault schedules with mutants the
checker must catch, leader change with recovery, reads, determinism and bad input.

Expected values come from ``openha.models.leader_model`` / ``messages_per_commit``
(closed forms and order statistics that share no code with the simulator).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import openha as ha
from openha.models import leader_model, messages_per_commit
from tests.openha_errors import raises_openha_error as _raises
from tests.sim_faults import FAULT_HORIZON_MS, fault_run
from tests.sim_stats import batch_means_se, measured_latencies

K_SE = 4.5
CPU_MS, FSYNC_MS = 0.01, 0.02
LAN_DELAY = ha.dist.Exponential(mean=0.1, shift=0.1)

# (n, q1, q2, thrifty): majorities, Flexible Paxos with a small phase-2 quorum, thrifty
GRID = [
    (3, None, None, False),
    (5, None, None, False),
    (7, None, None, False),
    (5, 4, 2, False),
    (5, None, None, True),
    (7, 5, 3, True),
]


def lan_cluster(n: int, delay: ha.dist.Distribution | float = LAN_DELAY) -> ha.Cluster:
    return ha.Cluster(n=n, network=ha.Network(delay=delay), cpu_ms=CPU_MS, fsync_ms=FSYNC_MS)


def model_for(n, q2, thrifty, delay=LAN_DELAY):
    return leader_model(
        n,
        cpu_ms=CPU_MS,
        fsync_ms=FSYNC_MS,
        delay=delay,
        quorum=q2 or n // 2 + 1,
        thrifty=thrifty,
    )


# --------------------------------------------------------------------------- steady state
@pytest.mark.parametrize(("n", "q1", "q2", "thrifty"), GRID)
def test_unloaded_latency_against_model(n, q1, q2, thrifty):
    """One client: the model's isolated-commit latency; late acks of the previous command
    may still hold the leader's CPU, at most (contacted - needed) x cpu."""
    model = model_for(n, q2, thrifty)
    proto = ha.MultiPaxos(q1=q1, q2=q2, thrifty=thrifty, batch=1, window=None)
    res = ha.simulate(
        proto,
        lan_cluster(n),
        ha.ClosedLoop(clients=1),
        stop=ha.Stop(commits=4_000),
        warmup=200,
        seed=10 + n,
    )
    lat = measured_latencies(res)
    assert res.violations == () and len(lat) == 4_000
    se = batch_means_se(lat)
    late_acks = (model.followers - model.acks_needed) * CPU_MS
    assert (
        model.latency_ms() - K_SE * se
        <= res.latency_ms()
        <= model.latency_ms() + late_acks + K_SE * se
    )


@pytest.mark.parametrize(("n", "q2", "thrifty"), [(3, None, False), (5, 2, False), (5, None, True)])
def test_constant_delays_match_model_exactly(n, q2, thrifty):
    model = model_for(n, q2, thrifty, delay=0.2)
    q1 = None if q2 is None else n - q2 + 1
    res = ha.simulate(
        ha.MultiPaxos(q1=q1, q2=q2, thrifty=thrifty, batch=1, window=None),
        lan_cluster(n, 0.2),
        ha.ClosedLoop(clients=1),
        stop=ha.Stop(commits=50),
        warmup=5,
        seed=1,
    )
    lat = measured_latencies(res)
    assert lat == pytest.approx(np.full(lat.size, model.latency_ms()), abs=1e-9)


@pytest.mark.parametrize(("n", "q1", "q2", "thrifty"), GRID)
def test_saturated_throughput_and_messages_against_model(n, q1, q2, thrifty):
    """Enough closed-loop clients to saturate the leader's CPU: the ceiling (1 + contacted
    acceptors) x cpu per commit, and 2 + 2 x contacted messages per commit."""
    model = model_for(n, q2, thrifty)
    res = ha.simulate(
        ha.MultiPaxos(q1=q1, q2=q2, thrifty=thrifty, batch=1, window=None),
        lan_cluster(n),
        ha.ClosedLoop(clients=96),
        stop=ha.Stop(commits=10_000),
        warmup=1_000,
        seed=50 + n,
    )
    assert res.violations == ()
    assert res.throughput_per_s == pytest.approx(model.throughput_ceiling_per_s, rel=0.01)
    assert res.throughput_per_s <= model.throughput_ceiling_per_s * 1.005
    wire = messages_per_commit("multipaxos", n, quorum=q2 or n // 2 + 1, thrifty=thrifty)
    assert res.messages_per_commit == pytest.approx(wire, rel=0.01)
    assert model.messages_per_commit == wire


# --------------------------------------------------------------------------- safety
def multipaxos_for_faults(rng: np.random.Generator, n: int) -> ha.MultiPaxos:
    """Majorities or any intersecting Flexible pair (q1 = n - q2 + 1, or larger), thrifty
    in 30 % of runs, several batch and window settings."""
    q2 = int(rng.integers(1, n + 1)) if rng.random() < 0.5 else n // 2 + 1
    q1 = n - q2 + 1 if rng.random() < 0.7 else max(n - q2 + 1, n // 2 + 1)
    return ha.MultiPaxos(
        q1=q1,
        q2=q2,
        thrifty=bool(rng.random() < 0.3),
        election_timeout=(10.0, 20.0),
        batch=int(rng.choice([1, 8, 64])),
        window=[None, 1, 8][int(rng.integers(3))],
    )


SAFETY_CHUNKS = 4
SCHEDULES_PER_CHUNK = 750  # 3,000 schedules in all


@pytest.mark.parametrize("chunk", range(SAFETY_CHUNKS))
def test_no_violation_under_random_faults(chunk):
    seeds = range(chunk * SCHEDULES_PER_CHUNK, (chunk + 1) * SCHEDULES_PER_CHUNK)
    unsafe, commits = {}, []
    for seed in seeds:
        res = fault_run(seed, multipaxos_for_faults, strict=chunk % 2 == 1)
        assert res.status == "time limit reached"
        if res.violations:
            unsafe[seed] = [str(v) for v in res.violations[:3]]
        commits.append(len(res.commits))
    assert unsafe == {}
    commits_arr = np.array(commits)
    assert np.mean(commits_arr > 0) >= 0.95
    assert np.median(commits_arr) >= 50


def test_no_violation_under_random_faults_with_slow_disks():
    unsafe = {}
    for seed in range(500):
        res = fault_run(seed, multipaxos_for_faults, fsync_ms=(0.5, 2.0))
        if res.violations:
            unsafe[seed] = [str(v) for v in res.violations[:3]]
    assert unsafe == {}


def _mutant(name: str):
    def make(rng: np.random.Generator, n: int) -> ha.MultiPaxos:
        if name == "unchecked-quorums":  # q1 + q2 = n: a phase-1 quorum can miss a choice
            q2 = n // 2 + 1
            return ha.MultiPaxos(q1=n - q2, q2=q2, election_timeout=(10.0, 20.0), mutant=name)
        return ha.MultiPaxos(election_timeout=(10.0, 20.0), batch=8, mutant=name)

    return make


@pytest.mark.parametrize("mutant", ["ignore-promises", "unchecked-quorums"])
def test_checker_catches_mutant(mutant):
    """The same schedules catch each broken variant: a new leader that does not adopt
    promised values, and quorums that need not intersect."""
    caught = [s for s in range(200) if fault_run(s, _mutant(mutant)).violations]
    assert len(caught) >= 5, caught
    res = fault_run(caught[0], _mutant(mutant))
    kinds = {v.kind for v in res.violations}
    assert kinds & {"leader completeness", "agreement", "acknowledged write lost"}
    with pytest.raises(ha.OpenHAError, match="safety violation"):
        fault_run(caught[0], _mutant(mutant), strict=True)


# --------------------------------------------------------------------------- failover
def test_leader_crash_recovers_and_resumes():
    """The leader crashes mid-stream: a new leader's phase 1 recovers every chosen value
    (checked after each phase 1), commits resume, and no acknowledged write is lost."""
    cluster = lan_cluster(5)
    res = ha.simulate(
        ha.MultiPaxos(election_timeout=(10.0, 20.0)),
        cluster,
        ha.ClosedLoop(clients=8, timeout_ms=30.0, retry_ms=2.0),
        faults=ha.Faults(crashes=[ha.Crash(node=0, at_ms=20.0)]),
        stop=ha.Stop(time_ms=100.0),
        seed=4,
        strict=True,
    )
    leaders = res.timeline[res.timeline["event"] == "leader"]
    assert leaders["node"].iloc[0] == 0 and len(leaders) >= 2
    assert (leaders["node"].iloc[1:] != 0).all()
    new_at = float(leaders["time_ms"].iloc[1])
    assert 20.0 + 10.0 <= new_at <= 20.0 + 20.0 + 5.0  # one election timeout, + phase 1
    t = res.commits["time_ms"].to_numpy()
    assert (t > new_at).sum() > 100 and (t < 20.0).sum() > 100
    # ballots: node 0 led ballot 1; the new leader's ballot is k n + node + 1 > 1
    ballot = int(leaders["term"].iloc[1])
    assert ballot > 1 and (ballot - 1) % 5 == int(leaders["node"].iloc[1])


def test_reads_go_through_the_log_and_are_linearizable():
    res = ha.simulate(
        ha.MultiPaxos(election_timeout=(10.0, 20.0)),
        lan_cluster(5),
        ha.ClosedLoop(clients=8, reads=0.5, timeout_ms=30.0),
        faults=ha.Faults(crashes=[ha.Crash(node=0, at_ms=30.0, recover_ms=60.0)]),
        stop=ha.Stop(time_ms=150.0),
        seed=5,
        strict=True,
    )
    assert res.reads_per_s > 0 and res.throughput_per_s > 0
    # a read takes a slot like a write: both kinds complete at about the same rate
    assert res.reads_per_s / res.throughput_per_s == pytest.approx(1.0, rel=0.2)


# --------------------------------------------------------------------------- determinism, input
def test_same_seed_same_frames():
    def run():
        return ha.simulate(
            ha.MultiPaxos(election_timeout=(10.0, 20.0)),
            lan_cluster(5),
            ha.ClosedLoop(clients=4, timeout_ms=20.0),
            faults=ha.Faults(crashes=[ha.Crash(node=0, at_ms=15.0, recover_ms=40.0)]),
            stop=ha.Stop(time_ms=FAULT_HORIZON_MS),
            seed=11,
        )

    a, b = run(), run()
    pd.testing.assert_frame_equal(a.requests, b.requests)
    pd.testing.assert_frame_equal(a.commits, b.commits)
    pd.testing.assert_frame_equal(a.timeline, b.timeline)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda: ha.simulate(
                ha.MultiPaxos(q1=2, q2=3), ha.Cluster(n=5), stop=ha.Stop(time_ms=1)
            ),
            ["q1=2", "q2=3", "n=5", "q1 + q2 > n"],
        ),
        (
            lambda: ha.simulate(ha.MultiPaxos(q2=6), ha.Cluster(n=5), stop=ha.Stop(time_ms=1)),
            ["q2", "[1, n=5]", "6"],
        ),
        (lambda: ha.MultiPaxos(q1=0), ["q1", "0"]),
        (lambda: ha.MultiPaxos(thrifty="yes"), ["thrifty", "'yes'"]),
        (lambda: ha.MultiPaxos(election_timeout=(20.0, 10.0)), ["election_timeout", "min <= max"]),
        (lambda: ha.MultiPaxos(batch=0), ["batch", "0"]),
        (lambda: ha.MultiPaxos(mutant="typo"), ["mutant", "'typo'"]),
    ],
)
def test_bad_input_raises_openha_error(make, words):
    _raises(make, *words)
