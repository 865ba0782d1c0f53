"""Sampling kernels for :mod:`openha.dist`: one draw from an encoded distribution.

A distribution reaches a kernel as ``(kind, params[lo:hi])`` (see ``openha.dist.pack``);
randomness comes only from :mod:`openha._random_kernels`, through an explicit state.
The kind codes below are the contract with ``openha.dist``; parameter layouts:

=================  ==========================================
kind               params[lo:hi]
=================  ==========================================
CONSTANT           value
EXPONENTIAL        mean, shift
UNIFORM            low, high
LOGNORMAL          mu, sigma, shift
TRUNCATED_NORMAL   mean, std  (of the normal before truncation at 0)
WEIBULL            shape, scale, shift
EMPIRICAL          the sorted samples (at least one)
=================  ==========================================
"""

import math

import numpy as np
from numba import njit

from openha._config import jit_options
from openha._random_kernels import exponential, standard_normal, uniform, weibull

_OPTS = jit_options()

CONSTANT = 0
EXPONENTIAL = 1
UNIFORM = 2
LOGNORMAL = 3
TRUNCATED_NORMAL = 4
WEIBULL = 5
EMPIRICAL = 6
N_KINDS = 7


@njit(**_OPTS)
def sample(kind, params, lo, hi, state):
    """One draw of the distribution ``(kind, params[lo:hi])``; advances ``state``."""
    if kind == CONSTANT:
        return params[lo]
    if kind == EXPONENTIAL:
        return params[lo + 1] + params[lo] * exponential(state)
    if kind == UNIFORM:
        return params[lo] + (params[lo + 1] - params[lo]) * uniform(state)
    if kind == LOGNORMAL:
        return params[lo + 2] + math.exp(params[lo] + params[lo + 1] * standard_normal(state))
    if kind == TRUNCATED_NORMAL:
        # Rejection from the parent normal: mean >= 0 keeps acceptance >= 1/2.
        while True:
            x = params[lo] + params[lo + 1] * standard_normal(state)
            if x >= 0.0:
                return x
    if kind == WEIBULL:
        return params[lo + 2] + weibull(state, params[lo], params[lo + 1])
    if kind == EMPIRICAL:
        n = hi - lo
        i = int(uniform(state) * n)
        if i >= n:  # u * n can round up to n when n is large
            i = n - 1
        return params[lo + i]
    return np.nan  # unreachable: openha.dist only encodes the kinds above


@njit(**_OPTS)
def sample_many(kind, params, n, state):
    """``n`` independent draws of ``(kind, params)``; advances ``state``."""
    out = np.empty(n, dtype=np.float64)
    hi = params.shape[0]
    for i in range(n):
        out[i] = sample(kind, params, 0, hi, state)
    return out
