"""``ha.Raft(...)``: the parameters of a Raft cluster (the handlers are in ``_raft.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from openha.errors import OpenHAError, check_int, check_positive
from openha.sim import _layout as L

__all__ = ["Raft"]

#: Deliberately broken variants, so the safety checker's tests can show it catches them.
MUTANTS = {
    "": 0,
    "commit-previous-term": 1,  # commits earlier terms' entries by counting (Figure 8)
    "forget-vote": 2,  # grants votes without writing them to disk first
    "no-log-check": 3,  # grants votes without the log up-to-date check
}

#: ``window=None``: no limit on AppendEntries in flight per follower.
UNBOUNDED = 1 << 40


@dataclass(frozen=True, kw_only=True)
class Raft:
    """Raft (Ongaro & Ousterhout, USENIX ATC 2014).

    Parameters
    ----------
    election_timeout : (float, float)
        Range (ms) of the randomized election timeout, drawn afresh at every reset.
    heartbeat_ms : float, optional
        Heartbeat interval; default half the minimum election timeout (as in the
        paper's experiments). A follower gets one only when no AppendEntries went to
        it for half this long.
    prevote : bool
        Pre-vote (thesis §9.6): a node asks whether it could win before bumping its term.
    batch : int
        Most entries in one AppendEntries.
    window : int or None
        Most AppendEntries in flight per follower (pipelining); None is unbounded.
    noop : bool
        A new leader appends a no-op entry, so entries of earlier terms commit promptly
        (thesis §6.4) and reads can be served.
    mutant : str
        Testing only: "" (correct Raft), "commit-previous-term", "forget-vote" or
        "no-log-check".

    Examples
    --------
    >>> import openha as ha
    >>> ha.Raft(election_timeout=(150, 300)).heartbeat_ms
    75.0
    """

    election_timeout: tuple[float, float] = (150.0, 300.0)
    heartbeat_ms: float | None = None
    prevote: bool = False
    batch: int = 64
    window: int | None = 8
    noop: bool = True
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
        for name in ("prevote", "noop"):
            if not isinstance(getattr(self, name), bool):
                raise OpenHAError(f"{name} must be True or False; got {getattr(self, name)!r}")
        object.__setattr__(self, "batch", check_int("batch", self.batch, low=1, high=1 << 16))
        if self.window is not None:
            object.__setattr__(self, "window", check_int("window", self.window, low=1))
        if self.mutant not in MUTANTS:
            raise OpenHAError(f"mutant must be one of {sorted(MUTANTS)}; got {self.mutant!r}")

    @property
    def name(self) -> str:
        return "Raft" + (" (pre-vote)" if self.prevote else "")

    #: Message type codes and names (``_raft_state.T_*``), for ``SimResult.messages``.
    _messages: ClassVar[dict[int, str]] = {
        L.T_CREQ: "client request",
        L.T_CREPLY: "client reply",
        3: "RequestVote",
        4: "RequestVote reply",
        5: "AppendEntries",
        6: "AppendEntries reply",
        7: "PreVote",
        8: "PreVote reply",
    }

    @property
    def _detect_ms(self) -> float:
        """Longest a follower can take to notice a silent leader."""
        return float(self.election_timeout[1])

    @property
    def _gap_ms(self) -> float:
        """Unavailability threshold: the heartbeat interval."""
        return float(self.heartbeat_ms or 0.0)

    def _check(self, n: int) -> None:
        """Nothing depends on the cluster size."""

    def _configure(self, ci: np.ndarray, cf: np.ndarray) -> None:
        """Write this protocol's part of the run configuration."""
        ci[L.C_PROTO] = L.P_RAFT
        ci[L.C_BATCH] = self.batch
        ci[L.C_WINDOW] = UNBOUNDED if self.window is None else self.window
        ci[L.C_PREVOTE] = int(self.prevote)
        ci[L.C_MUTANT] = MUTANTS[self.mutant]
        ci[L.C_NOOP] = int(self.noop)
        cf[L.F_EMIN], cf[L.F_EMAX] = self.election_timeout
        cf[L.F_HB] = float(self.heartbeat_ms or 0.0)
