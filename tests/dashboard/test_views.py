"""Tests of `automorph.dashboard._views`: domain views of programs, on real objects
and on the examples that real stored studies keep."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import automorph as am
from automorph import algorithms, zero
from automorph.benchmarks import NB101Cell, NB201Cell, nb101_space, nb201_space
from automorph.dashboard._views import (
    MAX_TREE_NODES,
    ProgramView,
    grammars_of_spec,
    program_views,
    program_views_of,
)
from automorph.grammar import Derivation, GrammarHooks
from automorph.storage import open_storage

SVG = "{http://www.w3.org/2000/svg}"
ARCH = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
CELL_OPS = ["nor_conv_3x3", "none", "avg_pool_3x3", "skip_connect", "none", "nor_conv_1x1"]
SMALL_GRAMMAR = "S -> Seq(OP, Res(OP, id))\nOP -> conv | pool"


def parse(view: ProgramView) -> ET.Element:
    assert view.kind == "graph" and view.svg is not None
    root = ET.fromstring(view.svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert tags <= {"svg", "g", "title", "text", "circle", "rect", "path", "polygon", "line"}
    for element in root.iter():
        for name, value in element.attrib.items():  # no links, handlers or ids to collide
            assert name not in ("id", "href", "style") and not name.startswith("on")
            assert "url(" not in value
    return root


def texts(root: ET.Element, tag: str = "text") -> list[str]:
    return [e.text or "" for e in root.iter(f"{SVG}{tag}")]


def count(root: ET.Element, tag: str) -> int:
    return sum(1 for _ in root.iter(f"{SVG}{tag}"))


def edge_paths(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}path"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """A SQLite store with one small study per domain, run by `am.tune`."""
    url = f"sqlite:///{tmp_path_factory.mktemp('views') / 'studies.db'}"
    spaces = {
        "nb201": nb201_space(),
        "nb101": nb101_space(),
        "grammar": am.grammar.grammar_space(am.grammar.NB201_GRAMMAR),
        "small-grammar": am.Dict(arch=am.grammar.grammar_space(SMALL_GRAMMAR), width=am.oneof([8])),
        "zero": am.oneof([zero.linear_program(), zero.neural_net_program()]),
    }
    for name, space in spaces.items():
        am.tune(
            lambda _: 1.0, space, algorithms.Random(seed=0), num_trials=3, name=name, storage=url
        )
    storage = open_storage(url)
    specs = {name: storage.get_study(name).dna_spec or "" for name in spaces}
    return url, specs


def stored(store: tuple[str, dict[str, str]], name: str) -> list[str]:
    examples = [t.example for t in open_storage(store[0]).get_trials(name)]
    assert len(examples) == 3 and all(isinstance(e, str) for e in examples)
    return [e for e in examples if e is not None]


# --- NAS-Bench-201 ------------------------------------------------------------------------


def check_nb201(view: ProgramView, ops: list[str]) -> None:
    root = parse(view)
    assert count(root, "circle") == 4
    paths = edge_paths(root)
    assert len(paths) == 6 and count(root, "polygon") == 6  # an arrowhead on each edge
    assert [p.get("stroke-dasharray") is not None for p in paths] == [op == "none" for op in ops]
    edge_titles = [
        g.findtext(f"{SVG}title") for g in root.iter(f"{SVG}g") if g.find(f"{SVG}path") is not None
    ]
    assert [t.rsplit(": ", 1)[1] for t in edge_titles if t] == ops
    assert sorted(t for t in texts(root) if not t.isdigit()) == sorted(ops)
    assert view.text.splitlines()[0] == NB201Cell(*ops).to_arch_str()


def test_an_nb201_cell_is_drawn_as_its_dag() -> None:
    views = program_views_of(NB201Cell.from_arch_str(ARCH))
    assert [(v.kind, v.title) for v in views] == [
        ("graph", "NAS-Bench-201 cell"),
        ("tree", "Program"),
    ]
    check_nb201(views[0], CELL_OPS)
    assert views[1].text == str(NB201Cell.from_arch_str(ARCH))
    assert "node 1 \u2192 node 2: avg_pool_3x3" in views[0].text


def test_stored_nb201_examples_are_drawn(store: tuple[str, dict[str, str]]) -> None:
    for example in stored(store, "nb201"):
        cell = am.from_json_str(example)
        views = program_views(example, dna_spec_json=store[1]["nb201"])
        assert [v.kind for v in views] == ["graph", "tree"]
        check_nb201(views[0], [getattr(cell, e) for e in am.benchmarks.NB201_EDGES])


def test_a_cell_inside_a_program_is_found_and_titled_with_its_path() -> None:
    program = am.Dict(model=am.Dict(cells=[NB201Cell.from_arch_str(ARCH)]), lr=0.1)
    views = program_views_of(program)
    assert [v.title for v in views] == ["NAS-Bench-201 cell at model.cells[0]", "Program"]
    assert "'lr': 0.1" in views[-1].text


# --- NAS-Bench-101 ------------------------------------------------------------------------


def test_an_nb101_cell_is_drawn_in_layers() -> None:
    cell = NB101Cell(
        matrix=[
            [0, 1, 1, 0, 0],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0],
        ],
        ops=["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"],
    )
    views = program_views_of(cell)
    assert [(v.kind, v.title) for v in views] == [
        ("graph", "NAS-Bench-101 cell"),
        ("tree", "Program"),
    ]
    root = parse(views[0])
    assert count(root, "rect") == 5 and len(edge_paths(root)) == cell.num_edges == 5
    assert texts(root) == ["input", "conv3x3", "maxpool3x3", "conv1x1", "output"]
    x_of = {t.text: float(t.get("x", "nan")) for t in root.iter(f"{SVG}text") if t.text is not None}
    # Columns follow the longest path from the input: input, {conv3x3, maxpool}, conv1x1, output.
    assert x_of["input"] < x_of["conv3x3"] == x_of["maxpool3x3"] < x_of["conv1x1"] < x_of["output"]
    assert "edges: 0->1, 0->2, 1->3, 2->4, 3->4" in views[0].text


def test_nb101_nodes_on_no_path_are_marked_and_invalid_cells_said_so() -> None:
    cell = NB101Cell([[0, 1, 1], [0, 0, 0], [0, 0, 0]], ["input", "conv1x1-bn-relu", "output"])
    view = program_views_of(cell)[0]
    assert view.title == "NAS-Bench-101 cell"  # valid: pruning removes node 1
    root = parse(view)
    dashed = [r for r in root.iter(f"{SVG}rect") if r.get("stroke-dasharray")]
    assert len(dashed) == 1  # node 1 leads nowhere
    assert [p.get("stroke-dasharray") is not None for p in edge_paths(root)] == [True, False]
    assert "node 1: conv1x1-bn-relu (on no input->output path)" in view.text

    no_path = NB101Cell([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    view = program_views_of(no_path)[0]
    assert view.title == "NAS-Bench-101 cell (not a valid cell)"
    assert view.text.endswith(
        "not a valid cell: no path from the input (node 0) to the output (node 2)"
    )
    assert len(edge_paths(parse(view))) == 1


def test_stored_nb101_examples_are_drawn(store: tuple[str, dict[str, str]]) -> None:
    for example in stored(store, "nb101"):
        cell = am.from_json_str(example)
        views = program_views(example)
        assert views[0].title.startswith("NAS-Bench-101 cell")
        root = parse(views[0])
        assert count(root, "rect") == 7 and len(edge_paths(root)) == cell.num_edges
        assert views[0].title.endswith("(not a valid cell)") == (not cell.is_valid())


# --- grammar derivations ------------------------------------------------------------------


def test_an_nb201_grammar_derivation_shows_its_cell_and_its_tree() -> None:
    grammar = am.grammar.nb201_grammar()
    derivation = grammar.from_string(f"Cell({', '.join(CELL_OPS)})")
    views = program_views_of(derivation)
    assert [(v.kind, v.title) for v in views] == [
        ("graph", "NAS-Bench-201 cell"),
        ("graph", "Grammar derivation"),
        ("tree", "Program"),
    ]
    check_nb201(views[0], CELL_OPS)
    root = parse(views[1])
    # CELL -> Cell -> six OP -> six terminals: 14 nodes, 13 links.
    assert count(root, "rect") == 14 and count(root, "line") == 13
    assert texts(root)[:2] == ["CELL", "Cell"] and sorted(texts(root)[2:]) == sorted(
        ["OP"] * 6 + CELL_OPS
    )
    assert f"term: Cell({', '.join(CELL_OPS)})" in views[1].text


def test_a_tree_is_tidy_leaves_apart_and_parents_centred() -> None:
    derivation = am.grammar.nb201_grammar().from_string(f"Cell({', '.join(CELL_OPS)})")
    root = parse(program_views_of(derivation)[1])
    boxes = [
        (float(r.get("x", "0")), float(r.get("y", "0")), float(r.get("width", "0")))
        for r in root.iter(f"{SVG}rect")
    ]
    for y in {b[1] for b in boxes}:
        row = sorted((x, x + w) for x, by, w in boxes if by == y)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(row))
    cell_op = next(b for b, t in zip(boxes, texts(root), strict=True) if t == "Cell")
    ops = sorted(b for b, t in zip(boxes, texts(root), strict=True) if t == "OP")
    centre = cell_op[0] + cell_op[2] / 2
    assert centre == pytest.approx((ops[0][0] + ops[0][2] / 2 + ops[-1][0] + ops[-1][2] / 2) / 2)


def test_stored_grammar_examples_are_drawn(store: tuple[str, dict[str, str]]) -> None:
    grammar = am.grammar.nb201_grammar()
    for example in stored(store, "grammar"):
        term = grammar.to_string(am.from_json_str(example))
        views = program_views(example, dna_spec_json=store[1]["grammar"])
        assert [v.title for v in views] == ["NAS-Bench-201 cell", "Grammar derivation", "Program"]
        ops = term.removeprefix("Cell(").removesuffix(")").split(", ")
        check_nb201(views[0], ops)
        assert f"term: {term}" in views[1].text


def test_the_study_spec_gives_a_user_grammar_its_terminals(
    store: tuple[str, dict[str, str]],
) -> None:
    spec = store[1]["small-grammar"]
    assert grammars_of_spec(spec) == {"arch": SMALL_GRAMMAR}
    grammar = am.grammar.Grammar.parse(SMALL_GRAMMAR)
    for example in stored(store, "small-grammar"):
        derivation = am.from_json_str(example)["arch"]
        with_spec = program_views(example, dna_spec_json=spec)
        assert [v.title for v in with_spec] == ["Grammar derivation at arch", "Program"]
        labels = texts(parse(with_spec[0]))
        assert labels[:4] == ["S", "Seq", "OP", str(grammar.expand(derivation.children[0]))]
        assert "id" in labels and f"term: {grammar.to_string(derivation)}" in with_spec[0].text
        # Without the spec the grammar is unknown: nonterminals and rule numbers only.
        bare = program_views(example)
        assert texts(parse(bare[0])) == ["S #0"] + [f"OP #{c.rule}" for c in derivation.children]
        assert "grammar not known here" in bare[0].text


def test_a_derivation_too_large_to_draw_is_shown_as_text() -> None:
    hooks = GrammarHooks(am.grammar.HIERARCHICAL_NB201_GRAMMAR)
    derivation = hooks.random(np.random.default_rng(0))
    assert derivation.size > MAX_TREE_NODES
    views = program_views_of(derivation)
    assert [v.kind for v in views] == ["tree", "tree"]
    assert views[0].title == (
        f"Grammar derivation (more than {MAX_TREE_NODES} nodes: too many to draw, shown as text)"
    )
    lines = views[0].text.splitlines()
    assert lines[0] == "grammar: the hierarchical NAS-Bench-201 grammar"
    assert len(lines) == 2 + derivation.size and lines[2].startswith("D2 -> ")


# --- AutoML-Zero --------------------------------------------------------------------------


def test_an_automl_zero_program_is_shown_as_code(store: tuple[str, dict[str, str]]) -> None:
    program = zero.neural_net_program()
    views = program_views_of(program)
    assert [(v.kind, v.title, v.svg) for v in views[:1]] == [("code", "AutoML-Zero program", None)]
    assert views[0].text == program.code() and views[1].text == str(program)
    for example in stored(store, "zero"):
        assert program_views(example)[0].text == am.from_json_str(example).code()


# --- safety and unreadable examples -------------------------------------------------------

HOSTILE = "<script>alert('x')</script> & \"q\" \x01"


def no_markup_from_labels(root: ET.Element) -> None:
    assert not any(e.tag.removeprefix(SVG) == "script" for e in root.iter())


def test_every_label_from_the_program_is_escaped() -> None:
    cell = NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", HOSTILE, "output"])
    root = parse(program_views_of(cell)[0])
    no_markup_from_labels(root)
    shown = HOSTILE.replace("\x01", "\ufffd")  # a character XML cannot hold is replaced
    assert shown in texts(root) and f"node 1: {shown}" in texts(root, "title")

    derivation = Derivation(HOSTILE, 0, [Derivation("<b>", 1)])
    root = parse(program_views_of(derivation)[0])
    no_markup_from_labels(root)
    assert texts(root) == [f"{shown} #0", "<b> #1"]

    grammar = "S -> Seq('<script>', OP)\nOP -> '&amp;' | b"
    value = am.Dict(arch=Derivation("S", 0, [Derivation("OP", 0)]))
    views = program_views(
        value.to_json_str(),
        dna_spec_json=json.dumps(
            {
                "_type": "automorph.Space",
                "elements": [
                    {
                        "_type": "automorph.CustomDecisionPoint",
                        "location": "arch",
                        "hooks": {"_type": "automorph.grammar.GrammarHooks", "grammar": grammar},
                    }
                ],
            }
        ),
    )
    root = parse(views[0])
    no_markup_from_labels(root)
    assert texts(root) == ["S", "Seq", "<script>", "OP", "&amp;"]


def test_an_example_of_a_type_not_importable_here_is_shown_as_json() -> None:
    inner = NB201Cell.from_arch_str(ARCH).to_json()
    text = json.dumps({"_type": "my_app.Model", "cell": inner, "depth": 3})
    views = program_views(text)
    assert [(v.kind, v.title) for v in views] == [
        ("graph", "NAS-Bench-201 cell at cell"),
        ("tree", "Program (stored JSON; type 'my_app.Model' not importable here)"),
    ]
    check_nb201(views[0], CELL_OPS)
    assert json.loads(views[1].text) == json.loads(text) and "\n  " in views[1].text


def test_text_that_cannot_be_read_never_raises() -> None:
    assert program_views(None) == []
    assert program_views("{not json") == [
        ProgramView("tree", "Program (stored text; not JSON)", None, "{not json")
    ]
    invalid = json.dumps({"_type": "automorph.benchmarks.NB201Cell", "edge_1_0": 7})
    (view,) = program_views(invalid)
    assert view.title.startswith("Program (stored JSON; cannot be read here: ")
    assert json.loads(view.text) == json.loads(invalid)
    assert program_views("[1, 2]") == [ProgramView("tree", "Program", None, "[\n  1,\n  2,\n]")]
    assert grammars_of_spec("{oops") == {} and grammars_of_spec(None) == {}


def test_the_tree_view_of_a_plain_value() -> None:
    (view,) = program_views_of({"lr": 0.1, "layers": [8, 16]})
    assert view == ProgramView("tree", "Program", None, "{'lr': 0.1, 'layers': [8, 16]}")
