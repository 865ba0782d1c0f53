"""Leader-based replication, analytically: messages, throughput ceilings, commit latency.

After the analytic model of A. Ailijiang, A. Charapko and M. Demirbas, "Dissecting the
Performance of Strongly-Consistent Replication Protocols", SIGMOD 2019 (Paxi), written
for the process the project's simulator runs (``ha.simulate`` with
``ha.Raft(batch=1, window=None)``, a stable leader, no group commit):

- ``n`` nodes, each with one FIFO CPU spending ``cpu_ms`` on every message it receives
  and one FIFO disk spending ``fsync_ms`` on every write; each message takes a fresh
  draw of the one-way ``delay`` (clients spend nothing on replies).
- The leader's CPU serves the client request; at its end the leader queues its own
  write and sends one AppendEntries to each of ``m`` followers (``m = n - 1``, or
  ``quorum - 1`` when ``thrifty``). A follower serves it on its CPU, writes, acks; the
  leader's CPU serves each ack. The entry commits when ``quorum`` nodes hold it durably
  (the leader's copy counts: ``k = quorum - 1`` acks are needed) and the leader replies.

**Unloaded commit latency** (one request in the system)::

    L = D + C + W + D,   W = max(F_lead, T_k),   A_i = D + C + F + D  (i = 1..m)

with ``D, C, F`` independent draws of delay, CPU and fsync time, ``A_i`` the time from
the end of the request's processing to ack ``i`` reaching the leader, and ``T_k`` the
time the leader's CPU *finishes* the ``k``-th ack. The leader serves acks in arrival
order, so with a constant CPU time ``c``, ``T_k = max_j (A_(j) + (k - j + 1) c)``
(``A_(j)`` the order statistics) and ``T_k <= t`` iff at least ``j`` acks arrived by
``t - (k - j + 1) c`` for every ``j <= k``: a binomial recursion over the ``k`` nested
windows gives ``P(T_k <= t)`` exactly. With a random CPU time the model takes
``T_k = (A + C)_(k)``, the ``k``-th order statistic of i.i.d. round trips,
``P = I_H(t)(k, m - k + 1)`` (regularised incomplete beta). This ignores ack queueing
and is low, in the mean, by at most ``k E[cpu]``: the first ``k`` acks to arrive finish
no earlier than ``(A + C)_(k)`` and no later than ``A_(k)`` plus their ``k`` CPU times.

In the simulator with one closed-loop client, the ``m - k`` late acks of the previous
entry may still hold the leader's CPU when a request arrives, so it can be slower by up
to ``(m - k) cpu``; measured (200,000 commits, ``0.1 + Exponential(0.1)`` ms delays,
0.01 ms CPU, 0.02 ms fsync): +0.08 %, +0.04 %, +0.04 % (SE 0.04 %) at n = 3, 5, 7.

``A``, ``W`` and ``L`` are computed on a lattice of ``2**16`` steps over the span of ``L``
(unbounded distributions cut at their ``1 - 1e-10`` quantile, so a heavy tail coarsens
it): constants and the lower ends of supports are carried exactly, random parts rounded
to the nearest point and convolved by FFT. ``W``'s CDF is evaluated at cell midpoints, so its mean is the midpoint
rule on its survival function, ``E[W] = w0 + int (1 - P(W <= t)) dt``: error ``O(h^2)``
(``< 1e-6`` relative for smooth distributions); quantiles are within half a step.

**Under load** ``lambda`` (writes/s) the leader's CPU does ``S = M c`` work per commit,
``M = 1 + m / batch`` messages; ``latency_ms(load)`` adds the Pollaczek-Khinchine wait
``lambda E[S^2] / (2 (1 - rho))``, ``rho = lambda E[S]``. An approximation: the work
does not arrive as one Poisson job (the request first, the acks one by one a round trip
later), the commit path crosses the CPU twice (request, ``k``-th ack) and the disks queue
too. Against the simulator (5 nodes, Poisson arrivals, 0.01 ms CPU, 0.02 ms fsync,
constant 0.2 ms delays) the term is 70-80 % of the simulated increase: 0.011, 0.038,
0.10, 0.23 ms against 0.015, 0.052, 0.14, 0.29 ms at ``rho`` = 0.3, 0.6, 0.8, 0.9, so
the mean is low by 0.4, 1.6, 3.7 and 6 % (Raft, Multi-Paxos and synchronous
primary-backup alike; asynchronous primary-backup, whose acks are off the commit path,
is 0.5, 1.8 and 4.8 % *above* the model at 0.3, 0.6, 0.8). The error grows like ``1 / (1 - rho)``: near
saturation the result is an order of magnitude only. Jittered delays on FIFO links (the
simulator's default) add head-of-line blocking, not modelled: a message waits for the
one sent before it on its link (for Poisson sends at rate ``lambda`` its delay has CDF
``F_D(y) exp(-lambda int_y^inf (1 - F_D))``) and arrives in a burst with it; with
``0.1 + Exponential(0.1)`` ms delays the simulated mean is 8, 17, 23 and 25 % higher.

**Throughput ceiling**: the smallest of the leader's CPU ``1 / (M E[cpu])``, its disk
``1 / E[fsync]`` (one write per entry), a follower's CPU ``batch / E[cpu]`` and its disk
``batch / E[fsync]`` (one AppendEntries and one write per ``batch`` entries).

**WAN** (:func:`wan_commit_latency_ms`): with no CPU or disk time and fixed delays
(``RTT / 2`` each way) the latency is exactly the client's round trip to the leader plus
the leader's round trip to its ``(quorum - 1)``-th nearest peer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import signal, special, stats

from openha.data import RTTMatrix
from openha.dist import Constant, Distribution, as_distribution
from openha.errors import OpenHAError, check_int, check_nonnegative, check_probability

__all__ = [
    "LeaderModel",
    "best_leader",
    "leader_model",
    "messages_per_commit",
    "wan_commit_latency_ms",
]

FloatArray = npt.NDArray[np.float64]

_POINTS = 1 << 16  # lattice cells over the span of the commit latency
_TAIL = 1e-10  # unbounded distributions are cut at this upper-tail probability


def _span(d: Distribution) -> float:
    lo, hi = d.support()
    if math.isinf(hi):
        hi = float(d.quantile(1.0 - _TAIL))
    return hi - lo


@dataclass(frozen=True)
class _Lattice:
    """``origin + j * step`` with probability ``mass[j]``; as a continuous distribution,
    each mass is spread over its cell ``[x_j - step/2, x_j + step/2]``."""

    origin: float
    step: float
    mass: FloatArray

    @classmethod
    def of(cls, d: Distribution, step: float) -> _Lattice:
        lo = d.support()[0]
        width = _span(d)
        if isinstance(d, Constant) or width == 0.0:
            return cls(lo, step, np.ones(1))
        cells = math.ceil(width / step) + 1
        edges = d.cdf(lo + (np.arange(cells - 1) + 0.5) * step)  # rounding to nearest
        mass = np.diff(edges, prepend=0.0, append=1.0)
        return cls(lo, step, np.maximum(mass, 0.0))

    def __add__(self, other: _Lattice) -> _Lattice:
        if self.mass.size == 1 or other.mass.size == 1:
            mass = self.mass * other.mass[0] if other.mass.size == 1 else other.mass * self.mass[0]
        else:
            mass = np.maximum(signal.fftconvolve(self.mass, other.mass), 0.0)
        return _Lattice(self.origin + other.origin, self.step, mass / mass.sum())

    @property
    def high(self) -> float:
        return self.origin + (self.mass.size - 1) * self.step

    @property
    def mean(self) -> float:
        return self.origin + self.step * float(np.dot(np.arange(self.mass.size), self.mass))

    def cdf(self, t: FloatArray) -> FloatArray:
        if self.mass.size == 1:  # a constant: a step, whatever the step size
            return (t >= self.origin).astype(np.float64)
        cum = np.cumsum(self.mass)
        xp = self.origin + (np.arange(-1, self.mass.size) + 0.5) * self.step
        return np.interp(t, xp, np.concatenate([[0.0], np.minimum(cum, 1.0)]))

    def quantile(self, q: float) -> float:
        cum = np.cumsum(self.mass)
        j = min(int(np.searchsorted(cum, q, side="left")), self.mass.size - 1)
        below = cum[j - 1] if j > 0 else 0.0
        frac = (q - below) / self.mass[j] if self.mass[j] > 0 else 0.5
        x = self.origin + (j - 0.5 + min(max(frac, 0.0), 1.0)) * self.step
        return min(max(x, self.origin), self.high)

    @classmethod
    def from_cdf(cls, origin: float, high: float, step: float, cdf: Any) -> _Lattice:
        """Round the distribution with CDF ``cdf`` on ``[origin, high]`` to the lattice."""
        cells = max(math.ceil((high - origin) / step - 1e-9) + 1, 1)
        edges = cdf(origin + (np.arange(cells - 1) + 0.5) * step)
        mass = np.maximum(np.diff(edges, prepend=0.0, append=1.0), 0.0)
        return cls(origin, step, mass / mass.sum())


def _in_order_cdf(arrival: _Lattice, m: int, k: int, cpu: float, t: FloatArray) -> FloatArray:
    """P(the leader's CPU has finished the k-th of m i.i.d. acks by ``t``), serving them
    in arrival order, ``cpu`` ms each: at least j arrivals by t - (k - j + 1) cpu, all j."""
    u = [arrival.cdf(t - (k - i) * cpu) for i in range(k)]
    # state x < k: exactly x arrivals so far; column k: k or more (all later windows pass)
    p = np.zeros((k + 1, t.size))
    p[:k] = stats.binom.pmf(np.arange(k)[:, None], m, u[0][None, :])
    p[k] = stats.binom.sf(k - 1, m, u[0])
    p[0] = 0.0
    for i in range(1, k):
        left = 1.0 - u[i - 1]
        r = np.clip(np.divide(u[i] - u[i - 1], left, out=np.zeros_like(left), where=left > 0), 0, 1)
        new = np.zeros_like(p)
        new[k] = p[k]
        for x in range(i, k):
            pmf = np.asarray(stats.binom.pmf(np.arange(k - x)[:, None], m - x, r[None, :]))
            new[x:k] += p[x] * pmf
            new[k] += p[x] * np.clip(1.0 - pmf.sum(axis=0), 0.0, 1.0)
        new[: i + 1] = 0.0
        p = new
    return np.asarray(p.sum(axis=0))


@dataclass(frozen=True, kw_only=True)
class LeaderModel:
    """Messages, throughput ceiling and commit latency of leader-based replication.

    See the module docstring for the process and the formulas. Times in ms.

    Parameters
    ----------
    n : int
        Nodes, the leader included (>= 1).
    cpu_ms, fsync_ms, delay : Distribution or float
        CPU time per received message, time of one write + fsync, one-way message delay.
    quorum : int
        Durable copies (the leader's included) an entry needs to commit, in ``[1, n]``.
    thrifty : bool
        Send AppendEntries to ``quorum - 1`` followers only (else to all ``n - 1``).
    batch : int
        Entries per AppendEntries at saturation (ceilings and load only; the unloaded
        latency is that of a single entry).

    Examples
    --------
    >>> from openha.models import LeaderModel
    >>> m = LeaderModel(n=5, cpu_ms=0.01, fsync_ms=0.02, delay=0.1, quorum=3)
    >>> m.throughput_ceiling_per_s, m.bottleneck  # 1 / (5 x 0.01 ms)
    (20000.0, 'leader CPU')
    >>> round(m.latency_ms(), 6)  # 0.1 + 0.01 + (0.1 + 0.01 + 0.02 + 0.1 + 2 x 0.01) + 0.1
    0.46
    """

    n: int
    cpu_ms: Distribution | float
    fsync_ms: Distribution | float = 0.0
    delay: Distribution | float = 0.0
    quorum: int
    thrifty: bool = False
    batch: int = 1

    def __post_init__(self) -> None:
        n = check_int("n", self.n, low=1)
        object.__setattr__(self, "n", n)
        for name in ("cpu_ms", "fsync_ms", "delay"):
            object.__setattr__(self, name, as_distribution(getattr(self, name), name))
        object.__setattr__(self, "quorum", check_int("quorum", self.quorum, low=1, high=n))
        if not isinstance(self.thrifty, bool):
            raise OpenHAError(f"thrifty must be True or False; got {self.thrifty!r}")
        object.__setattr__(self, "batch", check_int("batch", self.batch, low=1))

    # the fields as distributions (``__post_init__`` converted them)
    @property
    def _cpu(self) -> Distribution:
        return as_distribution(self.cpu_ms, "cpu_ms")

    @property
    def _fsync(self) -> Distribution:
        return as_distribution(self.fsync_ms, "fsync_ms")

    @property
    def _delay(self) -> Distribution:
        return as_distribution(self.delay, "delay")

    @property
    def followers(self) -> int:
        """Followers sent each entry: ``n - 1``, or ``quorum - 1`` when thrifty."""
        return self.quorum - 1 if self.thrifty else self.n - 1

    @property
    def acks_needed(self) -> int:
        """Acks the leader waits for: ``quorum - 1``."""
        return self.quorum - 1

    @property
    def leader_messages_per_commit(self) -> float:
        """Messages the leader's CPU serves per commit: ``1 + followers / batch``.

        Examples
        --------
        >>> from openha.models import leader_model
        >>> leader_model(5, cpu_ms=0.01).leader_messages_per_commit
        5.0
        >>> leader_model(5, cpu_ms=0.01, thrifty=True, batch=4).leader_messages_per_commit
        1.5
        """
        return 1.0 + self.followers / self.batch

    @property
    def messages_per_commit(self) -> float:
        """Messages on the wire per commit: ``2 + 2 followers / batch`` (client's included).

        Examples
        --------
        >>> from openha.models import leader_model
        >>> leader_model(5, cpu_ms=0.01).messages_per_commit  # request, 4 x (append, ack), reply
        10.0
        """
        return 2.0 + 2.0 * self.followers / self.batch

    @property
    def ceilings_per_s(self) -> dict[str, float]:
        """Commits/s each resource could sustain alone (``inf`` if it costs nothing).

        Examples
        --------
        >>> from openha.models import leader_model
        >>> leader_model(3, cpu_ms=0.01, fsync_ms=0.05).ceilings_per_s
        {'leader CPU': 33333.333333333336, 'leader disk': 20000.0, 'follower CPU': 100000.0, 'follower disk': 20000.0}
        """

        def rate(work_ms: float) -> float:
            return 1000.0 / work_ms if work_ms > 0 else math.inf

        cpu, fsync = self._cpu.mean, self._fsync.mean
        out = {
            "leader CPU": rate(self.leader_messages_per_commit * cpu),
            "leader disk": rate(fsync),
        }
        if self.followers:
            out["follower CPU"] = rate(cpu / self.batch)
            out["follower disk"] = rate(fsync / self.batch)
        return out

    @property
    def throughput_ceiling_per_s(self) -> float:
        """The smallest of :attr:`ceilings_per_s`: commits/s at saturation."""
        return min(self.ceilings_per_s.values())

    @property
    def bottleneck(self) -> str:
        """The resource that sets the ceiling (the first listed on ties), or ``"none"``."""
        ceilings = self.ceilings_per_s
        best = min(ceilings, key=ceilings.__getitem__)
        return best if math.isfinite(ceilings[best]) else "none"

    @property
    def ack_queueing_bound_ms(self) -> float:
        """How far the mean unloaded latency can be low for ignoring ack queueing.

        0 with a constant CPU time (in-order service is modelled exactly), else
        ``k E[cpu]`` (module docstring).
        """
        if isinstance(self._cpu, Constant):
            return 0.0
        return self.acks_needed * self._cpu.mean

    @cached_property
    def _step(self) -> float:
        spans = 4 * _span(self._delay) + 3 * _span(self._cpu) + 2 * _span(self._fsync)
        return spans / _POINTS if spans > 0 else 1.0

    @cached_property
    def _wait(self) -> _Lattice:
        """W: from the end of the request's processing to the commit."""
        h = self._step
        delay, cpu, fsync = (_Lattice.of(d, h) for d in (self._delay, self._cpu, self._fsync))
        own = self._fsync
        m, k = self.followers, self.acks_needed
        if k == 0:
            return fsync
        arrival = delay + cpu + fsync + delay
        c = self._cpu
        if isinstance(c, Constant):
            low, high = arrival.origin + k * c.value, arrival.high + k * c.value

            def done(t: FloatArray) -> FloatArray:
                # A_(k) + c <= T_k <= A_(k) + k c: recurse only where the bounds differ
                fast = special.betainc(k, m - k + 1, arrival.cdf(t - c.value))
                if k == 1 or c.value == 0.0:
                    return np.asarray(fast)
                slow = special.betainc(k, m - k + 1, arrival.cdf(t - k * c.value))
                out = np.where(slow > 1.0 - 1e-15, 1.0, 0.0)
                open_ = (fast > 0.0) & (slow <= 1.0 - 1e-15)
                out[open_] = _in_order_cdf(arrival, m, k, c.value, t[open_])
                return out

        else:
            trip = arrival + cpu
            low, high = trip.origin, trip.high

            def done(t: FloatArray) -> FloatArray:
                return np.asarray(special.betainc(k, m - k + 1, trip.cdf(t)))

        origin = max(own.support()[0], low)
        top = max(fsync.high, high)
        return _Lattice.from_cdf(origin, top, h, lambda t: own.cdf(t) * done(t))

    @cached_property
    def _latency(self) -> _Lattice:
        h = self._step
        delay = _Lattice.of(self._delay, h)
        return delay + _Lattice.of(self._cpu, h) + self._wait + delay

    def latency_ms(self, load_per_s: float = 0.0) -> float:
        """Mean commit latency as a client sees it, at ``load_per_s`` writes/s.

        Unloaded (``load_per_s == 0``): ``E[D + C + W + D]`` (module docstring). With
        load, plus the Pollaczek-Khinchine wait at the leader's CPU, ``inf`` at or above
        the throughput ceiling (an approximation: see the module docstring).

        Examples
        --------
        >>> import openha as ha
        >>> m = ha.models.leader_model(5, cpu_ms=0.01, fsync_ms=0.02,
        ...                            delay=ha.dist.Exponential(mean=0.1, shift=0.1))
        >>> round(m.latency_ms(), 4), round(m.latency_ms(10_000), 4)  # + 0.5 x 0.05 / (2 x 0.5)
        (0.7944, 0.8194)
        >>> m.latency_ms(20_000)
        inf
        """
        load = check_nonnegative("load_per_s", load_per_s)
        base = self._latency.mean
        if load == 0.0:
            return base
        if load >= self.throughput_ceiling_per_s:
            return math.inf
        rate = load / 1000.0  # per ms
        msgs = self.leader_messages_per_commit
        cpu = self._cpu
        service = msgs * cpu.mean
        second = msgs * cpu.std**2 + service**2  # E[S^2] of a sum of msgs i.i.d. CPU times
        rho = rate * service
        return base + rate * second / (2.0 * (1.0 - rho))

    def latency_cdf(self, t: npt.ArrayLike) -> FloatArray:
        """P(unloaded commit latency <= t), elementwise.

        Examples
        --------
        >>> from openha.models import leader_model
        >>> leader_model(3, cpu_ms=0.0, delay=0.5).latency_cdf([1.9, 2.0, 2.1])
        array([0., 1., 1.])
        """
        x = np.asarray(t, dtype=np.float64)
        return np.asarray(self._latency.cdf(x.ravel())).reshape(x.shape)

    def latency_quantile_ms(self, q: float) -> float:
        """The ``q``-quantile of the unloaded commit latency (within half a lattice step).

        Examples
        --------
        >>> import openha as ha
        >>> m = ha.models.leader_model(2, cpu_ms=0.0, delay=ha.dist.Exponential(mean=1.0))
        >>> round(m.latency_quantile_ms(0.5), 3)  # 4 exponential legs: Gamma(4, 1)'s median
        3.672
        """
        q = check_probability("q", q)
        return float(self._latency.quantile(q))


def leader_model(
    n: int,
    *,
    cpu_ms: Distribution | float,
    fsync_ms: Distribution | float = 0.0,
    delay: Distribution | float = 0.0,
    quorum: int | None = None,
    thrifty: bool = False,
    batch: int = 1,
) -> LeaderModel:
    """A :class:`LeaderModel`; ``quorum`` defaults to a majority, ``n // 2 + 1``.

    Examples
    --------
    >>> from openha.models import leader_model
    >>> m = leader_model(5, cpu_ms=0.01, fsync_ms=0.02, delay=0.1)
    >>> m.quorum, m.followers, m.acks_needed
    (3, 4, 2)
    >>> leader_model(5, cpu_ms=0.01, quorum=6)
    Traceback (most recent call last):
    ...
    openha.errors.OpenHAError: quorum must be an integer in [1, 5]; got 6
    """
    n = check_int("n", n, low=1)
    q = n // 2 + 1 if quorum is None else quorum
    return LeaderModel(
        n=n,
        cpu_ms=cpu_ms,
        fsync_ms=fsync_ms,
        delay=delay,
        quorum=q,
        thrifty=thrifty,
        batch=batch,
    )


_PROTOCOLS = ("raft", "multipaxos", "paxos", "primary-backup", "chain")


def messages_per_commit(
    protocol: str, n: int, *, quorum: int | None = None, thrifty: bool = False
) -> int:
    """Messages on the wire per committed command, in steady state, with no failures.

    Every count includes the client's request and the reply (2 messages); a node's
    messages to itself are not counted. ``c`` is the number of peers contacted:
    ``n - 1``, or ``quorum - 1`` when ``thrifty`` (quorum default: ``n // 2 + 1``).

    - ``"raft"``, ``"multipaxos"``: a stable leader; one append (phase-2 accept) to each
      contacted peer and one ack back: ``2 + 2c``.
    - ``"paxos"``: single-decree Paxos per command (``ha.Paxos``), the node that takes
      the request is the proposer (and an acceptor): prepare, promise, accept and
      accepted with each contacted peer, then the decision sent to each of them (every
      node learns every slot): ``2 + 5c``. Without contention; a pre-empted proposer
      repeats its phases.
    - ``"primary-backup"``: the primary forwards each write to every backup and every
      backup acks it: ``2 + 2(n - 1)`` (``ha.PrimaryBackup`` with its default ``n - 1``
      backups; with ``b`` backups, ``2 + 2b``). The count is the same synchronously with
      ``sync_acks < backups`` and asynchronously: the backups the primary does not wait
      for still receive and ack every write. ``quorum`` and ``thrifty`` do not apply.
    - ``"chain"``: chain replication (van Renesse and Schneider, OSDI 2004): the client's
      request reaches the head, ``n - 1`` forwards take it down the chain and the tail
      replies to the client: ``2 + (n - 1)`` (no acks travel back up the chain);
      ``quorum`` and ``thrifty`` do not apply.

    Examples
    --------
    >>> from openha.models import messages_per_commit
    >>> [messages_per_commit(p, 5) for p in ("raft", "paxos", "primary-backup", "chain")]
    [10, 22, 10, 6]
    >>> messages_per_commit("multipaxos", 5, thrifty=True)  # 2 + 2 x 2
    6
    """
    if protocol not in _PROTOCOLS:
        raise OpenHAError(f"protocol must be one of {', '.join(_PROTOCOLS)}; got {protocol!r}")
    n = check_int("n", n, low=1)
    if not isinstance(thrifty, bool):
        raise OpenHAError(f"thrifty must be True or False; got {thrifty!r}")
    if protocol in ("primary-backup", "chain"):
        if quorum is not None or thrifty:
            raise OpenHAError(f"quorum and thrifty do not apply to {protocol!r}: every node acks")
        return 2 + 2 * (n - 1) if protocol == "primary-backup" else 2 + (n - 1)
    q = n // 2 + 1 if quorum is None else check_int("quorum", quorum, low=1, high=n)
    peers = q - 1 if thrifty else n - 1
    return 2 + (5 if protocol == "paxos" else 2) * peers


def _check_placement(matrix: Any, placement: Any, client_region: Any) -> tuple[str, ...]:
    if not isinstance(matrix, RTTMatrix):
        raise OpenHAError(f"matrix must be an RTTMatrix (openha.data); got {matrix!r}")
    if isinstance(placement, str) or not isinstance(placement, Sequence) or not placement:
        raise OpenHAError(
            f"placement must be a non-empty list of regions, one per node; got {placement!r}"
        )
    regions = tuple(placement)
    for i, r in enumerate(regions):
        if r not in matrix.regions:
            raise OpenHAError(
                f"placement[{i}] names unknown region {r!r}; known: {', '.join(matrix.regions)}"
            )
    if client_region not in matrix.regions:
        raise OpenHAError(
            f"client_region names unknown region {client_region!r}; "
            f"known: {', '.join(matrix.regions)}"
        )
    return regions


def _round_trip_ms(matrix: RTTMatrix, a: str, b: str) -> float:
    """``a -> b -> a`` with one-way delays of RTT / 2 (both directions, if asymmetric)."""
    return (matrix.rtt(a, b) + matrix.rtt(b, a)) / 2.0


def _wan_latency(
    matrix: RTTMatrix, regions: tuple[str, ...], leader: int, client: str, quorum: int
) -> float:
    home = regions[leader]
    trips = sorted(_round_trip_ms(matrix, home, r) for i, r in enumerate(regions) if i != leader)
    slowest_needed = trips[quorum - 2] if quorum >= 2 else 0.0
    return _round_trip_ms(matrix, client, home) + slowest_needed


def wan_commit_latency_ms(
    matrix: RTTMatrix,
    placement: Sequence[str],
    leader: int,
    client_region: str,
    quorum: int | None = None,
) -> float:
    """Commit latency over a WAN with no CPU, disk or jitter: exact.

    The client's round trip to the leader plus the leader's round trip to its
    ``(quorum - 1)``-th nearest peer (the leader holds one copy). Each one-way delay is
    half the RTT (the matrix diagonal for nodes in one region), as in
    :meth:`openha.Network.from_rtt_matrix`.

    Parameters
    ----------
    matrix : RTTMatrix
    placement : sequence of str
        Region of each node.
    leader : int
        Index of the leader in ``placement``.
    client_region : str
    quorum : int, optional
        Copies needed, ``len(placement) // 2 + 1`` by default.

    Examples
    --------
    >>> import openha as ha
    >>> aws = ha.data.rtt_matrix("aws-2020")
    >>> sites = ["us-east-1", "us-west-2", "eu-west-1"]
    >>> ha.models.wan_commit_latency_ms(aws, sites, 0, "us-east-1")  # 0.3 + 70.5 (Ireland)
    70.8
    """
    regions = _check_placement(matrix, placement, client_region)
    n = len(regions)
    leader = check_int("leader", leader, low=0, high=n - 1)
    q = n // 2 + 1 if quorum is None else check_int("quorum", quorum, low=1, high=n)
    return _wan_latency(matrix, regions, leader, client_region, q)


def best_leader(
    matrix: RTTMatrix,
    placement: Sequence[str],
    client_region: str,
    quorum: int | None = None,
) -> int:
    """The leader index with the smallest :func:`wan_commit_latency_ms` (lowest on ties).

    Examples
    --------
    >>> import openha as ha
    >>> aws = ha.data.rtt_matrix("aws-2020")
    >>> sites = ["eu-west-1", "us-west-1", "us-west-2"]
    >>> ha.models.best_leader(aws, sites, "us-east-1")  # 59.9 + 21.1 beats 70.5 + 127.3
    1
    >>> [ha.models.wan_commit_latency_ms(aws, sites, i, "us-east-1") for i in range(3)]
    [197.8, 81.0, 93.6]
    """
    regions = _check_placement(matrix, placement, client_region)
    n = len(regions)
    q = n // 2 + 1 if quorum is None else check_int("quorum", quorum, low=1, high=n)
    latency = [_wan_latency(matrix, regions, i, client_region, q) for i in range(n)]
    return int(np.argmin(latency))
