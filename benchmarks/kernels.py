"""Cost of the hierarchical WL kernel and the GP on hierarchical NAS-Bench-201 derivations.

For n random derivations of `am.grammar.hierarchical_nb201_grammar()` (six
levels, WL with 2 iterations), times in CPU seconds (`time.process_time`):

- features: the WL label counts of every level of every derivation. Theory:
  linear in the number of graphs and in their size (nodes + edges) for a
  fixed number of iterations, so the time per node should stay flat;
- gram: the n x n kernel matrix from the features (a sparse product per
  level). Theory: at most quadratic in n (n^2 pairs, each a sparse dot);
- gp fit: the model core's GP over the precomputed kernel matrix: its
  signal and noise variances fitted by Adam on the marginal likelihood
  (150 steps, each a Cholesky factorization), then the posterior. Theory:
  cubic in n.

As `timeit` does, the garbage collector is off while timing (its full
collections scan every live object, which adds a term growing with everything
kept alive, not a cost of the kernel). The script prints each figure, the
growth ratio between the smallest and largest n and the exponent it implies,
next to the theory's bound.

Run: `python benchmarks/kernels.py` (default n = 200, 1000); `--sizes 50,100`
for a quick run.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import time
from typing import Any

import numpy as np

from automorph import grammar
from automorph.algorithms import models


def measure(n: int, seed: int = 0) -> dict[str, Any]:
    g = grammar.hierarchical_nb201_grammar()
    sampler = grammar.Sampler(g)
    rng = np.random.default_rng(seed)
    derivations = [sampler.random(rng) for _ in range(n)]
    nodes = 0
    for d in derivations:
        graph = grammar.term_graph(g.expand(d))
        nodes += len(graph.labels) + len(graph.edges)
    kernel = grammar.HierarchicalWLKernel(g, iterations=2)
    start = time.process_time()
    features = [kernel.features(d) for d in derivations]
    t_features = time.process_time() - start
    vocab = grammar.Vocabulary()
    start = time.process_time()
    encoded = [[vocab.encode(f) for f in levels] for levels in features]
    gram = grammar.sparse_gram(encoded, encoded, kernel.weights, len(vocab.index))
    t_gram = time.process_time() - start
    y = rng.normal(size=n)
    start = time.process_time()
    # The points are their indices in the precomputed matrix.
    kernel = models.Precomputed(lambda a, b: gram[np.ix_(a, b)], lambda a: np.diag(gram)[a])
    points = np.arange(n)
    z, _, _ = models.standardize(y)
    theta = models.fit_hyperparameters(kernel, points, z, np.random.default_rng(seed))
    models.GaussianProcess(kernel, points, z, theta)
    t_fit = time.process_time() - start
    return {
        "n": n,
        "graph_size": nodes / n,
        "features_s": t_features,
        "features_us_per_node": 1e6 * t_features / nodes,
        "gram_s": t_gram,
        "gp_fit_s": t_fit,
        "noise": math.exp(float(theta[-1])),
        "vocabulary": len(vocab.index),
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    measure(5)  # warm up: imports (scipy.sparse) and caches of the code paths
    rows = []
    for n in sizes:
        gc.collect()
        gc.disable()
        try:
            rows.append(measure(n))
        finally:
            gc.enable()
    print("| n | nodes+edges per graph | features (s) | µs per node | gram (s) | GP fit (s) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['n']} | {r['graph_size']:.0f} | {r['features_s']:.2f} | "
            f"{r['features_us_per_node']:.1f} | {r['gram_s']:.3f} | {r['gp_fit_s']:.3f} |"
        )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        scale = b["n"] / a["n"]
        print(f"\ngrowth from n={a['n']} to n={b['n']} (x{scale:g}):")
        for key, bound in (("features_s", 1), ("gram_s", 2), ("gp_fit_s", 3)):
            ratio = b[key] / max(a[key], 1e-9)
            print(
                f"  {key}: x{ratio:.1f} (exponent {math.log(ratio) / math.log(scale):.2f}; "
                f"theory at most {bound})"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
