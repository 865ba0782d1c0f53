"""openha: how highly available platforms behave before you build them.

Quorum systems (availability, latency), with protocol simulation, availability
models and reports built on the same foundations. See the README for a tour.
"""

from openha import data, dist, models, sim
from openha.errors import OpenHAError
from openha.quorum import (
    Availability,
    FailureModel,
    LatencyDistribution,
    Node,
    QuorumSystem,
    choose,
    majority,
    weighted,
)
from openha.report import report  # the function; altair loads on first use
from openha.sim import (
    Chain,
    ClosedLoop,
    Cluster,
    Crash,
    Faults,
    MultiPaxos,
    Network,
    OpenLoop,
    Partition,
    Paxos,
    PrimaryBackup,
    Raft,
    SimResult,
    Stop,
    elections,
    simulate,
)
from openha.study.compare import compare
from openha.study.scenario import Scenario
from openha.study.sweep import sweep
from openha.warmup import warmup

__version__ = "0.1.0"


__all__ = [
    "Availability",
    "Chain",
    "ClosedLoop",
    "Cluster",
    "Crash",
    "FailureModel",
    "Faults",
    "LatencyDistribution",
    "MultiPaxos",
    "Network",
    "Node",
    "OpenHAError",
    "OpenLoop",
    "Partition",
    "Paxos",
    "PrimaryBackup",
    "QuorumSystem",
    "Raft",
    "Scenario",
    "SimResult",
    "Stop",
    "__version__",
    "choose",
    "compare",
    "data",
    "dist",
    "elections",
    "majority",
    "models",
    "report",
    "sim",
    "simulate",
    "sweep",
    "warmup",
    "weighted",
]
