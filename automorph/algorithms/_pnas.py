"""PNAS: progressive, surrogate-guided search (Liu et al., ECCV 2018).

PNAS grows architectures from small to large: it first searches cells of
one block, then extends the best of them by one more block, and so on,
ranking the many candidate extensions of each level with a predictor
trained on every architecture evaluated so far and evaluating only the top
few. Here the idea is applied to any DNASpec:

- The top-level decisions of the space (each with the decisions inside its
  candidates) are put in `order` and split into `levels` consecutive
  groups. At level `b`, groups `1..b` are decided and the decisions of the
  later groups take a default (`fill`): "first" takes the first candidate of
  a choice and the lower bound of a number, which, in spaces whose
  candidates go from small to large (NAS-Bench-201's first operation is
  "none", an absent edge), makes a level-`b` architecture a small one;
  "random" (the default) draws them, so every evaluation is a full
  architecture the predictor learns from (on NAS-Bench-201, most "first"
  cells of the early levels have no path to the output and teach nothing;
  see `benchmarks/RESULTS.md`).
- Proposals `(b - 1) * per_level` to `b * per_level - 1` belong to level
  `b`. A proposal at level `b` extends the `beam` best architectures
  evaluated so far: `num_candidates` children keep a parent's decisions of
  groups `1..b-1`, draw those of group `b`, and default the rest; the
  predictor ranks them and the best child not proposed yet is proposed.
- From the last level on (every decision decided), a child redraws one
  group of a parent, chosen at random, so the search goes on refining the
  best architectures.

The predictor (`predictor`) is the model core's Gaussian process on the
DNA's one-hot features ("kernel": its posterior mean ranks the children;
`automorph.algorithms.models`) or linear ridge regression on them
("linear"), updated on every reward. Before
the first reward, the children are proposed in random order.

Each proposal is a function of the proposal number, the DNA proposed so far
and the rewards in feedback order, so `recover` rebuilds the state exactly.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._registry import register
from automorph.algorithms.models import DNAEncoder, Observations
from automorph.geno import DNA, Choices, DecisionPoint, Float, Int
from automorph.symbolic import Bounds
from automorph.utils import MISSING, FieldValueError

_FIT_STREAM = 0x9BA5


@register("pnas")
class PNAS(SearchAlgorithm, type_name="automorph.algorithms.PNAS"):
    """Progressive search ranked by a learned predictor (see the module docstring).

    Attributes:
        levels: How many groups the top-level decisions are split into (at
            most one group per top-level decision).
        per_level: Proposals at each level before the last.
        beam: How many of the best architectures each level extends.
        num_candidates: Children ranked by the predictor per proposal.
        fill: Default of the decisions of later groups: "first" (first
            candidate, lower bound) or "random".
        predictor: "kernel" (Gaussian process) or "linear" (ridge).
        order: Top-level decisions (by location or name) to decide first,
            in this order; the others follow in the space's order.

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.PNAS(seed=0, levels=3, per_level=8)
    >>> search.setup(am.dna_spec(am.List([am.oneof([0, 1, 2]) for _ in range(6)])))
    >>> for _ in range(40):
    ...     dna = search.propose()
    ...     search.feedback(dna, sum(dna.values()))
    >>> search.level, max(search.observations.rewards)
    (3, 12.0)
    """

    levels: Annotated[int, Bounds(1, None)] = 3
    per_level: Annotated[int, Bounds(1, None)] = 12
    beam: Annotated[int, Bounds(1, None)] = 5
    num_candidates: Annotated[int, Bounds(1, None)] = 200
    fill: Literal["first", "random"] = "random"
    predictor: Literal["kernel", "linear"] = "kernel"
    order: list[str] | None = None

    handles_custom = False  # models DNA as vectors: see `models.DNAEncoder`

    def _setup(self) -> None:
        self._encoder = DNAEncoder.for_kernel(self._spec, who="PNAS")
        predictor: Literal["gp", "linear"] = "gp" if self.predictor == "kernel" else "linear"
        self._obs = Observations(
            self._encoder.width, predictor, seed=self.seed or 0, stream=_FIT_STREAM
        )
        elements = list(self._spec.elements)
        ranked = list(range(len(elements)))
        if self.order is not None:
            keys = [(p.location, p.name) for p in elements]
            first: list[int] = []
            for key in self.order:
                index = next((i for i, k in enumerate(keys) if key in k), None)
                if index is None:
                    raise FieldValueError(
                        f"`order` names {key!r}, which is not a top-level decision of the "
                        f"space (locations: {[k[0] for k in keys]})",
                        path="order",
                    )
                if index not in first:
                    first.append(index)
            ranked = first + [i for i in ranked if i not in first]
        chunks = np.array_split(np.array(ranked), min(self.levels, max(len(ranked), 1)))
        self._group = {int(i): g for g, chunk in enumerate(chunks) for i in chunk}
        self._num_groups = len(chunks)
        self._locations = [p.location for p in elements]
        self._group_cache: dict[str, int] = {}

    @property
    def observations(self) -> Observations:
        """The proposals and rewards seen so far (after `setup`)."""
        self._check_setup()
        return self._obs

    @property
    def level(self) -> int:
        """The level (1-based) of the next proposal."""
        self._check_setup()
        return min(self._num_proposed // self.per_level + 1, self._num_groups)

    def group_of(self, decision_id: str) -> int:
        """The group (0-based) of a decision id: that of its top-level decision."""
        group = self._group_cache.get(decision_id)
        if group is None:
            group = 0
            for i, loc in enumerate(self._locations):
                if not loc or decision_id == loc or decision_id.startswith((loc + "[", loc + ".")):
                    group = self._group[i]
                    break
            self._group_cache[decision_id] = group
        return group

    def _propose(self, rng: np.random.Generator) -> DNA:
        parents: list[DNA | None] = list(self._obs.top(self.beam)) or [None]
        children: list[DNA] = []
        # A level whose children have all been proposed gives way to the next.
        for level in range(self.level, self._num_groups + 1):
            children = self._children(parents, level, rng)
            if children:
                break
        dna = self._best(children, rng) if children else self._obs.proposed.random(self._spec, rng)
        self._obs.proposed.add(dna)
        return dna

    def _children(
        self, parents: list[DNA | None], level: int, rng: np.random.Generator
    ) -> list[DNA]:
        """The distinct children not proposed yet of `parents` at `level`."""
        children: list[DNA] = []
        for c in range(self.num_candidates):
            group = level - 1
            if level == self._num_groups:
                group = int(rng.integers(self._num_groups))
            children.append(self._child(parents[c % len(parents)], group, level, rng))
        return self._obs.proposed.fresh(children)

    def _child(self, parent: DNA | None, group: int, level: int, rng: np.random.Generator) -> DNA:
        """A child of `parent` whose `group` is drawn; later groups default past `level`."""

        def fill(decision_id: str, point: DecisionPoint) -> Any:
            g = self.group_of(decision_id)
            if g == group:
                return MISSING
            if g >= level:
                return _default(point) if self.fill == "first" else MISSING
            return MISSING if parent is None else parent.get(decision_id, MISSING)

        return self._spec.random_dna(rng, fill)

    def _best(self, children: list[DNA], rng: np.random.Generator) -> DNA:
        model = self._obs.model()
        if model is None:
            return children[int(rng.integers(len(children)))]
        mean, _ = model.predict(self._encoder.encode_all(children))
        return children[int(np.argmax(mean))]

    def _feedback(self, dna: DNA, reward: Reward) -> None:
        self._obs.add(dna, float(reward), self._encoder.encode(dna))  # type: ignore[arg-type]

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        self._obs.proposed.add(dna)
        if reward is not None:
            self._feedback(dna, reward)


def _default(point: DecisionPoint) -> Any:
    """The "first" default of a decision: its first candidate, its lower bound."""
    if isinstance(point, Choices):
        return 0
    if isinstance(point, (Int, Float)):
        return point.min_value
    return MISSING  # pragma: no cover -- custom decisions are refused at setup
