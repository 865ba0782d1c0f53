"""Nines and downtime from an unavailability: shared by every availability result."""

from __future__ import annotations

import math

__all__ = ["HOURS_PER_YEAR", "MINUTES_PER_YEAR", "Nines"]

HOURS_PER_YEAR = 365.25 * 24
MINUTES_PER_YEAR = HOURS_PER_YEAR * 60


class Nines:
    """Mixin for results with an ``unavailability``: ``nines`` and downtime per year.

    Examples
    --------
    >>> import openha as ha
    >>> a = ha.QuorumSystem(writes=ha.Node("a", p_fail=1e-4)).availability()
    >>> round(a.nines, 6), round(a.downtime_min_per_year, 2)
    (4.0, 52.6)
    """

    unavailability: float

    @property
    def nines(self) -> float:
        """``-log10(unavailability)`` (``inf`` when the unavailability is 0)."""
        return math.inf if self.unavailability <= 0.0 else -math.log10(self.unavailability)

    @property
    def downtime_min_per_year(self) -> float:
        """Expected minutes per (365.25-day) year without service."""
        return self.unavailability * MINUTES_PER_YEAR
