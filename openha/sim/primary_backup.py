"""``ha.PrimaryBackup(...)``: the parameters of primary-backup replication (handlers in
``_primary_backup.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from openha.errors import OpenHAError, check_int, check_positive
from openha.sim import _layout as L
from openha.sim.raft import UNBOUNDED

__all__ = ["PrimaryBackup"]

#: Deliberately broken variants, so the safety checker's tests can show it catches them.
MUTANTS = {
    "": 0,
    "ack-before-backups": 1,  # sync mode acknowledges on the primary's own copy
}


@dataclass(frozen=True, kw_only=True)
class PrimaryBackup:
    """Primary-backup replication with lease-based failover (Alsberg & Day 1976;
    Budhiraja et al., "The primary-backup approach", 1993), synchronous or asynchronous.

    The replica set is the primary (``simulate``'s ``leader``, node 0 by default; node 0
    on a cold start) and the ``backups`` nodes after it in ring order; other nodes are
    spares that only redirect clients. The primary appends each write to its log, writes
    it to disk and sends it in order to every backup (pipelined: ``window`` messages in
    flight per backup, ``batch`` entries each). Synchronously it acknowledges a write
    once its own copy and ``sync_acks`` backups' copies are on disk; asynchronously once
    its own copy is. Reads are answered by the primary while its lease holds.

    **Failover.** A backup that hears nothing from the primary for ``lease_ms`` (the next
    in ring order first; each further backup waits ``heartbeat_ms`` longer) takes over
    with a new epoch: it asks the other replicas for their durable log length and makes
    them promise to ignore older epochs. Synchronously it needs ``backups - sync_acks +
    1`` answers, its own included, which meet every acknowledged write's copies;
    asynchronously its own suffices, so writes the backups had not received are lost.
    The most up-to-date answer becomes primary (the candidate hands over if it is not
    itself), waits until every older primary's lease has expired, appends a no-op of its
    epoch and brings the backups to its log (they drop what conflicts).

    **Leases.** The primary's lease runs ``lease_ms`` from the send time of messages
    enough backups have answered: ``sync_acks`` of them synchronously, every backup
    asynchronously (a lone candidate may take over then, so every backup must have
    vouched: a failed backup stops asynchronous reads, not writes). Asynchronous reads are not checked for staleness: lost writes make older
    reads look newer than what survives.

    **Loss and recovery.** Asynchronous failovers lose acknowledged writes: the result
    counts them (:attr:`SimResult.lost_writes`) and measures the span of history lost
    (:attr:`SimResult.rpo_ms`); :meth:`SimResult.recovery_ms` gives the recovery time.
    With the default ``sync_acks = backups`` every replica must answer, so a failed
    replica (a failed primary included: it stays a replica) stops writes until it
    returns; choose ``sync_acks < backups`` to ride through failures.

    Parameters
    ----------
    sync : bool
        Synchronous (acknowledge after ``sync_acks`` backups) or asynchronous replication.
    backups : int, optional
        Backups in the replica set, in ``[1, n - 1]``; default ``n - 1``.
    sync_acks : int, optional
        Synchronous mode: backup copies a write needs, in ``[1, backups]``; default all.
    lease_ms : float
        Failure-detection time and lease length.
    heartbeat_ms : float, optional
        Heartbeat interval (a backup gets one only when nothing else went to it for half
        that long), below ``lease_ms``; default ``lease_ms / 5``.
    batch : int
        Most entries in one message to a backup.
    window : int or None
        Most messages in flight per backup; None is unbounded.
    mutant : str
        Testing only: "" (correct) or "ack-before-backups".

    Examples
    --------
    >>> import openha as ha
    >>> pb = ha.PrimaryBackup(sync_acks=1, lease_ms=20.0)
    >>> pb.name, pb.heartbeat_ms
    ('Primary-backup (sync, 1 backup ack)', 4.0)
    >>> cluster = ha.Cluster(n=3, network=ha.Network(delay=0.1), cpu_ms=0.01, fsync_ms=0.02)
    >>> res = ha.simulate(pb, cluster, ha.ClosedLoop(clients=4), stop=ha.Stop(commits=2_000),
    ...                   faults=ha.Faults(crashes=[ha.Crash(node=0, at_ms=50.0)]), seed=1)
    >>> res.violations, res.lost_writes  # the primary failed; no acknowledged write lost
    ((), 0)
    >>> ha.PrimaryBackup(sync=False, sync_acks=1)
    Traceback (most recent call last):
    ...
    openha.errors.OpenHAError: sync_acks applies to synchronous replication only (sync=True); got sync_acks=1 with sync=False
    """

    sync: bool = True
    backups: int | None = None
    sync_acks: int | None = None
    lease_ms: float = 150.0
    heartbeat_ms: float | None = None
    batch: int = 64
    window: int | None = 8
    mutant: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.sync, bool):
            raise OpenHAError(f"sync must be True or False; got {self.sync!r}")
        lease = check_positive("lease_ms", self.lease_ms)
        object.__setattr__(self, "lease_ms", lease)
        hb = lease / 5.0 if self.heartbeat_ms is None else self.heartbeat_ms
        hb = check_positive("heartbeat_ms", hb)
        if hb >= lease:
            raise OpenHAError(f"heartbeat_ms must be < lease_ms ({lease}); got {hb}")
        object.__setattr__(self, "heartbeat_ms", hb)
        if self.backups is not None:
            object.__setattr__(self, "backups", check_int("backups", self.backups, low=1))
        if self.sync_acks is not None:
            if not self.sync:
                raise OpenHAError(
                    "sync_acks applies to synchronous replication only (sync=True); "
                    f"got sync_acks={self.sync_acks!r} with sync=False"
                )
            k = check_int("sync_acks", self.sync_acks, low=1, high=self.backups)
            object.__setattr__(self, "sync_acks", k)
        object.__setattr__(self, "batch", check_int("batch", self.batch, low=1, high=1 << 16))
        if self.window is not None:
            object.__setattr__(self, "window", check_int("window", self.window, low=1))
        if self.mutant not in MUTANTS:
            raise OpenHAError(f"mutant must be one of {sorted(MUTANTS)}; got {self.mutant!r}")

    @property
    def name(self) -> str:
        if not self.sync:
            return "Primary-backup (async)"
        if self.sync_acks is None:
            return "Primary-backup (sync)"
        acks = "ack" if self.sync_acks == 1 else "acks"
        return f"Primary-backup (sync, {self.sync_acks} backup {acks})"

    def replicas(self, n: int) -> tuple[int, int]:
        """(backups, sync_acks) on ``n`` nodes, defaults resolved (sync_acks 0: async).

        Examples
        --------
        >>> import openha as ha
        >>> ha.PrimaryBackup().replicas(5), ha.PrimaryBackup(sync=False).replicas(5)
        ((4, 4), (4, 0))
        """
        b = n - 1 if self.backups is None else self.backups
        if not self.sync:
            return b, 0
        return b, b if self.sync_acks is None else self.sync_acks

    _messages: ClassVar[dict[int, str]] = {
        L.T_CREQ: "client request",
        L.T_CREPLY: "client reply",
        3: "Append",
        4: "Append reply",
        5: "Takeover",
        6: "Promise",
        7: "Handover",
    }

    @property
    def _detect_ms(self) -> float:
        """How long failure detection may take, for choosing run horizons: the lease plus
        eight heartbeats (the takeover stagger of the eighth backup in line)."""
        return float(self.lease_ms) + float(self.heartbeat_ms or 0.0) * 8

    @property
    def _gap_ms(self) -> float:
        """Unavailability threshold: the heartbeat interval."""
        return float(self.heartbeat_ms or 0.0)

    def _check(self, n: int) -> None:
        """Reject a replica set that does not fit ``n`` nodes."""
        if n < 2:
            raise OpenHAError(
                f"primary-backup needs n >= 2 nodes (a primary and a backup); got n={n}"
            )
        b, k = self.replicas(n)
        if b > n - 1:
            raise OpenHAError(f"backups must be an integer in [1, n - 1 = {n - 1}]; got {b}")
        if k > b:
            raise OpenHAError(f"sync_acks must be an integer in [1, backups = {b}]; got {k}")

    def _configure(self, ci: np.ndarray, cf: np.ndarray) -> None:
        """Write this protocol's part of the run configuration."""
        b, k = self.replicas(int(ci[L.C_N]))
        ci[L.C_PROTO] = L.P_PRIMARY_BACKUP
        ci[L.C_BATCH] = self.batch
        ci[L.C_WINDOW] = UNBOUNDED if self.window is None else self.window
        ci[L.C_SYNC] = k
        ci[L.C_REPLICAS] = b + 1
        ci[L.C_MUTANT] = MUTANTS[self.mutant]
        cf[L.F_LEASE] = self.lease_ms
        cf[L.F_HB] = float(self.heartbeat_ms or 0.0)
