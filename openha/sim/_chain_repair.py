"""Chain replication: configuration changes and joins (see ``_chain.py``): reacting to
a changed view (becoming head, tail or a spare, linking past a failed node), removing a
failed neighbour, admitting a joining spare at the tail, and the configuration and join
messages."""

from numba import njit

from openha._config import jit_options
from openha.sim._chain_log import (
    commit_tail,
    heartbeat,
    is_tail,
    pump,
    start_stream,
    truncate,
)
from openha.sim._chain_state import (
    CATCHUP,
    DCOMMIT,
    FROZEN,
    HB_END,
    HEARD,
    J_BUSY,
    J_FULL,
    J_REDIRECT,
    JOIN_BASE,
    JOINER,
    JOINER_INC,
    KEY,
    LEASE_END,
    MATCH,
    MEMBER,
    MEMBERS,
    MUTANT_SKIP_COPY,
    NACKED,
    NEXT_POLL,
    POLLT,
    PRED,
    PROBE,
    SPARE,
    SPONSOR,
    SUCC,
    T_JOIN_REPLY,
    TAIL,
    VERSION,
    announce,
    derive,
    is_member_key,
    next_epoch,
    send_config,
)
from openha.sim._engine import (
    new_message,
    send,
    timeline,
)
from openha.sim._layout import (
    C_MUTANT,
    C_N,
    C_REPLICAS,
    F_HB,
    F_LEASE,
    G_NOW,
    K_MAXTERM,
    M_A,
    M_B,
    M_C,
    M_D,
    M_E,
    M_SRC,
    M_TERM,
    N_COMMIT,
    N_DUR_LEN,
    N_LEN,
    N_ROLE,
    N_TERM,
    ROLE_DOWN,
    TL_LEADER,
    TL_STEP_DOWN,
    U_INC,
)

_OPTS = jit_options()


@njit(**_OPTS)
def _become_spare(s, i, was_head):
    """i learns it is no longer in the chain: keep the committed log, ask to rejoin."""
    if was_head:
        timeline(s, i, s.ni[i, N_TERM], TL_STEP_DOWN)
    s.ni[i, N_ROLE] = SPARE
    s.ni[i, JOINER] = -1
    s.ni[i, FROZEN] = 0
    s.ni[i, SPONSOR] = -1
    s.ni[i, POLLT] = -1
    s.nf[i, NEXT_POLL] = s.cf[G_NOW]
    s.nf[i, LEASE_END] = 0.0
    keep = max(s.ni[i, N_COMMIT], s.ni[i, DCOMMIT])
    truncate(s, i, min(s.ni[i, N_LEN], keep))


@njit(**_OPTS)
def _react(s, i, was_member, was_pred, was_succ, admit_ok):
    """i's view changed (``_derive`` has run): take up the role it gives."""
    role = s.ni[i, N_ROLE]
    if role == ROLE_DOWN:
        return
    member = is_member_key(s.pp[i, i, KEY])
    was_head = was_member and was_pred < 0
    if role == MEMBER and not member:
        _become_spare(s, i, was_head)
        return
    if role == SPARE:
        if not member:
            return
        if not admit_ok:
            # An admission this incarnation did not ask for: refuse it.
            s.pp[i, i, KEY] |= 1
            derive(s, i)
            announce(s, i, i, -1, 0)
            return
        s.ni[i, N_ROLE] = MEMBER
        s.ni[i, SPONSOR] = -1
    now = s.cf[G_NOW]
    pred = s.ni[i, PRED]
    succ = s.ni[i, SUCC]
    if pred >= 0 and (not was_member or pred != was_pred):
        s.pf[i, pred, HEARD] = max(s.pf[i, pred, HEARD], now)
        s.pp[i, pred, NACKED] = -1
        s.pp[i, pred, HB_END] = 0
    if succ >= 0 and (not was_member or succ != was_succ):
        if succ != s.ni[i, JOINER]:
            start_stream(s, i, succ, PROBE, s.ni[i, N_COMMIT])
        s.pf[i, succ, HEARD] = max(s.pf[i, succ, HEARD], now)
        s.ni[i, JOINER] = -1
        s.ni[i, FROZEN] = 0
        pump(s, i, succ)
    if pred < 0 and not was_head:
        term = next_epoch(s, i, s.ni[i, N_TERM])
        s.ni[i, N_TERM] = term
        if term > s.ci[K_MAXTERM]:
            s.ci[K_MAXTERM] = term
        timeline(s, i, term, TL_LEADER)
    elif pred >= 0 and was_head:
        timeline(s, i, s.ni[i, N_TERM], TL_STEP_DOWN)
    if succ < 0:
        commit_tail(s, i)


@njit(**_OPTS)
def _update(s, i, admit_ok):
    was_member = s.ni[i, N_ROLE] == MEMBER
    was_pred = s.ni[i, PRED]
    was_succ = s.ni[i, SUCC]
    derive(s, i)
    _react(s, i, was_member, was_pred, was_succ, admit_ok)


@njit(**_OPTS)
def _remove(s, i, j):
    """i declares j out of the chain."""
    if not is_member_key(s.pp[i, j, KEY]):
        return
    s.pp[i, j, KEY] |= 1
    _update(s, i, False)
    announce(s, i, j, -1, 0)


@njit(**_OPTS)
def _drop_joiner(s, i):
    s.ni[i, JOINER] = -1
    if s.ni[i, FROZEN] == 1:
        s.ni[i, FROZEN] = 0
        commit_tail(s, i)


@njit(**_OPTS)
def _admit(s, i):
    """The tail appends its joiner to the chain."""
    j = s.ni[i, JOINER]
    inc = s.ni[i, JOINER_INC]
    floor = s.ni[i, N_COMMIT]
    if s.cfg_i[C_MUTANT] == MUTANT_SKIP_COPY:
        floor = 0  # the mutant vouches for nothing: the spare takes over with what it has
    top = 0
    for x in range(s.cfg_i[C_N]):
        top = max(top, s.pp[i, x, KEY] // 2)
    s.pp[i, j, KEY] = 2 * (top + 1)
    _update(s, i, False)
    announce(s, i, j, inc, floor)
    heartbeat(s, i, j)  # its first read lease


@njit(**_OPTS)
def _maybe_admit(s, i):
    """A frozen tail admits its joiner once it holds every write the tail acknowledged."""
    j = s.ni[i, JOINER]
    if j < 0 or s.ni[i, FROZEN] == 0:
        return
    if s.ni[i, MEMBERS] >= s.cfg_i[C_REPLICAS] or not is_tail(s, i):
        _drop_joiner(s, i)
        return
    if s.pp[i, j, MATCH] >= s.ni[i, N_COMMIT]:
        _admit(s, i)


@njit(**_OPTS)
def _join_reply(s, i, dst, status, hint):
    slot = new_message(s, T_JOIN_REPLY, i, dst, s.ni[i, VERSION])
    if slot < 0:
        return
    s.m_i[slot, M_A] = status
    s.m_i[slot, M_B] = hint
    send(s, slot)


@njit(**_OPTS)
def _on_join(s, i, slot):
    x = s.m_i[slot, M_SRC]
    if is_member_key(s.pp[i, x, KEY]) and s.ni[i, N_ROLE] == MEMBER:
        _remove(s, i, x)  # x asks to join: it lost its place (a crash)
    if not is_tail(s, i):
        tail = s.ni[i, TAIL]
        _join_reply(s, i, x, J_REDIRECT, tail if tail != i else -1)
        return
    if s.ni[i, MEMBERS] >= s.cfg_i[C_REPLICAS]:
        _join_reply(s, i, x, J_FULL, i)
        return
    j = s.ni[i, JOINER]
    if j >= 0 and j != x and s.cf[G_NOW] - s.pf[i, j, HEARD] <= s.cfg_f[F_LEASE]:
        _join_reply(s, i, x, J_BUSY, i)
        return
    length = s.m_i[slot, M_A]
    base = 0
    if length <= s.ni[i, N_LEN] and s.lt[i, length] == s.m_i[slot, M_B]:
        base = length
    if s.ni[i, FROZEN] == 1:
        _drop_joiner(s, i)
    s.ni[i, JOINER] = x
    s.ni[i, JOINER_INC] = s.m_i[slot, M_C]
    s.ni[i, JOIN_BASE] = base
    start_stream(s, i, x, CATCHUP, base)
    pump(s, i, x)
    if s.cfg_i[C_MUTANT] == MUTANT_SKIP_COPY:
        _admit(s, i)  # the mutant: admits the spare before it has the log
        return
    _maybe_admit(s, i)


@njit(**_OPTS)
def _on_join_reply(s, i, slot):
    src = s.m_i[slot, M_SRC]
    if s.ni[i, N_ROLE] != SPARE or src != s.ni[i, SPONSOR]:
        return
    status = s.m_i[slot, M_A]
    s.ni[i, SPONSOR] = -1
    now = s.cf[G_NOW]
    if status == J_FULL:
        s.nf[i, NEXT_POLL] = now + s.cfg_f[F_LEASE]
    elif status == J_BUSY:
        s.nf[i, NEXT_POLL] = now + s.cfg_f[F_HB]
    else:
        hint = s.m_i[slot, M_B]
        if hint >= 0 and hint != src and hint != i:
            s.ni[i, POLLT] = hint
        s.nf[i, NEXT_POLL] = now


@njit(**_OPTS)
def _on_config(s, i, slot):
    src = s.m_i[slot, M_SRC]
    count = s.m_i[slot, M_A]
    changed = False
    for e in range(count):
        j = s.m_e[slot, e, 0]
        key = s.m_e[slot, e, 1]
        if key > s.pp[i, j, KEY]:
            s.pp[i, j, KEY] = key
            changed = True
    if changed:
        # An admission counts if it is for this incarnation's request, from the tail
        # it asked, and this spare holds every write that tail acknowledged.
        admit_ok = (
            s.ni[i, N_ROLE] == SPARE
            and src == s.ni[i, SPONSOR]
            and s.m_i[slot, M_D] == s.nodes[i, U_INC]
            and s.ni[i, N_DUR_LEN] >= s.m_i[slot, M_E]
        )
        _update(s, i, admit_ok)
    if s.m_i[slot, M_B] == 1 and s.m_i[slot, M_C] == 1:
        if s.ni[i, VERSION] != s.m_i[slot, M_TERM]:
            send_config(s, i, src, 0)
