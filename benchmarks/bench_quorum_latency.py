"""Quorum latency: openha beside the baselines a user would otherwise write.

Groups (see ``benchmarks/README.md`` for the measured numbers):

- ``latency montecarlo majority(n)``: sampled completion times of a majority of n
  nodes with Exponential(mean=0.1, shift=0.1) response times, against numpy
  (``rng.exponential`` then ``np.partition``) and pure Python
  (``random.expovariate`` then ``naive.kth_smallest_samples``); each records
  node-samples per second.
- ``latency exact majority(9) iid``: openha's exact mean and quantiles against the
  same numerical integration over ``naive.completion_cdf`` (2^9 answered-sets per
  CDF point) in pure Python.
- ``latency exact majority(101) heterogeneous``: openha's exact method against a
  numpy Poisson-binomial DP vectorised over the integration grid.

Every benchmark checks its answer against Renyi's closed form for the mean of an
order statistic of exponentials, the Beta law of uniform order statistics, or
openha's result, so a fast wrong answer fails.
"""

from __future__ import annotations

import functools
import math
import random

import numpy as np
import pytest
from scipy import stats

import openha as ha
from tests import naive

SHIFT_MS = 0.1
MEAN_MS = 0.1  # mean of the exponential part
QUANTILES = (0.5, 0.99)
CONFIDENCE = 0.999
Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
TAIL = 1e-13  # integrate until each node's tail holds less than this
GL_X, GL_W = np.polynomial.legendre.leggauss(8)


def iid_majority(n: int) -> ha.QuorumSystem:
    latency = ha.dist.Exponential(mean=MEAN_MS, shift=SHIFT_MS)
    nodes = [ha.Node(f"n{i}", latency=latency) for i in range(n)]
    return ha.QuorumSystem(writes=ha.majority(nodes))


def renyi_mean_ms(n: int) -> float:
    """E[k-th smallest of n iid shifted exponentials], k = n // 2 + 1."""
    return SHIFT_MS + naive.expected_kth_of_exponentials(n, n // 2 + 1, MEAN_MS)


def iid_quantile_ms(n: int, q: float) -> float:
    """The k-th of n uniforms is Beta(k, n - k + 1); map it through the exponential."""
    k = n // 2 + 1
    u = float(stats.beta.ppf(q, k, n - k + 1))
    return SHIFT_MS - MEAN_MS * math.log1p(-u)


# --------------------------------------------------------------------------- Monte Carlo
MC_TRIALS = 10**6
MC_TRIALS_PURE_PYTHON = 10**4
MC_CHUNK = 1 << 16  # numpy baseline: rows per vectorised block


def numpy_kth_samples(n: int, trials: int, seed: int) -> np.ndarray:
    """Completion times the numpy way: sample a block of rows, partition each row."""
    rng = np.random.default_rng(seed)
    k = n // 2 + 1
    out = np.empty(trials)
    for start in range(0, trials, MC_CHUNK):
        m = min(MC_CHUNK, trials - start)
        t = SHIFT_MS + rng.exponential(MEAN_MS, (m, n))
        out[start : start + m] = np.partition(t, k - 1, axis=1)[:, k - 1]
    return out


def python_kth_samples(n: int, trials: int, seed: int) -> list[float]:
    """Completion times in pure Python: draw each node's time, sort each row."""
    rng = random.Random(seed)
    rate = 1.0 / MEAN_MS
    rows = [[SHIFT_MS + rng.expovariate(rate) for _ in range(n)] for _ in range(trials)]
    return naive.kth_smallest_samples(rows, n // 2 + 1)


MC_CASES = [(n, impl) for n in (5, 101) for impl in ("openha", "numpy", "naive_python")]


@pytest.mark.parametrize(("n", "impl"), MC_CASES, ids=[f"n{n}-{i}" for n, i in MC_CASES])
def test_latency_montecarlo(benchmark, record_rate, n, impl):
    benchmark.group = f"latency montecarlo majority({n})"
    trials = MC_TRIALS_PURE_PYTHON if impl == "naive_python" else MC_TRIALS
    benchmark.extra_info.update(impl=impl, n=n, trials=trials)
    rounds = 2 if n > 50 else 5
    expected = renyi_mean_ms(n)
    if impl == "openha":
        qs = iid_majority(n)
        res = benchmark.pedantic(
            qs.latency_distribution,
            kwargs=dict(
                method="montecarlo",
                trials=trials,
                seed=1,
                quantiles=QUANTILES,
                confidence=CONFIDENCE,
            ),
            rounds=rounds,
        )
        assert res.mean_ci_ms is not None
        assert res.mean_ci_ms[0] <= expected <= res.mean_ci_ms[1]
        for q in QUANTILES:
            lo, hi = res.quantiles_ci_ms[q]
            assert lo <= iid_quantile_ms(n, q) <= hi
    else:
        sample = numpy_kth_samples if impl == "numpy" else python_kth_samples
        t = np.asarray(benchmark.pedantic(sample, args=(n, trials, 1), rounds=rounds))
        half = Z * float(t.std(ddof=1)) / math.sqrt(trials)
        assert abs(float(t.mean()) - expected) <= half
    rate = record_rate(benchmark, "samples_per_s", trials * n)
    benchmark.extra_info["s_per_sample"] = 1.0 / rate


# --------------------------------------------------------------------------- exact, n = 9 iid
EXACT_IID_N = 9


def naive_exact_latency(n: int, segments: int = 64) -> tuple[float, dict[float, float]]:
    """(mean, quantiles) of the iid majority completion time from naive.completion_cdf.

    The mean is SHIFT + the integral of P(T > t) by composite 8-point Gauss-Legendre;
    each quantile is found by bisection to within a few ulps. Every CDF point
    enumerates the 2^n sets of answered nodes.
    """
    names = [f"n{i}" for i in range(n)]
    k = n // 2 + 1

    def holds(answered: frozenset[str]) -> bool:
        return len(answered) >= k

    def cdf(t: float) -> float:
        f = 0.0 if t <= SHIFT_MS else -math.expm1(-(t - SHIFT_MS) / MEAN_MS)
        return naive.completion_cdf(names, [f] * n, holds)

    t_hi = SHIFT_MS - MEAN_MS * math.log(TAIL)
    h = (t_hi - SHIFT_MS) / segments
    area = 0.0
    for s in range(segments):
        mid = SHIFT_MS + (s + 0.5) * h
        for x, w in zip(GL_X.tolist(), GL_W.tolist(), strict=True):
            area += 0.5 * h * w * (1.0 - cdf(mid + 0.5 * h * x))
    out = {}
    for q in QUANTILES:
        lo, hi = SHIFT_MS, t_hi
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            lo, hi = (lo, mid) if cdf(mid) >= q else (mid, hi)
        out[q] = hi
    return SHIFT_MS + area, out


@pytest.mark.parametrize("impl", ["openha", "naive_python"])
def test_latency_exact_iid(benchmark, impl):
    n = EXACT_IID_N
    benchmark.group = f"latency exact majority({n}) iid"
    benchmark.extra_info.update(impl=impl, n=n)
    if impl == "openha":
        qs = iid_majority(n)
        res = benchmark.pedantic(
            qs.latency_distribution, kwargs=dict(method="exact", quantiles=QUANTILES), rounds=5
        )
        mean, quantiles = res.mean_ms, res.quantiles_ms
    else:
        mean, quantiles = benchmark.pedantic(naive_exact_latency, args=(n,), rounds=3)
    assert mean == pytest.approx(renyi_mean_ms(n), rel=1e-9)
    for q in QUANTILES:
        assert quantiles[q] == pytest.approx(iid_quantile_ms(n, q), rel=1e-9)


# --------------------------------------------------------------------------- exact, n = 101
HETERO_N = 101


@functools.cache
def heterogeneous_means_ms() -> np.ndarray:
    return np.random.default_rng(HETERO_N).uniform(0.05, 0.2, HETERO_N)


def fewer_than_k_answered(t: np.ndarray, means: np.ndarray, k: int) -> np.ndarray:
    """P(fewer than k nodes answered by each t): Poisson-binomial DP, vectorised over t."""
    x = np.maximum(t - SHIFT_MS, 0.0)[None, :] / means[:, None]
    answered, waiting = -np.expm1(-x), np.exp(-x)
    pmf = np.zeros((k + 1, t.size))  # row j: P(j answered), row k: P(>= k answered)
    pmf[0] = 1.0
    for f, s in zip(answered, waiting, strict=True):
        moved = pmf * f
        pmf *= s
        pmf[1:] += moved[:-1]
        pmf[k] += moved[k]
    return pmf[:k].sum(axis=0)


def numpy_exact_latency(means: np.ndarray, segments: int = 512) -> tuple[float, dict]:
    """(mean, quantiles) of a majority's completion time with heterogeneous exponentials."""
    k = means.size // 2 + 1
    t_hi = SHIFT_MS - float(means.max()) * math.log(TAIL)
    edges = np.linspace(SHIFT_MS, t_hi, segments + 1)
    half = np.diff(edges) / 2.0
    pts = (edges[:-1] + half)[:, None] + half[:, None] * GL_X[None, :]
    wts = half[:, None] * GL_W[None, :]
    mean = SHIFT_MS + float(np.sum(wts.ravel() * fewer_than_k_answered(pts.ravel(), means, k)))
    q = np.array(QUANTILES)
    lo, hi = np.full(q.size, SHIFT_MS), np.full(q.size, t_hi)
    for _ in range(100):  # bisection on every quantile at once
        mid = 0.5 * (lo + hi)
        done = 1.0 - fewer_than_k_answered(mid, means, k) >= q
        hi, lo = np.where(done, mid, hi), np.where(done, lo, mid)
    return mean, dict(zip(QUANTILES, hi.tolist(), strict=True))


@functools.cache
def reference_hetero() -> tuple[float, dict]:
    return numpy_exact_latency(heterogeneous_means_ms(), segments=4096)


@pytest.mark.parametrize("impl", ["openha", "numpy"])
def test_latency_exact_heterogeneous(benchmark, impl):
    n = HETERO_N
    benchmark.group = f"latency exact majority({n}) heterogeneous"
    benchmark.extra_info.update(impl=impl, n=n)
    means = heterogeneous_means_ms()
    if impl == "openha":
        nodes = [
            ha.Node(f"n{i}", latency=ha.dist.Exponential(mean=float(m), shift=SHIFT_MS))
            for i, m in enumerate(means)
        ]
        qs = ha.QuorumSystem(writes=ha.majority(nodes))
        res = benchmark.pedantic(
            qs.latency_distribution, kwargs=dict(method="exact", quantiles=QUANTILES), rounds=2
        )
        mean, quantiles = res.mean_ms, res.quantiles_ms
    else:
        mean, quantiles = benchmark.pedantic(numpy_exact_latency, args=(means,), rounds=5)
    ref_mean, ref_quantiles = reference_hetero()
    assert mean == pytest.approx(ref_mean, rel=1e-9)
    for q in QUANTILES:
        assert quantiles[q] == pytest.approx(ref_quantiles[q], rel=1e-9)
