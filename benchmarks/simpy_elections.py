"""The Raft paper's Figure 16 election experiment in SimPy: the baseline that openha's
``ha.sim.figure16`` is benchmarked against.

Each trial (Ongaro & Ousterhout 2014, §9.3; the same set-up as ``ha.elections`` with
``stale=2`` on ``ha.sim.LOGCABIN``):

- 5 nodes; node 0 leads term 1 and every node has voted for it. Nodes 0, 1 and 2 hold
  log entries 1 and 2 (both of term 1); nodes 3 and 4 ("stale") only entry 1, so they
  can never win: the up-to-date nodes refuse them their votes.
- At t = 0 the leader sends a heartbeat (an AppendEntries without entries); every
  follower's election timer restarts when it handles it. The leader crashes at
  Uniform(0, heartbeat), heartbeat = min timeout / 2, so it never sends another.
- A follower whose timer expires becomes a candidate: new term, votes for itself,
  writes term and vote to disk (fsync), then sends RequestVote to everyone. A voter
  adopts a higher term, grants at most one vote per term and only to a candidate whose
  log is at least as up to date as its own, writes the vote to disk before replying
  and restarts its timer when it grants. Election timers draw Uniform(min, max) afresh
  at every restart (granting a vote, hearing a leader, timing out), so split votes are
  retried with fresh timeouts.
- A candidate with 3 votes becomes leader, appends a no-op entry (written to its disk)
  and at once sends AppendEntries to every node; it also sends heartbeats every
  ``heartbeat`` ms. A node that sees a higher term in any message steps down.
- The trial ends when every live node has handled an AppendEntries from the latest
  leader; the time to elect runs from the crash to then.

Costs (``ha.sim.LOGCABIN``): one-way delay 0.05 ms + Exponential(mean 0.05 ms), FIFO per
link; each node's CPU is a FIFO single server costing Exponential(mean 0.1 ms) per
received message and per timer expiry; each disk a FIFO single server costing 1 ms +
Exponential(mean 3.75 ms) per write (no group commit).

This is what a competent SimPy user would write (a ``simpy.Resource`` per CPU and per
disk, a process per message, per write and per timer, timers cancelled lazily by a
generation counter), not a tuned simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from simpy_w1 import CountingEnvironment

N_NODES = 5
MAJORITY = N_NODES // 2 + 1
OLD_LEADER = 0
STALE = 2  # followers whose logs lack the last entry (the paper's 2 of 4 survivors)
DELAY_SHIFT_MS = 0.05
DELAY_MEAN_MS = 0.05  # mean of the exponential part
CPU_MEAN_MS = 0.1  # exponential, per received message and per timer expiry
FSYNC_SHIFT_MS = 1.0
FSYNC_MEAN_MS = 3.75  # mean of the exponential part
MAX_MS = 600_000.0  # a trial without a leader by then is reported as NaN

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"


@dataclass
class Message:
    kind: str  # "append", "append_reply", "vote", "vote_reply"
    src: int
    term: int
    # append: prev_index, prev_term, entries (terms); vote: last_index, last_term
    index: int = 0
    log_term: int = 0
    entries: list[int] = field(default_factory=list)
    ok: bool = False  # replies: success / vote granted; append_reply: index = match or hint


@dataclass
class Node:
    id: int
    cpu: simpy.Resource
    disk: simpy.Resource
    log: list[int]  # term of each entry; log[0] is a sentinel
    term: int = 1
    voted_for: int | None = OLD_LEADER
    role: str = FOLLOWER
    leader: int | None = OLD_LEADER
    up: bool = True
    votes: set[int] = field(default_factory=set)
    timer_gen: int = 0  # bumped at every restart; an older timer process does nothing
    next_index: dict[int, int] = field(default_factory=dict)  # as leader, per follower

    @property
    def last_index(self) -> int:
        return len(self.log) - 1


class ElectionTrial:
    """One trial: the cluster just after the leader's heartbeat, and its crash."""

    def __init__(self, env: CountingEnvironment, rng: np.random.Generator, lo: float, hi: float):
        self.env = env
        self.rng = rng
        self.lo, self.hi = lo, hi
        self.heartbeat_ms = lo / 2
        self.link_free_ms: dict[tuple[int, int], float] = {}
        self.nodes = []
        for i in range(N_NODES):
            stale = i >= N_NODES - STALE
            log = [0, 1] if stale else [0, 1, 1]
            self.nodes.append(
                Node(i, simpy.Resource(env, capacity=1), simpy.Resource(env, capacity=1), log)
            )
        self.latest: tuple[int, int] | None = None  # (leader, term) elected after the crash
        self.heard: set[int] = set()
        self.elected_ms = np.nan
        self.done = env.event()
        self.crash_ms = self.heartbeat_ms * rng.random()
        leader = self.nodes[OLD_LEADER]
        leader.role = LEADER
        for node in self.nodes:
            if node is not leader:
                self.reset_election_timer(node)
                # The heartbeat carries no entries: entry 2 for the stale followers is
                # still queued behind earlier AppendEntries (which never go out).
                prev = node.last_index
                leader.next_index[node.id] = prev + 1
                heartbeat = Message("append", OLD_LEADER, 1, index=prev, log_term=1)
                self.send(OLD_LEADER, node.id, heartbeat)
        env.process(self.crash(leader))

    # ---------------------------------------------------------------- plumbing
    def crash(self, node: Node) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.crash_ms)
        node.up = False
        node.role = FOLLOWER

    def send(self, src: int, dst: int, msg: Message) -> None:
        """Put ``msg`` on the (src, dst) link, never overtaking an earlier message."""
        now = self.env.now
        at = now + DELAY_SHIFT_MS + self.rng.exponential(DELAY_MEAN_MS)
        at = max(at, self.link_free_ms.get((src, dst), 0.0))
        self.link_free_ms[src, dst] = at
        self.env.process(self.deliver(self.nodes[dst], msg, at - now))

    def deliver(
        self, node: Node, msg: Message, delay_ms: float
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay_ms)
        if not node.up:
            return
        with node.cpu.request() as turn:
            yield turn
            yield self.env.timeout(self.rng.exponential(CPU_MEAN_MS))
        if node.up:
            self.handle(node, msg)

    def write(self, node: Node, then: Callable[[], None]) -> None:
        """Write to ``node``'s disk (one fsync), then run ``then``."""
        self.env.process(self._write(node, then))

    def _write(self, node: Node, then: Callable[[], None]) -> Generator[simpy.Event, Any, None]:
        with node.disk.request() as turn:
            yield turn
            yield self.env.timeout(FSYNC_SHIFT_MS + self.rng.exponential(FSYNC_MEAN_MS))
        if node.up:
            then()

    # ---------------------------------------------------------------- timers
    def reset_election_timer(self, node: Node) -> None:
        node.timer_gen += 1
        timeout = self.rng.uniform(self.lo, self.hi)
        self.env.process(self.election_timer(node, node.timer_gen, timeout))

    def election_timer(
        self, node: Node, gen: int, timeout_ms: float
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(timeout_ms)
        if gen != node.timer_gen or not node.up:
            return  # restarted since, or crashed
        with node.cpu.request() as turn:  # the expiry waits its turn on the CPU
            yield turn
            yield self.env.timeout(self.rng.exponential(CPU_MEAN_MS))
        if gen == node.timer_gen and node.up and node.role != LEADER:
            self.start_election(node)

    def heartbeats(self, node: Node, term: int) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(self.heartbeat_ms)
            if node.role != LEADER or node.term != term or not node.up:
                return
            with node.cpu.request() as turn:
                yield turn
                yield self.env.timeout(self.rng.exponential(CPU_MEAN_MS))
            if node.role != LEADER or node.term != term or not node.up:
                return
            for f in range(N_NODES):
                if f != node.id:
                    self.send_append(node, f)

    # ---------------------------------------------------------------- elections
    def start_election(self, node: Node) -> None:
        self.reset_election_timer(node)
        node.term += 1
        node.voted_for = node.id
        node.role = CANDIDATE
        node.votes = {node.id}
        term = node.term
        self.write(node, lambda: self.request_votes(node, term))

    def request_votes(self, node: Node, term: int) -> None:
        """Term and vote are on disk: ask the others, if still a candidate of ``term``."""
        if node.role != CANDIDATE or node.term != term:
            return
        last = node.last_index
        for j in range(N_NODES):
            if j != node.id:
                msg = Message("vote", node.id, term, index=last, log_term=node.log[last])
                self.send(node.id, j, msg)

    def step_down(self, node: Node, term: int) -> None:
        if term > node.term:
            node.term = term
            node.voted_for = None
        node.role = FOLLOWER
        node.votes = set()

    def on_request_vote(self, node: Node, msg: Message) -> None:
        if msg.term > node.term:
            self.step_down(node, msg.term)
            node.leader = None
        my_last_term = node.log[node.last_index]
        log_ok = msg.log_term > my_last_term or (
            msg.log_term == my_last_term and msg.index >= node.last_index
        )
        grant = msg.term == node.term and node.voted_for in (None, msg.src) and log_ok
        if not grant:
            self.send(node.id, msg.src, Message("vote_reply", node.id, node.term, ok=False))
            return
        node.voted_for = msg.src
        self.reset_election_timer(node)
        term, candidate = msg.term, msg.src

        def reply() -> None:  # the vote is on disk
            if node.term == term and node.voted_for == candidate:
                self.send(node.id, candidate, Message("vote_reply", node.id, term, ok=True))

        self.write(node, reply)

    def on_vote_reply(self, node: Node, msg: Message) -> None:
        if msg.term > node.term:
            self.step_down(node, msg.term)
            return
        if node.role != CANDIDATE or msg.term != node.term or not msg.ok:
            return
        node.votes.add(msg.src)
        if len(node.votes) >= MAJORITY:
            self.become_leader(node)

    def become_leader(self, node: Node) -> None:
        node.role = LEADER
        node.leader = node.id
        self.latest = (node.id, node.term)
        self.elected_ms = self.env.now
        self.heard = {node.id}
        node.next_index = {f: node.last_index + 1 for f in range(N_NODES) if f != node.id}
        node.log.append(node.term)  # a no-op of its term
        self.write(node, lambda: None)
        for f in node.next_index:
            self.send_append(node, f)
        self.env.process(self.heartbeats(node, node.term))

    # ---------------------------------------------------------------- replication
    def send_append(self, node: Node, f: int) -> None:
        prev = node.next_index[f] - 1
        msg = Message(
            "append",
            node.id,
            node.term,
            index=prev,
            log_term=node.log[prev],
            entries=node.log[prev + 1 :],
        )
        self.send(node.id, f, msg)

    def on_append(self, node: Node, msg: Message) -> None:
        if msg.term < node.term:
            reply = Message("append_reply", node.id, node.term, index=node.last_index)
            self.send(node.id, msg.src, reply)
            return
        if msg.term > node.term or node.role != FOLLOWER:
            self.step_down(node, msg.term)
        self.reset_election_timer(node)
        self.heard_leader(node, msg.src, msg.term)
        prev = msg.index
        if prev > node.last_index or node.log[prev] != msg.log_term:
            hint = min(node.last_index, prev - 1)
            self.send(node.id, msg.src, Message("append_reply", node.id, msg.term, index=hint))
            return
        for k, entry_term in enumerate(msg.entries, start=prev + 1):
            if k <= node.last_index and node.log[k] != entry_term:
                del node.log[k:]  # a conflicting suffix
            if k > node.last_index:
                node.log.append(entry_term)
        match = prev + len(msg.entries)
        ack = Message("append_reply", node.id, msg.term, index=match, ok=True)
        if msg.entries:
            self.write(node, lambda: self.send(node.id, msg.src, ack))
        else:
            self.send(node.id, msg.src, ack)

    def on_append_reply(self, node: Node, msg: Message) -> None:
        if msg.term > node.term:
            self.step_down(node, msg.term)
            return
        if node.role != LEADER or msg.term != node.term or msg.ok:
            return
        node.next_index[msg.src] = msg.index + 1  # refused: back up and resend
        self.send_append(node, msg.src)

    def heard_leader(self, node: Node, leader: int, term: int) -> None:
        node.leader = leader
        if self.latest != (leader, term):
            return
        self.heard.add(node.id)
        if all(n.id in self.heard for n in self.nodes if n.up) and not self.done.triggered:
            self.done.succeed()

    def handle(self, node: Node, msg: Message) -> None:
        if msg.kind == "append":
            self.on_append(node, msg)
        elif msg.kind == "append_reply":
            self.on_append_reply(node, msg)
        elif msg.kind == "vote":
            self.on_request_vote(node, msg)
        else:
            self.on_vote_reply(node, msg)


def run_elections(
    lo: float,
    hi: float,
    trials: int = 1000,
    seed: int = 0,
    max_ms: float = MAX_MS,
    stats: dict[str, float] | None = None,
) -> np.ndarray:
    """Time to elect (ms) after the leader's crash, once per trial.

    Parameters
    ----------
    lo, hi : float
        Election timeout range (ms); the leader's heartbeat interval is ``lo / 2``.
    trials : int
    seed : int
        Seed of ``numpy.random.default_rng``, one stream for all trials.
    max_ms : float
        A trial still without a leader heard by every live node by then is NaN.
    stats : dict, optional
        If given, ``stats["events"]`` is set to the SimPy events processed (all trials).

    Returns
    -------
    numpy.ndarray
        ``trials`` times (ms) from the crash until every live node has handled the new
        leader's AppendEntries.

    Examples
    --------
    >>> t = run_elections(150, 300, trials=50, seed=1)
    >>> bool(t.min() > 75)  # the timeout is at least 150 ms, the crash at most 75 ms in
    True
    >>> bool(150 < np.median(t) < 200)  # measured on LogCabin: 171 ms
    True
    """
    if not 0 < lo <= hi or trials < 1:
        raise ValueError(f"need 0 < lo <= hi and trials >= 1; got {lo, hi, trials}")
    rng = np.random.default_rng(seed)
    out = np.full(trials, np.nan)
    events = 0
    for t in range(trials):
        env = CountingEnvironment()
        trial = ElectionTrial(env, rng, lo, hi)
        env.run(until=env.any_of([trial.done, env.timeout(max_ms)]))
        if trial.done.triggered:
            out[t] = env.now - trial.crash_ms
        events += env.events_processed
    if stats is not None:
        stats["events"] = float(events)
    return out
