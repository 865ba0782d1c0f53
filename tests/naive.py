"""Slow, obviously-correct references for the quorum kernels (pure Python, no numba).

Each function follows the definition literally: enumerate every failure set, every
subset of answered nodes, every sample. Tests compare the fast code with these;
benchmarks time them as the baseline a user would otherwise write.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence

Holds = Callable[[frozenset[str]], bool]


def availability_by_enumeration(
    names: Sequence[str], p_fail: Sequence[float], holds: Holds
) -> tuple[float, float]:
    """(P(up), P(down)) by summing the probability of each of the 2^n failure sets."""
    up = down = 0.0
    for states in itertools.product((True, False), repeat=len(names)):
        prob = 1.0
        alive = []
        for name, p, ok in zip(names, p_fail, states, strict=True):
            prob *= (1.0 - p) if ok else p
            if ok:
                alive.append(name)
        if holds(frozenset(alive)):
            up += prob
        else:
            down += prob
    return up, down


def correlated_by_enumeration(
    names: Sequence[str],
    p_fail: Sequence[float],
    node_domains: Sequence[Sequence[str]],
    p_domain: dict[str, float],
    holds: Holds,
) -> float:
    """P(down) with domain outages: enumerate domain states, then node states."""
    doms = sorted(p_domain)
    down = 0.0
    for dstate in itertools.product((True, False), repeat=len(doms)):
        pd = 1.0
        out = set()
        for d, ok in zip(doms, dstate, strict=True):
            pd *= (1.0 - p_domain[d]) if ok else p_domain[d]
            if not ok:
                out.add(d)
        forced = [any(d in out for d in nd) for nd in node_domains]
        eff = [1.0 if f else p for f, p in zip(forced, p_fail, strict=True)]
        down += pd * availability_by_enumeration(names, eff, holds)[1]
    return down


def majority_unavailability_dp(p_fail: Sequence[float]) -> float:
    """P(fewer than a majority up) by the Poisson-binomial recursion, in plain Python."""
    n = len(p_fail)
    pmf = [1.0] + [0.0] * n  # pmf[j] = P(j nodes up)
    for p in p_fail:
        for j in range(n, 0, -1):
            pmf[j] = pmf[j] * p + pmf[j - 1] * (1.0 - p)
        pmf[0] *= p
    return sum(pmf[: n // 2 + 1])


def majority_unavailability_mc(
    p_fail: Sequence[float],
    domains: Sequence[int],
    p_domain: Sequence[float],
    trials: int,
    seed: int,
) -> float:
    """P(no majority) by plain-Python Monte Carlo, one node-sample at a time."""
    rng = random.Random(seed)
    n = len(p_fail)
    need = n // 2 + 1
    downs = 0
    for _ in range(trials):
        out = [rng.random() < q for q in p_domain]
        up = sum(
            1 for p, d in zip(p_fail, domains, strict=True) if not out[d] and rng.random() >= p
        )
        downs += up < need
    return downs / trials


def completion_cdf(names: Sequence[str], cdfs: Sequence[float], holds: Holds) -> float:
    """P(the answered nodes contain a quorum by t), given each node's F_i(t): enumerate subsets."""
    return availability_by_enumeration(names, [1.0 - f for f in cdfs], holds)[0]


def kth_smallest_samples(samples: Sequence[Sequence[float]], k: int) -> list[float]:
    """The k-th smallest of each row of node response times (a choose(k) quorum's latency)."""
    return [sorted(row)[k - 1] for row in samples]


def expected_kth_of_exponentials(n: int, k: int, mean: float = 1.0) -> float:
    """E[k-th smallest of n iid exponentials] = mean * sum_{i=0}^{k-1} 1/(n-i) (Renyi)."""
    return mean * math.fsum(1.0 / (n - i) for i in range(k))


def minimal_quorums(names: Sequence[str], holds: Holds) -> set[frozenset[str]]:
    """The minimal sets satisfying ``holds``: test every subset, keep those with no
    satisfying subset one node smaller (enough, since ``holds`` is monotone)."""
    out = set()
    for r in range(len(names) + 1):
        for combo in itertools.combinations(names, r):
            s = frozenset(combo)
            if holds(s) and not any(holds(s - {x}) for x in s):
                out.add(s)
    return out


def hitting_holds(quorums: Sequence[frozenset[str]]) -> Holds:
    """The dual by definition: a set is a quorum of it when it meets every quorum given."""
    qs = [frozenset(q) for q in quorums]
    return lambda up: all(up & q for q in qs)


def resilience_by_enumeration(names: Sequence[str], holds: Holds) -> int:
    """Largest f such that removing any f nodes leaves a set satisfying ``holds`` (-1 if none)."""
    everyone = frozenset(names)
    best = -1
    for f in range(len(names) + 1):
        if all(holds(everyone - set(gone)) for gone in itertools.combinations(names, f)):
            best = f
        else:
            break
    return best


def tree_holds(spec: object, up: frozenset[str]) -> bool:
    """Evaluate a nested threshold spec: a node name (str), or ``(k, [(child, weight), ...])``
    which holds when the weights of the holding children add up to at least k."""
    if isinstance(spec, str):
        return spec in up
    k, kids = spec  # type: ignore[misc]
    return sum(w for child, w in kids if tree_holds(child, up)) >= k


def binomial_upper_tail_exact(n: int, p: float, j: int) -> float:
    """P(Binomial(n, p) >= j) in exact rational arithmetic, rounded once at the end."""
    from fractions import Fraction

    q = Fraction(p)
    return float(sum(math.comb(n, i) * q**i * (1 - q) ** (n - i) for i in range(j, n + 1)))
