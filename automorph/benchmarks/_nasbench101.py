"""The NAS-Bench-101 cell space: cells, validity, pruning and the isomorphism hash.

NAS-Bench-101 (Ying et al., 2019) searches one cell, a DAG of at most 7 nodes:
node 0 is the input, the last node the output, and every node in between
applies one of three operations (`conv3x3-bn-relu`, `conv1x1-bn-relu`,
`maxpool3x3`). Edges are given by an upper-triangular 0/1 adjacency matrix
with at most 9 edges. Cells that differ only in the numbering of their nodes
are the same network; `NB101Cell.spec_hash` gives them the same hash.

The search space (`nb101_space`) has 21 binary edge decisions (the upper
triangle of a 7x7 matrix) and 5 operation decisions. Many of its points are
not valid cells (no input->output path, or more than 9 edges): a reward
function should test `cell.is_valid()` and skip such a trial (or give it the
worst reward) instead of evaluating it.

The sample of 500 trained cells (`load_nb101_sample`) comes from
NAS-Bench-Suite-Zero and ships with the package (see
`automorph/benchmarks/data/PROVENANCE.md`). Its op codes are
0 input, 1 output, 2 maxpool3x3, 3 conv1x1-bn-relu, 4 conv3x3-bn-relu
(`NB101_OP_CODES`); this mapping was verified by recomputing the trainable
parameter count of the official NAS-Bench-101 network for every sample cell
under each of the 6 possible assignments of codes 2/3/4: only this one
reproduces the recorded `params` of all 500 cells
(tests/benchmarks/test_nasbench101.py).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automorph.benchmarks._shipped import NB101_FILE, read_shipped, shipped_name
from automorph.hyper import oneof
from automorph.symbolic import Object
from automorph.utils import AutomorphError, BenchmarkDataError

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
NB101_OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
"""The intermediate operations, in the order of the official `available_ops`."""
NB101_MAX_NODES = 7
"""The most nodes a NAS-Bench-101 cell has, input and output included."""
NB101_MAX_EDGES = 9
"""The most edges a NAS-Bench-101 cell has."""
NB101_OP_CODES: Mapping[int, str] = {
    0: INPUT,
    1: OUTPUT,
    2: MAXPOOL3X3,
    3: CONV1X1,
    4: CONV3X3,
}
"""Op codes of the NAS-Bench-Suite-Zero sample keys (verified, see module docstring)."""

# Labels the official hash gives each node: input -1, output -2, an operation
# its index in NB101_OPS.
_HASH_LABELS: dict[str, int] = {INPUT: -1, OUTPUT: -2} | {op: i for i, op in enumerate(NB101_OPS)}
_SAMPLE_ENV = "AUTOMORPH_NB101_SAMPLE"


class InvalidCellError(AutomorphError, ValueError):
    """A NAS-Bench-101 cell breaks a rule of the space (the message names it)."""


class NB101Cell(Object, type_name="automorph.benchmarks.NB101Cell"):
    """A NAS-Bench-101 cell: an adjacency matrix and one operation per node.

    `matrix[i][j] == 1` is an edge from node `i` to node `j`; node 0 is the
    input and the last node the output. A cell may have from 2 to 7 nodes (the
    official table stores pruned cells, which are often smaller).

    Construction only checks types, so that a search space (whose entries are
    hyper-values) and the invalid points of that space are cells too; the rules
    of NAS-Bench-101 are checked by `validate` / `is_valid`. As in the official
    `nasbench` API, the edge limit applies to the pruned cell: nodes that lie on
    no input->output path (and their edges) do not count.

    >>> cell = NB101Cell(
    ...     matrix=[[0, 1, 1, 0],
    ...             [0, 0, 0, 1],
    ...             [0, 0, 0, 1],
    ...             [0, 0, 0, 0]],
    ...     ops=["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    >>> cell.is_valid(), cell.num_edges
    (True, 4)
    >>> swapped = NB101Cell(
    ...     matrix=cell.matrix, ops=["input", "maxpool3x3", "conv3x3-bn-relu", "output"])
    >>> swapped.spec_hash() == cell.spec_hash()       # the same graph, renumbered
    True
    >>> try:
    ...     NB101Cell([[0, 0], [0, 0]], ["input", "output"]).validate()
    ... except InvalidCellError as error:
    ...     print(error)
    no path from the input (node 0) to the output (node 1)
    """

    matrix: list[list[int]]
    ops: list[str]

    @property
    def num_nodes(self) -> int:
        """The number of nodes (rows of `matrix`)."""
        return len(self.matrix)

    @property
    def num_edges(self) -> int:
        """The number of edges (ones in `matrix`), before pruning."""
        return sum(int(bool(entry)) for row in self.matrix for entry in row)

    def is_valid(self) -> bool:
        """Whether the cell obeys every rule of NAS-Bench-101 (see `validate`)."""
        try:
            self.validate()
        except InvalidCellError:
            return False
        return True

    def validate(self) -> NB101Cell:
        """Checks the rules of NAS-Bench-101 and returns the cell.

        The rules, in the order checked: the matrix is square with 2 to 7 rows
        and one op per node; entries are 0 or 1; the matrix is strictly upper
        triangular (a DAG in topological order); the first op is `input`, the
        last `output` and the others are in `NB101_OPS`; there is a path from
        the input to the output; the pruned cell has at most 9 edges.

        Raises:
            InvalidCellError: Naming the first rule broken.
        """
        self._check_graph()
        n = self.num_nodes
        if self.ops[0] != INPUT or self.ops[-1] != OUTPUT:
            raise InvalidCellError(
                f"the first op must be {INPUT!r} and the last {OUTPUT!r}, "
                f"got {self.ops[0]!r} and {self.ops[-1]!r}"
            )
        for node in range(1, n - 1):
            if self.ops[node] not in NB101_OPS:
                raise InvalidCellError(
                    f"op of node {node} must be one of {list(NB101_OPS)}, got {self.ops[node]!r}"
                )
        pruned = self.prune()
        if pruned.num_edges > NB101_MAX_EDGES:
            raise InvalidCellError(
                f"a cell has at most {NB101_MAX_EDGES} edges, got {pruned.num_edges} "
                "(after pruning)"
            )
        return self

    def _check_graph(self) -> None:
        """Checks shape, 0/1 entries and upper triangularity."""
        n = self.num_nodes
        if not 2 <= n <= NB101_MAX_NODES:
            raise InvalidCellError(f"a cell has 2 to {NB101_MAX_NODES} nodes, got {n}")
        for i, row in enumerate(self.matrix):
            if len(row) != n:
                raise InvalidCellError(
                    f"the matrix must be square ({n}x{n}), row {i} has {len(row)} entries"
                )
        if len(self.ops) != n:
            raise InvalidCellError(f"a cell of {n} nodes needs {n} ops, got {len(self.ops)}")
        for i, row in enumerate(self.matrix):
            for j, entry in enumerate(row):
                if entry not in (0, 1):
                    raise InvalidCellError(
                        f"matrix entries must be 0 or 1, got {entry!r} at [{i}][{j}]"
                    )
                if entry and j <= i:
                    raise InvalidCellError(
                        f"the matrix must be strictly upper triangular, got an edge at [{i}][{j}]"
                    )

    def prune(self) -> NB101Cell:
        """The cell without the nodes that lie on no input->output path.

        As the official `nasbench` `ModelSpec` does: a node not reachable from
        the input, or from which the output is not reachable, is removed with
        its op and its edges. Op names are not checked.

        >>> cell = NB101Cell([[0, 1, 1], [0, 0, 0], [0, 0, 0]],
        ...                  ["input", "conv1x1-bn-relu", "output"])
        >>> cell.prune()
        NB101Cell(matrix=[[0, 1], [0, 0]], ops=['input', 'output'])

        Raises:
            InvalidCellError: If the matrix is malformed or has no input->output path.
        """
        self._check_graph()
        n = self.num_nodes
        matrix = [[int(entry) for entry in row] for row in self.matrix]
        from_input = _reachable(matrix, 0, forward=True)
        to_output = _reachable(matrix, n - 1, forward=False)
        keep = sorted(from_input & to_output)
        if n - 1 not in from_input:
            raise InvalidCellError(f"no path from the input (node 0) to the output (node {n - 1})")
        return NB101Cell(
            matrix=[[matrix[i][j] for j in keep] for i in keep],
            ops=[str(self.ops[i]) for i in keep],
        )

    def spec_hash(self) -> str:
        """The isomorphism-invariant hash of the pruned cell (32 hex digits).

        Two cells get the same hash when their pruned graphs are the same up
        to a renumbering of the intermediate nodes. The algorithm is the one
        of the official `nasbench` code (an iterated, Weisfeiler-Lehman-like
        MD5 hash of each node's label and its neighbours' hashes), with the
        same labels and string formats, so that the hashes are meant to
        coincide with the official `module_hash` values.

        >>> cell = NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]],
        ...                  ["input", "maxpool3x3", "output"])
        >>> len(cell.spec_hash())
        32

        Raises:
            InvalidCellError: If the cell is not valid.
        """
        pruned = self.validate().prune()
        matrix = [[int(entry) for entry in row] for row in pruned.matrix]
        return graph_hash(matrix, [_HASH_LABELS[str(op)] for op in pruned.ops])


def _reachable(matrix: Sequence[Sequence[int]], start: int, *, forward: bool) -> set[int]:
    """Nodes reachable from `start` along edges (`forward`) or against them."""
    n = len(matrix)
    seen = {start}
    frontier = [start]
    while frontier:
        node = frontier.pop()
        for other in range(n):
            edge = matrix[node][other] if forward else matrix[other][node]
            if edge and other not in seen:
                seen.add(other)
                frontier.append(other)
    return seen


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def graph_hash(matrix: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """An isomorphism-invariant MD5 hash of a labelled DAG.

    Each node starts from the hash of (out-degree, in-degree, label); then,
    once per node, every node's hash becomes the hash of its in-neighbours'
    sorted hashes, its out-neighbours' sorted hashes and its own hash. The
    result hashes the sorted node hashes. It is the official NAS-Bench-101
    `hash_module` algorithm, written anew.

    >>> a = graph_hash([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [-1, 0, 2, -2])
    >>> b = graph_hash([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [-1, 2, 0, -2])
    >>> a == b
    True
    """
    n = len(matrix)
    ins = [[w for w in range(n) if matrix[w][v]] for v in range(n)]
    outs = [[w for w in range(n) if matrix[v][w]] for v in range(n)]
    hashes = [_md5(str((len(outs[v]), len(ins[v]), labels[v]))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted(hashes[w] for w in ins[v]))
                + "|"
                + "".join(sorted(hashes[w] for w in outs[v]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


def nb101_space() -> NB101Cell:
    """The NAS-Bench-101 search space: 21 edge decisions and 5 op decisions.

    Every upper-triangle entry of the 7x7 matrix is `oneof([0, 1])` and every
    intermediate op is `oneof(NB101_OPS)`; decisions are named by key path
    (`matrix[0][1]`, `ops[1]`). Some points are invalid cells: check
    `is_valid()` before evaluating one.

    >>> import automorph as am
    >>> am.dna_spec(nb101_space()).size == 2**21 * 3**5
    True
    >>> cell = next(am.random_sample(nb101_space(), 1, seed=0))
    >>> cell.num_nodes, cell.ops[0], cell.ops[-1]
    (7, 'input', 'output')
    """
    n = NB101_MAX_NODES
    matrix: list[list[Any]] = [[oneof([0, 1]) if j > i else 0 for j in range(n)] for i in range(n)]
    ops: list[Any] = [INPUT] + [oneof(list(NB101_OPS)) for _ in range(n - 2)] + [OUTPUT]
    return NB101Cell(matrix=matrix, ops=ops)


@dataclass(frozen=True)
class NB101Entry:
    """One trained cell of the NAS-Bench-101 sample.

    Attributes:
        cell: The cell as stored (7x7, possibly with dangling nodes).
        val_accuracy: Validation accuracy (%) on CIFAR-10.
        metrics: The other figures of the record: `params` (millions), `flops`
            and the zero-cost proxy scores.
    """

    cell: NB101Cell
    val_accuracy: float
    metrics: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)


def decode_nb101_key(key: str | Sequence[int]) -> NB101Cell:
    """The cell of a NAS-Bench-Suite-Zero key: 49 matrix entries, then 7 op codes.

    >>> key = "(0, 1, 0, 0, 0, 0, 0,  0, 0, 1, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 1" + \\
    ...       ", 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0" + \\
    ...       ", 0, 0, 0, 0, 0, 0, 0,  0, 4, 2, 3, 3, 3, 1)"
    >>> decode_nb101_key(key).prune().ops
    ['input', 'conv3x3-bn-relu', 'maxpool3x3', 'output']

    Raises:
        InvalidCellError: If the key is not 56 ints or has an unknown op code.
    """
    try:
        values = ast.literal_eval(key) if isinstance(key, str) else tuple(key)
    except (ValueError, SyntaxError) as error:
        raise InvalidCellError(
            f"a NAS-Bench-101 key must be a tuple of ints, got {key!r}"
        ) from error
    n = NB101_MAX_NODES
    if not isinstance(values, tuple | list) or len(values) != n * n + n:
        raise InvalidCellError(f"a NAS-Bench-101 key has {n * n + n} ints, got {key!r}")
    codes = [int(code) for code in values[n * n :]]
    unknown = [code for code in codes if code not in NB101_OP_CODES]
    if unknown:
        raise InvalidCellError(f"unknown op code(s) {unknown} in key {key!r}")
    matrix = [[int(values[i * n + j]) for j in range(n)] for i in range(n)]
    return NB101Cell(matrix=matrix, ops=[NB101_OP_CODES[code] for code in codes])


def _find_sample(path: str | os.PathLike[str] | None) -> Path | None:
    """The sample file: `path`, else `$AUTOMORPH_NB101_SAMPLE`, else None (the shipped one)."""
    if path is not None:
        candidate, why = Path(path).expanduser(), "given as `path`"
    elif os.environ.get(_SAMPLE_ENV):
        candidate, why = Path(os.environ[_SAMPLE_ENV]).expanduser(), f"named by {_SAMPLE_ENV}"
    else:
        return None
    if not candidate.is_file():
        raise BenchmarkDataError(
            f"NAS-Bench-101 sample (zc_nasbench101.json) not found: {str(candidate)!r} ({why}); "
            f"pass `path=`, set {_SAMPLE_ENV}, or leave both out to use the sample shipped "
            "with automorph"
        )
    return candidate


def load_nb101_sample(path: str | os.PathLike[str] | None = None) -> list[NB101Entry]:
    """The 500 trained NAS-Bench-101 cells of NAS-Bench-Suite-Zero (CIFAR-10).

    Args:
        path: A `zc_nasbench101.json` file. Without it, the file named by the
            environment variable `AUTOMORPH_NB101_SAMPLE`; without that, the
            sample shipped with automorph
            (`automorph/benchmarks/data/zc_nasbench101.json.xz`).

    Returns:
        One `NB101Entry` per cell, in file order. Cells are as stored
        (7x7, unpruned).

    Raises:
        BenchmarkDataError: If the file given is missing (the message says
            where it was named) or malformed (it names the file and the fault).
    """
    found = _find_sample(path)
    if found is None:
        source = shipped_name(NB101_FILE)
        text = read_shipped(NB101_FILE, f"pass `path=` or set {_SAMPLE_ENV}")
    else:
        source = str(found)
        try:
            text = found.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise BenchmarkDataError(f"cannot read {source}: {error}") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BenchmarkDataError(
            f"{source}: not JSON (line {error.lineno}, column {error.colno}): {error.msg}"
        ) from error
    try:
        records: dict[str, dict[str, float]] = data.get("nasbench101", data)["cifar10"]
        entries = []
        for key, record in records.items():
            metrics = {k: float(v) for k, v in record.items() if k != "val_accuracy"}
            cell = decode_nb101_key(key)
            entries.append(NB101Entry(cell, float(record["val_accuracy"]), metrics))
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise BenchmarkDataError(f"{source}: not a NAS-Bench-101 sample ({error!r})") from error
    return entries
