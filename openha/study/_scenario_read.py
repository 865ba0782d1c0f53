"""Reading a scenario file: its parts, each key checked (used by :mod:`openha.study.scenario`).

Every check raises :class:`OpenHAError` naming the file, the dotted key, the value and
what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from openha.data import RTTMatrix, rtt_matrices, rtt_matrix
from openha.dist import Constant, Distribution, Exponential, Uniform
from openha.errors import OpenHAError
from openha.sim import ClosedLoop, OpenLoop
from openha.sim.cluster import MAX_NODES

__all__ = [
    "KINDS",
    "SIMULATED",
    "TOP",
    "Check",
    "FailureFigure",
    "Site",
    "StrategySpec",
    "check_region",
    "read_figure",
    "read_rtt",
    "read_sites",
    "read_strategy",
    "read_text",
    "read_workload",
]

#: Strategy kinds and their parameters (beyond name, kind, n / nodes), with defaults
#: (``None``: required, or for ``heartbeat_ms``, Raft's default of half the minimum timeout).
KINDS: dict[str, dict[str, Any]] = {
    "raft": {
        "election_timeout_ms": (150.0, 300.0),
        "heartbeat_ms": None,
        "prevote": False,
        "batch": 64,
        "window": 8,  # or "unbounded"
        "noop": True,
    },
    "multipaxos": {
        "election_timeout_ms": (150.0, 300.0),
        "heartbeat_ms": None,
        "batch": 64,
        "window": 8,  # or "unbounded"
        "q1": "majority",
        "q2": "majority",
        "thrifty": False,
    },
    "paxos": {
        "q1": "majority",
        "q2": "majority",
        "backoff_ms": (0.0, 1.0),
        "timeout_ms": 50.0,
    },
    "primary-backup": {
        "sync": True,
        "backups": "all",  # or a count in [1, n - 1]
        "sync_acks": "all",  # or a count in [1, backups] (synchronous only)
        "lease_ms": 150.0,
        "heartbeat_ms": None,
        "batch": 64,
        "window": 8,
    },
    "chain": {
        "length": "all",  # or a count in [1, n]
        "heartbeat_ms": 10.0,
        "failure_timeout_ms": 50.0,
        "batch": 64,
        "window": 8,
    },
    "majority-quorum": {},
    "flexible-paxos": {"q1": None, "q2": None},
    "read-write": {"r": None, "w": None},
    "grid": {"rows": "zones", "variant": "rows"},  # rows: "zones" or a count
    "hierarchical": {"groups": "zones"},  # or "regions"
}
REQUIRED = {"flexible-paxos": ("q1", "q2"), "read-write": ("r", "w")}
#: Kinds ``ha.compare`` also simulates message by message (``Scenario.protocol``).
SIMULATED = ("raft", "multipaxos", "paxos", "primary-backup", "chain")
TOP = ("name", "description", "deployment", "nodes", "failures", "workload", "strategies", "run")


@dataclass(frozen=True, kw_only=True)
class Site:
    """Where one node runs."""

    name: str
    region: str
    zone: str


@dataclass(frozen=True, kw_only=True)
class FailureFigure:
    """A failure figure and where it comes from: ``p_fail``, or ``mttf_h`` with ``mttr_h``."""

    source: str
    p_fail: float | None = None
    mttf_h: float | None = None
    mttr_h: float | None = None

    @property
    def unavailability(self) -> float:
        """Probability of being down at a random instant (MTTR / (MTTF + MTTR) from times)."""
        if self.p_fail is not None:
            return self.p_fail
        assert self.mttf_h is not None and self.mttr_h is not None
        return self.mttr_h / (self.mttf_h + self.mttr_h)

    def to_dict(self) -> dict[str, Any]:
        keys = ("p_fail", "mttf_h", "mttr_h", "source")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass(frozen=True, kw_only=True)
class StrategySpec:
    """One ``[[strategies]]`` entry: its nodes (indices into the deployment) and parameters."""

    name: str
    kind: str
    nodes: tuple[int, ...]
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str) -> Any:
        """The parameter ``key`` (its default if the file did not give it)."""
        return dict(self.params).get(key, KINDS[self.kind].get(key))


class Check:
    """Reads raw TOML values; every error names the file, the dotted key and the value."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, value: Any, allowed: str) -> OpenHAError:
        return OpenHAError(f"scenario {self.source}: {key} must be {allowed}; got {value!r}")

    def missing(self, key: str, what: str = "") -> OpenHAError:
        return OpenHAError(f"scenario {self.source}: missing required key {key}{what}")

    def table(
        self, key: str, value: Any, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> dict[str, Any]:
        allowed = list(allowed)
        if not isinstance(value, dict):
            raise self.fail(key or "the file", value, "a table")
        for k, v in value.items():
            if k not in allowed:
                raise OpenHAError(
                    f"scenario {self.source}: unknown key {join(key, k)} = {v!r}; allowed in "
                    f"{'[' + key + ']' if key else 'the top level'}: {', '.join(allowed)}"
                )
        for k in required:
            if k not in value:
                raise self.missing(join(key, k))
        return value

    def array(self, key: str, value: Any, *, nonempty: bool = True) -> list[Any]:
        if not isinstance(value, list) or (nonempty and not value):
            raise self.fail(key, value, "a non-empty array" if nonempty else "an array")
        return value

    def string(self, key: str, value: Any, *, options: Iterable[str] | None = None) -> str:
        if options is not None:
            options = list(options)
            if value not in options:
                raise self.fail(key, value, f"one of {', '.join(map(repr, options))}")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, value, "a non-empty string")
        return value

    def boolean(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, value, "true or false")
        return value

    def number(
        self, key: str, value: Any, *, positive: bool = False, high: float = math.inf
    ) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        x = float(value) if ok else math.nan
        if not (math.isfinite(x) and (x > 0 if positive else x >= 0) and x <= high):
            hi = "" if high == math.inf else f" and <= {high:g}"
            raise self.fail(key, value, f"a finite number {'>' if positive else '>='} 0{hi}")
        return x

    def integer(self, key: str, value: Any, low: int, high: int | None = None) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or value < low or (high is not None and value > high):
            rng = f"in [{low}, {high}]" if high is not None else f">= {low}"
            raise self.fail(key, value, f"an integer {rng}")
        return int(value)

    def dist(self, key: str, value: Any) -> Distribution:
        if not isinstance(value, dict):
            return Constant(self.number(key, value))
        kind = self.string(f"{key}.dist", value.get("dist"), options=("exponential", "uniform"))
        if kind == "exponential":
            d = self.table(key, value, ("dist", "mean", "shift"), ("mean",))
            mean = self.number(f"{key}.mean", d["mean"], positive=True)
            return Exponential(mean=mean, shift=self.number(f"{key}.shift", d.get("shift", 0.0)))
        d = self.table(key, value, ("dist", "low", "high"), ("low", "high"))
        low = self.number(f"{key}.low", d["low"])
        high = self.number(f"{key}.high", d["high"])
        if high < low:
            raise self.fail(f"{key}.high", d["high"], f">= {key}.low ({low:g})")
        return Uniform(low=low, high=high)


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


# ---- reading the parts of a file ---------------------------------------------------------


def read_text(c: Check, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise c.fail(key, value, "a string")
    return value


def read_rtt(c: Check, value: Any) -> RTTMatrix | None:
    if value is None:
        return None
    if isinstance(value, str):
        names = rtt_matrices()
        if value not in names:
            raise c.fail("deployment.rtt", value, f"one of {', '.join(names)} or an inline table")
        return rtt_matrix(value)
    t = c.table("deployment.rtt", value, ("name", "regions", "rtt_ms", "source"))
    for k in ("regions", "rtt_ms", "source"):
        if k not in t:
            raise c.missing(
                f"deployment.rtt.{k}", " (an inline matrix needs regions, rtt_ms, source)"
            )
    regions = c.array("deployment.rtt.regions", t["regions"])
    for i, r in enumerate(regions):
        c.string(f"deployment.rtt.regions[{i}]", r)
    rows = c.array("deployment.rtt.rtt_ms", t["rtt_ms"])
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(regions):
            raise c.fail(f"deployment.rtt.rtt_ms[{i}]", row, f"an array of {len(regions)} numbers")
        for j, x in enumerate(row):
            c.number(f"deployment.rtt.rtt_ms[{i}][{j}]", x)
    if len(rows) != len(regions):
        raise c.fail("deployment.rtt.rtt_ms", rows, f"{len(regions)} rows (one per region)")
    name = c.string("deployment.rtt.name", t.get("name", "inline"))
    source = c.string("deployment.rtt.source", t["source"])
    try:
        return RTTMatrix(
            regions=tuple(regions), rtt_ms=np.array(rows, dtype=float), name=name, source=source
        )
    except OpenHAError as e:
        raise OpenHAError(f"scenario {c.source}: deployment.rtt: {e}") from None


def check_region(
    c: Check, key: str, region: Any, matrix: RTTMatrix | None, sites: Iterable[Site] = ()
) -> str:
    c.string(key, region)
    if matrix is not None:
        if region not in matrix.regions:
            known = ", ".join(matrix.regions)
            raise c.fail(key, region, f"a region of RTT matrix {matrix.name!r} ({known})")
    else:
        known_regions = {s.region for s in sites}
        if known_regions and region not in known_regions:
            raise c.fail(
                key, region, f"the nodes' region {sorted(known_regions)[0]!r} (no rtt matrix given)"
            )
    return str(region)


def read_sites(
    c: Check, dep: dict[str, Any], matrix: RTTMatrix | None, lan: float | None
) -> tuple[Site, ...]:
    if ("zones" in dep) == ("nodes" in dep):
        raise c.missing(
            "deployment.zones or deployment.nodes",
            " (exactly one: nodes per zone, or one table per node)",
        )
    sites: list[Site] = []
    keys: list[str] = []  # the key each node's zone came from
    if "zones" in dep:
        zones: list[tuple[str, str]] = []
        left: list[int] = []  # nodes still to place in each zone
        for i, z in enumerate(c.array("deployment.zones", dep["zones"])):
            key = f"deployment.zones[{i}]"
            z = c.table(key, z, ("region", "zone", "nodes"), ("region", "zone", "nodes"))
            region = check_region(c, f"{key}.region", z["region"], matrix)
            zones.append((region, c.string(f"{key}.zone", z["zone"])))
            left.append(c.integer(f"{key}.nodes", z["nodes"], 1, MAX_NODES))
        while any(left):  # round-robin over the zones
            for j, (region, zone) in enumerate(zones):
                if left[j]:
                    sites.append(Site(name=f"r{len(sites)}", region=region, zone=zone))
                    keys.append(f"deployment.zones[{j}].zone")
                    left[j] -= 1
        where = "deployment.zones"
    else:
        for i, t in enumerate(c.array("deployment.nodes", dep["nodes"])):
            key = f"deployment.nodes[{i}]"
            t = c.table(key, t, ("name", "region", "zone"), ("region", "zone"))
            sites.append(
                Site(
                    name=c.string(f"{key}.name", t.get("name", f"r{i}")),
                    region=check_region(c, f"{key}.region", t["region"], matrix),
                    zone=c.string(f"{key}.zone", t["zone"]),
                )
            )
            keys.append(f"{key}.zone")
            if any(s.name == sites[-1].name for s in sites[:-1]):
                raise c.fail(f"{key}.name", sites[-1].name, "unique among the nodes")
        where = "deployment.nodes"
    if len(sites) > MAX_NODES:
        raise c.fail(where, f"{len(sites)} nodes", f"at most {MAX_NODES} nodes in all")
    regions = {s.region for s in sites}
    zone_region: dict[str, str] = {}
    for s, key in zip(sites, keys, strict=True):
        if zone_region.setdefault(s.zone, s.region) != s.region or s.zone in regions:
            raise c.fail(key, s.zone, "a zone name used in one region only, not a region's name")
    if matrix is None:
        if lan is None:
            raise c.missing("deployment.rtt", " (or lan_rtt_ms, when every node is in one region)")
        if len(regions) > 1:
            raise c.fail("deployment.rtt", None, f"given: the nodes span regions {sorted(regions)}")
    return tuple(sites)


def read_figure(c: Check, key: str, value: Any) -> FailureFigure:
    t = c.table(key, value, ("p_fail", "mttf_h", "mttr_h", "source"), ("source",))
    source = c.string(f"{key}.source", t["source"])
    if "p_fail" in t:
        if "mttf_h" in t or "mttr_h" in t:
            raise c.fail(f"{key}.p_fail", t["p_fail"], "given alone (not with mttf_h / mttr_h)")
        return FailureFigure(source=source, p_fail=c.number(f"{key}.p_fail", t["p_fail"], high=1.0))
    if "mttf_h" not in t or "mttr_h" not in t:
        raise c.missing(f"{key}.p_fail", " (or both mttf_h and mttr_h)")
    return FailureFigure(
        source=source,
        mttf_h=c.number(f"{key}.mttf_h", t["mttf_h"], positive=True),
        mttr_h=c.number(f"{key}.mttr_h", t["mttr_h"], positive=True),
    )


def read_workload(c: Check, value: Any) -> ClosedLoop | OpenLoop:
    keys = ("clients", "read_fraction", "think_ms", "rate_per_s", "timeout_ms", "retry_ms")
    t = c.table("workload", value, keys)
    common = {
        "reads": c.number("workload.read_fraction", t.get("read_fraction", 0.0), high=1.0),
        "timeout_ms": c.number("workload.timeout_ms", t.get("timeout_ms", 1000.0), positive=True),
        "retry_ms": c.number("workload.retry_ms", t.get("retry_ms", 10.0)),
    }
    if "rate_per_s" in t:
        if "think_ms" in t:
            raise c.fail("workload.think_ms", t["think_ms"], "absent in an open loop (rate_per_s)")
        return OpenLoop(
            rate_per_s=c.number("workload.rate_per_s", t["rate_per_s"], positive=True),
            clients=c.integer("workload.clients", t.get("clients", 1), 1),
            **common,
        )
    return ClosedLoop(
        clients=c.integer("workload.clients", t.get("clients", 1), 0),
        think_ms=c.dist("workload.think_ms", t.get("think_ms", 0.0)),
        **common,
    )


def read_strategy(c: Check, i: int, value: Any, sites: tuple[Site, ...]) -> StrategySpec:
    key = f"strategies[{i}]"
    if not isinstance(value, dict):
        raise c.fail(key, value, "a table")
    if "kind" not in value:
        raise c.missing(f"{key}.kind", f" (one of {', '.join(KINDS)})")
    kind = c.string(f"{key}.kind", value["kind"], options=KINDS)
    defaults = KINDS[kind]
    t = c.table(key, value, ("name", "kind", "n", "nodes", *defaults), ("name",))
    for k in REQUIRED.get(kind, ()):
        if k not in t:
            raise c.missing(
                f"{key}.{k}", f" (a {kind} strategy needs {' and '.join(REQUIRED[kind])})"
            )
    name = c.string(f"{key}.name", t["name"])
    if "n" in t and "nodes" in t:
        raise c.fail(f"{key}.nodes", t["nodes"], "absent when n is given (give one of them)")
    if "nodes" in t:
        names = [s.name for s in sites]
        nodes: list[int] = []
        for j, x in enumerate(c.array(f"{key}.nodes", t["nodes"])):
            if x not in names or names.index(x) in nodes:
                raise c.fail(f"{key}.nodes[{j}]", x, f"a node not named before, one of {names}")
            nodes.append(names.index(x))
    else:
        nodes = list(range(c.integer(f"{key}.n", t.get("n", len(sites)), 1, len(sites))))
    n = len(nodes)
    params: dict[str, Any] = {}
    for k, default in defaults.items():
        v = t.get(k, default)
        pk = f"{key}.{k}"
        if k == "election_timeout_ms":
            v = c.array(pk, v if not isinstance(v, tuple) else list(v))
            if len(v) != 2:
                raise c.fail(pk, v, "a pair [min_ms, max_ms]")
            v = (
                c.number(f"{pk}[0]", v[0], positive=True),
                c.number(f"{pk}[1]", v[1], positive=True),
            )
            if v[1] < v[0]:
                raise c.fail(pk, list(v), "a pair [min_ms, max_ms] with min <= max")
        elif k == "heartbeat_ms" and v is not None:
            v = c.number(pk, v, positive=True)
        elif k in ("q1", "q2") and v == "majority":
            v = n // 2 + 1
            if k == "q2" and params["q1"] + v <= n:
                raise c.fail(f"{key}.q1", params["q1"], f"> {n - v} so that quorums intersect")
        elif k == "backoff_ms":
            v = c.array(pk, v if not isinstance(v, tuple) else list(v))
            if len(v) != 2:
                raise c.fail(pk, v, "a pair [min_ms, max_ms]")
            v = (c.number(f"{pk}[0]", v[0]), c.number(f"{pk}[1]", v[1]))
            if v[1] < v[0]:
                raise c.fail(pk, list(v), "a pair [min_ms, max_ms] with min <= max")
        elif k in ("timeout_ms", "lease_ms"):
            v = c.number(pk, v, positive=True)
        elif k == "failure_timeout_ms":
            v = c.number(pk, v, positive=True)
            if v <= params["heartbeat_ms"]:
                raise c.fail(pk, v, f"> heartbeat_ms ({params['heartbeat_ms']:g})")
        elif k == "length":
            v = n if v == "all" else c.integer(pk, v, 1, n)
        elif k == "backups":
            v = n - 1 if v == "all" else c.integer(pk, v, 1, max(1, n - 1))
            if n < 2:
                raise c.fail(f"{key}.n", n, ">= 2 for primary-backup (a primary and a backup)")
        elif k == "sync_acks":
            if v != "all" and not params["sync"]:
                raise c.fail(pk, v, "absent (or 'all') with sync = false")
            v = params["backups"] if v == "all" else c.integer(pk, v, 1, params["backups"])
        elif k in ("prevote", "noop", "thrifty", "sync"):
            v = c.boolean(pk, v)
        elif k == "batch":
            v = c.integer(pk, v, 1, 1 << 16)
        elif k == "window" and v != "unbounded":
            if isinstance(v, str):
                raise c.fail(pk, v, "an integer >= 1 or 'unbounded'")
            v = c.integer(pk, v, 1)
        elif k in ("q1", "r"):
            v = c.integer(pk, v, 1, n)
        elif k in ("q2", "w"):
            first = params["q1" if k == "q2" else "r"]
            v = c.integer(pk, v, 1, n)
            if first + v <= n:
                raise c.fail(
                    pk,
                    v,
                    f"> {n - first} (n - {'q1' if k == 'q2' else 'r'}) so that quorums intersect",
                )
        elif k == "variant":
            v = c.string(pk, v, options=("rows", "row-column"))
        elif k == "groups":
            v = c.string(pk, v, options=("zones", "regions"))
        elif k == "rows":
            if v == "zones":
                counts: dict[str, int] = {}
                for j in nodes:
                    counts[sites[j].zone] = counts.get(sites[j].zone, 0) + 1
                if len(set(counts.values())) != 1:
                    raise c.fail(pk, v, f"a row count when zones hold unequal node counts {counts}")
            else:
                if isinstance(v, str):
                    raise c.fail(pk, v, "'zones' or an integer dividing the number of nodes")
                v = c.integer(pk, v, 1, n)
                if n % v:
                    raise c.fail(pk, v, f"a divisor of the number of nodes ({n})")
        params[k] = v
    return StrategySpec(name=name, kind=kind, nodes=tuple(nodes), params=tuple(params.items()))
