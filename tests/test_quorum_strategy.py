"""Strategies as objects: properties over random systems, sampling, units and bad input.

Random systems are threshold trees drawn by hypothesis; their reference quorums come from
``naive.minimal_quorums`` testing every subset with ``naive.tree_holds``, their duals from
``naive.hitting_holds`` and f-resilient quorums from ``naive.f_resilient_quorums``, and
optima from the dense LP ``naive.optimal_load_by_enumeration``.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from scipy import stats

import openha as ha
from openha.quorum import Gate, Node, majority
from openha.quorum.sides import systematic_decomposition
from tests import naive
from tests.openha_errors import raises_openha_error as _raises
from tests.test_quorum_load import Case, as_mix, build_case, explicit, metrics

fs = frozenset


# --------------------------------------------------------------------------- random systems
@st.composite
def systems(draw, max_nodes: int = 6):
    """A random system (a tree of threshold gates as reads, or thresholds, or votes) with
    random capacities and latencies, beside its reference quorums."""
    n = draw(st.integers(3, max_nodes))
    names = [f"n{i}" for i in range(n)]
    caps = draw(st.sampled_from(["none", "both", "split"]))
    cap = st.sampled_from([1.0, 2.0, 3.0, 5.0])
    nodes = {}
    for x in names:
        kw = {"latency": float(draw(st.integers(1, 20)))}
        if caps == "both":
            kw["capacity"] = draw(cap)
        elif caps == "split":
            kw["read_capacity"], kw["write_capacity"] = draw(cap), draw(cap)
        nodes[x] = Node(x, **kw)
    kind = draw(st.sampled_from(["tree", "threshold", "votes", "majority"]))
    if kind == "majority":  # resilient: f up to 2 for 5 or 6 nodes
        qs = ha.QuorumSystem(writes=majority(list(nodes.values())))
        writes = naive.threshold_quorums(names, n // 2 + 1)
        return Case(qs, list(naive.minimal_quorums(names, naive.hitting_holds(writes))), writes)
    if kind == "threshold":
        r = draw(st.integers(1, n - 1))
        w = draw(st.integers(n - r + 1, n))  # w = n leaves no resilience: less likely below
        w = min(w, draw(st.integers(n - r + 1, n)))
        qs = ha.quorum.read_write(list(nodes.values()), r=r, w=w)
        return Case(qs, naive.threshold_quorums(names, r), naive.threshold_quorums(names, w))
    if kind == "votes":
        votes = {x: draw(st.integers(1, 3)) for x in names}
        total = sum(votes.values())
        r = draw(st.integers(1, total))
        w = draw(st.integers(total - r + 1, total))
        qs = ha.quorum.voting(
            {nodes[x]: v for x, v in votes.items()}, read_threshold=r, write_threshold=w
        )

        def rule(t):
            return sorted(
                naive.minimal_quorums(names, lambda s: sum(votes[x] for x in s) >= t), key=sorted
            )

        return Case(qs, rule(r), rule(w))

    leaves = itertools.cycle(draw(st.permutations(names)))  # nodes repeat once all are used

    def build(depth: int):
        if depth == 0 or (depth < 2 and draw(st.booleans())):
            x = next(leaves)
            return x, nodes[x]
        kids = [build(depth - 1) for _ in range(draw(st.integers(2, 3)))]
        k = draw(st.integers(1, len(kids)))
        return (k, [(s, 1) for s, _ in kids]), Gate(
            k=k, children=tuple(e for _, e in kids), weights=(1,) * len(kids)
        )

    spec, expr = build(2)
    qs = ha.QuorumSystem(reads=expr)
    used = qs.node_names
    reads = sorted(naive.minimal_quorums(used, lambda s: naive.tree_holds(spec, s)), key=sorted)
    writes = sorted(naive.minimal_quorums(used, naive.hitting_holds(reads)), key=sorted)
    return Case(qs, reads, writes)


fractions = st.one_of(
    st.sampled_from([0.0, 1.0]),
    st.floats(0.0, 1.0),
    st.dictionaries(
        st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]), st.integers(1, 4), min_size=1, max_size=3
    ),
)


def used_sides(fraction) -> dict[str, bool]:
    """The sides a workload uses: only those need f-resilient quorums."""
    mix = as_mix(fraction)
    return {"read": any(fr > 0 for fr in mix), "write": any(fr < 1 for fr in mix)}


def f_resilient_case(case: Case, f: int, used: dict[str, bool]) -> Case:
    names = case.qs.node_names
    return Case(
        case.qs,
        naive.f_resilient_quorums(names, case.reads, f if used["read"] else 0),
        naive.f_resilient_quorums(names, case.writes, f if used["write"] else 0),
    )


@settings(max_examples=100, deadline=None)
@given(case=systems(), fraction=fractions, data=st.data())
def test_strategy_is_an_optimal_distribution_over_real_quorums(case, fraction, data):
    qs, used = case.qs, used_sides(fraction)
    tolerates = {"read": qs.read_resilience(), "write": qs.write_resilience()}
    top = min(2, *(tolerates[op] for op in used if used[op]))
    f = top - data.draw(st.integers(0, top), label="top - f")  # the largest f first
    optimize = data.draw(st.sampled_from(["load", "network", "latency"]), label="optimize")
    event(f"f={f}")
    s = qs.strategy(read_fraction=fraction, f=f, optimize=optimize)
    df = s.quorum_probabilities()
    assert (df.probability >= 0).all()
    for op, is_quorum in (("read", qs.is_read_quorum), ("write", qs.is_write_quorum)):
        side = df[df.op == op]
        np.testing.assert_allclose(side.probability.sum(), 1.0, rtol=1e-12)
        for q, size in side[["quorum", "size"]].itertuples(index=False):
            members = q.split(",")
            assert len(members) == size == len(set(members))
            for gone in itertools.combinations(members, f if used[op] else 0):  # any f may fail
                assert is_quorum(set(members) - set(gone)), (op, q, gone)
    # per-node marginals of the explicit distributions are the node_loads probabilities
    rp, wp = explicit(s)
    loads = s.node_loads().set_index("node")
    for x in qs.node_names:
        np.testing.assert_allclose(
            loads.read_probability[x], sum(p for q, p in rp.items() if x in q), atol=1e-12
        )
        np.testing.assert_allclose(
            loads.write_probability[x], sum(p for q, p in wp.items() if x in q), atol=1e-12
        )
    np.testing.assert_allclose(loads.utilisation.max(), 1.0)
    # the reported metrics are those of the distributions, and optimal per the dense LP
    got = metrics(case, s, fraction)
    np.testing.assert_allclose(
        [s.load(), s.network_load(), s.latency()],
        [got["load"], got["network"], got["latency"]],
        rtol=1e-12,
    )
    ref = f_resilient_case(case, f, used)
    np.testing.assert_allclose(got[optimize], ref.optimum(as_mix(fraction), optimize), rtol=1e-7)


@settings(max_examples=40, deadline=None)
@given(case=systems(), fraction=fractions)
def test_capacity_is_non_increasing_in_f(case, fraction):
    caps = [
        case.qs.capacity(read_fraction=fraction, f=f)
        for f in range(min(case.qs.resilience(), 3) + 1)
    ]
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(caps)), caps


@settings(max_examples=40, deadline=None)
@given(votes=st.lists(st.integers(1, 4), min_size=2, max_size=8), data=st.data())
def test_load_meets_naor_wool_bound(votes, data):
    total = sum(votes)
    t = data.draw(st.integers(total // 2 + 1, total), label="threshold")
    names = [f"n{i}" for i in range(len(votes))]
    expr = ha.weighted({Node(x): v for x, v in zip(names, votes, strict=True)}, t)
    qs = ha.QuorumSystem(reads=expr, writes=expr)
    weight = dict(zip(names, votes, strict=True))
    smallest = min(
        len(q) for q in naive.minimal_quorums(names, lambda s: sum(weight[x] for x in s) >= t)
    )
    n = len(names)
    bound = max(1 / smallest, smallest / n)
    assert bound >= 1 / math.sqrt(n) - 1e-12
    assert qs.load(read_fraction=data.draw(st.floats(0, 1), label="fr")) >= bound * (1 - 1e-9)


@settings(max_examples=30, deadline=None)
@given(case=systems(), fraction=fractions, cuts=st.lists(st.floats(0, 1), min_size=2, max_size=4))
def test_latency_optimum_non_increasing_in_load_limit(case, fraction, cuts):
    qs = case.qs
    best = qs.load(read_fraction=fraction)
    fastest = qs.strategy(read_fraction=fraction, optimize="latency").load()
    limits = sorted(best + c * (fastest - best) for c in cuts)
    lats = [qs.latency(read_fraction=fraction, load_limit=lim) for lim in limits]
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(lats)), (limits, lats)
    np.testing.assert_allclose(
        qs.latency(read_fraction=fraction, load_limit=fastest * (1 + 1e-6)),
        qs.latency(read_fraction=fraction),
        rtol=1e-7,
    )


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    n=st.integers(2, 8),
    noise=st.sampled_from([0.0, 1e-12, 1e-9, 1e-7]),
    seed=st.integers(0, 2**32 - 1),
)
def test_systematic_decomposition_realises_marginals(data, n, noise, seed):
    # marginals of a random mix of k-subsets are valid (each <= 1, sum k); an LP returns them
    # up to a small error, entries a hair above 1 included
    k = data.draw(st.integers(1, n), label="k")
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for p in rng.dirichlet(np.ones(3)):
        x[rng.choice(n, size=k, replace=False)] += p
    subsets, probs = systematic_decomposition(x + rng.normal(0.0, noise, n), k)
    assert all(len(set(s.tolist())) == s.size == k for s in subsets), subsets
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-12)
    got = np.zeros(n)
    for s, p in zip(subsets, probs, strict=True):
        got[s] += p
    np.testing.assert_allclose(got, x, atol=10 * noise + 1e-12)


# --------------------------------------------------------------------------- sampling
@pytest.mark.parametrize("name", ["majority5", "read_write_6_3_4", "ab_cde", "hierarchical_3x3"])
def test_sample_frequencies_match_probabilities(name):
    case = build_case(name)
    s = case.qs.strategy(
        read_fraction=0.4, optimize="latency", load_limit=1.3 * case.qs.load(read_fraction=0.4)
    )
    df = s.quorum_probabilities()
    n = 20_000
    for op in ("read", "write"):
        probs = dict(
            zip(
                df[df.op == op].quorum.map(lambda q: fs(q.split(","))),
                df[df.op == op].probability,
                strict=True,
            )
        )
        drawn = s.sample(op, n, seed=11)
        assert drawn == s.sample(op, n, seed=11)  # same seed, same quorums
        assert drawn != s.sample(op, n, seed=12) or len(probs) == 1
        assert set(drawn) <= set(probs)
        counts = {q: drawn.count(q) for q in probs}
        alpha = 1e-3 / len(probs)  # Bonferroni over quorums; fixed seed
        for q, p in probs.items():
            lo, hi = stats.binom.interval(1 - alpha, n, p)
            assert lo <= counts[q] <= hi, (op, sorted(q), counts[q], n * p)


# --------------------------------------------------------------------------- units and inputs
def test_capacity_is_in_ops_per_second():
    # 3 nodes of 1000 ops/s and majority quorums: 3000 node-ops/s, 2 per operation
    nodes = [Node(x, capacity=1000) for x in "abc"]
    qs = ha.QuorumSystem(writes=majority(nodes))
    np.testing.assert_allclose(qs.capacity(read_fraction=0.5), 1500.0, rtol=1e-9)
    # separate read and write capacities: a read costs 2/2000 s of node time, a write 2/500
    nodes = [Node(x, read_capacity=2000, write_capacity=500) for x in "abc"]
    qs = ha.QuorumSystem(writes=majority(nodes))
    np.testing.assert_allclose(
        qs.capacity(read_fraction=0.5), 1 / (0.5 * 2 / 3 / 2000 + 0.5 * 2 / 3 / 500), rtol=1e-9
    )


def test_latency_mapping_and_distribution_means():
    d = ha.dist
    nodes = [
        Node("a", latency=d.Uniform(1, 3)),
        Node("b", latency=d.Exponential(mean=5.0)),
        Node("c", latency=7.0),
    ]
    qs = ha.QuorumSystem(writes=majority(nodes))
    np.testing.assert_allclose(qs.latency(read_fraction=0.5), 5.0, rtol=1e-9)  # means 2, 5, 7
    override = {"c": d.Constant(1.0), "b": 4.0}
    np.testing.assert_allclose(qs.latency(read_fraction=0.5, latency=override), 2.0, rtol=1e-9)
    # a strategy optimised for load still reports its latency (here: from the nodes)
    s = qs.strategy(read_fraction=0.5)
    rp, wp = explicit(s)
    means = {"a": 2.0, "b": 5.0, "c": 7.0}
    want = naive.strategy_metrics(
        rp, wp, {0.5: 1}, dict.fromkeys("abc", 1.0), dict.fromkeys("abc", 1.0), means
    )
    np.testing.assert_allclose(s.latency(), want["latency"], rtol=1e-12)


# --------------------------------------------------------------------------- bad input


def _best(msg: str) -> float:
    return float(re.search(r"best achievable \w+ .*is ([-+0-9.e]+)", msg).group(1))


@pytest.fixture
def maj5():
    return build_case("majority5")


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, math.inf, "x"])
def test_bad_read_fraction(maj5, bad):
    _raises(lambda: maj5.qs.strategy(read_fraction=bad), "read_fraction")
    _raises(lambda: maj5.qs.load(write_fraction=bad), "write_fraction")
    _raises(lambda: maj5.qs.strategy(read_fraction={bad: 1.0}), "read_fraction")


def test_both_or_neither_fraction(maj5):
    _raises(lambda: maj5.qs.strategy(), "read_fraction", "write_fraction")
    _raises(
        lambda: maj5.qs.load(read_fraction=0.5, write_fraction=0.5),
        "read_fraction",
        "write_fraction",
    )
    _raises(
        lambda: maj5.qs.strategy(read_fraction=0.5).load(read_fraction=0.1, write_fraction=0.9),
        "exactly one",
    )


@pytest.mark.parametrize("mix", [{0.5: -1.0, 0.9: 2.0}, {0.5: 0.0, 0.9: 0.0}, {}, {0.5: math.nan}])
def test_bad_mix(maj5, mix):
    _raises(lambda: maj5.qs.strategy(read_fraction=mix), "read_fraction mix")
    _raises(lambda: maj5.qs.capacity(write_fraction=mix), "write_fraction mix")


def test_f_beyond_resilience():
    qs = ha.quorum.read_write([Node(x) for x in "abcdef"], r=2, w=5)
    # reads (any 2 of 6) survive 4 failures, writes (any 5) only 1
    _raises(lambda: qs.strategy(read_fraction=0.5, f=2), "f", "at most 1", "got f=2")
    _raises(lambda: qs.strategy(write_fraction=1.0, f=2), "f", "at most 1", "got f=2")
    _raises(lambda: qs.strategy(read_fraction=1.0, f=5), "f", "at most 4", "got f=5")
    # a read-only workload needs only f-resilient reads: any 2 + f of the 6 nodes
    np.testing.assert_allclose(qs.load(read_fraction=1.0, f=3), 5 / 6, rtol=1e-9)
    grid = ha.quorum.grid([[Node(x) for x in "abc"], [Node(x) for x in "def"]])
    _raises(lambda: grid.load(read_fraction=0.5, f=2), "at most 1", "got f=2")
    for bad in (-1, 1.5, "1"):
        _raises(lambda bad=bad: qs.strategy(read_fraction=0.5, f=bad), "f must be an integer")


def test_infeasible_limits_name_the_limit_and_the_best_value(maj5):
    qs, mix = maj5.qs, {0.3: 1.0}
    best_load, best_lat, best_net = (maj5.optimum(mix, o) for o in ("load", "latency", "network"))
    msg = _raises(
        lambda: qs.strategy(read_fraction=0.3, load_limit=0.9 * best_load), "load_limit", "load"
    )
    np.testing.assert_allclose(_best(msg), best_load, rtol=1e-5)  # printed to 6 digits
    msg = _raises(
        lambda: qs.strategy(read_fraction=0.3, latency_limit=0.9 * best_lat), "latency_limit"
    )
    np.testing.assert_allclose(_best(msg), best_lat, rtol=1e-5)  # printed to 6 digits
    msg = _raises(
        lambda: qs.strategy(read_fraction=0.3, optimize="latency", network_limit=0.9 * best_net),
        "network_limit",
    )
    np.testing.assert_allclose(_best(msg), best_net, rtol=1e-5)  # printed to 6 digits
    # each limit alone is feasible, together they are not: the load limit is named, with the
    # best load under the latency limit
    limit = best_lat * 1.0001
    assert maj5.optimum(mix, latency_limit=limit) > 1.01 * best_load
    assert maj5.optimum(mix, load_limit=1.01 * best_load, latency_limit=limit) is None
    msg = _raises(
        lambda: qs.strategy(read_fraction=0.3, load_limit=1.01 * best_load, latency_limit=limit),
        "load_limit",
    )
    np.testing.assert_allclose(
        _best(msg), maj5.optimum(mix, latency_limit=limit), rtol=1e-5
    )  # printed to 6 digits
    for key in ("load_limit", "network_limit", "latency_limit"):
        _raises(lambda key=key: qs.strategy(read_fraction=0.3, **{key: -1.0}), key)
        _raises(lambda key=key: qs.strategy(read_fraction=0.3, **{key: math.nan}), key)


@pytest.mark.parametrize("bad", [0, -1.0, math.nan])
@pytest.mark.parametrize("attr", ["capacity", "read_capacity", "write_capacity"])
def test_bad_capacity(attr, bad):
    _raises(lambda: Node("a", **{attr: bad}), attr, "'a'")


def test_capacities_for_some_nodes_only():
    nodes = [Node("a", capacity=10), Node("b"), Node("c", capacity=10)]
    _raises(
        lambda: ha.QuorumSystem(writes=majority(nodes)).load(read_fraction=0.5), "capacit", "'b'"
    )
    nodes = [Node("a", read_capacity=10), Node("b", capacity=5), Node("c", capacity=10)]
    _raises(
        lambda: ha.QuorumSystem(writes=majority(nodes)).capacity(read_fraction=0.5),
        "capacit",
        "'a'",
    )


def test_bad_optimize_and_missing_latencies(maj5):
    _raises(lambda: maj5.qs.strategy(read_fraction=0.5, optimize="speed"), "optimize", "'speed'")
    plain = ha.QuorumSystem(writes=majority([Node(x) for x in "abc"]))
    _raises(lambda: plain.strategy(read_fraction=0.5, optimize="latency"), "latency", "'a'")
    _raises(lambda: plain.latency(read_fraction=0.5), "latency")
    _raises(lambda: plain.strategy(read_fraction=0.5, latency_limit=3.0), "latency")
    _raises(lambda: plain.strategy(read_fraction=0.5).latency(), "latency")
    _raises(lambda: plain.latency(read_fraction=0.5, latency={"zz": 1.0}), "zz")


def test_latency_of_a_large_threshold_side():
    nodes = [Node(f"n{i}", latency=1.0 + i) for i in range(201)]
    qs = ha.QuorumSystem(writes=majority(nodes))
    _raises(lambda: qs.latency(read_fraction=0.5), "200", "n=201")
    qs.load(read_fraction=0.5)  # load has no such limit
    qs200 = ha.QuorumSystem(writes=majority(nodes[:200]))
    np.testing.assert_allclose(qs200.latency(read_fraction=0.0), 101.0)  # 101st fastest of 1..200


def test_f_resilient_enumeration_limit():
    nodes = [Node(f"n{i}") for i in range(25)]
    qs = ha.quorum.grid([nodes[i * 5 : (i + 1) * 5] for i in range(5)], kind="row-column")
    _raises(lambda: qs.load(read_fraction=0.5, f=1), "25 nodes", "22")
    np.testing.assert_allclose(qs.load(read_fraction=0.5), 9 / 25)  # f=0 still fine


def test_bad_sample_arguments(maj5):
    s = maj5.qs.strategy(read_fraction=0.5)
    _raises(lambda: s.sample("scan", 3), "op", "'scan'")
    _raises(lambda: s.sample("read", -1), "n")
