"""Closed forms and Markov models: availability, failover, checkpoint/restart, recovery."""

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
from openha.models.simulation import Estimate, simulate_checkpoint, simulate_replicas

__all__ = [
    "CheckpointPlan",
    "ClientAvailability",
    "ElectionModel",
    "Estimate",
    "KofN",
    "Leaf",
    "MarkovAvailability",
    "Parallel",
    "RBDResult",
    "ReplicaChain",
    "Series",
    "SnapshotModel",
    "client_availability",
    "daly",
    "efficiency",
    "election_model",
    "evaluate",
    "expected_runtime",
    "markov_availability",
    "mttdl",
    "optimal_interval",
    "recovery_objectives",
    "simulate_checkpoint",
    "simulate_replicas",
    "split_vote_probability",
    "young",
]
