"""Raft: registers, message and disk-operation codes, and the helpers elections and
replication share (timers, stepping down, hearing a leader). See ``_raft.py``."""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._engine import (
    draw_uniform,
    new_message,
    push,
    send,
    timeline,
)
from openha.sim._layout import (
    C_BATCH,
    C_ELECT,
    C_N,
    C_WINDOW,
    E_ETIMER,
    F_EMAX,
    F_EMIN,
    G_HEARD_AT,
    G_NOW,
    K_ELECTED,
    K_HEARD,
    K_MAXTERM,
    K_NPEND,
    K_STATUS,
    M_A,
    M_B,
    M_D,
    M_E,
    N_LEADER,
    N_LEN,
    N_ROLE,
    N_SHARED,
    N_TERM,
    N_VOTE,
    R_SERVER,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    ST_DONE,
    TL_STEP_DOWN,
    U_INC,
    U_UP,
)

_OPTS = jit_options()

# registers after the shared ones
VOTES = N_SHARED  # bit mask of votes (or pre-votes) received
ETGEN = N_SHARED + 1  # election timer generation
HBGEN = N_SHARED + 2
ROUND = N_SHARED + 3  # ReadIndex heartbeat round
TERM_START = N_SHARED + 4  # index of the leader's first entry of its term
ET_PENDING = N_SHARED + 5  # 1 while an election-timer event is on its way
N_NI = N_SHARED + 6
HEARD = 0  # nf: last time a leader was heard from
DEADLINE = 1  # when the election timer expires
ET_AT = 2  # when the pending timer event fires
N_NF = 3
# per-peer registers, pp[leader, follower]
NEXT = 0
MATCH = 1
INFL = 2
EPOCH = 3
ACKR = 4
PROBE = 5
N_PP = 6
LAST_SENT = 0  # pf
N_PF = 1

# message types
T_RV = 3
T_RV_REPLY = 4
T_AE = 5
T_AE_REPLY = 6
T_PRE = 7
T_PRE_REPLY = 8

# disk operations
OP_SEND_RV = 1
OP_VOTE = 2
OP_ACK = 3
OP_SELF = 4


@njit(**_OPTS)
def next_send(s, i, f, force, sent):
    """The next message leader ``i``'s pipeline sends ``f``: (first, count, counted), or
    count -1 for none. ``sent`` says whether one went already in this round.

    Probing (``PROBE``): one message at a time, another only when forced (a heartbeat),
    and only the first counts towards the window. Replicating: batches of up to
    ``C_BATCH`` entries while fewer than ``C_WINDOW`` are in flight, advancing ``NEXT``.
    With ``force`` and nothing else to send, an empty message (a heartbeat). Raft's
    AppendEntries, Multi-Paxos's accepts and primary-backup's appends all use it.
    """
    batch = s.cfg_i[C_BATCH]
    last = s.ni[i, N_LEN]
    if s.pp[i, f, PROBE] == 1:
        if sent or not (s.pp[i, f, INFL] == 0 or force):
            return 0, -1, 0
        nxt = s.pp[i, f, NEXT]
        counted = 1 if s.pp[i, f, INFL] == 0 else 0
        s.pp[i, f, INFL] = max(s.pp[i, f, INFL], 1)
        return nxt, max(0, min(batch, last - nxt + 1)), counted
    if s.pp[i, f, INFL] < s.cfg_i[C_WINDOW] and s.pp[i, f, NEXT] <= last:
        nxt = s.pp[i, f, NEXT]
        count = min(batch, last - nxt + 1)
        s.pp[i, f, NEXT] = nxt + count
        s.pp[i, f, INFL] += 1
        return nxt, count, 1
    if force and not sent:
        return s.pp[i, f, NEXT], 0, 0
    return 0, -1, 0


@njit(**_OPTS)
def track_reply(s, i, f, slot):
    """Leader ``i`` books a reply from ``f`` to its pipeline (Raft's AppendEntries reply,
    primary-backup's append reply: M_A success, M_B index, M_D epoch, M_E counted).

    Returns 1 on success (MATCH advanced; probing ends if the reply is current: the caller
    advances its commit point and sends more), 2 on a current rejection (back to probing
    from the hint: the caller resends at once), 0 for a stale rejection.
    """
    current = s.m_i[slot, M_D] == s.pp[i, f, EPOCH]
    if current and s.m_i[slot, M_E] == 1 and s.pp[i, f, INFL] > 0:
        s.pp[i, f, INFL] -= 1
    index = s.m_i[slot, M_B]
    if s.m_i[slot, M_A] == 1:
        if index > s.pp[i, f, MATCH]:
            s.pp[i, f, MATCH] = index
        if s.pp[i, f, PROBE] == 1 and current:
            s.pp[i, f, PROBE] = 0
            s.pp[i, f, NEXT] = s.pp[i, f, MATCH] + 1
            s.pp[i, f, INFL] = 0
            s.pp[i, f, EPOCH] += 1
        return 1
    if not current:
        return 0
    nxt = index + 1
    if nxt > s.pp[i, f, NEXT] - 1 and s.pp[i, f, PROBE] == 1:
        nxt = s.pp[i, f, NEXT] - 1
    s.pp[i, f, NEXT] = max(1, min(nxt, s.ni[i, N_LEN] + 1))
    s.pp[i, f, PROBE] = 1
    s.pp[i, f, INFL] = 0
    s.pp[i, f, EPOCH] += 1
    return 2


@njit(**_OPTS)
def quorum_index(s, i, own, need, floor):
    """The highest index above ``floor`` that ``need`` nodes hold: leader ``i`` holds up to
    ``own``, every other node up to its ``MATCH`` (``floor`` if none qualifies).

    The need-th largest without sorting: an index qualifies when at least ``need`` of the
    nodes hold it.
    """
    n = s.cfg_i[C_N]
    best = floor
    for a in range(n):
        v = own if a == i else s.pp[i, a, MATCH]
        if v <= best:
            continue
        holders = 0
        for b in range(n):
            w = own if b == i else s.pp[i, b, MATCH]
            if w >= v:
                holders += 1
        if holders >= need:
            best = v
    return best


@njit(**_OPTS)
def init_followers(s):
    """Every node a follower that has voted for no one and knows no leader."""
    for i in range(s.cfg_i[C_N]):
        s.ni[i, N_ROLE] = ROLE_FOLLOWER
        s.ni[i, N_VOTE] = -1
        s.ni[i, N_LEADER] = -1
        s.nf[i, HEARD] = -np.inf


@njit(**_OPTS)
def restart_follower(s, i):
    """A node back from a crash: a follower whose election timer runs afresh."""
    s.ni[i, ET_PENDING] = 0  # its timer event died with the crash
    s.ni[i, N_ROLE] = ROLE_FOLLOWER
    s.nf[i, HEARD] = -np.inf
    reset_election_timer(s, i)


@njit(**_OPTS)
def majority(s):
    return s.cfg_i[C_N] // 2 + 1


@njit(**_OPTS)
def popcount(x):
    c = 0
    while x:
        x &= x - 1
        c += 1
    return c


@njit(**_OPTS)
def reset_election_timer(s, i):
    """A fresh timeout from now. Followers reset at every AppendEntries, so rather than
    an event per reset, one pending event is re-armed when it finds a later deadline."""
    deadline = s.cf[G_NOW] + draw_uniform(s, s.cfg_f[F_EMIN], s.cfg_f[F_EMAX])
    s.nf[i, DEADLINE] = deadline
    if s.ni[i, ET_PENDING] == 0 or deadline < s.nf[i, ET_AT]:
        arm_election_timer(s, i, deadline)


@njit(**_OPTS)
def election_due(s, i, gen):
    """The timer event reached the CPU: True if the timeout has expired; if the
    deadline moved later meanwhile, re-arm for it and return False."""
    if gen != s.ni[i, ETGEN]:
        return False
    s.ni[i, ET_PENDING] = 0
    if s.cf[G_NOW] < s.nf[i, DEADLINE]:
        arm_election_timer(s, i, s.nf[i, DEADLINE])
        return False
    return True


@njit(**_OPTS)
def arm_election_timer(s, i, t):
    s.ni[i, ETGEN] += 1  # a pending event of an older generation is ignored
    s.ni[i, ET_PENDING] = 1
    s.nf[i, ET_AT] = t
    push(s, t, E_ETIMER, i, s.ni[i, ETGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def log_last_term(s, i):
    return s.lt[i, s.ni[i, N_LEN]]


@njit(**_OPTS)
def up_to_date(s, i, last_index, last_term):
    """Whether a log ending at (last_index, last_term) is at least as up to date as i's."""
    mine = log_last_term(s, i)
    return last_term > mine or (last_term == mine and last_index >= s.ni[i, N_LEN])


@njit(**_OPTS)
def step_down(s, i, term):
    """Adopt ``term`` (forgetting the vote if it is new) and become a follower."""
    if term > s.ni[i, N_TERM]:
        s.ni[i, N_TERM] = term
        s.ni[i, N_VOTE] = -1
        if term > s.ci[K_MAXTERM]:
            s.ci[K_MAXTERM] = term
    if s.ni[i, N_ROLE] == ROLE_LEADER:
        s.ni[i, HBGEN] += 1
        timeline(s, i, s.ni[i, N_TERM], TL_STEP_DOWN)
        drop_reads(s, i)
        reset_election_timer(s, i)  # a leader runs no election timer; a follower must
    if s.ni[i, N_ROLE] != ROLE_FOLLOWER:
        s.ni[i, N_ROLE] = ROLE_FOLLOWER
        s.ni[i, VOTES] = 0


@njit(**_OPTS)
def drop_reads(s, i):
    """A leader that steps down forgets its pending reads (their clients retry)."""
    k = 0
    for j in range(s.ci[K_NPEND]):
        r = s.pend[j]
        if s.req_i[r, R_SERVER] != i:
            s.pend[k] = r
            k += 1
    s.ci[K_NPEND] = k


@njit(**_OPTS)
def broadcast(s, i, mtype, term, a, b):
    for j in range(s.cfg_i[C_N]):
        if j != i:
            slot = new_message(s, mtype, i, j, term)
            if slot < 0:
                return
            s.m_i[slot, M_A] = a
            s.m_i[slot, M_B] = b
            send(s, slot)


@njit(**_OPTS)
def heard_leader(s, i, leader):
    s.ni[i, N_LEADER] = leader
    s.nf[i, HEARD] = s.cf[G_NOW]
    if s.cfg_i[C_ELECT] == 1 and leader == s.ci[K_ELECTED]:
        s.ci[K_HEARD] |= np.int64(1) << i
        everyone = True
        for j in range(s.cfg_i[C_N]):
            if s.nodes[j, U_UP] == 1 and not (s.ci[K_HEARD] >> j) & 1:
                everyone = False
        if everyone:
            s.cf[G_HEARD_AT] = s.cf[G_NOW]
            s.ci[K_STATUS] = ST_DONE
