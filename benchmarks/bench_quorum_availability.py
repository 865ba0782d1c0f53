"""Quorum availability: openha beside the baselines a user would otherwise write.

Groups (see ``benchmarks/README.md`` for the measured numbers):

- ``exact majority(n) heterogeneous``: openha's exact method against the pure-Python
  Poisson-binomial DP and, while 2^n is tractable, enumeration of every failure set.
- ``exact correlated``: failure domains, against enumeration of domain and node states.
- ``montecarlo correlated``: openha's parallel sampler against a vectorised numpy
  sampler and a pure-Python one; each records node-samples per second.

Every benchmark also checks its answer, so a fast wrong result fails.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from scipy import stats

import openha as ha
from tests import naive

RTOL = 1e-9  # exact methods: both sides sum products of probabilities
CONFIDENCE = 0.999  # Monte Carlo checks: the exact value must lie in this CI

# --------------------------------------------------------------------------- exact, independent
SIZES = (5, 15, 101, 1001)
MAX_ENUMERATED = 15  # 2^15 failure sets take ~0.1 s in pure Python; 2^101 never finish
EXACT_CASES = [
    *((n, impl) for n in SIZES for impl in ("openha", "naive_dp")),
    *((n, "naive_enumeration") for n in SIZES if n <= MAX_ENUMERATED),
    (1001, "openha_with_construction"),
]


@functools.cache
def heterogeneous_p_fail(n: int) -> tuple[float, ...]:
    """Per-node failure probabilities in [0.001, 0.2], the same in every run."""
    return tuple(np.random.default_rng(n).uniform(0.001, 0.2, n).tolist())


@functools.cache
def reference_majority_down(n: int) -> float:
    return naive.majority_unavailability_dp(heterogeneous_p_fail(n))


def build_majority(p_fail: tuple[float, ...]) -> ha.QuorumSystem:
    nodes = [ha.Node(f"n{i}", p_fail=p) for i, p in enumerate(p_fail)]
    return ha.QuorumSystem(writes=ha.majority(nodes))


@pytest.mark.parametrize(("n", "impl"), EXACT_CASES, ids=[f"n{n}-{i}" for n, i in EXACT_CASES])
def test_exact_majority(benchmark, n, impl):
    p_fail = heterogeneous_p_fail(n)
    need = n // 2 + 1
    benchmark.group = f"exact majority({n}) heterogeneous"
    benchmark.extra_info.update(impl=impl, n=n)
    if impl == "openha":
        qs = build_majority(p_fail)  # users build once and ask many questions
        down = benchmark(lambda: qs.availability(method="exact")).unavailability
    elif impl == "openha_with_construction":
        down = benchmark(lambda: build_majority(p_fail).availability(method="exact")).unavailability
    elif impl == "naive_dp":
        down = benchmark.pedantic(
            naive.majority_unavailability_dp, args=(p_fail,), rounds=3 if n > 500 else 10
        )
    else:
        names = [f"n{i}" for i in range(n)]
        _, down = benchmark.pedantic(
            naive.availability_by_enumeration,
            args=(names, p_fail, lambda alive: len(alive) >= need),
            rounds=3,
        )
    assert down == pytest.approx(reference_majority_down(n), rel=RTOL, abs=0.0)


# --------------------------------------------------------------------------- exact, correlated
ZONES = {"z0": 0.01, "z1": 0.02, "z2": 0.005}


def test_exact_correlated(benchmark):
    """Majority of 9 nodes spread over 3 zones that can each go out."""
    benchmark.group = "exact correlated"
    p_fail = heterogeneous_p_fail(9)
    zone_of = [f"z{i % 3}" for i in range(9)]
    nodes = [ha.Node(f"n{i}", p_fail=p, domain=zone_of[i]) for i, p in enumerate(p_fail)]
    qs = ha.QuorumSystem(writes=ha.majority(nodes))
    failures = ha.FailureModel(domains=ZONES)
    benchmark.extra_info["impl"] = "openha"
    down = benchmark(lambda: qs.availability(failures=failures, method="exact")).unavailability
    assert down == pytest.approx(_correlated_majority_down(p_fail, zone_of, ZONES), rel=RTOL)


def test_exact_correlated_naive_enumeration(benchmark):
    benchmark.group = "exact correlated"
    benchmark.extra_info["impl"] = "naive_enumeration"
    p_fail = heterogeneous_p_fail(9)
    names = [f"n{i}" for i in range(9)]
    zones = [[f"z{i % 3}"] for i in range(9)]
    down = benchmark.pedantic(
        naive.correlated_by_enumeration,
        args=(names, p_fail, zones, ZONES, lambda alive: len(alive) >= 5),
        rounds=5,
    )
    zone_of = [z[0] for z in zones]
    assert down == pytest.approx(_correlated_majority_down(p_fail, zone_of, ZONES), rel=RTOL)


def _correlated_majority_down(
    p_fail: tuple[float, ...], zone_of: list[str], p_zone: dict[str, float]
) -> float:
    """Exact P(no majority): condition on every zone state, then the pure-Python DP."""
    zones = sorted(p_zone)
    down = 0.0
    for out in itertools.product((False, True), repeat=len(zones)):
        p_state = 1.0
        for z, is_out in zip(zones, out, strict=True):
            p_state *= p_zone[z] if is_out else 1.0 - p_zone[z]
        gone = {z for z, is_out in zip(zones, out, strict=True) if is_out}
        eff = [1.0 if z in gone else p for p, z in zip(p_fail, zone_of, strict=True)]
        down += p_state * naive.majority_unavailability_dp(eff)
    return down


# --------------------------------------------------------------------------- Monte Carlo
MC_NODES = 15
MC_DOMAINS = 5
MC_TRIALS = 10**7
MC_TRIALS_PURE_PYTHON = 10**4  # pure Python manages ~10^6 node-samples per second
MC_CHUNK = 1 << 17  # numpy baseline: trials per vectorised block (~16 MB of uniforms)


# (node p_fail range, domain outage range). "frequent" stresses the sampler with many
# failures per trial; "published" uses node unavailabilities like those derived from
# shared/data/failure_rates.md (1e-4 .. 1e-3), where failures are rare.
MC_REGIMES = {
    "frequent p 0.01-0.1": (0.01, 0.1, 0.005, 0.03),
    "published p 1e-4-1e-3": (1e-4, 1e-3, 1e-5, 1e-4),
}


@functools.cache
def mc_case(regime: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_fail per node, domain index per node, outage probability per domain)."""
    p_lo, p_hi, d_lo, d_hi = MC_REGIMES[regime]
    rng = np.random.default_rng(15)
    p_fail = rng.uniform(p_lo, p_hi, MC_NODES)
    domain = np.arange(MC_NODES) % MC_DOMAINS
    p_domain = rng.uniform(d_lo, d_hi, MC_DOMAINS)
    return p_fail, domain, p_domain


@functools.cache
def mc_exact_down(regime: str) -> float:
    p_fail, domain, p_domain = mc_case(regime)
    p_zone = {f"z{d}": float(p) for d, p in enumerate(p_domain)}
    return _correlated_majority_down(tuple(p_fail.tolist()), [f"z{d}" for d in domain], p_zone)


def numpy_majority_down_count(
    p_fail: np.ndarray, domain: np.ndarray, p_domain: np.ndarray, trials: int, seed: int
) -> int:
    """Vectorised numpy Monte Carlo, the way a user would write it: count no-majority trials."""
    rng = np.random.default_rng(seed)
    need = p_fail.size // 2 + 1
    downs = 0
    for start in range(0, trials, MC_CHUNK):
        m = min(MC_CHUNK, trials - start)
        out = rng.random((m, p_domain.size)) < p_domain
        up = (rng.random((m, p_fail.size)) >= p_fail) & ~out[:, domain]
        downs += int(np.count_nonzero(up.sum(axis=1) < need))
    return downs


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    alpha = 1.0 - confidence
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


@pytest.mark.parametrize("regime", list(MC_REGIMES))
@pytest.mark.parametrize("impl", ["openha", "numpy", "naive_python"])
def test_montecarlo_correlated(benchmark, record_rate, impl, regime):
    """Majority of 15 nodes in 5 failure domains; node-samples = trials * 15."""
    benchmark.group = f"montecarlo correlated, {regime}"
    p_fail, domain, p_domain = mc_case(regime)
    trials = MC_TRIALS_PURE_PYTHON if impl == "naive_python" else MC_TRIALS
    benchmark.extra_info.update(impl=impl, trials=trials)
    if impl == "openha":
        nodes = [
            ha.Node(f"n{i}", p_fail=float(p), domain=f"z{d}")
            for i, (p, d) in enumerate(zip(p_fail, domain, strict=True))
        ]
        qs = ha.QuorumSystem(writes=ha.majority(nodes))
        failures = ha.FailureModel(domains={f"z{d}": float(p) for d, p in enumerate(p_domain)})
        res = benchmark.pedantic(
            qs.availability,
            kwargs=dict(
                failures=failures,
                method="montecarlo",
                trials=trials,
                seed=1,
                confidence=CONFIDENCE,
            ),
            rounds=3,
        )
        downs = round(res.unavailability * trials)
        assert res.ci is not None and res.ci[0] <= mc_exact_down(regime) <= res.ci[1]
    elif impl == "numpy":
        downs = benchmark.pedantic(
            numpy_majority_down_count, args=(p_fail, domain, p_domain, trials, 1), rounds=3
        )
    else:
        frac = benchmark.pedantic(
            naive.majority_unavailability_mc,
            args=(p_fail.tolist(), domain.tolist(), p_domain.tolist(), trials, 1),
            rounds=5,
        )
        downs = round(frac * trials)
    rate = record_rate(benchmark, "node_samples_per_s", trials * MC_NODES)
    benchmark.extra_info["s_per_trial"] = MC_NODES / rate
    lo, hi = clopper_pearson(downs, trials)
    assert lo <= mc_exact_down(regime) <= hi
