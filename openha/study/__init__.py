"""Studies: many runs turned into one tidy frame (deployments, comparisons)."""

from openha.study.deployment import DEFAULT_DEPLOYMENT, Deployment
from openha.study.quorum_comparison import availability_sweep, quorum_comparison, quorum_systems

__all__ = [
    "DEFAULT_DEPLOYMENT",
    "Deployment",
    "availability_sweep",
    "quorum_comparison",
    "quorum_systems",
]
