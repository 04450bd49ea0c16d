"""Compiled evaluator: the random generator, the op interpreter, training and
validation on tasks, FEC fingerprints, and the evaluation over tasks.

Programs come as arrays (see `Program.to_arrays`): `ints[3, L, 4]` = (op, in1,
in2, out), `floats[3, L, 4]` = (activation, f0, f1, f2), `sizes[3]`. The
memory sizes come from the arrays `mem = (s[NS], v[NV, F], m[NM, F, F], tmp)`
the callers hold. The random generator is xorshift64* over a `uint64[1]`
state; `_reference.py` has the same generator in plain Python.

The results are those of running the program instruction by instruction on
one task after another, as the original does (the tests compare them with the
reference interpreter). Three things make it fast:

- Decoding. A program is decoded once per evaluation: instructions whose result
  can never reach a prediction are dropped (a liveness analysis over Setup, the
  Predict/Learn loop and validation; random ops are always kept, since they
  advance the generator), and each operand becomes a slot of one flat memory.
- Lanes. The tasks of an evaluation run side by side: memory holds each slot
  (a scalar, a vector entry or a matrix entry) for every task ("lane") next to
  each other, so one interpreted instruction does the work of all tasks in a
  loop the compiler vectorizes. A lane that fails (NaN, or an error above
  max_abs_error) stops there and counts no more steps; the others go on. Random
  ops in Setup draw from per-lane generators placed where the one sequential
  stream would be at that task; a program with random ops in Predict or Learn
  (whose draws depend on where each task stops) runs its tasks one at a time.
- Unsigned indices: numba handles negative indices of signed ones, which keeps
  LLVM from vectorizing the loops.

Matrices are stored column by column (entry (i, j) at slot base + j F + i), so
a matrix-vector product runs down contiguous columns without reordering sums.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from automorph.zero._fec_kernel import Cache, cache_find, cache_insert_at
from automorph.zero._jit import jit, jit_alloc, jit_inline
from automorph.zero._ops import OP_IN1, OP_IN2, OP_OUT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
U8 = NDArray[np.uint8]

_MUL = np.uint64(2685821657736338717)
_S12 = np.uint64(12)
_S25 = np.uint64(25)
_S27 = np.uint64(27)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_U0 = np.uint64(0)
_U1 = np.uint64(1)
FEC_SEED = 235732282

# Rows of the per-lane arrays of the scratch (`Work`).
_BEST, _LOSS, _FIT = 0, 1, 2  # float rows
_TASK, _IDX, _ALIVE, _VSTATE, _MISS, _SLOT, _ALIAS = 0, 1, 2, 3, 4, 5, 6  # int rows
_RNG, _HASH, _KEY = 0, 1, 2  # uint64 rows
# Decoding facts (`info`): random ops in Predict/Learn, Predict writes v0, Setup's draws,
# (3-5: kept instructions per component, 6: the first slot of v0) matrix ops in Predict/Learn.
_RANDOM_PL, _PREDICT_V0, _SETUP_DRAWS, _MATRIX_PL = 0, 1, 2, 7
_LANES_MAX_F = 8
"""From this many features on, programs with matrix ops in Predict or Learn run their
tasks one at a time: their matrices, side by side, no longer fit the L1 cache, and
the lane loops of matrix-vector products are too short to vectorize."""

Work = tuple[F64, F64, F64, F64, I64, U64, I64, I64, U8, U8]
"""Scratch of an evaluation: lane memory, temporaries, a snapshot of the lane
memory, per-lane floats [3, T], ints [7, T] and uint64s [3, T], the decoded
code [3, L, 5] with its sizes and facts, keep flags [3, L], liveness [3, vars]."""


@jit
def rng_seed(state: U64, seed: int) -> None:
    """Seeds the state with splitmix64(seed) (never zero)."""
    z = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    state[0] = z if z != np.uint64(0) else np.uint64(1)


@jit_inline
def rng_next(state: U64) -> np.uint64:
    """The next 64-bit output of xorshift64*."""
    return _lane_next(state, 0)


@jit_inline
def _lane_next(state: U64, t: int) -> np.uint64:
    # rng_next on the generator state[t] (one per lane).
    x = state[t]
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    state[t] = x
    return x * _MUL  # type: ignore[no-any-return]


@jit_inline
def rng_uniform(state: U64) -> float:
    """A float in [0, 1) with 53 random bits."""
    return float(rng_next(state) >> _S11) * _INV53


@jit_inline
def _lane_uniform(state: U64, t: int) -> float:
    return float(_lane_next(state, t) >> _S11) * _INV53


@jit
def rng_int(state: U64, n: int) -> int:
    """An int in [0, n) (n >= 1)."""
    return int(rng_uniform(state) * n)


@jit
def rng_gauss(state: U64) -> float:
    """A standard normal draw (Box-Muller, one output per call)."""
    u1 = 1.0 - rng_uniform(state)
    u2 = rng_uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@jit
def _draw(op: int, f0: float, f1: float, state: U64, t: int) -> float:
    # One value of a uniform (59-61) or Gaussian (62-64) set op from lane t's generator.
    if op <= 61:
        return f0 + (f1 - f0) * _lane_uniform(state, t)
    u1 = 1.0 - _lane_uniform(state, t)
    u2 = _lane_uniform(state, t)
    return f0 + f1 * (math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2))


@jit
def _std(total: float, squares: float, n: float) -> float:
    mean = total / n
    return math.sqrt(squares / n - mean * mean)


@jit
def _scalar_op(op: int, x: float, y: float) -> float:
    if op == 1:
        return x + y
    if op == 2:
        return x - y
    if op == 3:
        return x * y
    if op == 4:
        return x / y
    if op == 5:
        return abs(x)
    if op == 6:
        return 1.0 / x
    if op == 7:
        return math.sin(x)
    if op == 8:
        return math.cos(x)
    if op == 9:
        return math.tan(x)
    if op == 10:
        return math.asin(x) if -1.0 <= x <= 1.0 else math.nan
    if op == 11:
        return math.acos(x) if -1.0 <= x <= 1.0 else math.nan
    if op == 12:
        return math.atan(x)
    if op == 13:
        return math.exp(x)
    if op == 14:
        return math.log(x) if x >= 0.0 else math.nan
    if op == 15:
        return 1.0 if x >= 0.0 else 0.0
    if op == 44:
        return y if y < x else x  # std::min
    if op == 47:
        return y if x < y else x  # std::max
    return math.nan


# Elementwise ops over `size` contiguous entries from offsets a, b to c. An
# output that is also an input gets its own loop (load and store at the same
# place), which LLVM vectorizes; it cannot prove two offsets never overlap.


@jit_inline
def _add(lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, size: np.uint64) -> None:
    if c == a:
        for q in range(size):
            lm[c + q] = lm[c + q] + lm[b + q]
    elif c == b:
        for q in range(size):
            lm[c + q] = lm[a + q] + lm[c + q]
    else:
        for q in range(size):
            lm[c + q] = lm[a + q] + lm[b + q]


@jit_inline
def _sub(lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, size: np.uint64) -> None:
    if c == a:
        for q in range(size):
            lm[c + q] = lm[c + q] - lm[b + q]
    elif c == b:
        for q in range(size):
            lm[c + q] = lm[a + q] - lm[c + q]
    else:
        for q in range(size):
            lm[c + q] = lm[a + q] - lm[b + q]


@jit_inline
def _mul(lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, size: np.uint64) -> None:
    if c == a:
        for q in range(size):
            lm[c + q] = lm[c + q] * lm[b + q]
    elif c == b:
        for q in range(size):
            lm[c + q] = lm[a + q] * lm[c + q]
    else:
        for q in range(size):
            lm[c + q] = lm[a + q] * lm[b + q]


@jit
def _div(lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, size: np.uint64) -> None:
    if c == a:
        for q in range(size):
            lm[c + q] = lm[c + q] / lm[b + q]
    elif c == b:
        for q in range(size):
            lm[c + q] = lm[a + q] / lm[c + q]
    else:
        for q in range(size):
            lm[c + q] = lm[a + q] / lm[b + q]


@jit
def _min(lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, size: np.uint64) -> None:
    # std::min(x, y) = y < x ? y : x
    if c == a:
        for q in range(size):
            x = lm[c + q]
            y = lm[b + q]
            lm[c + q] = y if y < x else x
    elif c == b:
        for q in range(size):
            x = lm[a + q]
            y = lm[c + q]
            lm[c + q] = y if y < x else x
    else:
        for q in range(size):
            x = lm[a + q]
            y = lm[b + q]
            lm[c + q] = y if y < x else x


@jit_inline
def _max(lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, size: np.uint64) -> None:
    # std::max(x, y) = x < y ? y : x
    if c == a:
        for q in range(size):
            x = lm[c + q]
            y = lm[b + q]
            lm[c + q] = y if x < y else x
    elif c == b:
        for q in range(size):
            x = lm[a + q]
            y = lm[c + q]
            lm[c + q] = y if x < y else x
    else:
        for q in range(size):
            x = lm[a + q]
            y = lm[b + q]
            lm[c + q] = y if x < y else x


@jit_inline
def _unary(op: int, lm: F64, a: np.uint64, c: np.uint64, size: np.uint64) -> None:
    # Heaviside (x > 0), reciprocal and abs of vectors (16, 20, 22) and matrices (17, 30, 38).
    if op == 16 or op == 17:
        for q in range(size):
            lm[c + q] = 1.0 if lm[a + q] > 0.0 else 0.0
    elif op == 20 or op == 30:
        for q in range(size):
            lm[c + q] = 1.0 / lm[a + q]
    else:
        for q in range(size):
            lm[c + q] = abs(lm[a + q])


@jit_inline
def _scale(
    lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, n: np.uint64, size: np.uint64
) -> None:
    # Scalar a (one per lane) times the `size` entries at b (18, 29).
    if n == _U1:
        x = lm[a]
        if c == b:
            for q in range(size):
                lm[c + q] = x * lm[c + q]
        else:
            for q in range(size):
                lm[c + q] = x * lm[b + q]
        return
    for e in range(_U0, size, n):
        if c == b:
            for t in range(n):
                lm[c + e + t] = lm[a + t] * lm[c + e + t]
        else:
            for t in range(n):
                lm[c + e + t] = lm[a + t] * lm[b + e + t]


@jit_inline
def _dot(lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, n: np.uint64, nf: np.uint64) -> None:
    if n == _U1:
        acc = 0.0
        for i in range(nf):
            acc += lm[a + i] * lm[b + i]
        lm[c] = acc
        return
    for t in range(n):
        lm[c + t] = 0.0
    for i in range(nf):
        o = i * n
        for t in range(n):
            lm[c + t] += lm[a + o + t] * lm[b + o + t]


@jit_inline
def _matvec1(out: F64, at: np.uint64, lm: F64, a: np.uint64, b: np.uint64, nf: np.uint64) -> None:
    # One lane: out[at:at + nf] = m_a v_b, each sum over j in order from 0.0, four
    # columns per pass over the output (((o + m_j x_j) + m_j+1 x_j+1) + ...), so
    # that it makes a quarter of the round trips through memory; the loops over
    # rows vectorize. The output must not overlap v_b.
    for i in range(nf):
        out[at + i] = 0.0
    j = _U0
    four = np.uint64(4)
    while j + four <= nf:
        c0 = a + j * nf
        c1 = c0 + nf
        c2 = c1 + nf
        c3 = c2 + nf
        x0 = lm[b + j]
        x1 = lm[b + j + _U1]
        x2 = lm[b + j + np.uint64(2)]
        x3 = lm[b + j + np.uint64(3)]
        for i in range(nf):
            o = out[at + i] + lm[c0 + i] * x0
            o = (o + lm[c1 + i] * x1) + lm[c2 + i] * x2
            out[at + i] = o + lm[c3 + i] * x3
        j += four
    while j < nf:
        x = lm[b + j]
        col = a + j * nf
        for i in range(nf):
            out[at + i] += lm[col + i] * x
        j += _U1


@jit_inline
def _matvec(
    lm: F64, tmp: F64, a: np.uint64, b: np.uint64, c: np.uint64, n: np.uint64, nf: np.uint64
) -> None:
    # v_c = m_a v_b: column j of m_a times entry j of v_b, summed over j in order.
    if n == _U1:
        if c != b:
            _matvec1(lm, c, lm, a, b, nf)
            return
        _matvec1(tmp, _U0, lm, a, b, nf)
        for q in range(nf):
            lm[c + q] = tmp[q]
        return
    size = nf * n
    for q in range(size):
        tmp[q] = 0.0
    for j in range(nf):
        col = a + j * size
        vb = b + j * n
        for i in range(nf):
            o = i * n
            for t in range(n):
                tmp[o + t] += lm[col + o + t] * lm[vb + t]
    for q in range(size):
        lm[c + q] = tmp[q]


@jit_inline
def _outer(lm: F64, a: np.uint64, b: np.uint64, c: np.uint64, n: np.uint64, nf: np.uint64) -> None:
    # m_c[i, j] = v_a[i] * v_b[j]
    size = nf * n
    if n == _U1:
        for j in range(nf):
            x = lm[b + j]
            col = c + j * nf
            for i in range(nf):
                lm[col + i] = lm[a + i] * x
        return
    for j in range(nf):
        col = c + j * size
        vb = b + j * n
        for i in range(nf):
            o = i * n
            for t in range(n):
                lm[col + o + t] = lm[a + o + t] * lm[vb + t]


@jit
def _matmul(
    lm: F64, tmp: F64, a: np.uint64, b: np.uint64, c: np.uint64, n: np.uint64, nf: np.uint64
) -> None:
    # m_c[i, j] = sum over r in order of m_a[i, r] m_b[r, j]
    size = nf * n
    total = nf * size
    for q in range(total):
        tmp[q] = 0.0
    for j in range(nf):
        for r in range(nf):
            col_a = a + r * size
            x_at = b + (j * nf + r) * n
            out = j * size
            if n == _U1:
                x = lm[x_at]
                for i in range(nf):
                    tmp[out + i] += lm[col_a + i] * x
            else:
                for i in range(nf):
                    o = i * n
                    for t in range(n):
                        tmp[out + o + t] += lm[col_a + o + t] * lm[x_at + t]
    for q in range(total):
        lm[c + q] = tmp[q]


@jit
def _index(nf: np.uint64, f: float) -> np.uint64:
    # floor(F f) for an index fraction f in [0, 1) (clamped: a float32 fraction can round to 1).
    i = np.uint64(math.floor(float(nf) * f))
    return i if i < nf else nf - _U1


@jit
def _other(
    op: int,
    lm: F64,
    tmp: F64,
    a: np.uint64,
    b: np.uint64,
    c: np.uint64,
    n: np.uint64,
    nf: np.uint64,
    data: F64,
    rngl: U64,
) -> None:
    # The ops not on the hot path. data = (activation, f0, f1, f2) of the instruction.
    size = nf * n
    fn = float(nf)
    if op == 19:
        for e in range(_U0, size, n):
            for t in range(n):
                lm[c + e + t] = lm[a + t]
    elif op == 21:
        for t in range(n):
            acc = 0.0
            for i in range(nf):
                x = lm[a + i * n + t]
                acc += x * x
            lm[c + t] = math.sqrt(acc)
    elif op == 32:  # every column is v_a
        for j in range(nf):
            for q in range(size):
                lm[c + j * size + q] = lm[a + q]
    elif op == 33:  # every row is v_a: column j is v_a[j]
        for j in range(nf):
            for e in range(_U0, size, n):
                for t in range(n):
                    lm[c + j * size + e + t] = lm[a + j * n + t]
    elif op == 34:
        for t in range(n):
            acc = 0.0
            for i in range(nf):
                for j in range(nf):
                    x = lm[a + (j * nf + i) * n + t]
                    acc += x * x
            lm[c + t] = math.sqrt(acc)
    elif op == 35 or op == 36:  # column or row norms
        for t in range(n):
            for i in range(nf):
                acc = 0.0
                for j in range(nf):
                    at = (i * nf + j) if op == 35 else (j * nf + i)
                    x = lm[a + at * n + t]
                    acc += x * x
                lm[c + i * n + t] = math.sqrt(acc)
    elif op == 37:
        for i in range(nf):
            for j in range(nf):
                for t in range(n):
                    tmp[(j * nf + i) * n + t] = lm[a + (i * nf + j) * n + t]
        for q in range(nf * size):
            lm[c + q] = tmp[q]
    elif op == 43:
        _matmul(lm, tmp, a, b, c, n, nf)
    elif op == 50 or op == 54:
        for t in range(n):
            total = 0.0
            squares = 0.0
            for i in range(nf):
                x = lm[a + i * n + t]
                total += x
                squares += x * x
            lm[c + t] = total / fn if op == 50 else _std(total, squares, fn)
    elif op == 51 or op == 55:
        for t in range(n):
            total = 0.0
            squares = 0.0
            for i in range(nf):
                for j in range(nf):
                    x = lm[a + (j * nf + i) * n + t]
                    total += x
                    squares += x * x
            lm[c + t] = total / (fn * fn) if op == 51 else _std(total, squares, fn * fn)
    elif op == 52 or op == 53:
        for t in range(n):
            for i in range(nf):
                total = 0.0
                squares = 0.0
                for j in range(nf):
                    x = lm[a + (j * nf + i) * n + t]
                    total += x
                    squares += x * x
                lm[c + i * n + t] = total / fn if op == 52 else _std(total, squares, fn)
    elif op == 57:
        at = c + _index(nf, data[1]) * n
        for t in range(n):
            lm[at + t] = data[2]
    elif op == 58:
        at = c + (_index(nf, data[2]) * nf + _index(nf, data[1])) * n
        for t in range(n):
            lm[at + t] = data[3]
    elif op == 59 or op == 62:
        for t in range(n):
            lm[c + t] = _draw(op, data[1], data[2], rngl, t)
    elif op == 60 or op == 63:
        for t in range(n):
            for i in range(nf):
                lm[c + i * n + t] = _draw(op, data[1], data[2], rngl, t)
    elif op == 61 or op == 64:  # drawn row by row, as the original fills its matrices
        for t in range(n):
            for i in range(nf):
                for j in range(nf):
                    lm[c + (j * nf + i) * n + t] = _draw(op, data[1], data[2], rngl, t)
    else:  # the scalar ops of _scalar_op
        for t in range(n):
            lm[c + t] = _scalar_op(op, lm[a + t], lm[b + t])


@jit
def _exec(
    code: I64,
    comp: int,
    count: int,
    floats: F64,
    lm: F64,
    tmp: F64,
    n: np.uint64,
    nf: np.uint64,
    rngl: U64,
) -> None:
    """Runs the first `count` decoded instructions of component `comp` (0 setup,
    1 predict, 2 learn) on the `n` lanes of the memory `lm`."""
    vsize = nf * n
    msize = nf * vsize
    for j in range(count):
        op = code[comp, j, 0]
        a = np.uint64(code[comp, j, 1]) * n
        b = np.uint64(code[comp, j, 2]) * n
        c = np.uint64(code[comp, j, 3]) * n
        if op == 27:
            _dot(lm, a, b, c, n, nf)
        elif op == 18:
            _scale(lm, a, b, c, n, vsize)
        elif op == 56:
            x = floats[comp, code[comp, j, 4], 0]
            for t in range(n):
                lm[c + t] = x
        elif op == 2:
            _sub(lm, a, b, c, n)
        elif op == 3:
            _mul(lm, a, b, c, n)
        elif op == 1:
            _add(lm, a, b, c, n)
        elif op == 23:
            _add(lm, a, b, c, vsize)
        elif op == 31:
            _matvec(lm, tmp, a, b, c, n, nf)
        elif op == 48:
            _max(lm, a, b, c, vsize)
        elif op == 28:
            _outer(lm, a, b, c, n, nf)
        elif op == 39:
            _add(lm, a, b, c, msize)
        elif op == 25:
            _mul(lm, a, b, c, vsize)
        elif op == 24:
            _sub(lm, a, b, c, vsize)
        elif op == 4:
            _div(lm, a, b, c, n)
        elif op == 26:
            _div(lm, a, b, c, vsize)
        elif op == 29:
            _scale(lm, a, b, c, n, msize)
        elif op == 40:
            _sub(lm, a, b, c, msize)
        elif op == 41:
            _mul(lm, a, b, c, msize)
        elif op == 42:
            _div(lm, a, b, c, msize)
        elif op == 45:
            _min(lm, a, b, c, vsize)
        elif op == 46:
            _min(lm, a, b, c, msize)
        elif op == 49:
            _max(lm, a, b, c, msize)
        elif op == 16 or op == 20 or op == 22:
            _unary(op, lm, a, c, vsize)
        elif op == 17 or op == 30 or op == 38:
            _unary(op, lm, a, c, msize)
        else:
            _other(op, lm, tmp, a, b, c, n, nf, floats[comp, code[comp, j, 4]], rngl)


@jit_inline
def sigmoid(x: float) -> float:
    """The logistic function."""
    return 1.0 / (1.0 + math.exp(-x))


@jit
def flip_and_squash(x: float) -> float:
    """1 - (2/pi) atan(x); 0 for nan or inf."""
    if math.isnan(x) or math.isinf(x):
        return 0.0
    return 1.0 - (2.0 / math.pi) * math.atan(x)


Tasks = tuple[F64, F64, I64, F64, F64]
Mem = tuple[F64, F64, F64, F64]


# ----------------------------------------------------------------------------
# Decoding: liveness, then the kept instructions with their memory slots.


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
    info[_RANDOM_PL] = 0
    info[_PREDICT_V0] = 0
    info[_SETUP_DRAWS] = 0
    info[_MATRIX_PL] = 0
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
                    info[_RANDOM_PL] = 1
                else:
                    per = 1 if op <= 61 else 2  # Box-Muller takes two uniforms
                    shape = 1 if op == 59 or op == 62 else nf if op == 60 or op == 63 else nf * nf
                    info[_SETUP_DRAWS] += per * shape
            if comp > 0 and (OP_IN1[op] == 2 or OP_IN2[op] == 2 or OP_OUT[op] == 2):
                info[_MATRIX_PL] += 1
            if comp == 1 and OP_OUT[op] == 1 and ints[comp, k, 3] == 0:
                info[_PREDICT_V0] = 1
        info[3 + comp] = j


# ----------------------------------------------------------------------------
# Running lanes: setup, training with early stops, validation, fingerprints.


@jit_inline
def _load(lm: F64, v0: np.uint64, n: np.uint64, r: int, x: F64, task: int, idx: int) -> None:
    # Example idx of task `task` into v0 of lane r.
    if n == _U1:
        for i in range(x.shape[2]):
            lm[v0 + np.uint64(i)] = x[task, idx, i]
        return
    for i in range(x.shape[2]):
        lm[v0 + np.uint64(i) * n + np.uint64(r)] = x[task, idx, i]


@jit
def _start(floats: F64, n: int, nslots: int, nf: np.uint64, work: Work) -> None:
    # Zeroes the memory of n lanes and runs Setup.
    lm, tmp, code, info = work[0], work[1], work[6], work[7]
    for q in range(nslots * n):
        lm[q] = 0.0
    _exec(code, 0, info[3], floats, lm, tmp, np.uint64(n), nf, work[5][_RNG])


@jit
def _snapshot(lm: F64, snap: F64, n: int, r: int, nslots: int, back: bool) -> None:
    # Copies lane r's memory to the snapshot (or back).
    for q in range(nslots):
        if back:
            lm[q * n + r] = snap[q * n + r]
        else:
            snap[q * n + r] = lm[q * n + r]


@jit
def _validate(
    floats: F64,
    tasks: Tasks,
    tl: I64,
    n: int,
    nslots: int,
    nf: np.uint64,
    settings: tuple[int, bool, float],
    last: bool,
    work: Work,
) -> None:
    """One validation pass of the living lanes (Predict only, memory kept); each
    lane's best fitness so far is raised to this epoch's. A lane whose error is
    NaN or too large scores 0 and stops there (its memory is kept as it was at
    that point, for the epochs after)."""
    xv, yv = tasks[3], tasks[4]
    n_valid, accuracy, max_err = settings
    lm, tmp, snap, lf, li = work[0], work[1], work[2], work[3], work[4]
    code, info = work[6], work[7]
    nu = np.uint64(n)
    v0 = np.uint64(info[6]) * nu
    active = 0
    for r in range(n):
        li[_VSTATE, r] = 0 if li[_ALIVE, r] != 0 else 1
        lf[_LOSS, r] = 0.0
        active += li[_ALIVE, r]
    for e in range(n_valid):
        if active == 0:
            break
        for r in range(n):
            if li[_VSTATE, r] == 0:
                _load(lm, v0, nu, r, xv, tl[r], e)
                lm[r] = 0.0
        _exec(code, 1, info[4], floats, lm, tmp, nu, nf, work[5][_RNG])
        for r in range(n):
            if li[_VSTATE, r] != 0:
                continue
            p = lm[n + r]
            if accuracy:
                lf[_LOSS, r] += 1.0 if (yv[tl[r], e] > 0.5) != (sigmoid(p) > 0.5) else 0.0
            else:
                d = yv[tl[r], e] - p
                if math.isnan(d) or abs(d) > max_err:
                    li[_VSTATE, r] = 2
                    active -= 1
                    if not last:
                        _snapshot(lm, snap, n, r, nslots, False)
                else:
                    lf[_LOSS, r] += d * d
    for r in range(n):
        state = li[_VSTATE, r]
        if state == 1:
            continue
        if state == 2:
            fit = 0.0
            if not last:
                _snapshot(lm, snap, n, r, nslots, True)
        elif accuracy:
            fit = 1.0 - lf[_LOSS, r] / n_valid
        else:
            fit = flip_and_squash(math.sqrt(lf[_LOSS, r] / n_valid))
        lf[_BEST, r] = max(lf[_BEST, r], fit)


@jit
def run_lanes(
    floats: F64,
    tasks: Tasks,
    tl: I64,
    n: int,
    nslots: int,
    nf: np.uint64,
    settings: tuple[int, bool, float],
    counter: I64,
    work: Work,
) -> None:
    """Fitness of the decoded program on tasks tl[:n], side by side, into the
    lanes' _FIT row: Setup, then epochs of training (each lane stops at its
    first NaN or error above max_abs_error) each followed by validation; the
    best epoch's validation fitness (0 on a failure in the first epoch)."""
    x, y, order = tasks[0], tasks[1], tasks[2]
    accuracy, max_err = settings[1], settings[2]
    lm, tmp, lf, li, code, info = work[0], work[1], work[3], work[4], work[6], work[7]
    rngl = work[5][_RNG]
    nu = np.uint64(n)
    v0 = np.uint64(info[6]) * nu
    reload = info[_PREDICT_V0] != 0
    _start(floats, n, nslots, nf, work)
    for r in range(n):
        lf[_BEST, r] = 0.0
        li[_ALIVE, r] = 1
    alive = n
    n_train = x.shape[1]
    epochs = order.shape[1]
    for epoch in range(epochs):
        for step in range(n_train):
            for r in range(n):
                if li[_ALIVE, r] != 0:
                    task = tl[r]
                    idx = order[task, epoch, step]
                    li[_IDX, r] = idx
                    _load(lm, v0, nu, r, x, task, idx)
                    lm[r] = 0.0
            _exec(code, 1, info[4], floats, lm, tmp, nu, nf, rngl)
            counter[0] += alive
            for r in range(n):
                if li[_ALIVE, r] == 0:
                    continue
                p = lm[n + r]
                if accuracy:
                    p = sigmoid(p)
                    lm[n + r] = p
                label = y[tl[r], li[_IDX, r]]
                err = abs(label - p)
                if math.isnan(err) or err > max_err:
                    li[_ALIVE, r] = 0
                    alive -= 1
                    lf[_FIT, r] = lf[_BEST, r]
                    continue
                if reload:
                    _load(lm, v0, nu, r, x, tl[r], li[_IDX, r])
                lm[r] = label
            if alive == 0:
                return
            _exec(code, 2, info[5], floats, lm, tmp, nu, nf, rngl)
        _validate(floats, tasks, tl, n, nslots, nf, settings, epoch == epochs - 1, work)
    for r in range(n):
        if li[_ALIVE, r] != 0:
            lf[_FIT, r] = lf[_BEST, r]


@jit
def _mix(h: np.uint64, x: np.uint64) -> np.uint64:
    h ^= x + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2))
    return h


@jit
def _bits(x: float, buf: F64, ubuf: U64) -> np.uint64:
    if x == 0.0:
        return np.uint64(0)
    if math.isnan(x):
        return np.uint64(0x7FF8000000000000)
    buf[0] = x
    return ubuf[0]  # type: ignore[no-any-return]


@jit
def fingerprint_lanes(
    floats: F64,
    tasks: Tasks,
    tl: I64,
    n: int,
    nslots: int,
    nf: np.uint64,
    fec: tuple[int, int, bool],
    counter: I64,
    work: Work,
) -> None:
    """FEC fingerprints of the decoded program on tasks tl[:n] into the lanes'
    _KEY row: a hash of the errors of a short run (the first `fec[0]` train and
    `fec[1]` valid examples, every lane's generator seeded with FEC_SEED)."""
    x, y, xv, yv = tasks[0], tasks[1], tasks[3], tasks[4]
    n_tr, n_va, accuracy = fec
    lm, tmp, lu, code, info = work[0], work[1], work[5], work[6], work[7]
    rngl, hashes = lu[_RNG], lu[_HASH]
    buf = tmp[-1:]
    ubuf = buf.view(np.uint64)
    nu = np.uint64(n)
    v0 = np.uint64(info[6]) * nu
    reload = info[_PREDICT_V0] != 0
    rng_seed(rngl, FEC_SEED)
    for r in range(n):
        rngl[r] = rngl[0]
        hashes[r] = np.uint64(42)
    _start(floats, n, nslots, nf, work)
    for e in range(n_tr):
        for r in range(n):
            _load(lm, v0, nu, r, x, tl[r], e)
            lm[r] = 0.0
        _exec(code, 1, info[4], floats, lm, tmp, nu, nf, rngl)
        for r in range(n):
            p = lm[n + r]
            if accuracy:
                p = sigmoid(p)
                lm[n + r] = p
            hashes[r] = _mix(hashes[r], _bits(abs(y[tl[r], e] - p), buf, ubuf))
            if reload:
                _load(lm, v0, nu, r, x, tl[r], e)
            lm[r] = y[tl[r], e]
        _exec(code, 2, info[5], floats, lm, tmp, nu, nf, rngl)
        counter[0] += n
    for e in range(n_va):
        for r in range(n):
            _load(lm, v0, nu, r, xv, tl[r], e)
            lm[r] = 0.0
        _exec(code, 1, info[4], floats, lm, tmp, nu, nf, rngl)
        for r in range(n):
            p = lm[n + r]
            if accuracy:
                err = 1.0 if (yv[tl[r], e] > 0.5) != (sigmoid(p) > 0.5) else 0.0
            else:
                err = abs(yv[tl[r], e] - p)
            hashes[r] = _mix(hashes[r], _bits(err, buf, ubuf))
    for r in range(n):
        h = _mix(hashes[r], np.uint64(tl[r]))
        h = _mix(h, np.uint64(x.shape[1]))
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        lu[_KEY, r] = h


# ----------------------------------------------------------------------------
# Evaluation over tasks.


@jit_alloc
def new_work(mem: Mem, n_tasks: int, length: int) -> Work:
    """Scratch for evaluating programs of up to `length` instructions per
    component on up to `n_tasks` tasks with memory shaped like `mem`."""
    ns, nv, nm, nf = mem[0].shape[0], mem[1].shape[0], mem[2].shape[0], mem[1].shape[1]
    nslots = ns + nv * nf + nm * nf * nf
    lanes = max(n_tasks, 1)
    return (
        np.zeros(nslots * lanes),
        np.zeros(nf * nf * lanes + 2 * lanes + 1),
        np.zeros(nslots * lanes),
        np.zeros((3, lanes)),
        np.zeros((7, lanes), dtype=np.int64),
        np.zeros((3, lanes), dtype=np.uint64),
        np.zeros((3, max(length, 1), 5), dtype=np.int64),
        np.zeros(8, dtype=np.int64),
        np.zeros((3, max(length, 1)), dtype=np.uint8),
        np.zeros((3, ns + nv + nm), dtype=np.uint8),
    )


@jit
def _full(
    floats: F64,
    tasks: Tasks,
    tl: I64,
    n: int,
    nslots: int,
    nf: np.uint64,
    settings: tuple[int, bool, float],
    rng: U64,
    counter: I64,
    fits: F64,
    work: Work,
) -> None:
    # Full evaluations of tasks tl[:n] into fits, drawing from `rng` as if the
    # tasks ran one after another (which they do with random ops in Predict or
    # Learn, or with large matrices).
    lf, info = work[3], work[7]
    rngl = work[5][_RNG]
    if info[_RANDOM_PL] != 0 or (nf >= np.uint64(_LANES_MAX_F) and info[_MATRIX_PL] != 0):
        for r in range(n):
            rngl[0] = rng[0]
            run_lanes(floats, tasks, tl[r : r + 1], 1, nslots, nf, settings, counter, work)
            rng[0] = rngl[0]
            fits[tl[r]] = lf[_FIT, 0]
        return
    state = rng[0]
    for r in range(n):
        rngl[r] = state
        for _ in range(info[_SETUP_DRAWS]):
            state ^= state >> _S12
            state ^= state << _S25
            state ^= state >> _S27
    rng[0] = state
    run_lanes(floats, tasks, tl, n, nslots, nf, settings, counter, work)
    for r in range(n):
        fits[tl[r]] = lf[_FIT, r]


@jit
def _group(
    t0: int,
    t1: int,
    floats: F64,
    tasks: Tasks,
    icfg: I64,
    settings: tuple[int, bool, float],
    nslots: int,
    nf: np.uint64,
    rngs: tuple[U64, U64],
    cache: Cache,
    counter: I64,
    fits: F64,
    work: Work,
) -> None:
    # Fitness of tasks t0..t1-1 into fits: with FEC, fingerprints of all of them
    # side by side, then the cache in task order (a miss inserts a placeholder,
    # -2 - task, filled in after), then the misses side by side.
    li, lu = work[4], work[5]
    n = t1 - t0
    for r in range(n):
        li[_TASK, r] = t0 + r
    if icfg[2] == 0:
        _full(floats, tasks, li[_TASK], n, nslots, nf, settings, rngs[0], counter, fits, work)
        return
    fec = (icfg[3], icfg[4], settings[1])
    fingerprint_lanes(floats, tasks, li[_TASK], n, nslots, nf, fec, counter, work)
    rngs[1][0] = lu[_RNG, n - 1]
    keys, values = cache[0], cache[1]
    misses = 0
    for r in range(n):
        li[_ALIAS, r] = -1
        fit = cache_find(cache, lu[_KEY, r], icfg[5])
        if fit >= 0.0:
            counter[2] += 1
            fits[t0 + r] = fit
        elif fit <= -2.0:  # a placeholder of this group (a 64-bit collision)
            counter[2] += 1
            li[_ALIAS, r] = int(-2.0 - fit)
        else:
            counter[3] += 1
            li[_SLOT, r] = cache_insert_at(cache, lu[_KEY, r], -2.0 - (t0 + r))
            li[_MISS, misses] = t0 + r
            misses += 1
    if misses > 0:
        _full(floats, tasks, li[_MISS], misses, nslots, nf, settings, rngs[0], counter, fits, work)
    for r in range(n):
        t = t0 + r
        if li[_ALIAS, r] >= 0:
            fits[t] = fits[li[_ALIAS, r]]
            continue
        j = li[_SLOT, r]
        if j >= 0 and keys[j] == lu[_KEY, r] and values[j] == -2.0 - t:
            values[j] = fits[t]
        li[_SLOT, r] = -1


@jit
def evaluate_with(
    ints: I64,
    floats: F64,
    sizes: I64,
    tasks: Tasks,
    icfg: I64,
    fcfg: F64,
    mem: Mem,
    rngs: tuple[U64, U64],
    cache: Cache,
    counter: I64,
    fits: F64,
    work: Work,
) -> float:
    """`evaluate` with its scratch given (`new_work`)."""
    n_tasks = tasks[0].shape[0]
    accuracy = icfg[1] != 0
    settings = (icfg[0], accuracy, fcfg[0])
    ns, nv, nm, nf = mem[0].shape[0], mem[1].shape[0], mem[2].shape[0], mem[1].shape[1]
    counter[1] += 1
    decode(ints, sizes, ns, nv, nm, nf, work)
    work[7][6] = ns  # the first slot of v0
    nslots = ns + nv * nf + nm * nf * nf
    li = work[4]
    for r in range(li.shape[1]):
        li[_SLOT, r] = -1
    nfu = np.uint64(nf)
    done = n_tasks
    hurdle = icfg[7]
    if 0 < hurdle < n_tasks:
        _group(0, hurdle, floats, tasks, icfg, settings, nslots, nfu, rngs, cache, counter, fits,
               work)  # fmt: skip
        if _mean(fits, hurdle) < fcfg[1]:
            counter[4] += 1
            done = hurdle
        else:
            _group(hurdle, n_tasks, floats, tasks, icfg, settings, nslots, nfu, rngs, cache,
                   counter, fits, work)  # fmt: skip
    else:
        _group(0, n_tasks, floats, tasks, icfg, settings, nslots, nfu, rngs, cache, counter, fits,
               work)  # fmt: skip
    if icfg[6] != 0:
        return _median(fits, done)
    return _mean(fits, done)


@jit_alloc
def evaluate(
    ints: I64,
    floats: F64,
    sizes: I64,
    tasks: Tasks,
    icfg: I64,
    fcfg: F64,
    mem: Mem,
    rngs: tuple[U64, U64],
    cache: Cache,
    counter: I64,
    fits: F64,
) -> float:
    """Fitness of a program on every task of `tasks` (arrays with a leading task axis).

    icfg: (n_valid, accuracy, use_fec, fec_train, fec_valid, forget_every,
    median, hurdle_tasks); fcfg: (max_abs_error, hurdle). With hurdle_tasks > 0,
    a program whose mean over the first hurdle_tasks tasks is below the hurdle
    stops there with that mean. counter: (train steps, programs, FEC hits,
    FEC misses, hurdle stops). `mem` gives the memory's shape (its arrays are
    not used); rngs: the evaluation's and the fingerprints' generators.
    """
    work = new_work(mem, tasks[0].shape[0], ints.shape[1])
    return evaluate_with(
        ints, floats, sizes, tasks, icfg, fcfg, mem, rngs, cache, counter, fits, work
    )


@jit_alloc
def fingerprint(
    ints: I64,
    floats: F64,
    sizes: I64,
    tasks: Tasks,
    fec: tuple[int, int, int, bool],
    mem: Mem,
    frng: U64,
    counter: I64,
) -> np.uint64:
    """The FEC fingerprint of a program on task `fec[2]`: a hash of the errors of
    a short run (first `fec[0]` train and `fec[1]` valid examples, fixed seed)."""
    ns, nv, nm, nf = mem[0].shape[0], mem[1].shape[0], mem[2].shape[0], mem[1].shape[1]
    work = new_work(mem, 1, ints.shape[1])
    decode(ints, sizes, ns, nv, nm, nf, work)
    work[7][6] = ns
    tl = work[4][_TASK]
    tl[0] = fec[2]
    nslots = ns + nv * nf + nm * nf * nf
    fingerprint_lanes(
        floats, tasks, tl, 1, nslots, np.uint64(nf), (fec[0], fec[1], fec[3]), counter, work
    )
    frng[0] = work[5][_RNG, 0]
    return work[5][_KEY, 0]  # type: ignore[no-any-return]


@jit
def _mean(x: F64, n: int) -> float:
    total = 0.0
    for i in range(n):
        total += x[i]
    return total / n


@jit
def _median(x: F64, n: int) -> float:
    # Insertion sort of the first n entries in place (n is a few tasks).
    for i in range(1, n):
        key = x[i]
        j = i - 1
        while j >= 0 and x[j] > key:
            x[j + 1] = x[j]
            j -= 1
        x[j + 1] = key
    half = n // 2
    return float(x[half]) if n % 2 == 1 else 0.5 * float(x[half - 1] + x[half])
