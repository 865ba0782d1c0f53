"""``ha.MultiPaxos(...)``: the parameters of a Multi-Paxos cluster (handlers in
``_multipaxos.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from openha.errors import OpenHAError, check_int, check_positive
from openha.sim import _layout as L
from openha.sim.raft import UNBOUNDED

__all__ = ["MultiPaxos"]

#: Deliberately broken variants, so the safety checker's tests can show it catches them.
MUTANTS = {
    "": 0,
    "ignore-promises": 1,  # a new leader keeps its own log, ignoring the promised values
    "unchecked-quorums": 2,  # q1 + q2 <= n allowed: quorums that need not intersect
}


@dataclass(frozen=True, kw_only=True)
class MultiPaxos:
    """Multi-Paxos with a stable leader (Lamport 2001; Flexible Paxos, Howard et al. 2016).

    A node that hears no leader for an election timeout runs phase 1 with a ballot of
    its own (ballots ``k n + node + 1`` are unique), collects promises from ``q1``
    acceptors (each promise carries the acceptor's log from the candidate's commit
    point, in ``batch``-entry chunks), adopts per slot the value of the highest ballot
    it saw and re-proposes every slot after its commit point under its ballot (empty
    slots as no-ops), followed by a no-op whose commit confirms them all. In steady state each command costs one phase 2: the leader
    writes it, sends it to the acceptors (pipelined, ``window`` messages in flight per
    acceptor, ``batch`` commands each) and it is chosen once ``q2`` acceptors, the
    leader included, hold it on disk. Commit points ride on later accepts and
    heartbeats. Reads go through the log (a read is chosen like a write, then answered),
    so they are linearizable without leases.

    Parameters
    ----------
    q1, q2 : int or None
        Phase-1 and phase-2 quorum sizes; default a majority each. Any pair with
        ``q1 + q2 > n`` is safe (Flexible Paxos); others are rejected.
    thrifty : bool
        Send phase-2 accepts to ``q2 - 1`` acceptors only (the most recently
        responsive, in ring order from the leader); the rest get heartbeats and
        catch up when they are needed.
    election_timeout : (float, float)
        Range (ms) of the randomized leader-failure timeout, drawn afresh at each reset.
    heartbeat_ms : float, optional
        Leader heartbeat interval; default half the minimum election timeout.
    batch : int
        Most commands in one accept (and entries in one promise chunk).
    window : int or None
        Most accepts in flight per acceptor; None is unbounded.
    mutant : str
        Testing only: "" (correct), "ignore-promises" or "unchecked-quorums".

    Examples
    --------
    >>> import openha as ha
    >>> ha.MultiPaxos(q1=4, q2=2).name
    'Flexible Paxos (q1=4, q2=2)'
    >>> ha.MultiPaxos(q1=2, q2=2)._check(5)
    Traceback (most recent call last):
    ...
    openha.errors.OpenHAError: quorums q1=2 and q2=2 do not intersect on n=5 nodes: need q1 + q2 > n
    """

    q1: int | None = None
    q2: int | None = None
    thrifty: bool = False
    election_timeout: tuple[float, float] = (150.0, 300.0)
    heartbeat_ms: float | None = None
    batch: int = 64
    window: int | None = 8
    mutant: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        t = self.election_timeout
        if isinstance(t, str) or not hasattr(t, "__len__") or len(t) != 2:
            raise OpenHAError(f"election_timeout must be a pair (min_ms, max_ms); got {t!r}")
        lo = check_positive("election_timeout min", t[0])
        hi = check_positive("election_timeout max", t[1])
        if hi < lo:
            raise OpenHAError(f"election_timeout must have min <= max; got {t!r}")
        object.__setattr__(self, "election_timeout", (lo, hi))
        hb = lo / 2.0 if self.heartbeat_ms is None else self.heartbeat_ms
        object.__setattr__(self, "heartbeat_ms", check_positive("heartbeat_ms", hb))
        if not isinstance(self.thrifty, bool):
            raise OpenHAError(f"thrifty must be True or False; got {self.thrifty!r}")
        for name in ("q1", "q2"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_int(name, getattr(self, name), low=1))
        object.__setattr__(self, "batch", check_int("batch", self.batch, low=1, high=1 << 16))
        if self.window is not None:
            object.__setattr__(self, "window", check_int("window", self.window, low=1))
        if self.mutant not in MUTANTS:
            raise OpenHAError(f"mutant must be one of {sorted(MUTANTS)}; got {self.mutant!r}")

    @property
    def name(self) -> str:
        if self.q1 is None and self.q2 is None:
            base = "Multi-Paxos"
        else:
            base = f"Flexible Paxos (q1={self.q1 or 'majority'}, q2={self.q2 or 'majority'})"
        return base + (" (thrifty)" if self.thrifty else "")

    def quorums(self, n: int) -> tuple[int, int]:
        """(q1, q2) on ``n`` nodes, defaults resolved."""
        m = n // 2 + 1
        return (self.q1 or m, self.q2 or m)

    _messages: ClassVar[dict[int, str]] = {
        L.T_CREQ: "client request",
        L.T_CREPLY: "client reply",
        3: "Prepare (1a)",
        4: "Promise (1b)",
        5: "Accept (2a)",
        6: "Accepted (2b)",
        7: "Nack",
    }

    @property
    def _detect_ms(self) -> float:
        """Longest a follower can take to notice a silent leader."""
        return float(self.election_timeout[1])

    @property
    def _gap_ms(self) -> float:
        return float(self.heartbeat_ms or 0.0)

    def _check(self, n: int) -> None:
        """Reject quorums that do not fit ``n`` nodes or do not intersect."""
        q1, q2 = self.quorums(n)
        for name, q in (("q1", q1), ("q2", q2)):
            if q > n:
                raise OpenHAError(f"{name} must be in [1, n={n}]; got {q}")
        if q1 + q2 <= n and self.mutant != "unchecked-quorums":
            raise OpenHAError(
                f"quorums q1={q1} and q2={q2} do not intersect on n={n} nodes: need q1 + q2 > n"
            )

    def _configure(self, ci: np.ndarray, cf: np.ndarray) -> None:
        q1, q2 = self.quorums(int(ci[L.C_N]))
        ci[L.C_PROTO] = L.P_MULTIPAXOS
        ci[L.C_BATCH] = self.batch
        ci[L.C_WINDOW] = UNBOUNDED if self.window is None else self.window
        ci[L.C_Q1] = q1
        ci[L.C_Q2] = q2
        ci[L.C_THRIFTY] = int(self.thrifty)
        ci[L.C_MUTANT] = MUTANTS[self.mutant]
        cf[L.F_EMIN], cf[L.F_EMAX] = self.election_timeout
        cf[L.F_HB] = float(self.heartbeat_ms or 0.0)
