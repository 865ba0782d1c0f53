"""Statistics over simulated runs that several test files use."""

from __future__ import annotations

import math

import numpy as np

import openha as ha


def measured_latencies(res: ha.SimResult) -> np.ndarray:
    """Latencies of the measured writes, in completion order (what ``latency_ms`` averages)."""
    r = res.requests
    r = r[(r["kind"] == "write") & (r["done_ms"] > res.measured_from_ms)]
    return r.sort_values("done_ms")["latency_ms"].to_numpy()


def batch_means_se(x: np.ndarray, batches: int = 50) -> float:
    """Standard error of the mean of a correlated sequence, by batch means."""
    m = x[: len(x) // batches * batches].reshape(batches, -1).mean(axis=1)
    return float(m.std(ddof=1) / math.sqrt(batches))
