"""Result types of quorum analysis."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from openha.nines import Nines

__all__ = ["Availability", "LatencyDistribution"]


@dataclass(frozen=True)
class Availability(Nines):
    """Availability of an operation: P(some quorum of it is up).

    ``unavailability`` is computed directly (never as ``1 - availability``), so it keeps
    full relative precision near zero. ``nines = -log10(unavailability)``. ``ci`` is the
    confidence interval of the unavailability when it was sampled (Clopper-Pearson).
    """

    unavailability: float
    availability: float
    method: str
    op: str
    ci: tuple[float, float] | None = None
    confidence: float | None = None
    trials: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """One tidy row: op, method, unavailability, availability, nines, ci bounds, trials."""
        lo, hi = self.ci if self.ci is not None else (math.nan, math.nan)
        return pd.DataFrame(
            {
                "op": [self.op],
                "method": [self.method],
                "unavailability": [self.unavailability],
                "availability": [self.availability],
                "nines": [self.nines],
                "downtime_min_per_year": [self.downtime_min_per_year],
                "unavailability_ci_low": [lo],
                "unavailability_ci_high": [hi],
                "trials": [self.trials],
            }
        )

    def __repr__(self) -> str:
        ci = ""
        if self.ci is not None:
            ci = f", ci=({self.ci[0]:.3g}, {self.ci[1]:.3g})"
        return (
            f"Availability(op={self.op!r}, unavailability={self.unavailability:.6g}, "
            f"nines={self.nines:.3f}, method={self.method!r}{ci})"
        )


@dataclass(frozen=True)
class LatencyDistribution:
    """Distribution of the time (ms) until a quorum has answered.

    ``quantiles_ms`` maps each requested quantile to its value; for sampled results
    ``quantiles_ci_ms`` holds distribution-free (order-statistic) confidence intervals
    and ``mean_ci_ms`` a normal-theory interval of the mean.
    """

    op: str
    method: str
    mean_ms: float
    quantiles_ms: dict[float, float]
    mean_ci_ms: tuple[float, float] | None = None
    quantiles_ci_ms: dict[float, tuple[float, float]] = field(default_factory=dict)
    trials: int | None = None

    def quantile(self, q: float) -> float:
        """The latency (ms) at a quantile that was requested."""
        return self.quantiles_ms[q]

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows: statistic ('mean' or 'quantile'), q, latency_ms and its CI, method."""
        rows = [
            {
                "op": self.op,
                "statistic": "mean",
                "q": math.nan,
                "latency_ms": self.mean_ms,
                "ci_low_ms": self.mean_ci_ms[0] if self.mean_ci_ms else math.nan,
                "ci_high_ms": self.mean_ci_ms[1] if self.mean_ci_ms else math.nan,
                "method": self.method,
            }
        ]
        for q, v in self.quantiles_ms.items():
            lo, hi = self.quantiles_ci_ms.get(q, (math.nan, math.nan))
            rows.append(
                {
                    "op": self.op,
                    "statistic": "quantile",
                    "q": q,
                    "latency_ms": v,
                    "ci_low_ms": lo,
                    "ci_high_ms": hi,
                    "method": self.method,
                }
            )
        return pd.DataFrame(rows)
