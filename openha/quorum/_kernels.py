"""numba kernels for quorum availability and latency.

Arrays and scalars in, arrays and scalars out. A program is the five arrays of
:class:`openha.quorum.program.Program` (kind, arg, k, woff, weights).

Precision: every probability is carried as the pair (a, u) = (P(up), P(down)),
each computed only as sums of products of non-negative terms, so an
unavailability of 1e-15 keeps full relative precision (no ``1 - a``).
"""

import math

import numpy as np
from numba import njit, prange

from openha import _dist_kernels as dk
from openha import _random_kernels as rk
from openha._config import jit_options

_OPTS = jit_options()
_POPTS = jit_options(parallel=True)
LEAF = 0
_NEVER = np.int64(1) << np.int64(62)  # "no further event": beyond any trial index


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
        top = 0  # highest state reachable so far
        for j in range(m):
            ac = sa[base + j]
            uc = su[base + j]
            wj = w[woff[op] + j]
            if wj == 1:
                # branch-free recurrence over the reachable states (vectorises)
                hi = top + 1
                if hi >= kk:
                    pmf[kk] += pmf[kk - 1] * ac
                    hi = kk - 1
                for s in range(hi, 0, -1):
                    pmf[s] = pmf[s] * uc + pmf[s - 1] * ac
                pmf[0] *= uc
            else:
                for s in range(min(top, kk - 1), -1, -1):
                    ps = pmf[s]
                    t = s + wj
                    if t > kk:
                        t = kk
                    pmf[t] += ps * ac
                    pmf[s] = ps * uc
            top = min(kk, top + wj)
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


@njit(inline="always", **_OPTS)
def _skip(state, log1m_p):
    """Bernoulli(p) trials before the next success: floor(log U / log(1 - p)), capped."""
    if log1m_p == 0.0:
        return _NEVER
    g = math.log(rk.uniform(state)) / log1m_p
    if g >= _NEVER:
        return _NEVER
    return np.int64(g)


@njit(**_POPTS)
def mc_down_counts(kind, arg, k, woff, w, p_node, node_dom, p_dom, states, per_chunk):
    """Number of sampled failure states in which the program is false, per chunk.

    Failures are sampled sparsely: over the sequence of (trial, node) pairs the gaps
    between candidate failures are geometric with the largest p, and a candidate at
    node i is kept with probability p_i / p_max (thinning), so each node still fails
    independently with p_i, yet rare failures cost one draw per failure, not per node.
    Domain outages are sampled the same way over (trial, domain) pairs. A trial with
    no failure is up without evaluating the program. Chunk c uses its own stream
    ``states[c]`` for ``per_chunk[c]`` trials, so the result does not depend on how
    chunks are spread over threads.
    """
    n = p_node.shape[0]
    nd = p_dom.shape[0]
    nops = kind.shape[0]
    chunks = states.shape[0]
    p_max = 0.0
    for i in range(n):
        p_max = max(p_max, p_node[i])
    d_max = 0.0
    for d in range(nd):
        d_max = max(d_max, p_dom[d])
    l_node = math.log1p(-p_max) if p_max < 1.0 else -np.inf
    l_dom = math.log1p(-d_max) if d_max < 1.0 else -np.inf
    downs = np.zeros(chunks, np.int64)
    for c in prange(chunks):
        st = states[c].copy()
        trials = per_chunk[c]
        up = np.ones(n, np.bool_)
        touched = np.empty(n, np.int64)
        stack = np.empty(nops, np.int64)
        node_end = trials * n
        dom_end = trials * nd
        nxt = _skip(st, l_node)
        dnx = _skip(st, l_dom) if nd > 0 else _NEVER
        count = 0
        while True:
            tn = nxt // n if nxt < node_end else trials
            td = dnx // nd if dnx < dom_end else trials
            t = min(tn, td)
            if t >= trials:
                break
            nt = 0
            dmask = 0
            if nd > 0:
                lim = (t + 1) * nd
                while dnx < lim:
                    d = dnx - t * nd
                    if rk.uniform(st) * d_max < p_dom[d]:
                        dmask |= 1 << d
                    dnx = min(_NEVER, dnx + 1 + _skip(st, l_dom))
            lim = (t + 1) * n
            while nxt < lim:
                i = nxt - t * n
                if rk.uniform(st) * p_max < p_node[i] and up[i]:
                    up[i] = False
                    touched[nt] = i
                    nt += 1
                nxt = min(_NEVER, nxt + 1 + _skip(st, l_node))
            if dmask != 0:
                for i in range(n):
                    if up[i] and (node_dom[i] & dmask) != 0:
                        up[i] = False
                        touched[nt] = i
                        nt += 1
            if nt > 0:
                if not eval_bool(kind, arg, k, woff, w, up, stack):
                    count += 1
                for j in range(nt):
                    up[touched[j]] = True
        downs[c] = count
    return downs


@njit(**_OPTS)
def _kth_smallest(buf, m, k):
    """The k-th smallest (1-based) of buf[:m], by in-place quickselect."""
    lo = 0
    hi = m - 1
    target = k - 1
    while lo < hi:
        pivot = buf[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                tmp = buf[i]
                buf[i] = buf[j]
                buf[j] = tmp
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            break
    return buf[target]


@njit(inline="always", **_OPTS)
def _sift_down(buf_t, buf_w, root, end):
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and buf_t[child + 1] > buf_t[child]:
            child += 1
        if buf_t[root] >= buf_t[child]:
            return
        buf_t[root], buf_t[child] = buf_t[child], buf_t[root]
        buf_w[root], buf_w[child] = buf_w[child], buf_w[root]
        root = child


@njit(inline="always", **_OPTS)
def _sort_by_time(buf_t, buf_w, m):
    """Sort (time, weight) pairs by time in place, without allocating (heapsort).

    Allocation-free on purpose: a callee that may allocate makes every evaluation
    of :func:`eval_time` pay for memory management, even when it is not called.
    """
    for start in range(m // 2 - 1, -1, -1):
        _sift_down(buf_t, buf_w, start, m)
    for end in range(m - 1, 0, -1):
        buf_t[0], buf_t[end] = buf_t[end], buf_t[0]
        buf_w[0], buf_w[end] = buf_w[end], buf_w[0]
        _sift_down(buf_t, buf_w, 0, end)


@njit(inline="always", **_OPTS)
def _weighted_done(stack, base, m, w, off, kk, buf_t, buf_w):
    """Earliest time at which the weights of answered children reach kk."""
    for j in range(m):
        buf_t[j] = stack[base + j]
        buf_w[j] = w[off + j]
    _sort_by_time(buf_t, buf_w, m)
    got = 0
    for j in range(m):
        got += buf_w[j]
        if got >= kk:
            return buf_t[j]
    return np.inf


@njit(**_OPTS)
def eval_time_unit(kind, arg, k, t_node, stack, buf_t):
    """:func:`eval_time` for programs whose gates all have unit weights (choose, AND, OR).

    Kept apart because the weighted branch, even untaken, makes numba's generated code
    about five times slower per evaluation (measured: ~110 ns vs ~20 ns for majority(5)).
    """
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
        stack[base] = _kth_smallest(buf_t, m, k[op])
        sp = base + 1
    return stack[0]


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
        off = woff[op]
        unit = True
        for j in range(m):
            if w[off + j] != 1:
                unit = False
                break
        if unit:  # choose(k): the k-th smallest child time
            for j in range(m):
                buf_t[j] = stack[base + j]
            stack[base] = _kth_smallest(buf_t, m, k[op])
        else:
            stack[base] = _weighted_done(stack, base, m, w, off, k[op], buf_t, buf_w)
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
    unit = True
    for j in range(w.shape[0]):
        if w[j] > 1:
            unit = False
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
            if unit:
                out[starts[c] + j] = eval_time_unit(kind, arg, k, t_node, stack, buf_t)
            else:
                out[starts[c] + j] = eval_time(kind, arg, k, woff, w, t_node, stack, buf_t, buf_w)
    return out


# --------------------------------------------------------------------------- f-resilience
@njit(**_OPTS)
def _survives(s, f, qmasks):
    """Whether the node set ``s`` (bitmask) still contains a quorum after any f removals."""
    if f == 0 or s == 0:
        for q in qmasks:
            if (q & s) == q:
                return True
        return False
    rest = s
    while rest != 0:
        low = rest & -rest
        rest ^= low
        if not _survives(s ^ low, f - 1, qmasks):
            return False
    return True


@njit(**_OPTS)
def f_resilient_sets(n, f, qmasks):
    """Minimal node sets (bitmasks over n <= 24 nodes) that keep a quorum after any f failures."""
    size = np.int64(1) << np.int64(n)
    ok = np.zeros(size, np.bool_)
    for s in range(size):
        ok[s] = _survives(np.int64(s), f, qmasks)
    out = []
    for s in range(size):
        if not ok[s]:
            continue
        minimal = True
        rest = np.int64(s)
        while rest != 0:
            low = rest & -rest
            rest ^= low
            if ok[s ^ low]:
                minimal = False
                break
        if minimal:
            out.append(np.int64(s))
    return np.array(out, dtype=np.int64)


@njit(**_OPTS)
def minimal_masks(masks):
    """The inclusion-minimal sets among ``masks`` (bitmasks, sorted by popcount first)."""
    keep = np.empty(masks.size, np.int64)
    kept = 0
    for i in range(masks.size):
        q = masks[i]
        minimal = True
        for j in range(kept):
            m = keep[j]
            if (m & q) == m:
                minimal = False
                break
        if minimal:
            keep[kept] = q
            kept += 1
    return keep[:kept]
