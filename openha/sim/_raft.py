"""Raft (Ongaro & Ousterhout 2014, Figure 2) as event handlers on the simulator.

Elections: randomized timeouts drawn afresh at every reset; term and vote are
written to disk before a candidate asks for votes and before a voter grants one;
optional pre-vote. Replication: pipelined AppendEntries (``window`` in flight per
follower, ``batch`` entries each) with etcd-style probe/replicate tracking; an
entry commits when a majority holds it durably and it is from the leader's term
(Figure 8); a new leader appends a no-op. Reads use ReadIndex: the leader records
its commit index and answers once a majority has acknowledged a heartbeat sent
after the read arrived. This module: elections and the node life cycle; replication is in
``_raft_log.py``, what both share in ``_raft_state.py``.

Mutants (``C_MUTANT``), kept so the safety checker's tests can show it catches them:
1 commits entries of earlier terms by counting replicas; 2 grants votes without
writing them down; 3 grants votes without the log up-to-date check.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._engine import (
    created,
    disk_enqueue,
    new_message,
    overflow,
    push,
    send,
    timeline,
    violation,
)
from openha.sim._layout import (
    C_ELECT,
    C_MUTANT,
    C_N,
    C_NOOP,
    C_PREVOTE,
    C_WINDOW,
    E_HBTIMER,
    F_EMIN,
    F_HB,
    G_ELECTED_AT,
    G_NOW,
    K_ELECTED,
    K_GCOMMIT,
    K_HEARD,
    K_MAXTERM,
    M_A,
    M_B,
    M_SRC,
    M_TERM,
    M_TYPE,
    N_APPLIED,
    N_COMMIT,
    N_DUR_LEN,
    N_DUR_TERM,
    N_DUR_VOTE,
    N_LEADER,
    N_LEN,
    N_ROLE,
    N_TERM,
    N_VOTE,
    O_TERMS,
    ROLE_CANDIDATE,
    ROLE_DOWN,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    ROLE_PRECANDIDATE,
    T_CREQ,
    TL_LEADER,
    U_INC,
    V_LEADER_COMPLETENESS,
    V_TWO_LEADERS,
)
from openha.sim._raft_log import (
    advance_commit,
    ae_reply_fields,
    append_own,
    on_append,
    on_append_reply,
    on_client_request,
    send_append,
)
from openha.sim._raft_state import (
    ACKR,
    EPOCH,
    HBGEN,
    HEARD,
    INFL,
    LAST_SENT,
    MATCH,
    NEXT,
    OP_ACK,
    OP_SELF,
    OP_SEND_RV,
    OP_VOTE,
    PROBE,
    T_AE,
    T_AE_REPLY,
    T_PRE,
    T_PRE_REPLY,
    T_RV,
    T_RV_REPLY,
    TERM_START,
    VOTES,
    broadcast,
    drop_reads,
    election_due,
    init_followers,
    log_last_term,
    majority,
    popcount,
    reset_election_timer,
    restart_follower,
    step_down,
    up_to_date,
)

_OPTS = jit_options()


@njit(**_OPTS)
def on_election_timer(s, i, gen):
    """The timer event reached the CPU: time out, or wait for the current deadline."""
    if election_due(s, i, gen):
        on_election_timeout(s, i)


@njit(**_OPTS)
def on_election_timeout(s, i):
    role = s.ni[i, N_ROLE]
    if role == ROLE_LEADER or role == ROLE_DOWN:
        return
    reset_election_timer(s, i)
    if s.cfg_i[C_PREVOTE] == 1 and s.cfg_i[C_N] > 1:
        s.ni[i, N_ROLE] = ROLE_PRECANDIDATE
        s.ni[i, VOTES] = np.int64(1) << i
        broadcast(s, i, T_PRE, s.ni[i, N_TERM] + 1, s.ni[i, N_LEN], log_last_term(s, i))
        return
    _start_election(s, i)


@njit(**_OPTS)
def _start_election(s, i):
    term = s.ni[i, N_TERM] + 1
    s.ni[i, N_TERM] = term
    if term > s.ci[K_MAXTERM]:
        s.ci[K_MAXTERM] = term
    s.ni[i, N_VOTE] = i
    s.ni[i, N_ROLE] = ROLE_CANDIDATE
    s.ni[i, VOTES] = np.int64(1) << i
    disk_enqueue(s, i, OP_SEND_RV, 0, term, 0, 0, 0, 0, 0)


@njit(**_OPTS)
def _become_leader(s, i):
    if not _take_office(s, i):
        return
    if s.cfg_i[C_NOOP] == 1:
        append_own(s, i, 0)
    else:
        s.ni[i, TERM_START] = s.ni[i, N_LEN]
    _announce(s, i)
    advance_commit(s, i)


@njit(**_OPTS)
def _take_office(s, i):
    """Node i won its term: check the election's safety, reset replication state."""
    term = s.ni[i, N_TERM]
    if term >= s.lead_of.shape[0]:
        overflow(s, O_TERMS)
        return False
    if s.lead_of[term] >= 0 and s.lead_of[term] != i:
        violation(s, V_TWO_LEADERS, i, term, s.lead_of[term])
    s.lead_of[term] = i
    s.ni[i, N_ROLE] = ROLE_LEADER
    s.ni[i, N_LEADER] = i
    timeline(s, i, term, TL_LEADER)
    # Leader completeness: every committed entry is in the new leader's log.
    g = s.ci[K_GCOMMIT]
    if s.ni[i, N_LEN] < g:
        violation(s, V_LEADER_COMPLETENESS, i, term, s.ni[i, N_LEN] + 1)
    else:
        for k in range(1, g + 1):
            if s.lt[i, k] != s.com_t[k] or s.lc[i, k] != s.com_c[k]:
                violation(s, V_LEADER_COMPLETENESS, i, term, k)
                break
    if s.cfg_i[C_ELECT] == 1 and s.ci[K_ELECTED] != -2:  # armed by the leader's crash
        s.ci[K_ELECTED] = i  # the latest leader: an earlier one may have been deposed
        s.cf[G_ELECTED_AT] = s.cf[G_NOW]
        s.ci[K_HEARD] = np.int64(1) << i
    for f in range(s.cfg_i[C_N]):
        s.pp[i, f, NEXT] = s.ni[i, N_LEN] + 1
        s.pp[i, f, MATCH] = 0
        s.pp[i, f, INFL] = 0
        s.pp[i, f, EPOCH] += 1
        s.pp[i, f, ACKR] = 0
        s.pp[i, f, PROBE] = 1
        s.pf[i, f, LAST_SENT] = -np.inf
    s.ni[i, TERM_START] = s.ni[i, N_LEN] + 1
    return True


@njit(**_OPTS)
def _announce(s, i):
    """The new leader's first AppendEntries to everyone, and its heartbeat timer."""
    s.ni[i, HBGEN] += 1
    for f in range(s.cfg_i[C_N]):
        if f != i:
            send_append(s, i, f, True)
    push(s, s.cf[G_NOW] + s.cfg_f[F_HB], E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def _on_request_vote(s, i, slot, pre):
    c = s.m_i[slot, M_SRC]
    term = s.m_i[slot, M_TERM]
    ok_log = up_to_date(s, i, s.m_i[slot, M_A], s.m_i[slot, M_B]) or s.cfg_i[C_MUTANT] == 3
    if pre:
        # Grant a pre-vote only if no leader has been heard from within the minimum
        # election timeout (and the log is good); nothing changes on this node.
        quiet = s.cf[G_NOW] - s.nf[i, HEARD] >= s.cfg_f[F_EMIN] or s.ni[i, N_LEADER] < 0
        grant = term > s.ni[i, N_TERM] and ok_log and (quiet or s.ni[i, N_ROLE] != 0)
        reply = new_message(s, T_PRE_REPLY, i, c, term if grant else s.ni[i, N_TERM])
        if reply >= 0:
            s.m_i[reply, M_A] = 1 if grant else 0
            send(s, reply)
        return
    if term > s.ni[i, N_TERM]:
        step_down(s, i, term)
        s.ni[i, N_LEADER] = -1
    vote = s.ni[i, N_VOTE]
    grant = term == s.ni[i, N_TERM] and (vote == -1 or vote == c) and ok_log
    if grant:
        s.ni[i, N_VOTE] = c
        reset_election_timer(s, i)
        if s.cfg_i[C_MUTANT] == 2:
            _vote_reply(s, i, c, term, 1)
        else:
            disk_enqueue(s, i, OP_VOTE, 0, c, term, 0, 0, 0, 0)
    else:
        _vote_reply(s, i, c, s.ni[i, N_TERM], 0)


@njit(**_OPTS)
def _vote_reply(s, i, c, term, granted):
    reply = new_message(s, T_RV_REPLY, i, c, term)
    if reply >= 0:
        s.m_i[reply, M_A] = granted
        send(s, reply)


@njit(**_OPTS)
def _on_vote_reply(s, i, slot, pre):
    term = s.m_i[slot, M_TERM]
    granted = s.m_i[slot, M_A] == 1
    v = s.m_i[slot, M_SRC]
    if pre:
        if s.ni[i, N_ROLE] != ROLE_PRECANDIDATE:
            return
        if not granted:
            if term > s.ni[i, N_TERM]:
                step_down(s, i, term)
            return
        if term != s.ni[i, N_TERM] + 1:
            return
        s.ni[i, VOTES] |= np.int64(1) << v
        if popcount(s.ni[i, VOTES]) >= majority(s):
            _start_election(s, i)
        return
    if term > s.ni[i, N_TERM]:
        step_down(s, i, term)
        return
    if s.ni[i, N_ROLE] != ROLE_CANDIDATE or term != s.ni[i, N_TERM] or not granted:
        return
    s.ni[i, VOTES] |= np.int64(1) << v
    if popcount(s.ni[i, VOTES]) >= majority(s):
        _become_leader(s, i)


@njit(**_OPTS)
def on_message(s, i, slot):
    mtype = s.m_i[slot, M_TYPE]
    if mtype == T_AE:
        on_append(s, i, slot)
    elif mtype == T_AE_REPLY:
        on_append_reply(s, i, slot)
    elif mtype == T_CREQ:
        on_client_request(s, i, slot)
    elif mtype == T_RV:
        _on_request_vote(s, i, slot, False)
    elif mtype == T_RV_REPLY:
        _on_vote_reply(s, i, slot, False)
    elif mtype == T_PRE:
        _on_request_vote(s, i, slot, True)
    elif mtype == T_PRE_REPLY:
        _on_vote_reply(s, i, slot, True)


@njit(**_OPTS)
def on_disk(s, i, row):
    """A write this node queued is durable: run what waited for it."""
    op = s.disk_q[i, row, 0]
    a = s.disk_q[i, row, 1]
    b = s.disk_q[i, row, 2]
    if op == OP_SEND_RV:
        if s.ni[i, N_ROLE] == ROLE_CANDIDATE and s.ni[i, N_TERM] == a:
            if popcount(s.ni[i, VOTES]) >= majority(s):
                _become_leader(s, i)
            else:
                broadcast(s, i, T_RV, a, s.ni[i, N_LEN], log_last_term(s, i))
    elif op == OP_VOTE:
        if s.ni[i, N_TERM] == b and s.ni[i, N_VOTE] == a:
            _vote_reply(s, i, a, b, 1)
    elif op == OP_ACK:
        match = s.disk_q[i, row, 3]
        if s.ni[i, N_TERM] == b and s.ni[i, N_DUR_LEN] >= match:
            ae_reply_fields(
                s, i, a, b, 1, match, s.disk_q[i, row, 4], s.disk_q[i, row, 5], s.disk_q[i, row, 6]
            )
    elif op == OP_SELF:
        if s.ni[i, N_ROLE] == ROLE_LEADER and s.ni[i, N_TERM] == a:
            advance_commit(s, i)


@njit(**_OPTS)
def on_crash(s, i):
    if s.ni[i, N_ROLE] == ROLE_LEADER:
        s.ni[i, HBGEN] += 1
        drop_reads(s, i)
    s.ni[i, N_ROLE] = ROLE_DOWN
    s.ni[i, N_LEADER] = -1
    s.ni[i, N_APPLIED] = 0
    s.ni[i, VOTES] = 0


@njit(**_OPTS)
def on_recover(s, i):
    restart_follower(s, i)


@njit(**_OPTS)
def bootstrap(s, leader):
    """Start with ``leader`` leading term 1 (followers' timers running), or no leader."""
    n = s.cfg_i[C_N]
    init_followers(s)
    if leader < 0:
        for i in range(n):
            reset_election_timer(s, i)
        return
    _followers_of(s, leader)
    _become_leader(s, leader)


@njit(**_OPTS)
def _followers_of(s, leader):
    """Everyone is in term 1, has voted for ``leader`` and runs an election timer."""
    n = s.cfg_i[C_N]
    for i in range(n):
        s.ni[i, N_ROLE] = ROLE_FOLLOWER
        s.ni[i, N_TERM] = 1
        s.ni[i, N_DUR_TERM] = 1
        s.ni[i, N_VOTE] = leader
        s.ni[i, N_DUR_VOTE] = leader
        s.ni[i, N_LEADER] = leader
        s.nf[i, HEARD] = 0.0
    s.ci[K_MAXTERM] = 1
    s.ni[leader, N_ROLE] = ROLE_CANDIDATE
    s.ni[leader, VOTES] = (np.int64(1) << n) - 1
    for i in range(n):
        if i != leader:
            reset_election_timer(s, i)


@njit(**_OPTS)
def bootstrap_election(s, leader, stale):
    """The Raft paper's election experiment at the instant of the last heartbeat.

    ``leader`` leads term 1 and every log holds entry 1; all but the last ``stale``
    followers also hold entry 2, which the leader was still sending to the stale ones
    (their window is full), so its heartbeat reaches them without it. Entry 1 is
    committed. The caller schedules the leader's crash.
    """
    n = s.cfg_i[C_N]
    created(s, 1, 1, 0, 0)
    created(s, 1, 2, 0, 1)
    current = n - stale  # nodes with the whole log, the leader included
    for i in range(n):
        length = 2 if i == leader or _rank(i, leader, n) < current else 1
        for k in range(1, length + 1):
            s.lt[i, k] = 1
            s.lc[i, k] = 0
        s.ni[i, N_LEN] = length
        s.ni[i, N_DUR_LEN] = length
        s.ni[i, N_COMMIT] = 1
    s.ci[K_GCOMMIT] = 1
    s.com_t[1] = 1
    s.com_c[1] = 0
    _followers_of(s, leader)
    _take_office(s, leader)
    s.ni[leader, TERM_START] = 1
    for f in range(n):
        if f != leader:
            s.pp[leader, f, PROBE] = 0
            s.pp[leader, f, MATCH] = s.ni[f, N_LEN]
            s.pp[leader, f, NEXT] = s.ni[f, N_LEN] + 1
            s.pp[leader, f, INFL] = s.cfg_i[C_WINDOW] if s.ni[f, N_LEN] < 2 else 0
    _announce(s, leader)


@njit(**_OPTS)
def _rank(i, leader, n):
    """Position of follower ``i`` among followers, counting from the leader's successor."""
    return (i - leader - 1) % n + 1 if i != leader else 0
