"""Quorum availability: exact against 2^n enumeration and closed forms, Monte Carlo by CI.

References: ``tests/naive.py`` enumerates every failure set (and every domain state)
with membership rules written from each family's definition; closed forms are
binomial tails (scipy, or exact rationals) and products over independent rows/groups.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import openha as ha
from tests import naive
from tests.test_quorum_expr import trees

RTOL = 1e-12  # sums of non-negative products: only rounding separates the two routes
CONF = 0.999  # Monte Carlo CI level: a false failure is a 1-in-1000 event per fixed seed


def _hetero(names: str, seed: int, lo: float = 0.01, hi: float = 0.4) -> list[ha.Node]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(lo, hi, len(names))
    return [ha.Node(x, p_fail=float(pi)) for x, pi in zip(names, p, strict=True)]


def _cases() -> dict[str, tuple[ha.QuorumSystem, object, object]]:
    """name -> (system, read rule, write rule) with rules written from the definitions."""
    n12 = _hetero("abcdefghijkl", 1)
    a, b, c, d, e = n12[:5]
    rows = [n12[0:4], n12[4:8], n12[8:12]]
    groups = [n12[0:3], n12[3:6], n12[6:9]]
    votes = dict(zip(n12[:7], [3, 2, 2, 1, 1, 1, 1], strict=True))
    names = lambda xs: {x.name for x in xs}  # noqa: E731
    vote_count = lambda up: sum(v for x, v in votes.items() if x.name in up)  # noqa: E731
    any_row = lambda up: any(names(r) <= up for r in rows)  # noqa: E731
    any_col = lambda up: any({r[m].name for r in rows} <= up for m in range(4))  # noqa: E731
    hier = lambda up: sum(len(up & names(gr)) >= 2 for gr in groups) >= 2  # noqa: E731
    rc = lambda up: any_row(up) and any_col(up)  # noqa: E731
    ab_cde = [set("ab"), set("cde")]
    nested = [set("ab"), set("ac"), set("bcd")]
    return {
        "majority-11": (
            ha.QuorumSystem(writes=ha.majority(n12[:11])),
            lambda up: len(up) >= 6,
            lambda up: len(up) >= 6,
        ),
        "majority-12": (
            ha.QuorumSystem(writes=ha.majority(n12)),
            lambda up: len(up) >= 6,  # derived reads: every set meeting all 7-sets
            lambda up: len(up) >= 7,
        ),
        "choose-4-of-9": (
            ha.QuorumSystem(reads=ha.choose(4, n12[:9])),
            lambda up: len(up) >= 4,
            lambda up: len(up) >= 6,  # a write must meet every 4-set: miss at most 3
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
        "grid-rows-3x4": (
            ha.quorum.grid(rows, kind="rows"),
            any_row,
            lambda up: all(names(r) & up for r in rows),
        ),
        "grid-row-column-3x4": (ha.quorum.grid(rows, kind="row-column"), rc, rc),
        "hierarchical-3x3": (ha.quorum.hierarchical(groups), hier, hier),
        "voting-7": (
            ha.quorum.voting(votes, read_threshold=5, write_threshold=7),
            lambda up: vote_count(up) >= 5,
            lambda up: vote_count(up) >= 7,
        ),
        "flexible-paxos-10": (
            ha.quorum.flexible_paxos(n12[:10], q1=8, q2=3),
            lambda up: len(up) >= 8,
            lambda up: len(up) >= 3,
        ),
        "repeated-in-choose": (
            ha.QuorumSystem(reads=ha.choose(2, [a * b, a * c, d, b + e])),
            lambda up: (
                sum([{"a", "b"} <= up, {"a", "c"} <= up, "d" in up, bool(up & {"b", "e"})]) >= 2
            ),
            None,  # write rule: the hitting-set dual, derived in the test
        ),
    }


CASES = _cases()


def _rule(qs: ha.QuorumSystem, read_rule, write_rule, op: str):
    if op == "read":
        return read_rule
    if write_rule is None:
        return naive.hitting_holds(list(naive.minimal_quorums(qs.node_names, read_rule)))
    return write_rule


@pytest.mark.parametrize("op", ["read", "write"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_exact_matches_enumeration(case, op):
    qs, read_rule, write_rule = CASES[case]
    rule = _rule(qs, read_rule, write_rule, op)
    p = [n.p_fail for n in qs.nodes]
    up, down = naive.availability_by_enumeration(qs.node_names, p, rule)
    res = qs.availability(op=op, method="exact")
    assert (res.method, res.op) == ("exact", op)
    np.testing.assert_allclose(res.unavailability, down, rtol=RTOL)
    np.testing.assert_allclose(res.availability, up, rtol=RTOL)
    assert res.ci is None
    assert qs.availability(op=op).unavailability == res.unavailability  # auto -> exact here


@pytest.mark.parametrize("op", ["read", "write"])
@pytest.mark.parametrize("case", ["majority-11", "ab+cde", "nested-repeated", "grid-rows-3x4"])
def test_correlated_failures_match_enumeration(case, op):
    qs, read_rule, write_rule = CASES[case]
    rule = _rule(qs, read_rule, write_rule, op)
    zone = {n.name: f"z{i % 3}" for i, n in enumerate(qs.nodes)}
    # single domains for even nodes, (zone, rack) tuples for odd ones
    placed = [
        ha.Node(
            n.name,
            p_fail=n.p_fail,
            domain=zone[n.name] if i % 2 == 0 else (zone[n.name], f"rack{i % 4}"),
        )
        for i, n in enumerate(qs.nodes)
    ]
    by_name = {n.name: n for n in placed}
    rebuilt = ha.QuorumSystem(
        reads=_rebuild(qs.reads, by_name), writes=_rebuild(qs.writes, by_name)
    )
    domains = {"z0": 0.02, "z1": 0.1, "z2": 0.0, "rack1": 0.05, "rack3": 0.3}
    override = {placed[0].name: 0.5}
    fm = ha.FailureModel(domains=domains, p_fail=override)
    p = [override.get(n.name, n.p_fail) for n in placed]
    exp = naive.correlated_by_enumeration(
        [n.name for n in placed], p, [n.domains for n in placed], domains, rule
    )
    res = rebuilt.availability(op=op, failures=fm, method="exact")
    np.testing.assert_allclose(res.unavailability, exp, rtol=RTOL)
    np.testing.assert_allclose(res.availability, 1.0 - exp, rtol=RTOL)


def _rebuild(expr, by_name):
    """The same expression over replacement nodes (same names)."""
    if isinstance(expr, ha.Node):
        return by_name[expr.name]
    kids = tuple(_rebuild(c, by_name) for c in expr.children)
    return ha.quorum.Gate(k=expr.k, children=kids, weights=expr.weights)


@pytest.mark.parametrize(
    ("case", "op", "seed"),
    [
        ("majority-11", "write", 1),
        ("ab+cde", "write", 2),
        ("grid-row-column-3x4", "read", 3),
        ("voting-7", "read", 4),
        ("nested-repeated", "write", 5),
    ],
)
def test_montecarlo_ci_contains_exact(case, op, seed):
    qs = CASES[case][0]
    exact = qs.availability(op=op, method="exact").unavailability
    mc = qs.availability(op=op, method="montecarlo", trials=200_000, seed=seed, confidence=CONF)
    assert (mc.method, mc.trials, mc.confidence) == ("montecarlo", 200_000, CONF)
    lo, hi = mc.ci
    assert lo <= exact <= hi
    assert mc.unavailability + mc.availability == 1.0
    se = math.sqrt(exact * (1 - exact) / mc.trials)
    assert abs(mc.unavailability - exact) < 4 * se


def test_montecarlo_correlated_ci_contains_exact():
    nodes = [
        ha.Node(f"n{i}", p_fail=0.01 * (i + 1), domain=(f"z{i % 3}", f"r{i % 2}")) for i in range(7)
    ]
    qs = ha.QuorumSystem(writes=ha.majority(nodes))
    fm = ha.FailureModel(domains={"z0": 0.05, "z1": 0.02, "z2": 0.1, "r1": 0.03})
    exact = qs.availability(failures=fm, method="exact").unavailability
    ref = naive.correlated_by_enumeration(
        qs.node_names,
        [n.p_fail for n in nodes],
        [n.domains for n in nodes],
        dict(fm.domains),
        lambda up: len(up) >= 4,
    )
    np.testing.assert_allclose(exact, ref, rtol=RTOL)
    mc = qs.availability(failures=fm, method="montecarlo", trials=200_000, seed=11, confidence=CONF)
    assert mc.ci[0] <= exact <= mc.ci[1]


# --------------------------------------------------------------------------- closed forms
def _majority(n: int, p: float) -> ha.QuorumSystem:
    return ha.QuorumSystem(writes=ha.majority([ha.Node(f"n{i}", p_fail=p) for i in range(n)]))


def test_majority_101_tiny_unavailability_keeps_full_precision():
    res = _majority(101, 1e-3).availability()
    # down = at most 50 of 101 up; sf(50, 101, p) is the same tail without rounding 1 - p
    np.testing.assert_allclose(res.unavailability, stats.binom.cdf(50, 101, 1 - 1e-3), rtol=1e-10)
    np.testing.assert_allclose(res.unavailability, stats.binom.sf(50, 101, 1e-3), rtol=1e-10)
    exact = naive.binomial_upper_tail_exact(101, 1e-3, 51)
    assert 1e-125 < exact < 1e-123  # about 1.9e-124: far below 1 - availability's resolution
    np.testing.assert_allclose(res.unavailability, exact, rtol=1e-12)
    np.testing.assert_allclose(res.nines, -math.log10(exact), rtol=1e-12)
    assert res.availability == 1.0  # 1 - 1.9e-124 rounds to 1, and a probability never exceeds it


@pytest.mark.parametrize("n", [3, 5, 7, 9])
def test_majority_unavailability_at_1e15(n):
    # p chosen so that P(down) is about 1e-15: C(n, m) p^m ~ 1e-15 with m = n//2 + 1
    m = n // 2 + 1
    p = (1e-15 / math.comb(n, m)) ** (1 / m)
    res = _majority(n, p).availability()
    exact = naive.binomial_upper_tail_exact(n, p, m)
    assert 5e-16 < exact < 2e-15
    np.testing.assert_allclose(res.unavailability, exact, rtol=1e-12)
    np.testing.assert_allclose(res.unavailability, stats.binom.sf(n // 2, n, p), rtol=1e-10)
    np.testing.assert_allclose(res.nines, -math.log10(exact), rtol=1e-12)


def test_heterogeneous_majority_1001_against_dp():
    p = np.random.default_rng(3).uniform(0.2, 0.45, 1001)
    nodes = [ha.Node(f"n{i}", p_fail=float(x)) for i, x in enumerate(p)]
    res = ha.QuorumSystem(writes=ha.majority(nodes)).availability()
    exp = naive.majority_unavailability_dp([float(x) for x in p])
    assert 0 < exp < 1e-20
    np.testing.assert_allclose(res.unavailability, exp, rtol=1e-9)
    np.testing.assert_allclose(res.nines, -math.log10(exp), rtol=1e-9)


@pytest.mark.parametrize(("n", "p"), [(3, 0.1), (5, 0.3), (8, 0.25), (15, 0.45), (21, 0.02)])
def test_homogeneous_majority_binomial(n, p):
    res = _majority(n, p).availability()
    down = stats.binom.cdf(n // 2, n, 1 - p)  # at most n//2 of n up
    np.testing.assert_allclose(res.unavailability, down, rtol=1e-10)
    # the same event counted by failures: at least n - n//2 of n down
    np.testing.assert_allclose(res.unavailability, stats.binom.sf(n - n // 2 - 1, n, p), rtol=1e-10)
    np.testing.assert_allclose(res.availability, stats.binom.sf(n // 2, n, 1 - p), rtol=1e-10)
    assert abs(res.availability + res.unavailability - 1.0) <= 1e-12
    np.testing.assert_allclose(res.nines, -math.log10(down), rtol=1e-10)


def test_grid_and_hierarchy_closed_forms():
    p, r, w = 0.07, 3, 4
    rows = [[ha.Node(f"r{i}c{j}", p_fail=p) for j in range(w)] for i in range(r)]
    qs = ha.quorum.grid(rows, kind="rows")
    # reads: some full row up; writes: one live node in every row
    np.testing.assert_allclose(
        qs.availability(op="read").unavailability, (1 - (1 - p) ** w) ** r, rtol=1e-12
    )
    np.testing.assert_allclose(
        qs.availability(op="write").unavailability, -math.expm1(r * math.log1p(-(p**w))), rtol=1e-12
    )
    groups = [[ha.Node(f"g{i}n{j}", p_fail=p) for j in range(5)] for i in range(3)]
    group_down = stats.binom.sf(2, 5, p)  # 3 or more of 5 down
    np.testing.assert_allclose(
        ha.quorum.hierarchical(groups).availability().unavailability,
        stats.binom.sf(1, 3, group_down),
        rtol=1e-10,
    )
    fp = ha.quorum.flexible_paxos([ha.Node(f"n{i}", p_fail=p) for i in range(7)], q1=5, q2=3)
    np.testing.assert_allclose(
        fp.availability(op="write").unavailability, stats.binom.sf(4, 7, p), rtol=1e-10
    )
    np.testing.assert_allclose(
        fp.availability(op="read").unavailability, stats.binom.sf(2, 7, p), rtol=1e-10
    )


# --------------------------------------------------------------------------- properties
P_FAIL = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0, 0.5]), st.floats(1e-12, 1e-3))


@settings(max_examples=80, deadline=None)
@given(trees(max_nodes=7, p_fail=P_FAIL), st.sampled_from(["read", "write"]))
def test_random_trees_match_enumeration(tree, op):
    spec, expr = tree
    qs = ha.QuorumSystem(reads=expr)
    rule = lambda up: naive.tree_holds(spec, up)  # noqa: E731
    if op == "write":
        rule = naive.hitting_holds(list(naive.minimal_quorums(qs.node_names, rule)))
    up, down = naive.availability_by_enumeration(qs.node_names, [n.p_fail for n in qs.nodes], rule)
    res = qs.availability(op=op, method="exact")
    np.testing.assert_allclose(res.unavailability, down, rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(res.availability, up, rtol=RTOL, atol=1e-300)
    assert 0.0 <= res.unavailability <= 1.0 and 0.0 <= res.availability <= 1.0


@settings(max_examples=80, deadline=None)
@given(trees(max_nodes=7, p_fail=P_FAIL), st.data())
def test_lower_p_fail_never_lowers_availability(tree, data):
    _, expr = tree
    qs = ha.QuorumSystem(reads=expr)
    victim = data.draw(st.sampled_from(qs.node_names))
    old_p = qs.node(victim).p_fail
    new_p = old_p * data.draw(st.floats(0.0, 1.0))
    fm = ha.FailureModel(p_fail={victim: new_p})
    for op in ("read", "write"):
        before = qs.availability(op=op).unavailability
        after = qs.availability(op=op, failures=fm).unavailability
        assert after <= before * (1 + 1e-12)  # rounding only


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.floats(0.0, 0.5, exclude_max=True))
def test_bigger_odd_majority_is_never_less_available(k, p):
    smaller = _majority(2 * k - 1, p).availability().unavailability
    bigger = _majority(2 * k + 1, p).availability().unavailability
    assert bigger <= smaller * (1 + 1e-12)


def test_failure_model_scalar_p_fail_equals_per_node_values():
    """One number for every node gives the same answer as naming each node, and as Node.p_fail."""
    nodes = [ha.Node(f"n{i}", domain=f"z{i % 3}") for i in range(7)]
    qs = ha.QuorumSystem(writes=ha.majority(nodes))
    zones = {"z0": 1e-3, "z1": 2e-3, "z2": 5e-4}
    scalar = qs.availability(failures=ha.FailureModel(domains=zones, p_fail=0.02))
    named = ha.FailureModel(domains=zones, p_fail=dict.fromkeys(qs.node_names, 0.02))
    assert scalar.unavailability == qs.availability(failures=named).unavailability
    own = [ha.Node(f"n{i}", p_fail=0.02, domain=f"z{i % 3}") for i in range(7)]
    direct = ha.QuorumSystem(writes=ha.majority(own)).availability(
        failures=ha.FailureModel(domains=zones)
    )
    assert scalar.unavailability == pytest.approx(direct.unavailability, rel=1e-14)


def test_failure_model_scalar_p_fail_is_validated():
    for bad in (-0.1, 1.5, float("nan"), "x"):
        with pytest.raises(ha.OpenHAError, match="p_fail"):
            ha.FailureModel(p_fail=bad)
