"""A strategy: how often each read and each write quorum is used.

Load, capacity, network load and latency are computed here from the explicit quorum
distributions, independently of the LP that chose them, so the numbers a user reads
are those of the strategy they can sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from openha._random import SeedLike, as_seed_sequence
from openha.errors import OpenHAError, check_int, check_probability

__all__ = ["Strategy", "Workload", "workload"]

Fractions = float | Mapping[float, float] | None


@dataclass(frozen=True)
class Workload:
    """A mix of read fractions with probabilities (one fraction is a mix of one)."""

    read_fractions: np.ndarray
    weights: np.ndarray

    @property
    def mean_read_fraction(self) -> float:
        """The expected read fraction of the mix."""
        return float(self.read_fractions @ self.weights)


def workload(read_fraction: Fractions = None, write_fraction: Fractions = None) -> Workload:
    """Normalise ``read_fraction=`` or ``write_fraction=`` (a number or ``{fraction: weight}``).

    Examples
    --------
    >>> from openha.quorum.strategy import workload
    >>> w = workload(read_fraction={0.9: 3, 0.5: 1})
    >>> w.read_fractions.tolist(), w.weights.tolist()
    ([0.9, 0.5], [0.75, 0.25])
    >>> workload(write_fraction=0.25).read_fractions.tolist()
    [0.75]
    """
    if (read_fraction is None) == (write_fraction is None):
        raise OpenHAError(
            "give exactly one of read_fraction= and write_fraction= (a number in [0, 1] or a "
            f"mapping of fractions to weights); got read_fraction={read_fraction!r}, "
            f"write_fraction={write_fraction!r}"
        )
    name = "read_fraction" if read_fraction is not None else "write_fraction"
    given = read_fraction if read_fraction is not None else write_fraction
    if isinstance(given, Mapping):
        if not given:
            raise OpenHAError(f"{name} mix must not be empty")
        fr = np.array([check_probability(f"{name} (a key of the mix)", k) for k in given])
        w = np.array([float(v) if isinstance(v, int | float) else np.nan for v in given.values()])
        if not np.all(np.isfinite(w)) or (w < 0).any():
            raise OpenHAError(
                f"{name} mix weights must be finite numbers >= 0; got {list(given.values())}"
            )
        if w.sum() <= 0:
            raise OpenHAError(
                f"{name} mix weights must have a positive total; got {list(given.values())}"
            )
        w = w / w.sum()
    else:
        fr = np.array([check_probability(name, given)])
        w = np.ones(1)
    if name == "write_fraction":
        fr = 1.0 - fr
    return Workload(read_fractions=fr, weights=w)


class Strategy:
    """A probability distribution over read quorums and one over write quorums.

    Built by :meth:`QuorumSystem.strategy`. Metrics default to the workload the strategy
    was optimised for; pass ``read_fraction=`` (or ``write_fraction=``) to evaluate another.
    """

    def __init__(
        self,
        *,
        node_names: list[str],
        read_quorums: list[np.ndarray],
        read_probs: np.ndarray,
        write_quorums: list[np.ndarray],
        write_probs: np.ndarray,
        read_capacity: np.ndarray,
        write_capacity: np.ndarray,
        node_latency: np.ndarray | None,
        load_workload: Workload,
        f: int,
    ) -> None:
        self.node_names = list(node_names)
        self._rq, self._rp = read_quorums, np.asarray(read_probs, float)
        self._wq, self._wp = write_quorums, np.asarray(write_probs, float)
        self._cr, self._cw = read_capacity, write_capacity
        self._lat = node_latency
        self.workload = load_workload
        self.f = f
        n = len(node_names)
        self._mr = _marginals(n, self._rq, self._rp)
        self._mw = _marginals(n, self._wq, self._wp)

    def __repr__(self) -> str:
        return (
            f"Strategy({len(self._rq)} read quorums, {len(self._wq)} write quorums, "
            f"f={self.f}, load={self.load():.6g})"
        )

    def _wl(self, read_fraction: Fractions, write_fraction: Fractions) -> Workload:
        if read_fraction is None and write_fraction is None:
            return self.workload
        return workload(read_fraction, write_fraction)

    def _node_load(self, fr: float) -> np.ndarray:
        return fr * self._mr / self._cr + (1.0 - fr) * self._mw / self._cw

    def load(self, read_fraction: Fractions = None, write_fraction: Fractions = None) -> float:
        """Expected (over the workload mix) load of the busiest node.

        Without node capacities a node's load is the fraction of operations that use it;
        with capacities (ops/s) it is the seconds of node time each operation costs.
        """
        wl = self._wl(read_fraction, write_fraction)
        return float(
            sum(
                p * self._node_load(fr).max()
                for fr, p in zip(wl.read_fractions, wl.weights, strict=True)
            )
        )

    def capacity(self, read_fraction: Fractions = None, write_fraction: Fractions = None) -> float:
        """1 / load: operations per second with node capacities, else in units of one node."""
        return 1.0 / self.load(read_fraction, write_fraction)

    def network_load(
        self, read_fraction: Fractions = None, write_fraction: Fractions = None
    ) -> float:
        """Expected number of nodes contacted per operation."""
        fr = self._wl(read_fraction, write_fraction).mean_read_fraction
        size_r = float(self._rp @ np.array([q.size for q in self._rq]))
        size_w = float(self._wp @ np.array([q.size for q in self._wq]))
        return fr * size_r + (1.0 - fr) * size_w

    def latency(self, read_fraction: Fractions = None, write_fraction: Fractions = None) -> float:
        """Expected latency (ms) to the slowest node of the chosen quorum."""
        if self._lat is None:
            raise OpenHAError(
                "latency needs node latencies: give Node(latency=...) or latency={...}"
            )
        fr = self._wl(read_fraction, write_fraction).mean_read_fraction
        lat_r = float(self._rp @ np.array([self._lat[q].max() for q in self._rq]))
        lat_w = float(self._wp @ np.array([self._lat[q].max() for q in self._wq]))
        return fr * lat_r + (1.0 - fr) * lat_w

    def node_loads(
        self, read_fraction: Fractions = None, write_fraction: Fractions = None
    ) -> pd.DataFrame:
        """Tidy frame per node: read/write probability, load, and utilisation at capacity.

        ``utilisation`` is the node's load over the busiest node's load: the share of its
        capacity the node uses when the system runs at its capacity. Under a workload mix
        the loads are averaged over the mix.
        """
        wl = self._wl(read_fraction, write_fraction)
        loads = sum(
            p * self._node_load(fr) for fr, p in zip(wl.read_fractions, wl.weights, strict=True)
        )
        assert isinstance(loads, np.ndarray)
        return pd.DataFrame(
            {
                "node": self.node_names,
                "read_probability": self._mr,
                "write_probability": self._mw,
                "load": loads,
                "utilisation": loads / loads.max(),
            }
        )

    def quorum_probabilities(self) -> pd.DataFrame:
        """Tidy frame: op, quorum (node names joined by ','), size, probability."""
        rows = []
        for op, qs, ps in (("read", self._rq, self._rp), ("write", self._wq, self._wp)):
            for q, p in zip(qs, ps, strict=True):
                names = ",".join(self.node_names[i] for i in sorted(q))
                rows.append((op, names, int(q.size), float(p)))
        return pd.DataFrame(rows, columns=["op", "quorum", "size", "probability"])

    def sample(self, op: str, n: int, seed: SeedLike = None) -> list[frozenset[str]]:
        """``n`` quorums of ``op`` drawn from the strategy."""
        if op not in ("read", "write"):
            raise OpenHAError(f"op must be 'read' or 'write'; got {op!r}")
        n = check_int("n", n, low=0)
        qs, ps = (self._rq, self._rp) if op == "read" else (self._wq, self._wp)
        rng = np.random.default_rng(as_seed_sequence(seed))
        idx = rng.choice(len(qs), size=n, p=ps)
        return [frozenset(self.node_names[j] for j in qs[i]) for i in idx]


def _marginals(n: int, quorums: list[np.ndarray], probs: np.ndarray) -> np.ndarray:
    out = np.zeros(n)
    for q, p in zip(quorums, probs, strict=True):
        out[q] += p
    return out
