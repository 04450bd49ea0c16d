"""Compiled search: random instructions, the original's mutations and one
stretch of regularized evolution over a population held in arrays.

`space` = (allowed ops [3, K], number allowed [3], memory sizes (NS, NV, NM),
size min [3], size max [3], mutation types [n]).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from automorph.zero._fec_kernel import Cache
from automorph.zero._jit import jit, jit_alloc
from automorph.zero._kernels import evaluate_with, new_work
from automorph.zero._op_kernels import rng_gauss, rng_int, rng_uniform
from automorph.zero._ops import OP_CLASS, OP_IN1, OP_IN2, OP_OUT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
Space = tuple[I64, I64, I64, I64, I64, I64]
ALTER_PARAM, RANDOMIZE_INSTRUCTION, RANDOMIZE_COMPONENT_FUNCTION, IDENTITY = 0, 1, 2, 3
INSERT_INSTRUCTION, REMOVE_INSTRUCTION, TRADE_INSTRUCTION, RANDOMIZE_ALGORITHM = 4, 5, 6, 7


@jit
def _f32(x: float) -> float:
    return float(np.float32(x))


@jit
def _address(kind: int, output: bool, memory: I64, rng: U64) -> int:
    if kind < 0:
        return 0
    if output and kind < 2:  # s0 (label) and v0 (features) are never outputs
        return 1 + rng_int(rng, memory[kind] - 1)
    return rng_int(rng, memory[kind])


@jit
def _new_data(op: int, f: F64, rng: U64) -> None:
    for r in range(4):
        f[r] = 0.0
    if op == 56:
        f[0] = rng_uniform(rng) * 2.0 - 1.0
    elif op == 57:
        f[1] = _f32(rng_uniform(rng))
        f[2] = _f32(rng_uniform(rng) * 2.0 - 1.0)
    elif op == 58:
        f[1] = _f32(rng_uniform(rng))
        f[2] = _f32(rng_uniform(rng))
        f[3] = _f32(rng_uniform(rng) * 2.0 - 1.0)
    elif op >= 62:
        f[1] = _f32(rng_uniform(rng) * 2.0 - 1.0)
        f[2] = _f32(rng_uniform(rng))
    elif op >= 59:
        f[1] = _f32(rng_uniform(rng) * 2.0 - 1.0)
        f[2] = _f32(rng_uniform(rng) * 2.0 - 1.0)


@jit
def set_op(op: int, i: I64, f: F64, memory: I64, rng: U64) -> None:
    """Sets an instruction's op and draws all its parameters."""
    i[0] = op
    i[1] = _address(OP_IN1[op], False, memory, rng)
    i[2] = _address(OP_IN2[op], False, memory, rng)
    i[3] = _address(OP_OUT[op], True, memory, rng)
    _new_data(op, f, rng)


@jit
def random_instruction(k: int, i: I64, f: F64, space: Space, rng: U64) -> None:
    """A fresh random instruction for component k (op uniform over its allowed list)."""
    allowed, n_allowed, memory = space[0], space[1], space[2]
    set_op(allowed[k, rng_int(rng, n_allowed[k])], i, f, memory, rng)


@jit
def _scaled(x: float, rng: U64, flip: bool) -> float:
    if flip and rng_uniform(rng) < 0.1:
        return _f32(-x)
    return _f32(x * math.exp(rng_gauss(rng)))


@jit
def _alter_data(op: int, f: F64, rng: U64) -> None:
    if op == 56:
        # The activation constant is a double (no float rounding).
        f[0] = -f[0] if rng_uniform(rng) < 0.1 else f[0] * math.exp(rng_gauss(rng))
    elif op == 57:
        if rng_int(rng, 2) == 0:
            f[1] = _f32(rng_uniform(rng))
        else:
            f[2] = _scaled(f[2], rng, True)
    elif op == 58:
        r = rng_int(rng, 3)
        if r < 2:
            f[1 + r] = _f32(rng_uniform(rng))
        else:
            f[3] = _scaled(f[3], rng, True)
    elif op >= 62:
        if rng_int(rng, 2) == 0:
            f[1] = _scaled(f[1], rng, True)
        else:
            f[2] = _scaled(f[2], rng, False)
    elif op >= 59:
        r = 1 + rng_int(rng, 2)
        f[r] = _scaled(f[r], rng, True)
        if f[1] > f[2]:
            f[1], f[2] = f[2], f[1]


@jit
def alter_param(i: I64, f: F64, memory: I64, rng: U64) -> None:
    """Re-draws one parameter of an instruction, keeping its op."""
    op = i[0]
    kind = OP_CLASS[op]
    if kind == 1:
        if rng_int(rng, 2) == 0:
            i[3] = _address(OP_OUT[op], True, memory, rng)
        else:
            _alter_data(op, f, rng)
    elif kind == 2:
        if rng_int(rng, 2) == 0:
            i[1] = _address(OP_IN1[op], False, memory, rng)
        else:
            i[3] = _address(OP_OUT[op], True, memory, rng)
    elif kind == 3:
        r = rng_int(rng, 3)
        if r == 0:
            i[1] = _address(OP_IN1[op], False, memory, rng)
        elif r == 1:
            i[2] = _address(OP_IN2[op], False, memory, rng)
        else:
            i[3] = _address(OP_OUT[op], True, memory, rng)


@jit
def randomize_component(k: int, ints: I64, floats: F64, sizes: I64, space: Space, rng: U64) -> None:
    """Replaces every instruction of component k by a random one (size kept)."""
    if space[1][k] == 0:
        return
    for n in range(sizes[k]):
        random_instruction(k, ints[k, n], floats[k, n], space, rng)


@jit
def _insert(k: int, ints: I64, floats: F64, sizes: I64, space: Space, rng: U64) -> None:
    n = sizes[k]
    if n >= space[4][k] - 1:
        return
    pos = rng_int(rng, n + 1)
    for j in range(n, pos, -1):
        for r in range(4):
            ints[k, j, r] = ints[k, j - 1, r]
            floats[k, j, r] = floats[k, j - 1, r]
    random_instruction(k, ints[k, pos], floats[k, pos], space, rng)
    sizes[k] = n + 1


@jit
def _remove(k: int, ints: I64, floats: F64, sizes: I64, space: Space, rng: U64) -> None:
    n = sizes[k]
    if n <= space[3][k] or n == 0:
        return
    pos = rng_int(rng, n)
    for j in range(pos, n - 1):
        for r in range(4):
            ints[k, j, r] = ints[k, j + 1, r]
            floats[k, j, r] = floats[k, j + 1, r]
    for r in range(4):
        ints[k, n - 1, r] = 0
        floats[k, n - 1, r] = 0.0
    sizes[k] = n - 1


@jit
def mutate(ints: I64, floats: F64, sizes: I64, space: Space, rng: U64) -> None:
    """Applies one mutation, its type uniform over `space[5]`, in place."""
    mutations = space[5]
    kind = mutations[rng_int(rng, mutations.shape[0])]
    if kind == IDENTITY:
        return
    if kind == RANDOMIZE_ALGORITHM:
        for k in range(3):
            randomize_component(k, ints, floats, sizes, space, rng)
        return
    usable = 0
    for k in range(3):
        usable += space[1][k] > 0
    if usable == 0:
        return
    pick = rng_int(rng, usable)
    k = 0
    for c in range(3):
        if space[1][c] > 0:
            if pick == 0:
                k = c
                break
            pick -= 1
    if kind == ALTER_PARAM or kind == RANDOMIZE_INSTRUCTION:
        if sizes[k] == 0:
            return
        n = rng_int(rng, sizes[k])
        if kind == ALTER_PARAM:
            alter_param(ints[k, n], floats[k, n], space[2], rng)
        else:
            random_instruction(k, ints[k, n], floats[k, n], space, rng)
    elif kind == RANDOMIZE_COMPONENT_FUNCTION:
        randomize_component(k, ints, floats, sizes, space, rng)
    elif kind == INSERT_INSTRUCTION:
        _insert(k, ints, floats, sizes, space, rng)
    elif kind == REMOVE_INSTRUCTION:
        _remove(k, ints, floats, sizes, space, rng)
    elif kind == TRADE_INSTRUCTION:
        _insert(k, ints, floats, sizes, space, rng)
        _remove(k, ints, floats, sizes, space, rng)


@jit
def _copy(
    pop_i: I64, pop_f: F64, pop_n: I64, j: int, ints: I64, floats: F64, sizes: I64, into: bool
) -> None:
    # Member j of the population to the child buffers, or back (into=True).
    for k in range(3):
        if into:
            pop_n[j, k] = sizes[k]
        else:
            sizes[k] = pop_n[j, k]
        for n in range(ints.shape[1]):
            for r in range(4):
                if into:
                    pop_i[j, k, n, r] = ints[k, n, r]
                    pop_f[j, k, n, r] = floats[k, n, r]
                else:
                    ints[k, n, r] = pop_i[j, k, n, r]
                    floats[k, n, r] = pop_f[j, k, n, r]


@jit_alloc
def evolve(
    pop: tuple[I64, F64, I64, F64],
    cursor: I64,
    n_children: int,
    select: tuple[int, float],
    space: Space,
    tasks: tuple[F64, F64, I64, F64, F64],
    cfg: tuple[I64, F64],
    mem: tuple[F64, F64, F64, F64],
    rngs: tuple[U64, U64, U64],
    cache: Cache,
    counter: I64,
    buffers: tuple[I64, F64, I64, F64],
) -> None:
    """Regularized evolution for `n_children` children: for each population slot
    in turn (from `cursor[0]`), a tournament of `select[0]` members drawn with
    replacement picks the fittest parent (the first wins ties); the child is a
    mutated copy with probability `select[1]`, else an exact copy; the child is
    evaluated and overwrites the slot (the oldest member). `buffers`: the child's
    arrays and a per-task fitness array (the evaluation scratch is allocated
    once per call)."""
    pop_i, pop_f, pop_n, pop_fit = pop
    size = pop_fit.shape[0]
    child_i, child_f, child_n, fits = buffers
    evo = rngs[2]
    work = new_work(mem, tasks[0].shape[0], child_i.shape[1])
    for _ in range(n_children):
        best = rng_int(evo, size)
        for _t in range(select[0] - 1):
            j = rng_int(evo, size)
            if pop_fit[j] > pop_fit[best]:
                best = j
        _copy(pop_i, pop_f, pop_n, best, child_i, child_f, child_n, False)
        if rng_uniform(evo) < select[1]:
            mutate(child_i, child_f, child_n, space, evo)
        fit = evaluate_with(
            child_i,
            child_f,
            child_n,
            tasks,
            cfg[0],
            cfg[1],
            mem,
            (rngs[0], rngs[1]),
            cache,
            counter,
            fits,
            work,
        )
        slot = cursor[0]
        _copy(pop_i, pop_f, pop_n, slot, child_i, child_f, child_n, True)
        pop_fit[slot] = fit
        cursor[0] = (slot + 1) % size


@jit_alloc
def evaluate_population(
    pop: tuple[I64, F64, I64, F64],
    tasks: tuple[F64, F64, I64, F64, F64],
    cfg: tuple[I64, F64],
    mem: tuple[F64, F64, F64, F64],
    rngs: tuple[U64, U64],
    cache: Cache,
    counter: I64,
    fits: F64,
) -> None:
    """Evaluates every member of `pop` in turn and stores its fitness."""
    pop_i, pop_f, pop_n, pop_fit = pop
    work = new_work(mem, tasks[0].shape[0], pop_i.shape[2])
    for j in range(pop_fit.shape[0]):
        pop_fit[j] = evaluate_with(
            pop_i[j], pop_f[j], pop_n[j], tasks, cfg[0], cfg[1], mem, rngs, cache, counter, fits,
            work,
        )  # fmt: skip
