"""Monte Carlo quorum results depend on the seed only: not on threads, not on the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba

import openha as ha

ROOT = Path(__file__).resolve().parents[1]

# Run in this process and in fresh subprocesses; prints float.hex() of every result.
SNIPPET = """
import json, sys
import openha as ha

def run(seed):
    nodes = [
        ha.Node(f"n{i}", p_fail=0.05 * (i + 1), domain=f"z{i % 3}",
                latency=ha.dist.LogNormal(mu=0.1 * i, sigma=0.5, shift=0.2))
        for i in range(7)
    ]
    a, b, c = nodes[:3]
    qs = ha.QuorumSystem(reads=ha.majority(nodes[3:]) * (a + b) + a * c)
    fm = ha.FailureModel(domains={"z0": 0.02, "z1": 0.05})
    av = qs.availability(op="write", failures=fm, method="montecarlo", trials=20_011, seed=seed)
    lat = qs.latency_distribution(
        op="read", quantiles=(0.5, 0.99), method="montecarlo", trials=5_003, seed=seed
    )
    vals = [av.unavailability, *av.ci, lat.mean_ms, *lat.mean_ci_ms]
    for q in (0.5, 0.99):
        vals += [lat.quantiles_ms[q], *lat.quantiles_ci_ms[q]]
    return [float(v).hex() for v in vals]

if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]))))
"""

_NS: dict = {}
exec(compile(SNIPPET, "<determinism snippet>", "exec"), _NS)
run = _NS["run"]


def test_same_seed_same_result_on_1_and_2_threads(restore_threads):
    assert numba.config.NUMBA_NUM_THREADS >= 2
    numba.set_num_threads(1)
    one = run(17)
    numba.set_num_threads(2)
    two = run(17)
    assert one == two
    assert run(17) == two  # and again, same process


def test_same_seed_same_result_in_other_processes():
    here = run(23)  # this process: numba's default thread count (2 on the CI machine)
    # one fresh process (importing openha costs seconds), pinned to a single thread
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", SNIPPET, "23"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=300,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here


def test_different_seeds_give_different_results():
    r1, r2 = run(1), run(2)
    # every sampled statistic differs (estimates and CI bounds alike)
    assert r1[0] != r2[0]  # unavailability
    assert r1[3] != r2[3]  # latency mean
    assert r1[6] != r2[6]  # median latency


def test_generator_and_seed_sequence_seeds_are_reproducible():
    import numpy as np

    nodes = [ha.Node(f"n{i}", p_fail=0.2) for i in range(5)]
    qs = ha.QuorumSystem(writes=ha.majority(nodes))
    kw = {"method": "montecarlo", "trials": 10_000}
    g1 = qs.availability(seed=np.random.default_rng(5), **kw)
    g2 = qs.availability(seed=np.random.default_rng(5), **kw)
    s1 = qs.availability(seed=np.random.SeedSequence(5), **kw)
    assert g1 == g2
    assert s1 == qs.availability(seed=5, **kw)  # an int seed is its SeedSequence
