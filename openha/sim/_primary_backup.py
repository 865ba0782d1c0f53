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

This module dispatches messages, disk completions, timers and the node life cycle;
replication is in ``_primary_backup_log.py``, failover in ``_primary_backup_failover.py``,
what both share (registers, replica set, on-disk log, applying, reads) in
``_primary_backup_state.py``.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._engine import (
    violation,
)
from openha.sim._layout import (
    C_N,
    C_SYNC,
    E_HBTIMER,
    E_PTIMER,
    F_LEASE,
    G_LOST_FROM,
    G_LOST_TO,
    G_NOW,
    K_LOST,
    K_MAXTERM,
    K_NPEND,
    K_NREQ,
    M_TYPE,
    N_APPLIED,
    N_DUR_LEN,
    N_DUR_TERM,
    N_DUR_VOTE,
    N_LEADER,
    N_LEN,
    N_ROLE,
    N_TERM,
    N_VOTE,
    R_DONE,
    R_INDEX,
    R_KIND,
    R_LOGGED,
    R_TERM,
    RF_DONE,
    ROLE_CANDIDATE,
    ROLE_DOWN,
    ROLE_FOLLOWER,
    ROLE_LEADER,
    T_CREQ,
    V_ACKED_LOST,
    WRITE,
)
from openha.sim._primary_backup_failover import (
    _answer,
    _on_handover,
    _on_promise,
    _on_takeover,
    _send_promise,
    _send_takeover,
    _take_office,
    on_takeover_timer,
)
from openha.sim._primary_backup_log import (
    _on_append,
    _on_append_reply,
    _on_client_request,
    _reply,
    on_heartbeat_timer,
)
from openha.sim._primary_backup_state import (
    ANCHOR,
    DHI,
    LAST_PRIMARY,
    OP_ACK,
    OP_CAND,
    OP_PROMISE,
    OP_SELF,
    T_APPEND,
    T_APPEND_REPLY,
    T_HANDOVER,
    T_PROMISE,
    T_TAKEOVER,
    WAIT,
    _arm_takeover,
    _made_durable,
    _member,
    _serve_reads,
    advance_commit,
)
from openha.sim._raft_state import (
    ET_PENDING,
    HBGEN,
    HEARD,
    VOTES,
    drop_reads,
)

_OPTS = jit_options()


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
