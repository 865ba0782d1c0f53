"""Multi-Paxos (with Flexible Paxos quorums) as event handlers on the simulator.

Ballots are unique per node: node ``i`` uses ``k n + i + 1``. ``N_TERM`` is the
highest ballot a node has promised (and, for a leader or candidate, its own).

Phase 1 (leader change): a candidate writes its promise to itself, sends Prepare(b,
from) where ``from`` is its commit point + 1; an acceptor that promises (after writing
the promise down) answers with its log from ``from`` in ``batch``-entry chunks. With
``q1`` complete answers the candidate holds, per slot, the value of the highest ballot
seen; it re-proposes every slot from ``from`` under its own ballot (empty ones as
no-ops).

Phase 2: the leader sends slot ranges in order. An acceptor accepts a range only if it
extends its *run*: the slots after its commit point that it accepted under the current
ballot (``RUN``); it acknowledges, once they are on disk, the end of the durable part
of the run (``DRUN``). The leader commits the highest slot that ``q2`` nodes (itself
included) hold durably in their runs. An acceptor learns a commit point from accepts
and heartbeats and applies only slots of its run (the leader's values). A range that
would leave a gap is refused with the run's end as a hint, and the leader resends from
there (after a loss, a crash or a leader change).

Durability is per slot: ``dlt``/``dlc`` hold the log as it is on disk; each write copies
its slots when its fsync completes, and a crash restores the log from them.

This module: phase 1, dispatch and the node life cycle; phase 2 (and the registers both
use) is in ``_multipaxos_log.py``.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._engine import (
    acked_on_disks,
    disk_enqueue,
    new_message,
    overflow,
    push,
    send,
    timeline,
    violation,
)
from openha.sim._layout import (
    C_BATCH,
    C_MUTANT,
    C_N,
    C_Q1,
    C_Q2,
    E_HBTIMER,
    F_HB,
    G_NOW,
    K_GCOMMIT,
    K_MAXTERM,
    M_A,
    M_B,
    M_C,
    M_D,
    M_E,
    M_SRC,
    M_TERM,
    M_TYPE,
    N_APPLIED,
    N_COMMIT,
    N_DUR_LEN,
    N_DUR_TERM,
    N_LEADER,
    N_LEN,
    N_ROLE,
    N_TERM,
    N_VOTE,
    O_LOG,
    O_TERMS,
    ROLE_CANDIDATE,
    ROLE_DOWN,
    ROLE_LEADER,
    T_CREQ,
    TL_LEADER,
    U_INC,
    V_LEADER_COMPLETENESS,
    V_TWO_LEADERS,
)
from openha.sim._multipaxos_log import (
    DHI,
    DRUN,
    FROM,
    GOT,
    LAST_REPLY,
    OP_ACK,
    OP_P1,
    OP_PROMISE,
    OP_SELF,
    RUN,
    RUNB,
    T_ACCEPT,
    T_ACCEPTED,
    T_NACK,
    T_PREPARE,
    T_PROMISE,
    _made_durable,
    _on_accept,
    _on_accepted,
    _on_client_request,
    _thrifty_set,
    _write_slots,
    advance_commit,
    next_ballot,
    on_heartbeat_timer,
    send_accept,
)
from openha.sim._raft_state import (
    EPOCH,
    HBGEN,
    HEARD,
    INFL,
    LAST_SENT,
    MATCH,
    NEXT,
    PROBE,
    VOTES,
    election_due,
    init_followers,
    popcount,
    reset_election_timer,
    restart_follower,
    step_down,
)

_OPTS = jit_options()


# --- phase 1 -------------------------------------------------------------------------


@njit(**_OPTS)
def on_election_timer(s, i, gen):
    if not election_due(s, i, gen):
        return
    role = s.ni[i, N_ROLE]
    if role == ROLE_LEADER or role == ROLE_DOWN:
        return
    reset_election_timer(s, i)
    ballot = next_ballot(s, i, s.ni[i, N_TERM])
    s.ni[i, N_TERM] = ballot
    if ballot > s.ci[K_MAXTERM]:
        s.ci[K_MAXTERM] = ballot
    s.ni[i, N_VOTE] = i
    s.ni[i, N_ROLE] = ROLE_CANDIDATE
    s.ni[i, N_LEADER] = -1
    s.ni[i, VOTES] = np.int64(1) << i
    s.ni[i, FROM] = s.ni[i, N_COMMIT] + 1
    for f in range(s.cfg_i[C_N]):
        s.pp[i, f, GOT] = 0
    disk_enqueue(s, i, OP_P1, 0, ballot, 0, 0, 0, 0, 0)


@njit(**_OPTS)
def _send_prepare(s, i, ballot):
    for f in range(s.cfg_i[C_N]):
        if f != i:
            slot = new_message(s, T_PREPARE, i, f, ballot)
            if slot < 0:
                return
            s.m_i[slot, M_A] = s.ni[i, FROM]
            send(s, slot)


@njit(**_OPTS)
def _on_prepare(s, i, slot):
    c = s.m_i[slot, M_SRC]
    ballot = s.m_i[slot, M_TERM]
    if ballot <= s.ni[i, N_TERM]:
        nack = new_message(s, T_NACK, i, c, s.ni[i, N_TERM])
        if nack >= 0:
            send(s, nack)
        return
    step_down(s, i, ballot)
    s.ni[i, N_VOTE] = c
    s.ni[i, N_LEADER] = -1
    reset_election_timer(s, i)
    disk_enqueue(s, i, OP_PROMISE, 0, c, ballot, s.m_i[slot, M_A], 0, 0, 0)


@njit(**_OPTS)
def _send_promise(s, i, c, ballot, first):
    """The promise: this acceptor's log from ``first``, in chunks of ``batch``."""
    batch = s.cfg_i[C_BATCH]
    end = s.ni[i, N_LEN]
    k = first
    while True:
        count = max(0, min(batch, end - k + 1))
        slot = new_message(s, T_PROMISE, i, c, ballot)
        if slot < 0:
            return
        s.m_i[slot, M_A] = k
        s.m_i[slot, M_B] = count
        s.m_i[slot, M_C] = max(0, end - first + 1)  # entries in the whole promise
        for j in range(count):
            s.m_e[slot, j, 0] = s.lt[i, k + j]
            s.m_e[slot, j, 1] = s.lc[i, k + j]
        send(s, slot)
        k += count
        if k > end:
            return


@njit(**_OPTS)
def _on_promise(s, i, slot):
    ballot = s.m_i[slot, M_TERM]
    if s.ni[i, N_ROLE] != ROLE_CANDIDATE or ballot != s.ni[i, N_TERM]:
        return
    a = s.m_i[slot, M_SRC]
    first = s.m_i[slot, M_A]
    count = s.m_i[slot, M_B]
    if first + count >= s.lt.shape[1]:
        overflow(s, O_LOG)
        return
    for j in range(count):
        k = first + j
        eb = s.m_e[slot, j, 0]
        if s.cfg_i[C_MUTANT] == 1 and k <= s.ni[i, N_LEN]:
            continue  # mutant: keeps its own value whatever the promise says
        if k > s.ni[i, N_LEN]:
            for g in range(s.ni[i, N_LEN] + 1, k):
                s.lt[i, g] = 0
                s.lc[i, g] = 0
            s.lt[i, k] = eb
            s.lc[i, k] = s.m_e[slot, j, 1]
            s.ni[i, N_LEN] = k
        elif eb > s.lt[i, k]:
            s.lt[i, k] = eb
            s.lc[i, k] = s.m_e[slot, j, 1]
    s.pp[i, a, GOT] += count
    if s.pp[i, a, GOT] >= s.m_i[slot, M_C]:
        s.ni[i, VOTES] |= np.int64(1) << a
        if popcount(s.ni[i, VOTES]) >= s.cfg_i[C_Q1]:
            _become_leader(s, i)


@njit(**_OPTS)
def _take_office(s, i):
    ballot = s.ni[i, N_TERM]
    if ballot >= s.lead_of.shape[0]:
        overflow(s, O_TERMS)
        return False
    if s.lead_of[ballot] >= 0 and s.lead_of[ballot] != i:
        violation(s, V_TWO_LEADERS, i, ballot, s.lead_of[ballot])
    s.lead_of[ballot] = i
    s.ni[i, N_ROLE] = ROLE_LEADER
    s.ni[i, N_LEADER] = i
    timeline(s, i, ballot, TL_LEADER)
    return True


@njit(**_OPTS)
def _become_leader(s, i):
    """Phase 1 done: check the recovered log, re-propose it, start phase 2."""
    if not _take_office(s, i):
        return
    ballot = s.ni[i, N_TERM]
    first = s.ni[i, FROM]
    # The heart of Paxos: every value chosen so far is what this leader now holds.
    g = s.ci[K_GCOMMIT]
    if s.ni[i, N_LEN] < g:
        violation(s, V_LEADER_COMPLETENESS, i, ballot, s.ni[i, N_LEN] + 1)
    else:
        for k in range(first, g + 1):
            if s.lc[i, k] != s.com_c[k]:
                violation(s, V_LEADER_COMPLETENESS, i, ballot, k)
                break
    last = s.ni[i, N_LEN]
    if first > 1 or last > 0:
        # a no-op after the recovered slots: its commit tells the new leader (and, through
        # the next accepts, everyone) that every earlier slot is chosen
        last += 1
        if last >= s.lt.shape[1]:
            overflow(s, O_LOG)
            return
        s.lc[i, last] = 0
        s.ni[i, N_LEN] = last
    for k in range(first, last + 1):
        s.lt[i, k] = ballot  # empty slots (command 0) become no-ops
    s.ni[i, RUNB] = ballot
    s.ni[i, RUN] = last
    s.ni[i, DRUN] = first - 1
    if last >= first:
        _write_slots(s, i, OP_SELF, first, last, ballot, 0, 0, 0)
    for f in range(s.cfg_i[C_N]):
        s.pp[i, f, NEXT] = first
        s.pp[i, f, MATCH] = 0
        s.pp[i, f, INFL] = 0
        s.pp[i, f, EPOCH] += 1
        s.pp[i, f, PROBE] = 0
        s.pf[i, f, LAST_SENT] = -np.inf
        s.pf[i, f, LAST_REPLY] = s.cf[G_NOW]
    _thrifty_set(s, i)
    s.ni[i, HBGEN] += 1
    for f in range(s.cfg_i[C_N]):
        if f != i:
            send_accept(s, i, f, True)
    push(s, s.cf[G_NOW] + s.cfg_f[F_HB], E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])
    advance_commit(s, i)


# --- dispatch ---------------------------------------------------------------------


@njit(**_OPTS)
def on_message(s, i, slot):
    mtype = s.m_i[slot, M_TYPE]
    if mtype == T_ACCEPT:
        _on_accept(s, i, slot)
    elif mtype == T_ACCEPTED:
        _on_accepted(s, i, slot)
    elif mtype == T_CREQ:
        _on_client_request(s, i, slot)
    elif mtype == T_PREPARE:
        _on_prepare(s, i, slot)
    elif mtype == T_PROMISE:
        _on_promise(s, i, slot)
    elif mtype == T_NACK:
        if s.m_i[slot, M_TERM] > s.ni[i, N_TERM]:
            step_down(s, i, s.m_i[slot, M_TERM])


@njit(**_OPTS)
def on_disk(s, i, row):
    op = s.disk_q[i, row, 0]
    a = s.disk_q[i, row, 1]
    b = s.disk_q[i, row, 2]
    c = s.disk_q[i, row, 3]
    if op == OP_ACK:
        first = s.disk_q[i, row, 5]
        last = s.disk_q[i, row, 6]
        _made_durable(s, i, a, first, last)
        if s.ni[i, RUNB] == a and s.ni[i, N_TERM] == a:
            reply = new_message(s, T_ACCEPTED, i, b, a)
            if reply >= 0:
                s.m_i[reply, M_A] = 1
                s.m_i[reply, M_B] = s.ni[i, DRUN]
                s.m_i[reply, M_D] = c
                s.m_i[reply, M_E] = s.disk_q[i, row, 4]
                send(s, reply)
    elif op == OP_SELF:
        _made_durable(s, i, a, s.disk_q[i, row, 5], s.disk_q[i, row, 6])
        if s.ni[i, N_ROLE] == ROLE_LEADER and s.ni[i, N_TERM] == a:
            advance_commit(s, i)
    elif op == OP_P1:
        if s.ni[i, N_ROLE] == ROLE_CANDIDATE and s.ni[i, N_TERM] == a:
            if popcount(s.ni[i, VOTES]) >= s.cfg_i[C_Q1]:
                _become_leader(s, i)
            else:
                _send_prepare(s, i, a)
    elif op == OP_PROMISE:
        if s.ni[i, N_TERM] == b and s.ni[i, N_VOTE] == a:
            _send_promise(s, i, a, b, c)


@njit(**_OPTS)
def on_timer(s, i, kind, gen):
    if kind == E_HBTIMER:
        if gen == s.ni[i, HBGEN]:
            on_heartbeat_timer(s, i)
    else:
        on_election_timer(s, i, gen)


@njit(**_OPTS)
def on_crash(s, i):
    """Memory is lost: the log is what the disk holds, promises as last written."""
    if s.ni[i, N_ROLE] == ROLE_LEADER:
        s.ni[i, HBGEN] += 1
    s.ni[i, N_ROLE] = ROLE_DOWN
    s.ni[i, N_LEADER] = -1
    s.ni[i, N_APPLIED] = 0
    s.ni[i, VOTES] = 0
    top = s.ni[i, DHI]
    for k in range(1, top + 1):
        s.lt[i, k] = s.dlt[i, k]
        s.lc[i, k] = s.dlc[i, k]
    s.ni[i, N_LEN] = top
    s.ni[i, N_DUR_LEN] = top
    s.ni[i, RUNB] = 0
    s.ni[i, RUN] = 0
    s.ni[i, DRUN] = 0


@njit(**_OPTS)
def on_recover(s, i):
    restart_follower(s, i)


@njit(**_OPTS)
def bootstrap(s, leader):
    """``leader`` holds ballot ``leader + 1`` (phase 1 done on empty logs), or no leader."""
    n = s.cfg_i[C_N]
    init_followers(s)
    if leader < 0:
        for i in range(n):
            reset_election_timer(s, i)
        return
    ballot = leader + 1
    for i in range(n):
        s.ni[i, N_TERM] = ballot
        s.ni[i, N_DUR_TERM] = ballot
        s.ni[i, N_VOTE] = leader
        s.ni[i, N_LEADER] = leader
        s.nf[i, HEARD] = 0.0
        if i != leader:
            reset_election_timer(s, i)
    s.ci[K_MAXTERM] = ballot
    s.ni[leader, FROM] = 1
    _become_leader(s, leader)


@njit(**_OPTS)
def check_acked(s):
    """Every acknowledged write is on disk, with its value, at q2 nodes or more."""
    acked_on_disks(s, s.cfg_i[C_Q2])
