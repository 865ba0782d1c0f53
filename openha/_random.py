"""Seeds: normalised once, then split into independent streams.

Every random API in openha takes ``seed: int | np.random.Generator |
np.random.SeedSequence | None``. It is turned into a :class:`numpy.random.SeedSequence`
here, and work that runs in parallel (threads in a numba kernel, processes or
Dask workers in a sweep) gets one child stream per *unit of work* via
``SeedSequence.spawn`` -- never per thread -- so results do not depend on how
many threads or workers did the work.
"""

from __future__ import annotations

import numpy as np

from openha.errors import OpenHAError

__all__ = ["CHUNKS", "SeedLike", "as_seed_sequence", "chunked_streams", "stream_states"]

SeedLike = int | np.integer | np.random.Generator | np.random.SeedSequence | None


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Normalise ``seed`` to a :class:`numpy.random.SeedSequence`.

    Parameters
    ----------
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        ``None`` draws fresh entropy from the operating system (not reproducible);
        an int >= 0 or a SeedSequence is reproducible; a Generator is advanced by
        one draw, so the same generator state gives the same result.

    Examples
    --------
    >>> from openha._random import as_seed_sequence
    >>> as_seed_sequence(1).entropy
    1
    """
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4, dtype=np.uint64).tolist())
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise OpenHAError(
            f"seed must be an int >= 0, a numpy Generator, a SeedSequence or None; got {seed!r}"
        )
    if int(seed) < 0:
        raise OpenHAError(f"seed must be an int >= 0; got {seed!r}")
    return np.random.SeedSequence(int(seed))


def stream_states(seed: SeedLike, n_streams: int) -> np.ndarray:
    """States for ``n_streams`` independent xoshiro256** streams, shape ``(n, 4)``.

    Stream ``i`` is seeded from the i-th child of ``seed``'s SeedSequence, so it is
    the same whichever thread or worker runs it.

    Examples
    --------
    >>> from openha._random import stream_states
    >>> s = stream_states(7, 3)
    >>> s.shape, s.dtype.name
    ((3, 4), 'uint64')
    >>> bool((stream_states(7, 3) == s).all())
    True
    """
    children = as_seed_sequence(seed).spawn(n_streams)
    states = np.empty((n_streams, 4), dtype=np.uint64)
    for i, child in enumerate(children):
        st = child.generate_state(4, dtype=np.uint64)
        if not st.any():  # the all-zero state is xoshiro's one fixed point
            st[0] = np.uint64(0x9E3779B97F4A7C15)
        states[i] = st
    return states


#: Monte Carlo work is cut into this many chunks (fewer if there are fewer trials), each
#: with its own stream; threads take whole chunks, so results do not depend on them.
CHUNKS = 64


def chunked_streams(seed: SeedLike, trials: int) -> tuple[np.ndarray, np.ndarray]:
    """Streams and trial counts for Monte Carlo over chunks: ``(states, per_chunk)``.

    Examples
    --------
    >>> from openha._random import chunked_streams
    >>> states, per_chunk = chunked_streams(1, 130)
    >>> states.shape, int(per_chunk.sum()), per_chunk[:3].tolist()
    ((64, 4), 130, [3, 3, 2])
    """
    chunks = min(CHUNKS, trials)
    per_chunk = np.full(chunks, trials // chunks, np.int64)
    per_chunk[: trials % chunks] += 1
    return stream_states(seed, chunks), per_chunk
