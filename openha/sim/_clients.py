"""Clients: closed loop (N clients, think time) or open loop (Poisson arrivals).

A request goes to the node the client believes leads; a "not leader" reply redirects
it (at once to the hinted leader, after a back-off when there is none) and a timeout
retries it at the next node. Writes are command ``request + 1`` in the log.
"""

import math

from numba import njit

from openha._config import jit_options
from openha._random_kernels import exponential, uniform
from openha.sim._engine import draw, new_message, overflow, push, send
from openha.sim._layout import (
    C_CLIENTS,
    C_CLOSED,
    C_N,
    C_PROTO,
    C_STOP_COMMITS,
    C_WARMUP,
    D_THINK,
    E_CNEXT,
    E_CRETRY,
    E_CTIMEOUT,
    E_OPEN,
    F_CLIENT_TIMEOUT,
    F_RATE,
    F_READ,
    F_RETRY,
    G_NOW,
    G_WARM_AT,
    K_ACKED,
    K_COMPLETED,
    K_MAX_ACKED_IDX,
    K_NREQ,
    K_READS,
    K_STATUS,
    K_TQ_ARMED,
    K_TQ_HEAD,
    K_TQ_LEN,
    M_A,
    M_B,
    M_C,
    M_D,
    M_E,
    M_SRC,
    O_REQ,
    O_TIMEOUTS,
    P_CHAIN,
    R_ATTEMPT,
    R_CLIENT,
    R_DONE,
    R_FLOOR,
    R_INDEX,
    R_KIND,
    R_TARGET,
    R_TERM,
    READ,
    RF_DONE,
    RF_SUBMIT,
    ST_DONE,
    T_CREPLY,
    T_CREQ,
    WRITE,
)

_OPTS = jit_options()

REPLY_OK = 1
REPLY_NOT_LEADER = 0


@njit(**_OPTS)
def _server_col(s, r):
    """Which of the client's believed servers request ``r`` goes to: column 1 (the
    leader, head or primary) or, for chain replication's reads, column 2 (the tail)."""
    if s.cfg_i[C_PROTO] == P_CHAIN and s.req_i[r, R_KIND] == READ:
        return 2
    return 1


@njit(**_OPTS)
def transmit(s, r):
    """(Re)send request ``r`` to its target and arm its timeout."""
    n = s.cfg_i[C_N]
    slot = new_message(s, T_CREQ, n + s.req_i[r, R_CLIENT], s.req_i[r, R_TARGET], 0)
    if slot < 0:
        return
    s.m_i[slot, M_A] = r
    s.m_i[slot, M_B] = s.req_i[r, R_KIND]
    s.m_i[slot, M_C] = s.req_i[r, R_ATTEMPT]
    send(s, slot)
    timeout = s.cfg_f[F_CLIENT_TIMEOUT]
    if timeout > 0.0:
        _arm_timeout(s, r, s.req_i[r, R_ATTEMPT], s.cf[G_NOW] + timeout)


@njit(**_OPTS)
def _arm_timeout(s, r, attempt, deadline):
    """Queue (r, attempt)'s deadline. Every attempt waits equally long, so deadlines
    arrive in order: one pending event for the earliest keeps the heap small."""
    q = s.tq.shape[0]
    length = s.ci[K_TQ_LEN]
    if length >= q:
        overflow(s, O_TIMEOUTS)
        return
    row = (s.ci[K_TQ_HEAD] + length) % q
    s.tq[row, 0] = r
    s.tq[row, 1] = attempt
    s.tq_t[row] = deadline
    s.ci[K_TQ_LEN] = length + 1
    if s.ci[K_TQ_ARMED] == 0:
        s.ci[K_TQ_ARMED] = 1
        push(s, deadline, E_CTIMEOUT, -1, 0, 0)


@njit(**_OPTS)
def on_timeouts(s):
    """Retry every attempt whose deadline has passed without an answer."""
    s.ci[K_TQ_ARMED] = 0
    q = s.tq.shape[0]
    now = s.cf[G_NOW]
    while s.ci[K_TQ_LEN] > 0:
        head = s.ci[K_TQ_HEAD]
        if s.tq_t[head] > now:
            if s.ci[K_TQ_ARMED] == 0:  # a retry above may have armed it already
                s.ci[K_TQ_ARMED] = 1
                push(s, s.tq_t[head], E_CTIMEOUT, -1, 0, 0)
            return
        r = s.tq[head, 0]
        attempt = s.tq[head, 1]
        s.ci[K_TQ_HEAD] = (head + 1) % q
        s.ci[K_TQ_LEN] -= 1
        on_timeout(s, r, attempt)


@njit(**_OPTS)
def new_request(s, client):
    """Client ``client`` issues its next request."""
    r = s.ci[K_NREQ]
    if r >= s.req_i.shape[0]:
        overflow(s, O_REQ)
        return
    s.ci[K_NREQ] = r + 1
    read = s.cfg_f[F_READ]
    kind = READ if read > 0.0 and uniform(s.rng) < read else WRITE
    s.req_i[r, :] = 0
    s.req_i[r, R_CLIENT] = client
    s.req_i[r, R_KIND] = kind
    s.req_i[r, R_FLOOR] = s.ci[K_MAX_ACKED_IDX]
    target = s.cl_i[client, _server_col(s, r)]
    if target < 0:
        target = int(uniform(s.rng) * s.cfg_i[C_N]) % s.cfg_i[C_N]
    s.req_i[r, R_TARGET] = target
    s.req_f[r, RF_SUBMIT] = s.cf[G_NOW]
    s.req_f[r, RF_DONE] = math.nan
    s.cl_i[client, 0] = r
    transmit(s, r)


@njit(**_OPTS)
def start_clients(s):
    """Closed loop: every client starts after one think time; open loop: first arrival."""
    if s.cfg_i[C_CLOSED] == 1:
        for c in range(s.cfg_i[C_CLIENTS]):
            push(s, s.cf[G_NOW] + draw(s, D_THINK), E_CNEXT, -1, c, 0)
    elif s.cfg_f[F_RATE] > 0.0:
        push(s, s.cf[G_NOW] + exponential(s.rng) / s.cfg_f[F_RATE], E_OPEN, -1, 0, 0)


@njit(**_OPTS)
def on_open_arrival(s, count):
    """Open loop: a request arrives; schedule the next arrival."""
    new_request(s, count % s.cl_i.shape[0])
    push(s, s.cf[G_NOW] + exponential(s.rng) / s.cfg_f[F_RATE], E_OPEN, -1, count + 1, 0)


@njit(**_OPTS)
def _retry(s, r, target):
    s.req_i[r, R_ATTEMPT] += 1
    s.req_i[r, R_TARGET] = target
    s.cl_i[s.req_i[r, R_CLIENT], _server_col(s, r)] = target
    transmit(s, r)


@njit(**_OPTS)
def on_timeout(s, r, attempt):
    if s.req_i[r, R_DONE] == 1 or s.req_i[r, R_ATTEMPT] != attempt:
        return
    _retry(s, r, (s.req_i[r, R_TARGET] + 1) % s.cfg_i[C_N])


@njit(**_OPTS)
def on_retry(s, r, attempt):
    on_timeout(s, r, attempt)


@njit(**_OPTS)
def on_reply(s, slot):
    """A reply reached its client (clients spend no CPU on it)."""
    r = s.m_i[slot, M_A]
    if s.req_i[r, R_DONE] == 1:
        return
    if s.m_i[slot, M_B] == REPLY_NOT_LEADER:
        if s.m_i[slot, M_E] != s.req_i[r, R_ATTEMPT]:
            return  # an answer to an attempt that has been superseded
        hint = s.m_i[slot, M_C]
        if hint >= 0 and hint != s.req_i[r, R_TARGET]:
            _retry(s, r, hint)
        else:
            push(s, s.cf[G_NOW] + s.cfg_f[F_RETRY], E_CRETRY, -1, r, s.req_i[r, R_ATTEMPT])
        return
    now = s.cf[G_NOW]
    s.req_i[r, R_DONE] = 1
    s.req_f[r, RF_DONE] = now
    client = s.req_i[r, R_CLIENT]
    server = s.m_i[slot, M_SRC]
    if s.cfg_i[C_PROTO] == P_CHAIN and s.req_i[r, R_KIND] == WRITE:
        server = s.req_i[r, R_TARGET]  # the tail replies; the head took the write
    s.cl_i[client, _server_col(s, r)] = server
    if s.req_i[r, R_KIND] == WRITE:
        index = s.m_i[slot, M_D]
        if index > s.ci[K_MAX_ACKED_IDX]:
            s.ci[K_MAX_ACKED_IDX] = index
        done = s.ci[K_COMPLETED] + 1
        s.ci[K_COMPLETED] = done
        if done == s.cfg_i[C_WARMUP]:
            s.cf[G_WARM_AT] = now
        stop = s.cfg_i[C_STOP_COMMITS]
        if stop > 0 and done >= stop + s.cfg_i[C_WARMUP]:
            s.ci[K_STATUS] = ST_DONE
    else:
        s.ci[K_READS] += 1
    if s.cfg_i[C_CLOSED] == 1:
        think = draw(s, D_THINK)
        if think == 0.0:
            new_request(s, client)  # no event needed
        else:
            push(s, now + think, E_CNEXT, -1, client, 0)


@njit(**_OPTS)
def _reply(s, node, r, status, leader, index, term, attempt):
    """A reply from server ``node`` to request ``r``'s client."""
    slot = new_message(s, T_CREPLY, node, s.cfg_i[C_N] + s.req_i[r, R_CLIENT], term)
    if slot < 0:
        return
    s.m_i[slot, M_A] = r
    s.m_i[slot, M_B] = status
    s.m_i[slot, M_C] = leader
    s.m_i[slot, M_D] = index
    s.m_i[slot, M_E] = attempt
    send(s, slot)


@njit(**_OPTS)
def acknowledge(s, node, r, index, term, attempt):
    """Server ``node`` acknowledges request ``r`` (a write at (index, term), or a read
    of the state after ``index``); the reply travels back to the client."""
    if s.req_i[r, R_KIND] == WRITE and s.req_i[r, R_TERM] == 0:
        s.req_i[r, R_INDEX] = index
        s.req_i[r, R_TERM] = term
        s.ci[K_ACKED] += 1
    _reply(s, node, r, REPLY_OK, node, index, term, attempt)


@njit(**_OPTS)
def redirect(s, node, r, hint, attempt):
    """Server ``node`` does not lead: tell the client whom it believes leads (or -1)."""
    _reply(s, node, r, REPLY_NOT_LEADER, hint, 0, 0, attempt)
