"""Checkpoint/restart: Young's and Daly's intervals, Daly's cost function, its exact optimum.

A job needs ``work`` hours of computation. Every ``interval`` of computation it writes a
checkpoint costing ``delta``; failures arrive as a Poisson process with mean time between
failures ``mtbf``; after a failure the job restarts (cost ``restart``) from the last
checkpoint. All times in one unit (hours, minutes: any, but the same).

References: J. W. Young, "A first order approximation to the optimum checkpoint
interval", CACM 17(9), 1974. J. T. Daly, "A higher order estimate of the optimum
checkpoint interval for restart dumps", Future Generation Computer Systems 22(3), 2006.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, special

from openha.errors import OpenHAError, check_finite, check_nonnegative, check_positive

__all__ = [
    "CheckpointPlan",
    "daly",
    "efficiency",
    "expected_runtime",
    "optimal_interval",
    "young",
]


def young(delta: float, mtbf: float) -> float:
    """Young's first-order optimum interval, ``sqrt(2 * delta * mtbf)``.

    Examples
    --------
    >>> from openha.models import young
    >>> young(5.0, 1440.0)  # minutes: 5-min checkpoints, MTBF 24 h
    120.0
    """
    delta = check_nonnegative("delta", delta)
    mtbf = check_positive("mtbf", mtbf)
    return math.sqrt(2.0 * delta * mtbf)


def daly(delta: float, mtbf: float) -> float:
    """Daly's higher-order optimum interval (2006, eq. 37).

    ``sqrt(2 delta M) * (1 + sqrt(delta / 2M) / 3 + delta / 18M) - delta`` for
    ``delta < 2M``, and ``M`` for ``delta >= 2M``.

    Examples
    --------
    >>> from openha.models import daly
    >>> [round(daly(5.0, m), 1) for m in (1440.0, 360.0, 15.0)]  # Daly's Figs. 3-5: 117, 57, 9.1
    [116.7, 56.7, 9.1]
    """
    delta = check_nonnegative("delta", delta)
    mtbf = check_positive("mtbf", mtbf)
    if delta >= 2.0 * mtbf:
        return mtbf
    x = delta / (2.0 * mtbf)
    return math.sqrt(2.0 * delta * mtbf) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - delta


def expected_runtime(
    work: float, interval: float, delta: float, mtbf: float, restart: float = 0.0
) -> float:
    """Daly's expected wall-clock time: ``M e^(R/M) (e^((tau + delta)/M) - 1) work / tau``.

    Exact for Poisson failures that can strike during computation, checkpoints and
    restarts alike (Daly 2006, eq. 13) when ``interval`` divides ``work``; otherwise the
    cost of the shorter last segment is pro-rated (Daly's convention), while a simulation
    runs it as a segment of its own.

    Examples
    --------
    >>> from openha.models import expected_runtime
    >>> round(expected_runtime(work=500.0, interval=2.0, delta=1 / 12, mtbf=24.0, restart=1 / 6), 2)
    547.9
    """
    work = check_nonnegative("work", work)
    tau = check_positive("interval", interval)
    delta = check_nonnegative("delta", delta)
    mtbf = check_positive("mtbf", mtbf)
    restart = check_nonnegative("restart", restart)
    try:
        return mtbf * math.exp(restart / mtbf) * math.expm1((tau + delta) / mtbf) * work / tau
    except OverflowError:  # (tau + delta) / M or R / M beyond ~709: the job never finishes
        return math.inf


def efficiency(interval: float, delta: float, mtbf: float, restart: float = 0.0) -> float:
    """Useful work per unit of wall-clock time, ``work / expected_runtime``."""
    return 1.0 / expected_runtime(1.0, interval, delta, mtbf, restart)


def optimal_interval(delta: float, mtbf: float) -> float:
    """The exact minimiser of Daly's cost function: ``M (1 + W0(-exp(-delta/M - 1)))``.

    Setting the derivative of ``(e^((tau + delta)/M) - 1) / tau`` to zero gives
    ``e^(x + delta/M) (1 - x) = 1`` with ``x = tau / M``, solved by the principal branch
    of the Lambert W function. (Restart cost and work scale the cost, not its minimiser.)

    Examples
    --------
    >>> from openha.models import optimal_interval
    >>> round(optimal_interval(5.0, 1440.0), 2)  # Daly's formula gives 116.69 here too
    116.69
    """
    delta = check_nonnegative("delta", delta)
    mtbf = check_positive("mtbf", mtbf)
    if delta == 0.0:
        return 0.0
    eps = delta / mtbf
    if eps <= 1e-4:
        # Near W's branch point -1/e, rounding exp(-eps - 1) costs digits; use the branch-point
        # series 1 + W = p - p^2/3 + 11p^3/72 - ... in p = sqrt(2 (1 - e^-eps)) (Corless et al.,
        # "On the Lambert W function", 1996), accurate to ~1e-13 relative here and better below.
        p = math.sqrt(-2.0 * math.expm1(-eps))
        coeffs = (1.0, -1.0 / 3.0, 11.0 / 72.0, -43.0 / 540.0, 769.0 / 17280.0, -221.0 / 8505.0)
        return mtbf * sum(c * p ** (i + 1) for i, c in enumerate(coeffs))
    w = special.lambertw(-math.exp(-eps - 1.0), k=0).real
    return mtbf * (1.0 + float(w))


@dataclass(frozen=True)
class CheckpointPlan:
    """Optimal intervals by each method and what they cost, for one job."""

    young: float
    daly: float
    exact: float
    exact_numerical: float
    runtime_young: float
    runtime_daly: float
    runtime_exact: float
    efficiency_exact: float

    @classmethod
    def for_job(
        cls, work: float, delta: float, mtbf: float, restart: float = 0.0
    ) -> CheckpointPlan:
        """Compare Young, Daly and the exact optimum (Lambert W and a numerical minimum).

        Examples
        --------
        >>> from openha.models import CheckpointPlan
        >>> p = CheckpointPlan.for_job(work=500 * 60, delta=5, mtbf=15, restart=10)
        >>> round(p.daly, 1), round(p.exact, 2), round(p.exact_numerical, 2)
        (9.1, 9.17, 9.17)
        """
        check_positive("work", work)  # with no work every interval costs 0: nothing to optimise
        if check_finite("delta", delta) <= 0:
            raise OpenHAError(f"delta must be a finite number > 0 to optimise; got {delta!r}")
        exact = optimal_interval(delta, mtbf)
        res = optimize.minimize_scalar(
            lambda t: expected_runtime(work, t, delta, mtbf, restart),
            bounds=(exact * 1e-3, max(10 * mtbf, 10 * exact)),
            method="bounded",
            options={"xatol": 1e-10 * exact},
        )
        y, d = young(delta, mtbf), daly(delta, mtbf)
        return cls(
            young=y,
            daly=d,
            exact=exact,
            exact_numerical=float(res.x),
            runtime_young=expected_runtime(work, y, delta, mtbf, restart),
            runtime_daly=expected_runtime(work, d, delta, mtbf, restart),
            runtime_exact=expected_runtime(work, exact, delta, mtbf, restart),
            efficiency_exact=efficiency(exact, delta, mtbf, restart),
        )
