"""Single-decree Paxos per command (Lamport 1998, 2001; Flexible Paxos quorums), as event
handlers on the simulator.

There is no leader. A node that receives a client request proposes the command in the
lowest slot it does not know to be decided and is not already proposing in. Each slot
is an independent instance of classic Paxos:

- Phase 1: the proposer picks a ballot of its own (``k n + node + 1``, above every ballot
  it has seen), promises it to itself and sends Prepare(slot, ballot) to every peer. An
  acceptor promises a ballot higher than any it promised for that slot, writes the
  promise down and then answers with what it has durably accepted in the slot.
- Phase 2, once ``q1`` acceptors (the proposer's own included) have promised and the
  proposer's own promise is on disk (so a restart never reuses the ballot): it proposes
  the value of the highest-ballot acceptance reported, or its own command if none was,
  and sends Accept(slot, ballot, value). An acceptor accepts unless it promised a higher
  ballot, writes the acceptance down, then answers.
- With ``q2`` acceptances the value is decided: the proposer sends Decide(slot, value) to
  every peer. A proposer whose slot went to another value proposes its own command
  again in a later slot (if it still holds the client's request).

A refusal (Nack) carrying a higher ballot pre-empts the proposer (counted in
``K_PREEMPT``): it waits a uniform back-off in ``[F_BACKOFF_MIN, F_BACKOFF]`` and runs
phase 1 again with a higher ballot. An acceptor that knows the slot is decided answers
a Prepare with the decision instead.

Every node applies decided slots in order; the node holding a client's request (the
client's current attempt) answers it when it applies the command. A command can be
decided in two slots (a client retried at another node while its first proposal was
still running): it is applied in both, and answered once. A watchdog, armed only while a
node has proposals running or a hole below a decided slot, fires every ``F_HB``
(the proposal timeout): a proposal stuck in a phase that long starts phase 1 again (lost
messages, crashed acceptors); a hole that stays for a round is asked of a peer (Ask,
answered by Learn with up to ``batch`` decided slots), and one that stays for two rounds
is filled by proposing a no-op there, which decides whatever value may have been chosen.
A restarted node asks a peer for the decided log at once.

Acceptor state is per slot: the promised ballot in ``ls[:, :, PROM]`` (on disk:
``DPROM``), the accepted (ballot, value) in ``lt``/``lc`` (on disk: ``dlt``/``dlc``), each
on-disk copy updated when the fsync covering its write completes and restored at a crash.
Proposals and decisions are volatile.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._clients import acknowledge
from openha.sim._engine import (
    acked_on_disks,
    check_chosen,
    disk_enqueue,
    draw_uniform,
    new_message,
    overflow,
    push,
    send,
    violation,
)
from openha.sim._layout import (
    C_BATCH,
    C_MUTANT,
    C_N,
    C_Q1,
    C_Q2,
    C_QUIET_WRITES,
    E_PTIMER,
    F_BACKOFF,
    F_BACKOFF_MIN,
    F_HB,
    G_NOW,
    K_MAXTERM,
    K_NREQ,
    K_PREEMPT,
    M_A,
    M_B,
    M_C,
    M_SRC,
    M_TERM,
    M_TYPE,
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
    R_KIND,
    R_SERVER,
    READ,
    ROLE_FOLLOWER,
    T_CREQ,
    U_INC,
    V_AGREEMENT,
    V_STALE_READ,
    V_VALIDITY,
)

_OPTS = jit_options()

F_TIMEOUT = F_HB  # proposal timeout: the watchdog's period

# per-node registers (ni)
MAXDEC = N_SHARED  # highest slot known to be decided
TOP = N_SHARED + 1  # highest slot holding any state at this node
OPEN = N_SHARED + 2  # proposals running
TGEN = N_SHARED + 3  # watchdog generation
TPEND = N_SHARED + 4  # 1 while a watchdog event is on its way
HOLE_AT = N_SHARED + 5  # first undecided slot the last watchdog round saw below MAXDEC
HOLE_N = N_SHARED + 6  # rounds it has stayed there
ASKED = N_SHARED + 7  # Asks sent (picks the next peer)
DHI = N_SHARED + 8  # highest slot with state on disk

# per-slot registers, ls[node, slot, col]
PROM = 0  # acceptor: promised ballot
DPROM = 1  # ... on disk
BAL = 2  # proposer: its ballot in the slot (0: not proposing)
PHASE = 3
VOTES = 4  # bit mask of promises (phase 1) or acceptances (phase 2)
HB = 5  # phase 1: highest accepted ballot reported
VAL = 6  # phase 1: its value; phase 2: the value proposed
CMD = 7  # the proposer's own command for the slot (0: a no-op fill)
SINCE = 8  # start of the current phase, ns
DBAL = 9  # learner: ballot the slot was decided in (0: not known decided)
DVAL = 10  # ... and the value

IDLE = 0
PREPARING = 1
ACCEPTING = 2
BACKING_OFF = 3

# message types
T_PREPARE = 3
T_PROMISE = 4
T_ACCEPT = 5
T_ACCEPTED = 6
T_NACK = 7
T_DECIDE = 8
T_ASK = 9
T_LEARN = 10

# disk operations
OP_PROMISE = 1
OP_ACCEPT = 2

MUTANT_IGNORE_ACCEPTED = 1


@njit(**_OPTS)
def _popcount(x):
    c = 0
    while x:
        x &= x - 1
        c += 1
    return c


@njit(**_OPTS)
def _now_ns(s):
    return np.int64(s.cf[G_NOW] * 1e6)


@njit(**_OPTS)
def _touch(s, i, k):
    if k > s.ni[i, TOP]:
        s.ni[i, TOP] = k


@njit(**_OPTS)
def _msg(s, mtype, i, dst, ballot, a, b, c):
    slot = new_message(s, mtype, i, dst, ballot)
    if slot < 0:
        return
    s.m_i[slot, M_A] = a
    s.m_i[slot, M_B] = b
    s.m_i[slot, M_C] = c
    send(s, slot)


@njit(**_OPTS)
def _arm_watchdog(s, i):
    if s.ni[i, TPEND] == 0:
        s.ni[i, TPEND] = 1
        s.ni[i, TGEN] += 1
        t = s.cf[G_NOW] + s.cfg_f[F_TIMEOUT]
        push(s, t, E_PTIMER, i, 2 * s.ni[i, TGEN], s.nodes[i, U_INC])


# --- proposer ----------------------------------------------------------------------


@njit(**_OPTS)
def _prepare(s, i, k):
    """Phase 1 of node i's proposal in slot k, with a ballot above all it has seen."""
    n = s.cfg_i[C_N]
    above = max(s.ni[i, N_TERM], s.ls[i, k, PROM])
    b = (above // n + 1) * n + i + 1
    s.ni[i, N_TERM] = b
    if b > s.ci[K_MAXTERM]:
        s.ci[K_MAXTERM] = b
    s.ls[i, k, BAL] = b
    s.ls[i, k, PHASE] = PREPARING
    s.ls[i, k, VOTES] = 0
    s.ls[i, k, HB] = 0
    s.ls[i, k, VAL] = 0
    s.ls[i, k, SINCE] = _now_ns(s)
    s.ls[i, k, PROM] = b  # its own acceptor promises (b is above its promise)
    disk_enqueue(s, i, OP_PROMISE, 0, k, b, i, 0, 0, 0)
    for f in range(n):
        if f != i:
            _msg(s, T_PREPARE, i, f, b, k, 0, 0)


@njit(**_OPTS)
def _free_slot(s, i):
    """The lowest slot i neither knows decided nor is proposing in."""
    k = s.ni[i, N_APPLIED] + 1
    while k < s.ls.shape[1] and (s.ls[i, k, DBAL] > 0 or s.ls[i, k, PHASE] != IDLE):
        k += 1
    return k


@njit(**_OPTS)
def _propose(s, i, k, cmd):
    if k >= s.ls.shape[1]:
        overflow(s, O_LOG)
        return
    s.ls[i, k, CMD] = cmd
    s.ni[i, OPEN] += 1
    _touch(s, i, k)
    _prepare(s, i, k)
    _arm_watchdog(s, i)


@njit(**_OPTS)
def _preempt(s, i, k):
    """A higher ballot took slot k: back off, then phase 1 again (``on_timer``)."""
    s.ci[K_PREEMPT] += 1
    s.ls[i, k, PHASE] = BACKING_OFF
    wait = draw_uniform(s, s.cfg_f[F_BACKOFF_MIN], s.cfg_f[F_BACKOFF])
    push(s, s.cf[G_NOW] + wait, E_PTIMER, i, 2 * k + 1, s.nodes[i, U_INC])


@njit(**_OPTS)
def _on_promise(s, i, k, b, a, ab, av):
    """Acceptor ``a`` promised ballot b in slot k, having accepted (ab, av) before."""
    if s.ls[i, k, BAL] != b or s.ls[i, k, PHASE] != PREPARING:
        return
    s.ls[i, k, VOTES] |= np.int64(1) << a
    if ab > s.ls[i, k, HB]:
        s.ls[i, k, HB] = ab
        s.ls[i, k, VAL] = av
    _try_accept(s, i, k)


@njit(**_OPTS)
def _try_accept(s, i, k):
    """Phase 2 once q1 acceptors promised and the proposer's own promise is durable."""
    b = s.ls[i, k, BAL]
    if _popcount(s.ls[i, k, VOTES]) < s.cfg_i[C_Q1] or s.ls[i, k, DPROM] < b:
        return
    v = s.ls[i, k, CMD]
    if s.ls[i, k, HB] > 0 and s.cfg_i[C_MUTANT] != MUTANT_IGNORE_ACCEPTED:
        v = s.ls[i, k, VAL]  # the heart of Paxos: a value that may be chosen is kept
    s.ls[i, k, VAL] = v
    s.ls[i, k, PHASE] = ACCEPTING
    s.ls[i, k, VOTES] = 0
    s.ls[i, k, SINCE] = _now_ns(s)
    if s.ls[i, k, PROM] > b:  # its own acceptor promised a rival meanwhile
        _preempt(s, i, k)
        return
    _accept(s, i, k, b, v, i)
    for f in range(s.cfg_i[C_N]):
        if f != i:
            _msg(s, T_ACCEPT, i, f, b, k, v, 0)


@njit(**_OPTS)
def _on_accepted(s, i, k, b, a):
    if s.ls[i, k, BAL] != b or s.ls[i, k, PHASE] != ACCEPTING:
        return
    s.ls[i, k, VOTES] |= np.int64(1) << a
    if _popcount(s.ls[i, k, VOTES]) >= s.cfg_i[C_Q2]:
        v = s.ls[i, k, VAL]
        for f in range(s.cfg_i[C_N]):
            if f != i:
                _msg(s, T_DECIDE, i, f, b, k, v, 0)
        _learn(s, i, k, b, v)


# --- acceptor ----------------------------------------------------------------------


@njit(**_OPTS)
def _accept(s, i, k, b, v, p):
    """Acceptor i accepts (b, v) in slot k for proposer p unless it promised higher."""
    if b < s.ls[i, k, PROM]:
        _msg(s, T_NACK, i, p, s.ls[i, k, PROM], k, b, 0)
        return
    s.ls[i, k, PROM] = b
    s.lt[i, k] = b
    s.lc[i, k] = v
    if k > s.ni[i, N_LEN]:
        s.ni[i, N_LEN] = k
    _touch(s, i, k)
    disk_enqueue(s, i, OP_ACCEPT, 0, k, b, p, v, 0, 0)


@njit(**_OPTS)
def _on_prepare(s, i, slot):
    p = s.m_i[slot, M_SRC]
    b = s.m_i[slot, M_TERM]
    k = s.m_i[slot, M_A]
    if k >= s.ls.shape[1]:
        overflow(s, O_LOG)
        return
    if b > s.ni[i, N_TERM]:
        s.ni[i, N_TERM] = b
    if s.ls[i, k, DBAL] > 0:  # decided: say so rather than promise
        _msg(s, T_DECIDE, i, p, s.ls[i, k, DBAL], k, s.ls[i, k, DVAL], 0)
        return
    if b <= s.ls[i, k, PROM]:
        _msg(s, T_NACK, i, p, s.ls[i, k, PROM], k, b, 0)
        return
    s.ls[i, k, PROM] = b
    _touch(s, i, k)
    disk_enqueue(s, i, OP_PROMISE, 0, k, b, p, 0, 0, 0)


@njit(**_OPTS)
def _on_accept(s, i, slot):
    b = s.m_i[slot, M_TERM]
    k = s.m_i[slot, M_A]
    if k >= s.ls.shape[1]:
        overflow(s, O_LOG)
        return
    if b > s.ni[i, N_TERM]:
        s.ni[i, N_TERM] = b
    _accept(s, i, k, b, s.m_i[slot, M_B], s.m_i[slot, M_SRC])


@njit(**_OPTS)
def _on_nack(s, i, slot):
    k = s.m_i[slot, M_A]
    if s.m_i[slot, M_TERM] > s.ni[i, N_TERM]:
        s.ni[i, N_TERM] = s.m_i[slot, M_TERM]
    phase = s.ls[i, k, PHASE]
    if s.ls[i, k, BAL] == s.m_i[slot, M_B] and (phase == PREPARING or phase == ACCEPTING):
        _preempt(s, i, k)


# --- learner -----------------------------------------------------------------------


@njit(**_OPTS)
def _apply(s, i):
    """Apply decided slots in order; the node holding a request answers it."""
    quiet = s.cfg_i[C_QUIET_WRITES] == 1
    while True:
        k = s.ni[i, N_APPLIED] + 1
        if k >= s.ls.shape[1] or s.ls[i, k, DBAL] == 0:
            return
        s.ni[i, N_APPLIED] = k
        s.ni[i, N_COMMIT] = k
        b = s.ls[i, k, DBAL]
        v = s.ls[i, k, DVAL]
        check_chosen(s, i, k, b, v)
        if quiet or v <= 0 or v > s.ci[K_NREQ]:
            continue
        r = v - 1
        if s.req_i[r, R_DONE] == 0 and s.req_i[r, R_SERVER] == i + 1:
            if s.req_i[r, R_KIND] == READ and k < s.req_i[r, R_FLOOR]:
                violation(s, V_STALE_READ, i, b, k)
            acknowledge(s, i, r, k, b, s.req_i[r, R_ATTEMPT])
            s.req_i[r, R_SERVER] = 0  # answered once, even if it is decided again


@njit(**_OPTS)
def _learn(s, i, k, b, v):
    """Node i learns that slot k was decided with value v (in ballot b)."""
    if k >= s.ls.shape[1]:
        overflow(s, O_LOG)
        return
    if s.ls[i, k, DBAL] > 0:
        if s.ls[i, k, DVAL] != v:
            violation(s, V_AGREEMENT, i, b, k)
        return
    if v < 0 or v > s.ci[K_NREQ]:
        violation(s, V_VALIDITY, i, b, k)
    s.ls[i, k, DBAL] = b
    s.ls[i, k, DVAL] = v
    _touch(s, i, k)
    if k > s.ni[i, MAXDEC]:
        s.ni[i, MAXDEC] = k
    retry = 0
    if s.ls[i, k, PHASE] != IDLE:  # its own proposal there is over
        s.ls[i, k, PHASE] = IDLE
        s.ls[i, k, BAL] = 0
        s.ni[i, OPEN] -= 1
        if s.ls[i, k, CMD] != v:
            retry = s.ls[i, k, CMD]
    _apply(s, i)
    # The slot went to another value: its own command tries a later slot, if this node
    # still holds the request (not answered yet, and the client has not moved on).
    if retry > 0 and s.req_i[retry - 1, R_SERVER] == i + 1:
        _propose(s, i, _free_slot(s, i), retry)
    if s.ni[i, MAXDEC] > s.ni[i, N_APPLIED]:
        _arm_watchdog(s, i)


@njit(**_OPTS)
def _ask(s, i, first):
    """Ask the next peer (in turn) for the decided slots from ``first``."""
    n = s.cfg_i[C_N]
    if n == 1:
        return
    peer = (i + 1 + s.ni[i, ASKED] % (n - 1)) % n
    s.ni[i, ASKED] += 1
    _msg(s, T_ASK, i, peer, 0, first, 0, 0)


@njit(**_OPTS)
def _on_ask(s, i, slot):
    first = s.m_i[slot, M_A]
    batch = s.cfg_i[C_BATCH]
    count = 0
    while count < batch and first + count < s.ls.shape[1] and s.ls[i, first + count, DBAL] > 0:
        count += 1
    if count == 0:
        return
    reply = new_message(s, T_LEARN, i, s.m_i[slot, M_SRC], 0)
    if reply < 0:
        return
    s.m_i[reply, M_A] = first
    s.m_i[reply, M_B] = count
    s.m_i[reply, M_C] = s.ni[i, MAXDEC]
    for j in range(count):
        s.m_e[reply, j, 0] = s.ls[i, first + j, DBAL]
        s.m_e[reply, j, 1] = s.ls[i, first + j, DVAL]
    send(s, reply)


@njit(**_OPTS)
def _on_learn(s, i, slot):
    first = s.m_i[slot, M_A]
    count = s.m_i[slot, M_B]
    for j in range(count):
        _learn(s, i, first + j, s.m_e[slot, j, 0], s.m_e[slot, j, 1])
    top = s.m_i[slot, M_C]
    if top > s.ni[i, MAXDEC]:
        s.ni[i, MAXDEC] = top
    if s.ni[i, MAXDEC] > s.ni[i, N_APPLIED]:
        _arm_watchdog(s, i)
        if count == s.cfg_i[C_BATCH]:  # more to come: keep catching up from this peer
            _msg(s, T_ASK, i, s.m_i[slot, M_SRC], 0, s.ni[i, N_APPLIED] + 1, 0, 0)


@njit(**_OPTS)
def _watchdog(s, i):
    s.ni[i, TPEND] = 0
    now = _now_ns(s)
    timeout = np.int64(s.cfg_f[F_TIMEOUT] * 1e6)
    for k in range(s.ni[i, N_APPLIED] + 1, s.ni[i, TOP] + 1):
        phase = s.ls[i, k, PHASE]
        if (phase == PREPARING or phase == ACCEPTING) and now - s.ls[i, k, SINCE] >= timeout:
            _prepare(s, i, k)  # stuck (lost messages, crashed acceptors): start over
    a = s.ni[i, N_APPLIED] + 1
    if s.ni[i, MAXDEC] >= a:
        if s.ni[i, HOLE_AT] != a:
            s.ni[i, HOLE_AT] = a
            s.ni[i, HOLE_N] = 0
        else:
            s.ni[i, HOLE_N] += 1
            if s.ls[i, a, PHASE] == IDLE:
                if s.ni[i, HOLE_N] == 1:
                    _ask(s, i, a)
                else:
                    _propose(s, i, a, 0)  # a no-op decides whatever may have been chosen
    if s.ni[i, OPEN] > 0 or s.ni[i, MAXDEC] > s.ni[i, N_APPLIED]:
        _arm_watchdog(s, i)


# --- clients -------------------------------------------------------------------------


@njit(**_OPTS)
def _on_client_request(s, i, slot):
    r = s.m_i[slot, M_A]
    attempt = s.m_i[slot, M_C]
    cmd = r + 1
    s.req_i[r, R_SERVER] = i + 1
    if attempt > 0:  # a retry: this node may know the command decided, or propose it
        for k in range(1, s.ni[i, MAXDEC] + 1):
            if s.ls[i, k, DBAL] > 0 and s.ls[i, k, DVAL] == cmd:
                if k <= s.ni[i, N_APPLIED]:
                    acknowledge(s, i, r, k, s.ls[i, k, DBAL], attempt)
                    s.req_i[r, R_SERVER] = 0
                return
        for k in range(s.ni[i, N_APPLIED] + 1, s.ni[i, TOP] + 1):
            if s.ls[i, k, PHASE] != IDLE and s.ls[i, k, CMD] == cmd:
                return
    _propose(s, i, _free_slot(s, i), cmd)


# --- dispatch --------------------------------------------------------------------------


@njit(**_OPTS)
def on_message(s, i, slot):
    mtype = s.m_i[slot, M_TYPE]
    if mtype == T_PROMISE:
        _on_promise(s, i, s.m_i[slot, M_A], s.m_i[slot, M_TERM], s.m_i[slot, M_SRC],
                    s.m_i[slot, M_B], s.m_i[slot, M_C])  # fmt: skip
    elif mtype == T_ACCEPTED:
        _on_accepted(s, i, s.m_i[slot, M_A], s.m_i[slot, M_TERM], s.m_i[slot, M_SRC])
    elif mtype == T_PREPARE:
        _on_prepare(s, i, slot)
    elif mtype == T_ACCEPT:
        _on_accept(s, i, slot)
    elif mtype == T_DECIDE:
        _learn(s, i, s.m_i[slot, M_A], s.m_i[slot, M_TERM], s.m_i[slot, M_B])
    elif mtype == T_CREQ:
        _on_client_request(s, i, slot)
    elif mtype == T_NACK:
        _on_nack(s, i, slot)
    elif mtype == T_ASK:
        _on_ask(s, i, slot)
    elif mtype == T_LEARN:
        _on_learn(s, i, slot)


@njit(**_OPTS)
def on_disk(s, i, row):
    """A promise or an acceptance is on disk: record it there, then answer."""
    op = s.disk_q[i, row, 0]
    k = s.disk_q[i, row, 1]
    b = s.disk_q[i, row, 2]
    p = s.disk_q[i, row, 3]
    if b > s.ls[i, k, DPROM]:
        s.ls[i, k, DPROM] = b
    if k > s.ni[i, DHI]:
        s.ni[i, DHI] = k
    if op == OP_ACCEPT:
        v = s.disk_q[i, row, 4]
        if b >= s.dlt[i, k]:
            s.dlt[i, k] = b
            s.dlc[i, k] = v
        if p == i:
            _on_accepted(s, i, k, b, i)
        else:
            _msg(s, T_ACCEPTED, i, p, b, k, 0, 0)
    elif op == OP_PROMISE:
        # What is on disk now includes every acceptance queued before the promise.
        if p == i:
            if s.ls[i, k, BAL] == b and s.ls[i, k, PHASE] == PREPARING:
                if s.ls[i, k, PROM] == b:
                    _on_promise(s, i, k, b, i, s.dlt[i, k], s.dlc[i, k])
                else:
                    _preempt(s, i, k)
        elif s.ls[i, k, PROM] == b:
            _msg(s, T_PROMISE, i, p, b, k, s.dlt[i, k], s.dlc[i, k])
        else:
            _msg(s, T_NACK, i, p, s.ls[i, k, PROM], k, b, 0)


@njit(**_OPTS)
def on_timer(s, i, kind, gen):
    if gen & 1:  # the back-off of slot gen // 2 is over
        k = gen >> 1
        if s.ls[i, k, PHASE] == BACKING_OFF:
            _prepare(s, i, k)
    elif gen == 2 * s.ni[i, TGEN]:
        _watchdog(s, i)


@njit(**_OPTS)
def on_crash(s, i):
    """Memory is lost: promises and acceptances are what the disk holds; proposals,
    decisions and the requests this node held are gone."""
    for k in range(1, s.ni[i, TOP] + 1):
        s.ls[i, k, PROM] = s.ls[i, k, DPROM]
        s.lt[i, k] = s.dlt[i, k]
        s.lc[i, k] = s.dlc[i, k]
        for col in range(BAL, DVAL + 1):
            s.ls[i, k, col] = 0
    top = s.ni[i, DHI]
    s.ni[i, TOP] = top
    s.ni[i, N_LEN] = top
    s.ni[i, N_DUR_LEN] = top
    s.ni[i, N_APPLIED] = 0
    s.ni[i, MAXDEC] = 0
    s.ni[i, OPEN] = 0
    s.ni[i, TPEND] = 0
    s.ni[i, HOLE_AT] = 0
    s.ni[i, HOLE_N] = 0
    for r in range(s.ci[K_NREQ]):
        if s.req_i[r, R_SERVER] == i + 1:
            s.req_i[r, R_SERVER] = 0


@njit(**_OPTS)
def on_recover(s, i):
    _ask(s, i, s.ni[i, N_APPLIED] + 1)


@njit(**_OPTS)
def bootstrap(s, leader):
    """Empty state everywhere; with ``leader >= 0`` every client first sends there."""
    for i in range(s.cfg_i[C_N]):
        s.ni[i, N_ROLE] = ROLE_FOLLOWER
        s.ni[i, N_VOTE] = -1
        s.ni[i, N_LEADER] = -1
    if leader >= 0:
        for c in range(s.cl_i.shape[0]):
            s.cl_i[c, 1] = leader


@njit(**_OPTS)
def check_acked(s):
    """Every acknowledged write is on disk, with its value, at q2 acceptors or more."""
    acked_on_disks(s, s.cfg_i[C_Q2])
