"""Raft leader election model: a message-by-message Monte Carlo of round 1, closed forms
for order statistics and for clusters with no stale servers, an independent quadrature for
clusters with stale servers, monotonicity, degenerate cases and bad input.

References: D. Ongaro, "Consensus: Bridging Theory and Practice", PhD thesis, Stanford,
2014, ch. 9. ``tests/naive.py`` (``naive_election_round``) runs round 1 event by event
without using the model's argument that only the earliest up-to-date timer can win.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from openha.models import ElectionModel, election_model, split_vote_probability
from tests import naive
from tests.openha_errors import raises_openha_error as _raises

K_SE = 4.5  # Monte Carlo tolerance in standard errors (fixed seeds: deterministic)
TRIALS = 40_000

# (n, timeout, latency, live, eligible); None means the default (n - 1, live)
MC_CASES = [
    (3, (150.0, 300.0), 0.0, None, None),  # L = 0: never split
    (3, (150.0, 300.0), 20.0, None, None),
    (5, (150.0, 300.0), 10.0, None, None),
    (5, (150.0, 200.0), 30.0, None, None),  # L close to b - a
    (5, (150.0, 170.0), 30.0, None, None),  # L > b - a: always split
    (5, (150.0, 300.0), 15.0, 3, None),  # live < n - 1, just a majority left
    (5, (150.0, 300.0), 5.0, 4, 2),  # two stale servers
    (5, (100.0, 200.0), 0.0, 4, 3),  # stale and L = 0: stale timers before t refuse
    (7, (150.0, 300.0), 10.0, 6, 4),
    (7, (150.0, 250.0), 20.0, 5, 5),
    (7, (150.0, 300.0), 0.0, 5, 3),
    (5, (150.0, 300.0), 5.0, 2, None),  # below a majority: never elected
    (3, (150.0, 150.0), 5.0, None, None),  # constant timeouts
    (3, (150.0, 150.0), 0.0, None, None),  # constant timeouts, all fire at once
]


def _within(estimate: float, p: float, trials: int) -> bool:
    return abs(estimate - p) <= K_SE * math.sqrt(p * (1.0 - p) / trials) + 1e-12


# --------------------------------------------------------------------------- Monte Carlo, round 1
@pytest.mark.parametrize(("case", "seed"), [(c, 100 + i) for i, c in enumerate(MC_CASES)])
def test_round_one_against_message_level_monte_carlo(case, seed):
    n, timeout, latency, live, eligible = case
    live = n - 1 if live is None else live
    eligible = live if eligible is None else eligible
    m = election_model(n, timeout, latency, live=live, eligible=eligible)
    times = np.array(
        naive.naive_election_round(n, timeout, latency, live, eligible, trials=TRIALS, seed=seed)
    )
    q = m.split_vote_probability
    q_hat = float(np.mean(np.isinf(times)))
    assert _within(q_hat, q, TRIALS), (q_hat, q)
    a, b = timeout
    points = [a + 3 * latency + f * (b - a) for f in (0.05, 0.2, 0.5, 0.8, 1.0)]
    model_cdf = m.first_round_cdf(points)
    for x, p in zip(points, model_cdf, strict=True):
        p_hat = float(np.mean(times <= x))
        assert _within(p_hat, float(p), TRIALS), (x, p_hat, p)


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize(
    ("n", "timeout", "live", "eligible"),
    [(5, (150.0, 300.0), 4, 4), (7, (10.0, 11.0), 6, 2), (9, (1.0, 5.0), 8, 1), (3, (2, 3), 1, 1)],
)
def test_earliest_timeout_is_the_minimum_of_eligible_uniforms(n, timeout, live, eligible):
    a, b = timeout
    m = election_model(n, timeout, 0.1, live=live, eligible=eligible)
    t = np.linspace(a - 1.0, b + 1.0, 41)
    x = np.clip((t - a) / (b - a), 0.0, 1.0)
    expected = 1.0 - (1.0 - x) ** eligible
    np.testing.assert_allclose(m.earliest_timeout_cdf(t), expected, rtol=1e-14, atol=1e-15)
    assert m.earliest_timeout_mean() == pytest.approx(a + (b - a) / (eligible + 1), rel=1e-14)
    # mean = a + integral of the survival function, numerically
    survival = integrate.quad(lambda s: (1.0 - (s - a) / (b - a)) ** eligible, a, b)[0]
    assert m.earliest_timeout_mean() == pytest.approx(a + survival, rel=1e-12)


@pytest.mark.parametrize("n", [3, 4, 5, 7, 9, 101])
@pytest.mark.parametrize("ratio", [0.0, 1e-6, 0.01, 0.1, 0.37, 0.8, 0.999])
def test_all_up_to_date_closed_form(n, ratio):
    # With k = eligible = live and u = b - t: density k u^(k-1) / d^k times
    # P(Binomial(k-1, (u-L)/u) >= m-1) integrates term by term, since
    # u^(k-1) C(k-1, j) ((u-L)/u)^j (L/u)^(k-1-j) = C(k-1, j) (u-L)^j L^(k-1-j), to
    # sum_j C(k, j+1) (1 - L/d)^(j+1) (L/d)^(k-1-j) = P(Binomial(k, 1 - L/d) >= m).
    a, d = 150.0, 150.0
    m = election_model(n, (a, a + d), ratio * d)
    k, majority = n - 1, n // 2 + 1
    # counted in the servers that fire too early (probability L/d), so 1 - L/d is never rounded
    elected = stats.binom.cdf(k - majority, k, ratio)
    assert 1.0 - m.split_vote_probability == pytest.approx(elected, rel=1e-10, abs=1e-13)
    split = stats.binom.sf(k - majority, k, ratio)
    assert m.split_vote_probability == pytest.approx(split, rel=1e-10, abs=1e-300)


@pytest.mark.parametrize(("n", "latency"), [(3, 20.0), (5, 5.0), (5, 40.0), (7, 1.0), (8, 12.0)])
def test_renewal_mean_with_the_closed_form_split_probability(n, latency):
    # the documented renewal formula E[earliest] / (1 - q) + 3L, q from the binomial form
    a, b = 150.0, 300.0
    k, majority = n - 1, n // 2 + 1
    elected = stats.binom.cdf(k - majority, k, latency / (b - a))
    expected = (a + (b - a) / (k + 1)) / elected + 3 * latency
    m = election_model(n, (a, b), latency)
    assert m.mean_time_to_elect() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("n", "latency"), [(3, 20.0), (5, 5.0), (5, 40.0), (8, 12.0)])
def test_first_round_cdf_all_up_to_date_closed_form(n, latency):
    # The same term-by-term integral from u0 = max(L, b - t + 3L) to d:
    # P(elected, time <= t) = sum_{j >= m-1} C(k, j+1) L^(k-1-j) ((d-L)^(j+1) - (u0-L)^(j+1)) / d^k
    a, b = 150.0, 300.0
    d, k, need = b - a, n - 1, n // 2
    m = election_model(n, (a, b), latency)
    t = np.linspace(a, b + 4 * latency, 23)
    expected = []
    for x in t:
        u0 = min(max(latency, b - x + 3 * latency), d)
        expected.append(
            sum(
                math.comb(k, j + 1)
                * latency ** (k - 1 - j)
                * ((d - latency) ** (j + 1) - (u0 - latency) ** (j + 1))
                / d**k
                for j in range(need, k)
            )
        )
    np.testing.assert_allclose(m.first_round_cdf(t), expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("n", "timeout", "latency", "live", "eligible"),
    [
        (5, (150.0, 300.0), 5.0, 4, 2),
        (7, (150.0, 300.0), 10.0, 6, 4),
        (7, (100.0, 400.0), 0.0, 6, 1),
        (9, (150.0, 200.0), 7.0, 7, 5),
        (11, (1.0, 2.0), 0.05, 10, 3),
    ],
)
def test_stale_servers_against_adaptive_quadrature(n, timeout, latency, live, eligible):
    # Condition on the earliest eligible fire time t, whose density is k (b-t)^(k-1) / d^k:
    # the other k-1 eligible timers are Uniform(t, b), the stale ones Uniform(a, b).
    a, b = timeout
    d, k, stale, need = b - a, eligible, live - eligible, n // 2
    m = election_model(n, timeout, latency, live=live, eligible=eligible)

    def p_elected_given(t: float) -> float:
        votes_eligible = stats.binom(k - 1, max(0.0, (b - t - latency) / (b - t)))
        votes_stale = stats.binom(stale, max(0.0, (b - t - latency) / d))
        return sum(votes_eligible.pmf(i) * votes_stale.sf(need - i - 1) for i in range(k))

    def density(t: float) -> float:
        return k * (b - t) ** (k - 1) / d**k

    elected = integrate.quad(
        lambda t: density(t) * p_elected_given(t), a, b, points=[b - latency], epsabs=1e-13
    )[0]
    assert 1.0 - m.split_vote_probability == pytest.approx(elected, rel=1e-8, abs=1e-12)
    x = a + 3 * latency + 0.4 * d
    partial = integrate.quad(
        lambda t: density(t) * p_elected_given(t), a, x - 3 * latency, epsabs=1e-13
    )[0]
    assert float(m.first_round_cdf(x)) == pytest.approx(partial, rel=1e-8, abs=1e-12)


def test_no_latency_and_no_stale_servers_never_split():
    for n in (3, 4, 5, 7, 51):
        m = election_model(n, (150.0, 300.0), 0.0)
        assert m.split_vote_probability == 0.0
        assert m.mean_time_to_elect() == pytest.approx(150.0 + 150.0 / n, rel=1e-14)


@pytest.mark.parametrize(
    ("n", "timeout", "latency", "live", "eligible"),
    [(3, (150.0, 300.0), 0.0, None, None), (5, (10.0, 20.0), 0.0, 3, None), (7, (1, 2), 0, 5, 5)],
)
def test_without_splits_round_one_is_the_whole_story(n, timeout, latency, live, eligible):
    m = election_model(n, timeout, latency, live=live, eligible=eligible)
    assert m.split_vote_probability == 0.0
    a, b = timeout
    k = m.eligible
    assert m.mean_time_to_elect() == pytest.approx(a + (b - a) / (k + 1) + 3 * latency, rel=1e-13)
    t = np.linspace(a - 1, b + 1, 31)
    np.testing.assert_allclose(
        m.first_round_cdf(t + 3 * latency), m.earliest_timeout_cdf(t), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("latency", [0.0, 1e-9, 5.0, 200.0])
@pytest.mark.parametrize("n", [3, 5, 8])
def test_constant_timeouts_always_split(n, latency):
    # all timers fire at the same instant, so every live server is a candidate
    m = election_model(n, (150.0, 150.0), latency)
    assert m.split_vote_probability == 1.0
    assert m.mean_time_to_elect() == math.inf
    np.testing.assert_array_equal(m.first_round_cdf([0.0, 150.0, 1e9]), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(m.earliest_timeout_cdf([149.9, 150.0, 151.0]), [0.0, 1.0, 1.0])
    assert m.earliest_timeout_mean() == 150.0


@pytest.mark.parametrize("latency", [50.0, 50.0 + 1e-9, 51.0, 1000.0])
def test_latency_beyond_the_timeout_spread_always_splits(latency):
    m = election_model(5, (150.0, 200.0), latency)
    assert m.split_vote_probability == 1.0
    assert m.mean_time_to_elect() == math.inf


def test_latency_just_under_the_spread_splits_almost_surely():
    # P(elected) = P(Binomial(4, 1 - L/d) >= 3), with 1 - L/d = 1e-6
    m = election_model(5, (150.0, 200.0), 50.0 * (1 - 1e-6))
    elected = stats.binom.sf(2, 4, 1e-6)
    assert 1.0 - m.split_vote_probability == pytest.approx(elected, rel=1e-6)
    assert m.mean_time_to_elect() == pytest.approx(
        (150.0 + 50.0 / 5) / elected + 150.0 * (1 - 1e-6), rel=1e-6
    )


@pytest.mark.parametrize(("n", "live"), [(5, 2), (5, 0), (7, 3), (2, 1), (1, 0), (4, 2)])
def test_fewer_than_a_majority_never_elect(n, live):
    m = election_model(n, (150.0, 300.0), 5.0, live=live)
    assert m.split_vote_probability == 1.0
    assert split_vote_probability(n, (150.0, 300.0), 5.0, live=live) == 1.0
    assert m.mean_time_to_elect() == math.inf
    np.testing.assert_array_equal(m.first_round_cdf([100.0, 300.0, 1e12]), 0.0)


def test_no_eligible_server_never_elects():
    m = election_model(5, (150.0, 300.0), 0.0, eligible=0)
    assert m.split_vote_probability == 1.0
    assert m.earliest_timeout_mean() == math.inf
    assert m.mean_time_to_elect() == math.inf
    np.testing.assert_array_equal(m.earliest_timeout_cdf([100.0, 1e9]), 0.0)


def test_defaults_and_shapes():
    m = election_model(5, (150, 300))
    assert (m.n, m.timeout, m.latency, m.live, m.eligible) == (5, (150.0, 300.0), 0.0, 4, 4)
    assert election_model(5, (150, 300), live=3).eligible == 3
    assert m.majority == 3
    assert m.first_round_cdf(250.0).shape == ()
    assert m.first_round_cdf([[200.0, 250.0], [300.0, math.nan]]).shape == (2, 2)
    assert math.isnan(float(m.first_round_cdf([math.nan])[0]))
    assert m.earliest_timeout_cdf([[1.0], [2.0]]).shape == (2, 1)
    with pytest.raises(AttributeError):
        m.n = 7  # type: ignore[misc]


def test_split_vote_probability_function_matches_model():
    assert split_vote_probability(7, (150, 300), 10.0, live=6, eligible=4) == (
        election_model(7, (150, 300), 10.0, live=6, eligible=4).split_vote_probability
    )


# --------------------------------------------------------------------------- properties
timeouts = st.tuples(st.floats(1.0, 500.0), st.floats(0.01, 500.0)).map(
    lambda t: (t[0], t[0] + t[1])
)


@st.composite
def clusters(draw):
    n = draw(st.integers(2, 12))
    live = draw(st.integers(0, n - 1))
    eligible = draw(st.integers(0, live))
    return n, live, eligible


@settings(max_examples=60, deadline=None)
@given(clusters(), timeouts, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_split_probability_does_not_fall_as_latency_grows(cluster, timeout, f1, f2):
    n, live, eligible = cluster
    d = timeout[1] - timeout[0]
    lo, hi = sorted((f1 * 1.2 * d, f2 * 1.2 * d))
    m_lo = election_model(n, timeout, lo, live=live, eligible=eligible)
    m_hi = election_model(n, timeout, hi, live=live, eligible=eligible)
    assert 0.0 <= m_lo.split_vote_probability <= 1.0
    assert m_lo.split_vote_probability <= m_hi.split_vote_probability + 1e-12
    assert m_lo.mean_time_to_elect() <= m_hi.mean_time_to_elect() * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(clusters(), st.floats(1.0, 500.0), st.floats(0.0, 50.0), st.floats(0.0, 500.0))
def test_split_probability_does_not_rise_with_a_wider_timeout(cluster, a, latency, extra):
    n, live, eligible = cluster
    narrow = split_vote_probability(n, (a, a + 50.0), latency, live=live, eligible=eligible)
    wide = split_vote_probability(n, (a, a + 50.0 + extra), latency, live=live, eligible=eligible)
    assert wide <= narrow + 1e-12


@settings(max_examples=40, deadline=None)
@given(clusters(), timeouts, st.floats(0.0, 1.5), st.floats(0.01, 100.0), st.floats(-100, 100))
def test_split_probability_depends_on_latency_over_spread_only(cluster, timeout, f, scale, shift):
    n, live, eligible = cluster
    a, b = timeout
    q = split_vote_probability(n, timeout, f * (b - a), live=live, eligible=eligible)
    a2 = max(a * scale + shift, 0.5)
    d2 = (b - a) * scale
    q2 = split_vote_probability(n, (a2, a2 + d2), f * d2, live=live, eligible=eligible)
    assert q2 == pytest.approx(q, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(clusters(), timeouts, st.floats(0.0, 0.5))
def test_first_round_cdf_is_a_defective_cdf_below_the_earliest_timer(cluster, timeout, f):
    n, live, eligible = cluster
    a, b = timeout
    latency = f * (b - a)
    m = election_model(n, timeout, latency, live=live, eligible=eligible)
    t = np.linspace(a - 1.0, b + 4 * latency + 1.0, 25)
    cdf = m.first_round_cdf(t)
    assert np.all(np.diff(cdf) >= -1e-12)
    assert cdf[-1] == pytest.approx(1.0 - m.split_vote_probability, abs=1e-12)
    assert np.all(cdf <= m.earliest_timeout_cdf(t - 3 * latency) + 1e-12)


# --------------------------------------------------------------------------- bad input
GOOD = {"n": 5, "timeout": (150.0, 300.0), "latency": 5.0, "live": 4, "eligible": 4}


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("n", 0, ("n", "0", "[1, inf]")),
        ("n", 2.5, ("n", "2.5", "integer")),
        ("n", True, ("n", "True")),
        ("timeout", (0.0, 300.0), ("timeout[0]", "> 0")),
        ("timeout", (-1.0, 300.0), ("timeout[0]", "-1.0")),
        ("timeout", (300.0, 150.0), ("timeout[1]", "150.0", ">= timeout[0]")),
        ("timeout", (150.0, math.inf), ("timeout[1]", "inf", "finite")),
        ("timeout", (math.nan, 300.0), ("timeout[0]", "nan")),
        ("timeout", (150.0, 200.0, 300.0), ("timeout", "pair")),
        ("timeout", 150.0, ("timeout", "pair", "150.0")),
        ("timeout", "ab", ("timeout", "pair")),
        ("timeout", (150.0, "x"), ("timeout[1]", "'x'", "number")),
        ("latency", -1.0, ("latency", "-1.0", ">= 0")),
        ("latency", math.inf, ("latency", "inf")),
        ("latency", math.nan, ("latency", "nan")),
        ("live", 5, ("live", "5", "[0, 4]")),
        ("live", -1, ("live", "-1", "[0, 4]")),
        ("eligible", 5, ("eligible", "5", "[0, 4]")),
        ("eligible", -1, ("eligible", "-1")),
        ("eligible", 1.0, ("eligible", "integer")),
    ],
)
def test_bad_input_names_the_parameter(field, value, words):
    kwargs = {**GOOD, field: value}
    _raises(lambda: ElectionModel(**kwargs), *words)
    args = {k: v for k, v in kwargs.items() if k not in ("live", "eligible")}
    rest = {k: kwargs[k] for k in ("live", "eligible")}
    _raises(lambda: election_model(**args, **rest), *words)
    _raises(lambda: split_vote_probability(**args, **rest), *words)


def test_eligible_above_live_is_rejected():
    _raises(lambda: election_model(5, (150, 300), live=3, eligible=4), "eligible", "4", "[0, 3]")
    _raises(lambda: election_model(5, (150, 300), live=7), "live", "7", "[0, 4]")
    _raises(lambda: election_model(0, (150, 300)), "n", "0")
