"""Chain replication: registers, codes and the configuration view (see ``_chain.py``).

Each node holds a view of the configuration: per node ``j`` a key ``pp[i, j, KEY]``: 0
never a member, ``2p`` a member at position ``p``, ``2p + 1`` removed from position
``p``. Members in order of position form the chain; the first is the head, the last the
tail, the other nodes are spares. Views merge by taking the larger key per node (a
join-semilattice), so changes commute and may travel in pieces: a node that changes its
view sends the changed key to every node, and a node that sees a peer's view differ (a
hash, ``VERSION``, rides on every message) exchanges whole views with it.
"""

import numpy as np
from numba import njit

from openha._config import jit_options
from openha.sim._engine import (
    new_message,
    send,
)
from openha.sim._layout import (
    C_N,
    F_HB,
    G_NOW,
    M_A,
    M_B,
    M_C,
    M_D,
    M_E,
    N_LEADER,
    N_SHARED,
)

_OPTS = jit_options()

# roles (N_ROLE)
MEMBER = 0
SPARE = 1

# registers after the shared ones
PRED = N_SHARED  # neighbours, head and tail in this node's view (-1 none)
SUCC = N_SHARED + 1
HEAD = N_SHARED + 2
TAIL = N_SHARED + 3
MEMBERS = N_SHARED + 4
VERSION = N_SHARED + 5  # hash of the view
HBGEN = N_SHARED + 6  # tick generation
JOINER = N_SHARED + 7  # tail: the spare it is copying (-1 none)
JOINER_INC = N_SHARED + 8  # ... and that spare's incarnation
JOIN_BASE = N_SHARED + 9  # ... and where the copy started
FROZEN = N_SHARED + 10  # tail: 1 while handing over to the joiner (no commits)
SPONSOR = N_SHARED + 11  # spare: the tail it asked to join (-1 none)
POLLT = N_SHARED + 12  # spare: where to ask next (-1: the tail it believes in)
DCOMMIT = N_SHARED + 13  # commit point written to disk with the log
DCOPY = N_SHARED + 14  # slots 1..DCOPY are copied to dlt/dlc
FRESH = N_SHARED + 15  # spare: 1 until the first forward of the copy it asked for
READ_FLOOR = N_SHARED + 16  # commit point the predecessor vouches for (reads wait for it)
N_NI = N_SHARED + 17
# nf
NEXT_POLL = 0  # spare: when to ask again
FREEZE_AT = 1  # tail: when it froze
LEASE_END = 2  # the read lease granted by the predecessor runs until then
HB_SENT = 3  # last heartbeat sent to the successor
# pp[i, j]: j's key in i's view, and i's stream to j (j a successor or joiner)
KEY = 0
NEXT = 1
MATCH = 2  # j's durable length, checked against i's log
INFL = 3  # acknowledged-wanted forwards in flight
EPOCH = 4  # stream generation (answers to older ones are stale)
MODE = 5
NACKED = 6  # as a receiver from j: the stream generation last refused
HB_END = 7  # as a receiver from j: j's stream end at its last heartbeat
# pf[i, j]
HEARD = 0  # last message from j (or when j became a neighbour)
CFG_AT = 1  # last time i sent j its whole view

# stream modes
LIVE = 0  # caught up: each newly durable entry goes at once, unacknowledged
CATCHUP = 1  # sending what the successor lacks, window-limited, acknowledged
PROBE = 2  # one acknowledged message to find the successor's length

# message types
T_FWD = 3
T_HB = 4
T_ACK = 5
T_CONFIG = 6
T_JOIN = 7
T_JOIN_REPLY = 8

# join replies
J_REDIRECT = 0
J_FULL = 1
J_BUSY = 2

OP_WRITE = 1

MUTANT_TAIL_ACKS_EARLY = 1
MUTANT_SKIP_COPY = 2

NS = 1e6  # lease ends travel as integer nanoseconds
NO_END = np.int64(1) << 62  # a lease without end (the head's)

_HASH = np.int64(-7046029254386353131)  # odd 64-bit constant (Fibonacci hashing)


@njit(**_OPTS)
def next_epoch(s, i, above):
    """Node i's smallest epoch above ``above``."""
    n = s.cfg_i[C_N]
    return (above // n + 1) * n + i + 1


@njit(**_OPTS)
def is_member_key(k):
    return k > 0 and k % 2 == 0


@njit(**_OPTS)
def _before(s, i, a, b):
    """In i's view, member a comes before member b."""
    ka = s.pp[i, a, KEY]
    kb = s.pp[i, b, KEY]
    return ka < kb or (ka == kb and a < b)


@njit(**_OPTS)
def derive(s, i):
    """Neighbours, head, tail, member count and hash of i's view."""
    n = s.cfg_i[C_N]
    member = is_member_key(s.pp[i, i, KEY])
    pred = -1
    succ = -1
    head = -1
    tail = -1
    count = 0
    version = np.int64(0)
    for j in range(n):
        k = s.pp[i, j, KEY]
        version += k * (np.int64(j + 1) * _HASH)
        if not is_member_key(k):
            continue
        count += 1
        if head < 0 or _before(s, i, j, head):
            head = j
        if tail < 0 or _before(s, i, tail, j):
            tail = j
        if member and j != i:
            if _before(s, i, j, i) and (pred < 0 or _before(s, i, pred, j)):
                pred = j
            if _before(s, i, i, j) and (succ < 0 or _before(s, i, j, succ)):
                succ = j
    s.ni[i, PRED] = pred
    s.ni[i, SUCC] = succ
    s.ni[i, HEAD] = head
    s.ni[i, TAIL] = tail
    s.ni[i, MEMBERS] = count
    s.ni[i, VERSION] = version
    s.ni[i, N_LEADER] = head


@njit(**_OPTS)
def announce(s, i, j, inc, floor):
    """Tell every other node j's key in i's view (for an admission, ``inc`` is the
    spare's incarnation and ``floor`` the tail's commit point; -1 and 0 otherwise)."""
    for d in range(s.cfg_i[C_N]):
        if d != i:
            slot = new_message(s, T_CONFIG, i, d, s.ni[i, VERSION])
            if slot < 0:
                return
            s.m_i[slot, M_A] = 1
            s.m_i[slot, M_B] = 0
            s.m_i[slot, M_C] = 1
            s.m_i[slot, M_D] = inc
            s.m_i[slot, M_E] = floor
            s.m_e[slot, 0, 0] = j
            s.m_e[slot, 0, 1] = s.pp[i, j, KEY]
            send(s, slot)


@njit(**_OPTS)
def send_config(s, i, d, flag):
    """i's whole view to d, in messages of as many keys as a message holds; with
    ``flag`` d answers with its own if the views still differ."""
    n = s.cfg_i[C_N]
    width = s.m_e.shape[1]
    s.pf[i, d, CFG_AT] = s.cf[G_NOW]
    j = 0
    while j < n:
        count = min(width, n - j)
        slot = new_message(s, T_CONFIG, i, d, s.ni[i, VERSION])
        if slot < 0:
            return
        s.m_i[slot, M_A] = count
        s.m_i[slot, M_B] = flag
        s.m_i[slot, M_C] = 1 if j + count >= n else 0
        s.m_i[slot, M_D] = -1
        for e in range(count):
            s.m_e[slot, e, 0] = j + e
            s.m_e[slot, e, 1] = s.pp[i, j + e, KEY]
        send(s, slot)
        j += count


@njit(**_OPTS)
def mismatch(s, i, src):
    """src's view differs from i's: exchange views (at most once a heartbeat)."""
    if s.cf[G_NOW] - s.pf[i, src, CFG_AT] >= s.cfg_f[F_HB]:
        send_config(s, i, src, 1)
