"""Markov availability of replica groups: closed forms, exact chains, dense chains, Monte Carlo.

References: the 2-state availability mu / (lam + mu); with independent repair each replica
is down with p = lam / (lam + mu) independently, so unavailability is a binomial tail (exact
rationals); with c crews the failed count is a birth-death chain whose product form and
first-step MTTF ``tests/naive.py`` evaluates in exact rationals; with zones, ``tests/naive.py``
builds its own chain with one state per replica (not per failed count), solved densely
(numpy), in exact rationals, or by subtraction-free elimination (GTH) for tiny values in
chains too big for rationals; ``simulate_replicas`` simulates the node-level process in numba.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import openha as ha
from openha.models import ReplicaChain, markov_availability, mttdl, simulate_replicas
from tests import naive
from tests.openha_errors import raises_openha_error as _raises

RTOL = 1e-10  # exact references: only the solver's rounding separates the two routes
RTOL_DENSE = 1e-9  # a dense float solve of the same chain, built state by state
CONF = 0.999  # Monte Carlo CI level: a false failure is a 1-in-1000 event per fixed seed
MINUTES_PER_YEAR = 365.25 * 24 * 60


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize(
    ("lam", "mu"), [(0.01, 0.1), (1 / 8766, 1 / 4), (1e-9, 1.0), (1e-16, 1.0), (3.0, 0.5)]
)
def test_two_state_chain(lam, mu):
    r = markov_availability(1, 1, failure_rate=lam, repair_rate=mu)
    assert r.unavailability == pytest.approx(lam / (lam + mu), rel=1e-14)
    assert r.availability == pytest.approx(mu / (lam + mu), rel=1e-14)
    assert r.mttf_hours == pytest.approx(1 / lam, rel=1e-14)
    assert r.n_states == 2
    assert r.nines == pytest.approx(-math.log10(lam / (lam + mu)), rel=1e-13)
    assert r.downtime_min_per_year == pytest.approx(lam / (lam + mu) * MINUTES_PER_YEAR, rel=1e-14)


BINOMIAL_CASES = [  # (n, k, lam, mu): unavailability from ~1e-1 down to ~1e-45
    (3, 2, 0.01, 0.1),
    (3, 2, 1e-3, 0.1),
    (5, 3, 0.2, 1.0),
    (5, 1, 1e-3, 1.0),  # ~1e-15
    (5, 1, 1e-6, 1.0),  # ~1e-30
    (7, 4, 1e-5, 1.0),
    (9, 1, 1e-4, 10.0),  # ~1e-45
    (5, 3, 1e-9, 1.0),
    (12, 7, 0.05, 1.0),
    (4, 4, 0.3, 0.2),  # mostly down
]


@pytest.mark.parametrize(("n", "k", "lam", "mu"), BINOMIAL_CASES)
def test_independent_repair_is_binomial(n, k, lam, mu):
    # down when more than n - k replicas are down; each is down with p independently
    expected = naive.binomial_upper_tail_exact(n, lam / (lam + mu), n - k + 1)
    r = markov_availability(n, k, failure_rate=lam, repair_rate=mu)
    assert r.unavailability == pytest.approx(expected, rel=RTOL, abs=0)
    assert r.availability + r.unavailability == pytest.approx(1.0, rel=1e-14)
    assert r.n_states == n + 1


CREW_CASES = [  # (n, k, lam, mu, crews)
    (3, 2, 0.01, 0.1, 1),
    (3, 2, 1e-4, 0.1, 1),
    (5, 3, 0.05, 0.1, 1),
    (5, 3, 0.05, 0.1, 2),
    (5, 1, 1e-3, 1.0, 1),  # ~1e-13 with one crew
    (5, 1, 1e-6, 1.0, 2),  # ~1e-29
    (7, 4, 0.02, 0.5, 3),
    (7, 1, 1e-4, 1.0, 3),
    (9, 5, 1e-7, 1.0, 2),
    (6, 6, 0.1, 1.0, 4),
]


@pytest.mark.parametrize(("n", "k", "lam", "mu", "crews"), CREW_CASES)
def test_repair_crews_birth_death_product_form(n, k, lam, mu, crews):
    expected = naive.birth_death_unavailability(n, k, lam, mu, crews)
    r = markov_availability(n, k, failure_rate=lam, repair_rate=mu, crews=crews)
    assert r.unavailability == pytest.approx(expected, rel=RTOL, abs=0)


@pytest.mark.parametrize(("n", "k", "lam", "mu"), BINOMIAL_CASES[:4])
def test_crews_at_least_n_is_independent_repair(n, k, lam, mu):
    free = markov_availability(n, k, lam, mu).unavailability
    for crews in (n, n + 3):
        assert markov_availability(n, k, lam, mu, crews=crews).unavailability == pytest.approx(
            free, rel=1e-12
        )


MTTF_CASES = [  # (n, k, lam, mu, crews)
    (1, 1, 1e-5, 1.0, None),
    (3, 2, 1e-3, 0.1, None),
    (3, 1, 1e-3, 0.1, None),
    (5, 3, 1e-2, 1.0, 1),
    (5, 3, 1e-2, 1.0, 2),
    (5, 2, 0.02, 0.5, None),
    (7, 4, 0.05, 1.0, 2),
    (7, 5, 0.01, 1.0, 3),
    (4, 1, 0.1, 1.0, 1),
    (6, 6, 1e-4, 1.0, None),
    # MTTF x fastest rate beyond 1 / eps: a plain solve of -Q_UU t = 1 returned garbage here
    (5, 1, 1e-4, 2.0, None),
    (7, 1, 1e-3, 0.1, 3),
    (5, 1, 0.02 / 8766, 1 / 24, None),
    (9, 5, 1e-3, 1.0, 2),
]


@pytest.mark.parametrize(("n", "k", "lam", "mu", "crews"), MTTF_CASES)
def test_mttf_first_step_analysis(n, k, lam, mu, crews):
    expected = naive.birth_death_mttf(n, k, lam, mu, crews)
    r = markov_availability(n, k, failure_rate=lam, repair_rate=mu, crews=crews)
    assert r.mttf_hours == pytest.approx(expected, rel=RTOL)
    assert mttdl(n, k, loss_rate=lam, rebuild_rate=mu, crews=crews) == pytest.approx(
        expected, rel=RTOL
    )


@pytest.mark.parametrize(("lam", "mu"), [(0.01, 0.1), (0.02 / 8766, 1 / 24), (1e-4, 1.0)])
def test_mttdl_closed_forms(lam, mu):
    # one copy: the first loss; two copies, both needed: the first of two losses
    assert mttdl(1, 1, lam, mu) == pytest.approx(1 / lam, rel=1e-13)
    assert mttdl(2, 2, lam, mu) == pytest.approx(1 / (2 * lam), rel=1e-13)
    # three copies, two needed: T0 = 1/(3 lam), T1 = 1/(2 lam) + mu/(2 lam) T0, so
    # MTTDL = 5/(6 lam) + mu/(6 lam^2) (the classic TMR-with-repair result)
    tmr = 5 / (6 * lam) + mu / (6 * lam**2)
    assert mttdl(3, 2, lam, mu) == pytest.approx(tmr, rel=1e-9)
    # two copies, one needed: T0 = 1/(2 lam), T1 = 1/lam + mu/lam T0
    assert mttdl(2, 1, lam, mu) == pytest.approx(3 / (2 * lam) + mu / (2 * lam**2), rel=1e-9)


# --------------------------------------------------------------------------- zones: dense chains
ZONE_CASES = [  # (zones, k, lam, mu, crews, zone_lam, zone_mu)
    ((2, 2, 1), 3, 0.01, 0.2, None, 0.002, 0.05),
    ((2, 2, 1), 3, 0.01, 0.2, 2, 0.002, 0.05),
    ((2, 2, 1), 2, 0.05, 0.5, 1, 0.01, 0.2),
    ((2, 2, 2), 4, 0.02, 0.1, 1, 0.005, 0.1),
    ((3, 2), 3, 0.01, 0.1, 2, 0.001, 0.02),
    ((4,), 3, 0.01, 0.1, None, 0.001, 0.05),  # one zone: the whole group can go at once
    ((3, 3, 3), 5, 0.01, 0.2, 2, 0.002, 0.05),
]


@pytest.mark.parametrize(("zones", "k", "lam", "mu", "crews", "zlam", "zmu"), ZONE_CASES)
def test_zones_against_dense_per_replica_chain(zones, k, lam, mu, crews, zlam, zmu):
    u, mttf = naive.replica_chain_dense(zones, k, lam, mu, crews, zlam, zmu)
    r = markov_availability(
        sum(zones),
        k,
        failure_rate=lam,
        repair_rate=mu,
        crews=crews,
        zones=zones,
        zone_failure_rate=zlam,
        zone_repair_rate=zmu,
    )
    assert r.unavailability == pytest.approx(u, rel=RTOL_DENSE)
    assert r.mttf_hours == pytest.approx(mttf, rel=RTOL_DENSE)
    # states: every zone-down mask times failed counts 0..size per zone
    assert r.n_states == 2 ** len(zones) * math.prod(s + 1 for s in zones)


EXACT_ZONE_CASES = [  # dyadic rates keep the rationals short; unavailability 1e-7 .. 1e-19
    ((2, 1), 2, 2**-20, None, 2**-23),
    ((2, 1), 1, 2**-13, 1, 2**-17),
    ((1, 1, 1), 2, 2**-17, 1, 2**-20),
    ((1, 1, 1), 1, 2**-20, None, 2**-30),
    ((2, 2), 3, 2**-20, 1, 2**-27),
    ((2, 2), 2, 2**-20, None, 2**-24),
]


@pytest.mark.parametrize(("zones", "k", "lam", "crews", "zlam"), EXACT_ZONE_CASES)
def test_zones_tiny_unavailability_against_exact_rationals(zones, k, lam, crews, zlam):
    expected = naive.replica_chain_exact_unavailability(zones, k, lam, 1.0, crews, zlam, 0.125)
    assert expected < 1e-6
    r = markov_availability(
        sum(zones),
        k,
        lam,
        1.0,
        crews=crews,
        zones=zones,
        zone_failure_rate=zlam,
        zone_repair_rate=0.125,
    )
    assert r.unavailability == pytest.approx(expected, rel=RTOL, abs=0)


GTH_ZONE_CASES = [  # (zones, k, lam, crews, zlam): 144-576 states, unavailability ~1e-17
    ((1, 1, 1, 1), 2, 2**-20, None, 2**-30),
    ((2, 2, 1), 2, 2**-20, None, 2**-30),
    ((2, 2, 1, 1), 3, 1e-6, 2, 1e-9),
]


@pytest.mark.parametrize(("zones", "k", "lam", "crews", "zlam"), GTH_ZONE_CASES)
def test_zones_tiny_unavailability_against_subtraction_free_elimination(zones, k, lam, crews, zlam):
    # chains too big for exact rationals in a test; sparse LU once lost 6 digits on these.
    # The reference eliminates per-replica states without subtracting (GTH); it matched the
    # exact rational solve on the first two cases to 1e-15 (minutes of Fraction arithmetic).
    expected = naive.replica_chain_gth_unavailability(zones, k, lam, 1.0, crews, zlam, 0.125)
    assert expected < 1e-15
    r = markov_availability(
        sum(zones),
        k,
        lam,
        1.0,
        crews=crews,
        zones=zones,
        zone_failure_rate=zlam,
        zone_repair_rate=0.125,
    )
    assert r.unavailability == pytest.approx(expected, rel=RTOL, abs=0)


@pytest.mark.parametrize("crews", [None, 20])
def test_large_chains(crews):
    # 1,601 states: beyond the dense solver, accurate in absolute terms (values not tiny here)
    n, k, lam, mu = 1600, 1570, 2**-7, 1.0
    r = markov_availability(n, k, lam, mu, crews=crews)
    assert r.n_states == n + 1
    assert r.unavailability == pytest.approx(
        naive.birth_death_unavailability(n, k, lam, mu, crews), rel=RTOL_DENSE
    )
    assert r.mttf_hours == pytest.approx(
        naive.birth_death_mttf(n, k, lam, mu, crews), rel=RTOL_DENSE
    )


def test_zones_that_never_fail_change_nothing():
    plain = markov_availability(5, 3, 0.05, 0.1, crews=2)
    zoned = markov_availability(5, 3, 0.05, 0.1, crews=2, zones=(2, 2, 1), zone_failure_rate=0)
    assert zoned.unavailability == pytest.approx(plain.unavailability, rel=1e-12)
    assert zoned.mttf_hours == pytest.approx(plain.mttf_hours, rel=1e-10)
    assert zoned.n_states == 3 * 3 * 2  # no zone-down states


# --------------------------------------------------------------------------- Monte Carlo
SIM_CHAINS = {
    "3-of-2": dict(n=3, k=2, failure_rate=0.02, repair_rate=0.1),
    "5-of-3, one crew": dict(n=5, k=3, failure_rate=0.05, repair_rate=0.1, crews=1),
    "5-of-3, two crews, zones 2+2+1": dict(
        n=5,
        k=3,
        failure_rate=0.02,
        repair_rate=0.1,
        crews=2,
        zones=(2, 2, 1),
        zone_failure_rate=0.005,
        zone_repair_rate=0.05,
    ),
    "6-of-4, zones 2+2+2": dict(
        n=6,
        k=4,
        failure_rate=0.02,
        repair_rate=0.1,
        zones=(2, 2, 2),
        zone_failure_rate=0.01,
        zone_repair_rate=0.1,
    ),
}


@pytest.mark.parametrize("name", list(SIM_CHAINS))
def test_simulated_unavailability_contains_chain(name):
    params = SIM_CHAINS[name]
    chain = ReplicaChain(**params)
    # runs start all up: the bias is about (relaxation time / horizon) ~ 1e-3, well inside the CI
    est = simulate_replicas(chain, horizon_hours=20_000, replications=128, seed=11, confidence=CONF)
    expected = markov_availability(**params).unavailability
    assert est.ci[0] < expected < est.ci[1]
    assert est.ci[1] - est.ci[0] < 0.1 * expected  # tight enough to mean something
    assert est.replications == 128 and est.confidence == CONF


@pytest.mark.parametrize("name", list(SIM_CHAINS))
def test_simulated_time_to_first_loss_contains_mttf(name):
    params = SIM_CHAINS[name]
    est = simulate_replicas(
        ReplicaChain(**params),
        horizon_hours=1e8,
        replications=4000,
        seed=12,
        confidence=CONF,
        first_loss=True,
    )
    expected = markov_availability(**params).mttf_hours
    assert est.ci[0] < expected < est.ci[1]
    assert est.ci[1] - est.ci[0] < 0.25 * expected


def test_simulation_depends_on_seed_only_not_threads(restore_threads):
    assert numba.config.NUMBA_NUM_THREADS >= 2
    chain = ReplicaChain(**SIM_CHAINS["5-of-3, two crews, zones 2+2+1"])

    def run(seed):
        a = simulate_replicas(chain, horizon_hours=2000, replications=101, seed=seed)
        b = simulate_replicas(
            chain, horizon_hours=1e8, replications=101, seed=seed, first_loss=True
        )
        return [float(x).hex() for x in (a.mean, *a.ci, b.mean, *b.ci)]

    numba.set_num_threads(1)
    one = run(5)
    numba.set_num_threads(2)
    assert run(5) == one
    assert run(6) != one


# --------------------------------------------------------------------------- properties
@st.composite
def groups(draw):
    n = draw(st.integers(1, 6))
    k = draw(st.integers(1, n))
    lam = draw(st.floats(1e-4, 1.0))
    mu = draw(st.floats(1e-3, 10.0))
    crews = draw(st.none() | st.integers(1, n))
    return n, k, lam, mu, crews


SLACK = 1 + 1e-9  # both sides carry full relative precision; only rounding may reorder them


def _u(n, k, lam, mu, crews, **kw):
    return markov_availability(n, k, lam, mu, crews=crews, **kw)


@settings(max_examples=40, deadline=None)
@given(groups(), st.floats(1.0, 100.0))
def test_faster_repair_never_hurts(g, factor):
    n, k, lam, mu, crews = g
    slow, fast = _u(n, k, lam, mu, crews), _u(n, k, lam, mu * factor, crews)
    assert fast.unavailability <= slow.unavailability * SLACK
    assert fast.mttf_hours * SLACK >= slow.mttf_hours


@settings(max_examples=40, deadline=None)
@given(groups(), st.floats(1.0, 100.0))
def test_more_failures_never_help(g, factor):
    n, k, lam, mu, crews = g
    few, many = _u(n, k, lam, mu, crews), _u(n, k, lam * factor, mu, crews)
    assert many.unavailability * SLACK >= few.unavailability
    assert many.mttf_hours <= few.mttf_hours * SLACK


@settings(max_examples=40, deadline=None)
@given(groups())
def test_structure_properties(g):
    n, k, lam, mu, crews = g
    base = _u(n, k, lam, mu, crews).unavailability
    if k < n:  # a larger quorum is down more often
        assert _u(n, k + 1, lam, mu, crews).unavailability * SLACK >= base
    # one more replica, same quorum: never worse (repair capacity is not shared more thinly
    # per missing quorum member)
    assert _u(n + 1, k, lam, mu, crews).unavailability <= base * SLACK
    # one more replica, same tolerance n - k: more replicas to lose, so never better
    assert _u(n + 1, k + 1, lam, mu, crews).unavailability * SLACK >= base
    # more repair crews never hurt, and unlimited crews are best
    c = 1 if crews is None else crews
    fewer, more = _u(n, k, lam, mu, c).unavailability, _u(n, k, lam, mu, c + 1).unavailability
    assert more <= fewer * SLACK
    assert _u(n, k, lam, mu, None).unavailability <= more * SLACK


@settings(max_examples=25, deadline=None)
@given(st.floats(1e-3, 0.1), st.floats(1e-3, 0.1), st.integers(1, 2))
def test_zone_outages_never_help(zlam, extra, crews):
    kw = dict(zones=(2, 2, 1), zone_repair_rate=0.05)
    none = markov_availability(5, 3, 0.01, 0.1, crews=crews).unavailability
    some = markov_availability(5, 3, 0.01, 0.1, crews=crews, zone_failure_rate=zlam, **kw)
    more = markov_availability(5, 3, 0.01, 0.1, crews=crews, zone_failure_rate=zlam + extra, **kw)
    assert none <= some.unavailability * SLACK
    assert some.unavailability <= more.unavailability * SLACK
    assert more.mttf_hours <= some.mttf_hours * SLACK


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [0, -0.1, math.nan, math.inf, "x", None, True])
def test_rates_must_be_positive(bad):
    _raises(lambda: markov_availability(3, 2, bad, 0.1), "failure_rate")
    _raises(lambda: markov_availability(3, 2, 0.01, bad), "repair_rate")
    _raises(lambda: mttdl(3, 2, loss_rate=bad, rebuild_rate=0.1), "loss_rate")
    _raises(lambda: mttdl(3, 2, loss_rate=0.01, rebuild_rate=bad), "rebuild_rate")
    kw = dict(zones=(2, 1), zone_failure_rate=0.01)
    _raises(
        lambda: markov_availability(3, 2, 0.01, 0.1, **kw, zone_repair_rate=bad), "zone_repair_rate"
    )
    if bad != 0:  # zones that never fail are allowed
        _raises(
            lambda: markov_availability(3, 2, 0.01, 0.1, zone_failure_rate=bad), "zone_failure_rate"
        )


@pytest.mark.parametrize(("n", "k"), [(3, 4), (3, 0), (3, -1), (0, 1), (2.5, 1), (3, 1.5)])
def test_quorum_sizes(n, k):
    word = "n" if n in (0, 2.5) else "k"
    _raises(lambda: markov_availability(n, k, 0.01, 0.1), f"{word} must be")
    _raises(lambda: mttdl(n, k, 0.01, 0.1), f"{word} must be")
    _raises(lambda: ReplicaChain(n=n, k=k, failure_rate=0.01, repair_rate=0.1), f"{word} must be")


def test_crews_and_zones():
    _raises(lambda: markov_availability(3, 2, 0.01, 0.1, crews=0), "crews")
    _raises(lambda: mttdl(3, 2, 0.01, 0.1, crews=-1), "crews")
    _raises(lambda: markov_availability(5, 3, 0.01, 0.1, zones=(2, 2)), "zones", "n=5")
    _raises(lambda: markov_availability(5, 3, 0.01, 0.1, zones=(2, 2, 2)), "zones", "n=5")
    _raises(lambda: markov_availability(5, 3, 0.01, 0.1, zones=(5, 0)), "zones")


def test_checked_values_are_stored():
    chain = ReplicaChain(
        n=np.int64(5),
        k=np.int64(3),
        failure_rate=np.float32(0.25),
        repair_rate=1,
        crews=np.int64(2),
        zones=[np.int64(3), 2],
        zone_failure_rate=0,
        zone_repair_rate=2,
    )
    assert (type(chain.n), type(chain.k), type(chain.crews)) == (int, int, int)
    assert type(chain.failure_rate) is float and chain.failure_rate == 0.25
    assert type(chain.repair_rate) is float and type(chain.zone_repair_rate) is float
    assert chain.zones == (3, 2)
    plain = markov_availability(5, 3, 0.25, 1.0, crews=2)
    from_numpy = markov_availability(
        np.int64(5), 3, np.float32(0.25), np.float64(1.0), crews=np.int64(2)
    )
    assert from_numpy == plain


def test_simulation_arguments():
    chain = ReplicaChain(n=3, k=2, failure_rate=0.1, repair_rate=1.0)
    _raises(lambda: simulate_replicas(chain, horizon_hours=10, replications=1), "replications")
    for bad in (0, -1.0, math.inf):
        _raises(lambda b=bad: simulate_replicas(chain, horizon_hours=b), "horizon_hours")
    _raises(lambda: simulate_replicas(chain, horizon_hours=10, confidence=1.5), "confidence")
    _raises(lambda: simulate_replicas(chain, horizon_hours=10, seed=-1), "seed")
    # first-loss runs that never lose quorum cannot give an MTTF
    _raises(
        lambda: simulate_replicas(chain, horizon_hours=1e-3, first_loss=True, seed=1),
        "horizon_hours",
    )


def test_zones_must_be_a_sequence_of_sizes():
    with pytest.raises(ha.OpenHAError, match="zones"):
        ha.models.markov_availability(3, 2, 0.1, 1.0, zones=3)
