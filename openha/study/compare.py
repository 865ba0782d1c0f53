"""``ha.compare``: the strategies of a scenario, side by side, as one tidy frame.

Every strategy gets the closed-form metrics of its quorum system (availability, nines,
downtime, quorum latency); simulated protocols (kind ``"raft"``) also get a steady-state
run (throughput, commit latency, messages per commit), the election experiment (failover
time) and the replication model's ceiling. Each row says how it was obtained
(``method``: analytic, simulated) and, where sampled, carries a 95 % confidence interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from openha._random import SeedLike, as_seed_sequence
from openha.dist import as_distribution
from openha.errors import OpenHAError, check_int
from openha.models.replication import leader_model
from openha.sim.chain import Chain
from openha.sim.elections import elections
from openha.sim.failover import failover
from openha.sim.multipaxos import MultiPaxos
from openha.sim.paxos import Paxos
from openha.sim.primary_backup import PrimaryBackup
from openha.sim.result import SimResult
from openha.sim.simulate import simulate
from openha.study.scenario import SIMULATED, Scenario, StrategySpec

__all__ = ["COLUMNS", "compare"]

#: Columns of :func:`compare`'s frame.
COLUMNS = ["strategy", "kind", "metric", "value", "unit", "method", "ci_low", "ci_high"]

_CONFIDENCE = 0.95


def _quantile_ci(x: np.ndarray, q: float) -> tuple[float, float, float]:
    """Sample quantile and a distribution-free (order-statistic) 95 % interval."""
    x = np.sort(x[~np.isnan(x)])
    n = x.size
    if n == 0:
        return (float("nan"),) * 3
    lo = int(stats.binom.ppf((1 - _CONFIDENCE) / 2, n, q))
    hi = int(stats.binom.ppf((1 + _CONFIDENCE) / 2, n, q))
    return float(np.quantile(x, q)), float(x[max(lo - 1, 0)]), float(x[min(hi, n - 1)])


def _batch_means_ci(x: np.ndarray, batches: int = 20) -> tuple[float, float, float]:
    """Mean of a correlated series and a batch-means 95 % interval."""
    x = x[~np.isnan(x)]
    if x.size < 2 * batches:
        return float(np.mean(x)) if x.size else float("nan"), float("nan"), float("nan")
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    half = stats.t.ppf((1 + _CONFIDENCE) / 2, batches - 1) * means.std(ddof=1) / np.sqrt(batches)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def _throughput_ci(res: SimResult, batches: int = 20) -> tuple[float, float, float]:
    """Writes per second over the measured window, with a batch-means interval."""
    r = res.requests
    done = r.loc[(r["kind"] == "write") & (r["done_ms"] > res.measured_from_ms), "done_ms"]
    t = np.sort(done.to_numpy())
    value = res.throughput_per_s
    if t.size < 2 * batches:
        return value, float("nan"), float("nan")
    edges = np.linspace(res.measured_from_ms, res.sim_time_ms, batches + 1)
    rates = 1000.0 * np.histogram(t, bins=edges)[0] / np.diff(edges)
    half = stats.t.ppf((1 + _CONFIDENCE) / 2, batches - 1) * rates.std(ddof=1) / np.sqrt(batches)
    return value, value - half, value + half


def _select(strategies: Any, scenario: Scenario) -> list[StrategySpec]:
    if strategies is None:
        return list(scenario.strategies)
    if isinstance(strategies, str | StrategySpec):
        strategies = [strategies]
    if not isinstance(strategies, Sequence):
        raise OpenHAError(f"strategies must be a list of strategy names; got {strategies!r}")
    return [scenario.strategy(s) for s in strategies]


def compare(
    strategies: Sequence[str | StrategySpec] | str | Scenario | None = None,
    scenario: Scenario | None = None,
    *,
    seed: SeedLike = None,
    trials: int | None = None,
) -> pd.DataFrame:
    """Compare strategies of ``scenario``: one row per strategy and metric.

    Parameters
    ----------
    strategies : list of str, optional
        Names of the scenario's strategies (default: all). A :class:`Scenario` given
        here is taken as ``scenario``.
    scenario : Scenario
    seed : int, Generator, SeedSequence or None
        Default: the scenario's ``[run] seed``. Strategy ``i`` uses the i-th child, so
        comparing a subset gives the same numbers for the strategies it keeps only if
        they keep their positions: seeds follow the scenario's order, not the selection.
    trials : int, optional
        Election trials per simulated protocol (default: the scenario's).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`.

    Examples
    --------
    >>> import openha as ha
    >>> scn = ha.Scenario.default()
    >>> df = ha.compare(["majority of 3", "majority of 5"], scn)
    >>> df.pivot(index="metric", columns="strategy", values="value").loc["nines"].round(2)
    strategy
    majority of 3    5.44
    majority of 5    6.19
    Name: nines, dtype: float64
    """
    if isinstance(strategies, Scenario):
        strategies, scenario = None, strategies
    if not isinstance(scenario, Scenario):
        raise OpenHAError(f"scenario must be an ha.Scenario; got {scenario!r}")
    chosen = _select(strategies, scenario)
    trials = scenario.trials if trials is None else check_int("trials", trials, low=1)
    children = as_seed_sequence(scenario.seed if seed is None else seed).spawn(
        len(scenario.strategies)
    )
    position = {s.name: i for i, s in enumerate(scenario.strategies)}
    rows: list[dict[str, Any]] = []
    for s in chosen:
        rows += _strategy_rows(scenario, s, children[position[s.name]], trials)
    return pd.DataFrame(rows, columns=COLUMNS)


def _strategy_rows(
    scenario: Scenario, s: StrategySpec, seed: np.random.SeedSequence, trials: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(metric: str, value: float, unit: str, method: str, ci: Any = None) -> None:
        lo, hi = ci if ci is not None else (float("nan"), float("nan"))
        rows.append(
            {
                "strategy": s.name,
                "kind": s.kind,
                "metric": metric,
                "value": float(value),
                "unit": unit,
                "method": method,
                "ci_low": float(lo),
                "ci_high": float(hi),
            }
        )

    qs = scenario.quorum_system(s)
    a = qs.availability(failures=scenario.failure_model(qs))
    add("availability", a.availability, "probability", a.method)
    add("nines", a.nines, "nines", a.method)
    add("downtime per year", a.downtime_min_per_year, "min/yr", a.method)
    lat = qs.latency_distribution("write", quantiles=(0.5, 0.99))
    for q in (0.5, 0.99):
        add(f"quorum latency p{round(q * 100)}", lat.quantile(q), "ms", lat.method)
    if s.kind not in SIMULATED:
        return rows

    cluster = scenario.cluster(s)
    protocol = scenario.protocol(s)
    run_seed, election_seed, outage_seed = seed.spawn(3)
    res = simulate(
        protocol,
        cluster,
        scenario.workload,
        stop=scenario.stop(),
        warmup=min(1000, (scenario.commits or 10_000) // 10),
        seed=run_seed,
    )
    value, lo, hi = _throughput_ci(res)
    add("throughput", value, "commits/s", "simulated", (lo, hi))
    measured = res.requests.loc[
        (res.requests["kind"] == "write") & (res.requests["done_ms"] > res.measured_from_ms)
    ]
    latency = measured.sort_values("submit_ms")["latency_ms"].to_numpy()
    mean, lo, hi = _batch_means_ci(latency)
    add("latency mean", mean, "ms", "simulated", (lo, hi))
    for q in (0.5, 0.99):
        v, lo, hi = _quantile_ci(latency, q)
        add(f"latency p{round(q * 100)}", v, "ms", "simulated", (lo, hi))
    add("messages per commit", res.messages_per_commit, "messages", "simulated")
    add("safety violations", len(res.violations), "count", "simulated")
    add("throughput ceiling", _ceiling_per_s(protocol, cluster), "commits/s", "analytic")

    if s.kind == "raft":
        # the Raft paper's experiment: time until a new leader is heard by every node
        times = elections(scenario.raft(s), cluster, trials, seed=election_seed)["time_to_elect_ms"]
        for q in (0.5, 0.99):
            v, lo, hi = _quantile_ci(times.to_numpy(), q)
            add(f"failover p{round(q * 100)}", v, "ms", "simulated", (lo, hi))
    # every protocol: crash the leader under load, time until commits resume
    out = _outages(scenario, protocol, cluster, max(20, trials // 20), outage_seed)
    rto = out["rto_ms"].to_numpy()
    for q in (0.5, 0.99):
        v, lo, hi = _quantile_ci(rto, q)
        add(f"outage p{round(q * 100)}", v, "ms", "simulated", (lo, hi))
    add("RTO p99", *_quantile_ci(rto, 0.99)[:1], "ms", "simulated", _quantile_ci(rto, 0.99)[1:])
    lost = out["lost_writes"].to_numpy(dtype=float)
    if lost.any():
        mean, lo, hi = _batch_means_ci(lost, batches=min(20, lost.size))
        add("RPO", mean, "writes", "simulated", (lo, hi))
    else:
        add("RPO", 0.0, "writes", "simulated")
    return rows


def _ceiling_per_s(protocol: Any, cluster: Any) -> float:
    """The analytic throughput ceiling of ``protocol`` on ``cluster`` (commits/s)."""
    n, cpu, fsync = cluster.n, cluster.cpu_ms, cluster.fsync_ms
    if isinstance(protocol, Paxos):
        cpu, fsync = (as_distribution(x, "time").mean for x in (cpu, fsync))
        # one proposer (every client starts at node 0): it serves the request, n - 1
        # promises and n - 1 accepteds, 1 + 2 (n - 1) messages; every node writes a
        # promise and an acceptance per command
        work = {"cpu": (1 + 2 * (n - 1)) * cpu, "disk": 2 * fsync}
        return min(1000.0 / w if w > 0 else float("inf") for w in work.values())
    if isinstance(protocol, Chain):
        # every member's CPU serves one message per write (the head the request, the others
        # a forward); without group commit the head also writes every request on its own
        cpu_mean, fsync_mean = (as_distribution(x, "time").mean for x in (cpu, fsync))
        per_write = [cpu_mean] + ([] if cluster.group_commit else [fsync_mean])
        return min(1000.0 / w if w > 0 else float("inf") for w in per_write)
    quorum, thrifty, nodes = None, False, n
    if isinstance(protocol, MultiPaxos):
        quorum, thrifty = protocol.quorums(n)[1], protocol.thrifty
    elif isinstance(protocol, PrimaryBackup):
        backups, acks = protocol.replicas(n)
        nodes, quorum = backups + 1, acks + 1  # spares do nothing
    model = leader_model(
        nodes, cpu_ms=cpu, fsync_ms=fsync, batch=protocol.batch, quorum=quorum, thrifty=thrifty
    )
    return float(model.throughput_ceiling_per_s)


def _outages(
    scenario: Scenario, protocol: Any, cluster: Any, trials: int, seed: np.random.SeedSequence
) -> pd.DataFrame:
    """``ha.sim.failover`` with the scenario's workload, at most 4 clients (the outage does
    not depend on the load; fewer clients keep each trial short)."""
    w = scenario.workload
    workload = replace(w, clients=min(4, w.clients))
    detect = protocol._detect_ms
    horizon = 3.0 * detect + 2.0 * float(w.timeout_ms) + 50.0
    return failover(
        protocol, cluster, workload, trials=trials, crash_ms=50.0, horizon_ms=horizon, seed=seed,
    )  # fmt: skip
