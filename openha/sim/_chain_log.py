"""Chain replication: the log, the streams down the chain, heartbeats and read leases
(see ``_chain.py``).

Each node forwards an entry to its successor once its own copy is durable, so an entry
the tail holds is durable on every node before it; the tail, once durable, applies it
and answers the client. In steady state forwards are not acknowledged (``LIVE``): the
successor's answers to heartbeats carry its durable length and commit point up the
chain. A successor that may lack entries (a new successor, a refusal, a joining spare)
is first probed for its length (``PROBE``), then sent what it lacks, ``window``
acknowledged messages at a time (``CATCHUP``), with Raft's consistency check on the
entry before each batch.

Heartbeats sweep down the chain from the head and carry read leases: a node grants its
successor a lease of half the failure timeout, never beyond its own, and only while it
has heard from the successor within half the failure timeout. A node that declares its
successor failed (after a whole failure timeout of silence) therefore knows that every
lease granted from there on down has run out, and the tail serves reads only under a
lease and once it has applied the commit point its predecessor vouches for.

The on-disk log is ``dlt``/``dlc``: slots are copied there when the fsync covering them
completes (``DCOPY``, the copied prefix, equals ``N_DUR_LEN``), and a crash restores the
log from it.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._chain_state import (
    CATCHUP,
    DCOMMIT,
    DCOPY,
    EPOCH,
    FREEZE_AT,
    FRESH,
    FROZEN,
    HB_END,
    HB_SENT,
    HEARD,
    INFL,
    JOIN_BASE,
    JOINER,
    LEASE_END,
    LIVE,
    MATCH,
    MEMBER,
    MEMBERS,
    MODE,
    MUTANT_TAIL_ACKS_EARLY,
    NACKED,
    NEXT,
    NO_END,
    NS,
    OP_WRITE,
    PRED,
    PROBE,
    READ_FLOOR,
    SPARE,
    SPONSOR,
    SUCC,
    T_ACK,
    T_FWD,
    T_HB,
    VERSION,
)
from openha.sim._clients import acknowledge
from openha.sim._engine import (
    check_apply,
    disk_enqueue,
    new_message,
    overflow,
    send,
    truncate_log,
)
from openha.sim._layout import (
    C_BATCH,
    C_MUTANT,
    C_QUIET_WRITES,
    C_REPLICAS,
    C_WINDOW,
    F_LEASE,
    G_NOW,
    M_A,
    M_B,
    M_C,
    M_D,
    M_E,
    M_F,
    M_G,
    M_SRC,
    N_APPLIED,
    N_COMMIT,
    N_DUR_LEN,
    N_LEN,
    N_ROLE,
    N_TERM,
    O_LOG,
    R_ATTEMPT,
    R_DONE,
)

_OPTS = jit_options()


@njit(**_OPTS)
def truncate(s, i, k):
    """Drop entries after k, in memory and on disk (a truncation is written at once)."""
    if k >= s.ni[i, N_LEN]:
        return
    truncate_log(s, i, k)
    for x in range(k + 1, s.ni[i, DCOPY] + 1):
        s.dlt[i, x] = 0
        s.dlc[i, x] = 0
    if s.ni[i, DCOPY] > k:
        s.ni[i, DCOPY] = k
    if s.ni[i, DCOMMIT] > k:
        s.ni[i, DCOMMIT] = k


@njit(**_OPTS)
def copy_durable(s, i):
    """The fsync made slots up to N_DUR_LEN durable: copy them to the on-disk log."""
    top = s.ni[i, N_DUR_LEN]
    for k in range(s.ni[i, DCOPY] + 1, top + 1):
        s.dlt[i, k] = s.lt[i, k]
        s.dlc[i, k] = s.lc[i, k]
    if top > s.ni[i, DCOPY]:
        s.ni[i, DCOPY] = top


@njit(**_OPTS)
def is_tail(s, i):
    return s.ni[i, N_ROLE] == MEMBER and s.ni[i, SUCC] < 0


@njit(**_OPTS)
def apply_committed(s, i):
    """Apply committed entries; the tail answers the clients still waiting."""
    tail = is_tail(s, i)
    quiet = s.cfg_i[C_QUIET_WRITES] == 1
    while s.ni[i, N_APPLIED] < s.ni[i, N_COMMIT]:
        k = s.ni[i, N_APPLIED] + 1
        s.ni[i, N_APPLIED] = k
        command = s.lc[i, k]
        check_apply(s, i, k, s.lt[i, k], command)
        if tail and command > 0 and not quiet:
            r = command - 1
            if s.req_i[r, R_DONE] == 0:
                acknowledge(s, i, r, k, s.lt[i, k], s.req_i[r, R_ATTEMPT])


@njit(**_OPTS)
def commit_tail(s, i):
    """The tail commits what it holds durably (the mutant: all it holds)."""
    if not is_tail(s, i) or s.ni[i, FROZEN] == 1:
        return
    top = s.ni[i, N_DUR_LEN]
    if s.cfg_i[C_MUTANT] == MUTANT_TAIL_ACKS_EARLY:
        top = s.ni[i, N_LEN]
    if top > s.ni[i, N_COMMIT]:
        s.ni[i, N_COMMIT] = top
        apply_committed(s, i)


@njit(**_OPTS)
def _send_fwd(s, i, f, first, count, counted):
    slot = new_message(s, T_FWD, i, f, s.ni[i, VERSION])
    if slot < 0:
        return
    s.m_i[slot, M_A] = first
    s.m_i[slot, M_B] = count
    s.m_i[slot, M_C] = s.lt[i, first - 1]
    s.m_i[slot, M_D] = s.pp[i, f, EPOCH]
    s.m_i[slot, M_E] = counted
    s.m_i[slot, M_F] = s.ni[i, JOIN_BASE] if f == s.ni[i, JOINER] else 0
    for j in range(count):
        s.m_e[slot, j, 0] = s.lt[i, first + j]
        s.m_e[slot, j, 1] = s.lc[i, first + j]
    send(s, slot)


@njit(**_OPTS)
def start_stream(s, i, f, mode, base):
    s.pp[i, f, NEXT] = base + 1
    s.pp[i, f, MATCH] = base if mode != PROBE else 0
    s.pp[i, f, INFL] = 0
    s.pp[i, f, EPOCH] += 1
    s.pp[i, f, MODE] = mode


@njit(**_OPTS)
def pump(s, i, f):
    """Send f the durable entries it has not been sent. A tail whose joiner has been
    sent everything freezes its commits for the hand-over."""
    dur = s.ni[i, N_DUR_LEN]
    batch = s.cfg_i[C_BATCH]
    mode = s.pp[i, f, MODE]
    if mode == PROBE:
        if s.pp[i, f, INFL] == 0:
            nxt = s.pp[i, f, NEXT]
            _send_fwd(s, i, f, nxt, max(0, min(batch, dur - nxt + 1)), 1)
            s.pp[i, f, INFL] = 1
        return
    joiner = f == s.ni[i, JOINER]
    window = s.cfg_i[C_WINDOW]
    while s.pp[i, f, NEXT] <= dur:
        if mode == CATCHUP and s.pp[i, f, INFL] >= window:
            break
        nxt = s.pp[i, f, NEXT]
        count = min(batch, dur - nxt + 1)
        counted = 1 if (mode == CATCHUP or joiner) else 0
        _send_fwd(s, i, f, nxt, count, counted)
        s.pp[i, f, NEXT] = nxt + count
        s.pp[i, f, INFL] += counted
    if mode == CATCHUP and s.pp[i, f, NEXT] > dur:
        s.pp[i, f, MODE] = LIVE
    if joiner and s.pp[i, f, MODE] == LIVE and s.ni[i, FROZEN] == 0 and is_tail(s, i):
        if s.ni[i, MEMBERS] < s.cfg_i[C_REPLICAS]:
            s.ni[i, FROZEN] = 1
            s.nf[i, FREEZE_AT] = s.cf[G_NOW]


@njit(**_OPTS)
def lease_end(s, i):
    """Until when i holds a read lease (ns): the head always, others as granted."""
    if s.ni[i, PRED] < 0:
        return NO_END
    return np.int64(s.nf[i, LEASE_END] * NS)


@njit(**_OPTS)
def heartbeat(s, i, f):
    """Heartbeat f. It grants f a read lease of half the failure timeout, never beyond
    i's own, if i heard from f within half the failure timeout (so a node that declares
    f failed knows f's lease, and every lease f granted on, has run out), and it vouches
    for i's commit point."""
    now = s.cf[G_NOW]
    half = 0.5 * s.cfg_f[F_LEASE]
    if s.pp[i, f, MODE] == PROBE:
        s.pp[i, f, INFL] = 0  # the probe (or its answer) may be lost: probe again
        pump(s, i, f)
    slot = new_message(s, T_HB, i, f, s.ni[i, VERSION])
    if slot < 0:
        return
    grant = np.int64(0)
    if now - s.pf[i, f, HEARD] <= half:
        grant = min(np.int64((now + half) * NS), lease_end(s, i))
    s.m_i[slot, M_A] = s.pp[i, f, NEXT] - 1
    s.m_i[slot, M_B] = grant
    s.m_i[slot, M_C] = max(s.ni[i, N_COMMIT], s.ni[i, READ_FLOOR])
    s.m_i[slot, M_D] = s.pp[i, f, EPOCH]
    send(s, slot)
    if f == s.ni[i, SUCC]:
        s.nf[i, HB_SENT] = now


@njit(**_OPTS)
def send_ack(s, i, dst, epoch, counted):
    """i's durable length (and its entry's stamp), commit point and log end, to dst."""
    slot = new_message(s, T_ACK, i, dst, s.ni[i, VERSION])
    if slot < 0:
        return
    d = s.ni[i, N_DUR_LEN]
    s.m_i[slot, M_A] = 1
    s.m_i[slot, M_B] = d
    s.m_i[slot, M_C] = s.lt[i, d]
    s.m_i[slot, M_D] = epoch
    s.m_i[slot, M_E] = counted
    s.m_i[slot, M_F] = s.ni[i, N_COMMIT]
    s.m_i[slot, M_G] = s.ni[i, N_LEN]
    send(s, slot)


@njit(**_OPTS)
def _nack(s, i, dst, epoch, hint):
    """Refuse a stream generation once: resend from hint + 1."""
    if s.pp[i, dst, NACKED] == epoch:
        return
    s.pp[i, dst, NACKED] = epoch
    slot = new_message(s, T_ACK, i, dst, s.ni[i, VERSION])
    if slot < 0:
        return
    s.m_i[slot, M_A] = 0
    s.m_i[slot, M_B] = hint
    s.m_i[slot, M_D] = epoch
    send(s, slot)


@njit(**_OPTS)
def source_ok(s, i, src):
    """Whether i takes log entries from src: its predecessor, or the tail copying it."""
    role = s.ni[i, N_ROLE]
    if role == MEMBER:
        return src == s.ni[i, PRED]
    return role == SPARE and src == s.ni[i, SPONSOR]


@njit(**_OPTS)
def on_forward(s, i, slot):
    src = s.m_i[slot, M_SRC]
    if not source_ok(s, i, src):
        return
    spare = s.ni[i, N_ROLE] == SPARE
    first = s.m_i[slot, M_A]
    count = s.m_i[slot, M_B]
    epoch = s.m_i[slot, M_D]
    counted = s.m_i[slot, M_E]
    prev = first - 1
    if spare and s.ni[i, FRESH] == 1:
        # The copy starts where the tail found this spare's log matching its own.
        s.ni[i, FRESH] = 0
        truncate(s, i, s.m_i[slot, M_F])
    if prev > s.ni[i, N_LEN]:
        _nack(s, i, src, epoch, s.ni[i, N_LEN])  # a gap: something was lost
        return
    if prev > 0 and s.lt[i, prev] != s.m_i[slot, M_C]:
        _nack(s, i, src, epoch, prev - 1)
        return
    last = prev + count
    if last >= s.lt.shape[1]:
        overflow(s, O_LOG)
        return
    new = False
    for j in range(count):
        k = first + j
        stamp = s.m_e[slot, j, 0]
        if k <= s.ni[i, N_LEN]:
            if s.lt[i, k] == stamp:
                continue
            truncate(s, i, k - 1)
        s.lt[i, k] = stamp
        s.lc[i, k] = s.m_e[slot, j, 1]
        s.ni[i, N_LEN] = k
        if stamp > s.ni[i, N_TERM]:
            s.ni[i, N_TERM] = stamp
        new = True
    ack = 1 if (counted == 1 or spare) else 0
    if new:
        disk_enqueue(s, i, OP_WRITE, last, src, epoch, ack, s.ni[i, N_COMMIT], 0, 0)
        if s.cfg_i[C_MUTANT] == MUTANT_TAIL_ACKS_EARLY:
            commit_tail(s, i)
    elif ack == 1:
        send_ack(s, i, src, epoch, counted)


@njit(**_OPTS)
def on_heartbeat(s, i, slot):
    src = s.m_i[slot, M_SRC]
    if not source_ok(s, i, src):
        return
    epoch = s.m_i[slot, M_D]
    # Entries sent before src's previous heartbeat should be here by now.
    if s.pp[i, src, HB_END] > s.ni[i, N_LEN]:
        _nack(s, i, src, epoch, s.ni[i, N_LEN])
    s.pp[i, src, HB_END] = s.m_i[slot, M_A]
    send_ack(s, i, src, epoch, 0)
    if s.ni[i, N_ROLE] != MEMBER:
        return
    grant = s.m_i[slot, M_B]
    if grant > 0:
        s.nf[i, LEASE_END] = max(s.nf[i, LEASE_END], grant / NS)
    if s.m_i[slot, M_C] > s.ni[i, READ_FLOOR]:
        s.ni[i, READ_FLOOR] = s.m_i[slot, M_C]
    # Pass the heartbeat on at once, so leases reach the tail in one sweep.
    if s.ni[i, SUCC] >= 0:
        heartbeat(s, i, s.ni[i, SUCC])
    if s.ni[i, JOINER] >= 0:
        heartbeat(s, i, s.ni[i, JOINER])


@njit(**_OPTS)
def on_ack(s, i, slot):
    """An ack (or a refusal) from the successor or joiner; True if the joiner's ack
    may complete its admission."""
    f = s.m_i[slot, M_SRC]
    if s.ni[i, N_ROLE] != MEMBER or (f != s.ni[i, SUCC] and f != s.ni[i, JOINER]):
        return False
    index = s.m_i[slot, M_B]
    epoch = s.m_i[slot, M_D]
    counted = s.m_i[slot, M_E]
    current = epoch == s.pp[i, f, EPOCH]
    if counted == 1 and current and s.pp[i, f, INFL] > 0:
        s.pp[i, f, INFL] -= 1
    if s.m_i[slot, M_A] == 1:
        if index <= s.ni[i, N_LEN] and s.lt[i, index] == s.m_i[slot, M_C]:
            if index > s.pp[i, f, MATCH]:
                s.pp[i, f, MATCH] = index
        match = s.pp[i, f, MATCH]
        if s.pp[i, f, MODE] == PROBE and current:
            s.pp[i, f, MODE] = CATCHUP
            s.pp[i, f, NEXT] = max(s.pp[i, f, NEXT], match + 1)
            s.pp[i, f, INFL] = 0
            s.pp[i, f, EPOCH] += 1
        elif s.pp[i, f, MODE] == CATCHUP and counted == 0 and match >= s.pp[i, f, NEXT] - 1:
            s.pp[i, f, INFL] = 0  # everything sent has arrived (answers may have been lost)
        if f == s.ni[i, SUCC]:
            c = min(s.m_i[slot, M_F], match)
            if c > s.ni[i, N_COMMIT]:
                s.ni[i, N_COMMIT] = c
                apply_committed(s, i)
        pump(s, i, f)
        return f == s.ni[i, JOINER]
    elif current:
        s.pp[i, f, NEXT] = max(1, min(index + 1, s.ni[i, N_LEN] + 1))
        s.pp[i, f, MODE] = PROBE
        s.pp[i, f, INFL] = 0
        s.pp[i, f, EPOCH] += 1
        pump(s, i, f)
    return False
