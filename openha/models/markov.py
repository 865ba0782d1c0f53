"""Continuous-time Markov chains of replicated services: availability, MTTF, MTTDL.

n replicas fail independently at rate ``failure_rate`` (per hour) and are repaired at
``repair_rate``; with ``crews=c`` at most c are repaired at once (the one finished is
any failed replica with equal chance), with ``crews=None`` each is repaired on its own.
Optionally replicas sit in zones that fail as a whole (rate ``zone_failure_rate``) and
come back (``zone_repair_rate``); while a zone is out its replicas neither fail nor get
repaired, and come back in the state they were in (Ford et al., OSDI 2010, find that 37 %
of failures hit several nodes at once). The service is up while at least ``k`` replicas
are up.

Stationary laws come from :func:`openha.models.stationary.stationary` (the GTH
algorithm up to 1,500 states: every probability to a few ulps, so unavailability keeps
full relative precision far below 1e-15; scipy's sparse LU beyond, accurate in absolute
terms only). Mean times to quorum loss use renewal reward on the same solver.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from openha.errors import OpenHAError, check_int, check_nonnegative, check_positive
from openha.models.stationary import stationary
from openha.nines import Nines

__all__ = ["MarkovAvailability", "ReplicaChain", "markov_availability", "mttdl"]

MAX_STATES = 2_000_000


@dataclass(frozen=True, kw_only=True)
class ReplicaChain:
    """The states and generator of a replica group (see module docstring)."""

    n: int
    k: int
    failure_rate: float
    repair_rate: float
    crews: int | None = None
    zones: tuple[int, ...] | None = None
    zone_failure_rate: float = 0.0
    zone_repair_rate: float = 1.0

    def __post_init__(self) -> None:
        # store the checked values, so that e.g. a numeric string becomes the number it names
        n = check_int("n", self.n, low=1)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "k", check_int("k", self.k, low=1, high=n))
        object.__setattr__(self, "failure_rate", check_positive("failure_rate", self.failure_rate))
        object.__setattr__(self, "repair_rate", check_positive("repair_rate", self.repair_rate))
        if self.crews is not None:
            object.__setattr__(self, "crews", check_int("crews", self.crews, low=1))
        if self.zones is not None:
            if isinstance(self.zones, int | str) or not hasattr(self.zones, "__iter__"):
                raise OpenHAError(f"zones must be a tuple of replicas per zone; got {self.zones!r}")
            sizes = tuple(check_int("zones (replicas per zone)", z, low=1) for z in self.zones)
            if sum(sizes) != n:
                raise OpenHAError(
                    f"zones must hold all n={n} replicas; got sizes {sizes} (sum {sum(sizes)})"
                )
            object.__setattr__(self, "zones", sizes)
        zlam = check_nonnegative("zone_failure_rate", self.zone_failure_rate)
        object.__setattr__(self, "zone_failure_rate", zlam)
        zmu = check_positive("zone_repair_rate", self.zone_repair_rate)
        object.__setattr__(self, "zone_repair_rate", zmu)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Replicas per zone (one zone when no zones are given)."""
        return self.zones if self.zones is not None else (self.n,)

    def states(self) -> list[tuple[int, tuple[int, ...]]]:
        """(zone-down bitmask, failed replicas per zone) for every state."""
        sizes = self.sizes
        masks = range(1 << len(sizes)) if self.zone_failure_rate > 0 else range(1)
        count = len(masks) * math.prod(s + 1 for s in sizes)
        if count > MAX_STATES:
            raise OpenHAError(f"the chain would have {count:,} states, more than {MAX_STATES:,}")
        return [(m, f) for m in masks for f in itertools.product(*(range(s + 1) for s in sizes))]

    def up_replicas(self, state: tuple[int, tuple[int, ...]]) -> int:
        """Replicas that are up in ``state``."""
        mask, failed = state
        return sum(
            s - f
            for z, (s, f) in enumerate(zip(self.sizes, failed, strict=True))
            if not mask >> z & 1
        )

    def generator(self) -> tuple[sp.csr_array, np.ndarray, list[tuple[int, tuple[int, ...]]]]:
        """(Q, up, states): the generator, which states have a quorum, and the states."""
        states = self.states()
        index = {s: i for i, s in enumerate(states)}
        sizes = self.sizes
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []

        def add(i: int, target: tuple[int, tuple[int, ...]], rate: float) -> None:
            rows.append(i)
            cols.append(index[target])
            vals.append(rate)

        for i, (mask, failed) in enumerate(states):
            up_zone = [not mask >> z & 1 for z in range(len(sizes))]
            failed_up = sum(f for f, u in zip(failed, up_zone, strict=True) if u)
            busy = failed_up if self.crews is None else min(failed_up, self.crews)
            for z, (s, f) in enumerate(zip(sizes, failed, strict=True)):
                if not up_zone[z]:
                    if self.zone_failure_rate > 0:
                        add(i, (mask & ~(1 << z), failed), self.zone_repair_rate)
                    continue
                if f < s:
                    add(
                        i,
                        (mask, (*failed[:z], f + 1, *failed[z + 1 :])),
                        (s - f) * self.failure_rate,
                    )
                if f > 0:
                    # crews finish at rate mu * busy; the replica finished is any failed one
                    rate = self.repair_rate * busy * f / failed_up
                    add(i, (mask, (*failed[:z], f - 1, *failed[z + 1 :])), rate)
                if self.zone_failure_rate > 0:
                    add(i, (mask | 1 << z, failed), self.zone_failure_rate)
        m = len(states)
        off = sp.csr_array((vals, (rows, cols)), shape=(m, m))
        q = (off - sp.diags_array(np.asarray(off.sum(axis=1)).ravel())).tocsr()
        up = np.array([self.up_replicas(s) >= self.k for s in states])
        return q, up, states


@dataclass(frozen=True)
class MarkovAvailability(Nines):
    """Steady-state availability of a replica group and its mean time to quorum loss (hours)."""

    unavailability: float
    availability: float
    mttf_hours: float
    n_states: int
    method: str = "markov"


def _steady_state(q: sp.csr_array, up: np.ndarray) -> tuple[float, float]:
    """(P(up), P(down)) of the stationary distribution, each a sum of accurate terms."""
    pi = stationary(q)
    return float(pi[up].sum()), float(pi[~up].sum())


def _mean_time_to_down(q: sp.csr_array, up: np.ndarray, start: int) -> float:
    """Mean time to reach a down state from ``start`` (an up state).

    Solving -Q_UU t = 1 directly loses every digit once the MTTF times the fastest rate
    nears 1 / machine epsilon (it even came out negative). Instead, send every jump into a
    down state back to ``start``: in that chain on the up states, each cycle from ``start``
    lasts one time to loss, so MTTF = 1 / (flux into the down states), a sum of
    non-negative terms over its stationary law (renewal reward).
    """
    u_idx = np.flatnonzero(up)
    d_idx = np.flatnonzero(~up)
    q_uu = q[u_idx][:, u_idx]
    exits = np.asarray(q[u_idx][:, d_idx].sum(axis=1)).ravel()  # rates into down states
    s = int(np.searchsorted(u_idx, start))
    back = sp.csr_array((exits, (np.arange(u_idx.size), np.full(u_idx.size, s))), q_uu.shape)
    pi = stationary(q_uu + back)
    return float(pi.sum() / np.dot(pi, exits))


def markov_availability(
    n: int,
    k: int,
    failure_rate: float,
    repair_rate: float,
    *,
    crews: int | None = None,
    zones: tuple[int, ...] | None = None,
    zone_failure_rate: float = 0.0,
    zone_repair_rate: float = 1.0,
) -> MarkovAvailability:
    """Availability of n replicas needing k up, from a continuous-time Markov chain.

    Parameters
    ----------
    n, k : int
        Replicas, and how many must be up (a quorum).
    failure_rate, repair_rate : float
        Per replica, per hour (1 / MTBF and 1 / MTTR).
    crews : int, optional
        Replicas repaired at once; ``None`` repairs each independently.
    zones : tuple of int, optional
        Replicas per zone (summing to n); zones fail at ``zone_failure_rate`` and come back
        at ``zone_repair_rate`` (per hour).

    Returns
    -------
    MarkovAvailability
        ``unavailability``, ``availability``, ``nines``, ``downtime_min_per_year`` and
        ``mttf_hours`` (mean time from all up to the first loss of quorum).

    Examples
    --------
    >>> from openha.models import markov_availability
    >>> r = markov_availability(3, 2, failure_rate=1 / 1000, repair_rate=1 / 10)
    >>> f"{r.unavailability:.6e}", round(r.mttf_hours)  # 3 p^2 (1-p) + p^3, p = 10 / 1010
    ('2.921476e-04', 17500)
    """
    chain = ReplicaChain(
        n=n,
        k=k,
        failure_rate=failure_rate,
        repair_rate=repair_rate,
        crews=crews,
        zones=zones,
        zone_failure_rate=zone_failure_rate,
        zone_repair_rate=zone_repair_rate,
    )
    q, up, states = chain.generator()
    p_up, p_down = _steady_state(q, up)
    start = states.index((0, (0,) * len(chain.sizes)))
    mttf = _mean_time_to_down(q, up, start)
    return MarkovAvailability(
        unavailability=p_down, availability=p_up, mttf_hours=mttf, n_states=len(states)
    )


def mttdl(
    n: int, k: int, loss_rate: float, rebuild_rate: float, *, crews: int | None = None
) -> float:
    """Mean time to data loss (hours): until more than n - k replicas have lost their state.

    Replicas lose state at ``loss_rate`` (e.g. disk failures) and are rebuilt at
    ``rebuild_rate``; with quorum writes of size k, losing n - k + 1 replicas can lose
    acknowledged data.

    Examples
    --------
    >>> from openha.models import mttdl
    >>> round(mttdl(3, 2, loss_rate=0.02 / 8766, rebuild_rate=1 / 24) / 8766)  # years
    152229
    """
    # checked here so that errors name this function's parameters, not the chain's
    loss_rate = check_positive("loss_rate", loss_rate)
    rebuild_rate = check_positive("rebuild_rate", rebuild_rate)
    chain = ReplicaChain(n=n, k=k, failure_rate=loss_rate, repair_rate=rebuild_rate, crews=crews)
    q, up, states = chain.generator()
    return _mean_time_to_down(q, up, states.index((0, (0,))))
