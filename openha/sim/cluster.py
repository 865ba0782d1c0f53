"""Nodes (CPU and disk costs), the network between them, and the faults they suffer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from openha.dist import Distribution, as_distribution
from openha.errors import OpenHAError, check_int, check_nonnegative
from openha.sim.network import Network

__all__ = ["Cluster", "Crash", "Faults", "Partition"]

#: Largest cluster the simulator takes (vote sets are 63-bit masks).
MAX_NODES = 63


@dataclass(frozen=True, kw_only=True)
class Cluster:
    """``n`` nodes, each with one FIFO CPU and one FIFO disk, on a network.

    Parameters
    ----------
    n : int
        Number of nodes (1 to 63).
    network : Network
        Delays, FIFO links, loss and placement.
    cpu_ms : Distribution or float
        CPU time a node spends on each message it receives (client replies cost nothing).
    fsync_ms : Distribution or float
        Time of one disk write + fsync.
    group_commit : bool
        One fsync covers every write queued when it starts (else one fsync per write).

    Examples
    --------
    >>> import openha as ha
    >>> c = ha.Cluster(n=5, network=ha.Network(delay=0.1), cpu_ms=0.01, fsync_ms=0.02)
    >>> c.majority
    3
    """

    n: int
    network: Network = field(default_factory=Network)
    cpu_ms: Distribution | float = 0.0
    fsync_ms: Distribution | float = 0.0
    group_commit: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", check_int("n", self.n, low=1, high=MAX_NODES))
        if not isinstance(self.network, Network):
            raise OpenHAError(f"network must be an openha Network; got {self.network!r}")
        object.__setattr__(self, "cpu_ms", as_distribution(self.cpu_ms, "cpu_ms"))
        object.__setattr__(self, "fsync_ms", as_distribution(self.fsync_ms, "fsync_ms"))
        if not isinstance(self.group_commit, bool):
            raise OpenHAError(f"group_commit must be True or False; got {self.group_commit!r}")
        if self.network.placement and len(self.network.placement) != self.n:
            raise OpenHAError(
                f"network placement names {len(self.network.placement)} nodes but n={self.n}"
            )

    @property
    def majority(self) -> int:
        """Smallest majority of the nodes."""
        return self.n // 2 + 1


@dataclass(frozen=True, kw_only=True)
class Crash:
    """Node ``node`` crashes at ``at_ms`` and, if ``recover_ms`` is given, restarts then."""

    node: int
    at_ms: float
    recover_ms: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "node", check_int("node", self.node, low=0))
        object.__setattr__(self, "at_ms", check_nonnegative("at_ms", self.at_ms))
        if self.recover_ms is not None:
            r = check_nonnegative("recover_ms", self.recover_ms)
            if r < self.at_ms:
                raise OpenHAError(
                    f"recover_ms must be >= at_ms ({self.at_ms}); got {self.recover_ms!r}"
                )
            object.__setattr__(self, "recover_ms", r)


@dataclass(frozen=True, kw_only=True)
class Partition:
    """From ``start_ms`` to ``end_ms``, ``nodes`` and the rest cannot exchange messages.

    Clients reach every node throughout.
    """

    nodes: tuple[int, ...]
    start_ms: float
    end_ms: float

    def __post_init__(self) -> None:
        if isinstance(self.nodes, int) or not isinstance(self.nodes, Sequence) or not self.nodes:
            raise OpenHAError(f"nodes must be a non-empty list of node numbers; got {self.nodes!r}")
        nodes = tuple(check_int("nodes[]", x, low=0) for x in self.nodes)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "start_ms", check_nonnegative("start_ms", self.start_ms))
        end = check_nonnegative("end_ms", self.end_ms)
        if end < self.start_ms:
            raise OpenHAError(f"end_ms must be >= start_ms ({self.start_ms}); got {self.end_ms!r}")
        object.__setattr__(self, "end_ms", end)


@dataclass(frozen=True, kw_only=True)
class Faults:
    """Scheduled crashes and partitions, and optional random crash/repair cycles.

    Parameters
    ----------
    crashes : sequence of Crash
    partitions : sequence of Partition
        At most 63.
    time_to_failure, time_to_repair : Distribution, optional
        Given together: every node fails after a draw of ``time_to_failure`` (ms) and
        comes back after a draw of ``time_to_repair``, independently, forever.

    Examples
    --------
    >>> import openha as ha
    >>> f = ha.Faults(crashes=[ha.Crash(node=0, at_ms=100.0, recover_ms=400.0)])
    >>> len(f.crashes)
    1
    """

    crashes: tuple[Crash, ...] = ()
    partitions: tuple[Partition, ...] = ()
    time_to_failure: Distribution | None = None
    time_to_repair: Distribution | None = None

    def __post_init__(self) -> None:
        for name, kind in (("crashes", Crash), ("partitions", Partition)):
            items = getattr(self, name)
            if not isinstance(items, Sequence) or isinstance(items, str):
                raise OpenHAError(f"{name} must be a list of {kind.__name__}; got {items!r}")
            for x in items:
                if not isinstance(x, kind):
                    raise OpenHAError(f"{name} must hold {kind.__name__} objects; got {x!r}")
            object.__setattr__(self, name, tuple(items))
        if len(self.partitions) > 63:
            raise OpenHAError(f"at most 63 partitions; got {len(self.partitions)}")
        if (self.time_to_failure is None) != (self.time_to_repair is None):
            raise OpenHAError("time_to_failure and time_to_repair must be given together")
        for name in ("time_to_failure", "time_to_repair"):
            d = getattr(self, name)
            if d is not None:
                d = as_distribution(d, name)
                if d.mean <= 0:
                    raise OpenHAError(f"{name} must have a mean > 0; got {d!r}")
                object.__setattr__(self, name, d)

    def check_nodes(self, n: int) -> None:
        """Raise :class:`OpenHAError` if a fault names a node the cluster lacks."""
        for c in self.crashes:
            if c.node >= n:
                raise OpenHAError(f"crash names node {c.node} but the cluster has nodes 0..{n - 1}")
        for p in self.partitions:
            for x in p.nodes:
                if x >= n:
                    raise OpenHAError(
                        f"partition names node {x} but the cluster has nodes 0..{n - 1}"
                    )
