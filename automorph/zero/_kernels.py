"""Compiled evaluator: training and validation of a decoded program on tasks
side by side, FEC fingerprints, and the evaluation over tasks (`evaluate`).
The ops and the random generator are in `_op_kernels.py`, decoding in
`_decode.py`.

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
  stream would be at that task. A program with random ops in Predict or Learn
  (whose draws depend on where each task stops) runs its tasks one at a time,
  and so does one with matrix ops in Predict or Learn on F >= 8 features (its
  matrices side by side overflow the L1 cache, and a loop over a few lanes is
  too short to vectorize; one lane's columns are not).
- Unsigned indices: numba handles negative indices of signed ones, which keeps
  LLVM from vectorizing the loops.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from automorph.zero._decode import (
    ALIAS,
    ALIVE,
    BEST,
    FIT,
    HASH,
    IDX,
    KEY,
    LOSS,
    MATRIX_PL,
    MISS,
    PREDICT_V0,
    RANDOM_PL,
    RNG,
    SETUP_DRAWS,
    SLOT,
    TASK,
    VSTATE,
    Work,
    decode,
)  # fmt: skip
from automorph.zero._fec_kernel import Cache, cache_find, cache_insert_at
from automorph.zero._jit import jit, jit_alloc, jit_inline
from automorph.zero._op_kernels import execute, flip_and_squash, rng_seed, rng_step, sigmoid

__all__ = [
    "FEC_SEED", "Mem", "Tasks", "Work", "evaluate", "evaluate_with", "fingerprint",
    "fingerprint_lanes", "new_work", "rng_seed", "run_lanes",
]  # fmt: skip
"""`rng_seed` is re-exported: callers seed the evaluation's generators with it."""

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
FEC_SEED = 235732282
_U1 = np.uint64(1)
_LANES_MAX_F = 8
"""From this many features on, programs with matrix ops in Predict or Learn run their
tasks one at a time: their matrices, side by side, no longer fit the L1 cache, and
the lane loops of matrix-vector products are too short to vectorize."""

Tasks = tuple[F64, F64, I64, F64, F64]
Mem = tuple[F64, F64, F64, F64]


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
    execute(code, 0, info[3], floats, lm, tmp, np.uint64(n), nf, work[5][RNG])


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
        li[VSTATE, r] = 0 if li[ALIVE, r] != 0 else 1
        lf[LOSS, r] = 0.0
        active += li[ALIVE, r]
    for e in range(n_valid):
        if active == 0:
            break
        for r in range(n):
            if li[VSTATE, r] == 0:
                _load(lm, v0, nu, r, xv, tl[r], e)
                lm[r] = 0.0
        execute(code, 1, info[4], floats, lm, tmp, nu, nf, work[5][RNG])
        for r in range(n):
            if li[VSTATE, r] != 0:
                continue
            p = lm[n + r]
            if accuracy:
                lf[LOSS, r] += 1.0 if (yv[tl[r], e] > 0.5) != (sigmoid(p) > 0.5) else 0.0
            else:
                d = yv[tl[r], e] - p
                if math.isnan(d) or abs(d) > max_err:
                    li[VSTATE, r] = 2
                    active -= 1
                    if not last:
                        _snapshot(lm, snap, n, r, nslots, False)
                else:
                    lf[LOSS, r] += d * d
    for r in range(n):
        state = li[VSTATE, r]
        if state == 1:
            continue
        if state == 2:
            fit = 0.0
            if not last:
                _snapshot(lm, snap, n, r, nslots, True)
        elif accuracy:
            fit = 1.0 - lf[LOSS, r] / n_valid
        else:
            fit = flip_and_squash(math.sqrt(lf[LOSS, r] / n_valid))
        lf[BEST, r] = max(lf[BEST, r], fit)


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
    lanes' FIT row: Setup, then epochs of training (each lane stops at its
    first NaN or error above max_abs_error) each followed by validation; the
    best epoch's validation fitness (0 on a failure in the first epoch)."""
    x, y, order = tasks[0], tasks[1], tasks[2]
    accuracy, max_err = settings[1], settings[2]
    lm, tmp, lf, li, code, info = work[0], work[1], work[3], work[4], work[6], work[7]
    rngl = work[5][RNG]
    nu = np.uint64(n)
    v0 = np.uint64(info[6]) * nu
    reload = info[PREDICT_V0] != 0
    _start(floats, n, nslots, nf, work)
    for r in range(n):
        lf[BEST, r] = 0.0
        li[ALIVE, r] = 1
    alive = n
    n_train = x.shape[1]
    epochs = order.shape[1]
    for epoch in range(epochs):
        for step in range(n_train):
            for r in range(n):
                if li[ALIVE, r] != 0:
                    task = tl[r]
                    idx = order[task, epoch, step]
                    li[IDX, r] = idx
                    _load(lm, v0, nu, r, x, task, idx)
                    lm[r] = 0.0
            execute(code, 1, info[4], floats, lm, tmp, nu, nf, rngl)
            counter[0] += alive
            for r in range(n):
                if li[ALIVE, r] == 0:
                    continue
                p = lm[n + r]
                if accuracy:
                    p = sigmoid(p)
                    lm[n + r] = p
                label = y[tl[r], li[IDX, r]]
                err = abs(label - p)
                if math.isnan(err) or err > max_err:
                    li[ALIVE, r] = 0
                    alive -= 1
                    lf[FIT, r] = lf[BEST, r]
                    continue
                if reload:
                    _load(lm, v0, nu, r, x, tl[r], li[IDX, r])
                lm[r] = label
            if alive == 0:
                return
            execute(code, 2, info[5], floats, lm, tmp, nu, nf, rngl)
        _validate(floats, tasks, tl, n, nslots, nf, settings, epoch == epochs - 1, work)
    for r in range(n):
        if li[ALIVE, r] != 0:
            lf[FIT, r] = lf[BEST, r]


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
    KEY row: a hash of the errors of a short run (the first `fec[0]` train and
    `fec[1]` valid examples, every lane's generator seeded with FEC_SEED)."""
    x, y, xv, yv = tasks[0], tasks[1], tasks[3], tasks[4]
    n_tr, n_va, accuracy = fec
    lm, tmp, lu, code, info = work[0], work[1], work[5], work[6], work[7]
    rngl, hashes = lu[RNG], lu[HASH]
    buf = tmp[-1:]
    ubuf = buf.view(np.uint64)
    nu = np.uint64(n)
    v0 = np.uint64(info[6]) * nu
    reload = info[PREDICT_V0] != 0
    rng_seed(rngl, FEC_SEED)
    for r in range(n):
        rngl[r] = rngl[0]
        hashes[r] = np.uint64(42)
    _start(floats, n, nslots, nf, work)
    for e in range(n_tr):
        for r in range(n):
            _load(lm, v0, nu, r, x, tl[r], e)
            lm[r] = 0.0
        execute(code, 1, info[4], floats, lm, tmp, nu, nf, rngl)
        for r in range(n):
            p = lm[n + r]
            if accuracy:
                p = sigmoid(p)
                lm[n + r] = p
            hashes[r] = _mix(hashes[r], _bits(abs(y[tl[r], e] - p), buf, ubuf))
            if reload:
                _load(lm, v0, nu, r, x, tl[r], e)
            lm[r] = y[tl[r], e]
        execute(code, 2, info[5], floats, lm, tmp, nu, nf, rngl)
        counter[0] += n
    for e in range(n_va):
        for r in range(n):
            _load(lm, v0, nu, r, xv, tl[r], e)
            lm[r] = 0.0
        execute(code, 1, info[4], floats, lm, tmp, nu, nf, rngl)
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
        lu[KEY, r] = h


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
    rngl = work[5][RNG]
    if info[RANDOM_PL] != 0 or (nf >= np.uint64(_LANES_MAX_F) and info[MATRIX_PL] != 0):
        for r in range(n):
            rngl[0] = rng[0]
            run_lanes(floats, tasks, tl[r : r + 1], 1, nslots, nf, settings, counter, work)
            rng[0] = rngl[0]
            fits[tl[r]] = lf[FIT, 0]
        return
    state = rng[0]
    for r in range(n):
        rngl[r] = state
        for _ in range(info[SETUP_DRAWS]):
            state = rng_step(state)
    rng[0] = state
    run_lanes(floats, tasks, tl, n, nslots, nf, settings, counter, work)
    for r in range(n):
        fits[tl[r]] = lf[FIT, r]


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
        li[TASK, r] = t0 + r
    if icfg[2] == 0:
        _full(floats, tasks, li[TASK], n, nslots, nf, settings, rngs[0], counter, fits, work)
        return
    fec = (icfg[3], icfg[4], settings[1])
    fingerprint_lanes(floats, tasks, li[TASK], n, nslots, nf, fec, counter, work)
    rngs[1][0] = lu[RNG, n - 1]
    keys, values = cache[0], cache[1]
    misses = 0
    for r in range(n):
        li[ALIAS, r] = -1
        fit = cache_find(cache, lu[KEY, r], icfg[5])
        if fit >= 0.0:
            counter[2] += 1
            fits[t0 + r] = fit
        elif fit <= -2.0:  # a placeholder of this group (a 64-bit collision)
            counter[2] += 1
            li[ALIAS, r] = int(-2.0 - fit)
        else:
            counter[3] += 1
            li[SLOT, r] = cache_insert_at(cache, lu[KEY, r], -2.0 - (t0 + r))
            li[MISS, misses] = t0 + r
            misses += 1
    if misses > 0:
        _full(floats, tasks, li[MISS], misses, nslots, nf, settings, rngs[0], counter, fits, work)
    for r in range(n):
        t = t0 + r
        if li[ALIAS, r] >= 0:
            fits[t] = fits[li[ALIAS, r]]
            continue
        j = li[SLOT, r]
        if j >= 0 and keys[j] == lu[KEY, r] and values[j] == -2.0 - t:
            values[j] = fits[t]
        li[SLOT, r] = -1


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
        li[SLOT, r] = -1
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
    tl = work[4][TASK]
    tl[0] = fec[2]
    nslots = ns + nv * nf + nm * nf * nf
    fingerprint_lanes(
        floats, tasks, tl, 1, nslots, np.uint64(nf), (fec[0], fec[1], fec[3]), counter, work
    )
    frng[0] = work[5][RNG, 0]
    return work[5][KEY, 0]  # type: ignore[no-any-return]


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
