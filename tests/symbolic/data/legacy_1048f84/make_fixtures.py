"""Writes JSON, and a small SQLite study, with the type names automorph wrote at
commit 1048f84 (before type names were explicit).

Run from outside a checkout, with the old package first on the path:
    git archive 1048f84 automorph | tar -x -C /tmp/am_base
    cd /tmp && PYTHONPATH=/tmp/am_base python make_fixtures.py OUTDIR
"""

import json
import os
import sqlite3
import sys

import automorph as am
from automorph import algorithms as A
from automorph import benchmarks as B
from automorph import zero as Z
from automorph.testing import BitString


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    print("automorph from", am.__file__)

    def write(name, value):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=1)
            f.write("\n")

    # Algorithms, with their operators (and a Controller subclass).
    write(
        "algorithms.json",
        am.to_json(
            [
                A.regularized_evolution(population_size=20, tournament_size=5, seed=3),
                A.nsga2(population_size=12, seed=4),
                A.REINFORCE(seed=5, batch_size=2),
                A.PPO(seed=6),
                A.TPE(seed=7),
            ]
        ),
    )

    # A DNASpec (choices, float, int, many-of, custom) and a DNA of it.
    space = am.Dict(
        op=am.oneof(["conv", "pool", am.Dict(k=am.intv(1, 5))]),
        lr=am.floatv(1e-4, 1e-1, scale="log"),
        layers=am.manyof(2, ["a", "b", "c"]),
        bits=am.custom(BitString(6)),
    )
    spec = am.dna_spec(space)
    dna = next(am.random_sample(space, 1, seed=1))
    write("dna_spec.json", am.to_json(spec))
    write("dna.json", {"space": am.to_json(space), "dna": am.encode(space, dna).to_json()})

    # AutoML-Zero: programs, a search config and a task spec.
    write(
        "zero.json",
        am.to_json(
            {
                "linear": Z.linear_program(0.05),
                "neural": Z.neural_net_program(),
                "config": Z.get_config("linear-tiny"),
                "task": Z.TaskSpec("linear", features=4, num_train=10, num_valid=10, num_tasks=2),
            }
        ),
    )

    # Benchmark cells.
    write(
        "cells.json",
        am.to_json(
            {
                "nb201": B.NB201Cell.from_arch_str(
                    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
                    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
                ),
                "nb201_space": B.nb201_space(),
                "nb101": B.NB101Cell(
                    matrix=[[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
                    ops=["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
                ),
            }
        ),
    )

    # Searchable torch modules.
    from automorph import nn as amnn

    write(
        "nn.json",
        am.to_json(
            {
                "cell_space": amnn.cell_space(4),
                "layers": amnn.Sequential(amnn.Conv2d(1, 4, 3), amnn.ReLU(), amnn.Flatten()),
            }
        ),
    )

    # A stored study whose space holds benchmark cells and zero programs.
    db = os.path.join(out, "study_1048f84.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    study_space = am.Dict(
        cell=B.nb201_space(),
        program=am.oneof([Z.linear_program(0.01), Z.linear_program(0.1)]),
        lr=am.floatv(0.001, 0.1),
    )
    with am.sample(
        study_space,
        A.regularized_evolution(population_size=4, tournament_size=2, seed=11),
        6,
        name="legacy",
        storage=db,
    ) as loop:
        for example, feedback in loop:
            feedback.set_metadata("arch", example["cell"].to_arch_str())
            feedback(example["lr"])
    store = am.storage.open_storage(db)
    store.close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("VACUUM")
    con.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    print("wrote", sorted(os.listdir(out)))


if __name__ == "__main__":  # not on import (pytest imports every module for doctests)
    main(sys.argv[1])
