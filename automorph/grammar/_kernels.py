"""Architecture graphs of terms, and Weisfeiler-Lehman kernels over them.

A term becomes a directed graph with operations on the nodes: a terminal is
one node; `Sequential*` chains its arguments; `Residual*` chains all but its
last argument and adds the last as a parallel branch; `Cell*` of `n(n-1)/2`
operations is a NAS-Bench-201-style cell (the edge `i <- j` for `j < i`, in
the order `1<-0, 2<-0, 2<-1, 3<-0, ...`) whose inner nodes are `node`
vertices; other operators chain their arguments. An unexpanded nonterminal
is one node labelled `<NAME>`.

The WL kernel counts the labels of `iterations` rounds of Weisfeiler-Lehman
relabelling (each node's label joined with the sorted labels of its
predecessors and successors) and takes the normalized dot product of the
counts. The hierarchical WL kernel sums such kernels over the levels of a
hierarchical grammar: at level `l`, nonterminals of deeper levels stay
unexpanded, so coarse levels compare macro topologies and the last level
the whole architecture.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from automorph.grammar._derivation import Derivation
from automorph.grammar._grammar import Grammar
from automorph.grammar._terms import GrammarError, Nonterminal, Op, Term, Terminal

__all__ = [
    "Features",
    "Graph",
    "HierarchicalWLKernel",
    "SparseVector",
    "Vocabulary",
    "WLKernel",
    "gram_matrix",
    "sparse_gram",
    "term_graph",
    "wl_features",
]

Features = dict[str, float]
"""A graph's Weisfeiler-Lehman features: how often each label occurs."""


@dataclass
class Graph:
    """A directed graph with a label on every node.

    >>> g = term_graph(Terminal("conv"))
    >>> g.labels, g.edges
    (['input', 'output', 'conv'], [(0, 2), (2, 1)])
    """

    labels: list[str] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)

    def add(self, label: str) -> int:
        self.labels.append(label)
        return len(self.labels) - 1


def term_graph(term: Term) -> Graph:
    """The architecture graph of a term (see the module docstring)."""
    graph = Graph()
    source, sink = graph.add("input"), graph.add("output")
    entries, exits = _build(term, graph)
    graph.edges.extend((source, e) for e in entries)
    graph.edges.extend((x, sink) for x in exits)
    return graph


def _build(term: Term, graph: Graph) -> tuple[list[int], list[int]]:
    """Adds `term`'s nodes; returns the nodes its input feeds and those its output reads."""
    if isinstance(term, Terminal):
        node = graph.add(term.name)
        return [node], [node]
    if isinstance(term, Nonterminal):
        node = graph.add(f"<{term.name}>")
        return [node], [node]
    name = term.name.lower()
    if name.startswith("residual") and len(term.args) >= 2:
        entries, exits = _chain(list(term.args[:-1]), graph)
        skip_in, skip_out = _build(term.args[-1], graph)
        return entries + skip_in, exits + skip_out
    if name.startswith("cell"):
        return _cell(term, graph)
    return _chain(list(term.args), graph)


def _chain(terms: list[Term], graph: Graph) -> tuple[list[int], list[int]]:
    entries, exits = _build(terms[0], graph)
    for term in terms[1:]:
        ins, outs = _build(term, graph)
        graph.edges.extend((x, i) for x in exits for i in ins)
        exits = outs
    return entries, exits


def _cell(term: Op, graph: Graph) -> tuple[list[int], list[int]]:
    n = (1 + math.isqrt(1 + 8 * len(term.args))) // 2  # nodes: n(n-1)/2 edges
    if n * (n - 1) // 2 != len(term.args) or n < 2:
        raise GrammarError(
            f"`{term.name}` needs n(n-1)/2 operations (1, 3, 6, ...), got {len(term.args)}"
        )
    inner = {i: graph.add("node") for i in range(1, n - 1)}
    entries: list[int] = []
    exits: list[int] = []
    args = iter(term.args)
    for i in range(1, n):
        for j in range(i):
            ins, outs = _build(next(args), graph)
            if j == 0:
                entries.extend(ins)
            else:
                graph.edges.extend((inner[j], x) for x in ins)
            if i == n - 1:
                exits.extend(outs)
            else:
                graph.edges.extend((x, inner[i]) for x in outs)
    return entries, exits


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def wl_features(graph: Graph, iterations: int, prefix: str = "") -> Counter[str]:
    """Counts of the Weisfeiler-Lehman labels of `graph` over `iterations` rounds."""
    labels = list(graph.labels)
    preds: list[list[int]] = [[] for _ in labels]
    succs: list[list[int]] = [[] for _ in labels]
    for a, b in graph.edges:
        succs[a].append(b)
        preds[b].append(a)
    counts: Counter[str] = Counter(f"{prefix}0:{x}" for x in labels)
    for it in range(1, iterations + 1):
        labels = [
            _digest(
                labels[v]
                + "<"
                + ",".join(sorted(labels[u] for u in preds[v]))
                + ">"
                + ",".join(sorted(labels[u] for u in succs[v]))
            )
            for v in range(len(labels))
        ]
        counts.update(f"{prefix}{it}:{x}" for x in labels)
    return counts


class WLKernel:
    """The Weisfeiler-Lehman subtree kernel over architecture graphs of terms.

    >>> from automorph.grammar import parse_term
    >>> k = WLKernel(iterations=2)
    >>> a, b = (k.features(term_graph(parse_term(t))) for t in ("S(conv, id)", "S(conv, pool)"))
    >>> K = gram_matrix([[a], [b]], [[a], [b]], [1.0])
    >>> round(float(K[0, 0]), 3), bool(0 < K[0, 1] < 1)
    (1.0, True)
    """

    def __init__(self, iterations: int = 2) -> None:
        if iterations < 0:
            raise GrammarError(f"`iterations` must be >= 0, got {iterations}")
        self.iterations = iterations

    def features(self, graph: Graph) -> Features:
        return dict(wl_features(graph, self.iterations))


class HierarchicalWLKernel:
    """The hierarchical WL kernel: a weighted sum of WL kernels, one per level
    of a (hierarchical) grammar, over derivations.

    For a grammar of one level the levels are derivation depths instead:
    view `l` leaves nonterminals deeper than `l` unexpanded.

    >>> from automorph.grammar import Grammar
    >>> g = Grammar.parse("S -> Seq(A, A)\\n@level\\nA -> conv | id")
    >>> k = HierarchicalWLKernel(g)
    >>> d = g.from_string("Seq(conv, id)")
    >>> [len(f) for f in k.features(d)]
    [11, 12]
    """

    def __init__(
        self,
        grammar: Grammar,
        iterations: int = 2,
        weights: Sequence[float] | None = None,
        max_depth_levels: int = 4,
    ) -> None:
        self.grammar = grammar
        self.wl = WLKernel(iterations)
        self.max_depth_levels = max_depth_levels
        self._cache: dict[str, Features] = {}
        n = self.num_levels
        self.weights = list(weights) if weights is not None else [1.0 / n] * n
        if len(self.weights) != n or any(w < 0 for w in self.weights):
            raise GrammarError(
                f"`weights` must be {n} non-negative numbers (one per level), got {weights!r}"
            )

    @property
    def num_levels(self) -> int:
        if len(self.grammar.levels) > 1:
            return len(self.grammar.levels)
        return self.max_depth_levels

    def features(self, derivation: Derivation) -> list[Features]:
        """One WL feature count per level, coarsest first."""
        out: list[Features] = []
        if len(self.grammar.levels) > 1:
            for level in range(self.num_levels):
                keep = {n: lv > level for n, lv in self.grammar.level_of.items()}
                out.append(self._term_features(self.grammar.expand(derivation, keep)))
            return out
        for level in range(self.num_levels):
            out.append(self._term_features(_expand_to_depth(self.grammar, derivation, level + 1)))
        return out

    def _term_features(self, term: Term) -> Features:
        key = str(term)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            found = self._cache[key] = self.wl.features(term_graph(term))
        return found

    def gram(self, a: Sequence[Derivation], b: Sequence[Derivation]) -> np.ndarray:
        """The kernel matrix between two lists of derivations."""
        fa = [self.features(d) for d in a]
        fb = fa if a is b else [self.features(d) for d in b]
        return gram_matrix(fa, fb, self.weights)


def _expand_to_depth(grammar: Grammar, derivation: Derivation, depth: int) -> Term:
    if depth <= 0:
        return Nonterminal(derivation.symbol)
    p = grammar.production(derivation)
    children = iter(derivation.children)

    def fill(term: Term) -> Term:
        if isinstance(term, Nonterminal):
            return _expand_to_depth(grammar, next(children), depth - 1)
        if isinstance(term, Op):
            return Op(term.name, tuple(fill(x) for x in term.args))
        return term

    return fill(p.rhs)


class Vocabulary:
    """Numbers WL labels so that feature counts become sparse unit vectors.

    >>> vocab = Vocabulary()
    >>> idx, val = vocab.encode({"a": 3.0, "b": 4.0})
    >>> idx.tolist(), val.tolist()
    ([0, 1], [0.6, 0.8])
    """

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, features: Features) -> SparseVector:
        """`features` as (indices, values), scaled to unit length (empty stays empty)."""
        index = self.index
        idx = np.fromiter(
            (index.setdefault(k, len(index)) for k in features), np.int64, len(features)
        )
        val = np.fromiter(features.values(), float, len(features))
        norm = float(np.sqrt(val @ val))
        return idx, (val / norm if norm > 0 else val)


SparseVector = tuple[np.ndarray, np.ndarray]
"""A sparse feature vector: the indices of its non-zero entries and their values."""


def _stack(vectors: Sequence[SparseVector], dim: int) -> Any:
    lengths = np.fromiter((len(v[0]) for v in vectors), np.int64, len(vectors))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate([v[0] for v in vectors]) if vectors else np.zeros(0, np.int64)
    data = np.concatenate([v[1] for v in vectors]) if vectors else np.zeros(0)
    try:
        from scipy import sparse  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - scipy is optional
        dense = np.zeros((len(vectors), dim))
        rows = np.repeat(np.arange(len(vectors)), lengths)
        np.add.at(dense, (rows, indices), data)
        return dense
    return sparse.csr_matrix((data, indices, indptr), shape=(len(vectors), dim))


def sparse_gram(
    a: Sequence[Sequence[SparseVector]],
    b: Sequence[Sequence[SparseVector]],
    weights: Sequence[float],
    dim: int,
) -> np.ndarray:
    """Σ_l w_l A_l B_l^T for per-level unit vectors from one `Vocabulary` of size `dim`."""
    out = np.zeros((len(a), len(b)))
    for level, weight in enumerate(weights):
        if weight == 0:
            continue
        ma = _stack([x[level] for x in a], dim)
        mb = ma if a is b else _stack([x[level] for x in b], dim)
        product = ma @ mb.T
        out += weight * (product.toarray() if hasattr(product, "toarray") else product)
    return out


def gram_matrix(
    a: Sequence[Sequence[Features]], b: Sequence[Sequence[Features]], weights: Sequence[float]
) -> np.ndarray:
    """Σ_l w_l · (normalized dot products of level-l features), between lists `a` and `b`.

    Each item of `a` and `b` is one feature count per level; each level's
    kernel is normalized to have ones on its diagonal.
    """
    vocab = Vocabulary()
    ea = [[vocab.encode(f) for f in x] for x in a]
    eb = ea if a is b else [[vocab.encode(f) for f in x] for x in b]
    return sparse_gram(ea, eb, weights, len(vocab.index))
