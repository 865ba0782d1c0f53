"""Quorum load, capacity, network load and latency of optimal strategies.

Expected values come from ``naive.optimal_load_by_enumeration`` (the quorum-probability LP
written out densely over quorums listed by ``itertools`` or by testing every subset against
a rule written from the family's definition, f-resilient ones by ``naive.f_resilient_quorums``),
from closed forms (majority (floor(n/2) + 1)/n and row-column grid (2 sqrt(n) - 1)/n, Naor &
Wool 1998; the projective plane of order 2, 3/7; averaging bounds met by uniform strategies;
water-filling for one threshold side) and from order statistics of constant latencies.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.optimize import brentq

import openha as ha
from openha.quorum import Node, choose, majority
from tests import naive

fs = frozenset
RTOL = 1e-7

CAPS = [1000.0, 2000.0, 1500.0, 4000.0, 1000.0, 3000.0, 2500.0, 1200.0, 1800.0]
WRITE_CAPS = [800.0, 1000.0, 3000.0, 1000.0, 2000.0, 700.0, 900.0, 1500.0, 1100.0]
LATS_MS = [12.0, 3.0, 7.0, 25.0, 5.0, 9.0, 15.0, 4.0, 11.0]


@dataclass
class Case:
    """A system beside its reference quorums (never from openha's enumeration)."""

    qs: ha.QuorumSystem
    reads: list[frozenset[str]]
    writes: list[frozenset[str]]

    @property
    def read_cap(self) -> dict[str, float]:
        return {n.name: n.read_capacity or n.capacity or 1.0 for n in self.qs.nodes}

    @property
    def write_cap(self) -> dict[str, float]:
        return {n.name: n.write_capacity or n.capacity or 1.0 for n in self.qs.nodes}

    @property
    def latency(self) -> dict[str, float]:
        return {n.name: n.latency.mean for n in self.qs.nodes}

    def optimum(self, mix: dict[float, float], objective: str = "load", **limits) -> float | None:
        return naive.optimal_load_by_enumeration(
            self.reads,
            self.writes,
            mix,
            self.read_cap,
            self.write_cap,
            objective,
            latency=self.latency,
            **limits,
        )


def hetero_nodes(n: int, *, split: bool = False) -> list[Node]:
    """Nodes with unequal capacities (separate read/write ones if ``split``) and latencies."""
    caps = [
        {"read_capacity": CAPS[i], "write_capacity": WRITE_CAPS[i]}
        if split
        else {"capacity": CAPS[i]}
        for i in range(n)
    ]
    return [Node(f"n{i}", latency=LATS_MS[i], **caps[i]) for i in range(n)]


def _names(nodes) -> list[str]:
    return [x.name for x in nodes]


def _dual(names, quorums) -> list[frozenset[str]]:
    return sorted(naive.minimal_quorums(names, naive.hitting_holds(quorums)), key=sorted)


def build_case(name: str) -> Case:
    """Each family's quorums are written from its definition."""
    if name.startswith("majority"):
        n = int(name.removeprefix("majority"))
        nodes = hetero_nodes(n)
        writes = naive.threshold_quorums(_names(nodes), n // 2 + 1)
        return Case(ha.QuorumSystem(writes=majority(nodes)), _dual(_names(nodes), writes), writes)
    if name.startswith(("read_write", "flexible_paxos")):
        n, r, w = (int(x) for x in name.split("_")[2:])
        nodes = hetero_nodes(n, split=name.startswith("read"))
        th = naive.threshold_quorums
        if name.startswith("read"):
            qs = ha.quorum.read_write(nodes, r=r, w=w)
        else:
            qs = ha.quorum.flexible_paxos(nodes, q1=r, q2=w)
        return Case(qs, th(_names(nodes), r), th(_names(nodes), w))
    if name == "voting":
        nodes = hetero_nodes(5)
        votes = dict(zip(_names(nodes), [3, 2, 1, 1, 1], strict=True))

        def votes_at_least(t):
            return sorted(
                naive.minimal_quorums(votes, lambda s: sum(votes[x] for x in s) >= t), key=sorted
            )

        qs = ha.quorum.voting(
            dict(zip(nodes, votes.values(), strict=True)), read_threshold=4, write_threshold=5
        )
        return Case(qs, votes_at_least(4), votes_at_least(5))
    if name.startswith(("grid_rows", "row_column", "hierarchical")):
        r, c = (int(x) for x in name.split("_")[-1].split("x"))
        nodes = hetero_nodes(r * c)
        table = [nodes[i * c : (i + 1) * c] for i in range(r)]
        rows = [fs(_names(row)) for row in table]
        cols = [fs(_names(col)) for col in zip(*table, strict=True)]
        if name.startswith("grid_rows"):
            writes = [fs(p) for p in itertools.product(*rows)]
            return Case(ha.quorum.grid(table), rows, writes)
        if name.startswith("row_column"):
            quorums = [row | col for row in rows for col in cols]
            return Case(ha.quorum.grid(table, kind="row-column"), quorums, quorums)
        quorums = [
            fs(itertools.chain(*parts))
            for groups in itertools.combinations(rows, r // 2 + 1)
            for parts in itertools.product(
                *(itertools.combinations(sorted(g), c // 2 + 1) for g in groups)
            )
        ]
        return Case(ha.quorum.hierarchical(table), quorums, quorums)
    assert name == "ab_cde"
    a, b, c, d, e = hetero_nodes(5)
    writes = [fs(p) for p in itertools.product("n0 n1".split(), "n2 n3 n4".split())]
    return Case(
        ha.QuorumSystem(reads=a * b + c * d * e), [fs({"n0", "n1"}), fs({"n2", "n3", "n4"})], writes
    )


CASES = [
    *(f"majority{n}" for n in range(3, 8)),
    "read_write_5_2_4",
    "read_write_6_3_4",
    "read_write_4_1_4",
    "flexible_paxos_5_4_2",
    "flexible_paxos_7_5_3",
    "voting",
    "grid_rows_3x3",
    "grid_rows_2x3",
    "row_column_3x3",
    "hierarchical_3x3",
    "ab_cde",
]
MIXES = [0.0, 0.3, 0.5, 1.0, {0.9: 3, 0.5: 1}, {0.0: 1, 1.0: 1, 0.2: 2}]


def as_mix(fraction) -> dict[float, float]:
    return dict(fraction) if isinstance(fraction, dict) else {fraction: 1.0}


def explicit(strategy: ha.Strategy) -> tuple[dict, dict]:
    """The strategy's quorum distributions as {frozenset of names: probability}."""
    df = strategy.quorum_probabilities()
    out: tuple[dict, dict] = ({}, {})
    for op, side in (("read", out[0]), ("write", out[1])):
        for q, p in df[df.op == op][["quorum", "probability"]].itertuples(index=False):
            side[fs(q.split(","))] = side.get(fs(q.split(",")), 0.0) + p
    return out


def metrics(case: Case, strategy: ha.Strategy, mix) -> dict[str, float]:
    rp, wp = explicit(strategy)
    return naive.strategy_metrics(rp, wp, as_mix(mix), case.read_cap, case.write_cap, case.latency)


# --------------------------------------------------------------------------- LP vs enumeration
@pytest.mark.parametrize("fraction", MIXES, ids=str)
@pytest.mark.parametrize("name", CASES)
def test_optima_match_enumerated_lp(name, fraction):
    case = build_case(name)
    mix, qs = as_mix(fraction), case.qs
    load, network, lat = (case.optimum(mix, obj) for obj in ("load", "network", "latency"))
    np.testing.assert_allclose(qs.load(read_fraction=fraction), load, rtol=RTOL)
    np.testing.assert_allclose(qs.capacity(read_fraction=fraction), 1 / load, rtol=RTOL)
    np.testing.assert_allclose(qs.network_load(read_fraction=fraction), network, rtol=RTOL)
    np.testing.assert_allclose(qs.latency(read_fraction=fraction), lat, rtol=RTOL)
    # the numbers a strategy reports are those of its own quorum distributions
    s = qs.strategy(read_fraction=fraction, optimize="latency")
    np.testing.assert_allclose(metrics(case, s, fraction)["latency"], lat, rtol=RTOL)
    np.testing.assert_allclose(metrics(case, s, fraction)["load"], s.load(), rtol=1e-12)

    # with limits: halfway between the best value and the value at the other optimum
    at_lat_opt, at_lat_opt_network = (metrics(case, s, fraction)[k] for k in ("load", "network"))
    load_limit = load + 0.5 * (at_lat_opt - load)
    s = qs.strategy(read_fraction=fraction, optimize="latency", load_limit=load_limit)
    want = case.optimum(mix, "latency", load_limit=load_limit)
    np.testing.assert_allclose(s.latency(), want, rtol=RTOL)
    np.testing.assert_allclose(
        qs.latency(read_fraction=fraction, load_limit=load_limit), want, rtol=RTOL
    )
    assert s.load() <= load_limit * (1 + 1e-7)
    s = qs.strategy(read_fraction=fraction, optimize="network", load_limit=load_limit)
    want = case.optimum(mix, "network", load_limit=load_limit)
    np.testing.assert_allclose(s.network_load(), want, rtol=RTOL)
    # the latency optimum meets both limits, so they can be met together
    latency_limit, network_limit = 1.1 * lat, max(1.2 * network, at_lat_opt_network)
    s = qs.strategy(
        read_fraction=fraction, latency_limit=latency_limit, network_limit=network_limit
    )
    want = case.optimum(mix, latency_limit=latency_limit, network_limit=network_limit)
    np.testing.assert_allclose(s.load(), want, rtol=RTOL)
    got = metrics(case, s, fraction)
    assert got["latency"] <= latency_limit * (1 + 1e-7)
    assert got["network"] <= network_limit * (1 + 1e-7)


F_CASES = [
    (name, f)
    for name, f in itertools.product(CASES, (1, 2))
    if f <= build_case(name).qs.resilience()
]


@pytest.mark.parametrize(("name", "f"), F_CASES)
def test_f_resilient_optima_match_brute_force(name, f):
    case = build_case(name)
    names = case.qs.node_names
    ref = Case(
        case.qs,
        naive.f_resilient_quorums(names, case.reads, f),
        naive.f_resilient_quorums(names, case.writes, f),
    )
    for fraction in (0.3, {0.9: 3, 0.5: 1}):
        mix = as_mix(fraction)
        np.testing.assert_allclose(
            case.qs.load(read_fraction=fraction, f=f), ref.optimum(mix), rtol=RTOL
        )
        np.testing.assert_allclose(
            case.qs.network_load(read_fraction=fraction, f=f),
            ref.optimum(mix, "network"),
            rtol=RTOL,
        )
        np.testing.assert_allclose(
            case.qs.latency(read_fraction=fraction, f=f), ref.optimum(mix, "latency"), rtol=RTOL
        )


# --------------------------------------------------------------------------- closed forms
def _plain(n: int, prefix: str = "n") -> list[Node]:
    return [Node(f"{prefix}{i}") for i in range(n)]


@pytest.mark.parametrize("n", [*range(3, 26), 101, 1001])
def test_majority_load_closed_form(n):
    nodes = _plain(n)
    qs = ha.QuorumSystem(reads=majority(nodes), writes=majority(nodes))
    for fraction in (0.0, 0.37, 1.0, {0.2: 1, 0.9: 2}):
        np.testing.assert_allclose(qs.load(read_fraction=fraction), (n // 2 + 1) / n, rtol=1e-9)
        np.testing.assert_allclose(qs.capacity(read_fraction=fraction), n / (n // 2 + 1), rtol=1e-9)


@pytest.mark.parametrize(
    ("n", "r", "w"),
    [(4, 2, 3), (5, 3, 3), (7, 4, 4), (6, 3, 4), (10, 5, 6), (9, 2, 8), (200, 60, 141)],
)
@pytest.mark.parametrize("f", [0, 1, 2])
def test_read_write_threshold_load_with_f(n, r, w, f):
    # every node carries the average: (fr (r + f) + (1 - fr) (w + f)) / n, met by uniform choice
    qs = ha.quorum.read_write(_plain(n), r=r, w=w)
    if f > min(n - r, n - w):
        return
    for fr in (0.0, 0.25, 0.9, 1.0):
        np.testing.assert_allclose(
            qs.load(read_fraction=fr, f=f), (fr * (r + f) + (1 - fr) * (w + f)) / n, rtol=1e-9
        )
        np.testing.assert_allclose(
            qs.network_load(read_fraction=fr, f=f), fr * (r + f) + (1 - fr) * (w + f), rtol=1e-9
        )


@pytest.mark.parametrize("side", [3, 4, 5])
def test_row_column_grid_load(side):
    n = side * side
    nodes = _plain(n)
    qs = ha.quorum.grid([nodes[i * side : (i + 1) * side] for i in range(side)], kind="row-column")
    for fr in (0.0, 0.5, 1.0):
        np.testing.assert_allclose(qs.load(read_fraction=fr), (2 * math.sqrt(n) - 1) / n, rtol=1e-9)


@pytest.mark.parametrize(("r", "c"), [(3, 3), (2, 4), (4, 2), (3, 5)])
def test_rows_grid_load(r, c):
    # reads take a row (c nodes), writes one node per row (r nodes): the average node carries
    # fr/r + (1 - fr)/c, and uniform choice gives every node exactly that
    nodes = _plain(r * c)
    qs = ha.quorum.grid([nodes[i * c : (i + 1) * c] for i in range(r)])
    for fr in (0.5, 0.1, 0.8):
        np.testing.assert_allclose(qs.load(read_fraction=fr), fr / r + (1 - fr) / c, rtol=1e-9)


def _fano() -> ha.Expr:
    p = _plain(7, "p")
    lines = [(0, 1, 2), (0, 3, 4), (0, 5, 6), (1, 3, 5), (1, 4, 6), (2, 3, 6), (2, 4, 5)]
    expr = p[0] * p[1] * p[2]
    for a, b, c in lines[1:]:
        expr = expr + p[a] * p[b] * p[c]
    return expr


def _single_sided() -> dict[str, tuple[ha.QuorumSystem, float | None]]:
    """Systems with reads = writes, homogeneous; value: the known load, None if unknown."""
    out: dict[str, tuple[ha.QuorumSystem, float | None]] = {}
    for n in range(3, 10):
        m = majority(_plain(n))
        out[f"majority{n}"] = (ha.QuorumSystem(reads=m, writes=m), (n // 2 + 1) / n)
    for side in (3, 4):
        nodes = _plain(side * side)
        rows = [nodes[i * side : (i + 1) * side] for i in range(side)]
        out[f"row_column{side}"] = (
            ha.quorum.grid(rows, kind="row-column"),
            (2 * side - 1) / side**2,
        )
    groups = [_plain(3, p) for p in "xyz"]
    out["hierarchical3x3"] = (ha.quorum.hierarchical(groups), 4 / 9)
    groups = [_plain(5, p) for p in "xyz"]
    out["hierarchical3x5"] = (ha.quorum.hierarchical(groups), 2 / 3 * 3 / 5)
    out["fano"] = (ha.QuorumSystem(reads=_fano(), writes=_fano()), 3 / 7)  # Naor & Wool 1998
    nodes = _plain(6)
    votes = ha.weighted(dict(zip(nodes, [3, 2, 2, 1, 1, 1], strict=True)), 6)
    out["voting"] = (ha.QuorumSystem(reads=votes, writes=votes), None)
    a, b, c, d = _plain(4, "w")
    wheel = a * (b + c + d) + b * c * d
    out["wheel"] = (ha.QuorumSystem(reads=wheel, writes=wheel), None)
    return out


@pytest.mark.parametrize("name", list(_single_sided()))
def test_naor_wool_bound(name):
    qs, known = _single_sided()[name]
    n = len(qs.nodes)
    smallest = next(
        r
        for r in range(1, n + 1)
        if any(qs.is_read_quorum(c) for c in itertools.combinations(qs.node_names, r))
    )
    bound = max(1 / smallest, smallest / n)
    assert bound >= 1 / math.sqrt(n) - 1e-12
    load = qs.load(read_fraction=0.5)
    assert load >= bound * (1 - 1e-9)
    if known is not None:
        np.testing.assert_allclose(load, known, rtol=1e-9)


@pytest.mark.parametrize(
    ("caps", "k", "f"),
    [
        ([1, 2, 3, 4, 5], 3, 0),
        ([1, 2, 3, 4, 5], 3, 1),
        ([100, 100, 100, 5000, 8000, 9000, 10], 4, 0),
        ([100, 100, 100, 5000, 8000, 9000, 10], 5, 2),
        (list(np.random.default_rng(7).uniform(100, 5000, 300)), 151, 0),
        (list(np.random.default_rng(8).lognormal(7, 1.5, 400)), 250, 30),
    ],
)
def test_threshold_capacity_water_filling(caps, k, f):
    # one side choose(k + f): x_i = min(1, c_i / C) with sum x_i = k + f, so C solves
    # sum_i min(1, c_i / C) = k + f
    nodes = [Node(f"n{i}", capacity=c) for i, c in enumerate(caps)]
    qs = ha.QuorumSystem(reads=choose(k, nodes), writes=choose(k, nodes))
    want = brentq(lambda cap: sum(min(1.0, c / cap) for c in caps) - (k + f), min(caps), sum(caps))
    for fr in (0.0, 0.6):
        np.testing.assert_allclose(qs.capacity(read_fraction=fr, f=f), want, rtol=1e-8)


# --------------------------------------------------------------------------- slowest member
@pytest.mark.parametrize(("n", "r", "w"), [(5, 3, 3), (7, 2, 6), (8, 5, 4), (30, 10, 21)])
@pytest.mark.parametrize("f", [0, 1])
def test_threshold_latency_is_order_statistic(n, r, w, f):
    lats = list(np.random.default_rng(n).permutation(np.arange(1.0, n + 1.0) * 1.5))
    nodes = [Node(f"n{i}", latency=x) for i, x in enumerate(lats)]
    qs = ha.quorum.read_write(nodes, r=r, w=w)
    s = sorted(lats)
    for fr in (0.0, 0.3, 1.0):
        want = fr * s[r + f - 1] + (1 - fr) * s[w + f - 1]
        np.testing.assert_allclose(qs.latency(read_fraction=fr, f=f), want, rtol=1e-9)


@pytest.mark.parametrize(
    ("lats", "k"),
    [
        ([5.0, 1.0, 3.0, 8.0, 2.0], 3),
        ([5.0, 1.0, 3.0, 8.0, 2.0, 13.0, 4.0], 4),
        ([5.0, 1.0, 3.0, 8.0, 2.0, 13.0, 4.0, 6.0], 5),
        ([2.0, 2.0, 1.0, 3.0, 3.0, 1.0, 2.0], 4),  # ties
        ([9.0, 1.0, 3.0, 7.0, 2.0, 6.0, 4.0, 5.0], 1),
        ([9.0, 1.0, 3.0, 7.0, 2.0, 6.0, 4.0, 5.0], 8),
    ],
)
def test_threshold_latency_under_load_limit_matches_enumeration(lats, k):
    n = len(lats)
    caps = [1000.0 * (1 + (3 * i) % 4) for i in range(n)]
    nodes = [
        Node(f"n{i}", capacity=c, latency=x)
        for i, (c, x) in enumerate(zip(caps, lats, strict=True))
    ]
    qs = ha.QuorumSystem(reads=choose(k, nodes), writes=choose(n - k + 1, nodes))
    case = Case(
        qs,
        naive.threshold_quorums(qs.node_names, k),
        naive.threshold_quorums(qs.node_names, n - k + 1),
    )
    mix = {0.8: 1.0}
    best_load = case.optimum(mix)
    fastest = qs.strategy(read_fraction=0.8, optimize="latency")
    for t in (0.0, 0.1, 0.4, 0.8):
        load_limit = best_load + t * (fastest.load() - best_load)
        want = case.optimum(mix, "latency", load_limit=load_limit)
        s = qs.strategy(read_fraction=0.8, optimize="latency", load_limit=load_limit)
        np.testing.assert_allclose(s.latency(), want, rtol=RTOL)
        np.testing.assert_allclose(metrics(case, s, 0.8)["latency"], want, rtol=RTOL)
        assert metrics(case, s, 0.8)["load"] <= load_limit * (1 + 1e-7)
        assert {len(q) for q in explicit(s)[0]} == {k}
