"""Grammars: text and Python API, checks, counting, strings, sampling and variation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import automorph as am
from automorph import grammar
from automorph.grammar import (
    Derivation,
    Grammar,
    GrammarError,
    GrammarHooks,
    Nonterminal,
    Op,
    Sampler,
    Terminal,
    grammar_space,
    hierarchical_nb201_grammar,
    parse_term,
)

BLOCKS = """
# a two-level grammar
NET -> Sequential(BLOCK, BLOCK) | Residual(BLOCK, BLOCK, id)
@level
BLOCK -> Sequential(CONV, ACT) | CONV
    | pool
CONV -> conv1x1 | conv3x3
ACT ::= relu | 'GELU'
"""


def test_text_and_python_api_give_the_same_grammar() -> None:
    text = Grammar.parse(BLOCKS)
    api = Grammar(
        {
            "NET": [
                "Sequential(BLOCK, BLOCK)",
                Op("Residual", (Nonterminal("BLOCK"),) * 2 + (Terminal("id"),)),
            ],
            "BLOCK": ["Sequential(CONV, ACT)", "CONV", "pool"],
            "CONV": ["conv1x1", "conv3x3"],
            "ACT": ["relu", Terminal("GELU")],
        },
        levels=[["NET"], ["BLOCK", "CONV", "ACT"]],
    )
    assert text.to_text() == api.to_text()
    assert text.levels == (("NET",), ("BLOCK", "CONV", "ACT"))
    assert text.terminals == ("GELU", "conv1x1", "conv3x3", "id", "pool", "relu")
    assert Grammar.parse(text.to_text()).to_text() == text.to_text()


def test_size_is_exact_and_matches_enumeration() -> None:
    g = Grammar.parse(BLOCKS)
    block = 2 * 2 + 2 + 1  # Sequential(CONV, ACT) | CONV | pool
    assert g.size() == 2 * block * block
    assert len(set(Sampler(g).enumerate())) == g.size()


def test_depth_and_size_bounds_count_exactly() -> None:
    g = Grammar.parse("S -> a(S, S) | b")
    assert g.size() == math.inf
    # Full binary trees by number of leaves: Catalan numbers.
    assert g.size(max_size=7) == 1 + 1 + 2 + 5
    assert g.size(max_depth=3) == 5  # b, a(b,b), and 3 with one more level
    sampler = Sampler(g, max_depth=6, max_size=9)
    derivations = list(sampler.enumerate())
    assert len(derivations) == g.size(max_depth=6, max_size=9)
    rng = np.random.default_rng(0)
    for _ in range(50):
        d = sampler.random(rng)
        assert d.depth <= 6 and d.size <= 9


def test_hierarchical_nb201_size_is_a_huge_exact_int() -> None:
    size = hierarchical_nb201_grammar().size()
    assert isinstance(size, int) and 10**446 < size < 10**447


def test_a_huge_grammar_beside_a_float_is_an_infinite_space_that_auto_searches() -> None:
    space = am.Dict(arch=grammar.grammar_space(grammar.HIERARCHICAL_NB201_GRAMMAR),
                    lr=am.floatv(0.1, 1.0))  # fmt: skip
    assert am.dna_spec(space).size == math.inf  # not an OverflowError of 10**446 * inf
    result = am.tune(lambda e: e["lr"], space, num_trials=5)  # the default, `Auto`
    assert result.num_completed == 5
    assert isinstance(result.best_example["arch"], grammar.Derivation)


def test_to_string_and_back() -> None:
    g = Grammar.parse(BLOCKS)
    rng = np.random.default_rng(1)
    sampler = Sampler(g)
    for _ in range(30):
        d = sampler.random(rng)
        assert g.from_string(g.to_string(d)) == d
    assert g.to_string(g.from_string("Residual(pool, Sequential(conv3x3, GELU), id)")) == (
        "Residual(pool, Sequential(conv3x3, 'GELU'), id)"
    )


def test_random_is_seeded_and_uniform_mode_is_uniform() -> None:
    g = Grammar.parse("S -> A | B\nA -> x | y | z\nB -> w")
    rules = Sampler(g)
    assert rules.random(np.random.default_rng(3)) == rules.random(np.random.default_rng(3))
    uniform = Sampler(g, sampling="uniform")
    rng = np.random.default_rng(0)
    picks = [uniform.random(rng).rule for _ in range(4000)]
    assert abs(picks.count(0) / 4000 - 0.75) < 0.03  # 3 of the 4 derivations use S -> A
    picks = [rules.random(rng).rule for _ in range(4000)]
    assert abs(picks.count(0) / 4000 - 0.5) < 0.03


def test_mutation_and_crossover_keep_derivations_valid() -> None:
    g = hierarchical_nb201_grammar()
    sampler = Sampler(g)
    rng = np.random.default_rng(2)
    a, b = sampler.random(rng), sampler.random(rng)
    child = sampler.mutate(a, rng)
    g.validate(child)
    assert child != a
    mixed = sampler.crossover(a, b, rng)
    g.validate(mixed)
    assert mixed != a
    assert mixed.symbol == a.symbol


def test_crossover_swaps_a_subtree_of_the_same_nonterminal() -> None:
    g = Grammar.parse("S -> p(A, B)\nA -> a1 | a2\nB -> b1 | b2")
    sampler = Sampler(g)
    a = g.from_string("p(a1, b1)")
    b = g.from_string("p(a2, b2)")
    children = {g.to_string(sampler.crossover(a, b, np.random.default_rng(s))) for s in range(20)}
    assert children == {"p(a2, b1)", "p(a1, b2)"}


def test_derivation_is_symbolic() -> None:
    g = Grammar.parse(BLOCKS)
    d = Sampler(g).random(np.random.default_rng(0))
    assert am.from_json(am.to_json(d)) == d
    assert hash(am.from_json(am.to_json(d))) == hash(d)


def test_every_algorithm_searches_a_grammar_space() -> None:
    space = am.Dict(net=grammar_space(BLOCKS), lr=am.floatv(1e-3, 1e-1, scale="log"))
    spec = am.dna_spec(space)
    assert spec.size == math.inf  # a float
    g = Grammar.parse(BLOCKS)
    for name in ("random", "regularized_evolution", "grammar_bo"):
        options = {"population_size": 5, "tournament_size": 2} if "evolution" in name else {}
        best = -1.0
        for example, feedback in am.sample(
            space, am.algorithms.create(name, seed=0, **options), 20
        ):
            g.validate(example["net"])
            text = g.to_string(example["net"])
            reward = float(text.count("conv3x3"))
            best = max(best, reward)
            feedback(reward)
        assert best >= 1


def test_hooks_validate_and_round_trip() -> None:
    hooks = GrammarHooks("S -> a(S) | b", max_depth=3)
    assert hooks.size() == 3
    assert am.from_json(am.to_json(hooks)) == hooks
    with pytest.raises(GrammarError, match="exceeds the bounds"):
        hooks.validate(Grammar.parse("S -> a(S) | b").from_string("a(a(a(b)))"))
    with pytest.raises(GrammarError, match="expected a Derivation"):
        hooks.validate("a(b)")
    spec = am.dna_spec(grammar_space("S -> a(S) | b", max_depth=3))
    with pytest.raises(am.InvalidDNAError, match="invalid custom value"):
        spec.validate(am.DNA({"": Derivation("S", 5)}))
    g = hooks.grammar_object
    assert [g.to_string(v) for v in hooks.values()] == ["a(a(b))", "a(b)", "b"]


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("S -> Seq(A, B)\nA -> x", r"undefined nonterminal 'B' in production `S -> Seq\(A, B\)`"),
        ("S -> x\nA -> y", r"unreachable nonterminals \['A'\]"),
        ("S -> f(S) | A\nA -> g(A)", r"non-terminating nonterminals \['S', 'A'\]"),
        ("S -> x\nthis is not a rule", r"malformed grammar line 2: 'this is not a rule'"),
        ("S -> Seq(a, ", r"malformed term 'Seq\(a,' \(line 1\) at column 7: expected a name"),
        ("S -> Seq(a b)", r"expected ',' or '\)', got 'b'"),
        ("S -> a | | b", r"an empty alternative"),
        ("S -> a $ b", r"unexpected character '\$'"),
        ("", r"at least one production"),
        ("S -> Seq(a", r"unclosed '\(' of 'Seq'"),
        ("S -> a b", r"unexpected 'b' after the term"),
    ],
)
def test_malformed_grammars_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(GrammarError, match=message):
        Grammar.parse(text)


def test_api_errors() -> None:
    with pytest.raises(GrammarError, match="upper-case"):
        Grammar({"s": ["a"]})
    with pytest.raises(GrammarError, match="list of right-hand sides"):
        Grammar({"S": "a"})
    with pytest.raises(GrammarError, match="start symbol 'T' has no production"):
        Grammar({"S": ["a"]}, start="T")
    with pytest.raises(GrammarError, match=r"level 0 names 'X'"):
        Grammar({"S": ["a"]}, levels=[["X"]])
    with pytest.raises(GrammarError, match=r"nonterminals in no level: \['A'\]"):
        Grammar({"S": ["A"], "A": ["a"]}, levels=[["S"]])
    with pytest.raises(GrammarError, match="is in levels 0 and 1"):
        Grammar({"S": ["a"]}, levels=[["S"], ["S"]])
    g = Grammar.parse("S -> a(S) | b")
    with pytest.raises(GrammarError, match="recursive"):
        Sampler(g)
    with pytest.raises(GrammarError, match="cannot derive 'c'"):
        g.from_string("c")
    with pytest.raises(GrammarError, match="rule 4 does not exist"):
        g.validate(Derivation("S", 4))
    with pytest.raises(GrammarError, match="starts at 'S', this one at 'T'"):
        g.validate(Derivation("T", 0))
    with pytest.raises(GrammarError, match="unknown nonterminal 'T'"):
        g.expand(Derivation("T", 0))
    with pytest.raises(GrammarError, match=r"has children \[\]"):
        g.validate(Derivation("S", 0))
    with pytest.raises(GrammarError, match="`max_depth` must be a positive int"):
        g.size(max_depth=0)
    with pytest.raises(GrammarError, match="below the shallowest derivation"):
        Sampler(Grammar.parse("S -> f(A)\nA -> g(B)\nB -> x"), max_depth=2)
    with pytest.raises(GrammarError, match="no derivation has at most `max_size`"):
        Sampler(Grammar.parse("S -> f(A)\nA -> x"), max_size=1)
    with pytest.raises(GrammarError, match="`sampling` must be"):
        Sampler(g, max_depth=2, sampling="best")  # type: ignore[arg-type]
    with pytest.raises(GrammarError, match="exceeded `max_size`"):
        wide = "S -> f(" + ", ".join(["X"] * 14) + ")\nX -> a | g(Y)\nY -> b"
        Sampler(Grammar.parse(wide), max_size=15).random(np.random.default_rng(0))


def test_huge_spaces_are_not_enumerated() -> None:
    hooks = GrammarHooks(grammar.HIERARCHICAL_NB201_GRAMMAR)
    with pytest.raises(GrammarError, match="too many to enumerate"):
        hooks.values()


def test_terms_print_and_parse() -> None:
    term = parse_term("Residual(C, id, 'Down')")
    assert str(term) == "Residual(C, id, 'Down')"
    assert parse_term(str(term)) == term
