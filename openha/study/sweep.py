"""Parameter sweeps: one function over a grid of points, run anywhere, one tidy frame back.

Scale-out is borrowed, not built: points run in local processes by default, in
this process with ``executor="serial"``, on any :class:`concurrent.futures.Executor`
or on a Dask cluster through a ``dask.distributed.Client``. openha only splits the
seed, submits one task per point and puts the results in order.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from openha._random import SeedLike, as_seed_sequence
from openha.errors import OpenHAError

__all__ = ["RESERVED_COLUMNS", "sweep"]

#: Columns every sweep frame has besides the parameters and the metrics.
RESERVED_COLUMNS = ("point", "seed_entropy", "seed_spawn_key", "error", "wall_s")

Grid = Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]
Executor = Literal["serial"] | cf.Executor | Any  # Any: a dask.distributed.Client


# --------------------------------------------------------------------------- grid
def _is_value_list(values: Any) -> bool:
    if isinstance(values, np.ndarray):
        return values.ndim == 1
    return isinstance(values, Sequence) and not isinstance(values, str | bytes)


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise OpenHAError(f"{where}: parameter names must be identifiers; got {name!r}")
    if name in RESERVED_COLUMNS or name == "seed":
        raise OpenHAError(
            f"{where}: parameter name {name!r} is reserved "
            f"(sweep passes seed= and adds the columns {', '.join(RESERVED_COLUMNS)})"
        )
    return name


def grid_points(grid: Grid) -> list[dict[str, Any]]:
    """The points of ``grid``, in the order :func:`sweep` numbers them.

    A dict of lists is the cartesian product in the order of nested ``for`` loops
    over its keys as written: the first key varies slowest, the last fastest. A list
    of dicts is taken as it is; every dict must have the same keys.

    Examples
    --------
    >>> from openha.study.sweep import grid_points
    >>> grid_points({"n": [3, 5], "p": [0.1, 0.2]})
    [{'n': 3, 'p': 0.1}, {'n': 3, 'p': 0.2}, {'n': 5, 'p': 0.1}, {'n': 5, 'p': 0.2}]
    """
    if isinstance(grid, Mapping):
        if not grid:
            raise OpenHAError("grid must have at least one parameter; got an empty dict")
        names = [_check_name(name, "grid") for name in grid]
        for name in names:
            values = grid[name]
            if not _is_value_list(values) or len(values) == 0:
                raise OpenHAError(
                    f"grid[{name!r}] must be a non-empty list of values; got {values!r}"
                )
        product = itertools.product(*(list(grid[name]) for name in names))
        return [dict(zip(names, combo, strict=True)) for combo in product]
    if not _is_value_list(grid) or isinstance(grid, np.ndarray):
        raise OpenHAError(
            f"grid must be a dict of parameter -> list of values, or a list of dicts; got {grid!r}"
        )
    if len(grid) == 0:
        raise OpenHAError("grid must have at least one point; got an empty list")
    points: list[dict[str, Any]] = []
    for i, point in enumerate(grid):
        if not isinstance(point, Mapping):
            raise OpenHAError(f"grid[{i}] must be a dict of parameter -> value; got {point!r}")
        if i == 0:
            names = [_check_name(name, "grid[0]") for name in point]
        elif set(point) != set(names):
            extra = sorted(set(point) - set(names), key=str)
            missing = sorted(set(names) - set(point), key=str)
            what = f"has parameter {extra[0]!r}" if extra else f"lacks parameter {missing[0]!r}"
            raise OpenHAError(f"grid[{i}] {what}; every point must have the keys of grid[0]")
        points.append({name: point[name] for name in names})
    return points


# --------------------------------------------------------------------------- one point
def _as_metrics(out: Any) -> dict[str, Any]:
    if isinstance(out, pd.DataFrame):
        if len(out) != 1:
            raise OpenHAError(f"fn returned a frame with {len(out)} rows; a point needs one")
        out = out.iloc[0]
    if isinstance(out, pd.Series):
        out = out.to_dict()
    if not isinstance(out, Mapping):
        raise OpenHAError(
            f"fn must return a dict of metrics (or a pandas Series / one-row frame); "
            f"got {type(out).__name__}"
        )
    return dict(out)


def _run_point(
    fn: Callable[..., Any] | bytes,
    point: int,
    params: dict[str, Any],
    seed: np.random.SeedSequence,
    catch: bool,
) -> tuple[dict[str, Any], float]:
    """Run one point: ``({"point", "metrics", "error"}, seconds in fn)``.

    ``fn`` arrives as cloudpickle bytes where it crossed a process boundary.
    """
    wall_s = math.nan
    try:
        if isinstance(fn, bytes):
            import cloudpickle

            fn = cloudpickle.loads(fn)
        assert callable(fn)
        start = time.perf_counter()
        try:
            out = fn(**params, seed=seed)
        finally:
            wall_s = time.perf_counter() - start
        metrics = _as_metrics(out)
        clash = [k for k in metrics if k in params or k in RESERVED_COLUMNS]
        if clash:
            raise OpenHAError(
                f"fn returned metric {clash[0]!r}, which is also a parameter or one of "
                f"sweep's columns ({', '.join(RESERVED_COLUMNS)})"
            )
    except Exception as exc:
        if not catch:
            raise
        return {"point": point, "metrics": {}, "error": _describe(exc)}, wall_s
    return {"point": point, "metrics": metrics, "error": None}, wall_s


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _set_worker_threads(threads: int) -> None:
    """ProcessPoolExecutor initializer: share the cores among the workers' numba threads."""
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- executors
def _local_context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one (POSIX), else spawn; never fork.

    numba's OpenMP threading layer (GNU libgomp) is not fork-safe once its threads
    have started, and a parent with threads (tqdm's monitor, a Dask client, numba's
    pool) can deadlock a forked child. The forkserver imports openha once, single
    threaded, and forks each worker from that clean process, so workers do not
    re-import numba, scipy and pandas (~1 s). They do re-run the caller's main
    module, as spawn does (CPython 3.11 ignores a ``"__main__"`` preload).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["openha.study.sweep"])  # no effect once it runs
        return ctx
    return multiprocessing.get_context("spawn")


def _dask_client(executor: Any) -> Any | None:
    """``executor`` if it is a ``dask.distributed.Client``, else None (imports lazily)."""
    if not type(executor).__module__.startswith("distributed"):
        return None
    from distributed import Client

    return executor if isinstance(executor, Client) else None


def _show_progress(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    if "ipykernel" in sys.modules:
        shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
        if type(shell).__name__ == "ZMQInteractiveShell":
            return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _serialised(fn: Callable[..., Any]) -> bytes:
    import cloudpickle

    name = getattr(fn, "__qualname__", None) or repr(fn)
    try:
        return bytes(cloudpickle.dumps(fn))
    except Exception as exc:
        raise OpenHAError(
            f"fn {name!r} cannot be sent to worker processes ({_describe(exc)}); make it a "
            "module-level function of picklable objects, or pass executor='serial'"
        ) from exc


def _check_picklable_params(points: list[dict[str, Any]]) -> None:
    import cloudpickle

    try:
        cloudpickle.dumps(points)
        return
    except Exception:
        pass
    for i, params in enumerate(points):  # find the culprit
        for name, value in params.items():
            try:
                cloudpickle.dumps(value)
            except Exception as exc:
                raise OpenHAError(
                    f"grid value {name}={value!r} (point {i}) cannot be sent to worker "
                    f"processes ({_describe(exc)}); pass executor='serial'"
                ) from exc


# --------------------------------------------------------------------------- sweep
def sweep(
    fn: Callable[..., Any],
    grid: Grid,
    *,
    executor: Executor | None = None,
    seed: SeedLike = None,
    progress: bool | None = None,
    raise_on_error: bool = False,
) -> pd.DataFrame:
    """Run ``fn`` at every point of ``grid``, in parallel, into one tidy frame.

    Parameters
    ----------
    fn : callable
        Called as ``fn(**params, seed=seed_sequence)`` for each point; returns a dict
        of metrics (or a pandas Series, or a one-row frame). It should draw all its
        randomness from ``seed`` (a :class:`numpy.random.SeedSequence`; every openha
        random API accepts one). Outside ``executor="serial"`` it is sent to the
        workers with cloudpickle, so lambdas and functions defined in a notebook work;
        one that cannot be pickled (say, it closes over a lock) raises
        :class:`OpenHAError` before anything runs.
    grid : dict of name -> list of values, or list of dicts
        A dict gives the cartesian product of its lists, numbered like nested ``for``
        loops over its keys as written (first key slowest, last fastest); a list of
        dicts gives explicit points, in its order, all with the same keys.
    executor : None, "serial", concurrent.futures.Executor or dask.distributed.Client
        ``None``: a process pool over all cores (at most one process per point),
        started by forkserver (spawn where there is none; never fork, which numba's
        OpenMP threads make unsafe), the cores split evenly among the workers' numba
        threads, and shut down on return. ``"serial"``: this process, one point after
        another (for debugging: breakpoints and tracebacks work). An executor or a
        Dask client is used as given and not shut down; Dask tasks are submitted
        with ``pure=False``.
    seed : int, numpy Generator, SeedSequence or None
        Point ``i`` gets child ``i`` of ``as_seed_sequence(seed).spawn(n_points)``,
        whatever the executor, the number of workers or the order points finish.
        Seeds follow a point's *position*: appending points (or values to the first
        key of a dict grid) leaves the earlier rows as they were; a point that moves
        gets another seed. A SeedSequence passed in is spawned from, so passing the
        same object twice gives fresh children, as in numpy.
    progress : bool or None
        A tqdm bar on stderr; ``None`` shows it when stderr is a terminal or in a
        notebook.
    raise_on_error : bool
        ``False`` (default): a point whose ``fn`` raises gets its ``error`` column
        set and no metrics, and the other points carry on. ``True``: the first
        failure cancels the points not yet started and is raised.

    Returns
    -------
    pandas.DataFrame
        One row per point, sorted by ``point``: ``point`` (0-based), the parameters,
        the metrics (NaN where a point failed), ``seed_entropy`` and
        ``seed_spawn_key`` (``SeedSequence(entropy, spawn_key=key)`` is that point's
        seed), ``error`` (None, or ``"Type: message"``) and ``wall_s`` (the time
        ``fn`` took at that point, in seconds, on its worker).

    Notes
    -----
    Local processes start from a clean copy of the main module, as with
    :mod:`multiprocessing`'s spawn: a script must call ``sweep`` under
    ``if __name__ == "__main__":``. A point that kills its worker (a crash, out of
    memory) breaks a local pool: its row and those of the points not yet finished
    record ``BrokenProcessPool``; the finished rows are kept. The first local sweep in
    a process starts the forkserver (~1 s, importing openha); later ones start their
    pool in 10-100 ms, most of it each worker re-running the main module's imports.
    For many short sweeps, pass a pool kept open (``executor=pool``) or a Dask client:
    then a sweep adds well under 1 ms a point. Each local worker runs numba on ``cores // workers`` threads, so
    points do not oversubscribe the cores (openha's results do not depend on the
    thread count). Dask workers are left as configured.

    Examples
    --------
    >>> import numpy as np
    >>> import openha as ha
    >>> def mean_of(n, scale, seed):
    ...     return {"mean": np.random.default_rng(seed).exponential(scale, n).mean()}
    >>> df = ha.sweep(mean_of, {"n": [10, 1000], "scale": [1.0, 2.0]}, executor="serial", seed=1)
    >>> df[["point", "n", "scale", "error"]]
       point     n  scale error
    0      0    10    1.0  None
    1      1    10    2.0  None
    2      2  1000    1.0  None
    3      3  1000    2.0  None
    >>> df.seed_spawn_key.tolist()
    [(0,), (1,), (2,), (3,)]
    >>> bool(abs(df["mean"].iloc[3] - 2.0) < 0.2)
    True
    """
    if not callable(fn):
        raise OpenHAError(f"fn must be callable; got {fn!r}")
    if not isinstance(raise_on_error, bool):
        raise OpenHAError(f"raise_on_error must be True or False; got {raise_on_error!r}")
    if progress is not None and not isinstance(progress, bool):
        raise OpenHAError(f"progress must be True, False or None; got {progress!r}")
    points = grid_points(grid)
    client = None if executor is None or isinstance(executor, str) else _dask_client(executor)
    serial = isinstance(executor, str) and executor == "serial"
    if not (serial or executor is None or isinstance(executor, cf.Executor) or client):
        raise OpenHAError(
            "executor must be None, 'serial', a concurrent.futures.Executor or a "
            f"dask.distributed.Client; got {executor!r}"
        )
    task: Callable[..., Any] | bytes = fn  # "serial" and thread pools share this process
    if not (serial or isinstance(executor, cf.ThreadPoolExecutor)):
        task = _serialised(fn)
        _check_picklable_params(points)
    seeds = as_seed_sequence(seed).spawn(len(points))
    catch = not raise_on_error

    if serial:
        runs = (
            _run_point(fn, i, p, s, catch)
            for i, (p, s) in enumerate(zip(points, seeds, strict=True))
        )
        results = _collect(runs, len(points), progress)
    elif client is not None:
        results = _run_dask(task, points, seeds, client, catch, progress)
    else:
        assert executor is None or isinstance(executor, cf.Executor)
        results = _run_futures(task, points, seeds, executor, catch, progress)
    return _frame(points, seeds, results)


def _collect(
    runs: Iterator[tuple[dict[str, Any], float]], total: int, progress: bool | None
) -> dict[int, tuple[dict[str, Any], float]]:
    out: dict[int, tuple[dict[str, Any], float]] = {}
    if not _show_progress(progress):  # tqdm.auto warns in Jupyter without ipywidgets
        for record, wall_s in runs:
            out[record["point"]] = (record, wall_s)
        return out
    from tqdm.auto import tqdm

    with tqdm(total=total, unit="point", desc="sweep") as bar:
        for record, wall_s in runs:
            out[record["point"]] = (record, wall_s)
            bar.update(1)
    return out


def _failed(point: int, exc: BaseException) -> tuple[dict[str, Any], float]:
    """The row of a point whose task failed outside ``fn`` (a worker died, say)."""
    return {"point": point, "metrics": {}, "error": _describe(exc)}, math.nan


def _run_futures(
    task: Callable[..., Any] | bytes,
    points: list[dict[str, Any]],
    seeds: list[np.random.SeedSequence],
    executor: cf.Executor | None,
    catch: bool,
    progress: bool | None,
) -> dict[int, tuple[dict[str, Any], float]]:
    own = executor is None
    if executor is None:
        workers = max(1, min(os.cpu_count() or 1, len(points)))
        executor = cf.ProcessPoolExecutor(
            workers,
            mp_context=_local_context(),
            initializer=_set_worker_threads,
            initargs=((os.cpu_count() or 1) // workers,),
        )
    futures: dict[cf.Future[Any], int] = {}
    try:
        for i, (params, s) in enumerate(zip(points, seeds, strict=True)):
            futures[executor.submit(_run_point, task, i, params, s, catch)] = i

        def runs() -> Iterator[tuple[dict[str, Any], float]]:
            for fut in cf.as_completed(futures):
                try:
                    yield fut.result()
                except Exception as exc:
                    if not catch:
                        for other in futures:
                            other.cancel()
                        raise
                    yield _failed(futures[fut], exc)

        return _collect(runs(), len(points), progress)
    finally:
        if own:
            # Every result is in (or the sweep is failing): let the workers exit in the
            # background rather than wait ~60 ms for them.
            executor.shutdown(wait=False, cancel_futures=True)


def _run_dask(
    task: Callable[..., Any] | bytes,
    points: list[dict[str, Any]],
    seeds: list[np.random.SeedSequence],
    client: Any,
    catch: bool,
    progress: bool | None,
) -> dict[int, tuple[dict[str, Any], float]]:
    from distributed import as_completed

    futures = {
        client.submit(_run_point, task, i, params, s, catch, pure=False): i
        for i, (params, s) in enumerate(zip(points, seeds, strict=True))
    }

    def runs() -> Iterator[tuple[dict[str, Any], float]]:
        for fut in as_completed(list(futures)):
            try:
                yield fut.result()
            except Exception as exc:
                if not catch:
                    client.cancel(list(futures))
                    raise
                yield _failed(futures[fut], exc)

    try:
        return _collect(runs(), len(points), progress)
    finally:
        client.cancel([f for f in futures if not f.done()])


def _frame(
    points: list[dict[str, Any]],
    seeds: list[np.random.SeedSequence],
    results: dict[int, tuple[dict[str, Any], float]],
) -> pd.DataFrame:
    metric_names: dict[str, None] = {}
    for i in range(len(points)):
        metric_names.update(dict.fromkeys(results[i][0]["metrics"]))
    rows = []
    for i, (params, s) in enumerate(zip(points, seeds, strict=True)):
        record, wall_s = results[i]
        row: dict[str, Any] = {"point": i, **params}
        row.update({m: record["metrics"].get(m, math.nan) for m in metric_names})
        row.update(
            seed_entropy=s.entropy,
            seed_spawn_key=tuple(s.spawn_key),
            error=record["error"],
            wall_s=wall_s,
        )
        rows.append(row)
    columns = ["point", *points[0], *metric_names, *RESERVED_COLUMNS[1:]]
    frame = pd.DataFrame(rows, columns=columns)
    # pandas turns None into NaN in a column that also holds strings; keep None
    frame["error"] = pd.Series([row["error"] for row in rows], dtype=object)
    return frame
