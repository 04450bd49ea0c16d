"""Decoding a program for the evaluator: a liveness analysis drops the
instructions whose result can never reach a prediction (random ops are always
kept, since they advance the generator), and each operand becomes a slot of
one flat memory. Also the evaluator's scratch (`Work`) and its row indices.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from automorph.zero._jit import jit
from automorph.zero._ops import OP_IN1, OP_IN2, OP_OUT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
U8 = NDArray[np.uint8]

# Rows of the per-lane arrays of the scratch (`Work`).
BEST, LOSS, FIT = 0, 1, 2  # float rows
TASK, IDX, ALIVE, VSTATE, MISS, SLOT, ALIAS = 0, 1, 2, 3, 4, 5, 6  # int rows
RNG, HASH, KEY = 0, 1, 2  # uint64 rows
# Decoding facts (`info`): random ops in Predict/Learn, Predict writes v0, Setup's draws,
# (3-5: kept instructions per component, 6: the first slot of v0) matrix ops in Predict/Learn.
RANDOM_PL, PREDICT_V0, SETUP_DRAWS, MATRIX_PL = 0, 1, 2, 7

Work = tuple[F64, F64, F64, F64, I64, U64, I64, I64, U8, U8]
"""Scratch of an evaluation: lane memory, temporaries, a snapshot of the lane
memory, per-lane floats [3, T], ints [7, T] and uint64s [3, T], the decoded
code [3, L, 5] with its sizes and facts, keep flags [3, L], liveness [3, vars]."""


@jit
def _var(kind: int, address: int, ns: int, nv: int) -> int:
    # The liveness variable of an operand: scalars, then vectors, then matrices.
    if kind == 0:
        return address
    if kind == 1:
        return ns + address
    return ns + nv + address


@jit
def _transfer(
    ints: I64, comp: int, count: int, live: U8, ns: int, nv: int, keep: U8, mark: bool
) -> None:
    # Walks component `comp` backwards: `live` goes from live-out to live-in. An
    # instruction is needed if it writes a live variable or draws random numbers;
    # the const sets of one vector or matrix entry (57, 58) do not kill it.
    for k in range(count - 1, -1, -1):
        op = ints[comp, k, 0]
        needed = False
        if op != 0:
            out = _var(OP_OUT[op], ints[comp, k, 3], ns, nv)
            needed = (59 <= op <= 64) or live[out] != 0
            if needed:
                if op != 57 and op != 58:
                    live[out] = 0
                if OP_IN1[op] >= 0:
                    live[_var(OP_IN1[op], ints[comp, k, 1], ns, nv)] = 1
                if OP_IN2[op] >= 0:
                    live[_var(OP_IN2[op], ints[comp, k, 2], ns, nv)] = 1
        if mark:
            keep[comp, k] = 1 if needed else 0


@jit
def _live_out(into: U8, first: U8, second: U8, nvars: int, v0: int, s1: bool) -> None:
    # into = (first | second) without s0 and v0 (the harness writes them before
    # every Predict and Learn), plus s1 (read after Predict) if asked.
    for q in range(nvars):
        into[q] = first[q] | second[q]
    into[0] = 0
    into[v0] = 0
    if s1:
        into[1] = 1


@jit
def _slot(kind: int, address: int, ns: int, nv: int, nf: int) -> int:
    # The first memory slot of an operand (0 if unused).
    if kind == 0:
        return address
    if kind == 1:
        return ns + address * nf
    if kind == 2:
        return ns + nv * nf + address * nf * nf
    return 0


@jit
def decode(ints: I64, sizes: I64, ns: int, nv: int, nm: int, nf: int, work: Work) -> None:
    """Decodes a program into `work`: the instructions that can affect a
    prediction, with memory slots for operands, and the facts the runner needs.

    Liveness is solved over the loop Setup; (Predict; Learn)*; Predict* (the
    harness reads s1 after Predict and writes s0 and v0 before each Predict and
    Learn): the live-out of Predict is s1 plus what Learn or the next Predict
    reads, the live-out of Learn what the next Predict reads.
    """
    code, info, keep, live = work[6], work[7], work[8], work[9]
    nvars = ns + nv + nm
    v0 = ns
    lp, ll, cur = live[0], live[1], live[2]
    for q in range(nvars):
        lp[q] = 0
        ll[q] = 0
    changed = True
    while changed:
        changed = False
        _live_out(cur, lp, ll, nvars, v0, True)
        _transfer(ints, 1, sizes[1], cur, ns, nv, keep, False)
        for q in range(nvars):
            if cur[q] != lp[q]:
                changed = True
                lp[q] = cur[q]
        _live_out(cur, lp, lp, nvars, v0, False)
        _transfer(ints, 2, sizes[2], cur, ns, nv, keep, False)
        for q in range(nvars):
            if cur[q] != ll[q]:
                changed = True
                ll[q] = cur[q]
    _live_out(cur, lp, ll, nvars, v0, True)
    _transfer(ints, 1, sizes[1], cur, ns, nv, keep, True)
    _live_out(cur, lp, lp, nvars, v0, False)
    _transfer(ints, 2, sizes[2], cur, ns, nv, keep, True)
    _live_out(cur, lp, lp, nvars, v0, False)
    _transfer(ints, 0, sizes[0], cur, ns, nv, keep, True)
    info[RANDOM_PL] = 0
    info[PREDICT_V0] = 0
    info[SETUP_DRAWS] = 0
    info[MATRIX_PL] = 0
    for comp in range(3):
        j = 0
        for k in range(sizes[comp]):
            if keep[comp, k] == 0:
                continue
            op = ints[comp, k, 0]
            code[comp, j, 0] = op
            code[comp, j, 1] = _slot(OP_IN1[op], ints[comp, k, 1], ns, nv, nf)
            code[comp, j, 2] = _slot(OP_IN2[op], ints[comp, k, 2], ns, nv, nf)
            code[comp, j, 3] = _slot(OP_OUT[op], ints[comp, k, 3], ns, nv, nf)
            code[comp, j, 4] = k
            j += 1
            if 59 <= op <= 64:
                if comp > 0:
                    info[RANDOM_PL] = 1
                else:
                    per = 1 if op <= 61 else 2  # Box-Muller takes two uniforms
                    shape = 1 if op == 59 or op == 62 else nf if op == 60 or op == 63 else nf * nf
                    info[SETUP_DRAWS] += per * shape
            if comp > 0 and (OP_IN1[op] == 2 or OP_IN2[op] == 2 or OP_OUT[op] == 2):
                info[MATRIX_PL] += 1
            if comp == 1 and OP_OUT[op] == 1 and ints[comp, k, 3] == 0:
                info[PREDICT_V0] = 1
        info[3 + comp] = j
