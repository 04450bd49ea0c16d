"""AutoML-Zero throughput and time to solve the demo, in process CPU time.

    python benchmarks/zero.py                 # everything (the solve runs take minutes)
    python benchmarks/zero.py --skip-solve    # throughput only
    python benchmarks/zero.py --data DIR      # CIFAR-10 rows on cifar10_projected.npz
    python benchmarks/zero.py --seeds 1000 2000 3000 4000 5000 --json out.json

Demo rows: one "program" = one program evaluated on all 10 demo tasks (F=4,
100 train + 100 valid examples each, fewer when it fails early), as in the
original's count. CIFAR-10 rows: tasks of the `cifar10-binary` config's shape
at F=16 with 8,000 training and 1,000 validation examples (10 tasks; the
projected CIFAR-10 from `--data` or $AUTOMORPH_DATA, else the nonlinear teacher
at the same sizes), compared in training steps per CPU-second, since the
original reports no per-program figure at that size. The first call of each
kernel compiles it (or loads numba's on-disk cache); that happens before any
timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np

from automorph import zero
from automorph.utils import DataNotFoundError
from automorph.zero import _fec_kernel, _kernels, _search_kernel
from automorph.zero._search import Evolver

# The original's figures (shared/reference/automl_zero.md, section 9: C++, g++ -O2,
# one core of a 2-core x86-64 machine, per CPU-second of the process).
ORIGINAL = {
    "demo random, FEC off": 31_900.0,
    "demo random, FEC on": 23_300.0,
    "demo evolution, FEC on": 30_100.0,
    "demo evolution, FEC off": 28_300.0,
    "whole demo runs": 34_000.0,
    "train steps, F=16 8000 train": 3.0e6,
    "NN evaluations": 374.0,
    "median CPU-s to solve": 159.0,
}


def _cpu(fn: Any) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def random_programs(config: Any, tasks: Any, count: int, seed: int = 1) -> dict[str, float]:
    """Programs and training steps per CPU-second for `count` random programs of
    `config`'s space (sizes `sizes_init`) on `tasks`."""
    config = config.clone(deep=True).rebind({"population_size": count})
    evolver = Evolver(config, tasks, seed=seed)
    space = config.space_arrays()
    for p in range(count):
        for k in range(3):
            evolver.pop[2][p, k] = config.sizes_init[k]
            _search_kernel.randomize_component(
                k, evolver.pop[0][p], evolver.pop[1][p], evolver.pop[2][p], space, evolver.rngs[2]
            )
    tasks_a, cfg, mem, rngs = (
        tasks.arrays(),
        (evolver.icfg, evolver.fcfg),
        evolver.mem,
        evolver.rngs,
    )
    warm: Any = tuple(a[:2] for a in evolver.pop)
    scratch = (_fec_kernel.new_cache(10), np.zeros(5, dtype=np.int64))
    _search_kernel.evaluate_population(
        warm, tasks_a, cfg, mem, rngs[:2], *scratch, evolver.buffers[3]
    )
    counter = evolver.counter

    def run() -> None:
        _search_kernel.evaluate_population(
            evolver.pop, tasks_a, cfg, mem, rngs[:2], evolver.cache, counter, evolver.buffers[3]
        )

    cpu = _cpu(run)
    return _rates(counter, cpu)


def evolution(config: Any, tasks: Any, children: int, seed: int = 1) -> dict[str, float]:
    """Programs and training steps per CPU-second of regularized evolution
    (`config`'s population, tournament and mutations) for `children` children."""
    evolver = Evolver(config, tasks, seed=seed)
    evolver.initialize()
    evolver.step(10)  # compiles (or loads) the kernel
    before = evolver.counter.copy()
    sweep = config.population_size

    def sweeps() -> None:
        for _ in range(max(1, children // sweep)):
            evolver.step(sweep)

    cpu = _cpu(sweeps)
    return _rates(evolver.counter - before, cpu)


def _rates(counter: Any, cpu: float) -> dict[str, float]:
    programs, steps = int(counter[1]), int(counter[0])
    hits, misses = int(counter[2]), int(counter[3])
    return {
        "programs": programs, "train_steps": steps, "cpu_s": cpu,
        "per_cpu_s": programs / cpu, "steps_per_cpu_s": steps / cpu,
        "fec_hit_rate": hits / (hits + misses) if hits + misses else 0.0,
    }  # fmt: skip


def cifar_tasks(data: str | None) -> tuple[Any, str]:
    """Ten tasks of the `cifar10-binary` shape at F=16, 8000 train / 1000 valid:
    projected CIFAR-10 if the data is found (`data`, else $AUTOMORPH_DATA or the
    user data folder), else the nonlinear teacher at the same sizes."""
    spec = zero.get_config("cifar10-binary").search_tasks.clone(deep=True)
    spec.rebind({"features": 16, "num_train": 8000, "num_valid": 1000, "num_tasks": 10})
    try:
        return spec.clone(deep=True).rebind({"data_path": data}).build(), "projected CIFAR-10"
    except DataNotFoundError:
        if data is not None:
            raise
    teacher = zero.TaskSpec("nonlinear", features=16, num_train=8000, num_valid=1000, num_tasks=10)
    return teacher.build(), "nonlinear teacher (no CIFAR-10 data)"


def neural_net(evals: int) -> dict[str, float]:
    """The hand-written 2-layer network (5/9/2) on one nonlinear task, F=16,
    8000 train / 1000 valid: evaluations and training steps per CPU-second."""
    tasks = zero.TaskSpec("nonlinear", features=16, num_train=8000, num_valid=1000,
                          num_tasks=1).build()  # fmt: skip
    program, memory = zero.neural_net_program(), zero.Memory(5, 9, 2)
    zero.evaluate_program(program, tasks, memory)
    cpu = _cpu(
        lambda: [zero.evaluate_program(program, tasks, memory, seed=i) for i in range(evals)]
    )
    return {"evals_per_cpu_s": evals / cpu, "train_steps_per_cpu_s": evals * 8000 / cpu}


def held_out(program_json: str | None, data: str | None) -> dict[str, float]:
    """Accuracy on the 9 held-out CIFAR-10 class pairs (F=16, 8000 train / 1000
    valid): logistic regression (the linear program with the sigmoid), the
    2-layer network, and optionally an evolved program (a JSON file)."""
    import automorph as am

    spec = zero.TaskSpec("cifar10", features=16, num_train=8000, num_valid=1000, num_tasks=9,
                         pairs=[list(p) for p in zero.HELD_OUT_PAIRS],
                         data_path=data)  # fmt: skip
    tasks = spec.build()
    memory = zero.Memory(5, 9, 2)
    programs = {
        "logistic regression": zero.linear_program(),
        "2-layer NN": zero.neural_net_program(),
    }
    if program_json:
        with open(program_json) as f:
            programs["evolved"] = am.from_json(json.load(f)["program"])
    return {name: zero.evaluate_program(p, tasks, memory)[0] for name, p in programs.items()}


def solve(seeds: list[int], limit: float) -> dict[str, Any]:
    """CPU-seconds to solve the demo (select fitness > 0.9999) for each seed."""
    runs: list[dict[str, Any]] = []
    for seed in seeds:
        result = zero.run_search(
            zero.get_config("linear-demo"), seed=seed, out=None, max_cpu_seconds=limit
        )
        runs.append({
            "seed": seed, "solved": result.solved, "cpu_s": result.cpu_seconds,
            "experiments": result.experiments, "programs": result.counters["programs"],
            "select_fitness": result.select_fitness, "final_fitness": result.final_fitness,
        })  # fmt: skip
        print(f"  seed {seed}: {runs[-1]}", flush=True)
    times = [r["cpu_s"] for r in runs if r["solved"]]
    return {
        "runs": runs,
        "solved": len(times),
        "median_cpu_s": statistics.median(times) if len(times) == len(runs) else None,
        "programs_per_cpu_s": sum(r["programs"] for r in runs) / sum(r["cpu_s"] for r in runs),
    }


def throughput(data: str | None, scale: float) -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    """Every throughput row: (what, FEC, automorph, unit, original, ratio)."""
    figures: dict[str, Any] = {}
    rows: list[tuple[str, ...]] = []

    def row(what: str, fec: str, value: float, unit: str, ref: str) -> None:
        ratio = value / ORIGINAL[ref]
        verdict = "met" if ratio >= 1.0 else "NOT met"
        rows.append(
            (what, fec, f"{value:,.0f}", unit, f"{ORIGINAL[ref]:,.0f}", f"{ratio:.2f}x", verdict)
        )
        print(f"{what}, FEC {fec}: {value:,.0f} {unit} ({ratio:.2f}x the original)", flush=True)

    demo = zero.get_config("linear-demo")
    demo_tasks = demo.search_tasks.build()
    for fec in (False, True):
        on = "on" if fec else "off"
        r = random_programs(
            demo.clone(deep=True).rebind({"fec": fec}), demo_tasks, int(20000 * scale)
        )
        figures[f"random_fec_{on}"] = r
        row("demo: random programs (10/2/8)", on, r["per_cpu_s"], "programs/CPU-s",
            f"demo random, FEC {on}")  # fmt: skip
    for fec in (True, False):
        on = "on" if fec else "off"
        r = evolution(demo.clone(deep=True).rebind({"fec": fec}), demo_tasks, int(30000 * scale))
        figures[f"evolution_fec_{on}"] = r
        row("demo: evolution P=1000 T=10", on, r["per_cpu_s"], "programs/CPU-s",
            f"demo evolution, FEC {on}")  # fmt: skip
    tasks, source = cifar_tasks(data)
    figures["cifar_tasks"] = source
    cifar = zero.get_config("cifar10-binary").rebind({"hurdle_tasks": 0})
    for fec in (False, True):
        on = "on" if fec else "off"
        r = random_programs(
            cifar.clone(deep=True).rebind({"fec": fec}), tasks, max(4, int(100 * scale))
        )
        figures[f"cifar_random_fec_{on}"] = r
        row("CIFAR size: random programs (3/5/11)", on, r["steps_per_cpu_s"],
            "train steps/CPU-s", "train steps, F=16 8000 train")  # fmt: skip
    for fec in (False, True):
        on = "on" if fec else "off"
        r = evolution(
            cifar.clone(deep=True).rebind({"fec": fec}), tasks, max(100, int(300 * scale))
        )
        figures[f"cifar_evolution_fec_{on}"] = r
        row("CIFAR size: evolution P=100 from the NN", on, r["steps_per_cpu_s"],
            "train steps/CPU-s", "train steps, F=16 8000 train")  # fmt: skip
    figures["neural_net"] = r = neural_net(max(5, int(30 * scale)))
    row("hand-written NN (5/9/2), 1 task", "off", r["evals_per_cpu_s"], "evaluations/CPU-s",
        "NN evaluations")  # fmt: skip
    row("hand-written NN (5/9/2), 1 task", "off", r["train_steps_per_cpu_s"],
        "train steps/CPU-s", "train steps, F=16 8000 train")  # fmt: skip
    return rows, figures


def _table(rows: list[tuple[str, ...]]) -> str:
    head = ("what", "FEC", "automorph", "unit", "original (C++)", "ratio", "target 1.0x")
    lines = ["| " + " | ".join(head) + " |", "|---|---|---:|---|---:|---:|---|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[1000, 2000, 3000, 4000, 5000])
    parser.add_argument("--limit", type=float, default=900.0, help="CPU-s cap per solve run")
    parser.add_argument("--skip-solve", action="store_true")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the default counts")
    parser.add_argument("--data", help="cifar10_projected.npz or its folder")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--held-out", action="store_true", help="only the CIFAR-10 comparison")
    parser.add_argument("--program", help="an evolved program (JSON of `zero run --json`)")
    args = parser.parse_args()
    _kernels.rng_seed(np.zeros(1, dtype=np.uint64), 0)
    if args.held_out:
        for name, accuracy in held_out(args.program, args.data).items():
            print(f"held-out CIFAR-10 pairs, {name}: accuracy {accuracy:.4f}")
        return
    rows, figures = throughput(args.data, args.scale)
    print(f"CIFAR-size tasks: {figures['cifar_tasks']}")
    if not args.skip_solve:
        print(f"solving the demo, seeds {args.seeds}:")
        figures["solve"] = r = solve(args.seeds, args.limit)
        ref = ORIGINAL["whole demo runs"]
        ratio = r["programs_per_cpu_s"] / ref
        rate = r["programs_per_cpu_s"]
        rows.append(("whole demo runs (search + selection)", "on", f"{rate:,.0f}",
                     "programs/CPU-s", f"{ref:,.0f}", f"{ratio:.2f}x",
                     "met" if ratio >= 1.0 else "NOT met"))  # fmt: skip
        median = r["median_cpu_s"]
        ref = ORIGINAL["median CPU-s to solve"]
        rows.append((f"demo: median CPU-s to solve ({r['solved']}/{len(args.seeds)} solved)", "on",
                     "-" if median is None else f"{median:.1f}", "CPU-s (lower is better)",
                     f"{ref:.0f}", "-" if median is None else f"{ref / median:.2f}x",
                     "met" if median is not None and median < ref else "NOT met"))  # fmt: skip
    print()
    print(_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
