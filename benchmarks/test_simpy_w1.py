"""The SimPy W1 baseline checked against theory before it is trusted as a baseline.

- 32 clients saturate the leader's CPU (1 request + 4 acks per commit at 0.01 ms
  each): throughput within 1 % of 20 commits per simulated ms.
- Little's law: every client always has exactly one request outstanding, so
  throughput x mean latency must equal the number of clients.
- 1 client: no queueing but the leader's CPU handling acks one at a time, so the
  mean latency has a closed Monte Carlo form, computed here with numpy.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from simpy_w1 import (
    CPU_MS,
    DELAY_MEAN_MS,
    DELAY_SHIFT_MS,
    DISK_MS,
    MAJORITY,
    MAX_COMMITS_PER_MS,
    N_NODES,
    run_w1,
)

COMMITS = 5_000
WARMUP = 1_000
MAX_PER_S = MAX_COMMITS_PER_MS * 1e3  # 20,000 commits/s


@functools.cache
def w1(clients: int, seed: int) -> dict[str, float]:
    return run_w1(clients=clients, commits=COMMITS, warmup=WARMUP, seed=seed)


@pytest.mark.parametrize("clients", [4, 32])
def test_littles_law(clients):
    r = w1(clients, seed=1)
    assert r["commits"] == COMMITS
    assert r["little_n"] == pytest.approx(clients, rel=0.02)
    assert r["throughput"] * 1e-3 * r["mean_latency_ms"] == pytest.approx(r["little_n"])
    # ~70 events per commit (10 messages, 9 CPU services, 5 disk writes)
    assert 50 * (WARMUP + COMMITS) < r["events"] < 100 * (WARMUP + COMMITS)


def test_saturated_leader_cpu():
    r = w1(32, seed=1)
    assert MAX_PER_S == pytest.approx(20_000)
    assert r["throughput"] == pytest.approx(MAX_PER_S, rel=0.01)
    assert r["throughput"] <= MAX_PER_S * 1.005  # a bound, up to window edge effects


def test_light_load_below_capacity():
    r = w1(4, seed=1)
    assert r["throughput"] < 0.3 * MAX_PER_S


def one_client_latency_ms(samples: int, seed: int) -> tuple[float, float]:
    """Mean and standard error of the latency with one client, vectorised over entries.

    Request delay, leader CPU, then the 4 follower round trips (AppendEntries delay,
    CPU, disk, ack delay); the leader's CPU handles acks in arrival order, so the
    entry commits once it has handled the 2nd ack (the leader's own disk write, at
    0.02 ms, is always done by then); then the reply delay. Ignores the rare straggling
    ack of the previous entry that still occupies the leader's CPU.
    """
    rng = np.random.default_rng(seed)

    def delay(*shape: int) -> np.ndarray:
        return DELAY_SHIFT_MS + rng.exponential(DELAY_MEAN_MS, shape)

    followers = N_NODES - 1
    arrive = np.sort(
        delay(samples, followers) + CPU_MS + DISK_MS + delay(samples, followers), axis=1
    )
    done = np.zeros(samples)
    for k in range(MAJORITY - 1):  # acks needed besides the leader's own
        done = np.maximum(arrive[:, k], done) + CPU_MS
    latency = delay(samples) + CPU_MS + done + delay(samples)
    return float(latency.mean()), float(latency.std(ddof=1) / np.sqrt(samples))


def test_one_client_latency_against_theory():
    r = run_w1(clients=1, commits=COMMITS, warmup=100, seed=3)
    expected, se_theory = one_client_latency_ms(10**6, seed=4)
    se_sim = se_theory * np.sqrt(10**6 / COMMITS)
    assert r["mean_latency_ms"] == pytest.approx(expected, abs=4 * np.hypot(se_sim, se_theory))
    assert r["little_n"] == pytest.approx(1.0, rel=0.02)
