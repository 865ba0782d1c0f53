"""Message-level discrete-event simulation of replication protocols (numba engine).

One engine (``_engine.py``, ``_clients.py``, ``_run.py``) hosts every protocol: the
network, node CPU and disk, clients, faults and the safety checks live once; a
protocol (Raft: ``_raft.py``, ``_raft_log.py``, ``_raft_state.py``) only handles its messages, timers and disk completions.
"""

from openha.sim.chain import Chain
from openha.sim.cluster import Cluster, Crash, Faults, Partition
from openha.sim.elections import LOGCABIN, LOGCABIN_STALE, elections, figure16
from openha.sim.failover import failover, outage_ms
from openha.sim.multipaxos import MultiPaxos
from openha.sim.network import Network
from openha.sim.paxos import Paxos
from openha.sim.primary_backup import PrimaryBackup
from openha.sim.raft import Raft
from openha.sim.result import SimResult, Violation
from openha.sim.simulate import simulate
from openha.sim.workload import ClosedLoop, OpenLoop, Stop

__all__ = [
    "LOGCABIN",
    "LOGCABIN_STALE",
    "Chain",
    "ClosedLoop",
    "Cluster",
    "Crash",
    "Faults",
    "MultiPaxos",
    "Network",
    "OpenLoop",
    "Partition",
    "Paxos",
    "PrimaryBackup",
    "Raft",
    "SimResult",
    "Stop",
    "Violation",
    "elections",
    "failover",
    "figure16",
    "outage_ms",
    "simulate",
]
