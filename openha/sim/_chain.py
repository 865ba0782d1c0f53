"""Chain replication (van Renesse and Schneider, OSDI 2004) as event handlers, with the
configuration kept by the nodes themselves (no configuration master): life cycle,
clients and dispatch. Registers and the configuration view are in ``_chain_state.py``;
the log, streams, heartbeats and leases in ``_chain_log.py``; configuration changes and
joins in ``_chain_repair.py``.

**Writes** go to the head, which appends them (log entries stamped with the head's
epoch ``N_TERM``, unique per node: ``k n + node + 1``) and writes them to disk; they
travel down the chain, each node forwarding once its copy is durable, and the tail,
once its copy is durable, applies them and answers the client. Nodes apply what their
successor's heartbeat answers show committed. Steady state: request, ``length - 1``
forwards, reply. **Reads** go to the tail, which answers from its applied state while
it holds a read lease.

**Repair.** A member that hears nothing from its predecessor or successor for the
failure timeout (``F_LEASE``) removes it from its view and tells every node: the
successor of a failed head becomes head (with a new epoch); the predecessor of a failed
tail becomes tail and answers for the writes it holds; the predecessor of a failed
middle node links to the next one, probes its length and resends what it lacks. A node
that recovers from a crash knows it lost its place: it marks itself removed (unless it
was the only member, which carries on alone: nobody else could have changed the chain),
keeps its log up to the commit point it had written to disk, and rejoins as a spare.

**Joining.** A spare asks the tail; when the chain has fewer than ``C_REPLICAS``
members, the tail copies its log to the spare (``batch``-entry messages, ``window`` of
them unacknowledged, each acknowledged once durable). Once the spare has been sent
everything, the tail stops acknowledging writes (``FROZEN``) until the spare holds
every write the tail acknowledged, then appends it to the chain: the spare becomes the
tail. The admission names the spare's incarnation and the tail's commit point, and a
spare takes it only for its own request and if it holds that much on disk.

**Assumptions.** Chain replication assumes fail-stop nodes and a perfect failure
detector. A neighbour silent for the failure timeout is declared failed. If it is alive
after all and hears from the other side (a late or lost message), the read leases keep
reads linearizable and the chain repairs itself. If both sides stay silent to each
other (a partition), each carries on as a chain of its own: two heads, two tails,
acknowledged writes diverge. The safety tests run crash faults with message loss; a
test shows the checker catching a partition.

The view (``pp[:, :, KEY]``) is treated as written to disk when it changes (its writes
are rare and not simulated).
"""

from numba import njit

from openha._config import jit_options
from openha.sim._chain_log import (
    commit_tail,
    copy_durable,
    heartbeat,
    is_tail,
    lease_end,
    on_ack,
    on_forward,
    on_heartbeat,
    pump,
    send_ack,
    source_ok,
    start_stream,
    truncate,
)
from openha.sim._chain_repair import (
    _drop_joiner,
    _maybe_admit,
    _on_config,
    _on_join,
    _on_join_reply,
    _remove,
)
from openha.sim._chain_state import (
    DCOMMIT,
    DCOPY,
    FREEZE_AT,
    FRESH,
    FROZEN,
    HB_END,
    HB_SENT,
    HBGEN,
    HEAD,
    HEARD,
    JOINER,
    KEY,
    LEASE_END,
    LIVE,
    MEMBER,
    MEMBERS,
    MUTANT_TAIL_ACKS_EARLY,
    NACKED,
    NEXT_POLL,
    NS,
    OP_WRITE,
    POLLT,
    PRED,
    READ_FLOOR,
    SPARE,
    SPONSOR,
    SUCC,
    T_ACK,
    T_CONFIG,
    T_FWD,
    T_HB,
    T_JOIN,
    T_JOIN_REPLY,
    TAIL,
    VERSION,
    announce,
    derive,
    is_member_key,
    mismatch,
    next_epoch,
)
from openha.sim._clients import acknowledge, redirect
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
    C_MUTANT,
    C_N,
    C_REPLICAS,
    E_HBTIMER,
    F_HB,
    F_LEASE,
    G_NOW,
    K_MAXTERM,
    K_NREQ,
    M_A,
    M_B,
    M_C,
    M_SRC,
    M_TERM,
    M_TYPE,
    N_APPLIED,
    N_COMMIT,
    N_DUR_LEN,
    N_DUR_TERM,
    N_LEN,
    N_ROLE,
    N_TERM,
    O_LOG,
    R_FLOOR,
    R_INDEX,
    R_KIND,
    R_LOGGED,
    R_LOGTERM,
    R_TERM,
    READ,
    ROLE_DOWN,
    T_CREQ,
    TL_LEADER,
    TL_STEP_DOWN,
    U_INC,
    U_UP,
    V_ACKED_LOST,
    V_STALE_READ,
    WRITE,
)

_OPTS = jit_options()


@njit(**_OPTS)
def _on_client(s, i, slot):
    r = s.m_i[slot, M_A]
    attempt = s.m_i[slot, M_C]
    member = s.ni[i, N_ROLE] == MEMBER
    if s.req_i[r, R_KIND] == READ:
        if not is_tail(s, i):
            tail = s.ni[i, TAIL]
            redirect(s, i, r, tail if tail != i else -1, attempt)
            return
        index = s.ni[i, N_APPLIED]
        lease = s.ni[i, PRED] < 0 or s.cf[G_NOW] * NS < lease_end(s, i)
        if not lease or index < s.ni[i, READ_FLOOR]:
            redirect(s, i, r, -1, attempt)  # no lease, or behind: the client retries
            return
        if index < s.req_i[r, R_FLOOR]:
            violation(s, V_STALE_READ, i, s.ni[i, N_TERM], index)
        s.req_i[r, R_INDEX] = index
        acknowledge(s, i, r, index, s.ni[i, N_TERM], attempt)
        return
    if not member or s.ni[i, PRED] >= 0:
        head = s.ni[i, HEAD]
        redirect(s, i, r, head if head != i else -1, attempt)
        return
    # A retried write already in this head's log is not appended again.
    k = s.req_i[r, R_LOGGED]
    if 0 < k <= s.ni[i, N_LEN] and s.lc[i, k] == r + 1 and s.lt[i, k] == s.req_i[r, R_LOGTERM]:
        if k <= s.ni[i, N_APPLIED]:
            acknowledge(s, i, r, k, s.lt[i, k], attempt)
        return
    k = s.ni[i, N_LEN] + 1
    if k >= s.lt.shape[1]:
        overflow(s, O_LOG)
        return
    term = s.ni[i, N_TERM]
    s.lt[i, k] = term
    s.lc[i, k] = r + 1
    s.ni[i, N_LEN] = k
    s.req_i[r, R_LOGGED] = k
    s.req_i[r, R_LOGTERM] = term
    disk_enqueue(s, i, OP_WRITE, k, -1, 0, 0, s.ni[i, N_COMMIT], 0, 0)
    if s.cfg_i[C_MUTANT] == MUTANT_TAIL_ACKS_EARLY:
        commit_tail(s, i)


@njit(**_OPTS)
def on_message(s, i, slot):
    mtype = s.m_i[slot, M_TYPE]
    if mtype == T_CREQ:
        _on_client(s, i, slot)
        return
    src = s.m_i[slot, M_SRC]
    s.pf[i, src, HEARD] = s.cf[G_NOW]
    if mtype == T_CONFIG:
        _on_config(s, i, slot)
        return
    if mtype != T_JOIN_REPLY and s.m_i[slot, M_TERM] != s.ni[i, VERSION]:
        mismatch(s, i, src)
    if mtype == T_FWD:
        on_forward(s, i, slot)
    elif mtype == T_HB:
        on_heartbeat(s, i, slot)
    elif mtype == T_ACK:
        if on_ack(s, i, slot):
            _maybe_admit(s, i)
    elif mtype == T_JOIN:
        _on_join(s, i, slot)
    elif mtype == T_JOIN_REPLY:
        _on_join_reply(s, i, slot)


@njit(**_OPTS)
def on_disk(s, i, row):
    if s.disk_q[i, row, 0] != OP_WRITE:
        return
    copy_durable(s, i)
    c = min(s.disk_q[i, row, 4], s.ni[i, N_DUR_LEN])
    if c > s.ni[i, DCOMMIT]:
        s.ni[i, DCOMMIT] = c
    src = s.disk_q[i, row, 1]
    if src >= 0 and s.disk_q[i, row, 3] == 1 and source_ok(s, i, src):
        send_ack(s, i, src, s.disk_q[i, row, 2], 1)
    if s.ni[i, N_ROLE] != MEMBER:
        return
    succ = s.ni[i, SUCC]
    if succ < 0:
        commit_tail(s, i)
    else:
        pump(s, i, succ)
    if s.ni[i, JOINER] >= 0:
        pump(s, i, s.ni[i, JOINER])
        _maybe_admit(s, i)


@njit(**_OPTS)
def _poll(s, i):
    """A spare asks to join: at the node it was sent to, else the tail it believes in,
    else the next node in ring order."""
    n = s.cfg_i[C_N]
    target = s.ni[i, POLLT]
    if target < 0 or target == i:
        target = s.ni[i, TAIL]
    if target < 0 or target == i:
        target = (i + 1 + int(s.cf[G_NOW] / s.cfg_f[F_HB])) % n
        if target == i:
            target = (i + 1) % n
    if target == i:
        return  # a single node
    s.ni[i, POLLT] = -1
    truncate(s, i, s.ni[i, N_DUR_LEN])
    slot = new_message(s, T_JOIN, i, target, s.ni[i, VERSION])
    if slot < 0:
        return
    length = s.ni[i, N_LEN]
    s.m_i[slot, M_A] = length
    s.m_i[slot, M_B] = s.lt[i, length]
    s.m_i[slot, M_C] = s.nodes[i, U_INC]
    send(s, slot)
    s.ni[i, SPONSOR] = target
    s.ni[i, FRESH] = 1
    s.pf[i, target, HEARD] = max(s.pf[i, target, HEARD], s.cf[G_NOW])
    s.nf[i, NEXT_POLL] = s.cf[G_NOW] + s.cfg_f[F_HB]


@njit(**_OPTS)
def _tick(s, i):
    now = s.cf[G_NOW]
    hb = s.cfg_f[F_HB]
    timeout = s.cfg_f[F_LEASE]
    if s.ni[i, N_ROLE] == MEMBER:
        pred = s.ni[i, PRED]
        if pred >= 0 and now - s.pf[i, pred, HEARD] > timeout:
            _remove(s, i, pred)
        succ = s.ni[i, SUCC]
        if succ >= 0 and now - s.pf[i, succ, HEARD] > timeout:
            _remove(s, i, succ)
        j = s.ni[i, JOINER]
        if j >= 0:
            silent = now - s.pf[i, j, HEARD] > timeout
            stuck = s.ni[i, FROZEN] == 1 and now - s.nf[i, FREEZE_AT] > timeout
            if silent or stuck:
                _drop_joiner(s, i)
        succ = s.ni[i, SUCC]
        # The head starts a heartbeat sweep; the others pass it on, and send their
        # own only if the sweep stopped (a failed predecessor).
        if succ >= 0 and (s.ni[i, PRED] < 0 or now - s.nf[i, HB_SENT] >= 1.5 * hb):
            heartbeat(s, i, succ)
        j = s.ni[i, JOINER]
        if j >= 0:
            heartbeat(s, i, j)
        pred = s.ni[i, PRED]
        if pred >= 0 and now - s.pf[i, pred, HEARD] > 2.0 * hb:
            send_ack(s, i, pred, -1, 0)  # a quiet predecessor: show it i is here (and its view)
    elif s.ni[i, N_ROLE] == SPARE:
        sponsor = s.ni[i, SPONSOR]
        if sponsor >= 0 and now - s.pf[i, sponsor, HEARD] > timeout:
            s.ni[i, SPONSOR] = -1
        if s.ni[i, SPONSOR] < 0 and now >= s.nf[i, NEXT_POLL]:
            _poll(s, i)


@njit(**_OPTS)
def on_timer(s, i, kind, gen):
    if kind != E_HBTIMER or gen != s.ni[i, HBGEN]:
        return
    _tick(s, i)
    push(s, s.cf[G_NOW] + s.cfg_f[F_HB], E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def on_crash(s, i):
    """Memory is lost: the log is what the disk holds; the view is kept."""
    s.ni[i, HBGEN] += 1
    if s.ni[i, N_ROLE] == MEMBER and s.ni[i, PRED] < 0:
        timeline(s, i, s.ni[i, N_TERM], TL_STEP_DOWN)
    s.ni[i, N_ROLE] = ROLE_DOWN
    top = s.ni[i, DCOPY]
    for k in range(1, top + 1):
        s.lt[i, k] = s.dlt[i, k]
        s.lc[i, k] = s.dlc[i, k]
    s.ni[i, N_LEN] = top
    s.ni[i, N_DUR_LEN] = top
    s.ni[i, N_APPLIED] = 0
    s.ni[i, JOINER] = -1
    s.ni[i, FROZEN] = 0
    s.ni[i, SPONSOR] = -1
    s.ni[i, POLLT] = -1
    s.nf[i, LEASE_END] = 0.0


@njit(**_OPTS)
def on_recover(s, i):
    """The only member of its view carries on; any other node rejoins as a spare."""
    now = s.cf[G_NOW]
    n = s.cfg_i[C_N]
    for j in range(n):
        s.pf[i, j, HEARD] = now
        s.pp[i, j, NACKED] = -1
        s.pp[i, j, HB_END] = 0
    derive(s, i)
    if is_member_key(s.pp[i, i, KEY]) and s.ni[i, MEMBERS] == 1:
        s.ni[i, N_ROLE] = MEMBER
        term = next_epoch(s, i, s.ni[i, N_TERM])
        s.ni[i, N_TERM] = term
        if term > s.ci[K_MAXTERM]:
            s.ci[K_MAXTERM] = term
        timeline(s, i, term, TL_LEADER)
        commit_tail(s, i)
    else:
        s.ni[i, N_ROLE] = SPARE
        if is_member_key(s.pp[i, i, KEY]):
            s.pp[i, i, KEY] |= 1
            derive(s, i)
            announce(s, i, i, -1, 0)
        truncate(s, i, min(s.ni[i, N_LEN], s.ni[i, DCOMMIT]))
        s.ni[i, SPONSOR] = -1
        s.ni[i, POLLT] = -1
        s.nf[i, NEXT_POLL] = now
    s.ni[i, HBGEN] += 1
    push(s, now + s.cfg_f[F_HB], E_HBTIMER, i, s.ni[i, HBGEN], s.nodes[i, U_INC])


@njit(**_OPTS)
def bootstrap(s, leader):
    """The chain: ``C_REPLICAS`` nodes in ring order from ``leader`` (node 0 if -1)."""
    n = s.cfg_i[C_N]
    length = s.cfg_i[C_REPLICAS]
    if leader < 0:
        leader = 0
    term = next_epoch(s, leader, 0)
    for i in range(n):
        for j in range(n):
            s.pp[i, j, KEY] = 0
            s.pp[i, j, NACKED] = -1
        for t in range(length):
            s.pp[i, (leader + t) % n, KEY] = 2 * (t + 1)
    s.ci[K_MAXTERM] = term
    for i in range(n):
        derive(s, i)
        s.ni[i, N_ROLE] = MEMBER if is_member_key(s.pp[i, i, KEY]) else SPARE
        s.ni[i, N_TERM] = term
        s.ni[i, N_DUR_TERM] = term
        s.ni[i, JOINER] = -1
        s.ni[i, SPONSOR] = -1
        s.ni[i, POLLT] = -1
        s.nf[i, LEASE_END] = 0.5 * s.cfg_f[F_LEASE]  # as if granted at time 0
        succ = s.ni[i, SUCC]
        if s.ni[i, N_ROLE] == MEMBER and succ >= 0:
            start_stream(s, i, succ, LIVE, 0)
        s.ni[i, HBGEN] = 1
        push(s, draw_uniform(s, 0.0, s.cfg_f[F_HB]), E_HBTIMER, i, 1, s.nodes[i, U_INC])
    timeline(s, leader, term, TL_LEADER)


@njit(**_OPTS)
def check_acked(s):
    """Every acknowledged write is on the disk of every live member of the chain: the
    nodes up, acting as members, and members in the newest view (every node's view
    merged: a node removed while it was alive may not know yet). A member holds every
    write acknowledged while it was in the chain, and joins with all earlier ones, so
    with at most ``length - 1`` members down an acknowledged write survives. A chain
    whose members are all down is not checked: it is down, not unsafe."""
    n = s.cfg_i[C_N]
    for j in range(n):
        newest = 0
        for x in range(n):
            newest = max(newest, s.pp[x, j, KEY])
        live = s.nodes[j, U_UP] == 1 and s.ni[j, N_ROLE] == MEMBER
        if not live or s.pp[j, j, KEY] != newest:
            continue
        for r in range(s.ci[K_NREQ]):
            if s.req_i[r, R_KIND] == WRITE and s.req_i[r, R_TERM] > 0:
                k = s.req_i[r, R_INDEX]
                if s.dlc[j, k] != r + 1:
                    violation(s, V_ACKED_LOST, j, s.req_i[r, R_TERM], k)
                    break  # one lost write per node is enough
