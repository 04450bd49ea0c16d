"""DARTS genotypes: the notation of the DARTS paper's code and NAS-Bench-301's encoding.

A DARTS cell has 2 inputs (the outputs of the two previous cells) and 4
intermediate nodes; node k sums one operation on each of 2 inputs chosen among
the cell inputs and nodes before k, and the cell outputs the concatenation of
its nodes. A cell pair is written as a `Genotype`, whose `str` is the DARTS
notation `Genotype(normal=[(op, input), ...], normal_concat=[...], ...)`
(`parse_genotype` reads it without `eval`), or as NAS-Bench-301's compact
encoding (`nb301_encode`, `nb301_decode`): two lists (normal, reduce) of 8
`(input, op index)` pairs, op indices into `NB301_OPS`, the encoding of
NASLib's `convert_genotype_to_compact`.

This module is plain Python (no torch): `automorph.nn._darts` builds the
operations, cells, network and search space from these genotypes.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any, NamedTuple

from automorph.utils import AutomorphError

DARTS_OPS: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
"""The 8 operations of the DARTS space, in the DARTS `PRIMITIVES` order."""

NB301_OPS: tuple[str, ...] = DARTS_OPS[1:]
"""The 7 operations a genotype holds (all but "none"); NAS-Bench-301's op indices
point into this tuple."""

NODES = 4
"""Intermediate nodes of a DARTS cell."""


class GenotypeError(AutomorphError, ValueError):
    """A DARTS genotype (object, text, NB301 encoding or DNA) is malformed."""


# --- genotypes ---------------------------------------------------------------------------------


class Genotype(NamedTuple):
    """A DARTS genotype: both cells' edges as `(op, input)`, two per node, node by node.

    Inputs 0 and 1 are the cell's inputs (the outputs of the cells two back
    and one back), input k + 2 is node k. `*_concat` lists the states the
    cell concatenates (DARTS: `range(2, 6)`, all 4 nodes). `str(genotype)` is
    DARTS's notation, which `parse_genotype` reads.

    >>> g = nb301_decode([[(0, 3)] * 8, [(1, 0)] * 8])
    >>> g.normal[0], g.reduce_concat
    (('sep_conv_3x3', 0), range(2, 6))
    """

    normal: list[tuple[str, int]]
    normal_concat: Sequence[int]
    reduce: list[tuple[str, int]]
    reduce_concat: Sequence[int]


def check_genotype(genotype: Genotype) -> Genotype:
    """`genotype` if it is a DARTS genotype of 4-node cells, else an error naming the fault.

    Raises:
        GenotypeError: Naming the cell and edge: not 8 `(op, input)` edges, an
            unknown op, an input out of range for its node, or a concat
            outside the states 0..5.
    """
    for cell in ("normal", "reduce"):
        edges = getattr(genotype, cell)
        if not isinstance(edges, (list, tuple)) or len(edges) != 2 * NODES:
            raise GenotypeError(
                f"genotype.{cell} must list {2 * NODES} (op, input) edges (2 per node), "
                f"got {edges!r}"
            )
        for e, edge in enumerate(edges):
            where = f"genotype.{cell}[{e}] (node {e // 2})"
            if not (isinstance(edge, (list, tuple)) and len(edge) == 2):
                raise GenotypeError(f"{where} must be an (op, input) pair, got {edge!r}")
            op, node_input = edge
            if op not in DARTS_OPS:
                raise GenotypeError(
                    f"{where}: unknown operation {op!r}; the operations are {list(DARTS_OPS)}"
                )
            if type(node_input) is not int or not 0 <= node_input < e // 2 + 2:
                raise GenotypeError(
                    f"{where}: input {node_input!r} must be an int in 0..{e // 2 + 1} "
                    "(the 2 cell inputs and the nodes before this one)"
                )
        concat = getattr(genotype, f"{cell}_concat")
        states = list(concat) if isinstance(concat, (list, tuple, range)) else None
        if not states or any(type(s) is not int or not 0 <= s < NODES + 2 for s in states):
            raise GenotypeError(
                f"genotype.{cell}_concat must list states in 0..{NODES + 1}, got {concat!r}"
            )
    return genotype


def _concat_value(node: ast.expr, field: str) -> Any:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and not node.keywords
    ):
        bounds = [_literal(arg, field) for arg in node.args]
        if not (1 <= len(bounds) <= 3 and all(type(b) is int for b in bounds)):
            raise GenotypeError(f"`{field}`: range() takes 1 to 3 int literals, got {bounds!r}")
        return range(*bounds)
    return _literal(node, field)


def _literal(node: ast.expr, field: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise GenotypeError(
            f"`{field}` must be a literal (lists, tuples, strings, ints), got {ast.unparse(node)!r}"
        ) from None


def parse_genotype(text: str) -> Genotype:
    """The genotype written in DARTS's notation, `Genotype(normal=[...], ...)`.

    Read without `eval`: the text must be a call of `Genotype` with the four
    fields (as keywords, or positionally in order) holding literals, the
    concats literal lists or `range(...)`.

    Raises:
        GenotypeError: Naming what is wrong: not a `Genotype(...)` call, a
            missing or unknown field, a non-literal value, or a malformed cell
            (see `check_genotype`).

    >>> g = parse_genotype(str(nb301_decode([[(0, 3)] * 8, [(1, 0)] * 8])))
    >>> g.reduce[:2]
    [('max_pool_3x3', 1), ('max_pool_3x3', 1)]
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise GenotypeError(f"a genotype's text is not valid Python syntax: {error.msg}") from None
    call = tree.body
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "Genotype"
    ):
        raise GenotypeError(
            f"a genotype's text must be a call `Genotype(normal=..., normal_concat=..., "
            f"reduce=..., reduce_concat=...)`, got {text[:80]!r}"
        )
    fields = list(Genotype._fields)
    if len(call.args) > len(fields):
        raise GenotypeError(f"Genotype(...) takes {len(fields)} fields, got {len(call.args)}")
    given: dict[str, ast.expr] = dict(zip(fields, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg not in fields:
            raise GenotypeError(f"unknown genotype field {keyword.arg!r}; the fields are {fields}")
        if keyword.arg in given:
            raise GenotypeError(f"genotype field {keyword.arg!r} is given twice")
        given[keyword.arg] = keyword.value
    missing = [f for f in fields if f not in given]
    if missing:
        raise GenotypeError(f"the genotype's text lacks field(s) {missing}")
    values = {
        f: _concat_value(given[f], f) if f.endswith("_concat") else _literal(given[f], f)
        for f in fields
    }
    for cell in ("normal", "reduce"):
        if isinstance(values[cell], (list, tuple)):
            values[cell] = [tuple(e) if isinstance(e, list) else e for e in values[cell]]
    return check_genotype(Genotype(**values))


def nb301_encode(genotype: Genotype) -> list[list[tuple[int, int]]]:
    """NAS-Bench-301's compact encoding of `genotype`: `[normal, reduce]`, each 8
    `(input, op index into NB301_OPS)` pairs in the genotype's edge order.

    Raises:
        GenotypeError: If the genotype is malformed, holds "none", or does not
            concatenate all 4 nodes (which the encoding cannot say).

    >>> nb301_encode(nb301_decode([[(0, 3)] * 8, [(1, 0)] * 8]))[1][0]
    (1, 0)
    """
    check_genotype(genotype)
    out = []
    for cell in ("normal", "reduce"):
        if list(getattr(genotype, f"{cell}_concat")) != list(range(2, NODES + 2)):
            raise GenotypeError(
                f"the NB301 encoding concatenates nodes 2..5; genotype.{cell}_concat is "
                f"{getattr(genotype, f'{cell}_concat')!r}"
            )
        pairs = []
        for e, (op, node_input) in enumerate(getattr(genotype, cell)):
            if op not in NB301_OPS:
                raise GenotypeError(
                    f"genotype.{cell}[{e}]: {op!r} has no NB301 op index ({list(NB301_OPS)})"
                )
            pairs.append((node_input, NB301_OPS.index(op)))
        out.append(pairs)
    return out


def nb301_decode(encoding: Any) -> Genotype:
    """The genotype of a NAS-Bench-301 compact encoding (see `nb301_encode`); a string
    (a NASLib data-file key such as `"[[(0, 0), ...], [...]]"`) is read literally.

    Raises:
        GenotypeError: Naming the cell and pair that is malformed.

    >>> nb301_decode("[" + str([(0, 4)] * 8) + "," + str([(1, 6)] * 8) + "]").normal[0]
    ('sep_conv_5x5', 0)
    """
    if isinstance(encoding, str):
        try:
            encoding = ast.literal_eval(encoding.strip())
        except (ValueError, SyntaxError):
            raise GenotypeError(
                f"an NB301 encoding's text must be a literal, got {encoding[:80]!r}"
            ) from None
    if not (isinstance(encoding, (list, tuple)) and len(encoding) == 2):
        raise GenotypeError(f"an NB301 encoding is [normal, reduce], got {encoding!r}")
    cells = []
    for cell, pairs in zip(("normal", "reduce"), encoding, strict=True):
        if not (isinstance(pairs, (list, tuple)) and len(pairs) == 2 * NODES):
            raise GenotypeError(f"NB301 {cell} cell must have {2 * NODES} pairs, got {pairs!r}")
        edges = []
        for e, pair in enumerate(pairs):
            ok = isinstance(pair, (list, tuple)) and len(pair) == 2
            if not ok or type(pair[1]) is not int or not 0 <= pair[1] < len(NB301_OPS):
                raise GenotypeError(
                    f"NB301 {cell} pair {e} must be (input, op index 0..{len(NB301_OPS) - 1}), "
                    f"got {pair!r}"
                )
            edges.append((NB301_OPS[pair[1]], pair[0]))
        cells.append(edges)
    concat = range(2, NODES + 2)
    return check_genotype(Genotype(cells[0], concat, cells[1], concat))


def canonical_genotype(genotype: Genotype) -> Genotype:
    """`genotype` with each node's two edges in input order (the same architecture).

    >>> canonical_genotype(nb301_decode([[(1, 3), (0, 2)] * 4] * 2)).normal[0]
    ('skip_connect', 0)
    """
    check_genotype(genotype)

    def cell(edges: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for k in range(NODES):
            out += sorted(edges[2 * k : 2 * k + 2], key=lambda e: e[1])
        return out

    return genotype._replace(normal=cell(genotype.normal), reduce=cell(genotype.reduce))
