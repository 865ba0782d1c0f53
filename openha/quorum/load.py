"""Optimal strategies by linear programming (scipy's HiGHS), after Naor & Wool (1998) and
quoracle (Whittaker et al., PaPoC 2021).

Variables: each side's block (see :mod:`openha.quorum.sides`) and one load L_j per read
fraction of the workload mix. For every fraction j and node x,
fr_j * P(x in read quorum) / read_capacity(x) + (1 - fr_j) * P(x in write quorum) /
write_capacity(x) <= L_j. Objectives (all expectations over the mix): load sum_j p_j L_j,
network (expected quorum size) and latency (expected time to the slowest chosen node).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from openha.errors import OpenHAError, check_int, check_nonnegative
from openha.quorum import _kernels
from openha.quorum.expr import Expr, Gate, Node
from openha.quorum.sides import EnumeratedSide, Side, ThresholdSide
from openha.quorum.strategy import Fractions, Strategy, Workload, workload

if TYPE_CHECKING:
    from openha.quorum.system import QuorumSystem

__all__ = ["MAX_F_RESILIENT_NODES", "MAX_LATENCY_THRESHOLD_NODES", "optimal_strategy"]

Objective = Literal["load", "network", "latency"]
# f-resilient quorums of a general expression are found by checking all 2^n node sets.
MAX_F_RESILIENT_NODES = 22
# The exact latency formulation of choose(k, n) has n(n+1)/2 variables.
MAX_LATENCY_THRESHOLD_NODES = 200


def _threshold(expr: Expr, index: dict[str, int]) -> tuple[np.ndarray, int] | None:
    """(node indices, k) when ``expr`` is choose(k) directly over distinct nodes."""
    if isinstance(expr, Node):
        return np.array([index[expr.name]]), 1
    if (
        isinstance(expr, Gate)
        and all(isinstance(c, Node) for c in expr.children)
        and all(w == 1 for w in expr.weights)
        and expr.is_read_once()
    ):
        return np.array([index[c.name] for c in expr.children if isinstance(c, Node)]), expr.k
    return None


def _side(
    qs: QuorumSystem, op: str, f: int, node_latency: np.ndarray | None, index: dict[str, int]
) -> Side:
    expr = qs.expr(op)  # type: ignore[arg-type]
    n = len(qs.nodes)
    th = _threshold(expr, index)
    if th is not None:
        nodes, k = th
        if k + f > nodes.size:
            raise OpenHAError(
                f"f={f} is more than the {op} side tolerates: choose({k}) of {nodes.size} nodes "
                f"stays available after at most {nodes.size - k} failures"
            )
        if node_latency is not None and nodes.size > MAX_LATENCY_THRESHOLD_NODES:
            raise OpenHAError(
                f"latency optimisation of choose(k, n) uses n(n+1)/2 variables (grouping quorums by "
                f"their slowest node); n={nodes.size} is above {MAX_LATENCY_THRESHOLD_NODES}. "
                "Load and network optimisation have no such limit"
            )
        return ThresholdSide.build(n, nodes, k + f, node_latency)
    if f == 0:
        quorums = [np.array(sorted(index[x] for x in q)) for q in expr.quorums()]
    else:
        quorums = _f_resilient(expr, f, index, op)
    return EnumeratedSide.build(n, quorums, node_latency)


def _f_resilient(expr: Expr, f: int, index: dict[str, int], op: str) -> list[np.ndarray]:
    names = [x.name for x in expr.nodes()]
    if len(names) > MAX_F_RESILIENT_NODES:
        raise OpenHAError(
            f"f-resilient {op} quorums of a non-threshold expression are found by checking every "
            f"set of its nodes; {len(names)} nodes is above {MAX_F_RESILIENT_NODES}"
        )
    bit = {x: 1 << i for i, x in enumerate(names)}
    masks = np.array([sum(bit[x] for x in q) for q in expr.quorums()], dtype=np.int64)
    sets = _kernels.f_resilient_sets(len(names), f, masks)
    if sets.size == 0:
        raise OpenHAError(
            f"f={f} is more than the {op} side tolerates: it has no f-resilient quorum"
        )
    return [np.array(sorted(index[x] for x in names if int(s) & bit[x])) for s in sets]


def _capacities(qs: QuorumSystem) -> tuple[np.ndarray, np.ndarray]:
    cr = [n.read_capacity or n.capacity for n in qs.nodes]
    cw = [n.write_capacity or n.capacity for n in qs.nodes]
    given = [r is not None or w is not None for r, w in zip(cr, cw, strict=True)]
    if not any(given):
        return np.ones(len(cr)), np.ones(len(cw))
    missing = [n.name for n, r, w in zip(qs.nodes, cr, cw, strict=True) if r is None or w is None]
    if missing:
        raise OpenHAError(
            f"capacities must be given for every node or none; nodes {missing} lack a read or "
            "write capacity (Node(capacity=...) sets both)"
        )
    return np.array(cr, dtype=float), np.array(cw, dtype=float)


def optimal_strategy(
    qs: QuorumSystem,
    read_fraction: Fractions = None,
    write_fraction: Fractions = None,
    *,
    f: int = 0,
    optimize: Objective = "load",
    load_limit: float | None = None,
    network_limit: float | None = None,
    latency_limit: float | None = None,
    latency: Any = None,
) -> Strategy:
    """The strategy minimising ``optimize`` subject to the limits (see QuorumSystem.strategy)."""
    wl = workload(read_fraction, write_fraction)
    if optimize not in ("load", "network", "latency"):
        raise OpenHAError(f"optimize must be 'load', 'network' or 'latency'; got {optimize!r}")
    f = check_int("f", f, low=0)
    limits = {
        "load_limit": None if load_limit is None else check_nonnegative("load_limit", load_limit),
        "network_limit": None
        if network_limit is None
        else check_nonnegative("network_limit", network_limit),
        "latency_limit": None
        if latency_limit is None
        else check_nonnegative("latency_limit", latency_limit),
    }
    # f must hold on the sides the workload uses; a side it never uses gets f-resilient
    # quorums too when it can tolerate f, and its plain quorums otherwise
    used = {
        "read": bool((wl.read_fractions > 0).any()),
        "write": bool((wl.read_fractions < 1).any()),
    }
    side_f = dict.fromkeys(used, f)
    if f > 0:
        tolerates = {"read": qs.read_resilience(), "write": qs.write_resilience()}
        side_f = {op: f if used[op] or f <= tolerates[op] else 0 for op in used}
        top = min(tolerates[op] for op in used if used[op])
        if f > top:
            raise OpenHAError(
                f"f must be at most {top} for this workload (the read side tolerates "
                f"{tolerates['read']} failures, the write side {tolerates['write']}; only the "
                f"sides the workload uses count); got f={f}"
            )
    cr, cw = _capacities(qs)
    node_latency = None
    lp_latency = optimize == "latency" or limits["latency_limit"] is not None
    # known latencies also go to the Strategy, so its latency() works whatever was optimised
    if lp_latency or latency is not None or all(x.latency is not None for x in qs.nodes):
        node_latency = np.array([d.mean for d in qs._node_latencies(latency)])
    side_latency = node_latency if lp_latency else None
    index = {x.name: i for i, x in enumerate(qs.nodes)}
    sides = (
        _side(qs, "read", side_f["read"], side_latency, index),
        _side(qs, "write", side_f["write"], side_latency, index),
    )
    lp = _LP(sides, wl, cr, cw)
    v = lp.solve(optimize, limits)
    (rq, rp), (wq, wp) = (s.quorums(x) for s, x in zip(sides, lp.split(v), strict=True))
    return Strategy(
        node_names=qs.node_names,
        read_quorums=rq,
        read_probs=rp,
        write_quorums=wq,
        write_probs=wp,
        read_capacity=cr,
        write_capacity=cw,
        node_latency=node_latency,
        load_workload=wl,
        f=f,
    )


class _LP:
    """The linear program over both sides' blocks and the per-fraction loads."""

    def __init__(self, sides: tuple[Side, Side], wl: Workload, cr: np.ndarray, cw: np.ndarray):
        self.sides = sides
        self.wl = wl
        r, w = sides
        self.nr, self.nw, self.nl = r.n_vars, w.n_vars, wl.read_fractions.size
        self.n_vars = self.nr + self.nw + self.nl
        rows = []
        for j, fr in enumerate(wl.read_fractions):
            block_r = sp.diags_array(fr / cr) @ r.marginals
            block_w = sp.diags_array((1.0 - fr) / cw) @ w.marginals
            ell = sp.csr_array(
                (-np.ones(r.n_nodes), (np.arange(r.n_nodes), np.full(r.n_nodes, j))),
                shape=(r.n_nodes, self.nl),
            )
            rows.append(sp.hstack([block_r, block_w, ell]))
        self.a_load = sp.vstack(rows).tocsr()
        self.a_eq = sp.block_diag([r.a_eq, w.a_eq, sp.csr_array((0, self.nl))]).tocsr()
        self.b_eq = np.concatenate([r.b_eq, w.b_eq])
        self.a_side_ub = sp.block_diag([r.a_ub, w.a_ub, sp.csr_array((0, self.nl))]).tocsr()
        self.b_side_ub = np.concatenate([r.b_ub, w.b_ub])
        self.bounds = np.vstack([r.bounds, w.bounds, np.tile([0.0, np.inf], (self.nl, 1))])
        fr_bar = wl.mean_read_fraction
        self.objectives = {
            "load": np.concatenate([np.zeros(self.nr + self.nw), wl.weights]),
            "network": np.concatenate(
                [fr_bar * r.network, (1 - fr_bar) * w.network, np.zeros(self.nl)]
            ),
        }
        if r.latency is not None and w.latency is not None:
            self.objectives["latency"] = np.concatenate(
                [fr_bar * r.latency, (1 - fr_bar) * w.latency, np.zeros(self.nl)]
            )

    def split(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return v[: self.nr], v[self.nr : self.nr + self.nw]

    def _run(self, c: np.ndarray, extra: list[tuple[np.ndarray, float]]) -> Any:
        a_ub = [self.a_load, self.a_side_ub]
        b_ub = [np.zeros(self.a_load.shape[0]), self.b_side_ub]
        for row, limit in extra:
            a_ub.append(sp.csr_array(row[None, :]))
            b_ub.append(np.array([limit]))
        solve: Any = linprog  # scipy-stubs reject array bounds, which scipy accepts
        return solve(
            c,
            A_ub=sp.vstack(a_ub).tocsr(),
            b_ub=np.concatenate(b_ub),
            A_eq=self.a_eq,
            b_eq=self.b_eq,
            bounds=self.bounds,
            method="highs",
        )

    def solve(self, optimize: str, limits: dict[str, float | None]) -> np.ndarray:
        names = {"load_limit": "load", "network_limit": "network", "latency_limit": "latency"}
        extra = [(self.objectives[names[k]], v) for k, v in limits.items() if v is not None]
        res = self._run(self.objectives[optimize], extra)
        if res.status == 2:  # infeasible: find a limit that cannot be met and its best value
            for key, value in limits.items():
                if value is None:
                    continue
                others = [
                    (self.objectives[names[k]], v)
                    for k, v in limits.items()
                    if v is not None and k != key
                ]
                best = self._run(self.objectives[names[key]], others)
                if best.status == 0 and best.fun > value * (1 + 1e-9) + 1e-12:
                    raise OpenHAError(
                        f"{key}={value:g} cannot be met; the best achievable {names[key]} "
                        f"(under the other limits) is {best.fun:.6g}"
                    )
            raise OpenHAError(
                f"the limits { ({k: v for k, v in limits.items() if v is not None}) } cannot be met together"
            )
        if res.status != 0:
            raise OpenHAError(f"the linear program failed: {res.message}")
        return np.asarray(res.x)
