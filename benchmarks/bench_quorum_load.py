"""Quorum load and capacity: openha's LP beside the enumeration LP a user would write.

Groups (see ``benchmarks/README.md`` for the measured numbers):

- ``load majority(n) heterogeneous capacities``, n = 5 ... 1001: ``qs.capacity`` at a
  read fraction of 0.9 against an LP with one variable per majority quorum (all
  C(n, n//2 + 1) of them, listed with ``itertools.combinations``) while that is
  tractable (n <= 15).
- ``load 5x5 grid``: rows (read a row, write one node per row) and row-column systems
  against the same LP over quorums listed independently of openha.
- ``latency-optimal majority(n) under a load limit``: ``qs.strategy(optimize="latency",
  load_limit=...)`` against the enumeration LP (n = 15) and a column-generation LP that
  prices quorums by their slowest node (n = 15, 101).

Every benchmark checks its answer: against the other LPs, and against closed forms
(water-filling for majority load with capacities, (2 sqrt(n) - 1) / n for row-column,
a two-sided bound for rows), so a fast wrong answer fails.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest
from scipy.optimize import linprog

import openha as ha

RTOL = 1e-7  # LP optima from HiGHS (default feasibility tolerance 1e-7)
READ_FRACTION = 0.9  # majority capacity: a read-heavy workload
GRID_READ_FRACTION = 0.5
LATENCY_READ_FRACTION = 0.5
LOAD_LIMIT_FACTOR = 1.25  # latency group: load limit = 1.25 x the smallest achievable load

Quorums = Sequence[Sequence[int]]


# --------------------------------------------------------------------------- baselines
def enumeration_lp(
    n_nodes: int,
    read_quorums: Quorums,
    write_quorums: Quorums,
    read_fraction: float,
    capacity: Sequence[float] | None = None,
    *,
    node_latency: Sequence[float] | None = None,
    load_limit: float | None = None,
) -> float:
    """Naor & Wool's LP with one probability per listed quorum, solved by HiGHS.

    Without ``node_latency``: the smallest load of the busiest node (seconds of node time
    per operation when capacities are given). With it: the smallest expected latency to
    the slowest chosen node, subject to ``load <= load_limit``.
    Variables: p_read (one per read quorum), p_write, and the load L.
    """
    cap = np.ones(n_nodes) if capacity is None else np.asarray(capacity, dtype=float)
    n_r, n_w = len(read_quorums), len(write_quorums)
    member = np.zeros((n_nodes, n_r + n_w))  # member[i, q] = 1 when node i is in quorum q
    for j, q in enumerate(itertools.chain(read_quorums, write_quorums)):
        member[list(q), j] = 1.0
    node_load = member.copy()  # load of node i per unit probability of quorum q
    node_load[:, :n_r] *= read_fraction / cap[:, None]
    node_load[:, n_r:] *= (1.0 - read_fraction) / cap[:, None]
    a_ub = np.hstack([node_load, -np.ones((n_nodes, 1))])  # each node's load <= L
    a_eq = np.zeros((2, n_r + n_w + 1))
    a_eq[0, :n_r] = a_eq[1, n_r : n_r + n_w] = 1.0  # each side's probabilities sum to 1
    if node_latency is None:
        c = np.zeros(n_r + n_w + 1)
        c[-1] = 1.0
        bounds = [(0.0, None)] * (n_r + n_w + 1)
    else:
        lat = np.asarray(node_latency, dtype=float)
        slowest = np.array(
            [lat[list(q)].max() for q in itertools.chain(read_quorums, write_quorums)]
        )
        weight = np.r_[np.full(n_r, read_fraction), np.full(n_w, 1.0 - read_fraction)]
        c = np.r_[weight * slowest, 0.0]
        bounds = [(0.0, None)] * (n_r + n_w) + [(0.0, load_limit)]
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=np.zeros(n_nodes),
        A_eq=a_eq,
        b_eq=np.ones(2),
        bounds=bounds,
        method="highs",
    )
    assert res.status == 0, res.message
    return float(res.fun)


def majority_quorums(n: int) -> list[tuple[int, ...]]:
    """All C(n, n//2 + 1) majority quorums (for odd n reads and writes are both these)."""
    return list(itertools.combinations(range(n), n // 2 + 1))


def column_generation_latency_lp(
    node_latency: Sequence[float], k: int, read_fraction: float, load_limit: float
) -> float:
    """Smallest expected latency of choose(k, n) under a load limit, by column generation.

    The enumeration LP above, started from the n cyclic quorums (uniform load k/n) and
    grown by priced columns: a quorum's reduced cost is its slowest node's latency plus
    its nodes' load prices, so the cheapest quorum whose slowest node is j is j with the
    k - 1 cheapest faster nodes; each round adds that quorum for every j where it has
    negative reduced cost. Stops when none has, which proves the restricted LP optimal
    for the full one. Unit capacities.
    """
    lat = np.asarray(node_latency, dtype=float)
    n = lat.size
    order = np.argsort(lat, kind="stable")
    weight = np.array([read_fraction, 1.0 - read_fraction])
    known: set[tuple[int, ...]] = set()
    member = np.zeros((n, 0))  # member[i, q] = 1 when node i is in column q
    slowest = np.zeros(0)
    new = [tuple(sorted((i + s) % n for s in range(k))) for i in range(n)]
    for _ in range(10_000):
        block = np.zeros((n, len(new)))
        for j, q in enumerate(new):
            block[list(q), j] = 1.0
        member = np.hstack([member, block])
        slowest = np.r_[slowest, [lat[list(q)].max() for q in new]]
        known.update(new)
        m = member.shape[1]
        # variables: read probabilities, then write probabilities, over the same columns
        res = linprog(
            np.r_[weight[0] * slowest, weight[1] * slowest],
            A_ub=np.hstack([weight[0] * member, weight[1] * member]),
            b_ub=np.full(n, load_limit),
            A_eq=np.kron(np.eye(2), np.ones((1, m))),
            b_eq=np.ones(2),
            bounds=(0.0, None),
            method="highs",
        )
        assert res.status == 0, res.message
        price = -np.asarray(res.ineqlin.marginals)  # >= 0: cost of a unit of node load
        sigma = np.asarray(res.eqlin.marginals)
        new = []
        for pos in range(k - 1, n):  # pos: the slowest node's rank by latency
            j = order[pos]
            faster = order[:pos]
            pick = faster[np.argsort(price[faster], kind="stable")[: k - 1]]
            q = tuple(sorted([int(j), *pick.tolist()]))
            reduced = weight * (lat[j] + price[list(q)].sum()) - sigma
            if (reduced < -1e-9).any() and q not in known:
                new.append(q)
        if not new:
            return float(res.fun)
    raise AssertionError("column generation did not converge")


def water_filling_load(capacity: Sequence[float], k: int) -> float:
    """Closed form of choose(k, n) load with one capacity per node (both sides choose(k)).

    A strategy is fixed by per-node marginals x_i in [0, 1] summing to k, and node i's
    load is x_i / c_i, so the least load L solves sum_i min(1, L c_i) = k: saturate the
    largest capacities, share the rest in proportion to capacity.
    """
    c = sorted(capacity, reverse=True)
    for saturated in range(k):
        load = (k - saturated) / math.fsum(c[saturated:])
        if load * c[saturated] <= 1.0:
            return load
    return 1.0 / c[k - 1]  # pragma: no cover - only when k nodes must all be saturated


# --------------------------------------------------------------------------- majority load
SIZES = (5, 9, 15, 25, 101, 1001)
MAX_ENUMERATED = 15  # C(15, 8) = 6435 quorums per side; C(25, 13) = 5.2 million
LOAD_CASES = [
    *((n, "openha") for n in SIZES),
    *((n, "enumeration_lp") for n in SIZES if n <= MAX_ENUMERATED),
    (1001, "openha_with_construction"),
]


@functools.cache
def heterogeneous_capacity(n: int) -> tuple[float, ...]:
    """Per-node capacities in [100, 1000] ops/s, the same in every run."""
    return tuple(np.random.default_rng(n).uniform(100.0, 1000.0, n).tolist())


def build_majority(capacity: Sequence[float]) -> ha.QuorumSystem:
    nodes = [ha.Node(f"n{i}", capacity=c) for i, c in enumerate(capacity)]
    return ha.QuorumSystem(writes=ha.majority(nodes))


def enumerated_majority_capacity(capacity: Sequence[float]) -> float:
    n = len(capacity)
    quorums = majority_quorums(n)
    return 1.0 / enumeration_lp(n, quorums, quorums, READ_FRACTION, capacity)


@pytest.mark.parametrize(("n", "impl"), LOAD_CASES, ids=[f"n{n}-{i}" for n, i in LOAD_CASES])
def test_majority_capacity(benchmark, n, impl):
    cap = heterogeneous_capacity(n)
    benchmark.group = f"load majority({n}) heterogeneous capacities"
    benchmark.extra_info.update(impl=impl, n=n)
    if impl == "openha":
        qs = build_majority(cap)  # users build once and ask many questions
        ops_per_s = benchmark(lambda: qs.capacity(read_fraction=READ_FRACTION))
    elif impl == "openha_with_construction":
        ops_per_s = benchmark(lambda: build_majority(cap).capacity(read_fraction=READ_FRACTION))
    else:
        ops_per_s = benchmark.pedantic(enumerated_majority_capacity, args=(cap,), rounds=5)
    assert ops_per_s == pytest.approx(1.0 / water_filling_load(cap, n // 2 + 1), rel=RTOL)
    if impl != "enumeration_lp" and n <= MAX_ENUMERATED:
        assert ops_per_s == pytest.approx(enumerated_majority_capacity(cap), rel=RTOL)


@pytest.mark.parametrize("n", SIZES)
def test_majority_load_closed_form(n):
    """Homogeneous nodes: the load of a majority is (n//2 + 1) / n whatever the read fraction."""
    qs = ha.QuorumSystem(writes=ha.majority([ha.Node(f"n{i}") for i in range(n)]))
    assert qs.load(read_fraction=READ_FRACTION) == pytest.approx((n // 2 + 1) / n, rel=RTOL)


# --------------------------------------------------------------------------- 5x5 grid
GRID_SIDE = 5


def grid_quorums(side: int, kind: str) -> tuple[list[list[int]], list[list[int]]]:
    """(read quorums, write quorums) of a side x side grid, node r*side + c, listed directly."""
    rows = [[r * side + c for c in range(side)] for r in range(side)]
    if kind == "rows":  # read a whole row, write one node of every row
        return rows, [list(pick) for pick in itertools.product(*rows)]
    cols = [[r * side + c for r in range(side)] for c in range(side)]
    both = [sorted(set(row) | set(col)) for row in rows for col in cols]
    return both, both


def grid_load_closed_form(side: int, kind: str) -> float:
    n = side * side
    if kind == "row-column":
        return (2 * side - 1) / n  # every quorum has 2 sqrt(n) - 1 nodes, spread evenly
    # rows: each operation touches side nodes of n, so the busiest carries >= side / n,
    # and a uniform row with uniform picks reaches it
    return side / n


@pytest.mark.parametrize("kind", ["rows", "row-column"])
@pytest.mark.parametrize("impl", ["openha", "enumeration_lp"])
def test_grid_load(benchmark, impl, kind):
    benchmark.group = f"load {GRID_SIDE}x{GRID_SIDE} grid, {kind}"
    benchmark.extra_info.update(impl=impl, kind=kind)
    n = GRID_SIDE * GRID_SIDE
    if impl == "openha":
        layout = [
            [ha.Node(f"n{r * GRID_SIDE + c}") for c in range(GRID_SIDE)] for r in range(GRID_SIDE)
        ]
        qs = ha.quorum.grid(layout, kind=kind)
        load = benchmark(lambda: qs.load(read_fraction=GRID_READ_FRACTION))
    else:

        def enumerate_and_solve() -> float:
            reads, writes = grid_quorums(GRID_SIDE, kind)
            return enumeration_lp(n, reads, writes, GRID_READ_FRACTION)

        load = benchmark.pedantic(enumerate_and_solve, rounds=10)
    assert load == pytest.approx(grid_load_closed_form(GRID_SIDE, kind), rel=RTOL)


# --------------------------------------------------------------------------- latency under a load limit
LATENCY_CASES = [
    (15, "openha"),
    (15, "enumeration_lp"),
    (15, "column_generation_lp"),
    (101, "openha"),
    (101, "column_generation_lp"),
]


@functools.cache
def heterogeneous_latency_ms(n: int) -> tuple[float, ...]:
    """Per-node mean response times in [1, 10] ms, the same in every run."""
    return tuple(np.random.default_rng(1000 + n).uniform(1.0, 10.0, n).tolist())


def latency_load_limit(n: int) -> float:
    return LOAD_LIMIT_FACTOR * (n // 2 + 1) / n  # unit capacities: least load is k / n


@functools.cache
def column_generation_latency(n: int) -> float:
    return column_generation_latency_lp(
        heterogeneous_latency_ms(n), n // 2 + 1, LATENCY_READ_FRACTION, latency_load_limit(n)
    )


@pytest.mark.parametrize(("n", "impl"), LATENCY_CASES, ids=[f"n{n}-{i}" for n, i in LATENCY_CASES])
def test_latency_under_load_limit(benchmark, n, impl):
    lat = heterogeneous_latency_ms(n)
    limit = latency_load_limit(n)
    benchmark.group = f"latency-optimal majority({n}) under a load limit"
    benchmark.extra_info.update(impl=impl, n=n, load_limit=limit)
    if impl == "openha":
        nodes = [ha.Node(f"n{i}", latency=x) for i, x in enumerate(lat)]
        qs = ha.QuorumSystem(writes=ha.majority(nodes))
        strategy = benchmark(
            lambda: qs.strategy(
                read_fraction=LATENCY_READ_FRACTION, optimize="latency", load_limit=limit
            )
        )
        assert strategy.load() <= limit * (1 + RTOL)
        latency_ms = strategy.latency()
    elif impl == "enumeration_lp":

        def enumerate_and_solve() -> float:
            quorums = majority_quorums(n)
            return enumeration_lp(
                n,
                quorums,
                quorums,
                LATENCY_READ_FRACTION,
                node_latency=lat,
                load_limit=limit,
            )

        latency_ms = benchmark.pedantic(enumerate_and_solve, rounds=3)
    else:
        latency_ms = benchmark.pedantic(
            column_generation_latency_lp,
            args=(lat, n // 2 + 1, LATENCY_READ_FRACTION, limit),
            rounds=3 if n <= MAX_ENUMERATED else 2,  # n = 101: ~70 HiGHS solves, ~7 s
        )
    # the load limit binds: with no limit every operation would use the k fastest nodes
    assert latency_ms > sorted(lat)[n // 2] * (1 + 1e-3)
    assert latency_ms == pytest.approx(column_generation_latency(n), rel=RTOL)
