"""Quorum latency: exact and Monte Carlo completion times against order-statistic theory.

References: Renyi's representation for exponential order statistics
(``naive.expected_kth_of_exponentials``), the iid order-statistic CDF
``P(X_(k) <= t) = I_{F(t)}(k, n - k + 1)`` (scipy.stats.beta), subset enumeration of the
completion CDF (``naive.completion_cdf``) with node CDFs written out in plain Python,
and plain sorting of constant response times.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

import openha as ha
from openha.dist import Constant, Exponential, LogNormal, Uniform
from tests import naive

CONF = 0.999  # Monte Carlo CI level; fixed seeds, so a false failure is a 1-in-1000 event


def _nodes(names) -> list[ha.Node]:
    return [ha.Node(x) for x in names]


# --------------------------------------------------------------------------- iid closed forms
@pytest.mark.parametrize(
    ("n", "k", "mean", "shift"),
    [(3, 2, 1.0, 0.0), (5, 3, 2.0, 0.5), (7, 1, 0.5, 0.0), (6, 6, 1.5, 0.0), (9, 5, 1.0, 0.1)],
)
def test_kth_of_iid_exponentials(n, k, mean, shift):
    nodes = [ha.Node(f"n{i}", latency=Exponential(mean=mean, shift=shift)) for i in range(n)]
    qs = ha.QuorumSystem(writes=ha.choose(k, nodes))
    quantiles = (0.01, 0.5, 0.9, 0.999)
    lat = qs.latency_distribution(quantiles=quantiles, method="exact")
    assert lat.method == "exact" and lat.mean_ci_ms is None
    np.testing.assert_allclose(
        lat.mean_ms, shift + naive.expected_kth_of_exponentials(n, k, mean), rtol=1e-9
    )
    node_cdf = stats.expon(loc=shift, scale=mean).cdf
    for q in quantiles:
        t = lat.quantiles_ms[q]
        # CDF of the k-th smallest of n iid: regularized incomplete beta I_F(k, n-k+1)
        np.testing.assert_allclose(stats.beta.cdf(node_cdf(t), k, n - k + 1), q, rtol=1e-9)


# --------------------------------------------------------------------------- heterogeneous
def _uniform_cdf(lo, hi):
    return lambda t: min(1.0, max(0.0, (t - lo) / (hi - lo)))


def _exp_cdf(mean, shift=0.0):
    return lambda t: 0.0 if t <= shift else -math.expm1(-(t - shift) / mean)


def _lognormal_cdf(mu, sigma, shift=0.0):
    def cdf(t):
        if t <= shift:
            return 0.0
        return 0.5 * math.erfc(-(math.log(t - shift) - mu) / (sigma * math.sqrt(2.0)))

    return cdf


# name -> (openha distribution, the same CDF in plain Python)
HETERO = {
    "a": (Uniform(1.0, 3.0), _uniform_cdf(1.0, 3.0)),
    "b": (Exponential(mean=1.0, shift=0.5), _exp_cdf(1.0, 0.5)),
    "c": (LogNormal(mu=0.2, sigma=0.6), _lognormal_cdf(0.2, 0.6)),
    "d": (Uniform(0.5, 4.0), _uniform_cdf(0.5, 4.0)),
    "e": (Exponential(mean=2.0), _exp_cdf(2.0)),
}


def _hetero_shapes():
    a, b, c, d, e = _nodes("abcde")
    ab_cde = [set("ab"), set("cde")]
    nested = [set("ab"), set("ac"), set("bcd")]
    return {
        "majority-5": (
            ha.QuorumSystem(writes=ha.majority([a, b, c, d, e])),
            lambda up: len(up) >= 3,
            lambda up: len(up) >= 3,
        ),
        "ab+cde": (
            ha.QuorumSystem(reads=a * b + c * d * e),
            lambda up: any(q <= up for q in ab_cde),
            lambda up: all(q & up for q in ab_cde),
        ),
        "nested-repeated": (
            ha.QuorumSystem(reads=a * b + a * c + b * c * d),
            lambda up: any(q <= up for q in nested),
            lambda up: all(q & up for q in nested),
        ),
        "weighted": (
            ha.QuorumSystem(reads=ha.weighted({a: 3, b: 2, c: 1, d: 1}, 4)),
            lambda up: sum(v for x, v in zip("abcd", (3, 2, 1, 1), strict=True) if x in up) >= 4,
            lambda up: sum(v for x, v in zip("abcd", (3, 2, 1, 1), strict=True) if x in up) >= 4,
        ),
    }


HETERO_SHAPES = _hetero_shapes()


def _completion_cdf(qs, rule, t):
    names = qs.node_names
    return naive.completion_cdf(names, [HETERO[x][1](t) for x in names], rule)


@pytest.mark.parametrize("op", ["read", "write"])
@pytest.mark.parametrize("shape", sorted(HETERO_SHAPES))
def test_heterogeneous_exact_against_subset_enumeration(shape, op):
    qs, read_rule, write_rule = HETERO_SHAPES[shape]
    rule = read_rule if op == "read" else write_rule
    latency = {x: HETERO[x][0] for x in qs.node_names}
    quantiles = (0.05, 0.5, 0.95, 0.999)
    lat = qs.latency_distribution(op, latency=latency, quantiles=quantiles, method="exact")
    for q in quantiles:
        np.testing.assert_allclose(_completion_cdf(qs, rule, lat.quantiles_ms[q]), q, rtol=1e-9)
    # mean = t0 + integral of P(T > t); every node time here is >= 0
    breaks = [0.5, 1.0, 3.0, 4.0]
    mean, err = integrate.quad(
        lambda t: 1.0 - _completion_cdf(qs, rule, t), 0.0, 80.0, points=breaks, limit=400
    )
    assert err < 1e-9
    np.testing.assert_allclose(lat.mean_ms, mean, rtol=1e-8)


@pytest.mark.parametrize(
    ("shape", "op", "seed"),
    [
        ("majority-5", "write", 5),
        ("ab+cde", "read", 6),
        ("weighted", "read", 7),
        ("nested-repeated", "write", 8),
    ],
)
def test_montecarlo_cis_contain_exact(shape, op, seed):
    qs, *_ = HETERO_SHAPES[shape]
    latency = {x: HETERO[x][0] for x in qs.node_names}
    quantiles = (0.1, 0.5, 0.9, 0.99)
    exact = qs.latency_distribution(op, latency=latency, quantiles=quantiles, method="exact")
    mc = qs.latency_distribution(
        op,
        latency=latency,
        quantiles=quantiles,
        method="montecarlo",
        trials=100_000,
        seed=seed,
        confidence=CONF,
    )
    assert (mc.method, mc.trials) == ("montecarlo", 100_000)
    assert mc.mean_ci_ms[0] <= exact.mean_ms <= mc.mean_ci_ms[1]
    for q in quantiles:
        lo, hi = mc.quantiles_ci_ms[q]
        assert lo <= exact.quantiles_ms[q] <= hi
        assert lo <= mc.quantiles_ms[q] <= hi


# --------------------------------------------------------------------------- constants
CONSTANTS = {"a": 5.0, "b": 1.0, "c": 3.0, "d": 2.0, "e": 4.0}


@pytest.mark.parametrize("method", ["exact", "montecarlo"])
def test_constant_latencies_give_order_statistics(method):
    a, b, c, d, e = _nodes("abcde")
    qs_quantiles = (0.0, 0.25, 0.5, 0.99, 1.0)
    kw = {"method": method, "trials": 500, "seed": 1, "quantiles": qs_quantiles}
    cases = [
        # majority of 5: the 3rd smallest
        (
            ha.QuorumSystem(writes=ha.majority([a, b, c, d, e])),
            "write",
            sorted(CONSTANTS.values())[2],
        ),
        # choose(4): the 4th smallest
        (
            ha.QuorumSystem(reads=ha.choose(4, [a, b, c, d, e])),
            "read",
            sorted(CONSTANTS.values())[3],
        ),
        # a*b + c*d*e: the sooner of the two groups' last answers
        (ha.QuorumSystem(reads=a * b + c * d * e), "read", min(max(5.0, 1.0), max(3.0, 2.0, 4.0))),
        # its dual (a + b)*(c + d + e): the later of the two groups' first answers
        (ha.QuorumSystem(reads=a * b + c * d * e), "write", max(min(5.0, 1.0), min(3.0, 2.0, 4.0))),
    ]
    for qs, op, expected in cases:
        lat = qs.latency_distribution(op, latency=CONSTANTS, **kw)
        assert lat.quantiles_ms == dict.fromkeys(qs_quantiles, expected)
        np.testing.assert_allclose(lat.mean_ms, expected, rtol=1e-12)


@pytest.mark.parametrize("method", ["exact", "montecarlo"])
def test_equal_constants_answer_at_one_instant(method):
    nodes = [ha.Node(x, latency=Constant(2.5)) for x in "abcd"]
    qs = ha.QuorumSystem(reads=ha.choose(2, nodes))
    for op in ("read", "write"):
        lat = qs.latency_distribution(op, quantiles=(0.0, 0.5, 1.0), method=method, trials=50)
        assert lat.quantiles_ms == {0.0: 2.5, 0.5: 2.5, 1.0: 2.5}
        assert lat.mean_ms == 2.5


@pytest.mark.parametrize("method", ["exact", "montecarlo"])
def test_failed_nodes_never_answer(method):
    a, b, c, d, e = _nodes("abcde")
    qs = ha.QuorumSystem(writes=ha.majority([a, b, c, d, e]))
    kw = {"method": method, "trials": 500, "seed": 2}
    # majority of 5 with 2 failed: all 3 live nodes, so the largest live constant
    lat = qs.latency_distribution(latency=CONSTANTS, failed=["b", "d"], **kw)
    assert lat.quantiles_ms == {0.5: 5.0, 0.99: 5.0}
    np.testing.assert_allclose(lat.mean_ms, 5.0, rtol=1e-12)
    lat = qs.latency_distribution(latency=CONSTANTS, failed=["a", "e"], **kw)
    assert lat.quantiles_ms == {0.5: 3.0, 0.99: 3.0}
    lat = qs.latency_distribution(latency=CONSTANTS, failed=["e"], **kw)
    assert lat.quantiles_ms == {0.5: 3.0, 0.99: 3.0}  # 3rd of {5, 1, 3, 2}


def test_failed_nodes_with_iid_exponentials():
    nodes = [ha.Node(f"n{i}", latency=Exponential(mean=2.0)) for i in range(5)]
    qs = ha.QuorumSystem(writes=ha.majority(nodes))
    quantiles = (0.1, 0.5, 0.9)
    exact = qs.latency_distribution(failed=["n0", "n3"], quantiles=quantiles, method="exact")
    # the max of 3 live iid exponentials: Renyi mean, and CDF F(t)^3
    expected_mean = naive.expected_kth_of_exponentials(3, 3, 2.0)
    np.testing.assert_allclose(exact.mean_ms, expected_mean, rtol=1e-9)
    for q in quantiles:
        np.testing.assert_allclose(
            stats.expon(scale=2.0).cdf(exact.quantiles_ms[q]) ** 3, q, rtol=1e-9
        )
    mc = qs.latency_distribution(
        failed=["n0", "n3"],
        quantiles=quantiles,
        method="montecarlo",
        trials=100_000,
        seed=3,
        confidence=CONF,
    )
    assert mc.mean_ci_ms[0] <= expected_mean <= mc.mean_ci_ms[1]
    for q in quantiles:
        lo, hi = mc.quantiles_ci_ms[q]
        assert lo <= exact.quantiles_ms[q] <= hi


def test_uniform_order_statistic_support():
    # 3rd of 5 with node i on [i+1, i+2]: the completion time is node 2's, uniform on [3, 4]
    nodes = [ha.Node(f"n{i}", latency=Uniform(i + 1.0, i + 2.0)) for i in range(5)]
    qs = ha.QuorumSystem(writes=ha.majority(nodes))
    exact = qs.latency_distribution(quantiles=(0.0, 0.3, 1.0), method="exact")
    np.testing.assert_allclose(list(exact.quantiles_ms.values()), [3.0, 3.3, 4.0], rtol=1e-9)
    np.testing.assert_allclose(exact.mean_ms, 3.5, rtol=1e-12)
    mc = qs.latency_distribution(quantiles=(0.0, 1.0), method="montecarlo", trials=2_000, seed=4)
    # min and max of 2000 uniforms on [3, 4]: P(either is 0.01 inside) = 2 * 0.99**2000 < 4e-9
    assert 3.0 <= mc.quantiles_ms[0.0] <= 3.01
    assert 3.99 <= mc.quantiles_ms[1.0] <= 4.0


# --------------------------------------------------------------------------- WAN
AWS = ha.data.rtt_matrix("aws-2020")


@pytest.mark.parametrize("client", AWS.regions)
@pytest.mark.parametrize("method", ["exact", "montecarlo"])
def test_wan_majority_write_is_third_smallest_rtt(client, method):
    assert len(AWS.regions) == 5
    placement = {f"n{i}": region for i, region in enumerate(AWS.regions)}
    qs = ha.QuorumSystem(writes=ha.majority(_nodes(placement)))
    latency = AWS.latencies(client, placement)
    assert all(isinstance(d, Constant) for d in latency.values())
    row = AWS.rtt_ms[AWS.regions.index(client)]
    expected = float(np.sort(row)[2])
    lat = qs.latency_distribution(latency=latency, method=method, trials=200, seed=5)
    assert lat.quantiles_ms == {0.5: expected, 0.99: expected}
    np.testing.assert_allclose(lat.mean_ms, expected, rtol=1e-12)
