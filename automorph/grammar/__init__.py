"""Grammar-based architecture spaces (Schrodi et al., "Towards Discovering
Neural Architectures from Scratch").

A `Grammar` is a context-free grammar whose right-hand sides are algebraic
terms (`Sequential(CONV, NORM)`, `Residual(C, C, id)`, `Cell(OP, ...)`); a
`Derivation` is a derivation tree of it and the value of a custom decision
(`grammar_space`), so every search algorithm can search a grammar space.
"""

from __future__ import annotations

from automorph.grammar._bo import DNAFeaturizer, GraphBO
from automorph.grammar._derivation import Derivation
from automorph.grammar._grammar import Grammar, Production
from automorph.grammar._kernels import (
    Features,
    Graph,
    HierarchicalWLKernel,
    SparseVector,
    Vocabulary,
    WLKernel,
    gram_matrix,
    sparse_gram,
    term_graph,
    wl_features,
)
from automorph.grammar._library import (
    HIERARCHICAL_NB201_GRAMMAR,
    NB201_GRAMMAR,
    hierarchical_nb201_grammar,
    nb201_grammar,
)
from automorph.grammar._sampling import DerivationCounter, Sampler
from automorph.grammar._space import GrammarHooks, grammar_space
from automorph.grammar._terms import GrammarError, Nonterminal, Op, Term, Terminal, parse_term
from automorph.grammar._torch import TERMINALS, register_terminal, to_module

__all__ = [
    "Derivation",
    "DerivationCounter",
    "DNAFeaturizer",
    "Features",
    "Graph",
    "GraphBO",
    "Grammar",
    "GrammarError",
    "GrammarHooks",
    "HIERARCHICAL_NB201_GRAMMAR",
    "HierarchicalWLKernel",
    "NB201_GRAMMAR",
    "Nonterminal",
    "Op",
    "Production",
    "Sampler",
    "TERMINALS",
    "SparseVector",
    "Term",
    "Terminal",
    "Vocabulary",
    "WLKernel",
    "gram_matrix",
    "grammar_space",
    "hierarchical_nb201_grammar",
    "nb201_grammar",
    "parse_term",
    "register_terminal",
    "sparse_gram",
    "term_graph",
    "to_module",
    "wl_features",
]
