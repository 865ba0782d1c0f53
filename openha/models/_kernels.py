"""numba simulations that cross-check the models: replica failures and checkpoint/restart.

Arrays and scalars in, arrays out; randomness from explicit xoshiro states, one per
chunk of replications, so results do not depend on the thread count.
"""

import numpy as np
from numba import njit, prange

from openha import _random_kernels as rk
from openha._config import jit_options

_OPTS = jit_options()
_POPTS = jit_options(parallel=True)


@njit(**_OPTS)
def _replica_run(zone_of, sizes, k, lam, mu, crews, zlam, zmu, horizon, first_loss, st):
    """One run of the node-level process; returns (time without quorum, time of first loss).

    Rates are recomputed from node and zone states at every event (Gillespie): up nodes
    in up zones fail at ``lam``; failed nodes in up zones are repaired at total rate
    ``mu * min(failed, crews)`` (crews < 0: no limit), the one repaired chosen uniformly;
    zones fail at ``zlam`` and return at ``zmu``. With ``first_loss`` the run stops at
    the first loss of quorum.
    """
    n = zone_of.shape[0]
    nz = sizes.shape[0]
    node_up = np.ones(n, np.bool_)
    zone_up = np.ones(nz, np.bool_)
    t = 0.0
    down_time = 0.0
    while t < horizon:
        alive = 0
        fail_pool = 0
        rep_pool = 0
        for i in range(n):
            if zone_up[zone_of[i]]:
                if node_up[i]:
                    alive += 1
                    fail_pool += 1
                else:
                    rep_pool += 1
        if alive < k and first_loss:
            return 0.0, t
        busy = rep_pool if crews < 0 else min(rep_pool, crews)
        z_up = 0
        for z in range(nz):
            if zone_up[z]:
                z_up += 1
        r_fail = lam * fail_pool
        r_rep = mu * busy
        r_zf = zlam * z_up
        r_zr = zmu * (nz - z_up)
        total = r_fail + r_rep + r_zf + r_zr
        dt = rk.exponential(st) / total
        step = min(dt, horizon - t)
        if alive < k:
            down_time += step
        t += dt
        if t >= horizon:
            break
        u = rk.uniform(st) * total
        if u < r_fail:
            target = int(rk.uniform(st) * fail_pool)
            for i in range(n):
                if zone_up[zone_of[i]] and node_up[i]:
                    if target == 0:
                        node_up[i] = False
                        break
                    target -= 1
        elif u < r_fail + r_rep:
            target = int(rk.uniform(st) * rep_pool)
            for i in range(n):
                if zone_up[zone_of[i]] and not node_up[i]:
                    if target == 0:
                        node_up[i] = True
                        break
                    target -= 1
        elif u < r_fail + r_rep + r_zf:
            target = int(rk.uniform(st) * z_up)
            for z in range(nz):
                if zone_up[z]:
                    if target == 0:
                        zone_up[z] = False
                        break
                    target -= 1
        else:
            target = int(rk.uniform(st) * (nz - z_up))
            for z in range(nz):
                if not zone_up[z]:
                    if target == 0:
                        zone_up[z] = True
                        break
                    target -= 1
    return down_time, t


@njit(**_POPTS)
def replica_runs(
    zone_of, sizes, k, lam, mu, crews, zlam, zmu, horizon, first_loss, states, per_chunk
):
    """Many independent runs; returns per-run (down time, end or first-loss time)."""
    chunks = states.shape[0]
    starts = np.zeros(chunks + 1, np.int64)
    for c in range(chunks):
        starts[c + 1] = starts[c] + per_chunk[c]
    down = np.empty(starts[chunks])
    ends = np.empty(starts[chunks])
    for c in prange(chunks):
        st = states[c].copy()
        for j in range(per_chunk[c]):
            d, e = _replica_run(
                zone_of, sizes, k, lam, mu, crews, zlam, zmu, horizon, first_loss, st
            )
            down[starts[c] + j] = d
            ends[starts[c] + j] = e
    return down, ends


@njit(**_OPTS)
def _time_to_failure(kind, scale, shape, st):
    if kind == 0:
        return scale * rk.exponential(st)
    return rk.weibull(st, shape, scale)


@njit(**_POPTS)
def checkpoint_runs(n_full, last, tau, delta, restart, kind, scale, shape, states, per_chunk):
    """Wall-clock times of checkpointed jobs under a renewal failure process.

    ``n_full`` segments of ``tau`` computation, then one of ``last`` if ``last > 0``, each
    followed by a checkpoint ``delta`` (as in Daly's cost function); segments are counted,
    not summed, so rounding never adds a sliver segment; a failure loses the work since the last checkpoint and costs
    ``restart``, during which failures can strike again. Times to failure are exponential
    (``kind`` 0, mean ``scale``) or Weibull (``kind`` 1) and renew at each failure.
    """
    chunks = states.shape[0]
    starts = np.zeros(chunks + 1, np.int64)
    for c in range(chunks):
        starts[c + 1] = starts[c] + per_chunk[c]
    out = np.empty(starts[chunks])
    for c in prange(chunks):
        st = states[c].copy()
        for j in range(per_chunk[c]):
            clock = 0.0
            seg_index = 0
            n_seg = n_full + (1 if last > 0.0 else 0)
            next_fail = _time_to_failure(kind, scale, shape, st)
            needs_restart = False
            while True:
                if needs_restart:
                    if next_fail < restart:
                        clock += next_fail
                        next_fail = _time_to_failure(kind, scale, shape, st)
                        continue
                    clock += restart
                    next_fail -= restart
                    needs_restart = False
                seg = tau if seg_index < n_full else last
                need = seg + delta
                if next_fail < need:
                    clock += next_fail
                    next_fail = _time_to_failure(kind, scale, shape, st)
                    needs_restart = True
                    continue
                clock += need
                next_fail -= need
                seg_index += 1
                if seg_index == n_seg:
                    break
            out[starts[c] + j] = clock
    return out
