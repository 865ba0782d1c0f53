"""``ha.Chain(...)``: the parameters of chain replication (handlers in ``_chain.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from openha.errors import OpenHAError, check_int, check_positive
from openha.sim import _layout as L
from openha.sim.raft import UNBOUNDED

__all__ = ["Chain"]

#: Deliberately broken variants, so the safety checker's tests can show it catches them.
MUTANTS = {
    "": 0,
    "tail-acks-early": 1,  # the tail applies and answers a write before it is on its disk
    "skip-copy": 2,  # the tail appends a joining spare before copying its log to it
}


@dataclass(frozen=True, kw_only=True)
class Chain:
    """Chain replication (R. van Renesse and F. B. Schneider, OSDI 2004), repaired by the
    nodes themselves: heartbeats between neighbours, no configuration master.

    The chain is ``length`` nodes in ring order from ``simulate``'s ``leader`` (node 0
    for ``leader=None``: there is no election); the other nodes are spares. A write goes
    to the head, which logs it and writes it to disk; each node forwards an entry to its
    successor once its own copy is durable, so an entry the tail holds is durable on
    every node before it; the tail, once its copy is durable, applies it and replies to
    the client. Nothing is acknowledged per write: commit points travel up the chain
    on the replies to heartbeats, so a write costs ``2 + (length - 1)`` messages. Reads
    go to the tail and see its applied state.

    Each member heartbeats its successor every ``heartbeat_ms``; a node that hears
    nothing from its predecessor or successor for ``failure_timeout_ms`` declares it
    failed and tells every node: a failed head's successor becomes head, a failed
    tail's predecessor becomes tail (and answers for the writes it holds), and a failed
    middle node's predecessor links to the next node and resends what it lacks. A node
    that recovers from a crash rejoins at the tail after copying the tail's log (in
    ``batch``-entry messages, ``window`` of them unacknowledged); the tail pauses its
    acknowledgements for the hand-over. Spares join when the chain is short. The
    heartbeats carry read leases (half the failure timeout, never longer than the
    sender's own), so a node that declares its successor failed knows no node after it
    still answers reads.

    Chain replication assumes fail-stop nodes and a perfect failure detector. A
    neighbour declared failed while alive (a late or lost message) finds out from the
    others and rejoins; the leases keep reads linearizable meanwhile. But if the two
    sides stay silent to each other for the failure timeout (a network partition), each
    carries on as a chain of its own, with its own head and tail: acknowledged writes
    diverge. Use it with crash faults; under partitions the safety checker reports the
    split brain. If every member is down at once the chain stays down (a configuration
    master would restart it from the disks).

    Parameters
    ----------
    length : int or None
        Nodes in the chain, ``1 <= length <= n``; default all ``n``.
    heartbeat_ms : float
        Interval of the heartbeats from each node to its successor.
    failure_timeout_ms : float
        Silence after which a neighbour is declared failed; more than ``heartbeat_ms``
        (several heartbeats and more than any message takes, so that a late one is not
        taken for a failure). The read leases last half of it: below about three
        heartbeats the tail's lease can lapse between two and reads wait.
    batch : int
        Most entries in one forward.
    window : int or None
        Most unacknowledged forwards when a node catches up a lagging successor or a
        joining spare (in steady state forwards are not acknowledged and not limited);
        None is unbounded.
    mutant : str
        Testing only: "" (correct), "tail-acks-early" or "skip-copy".

    Examples
    --------
    >>> import openha as ha
    >>> chain = ha.Chain(length=3, heartbeat_ms=5.0, failure_timeout_ms=25.0, batch=1)
    >>> chain.name
    'Chain replication (length 3)'
    >>> cluster = ha.Cluster(n=3, network=ha.Network(delay=0.1), cpu_ms=0.01, fsync_ms=0.02)
    >>> res = ha.simulate(chain, cluster, ha.ClosedLoop(clients=1), stop=ha.Stop(commits=200),
    ...                   seed=1)
    >>> round(res.latency_ms(0.5), 6)  # 4 hops of 0.1 ms, 3 x (CPU 0.01 + fsync 0.02)
    0.49
    >>> ha.Chain(length=0)
    Traceback (most recent call last):
    ...
    openha.errors.OpenHAError: length must be an integer >= 1 (a chain of length 0 holds no data); got 0
    """

    length: int | None = None
    heartbeat_ms: float = 10.0
    failure_timeout_ms: float = 50.0
    batch: int = 64
    window: int | None = 8
    mutant: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.length is not None:
            length = check_int("length", self.length)
            if length < 1:
                raise OpenHAError(
                    f"length must be an integer >= 1 (a chain of length {length} holds no "
                    f"data); got {self.length!r}"
                )
            object.__setattr__(self, "length", length)
        hb = check_positive("heartbeat_ms", self.heartbeat_ms)
        timeout = check_positive("failure_timeout_ms", self.failure_timeout_ms)
        if timeout <= hb:
            raise OpenHAError(
                f"failure_timeout_ms must be greater than heartbeat_ms={hb:g} (a neighbour "
                f"is declared failed after missing heartbeats); got {self.failure_timeout_ms!r}"
            )
        object.__setattr__(self, "heartbeat_ms", hb)
        object.__setattr__(self, "failure_timeout_ms", timeout)
        object.__setattr__(self, "batch", check_int("batch", self.batch, low=1, high=1 << 16))
        if self.window is not None:
            object.__setattr__(self, "window", check_int("window", self.window, low=1))
        if self.mutant not in MUTANTS:
            raise OpenHAError(f"mutant must be one of {sorted(MUTANTS)}; got {self.mutant!r}")

    @property
    def name(self) -> str:
        return "Chain replication" + (f" (length {self.length})" if self.length else "")

    _messages: ClassVar[dict[int, str]] = {
        L.T_CREQ: "client request",
        L.T_CREPLY: "client reply",
        3: "Forward",
        4: "Heartbeat",
        5: "Ack",
        6: "Configuration",
        7: "Join",
        8: "Join reply",
    }

    @property
    def _detect_ms(self) -> float:
        """How long failure detection may take: the failure timeout."""
        return float(self.failure_timeout_ms)

    @property
    def _gap_ms(self) -> float:
        """Unavailability threshold: the heartbeat interval."""
        return self.heartbeat_ms

    def _check(self, n: int) -> None:
        """The chain must fit the cluster."""
        if self.length is not None and self.length > n:
            raise OpenHAError(
                f"length must be in [1, n={n}]: a chain of {self.length} nodes needs that "
                f"many; got length={self.length}"
            )

    def _configure(self, ci: np.ndarray, cf: np.ndarray) -> None:
        """Write this protocol's part of the run configuration."""
        ci[L.C_PROTO] = L.P_CHAIN
        ci[L.C_BATCH] = self.batch
        ci[L.C_WINDOW] = UNBOUNDED if self.window is None else self.window
        ci[L.C_REPLICAS] = self.length or int(ci[L.C_N])
        ci[L.C_MUTANT] = MUTANTS[self.mutant]
        cf[L.F_HB] = self.heartbeat_ms
        cf[L.F_LEASE] = self.failure_timeout_ms
