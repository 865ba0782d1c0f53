"""Recovery: snapshot + log replay for replicated state machines, and RPO/RTO by strategy.

Times in seconds. A state machine appends ``write_rate_per_s`` entries per second to its
log and snapshots its state every ``interval_entries`` entries. A restarted replica loads
the latest snapshot (``state_mb / load_mb_s``) and replays the entries since (uniform on
[0, interval) at the moment of failure, at ``replay_entries_per_s``). Writing a snapshot
takes ``state_mb / write_mb_s`` of disk time per interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from openha.errors import OpenHAError, check_nonnegative, check_positive

__all__ = ["SnapshotModel", "recovery_objectives"]


@dataclass(frozen=True, kw_only=True)
class SnapshotModel:
    """Snapshot interval vs recovery time vs snapshot overhead (see module docstring).

    Examples
    --------
    >>> from openha.models import SnapshotModel
    >>> m = SnapshotModel(write_rate_per_s=2000, state_mb=4096, write_mb_s=400, load_mb_s=800,
    ...                   replay_entries_per_s=50_000, failure_rate_per_s=1 / (30 * 86400))
    >>> round(m.recovery_s(1_000_000), 2), round(m.overhead(1_000_000), 4)  # mean s, disk share
    (15.12, 0.0205)
    >>> round(m.optimal_interval_entries())  # sqrt((4096 / 400 * 2000) / (rate / (2 * 50000)))
    72858877
    """

    write_rate_per_s: float
    state_mb: float
    write_mb_s: float
    load_mb_s: float
    replay_entries_per_s: float
    failure_rate_per_s: float

    def __post_init__(self) -> None:
        for name in (
            "write_rate_per_s",
            "write_mb_s",
            "load_mb_s",
            "replay_entries_per_s",
            "failure_rate_per_s",
        ):
            object.__setattr__(self, name, check_positive(name, getattr(self, name)))
        object.__setattr__(self, "state_mb", check_nonnegative("state_mb", self.state_mb))

    def _interval(self, interval_entries: float) -> float:
        return check_positive("interval_entries", interval_entries)

    def recovery_s(self, interval_entries: float, *, worst: bool = False) -> float:
        """Mean (or worst-case) time to load the snapshot and replay the log since it."""
        s = self._interval(interval_entries)
        replay = (s if worst else s / 2.0) / self.replay_entries_per_s
        return self.state_mb / self.load_mb_s + replay

    def overhead(self, interval_entries: float) -> float:
        """Share of time the disk spends writing snapshots."""
        s = self._interval(interval_entries)
        return (self.state_mb / self.write_mb_s) / (s / self.write_rate_per_s)

    def cost_rate(self, interval_entries: float) -> float:
        """Seconds lost per second: snapshot writing plus expected replay after failures."""
        s = self._interval(interval_entries)
        return self.overhead(s) + self.failure_rate_per_s * self.recovery_s(s)

    def optimal_interval_entries(self) -> float:
        """The interval minimising :meth:`cost_rate`: a Young-style square root.

        d/dS [a / S + b S] = 0 with a = state/write_bw * rate and
        b = failure_rate / (2 * replay_rate) gives S* = sqrt(a / b).
        """
        a = self.state_mb / self.write_mb_s * self.write_rate_per_s
        b = self.failure_rate_per_s / (2.0 * self.replay_entries_per_s)
        return math.sqrt(a / b)

    def tradeoff(self, intervals_entries: Sequence[float]) -> pd.DataFrame:
        """Tidy frame: interval_entries, recovery_mean_s, recovery_max_s, overhead, cost_rate."""
        rows = [
            {
                "interval_entries": float(s),
                "recovery_mean_s": self.recovery_s(s),
                "recovery_max_s": self.recovery_s(s, worst=True),
                "overhead": self.overhead(s),
                "cost_rate": self.cost_rate(s),
            }
            for s in [self._interval(x) for x in intervals_entries]
        ]
        return pd.DataFrame(rows)


def recovery_objectives(
    *,
    write_rate_per_s: float,
    detection_s: float,
    failover_s: float,
    restart_s: float,
    checkpoint_interval_s: float,
    checkpoint_s: float,
    async_lag_s: float,
    snapshots: SnapshotModel | None = None,
    snapshot_interval_entries: float | None = None,
) -> pd.DataFrame:
    """RPO and RTO (mean and worst case) of four ways to survive a server loss.

    - ``checkpointing``: one server computes for ``checkpoint_interval_s`` (tau), then
      checkpoints for ``checkpoint_s`` (delta), capturing its state as the checkpoint
      starts. A failure at a uniform point of a cycle loses everything since the last
      completed checkpoint's capture: (tau + delta) / 2 + delta on average, tau + 2 delta
      at worst. The service is down for detection plus ``restart_s`` (restart on a spare
      from the checkpoint).
    - ``sync replication``: a write is acknowledged once replicated; nothing acknowledged
      is lost; down for detection plus ``failover_s``.
    - ``async replication``: writes are acknowledged before replication; the last
      ``async_lag_s`` of writes are lost at failover (RPO = lag).
    - ``replication + snapshots``: as sync replication for clients; additionally the
      ``replica_rebuild_s`` column gives the time to bring a replacement replica back
      (load the snapshot, replay the log), during which one more failure costs a quorum.

    Returns a tidy frame: strategy, rpo_mean_s, rpo_max_s, lost_writes_mean, rto_mean_s,
    rto_max_s, replica_rebuild_s.

    Examples
    --------
    >>> from openha.models import recovery_objectives
    >>> df = recovery_objectives(write_rate_per_s=1000, detection_s=1.0, failover_s=0.3,
    ...     restart_s=120, checkpoint_interval_s=600, checkpoint_s=20, async_lag_s=0.05)
    >>> df.set_index("strategy").loc[["checkpointing", "async replication"], "rpo_max_s"].tolist()
    [640.0, 0.05]
    """
    rate = check_positive("write_rate_per_s", write_rate_per_s)
    det = check_nonnegative("detection_s", detection_s)
    fo = check_nonnegative("failover_s", failover_s)
    rs = check_nonnegative("restart_s", restart_s)
    ci = check_positive("checkpoint_interval_s", checkpoint_interval_s)
    cs = check_nonnegative("checkpoint_s", checkpoint_s)
    lag = check_nonnegative("async_lag_s", async_lag_s)
    rebuild = math.nan
    if snapshots is not None:
        if snapshot_interval_entries is None:
            raise OpenHAError("snapshot_interval_entries is needed with snapshots=")
        rebuild = snapshots.recovery_s(snapshot_interval_entries)
    rows = [
        ("checkpointing", (ci + cs) / 2.0 + cs, ci + 2.0 * cs, det + rs, det + rs, math.nan),
        ("sync replication", 0.0, 0.0, det + fo, det + fo, math.nan),
        ("async replication", lag, lag, det + fo, det + fo, math.nan),
        ("replication + snapshots", 0.0, 0.0, det + fo, det + fo, rebuild),
    ]
    return pd.DataFrame(
        [
            {
                "strategy": s,
                "rpo_mean_s": rpo_mean,
                "rpo_max_s": rpo_max,
                "lost_writes_mean": rpo_mean * rate,
                "rto_mean_s": rto_mean,
                "rto_max_s": rto_max,
                "replica_rebuild_s": rb,
            }
            for s, rpo_mean, rpo_max, rto_mean, rto_max, rb in rows
        ]
    )
