"""Monte Carlo cross-checks of the models, by simulating the physical processes in numba."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from openha._random import SeedLike, chunked_streams
from openha.errors import (
    OpenHAError,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
)
from openha.models import _kernels
from openha.models.markov import ReplicaChain

__all__ = ["Estimate", "simulate_checkpoint", "simulate_replicas"]


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo mean with its confidence interval (t-interval over replications)."""

    mean: float
    ci: tuple[float, float]
    confidence: float
    replications: int

    @classmethod
    def of(cls, samples: np.ndarray, confidence: float) -> Estimate:
        """The mean of ``samples`` with a Student-t interval."""
        m = samples.size
        mean = float(samples.mean())
        if m < 2:
            return cls(mean, (-math.inf, math.inf), confidence, m)
        half = (
            float(stats.t.ppf(0.5 + confidence / 2, m - 1))
            * float(samples.std(ddof=1))
            / math.sqrt(m)
        )
        return cls(mean, (mean - half, mean + half), confidence, m)


def simulate_replicas(
    chain: ReplicaChain,
    *,
    horizon_hours: float,
    replications: int = 64,
    seed: SeedLike = None,
    confidence: float = 0.95,
    first_loss: bool = False,
) -> Estimate:
    """Node-level simulation of ``chain``'s failure and repair processes.

    Returns the fraction of time without a quorum over ``horizon_hours`` per replication
    (``first_loss=False``) or the time to the first loss of quorum from all up
    (``first_loss=True``, runs stop there; ``horizon_hours`` caps them).

    Examples
    --------
    >>> from openha.models import ReplicaChain, markov_availability, simulate_replicas
    >>> chain = ReplicaChain(n=3, k=2, failure_rate=0.01, repair_rate=0.1)
    >>> est = simulate_replicas(chain, horizon_hours=1e5, replications=32, seed=1)
    >>> est.ci[0] < markov_availability(3, 2, 0.01, 0.1).unavailability < est.ci[1]
    True
    """
    horizon = check_positive("horizon_hours", horizon_hours)
    replications = check_int("replications", replications, low=2)
    confidence = check_probability("confidence", confidence)
    sizes = np.array(chain.sizes, np.int64)
    zone_of = np.repeat(np.arange(sizes.size), sizes).astype(np.int64)
    states, per_chunk = chunked_streams(seed, replications)
    down, ends = _kernels.replica_runs(
        zone_of,
        sizes,
        chain.k,
        chain.failure_rate,
        chain.repair_rate,
        -1 if chain.crews is None else chain.crews,
        chain.zone_failure_rate,
        chain.zone_repair_rate,
        horizon,
        first_loss,
        states,
        per_chunk,
    )
    if first_loss:
        if (ends >= horizon).any():
            raise OpenHAError(
                f"some runs kept their quorum for all of horizon_hours={horizon:g}; raise it"
            )
        return Estimate.of(ends, confidence)
    return Estimate.of(down / horizon, confidence)


def simulate_checkpoint(
    work: float,
    interval: float,
    delta: float,
    mtbf: float,
    restart: float = 0.0,
    *,
    weibull_shape: float | None = None,
    replications: int = 1000,
    seed: SeedLike = None,
    confidence: float = 0.95,
) -> Estimate:
    """Wall-clock time of a checkpointed job, simulated (see :func:`expected_runtime`).

    Failures renew at each failure with mean time between them ``mtbf``: exponential, or
    Weibull with ``weibull_shape`` (scale set so the mean is ``mtbf``); shape < 1 means
    failures cluster, where Young's and Daly's formulas (which assume exponential
    failures) stop being optimal.

    Examples
    --------
    >>> from openha.models import expected_runtime, simulate_checkpoint
    >>> est = simulate_checkpoint(work=100.0, interval=2.0, delta=0.1, mtbf=10.0, restart=0.2, seed=1)
    >>> est.ci[0] < expected_runtime(100.0, 2.0, 0.1, 10.0, 0.2) < est.ci[1]
    True
    """
    work = check_positive("work", work)
    tau = check_positive("interval", interval)
    delta = check_nonnegative("delta", delta)
    mtbf = check_positive("mtbf", mtbf)
    restart = check_nonnegative("restart", restart)
    replications = check_int("replications", replications, low=2)
    confidence = check_probability("confidence", confidence)
    if weibull_shape is None:
        kind, scale, shape = 0, mtbf, 1.0
    else:
        shape = check_positive("weibull_shape", weibull_shape)
        kind, scale = 1, mtbf / math.gamma(1.0 + 1.0 / shape)
    n_full = math.floor(work / tau)
    last = work - n_full * tau
    if last <= 1e-12 * work:  # tau divides work up to rounding
        last = 0.0
    elif tau - last <= 1e-12 * work:
        n_full, last = n_full + 1, 0.0
    states, per_chunk = chunked_streams(seed, replications)
    out = _kernels.checkpoint_runs(
        n_full, last, tau, delta, restart, kind, scale, shape, states, per_chunk
    )
    return Estimate.of(out, confidence)
