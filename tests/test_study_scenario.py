"""Scenario files: the shipped ones load, build and round-trip; malformed ones say what is wrong."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import openha as ha
from openha.data import data_path
from openha.study import DEFAULT_DEPLOYMENT, quorum_systems, scenarios
from openha.study.scenario import Scenario
from tests.openha_errors import raises_openha_error

SHIPPED = ["aws-5-region", "default", "zones-vs-regions"]

MINIMAL = """\
name = "tiny"

[deployment]
rtt = "aws-2020"
zones = [{ region = "us-east-1", zone = "az-a", nodes = 2 },
         { region = "us-east-1", zone = "az-b", nodes = 1 }]

[failures.node]
p_fail = 1e-3
source = "an assumption"

[[strategies]]
name = "Raft"
kind = "raft"
n = 3

[[strategies]]
name = "FPaxos"
kind = "flexible-paxos"
q1 = 2
q2 = 2
"""


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_names():
    assert scenarios() == SHIPPED
    raises_openha_error(lambda: Scenario.named("nope"), "'nope'", "default")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_builds_everything(name):
    scn = Scenario.named(name)
    assert scn.path.endswith(f"{name}.toml")
    assert scn.strategies and scn.sources()
    assert all(scn.node_failure.source and (f is None or f.source) for f in _figures(scn))
    if scn.rtt is not None:
        assert "fantoch" in scn.rtt.source  # the RTT matrix's source travels with it
    for s in scn.strategies:
        cluster = scn.cluster(s)
        assert isinstance(cluster, ha.Cluster) and cluster.n == len(s.nodes)
        assert cluster.network.placement == tuple(scn.sites[i].region for i in s.nodes)
        qs = scn.quorum_system(s.name)
        assert isinstance(qs, ha.QuorumSystem)
        assert {n.name for n in qs.nodes} == {scn.sites[i].name for i in s.nodes}
        a = qs.availability(failures=scn.failure_model(s))
        assert 0 < a.unavailability < 1e-2
        if s.kind == "raft":
            assert isinstance(scn.raft(s), ha.Raft)
        else:
            raises_openha_error(lambda s=s: scn.raft(s), repr(s.name), s.kind)
    assert isinstance(scn.network(), ha.Network)
    assert isinstance(scn.workload, ha.ClosedLoop | ha.OpenLoop)
    assert isinstance(scn.stop(), ha.Stop)


def _figures(scn):
    return (scn.node_failure, scn.zone_failure, scn.region_failure)


@pytest.mark.parametrize("name", SHIPPED)
def test_round_trip(name):
    scn = Scenario.named(name)
    again = Scenario.from_dict(scn.to_dict())
    assert again == scn
    assert again.hash == scn.hash
    assert again.to_dict() == scn.to_dict()
    assert len(scn.hash) == 64


def test_hash_is_stable_across_processes():
    code = "import openha as ha; print(*(ha.Scenario.named(n).hash for n in ha.study.scenarios()))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [Scenario.named(n).hash for n in SHIPPED]


def test_hash_ignores_spelling_but_not_contents(tmp_path):
    a = Scenario.load(write(tmp_path, MINIMAL, "a.toml"))
    # the same contents spelled out: explicit defaults, nodes listed one by one, comments
    spelled = MINIMAL.replace(
        'zones = [{ region = "us-east-1", zone = "az-a", nodes = 2 },\n'
        '         { region = "us-east-1", zone = "az-b", nodes = 1 }]',
        'nodes = [{ region = "us-east-1", zone = "az-a" },  # r0\n'
        '         { region = "us-east-1", zone = "az-b" },\n'
        '         { region = "us-east-1", zone = "az-a" }]\nrtt_jitter_ms = 0.0',
    ).replace("n = 3\n", "n = 3\nbatch = 64\nwindow = 8\n")
    b = Scenario.load(write(tmp_path, spelled, "b.toml"))
    assert a == b and a.hash == b.hash and a.path != b.path
    c = Scenario.load(write(tmp_path, MINIMAL.replace("p_fail = 1e-3", "p_fail = 2e-3"), "c.toml"))
    assert c.hash != a.hash


def test_default_matches_default_deployment():
    scn = Scenario.default()
    assert scn == Scenario.named("default")
    d = scn.deployment()
    assert dataclasses.replace(d, sources=()) == dataclasses.replace(DEFAULT_DEPLOYMENT, sources=())
    for ours, theirs in zip(d.sources, DEFAULT_DEPLOYMENT.sources[:2], strict=False):
        assert theirs.split(": ", 1)[1] in ours  # the same citations
    assert [scn.sites[i].zone for i in range(9)] == [
        DEFAULT_DEPLOYMENT.zone_of(i) for i in range(9)
    ]
    zones = ha.FailureModel(domains=dict.fromkeys(DEFAULT_DEPLOYMENT.zones, 1e-4))
    theirs = quorum_systems(DEFAULT_DEPLOYMENT)
    assert set(theirs) <= {s.name for s in scn.strategies}
    for name, qs in theirs.items():
        ours = scn.quorum_system(name)
        for op in ("read", "write"):
            for f_ours, f_theirs in ((None, None), (scn.failure_model(name), zones)):
                u_ours = ours.availability(op=op, failures=f_ours).unavailability
                u_theirs = qs.availability(op=op, failures=f_theirs).unavailability
                assert u_ours == pytest.approx(u_theirs, rel=1e-12), (name, op)
        assert ours.nodes[0].latency == qs.nodes[0].latency  # 0.3 ms + Exponential(0.1)


def test_builders_map_the_file(tmp_path):
    scn = Scenario.load(write(tmp_path, MINIMAL, "tiny.toml"))
    assert [s.zone for s in scn.sites] == ["az-a", "az-b", "az-a"]  # round-robin over zones
    net = scn.network("Raft")
    assert net.one_way_ms(0, 1) == pytest.approx(0.15)  # half the us-east-1 round trip
    assert scn.raft("Raft") == ha.Raft(election_timeout=(150, 300), batch=64, window=8)
    assert scn.quorum_system("FPaxos").writes == ha.choose(2, scn.quorum_nodes())
    assert scn.workload == ha.ClosedLoop(clients=1)
    assert scn.stop() == ha.Stop(commits=10_000)
    assert scn.failure_model("Raft") == ha.FailureModel(p_fail=1e-3)
    lan = MINIMAL.replace('rtt = "aws-2020"', "lan_rtt_ms = 0.5\nrtt_jitter_ms = 0.2").replace(
        "[failures.node]\np_fail = 1e-3",
        "[workload]\nrate_per_s = 100.0\n\n[failures.node]\nmttf_h = 999\nmttr_h = 1",
    )
    scn = Scenario.load(write(tmp_path, lan, "lan.toml"))
    assert scn.rtt is None and scn.network().one_way_ms(0, 1) == 0.25
    assert scn.network().delay == ha.dist.Exponential(mean=0.1)  # half the round-trip jitter
    assert scn.node_failure.unavailability == pytest.approx(1e-3)
    assert scn.workload == ha.OpenLoop(rate_per_s=100.0)
    assert Scenario.from_dict(scn.to_dict()) == scn


def test_wan_network_uses_the_matrix():
    scn = Scenario.named("zones-vs-regions")
    net = scn.network("Raft, 5 regions")
    assert net.one_way_ms(0, 3) == pytest.approx(70.5 / 2)  # us-east-1 -> eu-west-1
    assert net.client_placement == ("us-east-1",)
    assert scn.cluster("Raft, 3 zones").network.placement == ("us-east-1",) * 5
    assert scn.raft("Raft, 5 regions").heartbeat_ms == 500.0
    zones, regions = (scn.quorum_system(f"majority of 5, {w}") for w in ("3 zones", "5 regions"))
    u = [qs.availability(failures=scn.failure_model(qs)).unavailability for qs in (zones, regions)]
    assert u[0] > 1e-4 > u[1]  # a region outage takes all three zones down
    raises_openha_error(scn.deployment, "not a single-region", "5 regions")


BAD = [
    ("bad TOML syntax", ("[deployment]\n", "[deployment\n"), ("invalid TOML", "line 3")),
    (
        "unknown top-level key",
        ('name = "tiny"\n', 'colour = "red"\nname = "tiny"\n'),
        ("unknown key colour", "'red'", "top level"),
    ),
    ("unknown key in a table", ("[run]\n", "[run]\ncolour = 'red'\n"), ("run.colour", "'red'")),
    (
        "unknown nested key",
        ("seed = 1", "seed = 1\nsead = 2"),
        ("run.sead", "= 2", "seed, commits"),
    ),
    ("wrong type", ("clients = 32", 'clients = "many"'), ("workload.clients", "'many'")),
    (
        "out of range",
        ("read_fraction = 0.0", "read_fraction = 1.5"),
        ("workload.read_fraction", "1.5", "<= 1"),
    ),
    (
        "missing source",
        ('p_fail = 1e-4\nsource = "an assumption"', "p_fail = 1e-4"),
        ("failures.zone.source", "missing"),
    ),
    (
        "unknown rtt name",
        ('"aws-2020"', '"aws-2030"'),
        ("deployment.rtt", "'aws-2030'", "aws-2020"),
    ),
    (
        "unknown key in an array of tables",
        ('zone = "az-b"', 'zone = "az-b", x = 1'),
        ("deployment.zones[1].x", "= 1"),
    ),
    (
        "unknown region",
        ('region = "us-east-1", zone = "az-b"', 'region = "mars-1", zone = "az-b"'),
        ("deployment.zones[1].region", "'mars-1'", "us-east-1"),
    ),
    (
        "unknown strategy kind",
        ('kind = "flexible-paxos"', 'kind = "epaxos"'),
        ("strategies[1].kind", "'epaxos'", "'raft'"),
    ),
    ("n < 1", ("n = 3", "n = 0"), ("strategies[0].n", "got 0", "[1, 3]")),
    ("n too large", ("n = 3", "n = 10"), ("strategies[0].n", "got 10", "[1, 3]")),
    (
        "quorums that miss",
        ("q2 = 2", "q2 = 1"),
        ("strategies[1].q2", "got 1", "intersect"),
    ),
    (
        "Multi-Paxos quorums that miss",
        ('kind = "flexible-paxos"\nq1 = 2', 'kind = "multipaxos"\nq1 = 1'),
        ("strategies[1].q2", "got 2", "(n - q1) so that quorums intersect"),
    ),
    (
        "Multi-Paxos thrifty not a boolean",
        ('kind = "flexible-paxos"', 'kind = "multipaxos"\nthrifty = "yes"'),
        ("strategies[1].thrifty", "'yes'", "true or false"),
    ),
    (
        "primary-backup with more backups than nodes",
        ('kind = "flexible-paxos"\nq1 = 2\nq2 = 2', 'kind = "primary-backup"\nbackups = 3'),
        ("strategies[1].backups", "got 3", "[1, 2]"),
    ),
    (
        "sync_acks with asynchronous primary-backup",
        (
            'kind = "flexible-paxos"\nq1 = 2\nq2 = 2',
            'kind = "primary-backup"\nsync = false\nsync_acks = 1',
        ),
        ("strategies[1].sync_acks", "got 1", "sync = false"),
    ),
    (
        "chain of length 0",
        ('kind = "flexible-paxos"\nq1 = 2\nq2 = 2', 'kind = "chain"\nlength = 0'),
        ("strategies[1].length", "got 0", "[1, 3]"),
    ),
    (
        "Paxos back-off range reversed",
        ('kind = "flexible-paxos"\nq1 = 2\nq2 = 2', 'kind = "paxos"\nbackoff_ms = [2, 1]'),
        ("strategies[1].backoff_ms", "min <= max"),
    ),
    (
        "missing strategy parameter",
        ("q2 = 2\n", ""),
        ("strategies[1].q2", "missing", "flexible-paxos"),
    ),
    (
        "bad election timeout",
        ("n = 3\n", "n = 3\nelection_timeout_ms = [300, 150]\n"),
        ("strategies[0].election_timeout_ms", "[300.0, 150.0]", "min <= max"),
    ),
    (
        "bad distribution",
        ("[workload]", "[nodes]\nfsync_ms = { dist = 'gamma' }\n[workload]"),
        ("nodes.fsync_ms.dist", "'gamma'", "'exponential'"),
    ),
    ("p_fail above 1", ("p_fail = 1e-3", "p_fail = 2"), ("failures.node.p_fail", "got 2")),
    ("missing name", ('name = "tiny"\n', ""), ("missing", "name")),
    (
        "duplicate strategy name",
        ('name = "FPaxos"', 'name = "Raft"'),
        ("strategies[1].name", "'Raft'", "unique"),
    ),
    (
        "unknown node in a strategy",
        ("n = 3\n", 'nodes = ["r0", "r7"]\n'),
        ("strategies[0].nodes[1]", "'r7'"),
    ),
]

FULL = MINIMAL.replace(
    "[failures.node]",
    '[failures.zone]\np_fail = 1e-4\nsource = "an assumption"\n\n'
    "[workload]\nclients = 32\nread_fraction = 0.0\n\n[run]\nseed = 1\n\n[failures.node]",
)


@pytest.mark.parametrize(("case", "edit", "words"), BAD, ids=[b[0] for b in BAD])
def test_malformed_file_names_file_key_and_value(tmp_path, case, edit, words):
    old, new = edit
    assert old in FULL, case
    path = write(tmp_path, FULL.replace(old, new, 1))
    raises_openha_error(lambda: Scenario.load(path), "bad.toml", *words)


def test_the_full_example_is_valid(tmp_path):
    scn = Scenario.load(write(tmp_path, FULL))
    assert scn.zone_failure is not None and scn.workload.clients == 32


def test_other_load_errors(tmp_path):
    raises_openha_error(lambda: Scenario.load(tmp_path / "none.toml"), "cannot read", "none.toml")
    raises_openha_error(lambda: Scenario.from_dict({"name": "x"}), "<dict>", "deployment")
    raises_openha_error(lambda: Scenario.from_dict([]), "<dict>", "a table")  # type: ignore[arg-type]
    raises_openha_error(
        lambda: Scenario.from_dict(
            dict.fromkeys(["name", "deployment", "failures", "strategies"], 3), source="mine"
        ),
        "mine",
        "name",
        "got 3",
    )
    raises_openha_error(lambda: Scenario.named("default").strategy("x"), "'x'", "majority of 3")


def test_scenario_files_are_shipped_in_the_data_folder():
    assert data_path("scenarios", "default.toml").exists()
