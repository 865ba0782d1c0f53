"""Compare quorum systems on one deployment: resilience, availability, latency, as tidy frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from openha.dist import Exponential
from openha.errors import OpenHAError, check_probability
from openha.quorum import FailureModel, Node, QuorumSystem, flexible_paxos, grid, hierarchical
from openha.quorum import majority as majority_of
from openha.quorum.system import Op
from openha.study.deployment import Deployment

__all__ = ["COLUMNS", "availability_sweep", "quorum_comparison", "quorum_systems"]

#: Columns of :func:`quorum_comparison`'s frame.
COLUMNS = ["system", "op", "metric", "value", "unit", "method"]


def _nodes(d: Deployment, n: int, p_fail: float) -> list[Node]:
    lat = Exponential(mean=d.jitter_mean_ms, shift=d.rtt_ms) if d.jitter_mean_ms > 0 else d.rtt_ms
    return [Node(f"r{i}", p_fail=p_fail, domain=d.zone_of(i), latency=lat) for i in range(n)]


def quorum_systems(d: Deployment, p_fail: float | None = None) -> dict[str, QuorumSystem]:
    """The systems compared on ``d``: majorities of 3 and 5 and more, Flexible Paxos, zone-aware.

    Replica i lives in zone ``i % len(zones)``. With 3 zones, the 9-replica systems put
    3 replicas in each zone.

    Examples
    --------
    >>> from openha.study import DEFAULT_DEPLOYMENT, quorum_systems
    >>> list(quorum_systems(DEFAULT_DEPLOYMENT))  # doctest: +NORMALIZE_WHITESPACE
    ['majority of 3', 'majority of 5', 'Flexible Paxos 5 (q1=4, q2=2)', 'majority of 9',
     'hierarchical 3x3 (zones)', 'grid 3x3 (row = zone)']
    """
    p = d.node_p_fail if p_fail is None else check_probability("p_fail", p_fail)
    big = _nodes(d, d.replicas, p)
    out = {}
    if d.replicas > 3:  # smaller deployments get only the majority of all their replicas
        out["majority of 3"] = QuorumSystem(writes=majority_of(big[:3]))
    if d.replicas > 5:
        out["majority of 5"] = QuorumSystem(writes=majority_of(big[:5]))
    if d.replicas >= 5:
        out["Flexible Paxos 5 (q1=4, q2=2)"] = flexible_paxos(big[:5], q1=4, q2=2)
    out[f"majority of {d.replicas}"] = QuorumSystem(writes=majority_of(big))
    by_zone = [[n for n in big if n.domain == (z,)] for z in d.zones]
    if len(d.zones) >= 2 and len({len(g) for g in by_zone}) == 1 and len(by_zone[0]) >= 2:
        k = len(by_zone[0])
        out[f"hierarchical {len(d.zones)}x{k} (zones)"] = hierarchical(by_zone)
        out[f"grid {len(d.zones)}x{k} (row = zone)"] = grid(by_zone)
    return out


def quorum_comparison(d: Deployment, *, quantiles: Sequence[float] = (0.5, 0.99)) -> pd.DataFrame:
    """Tidy comparison of :func:`quorum_systems` on ``d`` (columns :data:`COLUMNS`).

    Metrics per system and operation: ``resilience`` (node failures tolerated),
    ``unavailability`` and ``nines`` with independent node failures,
    ``unavailability_zones`` and ``nines_zones`` with zone outages as well,
    ``downtime_min_per_year_zones``, ``latency_mean_ms`` and ``latency_p50_ms`` etc.
    All exact.

    Examples
    --------
    >>> from openha.study import DEFAULT_DEPLOYMENT, quorum_comparison
    >>> df = quorum_comparison(DEFAULT_DEPLOYMENT)
    >>> row = df.query("system == 'majority of 3' and op == 'write' and metric == 'resilience'")
    >>> int(row.value.iloc[0])
    1
    """
    rows: list[dict[str, object]] = []
    zones = FailureModel(domains=dict.fromkeys(d.zones, d.zone_p_outage))

    def add(system: str, op: str, metric: str, value: float, unit: str, method: str) -> None:
        rows.append(
            dict(zip(COLUMNS, (system, op, metric, float(value), unit, method), strict=True))
        )

    for name, qs in quorum_systems(d).items():
        ops: tuple[Op, ...] = ("read", "write")
        for op in ops:
            add(name, op, "resilience", qs.expr(op).resilience(), "nodes", "exact")
            ind = qs.availability(op=op)
            add(name, op, "unavailability", ind.unavailability, "probability", ind.method)
            add(name, op, "nines", ind.nines, "nines", ind.method)
            cor = qs.availability(op=op, failures=zones)
            add(name, op, "unavailability_zones", cor.unavailability, "probability", cor.method)
            add(name, op, "nines_zones", cor.nines, "nines", cor.method)
            add(
                name,
                op,
                "downtime_min_per_year_zones",
                cor.downtime_min_per_year,
                "min/yr",
                cor.method,
            )
            lat = qs.latency_distribution(op=op, quantiles=quantiles)
            add(name, op, "latency_mean_ms", lat.mean_ms, "ms", lat.method)
            for q, v in lat.quantiles_ms.items():
                add(name, op, f"latency_p{_pct(q)}_ms", v, "ms", lat.method)
    return pd.DataFrame(rows, columns=COLUMNS)


def availability_sweep(
    d: Deployment, p_fail: Sequence[float] | None = None, *, op: Op = "write"
) -> pd.DataFrame:
    """Unavailability and nines of each system as node ``p_fail`` varies (exact).

    Columns: ``system``, ``op``, ``node_p_fail``, ``unavailability``, ``nines``.

    Examples
    --------
    >>> from openha.study import DEFAULT_DEPLOYMENT, availability_sweep
    >>> df = availability_sweep(DEFAULT_DEPLOYMENT, [1e-3, 1e-2])
    >>> list(df.columns)
    ['system', 'op', 'node_p_fail', 'unavailability', 'nines']
    """
    if op not in ("read", "write"):
        raise OpenHAError(f"op must be 'read' or 'write'; got {op!r}")
    grid_p = np.logspace(-5, -1, 17) if p_fail is None else np.asarray(p_fail, dtype=float)
    rows = []
    for p in grid_p:
        for name, qs in quorum_systems(replace(d), float(p)).items():
            a = qs.availability(op=op)
            rows.append((name, op, float(p), a.unavailability, a.nines))
    return pd.DataFrame(rows, columns=["system", "op", "node_p_fail", "unavailability", "nines"])


def _pct(q: float) -> str:
    s = f"{100 * q:.4g}"
    return s.replace(".", "_")
