"""Scenario files: a deployment, its failure figures, a workload and the strategies to compare.

A scenario is a TOML file (see ``data/scenarios/``) read with :meth:`Scenario.load`. Every
key is checked before anything runs; a malformed file raises :class:`OpenHAError` naming
the file, the dotted key (``strategies[1].n``), the value and what is allowed. Unknown
keys are errors. The schema, with defaults::

    name = "single region, 3 zones"           # required
    description = ""

    [deployment]                               # required
    rtt = "aws-2020"         # a matrix in data/rtt, or {regions=[...], rtt_ms=[[...]], source="..."};
                             # optional when every node is in one region and lan_rtt_ms is given
    lan_rtt_ms = 0.3         # round trip within a region (default: the matrix diagonal)
    rtt_jitter_ms = 0.1      # mean of an exponential added to every round trip (default 0)
    clients = ["us-east-1"]  # regions the clients run in (default: the first node's)
    zones = [{region = "us-east-1", zone = "az-a", nodes = 3}, ...]   # nodes per zone, or
    nodes = [{region = "us-east-1", zone = "az-a", name = "r0"}, ...] # one table per node

    [nodes]
    cpu_ms = 0.01            # a number (ms) or {dist="exponential", mean=.., shift=..} or
    fsync_ms = 0.02          # {dist="uniform", low=.., high=..}; default 0
    group_commit = false

    [failures]               # each figure: p_fail, or mttf_h and mttr_h; source is required
    node = {p_fail = 1e-3, source = "..."}                  # required
    zone = {mttf_h = 8760, mttr_h = 0.9, source = "..."}    # optional
    region = {p_fail = 1e-4, source = "..."}                # optional

    [workload]
    clients = 1              # closed loop (default), or an open loop when rate_per_s is given
    read_fraction = 0.0
    think_ms = 0.0           # closed loop only
    rate_per_s = 5000.0      # open loop: Poisson arrivals
    timeout_ms = 1000.0
    retry_ms = 10.0

    [[strategies]]           # at least one; names unique
    name = "Raft, 5 nodes"
    kind = "raft"            # see KINDS for each kind's parameters
    n = 5                    # the first n nodes, or nodes = ["r0", ...]; default every node

    [run]
    seed = 1
    commits = 10000          # and/or time_ms (default: commits = 10000)
    trials = 1000

Nodes given per zone are numbered round-robin over the zones (node ``i`` of 3 zones of 3 is
in zone ``i % 3``), so the first ``k`` nodes are spread as widely as possible.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from openha.data import RTTMatrix, data_path, rtt_matrices, rtt_matrix
from openha.dist import Constant, Distribution, Exponential, Uniform
from openha.errors import OpenHAError
from openha.quorum import (
    FailureModel,
    Node,
    QuorumSystem,
    choose,
    flexible_paxos,
    grid,
    hierarchical,
)
from openha.quorum import majority as majority_of
from openha.quorum.families import read_write
from openha.sim import (
    Chain,
    ClosedLoop,
    Cluster,
    MultiPaxos,
    Network,
    OpenLoop,
    Paxos,
    PrimaryBackup,
    Raft,
    Stop,
)
from openha.study._scenario_read import (
    KINDS,
    SIMULATED,
    TOP,
    Check,
    FailureFigure,
    Site,
    StrategySpec,
    check_region,
    read_figure,
    read_rtt,
    read_sites,
    read_strategy,
    read_text,
    read_workload,
)
from openha.study.deployment import Deployment

__all__ = ["KINDS", "SIMULATED", "FailureFigure", "Scenario", "Site", "StrategySpec", "scenarios"]


def _dist_to_toml(d: Distribution) -> Any:
    if isinstance(d, Constant):
        return float(d.value)
    if isinstance(d, Exponential):
        return {"dist": "exponential", "mean": float(d.scale), "shift": float(d.shift)}
    if isinstance(d, Uniform):
        return {"dist": "uniform", "low": float(d.low), "high": float(d.high)}
    raise OpenHAError(f"a scenario holds only constant, exponential or uniform times; got {d!r}")


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A deployment, its failure figures, a workload, the strategies to compare and a run.

    Build one with :meth:`load` (a TOML file), :meth:`named` / :meth:`default` (shipped
    files) or :meth:`from_dict`; the module docstring gives the schema. The methods build
    the objects the rest of openha takes: :meth:`network`, :meth:`cluster`, :meth:`raft`,
    :meth:`quorum_system`, :meth:`failure_model`, :meth:`stop`, :meth:`deployment`;
    :attr:`workload` is a ready ``ha.ClosedLoop`` or ``ha.OpenLoop``.

    Examples
    --------
    >>> import openha as ha
    >>> scn = ha.Scenario.named("aws-5-region")
    >>> [s.name for s in scn.strategies][:2]
    ['Raft, 5 regions', 'Raft, 3 regions']
    >>> scn.cluster("Raft, 3 regions").network.placement
    ('us-east-1', 'us-west-2', 'eu-west-1')
    >>> scn.raft("Raft, 5 regions").election_timeout
    (1000.0, 2000.0)
    >>> qs = scn.quorum_system("majority of 5 regions")
    >>> round(qs.availability(failures=scn.failure_model(qs)).nines, 2)
    7.76
    >>> ha.Scenario.from_dict(scn.to_dict()) == scn
    True
    """

    name: str
    description: str = ""
    sites: tuple[Site, ...]
    rtt: RTTMatrix | None = None
    lan_rtt_ms: float | None = None
    rtt_jitter_ms: float = 0.0
    client_regions: tuple[str, ...]
    cpu_ms: Distribution = field(default_factory=lambda: Constant(0.0))
    fsync_ms: Distribution = field(default_factory=lambda: Constant(0.0))
    group_commit: bool = False
    node_failure: FailureFigure
    zone_failure: FailureFigure | None = None
    region_failure: FailureFigure | None = None
    workload: ClosedLoop | OpenLoop = field(default_factory=ClosedLoop)
    strategies: tuple[StrategySpec, ...]
    seed: int = 1
    commits: int | None = 10_000
    time_ms: float | None = None
    trials: int = 1000
    path: str = field(default="<dict>", compare=False, repr=False)

    def __post_init__(self) -> None:
        # build everything once, so an inconsistent scenario fails here, not in a study
        for i, s in enumerate((None, *self.strategies)):
            try:
                self.cluster(s)
                if s is not None:
                    self.quorum_system(s)
                    self.failure_model(s)
                    if s.kind in SIMULATED:
                        self.protocol(s)
            except OpenHAError as e:
                where = "deployment" if s is None else f"strategies[{i - 1}] ({s.name!r})"
                raise OpenHAError(f"scenario {self.path}: {where}: {e}") from None
        self.stop()

    def __repr__(self) -> str:
        regions = len({s.region for s in self.sites})
        return (
            f"Scenario({self.name!r}: {len(self.sites)} nodes in {regions} region(s), "
            f"{len(self.strategies)} strategies, hash {self.hash[:12]})"
        )

    # ---- construction ---------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario file."""
        path = Path(path)
        try:
            with path.open("rb") as f:
                raw = tomllib.load(f)
        except OSError as e:
            raise OpenHAError(f"cannot read scenario file {str(path)!r}: {e.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise OpenHAError(f"scenario {path}: invalid TOML: {e}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def named(cls, name: str) -> Scenario:
        """A shipped scenario (see :func:`scenarios`)."""
        if name not in (names := scenarios()):
            raise OpenHAError(f"unknown scenario {name!r}; shipped: {', '.join(names)}")
        return cls.load(data_path("scenarios", f"{name}.toml"))

    @classmethod
    def default(cls) -> Scenario:
        """The shipped ``default`` scenario: :data:`~openha.study.DEFAULT_DEPLOYMENT`'s numbers.

        Examples
        --------
        >>> from openha.study import DEFAULT_DEPLOYMENT, Scenario
        >>> Scenario.default().deployment().zones == DEFAULT_DEPLOYMENT.zones
        True
        """
        return cls.named("default")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "<dict>") -> Scenario:
        """Validate the contents of a scenario file (as ``tomllib`` reads it)."""
        c = Check(source)
        if not isinstance(d, Mapping):
            raise c.fail("the file", d, "a table")
        top = c.table("", dict(d), TOP, ("name", "deployment", "failures", "strategies"))
        name = c.string("name", top["name"])
        description = read_text(c, "description", top.get("description", ""))
        dep = c.table(
            "deployment",
            top["deployment"],
            ("rtt", "lan_rtt_ms", "rtt_jitter_ms", "clients", "zones", "nodes"),
        )
        matrix = read_rtt(c, dep.get("rtt"))
        lan = dep.get("lan_rtt_ms")
        lan = None if lan is None else c.number("deployment.lan_rtt_ms", lan)
        sites = read_sites(c, dep, matrix, lan)
        clients = dep.get("clients", [sites[0].region])
        clients = [clients] if isinstance(clients, str) else clients
        for i, r in enumerate(c.array("deployment.clients", clients)):
            check_region(c, f"deployment.clients[{i}]", r, matrix, sites)
        nodes = c.table("nodes", top.get("nodes", {}), ("cpu_ms", "fsync_ms", "group_commit"))
        fails = c.table("failures", top["failures"], ("node", "zone", "region"), ("node",))
        figures = {k: read_figure(c, f"failures.{k}", v) for k, v in fails.items()}
        raw = c.array("strategies", top["strategies"])
        strategies = [read_strategy(c, i, s, sites) for i, s in enumerate(raw)]
        for i, s in enumerate(strategies):
            if any(t.name == s.name for t in strategies[:i]):
                raise c.fail(f"strategies[{i}].name", s.name, "unique among the strategies")
        run = c.table("run", top.get("run", {}), ("seed", "commits", "time_ms", "trials"))
        commits = run.get("commits", 10_000 if "time_ms" not in run else None)
        time_ms = run.get("time_ms")
        return cls(
            name=name,
            description=description,
            sites=sites,
            rtt=matrix,
            lan_rtt_ms=lan,
            rtt_jitter_ms=c.number("deployment.rtt_jitter_ms", dep.get("rtt_jitter_ms", 0.0)),
            client_regions=tuple(clients),
            cpu_ms=c.dist("nodes.cpu_ms", nodes.get("cpu_ms", 0.0)),
            fsync_ms=c.dist("nodes.fsync_ms", nodes.get("fsync_ms", 0.0)),
            group_commit=c.boolean("nodes.group_commit", nodes.get("group_commit", False)),
            node_failure=figures["node"],
            zone_failure=figures.get("zone"),
            region_failure=figures.get("region"),
            workload=read_workload(c, top.get("workload", {})),
            strategies=tuple(strategies),
            seed=c.integer("run.seed", run.get("seed", 1), 0),
            commits=None if commits is None else c.integer("run.commits", commits, 1),
            time_ms=None if time_ms is None else c.number("run.time_ms", time_ms, positive=True),
            trials=c.integer("run.trials", run.get("trials", 1000), 1),
            path=source,
        )

    def to_dict(self) -> dict[str, Any]:
        """The canonical contents: every default filled in, nodes listed one by one.

        ``Scenario.from_dict(s.to_dict()) == s``; :attr:`hash` is computed from it.
        """
        dep: dict[str, Any] = {}
        if self.rtt is not None:
            dep["rtt"] = _rtt_to_toml(self.rtt)
        if self.lan_rtt_ms is not None:
            dep["lan_rtt_ms"] = self.lan_rtt_ms
        dep["rtt_jitter_ms"] = self.rtt_jitter_ms
        dep["clients"] = list(self.client_regions)
        dep["nodes"] = [{"name": s.name, "region": s.region, "zone": s.zone} for s in self.sites]
        figures = {"node": self.node_failure, "zone": self.zone_failure}
        figures["region"] = self.region_failure
        w = self.workload
        load: dict[str, Any] = {"clients": w.clients, "read_fraction": w.reads}
        if isinstance(w, OpenLoop):
            load["rate_per_s"] = w.rate_per_s
        else:
            load["think_ms"] = _dist_to_toml(w.think_ms)  # type: ignore[arg-type]
        load |= {"timeout_ms": w.timeout_ms, "retry_ms": w.retry_ms}
        run: dict[str, Any] = {"seed": self.seed, "trials": self.trials}
        if self.commits is not None:
            run["commits"] = self.commits
        if self.time_ms is not None:
            run["time_ms"] = self.time_ms
        return {
            "name": self.name,
            "description": self.description,
            "deployment": dep,
            "nodes": {
                "cpu_ms": _dist_to_toml(self.cpu_ms),
                "fsync_ms": _dist_to_toml(self.fsync_ms),
                "group_commit": self.group_commit,
            },
            "failures": {k: f.to_dict() for k, f in figures.items() if f is not None},
            "workload": load,
            "strategies": [self._strategy_to_toml(s) for s in self.strategies],
            "run": run,
        }

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical contents (:meth:`to_dict` as sorted, compact JSON).

        The same in every process; the file's path, comments and key order do not count.
        """
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def sources(self) -> tuple[str, ...]:
        """Where the figures come from: one line per failure figure and the RTT matrix."""
        out = []
        for what in ("node", "zone", "region"):
            f = getattr(self, f"{what}_failure")
            if f is not None:
                out.append(f"{what} unavailability {f.unavailability:.3g}: {f.source}")
        if self.rtt is not None:
            out.append(f"RTT matrix {self.rtt.name}: {self.rtt.source}")
        return tuple(out)

    # ---- the objects the rest of openha takes ----------------------------------------

    def strategy(self, which: StrategySpec | str | int) -> StrategySpec:
        """A strategy by name, index or itself."""
        if isinstance(which, StrategySpec):
            return which
        if isinstance(which, int) and not isinstance(which, bool):
            if 0 <= which < len(self.strategies):
                return self.strategies[which]
        for s in self.strategies:
            if s.name == which:
                return s
        names = ", ".join(repr(s.name) for s in self.strategies)
        raise OpenHAError(f"strategy must be one of {names} (or an index); got {which!r}")

    def _indices(self, which: StrategySpec | str | int | None) -> tuple[int, ...]:
        return tuple(range(len(self.sites))) if which is None else self.strategy(which).nodes

    def rtt_ms(self, a: str, b: str) -> float:
        """Round-trip time (ms) from region ``a`` to region ``b``, without jitter."""
        if a == b and self.lan_rtt_ms is not None:
            return self.lan_rtt_ms
        if self.rtt is None:
            raise OpenHAError(f"no RTT between {a!r} and {b!r}: the scenario has no rtt matrix")
        return self.rtt.rtt(a, b)

    def network(self, strategy: StrategySpec | str | int | None = None) -> Network:
        """The strategy's nodes (default every node) on the deployment's network.

        One-way delays are half the RTT (``lan_rtt_ms`` within a region); each message
        adds an exponential of mean ``rtt_jitter_ms / 2``, so a round trip's jitter has
        mean ``rtt_jitter_ms``.
        """
        placement = [self.sites[i].region for i in self._indices(strategy)]
        regions = tuple(dict.fromkeys([*placement, *self.client_regions]))
        matrix = RTTMatrix(
            regions=regions,
            rtt_ms=np.array([[self.rtt_ms(a, b) for b in regions] for a in regions]),
            name=self.rtt.name if self.rtt is not None else "lan",
        )
        jitter = Exponential(mean=self.rtt_jitter_ms / 2) if self.rtt_jitter_ms > 0 else 0.0
        return Network.from_rtt_matrix(
            matrix, placement, clients=list(self.client_regions), jitter=jitter
        )

    def cluster(self, strategy: StrategySpec | str | int | None = None) -> Cluster:
        """An ``ha.Cluster`` of the strategy's nodes (default every node)."""
        return Cluster(
            n=len(self._indices(strategy)),
            network=self.network(strategy),
            cpu_ms=self.cpu_ms,
            fsync_ms=self.fsync_ms,
            group_commit=self.group_commit,
        )

    def raft(self, strategy: StrategySpec | str | int) -> Raft:
        """The ``ha.Raft`` of a strategy of kind ``"raft"``."""
        s = self.strategy(strategy)
        if s.kind != "raft":
            raise OpenHAError(
                f"strategy {s.name!r} is of kind {s.kind!r}, not a simulated protocol; "
                "raft() needs kind 'raft'"
            )
        window = s.get("window")
        return Raft(
            election_timeout=s.get("election_timeout_ms"),
            heartbeat_ms=s.get("heartbeat_ms"),
            prevote=s.get("prevote"),
            batch=s.get("batch"),
            window=None if window == "unbounded" else window,
            noop=s.get("noop"),
        )

    def protocol(
        self, strategy: StrategySpec | str | int
    ) -> Raft | MultiPaxos | Paxos | PrimaryBackup | Chain:
        """The simulated protocol of a strategy of a kind in ``SIMULATED``.

        Examples
        --------
        >>> import openha as ha
        >>> ha.Scenario.default().protocol("Raft, 5 nodes").name
        'Raft'
        """
        s = self.strategy(strategy)
        if s.kind == "raft":
            return self.raft(s)
        if s.kind == "multipaxos":
            window = s.get("window")
            return MultiPaxos(
                q1=s.get("q1"),
                q2=s.get("q2"),
                thrifty=s.get("thrifty"),
                election_timeout=s.get("election_timeout_ms"),
                heartbeat_ms=s.get("heartbeat_ms"),
                batch=s.get("batch"),
                window=None if window == "unbounded" else window,
            )
        if s.kind == "paxos":
            return Paxos(
                q1=s.get("q1"),
                q2=s.get("q2"),
                backoff_ms=s.get("backoff_ms"),
                timeout_ms=s.get("timeout_ms"),
            )
        if s.kind == "primary-backup":
            window = s.get("window")
            sync = s.get("sync")
            return PrimaryBackup(
                sync=sync,
                backups=s.get("backups"),
                sync_acks=s.get("sync_acks") if sync else None,
                lease_ms=s.get("lease_ms"),
                heartbeat_ms=s.get("heartbeat_ms"),
                batch=s.get("batch"),
                window=None if window == "unbounded" else window,
            )
        if s.kind == "chain":
            window = s.get("window")
            return Chain(
                length=s.get("length"),
                heartbeat_ms=s.get("heartbeat_ms"),
                failure_timeout_ms=s.get("failure_timeout_ms"),
                batch=s.get("batch"),
                window=None if window == "unbounded" else window,
            )
        raise OpenHAError(
            f"strategy {s.name!r} is of kind {s.kind!r}, not a simulated protocol; "
            f"protocol() needs one of {', '.join(SIMULATED)}"
        )

    def quorum_nodes(self, strategy: StrategySpec | str | int | None = None) -> list[Node]:
        """``ha.Node`` objects for the strategy's nodes.

        Each has the node failure figure as ``p_fail``, its zone (and region, when the
        scenario has a region figure) as failure domains, and as ``latency`` the round
        trip from the first client region plus an exponential of mean ``rtt_jitter_ms``.
        """
        client = self.client_regions[0]
        out = []
        for i in self._indices(strategy):
            s = self.sites[i]
            rtt = (self.rtt_ms(client, s.region) + self.rtt_ms(s.region, client)) / 2
            j = self.rtt_jitter_ms
            lat: Distribution | float = Exponential(mean=j, shift=rtt) if j > 0 else rtt
            domain = (s.zone, s.region) if self.region_failure is not None else (s.zone,)
            p = self.node_failure.unavailability
            out.append(Node(s.name, p_fail=p, domain=domain, latency=lat))
        return out

    def quorum_system(self, strategy: StrategySpec | str | int) -> QuorumSystem:
        """The strategy's quorum system (Raft's is a majority of its nodes)."""
        s = self.strategy(strategy)
        nodes = self.quorum_nodes(s)
        if s.kind in ("raft", "majority-quorum"):
            return QuorumSystem(writes=majority_of(nodes))
        if s.kind in ("flexible-paxos", "multipaxos", "paxos"):
            return flexible_paxos(nodes, q1=s.get("q1"), q2=s.get("q2"))
        if s.kind == "chain":
            # the chain repairs itself around failed members: one live member serves
            return QuorumSystem(writes=choose(1, nodes[: s.get("length")]))
        if s.kind == "primary-backup":
            # any replica can become primary; a write needs it and sync_acks backups
            replicas = nodes[: s.get("backups") + 1]
            acks = s.get("sync_acks") if s.get("sync") else 0
            return QuorumSystem(writes=choose(acks + 1, replicas))
        if s.kind == "read-write":
            return read_write(nodes, r=s.get("r"), w=s.get("w"))
        if s.kind == "grid":
            return grid(self._rows(s, nodes), kind=s.get("variant"))
        return hierarchical(self._groups(s, nodes, s.get("groups")))

    def _groups(self, s: StrategySpec, nodes: list[Node], by: str) -> list[list[Node]]:
        keys = [getattr(self.sites[i], "zone" if by == "zones" else "region") for i in s.nodes]
        return [
            [n for n, k in zip(nodes, keys, strict=True) if k == g] for g in dict.fromkeys(keys)
        ]

    def _rows(self, s: StrategySpec, nodes: list[Node]) -> list[list[Node]]:
        rows = s.get("rows")
        if rows == "zones":
            return self._groups(s, nodes, "zones")
        return [nodes[r::rows] for r in range(rows)]

    def failure_model(
        self, strategy: StrategySpec | str | int | QuorumSystem | None = None
    ) -> FailureModel:
        """Zone (and region) outages for the strategy's nodes, with the node figure.

        Give the strategy (or its quorum system): ``FailureModel`` refuses domains that
        none of the system's nodes is in.
        """
        if isinstance(strategy, QuorumSystem):
            names = {n.name for n in strategy.nodes}
            sites = [s for s in self.sites if s.name in names]
        else:
            sites = [self.sites[i] for i in self._indices(strategy)]
        domains: dict[str, float] = {}
        for what, f in (("zone", self.zone_failure), ("region", self.region_failure)):
            if f is not None:
                domains |= {getattr(s, what): f.unavailability for s in sites}
        return FailureModel(domains=domains, p_fail=self.node_failure.unavailability)

    def stop(self) -> Stop:
        """``ha.Stop`` from ``[run]``."""
        return Stop(commits=self.commits, time_ms=self.time_ms)

    def deployment(self) -> Deployment:
        """This scenario as a :class:`~openha.study.Deployment` (one region, nodes round-robin
        over the zones, no region figure), for :func:`~openha.study.quorum_comparison`."""
        regions = list(dict.fromkeys(s.region for s in self.sites))
        zones = tuple(dict.fromkeys(s.zone for s in self.sites))
        why = ""
        if len(regions) != 1:
            why = f"its nodes span {len(regions)} regions"
        elif any(s.zone != zones[i % len(zones)] for i, s in enumerate(self.sites)):
            why = "its nodes are not placed round-robin over the zones"
        elif self.region_failure is not None and self.region_failure.unavailability > 0:
            why = "it has a region failure figure"
        if why:
            raise OpenHAError(f"scenario {self.name!r} is not a single-region Deployment: {why}")
        return Deployment(
            name=self.name,
            zones=zones,
            replicas=len(self.sites),
            node_p_fail=self.node_failure.unavailability,
            zone_p_outage=0.0 if self.zone_failure is None else self.zone_failure.unavailability,
            rtt_ms=self.rtt_ms(regions[0], regions[0]),
            jitter_mean_ms=self.rtt_jitter_ms,
            sources=self.sources(),
        )

    def _strategy_to_toml(self, s: StrategySpec) -> dict[str, Any]:
        out: dict[str, Any] = {"name": s.name, "kind": s.kind}
        if s.nodes == tuple(range(len(s.nodes))):
            out["n"] = len(s.nodes)
        else:
            out["nodes"] = [self.sites[i].name for i in s.nodes]
        for k, v in s.params:
            if v is not None:
                out[k] = list(v) if isinstance(v, tuple) else v
        return out


def _rtt_to_toml(m: RTTMatrix) -> Any:
    if m.name in rtt_matrices() and rtt_matrix(m.name) == m:
        return m.name
    return {
        "name": m.name,
        "regions": list(m.regions),
        "rtt_ms": m.rtt_ms.tolist(),
        "source": m.source,
    }


def scenarios() -> list[str]:
    """Names of the shipped scenarios (``data/scenarios/*.toml``), for :meth:`Scenario.named`.

    Examples
    --------
    >>> from openha.study import scenarios
    >>> scenarios()
    ['aws-5-region', 'default', 'zones-vs-regions']
    """
    return sorted(p.stem for p in data_path("scenarios").glob("*.toml"))
