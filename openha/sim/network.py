"""The network every simulated protocol runs on: delays, FIFO links, loss, placement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from openha.data import RTTMatrix
from openha.dist import Distribution, as_distribution
from openha.errors import OpenHAError, check_probability

__all__ = ["Network"]


@dataclass(frozen=True, kw_only=True)
class Network:
    """One-way message delays, FIFO links and loss.

    A message from ``a`` to ``b`` takes ``base_ms[loc(a), loc(b)]`` plus a fresh draw
    of ``delay``. Without placement every endpoint is at one location with base 0, so
    the delay is just ``delay`` (e.g. ``Exponential(mean=0.1, shift=0.1)``: 0.1 ms
    plus an exponential jitter of mean 0.1 ms).

    Parameters
    ----------
    delay : Distribution or float
        One-way delay (ms) added to every message, on top of the placement's base.
    fifo : bool
        Links deliver in send order: a message never overtakes an earlier one on the
        same (sender, receiver) link (its delivery waits for the earlier one's).
    loss : float
        Probability that a message is lost.
    placement : tuple of str
        Location of each node (empty: all nodes together).
    client_placement : tuple of str
        Location of each client, cycled over clients (default: the first node's).
    locations : tuple of str
        Names of the locations, for ``base_ms``.
    base_ms : numpy.ndarray
        One-way base delay (ms) between locations.

    Examples
    --------
    >>> import openha as ha
    >>> lan = ha.Network(delay=ha.dist.Exponential(mean=0.1, shift=0.1))
    >>> lan.delay.mean
    0.2
    >>> wan = ha.Network.from_rtt_matrix(
    ...     ha.data.rtt_matrix("aws-2020"), ["us-east-1", "us-west-2", "eu-west-1"],
    ...     clients="us-east-1")
    >>> round(wan.one_way_ms(0, 2), 2)  # us-east-1 -> eu-west-1: half the RTT
    35.25
    """

    delay: Distribution | float = 0.0
    fifo: bool = True
    loss: float = 0.0
    placement: tuple[str, ...] = ()
    client_placement: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    base_ms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "delay", as_distribution(self.delay, "delay"))
        if not isinstance(self.fifo, bool):
            raise OpenHAError(f"fifo must be True or False; got {self.fifo!r}")
        object.__setattr__(self, "loss", check_probability("loss", self.loss))
        if self.loss >= 1.0:
            raise OpenHAError(f"loss must be < 1 (every message would be lost); got {self.loss}")
        for name in ("placement", "client_placement", "locations"):
            object.__setattr__(self, name, tuple(str(x) for x in getattr(self, name)))
        base = np.array(self.base_ms, dtype=np.float64)
        if base.size and (base.shape != (len(self.locations),) * 2 or not np.all(base >= 0)):
            raise OpenHAError(
                f"base_ms must be a {len(self.locations)}x{len(self.locations)} matrix of "
                f"delays >= 0 (one per pair of locations); got shape {base.shape}"
            )
        for name in ("placement", "client_placement"):
            for loc in getattr(self, name):
                if loc not in self.locations:
                    raise OpenHAError(
                        f"{name} names unknown location {loc!r}; known: {', '.join(self.locations)}"
                    )
        if self.client_placement and not self.placement:
            raise OpenHAError("client_placement needs a node placement too")
        base.flags.writeable = False
        object.__setattr__(self, "base_ms", base)

    @classmethod
    def from_rtt_matrix(
        cls,
        matrix: RTTMatrix,
        placement: Sequence[str],
        *,
        clients: str | Sequence[str] | None = None,
        jitter: Distribution | float = 0.0,
        fifo: bool = True,
        loss: float = 0.0,
    ) -> Network:
        """A WAN: node ``i`` in region ``placement[i]``; one-way base = RTT / 2.

        ``clients`` gives the clients' region(s) (default: the first node's);
        ``jitter`` is added to every message.
        """
        if isinstance(placement, str) or not isinstance(placement, Sequence) or not placement:
            raise OpenHAError(
                f"placement must be a non-empty list of regions, one per node; got {placement!r}"
            )
        if clients is None:
            client_regions: tuple[str, ...] = (str(placement[0]),)
        elif isinstance(clients, str):
            client_regions = (clients,)
        else:
            client_regions = tuple(str(c) for c in clients)
        regions = tuple(dict.fromkeys([*map(str, placement), *client_regions]))
        sub = matrix.subset(list(regions))
        return cls(
            delay=jitter,
            fifo=fifo,
            loss=loss,
            placement=tuple(map(str, placement)),
            client_placement=client_regions,
            locations=regions,
            base_ms=sub.rtt_ms / 2.0,
        )

    def one_way_ms(self, a: int, b: int) -> float:
        """Base one-way delay (ms, without the ``delay`` draw) from node ``a`` to node ``b``."""
        if not self.placement:
            return 0.0
        i = self.locations.index(self.placement[a])
        j = self.locations.index(self.placement[b])
        return float(self.base_ms[i, j])

    def _arrays(self, n: int, clients: int) -> tuple[np.ndarray, np.ndarray]:
        """Location of each endpoint (nodes, then clients) and the base-delay matrix."""
        loc = np.zeros(n + clients, dtype=np.int64)
        if not self.placement:
            return loc, np.zeros((1, 1))
        if len(self.placement) != n:
            raise OpenHAError(
                f"placement names {len(self.placement)} nodes but the cluster has n={n}"
            )
        index = {name: i for i, name in enumerate(self.locations)}
        loc[:n] = [index[p] for p in self.placement]
        cp = self.client_placement or (self.placement[0],)
        loc[n:] = [index[cp[c % len(cp)]] for c in range(clients)]
        return loc, np.array(self.base_ms)  # writable: numba compiles read-only apart
