"""The compiled evaluator agrees with the plain reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest

from automorph.zero import (
    NUM_OPS,
    OPS,
    Memory,
    Program,
    TaskSpec,
    evaluate_program,
    reference_task_fitness,
)
from automorph.zero._kernels import rng_seed
from automorph.zero._search_kernel import random_instruction
from automorph.zero._tasks import TaskSet

MEMORY = Memory(4, 4, 3)


def _random_programs(count: int, seed: int) -> list[Program]:
    allowed = np.tile(np.arange(NUM_OPS, dtype=np.int64), (3, 1))
    space = (
        allowed,
        np.full(3, NUM_OPS, dtype=np.int64),
        np.array([4, 4, 3], dtype=np.int64),
        np.zeros(3, dtype=np.int64),
        np.full(3, 9, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )
    rng = np.zeros(1, dtype=np.uint64)
    rng_seed(rng, seed)
    programs = []
    sizes = np.array([3, 4, 5], dtype=np.int64)
    for _ in range(count):
        ints = np.zeros((3, 5, 4), dtype=np.int64)
        floats = np.zeros((3, 5, 4))
        for k in range(3):
            for n in range(sizes[k]):
                random_instruction(k, ints[k, n], floats[k, n], space, rng)
        programs.append(Program.from_arrays(ints, floats, sizes))
    return programs


def _close(a: float, b: float) -> bool:
    return bool(np.isclose(a, b, rtol=1e-7, atol=1e-9) or (np.isnan(a) and np.isnan(b)))


def test_thousands_of_random_programs_over_all_ops_agree() -> None:
    spec = TaskSpec("linear", features=4, num_train=6, num_valid=4, num_epochs=2, num_tasks=1)
    tasks = spec.build()
    programs = _random_programs(2000, seed=5)
    used = {
        ins.op for p in programs for c in ("setup", "predict", "learn") for ins in getattr(p, c)
    }
    assert used == set(range(NUM_OPS))
    mismatches = []
    for i, program in enumerate(programs):
        fast, _ = evaluate_program(program, tasks, MEMORY, seed=i)
        slow, _ = reference_task_fitness(program, MEMORY, tasks.task(0), seed=i)
        if not _close(fast, slow):
            mismatches.append((i, fast, slow))
    assert not mismatches, mismatches[:5]


def test_classification_programs_agree() -> None:
    spec = TaskSpec("nonlinear", features=4, num_train=6, num_valid=6, num_epochs=2, num_tasks=1)
    tasks = spec.build()
    tasks.y[:] = tasks.y > 0
    tasks.y_valid[:] = tasks.y_valid > 0
    tasks.accuracy = True
    for i, program in enumerate(_random_programs(300, seed=9)):
        fast, _ = evaluate_program(program, tasks, MEMORY, seed=i)
        slow, _ = reference_task_fitness(program, MEMORY, tasks.task(0), accuracy=True, seed=i)
        assert _close(fast, slow), (i, fast, slow, program.code())


@pytest.mark.parametrize("features", [4, 8])
def test_many_tasks_side_by_side_or_one_at_a_time_match_each_task_alone(features: int) -> None:
    # Tasks run side by side in lanes, except at F >= 8 for programs with matrix ops
    # in Predict or Learn, which run them one at a time; either way each task's
    # fitness is bitwise that of the task evaluated alone (task 0 always; the others
    # when no random op makes the generator's position matter). At F=8 numpy's sums
    # (the reference's) no longer add in order, so this compares the evaluator with
    # itself.
    spec = TaskSpec("linear", features=features, num_train=6, num_valid=4, num_epochs=2,
                    num_tasks=3)  # fmt: skip
    tasks = spec.build()
    alone = [
        TaskSet(tasks.x[t : t + 1], tasks.y[t : t + 1], tasks.order[t : t + 1],
                tasks.x_valid[t : t + 1], tasks.y_valid[t : t + 1], tasks.accuracy)
        for t in range(3)
    ]  # fmt: skip
    mismatches: list[tuple[int, int, float, float]] = []
    compared = matrix = 0
    for i, program in enumerate(_random_programs(800, seed=11)):
        ops = {ins.op for c in ("setup", "predict", "learn") for ins in getattr(program, c)}
        pl = [OPS[ins.op] for c in ("predict", "learn") for ins in getattr(program, c)]
        matrix += any(2 in (*op.inputs, op.output) for op in pl)
        _, fits = evaluate_program(program, tasks, MEMORY, seed=i)
        for t in range(tasks.num_tasks if not ops & set(range(59, 65)) else 1):
            one, _ = evaluate_program(program, alone[t], MEMORY, seed=i)
            compared += 1
            if not (fits[t] == one or (np.isnan(fits[t]) and np.isnan(one))):
                mismatches.append((i, t, fits[t], one))
    assert compared > 1000 and matrix > 100
    assert not mismatches, mismatches[:5]
