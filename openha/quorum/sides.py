"""One side of a quorum system (its read or its write quorums) as a block of an LP.

A strategy picks a quorum of each side at random. What load, network and latency
analysis need from a side is linear in the side's variables:

* :class:`EnumeratedSide` -- one variable per quorum, its probability. Any system whose
  quorums can be listed (grids, votes, nested expressions).
* :class:`ThresholdSide` -- ``choose(k, nodes)`` without listing the C(n, k) quorums.
  A distribution over k-subsets is described, for load, by its per-node marginals
  x_i in [0, 1] with sum k, and every such vector is realised by some distribution
  (systematic sampling builds one). For the latency objective the side also carries
  y_j = P(the slowest chosen node is j) and z_ij = P(i is chosen and j is the slowest),
  i before j in latency order: x_i = y_i + sum_j z_ij, sum_i z_ij = (k - 1) y_j,
  z_ij <= y_j. Every feasible (y, z) is realised by picking j with probability y_j,
  then k - 1 faster nodes with marginals z_ij / y_j, so expected latency sum_j y_j l_j
  is exact, with O(n^2) variables instead of C(n, k).
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["EnumeratedSide", "Side", "ThresholdSide", "systematic_decomposition"]


@dataclass(frozen=True, eq=False)
class Side(ABC):
    """Linear description of one side; node indices refer to the system's node order.

    marginals @ v   gives each node's probability of being in the chosen quorum;
    a_eq @ v = b_eq and a_ub @ v <= b_ub are the side's own constraints;
    latency @ v and network @ v are the expected latency and quorum size.
    """

    n_nodes: int
    marginals: sp.csr_array
    a_eq: sp.csr_array
    b_eq: np.ndarray
    a_ub: sp.csr_array
    b_ub: np.ndarray
    bounds: np.ndarray  # (n_vars, 2)
    latency: np.ndarray | None
    network: np.ndarray

    @property
    def n_vars(self) -> int:
        """Number of LP variables of this side."""
        return int(self.bounds.shape[0])

    @abstractmethod
    def quorums(self, v: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """An explicit distribution over quorums (node index arrays) realising ``v``."""


@dataclass(frozen=True, eq=False)
class EnumeratedSide(Side):
    """One variable per listed quorum."""

    members: tuple[np.ndarray, ...] = ()

    @classmethod
    def build(
        cls, n_nodes: int, quorums: list[np.ndarray], node_latency: np.ndarray | None
    ) -> EnumeratedSide:
        """The side whose quorums are ``quorums`` (arrays of node indices)."""
        rows = np.concatenate(quorums)
        cols = np.repeat(np.arange(len(quorums)), [q.size for q in quorums])
        marg = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n_nodes, len(quorums)))
        lat = None
        if node_latency is not None:
            lat = np.array([node_latency[q].max() for q in quorums])
        return cls(
            n_nodes=n_nodes,
            marginals=marg,
            a_eq=sp.csr_array(np.ones((1, len(quorums)))),
            b_eq=np.ones(1),
            a_ub=sp.csr_array((0, len(quorums))),
            b_ub=np.zeros(0),
            bounds=np.tile([0.0, 1.0], (len(quorums), 1)),
            latency=lat,
            network=np.array([float(q.size) for q in quorums]),
            members=tuple(quorums),
        )

    def quorums(self, v: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        p = np.clip(v, 0.0, None)
        keep = np.flatnonzero(p > 1e-12)
        probs = p[keep] / p[keep].sum()
        return [self.members[i] for i in keep], probs


@dataclass(frozen=True, eq=False)
class ThresholdSide(Side):
    """``choose(k, nodes)``: marginals only, or marginals plus slowest-member variables."""

    nodes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # latency order
    k: int = 1
    with_latency: bool = False

    @classmethod
    def build(
        cls, n_nodes: int, nodes: np.ndarray, k: int, node_latency: np.ndarray | None
    ) -> ThresholdSide:
        """The side ``choose(k, nodes)``; with ``node_latency`` also its exact latency."""
        m = nodes.size
        if node_latency is None:
            marg = sp.csr_array((np.ones(m), (nodes, np.arange(m))), shape=(n_nodes, m))
            return cls(
                n_nodes=n_nodes,
                marginals=marg,
                a_eq=sp.csr_array(np.ones((1, m))),
                b_eq=np.array([float(k)]),
                a_ub=sp.csr_array((0, m)),
                b_ub=np.zeros(0),
                bounds=np.tile([0.0, 1.0], (m, 1)),
                latency=None,
                network=np.ones(m),
                nodes=nodes,
                k=k,
            )
        order = np.argsort(node_latency[nodes], kind="stable")
        nodes = nodes[order]
        lat = node_latency[nodes]
        # variables: y_0..y_{m-1}, then z_ij for i < j in (j, i) order
        zi, zj = np.tril_indices(m, k=-1)  # zi > zj ... swap to i < j
        zi, zj = zj, zi
        nz = zi.size
        n_vars = m + nz
        y = np.arange(m)
        z = m + np.arange(nz)
        # marginal of node i = y_i + sum_j z_ij
        marg = sp.csr_array(
            (np.ones(m + nz), (np.concatenate([nodes, nodes[zi]]), np.concatenate([y, z]))),
            shape=(n_nodes, n_vars),
        )
        # sum_j y_j = 1; for each j: sum_i z_ij - (k - 1) y_j = 0
        eq_rows = np.concatenate([np.zeros(m), 1 + zj, 1 + np.arange(m)])
        eq_cols = np.concatenate([y, z, y])
        eq_vals = np.concatenate([np.ones(m), np.ones(nz), -(k - 1) * np.ones(m)])
        a_eq = sp.csr_array((eq_vals, (eq_rows, eq_cols)), shape=(1 + m, n_vars))
        b_eq = np.concatenate([[1.0], np.zeros(m)])
        # z_ij - y_j <= 0
        ub_rows = np.concatenate([np.arange(nz), np.arange(nz)])
        ub_cols = np.concatenate([z, zj])
        ub_vals = np.concatenate([np.ones(nz), -np.ones(nz)])
        a_ub = sp.csr_array((ub_vals, (ub_rows, ub_cols)), shape=(nz, n_vars))
        bounds = np.tile([0.0, 1.0], (n_vars, 1))
        bounds[: k - 1, 1] = 0.0  # the slowest of k nodes has k - 1 faster ones
        return cls(
            n_nodes=n_nodes,
            marginals=marg,
            a_eq=a_eq,
            b_eq=b_eq,
            a_ub=a_ub,
            b_ub=np.zeros(nz),
            bounds=bounds,
            latency=np.concatenate([lat, np.zeros(nz)]),
            network=np.concatenate([np.full(m, float(k)), np.zeros(nz)]),
            nodes=nodes,
            k=k,
            with_latency=True,
        )

    def quorums(self, v: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        m = self.nodes.size
        if not self.with_latency:
            subsets, probs = systematic_decomposition(v[:m], self.k)
            return [self.nodes[s] for s in subsets], probs
        y = np.clip(v[:m], 0.0, None)
        zi, zj = np.tril_indices(m, k=-1)
        zi, zj = zj, zi
        zval = np.clip(v[m:], 0.0, None)
        out: list[np.ndarray] = []
        weights: list[float] = []
        for j in np.flatnonzero(y > 1e-12):
            if self.k == 1:
                out.append(self.nodes[[j]])
                weights.append(float(y[j]))
                continue
            sel = zj == j
            cond = np.zeros(j)
            cond[zi[sel]] = zval[sel] / y[j]
            faster, ps = systematic_decomposition(cond, self.k - 1)
            for s, p in zip(faster, ps, strict=True):
                out.append(self.nodes[np.append(s, j)])
                weights.append(float(y[j] * p))
        pr = np.array(weights)
        return out, pr / pr.sum()


def systematic_decomposition(x: np.ndarray, k: int) -> tuple[list[np.ndarray], np.ndarray]:
    """k-subsets and probabilities whose inclusion probabilities are ``x`` (sum k, each <= 1).

    Systematic sampling (Madow, 1949): with C the cumulative sums of x and U uniform on
    [0, 1), take the items whose interval [C_{i-1}, C_i) contains one of U, U + 1, ...,
    U + k - 1. The chosen set only changes where U crosses a fractional part of some C_i,
    so listing those at most n + 1 intervals gives the whole distribution exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from openha.quorum.sides import systematic_decomposition
    >>> subsets, probs = systematic_decomposition(np.array([0.5, 0.5, 1.0]), 2)
    >>> [s.tolist() for s in subsets], probs.tolist()
    ([[0, 2], [1, 2]], [0.5, 0.5])
    """
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    total = x.sum()
    if total <= 0.0:
        return [np.zeros(0, np.int64)], np.ones(1)
    x = x * (k / total)  # absorb rounding from the LP
    x = np.minimum(x, 1.0)
    # clipping an entry a hair above 1 leaves the sum below k, so forcing c[-1] = k would
    # stretch the last interval past length 1 and pick its item twice: spread the deficit
    # over the room below 1 instead (it fits, since sum(1 - x) = n - sum(x) >= k - sum(x))
    room = 1.0 - x
    if x.sum() < k and room.sum() > 0.0:
        x = np.minimum(x + (k - x.sum()) * room / room.sum(), 1.0)
    c = np.cumsum(x)
    c[-1] = float(k)
    frac = np.unique(np.concatenate([[0.0, 1.0], np.mod(c, 1.0)]))
    frac = frac[(frac >= 0.0) & (frac <= 1.0)]
    subsets: list[np.ndarray] = []
    probs: list[float] = []
    for lo, hi in itertools.pairwise(frac):
        if hi - lo <= 1e-15:
            continue
        u = 0.5 * (lo + hi) + np.arange(k)
        # sorted and distinct, since every x_i <= 1 and the points are 1 apart
        chosen = np.minimum(np.searchsorted(c, u, side="right"), x.size - 1)
        if np.any(np.diff(chosen) == 0):  # a rounding-wide sliver where c[-1] was set to k
            continue
        subsets.append(chosen.astype(np.int64))
        probs.append(hi - lo)
    p = np.array(probs)
    return subsets, p / p.sum()
