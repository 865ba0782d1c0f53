"""openha.dist: kernel samples against the analytic distributions, closed forms, errors."""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from openha import _dist_kernels as k
from openha._random import stream_states
from openha.dist import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    LogNormal,
    Normal,
    Uniform,
    Weibull,
    as_distribution,
    pack,
)
from openha.errors import OpenHAError

N = 20_000
SEED = 20_240_601
P_MIN = 1e-3  # KS / chi-square p-value below which a kernel is wrong, not unlucky

CONTINUOUS = {
    "exponential": Exponential(mean=0.1, shift=0.1),
    "exponential-unshifted": Exponential(mean=3.0),
    "uniform": Uniform(150, 300),
    "lognormal": LogNormal(mu=0.0, sigma=1.0, shift=0.5),
    "lognormal-from-mean-std": LogNormal.from_mean_std(mean=2.0, std=0.5),
    "normal": Normal(mean=1.0, std=1.0),
    "normal-half": Normal(mean=0.0, std=2.0),  # acceptance exactly 1/2
    "normal-far": Normal(mean=10.0, std=1.0),
    "weibull-infant": Weibull(shape=0.5, scale=100.0),
    "weibull-wearout": Weibull(shape=2.0, scale=3.0, shift=1.0),
}
_MEASURED = np.random.default_rng(7).lognormal(0.0, 0.5, size=40).round(3)
DISCRETE = {
    "constant": Constant(0.1),
    "constant-zero": Constant(0.0),
    "uniform-degenerate": Uniform(2.0, 2.0),
    "empirical-small": Empirical([1, 2, 2, 5]),
    "empirical-one": Empirical([3.5]),
    "empirical-measured": Empirical(_MEASURED),
}
ALL = {**CONTINUOUS, **DISCRETE}


def _params(d: dict[str, Distribution]) -> list:
    return [pytest.param(v, id=key) for key, v in d.items()]


# --- (1) kernel samples against the analytic distribution ---------------------------------


def _assert_mean_within_4_se(x: np.ndarray, d: Distribution) -> None:
    se = d.std / math.sqrt(x.size)
    assert abs(x.mean() - d.mean) <= 4 * se + 1e-12 * abs(d.mean)


@pytest.mark.parametrize("d", _params(CONTINUOUS))
def test_continuous_samples_match_cdf(d: Distribution) -> None:
    x = d.sample(N, seed=SEED)
    assert x.dtype == np.float64 and x.shape == (N,)
    low, high = d.support()
    assert low <= x.min() and x.max() <= high
    assert stats.kstest(x, d.cdf).pvalue > P_MIN
    _assert_mean_within_4_se(x, d)


@pytest.mark.parametrize("d", _params(DISCRETE))
def test_discrete_samples_match_pmf(d: Distribution) -> None:
    # KS does not apply to atoms: compare the counts of each value with a chi-square test.
    x = d.sample(N, seed=SEED)
    values, probs = _atoms(d)
    assert np.isin(x, values).all()
    if values.size > 1:
        counts = np.array([(x == v).sum() for v in values])
        assert stats.chisquare(counts, N * probs).pvalue > P_MIN
        _assert_mean_within_4_se(x, d)


def _atoms(d: Distribution) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(d, Empirical):
        values, counts = np.unique(d.samples, return_counts=True)
        return values, counts / counts.sum()
    low, high = d.support()
    assert low == high
    return np.array([low]), np.array([1.0])


def test_normal_rejection_gives_half_normal() -> None:
    x = Normal(mean=0.0, std=2.0).sample(N, seed=SEED)
    assert stats.kstest(x, stats.halfnorm(scale=2.0).cdf).pvalue > P_MIN


# --- (2) statistics against closed forms -----------------------------------------------------

pos = st.floats(1e-3, 1e3)
nonneg = st.floats(0.0, 1e3)
probs = st.floats(0.0, 1.0 - 1e-12)


@given(mean=pos, shift=nonneg, q=probs)
def test_exponential_closed_form(mean: float, shift: float, q: float) -> None:
    d = Exponential(mean=mean, shift=shift)
    assert d.mean == pytest.approx(shift + mean)
    assert d.std == pytest.approx(mean)
    assert d.quantile(q) == pytest.approx(shift - mean * math.log1p(-q), rel=1e-9)
    assert d.support() == (shift, math.inf)


@given(low=nonneg, width=nonneg, q=st.floats(0.0, 1.0))
def test_uniform_closed_form(low: float, width: float, q: float) -> None:
    d = Uniform(low, low + width)
    assert d.mean == pytest.approx(low + width / 2)
    assert d.std == pytest.approx(width / math.sqrt(12), abs=1e-9)
    assert d.quantile(q) == pytest.approx(low + q * width, abs=1e-9)


@given(mu=st.floats(-3, 3), sigma=st.floats(0.05, 2), shift=nonneg, q=st.floats(1e-6, 1 - 1e-6))
def test_lognormal_closed_form(mu: float, sigma: float, shift: float, q: float) -> None:
    d = LogNormal(mu=mu, sigma=sigma, shift=shift)
    assert d.mean == pytest.approx(shift + math.exp(mu + sigma**2 / 2), rel=1e-9)
    assert d.std == pytest.approx(math.sqrt(math.expm1(sigma**2)) * math.exp(mu + sigma**2 / 2))
    assert d.quantile(q) == pytest.approx(shift + math.exp(mu + sigma * special.ndtri(q)))


@given(mean=pos, std=pos, shift=nonneg)
def test_lognormal_from_mean_std_round_trip(mean: float, std: float, shift: float) -> None:
    d = LogNormal.from_mean_std(mean, std, shift=shift)
    assert d.shift == shift
    assert d.mean == pytest.approx(shift + mean, rel=1e-9)
    assert d.std == pytest.approx(std, rel=1e-7)


@given(ratio=st.floats(0, 8), std=st.floats(0.1, 10), q=st.floats(0.0, 1 - 1e-9))
def test_normal_is_truncated_at_zero(ratio: float, std: float, q: float) -> None:
    # ratio <= 8 keeps Phi(-mean/std) > 0, where the closed-form quantile below is accurate
    mean = ratio * std
    d = Normal(mean=mean, std=std)
    alpha = -mean / std
    kept = special.ndtr(-alpha)  # P(parent >= 0)
    lam = math.exp(-(alpha**2) / 2) / math.sqrt(2 * math.pi) / kept
    assert d.mean == pytest.approx(mean + std * lam, rel=1e-9)
    assert d.std == pytest.approx(std * math.sqrt(1 + alpha * lam - lam**2), rel=1e-6)
    expected = mean + std * special.ndtri(special.ndtr(alpha) + q * kept)
    assert d.quantile(q) == pytest.approx(expected, rel=1e-6, abs=1e-9 * std)
    assert (d.loc, d.scale, d.support()) == (mean, std, (0.0, math.inf))


@given(shape=st.floats(0.2, 10), scale=pos, shift=nonneg, q=probs)
def test_weibull_closed_form(shape: float, scale: float, shift: float, q: float) -> None:
    d = Weibull(shape=shape, scale=scale, shift=shift)
    g1, g2 = special.gamma(1 + 1 / shape), special.gamma(1 + 2 / shape)
    assert d.mean == pytest.approx(scale * g1 + shift, rel=1e-9)
    assert d.std == pytest.approx(scale * math.sqrt(g2 - g1**2), rel=1e-6)
    assert d.quantile(q) == pytest.approx(shift + scale * (-math.log1p(-q)) ** (1 / shape))


def test_constant_closed_form() -> None:
    d = Constant(2.5)
    assert (d.mean, d.std, d.support()) == (2.5, 0.0, (2.5, 2.5))
    np.testing.assert_array_equal(d.cdf([2.4, 2.5, 2.6]), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(d.quantile([0.0, 0.5, 1.0]), [2.5, 2.5, 2.5])


@given(xs=st.lists(st.floats(0, 100), min_size=1, max_size=30), q=st.floats(0, 1))
def test_empirical_is_ecdf_and_its_inverse(xs: list[float], q: float) -> None:
    d = Empirical(xs)
    s = sorted(xs)
    assert d.samples.tolist() == s
    assert d.mean == pytest.approx(np.mean(xs))
    assert d.std == pytest.approx(np.std(xs))
    assert d.support() == (s[0], s[-1])
    for x in [*s, -1.0, 101.0]:
        assert d.cdf(x) == sum(v <= x for v in s) / len(s)
    # inverse ECDF: the smallest sample whose ECDF reaches q
    i = max(math.ceil(q * len(s) - 1e-12), 1) - 1
    assert d.quantile(q) == s[i]


# --- (3) cdf and quantile are inverse ------------------------------------------------------


@pytest.mark.parametrize("d", _params(CONTINUOUS))
@given(q=st.floats(0.0, 1.0))
@settings(max_examples=60, deadline=None)
def test_cdf_of_quantile_is_q(d: Distribution, q: float) -> None:
    x = d.quantile(q)
    assert d.support()[0] <= x <= d.support()[1]
    assert d.cdf(x) == pytest.approx(q, abs=1e-9)


@pytest.mark.parametrize("d", _params(ALL))
@given(q=st.floats(0.0, 1.0))
@settings(max_examples=30, deadline=None)
def test_quantile_is_smallest_x_with_cdf_at_least_q(d: Distribution, q: float) -> None:
    x = d.quantile(q)
    assert d.cdf(x) >= q - 1e-9
    if q > 1e-9 and math.isfinite(x):
        below = np.nextafter(x, -math.inf) - 1e-9 * max(abs(x), 1.0)
        assert d.cdf(below) < q + 1e-9


@pytest.mark.parametrize("d", _params(ALL))
def test_cdf_and_quantile_keep_shape(d: Distribution) -> None:
    assert isinstance(d.cdf(1.0), float) and isinstance(d.quantile(0.5), float)
    grid = np.linspace(0.0, 1.0, 6).reshape(2, 3)
    assert d.cdf(grid).shape == (2, 3) and d.quantile(grid).shape == (2, 3)
    assert np.all(np.diff(d.quantile(np.linspace(0, 1, 101))) >= 0)
    assert d.cdf(math.inf) == 1.0 and d.cdf(-1.0) == 0.0


# --- (4) determinism ---------------------------------------------------------------------------


@pytest.mark.parametrize("d", _params(ALL))
def test_same_seed_same_samples(d: Distribution) -> None:
    a = d.sample(1000, seed=3)
    np.testing.assert_array_equal(a, d.sample(1000, seed=3))
    gen_a = d.sample(100, seed=np.random.default_rng(9))
    np.testing.assert_array_equal(gen_a, d.sample(100, seed=np.random.default_rng(9)))
    if d.std > 0:
        assert not np.array_equal(a, d.sample(1000, seed=4))
        assert not np.array_equal(a, d.sample(1000))
    assert d.sample(0, seed=3).shape == (0,)


# --- (5) bad input -------------------------------------------------------------------------------

BAD_NUMBERS = [-1.0, math.nan, math.inf, "x", None, True]

BAD_INPUTS = [
    *[(lambda v: Constant(v), "value", v) for v in BAD_NUMBERS],
    *[(lambda v: Exponential(mean=v), "mean", v) for v in [*BAD_NUMBERS, 0.0]],
    *[(lambda v: Exponential(mean=1.0, shift=v), "shift", v) for v in BAD_NUMBERS],
    *[(lambda v: Uniform(v, 10.0), "low", v) for v in BAD_NUMBERS],
    *[(lambda v: Uniform(0.0, v), "high", v) for v in BAD_NUMBERS],
    (lambda v: Uniform(v, 1.0), "low", 2.0),
    *[(lambda v: LogNormal(mu=v, sigma=1.0), "mu", v) for v in [math.nan, math.inf, "x", None]],
    *[(lambda v: LogNormal(mu=0.0, sigma=v), "sigma", v) for v in [*BAD_NUMBERS, 0.0]],
    *[(lambda v: LogNormal(mu=0.0, sigma=1.0, shift=v), "shift", v) for v in BAD_NUMBERS],
    *[(lambda v: LogNormal.from_mean_std(v, 1.0), "mean", v) for v in [*BAD_NUMBERS, 0.0]],
    *[(lambda v: LogNormal.from_mean_std(1.0, v), "std", v) for v in [*BAD_NUMBERS, 0.0]],
    (lambda v: LogNormal.from_mean_std(1.0, 1.0, shift=v), "shift", -1.0),
    *[(lambda v: Normal(mean=v, std=1.0), "mean", v) for v in BAD_NUMBERS],
    *[(lambda v: Normal(mean=1.0, std=v), "std", v) for v in [*BAD_NUMBERS, 0.0]],
    *[(lambda v: Weibull(shape=v, scale=1.0), "shape", v) for v in [*BAD_NUMBERS, 0.0]],
    *[(lambda v: Weibull(shape=1.0, scale=v), "scale", v) for v in [*BAD_NUMBERS, 0.0]],
    *[(lambda v: Weibull(shape=1.0, scale=1.0, shift=v), "shift", v) for v in BAD_NUMBERS],
    *[
        (lambda v: Empirical(v), "samples", v)
        for v in [[], [1.0, -1.0], [math.nan], [math.inf], [[1.0, 2.0]], ["a"], 5.0, [True]]
    ],
    *[(lambda v: Exponential(mean=1.0).quantile(v), "q", v) for v in [-0.1, 1.5, math.nan, "a"]],
    (lambda v: Empirical([1.0]).quantile(v), "q", [0.5, 2.0]),
    *[(lambda v: Uniform(0, 1).cdf(v), "x", v) for v in [math.nan, "a", [0.5, math.nan]]],
    *[(lambda v: Constant(1.0).sample(v), "size", v) for v in [-1, 1.5, "a", None]],
    (lambda v: Constant(1.0).sample(3, seed=v), "seed", -1),
    *[(lambda v: as_distribution(v, "delay"), "delay", v) for v in [*BAD_NUMBERS, "1", [1.0]]],
    (lambda v: pack([1.0, v]), "dists[1]", -2.0),
    (lambda v: pack(v), "dists", 5),
]


@pytest.mark.parametrize(
    ("make", "name", "value"),
    [pytest.param(*case, id=f"{case[1]}={case[2]!r}") for case in BAD_INPUTS],
)
def test_bad_input_names_the_parameter(make, name: str, value: object) -> None:
    with pytest.raises(OpenHAError) as err:
        make(value)
    assert name in str(err.value)
    assert isinstance(err.value, ValueError)


def test_error_message_names_parameter_value_and_rule() -> None:
    with pytest.raises(OpenHAError, match=r"^mean of Exponential must be .* > 0; got -1$"):
        Exponential(mean=-1)


# --- (6) pack layout and the kernel's view of it ------------------------------------------------


def test_pack_layout() -> None:
    dists = [
        Constant(0.5),
        Exponential(mean=2.0, shift=1.0),
        Uniform(1, 3),
        LogNormal(mu=0.1, sigma=0.2, shift=0.3),
        Normal(mean=4.0, std=5.0),
        Weibull(shape=6.0, scale=7.0, shift=8.0),
        Empirical([9, 1, 5]),
        0.25,
    ]
    kinds, offsets, params = pack(dists)
    assert kinds.dtype == np.int64 and offsets.dtype == np.int64 and params.dtype == np.float64
    expected_kinds = [k.CONSTANT, k.EXPONENTIAL, k.UNIFORM, k.LOGNORMAL]
    expected_kinds += [k.TRUNCATED_NORMAL, k.WEIBULL, k.EMPIRICAL, k.CONSTANT]
    assert kinds.tolist() == expected_kinds
    assert offsets.tolist() == [0, 1, 3, 5, 8, 10, 13, 16, 17]
    assert params.tolist() == [0.5, 2, 1, 1, 3, 0.1, 0.2, 0.3, 4, 5, 6, 7, 8, 1, 5, 9, 0.25]
    assert len(set(kinds.tolist())) == k.N_KINDS


def test_pack_empty() -> None:
    kinds, offsets, params = pack([])
    assert (kinds.shape, offsets.tolist(), params.shape) == ((0,), [0], (0,))


@pytest.mark.parametrize("d", _params(ALL))
def test_kernel_sample_reads_its_slice_of_packed_params(d: Distribution) -> None:
    # The same draws whether the distribution is packed among others or sampled alone.
    kinds, offsets, params = pack([Constant(7.0), d, Uniform(0, 1)])
    state = stream_states(5, 1)[0]
    packed = [k.sample(kinds[1], params, offsets[1], offsets[2], state) for _ in range(50)]
    np.testing.assert_array_equal(packed, d.sample(50, seed=5))


# --- value semantics -------------------------------------------------------------------------


@pytest.mark.parametrize("d", _params(ALL))
def test_frozen_hashable_picklable_values(d: Distribution) -> None:
    twin = pickle.loads(pickle.dumps(d))  # sweeps ship distributions to worker processes
    assert twin == d and hash(twin) == hash(d)
    np.testing.assert_array_equal(twin.sample(10, seed=1), d.sample(10, seed=1))
    if "<" not in repr(d):
        assert eval(repr(d)) == d
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(d, dataclasses.fields(d)[0].name, 1.0)


def test_readable_reprs() -> None:
    assert repr(Exponential(mean=0.1, shift=0.1)) == "Exponential(mean=0.1, shift=0.1)"
    assert repr(Normal(1, 2)) == "Normal(mean=1.0, std=2.0)"
    assert repr(Uniform(150, 300)) == "Uniform(low=150.0, high=300.0)"
    assert repr(Empirical(np.arange(100))) == "Empirical(samples=<100 values in [0.0, 99.0]>)"


def test_empirical_is_a_value() -> None:
    raw = np.array([3.0, 1.0, 2.0])
    d = Empirical(raw)
    assert raw.tolist() == [3.0, 1.0, 2.0]  # input left alone
    assert not d.samples.flags.writeable
    assert d == Empirical([1, 2, 3]) and hash(d) == hash(Empirical([1, 2, 3]))
    assert d != Empirical([1, 2, 4]) and d != Constant(1.0)
    assert len({d, Empirical([2.0, 3.0, 1.0])}) == 1


def test_as_distribution() -> None:
    d = Exponential(mean=1.0)
    assert as_distribution(d, "delay") is d
    assert as_distribution(3, "delay") == Constant(3.0)
    assert as_distribution(np.float32(0.5), "delay") == Constant(0.5)
