"""Primary-backup failover: takeover by lease expiry, promises, hand-over and a new
primary taking office. See ``_primary_backup.py``."""

import math

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._engine import (
    disk_enqueue,
    draw_uniform,
    new_message,
    overflow,
    push,
    send,
    timeline,
    violation,
)
from openha.sim._layout import (
    C_N,
    C_SYNC,
    E_HBTIMER,
    E_PTIMER,
    F_HB,
    F_LEASE,
    G_NOW,
    K_GCOMMIT,
    K_MAXTERM,
    M_A,
    M_B,
    M_C,
    M_D,
    M_SRC,
    M_TERM,
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
    TL_LEADER,
    U_INC,
    V_LEADER_COMPLETENESS,
    V_TWO_LEADERS,
)
from openha.sim._primary_backup_log import (
    _send_all,
    append_own,
)
from openha.sim._primary_backup_state import (
    ACK_SENT,
    BEST,
    BEST_EP,
    BEST_LEN,
    DHI,
    LAST_PRIMARY,
    NS,
    OP_CAND,
    OP_PROMISE,
    T_HANDOVER,
    T_PROMISE,
    T_TAKEOVER,
    WAIT,
    _adopt,
    _arm_takeover,
    _member,
    takeover_quorum,
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
    TERM_START,
    VOTES,
    election_due,
    popcount,
)

_OPTS = jit_options()


# --- failover ----------------------------------------------------------------------------


@njit(**_OPTS)
def on_takeover_timer(s, i, gen):
    if not election_due(s, i, gen):
        return
    role = s.ni[i, N_ROLE]
    if role == ROLE_LEADER or role == ROLE_DOWN or not _member(s, i):
        return
    n = s.cfg_i[C_N]
    epoch = (s.ni[i, N_TERM] // n + 1) * n + i + 1
    s.ni[i, N_TERM] = epoch
    if epoch > s.ci[K_MAXTERM]:
        s.ci[K_MAXTERM] = epoch
    s.ni[i, N_VOTE] = i
    s.ni[i, N_ROLE] = ROLE_CANDIDATE
    s.ni[i, N_LEADER] = -1
    s.ni[i, VOTES] = 0
    s.ni[i, BEST] = -1
    s.nf[i, WAIT] = -np.inf
    # try again later (with a random delay) if this attempt stalls
    _arm_takeover(s, i, draw_uniform(s, 0.0, s.cfg_f[F_HB]))
    disk_enqueue(s, i, OP_CAND, 0, epoch, 0, 0, 0, 0, 0)


@njit(**_OPTS)
def _answer(s, c, y, length, last_epoch, lease_over):
    """Candidate c counts replica y's answer; with enough, it decides."""
    bit = np.int64(1) << y
    if s.ni[c, VOTES] & bit:
        return
    s.ni[c, VOTES] |= bit
    best = s.ni[c, BEST]
    if (
        best < 0
        or last_epoch > s.ni[c, BEST_EP]
        or (last_epoch == s.ni[c, BEST_EP] and length > s.ni[c, BEST_LEN])
    ):
        s.ni[c, BEST] = y
        s.ni[c, BEST_LEN] = length
        s.ni[c, BEST_EP] = last_epoch
    if lease_over > s.nf[c, WAIT]:
        s.nf[c, WAIT] = lease_over
    if popcount(s.ni[c, VOTES]) >= takeover_quorum(s):
        _decide(s, c)


@njit(**_OPTS)
def _decide(s, c):
    """The most up-to-date answer becomes primary: c itself, or a replica c hands over to."""
    x = s.ni[c, BEST]
    if x == c:
        _take_office(s, c)
        return
    slot = new_message(s, T_HANDOVER, c, x, s.ni[c, N_TERM])
    if slot >= 0:
        s.m_i[slot, M_A] = math.ceil(s.nf[c, WAIT] * NS)  # rounded up: never too early
        send(s, slot)
    s.ni[c, N_ROLE] = ROLE_FOLLOWER
    s.ni[c, VOTES] = 0
    s.ni[c, N_LEADER] = x
    s.ni[c, LAST_PRIMARY] = x
    _arm_takeover(s, c, 0.0)


@njit(**_OPTS)
def _send_takeover(s, i, epoch):
    for f in range(s.cfg_i[C_N]):
        if f != i and _member(s, f):
            slot = new_message(s, T_TAKEOVER, i, f, epoch)
            if slot < 0:
                return
            send(s, slot)


@njit(**_OPTS)
def _on_takeover(s, i, slot):
    c = s.m_i[slot, M_SRC]
    epoch = s.m_i[slot, M_TERM]
    if epoch <= s.ni[i, N_TERM] or not _member(s, i):
        if epoch < s.ni[i, N_TERM]:
            nack = new_message(s, T_PROMISE, i, c, s.ni[i, N_TERM])
            if nack >= 0:
                send(s, nack)  # M_D = 0: refused
        return
    _adopt(s, i, epoch)
    s.ni[i, N_VOTE] = c
    s.ni[i, N_LEADER] = -1
    _arm_takeover(s, i, 0.0)  # give the candidate time
    disk_enqueue(s, i, OP_PROMISE, 0, c, epoch, 0, 0, 0, 0)


@njit(**_OPTS)
def _send_promise(s, i, c, epoch):
    slot = new_message(s, T_PROMISE, i, c, epoch)
    if slot < 0:
        return
    s.m_i[slot, M_A] = s.ni[i, DHI]
    s.m_i[slot, M_B] = s.lt[i, s.ni[i, DHI]]
    s.m_i[slot, M_C] = int((s.cf[G_NOW] - s.nf[i, HEARD]) * NS)  # rounded down
    s.m_i[slot, M_D] = 1
    send(s, slot)


@njit(**_OPTS)
def _on_promise(s, i, slot):
    epoch = s.m_i[slot, M_TERM]
    if s.m_i[slot, M_D] == 0:
        if epoch > s.ni[i, N_TERM]:
            _adopt(s, i, epoch)
        return
    if s.ni[i, N_ROLE] != ROLE_CANDIDATE or epoch != s.ni[i, N_TERM]:
        return
    # The answerer last heard a primary M_C ns before it answered, so no lease it helped
    # renew outlives (now - M_C) + lease_ms.
    over = s.cf[G_NOW] - s.m_i[slot, M_C] / NS + s.cfg_f[F_LEASE]
    _answer(s, i, s.m_i[slot, M_SRC], s.m_i[slot, M_A], s.m_i[slot, M_B], over)


@njit(**_OPTS)
def _on_handover(s, i, slot):
    epoch = s.m_i[slot, M_TERM]
    c = s.m_i[slot, M_SRC]
    if epoch != s.ni[i, N_TERM] or s.ni[i, N_ROLE] != ROLE_FOLLOWER or s.ni[i, N_VOTE] != c:
        return
    s.nf[i, WAIT] = s.m_i[slot, M_A] / NS
    _take_office(s, i)


@njit(**_OPTS)
def _take_office(s, i):
    """Node i becomes primary of its epoch: check, append the no-op, start replicating."""
    epoch = s.ni[i, N_TERM]
    if epoch >= s.lead_of.shape[0]:
        overflow(s, O_TERMS)
        return
    if s.lead_of[epoch] >= 0 and s.lead_of[epoch] != i:
        violation(s, V_TWO_LEADERS, i, epoch, s.lead_of[epoch])
    s.lead_of[epoch] = i
    s.ni[i, N_ROLE] = ROLE_LEADER
    s.ni[i, N_LEADER] = i
    s.ni[i, LAST_PRIMARY] = i
    s.ni[i, VOTES] = 0
    timeline(s, i, epoch, TL_LEADER)
    if s.cfg_i[C_SYNC] > 0:
        # every committed entry is in the new primary's log
        g = s.ci[K_GCOMMIT]
        if s.ni[i, N_LEN] < g:
            violation(s, V_LEADER_COMPLETENESS, i, epoch, s.ni[i, N_LEN] + 1)
        else:
            for k in range(1, g + 1):
                if s.lt[i, k] != s.com_t[k] or s.lc[i, k] != s.com_c[k]:
                    violation(s, V_LEADER_COMPLETENESS, i, epoch, k)
                    break
    for f in range(s.cfg_i[C_N]):
        s.pp[i, f, NEXT] = s.ni[i, N_LEN] + 1
        s.pp[i, f, MATCH] = 0
        s.pp[i, f, INFL] = 0
        s.pp[i, f, EPOCH] += 1
        s.pp[i, f, PROBE] = 1
        s.pf[i, f, LAST_SENT] = -np.inf
        s.pf[i, f, ACK_SENT] = -np.inf
    s.ni[i, TERM_START] = s.ni[i, N_LEN] + 1
    if append_own(s, i, 0) < 0:
        return
    s.ni[i, HBGEN] += 1
    _send_all(s, i, True)
    now = s.cf[G_NOW]
    push(s, now + s.cfg_f[F_HB], E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])
    if s.nf[i, WAIT] > now:
        push(s, s.nf[i, WAIT], E_PTIMER, i, epoch, s.nodes[i, U_INC])
