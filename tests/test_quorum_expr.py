"""Quorum structure: minimal quorums, duals, intersection and resilience, by brute force.

Every expected quorum set here is either written out by hand or found by
``tests/naive.py`` testing every subset of nodes against a membership rule written
directly from the family's definition, never taken from openha's own enumeration.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import openha as ha
from openha.quorum import Gate
from tests import naive

fs = frozenset


def _nodes(names: str) -> list[ha.Node]:
    return [ha.Node(x) for x in names]


# --------------------------------------------------------------------------- random trees
@st.composite
def trees(draw, max_nodes: int = 7, max_depth: int = 3, p_fail=None):
    """A random threshold-gate tree (weights, repeated nodes, nesting) and the same tree
    as a plain spec for ``naive.tree_holds``. Returns (spec, expr)."""
    n = draw(st.integers(1, max_nodes))
    names = [f"n{i}" for i in range(n)]
    probs = p_fail if p_fail is not None else st.just(0.0)
    nodes = {x: ha.Node(x, p_fail=draw(probs)) for x in names}

    def build(depth: int):
        if depth == 0 or draw(st.integers(0, 3)) == 0:
            name = draw(st.sampled_from(names))
            return name, nodes[name]
        m = draw(st.integers(1, 4))
        kids = [build(depth - 1) for _ in range(m)]
        ws = draw(st.lists(st.sampled_from([1, 1, 1, 2, 3]), min_size=m, max_size=m))
        k = draw(st.integers(1, sum(ws)))
        spec = (k, [(s, w) for (s, _), w in zip(kids, ws, strict=True)])
        return spec, Gate(k=k, children=tuple(e for _, e in kids), weights=tuple(ws))

    return build(max_depth)


def _holds(spec):
    return lambda up: naive.tree_holds(spec, up)


# --------------------------------------------------------------------------- families
def _families() -> dict[str, tuple[ha.QuorumSystem, object, object]]:
    """name -> (system, read rule, write rule), rules written from each family's definition."""
    a, b, c, d, e = _nodes("abcde")
    g = [_nodes("abc"), _nodes("def"), _nodes("ghi")]
    grid23 = [_nodes("abc"), _nodes("def")]
    votes = {a: 2, b: 1, c: 1, d: 1}
    maj = lambda up, grp: len(up & {x.name for x in grp}) > len(grp) // 2  # noqa: E731
    rows = lambda up, t: [set(x.name for x in r) <= up for r in t]  # noqa: E731
    cols = lambda up, t: [set(r[j].name for r in t) <= up for j in range(len(t[0]))]  # noqa: E731
    hier = lambda up: sum(maj(up, grp) for grp in g) >= 2  # noqa: E731
    rc = lambda up: any(rows(up, g)) and any(cols(up, g))  # noqa: E731
    return {
        "majority-5": (
            ha.QuorumSystem(writes=ha.majority([a, b, c, d, e])),
            lambda up: len(up) >= 3,
            lambda up: len(up) >= 3,
        ),
        "read-write-5": (
            ha.quorum.read_write([a, b, c, d, e], r=2, w=4),
            lambda up: len(up) >= 2,
            lambda up: len(up) >= 4,
        ),
        "flexible-paxos-5": (
            ha.quorum.flexible_paxos([a, b, c, d, e], q1=4, q2=2),
            lambda up: len(up) >= 4,
            lambda up: len(up) >= 2,
        ),
        "grid-rows": (
            ha.quorum.grid(grid23, kind="rows"),
            lambda up: any(rows(up, grid23)),
            lambda up: all(up & {x.name for x in r} for r in grid23),
        ),
        "grid-row-column": (ha.quorum.grid(g, kind="row-column"), rc, rc),
        "hierarchical": (ha.quorum.hierarchical(g), hier, hier),
        "voting": (
            ha.quorum.voting(votes, read_threshold=2, write_threshold=4),
            lambda up: sum(v for x, v in votes.items() if x.name in up) >= 2,
            lambda up: sum(v for x, v in votes.items() if x.name in up) >= 4,
        ),
    }


FAMILIES = _families()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_quorums_match_definition(family):
    qs, read_rule, write_rule = FAMILIES[family]
    names = qs.node_names
    assert set(qs.read_quorums()) == naive.minimal_quorums(names, read_rule)
    assert set(qs.write_quorums()) == naive.minimal_quorums(names, write_rule)
    for r in range(len(names) + 1):
        for s in map(fs, itertools.combinations(names, r)):
            assert qs.is_read_quorum(s) == read_rule(s)
            assert qs.is_write_quorum(s) == write_rule(s)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_resilience_by_brute_force(family):
    qs, read_rule, write_rule = FAMILIES[family]
    names = qs.node_names
    f_read = naive.resilience_by_enumeration(names, read_rule)
    f_write = naive.resilience_by_enumeration(names, write_rule)
    assert (qs.read_resilience(), qs.write_resilience()) == (f_read, f_write)
    assert qs.resilience() == min(f_read, f_write)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_reads_meet_writes(family):
    qs = FAMILIES[family][0]
    writes = list(qs.write_quorums())
    assert all(r & w for r in qs.read_quorums() for w in writes)


def test_hand_written_quorums():
    a, b, c, d, e = _nodes("abcde")
    qs = ha.QuorumSystem(reads=a * b + c * d * e)
    assert set(qs.read_quorums()) == {fs("ab"), fs("cde")}
    assert set(qs.write_quorums()) == {fs(x + y) for x in "ab" for y in "cde"}
    nested = ha.QuorumSystem(reads=a * b + a * c + b * c * d)
    assert set(nested.read_quorums()) == {fs("ab"), fs("ac"), fs("bcd")}
    # hitting sets of {ab, ac, bcd}: a with one of b/c/d, or b and c
    assert set(nested.write_quorums()) == {fs("ab"), fs("ac"), fs("ad"), fs("bc")}
    vote = ha.quorum.voting({a: 2, b: 1, c: 1}, read_threshold=2, write_threshold=3)
    assert set(vote.read_quorums()) == {fs("a"), fs("bc")}
    assert set(vote.write_quorums()) == {fs("ab"), fs("ac")}
    hier = ha.quorum.hierarchical([_nodes("abc"), _nodes("def"), _nodes("ghi")])
    quorums = set(hier.write_quorums())
    assert len(quorums) == 3 * 3 * 3 and all(len(q) == 4 for q in quorums)  # C(3,2) groups x 3 x 3
    rc = ha.quorum.grid([_nodes("abc"), _nodes("def"), _nodes("ghi")], kind="row-column")
    assert len(set(rc.read_quorums())) == 9  # one row and one column, sharing a node
    assert all(len(q) == 5 for q in rc.read_quorums())


# Shapes whose missing side is the derived dual; expected dual quorums come from the
# hitting-set definition applied to naive minimal quorums.
def _shapes() -> dict[str, object]:
    a, b, c, d, e, f, g = _nodes("abcdefg")
    return {
        "and-or": a * b + c * d * e,
        "nested-repeated": a * b + a * c + b * c * d,
        "choose-3-of-6": ha.choose(3, [a, b, c, d, e, f]),
        "majority-of-exprs": ha.majority([a * b, b * c, c + d, e]),
        "weighted": ha.weighted({a: 3, b: 2, c: 1, d: 1, e: 1}, 4),
        "deep": (a + b) * (c + d * e) + f * g,
        "repeated-in-choose": ha.choose(2, [a * b, a * c, d, b + e]),
    }


SHAPES = _shapes()


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("given_side", ["reads", "writes"])
def test_derived_side_is_the_hitting_set_dual(shape, given_side):
    expr = SHAPES[shape]
    qs = ha.QuorumSystem(**{given_side: expr})
    names = qs.node_names
    given_q = naive.minimal_quorums(names, expr.is_quorum)
    derived = qs.writes if given_side == "reads" else qs.reads
    expected = naive.minimal_quorums(names, naive.hitting_holds(list(given_q)))
    assert set(derived.quorums()) == expected
    assert set(expr.quorums()) == given_q


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_resilience_is_min_dual_quorum_minus_one(shape):
    expr = SHAPES[shape]
    names = [n.name for n in expr.nodes()]
    dual_q = naive.minimal_quorums(names, naive.hitting_holds(list(expr.quorums())))
    expected = naive.resilience_by_enumeration(names, expr.is_quorum)
    assert expected == min(len(q) for q in dual_q) - 1
    assert expr.resilience() == expected
    assert expr.min_size() == min(len(q) for q in naive.minimal_quorums(names, expr.is_quorum))


# --------------------------------------------------------------------------- properties
@settings(max_examples=120, deadline=None)
@given(trees(max_nodes=7))
def test_membership_matches_naive_tree(tree):
    spec, expr = tree
    names = [n.name for n in expr.nodes()]
    for r in range(len(names) + 1):
        for s in map(fs, itertools.combinations(names, r)):
            assert expr.is_quorum(s) == naive.tree_holds(spec, s)


@settings(max_examples=120, deadline=None)
@given(trees(max_nodes=7))
def test_quorums_are_the_minimal_satisfying_sets(tree):
    spec, expr = tree
    names = [n.name for n in expr.nodes()]
    assert set(expr.quorums()) == naive.minimal_quorums(names, _holds(spec))
    assert expr.min_size() == min(len(q) for q in expr.quorums())


@settings(max_examples=120, deadline=None)
@given(trees(max_nodes=7))
def test_derived_quorums_intersect(tree):
    _, expr = tree
    for qs in (ha.QuorumSystem(reads=expr), ha.QuorumSystem(writes=expr)):
        writes = list(qs.write_quorums())
        assert writes and all(r & w for r in qs.read_quorums() for w in writes)


@settings(max_examples=120, deadline=None)
@given(trees(max_nodes=7))
def test_dual_of_dual_has_the_same_quorums(tree):
    _, expr = tree
    assert set(expr.dual().dual().quorums()) == set(expr.quorums())


@settings(max_examples=120, deadline=None)
@given(trees(max_nodes=8))
def test_resilience_by_brute_force(tree):
    spec, expr = tree
    qs = ha.QuorumSystem(reads=expr)
    names = qs.node_names
    read_q = naive.minimal_quorums(names, _holds(spec))
    write_rule = naive.hitting_holds(list(read_q))
    f_read = naive.resilience_by_enumeration(names, _holds(spec))
    f_write = naive.resilience_by_enumeration(names, write_rule)
    assert qs.read_resilience() == f_read
    assert qs.write_resilience() == f_write
    assert qs.resilience() == min(f_read, f_write)
    # resilience = (smallest quorum of the dual) - 1
    assert f_read == min(len(q) for q in naive.minimal_quorums(names, write_rule)) - 1


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 8),
    data=st.data(),
)
def test_threshold_families_intersect(n, data):
    nodes = [ha.Node(f"n{i}") for i in range(n)]
    r = data.draw(st.integers(1, n))
    w = data.draw(st.integers(n - r + 1, n))
    for qs in (
        ha.quorum.read_write(nodes, r=r, w=w),
        ha.quorum.flexible_paxos(nodes, q1=r, q2=w),
    ):
        assert all(len(x) == r for x in qs.read_quorums())
        assert all(len(x) == w for x in qs.write_quorums())
        writes = list(qs.write_quorums())
        assert all(x & y for x in qs.read_quorums() for y in writes)
    votes = {x: data.draw(st.integers(1, 3)) for x in nodes}
    total = sum(votes.values())
    rt = data.draw(st.integers(1, total))
    wt = data.draw(st.integers(total - rt + 1, total))
    qs = ha.quorum.voting(votes, read_threshold=rt, write_threshold=wt)
    rule = lambda t: lambda up: sum(v for x, v in votes.items() if x.name in up) >= t  # noqa: E731
    assert set(qs.read_quorums()) == naive.minimal_quorums(qs.node_names, rule(rt))
    assert set(qs.write_quorums()) == naive.minimal_quorums(qs.node_names, rule(wt))
    writes = list(qs.write_quorums())
    assert all(x & y for x in qs.read_quorums() for y in writes)
