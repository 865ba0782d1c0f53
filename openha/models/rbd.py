"""Reliability block diagrams: a platform's availability from its blocks, weakest block named.

Blocks fail independently. A leaf's unavailability comes from a number, from any result
with an ``unavailability`` (a Markov model, a quorum system's availability, a client view
with failovers), or from a quorum system directly. ``Series`` needs every block,
``Parallel`` any one, ``KofN`` at least k. Unavailability is computed without ``1 - a``
cancellation: series as -expm1(sum log1p(-u)), parallel as a product, k-of-n as a
Poisson-binomial sum of non-negative terms.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from openha.errors import OpenHAError, check_int, check_probability
from openha.nines import Nines

__all__ = ["KofN", "Leaf", "Parallel", "RBDResult", "Series", "evaluate"]


class _Node(ABC):
    name: str

    @abstractmethod
    def _u(self, override: dict[int, float]) -> float:
        """Unavailability, with some leaves' values overridden (by id)."""

    @abstractmethod
    def leaves(self) -> Iterator[Leaf]:
        """The leaf blocks, depth first."""


@dataclass(frozen=True, eq=False)
class Leaf(_Node):
    """A block with a known unavailability.

    ``source`` is a number (the *availability*, e.g. 0.9995), or anything with an
    ``unavailability`` attribute (``ha.models.markov_availability(...)``,
    ``qs.availability(...)``, ``ha.models.client_availability(...)``), or a
    ``QuorumSystem`` (its write availability).

    Examples
    --------
    >>> from openha.models.rbd import Leaf
    >>> Leaf("load balancer", 0.9999).unavailability
    0.0001
    """

    name: str
    source: Any

    @property
    def unavailability(self) -> float:
        """The leaf's unavailability."""
        s = self.source
        if hasattr(s, "availability") and callable(s.availability):
            s = s.availability(op="write")
        if hasattr(s, "unavailability"):
            return check_probability(f"unavailability of block {self.name!r}", s.unavailability)
        if isinstance(s, bool) or not isinstance(s, int | float):
            raise OpenHAError(
                f"block {self.name!r} needs an availability number, a result with "
                f"'unavailability', or a QuorumSystem; got {s!r}"
            )
        a = check_probability(f"availability of block {self.name!r}", s)
        return float(np.float64(1.0) - np.float64(a)) if a < 1.0 else 0.0

    def _u(self, override: dict[int, float]) -> float:
        return override.get(id(self), self.unavailability)

    def leaves(self) -> Iterator[Leaf]:
        yield self


class _Composite(_Node):
    def __init__(self, blocks: Sequence[_Node], name: str) -> None:
        if isinstance(blocks, _Node) or not isinstance(blocks, Sequence) or not blocks:
            raise OpenHAError(
                f"{type(self).__name__} {name!r} needs a non-empty list of blocks; got {blocks!r}"
            )
        for b in blocks:
            if not isinstance(b, _Node):
                raise OpenHAError(
                    f"{type(self).__name__} {name!r}: {b!r} is not a block (Leaf, Series, Parallel, KofN)"
                )
        self.blocks = tuple(blocks)
        self.name = name

    def leaves(self) -> Iterator[Leaf]:
        for b in self.blocks:
            yield from b.leaves()

    def _children_u(self, override: dict[int, float]) -> np.ndarray:
        return np.array([b._u(override) for b in self.blocks])


class Series(_Composite):
    """Every block is needed (API gateway -> services -> data store)."""

    def __init__(self, blocks: Sequence[_Node], name: str = "series") -> None:
        super().__init__(blocks, name)

    def _u(self, override: dict[int, float]) -> float:
        u = self._children_u(override)
        if (u >= 1.0).any():
            return 1.0
        return float(-math.expm1(float(np.sum(np.log1p(-u)))))


class Parallel(_Composite):
    """Any one block suffices (replicas behind a load balancer)."""

    def __init__(self, blocks: Sequence[_Node], name: str = "parallel") -> None:
        super().__init__(blocks, name)

    def _u(self, override: dict[int, float]) -> float:
        return float(np.prod(self._children_u(override)))


class KofN(_Composite):
    """At least ``k`` of the blocks must be up."""

    def __init__(self, k: int, blocks: Sequence[_Node], name: str = "k-of-n") -> None:
        super().__init__(blocks, name)
        self.k = check_int(f"k of {name!r}", k, low=1, high=len(self.blocks))

    def _u(self, override: dict[int, float]) -> float:
        u = self._children_u(override)
        pmf = np.zeros(u.size + 1)  # pmf[j] = P(j blocks up)
        pmf[0] = 1.0
        for ui in u:
            pmf[1:] = pmf[1:] * ui + pmf[:-1] * (1.0 - ui)
            pmf[0] *= ui
        return float(pmf[: self.k].sum())


@dataclass(frozen=True)
class RBDResult(Nines):
    """End-to-end availability and what each leaf block costs."""

    unavailability: float
    blocks: pd.DataFrame
    weakest: str

    @property
    def availability(self) -> float:
        """1 - unavailability (for display; compare unavailabilities)."""
        return 1.0 - self.unavailability


def _check_tree(root: _Node) -> None:
    seen: set[int] = set()

    def walk(node: _Node, path: tuple[int, ...]) -> None:
        if id(node) in path:
            raise OpenHAError(f"the diagram has a cycle: block {node.name!r} contains itself")
        if id(node) in seen:
            raise OpenHAError(
                f"block {node.name!r} appears twice; blocks must be independent, so use two blocks"
            )
        seen.add(id(node))
        if isinstance(node, _Composite):
            for b in node.blocks:
                walk(b, (*path, id(node)))

    walk(root, ())


def evaluate(root: _Node) -> RBDResult:
    """Availability of the diagram ``root``, and the weakest block.

    The weakest block is the leaf whose perfection (unavailability 0) would remove the
    most unavailability from the whole platform.

    Examples
    --------
    >>> from openha.models.rbd import KofN, Leaf, Parallel, Series, evaluate
    >>> web = Parallel([Leaf("web-1", 0.99), Leaf("web-2", 0.99)], name="web tier")
    >>> db = KofN(2, [Leaf(f"db-{i}", 0.999) for i in range(3)], name="database")
    >>> r = evaluate(Series([Leaf("gateway", 0.9995), web, db]))
    >>> r.weakest, f"{r.unavailability:.4e}"  # 1 - (1 - 5e-4)(1 - 1e-4)(1 - 2.998e-6)
    ('gateway', '6.0295e-04')
    """
    if not isinstance(root, _Node):
        raise OpenHAError(f"root must be a block (Leaf, Series, Parallel, KofN); got {root!r}")
    _check_tree(root)
    total = root._u({})
    rows = []
    for leaf in root.leaves():
        without = root._u({id(leaf): 0.0})
        rows.append(
            {
                "block": leaf.name,
                "unavailability": leaf.unavailability,
                "platform_unavailability_if_perfect": without,
                "reduction": total - without,
            }
        )
    frame = pd.DataFrame(rows).sort_values("reduction", ascending=False, kind="stable")
    return RBDResult(
        unavailability=total, blocks=frame.reset_index(drop=True), weakest=str(frame.block.iloc[0])
    )
