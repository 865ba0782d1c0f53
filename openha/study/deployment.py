"""A deployment: where replicas run and how often things fail, with the figures' sources."""

from __future__ import annotations

from dataclasses import dataclass, field

from openha.errors import OpenHAError, check_int, check_nonnegative, check_probability

__all__ = ["DEFAULT_DEPLOYMENT", "Deployment"]


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """Replicas spread over the zones of one region.

    Parameters
    ----------
    name : str
    zones : tuple of str
        Availability zones; replica i goes to zone ``i % len(zones)``.
    replicas : int
        Number of replicas of the largest system compared (others use 3 and 5).
    node_p_fail : float
        Probability that a replica is down at a random instant.
    zone_p_outage : float
        Probability that a whole zone is out at a random instant.
    rtt_ms : float
        Round-trip time between replicas (request + reply), ms.
    jitter_mean_ms : float
        Mean of the exponential delay added to each round trip, ms.
    sources : tuple of str
        Where the figures come from.

    Examples
    --------
    >>> from openha.study import DEFAULT_DEPLOYMENT
    >>> DEFAULT_DEPLOYMENT.zone_of(4)
    'az-b'
    """

    name: str
    zones: tuple[str, ...]
    replicas: int
    node_p_fail: float
    zone_p_outage: float
    rtt_ms: float
    jitter_mean_ms: float
    sources: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise OpenHAError(f"name must be a non-empty string; got {self.name!r}")
        if not self.zones or len(set(self.zones)) != len(self.zones):
            raise OpenHAError(f"zones must be distinct and non-empty; got {self.zones!r}")
        check_int("replicas", self.replicas, low=1, high=101)
        check_probability("node_p_fail", self.node_p_fail)
        check_probability("zone_p_outage", self.zone_p_outage)
        check_nonnegative("rtt_ms", self.rtt_ms)
        check_nonnegative("jitter_mean_ms", self.jitter_mean_ms)

    def zone_of(self, i: int) -> str:
        """The zone of replica ``i``."""
        return self.zones[i % len(self.zones)]


# Node unavailability: ~8.8 h a year down (reboots, upgrades, repairs). Ford et al. (OSDI
# 2010) report planned reboots dominate node unavailability; Schroeder & Gibson (FAST
# 2007) and Backblaze give 1.4-4 % annual disk replacement, i.e. disks alone cost
# ~1e-4 with a one-day repair. Zone outage: ~53 min a year.
DEFAULT_DEPLOYMENT = Deployment(
    name="single region, 3 zones",
    zones=("az-a", "az-b", "az-c"),
    replicas=9,
    node_p_fail=1e-3,
    zone_p_outage=1e-4,
    rtt_ms=0.3,
    jitter_mean_ms=0.1,
    sources=(
        "node_p_fail 1e-3 (8.8 h/yr): an assumption above the disk-only figure: annual disk "
        "replacement 1.4-4 % (Schroeder & Gibson, FAST 2007; Backblaze 2024 AFR 1.57 %) with a "
        "one-day repair gives ~1e-4; planned reboots dominate node unavailability (Ford et al., "
        "OSDI 2010)",
        "zone_p_outage 1e-4 (53 min/yr): an assumption; Ford et al. (OSDI 2010) find 37 % of "
        "failures hit two or more nodes at once, so domain outages are modelled separately",
        "rtt_ms 0.3: intra-region average ping in us-east-1, fantoch latency_aws/2020_06_05",
    ),
)
