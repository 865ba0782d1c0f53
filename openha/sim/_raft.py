"""Raft (Ongaro & Ousterhout 2014, Figure 2) as event handlers on the simulator.

Elections: randomized timeouts drawn afresh at every reset; term and vote are
written to disk before a candidate asks for votes and before a voter grants one;
optional pre-vote. Replication: pipelined AppendEntries (``window`` in flight per
follower, ``batch`` entries each) with etcd-style probe/replicate tracking; an
entry commits when a majority holds it durably and it is from the leader's term
(Figure 8); a new leader appends a no-op. Reads use ReadIndex: the leader records
its commit index and answers once a majority has acknowledged a heartbeat sent
after the read arrived.

Mutants (``C_MUTANT``), kept so the safety checker's tests can show it catches them:
1 commits entries of earlier terms by counting replicas; 2 grants votes without
writing them down; 3 grants votes without the log up-to-date check.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._clients import acknowledge, redirect
from openha.sim._engine import (
    check_apply,
    created,
    disk_enqueue,
    draw_uniform,
    matches_created,
    new_message,
    overflow,
    push,
    send,
    timeline,
    truncate_log,
    violation,
)
from openha.sim._layout import (
    C_BATCH,
    C_ELECT,
    C_MUTANT,
    C_N,
    C_NOOP,
    C_PREVOTE,
    C_QUIET_WRITES,
    C_WINDOW,
    E_ETIMER,
    E_HBTIMER,
    F_EMAX,
    F_EMIN,
    F_HB,
    G_ELECTED_AT,
    G_HEARD_AT,
    G_NOW,
    K_ELECTED,
    K_GCOMMIT,
    K_HEARD,
    K_MAXTERM,
    K_NPEND,
    K_STATUS,
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
    N_DUR_VOTE,
    N_LEADER,
    N_LEN,
    N_ROLE,
    N_SHARED,
    N_TERM,
    N_VOTE,
    O_LOG,
    O_PEND,
    O_TERMS,
    R_ATTEMPT,
    R_DONE,
    R_FLOOR,
    R_INDEX,
    R_KIND,
    R_LOGGED,
    R_LOGTERM,
    R_NEED,
    R_SERVER,
    READ,
    ROLE_CANDIDATE,
    ROLE_DOWN,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    ROLE_PRECANDIDATE,
    ST_DONE,
    T_CREQ,
    TL_LEADER,
    TL_STEP_DOWN,
    U_INC,
    U_UP,
    V_LEADER_COMPLETENESS,
    V_LOG_MATCHING,
    V_STALE_READ,
    V_TWO_LEADERS,
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
def _majority(s):
    return s.cfg_i[C_N] // 2 + 1


@njit(**_OPTS)
def _popcount(x):
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
        _arm_election_timer(s, i, deadline)


@njit(**_OPTS)
def _arm_election_timer(s, i, t):
    s.ni[i, ETGEN] += 1  # a pending event of an older generation is ignored
    s.ni[i, ET_PENDING] = 1
    s.nf[i, ET_AT] = t
    push(s, t, E_ETIMER, i, s.ni[i, ETGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def on_election_timer(s, i, gen):
    """The timer event reached the CPU: time out, or wait for the current deadline."""
    if gen != s.ni[i, ETGEN]:
        return
    s.ni[i, ET_PENDING] = 0
    if s.cf[G_NOW] < s.nf[i, DEADLINE]:
        _arm_election_timer(s, i, s.nf[i, DEADLINE])
        return
    on_election_timeout(s, i)


@njit(**_OPTS)
def _last_term(s, i):
    return s.lt[i, s.ni[i, N_LEN]]


@njit(**_OPTS)
def _up_to_date(s, i, last_index, last_term):
    """Whether a log ending at (last_index, last_term) is at least as up to date as i's."""
    mine = _last_term(s, i)
    return last_term > mine or (last_term == mine and last_index >= s.ni[i, N_LEN])


@njit(**_OPTS)
def _step_down(s, i, term):
    """Adopt ``term`` (forgetting the vote if it is new) and become a follower."""
    if term > s.ni[i, N_TERM]:
        s.ni[i, N_TERM] = term
        s.ni[i, N_VOTE] = -1
        if term > s.ci[K_MAXTERM]:
            s.ci[K_MAXTERM] = term
    if s.ni[i, N_ROLE] == ROLE_LEADER:
        s.ni[i, HBGEN] += 1
        timeline(s, i, s.ni[i, N_TERM], TL_STEP_DOWN)
        _drop_reads(s, i)
        reset_election_timer(s, i)  # a leader runs no election timer; a follower must
    if s.ni[i, N_ROLE] != ROLE_FOLLOWER:
        s.ni[i, N_ROLE] = ROLE_FOLLOWER
        s.ni[i, VOTES] = 0


@njit(**_OPTS)
def _drop_reads(s, i):
    """A leader that steps down forgets its pending reads (their clients retry)."""
    k = 0
    for j in range(s.ci[K_NPEND]):
        r = s.pend[j]
        if s.req_i[r, R_SERVER] != i:
            s.pend[k] = r
            k += 1
    s.ci[K_NPEND] = k


@njit(**_OPTS)
def _broadcast(s, i, mtype, term, a, b):
    for j in range(s.cfg_i[C_N]):
        if j != i:
            slot = new_message(s, mtype, i, j, term)
            if slot < 0:
                return
            s.m_i[slot, M_A] = a
            s.m_i[slot, M_B] = b
            send(s, slot)


@njit(**_OPTS)
def on_election_timeout(s, i):
    role = s.ni[i, N_ROLE]
    if role == ROLE_LEADER or role == ROLE_DOWN:
        return
    reset_election_timer(s, i)
    if s.cfg_i[C_PREVOTE] == 1 and s.cfg_i[C_N] > 1:
        s.ni[i, N_ROLE] = ROLE_PRECANDIDATE
        s.ni[i, VOTES] = np.int64(1) << i
        _broadcast(s, i, T_PRE, s.ni[i, N_TERM] + 1, s.ni[i, N_LEN], _last_term(s, i))
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
        _append_own(s, i, 0)
    else:
        s.ni[i, TERM_START] = s.ni[i, N_LEN]
    _announce(s, i)
    _advance_commit(s, i)


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
            _send_append(s, i, f, True)
    push(s, s.cf[G_NOW] + s.cfg_f[F_HB], E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def _append_own(s, i, command):
    """The leader appends an entry of its term, writes it and will replicate it."""
    index = s.ni[i, N_LEN] + 1
    if index >= s.lt.shape[1]:
        overflow(s, O_LOG)
        return -1
    term = s.ni[i, N_TERM]
    if not created(s, term, index, command, s.lt[i, index - 1]):
        violation(s, V_LOG_MATCHING, i, term, index)
    s.lt[i, index] = term
    s.lc[i, index] = command
    s.ni[i, N_LEN] = index
    disk_enqueue(s, i, OP_SELF, index, term, 0, 0, 0, 0, 0)
    return index


@njit(**_OPTS)
def _send_one(s, i, f, first, count, counted):
    """One AppendEntries to ``f`` carrying entries first..first+count-1."""
    slot = new_message(s, T_AE, i, f, s.ni[i, N_TERM])
    if slot < 0:
        return
    prev = first - 1
    s.m_i[slot, M_A] = prev
    s.m_i[slot, M_B] = s.lt[i, prev]
    s.m_i[slot, M_C] = s.ni[i, N_COMMIT]
    s.m_i[slot, M_D] = count
    s.m_i[slot, M_E] = s.ni[i, ROUND]
    s.m_i[slot, M_F] = s.pp[i, f, EPOCH]
    s.m_i[slot, M_G] = counted
    for j in range(count):
        s.m_e[slot, j, 0] = s.lt[i, first + j]
        s.m_e[slot, j, 1] = s.lc[i, first + j]
    s.pf[i, f, LAST_SENT] = s.cf[G_NOW]
    send(s, slot)


@njit(**_OPTS)
def _send_append(s, i, f, force):
    """Send ``f`` what it lacks within the window; with ``force`` at least a heartbeat."""
    batch = s.cfg_i[C_BATCH]
    last = s.ni[i, N_LEN]
    sent = False
    if s.pp[i, f, PROBE] == 1:
        if s.pp[i, f, INFL] == 0 or force:
            nxt = s.pp[i, f, NEXT]
            count = min(batch, last - nxt + 1)
            _send_one(s, i, f, nxt, count, 1 if s.pp[i, f, INFL] == 0 else 0)
            if s.pp[i, f, INFL] == 0:
                s.pp[i, f, INFL] = 1
        return
    window = s.cfg_i[C_WINDOW]
    while s.pp[i, f, INFL] < window and s.pp[i, f, NEXT] <= last:
        nxt = s.pp[i, f, NEXT]
        count = min(batch, last - nxt + 1)
        _send_one(s, i, f, nxt, count, 1)
        s.pp[i, f, NEXT] = nxt + count
        s.pp[i, f, INFL] += 1
        sent = True
    if force and not sent:
        _send_one(s, i, f, s.pp[i, f, NEXT], 0, 0)


@njit(**_OPTS)
def on_heartbeat_timer(s, i):
    if s.ni[i, N_ROLE] != ROLE_LEADER:
        return
    hb = s.cfg_f[F_HB]
    now = s.cf[G_NOW]
    for f in range(s.cfg_i[C_N]):
        if f != i and now - s.pf[i, f, LAST_SENT] >= 0.5 * hb:
            _send_append(s, i, f, True)
    push(s, now + hb, E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def _apply(s, i):
    """Apply committed entries; the leader answers the clients still waiting."""
    leader = s.ni[i, N_ROLE] == ROLE_LEADER
    quiet = s.cfg_i[C_QUIET_WRITES] == 1
    while s.ni[i, N_APPLIED] < s.ni[i, N_COMMIT]:
        k = s.ni[i, N_APPLIED] + 1
        s.ni[i, N_APPLIED] = k
        check_apply(s, i, k, s.lt[i, k], s.lc[i, k])
        command = s.lc[i, k]
        if leader and command > 0 and not quiet:
            # Any committed write is answered, earlier terms' too (its client may be
            # waiting on a retry that found it in the log).
            r = command - 1
            if s.req_i[r, R_DONE] == 0:
                acknowledge(s, i, r, k, s.lt[i, k], s.req_i[r, R_ATTEMPT])
    if leader and s.ci[K_NPEND] > 0:
        _serve_reads(s, i)


@njit(**_OPTS)
def _advance_commit(s, i):
    """Commit the highest index a majority holds durably, if it is of this term."""
    n = s.cfg_i[C_N]
    need = _majority(s)
    commit = s.ni[i, N_COMMIT]
    best = commit
    # The majority-th largest of the durable indexes, without sorting: an index
    # qualifies when at least a majority of nodes hold it.
    for a in range(n):
        v = s.ni[i, N_DUR_LEN] if a == i else s.pp[i, a, MATCH]
        if v <= best:
            continue
        holders = 0
        for b in range(n):
            w = s.ni[i, N_DUR_LEN] if b == i else s.pp[i, b, MATCH]
            if w >= v:
                holders += 1
        if holders >= need:
            best = v
    if best > commit:
        if s.lt[i, best] == s.ni[i, N_TERM] or s.cfg_i[C_MUTANT] == 1:
            s.ni[i, N_COMMIT] = best
            _apply(s, i)


@njit(**_OPTS)
def _serve_reads(s, i):
    """Answer the pending reads whose heartbeat round a majority has acknowledged."""
    n = s.cfg_i[C_N]
    need_votes = _majority(s)
    k = 0
    for j in range(s.ci[K_NPEND]):
        r = s.pend[j]
        keep = True
        if s.req_i[r, R_SERVER] == i and s.ni[i, N_APPLIED] >= s.req_i[r, R_INDEX]:
            votes = 1
            for f in range(n):
                if f != i and s.pp[i, f, ACKR] >= s.req_i[r, R_NEED]:
                    votes += 1
            if votes >= need_votes:
                keep = False
                if s.req_i[r, R_INDEX] < s.req_i[r, R_FLOOR]:
                    violation(s, V_STALE_READ, i, s.ni[i, N_TERM], s.req_i[r, R_INDEX])
                acknowledge(s, i, r, s.req_i[r, R_INDEX], s.ni[i, N_TERM], s.req_i[r, R_ATTEMPT])
        if keep:
            s.pend[k] = r
            k += 1
    s.ci[K_NPEND] = k


@njit(**_OPTS)
def _on_client_request(s, i, slot):
    r = s.m_i[slot, M_A]
    attempt = s.m_i[slot, M_C]
    if s.ni[i, N_ROLE] != ROLE_LEADER:
        redirect(s, i, r, s.ni[i, N_LEADER], attempt)
        return
    if s.req_i[r, R_KIND] == READ:
        p = s.ci[K_NPEND]
        if p >= s.pend.shape[0]:
            overflow(s, O_PEND)
            return
        s.pend[p] = r
        s.ci[K_NPEND] = p + 1
        s.ni[i, ROUND] += 1
        s.req_i[r, R_SERVER] = i
        s.req_i[r, R_NEED] = s.ni[i, ROUND]
        start = s.ni[i, TERM_START]
        s.req_i[r, R_INDEX] = max(s.ni[i, N_COMMIT], start)
        for f in range(s.cfg_i[C_N]):
            if f != i:
                _send_append(s, i, f, True)
        _serve_reads(s, i)
        return
    # Client sessions (thesis §6.3): a retried write already in this leader's log is
    # not appended again; if it has committed, it is answered again at once.
    k = s.req_i[r, R_LOGGED]
    if 0 < k <= s.ni[i, N_LEN] and s.lc[i, k] == r + 1 and s.lt[i, k] == s.req_i[r, R_LOGTERM]:
        if k <= s.ni[i, N_APPLIED]:
            acknowledge(s, i, r, k, s.lt[i, k], attempt)
        return
    k = _append_own(s, i, r + 1)
    if k < 0:
        return
    s.req_i[r, R_LOGGED] = k
    s.req_i[r, R_LOGTERM] = s.ni[i, N_TERM]
    for f in range(s.cfg_i[C_N]):
        if f != i:
            _send_append(s, i, f, False)


@njit(**_OPTS)
def _on_request_vote(s, i, slot, pre):
    c = s.m_i[slot, M_SRC]
    term = s.m_i[slot, M_TERM]
    ok_log = _up_to_date(s, i, s.m_i[slot, M_A], s.m_i[slot, M_B]) or s.cfg_i[C_MUTANT] == 3
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
        _step_down(s, i, term)
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
                _step_down(s, i, term)
            return
        if term != s.ni[i, N_TERM] + 1:
            return
        s.ni[i, VOTES] |= np.int64(1) << v
        if _popcount(s.ni[i, VOTES]) >= _majority(s):
            _start_election(s, i)
        return
    if term > s.ni[i, N_TERM]:
        _step_down(s, i, term)
        return
    if s.ni[i, N_ROLE] != ROLE_CANDIDATE or term != s.ni[i, N_TERM] or not granted:
        return
    s.ni[i, VOTES] |= np.int64(1) << v
    if _popcount(s.ni[i, VOTES]) >= _majority(s):
        _become_leader(s, i)


@njit(**_OPTS)
def _heard_leader(s, i, leader):
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


@njit(**_OPTS)
def _on_append(s, i, slot):
    leader = s.m_i[slot, M_SRC]
    term = s.m_i[slot, M_TERM]
    if term < s.ni[i, N_TERM]:
        _ae_reply(s, i, leader, s.ni[i, N_TERM], 0, s.ni[i, N_LEN], slot)
        return
    if term > s.ni[i, N_TERM] or s.ni[i, N_ROLE] != ROLE_FOLLOWER:
        _step_down(s, i, term)
    reset_election_timer(s, i)
    _heard_leader(s, i, leader)
    prev = s.m_i[slot, M_A]
    if prev > s.ni[i, N_LEN] or s.lt[i, prev] != s.m_i[slot, M_B]:
        hint = min(s.ni[i, N_LEN], prev - 1)
        _ae_reply(s, i, leader, term, 0, hint, slot)
        return
    count = s.m_i[slot, M_D]
    for j in range(count):
        index = prev + 1 + j
        eterm = s.m_e[slot, j, 0]
        if index <= s.ni[i, N_LEN]:
            if s.lt[i, index] == eterm:
                continue
            truncate_log(s, i, index - 1)
        if index >= s.lt.shape[1]:
            overflow(s, O_LOG)
            return
        command = s.m_e[slot, j, 1]
        if not matches_created(s, eterm, index, command, s.lt[i, index - 1]):
            violation(s, V_LOG_MATCHING, i, eterm, index)
        s.lt[i, index] = eterm
        s.lc[i, index] = command
        s.ni[i, N_LEN] = index
    last_new = prev + count
    commit = min(s.m_i[slot, M_C], last_new)
    if commit > s.ni[i, N_COMMIT]:
        s.ni[i, N_COMMIT] = commit
        _apply(s, i)
    if count > 0 and s.ni[i, N_DUR_LEN] < last_new:
        # New entries: acknowledge once they are on disk.
        disk_enqueue(
            s,
            i,
            OP_ACK,
            last_new,
            leader,
            term,
            last_new,
            s.m_i[slot, M_E],
            s.m_i[slot, M_F],
            s.m_i[slot, M_G],
        )
    else:
        # Nothing new: the log matches up to last_new, but only the durable part may
        # count towards a commit (a heartbeat can overtake an fsync still running).
        _ae_reply(s, i, leader, term, 1, min(last_new, s.ni[i, N_DUR_LEN]), slot)


@njit(**_OPTS)
def _ae_reply(s, i, leader, term, success, index, slot):
    _ae_reply_fields(
        s, i, leader, term, success, index, s.m_i[slot, M_E], s.m_i[slot, M_F], s.m_i[slot, M_G]
    )


@njit(**_OPTS)
def _ae_reply_fields(s, i, leader, term, success, index, rnd, epoch, counted):
    reply = new_message(s, T_AE_REPLY, i, leader, term)
    if reply < 0:
        return
    s.m_i[reply, M_A] = success
    s.m_i[reply, M_B] = index
    s.m_i[reply, M_C] = rnd
    s.m_i[reply, M_D] = epoch
    s.m_i[reply, M_E] = counted
    send(s, reply)


@njit(**_OPTS)
def _on_append_reply(s, i, slot):
    term = s.m_i[slot, M_TERM]
    if term > s.ni[i, N_TERM]:
        _step_down(s, i, term)
        return
    if s.ni[i, N_ROLE] != ROLE_LEADER or term != s.ni[i, N_TERM]:
        return
    f = s.m_i[slot, M_SRC]
    rnd = s.m_i[slot, M_C]
    if rnd > s.pp[i, f, ACKR]:
        s.pp[i, f, ACKR] = rnd
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
        _advance_commit(s, i)
        if s.ni[i, N_ROLE] == ROLE_LEADER:
            _send_append(s, i, f, False)
    elif current:
        nxt = index + 1
        if nxt > s.pp[i, f, NEXT] - 1 and s.pp[i, f, PROBE] == 1:
            nxt = s.pp[i, f, NEXT] - 1
        s.pp[i, f, NEXT] = max(1, min(nxt, s.ni[i, N_LEN] + 1))
        s.pp[i, f, PROBE] = 1
        s.pp[i, f, INFL] = 0
        s.pp[i, f, EPOCH] += 1
        _send_append(s, i, f, True)
    if s.ci[K_NPEND] > 0 and s.ni[i, N_ROLE] == ROLE_LEADER:
        _serve_reads(s, i)


@njit(**_OPTS)
def on_message(s, i, slot):
    mtype = s.m_i[slot, M_TYPE]
    if mtype == T_AE:
        _on_append(s, i, slot)
    elif mtype == T_AE_REPLY:
        _on_append_reply(s, i, slot)
    elif mtype == T_CREQ:
        _on_client_request(s, i, slot)
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
            if _popcount(s.ni[i, VOTES]) >= _majority(s):
                _become_leader(s, i)
            else:
                _broadcast(s, i, T_RV, a, s.ni[i, N_LEN], _last_term(s, i))
    elif op == OP_VOTE:
        if s.ni[i, N_TERM] == b and s.ni[i, N_VOTE] == a:
            _vote_reply(s, i, a, b, 1)
    elif op == OP_ACK:
        match = s.disk_q[i, row, 3]
        if s.ni[i, N_TERM] == b and s.ni[i, N_DUR_LEN] >= match:
            _ae_reply_fields(
                s, i, a, b, 1, match, s.disk_q[i, row, 4], s.disk_q[i, row, 5], s.disk_q[i, row, 6]
            )
    elif op == OP_SELF:
        if s.ni[i, N_ROLE] == ROLE_LEADER and s.ni[i, N_TERM] == a:
            _advance_commit(s, i)


@njit(**_OPTS)
def on_crash(s, i):
    if s.ni[i, N_ROLE] == ROLE_LEADER:
        s.ni[i, HBGEN] += 1
        _drop_reads(s, i)
    s.ni[i, N_ROLE] = ROLE_DOWN
    s.ni[i, N_LEADER] = -1
    s.ni[i, N_APPLIED] = 0
    s.ni[i, VOTES] = 0


@njit(**_OPTS)
def on_recover(s, i):
    s.ni[i, ET_PENDING] = 0  # its timer event died with the crash
    s.ni[i, N_ROLE] = ROLE_FOLLOWER
    s.nf[i, HEARD] = -np.inf
    reset_election_timer(s, i)


@njit(**_OPTS)
def bootstrap(s, leader):
    """Start with ``leader`` leading term 1 (followers' timers running), or no leader."""
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
    up_to_date = n - stale
    for i in range(n):
        length = 2 if i == leader or _rank(i, leader, n) < up_to_date else 1
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


@njit(**_OPTS)
def durable_copies(s, index, term, command):
    """How many nodes hold (index, term, command) in the durable part of their log."""
    c = 0
    for j in range(s.cfg_i[C_N]):
        if s.ni[j, N_DUR_LEN] >= index and s.lt[j, index] == term and s.lc[j, index] == command:
            c += 1
    return c


@njit(**_OPTS)
def acked_survive(s):
    """Number of copies an acknowledged write must keep: a majority."""
    return _majority(s)
