"""Correlated failures: failure domains (zones, racks) with their own outage probability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from openha.errors import OpenHAError, check_probability

__all__ = ["FailureModel"]


@dataclass(frozen=True)
class FailureModel:
    """Node failures plus whole-domain outages.

    A node is down if it fails on its own (probability ``Node.p_fail``, or the override
    in ``p_fail``) or if any of its domains (``Node.domain``) is out. Domain outages
    are independent of each other and of node failures. Ford et al. (OSDI 2010) found
    that failures cluster by rack and power domain; this is the simplest model of that.

    Parameters
    ----------
    domains : mapping of str to float
        Outage probability of each failure domain at a random instant.
    p_fail : mapping of str to float, optional
        Per-node failure probability overriding ``Node.p_fail``.

    Examples
    --------
    >>> import openha as ha
    >>> zones = {"az1": 1e-4, "az2": 1e-4, "az3": 1e-4}
    >>> ha.FailureModel(domains=zones)
    FailureModel(domains={'az1': 0.0001, 'az2': 0.0001, 'az3': 0.0001}, p_fail={})
    """

    domains: Mapping[str, float] = field(default_factory=dict)
    p_fail: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.domains, Mapping):
            raise OpenHAError(
                f"domains must be a mapping of domain name to probability; got {self.domains!r}"
            )
        if not isinstance(self.p_fail, Mapping):
            raise OpenHAError(
                f"p_fail must be a mapping of node name to probability; got {self.p_fail!r}"
            )
        doms = {str(k): check_probability(f"domains[{k!r}]", v) for k, v in self.domains.items()}
        nodes = {str(k): check_probability(f"p_fail[{k!r}]", v) for k, v in self.p_fail.items()}
        object.__setattr__(self, "domains", MappingProxyType(doms))
        object.__setattr__(self, "p_fail", MappingProxyType(nodes))

    def __repr__(self) -> str:
        return f"FailureModel(domains={dict(self.domains)}, p_fail={dict(self.p_fail)})"

    def __hash__(self) -> int:
        return hash((tuple(self.domains.items()), tuple(self.p_fail.items())))
