"""Clients and stop conditions."""

from __future__ import annotations

from dataclasses import dataclass

from openha.dist import Distribution, as_distribution
from openha.errors import (
    OpenHAError,
    check_int,
    check_nonnegative,
    check_positive,
    check_probability,
)

__all__ = ["ClosedLoop", "OpenLoop", "Stop"]


@dataclass(frozen=True, kw_only=True)
class ClosedLoop:
    """``clients`` clients, each sending its next request ``think_ms`` after a reply.

    Parameters
    ----------
    clients : int
    think_ms : Distribution or float
    reads : float
        Fraction of requests that are reads (served by the protocol's read path).
    timeout_ms : float
        A request without a reply is retried at the next node after this long.
    retry_ms : float
        Back-off before retrying when a node answers "not leader" without a hint.

    Examples
    --------
    >>> import openha as ha
    >>> ha.ClosedLoop(clients=32).clients
    32
    """

    clients: int = 1
    think_ms: Distribution | float = 0.0
    reads: float = 0.0
    timeout_ms: float = 1000.0
    retry_ms: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "clients", check_int("clients", self.clients, low=0))
        object.__setattr__(self, "think_ms", as_distribution(self.think_ms, "think_ms"))
        _check_common(self)


@dataclass(frozen=True, kw_only=True)
class OpenLoop:
    """Requests arrive as a Poisson process of ``rate_per_s`` (from ``clients`` places).

    Examples
    --------
    >>> import openha as ha
    >>> ha.OpenLoop(rate_per_s=5000.0).rate_per_s
    5000.0
    """

    rate_per_s: float
    clients: int = 1
    reads: float = 0.0
    timeout_ms: float = 1000.0
    retry_ms: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate_per_s", check_positive("rate_per_s", self.rate_per_s))
        object.__setattr__(self, "clients", check_int("clients", self.clients, low=1))
        _check_common(self)


def _check_common(w: ClosedLoop | OpenLoop) -> None:
    object.__setattr__(w, "reads", check_probability("reads", w.reads))
    object.__setattr__(w, "timeout_ms", check_positive("timeout_ms", w.timeout_ms))
    object.__setattr__(w, "retry_ms", check_nonnegative("retry_ms", w.retry_ms))


@dataclass(frozen=True, kw_only=True)
class Stop:
    """When a run ends: after ``commits`` writes complete, at ``time_ms``, or after
    ``events`` events (whichever comes first; the result says which).

    Examples
    --------
    >>> import openha as ha
    >>> ha.Stop(commits=50_000).commits
    50000
    """

    commits: int | None = None
    time_ms: float | None = None
    events: int = 200_000_000

    def __post_init__(self) -> None:
        if self.commits is not None:
            object.__setattr__(self, "commits", check_int("commits", self.commits, low=1))
        if self.time_ms is not None:
            object.__setattr__(self, "time_ms", check_positive("time_ms", self.time_ms))
        object.__setattr__(self, "events", check_int("events", self.events, low=1))
        if self.commits is None and self.time_ms is None:
            raise OpenHAError("Stop needs commits or time_ms (or both); got neither")
