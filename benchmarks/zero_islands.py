"""AutoML-Zero's search machinery: what the hurdle saves on the CIFAR-10 config, and
what islands cost per program against a single population.

    python benchmarks/zero_islands.py [--data PATH] [--sweeps 20] [--cpu-seconds 20]

1. Hurdle: the `cifar10-binary` config's population (100 copies of the hand-written
   network) evolves `--sweeps` sweeps on its search tasks, with the config's hurdle
   (a child below the population's 75th percentile after 2 of the 10 tasks stops)
   and without it; children per CPU-second, training steps per child, children
   stopped, and the population's best and mean fitness at the end.
2. Islands: `linear-demo` as one population (`run_search`), as one island and as
   two islands in worker processes (`run_islands`, migration every 10,000
   children), each for `--cpu-seconds` CPU seconds per population; programs per
   CPU-second of the populations (the islands' CPU time summed, with the
   caller's). One island evolves the programs `run_search` does, so the first two
   rows differ by the cost of the island machinery alone.

CPU time is process (or thread) CPU time, so other load on the machine changes it
little. Prints a Markdown table of each.
"""

from __future__ import annotations

import argparse
import time

from automorph.zero import Evolver, get_config, run_islands, run_search
from automorph.zero._search import _experiment_tasks, compile_evaluator


def hurdle_rows(data: str | None, sweeps: int) -> list[str]:
    """One table row per hurdle setting of the CIFAR-10 config."""
    base = get_config("cifar10-binary")
    if data is not None:
        base = base.rebind({"search_tasks.data_path": data, "select_tasks.data_path": data})
    tasks, _ = _experiment_tasks(base, 1000, 0)
    rows = []
    for hurdle in (0, base.hurdle_tasks):
        config = base.rebind({"hurdle_tasks": hurdle})
        evolver = Evolver(config, tasks, seed=1)
        evolver.initialize()
        before = evolver.counters()
        start = time.process_time()
        for _ in range(sweeps):
            evolver.step(config.population_size)
        cpu = time.process_time() - start
        after = evolver.counters()
        children = after["programs"] - before["programs"]
        steps = (after["train_steps"] - before["train_steps"]) / children
        fitness = evolver.pop[3]
        rows.append(
            f"| {hurdle} | {children} | {children / cpu:.0f} | {steps:.0f} | "
            f"{after['hurdle_stops']} | {fitness.max():.4f} | {fitness.mean():.4f} |"
        )
    return rows


def island_rows(cpu_seconds: float) -> list[str]:
    """Programs per CPU-second of one population and of two islands on linear-demo."""
    config = get_config("linear-demo").rebind({"max_experiments": 1})
    search = run_search(config, seed=1000, out=None, max_cpu_seconds=cpu_seconds, err=None)
    rows = [
        f"| 1 (run_search) | {search.counters['programs']} | {search.cpu_seconds:.1f} | "
        f"{search.counters['programs'] / search.cpu_seconds:.0f} |"
    ]
    for islands in (1, 2):
        result = run_islands(
            config, seed=1000, islands=islands, out=None, err=None,
            max_cpu_seconds=islands * cpu_seconds,
        )  # fmt: skip
        programs = result.totals["programs"]
        rows.append(
            f"| {islands} island{'s' if islands > 1 else ''} (run_islands, processes) | "
            f"{programs} | {result.cpu_seconds:.1f} | {programs / result.cpu_seconds:.0f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="cifar10_projected.npz or its folder (else as found)")
    parser.add_argument("--sweeps", type=int, default=20, help="sweeps with and without hurdle")
    parser.add_argument("--cpu-seconds", type=float, default=20.0, help="per population")
    args = parser.parse_args()
    compile_evaluator()
    print("| hurdle tasks | children | children per CPU-s | train steps per child | "
          "stopped | best | mean |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in hurdle_rows(args.data, args.sweeps):
        print(row)
    print()
    print("| populations | programs | CPU-s | programs per CPU-s |")
    print("|---|---:|---:|---:|")
    for row in island_rows(args.cpu_seconds):
        print(row)


if __name__ == "__main__":
    main()
