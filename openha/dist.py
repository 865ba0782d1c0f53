"""Latency and failure distributions (milliseconds unless a name says otherwise).

=================================  =====================================================
:class:`Constant`                  always ``value``
:class:`Exponential`               ``shift`` + exponential with mean ``mean``
:class:`Uniform`                   uniform on ``[low, high]``
:class:`LogNormal`                 ``shift`` + ``exp(N(mu, sigma^2))``
:class:`Normal`                    normal ``N(mean, std^2)`` conditioned on being >= 0
:class:`Weibull`                   ``shift`` + Weibull(``shape``, ``scale``), for times to failure
:class:`Empirical`                 one of the given samples, uniformly at random
=================================  =====================================================

Each is a small frozen dataclass with ``.mean``, ``.std``, ``.cdf(x)``,
``.quantile(q)``, ``.support()`` and ``.sample(size, seed)``. Kernels see a
distribution as ``(kind, params)``; :func:`pack` lays out many of them as flat arrays
for :func:`openha._dist_kernels.sample`, which is also the code behind ``.sample``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import InitVar, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast, overload

import numpy as np
import numpy.typing as npt
from scipy import stats

from openha import _dist_kernels as _k
from openha._random import SeedLike, stream_states
from openha.errors import OpenHAError, check_finite, check_int, check_nonnegative, check_positive

if TYPE_CHECKING:
    from scipy.stats._distn_infrastructure import rv_continuous_frozen

__all__ = [
    "Constant",
    "Distribution",
    "Empirical",
    "Exponential",
    "LogNormal",
    "Normal",
    "Uniform",
    "Weibull",
    "as_distribution",
    "pack",
]

FloatArray = npt.NDArray[np.float64]


def _float_array(name: str, x: Any) -> FloatArray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise OpenHAError(f"{name} must be a number or an array of numbers; got {x!r}") from None
    if np.isnan(arr).any():
        raise OpenHAError(f"{name} must not be NaN; got {x!r}")
    return arr


def _check_fields(obj: Any, **checks: Callable[[str, Any], float]) -> None:
    """Validate and normalise dataclass fields: ``check(f"{field} of {Class}", value)``."""
    for name, check in checks.items():
        label = f"{name} of {type(obj).__name__}"
        object.__setattr__(obj, name, check(label, getattr(obj, name)))


def _shaped_like(x: Any, out: Any) -> float | FloatArray:
    """A float for a scalar ``x``, else an array of ``x``'s shape."""
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return float(out)
    return np.asarray(out, dtype=np.float64).reshape(np.shape(x))


class Distribution(ABC):
    """A distribution of a non-negative duration, usable by openha's kernels.

    Examples
    --------
    >>> from openha.dist import Distribution, Uniform
    >>> d = Uniform(150, 300)
    >>> isinstance(d, Distribution), d.mean, d.support()
    (True, 225.0, (150.0, 300.0))
    """

    @property
    def mean(self) -> float:
        """Mean of the distribution."""
        return float(self._mean())

    @property
    def std(self) -> float:
        """Standard deviation of the distribution."""
        return float(self._std())

    @overload
    def cdf(self, x: float) -> float: ...
    @overload
    def cdf(self, x: npt.NDArray[Any] | Sequence[float]) -> FloatArray: ...
    def cdf(self, x: npt.ArrayLike) -> float | FloatArray:
        """P(X <= x), elementwise: a float for a number, else an array of ``x``'s shape."""
        return _shaped_like(x, self._cdf(_float_array("x", x)))

    @overload
    def quantile(self, q: float) -> float: ...
    @overload
    def quantile(self, q: npt.NDArray[Any] | Sequence[float]) -> FloatArray: ...
    def quantile(self, q: npt.ArrayLike) -> float | FloatArray:
        """Smallest x with P(X <= x) >= q, elementwise, for q in [0, 1]."""
        arr = _float_array("q", q)
        bad = ~((arr >= 0.0) & (arr <= 1.0))
        if bad.any():
            raise OpenHAError(f"q must be a probability in [0, 1]; got {arr[bad].flat[0]!r}")
        return _shaped_like(q, self._quantile(arr))

    def sample(self, size: int, seed: SeedLike = None) -> FloatArray:
        """``size`` independent draws, by the same numba kernel simulations use."""
        n = check_int("size", size, low=0)
        kind, params = self._encode()
        out: FloatArray = _k.sample_many(kind, params, n, stream_states(seed, 1)[0])
        return out

    @abstractmethod
    def support(self) -> tuple[float, float]:
        """The smallest interval ``(low, high)`` holding all the probability."""

    @abstractmethod
    def _encode(self) -> tuple[int, FloatArray]:
        """``(kind, params)`` as :mod:`openha._dist_kernels` reads them."""

    @abstractmethod
    def _mean(self) -> float: ...
    @abstractmethod
    def _std(self) -> float: ...
    @abstractmethod
    def _cdf(self, x: FloatArray) -> FloatArray: ...
    @abstractmethod
    def _quantile(self, q: FloatArray) -> FloatArray: ...


class _ScipyBacked(Distribution):
    """Statistics from the equivalent frozen scipy.stats distribution."""

    @abstractmethod
    def to_scipy(self) -> rv_continuous_frozen:
        """The same distribution as a frozen :mod:`scipy.stats` distribution."""

    @cached_property
    def _frozen(self) -> rv_continuous_frozen:
        # Building a frozen scipy distribution costs ~0.2 ms; latency integration asks for
        # the CDF thousands of times, so build it once per (immutable) distribution.
        return self.to_scipy()

    def _mean(self) -> float:
        return float(self._frozen.mean())

    def _std(self) -> float:
        return float(self._frozen.std())

    def _cdf(self, x: FloatArray) -> FloatArray:
        return np.asarray(self._frozen.cdf(x), dtype=np.float64)

    def _quantile(self, q: FloatArray) -> FloatArray:
        # ppf can land a rounding error below the support (truncnorm at tiny q).
        return np.maximum(np.asarray(self._frozen.ppf(q), dtype=np.float64), self.support()[0])

    def support(self) -> tuple[float, float]:
        return (float(getattr(self, "shift", 0.0)), math.inf)  # Normal has no shift: 0


@dataclass(frozen=True)
class Constant(Distribution):
    """Always ``value``.

    Examples
    --------
    >>> from openha.dist import Constant
    >>> d = Constant(0.1)
    >>> d, d.mean, d.std, d.quantile(0.99)
    (Constant(value=0.1), 0.1, 0.0, 0.1)
    >>> d.sample(3, seed=1)
    array([0.1, 0.1, 0.1])
    """

    value: float

    def __post_init__(self) -> None:
        _check_fields(self, value=check_nonnegative)

    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def _encode(self) -> tuple[int, FloatArray]:
        return _k.CONSTANT, np.array([self.value])

    def _mean(self) -> float:
        return self.value

    def _std(self) -> float:
        return 0.0

    def _cdf(self, x: FloatArray) -> FloatArray:
        return (x >= self.value).astype(np.float64)

    def _quantile(self, q: FloatArray) -> FloatArray:
        return np.full_like(q, self.value)


@dataclass(frozen=True)
class Exponential(_ScipyBacked):
    """``shift`` plus an exponential with mean ``mean``.

    The parameters are kept as ``scale`` (the exponential part's mean) and ``shift``;
    ``.mean`` is the mean of the whole distribution, ``shift + mean``.

    Examples
    --------
    >>> from openha.dist import Exponential
    >>> d = Exponential(mean=0.1, shift=0.1)
    >>> d, d.scale, round(d.mean, 6), round(d.std, 6)
    (Exponential(mean=0.1, shift=0.1), 0.1, 0.2, 0.1)
    >>> round(d.quantile(0.5), 4)  # shift + mean * ln 2
    0.1693
    >>> d.sample(3, seed=1).round(3)
    array([0.136, 0.175, 0.159])
    """

    mean: InitVar[float] = field()
    shift: float = field(default=0.0, kw_only=True)
    scale: float = field(init=False)

    def __post_init__(self, mean: float) -> None:
        object.__setattr__(self, "scale", check_positive("mean of Exponential", mean))
        _check_fields(self, shift=check_nonnegative)

    def __repr__(self) -> str:
        return f"Exponential(mean={self.scale!r}, shift={self.shift!r})"

    def to_scipy(self) -> rv_continuous_frozen:
        return stats.expon(loc=self.shift, scale=self.scale)

    def _cdf(self, x: FloatArray) -> FloatArray:
        # closed form, without scipy's per-call overhead (the hot path of latency integration)
        z = np.maximum((x - self.shift) / self.scale, 0.0)
        return -np.expm1(-z)

    def _encode(self) -> tuple[int, FloatArray]:
        return _k.EXPONENTIAL, np.array([self.scale, self.shift])


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[low, high]``; ``low == high`` is allowed (a constant).

    Examples
    --------
    >>> from openha.dist import Uniform
    >>> d = Uniform(150, 300)  # Raft's election timeout
    >>> d, d.mean, round(d.std, 3), d.quantile([0.0, 0.5, 1.0])
    (Uniform(low=150.0, high=300.0), 225.0, 43.301, array([150., 225., 300.]))
    >>> d.sample(3, seed=1).round(1)
    array([254.7, 220.7, 232.8])
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_fields(self, low=check_nonnegative, high=check_nonnegative)
        if self.low > self.high:
            raise OpenHAError(f"low of Uniform must be <= high ({self.high!r}); got {self.low!r}")

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def _encode(self) -> tuple[int, FloatArray]:
        return _k.UNIFORM, np.array([self.low, self.high])

    def _mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def _std(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)

    def _cdf(self, x: FloatArray) -> FloatArray:
        if self.high == self.low:
            return (x >= self.low).astype(np.float64)
        return np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)

    def _quantile(self, q: FloatArray) -> FloatArray:
        return self.low + q * (self.high - self.low)


@dataclass(frozen=True, kw_only=True)
class LogNormal(_ScipyBacked):
    """``shift + exp(N(mu, sigma^2))``: a heavy-ish right tail, as in measured RTTs.

    Examples
    --------
    >>> from openha.dist import LogNormal
    >>> d = LogNormal.from_mean_std(mean=2.0, std=1.0, shift=0.5)
    >>> round(d.mu, 4), round(d.sigma, 4), round(d.mean, 6), round(d.std, 6)
    (0.5816, 0.4724, 2.5, 1.0)
    >>> round(LogNormal(mu=0.0, sigma=1.0).quantile(0.5), 6)  # median exp(mu)
    1.0
    >>> LogNormal(mu=0.0, sigma=0.5).sample(3, seed=1).round(3)
    array([0.659, 1.624, 0.595])
    """

    mu: float
    sigma: float
    shift: float = 0.0

    def __post_init__(self) -> None:
        _check_fields(self, mu=check_finite, sigma=check_positive, shift=check_nonnegative)

    @classmethod
    def from_mean_std(cls, mean: float, std: float, shift: float = 0.0) -> LogNormal:
        """The LogNormal whose lognormal part (without ``shift``) has this mean and std."""
        m = check_positive("mean of LogNormal", mean)
        s = check_positive("std of LogNormal", std)
        sigma2 = math.log1p((s / m) ** 2)
        if sigma2 == 0.0:
            raise OpenHAError(f"std of LogNormal is too small next to mean ({m!r}); got {std!r}")
        return cls(mu=math.log(m) - 0.5 * sigma2, sigma=math.sqrt(sigma2), shift=shift)

    def to_scipy(self) -> rv_continuous_frozen:
        return stats.lognorm(s=self.sigma, loc=self.shift, scale=math.exp(self.mu))

    # Closed forms: scipy's lognorm moments use exp(s**2) - 1, which cancels for small sigma.
    def _mean(self) -> float:
        return self.shift + math.exp(self.mu + 0.5 * self.sigma**2)

    def _std(self) -> float:
        return math.sqrt(math.expm1(self.sigma**2)) * math.exp(self.mu + 0.5 * self.sigma**2)

    def _encode(self) -> tuple[int, FloatArray]:
        return _k.LOGNORMAL, np.array([self.mu, self.sigma, self.shift])


@dataclass(frozen=True)
class Normal(_ScipyBacked):
    """A normal ``N(mean, std^2)`` conditioned on being >= 0 (a truncated normal).

    ``mean >= 0`` is required, so at least half the parent normal is kept. The
    parameters are kept as ``loc`` and ``scale``; ``.mean`` and ``.std`` are those of
    the truncated distribution, which exceed ``loc`` and fall short of ``scale``.

    Examples
    --------
    >>> from openha.dist import Normal
    >>> d = Normal(mean=1.0, std=1.0)
    >>> d, round(d.mean, 4), round(d.std, 4), d.support()
    (Normal(mean=1.0, std=1.0), 1.2876, 0.7935, (0.0, inf))
    >>> d.sample(3, seed=1).round(3)
    array([0.165, 1.97 , 1.609])
    """

    mean: InitVar[float] = field()
    std: InitVar[float] = field()
    loc: float = field(init=False)
    scale: float = field(init=False)

    def __post_init__(self, mean: float, std: float) -> None:
        object.__setattr__(self, "loc", check_nonnegative("mean of Normal", mean))
        object.__setattr__(self, "scale", check_positive("std of Normal", std))

    def __repr__(self) -> str:
        return f"Normal(mean={self.loc!r}, std={self.scale!r})"

    def to_scipy(self) -> rv_continuous_frozen:
        a = -self.loc / self.scale
        return stats.truncnorm(a=a, b=math.inf, loc=self.loc, scale=self.scale)

    def _encode(self) -> tuple[int, FloatArray]:
        return _k.TRUNCATED_NORMAL, np.array([self.loc, self.scale])


@dataclass(frozen=True, kw_only=True)
class Weibull(_ScipyBacked):
    """``shift`` plus a Weibull with ``shape`` and ``scale``, for times to failure.

    ``shape < 1`` models infant mortality, ``shape > 1`` wear-out. Use one time unit
    consistently (milliseconds in simulations).

    Examples
    --------
    >>> from openha.dist import Weibull
    >>> d = Weibull(shape=1.5, scale=1000.0)
    >>> round(d.mean, 2)  # scale * Gamma(1 + 1/shape)
    902.75
    >>> d.sample(3, seed=1).round(1)
    array([506. , 826.9, 706.4])
    """

    shape: float
    scale: float
    shift: float = 0.0

    def __post_init__(self) -> None:
        _check_fields(self, shape=check_positive, scale=check_positive, shift=check_nonnegative)

    def to_scipy(self) -> rv_continuous_frozen:
        return stats.weibull_min(c=self.shape, loc=self.shift, scale=self.scale)

    def _encode(self) -> tuple[int, FloatArray]:
        return _k.WEIBULL, np.array([self.shape, self.scale, self.shift])


@dataclass(frozen=True)
class Empirical(Distribution):
    """The empirical distribution of measured values: each sample with equal weight.

    ``samples`` is stored sorted as a read-only float64 array. Sampling returns stored
    values (no interpolation); ``cdf`` is the ECDF and ``quantile`` its inverse.

    Examples
    --------
    >>> from openha.dist import Empirical
    >>> d = Empirical([3.0, 1.0, 2.0, 2.0])
    >>> d, d.mean, d.cdf(2.0), d.quantile(0.5)
    (Empirical(samples=[1.0, 2.0, 2.0, 3.0]), 2.0, 0.75, 2.0)
    >>> d.sample(5, seed=1)
    array([2., 2., 2., 1., 2.])
    """

    samples: npt.ArrayLike

    def __post_init__(self) -> None:
        raw = np.asarray(self.samples)
        if raw.dtype.kind not in "iuf":
            raise OpenHAError(f"samples of Empirical must be numbers; got dtype {raw.dtype}")
        if raw.ndim != 1 or raw.size == 0:
            raise OpenHAError(
                f"samples of Empirical must be a 1-D array of >= 1 value; got shape {raw.shape}"
            )
        values = np.sort(raw.astype(np.float64))
        bad = ~(np.isfinite(values) & (values >= 0.0))
        if bad.any():
            raise OpenHAError(
                f"samples of Empirical must be finite numbers >= 0; got {values[bad][0]!r}"
            )
        values.flags.writeable = False
        object.__setattr__(self, "samples", values)

    @property
    def _values(self) -> FloatArray:
        return cast(FloatArray, self.samples)

    def __repr__(self) -> str:
        v = self._values
        if v.size <= 8:
            return f"Empirical(samples={v.tolist()!r})"
        return f"Empirical(samples=<{v.size} values in [{float(v[0])!r}, {float(v[-1])!r}]>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Empirical) and np.array_equal(self._values, other._values)

    def __hash__(self) -> int:
        return hash((Empirical, self._values.tobytes()))

    def support(self) -> tuple[float, float]:
        return (float(self._values[0]), float(self._values[-1]))

    def _encode(self) -> tuple[int, FloatArray]:
        return _k.EMPIRICAL, self._values.copy()

    def _mean(self) -> float:
        return float(self._values.mean())

    def _std(self) -> float:
        return float(self._values.std())

    def _cdf(self, x: FloatArray) -> FloatArray:
        v = self._values
        return np.searchsorted(v, x, side="right") / float(v.size)

    def _quantile(self, q: FloatArray) -> FloatArray:
        return np.quantile(self._values, q, method="inverted_cdf")


def as_distribution(x: Distribution | float, name: str) -> Distribution:
    """``x`` if it is a distribution, :class:`Constant` ``(x)`` if it is a number >= 0.

    Parameters
    ----------
    x : Distribution or float
        The value a user gave for parameter ``name``.
    name : str
        The parameter's name, used in the error message.

    Examples
    --------
    >>> from openha.dist import Exponential, as_distribution
    >>> as_distribution(0.02, "fsync_ms")
    Constant(value=0.02)
    >>> as_distribution(Exponential(mean=1.0), "delay")
    Exponential(mean=1.0, shift=0.0)
    >>> as_distribution(-1, "delay")
    Traceback (most recent call last):
    ...
    openha.errors.OpenHAError: delay must be a finite number >= 0; got -1
    """
    if isinstance(x, Distribution):
        return x
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        raise OpenHAError(
            f"{name} must be a distribution from openha.dist or a number >= 0; got {x!r}"
        )
    return Constant(check_nonnegative(name, x))


def pack(
    dists: Iterable[Distribution | float],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    """Flat arrays for kernels: ``kinds``, ``offsets`` and ``params``.

    Distribution ``i`` is ``(kinds[i], params[offsets[i]:offsets[i + 1]])``; numbers
    become :class:`Constant`.

    Examples
    --------
    >>> from openha.dist import Empirical, Exponential, pack
    >>> kinds, offsets, params = pack([0.5, Exponential(mean=2.0), Empirical([4, 3])])
    >>> kinds.tolist(), offsets.tolist(), params.tolist()
    ([0, 1, 6], [0, 1, 3, 5], [0.5, 2.0, 0.0, 3.0, 4.0])
    """
    if isinstance(dists, Distribution | str) or not isinstance(dists, Iterable):
        raise OpenHAError(f"dists must be a sequence of distributions; got {dists!r}")
    encoded = [as_distribution(d, f"dists[{i}]")._encode() for i, d in enumerate(dists)]
    kinds = np.array([kind for kind, _ in encoded], dtype=np.int64)
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([p.size for _, p in encoded])
    params = np.concatenate([p for _, p in encoded]) if encoded else np.empty(0)
    return kinds, offsets, params.astype(np.float64, copy=False)
