"""Read-write quorum systems: validity, resilience, availability and latency."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, Literal

import numpy as np
from scipy import stats

from openha._random import SeedLike, chunked_streams
from openha.errors import OpenHAError, check_int, check_probability
from openha.quorum import _kernels
from openha.quorum.expr import Expr, Gate, Node
from openha.quorum.failures import FailureModel
from openha.quorum.program import Program, compile_program
from openha.quorum.results import Availability, LatencyDistribution
from openha.quorum.strategy import Fractions, Strategy

__all__ = ["QuorumSystem"]

Op = Literal["read", "write"]
Method = Literal["auto", "exact", "montecarlo"]

# Exact methods enumerate 2^s states; these bound s.
MAX_EXACT_REPEATED = 26
MAX_EXACT_DOMAINS = 20
# Exact latency evaluates the CDF at thousands of points, so ``auto`` uses it only when
# few nodes repeat; ``method="exact"`` still allows up to MAX_EXACT_REPEATED.
AUTO_EXACT_LATENCY_REPEATED = 10


class QuorumSystem:
    """A read-write quorum system: every read quorum intersects every write quorum.

    Give ``reads``, ``writes`` or both. A missing side is the minimal dual of the
    given one (the smallest quorums that meet every quorum of the other side); when
    both are given, their intersection is checked and a non-intersecting pair raises
    :class:`OpenHAError` naming both quorums.

    Examples
    --------
    >>> import openha as ha
    >>> a, b, c, d, e = (ha.Node(x, p_fail=0.01) for x in "abcde")
    >>> qs = ha.QuorumSystem(reads=a*b + c*d*e)
    >>> qs.writes
    (a + b)*(c + d + e)
    >>> qs.read_resilience(), qs.write_resilience()
    (1, 1)
    >>> round(qs.availability(op="write").nines, 3)
    3.996
    """

    def __init__(self, reads: Expr | None = None, writes: Expr | None = None) -> None:
        if reads is None and writes is None:
            raise OpenHAError("QuorumSystem needs reads=, writes= or both; got neither")
        for name, e in (("reads", reads), ("writes", writes)):
            if e is not None and not isinstance(e, Expr):
                raise OpenHAError(f"{name} must be a Node or a quorum expression; got {e!r}")
        if reads is None:
            assert writes is not None
            reads = writes.dual()
        elif writes is None:
            writes = reads.dual()
        else:
            _check_intersection(reads, writes)
        self.reads: Expr = reads
        self.writes: Expr = writes
        nodes: dict[str, Node] = {n.name: n for n in reads.nodes()}
        for n in writes.nodes():
            if n.name in nodes and nodes[n.name] != n:
                raise OpenHAError(
                    f"node names must be unique; reads and writes use different nodes named {n.name!r}"
                )
            nodes.setdefault(n.name, n)
        self.nodes: tuple[Node, ...] = tuple(nodes.values())

    def __repr__(self) -> str:
        return f"QuorumSystem(reads={self.reads!r}, writes={self.writes!r})"

    # -- structure -------------------------------------------------------------
    def node(self, name: str) -> Node:
        """The node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise OpenHAError(f"unknown node {name!r}; the system's nodes are {self.node_names}")

    @property
    def node_names(self) -> list[str]:
        """Names of all nodes, in order."""
        return [n.name for n in self.nodes]

    def expr(self, op: Op) -> Expr:
        """The expression of read (``op="read"``) or write (``op="write"``) quorums."""
        if op == "read":
            return self.reads
        if op == "write":
            return self.writes
        raise OpenHAError(f"op must be 'read' or 'write'; got {op!r}")

    def is_read_quorum(self, names: Iterable[str]) -> bool:
        """Whether the named nodes contain a read quorum."""
        return self.reads.is_quorum(names)

    def is_write_quorum(self, names: Iterable[str]) -> bool:
        """Whether the named nodes contain a write quorum."""
        return self.writes.is_quorum(names)

    def read_quorums(self) -> Iterator[frozenset[str]]:
        """The minimal read quorums."""
        return self.reads.quorums()

    def write_quorums(self) -> Iterator[frozenset[str]]:
        """The minimal write quorums."""
        return self.writes.quorums()

    def read_resilience(self) -> int:
        """Largest f such that after any f node failures a read quorum survives."""
        return self._resilience["read"]

    def write_resilience(self) -> int:
        """Largest f such that after any f node failures a write quorum survives."""
        return self._resilience["write"]

    @cached_property
    def _resilience(self) -> dict[str, int]:
        # may list a non-read-once expression's dual quorums: compute once per system
        return {"read": self.reads.resilience(), "write": self.writes.resilience()}

    def resilience(self) -> int:
        """Largest f such that after any f failures both a read and a write quorum survive."""
        return min(self.read_resilience(), self.write_resilience())

    @cached_property
    def _programs(self) -> dict[str, Program]:
        return {op: compile_program(self.expr(op), self.nodes) for op in ("read", "write")}

    # -- availability ----------------------------------------------------------
    def availability(
        self,
        op: Op = "write",
        failures: FailureModel | None = None,
        *,
        method: Method = "auto",
        trials: int = 1_000_000,
        seed: SeedLike = None,
        confidence: float = 0.95,
    ) -> Availability:
        """Probability that some quorum of ``op`` is up.

        Parameters
        ----------
        op : {"read", "write"}
        failures : FailureModel, optional
            Domain outages and per-node overrides; by default nodes fail independently
            with ``Node.p_fail``.
        method : {"auto", "exact", "montecarlo"}
            ``exact``: a Poisson-binomial product form over the expression's gates, with
            conditioning on nodes that appear more than once and on domain states;
            ``auto`` picks it unless more than 26 nodes repeat or 20 domains can fail.
        trials, seed, confidence
            Monte Carlo only: number of sampled failure states, the seed (results are
            identical for a seed whatever the thread count) and the CI level.

        Returns
        -------
        Availability

        Notes
        -----
        The exact method computes P(down) only from sums of products of probabilities,
        so unavailabilities down to 1e-300 keep full relative precision.

        Examples
        --------
        >>> import openha as ha
        >>> nodes = [ha.Node(f"n{i}", p_fail=0.01, domain=f"z{i % 3}") for i in range(5)]
        >>> qs = ha.QuorumSystem(writes=ha.majority(nodes))
        >>> f"{qs.availability().unavailability:.4e}"
        '9.8506e-06'
        >>> zones = ha.FailureModel(domains={"z0": 1e-3, "z1": 1e-3, "z2": 1e-3})
        >>> f"{qs.availability(failures=zones).unavailability:.4e}"
        '7.2693e-05'
        """
        prog = self._programs[_op(op)]
        how = _method(method)
        trials = check_int("trials", trials, low=1)
        confidence = _confidence(confidence)
        if failures is None:
            p_node, node_dom, p_dom = self._independent_failure_arrays
        else:
            p_node, node_dom, p_dom = self._failure_arrays(failures)
        n_rep = len(prog.repeated)
        active = int(np.count_nonzero(p_dom > 0))
        if how == "auto":
            exact_ok = n_rep <= MAX_EXACT_REPEATED and active <= MAX_EXACT_DOMAINS
            how = "exact" if exact_ok else "montecarlo"
        if how == "exact":
            if n_rep > MAX_EXACT_REPEATED:
                raise OpenHAError(
                    f"method='exact' conditions on the {n_rep} nodes that appear more than once in "
                    f"the {op} expression; at most {MAX_EXACT_REPEATED} are tractable. "
                    "Use method='montecarlo'"
                )
            if active > MAX_EXACT_DOMAINS:
                raise OpenHAError(
                    f"method='exact' enumerates the states of the {active} failure domains; at most "
                    f"{MAX_EXACT_DOMAINS} are tractable. Use method='montecarlo'"
                )
            return self._exact_availability(op, prog, p_node, node_dom, p_dom)
        return self._mc_availability(op, prog, p_node, node_dom, p_dom, trials, seed, confidence)

    @cached_property
    def _independent_failure_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._failure_arrays(None)

    def _failure_arrays(
        self, failures: FailureModel | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if failures is None:
            failures = FailureModel()
        if not isinstance(failures, FailureModel):
            raise OpenHAError(f"failures must be a FailureModel or None; got {failures!r}")
        names = set(self.node_names)
        unknown = sorted(failures.named_nodes() - names)
        if unknown:
            raise OpenHAError(
                f"failures.p_fail names unknown nodes {unknown}; the system's nodes are {self.node_names}"
            )
        used = sorted({d for n in self.nodes for d in n.domains})
        unknown = sorted(set(failures.domains) - set(used))
        if unknown:
            raise OpenHAError(
                f"failures.domains names domains {unknown} that no node is in; "
                f"the nodes' domains are {used}"
            )
        active = [d for d in used if failures.domains.get(d, 0.0) > 0.0]
        if len(active) > 62:
            raise OpenHAError(f"at most 62 failure domains can fail; got {len(active)}")
        bit = {d: 1 << i for i, d in enumerate(active)}
        p_node = np.array([failures.node_p_fail(n) for n in self.nodes], dtype=float)
        node_dom = np.array([sum(bit.get(d, 0) for d in n.domains) for n in self.nodes], np.int64)
        p_dom = np.array([failures.domains[d] for d in active], dtype=float)
        return p_node, node_dom, p_dom

    def _exact_availability(
        self, op: str, prog: Program, p_node: np.ndarray, node_dom: np.ndarray, p_dom: np.ndarray
    ) -> Availability:
        a = 1.0 - p_node
        u = p_node
        if p_dom.size:
            up, down = _kernels.exact_correlated(
                *prog.arrays, a, u, prog.repeated, prog.max_k, node_dom, 1.0 - p_dom, p_dom
            )
        else:
            fixed = np.full(len(self.nodes), -1, np.int64)
            up, down = _kernels.exact(*prog.arrays, a, u, fixed, prog.repeated, prog.max_k)
        # up and down are rounded sums; each can land an ulp above 1 (e.g. 1.0000000000000002)
        return Availability(
            unavailability=min(float(down), 1.0),
            availability=min(float(up), 1.0),
            method="exact",
            op=op,
        )

    def _mc_availability(
        self,
        op: str,
        prog: Program,
        p_node: np.ndarray,
        node_dom: np.ndarray,
        p_dom: np.ndarray,
        trials: int,
        seed: SeedLike,
        confidence: float,
    ) -> Availability:
        states, per_chunk = chunked_streams(seed, trials)
        downs = int(
            _kernels.mc_down_counts(*prog.arrays, p_node, node_dom, p_dom, states, per_chunk).sum()
        )
        lo, hi = _clopper_pearson(downs, trials, confidence)
        return Availability(
            unavailability=downs / trials,
            availability=(trials - downs) / trials,
            method="montecarlo",
            op=op,
            ci=(lo, hi),
            confidence=confidence,
            trials=trials,
        )

    # -- load, capacity, strategies ----------------------------------------------
    def strategy(
        self,
        read_fraction: Fractions = None,
        write_fraction: Fractions = None,
        *,
        f: int = 0,
        optimize: Literal["load", "network", "latency"] = "load",
        load_limit: float | None = None,
        network_limit: float | None = None,
        latency_limit: float | None = None,
        latency: Mapping[str, Any] | None = None,
    ) -> Strategy:
        """The strategy (how often to use each quorum) that minimises ``optimize``.

        Parameters
        ----------
        read_fraction, write_fraction : float or mapping of float to float
            Give one: the fraction of operations that are reads (writes), or a workload
            mix ``{fraction: weight}`` whose expected objective is minimised.
        f : int
            Use only f-resilient quorums: sets that still contain a quorum after any f of
            their nodes fail (so an operation need not be retried after f failures). The
            latency of such a set is its slowest node's: the latency when f of its nodes
            have failed (quoracle instead counts the time until a quorum of it answered).
        optimize : {"load", "network", "latency"}
            Load of the busiest node (divided by its capacity when nodes have
            ``capacity``/``read_capacity``/``write_capacity``), expected number of nodes
            contacted, or expected time (ms) until the slowest chosen node answers
            (node latencies from ``latency=`` or ``Node.latency``; a distribution counts
            by its mean).
        load_limit, network_limit, latency_limit : float, optional
            Upper limits on the other objectives' expected values.
        latency : mapping of node name to Distribution or float, optional

        Returns
        -------
        Strategy

        Notes
        -----
        Solved with scipy's HiGHS. ``choose(k, ...)`` sides are never enumerated: load and
        network use per-node marginals (n variables), latency groups quorums by their
        slowest node (n(n+1)/2 variables, so up to 200 nodes). Other expressions list
        their minimal quorums (up to 10^6), and f-resilient ones check all sets of up to
        22 nodes. Naor & Wool, "The load, capacity and availability of quorum systems",
        SIAM J. Computing 1998; Whittaker et al., "Read-Write Quorum Systems Made
        Practical", PaPoC 2021.

        Examples
        --------
        >>> import openha as ha
        >>> nodes = [ha.Node(f"n{i}", capacity=c) for i, c in enumerate([1000, 1000, 2000, 2000, 4000])]
        >>> qs = ha.QuorumSystem(writes=ha.majority(nodes))
        >>> round(qs.capacity(read_fraction=0.9))  # ops/s; n4 is in every quorum at capacity
        3000
        >>> s = qs.strategy(read_fraction=0.9)
        >>> round(float(s.node_loads().read_probability.sum()), 9)  # read quorums have 3 nodes
        3.0
        >>> float(s.quorum_probabilities().probability.sum())  # reads and writes: 1 + 1
        2.0
        """
        from openha.quorum.load import optimal_strategy

        return optimal_strategy(
            self,
            read_fraction,
            write_fraction,
            f=f,
            optimize=optimize,
            load_limit=load_limit,
            network_limit=network_limit,
            latency_limit=latency_limit,
            latency=latency,
        )

    def load(
        self, read_fraction: Fractions = None, write_fraction: Fractions = None, *, f: int = 0
    ) -> float:
        """The smallest achievable load of the busiest node (Naor & Wool's load).

        Examples
        --------
        >>> import openha as ha
        >>> qs = ha.QuorumSystem(writes=ha.majority([ha.Node(x) for x in "abcde"]))
        >>> round(qs.load(read_fraction=0.5), 6)  # (floor(n/2) + 1) / n for odd n
        0.6
        """
        return self.strategy(read_fraction, write_fraction, f=f).load()

    def capacity(
        self, read_fraction: Fractions = None, write_fraction: Fractions = None, *, f: int = 0
    ) -> float:
        """1 / load: operations per second when nodes have capacities (else in node units)."""
        return 1.0 / self.load(read_fraction, write_fraction, f=f)

    def network_load(
        self, read_fraction: Fractions = None, write_fraction: Fractions = None, *, f: int = 0
    ) -> float:
        """The smallest achievable expected number of nodes contacted per operation."""
        return self.strategy(read_fraction, write_fraction, f=f, optimize="network").network_load()

    def latency(
        self,
        read_fraction: Fractions = None,
        write_fraction: Fractions = None,
        *,
        f: int = 0,
        load_limit: float | None = None,
        latency: Mapping[str, Any] | None = None,
    ) -> float:
        """The smallest achievable expected latency (ms) to the slowest chosen node."""
        s = self.strategy(
            read_fraction,
            write_fraction,
            f=f,
            optimize="latency",
            load_limit=load_limit,
            latency=latency,
        )
        return s.latency()

    # -- latency ---------------------------------------------------------------
    def latency_distribution(
        self,
        op: Op = "write",
        latency: Mapping[str, Any] | None = None,
        *,
        failed: Iterable[str] = (),
        quantiles: Sequence[float] = (0.5, 0.99),
        method: Method = "auto",
        trials: int = 200_000,
        seed: SeedLike = None,
        confidence: float = 0.95,
    ) -> LatencyDistribution:
        """Distribution of the time until a quorum of ``op`` has answered.

        Each node answers after an independent response time (a request and its
        reply); the quorum completes when the answered nodes first contain a quorum,
        an order statistic of the node times (the k-th smallest for ``choose(k, ...)``).

        Parameters
        ----------
        op : {"read", "write"}
        latency : mapping of node name to Distribution or float (ms), optional
            Response time of each node; defaults to each ``Node.latency``. For a WAN,
            :meth:`openha.data.RTTMatrix.latencies` builds it from an RTT matrix.
        failed : iterable of str
            Nodes that are down and never answer.
        quantiles : sequence of float in [0, 1]
        method : {"auto", "exact", "montecarlo"}
            ``exact`` integrates the completion CDF numerically (the CDF at each time is
            the availability of the quorum with "answered by then" as "up"); ``auto``
            uses it unless more than 10 nodes repeat in the expression (each repeated
            node doubles the cost of every CDF point).
        trials, seed, confidence
            Monte Carlo only.

        Returns
        -------
        LatencyDistribution

        Examples
        --------
        >>> import openha as ha
        >>> nodes = [ha.Node(f"n{i}", latency=ha.dist.Exponential(mean=1.0)) for i in range(3)]
        >>> lat = ha.QuorumSystem(writes=ha.majority(nodes)).latency_distribution()
        >>> round(lat.mean_ms, 6)  # 2nd of 3 exponentials: 1/3 + 1/2
        0.833333
        """
        from openha.quorum.latency import exact_latency, mc_latency

        expr = self.expr(op)
        prog = self._programs[_op(op)]
        how = _method(method)
        confidence = _confidence(confidence)
        qs = tuple(check_probability("quantiles", q) for q in quantiles)
        dists = self._node_latencies(latency)
        failed = [failed] if isinstance(failed, str) else list(failed)
        down = self._failed_mask(failed)
        if not expr.is_quorum(n.name for n, d in zip(self.nodes, down, strict=True) if not d):
            raise OpenHAError(
                f"failed={sorted(failed)} leaves no {op} quorum, so the latency is infinite"
            )
        if how == "auto":
            few = len(prog.repeated) <= AUTO_EXACT_LATENCY_REPEATED
            how = "exact" if few else "montecarlo"
        if how == "exact":
            if len(prog.repeated) > MAX_EXACT_REPEATED:
                raise OpenHAError(
                    f"method='exact' conditions on the {len(prog.repeated)} repeated nodes; at most "
                    f"{MAX_EXACT_REPEATED} are tractable. Use method='montecarlo'"
                )
            return exact_latency(op, prog, dists, down, qs)
        trials = check_int("trials", trials, low=1)
        return mc_latency(op, prog, dists, down, qs, trials, seed, confidence)

    def _node_latencies(self, latency: Mapping[str, Any] | None) -> list[Any]:
        from openha.dist import as_distribution

        if latency is not None and not isinstance(latency, Mapping):
            raise OpenHAError(f"latency must map node names to distributions; got {latency!r}")
        given = dict(latency or {})
        unknown = sorted(set(given) - set(self.node_names))
        if unknown:
            raise OpenHAError(
                f"latency names unknown nodes {unknown}; the nodes are {self.node_names}"
            )
        out = []
        for n in self.nodes:
            d = given.get(n.name, n.latency)
            if d is None:
                raise OpenHAError(
                    f"no latency for node {n.name!r}: give Node(latency=...) or latency={{name: ...}}"
                )
            out.append(as_distribution(d, f"latency[{n.name!r}]"))
        return out

    def _failed_mask(self, names: list[str]) -> np.ndarray:
        unknown = sorted(set(names) - set(self.node_names))
        if unknown:
            raise OpenHAError(
                f"failed names unknown nodes {unknown}; the nodes are {self.node_names}"
            )
        return np.array([n.name in names for n in self.nodes], dtype=np.bool_)


# --------------------------------------------------------------------------- helpers
def _op(op: Any) -> str:
    if op not in ("read", "write"):
        raise OpenHAError(f"op must be 'read' or 'write'; got {op!r}")
    return str(op)


def _method(method: Any) -> str:
    if method not in ("auto", "exact", "montecarlo"):
        raise OpenHAError(f"method must be 'auto', 'exact' or 'montecarlo'; got {method!r}")
    return str(method)


def _confidence(c: Any) -> float:
    c = check_probability("confidence", c)
    if not 0.0 < c < 1.0:
        raise OpenHAError(f"confidence must be in (0, 1); got {c!r}")
    return c


def _clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact binomial confidence interval for k successes in n trials."""
    alpha = 1.0 - confidence
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def _unit_threshold(e: Expr) -> tuple[frozenset[str], int, int] | None:
    """(node names, k, total weight) when ``e`` is one gate directly over nodes."""
    if isinstance(e, Gate) and all(isinstance(c, Node) for c in e.children):
        return frozenset(n.name for n in e.nodes()), e.k, e.total_weight
    return None


def _check_intersection(reads: Expr, writes: Expr) -> None:
    r, w = _unit_threshold(reads), _unit_threshold(writes)
    same_votes = (
        isinstance(reads, Gate)
        and isinstance(writes, Gate)
        and r is not None
        and w is not None
        and r[0] == w[0]
        and dict(zip((c.name for c in reads.nodes()), reads.weights, strict=True))
        == dict(zip((c.name for c in writes.nodes()), writes.weights, strict=True))
    )
    if same_votes:
        assert r is not None and w is not None
        if r[1] + w[1] > r[2]:
            return
    hitting = reads.dual()
    for wq in writes.quorums():
        if not hitting.is_quorum(wq):
            rest = [n.name for n in reads.nodes() if n.name not in wq]
            rq = set(rest)
            for name in rest:  # shrink to a minimal read quorum outside wq
                if reads.is_quorum(rq - {name}):
                    rq.discard(name)
            raise OpenHAError(
                f"read quorum {sorted(rq)} and write quorum {sorted(wq)} do not intersect: "
                "every read quorum must share a node with every write quorum"
            )
