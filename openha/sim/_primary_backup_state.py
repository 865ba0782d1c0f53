"""Primary-backup: registers, message and disk-operation codes, the replica set, the
on-disk log, applying and reads (what replication and failover share). See
``_primary_backup.py``."""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._clients import acknowledge
from openha.sim._engine import (
    check_apply,
    overflow,
    timeline,
    truncate_log,
    violation,
)
from openha.sim._layout import (
    C_MUTANT,
    C_N,
    C_QUIET_WRITES,
    C_REPLICAS,
    C_SYNC,
    F_HB,
    F_LEASE,
    G_NOW,
    K_GCOMMIT,
    K_HISTORY,
    K_HISTORY_TOP,
    K_MAXTERM,
    K_NPEND,
    N_APPLIED,
    N_COMMIT,
    N_DUR_LEN,
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
    R_INDEX,
    R_SERVER,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    TL_STEP_DOWN,
    U_DISK_HEAD,
    U_DISK_LEN,
    V_STALE_READ,
    V_STATE_MACHINE,
)
from openha.sim._raft_state import (
    DEADLINE,
    ET_AT,
    ET_PENDING,
    HBGEN,
    HEARD,
    MATCH,
    TERM_START,
    VOTES,
    arm_election_timer,
    drop_reads,
)

_OPTS = jit_options()

# registers after the ones shared with Raft's timer helpers (VOTES .. ET_PENDING);
# VOTES holds a candidate's answers, TERM_START the index of a primary's no-op
DHI = N_SHARED + 6  # durable length: the log on disk is 1..DHI
BEST = N_SHARED + 7  # candidate: the most up-to-date answer so far,
BEST_LEN = N_SHARED + 8  # its durable length
BEST_EP = N_SHARED + 9  # and the epoch of its last durable entry
LAST_PRIMARY = N_SHARED + 10  # the last primary heard of (ranks count from it), -1 none
ANCHOR = N_SHARED + 11  # first node of the replica set
N_NI = N_SHARED + 12
WAIT = 3  # nf: candidate: when every older lease has ended; primary: when it may serve
ACK_SENT = 1  # pf[primary, backup]: send time of the latest message the backup answered

# message types
T_APPEND = 3
T_APPEND_REPLY = 4
T_TAKEOVER = 5
T_PROMISE = 6
T_HANDOVER = 7

# disk operations
OP_CAND = 1  # a candidate's epoch is on disk: count itself, ask the others
OP_PROMISE = 2  # a promise is on disk: answer the candidate
OP_ACK = 3  # a backup's entries are on disk: acknowledge them
OP_SELF = 4  # the primary's own entries are on disk

NS = 1e6  # times travel in messages as integer nanoseconds


# --- the replica set -----------------------------------------------------------------


@njit(**_OPTS)
def _pos(s, j):
    """Position of node j in the ring order of the replica set (>= C_REPLICAS: a spare)."""
    return (j - s.ni[0, ANCHOR]) % s.cfg_i[C_N]


@njit(**_OPTS)
def _member(s, j):
    return _pos(s, j) < s.cfg_i[C_REPLICAS]


@njit(**_OPTS)
def takeover_quorum(s):
    """Answers a candidate needs, its own included: every write's copies meet them."""
    k = s.cfg_i[C_SYNC]
    if k == 0:
        return 1
    return s.cfg_i[C_REPLICAS] - 1 - k + 1


@njit(**_OPTS)
def lease_quorum(s):
    """Backups whose answers renew the lease: every takeover quorum meets them."""
    return s.cfg_i[C_REPLICAS] - takeover_quorum(s)


@njit(**_OPTS)
def _rank(s, i):
    """Node i's place in the takeover order: 0 for the replica after the last primary it
    knew (after the last replica if it knows none)."""
    r = s.cfg_i[C_REPLICAS]
    p = s.ni[i, LAST_PRIMARY]
    pp = _pos(s, p) if p >= 0 else r - 1
    return (_pos(s, i) - pp - 1) % r


@njit(**_OPTS)
def _arm_takeover(s, i, extra):
    """The takeover deadline: lease_ms + rank x heartbeat_ms (+ extra) from now. As with
    Raft's election timer, one pending event is re-armed when it finds a later deadline."""
    deadline = s.cf[G_NOW] + s.cfg_f[F_LEASE] + _rank(s, i) * s.cfg_f[F_HB] + extra
    s.nf[i, DEADLINE] = deadline
    if s.ni[i, ET_PENDING] == 0 or deadline < s.nf[i, ET_AT]:
        arm_election_timer(s, i, deadline)


@njit(**_OPTS)
def _heard(s, i, p):
    s.ni[i, N_LEADER] = p
    s.ni[i, LAST_PRIMARY] = p
    s.nf[i, HEARD] = s.cf[G_NOW]
    _arm_takeover(s, i, 0.0)


@njit(**_OPTS)
def _adopt(s, i, epoch):
    """Node i moves to ``epoch`` (if newer) as a backup: a primary steps down, a
    candidate gives up."""
    if epoch > s.ni[i, N_TERM]:
        s.ni[i, N_TERM] = epoch
        s.ni[i, N_VOTE] = -1
        if epoch > s.ci[K_MAXTERM]:
            s.ci[K_MAXTERM] = epoch
    role = s.ni[i, N_ROLE]
    if role == ROLE_LEADER:
        s.ni[i, HBGEN] += 1
        timeline(s, i, s.ni[i, N_TERM], TL_STEP_DOWN)
        drop_reads(s, i)
        s.ni[i, N_LEADER] = -1
        _arm_takeover(s, i, 0.0)  # a primary runs no takeover timer; a backup must
    if role != ROLE_FOLLOWER:
        s.ni[i, N_ROLE] = ROLE_FOLLOWER
        s.ni[i, VOTES] = 0


# --- durability ------------------------------------------------------------------------


@njit(**_OPTS)
def _made_durable(s, i, first, last):
    """An fsync covered slots first..last: copy them to the on-disk log."""
    top = min(last, s.ni[i, N_LEN])
    if first > s.ni[i, DHI] + 1:
        return  # never: writes complete in log order
    for k in range(first, top + 1):
        s.dlt[i, k] = s.lt[i, k]
        s.dlc[i, k] = s.lc[i, k]
    if top > s.ni[i, DHI]:
        s.ni[i, DHI] = top
    s.ni[i, N_DUR_LEN] = s.ni[i, DHI]


@njit(**_OPTS)
def _truncate(s, i, t):
    """Drop slots after t, on disk too, and shorten the writes still queued. Anything
    applied beyond t is rolled back: the measured loss asynchronously, a violation
    synchronously (a committed entry never conflicts with a later primary's log)."""
    if t < s.ni[i, N_APPLIED]:
        if s.cfg_i[C_SYNC] > 0:
            violation(s, V_STATE_MACHINE, i, s.ni[i, N_TERM], t + 1)
        s.ni[i, N_APPLIED] = t
    if s.ni[i, N_COMMIT] > t:
        s.ni[i, N_COMMIT] = t
    truncate_log(s, i, t)
    if s.ni[i, DHI] > t:
        s.ni[i, DHI] = t
    s.ni[i, N_DUR_LEN] = s.ni[i, DHI]
    q = s.disk_q.shape[1]
    head = s.nodes[i, U_DISK_HEAD]
    for j in range(s.nodes[i, U_DISK_LEN]):
        row = (head + j) % q
        op = s.disk_q[i, row, 0]
        if (op == OP_ACK or op == OP_SELF) and s.disk_q[i, row, 6] > t:
            s.disk_q[i, row, 6] = t


# --- applying ---------------------------------------------------------------------------


@njit(**_OPTS)
def _record(s, k, epoch, command):
    if k >= s.com_t.shape[0]:
        overflow(s, O_LOG)
        return
    s.com_t[k] = epoch
    s.com_c[k] = command
    s.com_time[k] = s.cf[G_NOW]
    s.ci[K_GCOMMIT] = k


@njit(**_OPTS)
def _same(s, i, k):
    return s.com_t[k] == s.lt[i, k] and s.com_c[k] == s.lc[i, k]


@njit(**_OPTS)
def _apply_async(s, i, k):
    """Asynchronous state-machine check: node i applies slot k under the history of the
    primary of its epoch (its log up to k is that primary's). An older history is
    ignored (its lost writes are counted at the end). Slots already applied under the
    current history must match it; beyond them, the recorded history (an older one's)
    is replaced from the first slot where it leaves node i's log."""
    authority = s.ni[i, N_TERM]
    if authority < s.ci[K_HISTORY]:
        return
    if authority > s.ci[K_HISTORY]:
        s.ci[K_HISTORY] = authority
        s.ci[K_HISTORY_TOP] = 0
    g = s.ci[K_GCOMMIT]
    v = s.ci[K_HISTORY_TOP]
    if k <= v:
        if k > g or not _same(s, i, k):
            violation(s, V_STATE_MACHINE, i, s.lt[i, k], k)
        return
    d = v + 1
    top = min(k, g)
    while d <= top and _same(s, i, d):
        d += 1
    if d <= g:
        s.ci[K_GCOMMIT] = d - 1
    for j in range(d, k + 1):
        _record(s, j, s.lt[i, j], s.lc[i, j])
    s.ci[K_HISTORY_TOP] = k


@njit(**_OPTS)
def _apply(s, i):
    """Apply committed slots; the primary answers the clients waiting on them."""
    primary = s.ni[i, N_ROLE] == ROLE_LEADER
    quiet = s.cfg_i[C_QUIET_WRITES] == 1
    sync = s.cfg_i[C_SYNC] > 0
    while s.ni[i, N_APPLIED] < s.ni[i, N_COMMIT]:
        k = s.ni[i, N_APPLIED] + 1
        s.ni[i, N_APPLIED] = k
        command = s.lc[i, k]
        if sync:
            check_apply(s, i, k, s.lt[i, k], command)
        else:
            _apply_async(s, i, k)
        if primary and command > 0 and not quiet:
            r = command - 1
            if s.req_i[r, R_DONE] == 0:
                acknowledge(s, i, r, k, s.lt[i, k], s.req_i[r, R_ATTEMPT])
    if primary and s.ci[K_NPEND] > 0:
        _serve_reads(s, i)


@njit(**_OPTS)
def _kth_match(s, i, k):
    """The k-th largest durable match among the backups of primary i."""
    n = s.cfg_i[C_N]
    best = 0
    for a in range(n):
        if a == i or not _member(s, a):
            continue
        v = s.pp[i, a, MATCH]
        if v <= best:
            continue
        holders = 0
        for b in range(n):
            if b != i and _member(s, b) and s.pp[i, b, MATCH] >= v:
                holders += 1
        if holders >= k:
            best = v
    return best


@njit(**_OPTS)
def advance_commit(s, i):
    """Commit the highest slot of this epoch held durably by the primary and, in sync
    mode, by k backups; never before every older lease has ended."""
    if s.cf[G_NOW] < s.nf[i, WAIT]:
        return  # the serve timer calls again
    j = s.ni[i, DHI]
    k = s.cfg_i[C_SYNC]
    if k > 0 and s.cfg_i[C_MUTANT] != 1:  # mutant 1 commits on the primary's copy alone
        j = min(j, _kth_match(s, i, k))
    if j >= s.ni[i, TERM_START] and j > s.ni[i, N_COMMIT]:
        s.ni[i, N_COMMIT] = j
        _apply(s, i)


# --- reads -----------------------------------------------------------------------------


@njit(**_OPTS)
def lease_end(s, i):
    """Until when primary i's lease holds: the lease_quorum-th latest acknowledged send
    time (among its backups) plus lease_ms."""
    n = s.cfg_i[C_N]
    need = lease_quorum(s)
    best = -np.inf
    for a in range(n):
        if a == i or not _member(s, a):
            continue
        v = s.pf[i, a, ACK_SENT]
        if v <= best:
            continue
        holders = 0
        for b in range(n):
            if b != i and _member(s, b) and s.pf[i, b, ACK_SENT] >= v:
                holders += 1
        if holders >= need:
            best = v
    return best + s.cfg_f[F_LEASE]


@njit(**_OPTS)
def _can_read(s, i):
    now = s.cf[G_NOW]
    return (
        s.ni[i, N_ROLE] == ROLE_LEADER
        and now >= s.nf[i, WAIT]
        and s.ni[i, N_COMMIT] >= s.ni[i, TERM_START]
        and now < lease_end(s, i)
    )


@njit(**_OPTS)
def _answer_read(s, i, r):
    index = s.ni[i, N_COMMIT]
    if s.cfg_i[C_SYNC] > 0 and index < s.req_i[r, R_FLOOR]:
        violation(s, V_STALE_READ, i, s.ni[i, N_TERM], index)
    s.req_i[r, R_INDEX] = index  # the state the read saw (acknowledge records writes only)
    acknowledge(s, i, r, index, s.ni[i, N_TERM], s.req_i[r, R_ATTEMPT])


@njit(**_OPTS)
def _serve_reads(s, i):
    """Answer the reads waiting at primary i if it may serve now."""
    if not _can_read(s, i):
        return
    k = 0
    for j in range(s.ci[K_NPEND]):
        r = s.pend[j]
        if s.req_i[r, R_SERVER] == i:
            if s.req_i[r, R_DONE] == 0:
                _answer_read(s, i, r)
        else:
            s.pend[k] = r
            k += 1
    s.ci[K_NPEND] = k
