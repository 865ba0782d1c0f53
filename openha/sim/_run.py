"""The event loop: pops events in (time, sequence) order and dispatches them.

Engine events (arrivals, CPU and disk completions, clients, faults) are handled
here; protocol events go to the protocol's handlers, chosen by ``C_PROTO``.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha._random_kernels import uniform
from openha.sim import (
    _chain,
    _clients,
    _multipaxos,
    _paxos,
    _primary_backup,
    _raft,
    _raft_log,
    _raft_state,
)
from openha.sim._engine import (
    cpu_enqueue,
    cpu_next,
    crash_node,
    cut_off,
    disk_next,
    disk_row,
    draw,
    free_message,
    fsync_done,
    new_message,
    pop,
    push,
    timeline,
    trail,
    violation,
)
from openha.sim._layout import (
    C_ELECT,
    C_MAX_EVENTS,
    C_N,
    C_N_PART,
    C_N_SCHED,
    C_PROTO,
    C_QUIET_WRITES,
    C_RANDOM_FAULTS,
    D_TTF,
    D_TTR,
    E_ARRIVE,
    E_CNEXT,
    E_CPU,
    E_CRASH,
    E_CRETRY,
    E_CTIMEOUT,
    E_DISK,
    E_ETIMER,
    E_HBTIMER,
    E_OPEN,
    E_PART_OFF,
    E_PART_ON,
    E_PTIMER,
    E_RECOVER,
    F_HB,
    F_STOP_TIME,
    G_ELECTED_AT,
    G_HEARD_AT,
    G_NOW,
    K_ELECTED,
    K_EVENTS,
    K_HEAP,
    K_MAXTERM,
    K_MFREE,
    K_NREQ,
    K_PART_ACTIVE,
    K_STATUS,
    M_A,
    M_B,
    M_SRC,
    M_TYPE,
    P_CHAIN,
    P_MULTIPAXOS,
    P_PAXOS,
    P_PRIMARY_BACKUP,
    P_RAFT,
    R_INDEX,
    R_KIND,
    R_TERM,
    ST_BUDGET,
    ST_DONE,
    ST_OVERFLOW,
    ST_RUNNING,
    ST_STUCK,
    ST_TIME,
    T_TIMER,
    TL_CRASH,
    TL_PART_OFF,
    TL_PART_ON,
    TL_RECOVER,
    U_INC,
    U_PART,
    U_UP,
    V_ACKED_LOST,
    WRITE,
    view,
)

_OPTS = jit_options()


@njit(**_OPTS)
def _on_message(s, proto, node, slot):
    if s.m_i[slot, M_TYPE] == T_TIMER:
        _on_timer(s, proto, s.m_i[slot, M_B], node, s.m_i[slot, M_A])
    elif proto == P_RAFT:
        _raft.on_message(s, node, slot)
    elif proto == P_MULTIPAXOS:
        _multipaxos.on_message(s, node, slot)
    elif proto == P_PRIMARY_BACKUP:
        _primary_backup.on_message(s, node, slot)
    elif proto == P_PAXOS:
        _paxos.on_message(s, node, slot)
    elif proto == P_CHAIN:
        _chain.on_message(s, node, slot)


@njit(**_OPTS)
def _on_disk(s, proto, node, row):
    if proto == P_RAFT:
        _raft.on_disk(s, node, row)
    elif proto == P_MULTIPAXOS:
        _multipaxos.on_disk(s, node, row)
    elif proto == P_PRIMARY_BACKUP:
        _primary_backup.on_disk(s, node, row)
    elif proto == P_PAXOS:
        _paxos.on_disk(s, node, row)
    elif proto == P_CHAIN:
        _chain.on_disk(s, node, row)


@njit(**_OPTS)
def _on_timer(s, proto, kind, node, gen):
    if proto == P_RAFT:
        if kind == E_ETIMER:
            _raft.on_election_timer(s, node, gen)
        elif gen == s.ni[node, _raft_state.HBGEN]:
            _raft_log.on_heartbeat_timer(s, node)
    elif proto == P_MULTIPAXOS:
        _multipaxos.on_timer(s, node, kind, gen)
    elif proto == P_PRIMARY_BACKUP:
        _primary_backup.on_timer(s, node, kind, gen)
    elif proto == P_PAXOS:
        _paxos.on_timer(s, node, kind, gen)
    elif proto == P_CHAIN:
        _chain.on_timer(s, node, kind, gen)


@njit(**_OPTS)
def _crash(s, proto, node):
    if s.nodes[node, U_UP] == 0:
        return
    crash_node(s, node)
    if proto == P_RAFT:
        _raft.on_crash(s, node)
    elif proto == P_MULTIPAXOS:
        _multipaxos.on_crash(s, node)
    elif proto == P_PRIMARY_BACKUP:
        _primary_backup.on_crash(s, node)
    elif proto == P_PAXOS:
        _paxos.on_crash(s, node)
    elif proto == P_CHAIN:
        _chain.on_crash(s, node)
    timeline(s, node, s.ni[node, 1], TL_CRASH)
    if s.cfg_i[C_RANDOM_FAULTS] == 1:
        push(s, s.cf[G_NOW] + draw(s, D_TTR), E_RECOVER, node, 0, 0)
    if s.cfg_i[C_ELECT] == 1 and s.ci[K_ELECTED] == -2:
        s.ci[K_ELECTED] = -1  # the experiment's clock starts


@njit(**_OPTS)
def _recover(s, proto, node):
    if s.nodes[node, U_UP] == 1:
        return
    s.nodes[node, U_UP] = 1
    if proto == P_RAFT:
        _raft.on_recover(s, node)
    elif proto == P_MULTIPAXOS:
        _multipaxos.on_recover(s, node)
    elif proto == P_PRIMARY_BACKUP:
        _primary_backup.on_recover(s, node)
    elif proto == P_PAXOS:
        _paxos.on_recover(s, node)
    elif proto == P_CHAIN:
        _chain.on_recover(s, node)
    timeline(s, node, s.ni[node, 1], TL_RECOVER)
    if s.cfg_i[C_RANDOM_FAULTS] == 1:
        push(s, s.cf[G_NOW] + draw(s, D_TTF), E_CRASH, node, 0, 0)


@njit(**_OPTS)
def start(s, leader, stale):
    """Initial state and events: protocol bootstrap, faults, partitions, clients."""
    proto = s.cfg_i[C_PROTO]
    n = s.cfg_i[C_N]
    for i in range(n):
        s.nodes[i, U_UP] = 1
    if proto == P_RAFT:
        if s.cfg_i[C_ELECT] == 1:
            _raft.bootstrap_election(s, leader, stale)
        else:
            _raft.bootstrap(s, leader)
    elif proto == P_MULTIPAXOS:
        _multipaxos.bootstrap(s, leader)
    elif proto == P_PRIMARY_BACKUP:
        _primary_backup.bootstrap(s, leader)
    elif proto == P_PAXOS:
        _paxos.bootstrap(s, leader)
    elif proto == P_CHAIN:
        _chain.bootstrap(s, leader)
    for k in range(s.cfg_i[C_N_SCHED]):
        kind = E_CRASH if s.sched[k, 2] == 1.0 else E_RECOVER
        push(s, s.sched[k, 0], kind, int(s.sched[k, 1]), 0, 0)
    for p in range(s.cfg_i[C_N_PART]):
        push(s, s.parts[p, 0], E_PART_ON, -1, p, 0)
        push(s, s.parts[p, 1], E_PART_OFF, -1, p, 0)
    if s.cfg_i[C_RANDOM_FAULTS] == 1:
        for i in range(n):
            push(s, s.cf[G_NOW] + draw(s, D_TTF), E_CRASH, i, 0, 0)
    if s.cfg_i[C_QUIET_WRITES] == 0:
        _clients.start_clients(s)


@njit(**_OPTS)
def run(s):
    """Run until a stop condition, the time limit, the event budget or an overflow."""
    proto = s.cfg_i[C_PROTO]
    n = s.cfg_i[C_N]
    stop_time = s.cfg_f[F_STOP_TIME]
    budget = s.cfg_i[C_MAX_EVENTS]
    while s.ci[K_STATUS] == ST_RUNNING:
        if s.ci[K_HEAP] == 0:
            s.ci[K_STATUS] = ST_STUCK
            break
        if s.ci[K_EVENTS] >= budget:
            s.ci[K_STATUS] = ST_BUDGET
            break
        t, kind, node, a, b = pop(s)
        if t > stop_time:
            s.cf[G_NOW] = stop_time
            s.ci[K_STATUS] = ST_TIME
            break
        s.cf[G_NOW] = t
        s.ci[K_EVENTS] += 1
        if kind == E_ARRIVE:
            trail(s, kind, node, a)
            if node >= n:
                _clients.on_reply(s, a)
                free_message(s, a)
            elif s.nodes[node, U_UP] == 0 or cut_off(s, s.m_i[a, M_SRC], node):
                free_message(s, a)
            else:
                cpu_enqueue(s, node, a)
        elif kind == E_CPU:
            if b != s.nodes[node, U_INC]:
                free_message(s, a)  # the node crashed while serving it
            else:
                _on_message(s, proto, node, a)
                free_message(s, a)
                cpu_next(s, node)
        elif kind == E_DISK:
            if a == s.nodes[node, U_INC]:
                k = fsync_done(s, node)
                for j in range(k):
                    _on_disk(s, proto, node, disk_row(s, node, j))
                disk_next(s, node, k)
        elif kind == E_ETIMER or kind == E_HBTIMER or kind == E_PTIMER:
            if b == s.nodes[node, U_INC] and s.nodes[node, U_UP] == 1:
                # The expiry is handled by the node's CPU, in turn with its messages,
                # so CPU jitter also jitters timers (as an OS scheduler does).
                trail(s, kind, node, -1)
                slot = new_message(s, T_TIMER, node, node, 0)
                if slot >= 0:
                    s.m_i[slot, M_A] = a
                    s.m_i[slot, M_B] = kind
                    cpu_enqueue(s, node, slot)
        elif kind == E_CTIMEOUT:
            _clients.on_timeouts(s)
        elif kind == E_CRETRY:
            _clients.on_retry(s, a, b)
        elif kind == E_CNEXT:
            _clients.new_request(s, a)
        elif kind == E_OPEN:
            _clients.on_open_arrival(s, a)
        elif kind == E_CRASH:
            trail(s, kind, node, -1)
            _crash(s, proto, node)
        elif kind == E_RECOVER:
            trail(s, kind, node, -1)
            _recover(s, proto, node)
        elif kind == E_PART_ON:
            trail(s, kind, a, -1)
            s.ci[K_PART_ACTIVE] |= np.int64(1) << a
            timeline(s, -1, a, TL_PART_ON)
        elif kind == E_PART_OFF:
            trail(s, kind, a, -1)
            s.ci[K_PART_ACTIVE] &= ~(np.int64(1) << a)
            timeline(s, -1, a, TL_PART_OFF)
    if s.ci[K_STATUS] != ST_OVERFLOW:
        _check_acked(s, proto)


@njit(**_OPTS)
def _check_acked(s, proto):
    """No acknowledged write may be lost: each keeps enough durable copies."""
    if proto == P_MULTIPAXOS:
        _multipaxos.check_acked(s)
    elif proto == P_PRIMARY_BACKUP:
        _primary_backup.check_acked(s)
    elif proto == P_PAXOS:
        _paxos.check_acked(s)
    elif proto == P_CHAIN:
        _chain.check_acked(s)
    if proto != P_RAFT:
        return
    need = _raft_log.acked_survive(s)
    for r in range(s.ci[K_NREQ]):
        if s.req_i[r, R_KIND] == WRITE and s.req_i[r, R_TERM] > 0:
            index = s.req_i[r, R_INDEX]
            term = s.req_i[r, R_TERM]
            if _raft_log.durable_copies(s, index, term, r + 1) < need:
                violation(s, V_ACKED_LOST, -1, term, index)


@njit(**_OPTS)
def execute(sim, leader, stale):
    """One whole run: initial state, then the event loop."""
    s = view(sim)
    reset(s)
    start(s, leader, stale)
    if s.ci[K_STATUS] == ST_RUNNING:
        run(s)


@njit(**_OPTS)
def reset(s):
    """Give ``s`` a fresh run's state (its capacities, partitions and random stream stay).

    The one place initial values are set: ``_state.allocate`` leaves these arrays
    unset, and every run (and every election trial) starts here. Arrays not listed
    are written before they are read (their counters start at zero).
    """
    s.ci[:] = 0
    s.ci[K_MFREE] = s.m_free.shape[0]
    s.ci[K_ELECTED] = -2
    s.cf[:] = 0.0
    m = s.m_free.shape[0]
    for k in range(m):
        s.m_free[k] = m - 1 - k
    s.fifo_n[:] = -np.inf
    s.fifo_c[:] = -np.inf
    for i in range(s.nodes.shape[0]):
        part = s.nodes[i, U_PART]
        s.nodes[i, :] = 0
        s.nodes[i, U_PART] = part
    s.cl_i[:] = -1
    s.msg_count[:] = 0
    s.com_t[:] = 0
    s.com_c[:] = 0
    s.com_time[:] = np.nan
    s.lead_of[:] = -1
    s.ht_key[:] = -1
    s.ht_val[:] = 0
    s.ni[:] = 0
    s.nf[:] = 0.0
    s.pp[:] = 0
    s.pf[:] = 0.0
    s.lt[:] = 0
    s.lc[:] = 0
    s.dlt[:] = 0
    s.dlc[:] = 0
    s.ls[:] = 0
    s.v_i[:] = 0
    s.v_t[:] = 0.0
    s.v_tr[:] = np.nan  # unused trail rows stay NaN (result.build trims them)
    s.tr[:] = 0.0


@njit(**_OPTS)
def election_trials(sim, states, leader, stale, out):
    """The election experiment once per row of ``states``.

    Each trial starts at the leader's last heartbeat, crashes the leader after a
    uniform fraction of the heartbeat interval, and runs until every live node has
    heard the new leader (or the time limit). ``out`` rows: crash time, elected at,
    heard by all at (NaN if not), new leader, highest term, events, status.
    """
    s = view(sim)
    for t in range(states.shape[0]):
        reset(s)
        s.rng[:] = states[t]
        start(s, leader, stale)
        crash_at = s.cfg_f[F_HB] * uniform(s.rng)
        push(s, crash_at, E_CRASH, leader, 0, 0)
        if s.ci[K_STATUS] == ST_RUNNING:
            run(s)
        status = s.ci[K_STATUS]
        out[t, 0] = crash_at
        out[t, 1] = s.cf[G_ELECTED_AT] if s.ci[K_ELECTED] >= 0 else np.nan
        out[t, 2] = s.cf[G_HEARD_AT] if status == ST_DONE else np.nan
        out[t, 3] = s.ci[K_ELECTED]
        out[t, 4] = s.ci[K_MAXTERM]
        out[t, 5] = s.ci[K_EVENTS]
        out[t, 6] = status
        if status == ST_OVERFLOW:
            return t
    return states.shape[0]
