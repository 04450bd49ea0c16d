"""The search loop, automorph against PyGlove 0.4.5 and Optuna, in one run.

Space: NAS-Bench-101-like, 21 binary edge choices and 5 operation choices
among 3 (26 decisions). Reward: a cheap synthetic function of the program, so
the figures measure the library, not the model. For each library we time
whole examples: propose, materialize the program, compute the reward, and
give the feedback.

- random search: automorph `am.sample` with `algorithms.Random`; PyGlove
  `pg.sample` with `pg.geno.Random`; Optuna `RandomSampler` with ask/tell in
  memory (suggest_categorical per decision, then building the same program);
- regularized evolution (population 100, tournament 10): automorph
  `regularized_evolution`; PyGlove `pg.evolution.regularized_evolution`.

PyGlove runs fewer examples (it is slow): compare rates, not totals.
Also times `dna_spec` and `materialize` alone against PyGlove: `am.materialize`
compiles the space on every call, as `pg.materialize` does; the loop compiles it
once (`automorph.hyper.Template`), shown as "materialize (compiled)" against the same
PyGlove call.

Run: `python benchmarks/search_loop.py` (peers: `pip install -e '.[bench]'`);
`--quick` runs small sizes (used by the test suite).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import automorph as am
from automorph import algorithms
from automorph.hyper import Template

OPS = ["conv3x3", "conv1x1", "maxpool3x3"]
NUM_EDGES, NUM_OPS = 21, 5
OP_SCORE = {"conv3x3": 1.0, "conv1x1": 0.6, "maxpool3x3": 0.3}


def reward(edges: Any, ops: Any) -> float:
    """Cheap synthetic reward: some edges and strong ops help, too many edges hurt."""
    on = sum(edges)
    return sum(OP_SCORE[op] for op in ops) + on * 0.2 - max(0, on - 9) * 0.5


def am_space() -> Any:
    return am.Dict(
        edges=am.List([am.oneof([0, 1]) for _ in range(NUM_EDGES)]),
        ops=am.List([am.oneof(OPS) for _ in range(NUM_OPS)]),
    )


def run_automorph(algorithm: algorithms.SearchAlgorithm, n: int) -> float:
    """CPU seconds for n examples of am.sample."""
    start = time.process_time()
    for example, feedback in am.sample(am_space(), algorithm, n):
        feedback.add_measurement(reward(example["edges"], example["ops"]))
        feedback.done()
    return time.process_time() - start


def run_pyglove(algorithm: Any, n: int) -> float:
    import pyglove as pg

    space = pg.Dict(
        edges=pg.List([pg.oneof([0, 1]) for _ in range(NUM_EDGES)]),
        ops=pg.List([pg.oneof(OPS) for _ in range(NUM_OPS)]),
    )
    start = time.process_time()
    for example, feedback in pg.sample(space, algorithm, num_examples=n):
        feedback(reward(example.edges, example.ops))
    return time.process_time() - start


def run_optuna_random(n: int, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    start = time.process_time()
    for _ in range(n):
        trial = study.ask()
        example = {
            "edges": [trial.suggest_categorical(f"edges[{i}]", [0, 1]) for i in range(NUM_EDGES)],
            "ops": [trial.suggest_categorical(f"ops[{i}]", OPS) for i in range(NUM_OPS)],
        }
        study.tell(trial, reward(example["edges"], example["ops"]))
    return time.process_time() - start


def per_call_us(fn: Callable[[], Any], min_s: float = 0.2) -> float:
    fn()
    calls, start = 0, time.process_time()
    while time.process_time() - start < min_s:
        fn()
        calls += 1
    return (time.process_time() - start) / calls * 1e6


def spec_and_materialize(has_pyglove: bool) -> dict[str, dict[str, float]]:
    space = am_space()
    spec = am.dna_spec(space)
    dna = spec.random_dna(np.random.default_rng(0))
    template = Template(space)
    out = {
        "dna_spec": {"automorph": per_call_us(lambda: am.dna_spec(space))},
        "materialize": {"automorph": per_call_us(lambda: am.materialize(space, dna))},
        "materialize (compiled)": {
            "automorph": per_call_us(lambda: template.materialize(dna, validate=False))
        },
    }
    if has_pyglove:
        import pyglove as pg

        pspace = pg.Dict(
            edges=pg.List([pg.oneof([0, 1]) for _ in range(NUM_EDGES)]),
            ops=pg.List([pg.oneof(OPS) for _ in range(NUM_OPS)]),
        )
        pdna = pg.DNA.from_numbers(dna.to_numbers(), pg.dna_spec(pspace))
        out["dna_spec"]["pyglove"] = per_call_us(lambda: pg.dna_spec(pspace))
        out["materialize"]["pyglove"] = per_call_us(lambda: pg.materialize(pspace, pdna))
        out["materialize (compiled)"]["pyglove"] = out["materialize"]["pyglove"]
    return out


def _available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    sizes = (
        {"am_random": 500, "am_evo": 500, "pg_random": 10, "pg_evo": 10, "optuna": 100}
        if args.quick
        else {
            "am_random": 10_000,
            "am_evo": 5_000,
            "pg_random": 200,
            "pg_evo": 300,
            "optuna": 2_000,
        }
    )
    has_pg, has_optuna = _available("pyglove"), _available("optuna")
    gc.collect()
    rates: dict[str, dict[str, float]] = {"random": {}, "regularized evolution": {}}

    seconds = run_automorph(algorithms.Random(seed=1), sizes["am_random"])
    rates["random"]["automorph"] = sizes["am_random"] / seconds
    evolution = algorithms.create(
        "regularized_evolution", population_size=100, tournament_size=10, seed=1
    )
    seconds = run_automorph(evolution, sizes["am_evo"])
    rates["regularized evolution"]["automorph"] = sizes["am_evo"] / seconds
    if has_pg:
        import pyglove as pg

        seconds = run_pyglove(pg.geno.Random(seed=1), sizes["pg_random"])
        rates["random"]["PyGlove"] = sizes["pg_random"] / seconds
        pg_evo = pg.evolution.regularized_evolution(population_size=100, tournament_size=10, seed=1)
        seconds = run_pyglove(pg_evo, sizes["pg_evo"])
        rates["regularized evolution"]["PyGlove"] = sizes["pg_evo"] / seconds
    if has_optuna:
        seconds = run_optuna_random(sizes["optuna"], seed=1)
        rates["random"]["Optuna"] = sizes["optuna"] / seconds

    print(
        f"space: {NUM_EDGES} binary edges + {NUM_OPS} ops among {len(OPS)}; "
        f"examples per CPU-second (propose + materialize + reward + feedback); "
        f"python {sys.version.split()[0]}"
    )
    print(
        f"examples: automorph {sizes['am_random']} random / {sizes['am_evo']} evolution; "
        f"PyGlove {sizes['pg_random']} / {sizes['pg_evo']}; Optuna {sizes['optuna']} random"
    )
    for algo, by_lib in rates.items():
        ours = by_lib["automorph"]
        line = f"{algo:<24}automorph {ours:>9.0f}/s"
        for peer in ("PyGlove", "Optuna"):
            if peer in by_lib:
                line += f"   {peer} {by_lib[peer]:>8.1f}/s ({ours / by_lib[peer]:.1f}x)"
        print(line)
    calls = spec_and_materialize(has_pg)
    for op, by_lib in calls.items():
        line = f"{op:<24}automorph {by_lib['automorph']:>9.1f} µs"
        if "pyglove" in by_lib:
            ratio = by_lib["pyglove"] / by_lib["automorph"]
            line += f"   PyGlove {by_lib['pyglove']:>9.1f} µs ({ratio:.1f}x)"
        print(line)
    if not has_pg or not has_optuna:
        print("peers missing: pip install -e '.[bench]' to compare with PyGlove and Optuna")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sizes": sizes, "rates": rates, "per_call_us": calls}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
