"""Quorum latency: the time until the nodes that have answered contain a quorum.

Exact route: with independent node response times, P(T <= t) is the availability of
the quorum expression when node i is "up" with probability F_i(t). The same exact
kernel as for availability evaluates it at many t; the mean is t0 + the integral of
P(T > t) (Gauss-Legendre on segments that break at every atom and support end), and
a quantile is the smallest t with P(T <= t) >= q (bisection to machine precision).

Monte Carlo route: sample node times, evaluate the expression as a tree of weighted
k-th order statistics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from openha._random import SeedLike, chunked_streams
from openha.dist import Constant, Distribution, Empirical, pack
from openha.quorum import _kernels
from openha.quorum.program import Program
from openha.quorum.results import LatencyDistribution

__all__ = ["exact_latency", "mc_latency"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_TAIL = 1e-13  # mass beyond the integration range, per node
_SEGMENTS = 512
_MAX_EDGE_DISTS = 16
_SPLIT = 33


def _node_cdf(dists: Sequence[Distribution], down: np.ndarray, t: np.ndarray) -> np.ndarray:
    """F[i, j] = P(node i has answered by t[j]); evaluated once per distinct distribution."""
    out = np.zeros((len(dists), t.size))
    cache: dict[Distribution, np.ndarray] = {}
    for i, d in enumerate(dists):
        if down[i]:
            continue
        if d not in cache:
            cache[d] = np.asarray(d.cdf(t), dtype=float)
        out[i] = cache[d]
    return out


def _edges(dists: Sequence[Distribution], down: np.ndarray) -> tuple[np.ndarray, float, float]:
    live = [d for d, dn in zip(dists, down, strict=True) if not dn]
    distinct = list(dict.fromkeys(live))
    t_lo = min(d.support()[0] for d in live)
    t_hi = max(
        d.support()[1] if math.isfinite(d.support()[1]) else float(d.quantile(1.0 - _TAIL))
        for d in distinct
    )
    edges = [np.linspace(t_lo, t_hi, _SEGMENTS + 1)]
    levels = 1.0 / (1.0 + np.exp(-np.linspace(-25.0, 25.0, 65)))  # logit-spaced probabilities
    step = max(1, len(distinct) // _MAX_EDGE_DISTS)
    for d in distinct[::step]:
        edges.append(np.asarray(d.quantile(levels), dtype=float))
    for d in distinct:
        lo, hi = d.support()
        edges.append(np.array([lo, hi if math.isfinite(hi) else lo]))
        if isinstance(d, Constant):
            edges.append(np.array([d.value]))
        elif isinstance(d, Empirical):
            edges.append(np.unique(np.asarray(d.samples, dtype=float)))
    e = np.unique(np.concatenate(edges))
    return e[(e >= t_lo) & (e <= t_hi)], t_lo, t_hi


def _completion_time(prog: Program, t_node: np.ndarray) -> float:
    width = int(max(prog.arg.max(), 1))
    stack = np.empty(prog.kind.size)
    return float(
        _kernels.eval_time(*prog.arrays, t_node, stack, np.empty(width), np.empty(width, np.int64))
    )


def exact_latency(
    op: str,
    prog: Program,
    dists: Sequence[Distribution],
    down: np.ndarray,
    quantiles: Sequence[float],
) -> LatencyDistribution:
    """Mean and quantiles of the quorum-completion time by numerical integration."""

    def cdf(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f = _node_cdf(dists, down, t)
        kernel = _kernels.cdf_points if t.size >= 256 else _kernels.cdf_points_serial
        return kernel(*prog.arrays, f, 1.0 - f, prog.repeated, prog.max_k)

    edges, t_lo, t_hi = _edges(dists, down)
    if edges.size < 2:  # every live node answers at one instant
        return LatencyDistribution(
            op=op, method="exact", mean_ms=t_lo, quantiles_ms={q: t_lo for q in quantiles}
        )
    a, b = edges[:-1], edges[1:]
    half = (b - a) / 2.0
    pts = ((a + b) / 2.0)[:, None] + half[:, None] * _GL_X[None, :]
    wts = half[:, None] * _GL_W[None, :]
    _, surv = cdf(pts.ravel())
    mean = t_lo + float(np.sum(wts.ravel() * surv))

    at_edges, _ = cdf(edges)
    # q = 0 is the lower end of the support, inf{t: F(t) > 0}, as in Distribution.quantile
    targets = np.array([q if q > 0.0 else 5e-324 for q in quantiles])  # F >= 5e-324: F > 0
    j = np.array([int(np.searchsorted(at_edges >= t, True)) for t in targets])
    lo = edges[np.clip(j - 1, 0, edges.size - 1)]
    hi = edges[np.clip(j, 0, edges.size - 1)].copy()
    hi[j >= edges.size] = t_hi
    active = (j > 0) & (j < edges.size)
    # Multisection: split every open bracket into 33 parts per step, all quantiles in one
    # kernel call, until brackets are 1e-12 relative (about 8 steps for smooth CDFs).
    frac = np.arange(1, _SPLIT) / _SPLIT
    for _ in range(40):
        active &= (hi - lo) > 1e-12 * np.abs(hi)
        if not active.any():
            break
        idx = np.flatnonzero(active)
        pts = lo[idx, None] + (hi[idx] - lo[idx])[:, None] * frac[None, :]
        f, _ = cdf(pts.ravel())
        ok = f.reshape(pts.shape) >= targets[idx, None]
        rows = np.arange(idx.size)
        hit = ok.any(axis=1)
        first = ok.argmax(axis=1)  # first split point with F >= q (0 if none)
        below = np.where(first > 0, pts[rows, np.maximum(first - 1, 0)], lo[idx])
        new_hi = np.where(hit, pts[rows, first], hi[idx])
        new_lo = np.where(hit, below, pts[rows, -1])
        stalled = (new_hi == hi[idx]) & (new_lo == lo[idx])
        lo[idx], hi[idx] = new_lo, new_hi
        active[idx[stalled]] = False
    out = {q: float(h) for q, h in zip(quantiles, hi, strict=True)}
    # The ends are exact: the completion time when every node answers at its support's
    # lower (q = 0) or upper (q = 1) end.
    for q, end in ((0.0, 0), (1.0, 1)):
        if q in out:
            bound = np.array(
                [np.inf if dn else d.support()[end] for d, dn in zip(dists, down, strict=True)]
            )
            out[q] = _completion_time(prog, bound)
    return LatencyDistribution(op=op, method="exact", mean_ms=mean, quantiles_ms=out)


def mc_latency(
    op: str,
    prog: Program,
    dists: Sequence[Distribution],
    down: np.ndarray,
    quantiles: Sequence[float],
    trials: int,
    seed: SeedLike,
    confidence: float,
) -> LatencyDistribution:
    """Mean and quantiles of the quorum-completion time from sampled node times."""
    kinds, offsets, params = pack(dists)
    states, per_chunk = chunked_streams(seed, trials)
    starts = np.concatenate(([0], np.cumsum(per_chunk)[:-1])).astype(np.int64)
    t = _kernels.mc_times(*prog.arrays, kinds, offsets, params, down, states, per_chunk, starts)
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    mean = float(t.mean())
    half = z * float(t.std(ddof=1)) / math.sqrt(trials) if trials > 1 else math.inf
    t.sort()
    qv: dict[float, float] = {}
    qci: dict[float, tuple[float, float]] = {}
    alpha = 1.0 - confidence
    for q in quantiles:
        idx = min(trials - 1, max(0, math.ceil(q * trials) - 1))
        qv[q] = float(t[idx])
        # distribution-free CI: ranks from the binomial(trials, q) distribution
        lo_r = int(stats.binom.ppf(alpha / 2, trials, q))
        hi_r = int(stats.binom.ppf(1 - alpha / 2, trials, q))
        qci[q] = (float(t[max(lo_r - 1, 0)]), float(t[min(hi_r, trials - 1)]))
    return LatencyDistribution(
        op=op,
        method="montecarlo",
        mean_ms=mean,
        quantiles_ms=qv,
        mean_ci_ms=(mean - half, mean + half),
        quantiles_ci_ms=qci,
        trials=trials,
    )
