"""The SimPy election baseline checked before it is trusted as a baseline.

- Against the measurements: for the wide ranges 100-200 and 150-300 its median and mean
  time to elect are within 10 % of the LogCabin numbers (``ha.data.raft_election_times``;
  ``ha.sim.LOGCABIN``'s parameters were fitted so that the same experiment reproduces
  the wide ranges within 10 %). With 1,000 simulated trials against 1,000 measured ones
  the standard error of the relative difference is ~1.5 % (bootstrapped below), so a
  wrong model more than ~5 % beyond the band cannot pass by luck, and a right one misses
  the band only if it is already > 5 % off. The test asserts that 3 standard errors stay
  under 5 %, so a change of sample size cannot quietly make the band meaningless.
- Against openha: the same experiment with the same parameters, so the two samples of
  times must look like one distribution (two-sample Kolmogorov-Smirnov).
- Raft's rules: a stale node never wins; narrow ranges need more rounds (split votes)
  but still elect.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy import stats
from simpy_elections import N_NODES, STALE, CountingEnvironment, ElectionTrial, run_elections

import openha as ha
from openha.data import raft_election_times

TRIALS = 1000  # ~0.5 ms each
BAND = 0.10


@functools.cache
def simulated(label: str, trials: int = TRIALS, seed: int = 1) -> np.ndarray:
    lo, hi = (float(x) for x in label.split("-"))
    return run_elections(lo, hi, trials, seed=seed)


def relative_se(a: np.ndarray, b: np.ndarray, stat, reps: int = 400) -> float:
    """Bootstrap standard error of stat(a) / stat(b) - 1."""
    rng = np.random.default_rng(0)
    ra = rng.choice(a, size=(reps, a.size))
    rb = rng.choice(b, size=(reps, b.size))
    return float(np.std(stat(ra, axis=1) / stat(rb, axis=1)))


@pytest.mark.parametrize("label", ["100-200", "150-300"])
@pytest.mark.parametrize("stat", [np.median, np.mean], ids=["median", "mean"])
def test_matches_logcabin(label, stat):
    sim = simulated(label)
    measured = raft_election_times(label).samples
    assert not np.isnan(sim).any()
    se = relative_se(sim, measured, stat)
    assert 3 * se < 0.05, f"too few trials for a {BAND:.0%} band: SE {se:.1%}"
    assert stat(sim) == pytest.approx(stat(measured), rel=BAND)


def test_same_distribution_as_openha():
    sim = simulated("100-200")
    df = ha.elections(
        ha.Raft(election_timeout=(100, 200)),
        ha.sim.LOGCABIN,
        2000,
        stale=ha.sim.LOGCABIN_STALE,
        seed=1,
    )
    assert STALE == ha.sim.LOGCABIN_STALE and N_NODES == ha.sim.LOGCABIN.n
    assert stats.ks_2samp(sim, df["time_to_elect_ms"].to_numpy()).pvalue > 1e-3


def test_stale_nodes_never_win():
    rng = np.random.default_rng(2)
    winners = set()
    for _ in range(200):
        env = CountingEnvironment()
        trial = ElectionTrial(env, rng, 50, 100)
        env.run(until=trial.done)
        assert trial.latest is not None
        winners.add(trial.latest[0])
    assert winners == {1, 2}  # 0 crashed; 3 and 4 lack entry 2


def test_narrow_range_retries_split_votes():
    narrow = simulated("150-155", trials=100)
    wide = simulated("150-300", trials=100)
    assert np.median(narrow) > 1.3 * np.median(wide)
    few = simulated("150-151", trials=5)
    assert not np.isnan(few).any() and few.min() > 150
