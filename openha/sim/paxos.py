"""``ha.Paxos(...)``: single-decree Paxos per command (handlers in ``_paxos.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from openha.errors import OpenHAError, check_int, check_nonnegative, check_positive
from openha.sim import _layout as L

__all__ = ["Paxos"]

#: Deliberately broken variants, so the safety checker's tests can show it catches them.
MUTANTS = {
    "": 0,
    "ignore-accepted": 1,  # phase 2 proposes the proposer's own value whatever phase 1 saw
}

#: Decided slots one Learn message carries (catching up after a crash or a hole).
LEARN_BATCH = 64


@dataclass(frozen=True, kw_only=True)
class Paxos:
    """Classic Paxos, one single-decree instance per log slot (Lamport 1998, 2001), with
    Flexible Paxos quorums (Howard et al. 2016). No leader.

    Any node takes a client request (none redirects) and proposes the command in the
    lowest slot it does not know to be decided: phase 1 (Prepare / Promise with ``q1``
    acceptors, the proposer included) then phase 2 (Accept / Accepted with ``q2``), each
    acceptor writing its promise or acceptance to disk before it answers. If phase 1
    reports a value accepted in the slot, the proposer completes the slot with it and
    proposes its own command again in a later slot. The proposer then sends the decision
    to every node; every node applies decided slots in order, and the node holding the
    client's request answers it when it applies the command.

    Nodes that propose in the same slot duel: a proposer refused because of a higher
    ballot is pre-empted (``SimResult.preemptions`` counts them), waits a uniform back-off
    in ``backoff_ms`` and runs phase 1 again with a higher ballot. Without back-off, duelling
    proposers can pre-empt each other round after round (the livelock of Lamport 2001,
    section 2.4); a random back-off of the order of a round trip lets one finish.

    With ``simulate(..., leader=i)`` every client first sends to node ``i`` (one proposer,
    no duels); with ``leader=None`` each picks a random node. Clients keep the node that
    last answered them and move to the next node after their timeout. A command can end
    up in two slots (a client retried at another node while its first proposal was still
    running): both are applied, the client is answered once.

    Parameters
    ----------
    q1, q2 : int or None
        Phase-1 and phase-2 quorum sizes; default a majority each. Any pair with
        ``q1 + q2 > n`` is safe (Flexible Paxos); others are rejected.
    backoff_ms : (float, float)
        Range of the uniform back-off (ms) after a pre-emption.
    timeout_ms : float
        A proposal stuck in one phase this long (lost messages, crashed acceptors) starts
        phase 1 again; a node with a hole below a decided slot for this long asks a peer,
        and after twice as long proposes a no-op there. Also the unavailability threshold.
        It must exceed a phase's round trip (to the q-th nearest acceptor and back, plus
        an fsync): the 50 ms default suits a LAN; across regions a proposal restarted
        before its answers arrive never finishes, and nothing is decided (set it above
        the largest round trip, e.g. 1,000 ms on the AWS five-region matrix).
    mutant : str
        Testing only: "" (correct) or "ignore-accepted".

    Examples
    --------
    >>> import openha as ha
    >>> ha.Paxos(q1=4, q2=2).name
    'Paxos (q1=4, q2=2)'
    >>> lan = ha.Cluster(n=3, network=ha.Network(delay=ha.dist.Constant(0.1)))
    >>> res = ha.simulate(ha.Paxos(), lan, ha.ClosedLoop(clients=1), stop=ha.Stop(commits=100))
    >>> round(res.latency_ms(), 6)  # client round trip + two phase round trips
    0.6
    >>> ha.Paxos(q1=2, q2=1)._check(3)
    Traceback (most recent call last):
    ...
    openha.errors.OpenHAError: quorums q1=2 and q2=1 do not intersect on n=3 nodes: need q1 + q2 > n
    """

    q1: int | None = None
    q2: int | None = None
    backoff_ms: tuple[float, float] = (0.0, 1.0)
    timeout_ms: float = 50.0
    mutant: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        for name in ("q1", "q2"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_int(name, getattr(self, name), low=1))
        b = self.backoff_ms
        if isinstance(b, str) or not hasattr(b, "__len__") or len(b) != 2:
            raise OpenHAError(f"backoff_ms must be a pair (min_ms, max_ms); got {b!r}")
        lo = check_nonnegative("backoff_ms min", b[0])
        hi = check_nonnegative("backoff_ms max", b[1])
        if hi < lo:
            raise OpenHAError(f"backoff_ms must have min <= max; got {b!r}")
        object.__setattr__(self, "backoff_ms", (lo, hi))
        object.__setattr__(self, "timeout_ms", check_positive("timeout_ms", self.timeout_ms))
        if self.mutant not in MUTANTS:
            raise OpenHAError(f"mutant must be one of {sorted(MUTANTS)}; got {self.mutant!r}")

    @property
    def name(self) -> str:
        if self.q1 is None and self.q2 is None:
            return "Paxos"
        return f"Paxos (q1={self.q1 or 'majority'}, q2={self.q2 or 'majority'})"

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
        8: "Decide",
        9: "Ask",
        10: "Learn",
    }

    @property
    def _detect_ms(self) -> float:
        """Longest a proposal can stay stuck (its acceptors or messages lost) before the
        watchdog, which checks every ``timeout_ms``, starts it over."""
        return 2.0 * float(self.timeout_ms)

    @property
    def _gap_ms(self) -> float:
        return float(self.timeout_ms)

    def _check(self, n: int) -> None:
        """Reject quorums that do not fit ``n`` nodes or do not intersect."""
        q1, q2 = self.quorums(n)
        for name, q in (("q1", q1), ("q2", q2)):
            if q > n:
                raise OpenHAError(f"{name} must be in [1, n={n}]; got {q}")
        if q1 + q2 <= n:
            raise OpenHAError(
                f"quorums q1={q1} and q2={q2} do not intersect on n={n} nodes: need q1 + q2 > n"
            )

    def _configure(self, ci: np.ndarray, cf: np.ndarray) -> None:
        q1, q2 = self.quorums(int(ci[L.C_N]))
        ci[L.C_PROTO] = L.P_PAXOS
        ci[L.C_BATCH] = LEARN_BATCH
        ci[L.C_Q1] = q1
        ci[L.C_Q2] = q2
        ci[L.C_MUTANT] = MUTANTS[self.mutant]
        cf[L.F_BACKOFF_MIN], cf[L.F_BACKOFF] = self.backoff_ms
        cf[L.F_HB] = self.timeout_ms
