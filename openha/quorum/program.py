"""The flat, postfix form of a quorum expression that the numba kernels evaluate.

A program is a sequence of operations: a *leaf* pushes node ``arg``'s value; a *gate*
pops its ``arg`` children and pushes whether their weights (``weights[woff:woff+arg]``)
reach ``k``. Leaves are numbered by their index in ``nodes``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from openha.quorum.expr import Expr, Gate, Node

__all__ = ["Program", "compile_program"]

LEAF = 0
GATE = 1


@dataclass(frozen=True, eq=False)
class Program:
    """Arrays describing an expression in postfix order (see module docstring)."""

    kind: np.ndarray  # int64[ops]: LEAF or GATE
    arg: np.ndarray  # int64[ops]: node index (leaf) or number of children (gate)
    k: np.ndarray  # int64[ops]: gate threshold (0 for leaves)
    woff: np.ndarray  # int64[ops]: offset of the gate's child weights in ``weights``
    weights: np.ndarray  # int64[...]: child weights of every gate, in order
    repeated: np.ndarray  # int64[...]: indices of nodes that appear more than once
    max_k: int

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The five arrays every kernel takes first."""
        return (self.kind, self.arg, self.k, self.woff, self.weights)


def compile_program(expr: Expr, nodes: tuple[Node, ...]) -> Program:
    """Compile ``expr`` over ``nodes`` (which must include every node of ``expr``)."""
    index = {n.name: i for i, n in enumerate(nodes)}
    kind: list[int] = []
    arg: list[int] = []
    ks: list[int] = []
    woff: list[int] = []
    weights: list[int] = []
    uses: Counter[int] = Counter()

    def emit(e: Expr) -> None:
        if isinstance(e, Node):
            i = index[e.name]
            uses[i] += 1
            kind.append(LEAF)
            arg.append(i)
            ks.append(0)
            woff.append(0)
            return
        assert isinstance(e, Gate)
        for c in e.children:
            emit(c)
        kind.append(GATE)
        arg.append(len(e.children))
        ks.append(e.k)
        woff.append(len(weights))
        weights.extend(e.weights)

    emit(expr)
    # Condition on the most-used repeated nodes first: they split the tree fastest.
    repeated = sorted((i for i, c in uses.items() if c > 1), key=lambda i: (-uses[i], i))
    as_arr = lambda xs: np.asarray(xs, dtype=np.int64)  # noqa: E731
    return Program(
        kind=as_arr(kind),
        arg=as_arr(arg),
        k=as_arr(ks),
        woff=as_arr(woff),
        weights=as_arr(weights if weights else [0]),
        repeated=as_arr(repeated),
        max_k=max(ks),
    )
