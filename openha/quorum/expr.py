"""Quorum expressions: nodes combined with AND (``*``), OR (``+``), ``choose`` and votes.

Every expression is a tree of *weighted threshold gates*: a gate is satisfied when
the weights of its satisfied children add up to at least its threshold ``k``.
AND is the gate "all of", OR is "at least one of", ``choose(k, xs)`` is "at least
k of", and weighted voting is a gate with votes as weights. One representation
serves every family, its dual, the kernels and the enumeration of quorums.

The notation follows quoracle (Whittaker et al., "Read-Write Quorum Systems Made
Practical", PaPoC 2021): ``a*b + c*d*e`` reads "a and b, or c and d and e".
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openha.errors import OpenHAError, check_int, check_positive, check_probability

__all__ = ["Expr", "Gate", "Node", "choose", "majority", "weighted"]

# Above this many minimal quorums, enumeration stops with an OpenHAError.
MAX_QUORUMS = 1_000_000


class Expr(ABC):
    """Base class of quorum expressions (a :class:`Node` or a :class:`Gate`)."""

    def __mul__(self, other: Expr) -> Gate:
        return _combine(self, other, conj=True)

    def __add__(self, other: Expr) -> Gate:
        return _combine(self, other, conj=False)

    # -- structure -------------------------------------------------------------
    def nodes(self) -> tuple[Node, ...]:
        """The distinct nodes, in order of first appearance.

        Raises :class:`OpenHAError` if two different nodes share a name.
        """
        seen: dict[str, Node] = {}
        for leaf in self._leaves():
            prev = seen.get(leaf.name)
            if prev is None:
                seen[leaf.name] = leaf
            elif prev != leaf:
                raise OpenHAError(
                    f"node names must be unique; got two different nodes named {leaf.name!r}: "
                    f"{prev!r} and {leaf!r}"
                )
        return tuple(seen.values())

    @abstractmethod
    def _leaves(self) -> Iterator[Node]:
        """Implemented by Node and Gate."""

    def is_read_once(self) -> bool:
        """True when every node appears at most once (then availability is a product form)."""
        names = [leaf.name for leaf in self._leaves()]
        return len(names) == len(set(names))

    def is_quorum(self, names: Iterable[str]) -> bool:
        """Whether the set of node names ``names`` satisfies the expression."""
        return self._holds(frozenset(names))

    @abstractmethod
    def _holds(self, up: frozenset[str]) -> bool:
        """Implemented by Node and Gate."""

    @abstractmethod
    def dual(self) -> Expr:
        """The dual expression: its quorums are the minimal sets meeting every quorum of self.

        For a gate of total weight W and threshold k the dual gate has threshold W - k + 1;
        AND and OR swap.

        Examples
        --------
        >>> from openha.quorum import Node
        >>> a, b, c, d = (Node(x) for x in "abcd")
        >>> (a*b + c*d).dual()
        (a + b)*(c + d)
        """

    def quorums(self) -> Iterator[frozenset[str]]:
        """The minimal quorums, as frozensets of node names.

        Raises :class:`OpenHAError` when there are more than ``MAX_QUORUMS`` of them.

        Examples
        --------
        >>> from openha.quorum import Node, majority
        >>> sorted(sorted(q) for q in majority([Node(x) for x in "abc"]).quorums())
        [['a', 'b'], ['a', 'c'], ['b', 'c']]
        """
        raw = self._quorum_sets()
        if self.is_read_once():
            yield from raw
            return
        names = [n.name for n in self.nodes()]
        if len(names) > 62:  # beyond one machine word: pairwise in Python
            ordered = sorted(set(raw), key=len)
            minimal: list[frozenset[str]] = []
            for q in ordered:
                if not any(m <= q for m in minimal):
                    minimal.append(q)
            yield from minimal
            return
        from openha.quorum._kernels import minimal_masks

        bit = {x: 1 << i for i, x in enumerate(names)}
        masks = sorted({sum(bit[x] for x in q) for q in raw}, key=lambda m: (m.bit_count(), m))
        for m in minimal_masks(np.array(masks, dtype=np.int64)):
            yield frozenset(x for x in names if int(m) & bit[x])

    @abstractmethod
    def _quorum_sets(self) -> list[frozenset[str]]:
        """Implemented by Node and Gate."""

    def min_size(self) -> int:
        """Size of the smallest quorum."""
        if self.is_read_once():
            return self._min_size_read_once()
        return min(len(q) for q in self.quorums())

    @abstractmethod
    def _min_size_read_once(self) -> int:
        """Implemented by Node and Gate."""

    def resilience(self) -> int:
        """The largest f such that after any f node failures some quorum is still whole."""
        return self.dual().min_size() - 1


def _expr_arg(name: str, x: Any) -> Expr:
    if not isinstance(x, Expr):
        raise OpenHAError(f"{name} must be a Node or a quorum expression; got {x!r}")
    return x


@dataclass(frozen=True)
class Node(Expr):
    """A server that can be part of quorums.

    Parameters
    ----------
    name : str
        Unique name.
    p_fail : float
        Probability that the node is down at a random instant (its unavailability), in [0, 1].
    read_capacity, write_capacity, capacity : float, optional
        Operations per second the node can serve; ``capacity`` sets both. Used by load and
        capacity analysis.
    latency : Distribution or float, optional
        Response time of the node in ms (a request and its reply), used by
        :meth:`QuorumSystem.latency_distribution` when no other latencies are given.
    domain : str or tuple of str, optional
        Failure domains the node lives in (e.g. ``("zone-a", "rack-3")``); a
        :class:`FailureModel` gives each domain an outage probability.

    Examples
    --------
    >>> from openha.quorum import Node
    >>> a, b, c = Node("a", p_fail=0.01), Node("b"), Node("c")
    >>> a * b + c
    a*b + c
    """

    name: str
    p_fail: float = field(default=0.0, kw_only=True)
    read_capacity: float | None = field(default=None, kw_only=True)
    write_capacity: float | None = field(default=None, kw_only=True)
    capacity: float | None = field(default=None, kw_only=True)
    latency: Any = field(default=None, kw_only=True, compare=False)
    domain: str | tuple[str, ...] | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise OpenHAError(f"name of a node must be a non-empty string; got {self.name!r}")
        where = f" of node {self.name!r}"
        object.__setattr__(self, "p_fail", check_probability("p_fail" + where, self.p_fail))
        for attr in ("read_capacity", "write_capacity", "capacity"):
            v = getattr(self, attr)
            if v is not None:
                object.__setattr__(self, attr, check_positive(attr + where, v))
        if self.latency is not None:
            from openha.dist import as_distribution

            object.__setattr__(self, "latency", as_distribution(self.latency, "latency" + where))
        d = self.domain
        if isinstance(d, str):
            d = (d,)
        if d is not None:
            d = tuple(d)
            if not d or not all(isinstance(x, str) and x for x in d):
                raise OpenHAError(
                    f"domain{where} must be a non-empty string or a tuple of them; got {self.domain!r}"
                )
        object.__setattr__(self, "domain", d)

    def __repr__(self) -> str:
        return self.name

    def __hash__(self) -> int:
        return hash(("Node", self.name))

    @property
    def domains(self) -> tuple[str, ...]:
        """The node's failure domains (empty if none)."""
        return self.domain if isinstance(self.domain, tuple) else ()

    def _leaves(self) -> Iterator[Node]:
        yield self

    def _holds(self, up: frozenset[str]) -> bool:
        return self.name in up

    def dual(self) -> Expr:
        return self

    def _quorum_sets(self) -> list[frozenset[str]]:
        return [frozenset((self.name,))]

    def _min_size_read_once(self) -> int:
        return 1


@dataclass(frozen=True, eq=False)
class Gate(Expr):
    """At least ``k`` weight of ``children`` (AND, OR, choose and votes are all gates)."""

    k: int
    children: tuple[Expr, ...]
    weights: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.children:
            raise OpenHAError("a quorum expression needs at least one node; got an empty set")
        if len(self.weights) != len(self.children):
            raise OpenHAError("weights must give one vote count per member")
        total = sum(self.weights)
        if not (1 <= self.k <= total):
            raise OpenHAError(f"k must be an integer in [1, {total}]; got {self.k}")
        self.nodes()  # duplicate-name check, early

    @property
    def total_weight(self) -> int:
        """The sum of the children's weights."""
        return sum(self.weights)

    @property
    def is_and(self) -> bool:
        """True for a plain AND of its children."""
        return self.k == self.total_weight and all(w == 1 for w in self.weights)

    @property
    def is_or(self) -> bool:
        """True for a plain OR of its children."""
        return self.k == 1 and all(w == 1 for w in self.weights)

    def __repr__(self) -> str:
        unit = all(w == 1 for w in self.weights)
        if unit and self.is_and and len(self.children) > 1:
            return "*".join(_paren(c, for_and=True) for c in self.children)
        if unit and self.is_or and len(self.children) > 1:
            return " + ".join(repr(c) for c in self.children)
        inner = ", ".join(repr(c) for c in self.children)
        if unit:
            return f"choose({self.k}, [{inner}])"
        votes = ", ".join(f"{c!r}: {w}" for c, w in zip(self.children, self.weights, strict=True))
        return f"weighted({{{votes}}}, {self.k})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Gate) and (self.k, self.children, self.weights) == (
            other.k,
            other.children,
            other.weights,
        )

    def __hash__(self) -> int:
        return hash(("Gate", self.k, self.children, self.weights))

    def _leaves(self) -> Iterator[Node]:
        for c in self.children:
            yield from c._leaves()

    def _holds(self, up: frozenset[str]) -> bool:
        got = 0
        for c, w in zip(self.children, self.weights, strict=True):
            if c._holds(up):
                got += w
                if got >= self.k:
                    return True
        return False

    def dual(self) -> Expr:
        return Gate(
            k=self.total_weight - self.k + 1,
            children=tuple(c.dual() for c in self.children),
            weights=self.weights,
        )

    def _quorum_sets(self) -> list[frozenset[str]]:
        child_sets = [c._quorum_sets() for c in self.children]
        out: list[frozenset[str]] = []
        for combo in _minimal_vote_sets(self.weights, self.k):
            parts = [child_sets[i] for i in combo]
            count = math.prod(len(p) for p in parts)
            if len(out) + count > MAX_QUORUMS:
                raise OpenHAError(
                    f"this expression has more than {MAX_QUORUMS:,} quorums, too many to list; "
                    "use a method that does not enumerate quorums"
                )
            for pick in itertools.product(*parts):
                out.append(frozenset().union(*pick))
        return out

    def _min_size_read_once(self) -> int:
        sizes = [c._min_size_read_once() for c in self.children]
        if all(w == 1 for w in self.weights):  # choose(k): the k smallest children
            return sum(sorted(sizes)[: self.k])
        # cheapest set of children reaching weight k: a small knapsack over weights
        inf = 10**18
        best = [0] + [inf] * self.k
        for s, w in zip(sizes, self.weights, strict=True):
            for got in range(self.k, -1, -1):
                if best[got] < inf:
                    nxt = min(self.k, got + w)
                    best[nxt] = min(best[nxt], best[got] + s)
        return best[self.k]


def _paren(e: Expr, *, for_and: bool) -> str:
    if isinstance(e, Gate) and e.is_or and len(e.children) > 1:
        return f"({e!r})"
    return repr(e)


def _minimal_vote_sets(weights: Sequence[int], k: int) -> Iterator[tuple[int, ...]]:
    """Index sets whose weights reach k and lose that if any member is removed."""
    n = len(weights)
    if all(w == 1 for w in weights):
        yield from itertools.combinations(range(n), k)
        return
    order = sorted(range(n), key=lambda i: -weights[i])

    def rec(start: int, chosen: list[int], total: int) -> Iterator[tuple[int, ...]]:
        if total >= k:
            if all(total - weights[i] < k for i in chosen):
                yield tuple(sorted(chosen))
            return
        for j in range(start, n):
            i = order[j]
            chosen.append(i)
            yield from rec(j + 1, chosen, total + weights[i])
            chosen.pop()

    yield from rec(0, [], 0)


def _combine(x: Expr, y: Expr, *, conj: bool) -> Gate:
    x = _expr_arg("left operand", x)
    y = _expr_arg("right operand", y)
    kids: list[Expr] = []
    for e in (x, y):
        same = isinstance(e, Gate) and (e.is_and if conj else e.is_or) and len(e.children) > 1
        kids.extend(e.children if same and isinstance(e, Gate) else (e,))
    return Gate(k=len(kids) if conj else 1, children=tuple(kids), weights=(1,) * len(kids))


def _members(name: str, xs: Iterable[Expr]) -> tuple[Expr, ...]:
    try:
        members = tuple(xs)
    except TypeError:
        raise OpenHAError(
            f"{name} must be a sequence of nodes or expressions; got {xs!r}"
        ) from None
    if not members:
        raise OpenHAError(f"{name} must not be empty")
    for m in members:
        _expr_arg(f"each member of {name}", m)
    counts = Counter(n.name for m in members for n in m.nodes())
    dup = {name for name, c in counts.items() if c > 1}
    if dup and all(isinstance(m, Node) for m in members):
        raise OpenHAError(f"{name} must not repeat a node; {sorted(dup)} appear more than once")
    return members


def choose(k: int, xs: Iterable[Expr]) -> Expr:
    """At least ``k`` of ``xs`` (nodes or expressions).

    Examples
    --------
    >>> from openha.quorum import Node, choose
    >>> choose(2, [Node("a"), Node("b"), Node("c")])
    choose(2, [a, b, c])
    """
    members = _members("nodes", xs)
    k = check_int("k", k, low=1, high=len(members))
    if len(members) == 1:
        return members[0]
    return Gate(k=k, children=members, weights=(1,) * len(members))


def majority(xs: Iterable[Expr]) -> Expr:
    """A strict majority of ``xs``: ``choose(len(xs) // 2 + 1, xs)``.

    Examples
    --------
    >>> from openha.quorum import Node, majority
    >>> majority([Node(x) for x in "abcde"])
    choose(3, [a, b, c, d, e])
    """
    members = _members("nodes", xs)
    return choose(len(members) // 2 + 1, members)


def weighted(votes: dict[Node, int] | Sequence[tuple[Node, int]], threshold: int) -> Expr:
    """Weighted voting (Gifford, SOSP 1979): a quorum holds at least ``threshold`` votes.

    Examples
    --------
    >>> from openha.quorum import Node, weighted
    >>> a, b, c = Node("a"), Node("b"), Node("c")
    >>> sorted(sorted(q) for q in weighted({a: 2, b: 1, c: 1}, 3).quorums())
    [['a', 'b'], ['a', 'c']]
    """
    pairs = list(votes.items()) if isinstance(votes, dict) else list(votes)
    members = _members("votes", [p[0] for p in pairs])
    ws = tuple(
        check_int(f"votes of node {m!r}", p[1], low=1) for m, p in zip(members, pairs, strict=True)
    )
    threshold = check_int("threshold", threshold, low=1, high=sum(ws))
    return Gate(k=threshold, children=members, weights=ws)
