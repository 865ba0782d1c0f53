"""Studies: many runs turned into one tidy frame (deployments, comparisons, sweeps)."""

from openha.study.compare import compare
from openha.study.deployment import DEFAULT_DEPLOYMENT, Deployment
from openha.study.quorum_comparison import availability_sweep, quorum_comparison, quorum_systems
from openha.study.scenario import Scenario, scenarios
from openha.study.sweep import sweep

__all__ = [
    "DEFAULT_DEPLOYMENT",
    "Deployment",
    "Scenario",
    "availability_sweep",
    "compare",
    "quorum_comparison",
    "quorum_systems",
    "scenarios",
    "sweep",
]
