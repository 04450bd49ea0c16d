"""The NAS-Bench-101 cell space, checked against the 500-cell NAS-Bench-Suite-Zero sample."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from pathlib import Path

import pytest

import automorph as am
from automorph.benchmarks import (
    NB101_OPS,
    InvalidCellError,
    NB101Cell,
    NB101Entry,
    _nasbench101,
    decode_nb101_key,
    graph_hash,
    load_nb101_sample,
    nb101_space,
)
from automorph.benchmarks._shipped import NB101_FILE, read_shipped

Matrix = list[list[int]]


@pytest.fixture(scope="module")
def sample() -> list[NB101Entry]:
    return load_nb101_sample()  # the sample shipped with automorph


def _matrix(cell: NB101Cell) -> Matrix:
    return [[int(entry) for entry in row] for row in cell.matrix]


def _ops(cell: NB101Cell) -> list[str]:
    return [str(op) for op in cell.ops]


# --- The op-code mapping, verified by recomputing parameter counts -------------------------


def _vertex_channels(in_channels: int, out_channels: int, matrix: Matrix) -> list[int]:
    """The official `compute_vertex_channels` of nasbench's model builder."""
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[-1] = in_channels, out_channels
    if n == 2:
        return channels
    fan_in = sum(matrix[v][n - 1] for v in range(1, n))
    interior, correction = divmod(out_channels, fan_in)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            channels[v] = interior + (1 if correction else 0)
            correction = max(correction - 1, 0)
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v][dst]:
                    channels[v] = max(channels[v], channels[dst])
    return channels


def _num_params(cell: NB101Cell) -> int:
    """Trainable parameters of the official NAS-Bench-101 CIFAR-10 network.

    A 3x3 conv-bn-relu stem (128 channels), 3 stacks of 3 cells (channels
    doubled after each stack), global pooling and a 10-way dense layer. In a
    cell, every edge from the input is a 1x1 projection (conv-bn-relu), convs
    have no bias and batch norm has 2 trainable parameters per channel.
    """
    pruned = cell.prune()
    matrix, ops, n = _matrix(pruned), _ops(pruned), pruned.num_nodes
    kernel = {"conv3x3-bn-relu": 9, "conv1x1-bn-relu": 1, "maxpool3x3": 0}
    total = 3 * 3 * 3 * 128 + 2 * 128
    in_channels = channels = 128
    for stack in range(3):
        channels *= 2 if stack else 1
        for _ in range(3):
            vertex = _vertex_channels(in_channels, channels, matrix)
            for v in range(1, n - 1):
                if matrix[0][v]:
                    total += in_channels * vertex[v] + 2 * vertex[v]
                if kernel[ops[v]]:
                    total += kernel[ops[v]] * vertex[v] ** 2 + 2 * vertex[v]
            if matrix[0][n - 1]:
                total += in_channels * channels + 2 * channels
            in_channels = channels
    return total + channels * 10 + 10


def test_op_code_mapping_reproduces_every_recorded_parameter_count(
    sample: list[NB101Entry],
) -> None:
    # Codes 2/3/4 decode as maxpool/conv1x1/conv3x3. Try all 6 assignments of the three
    # names to the codes: only that one gives every cell its recorded parameter count.
    matches = {}
    for names in itertools.permutations(NB101_OPS):
        rename = dict(zip(NB101_OPS, names, strict=True))
        matches[names] = sum(
            _num_params(NB101Cell(_matrix(e.cell), [rename.get(op, op) for op in _ops(e.cell)]))
            == round(e.metrics["params"] * 1e6)
            for e in sample
        )
    assert matches.pop(NB101_OPS) == len(sample) == 500
    assert max(matches.values()) < 250


# --- The sample ------------------------------------------------------------------------------


def test_every_sample_cell_parses_is_valid_and_hashes(sample: list[NB101Entry]) -> None:
    assert len(sample) == 500
    for entry in sample:
        assert entry.cell.num_nodes == 7 and entry.cell.is_valid()
        assert entry.cell.validate() is entry.cell
        digest = entry.cell.prune().spec_hash()
        assert len(digest) == 32 and int(digest, 16) >= 0
        assert digest == entry.cell.spec_hash()  # dangling nodes do not change it
    accuracies = [entry.val_accuracy for entry in sample]
    assert max(accuracies) == pytest.approx(94.712, abs=1e-3)
    assert sum(accuracies) / len(accuracies) == pytest.approx(89.579, abs=1e-3)


def _random_topological_relabelling(cell: NB101Cell, rng: random.Random) -> NB101Cell:
    """The cell with nodes 1..n-2 renumbered in a random topological order."""
    matrix, n = _matrix(cell), cell.num_nodes
    order, placed = [0], {0}
    while len(order) < n - 1:
        ready = [
            v
            for v in range(1, n - 1)
            if v not in placed and all(w in placed for w in range(n) if matrix[w][v])
        ]
        order.append(rng.choice(ready))
        placed.add(order[-1])
    order.append(n - 1)
    new = [[matrix[order[i]][order[j]] for j in range(n)] for i in range(n)]
    return NB101Cell(new, [_ops(cell)[v] for v in order])


def test_renumbering_intermediate_nodes_keeps_the_hash(sample: list[NB101Entry]) -> None:
    rng = random.Random(0)
    changed = 0
    for entry in sample:
        for cell in (entry.cell, entry.cell.prune()):
            for _ in range(3):
                twin = _random_topological_relabelling(cell, rng)
                assert twin.is_valid()
                assert twin.spec_hash() == cell.spec_hash()
                changed += (_matrix(twin), _ops(twin)) != (_matrix(cell), _ops(cell))
    assert changed > 1000  # many renumberings really moved something (chains cannot move)


def test_graph_hash_ignores_any_renumbering_of_intermediate_nodes(
    sample: list[NB101Entry],
) -> None:
    # `graph_hash` does not need topological order: any permutation of nodes 1..5.
    rng = random.Random(1)
    labels = {"input": -1, "output": -2} | {op: i for i, op in enumerate(NB101_OPS)}
    for entry in sample:
        matrix, ops = _matrix(entry.cell), [labels[op] for op in _ops(entry.cell)]
        order = [0, *rng.sample(range(1, 6), 5), 6]
        permuted = [[matrix[order[i]][order[j]] for j in range(7)] for i in range(7)]
        assert graph_hash(permuted, [ops[v] for v in order]) == graph_hash(matrix, ops)


def _canonical(cell: NB101Cell) -> tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]:
    """The least (matrix, ops) over every renumbering of the intermediate nodes."""
    pruned = cell.prune()
    matrix, ops, n = _matrix(pruned), _ops(pruned), pruned.num_nodes
    forms = []
    for middle in itertools.permutations(range(1, n - 1)):
        order = [0, *middle, n - 1]
        forms.append(
            (
                tuple(tuple(matrix[order[i]][order[j]] for j in range(n)) for i in range(n)),
                tuple(ops[v] for v in order),
            )
        )
    return min(forms)


def test_hashes_partition_the_sample_like_brute_force_isomorphism(
    sample: list[NB101Entry],
) -> None:
    by_hash = {entry.cell.spec_hash() for entry in sample}
    by_form = {_canonical(entry.cell) for entry in sample}
    pairs = {(entry.cell.spec_hash(), _canonical(entry.cell)) for entry in sample}
    # Equal hashes <=> isomorphic pruned cells. The sample holds only 292 distinct cells:
    # it was drawn as unpruned 7x7 matrices, so many of its 500 entries are one cell.
    assert len(by_hash) == len(by_form) == len(pairs) == 292


def test_one_op_or_one_edge_more_or_less_changes_the_hash(sample: list[NB101Entry]) -> None:
    variants = 0
    for entry in sample[:100]:
        cell = entry.cell.prune()
        matrix, ops, n = _matrix(cell), _ops(cell), cell.num_nodes
        digest = cell.spec_hash()
        for v in range(1, n - 1):
            for op in NB101_OPS:
                if op != ops[v]:
                    other = NB101Cell(matrix, [*ops[:v], op, *ops[v + 1 :]])
                    assert other.spec_hash() != digest
                    variants += 1
        for i, j in itertools.combinations(range(n), 2):
            flipped = [row[:] for row in matrix]
            flipped[i][j] = 1 - flipped[i][j]
            other = NB101Cell(flipped, ops)
            if other.is_valid():
                assert other.spec_hash() != digest
                variants += 1
    assert variants > 1000


# --- Pruning, hashing and validity on small cells ----------------------------------------------

CHAIN = NB101Cell(
    [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
    ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"],
)


def test_dangling_nodes_are_pruned_and_do_not_change_the_hash() -> None:
    # Node 4 is fed by the input but feeds nothing; node 5 feeds the output but is fed
    # by nothing. Both go, with their ops and edges.
    cell = NB101Cell(
        [
            [0, 1, 0, 0, 1, 0],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
        ],
        ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "output", "maxpool3x3", "maxpool3x3"],
    )
    # Not upper triangular as written (node 5 feeds node 3): move the output last.
    with pytest.raises(InvalidCellError, match="strictly upper triangular"):
        cell.validate()
    cell = NB101Cell(
        [
            [0, 1, 0, 1, 0, 0],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0],
        ],
        ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "maxpool3x3", "output"],
    )
    assert cell.prune() == CHAIN
    assert cell.spec_hash() == CHAIN.spec_hash()
    assert CHAIN.prune() == CHAIN


def test_hash_matches_graph_hash_with_the_official_labels() -> None:
    # Labels as in the official API: input -1, output -2, an op its index in NB101_OPS.
    assert CHAIN.spec_hash() == graph_hash(_matrix(CHAIN), [-1, 0, 1, -2])
    assert CHAIN.spec_hash() != graph_hash(_matrix(CHAIN), [-1, 1, 0, -2])


def test_the_edge_limit_counts_the_pruned_cell() -> None:
    # 10 edges, but the two into the dangling node 5 go with it: valid, as in nasbench.
    full = [[1 if j > i else 0 for j in range(7)] for i in range(7)]
    dangling = [
        [0, 1, 1, 1, 0, 0, 1],
        [0, 0, 1, 0, 0, 1, 0],
        [0, 0, 0, 1, 0, 1, 0],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ]
    ops = ["input", *["conv3x3-bn-relu"] * 5, "output"]
    cell = NB101Cell(dangling, ops)
    assert cell.num_edges == 10 and cell.prune().num_edges == 8 and cell.is_valid()
    with pytest.raises(InvalidCellError, match=r"at most 9 edges, got 21 \(after pruning\)"):
        NB101Cell(full, ops).validate()


@pytest.mark.parametrize(
    ("matrix", "ops", "match"),
    [
        ([[0, 1], [1, 0]], ["input", "output"], r"strictly upper triangular.*\[1\]\[0\]"),
        ([[1, 1], [0, 0]], ["input", "output"], r"strictly upper triangular.*\[0\]\[0\]"),
        ([[0, 0, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"], "no path"),
        ([[0, 2], [0, 0]], ["input", "output"], r"0 or 1, got 2 at \[0\]\[1\]"),
        ([[0, 1, 0], [0, 0, 1]], ["input", "maxpool3x3", "output"], "square.*row 0 has 3"),
        ([[0, 1], [0, 0]], ["input", "maxpool3x3", "output"], "2 nodes needs 2 ops, got 3"),
        ([[0]], ["input"], "2 to 7 nodes, got 1"),
        ([[1 if j > i else 0 for j in range(8)] for i in range(8)], ["input"] * 8, "got 8"),
        ([[0, 1], [0, 0]], ["output", "input"], "first op must be 'input'.*'output' and 'input'"),
        ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "node 1 must be one"),
        ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "output", "output"], "node 1 must be one"),
    ],
)
def test_each_broken_rule_is_named(matrix: Matrix, ops: list[str], match: str) -> None:
    cell = NB101Cell(matrix, ops)
    assert not cell.is_valid()
    with pytest.raises(InvalidCellError, match=match):
        cell.validate()
    with pytest.raises(InvalidCellError, match=match):
        cell.spec_hash()


def test_invalid_cell_error_is_an_automorph_value_error() -> None:
    assert issubclass(InvalidCellError, am.AutomorphError)
    assert issubclass(InvalidCellError, ValueError)


def test_prune_needs_a_path_and_a_well_formed_matrix() -> None:
    with pytest.raises(InvalidCellError, match=r"no path from the input \(node 0\)"):
        NB101Cell([[0, 0], [0, 0]], ["input", "output"]).prune()
    with pytest.raises(InvalidCellError, match="upper triangular"):
        NB101Cell([[0, 1], [1, 0]], ["input", "output"]).prune()


def test_cells_round_trip_through_json() -> None:
    assert am.from_json(CHAIN.to_json()) == CHAIN
    assert am.from_json_str(CHAIN.to_json_str()).spec_hash() == CHAIN.spec_hash()


# --- Keys and the loader -------------------------------------------------------------------


def test_decode_key_errors() -> None:
    with pytest.raises(InvalidCellError, match="has 56 ints"):
        decode_nb101_key("(0, 1)")
    with pytest.raises(InvalidCellError, match="must be a tuple of ints"):
        decode_nb101_key("(0, 1")
    with pytest.raises(InvalidCellError, match=r"unknown op code\(s\) \[7\]"):
        decode_nb101_key([0] * 49 + [0, 7, 2, 2, 2, 2, 1])
    assert decode_nb101_key([0] * 49 + [0, 4, 3, 2, 2, 2, 1]).ops[1:3] == [
        "conv3x3-bn-relu",
        "conv1x1-bn-relu",
    ]


def _write_sample(path: Path) -> Path:
    key = str(tuple([0] * 6 + [1] + [0] * 42 + [0, 2, 2, 2, 2, 2, 1]))
    path.write_text(json.dumps({"nasbench101": {"cifar10": {key: {"val_accuracy": 80.5}}}}))
    return path


def test_load_from_a_path_and_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_sample(tmp_path / "nb101.json")
    (entry,) = load_nb101_sample(path)
    assert entry.val_accuracy == 80.5 and entry.metrics == {}
    assert entry.cell.prune() == NB101Cell([[0, 1], [0, 0]], ["input", "output"])
    monkeypatch.setenv("AUTOMORPH_NB101_SAMPLE", str(path))
    assert load_nb101_sample() == [entry]


def test_missing_or_malformed_sample_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(
        am.BenchmarkDataError, match=r"not found: '.*nope\.json' \(given as `path`\)"
    ):
        load_nb101_sample(tmp_path / "nope.json")
    monkeypatch.setenv("AUTOMORPH_NB101_SAMPLE", str(tmp_path / "env.json"))
    with pytest.raises(am.BenchmarkDataError, match=r"env\.json.*named by AUTOMORPH_NB101_SAMPLE"):
        load_nb101_sample()
    monkeypatch.delenv("AUTOMORPH_NB101_SAMPLE")
    bad = tmp_path / "bad.json"
    bad.write_text("{\n  oops")
    with pytest.raises(am.BenchmarkDataError, match=r"bad\.json: not JSON \(line 2, column 3\)"):
        load_nb101_sample(bad)
    bad.write_text(json.dumps({"cifar10": {"(0, 1)": {"val_accuracy": 1.0}}}))
    with pytest.raises(am.BenchmarkDataError, match=r"not a NAS-Bench-101 sample.*56 ints"):
        load_nb101_sample(bad)


def test_an_installation_without_the_shipped_sample_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AUTOMORPH_NB101_SAMPLE", raising=False)
    monkeypatch.setattr(_nasbench101, "NB101_FILE", "gone.json.xz")
    with pytest.raises(
        am.BenchmarkDataError,
        match=r"cannot read automorph/benchmarks/data/gone\.json\.xz .*reinstall it.*"
        r"AUTOMORPH_NB101_SAMPLE",
    ):
        load_nb101_sample()


def test_the_shipped_sample_is_the_naslib_file(
    nasbench_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTOMORPH_NB101_SAMPLE", raising=False)
    text = read_shipped(NB101_FILE, "")
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "c34840bc9af68b6ebaa7f052e42c1749a9a737d7243078be2a5548052bc5a0c2"
    )  # the sha256 PROVENANCE.md gives
    shipped = load_nb101_sample()
    source = nasbench_source / "naslib_zc_subsets" / "zc_nasbench101.json"
    monkeypatch.setenv("AUTOMORPH_NB101_SAMPLE", str(source))
    original = load_nb101_sample()
    assert len(shipped) == 500 and shipped == original
    assert [e.metrics for e in shipped] == [e.metrics for e in original]


# --- The search space -------------------------------------------------------------------------


def test_space_has_21_edge_and_5_op_decisions() -> None:
    spec = am.dna_spec(nb101_space())
    assert spec.size == 2**21 * 3**5
    locations = [point.location for point in spec.decision_points()]
    assert len(locations) == 26
    assert locations[0] == "matrix[0][1]" and locations[-1] == "ops[5]"


def test_random_samples_materialize_into_cells_valid_or_not() -> None:
    cells = list(am.random_sample(nb101_space(), 300, seed=0))
    assert all(isinstance(cell, NB101Cell) and cell.num_nodes == 7 for cell in cells)
    assert all(_ops(cell)[0] == "input" and _ops(cell)[-1] == "output" for cell in cells)
    valid = [cell for cell in cells if cell.is_valid()]
    assert 0 < len(valid) < len(cells)  # random edges often exceed 9 or miss the output
    assert len({cell.spec_hash() for cell in valid}) > 1
    # Every 7-node cell is a point of the space: it encodes to DNA and back.
    dna = am.encode(nb101_space(), valid[0])
    assert am.materialize(nb101_space(), dna) == valid[0]
