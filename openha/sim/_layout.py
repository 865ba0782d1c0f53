"""Array layout of the simulator's state: column numbers, codes and the state tuple.

Every kernel in :mod:`openha.sim` works on one :class:`Sim` named tuple of numpy
arrays (numba compiles it as a record of arrays and caches it). The integer
constants below name the columns; numba folds them at compile time.

Protocols keep their per-node registers in ``ni`` (int) and ``nf`` (float), their
per-peer registers in ``pp`` and ``pf`` and their log in ``lt`` (term or ballot)
and ``lc`` (command); each protocol module names the columns it uses.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from numba import njit, types
from numba.core import cgutils, imputils
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref
from numba.extending import (
    infer_getattr,
    intrinsic,
    lower_getattr_generic,
    models,
    register_model,
)

from openha._config import jit_options

# --- integer configuration, cfg_i -------------------------------------------------
C_N = 0  # nodes
C_CLIENTS = 1  # client endpoints
C_PROTO = 2
C_BATCH = 3  # entries per replication message
C_WINDOW = 4  # replication messages in flight per follower
C_GROUP = 5  # 1: one fsync covers every queued write
C_PREVOTE = 6
C_MUTANT = 7  # deliberately broken protocol variants, for the checker's own tests
C_FIFO = 8
C_CLOSED = 9  # 1 closed loop, 0 open loop
C_STOP_COMMITS = 10  # stop after this many acknowledged writes (0: no limit)
C_MAX_EVENTS = 11
C_ELECT = 12  # election experiment: stop when a new leader is heard by every live node
C_N_SCHED = 13
C_N_PART = 14
C_NOOP = 15  # a new leader appends a no-op entry
C_WARMUP = 16  # acknowledged writes before measurement starts
C_QUIET_WRITES = 17  # 1: writes complete silently (no client), used by experiments
C_RANDOM_FAULTS = 18
C_TRAIL = 19  # events kept in the trail attached to a violation
C_Q1 = 20  # Multi-Paxos / Paxos: phase-1 quorum size
C_Q2 = 21  # ... phase-2 quorum size (the leader or proposer included)
C_THRIFTY = 22  # 1: phase-2 messages go to q2 - 1 peers only
C_SYNC = 23  # primary-backup: backup acks a write waits for (0: asynchronous)
C_REPLICAS = 24  # primary-backup, chain: nodes holding the data (the rest are spares)
N_CFG_I = 25

# --- float configuration, cfg_f ---------------------------------------------------
F_STOP_TIME = 0
F_LOSS = 1
F_EMIN = 2
F_EMAX = 3
F_HB = 4
F_CLIENT_TIMEOUT = 5
F_RATE = 6  # open-loop arrival rate per ms
F_READ = 7  # read fraction
F_CRASH_AT = 8  # election experiment: leader crash time
F_RETRY = 9  # client back-off when no leader is known
F_LEASE = 10  # primary-backup, chain: lease / failure-detection time
F_BACKOFF = 11  # Paxos: most random back-off after a proposer is pre-empted
F_BACKOFF_MIN = 12  # Paxos: least random back-off
N_CFG_F = 13

# --- distributions: row i of (dk, dlo, dhi) is (kind, params[lo:hi]); kind -1 absent
D_JITTER = 0
D_CPU = 1
D_DISK = 2
D_THINK = 3
D_TTF = 4
D_TTR = 5
N_DIST = 6

# --- counters, ci -------------------------------------------------------------------
K_SEQ = 0
K_HEAP = 1
K_MFREE = 2  # entries on the free-slot stack
K_EVENTS = 3
K_STATUS = 4
K_OVERFLOW = 5  # which capacity ran out
K_ACKED = 6  # writes acknowledged
K_NREQ = 7
K_NVIOL = 8
K_TRAIL = 9  # events seen (trail ring position)
K_NTL = 10  # timeline rows
K_GCOMMIT = 11  # highest index known committed anywhere
K_MAXTERM = 12
K_NPEND = 13  # pending reads
K_ELECTED = 14  # election experiment: the new leader
K_MAX_ACKED_IDX = 15  # highest index of a write completed at its client
K_HEARD = 16  # election experiment: mask of nodes that heard the new leader
K_READS = 17  # reads answered
K_TABLE = 18  # entries in the created-entries table
K_COMPLETED = 19  # writes completed at clients
K_PART_ACTIVE = 20  # bit mask of partitions in force
K_TQ_HEAD = 21  # request timeouts: a FIFO (deadlines grow with send time)
K_TQ_LEN = 22
K_TQ_ARMED = 23  # 1 while an E_CTIMEOUT event is pending for the FIFO's head
K_LOST = 24  # acknowledged writes lost at a failover (asynchronous primary-backup)
K_PREEMPT = 25  # Paxos: proposals pre-empted by a higher ballot
K_HISTORY = 26  # asynchronous primary-backup: epoch whose history the committed log holds
K_HISTORY_TOP = 27  # ... and the highest slot applied under it
N_CI = 28

# float counters, cf
G_NOW = 0
G_ELECTED_AT = 1  # new leader elected
G_HEARD_AT = 2  # ... and heard by every live node
G_WARM_AT = 3  # measurement start
G_LOST_FROM = 4  # acknowledgement time of the earliest lost write
G_LOST_TO = 5  # ... and of the latest
N_CF = 6

# status codes
ST_RUNNING = 0
ST_DONE = 1  # a stop condition was met
ST_TIME = 2  # the time limit was reached
ST_BUDGET = 3  # the event budget ran out
ST_OVERFLOW = 4  # an array ran out: the caller grows it and runs again
ST_STUCK = 5  # nothing left to happen

# which array overflowed (K_OVERFLOW)
O_HEAP = 1
O_MSG = 2
O_CPUQ = 3
O_DISKQ = 4
O_REQ = 5
O_LOG = 6
O_TIMELINE = 7
O_TERMS = 8
O_PEND = 9
O_TABLE = 10
O_TIMEOUTS = 11

# event kinds
E_ARRIVE = 0
E_CPU = 1
E_DISK = 2
E_ETIMER = 3
E_HBTIMER = 4
E_CTIMEOUT = 5
E_CNEXT = 6
E_OPEN = 7
E_CRASH = 8
E_RECOVER = 9
E_PART_ON = 10
E_PART_OFF = 11
E_STOP = 12
E_PTIMER = 13  # protocol timer (back-off, lease, ...)
E_CRETRY = 14
N_EVENT_KINDS = 15

# message fields, m_i
M_TYPE = 0
M_SRC = 1
M_DST = 2
M_TERM = 3
M_A = 4
M_B = 5
M_C = 6
M_D = 7
M_E = 8
M_F = 9
M_G = 10
N_MF = 11

# message types shared by protocols: client request and reply
T_CREQ = 1
T_CREPLY = 2
T_TIMER = 15  # a timer expiry waiting for the node's CPU (never sent)
N_MSG_TYPES = 16

# engine per-node registers, nodes
U_UP = 0
U_INC = 1  # incarnation: bumped at each crash, stale events carry the old one
U_CPU_HEAD = 2
U_CPU_LEN = 3
U_CPU_BUSY = 4
U_DISK_HEAD = 5
U_DISK_LEN = 6
U_DISK_K = 7  # queued writes the fsync in progress covers
U_PART = 8  # bit mask of the partitions whose side this node is on
N_U = 9

# disk queue operation fields
Q_OP = 0
Q_A = 1
Q_B = 2
Q_C = 3
Q_D = 4
Q_E = 5
Q_F = 6
Q_UPTO = 7  # log index this write makes durable (without group commit)
N_QF = 8

# requests, req_i
R_CLIENT = 0
R_KIND = 1  # 0 write, 1 read
R_ATTEMPT = 2
R_TARGET = 3
R_DONE = 4
R_INDEX = 5  # log index of the acknowledged write / read index of the read
R_TERM = 6
R_FLOOR = 7  # highest acknowledged write index when the request was made
R_NEED = 8  # read: heartbeat round that confirms leadership
R_SERVER = 9  # read: leader holding it; Paxos: 1 + node holding the request (0: none)
R_LOGGED = 10  # write: index where a leader last appended it (a client-session hint)
R_LOGTERM = 11  # ... and that entry's term
N_RI = 12
# req_f
RF_SUBMIT = 0
RF_DONE = 1
N_RF = 2

# request kinds
WRITE = 0
READ = 1

# timeline kinds
TL_LEADER = 1
TL_STEP_DOWN = 2
TL_CRASH = 3
TL_RECOVER = 4
TL_PART_ON = 5
TL_PART_OFF = 6

# violation kinds
V_TWO_LEADERS = 1
V_LOG_MATCHING = 2
V_LEADER_COMPLETENESS = 3
V_STATE_MACHINE = 4
V_ACKED_LOST = 5
V_STALE_READ = 6
V_AGREEMENT = 7
V_VALIDITY = 8  # a decided value no client submitted (nor a no-op)
N_TRAIL_F = 5  # trail row: time, event kind, node, message type, sender
MAX_VIOLATIONS = 16

# protocols
P_RAFT = 1
P_MULTIPAXOS = 2
P_PAXOS = 3
P_PRIMARY_BACKUP = 4
P_CHAIN = 5

# protocol registers every protocol shares (ni columns); protocols add theirs after
N_ROLE = 0
N_TERM = 1  # term or ballot
N_VOTE = 2  # vote or promised-to
N_LEN = 3  # last log index
N_COMMIT = 4
N_APPLIED = 5
N_LEADER = 6  # believed leader, -1 unknown
N_DUR_LEN = 7  # durable prefix of the log
N_DUR_TERM = 8
N_DUR_VOTE = 9
N_SNAP_LEN = 10  # what the fsync in progress will make durable
N_SNAP_TERM = 11
N_SNAP_VOTE = 12
N_LOW = 13  # lowest truncation point since the fsync began
N_SHARED = 14

#: Per-slot registers ``ls[node, slot, col]`` of protocols that keep state per log slot
#: (Paxos: promises, proposals, decisions); other protocols get a zero-width array.
N_LS = 11

ROLE_FOLLOWER = 0
ROLE_CANDIDATE = 1
ROLE_LEADER = 2
ROLE_PRECANDIDATE = 3
ROLE_DOWN = 4


@structref.register
class SimType(types.StructRef):
    """numba type of :class:`Sim`: one pointer per call, not a copy of every array."""

    def preprocess_fields(self, fields):  # type: ignore[no-untyped-def]
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class Sim(structref.StructRefProxy):
    """All state of one run (configuration first, then engine, checks, protocol).

    Fields, all numpy arrays:

    - ``cfg_i``
    - ``cfg_f``
    - ``dk``
    - ``dlo``
    - ``dhi``
    - ``dp``
    - ``loc``: endpoint -> location
    - ``base``: one-way base delay between locations
    - ``sched``: (time, node, 1 crash | 0 recover)
    - ``parts``: (start, end)
    - ``part_mask``
    - ``ci``
    - ``cf``
    - ``rng``
    - ``h_t``
    - ``h_s``
    - ``h_k``
    - ``h_n``
    - ``h_a``
    - ``h_b``
    - ``m_i``
    - ``m_e``: (slot, entry, 0 term | 1 command)
    - ``m_free``
    - ``fifo_n``: last delivery time, endpoint -> node
    - ``fifo_c``: last delivery time, node -> client
    - ``nodes``
    - ``cpu_q``
    - ``disk_q``
    - ``req_i``
    - ``req_f``
    - ``cl_i``: client: current request, believed leader
    - ``pend``: pending reads
    - ``tq``: request timeouts waiting (request, attempt)
    - ``tq_t``: their deadlines
    - ``msg_count``
    - ``tl``: timeline rows (time, node, term, kind)
    - ``com_t``: committed log: term, command, time
    - ``com_c``
    - ``com_time``
    - ``lead_of``: leader of each term (-1 none)
    - ``ht_key``: hash table of created entries: key term << 32 | index
    - ``ht_val``: value command << 24 | previous term
    - ``v_i``: violation (kind, node, term, index)
    - ``v_t``
    - ``v_tr``
    - ``tr``: ring of recent events
    - ``ni``
    - ``nf``
    - ``pp``
    - ``pf``
    - ``lt``
    - ``lc``
    - ``dlt``: the log as it is on disk (protocols that overwrite slots in place)
    - ``dlc``
    - ``ls``: per-slot registers (node, slot, column), see :data:`N_LS`
    """


FIELDS = (
    "cfg_i",
    "cfg_f",
    "dk",
    "dlo",
    "dhi",
    "dp",
    "loc",
    "base",
    "sched",
    "parts",
    "part_mask",
    "ci",
    "cf",
    "rng",
    "h_t",
    "h_s",
    "h_k",
    "h_n",
    "h_a",
    "h_b",
    "m_i",
    "m_e",
    "m_free",
    "fifo_n",
    "fifo_c",
    "nodes",
    "cpu_q",
    "disk_q",
    "req_i",
    "req_f",
    "cl_i",
    "pend",
    "tq",
    "tq_t",
    "msg_count",
    "tl",
    "com_t",
    "com_c",
    "com_time",
    "lead_of",
    "ht_key",
    "ht_val",
    "v_i",
    "v_t",
    "v_tr",
    "tr",
    "ni",
    "nf",
    "pp",
    "pf",
    "lt",
    "lc",
    "dlt",
    "dlc",
    "ls",
)
structref.define_proxy(Sim, SimType, list(FIELDS))

#: The arrays of a finished run, for Python (fields as :data:`FIELDS`).
Arrays: Any = namedtuple("Arrays", FIELDS)  # type: ignore[misc]


@njit(**jit_options())  # type: ignore[call-overload]
def _fields(s):  # type: ignore[no-untyped-def]
    return (
        s.cfg_i,
        s.cfg_f,
        s.dk,
        s.dlo,
        s.dhi,
        s.dp,
        s.loc,
        s.base,
        s.sched,
        s.parts,
        s.part_mask,
        s.ci,
        s.cf,
        s.rng,
        s.h_t,
        s.h_s,
        s.h_k,
        s.h_n,
        s.h_a,
        s.h_b,
        s.m_i,
        s.m_e,
        s.m_free,
        s.fifo_n,
        s.fifo_c,
        s.nodes,
        s.cpu_q,
        s.disk_q,
        s.req_i,
        s.req_f,
        s.cl_i,
        s.pend,
        s.tq,
        s.tq_t,
        s.msg_count,
        s.tl,
        s.com_t,
        s.com_c,
        s.com_time,
        s.lead_of,
        s.ht_key,
        s.ht_val,
        s.v_i,
        s.v_t,
        s.v_tr,
        s.tr,
        s.ni,
        s.nf,
        s.pp,
        s.pf,
        s.lt,
        s.lc,
        s.dlt,
        s.dlc,
        s.ls,
    )


def arrays(sim: Sim) -> Any:
    """The arrays of ``sim`` (the same memory, not copies)."""
    return Arrays(*_fields(sim))


class UncountedArray(types.Array):
    """A numpy array numba does not reference-count (its meminfo is a plain pointer).

    numba counts references to every array a function touches, with a call per
    use; in the event loop those calls were half the run time. A run works on
    uncounted views while the owning arrays stay alive in Python until it ends.
    """

    def __init__(self, dtype, ndim, layout, readonly=False, aligned=True):  # type: ignore[no-untyped-def]
        super().__init__(
            dtype,
            ndim,
            layout,
            readonly=readonly,
            aligned=aligned,
            name=f"uncounted array({dtype}, {ndim}d, {layout})",
        )

    def __repr__(self) -> str:  # structref types are named (and interned) by repr
        return (
            f"UncountedArray({self.dtype!r}, {self.ndim}, '{self.layout}', "
            f"{not self.mutable}, aligned={self.aligned})"
        )


@register_model(UncountedArray)
class _UncountedArrayModel(models.StructModel):
    def __init__(self, dmm, fe_type):  # type: ignore[no-untyped-def]
        members = [
            ("meminfo", types.voidptr),  # not a MemInfoPointer: nothing to count
            ("parent", types.pyobject),
            ("nitems", types.intp),
            ("itemsize", types.intp),
            ("data", types.CPointer(fe_type.dtype)),
            ("shape", types.UniTuple(types.intp, fe_type.ndim)),
            ("strides", types.UniTuple(types.intp, fe_type.ndim)),
        ]
        super().__init__(dmm, fe_type, members)


@intrinsic
def _unowned(typingctx, arr):  # type: ignore[no-untyped-def]
    """``arr`` as an :class:`UncountedArray` (same memory, no meminfo)."""
    out_type = UncountedArray(arr.dtype, arr.ndim, arr.layout, readonly=not arr.mutable)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        src = cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0])
        out = cgutils.create_struct_proxy(sig.return_type)(context, builder)
        for name in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(out, name, getattr(src, name))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()

    return out_type(arr), codegen


@njit(**jit_options())  # type: ignore[call-overload]
def unowned(s):  # type: ignore[no-untyped-def]
    """A :class:`Sim` over ``s``'s arrays that does no reference counting."""
    return Sim(
        _unowned(s.cfg_i),
        _unowned(s.cfg_f),
        _unowned(s.dk),
        _unowned(s.dlo),
        _unowned(s.dhi),
        _unowned(s.dp),
        _unowned(s.loc),
        _unowned(s.base),
        _unowned(s.sched),
        _unowned(s.parts),
        _unowned(s.part_mask),
        _unowned(s.ci),
        _unowned(s.cf),
        _unowned(s.rng),
        _unowned(s.h_t),
        _unowned(s.h_s),
        _unowned(s.h_k),
        _unowned(s.h_n),
        _unowned(s.h_a),
        _unowned(s.h_b),
        _unowned(s.m_i),
        _unowned(s.m_e),
        _unowned(s.m_free),
        _unowned(s.fifo_n),
        _unowned(s.fifo_c),
        _unowned(s.nodes),
        _unowned(s.cpu_q),
        _unowned(s.disk_q),
        _unowned(s.req_i),
        _unowned(s.req_f),
        _unowned(s.cl_i),
        _unowned(s.pend),
        _unowned(s.tq),
        _unowned(s.tq_t),
        _unowned(s.msg_count),
        _unowned(s.tl),
        _unowned(s.com_t),
        _unowned(s.com_c),
        _unowned(s.com_time),
        _unowned(s.lead_of),
        _unowned(s.ht_key),
        _unowned(s.ht_val),
        _unowned(s.v_i),
        _unowned(s.v_t),
        _unowned(s.v_tr),
        _unowned(s.tr),
        _unowned(s.ni),
        _unowned(s.nf),
        _unowned(s.pp),
        _unowned(s.pf),
        _unowned(s.lt),
        _unowned(s.lc),
        _unowned(s.dlt),
        _unowned(s.dlc),
        _unowned(s.ls),
    )


class SimView(types.Type):
    """A :class:`Sim` seen through a plain pointer to its fields.

    Passing the structref itself to a function costs two atomic reference-count
    operations on its meminfo; the event loop makes millions of such calls. The view
    reads the same fields and is valid while the structref it came from is alive
    (``execute`` and ``election_trials`` hold it for the whole run).
    """

    def __init__(self, ref):  # type: ignore[no-untyped-def]
        self.ref = ref
        super().__init__(name=f"SimView({ref.name})")


@register_model(SimView)
class _SimViewModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):  # type: ignore[no-untyped-def]
        payload = fe_type.ref.get_data_type()
        super().__init__(dmm, fe_type, dmm.lookup(payload).get_data_type().as_pointer())


@infer_getattr
class _SimViewAttributes(AttributeTemplate):
    key = SimView

    def generic_resolve(self, typ, attr):  # type: ignore[no-untyped-def]
        return typ.ref.field_dict.get(attr)


@lower_getattr_generic(SimView)
def _sim_view_getattr(context, builder, typ, val, attr):  # type: ignore[no-untyped-def]
    data = context.make_data_helper(builder, typ.ref.get_data_type(), ref=val)
    field_type = typ.ref.field_dict[attr]
    return imputils.impl_ret_borrowed(context, builder, field_type, getattr(data, attr))


@intrinsic
def view(typingctx, sim):  # type: ignore[no-untyped-def]
    """A :class:`SimView` of structref ``sim`` (valid while ``sim`` lives)."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return structref._Utils(context, builder, sig.args[0]).get_data_pointer(args[0])

    return SimView(sim)(sim), codegen
