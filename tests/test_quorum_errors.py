"""Bad input to quorum APIs raises OpenHAError naming the parameter, before any kernel runs."""

from __future__ import annotations

import ast
import math
import re

import pytest

import openha as ha
from openha.dist import Exponential
from tests.openha_errors import raises_openha_error as _raises


def _abcd(**kw) -> list[ha.Node]:
    return [ha.Node(x, **kw) for x in "abcd"]


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, math.inf, "x", None, True])
def test_node_p_fail_must_be_a_probability(bad):
    _raises(lambda: ha.Node("a", p_fail=bad), "p_fail", "'a'")


@pytest.mark.parametrize("bad", [-1e-9, 1.0000001, math.nan])
def test_failure_model_probabilities(bad):
    _raises(lambda: ha.FailureModel(domains={"az1": bad}), "domains", "az1")
    _raises(lambda: ha.FailureModel(p_fail={"a": bad}), "p_fail", "'a'")


def test_failure_model_must_name_known_nodes_and_domains():
    a, b, c, _ = _abcd(p_fail=0.1, domain="z1")
    qs = ha.QuorumSystem(writes=ha.majority([a, b, c]))
    _raises(lambda: qs.availability(failures=ha.FailureModel(p_fail={"zz": 0.1})), "p_fail", "zz")
    _raises(lambda: qs.availability(failures=ha.FailureModel(domains={"z9": 0.1})), "domains", "z9")
    _raises(lambda: qs.availability(failures={"z1": 0.1}), "failures")


def test_empty_node_sets():
    _raises(lambda: ha.majority([]), "nodes", "empty")
    _raises(lambda: ha.choose(1, []), "nodes", "empty")
    _raises(lambda: ha.weighted({}, 1), "votes", "empty")
    _raises(lambda: ha.quorum.grid([]), "rows")
    _raises(lambda: ha.quorum.hierarchical([]), "groups")
    _raises(lambda: ha.QuorumSystem(), "reads", "writes")


def test_duplicate_node_names():
    a1, a2, b = ha.Node("a", p_fail=0.1), ha.Node("a", p_fail=0.2), ha.Node("b")
    _raises(lambda: a1 * b + a2, "unique", "'a'")
    _raises(lambda: ha.majority([a1, a2, b]), "nodes", "'a'")
    _raises(lambda: ha.choose(2, [a1, a1, b]), "nodes", "'a'")
    _raises(lambda: ha.QuorumSystem(reads=a1 * b, writes=a2 + b), "unique", "'a'")
    _raises(lambda: ha.quorum.grid([[a1, b], [b, ha.Node("c")]]), "nodes", "'b'")


def test_k_out_of_range():
    a, b, c, _ = _abcd()
    _raises(lambda: ha.choose(0, [a, b, c]), "k", "[1, 3]", "0")
    _raises(lambda: ha.choose(4, [a, b, c]), "k", "[1, 3]", "4")
    _raises(lambda: ha.choose(1.5, [a, b, c]), "k", "integer")
    _raises(lambda: ha.weighted({a: 2, b: 1}, 4), "threshold", "4")
    _raises(lambda: ha.weighted({a: 0, b: 1}, 1), "votes", "a")


@pytest.mark.parametrize("bad", [-1, -1e-9, math.nan, math.inf, "slow"])
def test_bad_latencies(bad):
    _raises(lambda: ha.Node("a", latency=bad), "latency", "'a'")
    qs = ha.QuorumSystem(writes=ha.majority(_abcd(latency=1.0)))
    _raises(lambda: qs.latency_distribution(latency={"a": bad}), "latency", "'a'")


def test_latency_names_and_failed_sets():
    qs = ha.QuorumSystem(writes=ha.majority(_abcd(latency=Exponential(mean=1.0))))
    _raises(lambda: qs.latency_distribution(latency={"zz": 1.0}), "latency", "zz")
    _raises(lambda: qs.latency_distribution(failed=["zz"]), "failed", "zz")
    _raises(lambda: qs.latency_distribution(failed=["a", "b"]), "failed", "'a'", "'b'", "quorum")
    _raises(lambda: qs.latency_distribution(latency=[1.0] * 4), "latency")
    no_latency = ha.QuorumSystem(writes=ha.majority(_abcd()))
    _raises(lambda: no_latency.latency_distribution(), "latency", "'a'")
    _raises(lambda: qs.latency_distribution(quantiles=(0.5, 1.5)), "quantiles", "1.5")


@pytest.mark.parametrize("method", ["exact", "montecarlo"])
def test_failed_leaving_no_quorum_for_each_method(method):
    a, b, c, d = _abcd(latency=2.0)
    qs = ha.QuorumSystem(reads=a * b + c * d)
    _raises(lambda: qs.latency_distribution("read", failed=["a", "c"], method=method), "failed")
    _raises(lambda: qs.latency_distribution("write", failed=["a", "b"], method=method), "failed")


def test_trials_op_method_confidence_seed():
    qs = ha.QuorumSystem(writes=ha.majority(_abcd(p_fail=0.1, latency=1.0)))
    _raises(lambda: qs.availability(method="montecarlo", trials=0), "trials", "0")
    _raises(lambda: qs.availability(method="montecarlo", trials=-5), "trials")
    _raises(lambda: qs.availability(method="montecarlo", trials=10.5), "trials")
    _raises(lambda: qs.latency_distribution(method="montecarlo", trials=0), "trials", "0")
    _raises(lambda: qs.availability(op="rw"), "op", "'rw'")
    _raises(lambda: qs.latency_distribution(op="rw"), "op", "'rw'")
    _raises(lambda: qs.availability(method="fast"), "method", "'fast'")
    _raises(lambda: qs.latency_distribution(method="fast"), "method", "'fast'")
    _raises(lambda: qs.availability(method="montecarlo", confidence=1.0), "confidence")
    _raises(lambda: qs.availability(method="montecarlo", confidence=math.nan), "confidence")
    _raises(lambda: qs.availability(method="montecarlo", seed=-1), "seed")
    _raises(lambda: qs.availability(method="montecarlo", seed="one"), "seed")


def test_non_intersecting_reads_and_writes_name_both_quorums():
    a, b, c, d = _abcd()
    msg = _raises(
        lambda: ha.QuorumSystem(
            reads=ha.choose(2, [a, b, c, d]), writes=ha.choose(2, [a, b, c, d])
        ),
        "read quorum",
        "write quorum",
    )
    rq, wq = (set(ast.literal_eval(m)) for m in re.findall(r"\[[^\]]*\]", msg)[:2])
    assert len(rq) == len(wq) == 2 and not rq & wq
    msg = _raises(lambda: ha.QuorumSystem(reads=a * b + c * d, writes=a * c + b), "read quorum")
    rq, wq = (set(ast.literal_eval(m)) for m in re.findall(r"\[[^\]]*\]", msg)[:2])
    assert not rq & wq
    assert ha.QuorumSystem(reads=a * b + c * d).is_read_quorum(rq)
    assert (a * c + b).is_quorum(wq)


def test_family_thresholds_must_intersect():
    nodes = _abcd()
    _raises(lambda: ha.quorum.read_write(nodes, r=2, w=2), "r + w", "r=2", "w=2")
    _raises(lambda: ha.quorum.read_write(nodes, r=0, w=4), "r must", "got 0")
    _raises(lambda: ha.quorum.read_write(nodes, r=1, w=5), "w must", "got 5")
    _raises(lambda: ha.quorum.flexible_paxos(nodes, q1=2, q2=2), "q1 + q2", "q1=2", "q2=2")
    _raises(lambda: ha.quorum.flexible_paxos(nodes, q1=5, q2=1), "q1 must", "got 5")
    votes = dict(zip(nodes, [2, 1, 1, 1], strict=True))
    _raises(
        lambda: ha.quorum.voting(votes, read_threshold=2, write_threshold=3),
        "read_threshold + write_threshold",
    )
    _raises(lambda: ha.quorum.grid([nodes[:2], nodes[2:3]]), "rows", "length")
    _raises(lambda: ha.quorum.grid([nodes[:2], nodes[2:]], kind="diagonal"), "kind", "diagonal")


def test_expression_operands_must_be_expressions():
    a = ha.Node("a")
    _raises(lambda: a * "b", "operand")
    _raises(lambda: ha.choose(1, [a, 3]), "nodes")
    _raises(lambda: ha.QuorumSystem(reads="a*b"), "reads")
    _raises(lambda: ha.Node(""), "name")
    _raises(lambda: ha.Node("a", domain=()), "domain")
