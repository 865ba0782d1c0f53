"""Allocate a :class:`~openha.sim._layout.Sim` for one run (Python side).

Capacities start from estimates; a run that fills one stops with ``ST_OVERFLOW`` and
the caller doubles that capacity and runs again from the same seed, which gives the
same result as if the arrays had been big enough from the start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from openha.sim import _layout as L

TRAIL = 32  # events kept before a violation


@dataclass(frozen=True)
class Capacity:
    """Sizes of the arrays a run may fill."""

    heap: int = 4096
    messages: int = 4096
    cpu_queue: int = 1024
    disk_queue: int = 1024
    requests: int = 4096
    log: int = 4096
    timeline: int = 256
    terms: int = 256
    pending: int = 256
    table: int = 8192
    timeouts: int = 4096

    def grow(self, which: int) -> Capacity:
        """This capacity with array ``which`` (an ``O_*`` code) doubled."""
        field = {
            L.O_HEAP: "heap",
            L.O_MSG: "messages",
            L.O_CPUQ: "cpu_queue",
            L.O_DISKQ: "disk_queue",
            L.O_REQ: "requests",
            L.O_LOG: "log",
            L.O_TIMELINE: "timeline",
            L.O_TERMS: "terms",
            L.O_PEND: "pending",
            L.O_TABLE: "table",
            L.O_TIMEOUTS: "timeouts",
        }[which]
        return replace(self, **{field: 2 * getattr(self, field)})


@dataclass(frozen=True)
class Config:
    """Everything a run reads: the arrays of ``_layout``'s configuration section."""

    cfg_i: np.ndarray
    cfg_f: np.ndarray
    dk: np.ndarray
    dlo: np.ndarray
    dhi: np.ndarray
    dp: np.ndarray
    loc: np.ndarray
    base: np.ndarray
    sched: np.ndarray
    parts: np.ndarray
    part_mask: np.ndarray


def allocate(cfg: Config, cap: Capacity, rng_state: np.ndarray, nodes_ni: int) -> L.Sim:
    """Arrays for one run, sized by ``cap`` (``_run.reset`` gives them their values)."""
    n = int(cfg.cfg_i[L.C_N])
    clients = max(1, int(cfg.cfg_i[L.C_CLIENTS]))
    endpoints = n + clients
    batch = max(1, int(cfg.cfg_i[L.C_BATCH]))
    table = 1 << max(4, int(cap.table - 1).bit_length())
    nodes = np.zeros((n, L.N_U), dtype=np.int64)
    for p, mask in enumerate(cfg.part_mask):
        for i in range(n):
            if (int(mask) >> i) & 1:
                nodes[i, L.U_PART] |= 1 << p
    # Values are set by _run.reset at the start of every run; arrays it does not list
    # are written before they are read. Only the partition masks are set here.

    def empty(shape: int | tuple[int, ...], dtype: type = np.int64) -> np.ndarray:
        return np.empty(shape, dtype=dtype)

    fields = dict(
        cfg_i=cfg.cfg_i.copy(),
        cfg_f=cfg.cfg_f.copy(),
        dk=cfg.dk,
        dlo=cfg.dlo,
        dhi=cfg.dhi,
        dp=cfg.dp,
        loc=cfg.loc,
        base=cfg.base,
        sched=cfg.sched,
        parts=cfg.parts,
        part_mask=cfg.part_mask,
        ci=empty(L.N_CI),
        cf=empty(L.N_CF, np.float64),
        rng=rng_state.copy(),
        h_t=empty(cap.heap, np.float64),
        h_s=empty(cap.heap),
        h_k=empty(cap.heap),
        h_n=empty(cap.heap),
        h_a=empty(cap.heap),
        h_b=empty(cap.heap),
        m_i=empty((cap.messages, L.N_MF)),
        m_e=empty((cap.messages, batch, 2)),
        m_free=empty(cap.messages),
        fifo_n=empty((endpoints, n), np.float64),
        fifo_c=empty((n, clients), np.float64),
        nodes=nodes,
        cpu_q=empty((n, cap.cpu_queue)),
        disk_q=empty((n, cap.disk_queue, L.N_QF)),
        req_i=empty((cap.requests, L.N_RI)),
        req_f=empty((cap.requests, L.N_RF), np.float64),
        cl_i=empty((clients, 3)),
        pend=empty(cap.pending),
        tq=empty((cap.timeouts, 2)),
        tq_t=empty(cap.timeouts, np.float64),
        msg_count=empty(L.N_MSG_TYPES),
        tl=empty((cap.timeline, 4), np.float64),
        com_t=empty(cap.log),
        com_c=empty(cap.log),
        com_time=empty(cap.log, np.float64),
        lead_of=empty(cap.terms),
        ht_key=empty(table),
        ht_val=empty(table),
        v_i=empty((L.MAX_VIOLATIONS, 4)),
        v_t=empty(L.MAX_VIOLATIONS, np.float64),
        v_tr=empty((L.MAX_VIOLATIONS, TRAIL, L.N_TRAIL_F), np.float64),
        tr=empty((TRAIL, L.N_TRAIL_F), np.float64),
        ni=empty((n, nodes_ni)),
        nf=empty((n, 4), np.float64),
        pp=empty((n, n, 8)),
        pf=empty((n, n, 2), np.float64),
        lt=empty((n, cap.log)),
        lc=empty((n, cap.log)),
        dlt=empty((n, cap.log)),
        dlc=empty((n, cap.log)),
        ls=empty((n, cap.log, L.N_LS if int(cfg.cfg_i[L.C_PROTO]) == L.P_PAXOS else 0)),
    )
    return L.Sim(*(fields[name] for name in L.FIELDS))
