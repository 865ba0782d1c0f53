"""Raft log replication: AppendEntries with pipelining and batching, probe/replicate
tracking, the Figure-8 commit rule, applying entries, client requests and ReadIndex reads."""

from numba import njit

from openha._config import jit_options
from openha.sim._clients import acknowledge, redirect
from openha.sim._engine import (
    check_apply,
    created,
    disk_enqueue,
    matches_created,
    new_message,
    overflow,
    push,
    send,
    truncate_log,
    violation,
)
from openha.sim._layout import (
    C_MUTANT,
    C_N,
    C_QUIET_WRITES,
    E_HBTIMER,
    F_HB,
    G_NOW,
    K_NPEND,
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
    N_DUR_LEN,
    N_LEADER,
    N_LEN,
    N_ROLE,
    N_TERM,
    O_LOG,
    O_PEND,
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
    ROLE_FOLLOWER,
    ROLE_LEADER,
    U_INC,
    V_LOG_MATCHING,
    V_STALE_READ,
)
from openha.sim._raft_state import (
    ACKR,
    EPOCH,
    HBGEN,
    LAST_SENT,
    OP_ACK,
    OP_SELF,
    ROUND,
    T_AE,
    T_AE_REPLY,
    TERM_START,
    heard_leader,
    majority,
    next_send,
    quorum_index,
    reset_election_timer,
    step_down,
    track_reply,
)

_OPTS = jit_options()


@njit(**_OPTS)
def append_own(s, i, command):
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
def send_append(s, i, f, force):
    """Send ``f`` what it lacks within the window; with ``force`` at least a heartbeat."""
    sent = False
    while True:
        first, count, counted = next_send(s, i, f, force, sent)
        if count < 0:
            return
        _send_one(s, i, f, first, count, counted)
        sent = True


@njit(**_OPTS)
def on_heartbeat_timer(s, i):
    if s.ni[i, N_ROLE] != ROLE_LEADER:
        return
    hb = s.cfg_f[F_HB]
    now = s.cf[G_NOW]
    for f in range(s.cfg_i[C_N]):
        if f != i and now - s.pf[i, f, LAST_SENT] >= 0.5 * hb:
            send_append(s, i, f, True)
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
def advance_commit(s, i):
    """Commit the highest index a majority holds durably, if it is of this term."""
    commit = s.ni[i, N_COMMIT]
    best = quorum_index(s, i, s.ni[i, N_DUR_LEN], majority(s), commit)
    if best > commit:
        if s.lt[i, best] == s.ni[i, N_TERM] or s.cfg_i[C_MUTANT] == 1:
            s.ni[i, N_COMMIT] = best
            _apply(s, i)


@njit(**_OPTS)
def _serve_reads(s, i):
    """Answer the pending reads whose heartbeat round a majority has acknowledged."""
    n = s.cfg_i[C_N]
    need_votes = majority(s)
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
def on_client_request(s, i, slot):
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
                send_append(s, i, f, True)
        _serve_reads(s, i)
        return
    # Client sessions (thesis §6.3): a retried write already in this leader's log is
    # not appended again; if it has committed, it is answered again at once.
    k = s.req_i[r, R_LOGGED]
    if 0 < k <= s.ni[i, N_LEN] and s.lc[i, k] == r + 1 and s.lt[i, k] == s.req_i[r, R_LOGTERM]:
        if k <= s.ni[i, N_APPLIED]:
            acknowledge(s, i, r, k, s.lt[i, k], attempt)
        return
    k = append_own(s, i, r + 1)
    if k < 0:
        return
    s.req_i[r, R_LOGGED] = k
    s.req_i[r, R_LOGTERM] = s.ni[i, N_TERM]
    for f in range(s.cfg_i[C_N]):
        if f != i:
            send_append(s, i, f, False)


@njit(**_OPTS)
def on_append(s, i, slot):
    leader = s.m_i[slot, M_SRC]
    term = s.m_i[slot, M_TERM]
    if term < s.ni[i, N_TERM]:
        _ae_reply(s, i, leader, s.ni[i, N_TERM], 0, s.ni[i, N_LEN], slot)
        return
    if term > s.ni[i, N_TERM] or s.ni[i, N_ROLE] != ROLE_FOLLOWER:
        step_down(s, i, term)
    reset_election_timer(s, i)
    heard_leader(s, i, leader)
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
    ae_reply_fields(
        s, i, leader, term, success, index, s.m_i[slot, M_E], s.m_i[slot, M_F], s.m_i[slot, M_G]
    )


@njit(**_OPTS)
def ae_reply_fields(s, i, leader, term, success, index, rnd, epoch, counted):
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
def on_append_reply(s, i, slot):
    term = s.m_i[slot, M_TERM]
    if term > s.ni[i, N_TERM]:
        step_down(s, i, term)
        return
    if s.ni[i, N_ROLE] != ROLE_LEADER or term != s.ni[i, N_TERM]:
        return
    f = s.m_i[slot, M_SRC]
    rnd = s.m_i[slot, M_C]
    if rnd > s.pp[i, f, ACKR]:
        s.pp[i, f, ACKR] = rnd
    action = track_reply(s, i, f, slot)
    if action == 1:
        advance_commit(s, i)
        if s.ni[i, N_ROLE] == ROLE_LEADER:
            send_append(s, i, f, False)
    elif action == 2:
        send_append(s, i, f, True)
    if s.ci[K_NPEND] > 0 and s.ni[i, N_ROLE] == ROLE_LEADER:
        _serve_reads(s, i)


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
    return majority(s)
