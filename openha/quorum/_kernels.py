"""numba kernels for quorum availability and latency.

Arrays and scalars in, arrays and scalars out. A program is the five arrays of
:class:`openha.quorum.program.Program` (kind, arg, k, woff, weights).

Precision: every probability is carried as the pair (a, u) = (P(up), P(down)),
each computed only as sums of products of non-negative terms, so an
unavailability of 1e-15 keeps full relative precision (no ``1 - a``).
"""

import numpy as np
from numba import njit, prange

from openha import _dist_kernels as dk
from openha import _random_kernels as rk
from openha._config import jit_options

_OPTS = jit_options()
_POPTS = jit_options(parallel=True)
LEAF = 0


# --------------------------------------------------------------------------- exact
@njit(**_OPTS)
def read_once(kind, arg, k, woff, w, a, u, fixed, max_k):
    """(P(true), P(false)) of a program in which every free node appears once.

    ``a[i], u[i]``: P(node i up), P(node i down); ``fixed[i]`` = 1 up, 0 down, -1 free.
    A gate's count of satisfied weight is a Poisson-binomial distribution, built by a
    DP capped at k (state k means "at least k"), one child at a time.
    """
    nops = kind.shape[0]
    sa = np.empty(nops)
    su = np.empty(nops)
    pmf = np.empty(max_k + 1)
    sp = 0
    for op in range(nops):
        if kind[op] == LEAF:
            i = arg[op]
            f = fixed[i]
            if f == 1:
                sa[sp] = 1.0
                su[sp] = 0.0
            elif f == 0:
                sa[sp] = 0.0
                su[sp] = 1.0
            else:
                sa[sp] = a[i]
                su[sp] = u[i]
            sp += 1
            continue
        m = arg[op]
        kk = k[op]
        base = sp - m
        pmf[0] = 1.0
        for s in range(1, kk + 1):
            pmf[s] = 0.0
        for j in range(m):
            ac = sa[base + j]
            uc = su[base + j]
            wj = w[woff[op] + j]
            for s in range(kk - 1, -1, -1):
                ps = pmf[s]
                if ps == 0.0:
                    continue
                t = s + wj
                if t > kk:
                    t = kk
                pmf[t] += ps * ac
                pmf[s] = ps * uc
        down = 0.0
        for s in range(kk):
            down += pmf[s]
        sa[base] = pmf[kk]
        su[base] = down
        sp = base + 1
    return sa[0], su[0]


@njit(**_OPTS)
def eval3(kind, arg, k, woff, w, fixed, tv, uv):
    """Three-valued evaluation: 1 true, 0 false, -1 undetermined by the fixed nodes."""
    nops = kind.shape[0]
    sp = 0
    for op in range(nops):
        if kind[op] == LEAF:
            tv[sp] = fixed[arg[op]]
            sp += 1
            continue
        m = arg[op]
        base = sp - m
        t = 0
        unk = 0
        for j in range(m):
            x = tv[base + j]
            if x == 1:
                t += w[woff[op] + j]
            elif x == -1:
                unk += w[woff[op] + j]
        if t >= k[op]:
            tv[base] = 1
        elif t + unk < k[op]:
            tv[base] = 0
        else:
            tv[base] = -1
        sp = base + 1
    return tv[0]


@njit(**_OPTS)
def exact(kind, arg, k, woff, w, a, u, fixed0, rep, max_k):
    """(P(true), P(false)) for independent nodes, by conditioning on repeated nodes.

    Each assignment of the repeated nodes leaves a read-once program, solved exactly
    by :func:`read_once`; branches that the fixed nodes already decide are pruned.
    """
    s = rep.shape[0]
    if s == 0:
        return read_once(kind, arg, k, woff, w, a, u, fixed0, max_k)
    nops = kind.shape[0]
    fixed = fixed0.copy()
    tv = np.empty(nops, np.int64)
    uv = np.empty(nops, np.int64)
    choice = np.zeros(s, np.int64)
    pp = np.empty(s + 1)
    pp[0] = 1.0
    total_a = 0.0
    total_u = 0.0
    d = 0
    while d >= 0:
        if choice[d] == 2:
            fixed[rep[d]] = fixed0[rep[d]]
            d -= 1
            if d >= 0:
                choice[d] += 1
            continue
        node = rep[d]
        if fixed0[node] != -1:  # already fixed by the caller: one branch only
            if choice[d] == 1:
                choice[d] = 2
                continue
            prob = pp[d]
        elif choice[d] == 0:
            fixed[node] = 1
            prob = pp[d] * a[node]
        else:
            fixed[node] = 0
            prob = pp[d] * u[node]
        pp[d + 1] = prob
        if prob == 0.0:
            choice[d] += 1
            continue
        status = eval3(kind, arg, k, woff, w, fixed, tv, uv)
        if status == 1:
            total_a += prob
            choice[d] += 1
            continue
        if status == 0:
            total_u += prob
            choice[d] += 1
            continue
        if d + 1 == s:
            ra, ru = read_once(kind, arg, k, woff, w, a, u, fixed, max_k)
            total_a += prob * ra
            total_u += prob * ru
            choice[d] += 1
            continue
        d += 1
        choice[d] = 0
    return total_a, total_u


@njit(**_OPTS)
def exact_correlated(kind, arg, k, woff, w, a, u, rep, max_k, node_dom, dom_a, dom_u):
    """Exact (P(true), P(false)) with failure domains, by enumerating domain states.

    ``node_dom[i]``: bitmask of the domains node i belongs to; a node is down when any
    of its domains is down (probability ``dom_u[d]``), else independently with ``u[i]``.
    """
    n = a.shape[0]
    nd = dom_a.shape[0]
    fixed = np.empty(n, np.int64)
    total_a = 0.0
    total_u = 0.0
    for mask in range(1 << nd):
        prob = 1.0
        for d in range(nd):
            if (mask >> d) & 1:
                prob *= dom_u[d]
            else:
                prob *= dom_a[d]
        if prob == 0.0:
            continue
        for i in range(n):
            fixed[i] = 0 if (node_dom[i] & mask) != 0 else -1
        ra, ru = exact(kind, arg, k, woff, w, a, u, fixed, rep, max_k)
        total_a += prob * ra
        total_u += prob * ru
    return total_a, total_u


@njit(**_POPTS)
def cdf_points(kind, arg, k, woff, w, F, S, rep, max_k):
    """Quorum-completion CDF and survival at each column of ``F`` (node CDFs) and ``S``."""
    n, g = F.shape
    out_f = np.empty(g)
    out_s = np.empty(g)
    for j in prange(g):
        fixed = np.full(n, -1, np.int64)
        fa, fs = exact(kind, arg, k, woff, w, F[:, j].copy(), S[:, j].copy(), fixed, rep, max_k)
        out_f[j] = fa
        out_s[j] = fs
    return out_f, out_s


@njit(**_OPTS)
def cdf_points_serial(kind, arg, k, woff, w, F, S, rep, max_k):
    """:func:`cdf_points` on one thread, for a few points (no parallel start-up cost)."""
    n, g = F.shape
    out_f = np.empty(g)
    out_s = np.empty(g)
    fixed = np.full(n, -1, np.int64)
    for j in range(g):
        fa, fs = exact(kind, arg, k, woff, w, F[:, j].copy(), S[:, j].copy(), fixed, rep, max_k)
        out_f[j] = fa
        out_s[j] = fs
    return out_f, out_s


# --------------------------------------------------------------------------- Monte Carlo
@njit(**_OPTS)
def eval_bool(kind, arg, k, woff, w, up, stack):
    """Whether the set of up nodes ``up`` satisfies the program."""
    nops = kind.shape[0]
    sp = 0
    for op in range(nops):
        if kind[op] == LEAF:
            stack[sp] = 1 if up[arg[op]] else 0
            sp += 1
            continue
        m = arg[op]
        base = sp - m
        got = 0
        for j in range(m):
            if stack[base + j] != 0:
                got += w[woff[op] + j]
        stack[base] = 1 if got >= k[op] else 0
        sp = base + 1
    return stack[0] != 0


@njit(**_POPTS)
def mc_down_counts(kind, arg, k, woff, w, p_node, node_dom, p_dom, states, per_chunk):
    """Number of sampled failure states in which the program is false, per chunk.

    Chunk c uses its own stream ``states[c]`` for ``per_chunk[c]`` trials, so the
    result does not depend on how chunks are spread over threads.
    """
    n = p_node.shape[0]
    nd = p_dom.shape[0]
    nops = kind.shape[0]
    chunks = states.shape[0]
    downs = np.zeros(chunks, np.int64)
    for c in prange(chunks):
        st = states[c].copy()
        up = np.empty(n, np.bool_)
        stack = np.empty(nops, np.int64)
        count = 0
        for _ in range(per_chunk[c]):
            dmask = 0
            for d in range(nd):
                if rk.uniform(st) < p_dom[d]:
                    dmask |= 1 << d
            for i in range(n):
                up[i] = rk.uniform(st) >= p_node[i] and (node_dom[i] & dmask) == 0
            if not eval_bool(kind, arg, k, woff, w, up, stack):
                count += 1
        downs[c] = count
    return downs


@njit(**_OPTS)
def eval_time(kind, arg, k, woff, w, t_node, stack, buf_t, buf_w):
    """Time at which the program becomes true when node i answers at ``t_node[i]``."""
    nops = kind.shape[0]
    sp = 0
    for op in range(nops):
        if kind[op] == LEAF:
            stack[sp] = t_node[arg[op]]
            sp += 1
            continue
        m = arg[op]
        base = sp - m
        for j in range(m):
            buf_t[j] = stack[base + j]
            buf_w[j] = w[woff[op] + j]
        if m > 32:
            order = np.argsort(buf_t[:m])
            tt = buf_t[:m][order]
            ww = buf_w[:m][order]
            buf_t[:m] = tt
            buf_w[:m] = ww
        # insertion sort of (time, weight) by time for small gates
        for j in range(1, m if m <= 32 else 0):
            tj = buf_t[j]
            wj = buf_w[j]
            i = j - 1
            while i >= 0 and buf_t[i] > tj:
                buf_t[i + 1] = buf_t[i]
                buf_w[i + 1] = buf_w[i]
                i -= 1
            buf_t[i + 1] = tj
            buf_w[i + 1] = wj
        got = 0
        done = np.inf
        for j in range(m):
            got += buf_w[j]
            if got >= k[op]:
                done = buf_t[j]
                break
        stack[base] = done
        sp = base + 1
    return stack[0]


@njit(**_POPTS)
def mc_times(kind, arg, k, woff, w, d_kind, d_off, params, down, states, per_chunk, starts):
    """Sampled quorum-completion times; chunk c fills ``out[starts[c]:starts[c]+per_chunk[c]]``.

    Node i answers after a draw from distribution i (``d_kind[i]``, its parameters
    ``params[d_off[i]:d_off[i+1]]``), or never when ``down[i]``.
    """
    n = d_kind.shape[0]
    nops = kind.shape[0]
    chunks = states.shape[0]
    out = np.empty(per_chunk.sum())
    width = 1
    for op in range(nops):
        if arg[op] > width:
            width = arg[op]
    for c in prange(chunks):
        st = states[c].copy()
        t_node = np.empty(n)
        stack = np.empty(nops)
        buf_t = np.empty(width)
        buf_w = np.empty(width, np.int64)
        for j in range(per_chunk[c]):
            for i in range(n):
                if down[i]:
                    t_node[i] = np.inf
                else:
                    t_node[i] = dk.sample(d_kind[i], params, d_off[i], d_off[i + 1], st)
            out[starts[c] + j] = eval_time(kind, arg, k, woff, w, t_node, stack, buf_t, buf_w)
    return out
