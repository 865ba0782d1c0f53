"""Shipped data sets: measured inter-region round-trip times (RTT).

The matrices come from ``data/rtt/`` (see its README for sources); they are
installed inside the wheel as ``openha/_data``.

Examples
--------
>>> from openha.data import rtt_matrix, rtt_matrices
>>> rtt_matrices()
['aws-2020', 'gcp-2020']
>>> rtt_matrix("aws-2020").rtt("us-east-1", "eu-west-1")
70.5
"""

from __future__ import annotations

import csv
import dataclasses
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from openha.dist import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    LogNormal,
    Normal,
    Uniform,
    Weibull,
)
from openha.errors import OpenHAError, check_finite

__all__ = [
    "RTTMatrix",
    "data_path",
    "raft_election_ranges",
    "raft_election_times",
    "rtt_matrices",
    "rtt_matrix",
    "shifted",
]

_D = TypeVar("_D", bound=Distribution)

_PACKAGE = Path(__file__).resolve().parent
# The wheel ships data/ as openha/_data; an editable checkout has it at the repo root (the
# pyproject.toml check keeps a stray site-packages/data from another wheel out of the search).
_ROOTS = [_PACKAGE / "_data"]
if (_PACKAGE.parent / "pyproject.toml").exists():
    _ROOTS.append(_PACKAGE.parent / "data")


def _first_duplicate(labels: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for x in labels:
        if x in seen:
            return x
        seen.add(x)
    return None


def data_path(*parts: str) -> Path:
    """Return the path of a shipped data file.

    Looks in ``openha/_data`` (installed wheel), then in ``<repo>/data``
    (editable checkout).

    Examples
    --------
    >>> from openha.data import data_path
    >>> data_path("rtt", "aws-2020.csv").name
    'aws-2020.csv'
    """
    if any(Path(p).is_absolute() or ".." in Path(p).parts for p in parts):
        raise OpenHAError(f"data path parts must be relative, without '..'; got {parts!r}")
    for root in _ROOTS:
        if (path := root.joinpath(*parts)).exists():
            return path
    raise OpenHAError(f"data file {'/'.join(parts)!r} not found in {' or '.join(map(str, _ROOTS))}")


def shifted(dist: _D, by_ms: float) -> _D:
    """Return ``dist`` moved right by ``by_ms`` (the distribution of ``X + by_ms``).

    Notes
    -----
    ``Normal`` is refused: it is truncated at 0, so ``Normal + c`` is not a
    ``Normal`` with a larger mean. ``Exponential`` keeps its exponential part's
    mean as ``scale`` (its ``.mean`` includes ``shift``), so that is what is carried over.

    Examples
    --------
    >>> from openha.dist import Exponential, Uniform
    >>> from openha.data import shifted
    >>> shifted(Uniform(low=1.0, high=3.0), 10.0)
    Uniform(low=11.0, high=13.0)
    >>> shifted(Exponential(mean=2.0, shift=0.5), 70.5)
    Exponential(mean=2.0, shift=71.0)
    """
    by = check_finite("by_ms", by_ms)
    if isinstance(dist, Constant):
        return dataclasses.replace(dist, value=dist.value + by)
    if isinstance(dist, Exponential):  # ``mean`` is an InitVar that replace() needs
        return dataclasses.replace(dist, mean=dist.scale, shift=dist.shift + by)
    if isinstance(dist, LogNormal | Weibull):
        return dataclasses.replace(dist, shift=dist.shift + by)
    if isinstance(dist, Uniform):
        return dataclasses.replace(dist, low=dist.low + by, high=dist.high + by)
    if isinstance(dist, Empirical):
        return dataclasses.replace(dist, samples=np.asarray(dist.samples, dtype=np.float64) + by)
    if isinstance(dist, Normal):
        raise OpenHAError(
            "cannot shift a Normal distribution exactly (it is truncated at 0, so Normal + c "
            "is not a Normal); use LogNormal, Exponential, Weibull, Uniform or Empirical jitter"
        )
    raise OpenHAError(f"cannot shift {dist!r}; jitter must be an openha.dist distribution")


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class RTTMatrix:
    """Average round-trip times in ms between regions; row = from, column = to.

    Examples
    --------
    >>> from openha.data import RTTMatrix
    >>> m = RTTMatrix(regions=("a", "b"), rtt_ms=[[0.2, 10.0], [10.0, 0.2]], name="toy")
    >>> m.one_way_ms("a", "b")
    5.0
    >>> m.to_frame().shape
    (4, 3)
    """

    regions: tuple[str, ...]
    rtt_ms: np.ndarray
    name: str = "custom"
    source: str = ""

    def __post_init__(self) -> None:
        regions = tuple(str(r) for r in self.regions)
        what = f"RTT matrix {self.name!r}"
        if (dup := _first_duplicate(regions)) is not None:
            raise OpenHAError(f"regions of {what} must be unique; {dup!r} appears twice")
        try:
            rtt = np.array(self.rtt_ms, dtype=np.float64)  # a copy: callers keep their array
        except (TypeError, ValueError) as e:
            raise OpenHAError(f"rtt_ms of {what} must be numeric; {e}") from None
        if rtt.ndim != 2 or rtt.shape[0] != rtt.shape[1]:
            raise OpenHAError(f"rtt_ms of {what} must be a square matrix; got shape {rtt.shape}")
        if rtt.shape[0] != len(regions):
            raise OpenHAError(
                f"rtt_ms of {what} is {rtt.shape[0]}x{rtt.shape[1]} but {len(regions)} regions "
                f"were given: {regions}"
            )
        for test, allowed in ((np.isfinite, "finite"), (lambda x: x >= 0, ">= 0")):
            bad = np.argwhere(~test(rtt))
            if bad.size:
                i, j = bad[0]
                raise OpenHAError(
                    f"rtt_ms of {what} must be {allowed}; got {rtt[i, j]} "
                    f"from {regions[i]!r} to {regions[j]!r}"
                )
        rtt += 0.0  # -0.0 -> 0.0 so equal matrices hash equally
        rtt.flags.writeable = False
        object.__setattr__(self, "regions", regions)
        object.__setattr__(self, "rtt_ms", rtt)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RTTMatrix):
            return NotImplemented
        same_labels = (self.regions, self.name, self.source) == (
            other.regions, other.name, other.source
        )  # fmt: skip
        return same_labels and np.array_equal(self.rtt_ms, other.rtt_ms)

    def __hash__(self) -> int:
        return hash((self.regions, self.rtt_ms.tobytes(), self.name, self.source))

    def __repr__(self) -> str:
        regions = ", ".join(self.regions[:3]) + (", ..." if len(self.regions) > 3 else "")
        source = self.source if len(self.source) <= 40 else self.source[:39] + "…"
        return (
            f"RTTMatrix({self.name!r}, {len(self.regions)} regions: {regions}; source: {source!r})"
        )

    def _index(self, region: str) -> int:
        try:
            return self.regions.index(region)
        except ValueError:
            raise OpenHAError(
                f"unknown region {region!r} in RTT matrix {self.name!r}; "
                f"known: {', '.join(self.regions)}"
            ) from None

    def rtt(self, a: str, b: str) -> float:
        """Average round-trip time in ms from region ``a`` to region ``b``."""
        return float(self.rtt_ms[self._index(a), self._index(b)])

    def one_way_ms(self, a: str, b: str) -> float:
        """One-way delay in ms from ``a`` to ``b``, taken as half the RTT."""
        return self.rtt(a, b) / 2.0

    def subset(self, regions: Sequence[str]) -> RTTMatrix:
        """The matrix restricted to ``regions``, in the order given.

        Examples
        --------
        >>> from openha.data import rtt_matrix
        >>> rtt_matrix("aws-2020").subset(["eu-west-1", "us-east-1"]).rtt_ms
        array([[ 0.1, 70.5], [70.5,  0.3]])
        """
        idx = [self._index(r) for r in regions]
        return dataclasses.replace(
            self, regions=tuple(regions), rtt_ms=self.rtt_ms[np.ix_(idx, idx)]
        )

    def to_frame(self) -> pd.DataFrame:
        """Tidy long form: one row per ordered pair; ``from_region, to_region, rtt_ms``."""
        n = len(self.regions)
        names = np.array(self.regions, dtype=object)
        return pd.DataFrame(
            {
                "from_region": np.repeat(names, n),
                "to_region": np.tile(names, n),
                "rtt_ms": self.rtt_ms.ravel(),
            }
        )

    def latencies(
        self,
        client: str,
        placement: Mapping[str, str],
        *,
        jitter: Distribution | None = None,
        one_way: bool = False,
    ) -> dict[str, Distribution]:
        """Response time seen from region ``client`` for each node in ``placement``.

        Parameters
        ----------
        client : str
            Region of the client.
        placement : Mapping[str, str]
            Node name -> region.
        jitter : Distribution, optional
            Added to each base time (see :func:`shifted`); none gives constants.
        one_way : bool
            Use the one-way delay (RTT / 2) instead of the round trip.

        Examples
        --------
        >>> from openha.data import rtt_matrix
        >>> aws = rtt_matrix("aws-2020")
        >>> lat = aws.latencies("us-east-1", {"a": "us-east-1", "b": "eu-west-1"})
        >>> lat["b"].value
        70.5
        """
        delay = self.one_way_ms if one_way else self.rtt
        self._index(client)  # checked even when placement is empty
        base_ms = {node: delay(client, region) for node, region in placement.items()}
        if jitter is not None:
            return {node: shifted(jitter, ms) for node, ms in base_ms.items()}
        return {node: Constant(value=ms) for node, ms in base_ms.items()}

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, name: str = "custom", source: str = "") -> RTTMatrix:
        """Build from a square frame (index = from, columns = to) or a tidy frame.

        A tidy frame has columns ``from_region, to_region, rtt_ms`` (as from
        :meth:`to_frame`) and must hold every ordered pair exactly once.
        """
        if {"from_region", "to_region", "rtt_ms"} <= set(df.columns):
            repeated = df.duplicated(["from_region", "to_region"])
            if repeated.any():
                row = df[repeated].iloc[0]
                raise OpenHAError(
                    f"RTT frame {name!r} has pair {row['from_region']!r} -> "
                    f"{row['to_region']!r} more than once"
                )
            regions = list(dict.fromkeys([*df["from_region"], *df["to_region"]]))
            wide = df.pivot(index="from_region", columns="to_region", values="rtt_ms")
            wide = wide.reindex(index=regions, columns=regions)
            missing = np.argwhere(wide.isna().to_numpy())
            if missing.size:
                i, j = missing[0]
                raise OpenHAError(
                    f"RTT frame {name!r} has no value from {regions[i]!r} to {regions[j]!r}"
                )
            df = wide
        rows, cols = [str(r) for r in df.index], [str(c) for c in df.columns]
        for axis, labels in (("row", rows), ("column", cols)):
            if (dup := _first_duplicate(labels)) is not None:
                raise OpenHAError(f"RTT frame {name!r}: {axis} region {dup!r} appears twice")
        if len(rows) == len(cols):
            if set(rows) != set(cols):
                extra = sorted(set(rows) ^ set(cols))
                raise OpenHAError(
                    f"RTT frame {name!r}: row and column regions differ; mismatched: {extra}"
                )
            df = df.set_axis(rows, axis=0).loc[cols]  # rows in column order
        return cls(regions=tuple(cols), rtt_ms=df.to_numpy(), name=name, source=source)

    @classmethod
    def from_csv(
        cls, path: str | Path, *, name: str | None = None, source: str | None = None
    ) -> RTTMatrix:
        """Load a ``region,<names...>`` CSV: row = from region, column = to region."""
        path = Path(path)
        try:
            with path.open(newline="", encoding="utf-8-sig") as f:
                lines = [row for row in csv.reader(f) if row]
        except OSError as e:
            raise OpenHAError(f"cannot read RTT matrix file {str(path)!r}: {e}") from None

        def fail(problem: str) -> OpenHAError:
            return OpenHAError(f"malformed RTT matrix file {str(path)!r}: {problem}")

        if not lines or lines[0][0].strip() != "region":
            raise fail("the header must be 'region,<region names...>'")
        header = [c.strip() for c in lines[0][1:]]
        labels, values = [], []
        for lineno, row in enumerate(lines[1:], start=2):
            if len(row) != len(header) + 1:
                raise fail(f"line {lineno} has {len(row)} fields, expected {len(header) + 1}")
            labels.append(row[0].strip())
            try:
                values.append([float(x) for x in row[1:]])
            except ValueError as e:
                raise fail(f"line {lineno} (region {labels[-1]!r}): {e}") from None
        frame = pd.DataFrame(values, index=labels, columns=header)
        try:
            return cls.from_frame(
                frame,
                name=path.stem if name is None else name,
                source=str(path) if source is None else source,
            )
        except OpenHAError as e:
            raise fail(str(e)) from None


@functools.lru_cache(maxsize=1)
def _sources() -> dict[str, str]:
    """``name -> source`` from the table in ``data/rtt/README.md``."""
    header: list[str] | None = None
    out: dict[str, str] = {}
    for line in data_path("rtt", "README.md").read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
        elif "name" in header and "source" in header and not set(cells[0]) <= set("-: "):
            out[cells[header.index("name")].strip("`")] = cells[header.index("source")]
    return out


def rtt_matrices() -> list[str]:
    """Names of the shipped RTT matrices (for :func:`rtt_matrix`)."""
    return sorted(p.stem for p in data_path("rtt").glob("*.csv"))


@functools.cache
def _load(name: str) -> RTTMatrix:
    source = _sources().get(name, f"data/rtt/{name}.csv")
    return RTTMatrix.from_csv(data_path("rtt", f"{name}.csv"), name=name, source=source)


def rtt_matrix(name: str) -> RTTMatrix:
    """Load a shipped RTT matrix by name (cached; the result is immutable).

    Examples
    --------
    >>> from openha.data import rtt_matrix
    >>> m = rtt_matrix("gcp-2020")
    >>> len(m.regions), m.rtt("europe-west1", "europe-west2")
    (9, 10.3)
    """
    if name not in (names := rtt_matrices()):
        raise OpenHAError(f"unknown RTT matrix {name!r}; available: {', '.join(names)}")
    return _load(name)


@functools.lru_cache(maxsize=1)
def _raft_fig16() -> dict[str, np.ndarray]:
    path = data_path("raft_fig16", "logcabin_time_to_elect.csv")
    frame = pd.read_csv(path, skipinitialspace=True)
    frame.columns = ["timeout_range_ms", "cumulative_fraction", "time_to_elect_ms"]
    return {
        str(key): np.sort(group.time_to_elect_ms.to_numpy(dtype=float))
        for key, group in frame.groupby("timeout_range_ms", sort=False)
    }


def raft_election_ranges() -> list[str]:
    """Election-timeout ranges (ms) measured in the Raft paper's Figure 16.

    Examples
    --------
    >>> from openha.data import raft_election_ranges
    >>> raft_election_ranges()[:3]
    ['12-24', '25-50', '50-100']
    """
    return list(_raft_fig16())


def raft_election_times(timeout_range: str) -> Distribution:
    """Measured time to elect a new Raft leader after a crash (ms), as an Empirical distribution.

    The measurements behind Figure 16 of Ongaro & Ousterhout, "In Search of an
    Understandable Consensus Algorithm", USENIX ATC 2014: five LogCabin servers, the leader
    crashed, time until the others heard the new leader's first heartbeat; 1000 trials per
    election-timeout range (100 for 150-150). See ``data/raft_fig16/README.md``. Use it as
    the failover time in :func:`openha.models.client_availability`.

    Examples
    --------
    >>> from openha.data import raft_election_times
    >>> round(float(raft_election_times("150-155").quantile(0.5)))  # paper: median 287 ms
    287
    >>> round(float(raft_election_times("150-200").quantile(1.0)))  # paper: worst case 513 ms
    512
    """
    table = _raft_fig16()
    if timeout_range not in table:
        raise OpenHAError(
            f"timeout_range must be one of the measured ranges {list(table)}; got {timeout_range!r}"
        )
    from openha.dist import Empirical

    return Empirical(table[timeout_range])
