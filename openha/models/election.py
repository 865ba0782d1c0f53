"""Raft leader election after a leader crash: split votes and time to elect, analytically.

The process (what the project's simulator runs with fixed latency, no disk writes and
zero CPU cost; after D. Ongaro, "Consensus: Bridging Theory and Practice", PhD thesis,
Stanford University, 2014, ch. 9):

- A cluster of ``n`` servers; a majority is ``m = n // 2 + 1`` servers. The leader crashes
  at time 0 and ``live`` servers remain (at most ``n - 1``). ``eligible`` of them have
  up-to-date logs and can win; the other ``live - eligible`` are *stale*: they never get a
  vote from an up-to-date server, but they do vote for an up-to-date candidate. A stale
  server's own candidacy changes nobody else's state: it only means that the server has
  voted for itself in that term. (In plain Raft its higher term would spread, and a
  candidate that heard it before firing would run in a yet higher term and could get
  the stale server's vote after all; the Pre-Vote extension of the thesis, ch. 9, stops
  such candidacies. Counting these servers out makes the model pessimistic when some
  servers are stale: against the simulator with 2 stale survivors of 4 its mean time to
  elect is 20-130 % too high (notebook 03); with every live server eligible it is exact
  in round 1.)
- At time 0 every live server's election timer has just been reset; the timers fire after
  independent Uniform[a, b] delays, ``timeout = (a, b)`` with ``0 < a <= b`` (``a == b``
  means a constant timeout).
- Every message takes exactly ``latency = L >= 0`` one way; disks and CPUs take no time.
- A server whose timer fires increments its term, votes for itself, sends RequestVote to
  all and draws a fresh timer. A server whose timer has not fired and that has not voted
  when a RequestVote of a higher term from an up-to-date candidate arrives grants its vote
  and resets its timer; a server that has voted in that term (for itself as a candidate,
  or for someone else) refuses. A candidate that fired at ``t``
  learns of a majority (itself included) when the last reply it needs arrives, at
  ``t + 2L``, and its first heartbeat reaches the others at ``t + 3L``: the *time to
  elect*. With timers tied to the same instant, firing comes before delivery.

**Round 1 is exact.** Let ``t`` be the earliest fire time of an eligible server ``c``. Its
RequestVote reaches everyone at ``t + L``. A live server votes for ``c`` exactly when its
own timer fires after ``t + L``; the rest (the eligible ones that fired in ``[t, t + L]``
and the stale ones that fired before ``t + L``) are candidates and refuse. No one else
can win round 1: an eligible server ``j`` that fired at ``t_j`` in ``(t, t + L]`` asks
for votes at ``t_j + L > t + L``, when every server that has not fired has already voted
for ``c`` and every one that has is a candidate, so ``j`` holds its own vote only, fewer
than ``m >= 2`` (a cluster of ``n >= 2`` needs two votes). So round 1 elects ``c`` iff at
least ``m - 1`` of the other ``live - 1`` servers fire after ``t + L``, at ``t + 3L``.

Given ``t``, with ``d = b - a`` and ``u = b - t``, the other ``eligible - 1`` eligible
timers are i.i.d. Uniform[t, b] (they are later than ``t``) and fire after ``t + L`` with
probability ``(u - L) / u``; the ``live - eligible`` stale timers are unconditioned
Uniform[a, b] and do so with probability ``(u - L) / d`` (both 0 when ``u <= L``). The
number of votes ``c`` gets is the sum of these two independent binomials, and ``t`` has
density ``k u^(k - 1) / d^k`` on ``[a, b]`` with ``k = eligible``. Times the binomial
probabilities, this density is a polynomial of degree ``live - 1`` in ``u`` on
``[L, d]`` (the ``u^(k - 1)`` cancels the denominators), so a Gauss-Legendre rule of
``live // 2 + 1`` nodes integrates it exactly: no adaptive quadrature, no truncation
error. With ``eligible == live`` the integral has the closed form
``P(elected) = P(Binomial(k, 1 - L/d) >= m)``. The split probability depends on
``L / d`` only, and does not decrease as ``L`` grows (fewer timers fire after ``t + L``).

**Later rounds: a renewal approximation.** A failed round is taken to restart the
process afresh at the failed candidate's fire time ``t``: all live servers draw new
timers from ``t``, and rounds are i.i.d. Then the time to elect is
``T_1 + ... + T_N + 3L``, with ``T_i`` round ``i``'s earliest eligible fire time (measured
from the round's start) and ``N`` the number of rounds, geometric with
``P(N = i) = q^(i - 1) (1 - q)`` (``q`` the split probability). ``N`` is a stopping time
for the i.i.d. rounds, so by Wald's identity

    E[time to elect] = E[N] E[T_1] + 3L = E[earliest eligible fire time] / (1 - q) + 3L,

with ``E[earliest] = a + d / (k + 1)``. It is exact when ``q == 0`` (then ``N = 1``). In the real process
the servers restart their timers at slightly different instants, all in ``[t, t + L]``
when every live server is up to date (stale servers that fired before ``t`` restart
earlier still), so each failed round carries an error of order ``L``.

Degenerate cases: with ``a == b`` all timers fire together, every live server becomes a
candidate and round 1 never elects (``q = 1``, mean time ``inf``), even with ``L == 0``;
with ``L >= b - a`` nobody fires after ``t + L``, so again ``q = 1``; with
``live < m`` or ``eligible == 0`` no leader can ever be elected (``q = 1``, mean ``inf``).
With ``L == 0`` and ``eligible == live >= m``, ``q = 0``.

Exactness of round 1 also needs ``a >= 3L`` (true in practice: Raft wants timeouts far
above the broadcast time): otherwise a fresh timer can fire before the votes or the first
heartbeat arrive, which the model ignores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from openha.errors import OpenHAError, check_finite, check_int, check_nonnegative, check_positive

__all__ = ["ElectionModel", "election_model", "split_vote_probability"]


def _check_timeout(timeout: Any) -> tuple[float, float]:
    if isinstance(timeout, str | bytes) or not isinstance(timeout, Sequence) or len(timeout) != 2:
        raise OpenHAError(
            f"timeout must be a pair (low, high) with 0 < low <= high; got {timeout!r}"
        )
    low = check_positive("timeout[0]", timeout[0])
    high = check_finite("timeout[1]", timeout[1])
    if high < low:
        raise OpenHAError(f"timeout[1] must be >= timeout[0] = {low!r}; got {timeout[1]!r}")
    return low, high


def _binomial_pmf(count: int, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """P(Binomial(count, p) = j) for j = 0..count, one row per p; ``q = 1 - p`` given
    separately so that small complements keep their digits; log space, so any count."""
    j = np.arange(count + 1, dtype=float)
    log_comb = (
        special.gammaln(count + 1.0) - special.gammaln(j + 1.0) - special.gammaln(count - j + 1.0)
    )
    p, q = p[:, None], q[:, None]
    return np.exp(log_comb + special.xlogy(j, p) + special.xlogy(count - j, q))


@dataclass(frozen=True, kw_only=True)
class ElectionModel:
    """Split votes and time to elect after a leader crash (see the module docstring).

    Times in any one unit (the timeout's and the latency's).

    Parameters
    ----------
    n : int
        Cluster size, crashed leader included (>= 1).
    timeout : tuple of float
        ``(a, b)``: election timers are Uniform[a, b], ``0 < a <= b``.
    latency : float
        One-way message latency ``L >= 0``.
    live : int
        Servers left after the crash, in ``[0, n - 1]``.
    eligible : int
        Live servers with up-to-date logs, in ``[0, live]``.

    Examples
    --------
    >>> from openha.models import ElectionModel
    >>> m = ElectionModel(n=5, timeout=(150.0, 300.0), latency=5.0, live=4, eligible=4)
    >>> round(m.split_vote_probability, 4)  # 1 - P(Binomial(4, 29/30) >= 3)
    0.0064
    >>> round(m.mean_time_to_elect(), 2)  # (150 + 150/5) / (1 - q) + 3 * 5
    196.15
    """

    n: int
    timeout: tuple[float, float]
    latency: float
    live: int
    eligible: int

    def __post_init__(self) -> None:
        n = check_int("n", self.n, low=1)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "timeout", _check_timeout(self.timeout))
        object.__setattr__(self, "latency", check_nonnegative("latency", self.latency))
        live = check_int("live", self.live, low=0, high=n - 1)
        object.__setattr__(self, "live", live)
        object.__setattr__(self, "eligible", check_int("eligible", self.eligible, low=0, high=live))

    @property
    def majority(self) -> int:
        """Votes needed to win, the candidate's own included: ``n // 2 + 1``."""
        return self.n // 2 + 1

    @property
    def _can_win_round(self) -> bool:
        a, b = self.timeout
        return self.eligible >= 1 and self.live >= self.majority and self.latency < b - a

    def earliest_timeout_cdf(self, t: npt.ArrayLike) -> np.ndarray:
        """CDF of the earliest eligible server's fire time: ``1 - ((b - t) / (b - a))^k``.

        ``k = eligible``; a step at ``a`` when ``a == b``; 0 everywhere when ``k == 0``.

        Examples
        --------
        >>> from openha.models import election_model
        >>> election_model(5, (150, 300)).earliest_timeout_cdf([100, 225, 300])
        array([0.    , 0.9375, 1.    ])
        """
        x = np.asarray(t, dtype=float)
        a, b = self.timeout
        k = self.eligible
        if k == 0:
            return np.zeros_like(x)
        if a == b:
            return np.where(x >= a, 1.0, np.where(np.isnan(x), np.nan, 0.0))
        below = np.clip((b - x) / (b - a), 0.0, 1.0)  # P(one timer fires after t)
        return np.asarray(1.0 - below**k)

    def earliest_timeout_mean(self) -> float:
        """Mean fire time of the earliest eligible server, ``a + (b - a) / (k + 1)``.

        ``inf`` when no server is eligible.

        Examples
        --------
        >>> from openha.models import election_model
        >>> election_model(5, (150, 300)).earliest_timeout_mean()
        180.0
        """
        if self.eligible == 0:
            return math.inf
        a, b = self.timeout
        return a + (b - a) / (self.eligible + 1)

    def _elected_integral(self, u_low: np.ndarray, *, elected: bool) -> np.ndarray:
        """Integral over u = b - t in [u_low, d] of the earliest fire time's density times
        P(round 1 elects | t) (``elected``) or P(it does not | t); needs ``_can_win_round``.
        """
        a, b = self.timeout
        d, lat, k = b - a, self.latency, self.eligible
        stale, need = self.live - k, self.majority - 1
        nodes, weights = np.polynomial.legendre.leggauss(self.live // 2 + 1)
        half = (d - u_low) / 2.0
        u = (u_low + half)[:, None] + half[:, None] * nodes  # shape (points, nodes)
        flat = u.ravel()
        peers = _binomial_pmf(k - 1, (flat - lat) / flat, lat / flat)
        stales = _binomial_pmf(stale, (flat - lat) / d, (d - flat + lat) / d)
        votes = np.zeros((flat.size, self.live))
        for j in range(k):
            votes[:, j : j + stale + 1] += peers[:, j : j + 1] * stales
        tail = votes[:, need:] if elected else votes[:, :need]
        density = k / d * (flat / d) ** (k - 1)
        integrand = (density * tail.sum(axis=1)).reshape(u.shape)
        return np.asarray(half * (integrand @ weights))

    @property
    def split_vote_probability(self) -> float:
        """P(round 1 does not elect a leader).

        Examples
        --------
        >>> from openha.models import election_model
        >>> round(election_model(3, (150, 300), 20).split_vote_probability, 4)  # 1 - (13/15)^2
        0.2489
        >>> election_model(5, (150, 300), 0.0).split_vote_probability
        0.0
        """
        if not self._can_win_round:
            return 1.0
        a, b = self.timeout
        d, lat = b - a, self.latency
        late = (lat / d) ** self.eligible  # earliest fire time after b - L: nobody votes
        q = late + float(self._elected_integral(np.array([lat]), elected=False)[0])
        return min(max(q, 0.0), 1.0)

    def first_round_cdf(self, t: npt.ArrayLike) -> np.ndarray:
        """P(round 1 elects a leader and the time to elect is at most ``t``).

        Tends to ``1 - split_vote_probability`` as ``t`` grows.

        Examples
        --------
        >>> from openha.models import election_model
        >>> m = election_model(5, (150, 300), 5.0)
        >>> m.first_round_cdf([150, 240, 400]).round(4)
        array([0.    , 0.9326, 0.9936])
        """
        x = np.asarray(t, dtype=float)
        if not self._can_win_round:
            return np.where(np.isnan(x), np.nan, 0.0)
        a, b = self.timeout
        lat = self.latency
        # a win at fire time s needs s <= b - L (u >= L) and s + 3L <= t (u >= b - t + 3L)
        flat = x.ravel()
        u_low = np.maximum(lat, b - flat + 3.0 * lat)
        out = np.zeros(flat.size)
        some = u_low < b - a
        if some.any():
            out[some] = self._elected_integral(u_low[some], elected=True)
        out[np.isnan(flat)] = np.nan
        return np.clip(out, 0.0, 1.0).reshape(x.shape)

    def mean_time_to_elect(self) -> float:
        """Mean time to elect under the renewal approximation (module docstring).

        ``E[earliest eligible fire time] / (1 - q) + 3L``; exact when the split probability
        ``q`` is 0; ``inf`` when no leader can be elected (``q == 1``).

        Examples
        --------
        >>> from openha.models import election_model
        >>> election_model(5, (150, 300), 0.0).mean_time_to_elect()  # q = 0: 150 + 150/5
        180.0
        >>> election_model(5, (150, 300), 5.0, live=2).mean_time_to_elect()  # 2 < majority 3
        inf
        """
        if not self._can_win_round:
            return math.inf
        lat = self.latency
        elected = float(self._elected_integral(np.array([lat]), elected=True)[0])
        if elected <= 0.0:
            return math.inf
        return self.earliest_timeout_mean() / min(elected, 1.0) + 3.0 * lat


def election_model(
    n: int,
    timeout: tuple[float, float],
    latency: float = 0.0,
    *,
    live: int | None = None,
    eligible: int | None = None,
) -> ElectionModel:
    """The election after a leader crash in a cluster of ``n``: see :class:`ElectionModel`.

    Parameters
    ----------
    n : int
        Cluster size, crashed leader included.
    timeout : tuple of float
        ``(a, b)``, the election timeout range, ``0 < a <= b``.
    latency : float, default 0
        One-way message latency.
    live : int, optional
        Servers left, ``n - 1`` by default. Fewer than a majority is allowed: no leader is
        ever elected then (split probability 1, mean time to elect ``inf``).
    eligible : int, optional
        Live servers with up-to-date logs, ``live`` by default.

    Examples
    --------
    >>> from openha.models import election_model
    >>> m = election_model(5, (150, 300), 5.0, eligible=2)  # 2 of the 4 are stale
    >>> m
    ElectionModel(n=5, timeout=(150.0, 300.0), latency=5.0, live=4, eligible=2)
    >>> round(m.split_vote_probability, 4)
    0.2121
    """
    n = check_int("n", n, low=1)
    live = n - 1 if live is None else live
    eligible = check_int("live", live, low=0, high=n - 1) if eligible is None else eligible
    return ElectionModel(n=n, timeout=timeout, latency=latency, live=live, eligible=eligible)


def split_vote_probability(
    n: int,
    timeout: tuple[float, float],
    latency: float = 0.0,
    *,
    live: int | None = None,
    eligible: int | None = None,
) -> float:
    """P(the first election round after a leader crash elects no one).

    Shorthand for ``election_model(...).split_vote_probability``.

    Examples
    --------
    >>> from openha.models import split_vote_probability
    >>> [round(split_vote_probability(5, (150, b), 10.0), 3) for b in (160, 175, 200, 300)]
    [1.0, 0.525, 0.181, 0.024]
    """
    return election_model(n, timeout, latency, live=live, eligible=eligible).split_vote_probability
