"""xoshiro256** in numba: an explicit random state passed into kernels.

A state is a ``uint64[4]`` array (one row of :func:`openha._random.stream_states`).
Kernels never touch numba's global ``np.random`` state, whose per-thread streams
would make results depend on the thread count.
Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021.
"""

import math

import numpy as np
from numba import njit

from openha._config import jit_options

_OPTS = jit_options()
_U1 = np.uint64(1)
_U5 = np.uint64(5)
_U9 = np.uint64(9)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U11 = np.uint64(11)
_U64 = np.uint64(64)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit(inline="always", **_OPTS)
def _rotl(x, k):
    return (x << k) | (x >> (_U64 - k))


@njit(**_OPTS)
def next_u64(state):
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    result = _rotl(s1 * _U5, np.uint64(7)) * _U9
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _U45)
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return result


@njit(**_OPTS)
def uniform(state):
    """A double in the open interval (0, 1)."""
    return (float(next_u64(state) >> _U11) + 0.5) * _TWO_M53


@njit(**_OPTS)
def exponential(state):
    """Standard exponential (mean 1)."""
    return -math.log(uniform(state))


@njit(**_OPTS)
def standard_normal(state):
    """Standard normal by the Box-Muller transform (one of the pair is used)."""
    u1 = uniform(state)
    u2 = uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(**_OPTS)
def weibull(state, shape, scale):
    """Weibull(shape, scale) by inversion."""
    return scale * (-math.log(uniform(state))) ** (1.0 / shape)
