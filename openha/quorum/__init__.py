"""Quorum systems: expressions, families, availability and latency.

>>> import openha as ha
>>> a, b, c = (ha.Node(x, p_fail=0.1) for x in "abc")
>>> ha.QuorumSystem(writes=ha.majority([a, b, c])).availability().unavailability
0.028
"""

from openha.quorum.expr import Expr, Gate, Node, choose, majority, weighted
from openha.quorum.failures import FailureModel
from openha.quorum.families import flexible_paxos, grid, hierarchical, read_write, voting
from openha.quorum.results import Availability, LatencyDistribution
from openha.quorum.strategy import Strategy
from openha.quorum.system import QuorumSystem

__all__ = [
    "Availability",
    "Expr",
    "FailureModel",
    "Gate",
    "LatencyDistribution",
    "Node",
    "QuorumSystem",
    "Strategy",
    "choose",
    "flexible_paxos",
    "grid",
    "hierarchical",
    "majority",
    "read_write",
    "voting",
    "weighted",
]
