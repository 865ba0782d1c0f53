"""What a client sees: quorum unavailability plus the outage of every leader failover."""

from __future__ import annotations

from dataclasses import dataclass

from openha.dist import Distribution, as_distribution
from openha.errors import check_positive, check_probability
from openha.nines import HOURS_PER_YEAR, Nines

__all__ = ["ClientAvailability", "client_availability"]

MS_PER_HOUR = 3_600_000.0


@dataclass(frozen=True)
class ClientAvailability(Nines):
    """Unavailability seen by clients, split into its two causes."""

    unavailability: float
    quorum_unavailability: float
    failover_unavailability: float
    failovers_per_year: float
    mean_failover_ms: float


def client_availability(
    quorum_unavailability: float,
    leader_failure_rate: float,
    failover_ms: Distribution | float,
) -> ClientAvailability:
    """Combine quorum unavailability with leader failovers.

    While a quorum is up, the leader fails at ``leader_failure_rate`` (per hour) and each
    failure costs a failover (detection plus election) of ``failover_ms`` (a number or an
    :mod:`openha.dist` distribution; its mean counts). Leader tenures and failovers
    alternate, so the failover share of the up time is E[F] / (1/rate + E[F]) (renewal
    reward). The two causes are added (they overlap only when a failover coincides with
    quorum loss, a second-order term).

    Examples
    --------
    >>> import openha as ha
    >>> c = ha.models.client_availability(1e-7, leader_failure_rate=1 / 2000,
    ...                                   failover_ms=ha.dist.Uniform(150, 300))
    >>> round(c.failovers_per_year, 3), f"{c.failover_unavailability:.4e}"
    (4.383, '3.1250e-08')
    """
    q = check_probability("quorum_unavailability", quorum_unavailability)
    rate = check_positive("leader_failure_rate", leader_failure_rate)
    d = as_distribution(failover_ms, "failover_ms")
    mean_h = d.mean / MS_PER_HOUR
    share = mean_h / (1.0 / rate + mean_h)
    fo = (1.0 - q) * share
    return ClientAvailability(
        unavailability=q + fo,
        quorum_unavailability=q,
        failover_unavailability=fo,
        failovers_per_year=(1.0 - q) * rate * HOURS_PER_YEAR / (1.0 + rate * mean_h),
        mean_failover_ms=d.mean,
    )
