"""Availability models: openha beside the baselines a user would otherwise write.

Groups (see ``benchmarks/README.md`` for the measured numbers):

- ``markov chain n=..., crews=...``: ``markov_availability`` for a majority of n = 5,
  21, 101 replicas against a dense numpy solve of the birth-death generator and the
  pure-Python product form (float, and exact with ``Fraction``).
- ``markov chain zones (3,3,3), crews=...``: 9 replicas in 3 zones that fail as a whole
  (512 states), against a dense numpy solve of a generator built independently here.
- ``replica Monte Carlo``: ``simulate_replicas`` against a pure-Python Gillespie
  simulation of the same process.
- ``checkpoint Monte Carlo``: ``simulate_checkpoint`` against a pure-Python and a
  vectorised numpy simulation.
- ``checkpoint optimum``: ``optimal_interval`` (Lambert W) against
  ``scipy.optimize.minimize_scalar`` on ``expected_runtime``.

Every benchmark also checks its answer, so a fast wrong result fails.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import math
import os
import random
from collections.abc import Sequence
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from scipy import optimize, stats

import openha as ha
from openha.models import ReplicaChain

RTOL = 1e-12  # exact methods that sum non-negative terms
RTOL_DENSE = 1e-8  # what the issue asks of a dense solve (it achieved ~1e-15 here)
CONFIDENCE = 0.999  # Monte Carlo checks: the exact value must lie in this interval


@pytest.fixture(scope="module", autouse=True)
def models_warmup() -> None:
    """``ha.warmup()`` does not touch the model kernels; load them before any timing."""
    ha.models.simulate_replicas(
        ReplicaChain(n=3, k=2, failure_rate=0.1, repair_rate=1.0), horizon_hours=10.0, seed=0
    )
    ha.models.simulate_checkpoint(10.0, 2.0, 0.1, 10.0, 0.2, replications=4, seed=0)


@pytest.fixture(scope="module", autouse=True)
def single_thread_lapack():
    """Run numpy's LAPACK on one thread while this module runs, restored afterwards.

    With OpenBLAS's default 2 threads on a 2-core machine shared with other work, the
    102-state dense baseline took anywhere from 0.06 to 95 ms a call (22 states ran
    steadily); one thread is the dense baseline at its best. (No-op if not found.)
    """
    libs = glob.glob(
        os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")
    )
    lib = ctypes.CDLL(libs[0]) if libs else None
    get_n = getattr(lib, "scipy_openblas_get_num_threads64_", None)
    set_n = getattr(lib, "scipy_openblas_set_num_threads64_", None)
    if get_n is None or set_n is None:
        yield
        return
    get_n.restype, set_n.argtypes = ctypes.c_int, [ctypes.c_int]
    before = get_n()
    set_n(1)
    yield
    set_n(before)


def t_interval(samples: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t interval for the mean of independent replications."""
    x = np.asarray(samples, dtype=float)
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1)) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()) - half, float(x.mean()) + half


def record_work(benchmark, record_rate, key: str, work: float) -> float:
    """Rate of ``work`` per second under ``key``, and under ``samples_per_s`` so that
    conftest's table compares entries per unit of work (here one job or one simulated hour)."""
    rate = record_rate(benchmark, "samples_per_s", work)
    benchmark.extra_info[key] = rate
    return rate


# --------------------------------------------------------------------------- birth-death chains
REPAIR_RATE = 0.1  # per hour: 10 h to repair a replica
# Failure rates (per hour) that put the unavailability near 1e-4, so that a dense solve is
# surely accurate. (It stays accurate far lower for these chains: 2e-15 relative at 1.8e-124
# for n = 101 at lam = 1e-4, mu = 0.1; see benchmarks/README.md.)
CHAIN_FAILURE_RATE = {
    (5, None): 0.0022,
    (5, 2): 0.0019,
    (21, None): 0.018,
    (21, 2): 0.0057,
    (101, None): 0.047,
    (101, 2): 0.0024,
}
CHAIN_IMPLS = ("openha", "numpy_dense", "python_float", "python_fraction")
CHAIN_CASES = [(n, c, impl) for (n, c) in CHAIN_FAILURE_RATE for impl in CHAIN_IMPLS]


def crews_busy(failed: int, crews: int | None) -> int:
    return failed if crews is None else min(failed, crews)


def product_form_down_float(n: int, k: int, lam: float, mu: float, crews: int | None) -> float:
    """P(more than n - k failed), pi_j / pi_(j-1) = (n - j + 1) lam / (mu busy(j)), floats."""
    weights = [1.0]
    for j in range(1, n + 1):
        weights.append(weights[-1] * (n - j + 1) * lam / (mu * crews_busy(j, crews)))
    return math.fsum(weights[n - k + 1 :]) / math.fsum(weights)


def product_form_down_fraction(n: int, k: int, lam: float, mu: float, crews: int | None) -> float:
    """The same product form in exact rational arithmetic, rounded once at the end."""
    lam_q, mu_q = Fraction(lam), Fraction(mu)
    weights = [Fraction(1)]
    for j in range(1, n + 1):
        weights.append(weights[-1] * (n - j + 1) * lam_q / (mu_q * crews_busy(j, crews)))
    return float(sum(weights[n - k + 1 :]) / sum(weights))


@functools.cache
def chain_reference_down(n: int, crews: int | None) -> float:
    return product_form_down_fraction(
        n, n // 2 + 1, CHAIN_FAILURE_RATE[n, crews], REPAIR_RATE, crews
    )


def numpy_dense_down(n: int, k: int, lam: float, mu: float, crews: int | None) -> float:
    """Dense (n+1)x(n+1) generator over the number failed; pi Q = 0 with one equation
    replaced by sum(pi) = 1, solved by LAPACK."""
    failed = np.arange(n + 1)
    birth = (n - failed[:-1]) * lam
    death = mu * (failed[1:] if crews is None else np.minimum(failed[1:], crews))
    q = np.diag(birth, 1) + np.diag(death, -1)
    q -= np.diag(q.sum(axis=1))
    a = q.T.copy()
    a[0] = 1.0
    b = np.zeros(n + 1)
    b[0] = 1.0
    pi = np.linalg.solve(a, b)
    return float(pi[n - k + 1 :].sum())


@pytest.mark.parametrize(
    ("n", "crews", "impl"), CHAIN_CASES, ids=[f"n{n}-crews{c}-{i}" for n, c, i in CHAIN_CASES]
)
def test_markov_chain(benchmark, n, crews, impl):
    """Majority of n replicas; unavailability from the steady state of the chain."""
    k = n // 2 + 1
    lam = CHAIN_FAILURE_RATE[n, crews]
    benchmark.group = f"markov chain n={n}, crews={crews}"
    benchmark.extra_info.update(impl=impl, n=n, k=k, crews=crews, failure_rate=lam)
    args = (n, k, lam, REPAIR_RATE)
    rtol = RTOL
    if impl == "openha":
        res = benchmark(ha.models.markov_availability, *args, crews=crews)
        assert res.n_states == n + 1
        down = res.unavailability
    elif impl == "numpy_dense":
        down = benchmark(numpy_dense_down, *args, crews)
        rtol = RTOL_DENSE
    elif impl == "python_float":
        down = benchmark(product_form_down_float, *args, crews)
    else:
        down = benchmark(product_form_down_fraction, *args, crews)
    benchmark.extra_info["unavailability"] = down
    assert 1e-6 < down < 1e-3  # the regime where a dense solve is a fair comparison
    assert down == pytest.approx(chain_reference_down(n, crews), rel=rtol, abs=0.0)


# --------------------------------------------------------------------------- zones
ZONE_SIZES = (3, 3, 3)
ZONE_K = 5
ZONE_RATES = dict(
    failure_rate=0.01, repair_rate=0.1, zone_failure_rate=0.001, zone_repair_rate=0.25
)


def numpy_dense_zones_down(
    sizes: tuple[int, ...],
    k: int,
    failure_rate: float,
    repair_rate: float,
    crews: int | None,
    zone_failure_rate: float,
    zone_repair_rate: float,
) -> float:
    """Zones that fail as a whole, built densely on a mixed-radix state index.

    State = (zone-down bit per zone, failed replicas per zone); axis strides give the
    index of each neighbour. While a zone is down its replicas are frozen; ``crews``
    repair the failed replicas of up zones, the one finished chosen uniformly.
    """
    nz = len(sizes)
    shape = (2,) * nz + tuple(s + 1 for s in sizes)
    m = math.prod(shape)
    stride = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
    coords = np.indices(shape).reshape(len(shape), m)
    zone_up, failed = coords[:nz] == 0, coords[nz:]
    failed_up = (failed * zone_up).sum(axis=0)
    busy = failed_up if crews is None else np.minimum(failed_up, crews)
    src = np.arange(m)
    q = np.zeros((m, m))
    for z, size in enumerate(sizes):
        fz, up_z, step = failed[z], zone_up[z], stride[nz + z]
        can = up_z & (fz < size)
        q[src[can], src[can] + step] += (size - fz[can]) * failure_rate
        can = up_z & (fz > 0)
        q[src[can], src[can] - step] += repair_rate * busy[can] * fz[can] / failed_up[can]
        q[src[up_z], src[up_z] + stride[z]] += zone_failure_rate
        q[src[~up_z], src[~up_z] - stride[z]] += zone_repair_rate
    q -= np.diag(q.sum(axis=1))
    a = q.T.copy()
    a[0] = 1.0
    b = np.zeros(m)
    b[0] = 1.0
    pi = np.linalg.solve(a, b)
    up_replicas = ((np.asarray(sizes)[:, None] - failed) * zone_up).sum(axis=0)
    return float(pi[up_replicas < k].sum())


def independent_zones_down(
    sizes: tuple[int, ...], k: int, lam: float, mu: float, zlam: float, zmu: float
) -> float:
    """Closed form without crew limits: replicas and zones are then independent, a replica
    failed with probability lam / (lam + mu), a zone out with zlam / (zlam + zmu) (a frozen
    replica keeps the stationary law). Enumerate zone states, then a binomial."""
    p_node, p_zone = lam / (lam + mu), zlam / (zlam + zmu)
    down = 0.0
    for mask in range(1 << len(sizes)):
        p_mask = math.prod(p_zone if mask >> z & 1 else 1 - p_zone for z in range(len(sizes)))
        live = sum(s for z, s in enumerate(sizes) if not mask >> z & 1)
        p_short = sum(
            math.comb(live, u) * (1 - p_node) ** u * p_node ** (live - u) for u in range(k)
        )
        down += p_mask * p_short
    return down


@functools.cache
def zones_reference_down(crews: int | None) -> float:
    if crews is None:
        r = ZONE_RATES
        return independent_zones_down(
            ZONE_SIZES,
            ZONE_K,
            r["failure_rate"],
            r["repair_rate"],
            r["zone_failure_rate"],
            r["zone_repair_rate"],
        )
    # crews couple the zones: no product form, so openha and the dense solve must agree
    return numpy_dense_zones_down(ZONE_SIZES, ZONE_K, crews=crews, **ZONE_RATES)


@pytest.mark.parametrize("crews", [None, 2])
@pytest.mark.parametrize("impl", ["openha", "numpy_dense"])
def test_markov_zones(benchmark, impl, crews):
    benchmark.group = f"markov chain zones (3,3,3), crews={crews}"
    benchmark.extra_info.update(impl=impl, crews=crews, states=8 * 4**3)
    if impl == "openha":
        res = benchmark.pedantic(
            ha.models.markov_availability,
            args=(sum(ZONE_SIZES), ZONE_K),
            kwargs=dict(crews=crews, zones=ZONE_SIZES, **ZONE_RATES),
            rounds=20,
        )
        assert res.n_states == 512
        down = res.unavailability
    else:
        down = benchmark.pedantic(
            numpy_dense_zones_down,
            args=(ZONE_SIZES, ZONE_K),
            kwargs=dict(crews=crews, **ZONE_RATES),
            rounds=5,
        )
    benchmark.extra_info["unavailability"] = down
    assert 1e-4 < down < 1e-2
    assert down == pytest.approx(zones_reference_down(crews), rel=RTOL_DENSE, abs=0.0)


# --------------------------------------------------------------------------- replica Monte Carlo
MC_CHAIN = ReplicaChain(n=5, k=3, failure_rate=0.01, repair_rate=0.1, crews=2)
MC_HORIZON_H = 2e5  # openha: 64 replications x 2e5 h, ~1.3e6 events
MC_PY_HORIZON_H = 1e5  # pure Python: 16 replications x 1e5 h, ~1e5 events
MC_PY_REPLICATIONS = 16


@functools.cache
def mc_chain_markov() -> tuple[float, float]:
    """(unavailability, mean events per hour) of MC_CHAIN from its product form."""
    c = MC_CHAIN
    weights = [1.0]
    for j in range(1, c.n + 1):
        weights.append(
            weights[-1] * (c.n - j + 1) * c.failure_rate / (c.repair_rate * min(j, c.crews))
        )
    pi = [w / math.fsum(weights) for w in weights]
    out_rate = [
        (c.n - j) * c.failure_rate + c.repair_rate * min(j, c.crews) for j in range(c.n + 1)
    ]
    down = ha.models.markov_availability(
        c.n, c.k, c.failure_rate, c.repair_rate, crews=c.crews
    ).unavailability
    return down, math.fsum(p * r for p, r in zip(pi, out_rate, strict=True))


def python_replica_down_fractions(
    chain: ReplicaChain, horizon: float, replications: int, seed: int
) -> tuple[list[float], int]:
    """Gillespie over the number of failed replicas (they are exchangeable without zones):
    per replication the fraction of ``horizon`` without k up; also the events simulated."""
    rng = random.Random(seed)
    n, k, lam, mu, crews = chain.n, chain.k, chain.failure_rate, chain.repair_rate, chain.crews
    fractions, events = [], 0
    for _ in range(replications):
        t = down = 0.0
        failed = 0
        while True:
            r_fail = (n - failed) * lam
            total = r_fail + mu * crews_busy(failed, crews)
            dt = rng.expovariate(total)
            if n - failed < k:
                down += min(dt, horizon - t)
            t += dt
            if t >= horizon:
                break
            events += 1
            failed += 1 if rng.random() * total < r_fail else -1
        fractions.append(down / horizon)
    return fractions, events


@pytest.mark.parametrize("impl", ["openha", "naive_python"])
def test_replica_montecarlo(benchmark, record_rate, impl):
    """Fraction of time without a quorum, 3 of 5 replicas, 2 repair crews."""
    benchmark.group = "replica Monte Carlo"
    markov_down, events_per_h = mc_chain_markov()
    if impl == "openha":
        horizon, reps = MC_HORIZON_H, 64
        est = benchmark.pedantic(
            ha.models.simulate_replicas,
            args=(MC_CHAIN,),
            kwargs=dict(horizon_hours=horizon, replications=reps, seed=1, confidence=CONFIDENCE),
            rounds=5,
        )
        lo, hi = est.ci
        events = events_per_h * horizon * reps  # expected; the kernel does not count them
    else:
        horizon, reps = MC_PY_HORIZON_H, MC_PY_REPLICATIONS
        fractions, events = benchmark.pedantic(
            python_replica_down_fractions, args=(MC_CHAIN, horizon, reps, 1), rounds=3
        )
        lo, hi = t_interval(fractions)
    benchmark.extra_info.update(impl=impl, replications=reps, horizon_hours=horizon)
    rate = record_work(benchmark, record_rate, "sim_hours_per_s", horizon * reps)
    benchmark.extra_info["events_per_s"] = events * rate / (horizon * reps)
    assert lo <= markov_down <= hi


# --------------------------------------------------------------------------- checkpoint Monte Carlo
# Hours: 100 h of work, 2 h intervals (dividing the work, so every segment is a full one as
# in Daly's cost function), 6-minute checkpoints, MTBF 10 h, 12-minute restarts.
JOB = dict(work=100.0, interval=2.0, delta=0.1, mtbf=10.0, restart=0.2)
CKPT_JOBS = 10**5  # openha and numpy
CKPT_PY_JOBS = 2000
CKPT_NUMPY_CHUNK = 10**4  # jobs per vectorised block (5e5 segments)


def segment_lengths(work: float, interval: float) -> list[float]:
    """Full intervals, then the remainder; a ratio within 1e-9 of an integer has none (so
    work=1, interval=0.1 is 10 segments, not 10 plus a sliver of rounding error)."""
    ratio = work / interval
    full = round(ratio) if abs(ratio - round(ratio)) <= 1e-9 * ratio else math.floor(ratio)
    rest = work - full * interval
    return [interval] * full + ([rest] if rest > 1e-9 * work else [])


def python_checkpoint_runtimes(
    work: float, interval: float, delta: float, mtbf: float, restart: float, jobs: int, seed: int
) -> list[float]:
    """Wall-clock time of each job: segments of compute + checkpoint; a failure loses the
    segment, then a restart (which failures can also interrupt) precedes the retry."""
    rng = random.Random(seed)
    rate = 1.0 / mtbf
    needs = [seg + delta for seg in segment_lengths(work, interval)]
    out = []
    for _ in range(jobs):
        clock = 0.0
        for need in needs:
            while True:
                x = rng.expovariate(rate)
                if x >= need:
                    clock += need
                    break
                clock += x
                while (x := rng.expovariate(rate)) < restart:
                    clock += x
                clock += restart
        out.append(clock)
    return out


def numpy_checkpoint_runtimes(
    work: float, interval: float, delta: float, mtbf: float, restart: float, jobs: int, seed: int
) -> np.ndarray:
    """Every (job, segment) attempt at once: failures are memoryless, so each compute or
    restart phase draws a fresh exponential; loop until every segment has completed."""
    rng = np.random.default_rng(seed)
    seg_need = np.array(segment_lengths(work, interval)) + delta
    out = np.empty(jobs)
    for first in range(0, jobs, CKPT_NUMPY_CHUNK):
        m = min(CKPT_NUMPY_CHUNK, jobs - first)
        need = np.tile(seg_need, m)
        clock = np.zeros(need.size)
        restarting = np.zeros(need.size, dtype=bool)
        pending = np.arange(need.size)
        while pending.size:
            x = rng.exponential(mtbf, pending.size)
            in_restart = restarting[pending]
            cost = np.where(in_restart, restart, need[pending])
            ok = x >= cost
            clock[pending] += np.where(ok, cost, x)
            restarting[pending] = ~ok
            pending = pending[~ok | in_restart]
        out[first : first + m] = clock.reshape(m, seg_need.size).sum(axis=1)
    return out


@pytest.mark.parametrize("impl", ["openha", "numpy", "naive_python"])
def test_checkpoint_montecarlo(benchmark, record_rate, impl):
    benchmark.group = "checkpoint Monte Carlo"
    expected = ha.models.expected_runtime(**JOB)
    jobs = CKPT_PY_JOBS if impl == "naive_python" else CKPT_JOBS
    benchmark.extra_info.update(impl=impl, jobs=jobs)
    if impl == "openha":
        est = benchmark.pedantic(
            ha.models.simulate_checkpoint,
            kwargs=dict(**JOB, replications=jobs, seed=1, confidence=CONFIDENCE),
            rounds=5,
        )
        lo, hi = est.ci
    elif impl == "numpy":
        times = benchmark.pedantic(
            numpy_checkpoint_runtimes, kwargs=dict(**JOB, jobs=jobs, seed=1), rounds=3
        )
        lo, hi = t_interval(times)
    else:
        times = benchmark.pedantic(
            python_checkpoint_runtimes, kwargs=dict(**JOB, jobs=jobs, seed=1), rounds=3
        )
        lo, hi = t_interval(times)
    record_work(benchmark, record_rate, "jobs_per_s", jobs)
    assert lo <= expected <= hi


# --------------------------------------------------------------------------- checkpoint optimum
# (delta, mtbf) in minutes: Daly's Figs. 3-5 (5-minute checkpoints, MTBF 24 h, 6 h, 15 min)
OPTIMUM_CASES = ((5.0, 1440.0), (5.0, 360.0), (5.0, 15.0))
OPTIMUM_WORK, OPTIMUM_RESTART = 500 * 60.0, 10.0
RTOL_MINIMIZE = 1e-7  # the cost is flat at its minimum: values fix tau to ~sqrt(eps)


@functools.cache
def exact_optimum(delta: float, mtbf: float) -> float:
    """Root of x + delta/M + ln(1 - x) = 0 (tau = M x) by Newton's method in 50 digits."""
    with localcontext() as ctx:
        ctx.prec = 50
        d = Decimal(delta) / Decimal(mtbf)
        x = min((2 * d).sqrt(), Decimal("0.9"))
        for _ in range(100):
            step = (x + d + (1 - x).ln()) / (1 - 1 / (1 - x))
            x -= step
            if abs(step) < Decimal(10) ** -40 * x:
                break
        return float(x * Decimal(mtbf))


def scipy_optimum(delta: float, mtbf: float) -> float:
    """Minimise the expected runtime numerically; the optimum lies below the MTBF."""
    res = optimize.minimize_scalar(
        lambda tau: ha.models.expected_runtime(OPTIMUM_WORK, tau, delta, mtbf, OPTIMUM_RESTART),
        bounds=(1e-6 * mtbf, mtbf),
        method="bounded",
        options={"xatol": 1e-12 * mtbf},
    )
    return float(res.x)


@pytest.mark.parametrize("impl", ["openha", "scipy_minimize_scalar"])
def test_checkpoint_optimum(benchmark, impl):
    """The three optima in one call each."""
    benchmark.group = "checkpoint optimum"
    benchmark.extra_info.update(impl=impl, cases=len(OPTIMUM_CASES))
    solve = ha.models.optimal_interval if impl == "openha" else scipy_optimum
    taus = benchmark(lambda: [solve(d, m) for d, m in OPTIMUM_CASES])
    for tau, (d, m) in zip(taus, OPTIMUM_CASES, strict=True):
        if impl == "openha":
            assert tau == pytest.approx(exact_optimum(d, m), rel=RTOL, abs=0.0)
        else:
            assert tau == pytest.approx(ha.models.optimal_interval(d, m), rel=RTOL_MINIMIZE)
