"""`GraphBO`: Bayesian optimization with (hierarchical) Weisfeiler-Lehman kernels."""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np

from automorph.algorithms import Mutate, SearchAlgorithm, active_decisions, register
from automorph.algorithms import Reward as _Reward
from automorph.algorithms.models import Precomputed, Surrogate, Unseen, log_expected_improvement
from automorph.geno import DNA, Choices, CustomDecisionPoint, DecisionPoint, Float, Int
from automorph.grammar._derivation import Derivation
from automorph.grammar._kernels import (
    Features,
    HierarchicalWLKernel,
    SparseVector,
    Vocabulary,
    sparse_gram,
)
from automorph.grammar._space import GrammarHooks
from automorph.symbolic import Bounds

__all__ = ["GraphBO", "DNAFeaturizer"]

# Distinguishes the generators of hyper-parameter fits from those of proposals.
_FIT_STREAM = 0x62A0


class DNAFeaturizer:
    """Turns a DNA into one WL feature count per kernel component.

    Every grammar decision of the space contributes the levels of its
    hierarchical WL kernel; all other decisions together form one more
    component, a star of `decision=value` labels (floats in tenths of their
    range), so the kernel also works on cell spaces and mixed spaces.

    >>> import automorph as am
    >>> from automorph.grammar import grammar_space
    >>> spec = am.dna_spec(am.Dict(
    ...     arch=grammar_space("S -> Seq(A, A)\\n@level\\nA -> conv | id"), lr=am.floatv(0.0, 1.0)))
    >>> f = DNAFeaturizer(spec)
    >>> len(f.weights), len(f(spec.random_dna(np.random.default_rng(0))))
    (3, 3)
    """

    def __init__(self, spec: Any, iterations: int = 2) -> None:
        self.spec = spec
        self.kernels: dict[int, tuple[int, HierarchicalWLKernel]] = {}
        weights: list[float] = []
        has_other = False
        for point in spec.decision_points():
            if isinstance(point, CustomDecisionPoint) and isinstance(point.hooks, GrammarHooks):
                kernel = HierarchicalWLKernel(point.hooks.grammar_object, iterations)
                self.kernels[id(point)] = (len(weights), kernel)
                weights.extend(kernel.weights)
            else:
                has_other = True
        self.other = len(weights) if has_other else None
        if has_other:
            weights.append(1.0)
        groups = len(self.kernels) + has_other
        self.weights = [w / groups for w in weights]

    def __call__(self, dna: DNA) -> list[Features]:
        out: list[Features] = [{} for _ in self.weights]
        # The walk draws nothing for a valid DNA; it only needs a generator.
        walk_rng = np.random.default_rng(0)
        for decision_id, point in active_decisions(self.spec, dna, walk_rng):
            value = dna[decision_id]
            entry = self.kernels.get(id(point))
            if entry is not None and isinstance(value, Derivation):
                start, kernel = entry
                for i, f in enumerate(kernel.features(value)):
                    out[start + i] = {f"{decision_id}/{k}": v for k, v in f.items()}
            elif self.other is not None:
                out[self.other][f"{decision_id}={_label(point, value)}"] = 1.0
        return out


def _label(point: DecisionPoint, value: Any) -> str:
    if isinstance(point, Float):
        lo, hi = point.min_value, point.max_value
        if point.scale == "log":
            lo, hi, value = math.log(lo), math.log(hi), math.log(value)
        return str(round(10 * (value - lo) / ((hi - lo) or 1.0)))
    if isinstance(point, Choices | Int):
        return str(value)
    return repr(value)


@register("grammar_bo")
class GraphBO(SearchAlgorithm, type_name="automorph.grammar.GraphBO"):
    """Bayesian optimization with a GP over (hierarchical) WL graph kernels.

    The first `num_initial` proposals are random. After that, the model
    core's Gaussian process (`automorph.algorithms.models`, with a
    `Precomputed` kernel: the weighted WL kernels below, times a fitted
    signal variance) is trained on at most `max_observations` rewarded DNA
    (the best half and the most recent rest), and the proposal maximizes
    the log expected improvement over a pool made by an evolutionary
    optimizer of the acquisition: mutations of the `num_parents` best DNA,
    plus random DNA, refined for `acquisition_rounds` rounds by mutating the
    pool's best. The GP's signal and noise variances are refitted at refit
    points of the number of rewards (as in GP-BO: every ten, then every
    tenth more), so a proposal's cost is bounded by `max_observations` and
    the pool size, whatever the length of the search. DNA already proposed
    are not proposed again while others remain.

    Grammar decisions are compared with the hierarchical WL kernel of their
    grammar; other decisions (cell spaces, numbers) with matching labels
    (see `DNAFeaturizer`).

    >>> import automorph as am
    >>> from automorph.grammar import grammar_space
    >>> space = grammar_space("S -> Seq(A, A, A)\\n@level\\nA -> conv | id | pool")
    >>> bo = GraphBO(num_initial=4, num_candidates=16, seed=0)
    >>> bo.setup(am.dna_spec(space))
    >>> for _ in range(8):
    ...     dna = bo.propose()
    ...     bo.feedback(dna, float(str(dna).count("rule=0")))
    >>> bo.num_feedback
    8
    """

    num_initial: Annotated[int, Bounds(1, None)] = 10
    num_candidates: Annotated[int, Bounds(1, None)] = 32
    num_parents: Annotated[int, Bounds(1, None)] = 10
    acquisition_rounds: Annotated[int, Bounds(1, None)] = 2
    max_observations: Annotated[int, Bounds(2, None)] = 200
    wl_iterations: Annotated[int, Bounds(0, None)] = 2

    def _setup(self) -> None:
        self._featurize = DNAFeaturizer(self._spec, self.wl_iterations)
        self._seen = Unseen()  # proposed
        self._dnas: list[DNA] = []  # rewarded, in feedback order
        self._cache: dict[DNA, list[SparseVector]] = {}
        self._vocab = Vocabulary()
        self._mutate = Mutate()
        self._surrogate = Surrogate(
            Precomputed(self._gram, self._variance),
            width=None,
            seed=self.seed or 0,
            stream=_FIT_STREAM,
            first_fit=self.num_initial,
            max_train=self.max_observations,
        )

    def _features(self, dna: DNA) -> list[SparseVector]:
        found = self._cache.get(dna)
        if found is None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            found = self._cache[dna] = [self._vocab.encode(f) for f in self._featurize(dna)]
        return found

    def _gram(self, a: list[list[SparseVector]], b: list[list[SparseVector]]) -> np.ndarray:
        return sparse_gram(a, b, self._featurize.weights, len(self._vocab.index))

    def _variance(self, a: list[list[SparseVector]]) -> np.ndarray:
        """Each point's kernel value with itself: the weights of its non-empty components."""
        weights = self._featurize.weights
        return np.array([sum(w for w, f in zip(weights, x, strict=True) if len(f[0])) for x in a])

    def _replay(self, dna: DNA, reward: _Reward | None) -> None:
        self._seen.add(dna)
        if reward is not None:
            self._feedback(dna, reward)

    def _feedback(self, dna: DNA, reward: _Reward) -> None:
        assert isinstance(reward, float)
        self._dnas.append(dna)
        self._surrogate.add(self._features(dna), reward)

    def _propose(self, rng: np.random.Generator) -> DNA:
        if self._surrogate.size < self.num_initial:
            dna = self._seen.random(self._spec, rng)
        else:
            dna = self._maximize_acquisition(rng)
        self._seen.add(dna)
        return dna

    def _maximize_acquisition(self, rng: np.random.Generator) -> DNA:
        fit = self._surrogate.fit()
        rewards = self._surrogate.rewards[fit.train]
        ranked_train = fit.train[np.argsort(-rewards, kind="stable")]
        parents = list(dict.fromkeys(self._dnas[int(i)] for i in ranked_train))
        parents = parents[: self.num_parents]
        best: tuple[float, DNA] | None = None
        for _ in range(self.acquisition_rounds):
            pool = self._pool(parents, rng)
            if not pool:
                break
            mean, std = fit.gp.predict([self._features(d) for d in pool])
            scores = log_expected_improvement(mean, std, fit.top)
            ranked = np.argsort(-scores, kind="stable")
            if best is None or scores[ranked[0]] > best[0]:
                best = (float(scores[ranked[0]]), pool[int(ranked[0])])
            parents = [pool[int(i)] for i in ranked[: self.num_parents]]
        return best[1] if best is not None else self._spec.random_dna(rng)

    def _pool(self, parents: list[DNA], rng: np.random.Generator) -> list[DNA]:
        """Unseen candidates: mutations of `parents` and a quarter as many random DNA."""
        children = [
            self._mutate.mutate(parents[i % len(parents)], self._spec, rng)
            for i in range(self.num_candidates)
        ]
        children += [self._spec.random_dna(rng) for _ in range(max(1, self.num_candidates // 4))]
        return self._seen.fresh(children)
