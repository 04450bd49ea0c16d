"""Grammar spaces: a derivation as the value of a custom decision."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

import numpy as np

from automorph.geno import CustomHooks
from automorph.grammar._derivation import Derivation
from automorph.grammar._grammar import Grammar
from automorph.grammar._sampling import Sampler
from automorph.grammar._terms import GrammarError
from automorph.hyper import custom
from automorph.symbolic import Bounds

__all__ = ["GrammarHooks", "grammar_space"]


class GrammarHooks(CustomHooks, type_name="automorph.grammar.GrammarHooks"):
    """The hooks of a custom decision whose values are derivations of a grammar.

    Random values are random derivations within the bounds, mutation derives
    the subtree at a random node afresh, crossover swaps in a subtree of the
    other parent rooted at the same nonterminal, and `size` is exact. The
    grammar is stored as text, so a space with grammar decisions serializes.

    Attributes:
        grammar: The grammar's text (`Grammar.parse` reads it).
        max_depth: The deepest derivation allowed (None: unbounded, for a
            non-recursive grammar).
        max_size: The most derivation nodes allowed (None: unbounded).
        sampling: `rules` (each feasible production equally likely) or
            `uniform` (each derivation equally likely).

    >>> import automorph as am
    >>> hooks = GrammarHooks("S -> Seq(OP, OP)\\nOP -> conv | pool | id")
    >>> hooks.size()
    9
    >>> d = hooks.random(np.random.default_rng(0))
    >>> hooks.grammar_object.to_string(d)
    'Seq(id, pool)'
    """

    grammar: str
    max_depth: Annotated[int, Bounds(1, None)] | None = None
    max_size: Annotated[int, Bounds(1, None)] | None = None
    sampling: Literal["rules", "uniform"] = "rules"

    preferred_algorithm = "grammar_bo"  # `GraphBO`, for `algorithms.Auto`

    def _on_bound(self) -> None:
        self._grammar = Grammar.parse(self.grammar)
        self._sampler = Sampler(self._grammar, self.max_depth, self.max_size, self.sampling)

    @property
    def grammar_object(self) -> Grammar:
        """The parsed `Grammar`."""
        return self._grammar

    @property
    def sampler(self) -> Sampler:
        """The `Sampler` that draws and varies derivations within the bounds."""
        return self._sampler

    def random(self, rng: np.random.Generator) -> Derivation:
        return self._sampler.random(rng)

    def mutate(self, value: Any, rng: np.random.Generator) -> Derivation:
        return self._sampler.mutate(value, rng)

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Derivation:
        return self._sampler.crossover(a, b, rng)

    def distance(self, a: Any, b: Any) -> float:
        """Nodes of the two derivations that differ (a tree edit count without moves)."""
        return float(_differing_nodes(a, b))

    def validate(self, value: Any) -> None:
        if not isinstance(value, Derivation):
            raise GrammarError(f"expected a Derivation, got {type(value).__name__} ({value!r})")
        self._grammar.validate(value)
        if not self._sampler.fits(value):
            raise GrammarError(
                f"the derivation (depth {value.depth}, {value.size} nodes) exceeds the bounds "
                f"(max_depth={self.max_depth}, max_size={self.max_size})"
            )

    def size(self) -> int | float:
        return self._sampler.size()

    def values(self) -> Iterator[Any]:
        if self.size() > 10**7:
            raise GrammarError(
                f"the grammar space has {self.size()} derivations; too many to enumerate"
            )
        return self._sampler.enumerate()


def _differing_nodes(a: Derivation, b: Derivation) -> int:
    if a.symbol != b.symbol or a.rule != b.rule or len(a.children) != len(b.children):
        return a.size + b.size
    return sum(_differing_nodes(x, y) for x, y in zip(a.children, b.children, strict=True))


def grammar_space(
    grammar: Grammar | str,
    *,
    max_depth: int | None = None,
    max_size: int | None = None,
    sampling: Literal["rules", "uniform"] = "rules",
    name: str | None = None,
) -> Any:
    """A hyper-value whose value is a derivation of `grammar` (a custom decision).

    Use it wherever a value may be searched; every algorithm can then search
    the grammar's space (random derivations, subtree mutation, crossover).

    >>> import automorph as am
    >>> arch = grammar_space("S -> Seq(OP, OP)\\nOP -> conv | id")
    >>> space = am.Dict(arch=arch, lr=am.floatv(0.01, 0.1))
    >>> am.dna_spec(space).elements[0].hooks.size()
    4
    """
    text = grammar.to_text() if isinstance(grammar, Grammar) else grammar
    hooks = GrammarHooks(text, max_depth=max_depth, max_size=max_size, sampling=sampling)
    return custom(hooks, name=name)
