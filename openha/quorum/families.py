"""Ready-made quorum systems: thresholds, Flexible Paxos, grids, weighted voting, hierarchies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from openha.errors import OpenHAError, check_int
from openha.quorum.expr import Expr, Node, _members, choose, majority, weighted
from openha.quorum.system import QuorumSystem

__all__ = ["flexible_paxos", "grid", "hierarchical", "read_write", "voting"]


def _nodes(nodes: Sequence[Node]) -> tuple[Node, ...]:
    members = _members("nodes", nodes)
    if not all(isinstance(m, Node) for m in members):
        raise OpenHAError("nodes must be Node objects")
    return members  # type: ignore[return-value]


def _thresholds(
    nodes: Sequence[Node], read: tuple[str, int], write: tuple[str, int], why: str
) -> QuorumSystem:
    """Reads of any ``read[1]`` nodes, writes of any ``write[1]``, their sum above n."""
    ns = _nodes(nodes)
    n = len(ns)
    (rn, r), (wn, w) = read, write
    r = check_int(rn, r, low=1, high=n)
    w = check_int(wn, w, low=1, high=n)
    if r + w <= n:
        raise OpenHAError(
            f"{rn} + {wn} must exceed the number of nodes ({n}) so that {why}; got {rn}={r}, {wn}={w}"
        )
    return QuorumSystem(reads=choose(r, ns), writes=choose(w, ns))


def read_write(nodes: Sequence[Node], *, r: int, w: int) -> QuorumSystem:
    """Read any ``r`` nodes, write any ``w`` nodes, with ``r + w > n`` (Gifford 1979).

    Examples
    --------
    >>> import openha as ha
    >>> qs = ha.quorum.read_write([ha.Node(x) for x in "abcde"], r=2, w=4)
    >>> qs.read_resilience(), qs.write_resilience()
    (3, 1)
    """
    return _thresholds(nodes, ("r", r), ("w", w), "reads meet writes")


def flexible_paxos(nodes: Sequence[Node], *, q1: int, q2: int) -> QuorumSystem:
    """Flexible Paxos (Howard et al., 2016): phase-1 quorums of ``q1``, phase-2 of ``q2``.

    Only phase-1 and phase-2 quorums must intersect (``q1 + q2 > n``). In the returned
    system *reads* are the phase-1 (leader election) quorums and *writes* the phase-2
    (replication) quorums.

    Examples
    --------
    >>> import openha as ha
    >>> qs = ha.quorum.flexible_paxos([ha.Node(x) for x in "abcde"], q1=4, q2=2)
    >>> qs.writes
    choose(2, [a, b, c, d, e])
    """
    return _thresholds(nodes, ("q1", q1), ("q2", q2), "phase-1 and phase-2 quorums intersect")


def grid(rows: Sequence[Sequence[Node]], *, kind: str = "rows") -> QuorumSystem:
    """Grid quorum systems over a rectangular layout of nodes.

    ``kind="rows"``: a read quorum is a full row, a write quorum one node of every row
    (its dual). ``kind="row-column"``: every quorum (read and write) is a full row plus
    a full column, size 2*sqrt(n) - 1 (Cheung, Ammar & Ahamad 1990).

    Examples
    --------
    >>> import openha as ha
    >>> a, b, c, d = (ha.Node(x) for x in "abcd")
    >>> ha.quorum.grid([[a, b], [c, d]]).reads
    a*b + c*d
    >>> sorted(sorted(q) for q in ha.quorum.grid([[a, b], [c, d]], kind="row-column").write_quorums())
    [['a', 'b', 'c'], ['a', 'b', 'd'], ['a', 'c', 'd'], ['b', 'c', 'd']]
    """
    if isinstance(rows, Node) or not isinstance(rows, Sequence) or not rows:
        raise OpenHAError(f"rows must be a non-empty list of lists of nodes; got {rows!r}")
    table = [_nodes(r) for r in rows]
    width = len(table[0])
    if any(len(r) != width for r in table):
        raise OpenHAError(
            f"rows must all have the same length; got lengths {[len(r) for r in table]}"
        )
    _nodes([n for r in table for n in r])  # no node twice
    row_exprs: list[Expr] = [choose(width, r) for r in table]
    any_row = choose(1, row_exprs)
    if kind == "rows":
        return QuorumSystem(reads=any_row)
    if kind == "row-column":
        cols: list[Expr] = [choose(len(table), [r[j] for r in table]) for j in range(width)]
        both = any_row * choose(1, cols)
        return QuorumSystem(reads=both, writes=both)
    raise OpenHAError(f"kind must be 'rows' or 'row-column'; got {kind!r}")


def voting(votes: Mapping[Node, int], *, read_threshold: int, write_threshold: int) -> QuorumSystem:
    """Weighted voting (Gifford 1979): reads need ``read_threshold`` votes, writes ``write_threshold``.

    The thresholds must add up to more than the total number of votes.

    Examples
    --------
    >>> import openha as ha
    >>> a, b, c = ha.Node("a"), ha.Node("b"), ha.Node("c")
    >>> qs = ha.quorum.voting({a: 2, b: 1, c: 1}, read_threshold=2, write_threshold=3)
    >>> sorted(sorted(q) for q in qs.read_quorums())
    [['a'], ['b', 'c']]
    """
    if not isinstance(votes, Mapping):
        raise OpenHAError(f"votes must map nodes to vote counts; got {votes!r}")
    total = sum(check_int(f"votes of node {n!r}", v, low=1) for n, v in votes.items())
    r = check_int("read_threshold", read_threshold, low=1, high=total)
    w = check_int("write_threshold", write_threshold, low=1, high=total)
    if r + w <= total:
        raise OpenHAError(
            f"read_threshold + write_threshold must exceed the total votes ({total}); got {r} + {w}"
        )
    return QuorumSystem(reads=weighted(dict(votes), r), writes=weighted(dict(votes), w))


def hierarchical(groups: Sequence[Sequence[Node]]) -> QuorumSystem:
    """A majority of groups (zones), each through a majority of its nodes.

    Every quorum is used for both reads and writes; two quorums share a group, and a
    majority of it, so they intersect.

    Examples
    --------
    >>> import openha as ha
    >>> zones = [[ha.Node(f"{z}{i}") for i in range(3)] for z in "xyz"]
    >>> qs = ha.quorum.hierarchical(zones)
    >>> qs.resilience(), min(len(q) for q in qs.write_quorums())
    (3, 4)
    """
    if isinstance(groups, Node) or not isinstance(groups, Sequence) or not groups:
        raise OpenHAError(f"groups must be a non-empty list of lists of nodes; got {groups!r}")
    parts = [majority(_nodes(g)) for g in groups]
    _nodes([n for g in groups for n in g])
    expr = majority(parts)
    return QuorumSystem(reads=expr, writes=expr)
