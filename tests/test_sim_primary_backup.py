"""Primary-backup replication on the message-level simulator: against the analytic
leader model, under random faults, with a deliberately broken variant the safety checker
must catch, and the failover behaviour that sets it apart (asynchronous data loss,
recovery time).

- Steady state (W1-shaped: 0.1 ms + Exponential(0.1 ms) FIFO links, 0.01 ms of CPU per
  received message, 0.02 ms fsync, ``batch=1``, no window, a stable primary). Every
  backup receives and acknowledges every write, so the primary's CPU serves 1 request +
  (n - 1) acks per write in both modes: the ceiling is ``leader_model(n, quorum=...)``'s
  1 / (n x 0.01 ms) and ``messages_per_commit("primary-backup", n)`` = 2 + 2(n - 1).
  Unloaded latency: synchronous with every backup is ``leader_model(n, quorum=n)``
  (exact for a constant CPU time: the commit waits for every ack, so no late ack holds
  the CPU when the next request comes); asynchronous is the closed form D + C + F + D
  (request hop, the primary's CPU, its fsync, reply hop) = ``leader_model(n, quorum=1)``,
  measured with a think time long enough that the backups' acks of one write have been
  served before the next request arrives. Reads under the lease: D + C + D.
- Safety: random fault schedules (``tests/sim_faults.fault_run``); synchronous runs must
  show no violation at all, asynchronous runs none either (their lost writes are counted,
  not flagged).
- The checker: ``ack-before-backups`` is caught.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import openha as ha
from tests.openha_errors import raises_openha_error as _raises
from tests.sim_faults import fault_run
from tests.sim_stats import batch_means_se, measured_latencies

ROOT = Path(__file__).resolve().parents[1]
K_SE = 4.0  # statistical tolerance in standard errors (fixed seeds: deterministic)

# --------------------------------------------------------------------------- steady state
SHIFT_MS = 0.1
JITTER_MS = 0.1
CPU_MS = 0.01
FSYNC_MS = 0.02
DELAY = ha.dist.Exponential(mean=JITTER_MS, shift=SHIFT_MS)
WARMUP = 1_000
SATURATING_CLIENTS = 128  # n = 3 needs X x R = 33 writes/ms x ~1 ms in flight, and more


def w1_cluster(n: int) -> ha.Cluster:
    return ha.Cluster(
        n=n, network=ha.Network(delay=DELAY, fifo=True), cpu_ms=CPU_MS, fsync_ms=FSYNC_MS
    )


def model(n: int, quorum: int) -> ha.models.LeaderModel:
    return ha.models.leader_model(n, cpu_ms=CPU_MS, fsync_ms=FSYNC_MS, delay=DELAY, quorum=quorum)


@functools.cache
def steady(n: int, sync: bool, clients: int, commits: int, seed: int, think_ms: float = 0.0,
           sync_acks: int | None = None, reads: float = 0.0) -> ha.SimResult:  # fmt: skip
    pb = ha.PrimaryBackup(sync=sync, sync_acks=sync_acks, batch=1, window=None)
    return ha.simulate(
        pb,
        w1_cluster(n),
        ha.ClosedLoop(clients=clients, think_ms=think_ms, reads=reads),
        stop=ha.Stop(commits=commits),
        warmup=WARMUP,
        seed=seed,
    )


@pytest.mark.parametrize("sync", [True, False])
@pytest.mark.parametrize("n", [3, 5, 7])
def test_saturated_primary_cpu_and_messages_per_commit(n, sync):
    commits = 20_000
    res = steady(n, sync, SATURATING_CLIENTS, commits, seed=1)
    assert res.status == "stop condition met" and res.violations == ()
    ceiling = model(n, n if sync else 1).throughput_ceiling_per_s
    assert ceiling == pytest.approx(1000.0 / (n * CPU_MS))
    assert model(n, n if sync else 1).bottleneck == "leader CPU"
    assert res.throughput_per_s == pytest.approx(ceiling, rel=0.01)
    assert res.throughput_per_s <= ceiling * 1.005  # a bound, up to edge effects
    # Little's law: every client always has one request outstanding.
    clients = SATURATING_CLIENTS
    assert res.throughput_per_s / 1000.0 * res.latency_ms() == pytest.approx(clients, rel=0.01)
    # Every committed write cost 2 + 2(n - 1) messages; the no-op has no client messages,
    # and each client's last request (and a first redirect) may be uncommitted at the end.
    expected = ha.models.messages_per_commit("primary-backup", n)
    assert expected == 2 + 2 * (n - 1) == model(n, n).messages_per_commit
    c = len(res.commits)
    assert expected - 2 / c <= res.messages_per_commit <= expected + clients * (expected + 2) / c
    assert res.messages["Takeover"] == res.messages["Promise"] == res.messages["Handover"] == 0


@pytest.mark.parametrize("n", [3, 5, 7])
def test_unloaded_sync_latency_against_leader_model(n):
    res = steady(n, True, 1, 100_000, seed=3)
    lat = measured_latencies(res)
    assert res.throughput_per_s / 1000.0 * res.latency_ms() == pytest.approx(1.0, rel=0.01)
    m = model(n, n)  # every backup's ack is needed
    tol = K_SE * batch_means_se(lat)
    assert tol < 0.004  # 0.4 % of the mean: one extra CPU service (0.01 ms) shows
    assert lat.mean() == pytest.approx(m.latency_ms(), abs=tol)
    fastest = 4 * SHIFT_MS + 2 * CPU_MS + n * CPU_MS - CPU_MS + FSYNC_MS  # all acks served
    assert lat.min() >= fastest - 1e-9


@pytest.mark.parametrize("n", [3, 5, 7])
def test_unloaded_async_latency_closed_form(n):
    """Acknowledged after the primary's own fsync: D + C + F + D, whatever n."""
    think = 2.0  # the n - 1 acks arrive within ~0.5 ms: served before the next request
    res = steady(n, False, 1, 100_000, seed=3, think_ms=think)
    lat = measured_latencies(res)
    closed_form = 2 * (SHIFT_MS + JITTER_MS) + CPU_MS + FSYNC_MS
    assert model(n, 1).latency_ms() == pytest.approx(closed_form, rel=1e-6)  # its lattice
    tol = K_SE * batch_means_se(lat)
    assert tol < 0.003
    assert lat.mean() == pytest.approx(closed_form, abs=tol)
    assert lat.min() >= 2 * SHIFT_MS + CPU_MS + FSYNC_MS - 1e-9
    assert res.throughput_per_s / 1000.0 * (res.latency_ms() + think) == pytest.approx(
        1.0, rel=0.01
    )


@pytest.mark.parametrize("sync_acks", [1, 2])
def test_fewer_sync_acks_every_backup_still_acks(sync_acks):
    """sync_acks < backups: each write still goes to (and is acked by) all 4 backups, so
    the messages and the CPU ceiling do not change; the latency is that of a quorum of
    sync_acks + 1, plus at most the late acks of the previous write on the CPU."""
    n = 5
    sat = steady(n, True, SATURATING_CLIENTS, 20_000, seed=1, sync_acks=sync_acks)
    m = model(n, sync_acks + 1)
    assert sat.throughput_per_s == pytest.approx(m.throughput_ceiling_per_s, rel=0.01)
    assert m.throughput_ceiling_per_s == model(n, n).throughput_ceiling_per_s
    expected = ha.models.messages_per_commit("primary-backup", n)
    c = len(sat.commits)
    assert expected - 2 / c <= sat.messages_per_commit <= expected + 128 * (expected + 2) / c
    one = steady(n, True, 1, 100_000, seed=3, sync_acks=sync_acks)
    lat = measured_latencies(one)
    tol = K_SE * batch_means_se(lat)
    late = (n - 1 - sync_acks) * CPU_MS
    assert m.latency_ms() - tol <= lat.mean() <= m.latency_ms() + late + tol
    assert lat.mean() < model(n, n).latency_ms()  # fewer acks to wait for


@pytest.mark.parametrize("sync", [True, False])
def test_lease_reads_cost_one_round_trip_to_the_primary(sync):
    """A read under the lease is answered at once: D + C + D, no backup involved. Reads
    and writes alternate at random; the frame shows no read older than a write
    acknowledged before the read began."""
    res = steady(5, sync, 1, 40_000, seed=5, reads=0.5, think_ms=0.0 if sync else 2.0)
    assert res.violations == ()
    r = res.requests
    reads = r[(r["kind"] == "read") & (r["done_ms"] > res.measured_from_ms)]
    reads = reads.sort_values("done_ms")["latency_ms"].to_numpy()
    closed_form = 2 * (SHIFT_MS + JITTER_MS) + CPU_MS
    assert reads.min() >= 2 * SHIFT_MS + CPU_MS - 1e-9
    assert reads.mean() == pytest.approx(closed_form, abs=K_SE * batch_means_se(reads))
    done = r[r["done_ms"].notna()]
    writes = done[done["kind"] == "write"].sort_values("done_ms")
    acked = np.maximum.accumulate(writes["index"].to_numpy())
    rd = done[done["kind"] == "read"]
    k = np.searchsorted(writes["done_ms"].to_numpy(), rd["submit_ms"].to_numpy(), side="left")
    floor = np.where(k > 0, acked[np.maximum(k - 1, 0)], 0)
    assert (rd["index"].to_numpy() >= floor).all()


# --------------------------------------------------------------------------- safety under faults
def pb_for_faults(sync: bool, mutant: str = "") -> Callable[[np.random.Generator, int], object]:
    """Primary-backup as the fault schedules run it: a lease of 10-20 ms (the election
    timeouts of the other protocols' schedules), 1 .. n - 1 backups (n - 1 in 70 % of
    runs), any number of sync acks, several heartbeat, batch and window settings."""

    def make(rng: np.random.Generator, n: int) -> ha.PrimaryBackup:
        backups = int(rng.integers(1, n)) if rng.random() < 0.3 else n - 1
        lease = float(rng.uniform(10.0, 20.0))
        return ha.PrimaryBackup(
            sync=sync,
            backups=backups,
            sync_acks=int(rng.integers(1, backups + 1)) if sync else None,
            lease_ms=lease,
            heartbeat_ms=lease / float(rng.choice([3.0, 5.0, 8.0])),
            batch=int(rng.choice([1, 8, 64])),
            window=[None, 1, 8][int(rng.integers(3))],
            mutant=mutant,
        )

    return make


SYNC_CHUNKS = 3
SCHEDULES_PER_CHUNK = 1_000  # 3,000 synchronous schedules, 1,000 asynchronous, 500 slow disks


def _fault_sweep(seeds: range, sync: bool, **kw: object) -> tuple[dict, pd.DataFrame]:
    unsafe, rows = {}, []
    for seed in seeds:
        res = fault_run(seed, pb_for_faults(sync), **kw)  # type: ignore[arg-type]
        assert res.status == "time limit reached"
        if res.violations:
            unsafe[seed] = [str(v) for v in res.violations[:3]]
        tl = res.timeline
        rows.append(
            {
                "commits": len(res.commits),
                "failovers": int((tl["event"] == "leader").sum()) - 1,
                "handovers": res.messages["Handover"],
                "lost": res.lost_writes,
                "rpo_ms": res.rpo_ms,
                "reads": res.reads_per_s,
            }
        )
    return unsafe, pd.DataFrame(rows)


@pytest.mark.parametrize("chunk", range(SYNC_CHUNKS))
def test_sync_no_violation_under_random_faults(chunk):
    seeds = range(chunk * SCHEDULES_PER_CHUNK, (chunk + 1) * SCHEDULES_PER_CHUNK)
    unsafe, runs = _fault_sweep(seeds, sync=True, strict=chunk % 2 == 1)
    assert unsafe == {}
    assert (runs["lost"] == 0).all() and (runs["rpo_ms"] == 0.0).all()
    # progress, and the schedules exercise failover, hand-over and reads
    assert (runs["commits"] > 0).mean() >= 0.95
    assert runs["commits"].median() >= 50
    assert (runs["failovers"] > 0).mean() >= 0.5
    assert (runs["handovers"] > 0).mean() >= 0.1
    assert (runs["reads"] > 0).mean() >= 0.9


def test_sync_no_violation_under_random_faults_with_slow_disks():
    unsafe, runs = _fault_sweep(range(500), sync=True, fsync_ms=(0.5, 2.0))
    assert unsafe == {}
    assert (runs["lost"] == 0).all()


def test_async_loses_writes_but_breaks_nothing_else_under_random_faults():
    """Asynchronous runs lose acknowledged writes at failovers (counted, with a finite,
    positive RPO) but show no violation: no two primaries in an epoch, log matching,
    one history per epoch."""
    unsafe, runs = _fault_sweep(range(10_000, 11_000), sync=False)
    assert unsafe == {}
    lossy = runs[runs["lost"] > 0]
    assert len(lossy) >= 0.2 * len(runs)  # partitions and crashes make failovers lossy
    assert np.isfinite(lossy["rpo_ms"]).all() and (lossy["rpo_ms"] > 0).all()
    assert (runs.loc[runs["lost"] == 0, "rpo_ms"] == 0.0).all()
    assert (runs["commits"] > 0).mean() >= 0.95


# --------------------------------------------------------------------------- the checker
def cut_off_then_crash(seed: int, pb: ha.PrimaryBackup, strict: bool = False) -> ha.SimResult:
    """3 nodes, 4 clients, 0.1 ms links. The backups (nodes 1, 2) are cut off from the
    primary (node 0) from ``cut`` until after the primary crashes for good at ``crash``
    (within the lease, so no takeover happens meanwhile); clients reach everyone. Times
    jittered by seed."""
    rng = np.random.default_rng(seed)
    cut = float(rng.uniform(20.0, 40.0))
    crash = cut + float(rng.uniform(5.0, 15.0))
    faults = ha.Faults(
        partitions=[ha.Partition(nodes=(1, 2), start_ms=cut, end_ms=crash + 1.0)],
        crashes=[ha.Crash(node=0, at_ms=crash)],
    )
    cluster = ha.Cluster(n=3, network=ha.Network(delay=0.1), cpu_ms=CPU_MS, fsync_ms=FSYNC_MS)
    return ha.simulate(
        pb,
        cluster,
        ha.ClosedLoop(clients=4, timeout_ms=5.0, retry_ms=1.0),
        faults=faults,
        stop=ha.Stop(time_ms=crash + 60.0),
        seed=seed,
        strict=strict,
    )


CUT_LEASE_MS = 20.0
SYNC_PB = ha.PrimaryBackup(sync_acks=1, lease_ms=CUT_LEASE_MS)
MUTANT_PB = ha.PrimaryBackup(sync_acks=1, lease_ms=CUT_LEASE_MS, mutant="ack-before-backups")


def test_checker_catches_ack_before_backups():
    # the generic schedules catch it within a few seeds ...
    make = pb_for_faults(True, "ack-before-backups")
    caught = next((s for s in range(200) if fault_run(s, make).violations), None)
    assert caught is not None
    assert fault_run(caught, pb_for_faults(True)).violations == ()
    # ... and on the schedule built for it, every seed: the writes it acknowledged while
    # the backups were cut off are gone after the primary's crash.
    for seed in range(5):
        res = cut_off_then_crash(seed, MUTANT_PB)
        # The new primary lacks them (leader completeness), applies other writes in their
        # slots (state machine safety) and at the end they are missing (counted; their
        # "acknowledged write lost" violations come after the 16 the result keeps).
        v = res.violations[0]
        crash = res.timeline.loc[res.timeline["event"] == "crash", "time_ms"].iloc[0]
        assert v.kind == "leader completeness" and v.time_ms > crash
        assert {"leader completeness", "state machine safety"} <= {x.kind for x in res.violations}
        assert res.lost_writes > 0
        assert list(v.trail.columns) == ["time_ms", "event", "node", "message", "from"]
        msg = _raises(lambda s=seed: cut_off_then_crash(s, MUTANT_PB, strict=True), "safety")
        assert str(res.violations[0]) in msg
        assert cut_off_then_crash(seed, SYNC_PB).violations == ()


# --------------------------------------------------------------------------- failover
def test_async_failover_loses_the_writes_the_backups_never_got():
    """Asynchronously, the primary acknowledges every write while its backups are cut
    off; when it crashes a backup takes over without them. Every write acknowledged
    (at the client) more than 1 ms after the cut is lost, none acknowledged before it
    is, and the RPO spans the cut: from about ``cut`` to about ``crash``. The same
    schedule synchronously loses nothing: no write is acknowledged during the cut."""
    lease = CUT_LEASE_MS
    for seed in range(5):
        rng = np.random.default_rng(seed)
        cut = float(rng.uniform(20.0, 40.0))
        crash = cut + float(rng.uniform(5.0, 15.0))
        res = cut_off_then_crash(seed, ha.PrimaryBackup(sync=False, lease_ms=lease))
        assert res.violations == ()
        w = res.requests[res.requests["kind"] == "write"]
        done = w["done_ms"]
        surely_lost = int(((done > cut + 1.0) & (done <= crash)).sum())
        maybe_lost = int(((done > cut) & (done <= crash + 1.0)).sum())
        assert surely_lost >= 10  # 4 clients x (5-15 ms) / ~0.45 ms
        assert surely_lost <= res.lost_writes <= maybe_lost
        assert crash - cut - 1.0 <= res.rpo_ms <= crash - cut + 1.0
        # the backups took over after a lease of silence
        leaders = res.timeline[res.timeline["event"] == "leader"]
        assert leaders["node"].iloc[-1] in (1, 2)
        assert cut + lease - 1.0 <= leaders["time_ms"].iloc[-1] <= cut + lease + 1.0
        assert (done > leaders["time_ms"].iloc[-1]).sum() > 0  # writes resume

        sync = cut_off_then_crash(seed, SYNC_PB)
        assert sync.violations == () and sync.lost_writes == 0 and sync.rpo_ms == 0.0
        sd = sync.requests.loc[sync.requests["kind"] == "write", "done_ms"]
        assert ((sd > cut + 1.0) & (sd <= crash)).sum() == 0
        assert (sd > crash).sum() > 0


def test_sync_primary_crash_loses_nothing_and_recovers_within_the_bound():
    """5 nodes, 4 backups, 2 sync acks (so a takeover needs 3 answers); constant 0.1 ms
    links; the primary crashes for good under load. Node 1 heard it within a message of
    the crash and times out a lease later; the takeover (write the epoch, ask, promises
    written and sent, maybe a hand-over) and the no-op's commit take under 1 ms. Clients
    that sent to the dead primary retry after their timeout (5 ms), so the first write a
    client sees acknowledged by the new primary comes within lease + timeout + back-off
    + 3 ms of the crash."""
    lease, hb, timeout, retry, crash = 20.0, 4.0, 5.0, 1.0, 50.0
    cluster = ha.Cluster(n=5, network=ha.Network(delay=0.1), cpu_ms=CPU_MS, fsync_ms=FSYNC_MS)
    for seed in range(3):
        res = ha.simulate(
            ha.PrimaryBackup(sync_acks=2, lease_ms=lease, heartbeat_ms=hb),
            cluster,
            ha.ClosedLoop(clients=4, timeout_ms=timeout, retry_ms=retry),
            faults=ha.Faults(crashes=[ha.Crash(node=0, at_ms=crash)]),
            stop=ha.Stop(time_ms=150.0),
            seed=seed,
        )
        assert res.violations == () and res.lost_writes == 0 and res.rpo_ms == 0.0
        tl = res.timeline
        new = tl[(tl["event"] == "leader") & (tl["time_ms"] > crash)].iloc[0]
        assert new["node"] != 0 and new["term"] > 1
        assert lease - 1.0 <= new["time_ms"] - crash <= lease + 1.0
        first = res.commits.loc[res.commits["term"] == new["term"], "time_ms"].min()
        assert first - new["time_ms"] <= 1.0  # the no-op commits at once: no lease to wait out
        rto = res.recovery_ms(crash)
        assert lease - 1.0 <= rto <= lease + timeout + retry + 3.0
        # writes flow again at least half as fast as before the crash (2 of 3 live
        # backups' acks instead of 2 of 4)
        t = res.commits["time_ms"]
        before = ((t > 10.0) & (t <= crash)).sum() / (crash - 10.0)
        after = (t > new["time_ms"] + 10.0).sum() / (150.0 - new["time_ms"] - 10.0)
        assert after >= 0.5 * before


def test_spares_stay_idle_and_the_replica_set_starts_at_the_leader():
    """n = 5 with 2 backups after node 3: replicas 3, 4, 0; nodes 1, 2 are spares (no
    message goes to them but clients' requests, which they redirect), and only replicas
    ever lead, through two failovers."""
    cluster = ha.Cluster(n=5, network=ha.Network(delay=0.1), cpu_ms=CPU_MS, fsync_ms=FSYNC_MS)
    pb = ha.PrimaryBackup(backups=2, sync_acks=1, lease_ms=10.0)
    calm = ha.simulate(pb, cluster, ha.ClosedLoop(clients=4), stop=ha.Stop(commits=5_000),
                       warmup=500, seed=1, leader=3)  # fmt: skip
    expected = 2 + 2 * 2
    c = len(calm.commits)
    assert expected - 2 / c <= calm.messages_per_commit <= expected + 4 * (expected + 2) / c
    faults = ha.Faults(
        crashes=[ha.Crash(node=3, at_ms=20.0, recover_ms=50.0), ha.Crash(node=4, at_ms=80.0)]
    )
    res = ha.simulate(pb, cluster, ha.ClosedLoop(clients=4, timeout_ms=5.0, retry_ms=1.0),
                      faults=faults, stop=ha.Stop(time_ms=150.0), seed=2, leader=3)  # fmt: skip
    assert res.violations == ()
    leaders = res.timeline.loc[res.timeline["event"] == "leader", "node"].tolist()
    assert leaders[0] == 3 and len(leaders) >= 3 and set(leaders) <= {3, 4, 0}
    assert (res.commits["time_ms"] > 100.0).any()


# --------------------------------------------------------------------------- determinism
def fingerprint(seed: int, sync: bool = True) -> str:
    """SHA-256 of everything a run reports, for a run with faults, loss and reads."""
    faults = ha.Faults(
        crashes=[ha.Crash(node=1, at_ms=40.0, recover_ms=90.0), ha.Crash(node=0, at_ms=120.0)],
        partitions=[ha.Partition(nodes=(2, 3), start_ms=60.0, end_ms=100.0)],
    )
    cluster = ha.Cluster(
        n=5,
        network=ha.Network(delay=ha.dist.Exponential(mean=0.2, shift=0.1), fifo=False, loss=0.02),
        cpu_ms=ha.dist.Exponential(mean=0.01),
        fsync_ms=0.05,
    )
    res = ha.simulate(
        ha.PrimaryBackup(sync=sync, sync_acks=2 if sync else None, lease_ms=15.0),
        cluster,
        ha.ClosedLoop(clients=4, reads=0.2, think_ms=ha.dist.Exponential(mean=0.1)),
        faults=faults,
        stop=ha.Stop(time_ms=200.0),
        seed=seed,
    )
    h = hashlib.sha256()
    for frame in (res.requests, res.commits, res.timeline):
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    h.update(repr((res.status, res.events, res.sim_time_ms, sorted(res.messages.items()))).encode())
    h.update(repr((res.lost_writes, res.rpo_ms, [str(v) for v in res.violations])).encode())
    return h.hexdigest()


def test_same_seed_same_run_in_process_and_in_a_new_process():
    a, b = fingerprint(7), fingerprint(7)
    assert a == b
    assert fingerprint(7, sync=False) == fingerprint(7, sync=False) != a
    code = "from tests.test_sim_primary_backup import fingerprint; print(fingerprint(7))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == a
    assert fingerprint(8) != a


# --------------------------------------------------------------------------- bad input
THREE = ha.Cluster(n=3)


def _simulate(pb: Callable[[], ha.PrimaryBackup], cluster: ha.Cluster = THREE):
    return lambda: ha.simulate(pb(), cluster, ha.ClosedLoop(), stop=ha.Stop(commits=10))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: ha.PrimaryBackup(backups=0), ["backups must be an integer in [1, inf]", "got 0"]),
        (
            _simulate(lambda: ha.PrimaryBackup(backups=3)),
            ["backups must be an integer in [1, n - 1 = 2]", "got 3"],
        ),
        (
            _simulate(lambda: ha.PrimaryBackup(), ha.Cluster(n=1)),
            ["primary-backup needs n >= 2", "got n=1"],
        ),
        (lambda: ha.PrimaryBackup(sync_acks=0), ["sync_acks must be an integer in [1, inf]", "0"]),
        (
            lambda: ha.PrimaryBackup(backups=2, sync_acks=3),
            ["sync_acks must be an integer in [1, 2]", "got 3"],
        ),
        (
            _simulate(lambda: ha.PrimaryBackup(sync_acks=3)),
            ["sync_acks must be an integer in [1, backups = 2]", "got 3"],
        ),
        (
            lambda: ha.PrimaryBackup(sync=False, sync_acks=1),
            ["sync_acks applies to synchronous replication only", "sync_acks=1", "sync=False"],
        ),
        (lambda: ha.PrimaryBackup(lease_ms=0.0), ["lease_ms must be a finite number > 0", "0.0"]),
        (lambda: ha.PrimaryBackup(lease_ms=-5.0), ["lease_ms", "got -5.0"]),
        (
            lambda: ha.PrimaryBackup(lease_ms=10.0, heartbeat_ms=10.0),
            ["heartbeat_ms must be < lease_ms (10.0)", "got 10.0"],
        ),
        (lambda: ha.PrimaryBackup(heartbeat_ms=0.0), ["heartbeat_ms", "> 0", "got 0.0"]),
        (lambda: ha.PrimaryBackup(sync=1), ["sync must be True or False", "got 1"]),
        (lambda: ha.PrimaryBackup(batch=0), ["batch must be an integer", "got 0"]),
        (lambda: ha.PrimaryBackup(window=0), ["window must be an integer", "got 0"]),
        (lambda: ha.PrimaryBackup(mutant="nope"), ["mutant must be one of", "'nope'"]),
    ],
)
def test_bad_input_raises_openha_error_before_any_kernel_runs(make, words, monkeypatch):
    def no_kernel(*args: object) -> None:
        raise AssertionError("a kernel ran")

    monkeypatch.setattr(importlib.import_module("openha.sim.simulate"), "execute", no_kernel)
    _raises(make, *words)


def test_other_protocols_report_no_loss_measure():
    res = ha.simulate(ha.Raft(), THREE, ha.ClosedLoop(), stop=ha.Stop(commits=10), seed=1)
    assert res.lost_writes == 0 and math.isnan(res.rpo_ms)
