"""Architecture graphs, WL kernels, the model core's GP over a precomputed kernel, GraphBO."""

from __future__ import annotations

import numpy as np
import pytest

import automorph as am
from automorph.algorithms import models
from automorph.grammar import (
    DNAFeaturizer,
    Grammar,
    GrammarError,
    GraphBO,
    HierarchicalWLKernel,
    Sampler,
    Vocabulary,
    WLKernel,
    gram_matrix,
    grammar_space,
    hierarchical_nb201_grammar,
    nb201_grammar,
    parse_term,
    sparse_gram,
    term_graph,
    wl_features,
)
from automorph.testing import check_algorithm


def test_term_graphs_have_the_topology_of_their_operators() -> None:
    seq = term_graph(parse_term("Sequential(a, b)"))
    assert seq.labels == ["input", "output", "a", "b"]
    assert sorted(seq.edges) == [(0, 2), (2, 3), (3, 1)]
    res = term_graph(parse_term("Residual(a, b, s)"))
    assert sorted(res.edges) == [(0, 2), (0, 4), (2, 3), (3, 1), (4, 1)]
    cell = term_graph(parse_term("Cell(a, b, c)"))  # 3 nodes: 1<-0, 2<-0, 2<-1
    assert cell.labels == ["input", "output", "node", "a", "b", "c"]
    assert sorted(cell.edges) == [(0, 3), (0, 4), (2, 5), (3, 2), (4, 1), (5, 1)]
    with pytest.raises(GrammarError, match=r"n\(n-1\)/2 operations"):
        term_graph(parse_term("Cell(a, b)"))


def test_wl_kernel_values() -> None:
    kernel = WLKernel(iterations=1)
    a = kernel.features(term_graph(parse_term("S(conv, id)")))
    b = kernel.features(term_graph(parse_term("S(id, conv)")))
    c = kernel.features(term_graph(parse_term("S(conv, id)")))
    K = gram_matrix([[a], [b], [c]], [[a], [b], [c]], [1.0])
    assert np.allclose(np.diag(K), 1.0) and K[0, 2] == pytest.approx(1.0)
    # Same labels, different order: equal at iteration 0, different after one round.
    raw = [wl_features(term_graph(parse_term(t)), 1) for t in ("S(conv, id)", "S(id, conv)")]
    zero = {k: v for k, v in raw[0].items() if k.startswith("0:")}
    assert zero == {k: v for k, v in raw[1].items() if k.startswith("0:")}
    assert 0 < K[0, 1] < 1
    with pytest.raises(GrammarError, match="`iterations` must be >= 0"):
        WLKernel(-1)


def test_sparse_and_dense_gram_agree() -> None:
    rng = np.random.default_rng(0)
    feats = [
        [{f"f{j}": float(rng.integers(1, 4)) for j in rng.choice(8, 3, replace=False)}]
        for _ in range(5)
    ]
    dense = np.array(
        [[sum(x[0].get(k, 0) * v for k, v in y[0].items()) for y in feats] for x in feats]
    )
    norms = np.sqrt(np.diag(dense))
    assert np.allclose(gram_matrix(feats, feats, [1.0]), dense / np.outer(norms, norms))
    vocab = Vocabulary()
    enc = [[vocab.encode(f[0])] for f in feats]
    assert np.allclose(
        sparse_gram(enc, enc, [1.0], len(vocab.index)), gram_matrix(feats, feats, [1.0])
    )


def test_hierarchical_kernel_levels() -> None:
    g = hierarchical_nb201_grammar()
    kernel = HierarchicalWLKernel(g)
    assert kernel.num_levels == len(g.levels) == 6
    rng = np.random.default_rng(0)
    ds = [Sampler(g).random(rng) for _ in range(6)]
    K = kernel.gram(ds, ds)
    assert np.allclose(np.diag(K), 1.0)
    assert np.linalg.eigvalsh(K).min() > -1e-9  # positive semi-definite
    # One level per derivation depth for a one-level grammar.
    flat = HierarchicalWLKernel(Grammar.parse("S -> f(A, A)\nA -> g(B) | h\nB -> x | y"))
    assert flat.num_levels == 4
    with pytest.raises(GrammarError, match="one per level"):
        HierarchicalWLKernel(g, weights=[1.0])


def test_gp_over_a_precomputed_kernel_interpolates_and_is_uncertain_far_away() -> None:
    x = np.linspace(0, 1, 8)
    kernel = models.Precomputed(
        lambda a, b: np.exp(-((np.asarray(a)[:, None] - np.asarray(b)[None, :]) ** 2) / 0.02),
        lambda a: np.ones(len(a)),
    )
    items = list(x)
    y, mean_y, scale = models.standardize(np.sin(6 * x))
    theta = models.fit_hyperparameters(kernel, items, y, np.random.default_rng(0))
    assert theta.shape == (2,)  # a precomputed kernel has no length scales
    gp = models.GaussianProcess(kernel, items, y, theta)
    mean, std = gp.predict(items)
    assert np.allclose(mean * scale + mean_y, np.sin(6 * x), atol=0.1) and std.max() < 0.3
    _, far = gp.predict([5.0])
    assert far[0] > 0.5


def test_graph_bo_passes_the_algorithm_contract() -> None:
    check_algorithm(lambda seed: GraphBO(seed=seed, num_initial=3, num_candidates=8))


def test_graph_bo_is_seeded_and_recovers_exactly_on_a_grammar_space() -> None:
    grammar = nb201_grammar()
    spec = am.dna_spec(am.Dict(arch=grammar_space(grammar), k=am.intv(0, 3)))

    def reward(dna: am.DNA) -> float:
        return float(grammar.to_string(dna["arch"]).count("conv") + dna["k"])

    def make(seed: int) -> GraphBO:
        bo = GraphBO(seed=seed, num_initial=3, num_candidates=8)
        bo.setup(spec)
        return bo

    live, twin = make(4), am.from_json(make(4).to_json())
    assert isinstance(twin, GraphBO)
    twin.setup(spec)
    history: list[tuple[am.DNA, float | None]] = []
    for step in range(12):
        dna = live.propose()
        assert twin.propose() == dna
        history.append((dna, None))
        if step >= 2:  # feedback two proposals late
            old, _ = history[step - 2]
            history[step - 2] = (old, reward(old))
            live.feedback(old, reward(old))
            twin.feedback(old, reward(old))
    revived = make(4)
    revived.recover(history)
    assert [revived.propose() for _ in range(4)] == [live.propose() for _ in range(4)]
    assert len(set(d for d, _ in history)) == len(history)  # nothing proposed twice


def test_graph_bo_finds_good_cells_faster_than_random() -> None:
    grammar = nb201_grammar()
    space = grammar_space(grammar)
    score = {"none": 0, "skip_connect": 1, "avg_pool_3x3": 1, "nor_conv_1x1": 2, "nor_conv_3x3": 3}

    def reward(d: am.Object) -> float:
        ops = grammar.to_string(d)[5:-1].split(", ")
        return float(sum(score[o] * (1 + i % 2) for i, o in enumerate(ops)))

    def best(name: str, seed: int) -> float:
        result = am.tune(reward, space, am.algorithms.create(name, seed=seed), 30)
        return float(result.best_trial.reward)

    bo = np.mean([best("grammar_bo", s) for s in range(3)])
    rand = np.mean([best("random", s) for s in range(3)])
    assert bo > rand


def test_featurizer_covers_mixed_spaces() -> None:
    spec = am.dna_spec(
        am.Dict(
            arch=grammar_space("S -> Seq(A, A)\n@level\nA -> conv | id"),
            op=am.oneof(["x", "y"]),
            lr=am.floatv(1e-3, 1.0, scale="log"),
        )
    )
    f = DNAFeaturizer(spec)
    assert f.weights == pytest.approx([0.25, 0.25, 0.5])
    dna = am.DNA(
        {
            "arch": Grammar.parse("S -> Seq(A, A)\n@level\nA -> conv | id").from_string(
                "Seq(conv, id)"
            ),
            "op": 1,
            "lr": 1e-3,
        }
    )
    levels = f(dna)
    assert set(levels[2]) == {"op=1", "lr=0"}
    assert all(key.startswith("arch/") for key in levels[0])
