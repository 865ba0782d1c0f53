"""Leader-based replication model: ceilings and message counts by hand, order statistics
against closed forms and an independent quadrature, the latency distribution against a
numpy Monte Carlo, and the whole model against the message-level simulator (LAN and WAN).

Expected values come from closed forms, hand sums, scipy quadrature or numpy sampling,
never from the model's own output. Reference: A. Ailijiang, A. Charapko and
M. Demirbas, "Dissecting the Performance of Strongly-Consistent Replication Protocols",
SIGMOD 2019.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

import openha as ha
from openha.models import (
    LeaderModel,
    best_leader,
    leader_model,
    messages_per_commit,
    wan_commit_latency_ms,
)
from tests.openha_errors import raises_openha_error as _raises
from tests.sim_stats import batch_means_se, measured_latencies

K_SE = 4.5  # statistical tolerance in standard errors (fixed seeds: deterministic)
SHIFT_MS, JITTER_MS, CPU_MS, FSYNC_MS = 0.1, 0.1, 0.01, 0.02
LAN_DELAY = ha.dist.Exponential(mean=JITTER_MS, shift=SHIFT_MS)
RAFT = ha.Raft(batch=1, window=None)


def w1_model(n: int) -> LeaderModel:
    return leader_model(n, cpu_ms=CPU_MS, fsync_ms=FSYNC_MS, delay=LAN_DELAY)


def lan_cluster(n: int, delay: ha.dist.Distribution | float = LAN_DELAY) -> ha.Cluster:
    return ha.Cluster(n=n, network=ha.Network(delay=delay), cpu_ms=CPU_MS, fsync_ms=FSYNC_MS)


# --------------------------------------------------------------------------- messages, ceilings
def test_w1_ceiling_is_the_leader_cpu():
    m = w1_model(5)
    assert (m.quorum, m.followers, m.acks_needed) == (3, 4, 2)
    assert m.leader_messages_per_commit == 5.0  # 1 request + 4 acks
    assert m.messages_per_commit == 10.0
    assert m.ceilings_per_s == pytest.approx(
        {
            "leader CPU": 20_000,
            "leader disk": 50_000,
            "follower CPU": 100_000,
            "follower disk": 50_000,
        }
    )
    assert m.throughput_ceiling_per_s == pytest.approx(20_000)
    assert m.bottleneck == "leader CPU"


@pytest.mark.parametrize(
    ("kwargs", "leader_msgs", "wire", "ceiling", "bottleneck"),
    [
        # thrifty: the leader hears from quorum - 1 = 2 followers only
        ({"n": 5, "thrifty": True}, 3, 6, 1000 / 0.03, "leader CPU"),
        # a larger quorum alone changes nothing: every follower still acks
        ({"n": 5, "quorum": 4}, 5, 10, 20_000, "leader CPU"),
        ({"n": 5, "quorum": 4, "thrifty": True}, 4, 8, 25_000, "leader CPU"),
        # batch 4: 1 + 4/4 messages; the leader's CPU (50,000/s) ties its disk: first wins
        ({"n": 5, "batch": 4}, 2, 4, 50_000, "leader CPU"),
        # slow disk: one write per entry at the leader, 1 / 0.05 ms
        ({"n": 3, "fsync_ms": 0.05}, 3, 6, 20_000, "leader disk"),
        ({"n": 1}, 1, 2, 50_000, "leader disk"),  # alone: 1 / 0.02 ms beats 1 / 0.01 ms
        ({"n": 3, "cpu_ms": 0.0, "fsync_ms": 0.0}, 3, 6, math.inf, "none"),
    ],
)
def test_ceilings_by_hand(kwargs, leader_msgs, wire, ceiling, bottleneck):
    args = {"cpu_ms": CPU_MS, "fsync_ms": FSYNC_MS, **kwargs}
    m = leader_model(args.pop("n"), **args)
    assert m.leader_messages_per_commit == pytest.approx(leader_msgs)
    assert m.messages_per_commit == pytest.approx(wire)
    assert m.throughput_ceiling_per_s == pytest.approx(ceiling)
    assert m.bottleneck == bottleneck


def test_random_service_times_count_by_their_means():
    m = leader_model(5, cpu_ms=ha.dist.Uniform(0.0, 0.02), fsync_ms=ha.dist.Exponential(mean=0.02))
    assert m.throughput_ceiling_per_s == pytest.approx(20_000)


@pytest.mark.parametrize(
    ("protocol", "n", "kwargs", "expected"),
    [
        ("raft", 5, {}, 2 + 2 * 4),
        ("raft", 5, {"thrifty": True}, 2 + 2 * 2),
        ("multipaxos", 7, {"quorum": 5, "thrifty": True}, 2 + 2 * 4),
        ("multipaxos", 3, {}, 2 + 2 * 2),
        ("paxos", 5, {}, 2 + 5 * 4),  # prepare, promise, accept, accepted, decide
        ("paxos", 5, {"thrifty": True}, 2 + 5 * 2),
        ("primary-backup", 4, {}, 2 + 2 * 3),
        ("chain", 4, {}, 2 + 3),  # head -> 2nd -> 3rd -> tail, tail -> client
        ("chain", 1, {}, 2),
        ("raft", 1, {}, 2),
    ],
)
def test_messages_per_commit_by_hand(protocol, n, kwargs, expected):
    assert messages_per_commit(protocol, n, **kwargs) == expected


def test_raft_messages_match_the_leader_model():
    for n in (1, 3, 5, 7):
        for thrifty in (False, True):
            m = leader_model(n, cpu_ms=CPU_MS, thrifty=thrifty)
            assert m.messages_per_commit == messages_per_commit("raft", n, thrifty=thrifty)


# --------------------------------------------------------------------------- latency, exact cases
@pytest.mark.parametrize(
    ("n", "kwargs", "expected"),
    [
        # client->leader, request CPU, leader->follower, follower CPU, fsync, ack, then the
        # leader's CPU serves the acks in arrival order (all arrive together): k x CPU
        (5, {}, 0.2 + 0.01 + (0.2 + 0.01 + 0.02 + 0.2 + 2 * 0.01) + 0.2),
        (7, {}, 0.2 + 0.01 + (0.2 + 0.01 + 0.02 + 0.2 + 3 * 0.01) + 0.2),
        (3, {}, 0.2 + 0.01 + (0.2 + 0.01 + 0.02 + 0.2 + 1 * 0.01) + 0.2),
        (5, {"fsync_ms": 1.0}, 0.2 + 0.01 + (0.2 + 0.01 + 1.0 + 0.2 + 2 * 0.01) + 0.2),
        (5, {"quorum": 1}, 0.2 + 0.01 + 0.02 + 0.2),  # the leader's own write only
        (1, {}, 0.2 + 0.01 + 0.02 + 0.2),
        (5, {"quorum": 5, "thrifty": True}, 0.2 + 0.01 + (0.43 + 4 * 0.01) + 0.2),
    ],
)
def test_constant_delays_by_hand(n, kwargs, expected):
    args = {"cpu_ms": CPU_MS, "fsync_ms": FSYNC_MS, "delay": 0.2, **kwargs}
    m = leader_model(n, **args)
    assert m.latency_ms() == pytest.approx(expected, rel=1e-12)
    assert m.latency_quantile_ms(0.0) == pytest.approx(expected, rel=1e-12)
    assert m.latency_quantile_ms(0.99) == pytest.approx(expected, rel=1e-12)
    assert m.latency_cdf([expected - 1e-9, expected + 1e-9]).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("n", "quorum", "thrifty"),
    [
        (3, None, False),
        (5, None, False),
        (7, None, False),
        (7, 5, False),
        (5, 3, True),
        (6, None, False),
        (5, 1, False),
        (1, None, False),
    ],
)
def test_exponential_order_statistic_closed_form(n, quorum, thrifty):
    """Zero delay and CPU, fsync ~ Exponential(mu): the latency is max(X, Y_(k)), X the
    leader's write and Y_(k) the k-th smallest of m followers' writes. Renyi: Y_(k) is a
    sum of independent exponentials of means mu / (m - j), j < k, and E[(X - y)+] =
    mu e^(-y / mu), so E = mu (sum_j 1 / (m - j) + prod_j (m - j) / (m - j + 1)) and the
    product telescopes to (m - k + 1) / (m + 1)."""
    mu = 1.7
    m = leader_model(
        n, cpu_ms=0.0, fsync_ms=ha.dist.Exponential(mean=mu), quorum=quorum, thrifty=thrifty
    )
    followers, k = m.followers, m.acks_needed
    exact = mu * (
        sum(1.0 / (followers - j) for j in range(k)) + (followers - k + 1) / (followers + 1)
    )
    assert m.latency_ms() == pytest.approx(exact, rel=1e-6)


@pytest.mark.parametrize(("n", "thrifty"), [(3, False), (5, False), (7, False), (7, True)])
def test_gamma_round_trip_order_statistic_by_quadrature(n, thrifty):
    """Exponential delays, nothing else: each round trip is Gamma(2, mu), and the mean of
    its k-th order statistic is int_0^inf P(Binomial(m, G(t)) < k) dt (scipy quad)."""
    mu = 0.3
    m = leader_model(n, cpu_ms=0.0, delay=ha.dist.Exponential(mean=mu), thrifty=thrifty)
    f, k = m.followers, m.acks_needed
    trip = stats.gamma(a=2, scale=mu)
    wait, _ = integrate.quad(
        lambda t: stats.binom.cdf(k - 1, f, trip.cdf(t)), 0, np.inf, epsabs=1e-13, epsrel=1e-12
    )
    assert m.latency_ms() == pytest.approx(2 * mu + wait, rel=1e-5)


# --------------------------------------------------------------------------- Monte Carlo
def sample_latencies(n, delay, cpu, fsync, size, seed, in_order=True):
    """The model's process sampled directly: k-th ack finishing at the leader's CPU,
    acks served in arrival order (``in_order``) or each on its own (no queueing)."""
    rng = np.random.default_rng(seed)
    f, k = n - 1, n // 2
    arrivals = np.sort(
        delay(rng, (size, f)) + cpu(rng, (size, f)) + fsync(rng, (size, f)) + delay(rng, (size, f)),
        axis=1,
    )
    if in_order:
        done = np.zeros(size)
        for j in range(k):
            done = np.maximum(done, arrivals[:, j]) + cpu(rng, (size,))
    else:
        done = np.sort(arrivals + cpu(rng, (size, f)), axis=1)[:, k - 1]
    wait = np.maximum(fsync(rng, (size,)), done)
    return delay(rng, (size,)) + cpu(rng, (size,)) + wait + delay(rng, (size,))


def lan_delay(rng, shape):
    return SHIFT_MS + rng.exponential(JITTER_MS, shape)


def constant(value):
    return lambda rng, shape: np.full(shape, value)


def check_distribution(model: LeaderModel, x: np.ndarray) -> None:
    size = x.size
    assert model.latency_ms() == pytest.approx(x.mean(), abs=K_SE * x.std() / math.sqrt(size))
    xs = np.sort(x)
    for q in (0.05, 0.25, 0.5, 0.75, 0.95, 0.99):
        # distribution-free CI of the q-quantile from order statistics
        half = K_SE * math.sqrt(size * q * (1 - q))
        lo, hi = xs[int(size * q - half)], xs[math.ceil(size * q + half)]
        assert lo - 1e-4 <= model.latency_quantile_ms(q) <= hi + 1e-4
        p = float(model.latency_cdf(xs[int(size * q)]))
        assert p == pytest.approx(q, abs=K_SE * math.sqrt(q * (1 - q) / size) + 1e-4)


@pytest.mark.parametrize("n", [3, 5, 7])
def test_latency_distribution_against_monte_carlo(n):
    """Random fsync too (Uniform), constant CPU: the in-order ack recursion."""
    fsync = ha.dist.Uniform(0.01, 0.05)
    model = leader_model(n, cpu_ms=CPU_MS, fsync_ms=fsync, delay=LAN_DELAY)
    x = sample_latencies(
        n,
        lan_delay,
        constant(CPU_MS),
        lambda rng, shape: rng.uniform(0.01, 0.05, shape),
        400_000,
        seed=n,
    )
    check_distribution(model, x)


def test_random_cpu_ignores_ack_queueing_within_its_bound():
    cpu = ha.dist.Exponential(mean=0.05)
    model = leader_model(5, cpu_ms=cpu, fsync_ms=FSYNC_MS, delay=LAN_DELAY)
    exp_cpu = lambda rng, shape: rng.exponential(0.05, shape)  # noqa: E731
    alone = sample_latencies(5, lan_delay, exp_cpu, constant(FSYNC_MS), 400_000, 11, False)
    check_distribution(model, alone)
    queued = sample_latencies(5, lan_delay, exp_cpu, constant(FSYNC_MS), 400_000, 12, True)
    se = K_SE * queued.std() / math.sqrt(queued.size)
    # served in arrival order the 2nd ack finishes between (A + C)_(2), the model, and
    # A_(2) + C_1 + C_2: at most 2 E[cpu] later on average
    assert model.ack_queueing_bound_ms == pytest.approx(2 * 0.05)
    assert model.latency_ms() - se <= queued.mean() <= model.latency_ms() + 2 * 0.05 + se
    assert leader_model(5, cpu_ms=CPU_MS).ack_queueing_bound_ms == 0.0


# --------------------------------------------------------------------------- load
def test_pollaczek_khinchine_wait_by_hand():
    m = w1_model(5)
    # 10,000/s = 10 per ms; S = 5 x 0.01 ms deterministic; rho = 0.5
    assert m.latency_ms(10_000) - m.latency_ms() == pytest.approx(10 * 0.05**2 / (2 * 0.5))
    r = leader_model(5, cpu_ms=ha.dist.Exponential(mean=0.01), delay=LAN_DELAY)
    # E[S^2] = 5 Var + 25 mean^2 = 5e-4 + 25e-4
    assert r.latency_ms(10_000) - r.latency_ms() == pytest.approx(10 * 3e-3 / (2 * 0.5))
    assert m.latency_ms(20_000) == math.inf
    disk = leader_model(3, cpu_ms=CPU_MS, fsync_ms=0.05, delay=LAN_DELAY)  # ceiling 20,000
    assert math.isfinite(disk.latency_ms(19_999)) and disk.latency_ms(20_000) == math.inf


# --------------------------------------------------------------------------- the simulator
@pytest.mark.parametrize("n", [3, 5, 7])
def test_unloaded_latency_against_simulator(n):
    """One client. The model is exact for an isolated commit; in the simulator a late
    ack of the previous entry may still hold the leader's CPU: at most (m - k) x cpu."""
    model = w1_model(n)
    res = ha.simulate(
        RAFT,
        lan_cluster(n),
        ha.ClosedLoop(clients=1),
        stop=ha.Stop(commits=5_000),
        warmup=200,
        seed=40 + n,
    )
    lat = measured_latencies(res)
    assert res.violations == () and len(lat) == 5_000
    se = batch_means_se(lat)
    late_acks = (model.followers - model.acks_needed) * CPU_MS
    assert (
        model.latency_ms() - K_SE * se
        <= res.latency_ms()
        <= model.latency_ms() + late_acks + K_SE * se
    )


@pytest.mark.parametrize("n", [3, 5, 7])
def test_constant_delays_match_simulator_exactly(n):
    model = leader_model(n, cpu_ms=CPU_MS, fsync_ms=FSYNC_MS, delay=0.2)
    res = ha.simulate(
        RAFT,
        lan_cluster(n, 0.2),
        ha.ClosedLoop(clients=1),
        stop=ha.Stop(commits=50),
        warmup=5,
        seed=1,
    )
    lat = measured_latencies(res)
    assert lat == pytest.approx(np.full(lat.size, model.latency_ms()), abs=1e-9)


@pytest.mark.parametrize("n", [3, 5, 7])
def test_saturated_throughput_against_simulator(n):
    """64 closed-loop clients: 32 saturate 5 and 7 nodes but reach only ~82 % of the
    33,333/s of 3 nodes (Little: 32 / 33.3 per ms is just above the 0.78 ms unloaded
    latency, too close to the knee of the closed loop)."""
    model = w1_model(n)
    res = ha.simulate(
        RAFT,
        lan_cluster(n),
        ha.ClosedLoop(clients=64),
        stop=ha.Stop(commits=10_000),
        warmup=1_000,
        seed=50 + n,
    )
    assert res.violations == ()
    assert res.throughput_per_s == pytest.approx(model.throughput_ceiling_per_s, rel=0.01)
    assert res.throughput_per_s <= model.throughput_ceiling_per_s * 1.005
    assert res.messages_per_commit == pytest.approx(model.messages_per_commit, rel=0.01)


LOADED = {
    # protocol, the quorum its model waits for
    "raft": (ha.Raft(batch=1, window=None), 3),
    "multipaxos": (ha.MultiPaxos(batch=1, window=None), 3),
    "primary-backup sync": (ha.PrimaryBackup(batch=1, window=None), 5),
    "primary-backup async": (ha.PrimaryBackup(sync=False, batch=1, window=None), 1),
}


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.8])
@pytest.mark.parametrize("name", list(LOADED))
def test_loaded_latency_against_simulator(name, rho):
    """Poisson writes at a fraction rho of the ceiling, constant 0.2 ms delays: the
    Pollaczek-Khinchine term puts every leader-based protocol's mean within the documented
    error (0.4-6 % low for quorum protocols; asynchronous primary-backup, whose acks are off
    the commit path, 0.5-5 % high), so the bound is 6 % at rho <= 0.8."""
    proto, quorum = LOADED[name]
    model = leader_model(5, cpu_ms=CPU_MS, fsync_ms=FSYNC_MS, delay=0.2, quorum=quorum)
    rate = rho * model.throughput_ceiling_per_s
    res = ha.simulate(
        proto,
        lan_cluster(5, 0.2),
        ha.OpenLoop(rate_per_s=rate, clients=64, timeout_ms=1e5),
        stop=ha.Stop(commits=20_000),
        warmup=2_000,
        seed=3,
    )
    assert res.violations == ()
    assert res.latency_ms() == pytest.approx(model.latency_ms(rate), rel=0.06)


AWS = ha.data.rtt_matrix("aws-2020")
SITES = list(AWS.regions)  # us-east-1, us-west-1, us-west-2, eu-west-1, ap-northeast-1


def test_wan_latency_by_hand():
    # us-east-1 leads; client at home (diagonal 0.3); peers at 59.9, 70.5, 72.5, 152.4
    assert wan_commit_latency_ms(AWS, SITES, 0, "us-east-1") == pytest.approx(0.3 + 70.5)
    assert wan_commit_latency_ms(AWS, SITES, 0, "us-east-1", quorum=2) == pytest.approx(60.2)
    assert wan_commit_latency_ms(AWS, SITES, 0, "us-east-1", quorum=1) == pytest.approx(0.3)
    # asymmetric entry: eu-west-1 <-> us-west-1 is 141.1 one way, 141.2 the other
    two = ["eu-west-1", "us-west-1"]
    assert wan_commit_latency_ms(AWS, two, 0, "eu-west-1") == pytest.approx(0.1 + 141.15)
    assert best_leader(AWS, ["eu-west-1", "us-west-1", "us-west-2"], "us-east-1") == 1


@pytest.mark.parametrize("leader", range(5))
def test_wan_latency_against_simulator(leader):
    network = ha.Network.from_rtt_matrix(AWS, SITES, clients=SITES[leader], jitter=0.0)
    cluster = ha.Cluster(n=5, network=network, cpu_ms=0.0, fsync_ms=0.0)
    res = ha.simulate(
        RAFT,
        cluster,
        ha.ClosedLoop(clients=1),
        stop=ha.Stop(commits=20),
        warmup=3,
        seed=1,
        leader=leader,
    )
    assert (res.timeline["event"] == "leader").sum() == 1  # no election on the way
    expected = wan_commit_latency_ms(AWS, SITES, leader, SITES[leader])
    assert res.latency_ms(0.5) == pytest.approx(expected, abs=1e-6)
    assert best_leader(AWS, SITES, SITES[leader]) == leader  # for this matrix: stay home


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: leader_model(0, cpu_ms=0.01), ["n", "[1, inf]"]),
        (lambda: leader_model(5, cpu_ms=-1.0), ["cpu_ms", ">= 0"]),
        (lambda: leader_model(5, cpu_ms=0.01, fsync_ms="fast"), ["fsync_ms"]),
        (lambda: leader_model(5, cpu_ms=0.01, delay=math.nan), ["delay"]),
        (lambda: leader_model(5, cpu_ms=0.01, quorum=0), ["quorum", "[1, 5]"]),
        (lambda: leader_model(5, cpu_ms=0.01, thrifty=1), ["thrifty"]),
        (lambda: leader_model(5, cpu_ms=0.01, batch=0), ["batch"]),
        (lambda: LeaderModel(n=3, cpu_ms=0.01, quorum=4), ["quorum", "[1, 3]"]),
        (lambda: w1_model(3).latency_ms(-1.0), ["load_per_s"]),
        (lambda: w1_model(3).latency_quantile_ms(1.5), ["q", "probability"]),
        (lambda: messages_per_commit("zab", 3), ["protocol", "raft"]),
        (lambda: messages_per_commit("raft", 0), ["n"]),
        (lambda: messages_per_commit("raft", 3, quorum=4), ["quorum"]),
        (lambda: messages_per_commit("chain", 3, quorum=2), ["quorum", "chain"]),
        (lambda: messages_per_commit("primary-backup", 3, thrifty=True), ["thrifty"]),
        (lambda: wan_commit_latency_ms(AWS, [], 0, "us-east-1"), ["placement"]),
        (lambda: wan_commit_latency_ms(AWS, "us-east-1", 0, "us-east-1"), ["placement"]),
        (lambda: wan_commit_latency_ms(AWS, ["mars"], 0, "us-east-1"), ["placement[0]", "mars"]),
        (lambda: wan_commit_latency_ms(AWS, SITES, 0, "moon"), ["client_region", "moon"]),
        (lambda: wan_commit_latency_ms(AWS, SITES, 5, "us-east-1"), ["leader", "[0, 4]"]),
        (lambda: wan_commit_latency_ms(AWS, SITES, 0, "us-east-1", quorum=6), ["quorum"]),
        (lambda: wan_commit_latency_ms({}, SITES, 0, "us-east-1"), ["matrix", "RTTMatrix"]),
        (lambda: best_leader(AWS, SITES, "us-east-1", quorum=0), ["quorum"]),
    ],
)
def test_bad_input_names_the_parameter(call, words):
    _raises(call, *words)
