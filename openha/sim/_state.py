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
    """Fresh state for one run."""
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
    ci = np.zeros(L.N_CI, dtype=np.int64)
    ci[L.K_MFREE] = cap.messages
    ci[L.K_ELECTED] = -2
    cl_i = np.full((clients, 2), -1, dtype=np.int64)
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
        ci=ci,
        cf=np.zeros(L.N_CF, dtype=np.float64),
        rng=rng_state.copy(),
        h_t=np.empty(cap.heap, dtype=np.float64),
        h_s=np.empty(cap.heap, dtype=np.int64),
        h_k=np.empty(cap.heap, dtype=np.int64),
        h_n=np.empty(cap.heap, dtype=np.int64),
        h_a=np.empty(cap.heap, dtype=np.int64),
        h_b=np.empty(cap.heap, dtype=np.int64),
        m_i=np.zeros((cap.messages, L.N_MF), dtype=np.int64),
        m_e=np.zeros((cap.messages, batch, 2), dtype=np.int64),
        m_free=np.arange(cap.messages, dtype=np.int64)[::-1].copy(),
        fifo_n=np.full((endpoints, n), -np.inf),
        fifo_c=np.full((n, clients), -np.inf),
        nodes=nodes,
        cpu_q=np.zeros((n, cap.cpu_queue), dtype=np.int64),
        disk_q=np.zeros((n, cap.disk_queue, L.N_QF), dtype=np.int64),
        req_i=np.zeros((cap.requests, L.N_RI), dtype=np.int64),
        req_f=np.zeros((cap.requests, L.N_RF), dtype=np.float64),
        cl_i=cl_i,
        pend=np.zeros(cap.pending, dtype=np.int64),
        tq=np.zeros((cap.timeouts, 2), dtype=np.int64),
        tq_t=np.zeros(cap.timeouts, dtype=np.float64),
        msg_count=np.zeros(L.N_MSG_TYPES, dtype=np.int64),
        tl=np.zeros((cap.timeline, 4), dtype=np.float64),
        com_t=np.zeros(cap.log, dtype=np.int64),
        com_c=np.zeros(cap.log, dtype=np.int64),
        com_time=np.full(cap.log, np.nan),
        lead_of=np.full(cap.terms, -1, dtype=np.int64),
        ht_key=np.full(table, -1, dtype=np.int64),
        ht_val=np.zeros(table, dtype=np.int64),
        v_i=np.zeros((L.MAX_VIOLATIONS, 4), dtype=np.int64),
        v_t=np.zeros(L.MAX_VIOLATIONS, dtype=np.float64),
        v_tr=np.full((L.MAX_VIOLATIONS, TRAIL, L.N_TRAIL_F), np.nan),
        tr=np.zeros((TRAIL, L.N_TRAIL_F), dtype=np.float64),
        ni=np.zeros((n, nodes_ni), dtype=np.int64),
        nf=np.zeros((n, 4), dtype=np.float64),
        pp=np.zeros((n, n, 8), dtype=np.int64),
        pf=np.zeros((n, n, 2), dtype=np.float64),
        lt=np.zeros((n, cap.log), dtype=np.int64),
        lc=np.zeros((n, cap.log), dtype=np.int64),
    )
    return L.Sim(*(fields[name] for name in L.FIELDS))
