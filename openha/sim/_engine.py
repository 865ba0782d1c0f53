"""The protocol-independent half of the simulator: events, network, CPU, disk, checks.

An event heap ordered by (time, sequence number) makes ties deterministic. A message
lives in a slot of ``m_i``/``m_e`` from send to the end of its processing. A node's CPU
and disk are FIFO single servers; the disk's fsync makes durable what the log held
when it began. Nothing here knows a protocol: protocols call ``send``, ``disk_enqueue``,
``push`` and the ``check_*`` functions, and the run loop (``_run.py``) calls them.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha._dist_kernels import sample
from openha._random_kernels import uniform
from openha.sim._layout import (
    C_FIFO,
    C_GROUP,
    C_MUTANT,
    C_N,
    C_TRAIL,
    D_CPU,
    D_DISK,
    D_JITTER,
    E_ARRIVE,
    E_CPU,
    E_DISK,
    F_LOSS,
    G_NOW,
    K_GCOMMIT,
    K_HEAP,
    K_MFREE,
    K_NREQ,
    K_NTL,
    K_NVIOL,
    K_OVERFLOW,
    K_PART_ACTIVE,
    K_SEQ,
    K_STATUS,
    K_TABLE,
    K_TRAIL,
    M_DST,
    M_SRC,
    M_TYPE,
    MAX_VIOLATIONS,
    N_COMMIT,
    N_DUR_LEN,
    N_DUR_TERM,
    N_DUR_VOTE,
    N_LEN,
    N_LOW,
    N_SNAP_LEN,
    N_SNAP_TERM,
    N_SNAP_VOTE,
    N_TERM,
    N_VOTE,
    O_CPUQ,
    O_DISKQ,
    O_HEAP,
    O_LOG,
    O_MSG,
    O_TABLE,
    O_TIMELINE,
    Q_UPTO,
    R_INDEX,
    R_KIND,
    R_TERM,
    ST_OVERFLOW,
    U_CPU_BUSY,
    U_CPU_HEAD,
    U_CPU_LEN,
    U_DISK_HEAD,
    U_DISK_K,
    U_DISK_LEN,
    U_INC,
    U_PART,
    U_UP,
    V_ACKED_LOST,
    V_AGREEMENT,
    V_STATE_MACHINE,
    WRITE,
)

_OPTS = jit_options()
#: The primitives every event uses are inlined by numba, so calling them costs no
#: reference counting on the state.
_HOT = {**_OPTS, "inline": "always"}


@njit(**_OPTS)
def overflow(s, which):
    """Stop the run: array ``which`` is full (the caller grows it and runs again)."""
    s.ci[K_STATUS] = ST_OVERFLOW
    s.ci[K_OVERFLOW] = which


@njit(**_HOT)
def draw(s, d):
    """One draw of configured distribution ``d`` (0 when it is absent)."""
    kind = s.dk[d]
    if kind < 0:
        return 0.0
    return sample(kind, s.dp, s.dlo[d], s.dhi[d], s.rng)


@njit(**_OPTS)
def draw_uniform(s, lo, hi):
    return lo + (hi - lo) * uniform(s.rng)


# --- event heap ------------------------------------------------------------------


@njit(**_HOT)
def push(s, t, kind, node, a, b):
    """Schedule event ``kind`` at time ``t``; ties run in the order they were pushed."""
    h_t = s.h_t
    h_s = s.h_s
    i = s.ci[K_HEAP]
    if i >= h_t.shape[0]:
        overflow(s, O_HEAP)
        return
    s.ci[K_HEAP] = i + 1
    seq = s.ci[K_SEQ]
    s.ci[K_SEQ] = seq + 1
    h_k = s.h_k
    h_n = s.h_n
    h_a = s.h_a
    h_b = s.h_b
    # Sift the hole up, then drop the new event into it.
    while i > 0:
        p = (i - 1) >> 1
        if h_t[p] < t or (h_t[p] == t and h_s[p] < seq):
            break
        h_t[i] = h_t[p]
        h_s[i] = h_s[p]
        h_k[i] = h_k[p]
        h_n[i] = h_n[p]
        h_a[i] = h_a[p]
        h_b[i] = h_b[p]
        i = p
    h_t[i] = t
    h_s[i] = seq
    h_k[i] = kind
    h_n[i] = node
    h_a[i] = a
    h_b[i] = b


@njit(**_OPTS)
def pop(s):
    """Remove the earliest event; return (time, kind, node, a, b)."""
    h_t = s.h_t
    h_s = s.h_s
    h_k = s.h_k
    h_n = s.h_n
    h_a = s.h_a
    h_b = s.h_b
    out = (h_t[0], h_k[0], h_n[0], h_a[0], h_b[0])
    last = s.ci[K_HEAP] - 1
    s.ci[K_HEAP] = last
    t = h_t[last]
    seq = h_s[last]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= last:
            break
        if c + 1 < last and (h_t[c + 1] < h_t[c] or (h_t[c + 1] == h_t[c] and h_s[c + 1] < h_s[c])):
            c += 1
        if t < h_t[c] or (t == h_t[c] and seq < h_s[c]):
            break
        h_t[i] = h_t[c]
        h_s[i] = h_s[c]
        h_k[i] = h_k[c]
        h_n[i] = h_n[c]
        h_a[i] = h_a[c]
        h_b[i] = h_b[c]
        i = c
    h_t[i] = t
    h_s[i] = seq
    h_k[i] = h_k[last]
    h_n[i] = h_n[last]
    h_a[i] = h_a[last]
    h_b[i] = h_b[last]
    return out


# --- messages --------------------------------------------------------------------


@njit(**_HOT)
def new_message(s, mtype, src, dst, term):
    """A free message slot with its header filled in (-1 if none is left)."""
    top = s.ci[K_MFREE]
    if top == 0:
        overflow(s, O_MSG)
        return -1
    top -= 1
    s.ci[K_MFREE] = top
    slot = s.m_free[top]
    s.m_i[slot, :] = 0
    s.m_i[slot, M_TYPE] = mtype
    s.m_i[slot, M_SRC] = src
    s.m_i[slot, M_DST] = dst
    s.m_i[slot, 3] = term
    return slot


@njit(**_HOT)
def free_message(s, slot):
    s.m_free[s.ci[K_MFREE]] = slot
    s.ci[K_MFREE] += 1


@njit(**_HOT)
def cut_off(s, a, b):
    """Whether a partition in force separates endpoints ``a`` and ``b`` (nodes only)."""
    n = s.cfg_i[C_N]
    if a >= n or b >= n:
        return False
    return ((s.nodes[a, U_PART] ^ s.nodes[b, U_PART]) & s.ci[K_PART_ACTIVE]) != 0


@njit(**_OPTS)
def send(s, slot):
    """Put message ``slot`` on the network: count it, maybe lose it, schedule arrival."""
    src = s.m_i[slot, M_SRC]
    dst = s.m_i[slot, M_DST]
    s.msg_count[s.m_i[slot, M_TYPE]] += 1
    p_loss = s.cfg_f[F_LOSS]
    if cut_off(s, src, dst) or (p_loss > 0.0 and uniform(s.rng) < p_loss):
        free_message(s, slot)
        return
    now = s.cf[G_NOW]
    t = now + s.base[s.loc[src], s.loc[dst]] + draw(s, D_JITTER)
    n = s.cfg_i[C_N]
    if s.cfg_i[C_FIFO] == 1:
        if dst < n:
            if t < s.fifo_n[src, dst]:
                t = s.fifo_n[src, dst]
            s.fifo_n[src, dst] = t
        else:
            if t < s.fifo_c[src, dst - n]:
                t = s.fifo_c[src, dst - n]
            s.fifo_c[src, dst - n] = t
    push(s, t, E_ARRIVE, dst, slot, 0)


# --- CPU -------------------------------------------------------------------------


@njit(**_HOT)
def _start_cpu(s, node, slot):
    s.nodes[node, U_CPU_BUSY] = 1
    push(s, s.cf[G_NOW] + draw(s, D_CPU), E_CPU, node, slot, s.nodes[node, U_INC])


@njit(**_HOT)
def cpu_enqueue(s, node, slot):
    """A message reached ``node``: serve it now or queue it behind the others."""
    if s.nodes[node, U_CPU_BUSY] == 0:
        _start_cpu(s, node, slot)
        return
    q = s.cpu_q.shape[1]
    length = s.nodes[node, U_CPU_LEN]
    if length >= q:
        overflow(s, O_CPUQ)
        return
    s.cpu_q[node, (s.nodes[node, U_CPU_HEAD] + length) % q] = slot
    s.nodes[node, U_CPU_LEN] = length + 1


@njit(**_HOT)
def cpu_next(s, node):
    """The CPU finished a message: start the next queued one, if any."""
    length = s.nodes[node, U_CPU_LEN]
    if length == 0:
        s.nodes[node, U_CPU_BUSY] = 0
        return
    head = s.nodes[node, U_CPU_HEAD]
    slot = s.cpu_q[node, head]
    s.nodes[node, U_CPU_HEAD] = (head + 1) % s.cpu_q.shape[1]
    s.nodes[node, U_CPU_LEN] = length - 1
    _start_cpu(s, node, slot)


# --- disk ------------------------------------------------------------------------


@njit(**_OPTS)
def _start_fsync(s, node):
    length = s.nodes[node, U_DISK_LEN]
    if s.cfg_i[C_GROUP] == 1:
        # One fsync covers every queued write: all the log holds now.
        s.nodes[node, U_DISK_K] = length
        s.ni[node, N_SNAP_LEN] = s.ni[node, N_LEN]
    else:
        # One fsync per write: only the entries this write carries.
        s.nodes[node, U_DISK_K] = 1
        upto = s.disk_q[node, s.nodes[node, U_DISK_HEAD], Q_UPTO]
        s.ni[node, N_SNAP_LEN] = min(upto, s.ni[node, N_LEN])
    s.ni[node, N_SNAP_TERM] = s.ni[node, N_TERM]
    s.ni[node, N_SNAP_VOTE] = s.ni[node, N_VOTE]
    s.ni[node, N_LOW] = s.ni[node, N_LEN]
    push(s, s.cf[G_NOW] + draw(s, D_DISK), E_DISK, node, s.nodes[node, U_INC], 0)


@njit(**_OPTS)
def disk_enqueue(s, node, op, upto, a, b, c, d, e, f):
    """Queue a write of the log up to index ``upto`` (0: metadata only, e.g. a vote);
    its completion runs protocol operation ``op`` with ``a..f``."""
    q = s.disk_q.shape[1]
    length = s.nodes[node, U_DISK_LEN]
    if length >= q:
        overflow(s, O_DISKQ)
        return
    row = (s.nodes[node, U_DISK_HEAD] + length) % q
    s.disk_q[node, row, 0] = op
    s.disk_q[node, row, 1] = a
    s.disk_q[node, row, 2] = b
    s.disk_q[node, row, 3] = c
    s.disk_q[node, row, 4] = d
    s.disk_q[node, row, 5] = e
    s.disk_q[node, row, 6] = f
    s.disk_q[node, row, Q_UPTO] = upto
    s.nodes[node, U_DISK_LEN] = length + 1
    if s.nodes[node, U_DISK_K] == 0:
        _start_fsync(s, node)


@njit(**_OPTS)
def fsync_done(s, node):
    """The fsync finished: make its snapshot durable; return how many writes it covered.

    The caller runs the covered operations (rows ``disk_row(s, node, i)``, i < k) and
    then calls ``disk_next``.
    """
    low = s.ni[node, N_LOW]
    snap = s.ni[node, N_SNAP_LEN]
    durable = snap if snap < low else low
    if durable > s.ni[node, N_DUR_LEN] and durable <= s.ni[node, N_LEN]:
        s.ni[node, N_DUR_LEN] = durable
    if s.ni[node, N_SNAP_TERM] >= s.ni[node, N_DUR_TERM]:
        s.ni[node, N_DUR_TERM] = s.ni[node, N_SNAP_TERM]
        if s.cfg_i[C_MUTANT] != 2:  # mutant 2 never writes its vote down
            s.ni[node, N_DUR_VOTE] = s.ni[node, N_SNAP_VOTE]
    return s.nodes[node, U_DISK_K]


@njit(**_OPTS)
def disk_row(s, node, i):
    return (s.nodes[node, U_DISK_HEAD] + i) % s.disk_q.shape[1]


@njit(**_OPTS)
def disk_next(s, node, k):
    """Retire the ``k`` writes the last fsync covered and start the next fsync."""
    s.nodes[node, U_DISK_HEAD] = (s.nodes[node, U_DISK_HEAD] + k) % s.disk_q.shape[1]
    s.nodes[node, U_DISK_LEN] -= k
    s.nodes[node, U_DISK_K] = 0
    if s.nodes[node, U_DISK_LEN] > 0:
        _start_fsync(s, node)


@njit(**_OPTS)
def truncate_log(s, node, new_len):
    """Drop log entries after ``new_len`` (they stop being durable too)."""
    s.ni[node, N_LEN] = new_len
    if s.ni[node, N_DUR_LEN] > new_len:
        s.ni[node, N_DUR_LEN] = new_len
    if s.ni[node, N_LOW] > new_len:
        s.ni[node, N_LOW] = new_len


# --- crashes ---------------------------------------------------------------------


@njit(**_OPTS)
def crash_node(s, node):
    """Volatile state goes: queued messages, queued writes, the write in progress."""
    s.nodes[node, U_UP] = 0
    s.nodes[node, U_INC] += 1
    q = s.cpu_q.shape[1]
    head = s.nodes[node, U_CPU_HEAD]
    for i in range(s.nodes[node, U_CPU_LEN]):
        free_message(s, s.cpu_q[node, (head + i) % q])
    s.nodes[node, U_CPU_LEN] = 0
    s.nodes[node, U_CPU_HEAD] = 0
    # The message in service (if any) is freed when its stale E_CPU event fires.
    s.nodes[node, U_CPU_BUSY] = 0
    s.nodes[node, U_DISK_LEN] = 0
    s.nodes[node, U_DISK_HEAD] = 0
    s.nodes[node, U_DISK_K] = 0
    s.ni[node, N_LEN] = s.ni[node, N_DUR_LEN]
    s.ni[node, N_TERM] = s.ni[node, N_DUR_TERM]
    s.ni[node, N_VOTE] = s.ni[node, N_DUR_VOTE]
    s.ni[node, N_COMMIT] = 0


# --- records ---------------------------------------------------------------------


@njit(**_OPTS)
def timeline(s, node, term, kind):
    i = s.ci[K_NTL]
    if i >= s.tl.shape[0]:
        overflow(s, O_TIMELINE)
        return
    s.tl[i, 0] = s.cf[G_NOW]
    s.tl[i, 1] = node
    s.tl[i, 2] = term
    s.tl[i, 3] = kind
    s.ci[K_NTL] = i + 1


@njit(**_OPTS)
def trail(s, kind, node, slot):
    """Remember an event in the ring that violations copy."""
    if s.cfg_i[C_TRAIL] == 0:
        return
    r = s.tr.shape[0]
    row = s.ci[K_TRAIL] % r
    s.ci[K_TRAIL] += 1
    s.tr[row, 0] = s.cf[G_NOW]
    s.tr[row, 1] = kind
    s.tr[row, 2] = node
    if slot >= 0:
        s.tr[row, 3] = s.m_i[slot, M_TYPE]
        s.tr[row, 4] = s.m_i[slot, M_SRC]
    else:
        s.tr[row, 3] = -1
        s.tr[row, 4] = -1


@njit(**_OPTS)
def violation(s, kind, node, term, index):
    """Record a safety violation with the events that led to it."""
    v = s.ci[K_NVIOL]
    s.ci[K_NVIOL] = v + 1
    if v >= MAX_VIOLATIONS:
        return
    s.v_i[v, 0] = kind
    s.v_i[v, 1] = node
    s.v_i[v, 2] = term
    s.v_i[v, 3] = index
    s.v_t[v] = s.cf[G_NOW]
    r = s.tr.shape[0]
    seen = s.ci[K_TRAIL]
    first = seen - r if seen > r else 0
    for j in range(seen - first):
        s.v_tr[v, j, :] = s.tr[(first + j) % r, :]


# --- the table of created entries (log matching) ----------------------------------


@njit(**_OPTS)
def _slot_of(s, key):
    mask = s.ht_key.shape[0] - 1
    h = (key * np.int64(-7046029254386353131)) & mask  # Fibonacci hashing
    while s.ht_key[h] != -1 and s.ht_key[h] != key:
        h = (h + 1) & mask
    return h


@njit(**_OPTS)
def created(s, term, index, command, prev_term):
    """A leader made entry (term, index): remember it; False if a different twin exists."""
    key = (term << 32) | index
    h = _slot_of(s, key)
    value = (command << 24) | prev_term
    if s.ht_key[h] == -1:
        s.ht_key[h] = key
        s.ht_val[h] = value
        s.ci[K_TABLE] += 1
        if 2 * s.ci[K_TABLE] > s.ht_key.shape[0]:
            overflow(s, O_TABLE)
        return True
    return s.ht_val[h] == value


@njit(**_OPTS)
def matches_created(s, term, index, command, prev_term):
    """Whether (term, index, command) with that previous term is what its leader made."""
    key = (term << 32) | index
    h = _slot_of(s, key)
    if s.ht_key[h] == -1:
        return False
    return s.ht_val[h] == ((command << 24) | prev_term)


# --- global committed log (state machine safety) ----------------------------------


@njit(**_OPTS)
def _first_apply(s, index, term, command):
    """Record the first application of ``index`` anywhere; False if it is not new."""
    if index <= s.ci[K_GCOMMIT]:
        return False
    if index >= s.com_t.shape[0]:
        overflow(s, O_LOG)
        return True
    s.com_t[index] = term
    s.com_c[index] = command
    s.com_time[index] = s.cf[G_NOW]
    s.ci[K_GCOMMIT] = index
    return True


@njit(**_OPTS)
def check_apply(s, node, index, term, command):
    """Node applies (index, term, command): it must be what everyone else applied."""
    if _first_apply(s, index, term, command):
        return
    if s.com_t[index] != term or s.com_c[index] != command:
        violation(s, V_STATE_MACHINE, node, term, index)


@njit(**_OPTS)
def check_chosen(s, node, index, ballot, command):
    """Paxos family: node learns ``command`` was chosen for slot ``index``. Agreement:
    it is the command everyone else learned there (the ballots may differ, as a new
    leader re-proposes chosen values under its own)."""
    if _first_apply(s, index, ballot, command):
        return
    if s.com_c[index] != command:
        violation(s, V_AGREEMENT, node, ballot, index)


@njit(**_OPTS)
def acked_on_disks(s, need):
    """Protocols with a per-slot on-disk log (``dlc``): every acknowledged write is on
    disk, at the slot it was acknowledged at, on ``need`` nodes or more."""
    n = s.cfg_i[C_N]
    for r in range(s.ci[K_NREQ]):
        if s.req_i[r, R_KIND] == WRITE and s.req_i[r, R_TERM] > 0:
            k = s.req_i[r, R_INDEX]
            copies = 0
            for j in range(n):
                if s.dlc[j, k] == r + 1:
                    copies += 1
            if copies < need:
                violation(s, V_ACKED_LOST, -1, s.req_i[r, R_TERM], k)
