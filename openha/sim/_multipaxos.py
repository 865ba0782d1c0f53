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
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._clients import acknowledge, redirect
from openha.sim._engine import (
    check_chosen,
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
    C_QUIET_WRITES,
    C_THRIFTY,
    E_HBTIMER,
    F_HB,
    G_NOW,
    K_GCOMMIT,
    K_MAXTERM,
    K_NREQ,
    M_A,
    M_B,
    M_C,
    M_D,
    M_E,
    M_F,
    M_G,
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
    N_SHARED,
    N_TERM,
    N_VOTE,
    O_LOG,
    O_TERMS,
    R_ATTEMPT,
    R_DONE,
    R_FLOOR,
    R_INDEX,
    R_KIND,
    R_LOGGED,
    R_TERM,
    READ,
    ROLE_CANDIDATE,
    ROLE_DOWN,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    T_CREQ,
    TL_LEADER,
    U_INC,
    V_ACKED_LOST,
    V_LEADER_COMPLETENESS,
    V_STALE_READ,
    V_TWO_LEADERS,
    V_VALIDITY,
    WRITE,
)
from openha.sim._raft_state import (
    EPOCH,
    ET_PENDING,
    HBGEN,
    HEARD,
    INFL,
    LAST_SENT,
    MATCH,
    NEXT,
    PROBE,
    VOTES,
    election_due,
    heard_leader,
    next_send,
    popcount,
    reset_election_timer,
    step_down,
)

_OPTS = jit_options()

# registers after the ones shared with Raft's timer helpers (VOTES .. ET_PENDING)
RUN = N_SHARED + 6  # end of the run: slots after the commit point accepted in RUNB
RUNB = N_SHARED + 7
DRUN = N_SHARED + 8  # end of the run's durable part
FROM = N_SHARED + 9  # candidate / leader: first slot of its recovery
DHI = N_SHARED + 10  # highest slot ever on disk
TSET = N_SHARED + 11  # thrifty leader: bit mask of the acceptors sent accepts
N_NI = N_SHARED + 12
GOT = 6  # pp: promise entries received from this acceptor
LAST_REPLY = 1  # pf

# message types
T_PREPARE = 3
T_PROMISE = 4
T_ACCEPT = 5
T_ACCEPTED = 6
T_NACK = 7

# disk operations
OP_P1 = 1  # candidate's own promise is on disk: send Prepare
OP_PROMISE = 2  # acceptor's promise is on disk: answer
OP_ACK = 3  # accepted slots are on disk: acknowledge
OP_SELF = 4  # the leader's own slots are on disk


@njit(**_OPTS)
def next_ballot(s, i, above):
    """Node i's smallest ballot above ``above``."""
    n = s.cfg_i[C_N]
    return (above // n + 1) * n + i + 1


# --- durability ------------------------------------------------------------------


@njit(**_OPTS)
def _write_slots(s, i, op, first, last, a, b, c, d):
    """Queue a write of slots first..last (ballot ``a`` is the one being written)."""
    disk_enqueue(s, i, op, last, a, b, c, d, first, last)


@njit(**_OPTS)
def _made_durable(s, i, ballot, first, last):
    """An fsync covered slots first..last written under ``ballot``: copy those still
    holding it to the on-disk log, and extend the durable run."""
    top = min(last, s.ni[i, N_LEN])
    for k in range(first, top + 1):
        if s.lt[i, k] == ballot:
            s.dlt[i, k] = ballot
            s.dlc[i, k] = s.lc[i, k]
            if k > s.ni[i, DHI]:
                s.ni[i, DHI] = k
    if s.ni[i, RUNB] == ballot and first <= s.ni[i, DRUN] + 1:
        s.ni[i, DRUN] = max(s.ni[i, DRUN], min(top, s.ni[i, RUN]))


@njit(**_OPTS)
def _start_run(s, i, ballot):
    if s.ni[i, RUNB] != ballot:
        s.ni[i, RUNB] = ballot
        s.ni[i, RUN] = s.ni[i, N_COMMIT]
        s.ni[i, DRUN] = s.ni[i, N_COMMIT]


# --- learning and answering --------------------------------------------------------


@njit(**_OPTS)
def _apply(s, i):
    """Apply chosen slots; the leader answers the clients waiting on them."""
    leader = s.ni[i, N_ROLE] == ROLE_LEADER
    quiet = s.cfg_i[C_QUIET_WRITES] == 1
    while s.ni[i, N_APPLIED] < s.ni[i, N_COMMIT]:
        k = s.ni[i, N_APPLIED] + 1
        s.ni[i, N_APPLIED] = k
        command = s.lc[i, k]
        check_chosen(s, i, k, s.lt[i, k], command)
        if command < 0 or command > s.ci[K_NREQ]:
            violation(s, V_VALIDITY, i, s.lt[i, k], k)  # neither a no-op nor a request
        if leader and command > 0 and not quiet:
            r = command - 1
            if s.req_i[r, R_DONE] == 0:
                if s.req_i[r, R_KIND] == READ and k < s.req_i[r, R_FLOOR]:
                    violation(s, V_STALE_READ, i, s.ni[i, N_TERM], k)
                acknowledge(s, i, r, k, s.ni[i, N_TERM], s.req_i[r, R_ATTEMPT])


@njit(**_OPTS)
def _learn(s, i, commit):
    """Commit point ``commit`` from the leader of the current run: apply what the run
    holds of it."""
    c = min(commit, s.ni[i, RUN])
    if c > s.ni[i, N_COMMIT]:
        s.ni[i, N_COMMIT] = c
        _apply(s, i)


@njit(**_OPTS)
def advance_commit(s, i):
    """Commit the highest slot q2 nodes hold durably in this ballot's runs."""
    n = s.cfg_i[C_N]
    need = s.cfg_i[C_Q2]
    commit = s.ni[i, N_COMMIT]
    best = commit
    for a in range(n):
        v = s.ni[i, DRUN] if a == i else s.pp[i, a, MATCH]
        if v <= best:
            continue
        holders = 0
        for b in range(n):
            w = s.ni[i, DRUN] if b == i else s.pp[i, b, MATCH]
            if w >= v:
                holders += 1
        if holders >= need:
            best = v
    if best > commit:
        s.ni[i, N_COMMIT] = best
        _apply(s, i)


# --- phase 2 -------------------------------------------------------------------------


@njit(**_OPTS)
def _send_one(s, i, f, first, count, counted):
    slot = new_message(s, T_ACCEPT, i, f, s.ni[i, N_TERM])
    if slot < 0:
        return
    ballot = s.ni[i, N_TERM]
    s.m_i[slot, M_A] = first
    s.m_i[slot, M_B] = count
    s.m_i[slot, M_C] = s.ni[i, N_COMMIT]
    s.m_i[slot, M_F] = s.pp[i, f, EPOCH]
    s.m_i[slot, M_G] = counted
    for j in range(count):
        s.m_e[slot, j, 0] = ballot
        s.m_e[slot, j, 1] = s.lc[i, first + j]
    s.pf[i, f, LAST_SENT] = s.cf[G_NOW]
    send(s, slot)


@njit(**_OPTS)
def send_accept(s, i, f, force):
    """Send ``f`` what it lacks within the window; with ``force`` at least a heartbeat.
    A thrifty leader sends commands only to the acceptors in its set."""
    if s.cfg_i[C_THRIFTY] == 1 and not (s.ni[i, TSET] >> f) & 1:
        if force:
            _send_one(s, i, f, s.pp[i, f, NEXT], 0, 0)
        return
    sent = False
    while True:
        first, count, counted = next_send(s, i, f, force, sent)
        if count < 0:
            return
        _send_one(s, i, f, first, count, counted)
        sent = True


@njit(**_OPTS)
def _thrifty_set(s, i):
    """The q2 - 1 acceptors heard from most recently within two heartbeats, in ring
    order from the leader, topped up in ring order if too few have been heard."""
    n = s.cfg_i[C_N]
    want = s.cfg_i[C_Q2] - 1
    recent = s.cf[G_NOW] - 2.0 * s.cfg_f[F_HB]
    mask = np.int64(0)
    got = 0
    for step in range(1, n):
        f = (i + step) % n
        if got < want and s.pf[i, f, LAST_REPLY] >= recent:
            mask |= np.int64(1) << f
            got += 1
    for step in range(1, n):
        f = (i + step) % n
        if got < want and not (mask >> f) & 1:
            mask |= np.int64(1) << f
            got += 1
    s.ni[i, TSET] = mask


@njit(**_OPTS)
def on_heartbeat_timer(s, i):
    if s.ni[i, N_ROLE] != ROLE_LEADER:
        return
    hb = s.cfg_f[F_HB]
    now = s.cf[G_NOW]
    if s.cfg_i[C_THRIFTY] == 1:
        _thrifty_set(s, i)
    for f in range(s.cfg_i[C_N]):
        if f != i and now - s.pf[i, f, LAST_SENT] >= 0.5 * hb:
            send_accept(s, i, f, True)
    push(s, now + hb, E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def _reply(s, i, leader, ballot, success, index, slot):
    reply = new_message(s, T_ACCEPTED, i, leader, ballot)
    if reply < 0:
        return
    s.m_i[reply, M_A] = success
    s.m_i[reply, M_B] = index
    s.m_i[reply, M_D] = s.m_i[slot, M_F]
    s.m_i[reply, M_E] = s.m_i[slot, M_G]
    send(s, reply)


@njit(**_OPTS)
def _on_accept(s, i, slot):
    leader = s.m_i[slot, M_SRC]
    ballot = s.m_i[slot, M_TERM]
    if ballot < s.ni[i, N_TERM]:
        _reply(s, i, leader, s.ni[i, N_TERM], 0, 0, slot)
        return
    if ballot > s.ni[i, N_TERM] or s.ni[i, N_ROLE] != ROLE_FOLLOWER:
        step_down(s, i, ballot)
    s.ni[i, N_VOTE] = leader
    reset_election_timer(s, i)
    heard_leader(s, i, leader)
    _start_run(s, i, ballot)
    first = s.m_i[slot, M_A]
    count = s.m_i[slot, M_B]
    if first > s.ni[i, RUN] + 1:
        _reply(s, i, leader, ballot, 0, s.ni[i, RUN], slot)  # a gap: resend from RUN + 1
        return
    last = first + count - 1
    if count > 0:
        if last >= s.lt.shape[1]:
            overflow(s, O_LOG)
            return
        for j in range(count):
            k = first + j
            s.lt[i, k] = ballot
            s.lc[i, k] = s.m_e[slot, j, 1]
        if last > s.ni[i, N_LEN]:
            s.ni[i, N_LEN] = last
        if last > s.ni[i, RUN]:
            s.ni[i, RUN] = last
    _learn(s, i, s.m_i[slot, M_C])
    if count > 0:
        _write_slots(s, i, OP_ACK, first, last, ballot, leader, s.m_i[slot, M_F],
                     s.m_i[slot, M_G])  # fmt: skip
    else:
        _reply(s, i, leader, ballot, 1, s.ni[i, DRUN], slot)


@njit(**_OPTS)
def _on_accepted(s, i, slot):
    ballot = s.m_i[slot, M_TERM]
    if ballot > s.ni[i, N_TERM]:
        step_down(s, i, ballot)
        return
    if s.ni[i, N_ROLE] != ROLE_LEADER or ballot != s.ni[i, N_TERM]:
        return
    f = s.m_i[slot, M_SRC]
    s.pf[i, f, LAST_REPLY] = s.cf[G_NOW]
    current = s.m_i[slot, M_D] == s.pp[i, f, EPOCH]
    if current and s.m_i[slot, M_E] == 1 and s.pp[i, f, INFL] > 0:
        s.pp[i, f, INFL] -= 1
    index = s.m_i[slot, M_B]
    if s.m_i[slot, M_A] == 1:
        if index > s.pp[i, f, MATCH]:
            s.pp[i, f, MATCH] = index
        if s.pp[i, f, PROBE] == 1 and current:
            s.pp[i, f, PROBE] = 0
            s.pp[i, f, NEXT] = max(s.pp[i, f, NEXT], s.pp[i, f, MATCH] + 1)
            s.pp[i, f, INFL] = 0
            s.pp[i, f, EPOCH] += 1
        advance_commit(s, i)
        if s.ni[i, N_ROLE] == ROLE_LEADER:
            send_accept(s, i, f, False)
    elif current:
        s.pp[i, f, NEXT] = max(1, min(index + 1, s.ni[i, N_LEN] + 1))
        s.pp[i, f, PROBE] = 1
        s.pp[i, f, INFL] = 0
        s.pp[i, f, EPOCH] += 1
        send_accept(s, i, f, True)


@njit(**_OPTS)
def _on_client_request(s, i, slot):
    r = s.m_i[slot, M_A]
    attempt = s.m_i[slot, M_C]
    if s.ni[i, N_ROLE] != ROLE_LEADER:
        redirect(s, i, r, s.ni[i, N_LEADER], attempt)
        return
    # A retried command already in this leader's log is not proposed again.
    k = s.req_i[r, R_LOGGED]
    if 0 < k <= s.ni[i, N_LEN] and s.lc[i, k] == r + 1:
        if k <= s.ni[i, N_APPLIED]:
            acknowledge(s, i, r, k, s.lt[i, k], attempt)
        return
    k = s.ni[i, N_LEN] + 1
    if k >= s.lt.shape[1]:
        overflow(s, O_LOG)
        return
    ballot = s.ni[i, N_TERM]
    s.lt[i, k] = ballot
    s.lc[i, k] = r + 1
    s.ni[i, N_LEN] = k
    s.ni[i, RUN] = k
    s.req_i[r, R_LOGGED] = k
    _write_slots(s, i, OP_SELF, k, k, ballot, 0, 0, 0)
    for f in range(s.cfg_i[C_N]):
        if f != i:
            send_accept(s, i, f, False)


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
    s.ni[i, ET_PENDING] = 0
    s.ni[i, N_ROLE] = ROLE_FOLLOWER
    s.nf[i, HEARD] = -np.inf
    reset_election_timer(s, i)


@njit(**_OPTS)
def bootstrap(s, leader):
    """``leader`` holds ballot ``leader + 1`` (phase 1 done on empty logs), or no leader."""
    n = s.cfg_i[C_N]
    for i in range(n):
        s.ni[i, N_ROLE] = ROLE_FOLLOWER
        s.ni[i, N_VOTE] = -1
        s.ni[i, N_LEADER] = -1
        s.nf[i, HEARD] = -np.inf
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
    need = s.cfg_i[C_Q2]
    n = s.cfg_i[C_N]
    for r in range(s.ci[K_NREQ]):
        if s.req_i[r, R_KIND] == WRITE and s.req_i[r, R_TERM] > 0:
            k = s.req_i[r, R_INDEX]
            copies = 0
            for j in range(n):
                if s.dlc[j, k] == r + 1:
                    copies += 1
            if copies < need:
                violation(s, V_ACKED_LOST, -1, s.req_i[r, R_TERM], k)
