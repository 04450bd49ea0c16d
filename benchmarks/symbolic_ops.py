"""Symbolic-object operations, automorph against PyGlove 0.4.5, in one run.

Builds the same ~200-node tree (a model of 40 layers, each with an activation,
plus an optimizer) in both libraries and times, per operation: construction,
deep clone, rebind of one leaf by key path, to_json + from_json, hash, and
equality of two equal trees. Prints microseconds per operation for both and
the ratio PyGlove / automorph (higher is better for automorph).

Run: `python benchmarks/symbolic_ops.py` (PyGlove comes with the `bench` extra).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

import automorph as am

NUM_LAYERS = 40


# --- the tree in automorph ---------------------------------------------------


class Act(am.Object):
    name: Literal["relu", "gelu", "swish"] = "relu"


class Layer(am.Object):
    filters: Annotated[int, am.Bounds(1, 4096)]
    kernel: int = 3
    act: Act = Act()


class Opt(am.Object):
    lr: float
    momentum: float = 0.9


class Model(am.Object):
    name: str
    layers: list[Layer]
    optimizer: Opt


def build_am() -> Model:
    return Model(
        name="net",
        layers=[
            Layer(filters=16 * (i + 1), kernel=3, act=Act(name="relu")) for i in range(NUM_LAYERS)
        ],
        optimizer=Opt(lr=0.1),
    )


def am_ops() -> dict[str, Callable[[], Any]]:
    tree, twin = build_am(), build_am()
    flip = [0]

    def rebind() -> None:
        flip[0] ^= 1
        tree.rebind({"layers[3].filters": 64 + flip[0]})

    return {
        "construct": build_am,
        "deep clone": lambda: tree.clone(deep=True),
        "rebind one leaf": rebind,
        "to_json + from_json": lambda: am.from_json(tree.to_json()),
        "hash": lambda: hash(tree),
        "equality": lambda: tree == twin,
    }


# --- the same tree in PyGlove --------------------------------------------------


def pg_ops() -> dict[str, Callable[[], Any]] | None:
    try:
        import pyglove as pg
    except ImportError:
        return None

    @pg.members([("name", pg.typing.Enum("relu", ["relu", "gelu", "swish"]))])
    class PgAct(pg.Object):
        pass

    @pg.members(
        [
            ("filters", pg.typing.Int(min_value=1, max_value=4096)),
            ("kernel", pg.typing.Int(default=3)),
            ("act", pg.typing.Object(PgAct, default=PgAct())),
        ]
    )
    class PgLayer(pg.Object):
        pass

    @pg.members([("lr", pg.typing.Float()), ("momentum", pg.typing.Float(default=0.9))])
    class PgOpt(pg.Object):
        pass

    @pg.members(
        [
            ("name", pg.typing.Str()),
            ("layers", pg.typing.List(pg.typing.Object(PgLayer))),
            ("optimizer", pg.typing.Object(PgOpt)),
        ]
    )
    class PgModel(pg.Object):
        pass

    def build() -> Any:
        return PgModel(
            name="net",
            layers=[
                PgLayer(filters=16 * (i + 1), kernel=3, act=PgAct(name="relu"))
                for i in range(NUM_LAYERS)
            ],
            optimizer=PgOpt(lr=0.1),
        )

    tree, twin = build(), build()
    flip = [0]

    def rebind() -> None:
        flip[0] ^= 1
        tree.rebind({"layers[3].filters": 64 + flip[0]})

    return {
        "construct": build,
        "deep clone": lambda: tree.clone(deep=True),
        "rebind one leaf": rebind,
        "to_json + from_json": lambda: pg.from_json(tree.to_json()),
        "hash": lambda: hash(tree),
        "equality": lambda: tree == twin,
    }


# --- timing -------------------------------------------------------------------


def time_op(fn: Callable[[], Any], rounds: int, min_round_s: float) -> float:
    """Median over rounds of the mean CPU microseconds per call."""
    fn()
    calls = 1
    while True:
        start = time.process_time()
        for _ in range(calls):
            fn()
        if time.process_time() - start >= min_round_s:
            break
        calls *= 2
    samples = []
    gc.disable()
    try:
        for _ in range(rounds):
            start = time.process_time()
            for _ in range(calls):
                fn()
            samples.append((time.process_time() - start) / calls * 1e6)
    finally:
        gc.enable()
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--min-round-s", type=float, default=0.05)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    nodes = sum(1 for _ in build_am().walk())
    ours = am_ops()
    theirs = pg_ops()
    print(
        f"tree: {nodes} nodes (objects, lists and leaves); CPU time, median of "
        f"{args.rounds} rounds; python {sys.version.split()[0]}"
    )
    if theirs is None:
        print("PyGlove is not installed (pip install -e '.[bench]'); timing automorph alone")
    print(f"{'operation':<22}{'automorph µs':>14}{'PyGlove µs':>14}{'PyGlove/automorph':>20}")
    results = {}
    for op, fn in ours.items():
        a = time_op(fn, args.rounds, args.min_round_s)
        p = time_op(theirs[op], args.rounds, args.min_round_s) if theirs else float("nan")
        ratio = p / a
        results[op] = {"automorph_us": a, "pyglove_us": p, "ratio": ratio}
        print(f"{op:<22}{a:>14.1f}{p:>14.1f}{ratio:>19.1f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"nodes": nodes, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
