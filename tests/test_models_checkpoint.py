"""Checkpoint/restart: Daly's published examples, brute-force optima, first-step analysis,
and simulation (exponential and Weibull failures).

References: J. T. Daly, "A higher order estimate of the optimum checkpoint interval for
restart dumps", FGCS 22(3), 2006, Figs. 3-5 (delta = 5 min, R = 10 min, Ts = 500 h; the
model predicts tau_opt = 117, 57 and 9.1 min for M = 24 h, 6 h, 15 min); Young, CACM 1974;
``tests/naive.py`` derives the expected runtime by first-step analysis with numerical
integrals; the optimum is checked against a grid search plus scipy's bounded minimiser.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

import openha as ha
from openha.models import (
    CheckpointPlan,
    daly,
    efficiency,
    expected_runtime,
    optimal_interval,
    simulate_checkpoint,
    young,
)
from tests import naive
from tests.openha_errors import raises_openha_error as _raises

CONF = 0.999  # Monte Carlo CI level: a false failure is a 1-in-1000 event per fixed seed


# --------------------------------------------------------------------------- published results
@pytest.mark.parametrize(
    ("mtbf_min", "published_min", "decimals"),
    [(24 * 60, 117, 0), (6 * 60, 57, 0), (15, 9.1, 1)],
)
def test_daly_published_examples(mtbf_min, published_min, decimals):
    # Daly (2006), Figs. 3-5: delta = 5 min; R and Ts scale the cost, not the optimum
    assert round(daly(5.0, mtbf_min), decimals) == published_min
    # the same examples in hours give the same interval in hours
    assert daly(5 / 60, mtbf_min / 60) == pytest.approx(daly(5.0, mtbf_min) / 60, rel=1e-13)


def test_daly_fig5_plan():
    # Fig. 5 as a whole job, in minutes: Ts = 500 h, R = 10 min, M = 15 min
    p = CheckpointPlan.for_job(work=500 * 60, delta=5.0, mtbf=15.0, restart=10.0)
    assert round(p.daly, 1) == 9.1


@pytest.mark.parametrize(("delta", "mtbf"), [(5.0, 1440.0), (1 / 12, 24.0), (2.0, 1.0), (0.0, 3.0)])
def test_young_closed_form(delta, mtbf):
    assert young(delta, mtbf) == pytest.approx(math.sqrt(2 * delta * mtbf), rel=1e-15)
    assert young(5.0, 1440.0) == 120.0


@pytest.mark.parametrize("ratio", [1e-6, 1e-3, 0.1, 0.5, 1.0, 1.99])
def test_daly_formula_by_hand(ratio):
    mtbf = 7.0
    delta = ratio * mtbf
    # eq. 37: sqrt(2 delta M) [1 + (1/3) sqrt(delta / 2M) + (1/9) (delta / 2M)] - delta
    by_hand = (
        math.sqrt(2 * delta * mtbf) * (1 + math.sqrt(delta / (2 * mtbf)) / 3 + delta / (18 * mtbf))
        - delta
    )
    assert daly(delta, mtbf) == pytest.approx(by_hand, rel=1e-13)


@pytest.mark.parametrize("ratio", [2.0, 2.5, 10.0, 1e3])
def test_daly_is_mtbf_when_checkpoints_take_twice_the_mtbf(ratio):
    assert daly(ratio * 3.0, 3.0) == 3.0


def test_daly_improves_on_young():
    # the point of the higher-order estimate: closer to the exact optimum for every delta < 2M
    for ratio in np.geomspace(1e-8, 1.99, 200):
        exact = optimal_interval(float(ratio), 1.0)
        assert abs(daly(float(ratio), 1.0) - exact) < abs(young(float(ratio), 1.0) - exact)


# --------------------------------------------------------------------------- the exact optimum
def _brute_force_minimum(work, delta, mtbf, restart):
    """Grid over tau / M in [1e-5, 5] (no use of the formula), then scipy between neighbours."""

    def cost(t):
        return expected_runtime(work, t, delta, mtbf, restart)

    grid = mtbf * np.geomspace(1e-5, 5.0, 3001)
    i = int(np.argmin([cost(t) for t in grid]))
    assert 0 < i < grid.size - 1, "the minimum must lie inside the grid"
    res = optimize.minimize_scalar(
        cost,
        bounds=(grid[i - 1], grid[i + 1]),
        method="bounded",
        options={"xatol": 1e-13 * grid[i]},
    )
    return float(res.x), cost


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-6.0, 2.0),  # log10(delta / M)
    st.floats(1e-2, 1e4),  # M
    st.floats(0.0, 3.0),  # restart / M
    st.floats(1.0, 1e3),  # work / M
)
def test_optimal_interval_is_the_brute_force_minimum(log_ratio, mtbf, restart_ratio, work_ratio):
    delta = 10**log_ratio * mtbf
    work, restart = work_ratio * mtbf, restart_ratio * mtbf
    best, cost = _brute_force_minimum(work, delta, mtbf, restart)
    tau = optimal_interval(delta, mtbf)
    # the cost is flat at its minimum: a numerical minimiser finds tau to ~sqrt(eps)
    assert tau == pytest.approx(best, rel=1e-6)
    assert cost(tau) <= cost(best) * (1 + 1e-12)


@pytest.mark.parametrize("log_ratio", [-6.0, -5.0, -4.5, -4.0, -3.9, -2.0, 0.0, 1.0, 2.0])
def test_optimal_interval_on_both_sides_of_the_series_switch(log_ratio):
    # fixed points (hypothesis above draws at random): near the Lambert W branch point the
    # optimum comes from a series, further out from W itself
    mtbf = 3.0
    delta = 10**log_ratio * mtbf
    best, cost = _brute_force_minimum(100 * mtbf, delta, mtbf, 0.5 * mtbf)
    tau = optimal_interval(delta, mtbf)
    assert tau == pytest.approx(best, rel=1e-6)
    assert cost(tau) <= cost(best) * (1 + 1e-12)


def test_optimal_interval_zero_checkpoint_cost():
    # free checkpoints: the cost (e^(tau/M) - 1) / tau only grows, so checkpoint continuously
    assert optimal_interval(0.0, 10.0) == 0.0


# --------------------------------------------------------------------------- expected runtime
RUNTIME_CASES = [  # (work, interval, delta, mtbf, restart): work a multiple of interval
    (100.0, 2.0, 0.1, 10.0, 0.2),
    (500 * 60, 60.0, 5.0, 24 * 60, 10.0),  # Daly's Fig. 3 near its optimum (minutes)
    (900.0, 9.0, 5.0, 15.0, 10.0),  # Fig. 5's regime: several failures per segment
    (50.0, 1.0, 0.0, 5.0, 0.0),
    (60.0, 5.0, 1.0, 8.0, 2.0),
]


@pytest.mark.parametrize(("work", "tau", "delta", "mtbf", "restart"), RUNTIME_CASES)
def test_expected_runtime_by_first_step_analysis(work, tau, delta, mtbf, restart):
    expected = naive.checkpoint_runtime_by_renewal(work, tau, delta, mtbf, restart)
    assert expected_runtime(work, tau, delta, mtbf, restart) == pytest.approx(expected, rel=1e-9)


def test_expected_runtime_limits_by_hand():
    # no failures to speak of: work plus one checkpoint per interval
    assert expected_runtime(100.0, 4.0, 0.5, 1e12) == pytest.approx(100 + 25 * 0.5, rel=1e-9)
    # Daly eq. 13 written out: M e^(R/M) (e^((tau + delta)/M) - 1) Ts / tau
    by_hand = 24.0 * math.exp(0.5 / 24) * (math.exp(2.25 / 24) - 1) * 100 / 2
    assert expected_runtime(100.0, 2.0, 0.25, 24.0, 0.5) == pytest.approx(by_hand, rel=1e-13)
    assert expected_runtime(0.0, 2.0, 0.25, 24.0, 0.5) == 0.0


@pytest.mark.parametrize(("work", "tau", "delta", "mtbf", "restart"), RUNTIME_CASES)
def test_simulated_runtime_contains_expected_runtime(work, tau, delta, mtbf, restart):
    expected = expected_runtime(work, tau, delta, mtbf, restart)
    est = simulate_checkpoint(
        work, tau, delta, mtbf, restart, replications=2000, seed=21, confidence=CONF
    )
    assert est.ci[0] < expected < est.ci[1]
    assert est.ci[1] - est.ci[0] < 0.05 * expected
    # Weibull with shape 1 is the exponential distribution
    wei = simulate_checkpoint(
        work,
        tau,
        delta,
        mtbf,
        restart,
        weibull_shape=1.0,
        replications=2000,
        seed=22,
        confidence=CONF,
    )
    assert wei.ci[0] < expected < wei.ci[1]


@pytest.mark.parametrize("shape", [0.5, 1.0, 2.0])
def test_single_segment_under_renewal_failures(shape):
    # one segment of length s = work + delta, free restarts: the job ends with the first
    # gap between failures longer than s, so E[runtime] = s + E[X; X < s] / P(X >= s)
    # for any renewal distribution X (here Weibull with mean mtbf), by Wald's identity
    work, delta, mtbf = 5.0, 1.0, 10.0
    x = stats.weibull_min(shape, scale=mtbf / math.gamma(1 + 1 / shape))
    assert x.mean() == pytest.approx(mtbf, rel=1e-12)
    s = work + delta
    short = integrate.quad(lambda t: t * x.pdf(t), 0.0, s, epsabs=0.0, epsrel=1e-12)[0]
    expected = s + short / x.sf(s)
    est = simulate_checkpoint(
        work,
        work,
        delta,
        mtbf,
        0.0,
        weibull_shape=shape,
        replications=20_000,
        seed=41,
        confidence=CONF,
    )
    assert est.ci[0] < expected < est.ci[1]
    assert est.ci[1] - est.ci[0] < 0.03 * expected


def _std_error(est):
    t = stats.t.ppf(0.5 + est.confidence / 2, est.replications - 1)
    return (est.ci[1] - est.ci[0]) / 2 / t


def test_clustered_failures_move_the_optimum_away_from_daly():
    # Weibull shape < 1, renewing at each failure: failures cluster right after a restart
    # and a survivor's hazard falls, so Daly's interval (exponential failures) is no longer
    # optimal. Search coarsely with one seed, then confirm with fresh seeds.
    delta, restart, mtbf, work, shape = 5.0, 10.0, 60.0, 3000.0, 0.4
    tau_daly = daly(delta, mtbf)

    def run(tau, replications, seed):
        return simulate_checkpoint(
            work,
            tau,
            delta,
            mtbf,
            restart,
            weibull_shape=shape,
            replications=replications,
            seed=seed,
            confidence=CONF,
        )

    factors = (0.5, 1.0, 1.5, 2.0, 3.0)
    means = {f: run(f * tau_daly, 1000, seed=31).mean for f in factors}
    best = min(means, key=means.__getitem__)
    assert best != 1.0
    at_daly, at_best = run(tau_daly, 4000, seed=32), run(best * tau_daly, 4000, seed=33)
    z = stats.norm.ppf(CONF)  # one-sided: the runtime at Daly's interval is higher
    diff_se = math.hypot(_std_error(at_daly), _std_error(at_best))
    assert at_daly.mean - at_best.mean > z * diff_se


# --------------------------------------------------------------------------- efficiency and plans
@pytest.mark.parametrize(("work", "tau", "delta", "mtbf", "restart"), RUNTIME_CASES)
def test_efficiency_is_work_over_runtime(work, tau, delta, mtbf, restart):
    eff = efficiency(tau, delta, mtbf, restart)
    assert eff == pytest.approx(work / expected_runtime(work, tau, delta, mtbf, restart), rel=1e-13)
    assert 0 < eff < 1
    if delta > 0:
        best = efficiency(optimal_interval(delta, mtbf), delta, mtbf, restart)
        for t in (tau, young(delta, mtbf), daly(delta, mtbf)):
            assert efficiency(t, delta, mtbf, restart) <= best * (1 + 1e-14)


@pytest.mark.parametrize(
    ("work", "delta", "mtbf", "restart"),
    [
        (500 * 60, 5.0, 15.0, 10.0),
        (500 * 60, 5.0, 1440.0, 10.0),
        (100.0, 0.1, 10.0, 0.0),
        (10.0, 3.0, 1.0, 1.0),
    ],
)
def test_checkpoint_plan_fields(work, delta, mtbf, restart):
    p = CheckpointPlan.for_job(work=work, delta=delta, mtbf=mtbf, restart=restart)
    assert p.young == young(delta, mtbf)
    assert p.daly == daly(delta, mtbf)
    assert p.exact == optimal_interval(delta, mtbf)
    assert p.exact_numerical == pytest.approx(p.exact, rel=1e-6)
    for tau, runtime in (
        (p.young, p.runtime_young),
        (p.daly, p.runtime_daly),
        (p.exact, p.runtime_exact),
    ):
        assert runtime == expected_runtime(work, tau, delta, mtbf, restart)
    assert p.efficiency_exact == pytest.approx(work / p.runtime_exact, rel=1e-13)
    assert p.runtime_exact <= min(p.runtime_young, p.runtime_daly) * (1 + 1e-14)


# --------------------------------------------------------------------------- determinism


def test_simulation_depends_on_seed_only_not_threads(restore_threads):
    assert numba.config.NUMBA_NUM_THREADS >= 2

    def run(seed):
        a = simulate_checkpoint(100.0, 3.0, 0.2, 10.0, 0.5, replications=257, seed=seed)
        b = simulate_checkpoint(
            100.0, 3.0, 0.2, 10.0, 0.5, weibull_shape=0.6, replications=257, seed=seed
        )
        return [float(x).hex() for x in (a.mean, *a.ci, b.mean, *b.ci)]

    numba.set_num_threads(1)
    one = run(8)
    numba.set_num_threads(2)
    assert run(8) == one
    assert run(9) != one


# --------------------------------------------------------------------------- bad input


NOT_POSITIVE = [0, -1.0, math.nan, math.inf, "x", None, True]
NEGATIVE = [-1e-9, -1.0, math.nan, math.inf, "x"]


@pytest.mark.parametrize("bad", NOT_POSITIVE)
def test_mtbf_and_interval_must_be_positive(bad):
    _raises(lambda: young(1.0, bad), "mtbf")
    _raises(lambda: daly(1.0, bad), "mtbf")
    _raises(lambda: optimal_interval(1.0, bad), "mtbf")
    _raises(lambda: expected_runtime(10.0, 1.0, 0.1, bad), "mtbf")
    _raises(lambda: CheckpointPlan.for_job(10.0, 0.1, bad), "mtbf")
    _raises(lambda: simulate_checkpoint(10.0, 1.0, 0.1, bad), "mtbf")
    _raises(lambda: expected_runtime(10.0, bad, 0.1, 5.0), "interval")
    _raises(lambda: efficiency(bad, 0.1, 5.0), "interval")
    _raises(lambda: simulate_checkpoint(10.0, bad, 0.1, 5.0), "interval")
    _raises(lambda: simulate_checkpoint(bad, 1.0, 0.1, 5.0), "work")
    _raises(lambda: CheckpointPlan.for_job(bad, 0.1, 5.0), "work")
    if bad is not None:  # None means exponential failures
        _raises(
            lambda: simulate_checkpoint(10.0, 1.0, 0.1, 5.0, weibull_shape=bad), "weibull_shape"
        )


@pytest.mark.parametrize("bad", NEGATIVE)
def test_delta_and_restart_must_be_nonnegative(bad):
    _raises(lambda: young(bad, 5.0), "delta")
    _raises(lambda: daly(bad, 5.0), "delta")
    _raises(lambda: optimal_interval(bad, 5.0), "delta")
    _raises(lambda: expected_runtime(10.0, 1.0, bad, 5.0), "delta")
    _raises(lambda: simulate_checkpoint(10.0, 1.0, bad, 5.0), "delta")
    _raises(lambda: CheckpointPlan.for_job(10.0, bad, 5.0), "delta")
    _raises(lambda: expected_runtime(10.0, 1.0, 0.1, 5.0, bad), "restart")
    _raises(lambda: efficiency(1.0, 0.1, 5.0, bad), "restart")
    _raises(lambda: simulate_checkpoint(10.0, 1.0, 0.1, 5.0, bad), "restart")
    _raises(lambda: expected_runtime(bad, 1.0, 0.1, 5.0), "work")


def test_plan_needs_a_checkpoint_cost_and_simulation_arguments():
    _raises(lambda: CheckpointPlan.for_job(10.0, 0.0, 5.0), "delta", "> 0")
    _raises(lambda: simulate_checkpoint(10.0, 1.0, 0.1, 5.0, replications=1), "replications")
    _raises(lambda: simulate_checkpoint(10.0, 1.0, 0.1, 5.0, confidence=2.0), "confidence")
    _raises(lambda: simulate_checkpoint(10.0, 1.0, 0.1, 5.0, seed=-3), "seed")


def test_expected_runtime_is_infinite_when_segments_overflow():
    # (interval + delta) / M = 1000: e^1000 overflows a double; the job never finishes
    assert ha.models.expected_runtime(10.0, 999.0, 1.0, 1.0) == math.inf
    assert ha.models.efficiency(999.0, 1.0, 1.0) == 0.0
