"""Views of a trial's program: domain drawings and a readable symbolic tree.

A trial stores its materialized program as automorph JSON (`TrialRecord.example`).
`program_views` reads that text and returns what the dashboard's trial page
shows, most specific first:

* a NAS-Bench-201 cell (`NB201Cell`, or a derivation of the NAS-Bench-201
  grammar) as its 4-node DAG, each edge labelled by its operation;
* a NAS-Bench-101 cell (`NB101Cell`) as a layered DAG of its operations;
* a grammar derivation (`grammar.Derivation`) as a tree of nonterminal,
  operator and terminal nodes;
* an AutoML-Zero program (`zero.Program`) as code;
* always last, the whole program as a readable symbolic tree.

Domain objects are found anywhere in the program (an `NB201Cell` under
`model.cell` gets a view titled with that key path). The drawings are
self-contained SVG written here (no scripts, styles, ids or external
references, so several can sit on one page), and every text that comes from
the program is XML-escaped. A stored example that cannot be read in this
process (its type is a user class not imported here, or the text is not
automorph JSON) never raises: it is shown as indented JSON, and the domain
objects inside it that can be read still get their views.

This module needs no web framework; the pages embed `ProgramView.svg` as
markup and must escape `ProgramView.text` and `ProgramView.title` themselves.
"""

from __future__ import annotations

import functools
import json
import math
import pprint
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.sax.saxutils import escape

from automorph.benchmarks import NB201_EDGES, InvalidCellError, NB101Cell, NB201Cell
from automorph.grammar import (
    Derivation,
    Grammar,
    GrammarError,
    Nonterminal,
    Op,
    Term,
    Terminal,
    hierarchical_nb201_grammar,
    nb201_grammar,
)
from automorph.symbolic import Symbolic, from_json, from_json_str, query
from automorph.symbolic import registered_names as _registered_names
from automorph.utils import UnknownTypeError

_PROGRAM_TYPE: type[Any] | None
try:  # `automorph.zero` needs numba (the `zero` extra); without it, no code view.
    from automorph.zero import Program as _ZeroProgram

    _PROGRAM_TYPE = _ZeroProgram
except ImportError:  # pragma: no cover - exercised only without the extra
    _PROGRAM_TYPE = None

__all__ = ["MAX_TREE_NODES", "ProgramView", "grammars_of_spec", "program_views", "program_views_of"]

MAX_TREE_NODES = 300
"""The most nodes a derivation drawing has; a larger derivation is shown as text."""

_MAX_DOMAIN_VIEWS = 12
_DOMAIN_TYPE_NAMES = frozenset(
    {
        "automorph.benchmarks.NB201Cell",
        "automorph.benchmarks.NB101Cell",
        "automorph.benchmarks._nasbench201.NB201Cell",
        "automorph.benchmarks._nasbench101.NB101Cell",
        "automorph.grammar.Derivation",
        "automorph.zero.Program",
        "automorph.zero._program.Program",
    }
)


@dataclass(frozen=True)
class ProgramView:
    """One way of showing a trial's program.

    Attributes:
        kind: `graph` (a drawing, with `text` as its text rendering), `code`
            (the program as code), or `tree` (the symbolic tree as text).
        title: What the view shows, e.g. `NAS-Bench-201 cell` or `Program`;
            a key path is appended when the object is not the whole program.
        svg: For `graph`: a complete `<svg>` element with every label
            XML-escaped, no scripts, styles, ids or external references.
            None for the other kinds.
        text: The code, the formatted tree, or the drawing as text.
    """

    kind: Literal["graph", "code", "tree"]
    title: str
    svg: str | None
    text: str


def program_views(
    example_json: str | None, *, dna_spec_json: str | None = None
) -> list[ProgramView]:
    """The views of a stored example (`TrialRecord.example`), most specific first.

    Args:
        example_json: The trial's materialized program as automorph JSON text;
            None (a trial stored without one) gives no views.
        dna_spec_json: The study's DNASpec as JSON text (`StudyInfo.dna_spec`),
            if known: the grammars of its grammar decisions label the
            derivations' nodes with their terminals (see `grammars_of_spec`).

    Returns:
        The domain views that apply, then one `tree` view of the whole program.
        Text that cannot be read here gives a `tree` view of the text itself
        (indented JSON when it is JSON) whose title says why, after the views
        of the domain objects inside it that can be read. Never raises.

    >>> cell = '{"_type": "automorph.benchmarks.NB201Cell", "edge_1_0": "none",' \\
    ...     ' "edge_2_0": "none", "edge_2_1": "none", "edge_3_0": "skip_connect",' \\
    ...     ' "edge_3_1": "none", "edge_3_2": "none"}'
    >>> [(v.kind, v.title) for v in program_views(cell)]
    [('graph', 'NAS-Bench-201 cell'), ('tree', 'Program')]
    >>> program_views('{"_type": "my.Model", "width": 8}')[0].title
    "Program (stored JSON; type 'my.Model' not importable here)"
    """
    if example_json is None:
        return []
    grammars = grammars_of_spec(dna_spec_json)
    try:
        value = from_json_str(example_json)
    except Exception as error:  # noqa: BLE001 - any failure to read is shown, never raised
        return _unreadable_views(example_json, error, grammars)
    return program_views_of(value, grammars=grammars)


def program_views_of(value: Any, *, grammars: Mapping[str, str] | None = None) -> list[ProgramView]:
    """The views of a program given as an object (for example a trial's `example`).

    Args:
        value: The program: any symbolic value, or a plain value.
        grammars: Grammar texts by the key path of the derivation they derive
            (`""` for the root), as `grammars_of_spec` returns them. A
            derivation with no grammar here is matched against these and the
            grammars automorph ships; with none that fits, its nodes show
            nonterminal and production index only.

    Returns:
        The domain views that apply, most specific first, then a `tree` view.

    >>> from automorph import zero
    >>> views = program_views_of(zero.linear_program())
    >>> [(v.kind, v.title) for v in views]
    [('code', 'AutoML-Zero program'), ('tree', 'Program')]
    >>> print(views[0].text.splitlines()[0])
    def setup():
    """
    grammars = dict(grammars or {})
    views: list[ProgramView] = []
    for path, obj in _domain_objects(value):
        views.extend(_domain_views(obj, path, grammars))
        if len(views) >= _MAX_DOMAIN_VIEWS:
            break
    views.append(ProgramView("tree", "Program", None, _format_tree(value)))
    return views


def grammars_of_spec(dna_spec_json: str | None) -> dict[str, str]:
    """The grammar text of every grammar decision in a DNASpec's JSON, by location.

    Reads the JSON as data (nothing is constructed), so a spec with types
    unknown here still yields its grammars; text that is not JSON yields none.

    >>> import automorph as am
    >>> space = am.Dict(arch=am.grammar.grammar_space("S -> Seq(OP, OP)\\nOP -> a | b"))
    >>> grammars_of_spec(am.dna_spec(space).to_json_str())
    {'arch': 'S -> Seq(OP, OP)\\nOP -> a | b'}
    """
    if not dna_spec_json:
        return {}
    try:
        data = json.loads(dna_spec_json)
    except (ValueError, TypeError, RecursionError):
        return {}
    found: dict[str, str] = {}
    for node in _json_dicts(data):
        hooks = node.get("hooks")
        if (
            node.get("_type") == "automorph.CustomDecisionPoint"
            and isinstance(hooks, dict)
            and hooks.get("_type") == "automorph.grammar.GrammarHooks"
            and isinstance(hooks.get("grammar"), str)
        ):
            location = node.get("location")
            found.setdefault(location if isinstance(location, str) else "", hooks["grammar"])
    return found


# --- finding domain objects ---------------------------------------------------------------


def _domain_types() -> tuple[type[Any], ...]:
    types: tuple[type[Any], ...] = (NB201Cell, NB101Cell, Derivation)
    return (*types, _PROGRAM_TYPE) if _PROGRAM_TYPE is not None else types


def _domain_objects(value: Any) -> list[tuple[str, Any]]:
    """(key path, object) of the outermost domain objects in `value`, in tree order."""
    try:
        found = query(value, type=_domain_types(), enter_selected=False)
    except Exception:  # noqa: BLE001 - an odd value has no domain views, not an error
        return []
    return [(str(path), obj) for path, obj in found.items()]


def _domain_views(obj: Any, path: str, grammars: Mapping[str, str]) -> list[ProgramView]:
    where = f" at {path}" if path else ""
    try:
        if isinstance(obj, NB201Cell):
            ops = [getattr(obj, name) for name in NB201_EDGES]
            return [_nb201_view(ops, f"NAS-Bench-201 cell{where}")] if _all_str(ops) else []
        if isinstance(obj, NB101Cell):
            view = _nb101_view(obj, where)
            return [view] if view is not None else []
        if isinstance(obj, Derivation):
            return _derivation_views(obj, path, where, grammars)
        if _PROGRAM_TYPE is not None and isinstance(obj, _PROGRAM_TYPE):
            return [ProgramView("code", f"AutoML-Zero program{where}", None, obj.code())]
    except (RecursionError, ValueError, TypeError, AttributeError, IndexError, KeyError):
        return []  # a malformed object is still shown by the tree view
    return []


def _all_str(values: Sequence[Any]) -> bool:
    return all(isinstance(v, str) for v in values)


# --- the generic tree and unreadable text -------------------------------------------------


def _format_tree(value: Any) -> str:
    try:
        if isinstance(value, Symbolic):
            return value.format(compact=False)
        return pprint.pformat(value, width=100, sort_dicts=False)
    except RecursionError:
        return "(the program is nested too deeply to format)"


def _unreadable_views(
    text: str, error: Exception, grammars: Mapping[str, str]
) -> list[ProgramView]:
    try:
        data: Any = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return [ProgramView("tree", "Program (stored text; not JSON)", None, text)]
    unknown = _unknown_type(error, data)
    reason = (
        f"type {unknown!r} not importable here"
        if unknown is not None
        else f"cannot be read here: {_first_line(error)}"
    )
    views: list[ProgramView] = []
    for path, node in _json_domain_nodes(data, ""):
        try:
            obj = from_json(node)
        except Exception:  # noqa: BLE001 - an unreadable part is left to the text
            continue
        views.extend(_domain_views(obj, path, grammars))
        if len(views) >= _MAX_DOMAIN_VIEWS:
            break
    try:
        pretty = json.dumps(data, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        pretty = text
    views.append(ProgramView("tree", f"Program (stored JSON; {reason})", None, pretty))
    return views


def _unknown_type(error: Exception, data: Any) -> str | None:
    """The type name the JSON holds that no class is registered under, if that was the error."""
    if not isinstance(error, UnknownTypeError):
        return None
    match = re.match(r"unknown type '([^']*)'", str(error))
    if match:
        return match.group(1)
    known = set(_registered_names())
    for node in _json_dicts(data):
        name = node.get("_type")
        if isinstance(name, str) and name not in known:
            return name
    return None


def _first_line(error: Exception) -> str:
    lines = str(error).splitlines()
    return lines[0] if lines else type(error).__name__


def _json_dicts(data: Any) -> Iterator[dict[str, Any]]:
    """Every dict in parsed JSON, in pre-order (iteratively: no depth limit)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _json_domain_nodes(data: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key path, JSON) of the outermost domain objects in parsed JSON."""
    if isinstance(data, dict):
        if data.get("_type") in _DOMAIN_TYPE_NAMES:
            yield path, data
            return
        for key, item in data.items():
            if key == "_type":
                continue
            if key in ("_tuple", "_dict"):
                yield from _json_domain_nodes(item, path)
            else:
                yield from _json_domain_nodes(item, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _json_domain_nodes(item, f"{path}[{i}]")


# --- SVG ----------------------------------------------------------------------------------

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CHAR_W = 7.3  # width of a 12px monospace character
_FONT = 'font-family="monospace" font-size="12"'
_OP_COLORS = {
    "none": "#9e9e9e",
    "skip_connect": "#1f77b4",
    "nor_conv_1x1": "#2ca02c",
    "nor_conv_3x3": "#d62728",
    "avg_pool_3x3": "#ff7f0e",
    "conv3x3-bn-relu": "#d62728",
    "conv1x1-bn-relu": "#2ca02c",
    "maxpool3x3": "#ff7f0e",
}


def _esc(text: Any) -> str:
    """`text` made safe as XML character data or a double-quoted attribute."""
    return escape(_INVALID_XML.sub("\ufffd", str(text)), {'"': "&quot;"})


def _n(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    w, h = _n(math.ceil(width)), _n(math.ceil(height))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="{_esc(title)}" {_FONT}>'
        f"<title>{_esc(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, label: str, color: str = "#222", anchor: str = "middle") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" fill="{color}" '
        f'stroke="#fff" stroke-width="3" paint-order="stroke">{_esc(label)}</text>'
    )


def _arrow(tip: tuple[float, float], direction: tuple[float, float], color: str) -> str:
    dx, dy = direction
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    bx, by = tip[0] - 9 * ux, tip[1] - 9 * uy
    points = [tip, (bx - 4 * uy, by + 4 * ux), (bx + 4 * uy, by - 4 * ux)]
    coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    return f'<polygon points="{coords}" fill="{color}"/>'


def _edge(
    start: tuple[float, float],
    end: tuple[float, float],
    control: tuple[float, float] | None,
    color: str,
    dashed: bool,
    tooltip: str,
) -> str:
    """A line (or quadratic curve through `control`) ending in an arrowhead at `end`."""
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    if control is None:
        d = f"M{_n(start[0])},{_n(start[1])} L{_n(end[0])},{_n(end[1])}"
        direction = (end[0] - start[0], end[1] - start[1])
    else:
        d = (
            f"M{_n(start[0])},{_n(start[1])} "
            f"Q{_n(control[0])},{_n(control[1])} {_n(end[0])},{_n(end[1])}"
        )
        direction = (end[0] - control[0], end[1] - control[1])
    return (
        f'<g><title>{_esc(tooltip)}</title><path d="{d}" fill="none" stroke="{color}" '
        f'stroke-width="1.6"{dash}/>{_arrow(end, direction, color)}</g>'
    )


def _towards(a: tuple[float, float], b: tuple[float, float], r: float) -> tuple[float, float]:
    """The point `r` from `a` on the way to `b`."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    norm = math.hypot(dx, dy) or 1.0
    return a[0] + r * dx / norm, a[1] + r * dy / norm


# --- NAS-Bench-201 ------------------------------------------------------------------------

# (from node, to node, control point's y or None for a straight edge), in NB201_EDGES order.
_NB201_Y = 150.0
_NB201_EDGES: tuple[tuple[int, int, float | None], ...] = (
    (0, 1, None),
    (0, 2, 30.0),
    (1, 2, None),
    (0, 3, -90.0),
    (1, 3, 270.0),
    (2, 3, None),
)


def _nb201_view(ops: Sequence[str], title: str) -> ProgramView:
    """The 4-node cell: nodes in a row, edges to the next node straight, longer ones arched."""
    radius = 17.0
    xs = [60.0 + 150.0 * i for i in range(4)]
    body: list[str] = []
    labels: list[str] = []
    lines = ["|" + "|+|".join(_nb201_groups(ops)) + "|"]
    for (src, dst, cy), op in zip(_NB201_EDGES, ops, strict=True):
        a, b = (xs[src], _NB201_Y), (xs[dst], _NB201_Y)
        color = _OP_COLORS.get(op, "#555")
        tooltip = f"node {src} \u2192 node {dst}: {op}"
        lines.append(tooltip)
        if cy is None:
            body.append(
                _edge(
                    _towards(a, b, radius),
                    _towards(b, a, radius),
                    None,
                    color,
                    op == "none",
                    tooltip,
                )
            )
            lx, ly = (a[0] + b[0]) / 2, _NB201_Y - 8
        else:
            c = ((a[0] + b[0]) / 2, cy)
            body.append(
                _edge(
                    _towards(a, c, radius), _towards(b, c, radius), c, color, op == "none", tooltip
                )
            )
            apex = (_NB201_Y + cy) / 2
            lx, ly = c[0], apex - 6 if cy < _NB201_Y else apex + 16
        labels.append(_text(lx, ly, op, color))
    body.extend(labels)
    for i, x in enumerate(xs):
        name = ("input", "node 1", "node 2", "output")[i]
        body.append(
            f'<g><title>{name}</title><circle cx="{_n(x)}" cy="{_n(_NB201_Y)}" r="{_n(radius)}" '
            f'fill="#fff" stroke="#333" stroke-width="1.6"/>'
            f'<text x="{_n(x)}" y="{_n(_NB201_Y + 4)}" text-anchor="middle">{i}</text></g>'
        )
    svg = _svg(xs[-1] + 60, 245, title, body)
    return ProgramView("graph", title, svg, "\n".join(lines))


def _nb201_groups(ops: Sequence[str]) -> list[str]:
    groups: dict[int, list[str]] = {}
    for (src, dst, _), op in zip(_NB201_EDGES, ops, strict=True):
        groups.setdefault(dst, []).append(f"{op}~{src}")
    return ["|".join(groups[d]) for d in (1, 2, 3)]


# --- NAS-Bench-101 ------------------------------------------------------------------------

_NB101_SHORT = {
    "conv3x3-bn-relu": "conv3x3",
    "conv1x1-bn-relu": "conv1x1",
}


def _nb101_view(cell: NB101Cell, where: str) -> ProgramView | None:
    """A layered drawing: each node in the column of its longest path from the input."""
    matrix, ops = cell.matrix, cell.ops
    n = len(matrix)
    if not (2 <= n <= 50 and len(ops) == n and _all_str(ops)):
        return None
    if any(len(row) != n or any(e not in (0, 1) for e in row) for row in matrix):
        return None
    if any(matrix[i][j] for i in range(n) for j in range(i + 1)):
        return None  # not upper triangular: no topological order to lay out
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if matrix[i][j]]
    try:
        cell.validate()
        problem = ""
    except InvalidCellError as error:
        problem = str(error)
    live = _on_a_path(n, edges)
    layer = [0] * n
    for j in range(1, n):
        layer[j] = max((layer[i] + 1 for i, k in edges if k == j), default=1)
    layer[n - 1] = max(layer[n - 1], max(layer[: n - 1]) + 1)
    columns: dict[int, list[int]] = {}
    for v in range(n):
        columns.setdefault(layer[v], []).append(v)
    labels = [_NB101_SHORT.get(op, op) for op in ops]
    widths = [max(60.0, _CHAR_W * len(label) + 16) for label in labels]
    rows = max(len(c) for c in columns.values())
    row_h, box_h = 56.0, 28.0
    pos: dict[int, tuple[float, float]] = {}
    x = 20.0
    for col in sorted(columns):
        nodes = columns[col]
        col_w = max(widths[v] for v in nodes)
        y0 = (rows - len(nodes)) * row_h / 2 + row_h / 2
        for k, v in enumerate(nodes):
            pos[v] = (x + col_w / 2, y0 + k * row_h)
        x += col_w + 60
    body: list[str] = []
    top = row_h / 2 - box_h / 2  # the highest point drawn: a box, or an arched edge's apex
    for i, j in edges:
        (xi, yi), (xj, yj) = pos[i], pos[j]
        start, end = (xi + widths[i] / 2, yi), (xj - widths[j] / 2, yj)
        span = layer[j] - layer[i]
        control = None
        if span > 1:  # arched over the boxes of the columns it passes
            between = [v for v in range(n) if layer[i] < layer[v] < layer[j]]
            cy = min(yi, yj) - 24 - 14 * span
            for v in between:
                for bx in (pos[v][0] - widths[v] / 2, pos[v][0], pos[v][0] + widths[v] / 2):
                    t = (bx - start[0]) / (end[0] - start[0])
                    clear = pos[v][1] - box_h / 2 - 8  # the curve's y above this point
                    cy = min(cy, (clear - (1 - t) ** 2 * yi - t**2 * yj) / (2 * t * (1 - t)))
            control = ((start[0] + end[0]) / 2, cy)
            top = min(top, (yi + 2 * cy + yj) / 4)
        dead = i not in live or j not in live
        body.append(
            _edge(
                start,
                end,
                control,
                "#bbb" if dead else "#444",
                dead,
                f"{i} {ops[i]} \u2192 {j} {ops[j]}",
            )
        )
    for v in range(n):
        cx, cy = pos[v]
        dead = v not in live
        fill = "#f0f0f0" if dead or ops[v] in ("input", "output") else _tint(ops[v])
        dash = ' stroke-dasharray="4,3"' if dead else ""
        note = " (on no input\u2192output path)" if dead else ""
        stroke, ink = ("#aaa", "#999") if dead else ("#333", "#222")
        body.append(
            f"<g><title>{_esc(f'node {v}: {ops[v]}{note}')}</title>"
            f'<rect x="{_n(cx - widths[v] / 2)}" y="{_n(cy - box_h / 2)}" width="{_n(widths[v])}" '
            f'height="{_n(box_h)}" rx="5" fill="{fill}" stroke="{stroke}"{dash}/>'
            f'<text x="{_n(cx)}" y="{_n(cy + 4)}" text-anchor="middle" fill="{ink}">'
            f"{_esc(labels[v])}</text></g>"
        )
    title = f"NAS-Bench-101 cell{where}" + (" (not a valid cell)" if problem else "")
    lines = [
        f"node {v}: {ops[v]}" + ("" if v in live else " (on no input->output path)")
        for v in range(n)
    ]
    lines.append("edges: " + (", ".join(f"{i}->{j}" for i, j in edges) or "none"))
    if problem:
        lines.append(f"not a valid cell: {problem}")
    shifted = [f'<g transform="translate(0,{_n(12 - top)})">', *body, "</g>"]
    svg = _svg(x - 40, rows * row_h + 12 - top, title, shifted)
    return ProgramView("graph", title, svg, "\n".join(lines))


def _on_a_path(n: int, edges: Sequence[tuple[int, int]]) -> set[int]:
    """Nodes on some path from node 0 to node n-1."""
    forward, backward = {0}, {n - 1}
    for i, j in sorted(edges):
        if i in forward:
            forward.add(j)
    for i, j in sorted(edges, key=lambda e: -e[1]):
        if j in backward:
            backward.add(i)
    return forward & backward


def _tint(op: str) -> str:
    return {"#d62728": "#f8d7d7", "#2ca02c": "#d9f0d9", "#ff7f0e": "#ffe5cc"}.get(
        _OP_COLORS.get(op, ""), "#e8eef9"
    )


# --- grammar derivations ------------------------------------------------------------------


@dataclass
class _Node:
    label: str
    kind: Literal["nonterminal", "op", "terminal"]
    tooltip: str
    children: list[_Node] = field(default_factory=list)


@functools.lru_cache(maxsize=64)
def _parse_grammar(text: str) -> Grammar | None:
    try:
        return Grammar.parse(text)
    except GrammarError:
        return None


@functools.lru_cache(maxsize=1)
def _shipped_grammars() -> tuple[tuple[str, Grammar], ...]:
    return (
        ("the NAS-Bench-201 grammar", nb201_grammar()),
        ("the hierarchical NAS-Bench-201 grammar", hierarchical_nb201_grammar()),
    )


def _fits(grammar: Grammar, derivation: Derivation) -> bool:
    try:
        grammar.validate(derivation)
    except GrammarError:
        return False
    return True


def _grammar_for(
    derivation: Derivation, path: str, grammars: Mapping[str, str]
) -> tuple[str, Grammar] | None:
    """The grammar of a derivation: the spec's for its path, else the first that fits."""
    ordered = [grammars[path]] if path in grammars else []
    ordered += [text for key, text in grammars.items() if key != path]
    for text in ordered:
        grammar = _parse_grammar(text)
        if grammar is not None and _fits(grammar, derivation):
            return "the study's grammar", grammar
    for name, grammar in _shipped_grammars():
        if _fits(grammar, derivation):
            return name, grammar
    return None


def _derivation_views(
    derivation: Derivation, path: str, where: str, grammars: Mapping[str, str]
) -> list[ProgramView]:
    found = _grammar_for(derivation, path, grammars)
    views: list[ProgramView] = []
    header: list[str] = []
    if found is None:
        header.append("grammar not known here: nodes show the nonterminal and its rule number")
        root = _bare_tree(derivation)
    else:
        source, grammar = found
        term = grammar.expand(derivation)
        header.append(f"grammar: {source}")
        header.append(f"term: {term}")
        if grammar.to_text() == _shipped_grammars()[0][1].to_text() and isinstance(term, Op):
            ops = [str(arg) for arg in term.args]
            views.append(_nb201_view(ops, f"NAS-Bench-201 cell{where}"))
        root = _grammar_tree(derivation, grammar)
    outline = "\n".join([*header, *_outline(derivation, found[1] if found else None)])
    count = _count(root, MAX_TREE_NODES + 1)
    if count > MAX_TREE_NODES:
        title = (
            f"Grammar derivation{where} (more than {MAX_TREE_NODES} nodes: "
            "too many to draw, shown as text)"
        )
        views.append(ProgramView("tree", title, None, outline))
    else:
        title = f"Grammar derivation{where}"
        views.append(ProgramView("graph", title, _tree_svg(root, title), outline))
    return views


def _bare_tree(derivation: Derivation) -> _Node:
    return _Node(
        f"{derivation.symbol} #{derivation.rule}",
        "nonterminal",
        f"{derivation.symbol}: production {derivation.rule}",
        [_bare_tree(c) for c in derivation.children],
    )


def _grammar_tree(derivation: Derivation, grammar: Grammar) -> _Node:
    production = grammar.production(derivation)
    children = iter(derivation.children)

    def of(term: Term) -> _Node:
        if isinstance(term, Nonterminal):
            return _grammar_tree(next(children), grammar)
        if isinstance(term, Terminal):
            return _Node(term.name, "terminal", f"terminal {term}")
        return _Node(term.name, "op", f"operator {term.name}", [of(a) for a in term.args])

    return _Node(derivation.symbol, "nonterminal", str(production), [of(production.rhs)])


def _outline(derivation: Derivation, grammar: Grammar | None) -> list[str]:
    lines: list[str] = []
    stack: list[tuple[Derivation, int]] = [(derivation, 0)]
    while stack:
        node, depth = stack.pop()
        rule = str(grammar.production(node)) if grammar else f"{node.symbol} #{node.rule}"
        lines.append("  " * depth + rule)
        stack.extend((c, depth + 1) for c in reversed(node.children))
    return lines


def _count(root: _Node, limit: int) -> int:
    """Nodes in the tree, counting no further than `limit`."""
    total, stack = 0, [root]
    while stack and total < limit:
        node = stack.pop()
        total += 1
        stack.extend(node.children)
    return total


_NODE_STYLE = {
    "nonterminal": ('fill="#e8eef9" stroke="#4a6fa5"', "3"),
    "op": ('fill="#fff3e0" stroke="#e08a00"', "3"),
    "terminal": ('fill="#e8f5e9" stroke="#2e7d32"', "11"),
}


def _tree_svg(root: _Node, title: str) -> str:
    """A tidy tree: leaves left to right, each parent centred over its children."""
    gap, level_h, box_h, margin = 10.0, 56.0, 22.0, 12.0

    def box_w(node: _Node) -> float:
        return max(28.0, _CHAR_W * len(node.label) + 12)

    widths: dict[int, float] = {}

    def measure(node: _Node) -> float:
        inner = sum(measure(c) for c in node.children) + gap * max(len(node.children) - 1, 0)
        widths[id(node)] = max(box_w(node), inner)
        return widths[id(node)]

    placed: list[tuple[_Node, float, float]] = []
    links: list[tuple[float, float, float, float]] = []

    def place(node: _Node, left: float, depth: int) -> float:
        """Places the subtree in [left, left + width); returns the node's centre x."""
        y = margin + depth * level_h + box_h / 2
        width = widths[id(node)]
        slot = len(placed)  # pre-order, so the drawing reads root first
        placed.append((node, 0.0, y))
        if not node.children:
            cx = left + width / 2
        else:
            inner = sum(widths[id(c)] for c in node.children) + gap * (len(node.children) - 1)
            x = left + (width - inner) / 2
            centres = []
            for child in node.children:
                centres.append(place(child, x, depth + 1))
                x += widths[id(child)] + gap
            cx = (centres[0] + centres[-1]) / 2
            for c in centres:
                links.append((cx, y + box_h / 2, c, y + level_h - box_h / 2))
        placed[slot] = (node, cx, y)
        return cx

    total_w = measure(root)
    place(root, margin, 0)
    depth = max(round((y - margin - box_h / 2) / level_h) for _, _, y in placed)
    body = [
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        'stroke="#888" stroke-width="1.2"/>'
        for x1, y1, x2, y2 in links
    ]
    for node, cx, cy in placed:
        w = box_w(node)
        style, rx = _NODE_STYLE[node.kind]
        body.append(
            f'<g><title>{_esc(node.tooltip)}</title><rect x="{_n(cx - w / 2)}" '
            f'y="{_n(cy - box_h / 2)}" width="{_n(w)}" height="{_n(box_h)}" rx="{rx}" {style}/>'
            f'<text x="{_n(cx)}" y="{_n(cy + 4)}" text-anchor="middle">'
            f"{_esc(node.label)}</text></g>"
        )
    height = 2 * margin + depth * level_h + box_h
    return _svg(total_w + 2 * margin, height, title, body)
