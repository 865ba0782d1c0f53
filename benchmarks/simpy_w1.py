"""Reference workload W1 in SimPy: steady-state Raft log replication, the baseline
that openha's simulator is benchmarked against.

W1: 5 nodes, node 0 the stable leader, no faults; closed-loop clients with zero think
time. Every message (client <-> leader too) takes 0.1 ms + Exponential(mean 0.1 ms)
on a FIFO link (never delivered before an earlier message on the same (src, dst)).
Each node's CPU is a FIFO single server costing 0.01 ms per received message (a
client's receipt of its reply is free); each disk a FIFO single server costing
0.02 ms per one-entry append. The leader, once its CPU has handled a request, appends
the entry and writes it to its own disk while sending one AppendEntries per follower;
a follower's CPU handles the AppendEntries, its disk writes the entry, then it acks.
An entry commits when 3 of 5 nodes (the leader included) hold it durably; commits
advance over a prefix of the log and each one sends the reply at once.

The leader's CPU receives 1 request + 4 acks per commit, so throughput is at most
1 / (5 x 0.01 ms) = 20 commits per simulated ms (20,000/s).

This is what a competent SimPy user would write (a ``simpy.Resource`` per CPU and
per disk, a process per message and per client), not a tuned simulator.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

N_NODES = 5
LEADER = 0
MAJORITY = N_NODES // 2 + 1
DELAY_SHIFT_MS = 0.1
DELAY_MEAN_MS = 0.1  # mean of the exponential part
CPU_MS = 0.01  # per received message
DISK_MS = 0.02  # per one-entry append
MAX_COMMITS_PER_MS = 1.0 / ((1 + (N_NODES - 1)) * CPU_MS)  # leader CPU: request + acks


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    def __init__(self) -> None:
        super().__init__()
        self.events_processed = 0

    def step(self) -> None:
        self.events_processed += 1
        super().step()


class RaftW1:
    """The cluster, its network and its clients; entries are numbered from 1."""

    def __init__(self, env: CountingEnvironment, clients: int, first: int, last: int, seed: int):
        self.env = env
        self.rng = np.random.default_rng(seed)
        self.cpus = [simpy.Resource(env, capacity=1) for _ in range(N_NODES)]
        self.disks = [simpy.Resource(env, capacity=1) for _ in range(N_NODES)]
        self.link_free_ms: dict[tuple[Any, Any], float] = {}  # last delivery time per link
        self.log_client: list[int] = [-1]  # client of each entry (index 0 unused)
        self.log_sent_ms: list[float] = [0.0]  # when the client sent the request
        self.durable = [0] * N_NODES  # highest index on disk, per node (the leader's own too)
        self.commit_index = 0
        self.commit_ms: list[float] = [0.0]  # commit time per index; [0] is the start
        self.reply_events: list[simpy.Event | None] = [None] * clients
        # measurement window: entries first..last (inclusive)
        self.first, self.last = first, last
        self.latency_sum_ms = 0.0
        self.replies_in_window = 0
        self.window_done = env.event()
        for c in range(clients):
            env.process(self.client(c))

    # ---------------------------------------------------------------- network
    def delivery_delay_ms(self, src: Any, dst: Any) -> float:
        """Delay of a message sent now on (src, dst), never overtaking an earlier one."""
        now = self.env.now
        at = now + DELAY_SHIFT_MS + self.rng.exponential(DELAY_MEAN_MS)
        at = max(at, self.link_free_ms.get((src, dst), 0.0))
        self.link_free_ms[src, dst] = at
        return at - now

    # ---------------------------------------------------------------- clients
    def client(self, c: int) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while True:
            reply = env.event()
            self.reply_events[c] = reply
            env.process(self.leader_request(c, env.now, self.delivery_delay_ms(("c", c), LEADER)))
            index = yield reply
            if self.first <= index <= self.last:
                self.latency_sum_ms += env.now - self.log_sent_ms[index]
                self.replies_in_window += 1
                if self.replies_in_window == self.last - self.first + 1:
                    self.window_done.succeed()

    def reply(self, index: int, delay_ms: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay_ms)
        event = self.reply_events[self.log_client[index]]
        assert event is not None
        event.succeed(index)

    # ---------------------------------------------------------------- leader
    def leader_request(
        self, c: int, sent_ms: float, delay_ms: float
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        yield env.timeout(delay_ms)
        with self.cpus[LEADER].request() as turn:
            yield turn
            yield env.timeout(CPU_MS)
        self.log_client.append(c)
        self.log_sent_ms.append(sent_ms)
        index = len(self.log_client) - 1
        for f in range(N_NODES):
            if f != LEADER:
                env.process(self.follower_append(f, index, self.delivery_delay_ms(LEADER, f)))
        with self.disks[LEADER].request() as turn:
            yield turn
            yield env.timeout(DISK_MS)
        self.durable[LEADER] = index
        self.advance_commit()

    def leader_ack(self, f: int, index: int, delay_ms: float) -> Generator[simpy.Event, Any, None]:
        env = self.env
        yield env.timeout(delay_ms)
        with self.cpus[LEADER].request() as turn:
            yield turn
            yield env.timeout(CPU_MS)
        self.durable[f] = max(self.durable[f], index)
        self.advance_commit()

    def advance_commit(self) -> None:
        """Commit up to the highest index held durably by a majority; reply for each."""
        quorum_index = sorted(self.durable, reverse=True)[MAJORITY - 1]
        while self.commit_index < quorum_index:
            self.commit_index += 1
            self.commit_ms.append(self.env.now)
            client = ("c", self.log_client[self.commit_index])
            self.env.process(self.reply(self.commit_index, self.delivery_delay_ms(LEADER, client)))

    # ---------------------------------------------------------------- followers
    def follower_append(
        self, f: int, index: int, delay_ms: float
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        yield env.timeout(delay_ms)
        with self.cpus[f].request() as turn:
            yield turn
            yield env.timeout(CPU_MS)
        with self.disks[f].request() as turn:
            yield turn
            yield env.timeout(DISK_MS)
        env.process(self.leader_ack(f, index, self.delivery_delay_ms(f, LEADER)))


def run_w1(
    clients: int = 32, commits: int = 50_000, warmup: int = 1_000, seed: int = 1
) -> dict[str, float]:
    """Simulate W1 until the replies for ``commits`` entries after ``warmup`` have arrived.

    Parameters
    ----------
    clients : int
        Closed-loop clients, zero think time.
    commits : int
        Entries measured: indices ``warmup + 1`` to ``warmup + commits``.
    warmup : int
        Entries committed before measuring.
    seed : int
        Seed of ``numpy.random.default_rng`` for the message delays.

    Returns
    -------
    dict
        ``throughput`` (commits per simulated second, between the ``warmup``-th and the
        last measured commit; at most 20,000), ``mean_latency_ms`` (client send to reply
        receipt, over the measured entries), ``commits``, ``sim_time_ms`` (simulated time
        at the end), ``events`` (SimPy events processed) and ``little_n`` (throughput x
        mean latency, in consistent units; close to ``clients``).

    Examples
    --------
    >>> r = run_w1(clients=32, commits=500, warmup=100)
    >>> r["commits"], round(r["little_n"])
    (500.0, 32)
    """
    if clients < 1 or commits < 1 or warmup < 0:
        raise ValueError(
            f"need clients >= 1, commits >= 1, warmup >= 0; got {clients, commits, warmup}"
        )
    env = CountingEnvironment()
    w1 = RaftW1(env, clients, first=warmup + 1, last=warmup + commits, seed=seed)
    env.run(until=w1.window_done)
    commits_per_ms = commits / (w1.commit_ms[warmup + commits] - w1.commit_ms[warmup])
    mean_latency_ms = w1.latency_sum_ms / commits
    return {
        "throughput": commits_per_ms * 1e3,
        "mean_latency_ms": mean_latency_ms,
        "commits": float(commits),
        "sim_time_ms": env.now,
        "events": float(env.events_processed),
        "little_n": commits_per_ms * mean_latency_ms,
    }
