"""Correlated failures: failure domains (zones, racks) with their own outage probability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from openha.errors import OpenHAError, check_probability
from openha.quorum.expr import Node

__all__ = ["FailureModel"]


@dataclass(frozen=True, kw_only=True)
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
    p_fail : float or mapping of str to float, optional
        Failure probability overriding ``Node.p_fail``: one number for every node (so one
        model can serve several systems), or a mapping from node name to probability.

    Examples
    --------
    >>> import openha as ha
    >>> zones = {"az1": 1e-4, "az2": 1e-4, "az3": 1e-4}
    >>> ha.FailureModel(domains=zones)
    FailureModel(domains={'az1': 0.0001, 'az2': 0.0001, 'az3': 0.0001}, p_fail={})
    >>> ha.FailureModel(domains=zones, p_fail=1e-3).node_p_fail(ha.Node("a", p_fail=0.5))
    0.001
    """

    domains: Mapping[str, float] = field(default_factory=dict)
    p_fail: Mapping[str, float] | float = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.domains, Mapping):
            raise OpenHAError(
                f"domains must be a mapping of domain name to probability; got {self.domains!r}"
            )
        doms = {str(k): check_probability(f"domains[{k!r}]", v) for k, v in self.domains.items()}
        object.__setattr__(self, "domains", MappingProxyType(doms))
        if isinstance(self.p_fail, Mapping):
            nodes = {str(k): check_probability(f"p_fail[{k!r}]", v) for k, v in self.p_fail.items()}
            object.__setattr__(self, "p_fail", MappingProxyType(nodes))
        else:
            object.__setattr__(self, "p_fail", check_probability("p_fail", self.p_fail))

    def node_p_fail(self, node: Node) -> float:
        """The failure probability this model gives ``node``."""
        if isinstance(self.p_fail, Mapping):
            return float(self.p_fail.get(node.name, node.p_fail))
        return float(self.p_fail)

    def named_nodes(self) -> set[str]:
        """Nodes this model names individually (empty when ``p_fail`` is one number)."""
        return set(self.p_fail) if isinstance(self.p_fail, Mapping) else set()

    def __repr__(self) -> str:
        p = dict(self.p_fail) if isinstance(self.p_fail, Mapping) else self.p_fail
        return f"FailureModel(domains={dict(self.domains)}, p_fail={p})"

    def __hash__(self) -> int:
        p = tuple(self.p_fail.items()) if isinstance(self.p_fail, Mapping) else self.p_fail
        return hash((tuple(self.domains.items()), p))
