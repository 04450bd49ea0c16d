"""NASES: reconstruction accuracy of the pre-trained DNA autoencoder.

For each space (the NAS-Bench-201 cell space and the contract spaces that
have no custom decision) and each seed, pre-trains a `DNAAutoencoder` with
NASES's default settings and reports the fraction of 2,000 held-out random
DNA that decode back from their codes to themselves (numbers within 1% of
their range), with the CPU time of pre-training.

    PYTHONPATH=. python benchmarks/learned_embedding.py --seeds 3
"""

from __future__ import annotations

import os

# Tiny matrices: a thread pool per process only adds contention (set before numpy loads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import time

import numpy as np

from automorph import algorithms
from automorph.benchmarks import nb201_space
from automorph.hyper import Template
from automorph.testing import contract_spaces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--latent-dims", default="8")
    args = parser.parse_args()
    defaults = algorithms.NASES()
    spaces = {"nb201": Template(nb201_space()).spec}
    spaces.update({k: v for k, v in contract_spaces().items() if k != "custom"})
    print(
        f"pre-training: {defaults.pretrain_samples} samples, {defaults.pretrain_steps} steps, "
        f"hidden {defaults.hidden}; accuracy on 2000 held-out DNA; {args.seeds} seeds"
    )
    print("| space | size | latent dim | reconstruction accuracy (mean, min) | CPU s |")
    print("|---|---|---|---|---|")
    for name, spec in spaces.items():
        for latent in (int(d) for d in args.latent_dims.split(",")):
            accuracies, seconds = [], []
            for seed in range(args.seeds):
                start = time.process_time()
                model = algorithms.DNAAutoencoder(spec, latent, defaults.hidden, seed)
                model.pretrain(samples=defaults.pretrain_samples, steps=defaults.pretrain_steps)
                seconds.append(time.process_time() - start)
                accuracies.append(model.reconstruction_accuracy(samples=2000, seed=seed + 100))
            size = spec.size if spec.is_finite else "inf"
            print(
                f"| {name} | {size} | {latent} | {np.mean(accuracies):.3f}, "
                f"{np.min(accuracies):.3f} | {np.mean(seconds):.1f} |"
            )


if __name__ == "__main__":
    main()
