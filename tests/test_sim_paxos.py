"""Single-decree Paxos per command (``ha.Paxos``) on the message-level simulator: against
closed forms and an independent reference of its message flow, under random faults,
with duelling proposers, and with a deliberately broken variant the checker must catch.

- Steady state, W1-shaped (0.1 ms + Exponential(0.1 ms) FIFO links, 0.01 ms of CPU per
  received message, 0.02 ms fsync, every client on node 0, so node 0 is the only
  proposer). Per command the proposer's CPU serves the request, ``c = n - 1`` promises
  and ``c`` acceptances; an acceptor's serves a prepare, an accept and a decision. At
  saturation the proposer's CPU is the bottleneck: ``1 / ((1 + 2c) cpu)``. On the wire:
  ``2 + 5c`` messages (``openha.models.messages_per_commit("paxos", n)``).
- One client, constant delays: every command takes exactly the client's round trip, two
  phase round trips, the CPU services on the critical path and two acceptor fsyncs
  (closed form below). One client, W1's random delays: the mean latency against a slow
  pure-Python event simulation of the same message flow written from this description
  (no simulator code).
- Safety: thousands of random fault schedules (``tests/sim_faults.py``), no violation; the
  mutant ``ignore-accepted`` is caught as an agreement violation within a few seeds.
- Duelling proposers: without back-off, proposers on different nodes pre-empt each other
  forever (Lamport, "Paxos Made Simple", 2001, section 2.4); a random back-off of a few
  round trips cures it.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math

import numpy as np
import pandas as pd
import pytest

import openha as ha
from openha.models import messages_per_commit
from tests.openha_errors import raises_openha_error as _raises
from tests.sim_faults import fault_run
from tests.sim_stats import batch_means_se, measured_latencies

K_SE = 4.0  # statistical tolerance in standard errors (fixed seeds: deterministic)

# --------------------------------------------------------------------------- W1-shaped
SHIFT_MS = 0.1
JITTER_MS = 0.1
CPU_MS = 0.01
FSYNC_MS = 0.02
SIZES = (3, 5, 7)


def w1_cluster(n: int) -> ha.Cluster:
    network = ha.Network(delay=ha.dist.Exponential(mean=JITTER_MS, shift=SHIFT_MS), fifo=True)
    return ha.Cluster(n=n, network=network, cpu_ms=CPU_MS, fsync_ms=FSYNC_MS)


@functools.cache
def w1(n: int, clients: int, commits: int, seed: int) -> ha.SimResult:
    return ha.simulate(
        ha.Paxos(),
        w1_cluster(n),
        ha.ClosedLoop(clients=clients),
        stop=ha.Stop(commits=commits),
        warmup=1_000,
        seed=seed,
        leader=0,  # every client sends to node 0: one proposer, no duels
    )


def proposer_ceiling_per_s(n: int) -> float:
    """The proposer's CPU: the request, n - 1 promises and n - 1 acceptances per command.
    Every other resource has room: an acceptor's CPU serves 3 messages, each disk takes 2
    writes (promise, acceptance) per command."""
    c = n - 1
    ceiling = 1000.0 / ((1 + 2 * c) * CPU_MS)
    assert ceiling < min(1000.0 / (3 * CPU_MS), 1000.0 / (2 * FSYNC_MS))
    return ceiling


@pytest.mark.parametrize("n", SIZES)
def test_saturated_proposer_cpu_ceiling(n):
    # 64 clients: at n = 3 the links' head-of-line blocking (FIFO) stretches the latency
    # enough that 32 clients leave the CPU idle a fifth of the time.
    res = w1(n, 64, 20_000, seed=1)
    assert res.status == "stop condition met"
    assert res.violations == ()
    ceiling = proposer_ceiling_per_s(n)
    assert res.throughput_per_s == pytest.approx(ceiling, rel=0.01)
    assert res.throughput_per_s <= ceiling * 1.005
    assert res.throughput_per_s / 1000.0 * res.latency_ms() == pytest.approx(64, rel=0.01)
    # One proposer: nothing to duel with, no hole left for a watchdog to fill.
    assert res.preemptions == 0
    assert res.messages["Nack"] == res.messages["Ask"] == 0
    model = messages_per_commit("paxos", n)
    assert res.messages_per_commit == pytest.approx(model, rel=0.005)


@pytest.mark.parametrize("n", SIZES)
def test_one_client_messages_per_commit(n):
    res = w1(n, 1, 10_000, seed=2)
    c = n - 1
    commits = len(res.commits)
    assert commits == 11_000
    m = res.messages
    for kind in ("Prepare (1a)", "Promise (1b)", "Accept (2a)", "Decide"):
        assert m[kind] == c * commits, kind
    # The run stops when the last reply arrives: the slowest acceptors' answers to the
    # last accept may still be on their way, and the client has sent its next request.
    assert c * (commits - 1) < m["Accepted (2b)"] <= c * commits
    assert m["client request"] == commits + 1
    assert m["client reply"] == commits
    assert m["Nack"] == m["Ask"] == m["Learn"] == res.preemptions == 0
    total = sum(m.values())
    model = messages_per_commit("paxos", n)
    assert model == 2 + 5 * c
    assert model * commits - c < total - 1 <= model * commits


# --------------------------------------------------------------------------- closed form
def closed_form_ms(d: float, cpu: float, fsync: float, q1: int, q2: int) -> float:
    """One client, constant delay d: the request reaches the proposer (d) and takes its
    CPU; prepares travel (d), take the acceptors' CPU and fsync, promises travel back (d)
    and the proposer's CPU serves q1 - 1 of them (its own promise is on disk long before);
    the same for accepts (q2 - 1 acceptances; with q2 = 1 its own fsync decides); the
    reply travels (d)."""
    phase1 = 2 * d + cpu + fsync + (q1 - 1) * cpu
    phase2 = 2 * d + cpu + fsync + (q2 - 1) * cpu if q2 > 1 else fsync
    return d + cpu + phase1 + phase2 + d


@pytest.mark.parametrize(
    ("n", "q1", "q2"),
    [(3, 2, 2), (5, 3, 3), (7, 4, 4), (5, 4, 2), (5, 2, 4), (5, 5, 1)],
)
def test_one_client_latency_closed_form_constant_delays(n, q1, q2):
    d = 0.2
    cluster = ha.Cluster(n=n, network=ha.Network(delay=ha.dist.Constant(d)), cpu_ms=CPU_MS,
                         fsync_ms=FSYNC_MS)  # fmt: skip
    res = ha.simulate(ha.Paxos(q1=q1, q2=q2), cluster, ha.ClosedLoop(clients=1),
                      stop=ha.Stop(commits=2_000), seed=1)  # fmt: skip
    lat = measured_latencies(res)
    expected = closed_form_ms(d, CPU_MS, FSYNC_MS, q1, q2)
    assert np.median(lat) == pytest.approx(expected, abs=1e-9)
    # Exact for (nearly) every command: the watchdog's rare timer (every 50 ms) may take
    # the proposer's CPU just as a message arrives.
    assert np.mean(np.isclose(lat, expected, rtol=0.0, atol=1e-9)) >= 0.99
    assert lat.min() == pytest.approx(expected, abs=1e-9)


# --------------------------------------------------------------------------- reference
def one_client_reference(n: int, commits: int, seed: int) -> np.ndarray:
    """W1 with one client on node 0, as a plain event simulation (heap of timed events).

    Written from the model's description only: every message takes 0.1 ms plus an
    Exponential(0.1 ms) draw, and is delivered no earlier than the previous one on its
    link (FIFO); each node's CPU serves arrivals in order, 0.01 ms each; each disk serves
    writes in order, 0.02 ms each. Node 0 serves the request, writes its promise and sends
    prepares; an acceptor serves a prepare, writes and then answers; node 0 serves each
    promise, and once it holds a majority (its own written one included) writes its
    acceptance and sends accepts; acceptors serve, write, answer; at a majority of
    acceptances node 0 sends the decision to every peer (each serves it) and the reply.
    Late promises and acceptances still take node 0's CPU.
    """
    q = n // 2 + 1
    rng = np.random.default_rng(seed)
    draws = iter(rng.exponential(JITTER_MS, commits * (5 * n + 2)).tolist())
    client = n
    heap: list[tuple[float, int, str, int, tuple]] = []
    seq = itertools.count()
    last: dict[tuple[int, int], float] = {}
    cpu_free = [0.0] * n
    disk_free = [0.0] * n
    out = np.empty(commits)
    st = {"m": 0, "phase": 0, "votes": 0, "own": False, "sent": 0.0}

    def send(t: float, src: int, dst: int, kind: str, m: int) -> None:
        at = max(t + SHIFT_MS + next(draws), last.get((src, dst), 0.0))
        last[(src, dst)] = at
        heapq.heappush(heap, (at, next(seq), "arrive", dst, (kind, m)))

    def write(t: float, node: int, what: str, m: int) -> None:
        done = disk_free[node] = max(disk_free[node], t) + FSYNC_MS
        heapq.heappush(heap, (done, next(seq), "disk", node, (what, m)))

    def vote(t: float, m: int, phase: int) -> None:
        if m != st["m"] or st["phase"] != phase:
            return  # a late answer
        st["votes"] += 1
        if phase == 1 and st["votes"] >= q and st["own"]:
            st["phase"], st["votes"] = 2, 0
            write(t, 0, "accept", m)
            for j in range(1, n):
                send(t, 0, j, "accept", m)
        elif phase == 2 and st["votes"] >= q:
            st["phase"] = 0
            for j in range(1, n):
                send(t, 0, j, "decide", m)
            send(t, 0, client, "reply", m)

    def handle(t: float, node: int, kind: str, m: int) -> None:
        if kind == "request":
            st["phase"], st["votes"], st["own"] = 1, 0, False
            write(t, 0, "prepare", m)
            for j in range(1, n):
                send(t, 0, j, "prepare", m)
        elif kind in ("prepare", "accept"):
            write(t, node, kind, m)
        elif kind == "promise":
            vote(t, m, 1)
        elif kind == "accepted":
            vote(t, m, 2)

    send(0.0, client, 0, "request", 0)
    while st["m"] < commits:
        t, _, event, node, (kind, m) = heapq.heappop(heap)
        if event == "arrive" and node == client:
            out[m] = t - st["sent"]
            st["m"] += 1
            st["sent"] = t
            send(t, client, 0, "request", st["m"])
        elif event == "arrive":
            done = cpu_free[node] = max(cpu_free[node], t) + CPU_MS
            heapq.heappush(heap, (done, next(seq), "cpu", node, (kind, m)))
        elif event == "cpu":
            handle(t, node, kind, m)
        elif node == 0:  # the proposer's own write is on disk
            st["own"] = st["own"] or (kind == "prepare" and m == st["m"])
            vote(t, m, 1 if kind == "prepare" else 2)
        else:
            send(t, node, 0, "promise" if kind == "prepare" else "accepted", m)
    return out


@pytest.mark.parametrize("n", SIZES)
def test_one_client_latency_against_reference(n):
    res = w1(n, 1, 100_000, seed=3)
    lat = measured_latencies(res)
    assert res.throughput_per_s / 1000.0 * res.latency_ms() == pytest.approx(1.0, rel=0.01)
    ref = one_client_reference(n, 60_000, seed=4)[1_000:]
    tol = K_SE * math.hypot(batch_means_se(lat), batch_means_se(ref))
    assert tol < 0.005  # below 0.5 % of the mean: one missing CPU service (0.01 ms) shows
    assert lat.mean() == pytest.approx(ref.mean(), abs=tol)
    fastest = 6 * SHIFT_MS + (3 + 2 * (n // 2)) * CPU_MS + 2 * FSYNC_MS
    assert lat.min() >= fastest - 1e-9
    assert ref.min() >= fastest - 1e-9


# --------------------------------------------------------------------------- safety
SAFETY_CHUNKS = 5
SCHEDULES_PER_CHUNK = 400  # 2,000 schedules in all


def paxos_for_faults(rng: np.random.Generator, n: int, mutant: str = "") -> ha.Paxos:
    """Majority, read-heavy (q1 = n, q2 = 1) or q1 = n - 1, q2 = 2 quorums; back-off up
    to 0.5 or 2 ms; proposal timeout 2-10 ms."""
    q1, q2 = [(None, None), (n, 1), (n - 1, 2)][int(rng.integers(3))]
    return ha.Paxos(
        q1=q1,
        q2=q2,
        backoff_ms=(0.0, float(rng.choice([0.5, 2.0]))),
        timeout_ms=float(rng.uniform(2.0, 10.0)),
        mutant=mutant,
    )


def random_fault_run(seed: int, *, mutant: str = "", strict: bool = False,
                     fsync_ms: tuple[float, float] = (0.01, 0.05)) -> ha.SimResult:  # fmt: skip
    return fault_run(
        seed,
        lambda rng, n: paxos_for_faults(rng, n, mutant),
        fsync_ms=fsync_ms,
        strict=strict,
    )


@pytest.mark.parametrize("chunk", range(SAFETY_CHUNKS))
def test_no_violation_under_random_faults(chunk):
    seeds = range(chunk * SCHEDULES_PER_CHUNK, (chunk + 1) * SCHEDULES_PER_CHUNK)
    strict = chunk % 2 == 1  # every other chunk lets simulate() itself raise
    unsafe, commits = {}, []
    sent: dict[str, int] = {}
    preemptions = 0
    for seed in seeds:
        res = random_fault_run(seed, strict=strict)
        assert res.status == "time limit reached"
        if res.violations:
            unsafe[seed] = [str(v) for v in res.violations[:3]]
        commits.append(len(res.commits))
        preemptions += res.preemptions
        for kind, count in res.messages.items():
            sent[kind] = sent.get(kind, 0) + count
    assert unsafe == {}
    commits_arr = np.array(commits)
    assert np.mean(commits_arr > 0) >= 0.95
    assert np.median(commits_arr) >= 50
    # The schedules exercise the paths faults open: duels, refusals, catching up.
    assert preemptions > 0
    assert sent["Nack"] > 0 and sent["Ask"] > 0 and sent["Learn"] > 0


def test_no_violation_under_random_faults_with_slow_disks():
    unsafe = {}
    for seed in range(500):
        res = random_fault_run(seed, fsync_ms=(0.5, 2.0))
        if res.violations:
            unsafe[seed] = [str(v) for v in res.violations[:3]]
    assert unsafe == {}


# Measured on seeds 0-299: the mutant breaks agreement in 40 % of them (first at seed 5;
# 53 % show some violation, acknowledged writes lost among them) and correct Paxos is
# clean on all (and on 10,000 more); 100 seeds miss with probability below 1e-20 even if
# the simulator's random streams change.
MUTANT_SEEDS = range(100)


def test_checker_catches_ignore_accepted():
    kind = "agreement"
    caught = next(
        (
            s
            for s in MUTANT_SEEDS
            if any(v.kind == kind for v in random_fault_run(s, mutant="ignore-accepted").violations)
        ),
        None,
    )
    assert caught is not None, f"no {kind!r} violation in seeds {MUTANT_SEEDS}"
    res = random_fault_run(caught, mutant="ignore-accepted")
    v = next(v for v in res.violations if v.kind == kind)
    assert 0.0 <= v.time_ms <= res.sim_time_ms
    trail = v.trail
    assert isinstance(trail, pd.DataFrame) and len(trail) > 0
    assert trail["time_ms"].is_monotonic_increasing
    msg = _raises(lambda: random_fault_run(caught, mutant="ignore-accepted", strict=True),
                  "safety violation")  # fmt: skip
    assert str(res.violations[0]) in msg
    # The same schedule and seed are safe with correct Paxos: the mutant was caught.
    assert random_fault_run(caught).violations == ()


# --------------------------------------------------------------------------- duels
WAN_SHIFT_MS = 10.0  # one-way 10 ms + Exponential(1 ms): RTT about 22 ms
WAN_JITTER_MS = 1.0
WAN_RTT_MS = 2 * (WAN_SHIFT_MS + WAN_JITTER_MS)
DUEL_CLIENTS = 10
DUEL_MS = 20_000.0


def duel(backoff_ms: tuple[float, float], seed: int) -> ha.SimResult:
    """10 clients, each on a random one of 5 nodes, all proposing in the lowest free slot."""
    network = ha.Network(delay=ha.dist.Exponential(mean=WAN_JITTER_MS, shift=WAN_SHIFT_MS))
    cluster = ha.Cluster(n=5, network=network, cpu_ms=CPU_MS, fsync_ms=FSYNC_MS)
    return ha.simulate(
        ha.Paxos(backoff_ms=backoff_ms, timeout_ms=50 * WAN_RTT_MS),
        cluster,
        ha.ClosedLoop(clients=DUEL_CLIENTS, timeout_ms=1e6),
        stop=ha.Stop(time_ms=DUEL_MS),
        seed=seed,
        leader=None,
    )


@pytest.mark.parametrize("seed", range(3))
def test_duelling_proposers_livelock_without_backoff(seed):
    """The model, with N = 10 clients (one proposal each) over T = 20 s:

    (a) no command commits in less than three round trips (the client's, phase 1's and
        phase 2's), at least 3 x 20 ms: at most N T / 60 ms, about 3,300 commits;
    (b) a pre-emption is a refusal, a round trip (at least 20 ms) after the Prepare or
        Accept it refuses, so each proposal is pre-empted at most about once per round
        trip: N T / 20 ms = 10,000. A pre-empted proposer with no back-off prepares again
        at once with the highest ballot, and its Prepare reaches the acceptors just as the
        rival's Accept does; with up to five nodes in the same slot one of the rivals'
        Prepares almost always lands first, so the duel goes on at a sizeable fraction of
        that pace (over a fifth of N T / RTT at the mean RTT of 22 ms) and commits all
        but stop (under 1 % of (a));
    (c) with a back-off uniform on [0, B], B = 4 RTT, a retry is clear of a given rival
        when their retries start more than the round trip from its Prepare to its Accept
        apart: probability (3/4)^2 ~ 0.56 per pair, so a command costs a few pre-emptions
        (at most 5), each about a round trip plus the mean back-off, 3 RTT: the latency
        stays below 3 RTT + 5 x 3 RTT, and throughput above N / (18 RTT) = 25 per s.

    Measured on seeds 0-11: no back-off, no commit at all and 4,100-7,400 pre-emptions;
    with the back-off, 593-914 commits and 1.9-3.7 pre-emptions per commit.
    """
    fastest_rtt = 2 * WAN_SHIFT_MS
    bound = DUEL_CLIENTS * DUEL_MS / (3 * fastest_rtt)  # (a)
    stuck = duel((0.0, 0.0), seed)
    cured = duel((0.0, 4 * WAN_RTT_MS), seed)
    for res in (stuck, cured):
        assert res.violations == ()
        assert len(res.commits) <= bound
    assert len(stuck.commits) < 0.01 * bound
    pace = DUEL_CLIENTS * DUEL_MS / WAN_RTT_MS  # (b)
    assert 0.2 * pace < stuck.preemptions <= DUEL_CLIENTS * DUEL_MS / fastest_rtt
    assert stuck.preemptions >= 100 * max(1, len(stuck.commits))
    assert len(cured.commits) > DUEL_CLIENTS * DUEL_MS / (18 * WAN_RTT_MS)  # (c)
    assert cured.preemptions <= 5 * len(cured.commits)
    assert cured.throughput_per_s > 50 * max(stuck.throughput_per_s, 1000.0 / DUEL_MS)


# --------------------------------------------------------------------------- no leader
def test_clients_move_on_when_their_node_crashes():
    """Every client on node 0, which crashes for good: each client's request times out and
    is retried at node 1, which proposes it (completing node 0's unfinished slots with the
    values it finds in them). No election: commits stop for one client timeout (the
    requests open at the crash were sent at most a latency, about 1.2 ms, before it)."""
    crash_ms, timeout_ms, clients = 50.0, 5.0, 8
    cluster = ha.Cluster(n=5, network=ha.Network(delay=ha.dist.Exponential(mean=0.1, shift=0.1)),
                         cpu_ms=CPU_MS, fsync_ms=FSYNC_MS)  # fmt: skip
    res = ha.simulate(
        ha.Paxos(timeout_ms=2.0),
        cluster,
        ha.ClosedLoop(clients=clients, timeout_ms=timeout_ms),
        faults=ha.Faults(crashes=[ha.Crash(node=0, at_ms=crash_ms)]),
        stop=ha.Stop(time_ms=100.0),
        seed=5,
    )
    assert res.violations == ()
    done = res.requests.dropna(subset=["done_ms"])
    assert (done["done_ms"] < crash_ms).sum() > 100
    assert (done["done_ms"] > crash_ms).sum() > 100
    gaps = res.unavailability(1.0)
    outage = gaps[gaps["end_ms"] > crash_ms].iloc[0]
    assert outage["start_ms"] <= crash_ms
    assert timeout_ms - 1.5 <= outage["duration_ms"] <= timeout_ms + 1.5
    retried = done[done["attempts"] > 1]
    assert retried["client"].nunique() == clients  # every client moved on and was served
    assert retried["done_ms"].min() >= crash_ms + timeout_ms - 1.5
    assert res.requests["done_ms"].isna().sum() <= clients  # only the last requests are open


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_frames():
    a = random_fault_run(7)
    b = random_fault_run(7)
    pd.testing.assert_frame_equal(a.requests, b.requests)
    pd.testing.assert_frame_equal(a.commits, b.commits)
    pd.testing.assert_frame_equal(a.timeline, b.timeline)
    assert a.messages == b.messages
    assert a.preemptions == b.preemptions
    assert len(a.commits) > 0
    c = random_fault_run(8)
    assert not c.requests.equals(a.requests)


# --------------------------------------------------------------------------- bad input
def test_bad_input_raises_before_any_kernel():
    cluster = ha.Cluster(n=5)
    work = ha.ClosedLoop(clients=1)
    stop = ha.Stop(commits=10)
    cases = [
        (lambda: ha.simulate(ha.Paxos(q1=2, q2=3), cluster, work, stop=stop),
         ["q1=2", "q2=3", "n=5", "q1 + q2 > n"]),
        (lambda: ha.simulate(ha.Paxos(q1=6, q2=5), cluster, work, stop=stop),
         ["q1", "[1, n=5]", "6"]),
        (lambda: ha.simulate(ha.Paxos(q2=9), cluster, work, stop=stop), ["q2", "9"]),
        (lambda: ha.Paxos(q1=0), ["q1", "0"]),
        (lambda: ha.Paxos(backoff_ms=(2.0, 1.0)), ["backoff_ms", "min <= max", "(2.0, 1.0)"]),
        (lambda: ha.Paxos(backoff_ms=(-1.0, 1.0)), ["backoff_ms min", ">= 0", "-1.0"]),
        (lambda: ha.Paxos(backoff_ms=3.0), ["backoff_ms", "pair", "3.0"]),
        (lambda: ha.Paxos(timeout_ms=0.0), ["timeout_ms", "> 0", "0.0"]),
        (lambda: ha.Paxos(mutant="sloppy"), ["mutant", "ignore-accepted", "sloppy"]),
    ]  # fmt: skip
    for fn, words in cases:
        _raises(fn, *words)
