"""Stationary distributions of continuous-time Markov chains, to full relative precision.

Unavailability is the probability of rare states, often below 1e-15, so it must carry
relative, not absolute, accuracy. Gaussian elimination (LU) on the balance equations
only gives absolute accuracy ~1e-16: a tiny probability can come out with no correct
digit. The Grassmann-Taksar-Heyman algorithm (GTH; Grassmann, Taksar & Heyman, Operations
Research 33(5), 1985) is Gaussian elimination that never subtracts: each diagonal is
recomputed as a sum of off-diagonal rates, so every stationary probability is correct
to a few ulps, however small (O'Cinneide, Numerische Mathematik 65, 1993).

GTH is dense, O(m^3): used up to ``MAX_GTH_STATES`` states. Larger chains use scipy's
sparse LU, whose small probabilities are only accurate in absolute terms.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from openha.errors import OpenHAError

__all__ = ["MAX_GTH_STATES", "stationary"]

MAX_GTH_STATES = 1500


def _gth(rates: np.ndarray) -> np.ndarray:
    """Stationary vector from the off-diagonal rate matrix (modified in place)."""
    a = rates
    m = a.shape[0]
    np.fill_diagonal(a, 0.0)
    for k in range(m - 1, 0, -1):
        s = a[k, :k].sum()  # rate out of k into states not yet eliminated: no subtraction
        if s <= 0.0:
            raise OpenHAError("the chain is not irreducible: a state cannot be left")
        a[:k, k] /= s
        a[:k, :k] += np.outer(a[:k, k], a[k, :k])
    pi = np.zeros(m)
    pi[0] = 1.0
    for k in range(1, m):
        pi[k] = pi[:k] @ a[:k, k]
    return pi / pi.sum()


def stationary(q: sp.csr_array | np.ndarray) -> np.ndarray:
    """The stationary distribution pi (pi Q = 0, sum 1) of an irreducible generator ``q``.

    Examples
    --------
    >>> import numpy as np
    >>> from openha.models.stationary import stationary
    >>> lam, mu = 1e-9, 1.0  # a two-state machine: up -> down at lam, back at mu
    >>> pi = stationary(np.array([[-lam, lam], [mu, -mu]]))
    >>> bool(abs(pi[1] / (lam / (lam + mu)) - 1) < 1e-15)
    True
    """
    m = q.shape[0]
    if m <= MAX_GTH_STATES:
        dense = q.toarray() if sp.issparse(q) else np.array(q, dtype=float)
        return _gth(dense)
    qs = sp.csr_array(q)
    a = qs.T.tolil()
    a[0, :] = np.ones(m)  # replace one balance equation by the normalisation
    b = np.zeros(m)
    b[0] = 1.0
    return np.clip(np.asarray(spsolve(a.tocsc(), b)), 0.0, None)
