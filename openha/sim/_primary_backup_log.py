"""Primary-backup replication: appends with pipelining and batching, backups' replies,
client requests. See ``_primary_backup.py``."""

from numba import njit

from openha._config import jit_options
from openha.sim._clients import acknowledge, redirect
from openha.sim._engine import (
    created,
    disk_enqueue,
    matches_created,
    new_message,
    overflow,
    push,
    send,
    violation,
)
from openha.sim._layout import (
    C_N,
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
    N_LEADER,
    N_LEN,
    N_ROLE,
    N_TERM,
    O_LOG,
    O_PEND,
    R_KIND,
    R_LOGGED,
    R_LOGTERM,
    R_SERVER,
    READ,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    U_INC,
    V_LOG_MATCHING,
)
from openha.sim._primary_backup_state import (
    ACK_SENT,
    ANCHOR,
    DHI,
    NS,
    OP_ACK,
    OP_SELF,
    T_APPEND,
    T_APPEND_REPLY,
    _adopt,
    _answer_read,
    _apply,
    _can_read,
    _heard,
    _member,
    _serve_reads,
    _truncate,
    advance_commit,
)
from openha.sim._raft_state import (
    EPOCH,
    HBGEN,
    LAST_SENT,
    next_send,
    track_reply,
)

_OPTS = jit_options()


# --- replication ------------------------------------------------------------------------


@njit(**_OPTS)
def append_own(s, i, command):
    """The primary appends an entry of its epoch and writes it."""
    index = s.ni[i, N_LEN] + 1
    if index >= s.lt.shape[1]:
        overflow(s, O_LOG)
        return -1
    epoch = s.ni[i, N_TERM]
    if not created(s, epoch, index, command, s.lt[i, index - 1]):
        violation(s, V_LOG_MATCHING, i, epoch, index)
    s.lt[i, index] = epoch
    s.lc[i, index] = command
    s.ni[i, N_LEN] = index
    disk_enqueue(s, i, OP_SELF, index, i, epoch, 0, 0, index, index)
    return index


@njit(**_OPTS)
def _send_one(s, i, f, first, count, counted):
    """One Append to ``f`` carrying slots first..first+count-1."""
    slot = new_message(s, T_APPEND, i, f, s.ni[i, N_TERM])
    if slot < 0:
        return
    prev = first - 1
    now = s.cf[G_NOW]
    s.m_i[slot, M_A] = prev
    s.m_i[slot, M_B] = s.lt[i, prev]
    s.m_i[slot, M_C] = s.ni[i, N_COMMIT]
    s.m_i[slot, M_D] = count
    s.m_i[slot, M_E] = int(now * NS)  # rounded down: the lease is never overstated
    s.m_i[slot, M_F] = s.pp[i, f, EPOCH]
    s.m_i[slot, M_G] = counted
    for j in range(count):
        s.m_e[slot, j, 0] = s.lt[i, first + j]
        s.m_e[slot, j, 1] = s.lc[i, first + j]
    s.pf[i, f, LAST_SENT] = now
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
def _send_all(s, i, force):
    for f in range(s.cfg_i[C_N]):
        if f != i and _member(s, f):
            send_append(s, i, f, force)


@njit(**_OPTS)
def on_heartbeat_timer(s, i):
    if s.ni[i, N_ROLE] != ROLE_LEADER:
        return
    hb = s.cfg_f[F_HB]
    now = s.cf[G_NOW]
    for f in range(s.cfg_i[C_N]):
        if f != i and _member(s, f) and now - s.pf[i, f, LAST_SENT] >= 0.5 * hb:
            send_append(s, i, f, True)
    push(s, now + hb, E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def _reply(s, i, p, epoch, success, index, sent, flow, counted):
    reply = new_message(s, T_APPEND_REPLY, i, p, epoch)
    if reply < 0:
        return
    s.m_i[reply, M_A] = success
    s.m_i[reply, M_B] = index
    s.m_i[reply, M_C] = sent
    s.m_i[reply, M_D] = flow
    s.m_i[reply, M_E] = counted
    send(s, reply)


@njit(**_OPTS)
def _on_append(s, i, slot):
    p = s.m_i[slot, M_SRC]
    epoch = s.m_i[slot, M_TERM]
    sent = s.m_i[slot, M_E]
    flow = s.m_i[slot, M_F]
    counted = s.m_i[slot, M_G]
    if epoch < s.ni[i, N_TERM] or not _member(s, i):
        _reply(s, i, p, s.ni[i, N_TERM], 0, 0, sent, flow, counted)
        return
    if epoch > s.ni[i, N_TERM] or s.ni[i, N_ROLE] != ROLE_FOLLOWER:
        _adopt(s, i, epoch)
    _heard(s, i, p)
    prev = s.m_i[slot, M_A]
    if prev > s.ni[i, N_LEN] or s.lt[i, prev] != s.m_i[slot, M_B]:
        _reply(s, i, p, epoch, 0, min(s.ni[i, N_LEN], prev - 1), sent, flow, counted)
        return
    count = s.m_i[slot, M_D]
    for j in range(count):
        index = prev + 1 + j
        eepoch = s.m_e[slot, j, 0]
        if index <= s.ni[i, N_LEN]:
            if s.lt[i, index] == eepoch:
                continue
            _truncate(s, i, index - 1)
        if index >= s.lt.shape[1]:
            overflow(s, O_LOG)
            return
        command = s.m_e[slot, j, 1]
        if not matches_created(s, eepoch, index, command, s.lt[i, index - 1]):
            violation(s, V_LOG_MATCHING, i, eepoch, index)
        s.lt[i, index] = eepoch
        s.lc[i, index] = command
        s.ni[i, N_LEN] = index
    last_new = prev + count
    commit = min(s.m_i[slot, M_C], last_new)
    if commit > s.ni[i, N_COMMIT]:
        s.ni[i, N_COMMIT] = commit
        _apply(s, i)
    if count > 0 and s.ni[i, DHI] < last_new:
        # acknowledged once on disk (flow control fields packed in one)
        disk_enqueue(s, i, OP_ACK, last_new, p, epoch, sent, 2 * flow + counted, prev + 1,
                     last_new)  # fmt: skip
    else:
        _reply(s, i, p, epoch, 1, min(last_new, s.ni[i, DHI]), sent, flow, counted)


@njit(**_OPTS)
def _on_append_reply(s, i, slot):
    epoch = s.m_i[slot, M_TERM]
    if epoch > s.ni[i, N_TERM]:
        _adopt(s, i, epoch)
        return
    if s.ni[i, N_ROLE] != ROLE_LEADER or epoch != s.ni[i, N_TERM]:
        return
    f = s.m_i[slot, M_SRC]
    sent = s.m_i[slot, M_C] / NS
    if sent > s.pf[i, f, ACK_SENT]:
        s.pf[i, f, ACK_SENT] = sent
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
def _on_client_request(s, i, slot):
    r = s.m_i[slot, M_A]
    attempt = s.m_i[slot, M_C]
    if s.ni[i, N_ROLE] != ROLE_LEADER:
        hint = s.ni[i, N_LEADER] if _member(s, i) else s.ni[0, ANCHOR]
        redirect(s, i, r, hint, attempt)
        return
    if s.req_i[r, R_KIND] == READ:
        if _can_read(s, i):
            _answer_read(s, i, r)
            return
        p = s.ci[K_NPEND]
        if p >= s.pend.shape[0]:
            overflow(s, O_PEND)
            return
        s.pend[p] = r
        s.ci[K_NPEND] = p + 1
        s.req_i[r, R_SERVER] = i
        return
    # A retried write already in this primary's log is not appended again; if it has
    # committed, it is answered again at once.
    k = s.req_i[r, R_LOGGED]
    if 0 < k <= s.ni[i, N_LEN] and s.lc[i, k] == r + 1:
        if k <= s.ni[i, N_APPLIED]:
            acknowledge(s, i, r, k, s.lt[i, k], attempt)
        return
    k = append_own(s, i, r + 1)
    if k < 0:
        return
    s.req_i[r, R_LOGGED] = k
    s.req_i[r, R_LOGTERM] = s.ni[i, N_TERM]
    _send_all(s, i, False)
