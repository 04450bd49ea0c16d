"""InstaNAS with measured latency on Fashion-MNIST: a front of accuracy against latency.

Two steps, so that the latency table can be measured at normal priority while the
long search runs under `nice -n 19`:

    PYTHONPATH=. python benchmarks/instanas_latency.py measure
    PYTHONPATH=. nice -n 19 python benchmarks/instanas_latency.py search \
        --plot benchmarks/results/instanas-latency.png

(both write to `--out`, `benchmarks/results/instanas-latency` by default).

`measure` times every candidate operation of the space at its position in the network
(`amnn.measure_latency`: batch 1, one torch thread, the timing thread's CPU time, median
of rounds), several times with pauses between, and keeps the entry-by-entry median of those
tables; then it measures whole architectures end to end (`amnn.validate_latency`) to say
how well the table's sums predict them. It writes `table.json` (the median table with its
method), `tables.json` (every table) and `validation.json`.

`search` trains the supernet of the space with uniformly sampled paths, then one
InstaNAS controller per cost weight with the latency reward (`amnn.latency_front`),
scores every fixed architecture of the space with the same shared weights, and writes
`front.json` (the points, the table and its method, the command, CPU times) and the
plot. CPU times are `time.process_time()` (one torch thread): the machine is shared.
"""

from __future__ import annotations

import os

# Small tensors: a thread pool only adds contention (set before torch loads).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from automorph import algorithms
from automorph import nn as amnn

SHAPE = (1, 14, 14)


def space(channels: int, nodes: int) -> Any:
    """The cell space searched: `amnn.cell_space` on 14x14 Fashion-MNIST."""
    return amnn.cell_space(channels, nodes=nodes, input_shape=SHAPE)


def _spearman(a: list[float], b: list[float]) -> float:
    ranks = [np.argsort(np.argsort(np.asarray(v))) for v in (a, b)]
    return float(np.corrcoef(ranks[0], ranks[1])[0, 1])


def measure(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    supernet = amnn.Supernet(space(args.channels, args.nodes))
    tables = []
    for k in range(args.tables):
        if k:
            time.sleep(args.pause)  # spread the tables over time, and over the load
        tables.append(
            amnn.measure_latency(
                supernet,
                SHAPE,
                repeats=args.repeats,
                warmup=args.warmup,
                clock=args.clock,
                seed=k,
                batch_size=1,
            )
        )
    table = amnn.LatencyTable.median_of(tables)
    table.method["command"] = " ".join(sys.argv)
    table.save(out / "table.json")
    (out / "tables.json").write_text(
        json.dumps([t.to_json() for t in tables], indent=1) + "\n", encoding="utf-8"
    )
    rng = np.random.default_rng(args.seed)
    ids = supernet.decision_ids
    dnas = [{i: k for i in ids} for k in range(len(table.ops[ids[0]]))]
    dnas += [dict(supernet.spec.random_dna(rng)) for _ in range(args.architectures)]
    checks = amnn.validate_latency(table, supernet, dnas, repeats=args.repeats, warmup=args.warmup)
    errors = [c.relative_error for c in checks]
    predicted = [c.predicted_ms for c in checks]
    measured = [c.measured_ms for c in checks]
    # How much the table itself moves between measurements: each architecture's
    # predicted latency under every table, its range over the median.
    moves = []
    for dna in dnas:
        values = [t.architecture_ms(dna) for t in tables]
        moves.append((max(values) - min(values)) / statistics.median(values))
    summary = {
        "architectures": len(checks),
        "mean_abs_relative_error": float(np.mean(np.abs(errors))),
        "max_abs_relative_error": float(np.max(np.abs(errors))),
        "mean_relative_error": float(np.mean(errors)),
        "pearson": float(np.corrcoef(predicted, measured)[0, 1]),
        "spearman": _spearman(predicted, measured),
        "table_repeat_range_median": float(np.median(moves)) if len(tables) > 1 else None,
        "table_repeat_range_max": float(np.max(moves)) if len(tables) > 1 else None,
        "checks": [
            {"dna": dict(c.dna), "predicted_ms": c.predicted_ms, "measured_ms": c.measured_ms}
            for c in checks
        ],
        "command": " ".join(sys.argv),
    }
    (out / "validation.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"method: {json.dumps(table.method)}")
    print(f"fixed part {table.base_ms:.4f} ms; per choice (ms):")
    for decision_id, times in table.ops.items():
        print(f"  {decision_id}: " + ", ".join(f"{t:.4f}" for t in times))
    fastest, slowest = table.extremes()
    print(f"architectures: fastest {fastest:.4f} ms, slowest {slowest:.4f} ms")
    print(
        f"validation on {len(checks)} architectures: mean |error| "
        f"{summary['mean_abs_relative_error']:.3f}, max {summary['max_abs_relative_error']:.3f}, "
        f"mean signed {summary['mean_relative_error']:+.3f}, Pearson {summary['pearson']:.3f}, "
        f"Spearman {summary['spearman']:.3f}"
    )
    if len(tables) > 1:
        low, high = summary["table_repeat_range_median"], summary["table_repeat_range_max"]
        print(f"table repeats: predicted latency range / median, median {low:.3f}, max {high:.3f}")


def search(args: argparse.Namespace) -> None:
    out = Path(args.out)
    torch.set_num_threads(1)
    table = amnn.LatencyTable.load(out / "table.json")
    data = amnn.fashion_mnist_splits(
        args.data, train=args.train, valid=args.valid, test=args.test, size=SHAPE[1]
    )
    start = time.process_time()
    shared = amnn.enas_search(
        space(args.channels, args.nodes),
        data["train"],
        data["valid"],
        algorithms.Random(seed=args.seed),
        steps=args.supernet_steps,
        seed=args.seed,
        progress=True,
    )
    supernet_cpu = time.process_time() - start
    assert shared.supernet is not None
    supernet = shared.supernet
    start = time.process_time()
    front = amnn.latency_front(
        supernet,
        data["train"],
        data["valid"],
        data["test"],
        table,
        cost_weights=args.costs,
        seeds=args.seeds,
        steps=args.controller_steps,
        task_reward=args.task_reward,
        baseline=args.baseline,
    )
    front_cpu = time.process_time() - start
    result = front.to_json()
    point, reduction = front.at_equal_accuracy()
    near, near_reduction = front.at_equal_accuracy(tolerance=args.tolerance)
    _, with_controller = front.at_equal_accuracy(with_controller=True)
    _, near_with_controller = front.at_equal_accuracy(
        tolerance=args.tolerance, with_controller=True
    )
    result.update(
        {
            "command": " ".join(sys.argv),
            "settings": vars(args),
            "supernet_cpu_s": supernet_cpu,
            "front_cpu_s": front_cpu,
            "enas_best": dict(shared.dna) if shared.dna is not None else None,
            "reduction_at_equal_accuracy": reduction,
            "point_at_equal_accuracy": point.label if point else None,
            "reduction_with_controller": with_controller,
            "tolerance": args.tolerance,
            "reduction_within_tolerance": near_reduction,
            "point_within_tolerance": near.label if near else None,
            "reduction_within_tolerance_with_controller": near_with_controller,
        }
    )
    (out / "front.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    _report(front, supernet_cpu, front_cpu, args.tolerance)
    if args.plot:
        _plot(front, args.plot)


def _report(front: amnn.LatencyFront, supernet_cpu: float, front_cpu: float, tol: float) -> None:
    print(f"CPU: supernet {supernet_cpu:.0f} s, controllers and scoring {front_cpu:.0f} s")
    print(f"controller's own forward time: {front.controller_ms:.4f} ms per image")
    print(
        "| architecture | valid accuracy | test accuracy | latency per test image (ms) "
        "| architectures used on test (share of the most used) |"
    )
    print("| --- | --- | --- | --- | --- |")
    best = front.best
    fastest = min(front.fixed, key=lambda p: p.latency_ms)
    slowest = max(front.fixed, key=lambda p: p.latency_ms)
    oracle = max(front.fixed, key=lambda p: p.accuracy)
    for label, p in (
        (f"single best fixed, chosen on valid ({best.label})", best),
        (f"most accurate fixed on test ({oracle.label})", oracle),
        (f"fastest fixed ({fastest.label})", fastest),
        (f"slowest fixed ({slowest.label})", slowest),
    ):
        print(f"| {label} | {p.valid_accuracy:.4f} | {p.accuracy:.4f} | {p.latency_ms:.4f} | 1 |")
    chosen = {id(p) for p in front.pareto()}
    for p in front.instance:
        mark = " (on the valid front)" if id(p) in chosen else ""
        routes = p.routes or {}
        top = next(iter(routes), "-")
        used = f"{len(routes)} ({routes.get(top, 0) / max(1, sum(routes.values())):.0%} to {top})"
        print(
            f"| {p.label}{mark} | {p.valid_accuracy:.4f} | {p.accuracy:.4f} | "
            f"{p.latency_ms:.4f} | {used} |"
        )
    for tolerance in (0.0, tol):
        for with_controller in (False, True):
            point, reduction = front.at_equal_accuracy(tolerance, with_controller)
            shown = (
                "none reaches it"
                if point is None or reduction is None
                else f"{point.label}: {reduction:+.1%} (test accuracy {point.accuracy:.4f} "
                f"against {best.accuracy:.4f})"
            )
            print(
                f"latency reduction at the best fixed accuracy (valid) less {tolerance:g}"
                f"{' (controller counted)' if with_controller else ''}: {shown}"
            )


def _plot(front: amnn.LatencyFront, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    ax.scatter(
        [p.latency_ms for p in front.fixed], [p.accuracy for p in front.fixed], s=8,
        color="0.75", label="fixed architectures (all 216, shared weights)",
    )  # fmt: skip
    oracle = front.pareto(fixed=True, on="test")
    ax.plot(
        [p.latency_ms for p in oracle], [p.accuracy for p in oracle], color="0.45", lw=1,
        drawstyle="steps-post", label="their Pareto front on test (an oracle)",
    )  # fmt: skip
    ax.scatter(
        [p.latency_ms for p in front.instance], [p.accuracy for p in front.instance], s=14,
        color="C0", alpha=0.45, label="InstaNAS controllers (cost weight x seed)",
    )  # fmt: skip
    chosen = front.pareto()
    ax.plot(
        [p.latency_ms for p in chosen], [p.accuracy for p in chosen], "o-", color="C0",
        label="InstaNAS front, chosen on validation",
    )  # fmt: skip
    for p in chosen:
        ax.annotate(f"{p.cost_weight:g}", (p.latency_ms, p.accuracy), fontsize=7,
                    xytext=(3, -9), textcoords="offset points")  # fmt: skip
    ax.plot(
        [p.latency_ms + front.controller_ms for p in chosen], [p.accuracy for p in chosen],
        "o--", color="C0", alpha=0.4, mfc="none", label="same, with the controller's own time",
    )  # fmt: skip
    ax.scatter(
        [front.best.latency_ms], [front.best.accuracy], marker="*", s=160, color="C3",
        zorder=5, label="single best fixed architecture (chosen on validation)",
    )  # fmt: skip
    method = front.table.method
    ax.set(
        xlabel=f"latency per image, ms (measured table: batch {method.get('batch_size')}, "
        f"{method.get('threads')} thread, {method.get('clock')} clock)",
        ylabel="test accuracy (Fashion-MNIST, 14x14)",
        title="InstaNAS: accuracy against measured latency",
    )
    top = max(p.accuracy for p in [*front.fixed, *front.instance])
    ax.set_ylim(top - 0.08, top + 0.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["measure", "search"])
    parser.add_argument("--out", default="benchmarks/results/instanas-latency")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    measuring = parser.add_argument_group("measure")
    measuring.add_argument("--repeats", type=int, default=300)
    measuring.add_argument("--warmup", type=int, default=20)
    measuring.add_argument("--clock", choices=["wall", "cpu"], default="cpu")
    measuring.add_argument("--tables", type=int, default=5, help="tables measured (median)")
    measuring.add_argument("--pause", type=float, default=20.0, help="seconds between tables")
    measuring.add_argument("--architectures", type=int, default=20, help="random ones validated")
    searching = parser.add_argument_group("search")
    searching.add_argument("--data", default=None, help="Fashion-MNIST (found if not given)")
    searching.add_argument("--train", type=int, default=20000)
    searching.add_argument("--valid", type=int, default=2000)
    searching.add_argument("--test", type=int, default=10000)
    searching.add_argument("--supernet-steps", type=int, default=1500)
    searching.add_argument("--controller-steps", type=int, default=1500)
    searching.add_argument(
        "--costs", type=float, nargs="+", default=[0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    )
    searching.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    searching.add_argument(
        "--task-reward", choices=["correct", "probability"], default="probability"
    )
    searching.add_argument("--baseline", choices=["batch", "greedy"], default="greedy")
    searching.add_argument("--tolerance", type=float, default=0.005)
    searching.add_argument("--plot", default=None)
    args = parser.parse_args()
    (measure if args.step == "measure" else search)(args)


if __name__ == "__main__":
    main()
