"""Multi-Paxos phase 2: registers and codes, the per-slot on-disk log, learning and
applying chosen slots, pipelined accepts and their replies, client requests. Phase 1 and
the node life cycle are in ``_multipaxos.py``, whose docstring describes the protocol."""

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
    violation,
)
from openha.sim._layout import (
    C_N,
    C_Q2,
    C_QUIET_WRITES,
    C_THRIFTY,
    E_HBTIMER,
    F_HB,
    G_NOW,
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
    N_APPLIED,
    N_COMMIT,
    N_LEADER,
    N_LEN,
    N_ROLE,
    N_SHARED,
    N_TERM,
    N_VOTE,
    O_LOG,
    R_ATTEMPT,
    R_DONE,
    R_FLOOR,
    R_KIND,
    R_LOGGED,
    READ,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    U_INC,
    V_STALE_READ,
    V_VALIDITY,
)
from openha.sim._raft_state import (
    EPOCH,
    HBGEN,
    INFL,
    LAST_SENT,
    MATCH,
    NEXT,
    PROBE,
    heard_leader,
    next_send,
    quorum_index,
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
    commit = s.ni[i, N_COMMIT]
    best = quorum_index(s, i, s.ni[i, DRUN], s.cfg_i[C_Q2], commit)
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
