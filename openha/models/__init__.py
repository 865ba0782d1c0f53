"""Closed forms and Markov models: availability, failover, checkpoint/restart, recovery,
replication performance."""

from openha.models.checkpoint import (
    CheckpointPlan,
    daly,
    efficiency,
    expected_runtime,
    optimal_interval,
    young,
)
from openha.models.election import ElectionModel, election_model, split_vote_probability
from openha.models.failover import ClientAvailability, client_availability
from openha.models.markov import MarkovAvailability, ReplicaChain, markov_availability, mttdl
from openha.models.rbd import KofN, Leaf, Parallel, RBDResult, Series, evaluate
from openha.models.recovery import SnapshotModel, recovery_objectives
from openha.models.replication import (
    LeaderModel,
    best_leader,
    leader_model,
    messages_per_commit,
    wan_commit_latency_ms,
)
from openha.models.simulation import Estimate, simulate_checkpoint, simulate_replicas

__all__ = [
    "CheckpointPlan",
    "ClientAvailability",
    "ElectionModel",
    "Estimate",
    "KofN",
    "LeaderModel",
    "Leaf",
    "MarkovAvailability",
    "Parallel",
    "RBDResult",
    "ReplicaChain",
    "Series",
    "SnapshotModel",
    "best_leader",
    "client_availability",
    "daly",
    "efficiency",
    "election_model",
    "evaluate",
    "expected_runtime",
    "leader_model",
    "markov_availability",
    "messages_per_commit",
    "mttdl",
    "optimal_interval",
    "recovery_objectives",
    "simulate_checkpoint",
    "simulate_replicas",
    "split_vote_probability",
    "wan_commit_latency_ms",
    "young",
]
