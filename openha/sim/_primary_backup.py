"""Primary-backup replication as event handlers on the simulator.

The replica set is fixed: ``C_REPLICAS`` nodes in ring order from the anchor (the
initial primary, or node 0 on a cold start); the other nodes are spares and only
redirect clients. Epochs are unique per node (node ``i`` uses ``k n + i + 1``), like
Paxos ballots; ``N_TERM`` is the highest epoch a node has promised.

Writes: the primary appends, writes its log and sends it in order to every backup
(pipelined, ``window`` messages in flight per backup, ``batch`` entries each, Raft-style
log matching by (index, epoch), probe/replicate tracking). A backup acknowledges the
durable end of what matches. Synchronously (``C_SYNC`` = k > 0) the primary commits an
index of its epoch once it and k backups hold it durably; asynchronously (``C_SYNC`` = 0)
once it alone does. Committed writes are acknowledged; backups learn the commit point
from later messages.

Reads: the primary answers at its commit point while its lease holds: until
``lease_ms`` after the latest send time that ``L`` backups have each answered a message
from, with ``L`` = replicas - ``Q`` (below), so every lease quorum meets every takeover
quorum. Send times travel in the messages (rounded down, so a lease is never overstated).

Failover: a backup that hears no primary for ``lease_ms`` (plus ``rank x heartbeat_ms``,
its position after the last primary it knew, so the next in line usually goes first)
writes a new epoch down and asks the other replicas for a promise (written down before
it is sent): their durable length, the epoch of their last durable entry and how long
ago they last heard a primary. With ``Q`` answers, its own included (``Q`` = backups -
k + 1 synchronously, so they meet every write's k + 1 copies; 1 asynchronously), the
most up to date (last epoch, then length) becomes primary: the candidate itself or a
replica it hands the epoch over to. The new primary appends a no-op of its epoch and
commits nothing (so acknowledges nothing and serves no read) until every lease an older
primary could hold has expired: each answer bounds that by (when it last heard a
primary) + ``lease_ms``. Backups truncate what conflicts with the new primary's log.

Durability is per slot: ``dlt``/``dlc`` hold the log as it is on disk; a write copies
its slots when its fsync completes (a truncation shortens the writes still queued) and a
crash restores the log from them. ``DHI`` is the durable length.

Checks. Synchronous: every node applies the same history (``check_apply``), a new
primary holds every committed entry, every acknowledged write ends with k + 1 durable
copies and in the last primary's log, reads are not stale. Asynchronous: the committed
history is that of the newest primary that applied anything (``K_HISTORY``); when a newer
one applies, what differs is replaced (the measured loss), while two nodes applying
different entries for one history is a violation. At the end, acknowledged writes the
last primary's log lacks are counted (``K_LOST``, with the earliest and latest
acknowledgement times in ``G_LOST_FROM``/``G_LOST_TO``).

Mutant 1 ("ack-before-backups") commits synchronously on the primary's own copy.
"""

import math

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
    C_MUTANT,
    C_N,
    C_QUIET_WRITES,
    C_REPLICAS,
    C_SYNC,
    E_HBTIMER,
    E_PTIMER,
    F_HB,
    F_LEASE,
    G_LOST_FROM,
    G_LOST_TO,
    G_NOW,
    K_GCOMMIT,
    K_HISTORY,
    K_HISTORY_TOP,
    K_LOST,
    K_MAXTERM,
    K_NPEND,
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
    R_SERVER,
    R_TERM,
    READ,
    RF_DONE,
    ROLE_CANDIDATE,
    ROLE_DOWN,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    T_CREQ,
    TL_LEADER,
    TL_STEP_DOWN,
    U_DISK_HEAD,
    U_DISK_LEN,
    U_INC,
    V_ACKED_LOST,
    V_LEADER_COMPLETENESS,
    V_LOG_MATCHING,
    V_STALE_READ,
    V_STATE_MACHINE,
    V_TWO_LEADERS,
    WRITE,
)
from openha.sim._raft_state import (
    DEADLINE,
    EPOCH,
    ET_AT,
    ET_PENDING,
    HBGEN,
    HEARD,
    INFL,
    LAST_SENT,
    MATCH,
    NEXT,
    PROBE,
    TERM_START,
    VOTES,
    arm_election_timer,
    drop_reads,
    election_due,
    next_send,
    popcount,
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
        advance_commit(s, i)
        if s.ni[i, N_ROLE] == ROLE_LEADER:
            send_append(s, i, f, False)
    elif current:
        nxt = index + 1
        if nxt > s.pp[i, f, NEXT] - 1 and s.pp[i, f, PROBE] == 1:
            nxt = s.pp[i, f, NEXT] - 1
        s.pp[i, f, NEXT] = max(1, min(nxt, s.ni[i, N_LEN] + 1))
        s.pp[i, f, PROBE] = 1
        s.pp[i, f, INFL] = 0
        s.pp[i, f, EPOCH] += 1
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


# --- dispatch ------------------------------------------------------------------------------


@njit(**_OPTS)
def on_message(s, i, slot):
    mtype = s.m_i[slot, M_TYPE]
    if mtype == T_APPEND:
        _on_append(s, i, slot)
    elif mtype == T_APPEND_REPLY:
        _on_append_reply(s, i, slot)
    elif mtype == T_CREQ:
        _on_client_request(s, i, slot)
    elif mtype == T_TAKEOVER:
        _on_takeover(s, i, slot)
    elif mtype == T_PROMISE:
        _on_promise(s, i, slot)
    elif mtype == T_HANDOVER:
        _on_handover(s, i, slot)


@njit(**_OPTS)
def on_disk(s, i, row):
    op = s.disk_q[i, row, 0]
    a = s.disk_q[i, row, 1]
    b = s.disk_q[i, row, 2]
    if op == OP_ACK:
        first = s.disk_q[i, row, 5]
        last = s.disk_q[i, row, 6]
        _made_durable(s, i, first, last)
        if s.ni[i, N_TERM] == b and last >= first:
            packed = s.disk_q[i, row, 4]
            _reply(s, i, a, b, 1, min(last, s.ni[i, DHI]), s.disk_q[i, row, 3], packed // 2,
                   packed % 2)  # fmt: skip
    elif op == OP_SELF:
        _made_durable(s, i, s.disk_q[i, row, 5], s.disk_q[i, row, 6])
        if s.ni[i, N_ROLE] == ROLE_LEADER and s.ni[i, N_TERM] == b:
            advance_commit(s, i)
    elif op == OP_CAND:
        if s.ni[i, N_ROLE] == ROLE_CANDIDATE and s.ni[i, N_TERM] == a:
            d = s.ni[i, DHI]
            _answer(s, i, i, d, s.lt[i, d], s.nf[i, HEARD] + s.cfg_f[F_LEASE])
            if s.ni[i, N_ROLE] == ROLE_CANDIDATE:
                _send_takeover(s, i, a)
    elif op == OP_PROMISE:
        if s.ni[i, N_TERM] == b and s.ni[i, N_VOTE] == a:
            _send_promise(s, i, a, b)


@njit(**_OPTS)
def on_timer(s, i, kind, gen):
    if kind == E_HBTIMER:
        if gen == s.ni[i, HBGEN]:
            on_heartbeat_timer(s, i)
    elif kind == E_PTIMER:
        # a new primary's wait for the older leases is over
        if s.ni[i, N_ROLE] == ROLE_LEADER and s.ni[i, N_TERM] == gen:
            advance_commit(s, i)
            if s.ci[K_NPEND] > 0:
                _serve_reads(s, i)
    else:
        on_takeover_timer(s, i, gen)


@njit(**_OPTS)
def on_crash(s, i):
    """Memory is lost: the log is what the disk holds, the epoch and promise as written."""
    if s.ni[i, N_ROLE] == ROLE_LEADER:
        s.ni[i, HBGEN] += 1
        drop_reads(s, i)
    s.ni[i, N_ROLE] = ROLE_DOWN
    s.ni[i, N_LEADER] = -1
    s.ni[i, LAST_PRIMARY] = -1
    s.ni[i, N_APPLIED] = 0
    s.ni[i, VOTES] = 0
    top = s.ni[i, DHI]
    for k in range(1, top + 1):
        s.lt[i, k] = s.dlt[i, k]
        s.lc[i, k] = s.dlc[i, k]
    s.ni[i, N_LEN] = top
    s.ni[i, N_DUR_LEN] = top


@njit(**_OPTS)
def on_recover(s, i):
    s.ni[i, N_ROLE] = ROLE_FOLLOWER
    s.ni[i, ET_PENDING] = 0  # its timer event died with the crash
    if not _member(s, i):
        return
    # It may have answered a primary just before crashing: a takeover it joins must
    # respect that lease, so it counts as having heard a primary now.
    s.nf[i, HEARD] = s.cf[G_NOW]
    _arm_takeover(s, i, 0.0)


@njit(**_OPTS)
def bootstrap(s, leader):
    """``leader`` is primary of epoch ``leader + 1`` on empty logs (the replica set starts
    there), or, with ``leader = -1``, the replicas from node 0 start without a primary."""
    n = s.cfg_i[C_N]
    anchor = leader if leader >= 0 else 0
    for i in range(n):
        s.ni[i, ANCHOR] = anchor
        s.ni[i, N_ROLE] = ROLE_FOLLOWER
        s.ni[i, N_VOTE] = -1
        s.ni[i, N_LEADER] = -1
        s.ni[i, LAST_PRIMARY] = -1
        s.nf[i, HEARD] = 0.0
        s.nf[i, WAIT] = 0.0
    if leader >= 0:
        epoch = leader + 1
        s.ci[K_MAXTERM] = epoch
        for i in range(n):
            if _member(s, i):
                s.ni[i, N_TERM] = epoch
                s.ni[i, N_DUR_TERM] = epoch
                s.ni[i, N_VOTE] = leader
                s.ni[i, N_DUR_VOTE] = leader
                s.ni[i, N_LEADER] = leader
                s.ni[i, LAST_PRIMARY] = leader
    for i in range(n):
        if _member(s, i) and i != leader:
            _arm_takeover(s, i, 0.0)
    if leader >= 0:
        _take_office(s, leader)


@njit(**_OPTS)
def _holds(s, p, k, command):
    return 0 < k <= s.ni[p, N_LEN] and s.lc[p, k] == command


@njit(**_OPTS)
def check_acked(s):
    """At the end: the surviving history is the log of the primary of the newest epoch.
    Acknowledged writes it lacks are lost: counted (those whose client got the answer),
    and in sync mode a violation, as is an acknowledged write with fewer than k + 1
    durable copies."""
    e = min(s.ci[K_MAXTERM], s.lead_of.shape[0] - 1)
    while e > 0 and s.lead_of[e] < 0:
        e -= 1
    p = s.lead_of[e] if e > 0 else -1
    k_sync = s.cfg_i[C_SYNC]
    n = s.cfg_i[C_N]
    lost = 0
    first = np.inf
    last = -np.inf
    for r in range(s.ci[K_NREQ]):
        if s.req_i[r, R_KIND] != WRITE or s.req_i[r, R_TERM] == 0:
            continue
        k = s.req_i[r, R_INDEX]
        kept = p >= 0 and (_holds(s, p, k, r + 1) or _holds(s, p, s.req_i[r, R_LOGGED], r + 1))
        if k_sync > 0:
            copies = 0
            for j in range(n):
                if s.ni[j, DHI] >= k and s.dlt[j, k] == s.req_i[r, R_TERM] and s.dlc[j, k] == r + 1:
                    copies += 1
            if copies < k_sync + 1 or not kept:
                violation(s, V_ACKED_LOST, -1, s.req_i[r, R_TERM], k)
        if not kept and s.req_i[r, R_DONE] == 1:
            lost += 1
            t = s.req_f[r, RF_DONE]
            first = min(first, t)
            last = max(last, t)
    s.ci[K_LOST] = lost
    s.cf[G_LOST_FROM] = first if lost > 0 else np.nan
    s.cf[G_LOST_TO] = last if lost > 0 else np.nan
