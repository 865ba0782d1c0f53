"""Platform models: reliability block diagrams, client-visible failovers, snapshots and RPO/RTO.

References: ``tests/naive.py`` enumerates every up/down combination of an RBD's leaves in
exact rationals (a structure function written from the definitions of series, parallel and
k-of-n); failover and snapshot formulas are worked by hand (renewal reward, a Young-style
square root) and checked against a numpy renewal simulation and scipy's minimiser.
"""

from __future__ import annotations

import math
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

import openha as ha
from openha.models import (
    KofN,
    Leaf,
    Parallel,
    Series,
    SnapshotModel,
    client_availability,
    evaluate,
    markov_availability,
    recovery_objectives,
)
from tests import naive
from tests.openha_errors import raises_openha_error as _raises

RTOL = 1e-12  # sums of non-negative products: only rounding separates the two routes
CONF = 0.999
MINUTES_PER_YEAR = 365.25 * 24 * 60


# --------------------------------------------------------------------------- RBD vs enumeration
def _extend(children):
    kids = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        kids.map(lambda c: ("series", c)),
        kids.map(lambda c: ("parallel", c)),
        kids.flatmap(lambda c: st.integers(1, len(c)).map(lambda k: ("kofn", k, c))),
    )


def _name_leaves(spec, counter):
    if spec == "leaf":
        return f"b{next(counter)}"
    *head, kids = spec
    return (*head, [_name_leaves(c, counter) for c in kids])


def _leaf_names(spec):
    if isinstance(spec, str):
        return [spec]
    return [x for c in spec[-1] for x in _leaf_names(c)]


unavailabilities = st.one_of(
    st.floats(0.0, 1.0),
    st.floats(-12.0, 0.0).map(lambda e: 10.0**e),
    st.sampled_from([0.0, 1.0, 1e-9, 0.5]),
)


@st.composite
def diagrams(draw):
    """(spec for naive, openha root, exact unavailability of every leaf)."""
    shape = draw(st.recursive(st.just("leaf"), _extend, max_leaves=7))
    spec = _name_leaves(shape, iter(range(100)))
    exact = {}
    leaves = {}
    for name in _leaf_names(spec):
        u = draw(unavailabilities)
        if draw(st.booleans()):  # an availability number: the leaf is down with 1 - a
            a = 1.0 - u
            leaves[name] = Leaf(name, a)
            exact[name] = 1 - Fraction(a)
        else:  # a result object carrying its unavailability
            leaves[name] = Leaf(name, SimpleNamespace(unavailability=u))
            exact[name] = Fraction(u)

    def build(s):
        if isinstance(s, str):
            return leaves[s]
        kids = [build(c) for c in s[-1]]
        if s[0] == "series":
            return Series(kids)
        if s[0] == "parallel":
            return Parallel(kids)
        return KofN(s[1], kids)

    return spec, build(spec), exact


@settings(max_examples=150, deadline=None)
@given(diagrams())
def test_rbd_against_enumeration(case):
    spec, root, exact = case
    r = evaluate(root)
    total = naive.rbd_unavailability_by_enumeration(spec, exact)
    assert r.unavailability == pytest.approx(total, rel=RTOL, abs=0)
    # every leaf made perfect, by enumeration as well
    without = {
        name: naive.rbd_unavailability_by_enumeration(spec, {**exact, name: Fraction(0)})
        for name in exact
    }
    frame = r.blocks.set_index("block")
    assert sorted(frame.index) == sorted(exact)
    for name, u0 in without.items():
        assert frame.loc[name, "unavailability"] == pytest.approx(float(exact[name]), rel=1e-15)
        assert frame.loc[name, "platform_unavailability_if_perfect"] == pytest.approx(
            u0, rel=RTOL, abs=0
        )
    # the weakest block removes the most unavailability (up to rounding of the differences)
    best = max(total - u0 for u0 in without.values())
    assert total - without[r.weakest] >= best - 1e-12 * total
    assert list(r.blocks.reduction) == sorted(r.blocks.reduction, reverse=True)


def test_rbd_worked_example():
    # gateway 0.9995 in series with a web tier (2 x 0.99 in parallel) and 2-of-3 databases
    web = Parallel([Leaf("web-1", 0.99), Leaf("web-2", 0.99)], name="web tier")
    db = KofN(2, [Leaf(f"db-{i}", 0.999) for i in range(3)], name="database")
    r = evaluate(Series([Leaf("gateway", 0.9995), web, db]))
    u_db = 3 * 0.001**2 * 0.999 + 0.001**3
    by_hand = 1 - (1 - 5e-4) * (1 - 1e-4) * (1 - u_db)
    assert r.unavailability == pytest.approx(by_hand, rel=1e-9)
    assert r.weakest == "gateway"
    assert r.nines == pytest.approx(-math.log10(by_hand), rel=1e-9)
    assert r.downtime_min_per_year == pytest.approx(by_hand * MINUTES_PER_YEAR, rel=1e-9)


def test_rbd_tiny_unavailabilities_keep_their_precision():
    a = 0.999999999
    u = 1 - Fraction(a)  # exact; about 1e-9
    # series: 1 - a^5 computed naively in floats would lose half the digits
    series = evaluate(Series([Leaf(f"s{i}", a) for i in range(5)]))
    assert series.unavailability == pytest.approx(float(1 - (1 - u) ** 5), rel=1e-13)
    par = evaluate(Parallel([Leaf(f"p{i}", a) for i in range(3)]))
    assert par.unavailability == pytest.approx(float(u**3), rel=1e-13)  # ~1e-27
    kofn = evaluate(KofN(2, [Leaf(f"k{i}", a) for i in range(3)]))
    assert kofn.unavailability == pytest.approx(float(3 * u**2 * (1 - u) + u**3), rel=1e-13)
    # nested, against enumeration
    spec = ("series", [("parallel", ["p0", "p1"]), ("kofn", 2, ["k0", "k1", "k2"]), "g"])
    root = Series(
        [
            Parallel([Leaf("p0", a), Leaf("p1", a)]),
            KofN(2, [Leaf(f"k{i}", a) for i in range(3)]),
            Leaf("g", 0.99999999999),
        ]
    )
    exact = {n: u for n in ("p0", "p1", "k0", "k1", "k2")} | {"g": 1 - Fraction(0.99999999999)}
    expected = naive.rbd_unavailability_by_enumeration(spec, exact)
    assert evaluate(root).unavailability == pytest.approx(expected, rel=RTOL)


def test_leaf_sources():
    a, b, c, d, e = (ha.Node(x, p_fail=0.01 * (i + 1)) for i, x in enumerate("abcde"))
    qs = ha.QuorumSystem(reads=a * b + c * d * e)
    write_u = qs.availability(op="write").unavailability
    assert write_u != qs.availability(op="read").unavailability
    assert Leaf("quorum", qs).unavailability == write_u  # a quorum system: its writes
    m = markov_availability(3, 2, 0.01, 0.1)
    assert Leaf("markov", m).unavailability == m.unavailability
    c_av = client_availability(m.unavailability, 1 / 2000, 250.0)
    assert Leaf("clients", c_av).unavailability == c_av.unavailability
    inner = evaluate(Parallel([Leaf("x", 0.9), Leaf("y", 0.8)]))
    assert Leaf("inner", inner).unavailability == inner.unavailability
    assert Leaf("n", 0.9995).unavailability == 1.0 - 0.9995
    assert Leaf("perfect", 1.0).unavailability == 0.0
    assert Leaf("dead", 0).unavailability == 1.0
    # in a diagram, each source counts once
    r = evaluate(Series([Leaf("quorum", qs), Leaf("markov", m)]))
    assert r.unavailability == pytest.approx(
        naive.rbd_unavailability_by_enumeration(
            ("series", ["q", "m"]), {"q": Fraction(write_u), "m": Fraction(m.unavailability)}
        ),
        rel=RTOL,
    )


# --------------------------------------------------------------------------- RBD bad input


def test_rbd_empty_and_non_blocks():
    for kind in (Series, Parallel):
        _raises(lambda k=kind: k([]), "non-empty")
        _raises(lambda k=kind: k(()), "non-empty")
        _raises(lambda k=kind: k(Leaf("a", 0.9)), "non-empty", "list")  # a block, not a list
        _raises(lambda k=kind: k([Leaf("a", 0.9), 0.9]), "0.9", "not a block")
        _raises(lambda k=kind: k([Leaf("a", 0.9), "b"]), "'b'", "not a block")
    _raises(lambda: KofN(1, []), "non-empty")
    _raises(lambda: evaluate(0.5), "root", "block")


@pytest.mark.parametrize("k", [0, -1, 4, 2.5, True])
def test_rbd_k_out_of_range(k):
    _raises(lambda: KofN(k, [Leaf(x, 0.9) for x in "abc"], name="db"), "k of 'db'")


@pytest.mark.parametrize("bad", [1.5, -0.1, math.nan, "x", None, True])
def test_rbd_leaf_availability_outside_unit_interval(bad):
    _raises(lambda: evaluate(Series([Leaf("ok", 0.9), Leaf("bad", bad)])), "'bad'")
    _raises(
        lambda: evaluate(Leaf("bad", SimpleNamespace(unavailability=2.0))),
        "unavailability",
        "'bad'",
    )


def test_rbd_cycles_and_shared_blocks():
    shared = Leaf("disk", 0.99)
    _raises(lambda: evaluate(Series([shared, Parallel([shared, Leaf("b", 0.9)])])), "twice")
    tier = Parallel([Leaf("x", 0.9), Leaf("y", 0.9)], name="tier")
    _raises(lambda: evaluate(Series([tier, tier])), "'tier'", "twice")
    # a composite inside itself (blocks is a tuple, so replace it wholesale)
    loop = Series([Leaf("c", 0.9)], name="loop")
    object.__setattr__(loop, "blocks", (*loop.blocks, loop))
    _raises(lambda: evaluate(loop), "cycle", "'loop'")
    # and through another block
    outer = Series([Leaf("d", 0.9)], name="outer")
    inner = Parallel([Leaf("e", 0.9), outer], name="inner")
    outer.blocks = (*outer.blocks, inner)
    _raises(lambda: evaluate(outer), "cycle")
    _raises(lambda: evaluate(Series([outer, Leaf("f", 0.9)])), "cycle")


# --------------------------------------------------------------------------- client failovers
@pytest.mark.parametrize(
    ("q", "rate", "failover", "mean_ms"),
    [
        (1e-6, 1 / 1000, 30_000.0, 30_000.0),
        (1e-7, 1 / 2000, ha.dist.Uniform(150, 300), 225.0),
        (0.0, 2.0, ha.dist.Exponential(mean=500.0), 500.0),
        (0.3, 0.1, ha.dist.Constant(3.6e6), 3.6e6),
    ],
)
def test_client_availability_renewal_by_hand(q, rate, failover, mean_ms):
    c = client_availability(q, leader_failure_rate=rate, failover_ms=failover)
    mean_h = mean_ms / 3.6e6
    # while the quorum is up, tenure (mean 1/rate) and failover (mean E[F]) alternate
    share = mean_h / (1 / rate + mean_h)
    assert c.quorum_unavailability == q
    assert c.failover_unavailability == pytest.approx((1 - q) * share, rel=1e-13)
    assert c.unavailability == pytest.approx(q + (1 - q) * share, rel=1e-13)
    assert c.failovers_per_year == pytest.approx((1 - q) * 8766 / (1 / rate + mean_h), rel=1e-13)
    assert c.mean_failover_ms == pytest.approx(mean_ms, rel=1e-13)
    assert c.nines == pytest.approx(-math.log10(c.unavailability), rel=1e-13)
    assert c.downtime_min_per_year == pytest.approx(c.unavailability * MINUTES_PER_YEAR, rel=1e-13)


def test_client_availability_depends_on_the_failover_mean_only():
    # Uniform(100, 500), Exponential(mean 300), Constant(300): one mean, one answer
    answers = {
        client_availability(1e-6, 0.01, f).unavailability
        for f in (ha.dist.Uniform(100, 500), ha.dist.Constant(300.0), 300.0)
    }
    assert max(answers) == pytest.approx(min(answers), rel=1e-14)
    exp = client_availability(1e-6, 0.01, ha.dist.Exponential(mean=300.0)).unavailability
    assert exp == pytest.approx(min(answers), rel=1e-12)


def test_failover_share_against_a_renewal_simulation():
    # tenures Exp(mean 1 h), failovers Uniform(0.2, 0.6) h: the long-run share of time in
    # failover, simulated with numpy (ratio of sums per replication, t-interval across them)
    rng = np.random.default_rng(2024)
    reps, cycles = 200, 2000
    tenure = rng.exponential(1.0, (reps, cycles))
    fail = rng.uniform(0.2, 0.6, (reps, cycles))
    shares = fail.sum(axis=1) / (tenure + fail).sum(axis=1)
    half = stats.t.ppf(0.5 + CONF / 2, reps - 1) * shares.std(ddof=1) / math.sqrt(reps)
    c = client_availability(0.0, 1.0, ha.dist.Uniform(0.2 * 3.6e6, 0.6 * 3.6e6))
    assert abs(c.failover_unavailability - shares.mean()) < half
    # and failovers per hour: one per cycle
    per_hour = cycles / (tenure + fail).sum(axis=1)
    half_n = stats.t.ppf(0.5 + CONF / 2, reps - 1) * per_hour.std(ddof=1) / math.sqrt(reps)
    assert abs(c.failovers_per_year / 8766 - per_hour.mean()) < half_n


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "x", None])
def test_client_availability_bad_input(bad):
    _raises(lambda: client_availability(1e-6, bad, 200.0), "leader_failure_rate")
    if bad is not None:
        _raises(lambda: client_availability(1e-6, 0.01, bad if bad != 0 else -1.0), "failover_ms")
    for q in (-1e-9, 1.5, math.nan):
        _raises(lambda q=q: client_availability(q, 0.01, 200.0), "quorum_unavailability")


# --------------------------------------------------------------------------- snapshots
SNAP = dict(
    write_rate_per_s=2000.0,
    state_mb=4096.0,
    write_mb_s=400.0,
    load_mb_s=800.0,
    replay_entries_per_s=50_000.0,
    failure_rate_per_s=1 / (30 * 86400),
)


def test_snapshot_formulas_by_hand():
    m = SnapshotModel(**SNAP)
    s = 1_000_000
    load = 4096 / 800  # seconds to read the snapshot
    assert m.recovery_s(s) == pytest.approx(load + (s / 2) / 50_000, rel=1e-14)  # 15.12 s
    assert m.recovery_s(s, worst=True) == pytest.approx(load + s / 50_000, rel=1e-14)
    # 10.24 s of writing per snapshot, one snapshot per 500 s of writes
    assert m.overhead(s) == pytest.approx((4096 / 400) / (s / 2000), rel=1e-14)
    cost = (4096 / 400) / (s / 2000) + SNAP["failure_rate_per_s"] * (load + s / 2 / 50_000)
    assert m.cost_rate(s) == pytest.approx(cost, rel=1e-14)
    frame = m.tradeoff([1e5, 1e6, 1e7])
    assert list(frame.columns) == [
        "interval_entries",
        "recovery_mean_s",
        "recovery_max_s",
        "overhead",
        "cost_rate",
    ]
    row = frame.set_index("interval_entries").loc[1e6]
    assert row.recovery_mean_s == pytest.approx(m.recovery_s(s), rel=1e-15)
    assert row.recovery_max_s == pytest.approx(m.recovery_s(s, worst=True), rel=1e-15)
    assert row.overhead == pytest.approx(m.overhead(s), rel=1e-15)
    assert row.cost_rate == pytest.approx(cost, rel=1e-14)


def test_snapshot_model_stores_floats():
    m = SnapshotModel(**{**SNAP, "write_rate_per_s": 2000, "state_mb": np.int64(4096)})
    assert type(m.write_rate_per_s) is float and type(m.state_mb) is float
    assert m == SnapshotModel(**SNAP)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"failure_rate_per_s": 1e-3},
        {"state_mb": 10.0, "replay_entries_per_s": 1e3},
        {"write_rate_per_s": 1.0},
    ],
)
def test_snapshot_optimal_interval_minimises_cost_rate(overrides):
    m = SnapshotModel(**{**SNAP, **overrides})
    res = optimize.minimize_scalar(
        lambda x: m.cost_rate(math.exp(x)),
        bounds=(math.log(1e-3), math.log(1e15)),
        method="bounded",
        options={"xatol": 1e-12},
    )
    best = math.exp(res.x)
    assert m.optimal_interval_entries() == pytest.approx(best, rel=1e-5)
    assert m.cost_rate(m.optimal_interval_entries()) <= m.cost_rate(best) * (1 + 1e-12)


@pytest.mark.parametrize(
    "name",
    ["write_rate_per_s", "write_mb_s", "load_mb_s", "replay_entries_per_s", "failure_rate_per_s"],
)
@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "x"])
def test_snapshot_bad_input(name, bad):
    _raises(lambda: SnapshotModel(**{**SNAP, name: bad}), name)
    if bad != 0:
        _raises(lambda: SnapshotModel(**{**SNAP, "state_mb": bad}), "state_mb")
    m = SnapshotModel(**SNAP)
    for call in (m.recovery_s, m.overhead, m.cost_rate, lambda s: m.tradeoff([1e6, s])):
        _raises(lambda c=call: c(bad), "interval_entries")


# --------------------------------------------------------------------------- RPO and RTO
RO = dict(
    write_rate_per_s=1000.0,
    detection_s=1.0,
    failover_s=0.3,
    restart_s=120.0,
    checkpoint_interval_s=600.0,
    checkpoint_s=20.0,
    async_lag_s=0.05,
)


def test_recovery_objectives_by_hand():
    m = SnapshotModel(**SNAP)
    df = recovery_objectives(**RO, snapshots=m, snapshot_interval_entries=1_000_000)
    assert list(df.columns) == [
        "strategy",
        "rpo_mean_s",
        "rpo_max_s",
        "lost_writes_mean",
        "rto_mean_s",
        "rto_max_s",
        "replica_rebuild_s",
    ]
    t = df.set_index("strategy")
    assert list(t.index) == [
        "checkpointing",
        "sync replication",
        "async replication",
        "replication + snapshots",
    ]
    ck = t.loc["checkpointing"]
    # state is captured as a checkpoint starts: a failure at a uniform point of a
    # 600 + 20 s cycle loses the cycle so far plus the previous checkpoint's 20 s
    assert (ck.rpo_max_s, ck.rpo_mean_s) == (600.0 + 2 * 20.0, 310.0 + 20.0)
    assert ck.lost_writes_mean == 330.0 * 1000
    assert (ck.rto_mean_s, ck.rto_max_s) == (121.0, 121.0)  # detection + restart
    for name in ("sync replication", "replication + snapshots"):
        row = t.loc[name]
        assert (row.rpo_mean_s, row.rpo_max_s, row.lost_writes_mean) == (0.0, 0.0, 0.0)
        assert row.rto_mean_s == row.rto_max_s == pytest.approx(1.3)  # detection + failover
    asy = t.loc["async replication"]
    assert (asy.rpo_mean_s, asy.rpo_max_s) == (0.05, 0.05)
    assert asy.lost_writes_mean == pytest.approx(50.0)
    assert asy.rto_mean_s == pytest.approx(1.3)
    assert t.loc["replication + snapshots", "replica_rebuild_s"] == pytest.approx(15.12)
    assert t.drop(index="replication + snapshots").replica_rebuild_s.isna().all()
    # without snapshots, nothing to rebuild from
    assert recovery_objectives(**RO).replica_rebuild_s.isna().all()


@pytest.mark.parametrize("name", list(RO))
def test_recovery_objectives_bad_input(name):
    _raises(lambda: recovery_objectives(**{**RO, name: -1.0}), name)
    _raises(lambda: recovery_objectives(**{**RO, name: math.nan}), name)
    if name in ("write_rate_per_s", "checkpoint_interval_s"):
        _raises(lambda: recovery_objectives(**{**RO, name: 0}), name)


def test_recovery_objectives_snapshot_arguments():
    m = SnapshotModel(**SNAP)
    _raises(lambda: recovery_objectives(**RO, snapshots=m), "snapshot_interval_entries")
    _raises(
        lambda: recovery_objectives(**RO, snapshots=m, snapshot_interval_entries=0),
        "interval_entries",
    )
