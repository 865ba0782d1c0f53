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


# --------------------------------------------------------------------------- load and strategies
def threshold_quorums(names: Sequence[str], k: int) -> list[frozenset[str]]:
    """The minimal quorums of "any k of ``names``": every k-subset."""
    return [frozenset(c) for c in itertools.combinations(names, k)]


def f_resilient_quorums(
    names: Sequence[str], quorums: Sequence[frozenset[str]], f: int
) -> list[frozenset[str]]:
    """Minimal sets S such that S minus any F (|F| <= f) still contains one of ``quorums``.

    By definition: test every subset S of ``names`` against every removal F of at most f of
    its nodes, then keep the sets with no such subset one node smaller (resilience is monotone).
    """
    qs = [frozenset(q) for q in quorums]

    def contains_quorum(s: frozenset[str]) -> bool:
        return any(q <= s for q in qs)

    def resilient(s: frozenset[str]) -> bool:
        return all(
            contains_quorum(s - set(gone))
            for r in range(min(f, len(s)) + 1)
            for gone in itertools.combinations(sorted(s), r)
        )

    ok = {
        frozenset(c)
        for r in range(len(names) + 1)
        for c in itertools.combinations(names, r)
        if resilient(frozenset(c))
    }
    return [s for s in ok if not any(s - {x} in ok for x in s)]


def optimal_load_by_enumeration(
    read_quorums: Sequence[frozenset[str]],
    write_quorums: Sequence[frozenset[str]],
    read_fraction_mix: dict[float, float],
    read_cap: dict[str, float],
    write_cap: dict[str, float],
    objective: str = "load",
    *,
    latency: dict[str, float] | None = None,
    load_limit: float | None = None,
    network_limit: float | None = None,
    latency_limit: float | None = None,
) -> float | None:
    """Optimum of the quorum-probability LP, one variable per listed quorum (None if infeasible).

    Variables: p_R for each read quorum, p_W for each write quorum, and L_j for each read
    fraction fr_j (weight w_j) of the mix. For every fraction j and node x,
    fr_j * sum_{R containing x} p_R / read_cap[x] + (1 - fr_j) * sum_{W containing x} p_W /
    write_cap[x] <= L_j. Objectives: load sum_j w_j L_j; network and latency are expectations
    over the mean read fraction of |Q| and of the largest latency in Q. Written out densely.
    """
    from scipy.optimize import linprog

    rq, wq = [frozenset(q) for q in read_quorums], [frozenset(q) for q in write_quorums]
    names = sorted(set().union(*rq, *wq))
    total = sum(read_fraction_mix.values())
    fracs = list(read_fraction_mix)
    weights = [read_fraction_mix[fr] / total for fr in fracs]
    mean_fr = sum(fr * w for fr, w in zip(fracs, weights, strict=True))
    nr, nw, nl = len(rq), len(wq), len(fracs)
    a_ub: list[list[float]] = []
    b_ub: list[float] = []
    for j, fr in enumerate(fracs):
        for x in names:
            row = [0.0] * (nr + nw + nl)
            for i, q in enumerate(rq):
                if x in q:
                    row[i] = fr / read_cap[x]
            for i, q in enumerate(wq):
                if x in q:
                    row[nr + i] = (1.0 - fr) / write_cap[x]
            row[nr + nw + j] = -1.0
            a_ub.append(row)
            b_ub.append(0.0)

    def expected(value: Callable[[frozenset[str]], float]) -> list[float]:
        return (
            [mean_fr * value(q) for q in rq] + [(1.0 - mean_fr) * value(q) for q in wq] + [0.0] * nl
        )

    costs = {"load": [0.0] * (nr + nw) + weights, "network": expected(len)}
    if latency is not None:
        costs["latency"] = expected(lambda q: max(latency[x] for x in q))
    for name, limit in (
        ("load", load_limit),
        ("network", network_limit),
        ("latency", latency_limit),
    ):
        if limit is not None:
            a_ub.append(costs[name])
            b_ub.append(limit)
    a_eq = [[1.0] * nr + [0.0] * (nw + nl), [0.0] * nr + [1.0] * nw + [0.0] * nl]
    res = linprog(
        costs[objective], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0, 1.0], method="highs"
    )  # default bounds: every variable >= 0
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return float(res.fun)


def strategy_metrics(
    read_probs: dict[frozenset[str], float],
    write_probs: dict[frozenset[str], float],
    read_fraction_mix: dict[float, float],
    read_cap: dict[str, float],
    write_cap: dict[str, float],
    latency: dict[str, float] | None = None,
) -> dict[str, float]:
    """Load, network load and latency of an explicit strategy, straight from the definitions."""
    names = sorted(set(read_cap))
    total = sum(read_fraction_mix.values())
    load = 0.0
    for fr, w in read_fraction_mix.items():
        busiest = max(
            fr * sum(p for q, p in read_probs.items() if x in q) / read_cap[x]
            + (1.0 - fr) * sum(p for q, p in write_probs.items() if x in q) / write_cap[x]
            for x in names
        )
        load += w / total * busiest
    mean_fr = sum(fr * w / total for fr, w in read_fraction_mix.items())

    def expected(value: Callable[[frozenset[str]], float]) -> float:
        return mean_fr * sum(p * value(q) for q, p in read_probs.items()) + (1.0 - mean_fr) * sum(
            p * value(q) for q, p in write_probs.items()
        )

    out = {"load": load, "network": expected(len)}
    if latency is not None:
        out["latency"] = expected(lambda q: max(latency[x] for x in q))
    return out


# --------------------------------------------------------------------------- availability models
def birth_death_unavailability(n: int, k: int, lam: float, mu: float, crews: int | None) -> float:
    """P(fewer than k of n replicas up) for the failed-count birth-death chain, in exact rationals.

    From i failed, a failure comes at (n - i) lam and a repair at min(i, c) mu (i mu without
    crews); detailed balance gives pi_(i+1) = pi_i (n - i) lam / (min(i + 1, c) mu).
    """
    from fractions import Fraction

    lam_q, mu_q = Fraction(lam), Fraction(mu)
    weights = [Fraction(1)]
    for j in range(n):
        servers = j + 1 if crews is None else min(j + 1, crews)
        weights.append(weights[-1] * (n - j) * lam_q / (servers * mu_q))
    return float(sum(weights[n - k + 1 :]) / sum(weights))


def birth_death_mttf(n: int, k: int, lam: float, mu: float, crews: int | None) -> float:
    """Mean time from 0 failed to n - k + 1 failed, by first-step analysis, in exact rationals.

    Let T_i be the mean time to go from i failed to i + 1 failed. From i the next event is a
    failure (rate a_i) or a repair (rate b_i), so T_i = 1 / a_i + (b_i / a_i) T_(i-1) (after
    a repair it must climb back from i - 1 first), T_0 = 1 / a_0; the MTTF is the sum of
    T_0 ... T_(n-k).
    """
    from fractions import Fraction

    lam_q, mu_q = Fraction(lam), Fraction(mu)
    total, prev = Fraction(0), Fraction(0)
    for i in range(n - k + 1):
        a = (n - i) * lam_q
        b = (i if crews is None else min(i, crews)) * mu_q
        prev = 1 / a + b / a * prev
        total += prev
    return float(total)


def _replica_generator(
    zones: Sequence[int],
    k: int,
    lam: object,
    mu: object,
    crews: int | None,
    zone_lam: object,
    zone_mu: object,
) -> tuple[list[tuple[bool, ...]], dict[tuple[int, int], object], list[bool]]:
    """States, off-diagonal rates {(i, j): rate} and up flags, one state per replica.

    A state is (zone up flags..., replica up flags...), starting from all up and keeping
    only the states reachable from it. Up replicas in up zones fail at ``lam``; the failed
    replicas in up zones (F of them) share the repair rate mu * min(F, crews) equally (mu * F
    without crews); an up zone fails at ``zone_lam`` and a down one returns at ``zone_mu``,
    its replicas as they were. Up: at least k replicas up in up zones. Rates keep the type
    given (float or Fraction).
    """
    zone_of = [z for z, size in enumerate(zones) for _ in range(size)]
    n, nz = len(zone_of), len(zones)

    def moves(s: tuple[bool, ...]) -> list[tuple[tuple[bool, ...], object]]:
        zone_up, rep_up = s[:nz], s[nz:]
        live = [zone_up[zone_of[r]] for r in range(n)]
        waiting = [r for r in range(n) if live[r] and not rep_up[r]]
        out = []
        for r in range(n):
            if live[r]:
                busy = len(waiting) if crews is None else min(len(waiting), crews)
                rate = lam if rep_up[r] else mu * busy / len(waiting)  # type: ignore[operator]
                flipped = (*s[: nz + r], not rep_up[r], *s[nz + r + 1 :])
                out.append((flipped, rate))
        if zone_lam:
            for z in range(nz):
                flipped = (*s[:z], not zone_up[z], *s[z + 1 :])
                out.append((flipped, zone_lam if zone_up[z] else zone_mu))
        return out

    start = (True,) * (nz + n)
    states, index, rates = [start], {start: 0}, {}
    for s in states:  # grows while we walk it: breadth-first over reachable states
        for t, rate in moves(s):
            if t not in index:
                index[t] = len(states)
                states.append(t)
            key = (index[s], index[t])
            rates[key] = rates.get(key, 0) + rate  # type: ignore[operator]
    up = [sum(s[nz + r] and s[zone_of[r]] for r in range(n)) >= k for s in states]
    return states, rates, up


def replica_chain_dense(
    zones: Sequence[int],
    k: int,
    lam: float,
    mu: float,
    crews: int | None = None,
    zone_lam: float = 0.0,
    zone_mu: float = 1.0,
) -> tuple[float, float]:
    """(unavailability, MTTF from all up) of replicas in zones, from a dense per-replica chain.

    States and rates from :func:`_replica_generator`; the stationary law solves pi Q = 0 with
    one balance equation replaced by sum(pi) = 1, the MTTF solves -Q_UU t = 1 (numpy).
    """
    import numpy as np

    states, rates, up_list = _replica_generator(zones, k, lam, mu, crews, zone_lam, zone_mu)
    m = len(states)
    q = np.zeros((m, m))
    for (i, j), rate in rates.items():
        q[i, j] = rate
    q -= np.diag(q.sum(axis=1))
    up = np.array(up_list)
    a = q.T.copy()
    a[0] = 1.0
    b = np.zeros(m)
    b[0] = 1.0
    pi = np.linalg.solve(a, b)
    ui = np.flatnonzero(up)  # state 0 (all up) is ui[0]
    t = np.linalg.solve(-q[np.ix_(ui, ui)], np.ones(ui.size))
    return float(pi[~up].sum()), float(t[0])


def replica_chain_exact_unavailability(
    zones: Sequence[int],
    k: int,
    lam: float,
    mu: float,
    crews: int | None = None,
    zone_lam: float = 0.0,
    zone_mu: float = 1.0,
) -> float:
    """Unavailability of the per-replica chain solved by Gaussian elimination in exact rationals.

    For tiny chains only (tens of states): no rounding at all until the final float().
    """
    from fractions import Fraction

    fr = Fraction
    states, rates, up = _replica_generator(
        zones, k, fr(lam), fr(mu), crews, fr(zone_lam), fr(zone_mu)
    )
    m = len(states)
    # rows of Q^T as {column: value}: sum_i pi_i Q[i, j] = 0 for every j, the first replaced
    # by sum(pi) = 1; Gaussian elimination then back substitution, all in rationals
    rows: list[dict[int, Fraction]] = [{} for _ in range(m)]
    for (i, j), rate in rates.items():
        rows[j][i] = rows[j].get(i, fr(0)) + rate
        rows[i][i] = rows[i].get(i, fr(0)) - rate
    rows[0] = dict.fromkeys(range(m), fr(1))
    b = [fr(1)] + [fr(0)] * (m - 1)
    for col in range(m):
        piv = next(r for r in range(col, m) if rows[r].get(col, 0) != 0)
        rows[col], rows[piv] = rows[piv], rows[col]
        b[col], b[piv] = b[piv], b[col]
        for r in range(col + 1, m):
            if rows[r].get(col, 0) != 0:
                f = rows[r][col] / rows[col][col]
                for c, v in rows[col].items():
                    rows[r][c] = rows[r].get(c, fr(0)) - f * v
                b[r] -= f * b[col]
    pi = [fr(0)] * m
    for i in reversed(range(m)):
        rest = sum((v * pi[c] for c, v in rows[i].items() if c > i), fr(0))
        pi[i] = (b[i] - rest) / rows[i][i]
    return float(sum(p for p, ok in zip(pi, up, strict=True) if not ok))


# --------------------------------------------------------------------------- reliability block diagrams
def rbd_holds(spec: object, up: frozenset[str]) -> bool:
    """Whether a diagram works when exactly the leaves in ``up`` work.

    ``spec`` is a leaf name (str), ``("series", [children])`` (all work),
    ``("parallel", [children])`` (any works) or ``("kofn", k, [children])`` (at least k work).
    """
    if isinstance(spec, str):
        return spec in up
    kind, *rest = spec  # type: ignore[misc]
    kids = rest[-1]
    working = sum(rbd_holds(child, up) for child in kids)
    need = {"series": len(kids), "parallel": 1}.get(kind, rest[0])
    return working >= need


def rbd_unavailability_by_enumeration(spec: object, unavailability: dict[str, float]) -> float:
    """P(the diagram fails): sum, over all 2^leaves up/down combinations in which it fails, of
    the product of the leaves' probabilities, in exact rationals."""
    from fractions import Fraction

    names = sorted(unavailability)
    down = Fraction(0)
    for states in itertools.product((True, False), repeat=len(names)):
        prob = Fraction(1)
        for name, ok in zip(names, states, strict=True):
            u = Fraction(unavailability[name])
            prob *= (1 - u) if ok else u
        if not rbd_holds(spec, frozenset(x for x, ok in zip(names, states, strict=True) if ok)):
            down += prob
    return float(down)


# --------------------------------------------------------------------------- checkpoint/restart
def checkpoint_runtime_by_renewal(
    work: float, interval: float, delta: float, mtbf: float, restart: float
) -> float:
    """Expected wall-clock time of a job of ``work / interval`` segments (an integer), each
    ``interval + delta`` long, under Poisson failures (mean ``mtbf``), by first-step analysis
    with numerical integrals (scipy.integrate.quad), not Daly's closed form.

    A restart of length R, itself interruptible, takes E_R with
    E_R = R P(T > R) + int_0^R (t + E_R) f(t) dt; a segment of length s takes E_s with
    E_s = s P(T > s) + int_0^s (t + E_R + E_s) f(t) dt (f the failure density).
    """
    from scipy.integrate import quad

    segments = work / interval
    assert abs(segments - round(segments)) < 1e-9, "work must be a multiple of interval"

    def density(t: float) -> float:
        return math.exp(-t / mtbf) / mtbf

    def survive(t: float) -> float:
        return math.exp(-t / mtbf)

    def fail_time(length: float) -> float:  # int_0^length t f(t) dt
        return quad(lambda t: t * density(t), 0.0, length, epsabs=0.0, epsrel=1e-13)[0]

    e_r = (restart * survive(restart) + fail_time(restart)) / survive(restart)
    s = interval + delta
    p_fail = 1.0 - survive(s)
    e_s = (s * survive(s) + fail_time(s) + p_fail * e_r) / survive(s)
    return round(segments) * e_s


def replica_chain_gth_unavailability(
    zones: Sequence[int],
    k: int,
    lam: float,
    mu: float,
    crews: int | None = None,
    zone_lam: float = 0.0,
    zone_mu: float = 1.0,
) -> float:
    """Unavailability of the per-replica chain by the GTH algorithm (dense, floats).

    Grassmann, Taksar and Heyman (Operations Research 33(5), 1985): censor the states one
    by one, last first; the rates out of a censored state are re-routed through it, and its
    total exit rate is summed from those rates instead of read off the diagonal, so nothing
    is ever subtracted and every probability keeps its relative precision, however tiny.
    """
    import numpy as np

    states, rates, up = _replica_generator(zones, k, lam, mu, crews, zone_lam, zone_mu)
    m = len(states)
    a = np.zeros((m, m))
    for (i, j), rate in rates.items():
        a[i, j] = rate
    for n in range(m - 1, 0, -1):
        out = a[n, :n].sum()  # rate from n into the states still kept
        a[:n, n] /= out
        a[:n, :n] += np.outer(a[:n, n], a[n, :n])
    pi = np.zeros(m)
    pi[0] = 1.0
    for n in range(1, m):
        pi[n] = pi[:n] @ a[:n, n]
    return float(pi[~np.array(up)].sum() / pi.sum())


# --------------------------------------------------------------------------- Raft leader election
def naive_election_round(
    n: int,
    timeout: tuple[float, float],
    latency: float,
    live: int,
    eligible: int,
    trials: int,
    seed: int,
) -> list[float]:
    """Round 1 of a Raft election after a leader crash, message by message: one time to
    elect per trial (``inf`` when the round elects no one).

    Servers 0 .. live - 1 survive the crash; the first ``eligible`` have up-to-date logs.
    Each timer fires once, after Uniform(timeout) from time 0. An event loop (time, then
    firing before delivery, then a sequence number) follows the rules literally: a server
    that has not voted when its timer fires votes for itself, and if up to date sends
    RequestVote to every other live server (a stale one's request reaches nobody); a
    server that has not voted when a RequestVote arrives grants it; a reply adds a vote.
    The first candidate holding ``n // 2 + 1`` votes wins; the others learn of it one
    latency later: that is the time to elect.
    """
    import heapq

    rng = random.Random(seed)
    need = n // 2 + 1
    fire, deliver_request, deliver_vote = 0, 1, 2
    out = []
    for _ in range(trials):
        voted_for: list[int | None] = [None] * live
        votes = [0] * live
        events = [(rng.uniform(*timeout), fire, i, i, -1) for i in range(live)]
        heapq.heapify(events)
        seq = live
        elected = math.inf
        while events:
            now, kind, _, to, sender = heapq.heappop(events)
            if kind == fire:
                if voted_for[to] is None:
                    voted_for[to] = to
                    votes[to] = 1
                    if to < eligible:
                        for j in range(live):
                            if j != to:
                                seq += 1
                                heapq.heappush(events, (now + latency, deliver_request, seq, j, to))
            elif kind == deliver_request:
                if voted_for[to] is None:
                    voted_for[to] = sender
                    seq += 1
                    heapq.heappush(events, (now + latency, deliver_vote, seq, sender, to))
            else:
                votes[to] += 1
                if votes[to] >= need:
                    elected = min(elected, now + latency)
        out.append(elected)
    return out
