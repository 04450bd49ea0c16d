"""Compiled ops: the random generator and the kernels that run decoded
instructions on lane memory (`execute`).

The random generator is xorshift64* over a `uint64[1]` state (`_reference.py`
has the same generator in plain Python); `_lane_*` run one generator per lane.

Lane memory holds each slot (a scalar, a vector entry or a matrix entry) for
every lane next to each other: slot q of lane t is at q n + t for n lanes.
Matrices are stored column by column (entry (i, j) at slot base + j F + i), so
a matrix-vector product runs down contiguous columns without reordering sums.
Unsigned indices: numba handles negative indices of signed ones, which keeps
LLVM from vectorizing the loops.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from automorph.zero._jit import jit, jit_inline

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]

_MUL = np.uint64(2685821657736338717)
_S12 = np.uint64(12)
_S25 = np.uint64(25)
_S27 = np.uint64(27)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_U0 = np.uint64(0)
_U1 = np.uint64(1)


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
def rng_step(x: np.uint64) -> np.uint64:
    """The state after x in xorshift64* (one draw)."""
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    return x


@jit_inline
def _lane_next(state: U64, t: int) -> np.uint64:
    # rng_next on the generator state[t] (one per lane).
    x = rng_step(state[t])
    state[t] = x
    return x * _MUL


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
def execute(
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
