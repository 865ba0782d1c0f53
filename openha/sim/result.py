"""``SimResult``: what a simulated run measured, as numbers and tidy frames."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from openha.sim import _layout as L

__all__ = ["SimResult", "Violation"]

STATUS = {
    L.ST_DONE: "stop condition met",
    L.ST_TIME: "time limit reached",
    L.ST_BUDGET: "event budget exhausted",
    L.ST_STUCK: "nothing left to happen",
}
VIOLATIONS = {
    L.V_TWO_LEADERS: "two leaders in one term",
    L.V_LOG_MATCHING: "log matching",
    L.V_LEADER_COMPLETENESS: "leader completeness",
    L.V_STATE_MACHINE: "state machine safety",
    L.V_ACKED_LOST: "acknowledged write lost",
    L.V_STALE_READ: "stale read",
    L.V_AGREEMENT: "agreement",
    L.V_VALIDITY: "validity",
}
TIMELINE = {
    L.TL_LEADER: "leader",
    L.TL_STEP_DOWN: "step down",
    L.TL_CRASH: "crash",
    L.TL_RECOVER: "recover",
    L.TL_PART_ON: "partition start",
    L.TL_PART_OFF: "partition end",
}
EVENTS = {
    L.E_ARRIVE: "arrive",
    L.E_CPU: "cpu",
    L.E_DISK: "disk",
    L.E_ETIMER: "election timer",
    L.E_HBTIMER: "heartbeat timer",
    L.E_PTIMER: "protocol timer",
    L.E_CRASH: "crash",
    L.E_RECOVER: "recover",
    L.E_PART_ON: "partition start",
    L.E_PART_OFF: "partition end",
}


@dataclass(frozen=True)
class Violation:
    """A broken safety property: what, when, where, and the events before it."""

    kind: str
    time_ms: float
    node: int
    term: int
    index: int
    trail: pd.DataFrame = field(repr=False, compare=False)

    def __str__(self) -> str:
        return (
            f"{self.kind} at t={self.time_ms:.3f} ms (node {self.node}, term {self.term}, "
            f"index {self.index})"
        )


@dataclass(frozen=True, eq=False)
class SimResult:
    """One run of :func:`openha.simulate`.

    Attributes
    ----------
    protocol : str
    status : str
        Why the run ended ("stop condition met", "time limit reached", "event budget
        exhausted", "nothing left to happen").
    sim_time_ms, measured_from_ms : float
        End of the run; start of the measurement window (after the warm-up writes).
    events : int
        Events processed.
    requests : pandas.DataFrame
        One row per request: ``request, client, kind, submit_ms, done_ms, latency_ms,
        attempts, index`` (``done_ms`` NaN if unanswered). Runs with more than
        ``max_rows`` requests keep a uniform sample of rows (``sampled`` is True):
        throughput counts every request, latencies come from the sample.
    commits : pandas.DataFrame
        The committed log: ``index, term, time_ms`` (first commit anywhere).
    timeline : pandas.DataFrame
        ``time_ms, node, term, event``: leaders, step-downs, crashes, partitions.
    messages : dict
        Messages sent, by type.
    violations : tuple of Violation
    lost_writes : int
        Primary-backup: writes whose client got an acknowledgement but that are missing
        from the surviving history at the end of the run (the log of the primary of the
        newest epoch). Asynchronous failovers lose some; synchronously any is also a
        violation. 0 for other protocols.
    rpo_ms : float
        Primary-backup: the span of acknowledged history lost, from the last surviving
        acknowledgement before the earliest lost one (or the run's start) to the latest
        lost acknowledgement, by the times clients received them (0 when nothing was
        lost). With several loss episodes it spans them all. NaN for other protocols.
    preemptions : int
        Proposals pre-empted by a higher ballot (Paxos; 0 for other protocols).
    """

    protocol: str
    status: str
    sim_time_ms: float
    measured_from_ms: float
    events: int
    requests: pd.DataFrame = field(repr=False)
    commits: pd.DataFrame = field(repr=False)
    timeline: pd.DataFrame = field(repr=False)
    messages: dict[str, int] = field(repr=False)
    violations: tuple[Violation, ...] = ()
    gap_ms: float = field(default=0.0, repr=False)
    completed: dict[str, int] = field(default_factory=dict, repr=False)
    sampled: bool = False
    lost_writes: int = 0
    rpo_ms: float = float("nan")
    preemptions: int = 0

    def _measured(self, kind: str) -> pd.DataFrame:
        r = self.requests
        done = r["done_ms"].notna() & (r["kind"] == kind)
        return r[done & (r["done_ms"] > self.measured_from_ms)]

    def _count(self, kind: str) -> int:
        """Requests of ``kind`` completed in the measurement window (all, even if sampled)."""
        if kind in self.completed:
            return self.completed[kind]
        return len(self._measured(kind))

    @property
    def throughput_per_s(self) -> float:
        """Writes completed per second of simulated time in the measurement window."""
        span = self.sim_time_ms - self.measured_from_ms
        return 1000.0 * self._count("write") / span if span > 0 else float("nan")

    @property
    def reads_per_s(self) -> float:
        """Reads completed per second of simulated time in the measurement window."""
        span = self.sim_time_ms - self.measured_from_ms
        return 1000.0 * self._count("read") / span if span > 0 else float("nan")

    def latency_ms(self, q: float | None = None, kind: str = "write") -> float:
        """Mean latency (``q=None``) or its ``q``-quantile, over measured requests."""
        lat = self._measured(kind)["latency_ms"].to_numpy()
        if lat.size == 0:
            return float("nan")
        return float(lat.mean() if q is None else np.quantile(lat, q))

    @property
    def messages_per_commit(self) -> float:
        """Messages of every type sent per committed entry."""
        n = len(self.commits)
        return sum(self.messages.values()) / n if n else float("nan")

    def recovery_ms(self, failure_ms: float) -> float:
        """Recovery time (RTO) after a failure at ``failure_ms`` (e.g. the leader's or
        primary's crash): the time until the first write completed at a client after a
        leader took office at or after ``failure_ms``; NaN if none did. On sampled
        request frames an upper bound.

        Examples
        --------
        >>> import openha as ha
        >>> cluster = ha.Cluster(n=3, network=ha.Network(delay=0.1), cpu_ms=0.01, fsync_ms=0.02)
        >>> res = ha.simulate(ha.PrimaryBackup(sync_acks=1, lease_ms=20.0), cluster,
        ...                   ha.ClosedLoop(clients=2, timeout_ms=5.0, retry_ms=1.0),
        ...                   faults=ha.Faults(crashes=[ha.Crash(node=0, at_ms=30.0)]),
        ...                   stop=ha.Stop(time_ms=80.0), seed=1)
        >>> 20.0 <= res.recovery_ms(30.0) <= 20.0 + 5.0 + 1.0 + 2.0  # lease, client timeout
        True
        """
        tl = self.timeline
        took = tl.loc[(tl["event"] == "leader") & (tl["time_ms"] >= failure_ms), "time_ms"]
        if took.empty:
            return float("nan")
        r = self.requests
        done = r.loc[(r["kind"] == "write") & (r["done_ms"] >= took.min()), "done_ms"]
        return float(done.min() - failure_ms) if len(done) else float("nan")

    def unavailability(self, threshold_ms: float | None = None) -> pd.DataFrame:
        """Windows with no commit progress longer than ``threshold_ms``.

        Default threshold: the protocol's heartbeat interval. Columns ``start_ms,
        end_ms, duration_ms``; the run's end closes an open window.
        """
        gap = self.gap_ms if threshold_ms is None else float(threshold_ms)
        t = np.sort(self.commits["time_ms"].to_numpy())
        edges = np.concatenate([[0.0], t, [self.sim_time_ms]])
        d = np.diff(edges)
        long = d > gap
        out = pd.DataFrame({"start_ms": edges[:-1][long], "end_ms": edges[1:][long]})
        out["duration_ms"] = out["end_ms"] - out["start_ms"]
        return out

    def summary(self) -> pd.Series:
        """The headline numbers, one labelled value each."""
        return pd.Series(
            {
                "throughput_per_s": self.throughput_per_s,
                "reads_per_s": self.reads_per_s,
                "latency_mean_ms": self.latency_ms(),
                "latency_p50_ms": self.latency_ms(0.5),
                "latency_p99_ms": self.latency_ms(0.99),
                "commits": len(self.commits),
                "messages_per_commit": self.messages_per_commit,
                "unavailable_ms": float(self.unavailability()["duration_ms"].sum()),
                "violations": len(self.violations),
                "lost_writes": self.lost_writes,
                "preemptions": self.preemptions,
                "events": self.events,
                "sim_time_ms": self.sim_time_ms,
            },
            name=self.protocol,
        )

    def to_frame(self) -> pd.DataFrame:
        """The per-request frame (same as ``requests``)."""
        return self.requests


def build(
    a: Any, protocol: str, message_names: dict[int, str], gap_ms: float, max_rows: int = 2_000_000
) -> SimResult:
    """Package a finished run's arrays (at most ``max_rows`` request rows, sampled)."""
    nreq = int(a.ci[L.K_NREQ])
    ri = a.req_i[:nreq]
    rf = a.req_f[:nreq]
    warm = float(a.cf[L.G_WARM_AT]) if a.cfg_i[L.C_WARMUP] > 0 else 0.0
    done = ~np.isnan(rf[:, L.RF_DONE]) & (rf[:, L.RF_DONE] > warm)
    completed = {
        "write": int(np.sum(done & (ri[:, L.R_KIND] == L.WRITE))),
        "read": int(np.sum(done & (ri[:, L.R_KIND] == L.READ))),
    }
    rows = np.arange(nreq)
    sampled = nreq > max_rows
    if sampled:  # a fixed-seed uniform sample: the same run gives the same rows
        rows = np.sort(np.random.default_rng(0).choice(nreq, size=max_rows, replace=False))
        ri = ri[rows]
        rf = rf[rows]
    requests = pd.DataFrame(
        {
            "request": rows,
            "client": ri[:, L.R_CLIENT],
            "kind": np.where(ri[:, L.R_KIND] == L.READ, "read", "write"),
            "submit_ms": rf[:, L.RF_SUBMIT],
            "done_ms": rf[:, L.RF_DONE],
            "latency_ms": rf[:, L.RF_DONE] - rf[:, L.RF_SUBMIT],
            "attempts": ri[:, L.R_ATTEMPT] + 1,
            "index": ri[:, L.R_INDEX],
        }
    )
    g = int(a.ci[L.K_GCOMMIT])
    commits = pd.DataFrame(
        {
            "index": np.arange(1, g + 1),
            "term": a.com_t[1 : g + 1],
            "time_ms": a.com_time[1 : g + 1],
        }
    )
    k = int(a.ci[L.K_NTL])
    tl = a.tl[:k]
    timeline = pd.DataFrame(
        {
            "time_ms": tl[:, 0],
            "node": tl[:, 1].astype(np.int64),
            "term": tl[:, 2].astype(np.int64),
            "event": [TIMELINE[int(x)] for x in tl[:, 3]],
        }
    )
    messages = {name: int(a.msg_count[t]) for t, name in message_names.items()}
    lost, rpo = _loss(a)
    violations = []
    for v in range(min(int(a.ci[L.K_NVIOL]), L.MAX_VIOLATIONS)):
        rows = a.v_tr[v]
        rows = rows[~np.isnan(rows[:, 0])]
        trail = pd.DataFrame(
            {
                "time_ms": rows[:, 0],
                "event": [EVENTS.get(int(x), str(int(x))) for x in rows[:, 1]],
                "node": rows[:, 2].astype(np.int64),
                "message": [message_names.get(int(x), "") for x in rows[:, 3]],
                "from": rows[:, 4].astype(np.int64),
            }
        )
        kind, node, term, index = (int(x) for x in a.v_i[v])
        violations.append(Violation(VIOLATIONS[kind], float(a.v_t[v]), node, term, index, trail))
    return SimResult(
        protocol=protocol,
        status=STATUS.get(int(a.ci[L.K_STATUS]), "unknown"),
        sim_time_ms=float(a.cf[L.G_NOW]),
        measured_from_ms=warm,
        events=int(a.ci[L.K_EVENTS]),
        requests=requests,
        commits=commits,
        timeline=timeline,
        messages=messages,
        violations=tuple(violations),
        gap_ms=gap_ms,
        completed=completed,
        sampled=sampled,
        lost_writes=lost,
        rpo_ms=rpo,
        preemptions=int(a.ci[L.K_PREEMPT]),
    )


def _loss(a: Any) -> tuple[int, float]:
    """Lost writes and the RPO (see :class:`SimResult`), from every request's row."""
    if int(a.cfg_i[L.C_PROTO]) != L.P_PRIMARY_BACKUP:
        return 0, float("nan")
    lost = int(a.ci[L.K_LOST])
    if lost == 0:
        return 0, 0.0
    nreq = int(a.ci[L.K_NREQ])
    writes = a.req_i[:nreq, L.R_KIND] == L.WRITE
    done = a.req_f[:nreq, L.RF_DONE]
    earliest = float(a.cf[L.G_LOST_FROM])
    # every write acknowledged before the earliest lost one survived
    before = done[writes & (done < earliest)]  # NaN (unanswered) compares False
    start = float(before.max()) if before.size else 0.0
    return lost, float(a.cf[L.G_LOST_TO]) - start
