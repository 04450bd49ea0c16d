"""NAS-Bench-201: the cell, the space, the table and its errors, the benchmarks."""

from __future__ import annotations

import hashlib
import itertools
import lzma
from collections.abc import Iterator
from pathlib import Path

import pytest

import automorph as am
from automorph import benchmarks
from automorph.benchmarks import (
    NB201_EDGES,
    NB201_OPS,
    NB201Benchmark,
    NB201Cell,
    NB201Op,
    NB201Table,
    _nasbench201,
    nb201_space,
)
from automorph.benchmarks._shipped import NB201_FILE, read_shipped

HEADER = (
    "index,arch_str,cifar10_test_200ep,cifar100_test_200ep,imagenet16_test_200ep,"
    "cifar10_valid_12ep,cifar10_test_12ep,cifar100_valid_12ep,cifar100_test_12ep,"
    "imagenet16_valid_12ep,imagenet16_test_12ep"
)
BEST_CELL = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)


def _all_arch_strs() -> Iterator[str]:
    for ops in itertools.product(NB201_OPS, repeat=6):
        yield NB201Cell(*ops).to_arch_str()


def _arch(ops: tuple[NB201Op, ...]) -> str:
    a, b, c, d, e, f = ops
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


def _write_table(path: Path, lines: list[str] | None = None, *, header: str = HEADER) -> Path:
    """A well-formed 15,625-row table of made-up numbers (or the given rows)."""
    if lines is None:
        lines = [
            f"{i},{_arch(ops)},{i % 97},{i % 89},{i % 83},{i % 79},1,2,3,4,5"
            for i, ops in enumerate(itertools.product(NB201_OPS, repeat=6))
        ]
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


@pytest.fixture(scope="module")
def table() -> NB201Table:
    """The table shipped with automorph."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AUTOMORPH_NB201", raising=False)
        return NB201Table.load()


# --- the cell and the space ---------------------------------------------------


def test_cell_fields_and_ops() -> None:
    assert NB201Cell.sym_schema().names == NB201_EDGES
    assert NB201_OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    with pytest.raises(am.FieldValueError, match=r"expected one of .* at `edge_3_2`"):
        NB201Cell(*NB201_OPS[:5], "conv_5x5")  # type: ignore[arg-type]


def test_arch_str_round_trip_for_every_cell() -> None:
    strings = list(_all_arch_strs())
    assert len(set(strings)) == 15_625
    for s in strings[::7]:
        assert NB201Cell.from_arch_str(s).to_arch_str() == s
    cell = NB201Cell.from_arch_str(BEST_CELL)
    assert (cell.edge_1_0, cell.edge_2_1, cell.edge_3_0) == (
        "nor_conv_3x3",
        "avg_pool_3x3",
        "skip_connect",
    )


def test_json_round_trip() -> None:
    cell = NB201Cell.from_arch_str(BEST_CELL)
    again = am.from_json_str(cell.to_json_str())
    assert isinstance(again, NB201Cell) and again == cell
    assert again.to_arch_str() == BEST_CELL
    space = nb201_space()
    assert am.dna_spec(am.from_json_str(space.to_json_str())).size == 15_625


@pytest.mark.parametrize(
    ("arch_str", "match"),
    [
        ("|none~0|+|none~0|none~1|", r"expected 3 node groups separated by '\+', got 2"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", r"node group 1 .* start and end"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", r"node 2 must have 2 input edge\(s\), got 1"),
        ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", r"edge 'none~2' of node 2 .*~1'"),
        ("|none|+|none~0|none~1|+|none~0|none~1|none~2|", r"edge 'none' of node 1"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", r"unknown operation 'conv'"),
        ("", r"malformed NAS-Bench-201 cell string '': expected 3 node groups"),
    ],
)
def test_malformed_arch_str(arch_str: str, match: str) -> None:
    with pytest.raises(am.FieldValueError, match=match):
        NB201Cell.from_arch_str(arch_str)


def test_arch_str_must_be_a_string() -> None:
    with pytest.raises(am.FieldValueError, match=r"must be a str, got int \(3\)"):
        NB201Cell.from_arch_str(3)  # type: ignore[arg-type]


def test_space_has_every_cell_once() -> None:
    space = nb201_space()
    spec = am.dna_spec(space)
    assert spec.size == 15_625
    assert [p.location for p in spec.decision_points()] == list(NB201_EDGES)
    strings = {cell.to_arch_str() for cell in am.iterate(space)}
    assert strings == set(_all_arch_strs())


def test_space_is_not_a_cell() -> None:
    with pytest.raises(am.FieldValueError, match=r"hyper-value .* at `edge_1_0`"):
        nb201_space().to_arch_str()


# --- the real table ------------------------------------------------------------


def test_every_cell_of_the_space_is_in_the_table(table: NB201Table) -> None:
    assert len(table) == 15_625
    space = nb201_space()
    count = 0
    for cell in am.iterate(space):
        assert cell.to_arch_str() in table
        count += 1
    assert count == 15_625
    first = (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
        "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert table.index(first) == 0  # The first row of the file.


def test_optima(table: NB201Table) -> None:
    for dataset, optimum, index in [
        ("cifar10", 94.3733, 6111),
        ("cifar100", 73.5133, 9930),
        ("imagenet16", 47.3111, 857),
    ]:
        arch_str, best = table.best(f"{dataset}_test_200ep")
        assert best == pytest.approx(optimum, abs=1e-4)
        assert table.index(arch_str) == index
        for name in (f"nb201-{dataset}", f"nb201-{dataset}-oracle"):
            bench = benchmarks.create(name)
            assert bench.name == name
            assert bench.optimum == pytest.approx(optimum, abs=1e-4)
            assert bench.test_score(NB201Cell.from_arch_str(arch_str)) == bench.optimum


def test_top_threshold_counts_the_best_cells(table: NB201Table) -> None:
    bench = benchmarks.create("nb201-cifar100")
    test = sorted(table.column("cifar100_test_200ep").values(), reverse=True)
    threshold = bench.top_threshold(0.01)
    assert threshold == test[157 - 1]  # the best ceil(0.01 * 15,625) = 157 cells
    assert sum(v >= threshold for v in test) >= 157
    assert bench.top_threshold(1.0) == min(test)
    assert bench.top_threshold(1e-9) == bench.optimum
    for bad in (0, -0.5, 1.5):
        with pytest.raises(am.FieldValueError, match=r"`fraction` must be in \(0, 1\]"):
            bench.top_threshold(bad)


def test_realistic_and_oracle_protocols(table: NB201Table, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOMORPH_NB201", raising=False)
    realistic = benchmarks.create("nb201-cifar10")
    oracle = benchmarks.create("nb201-cifar10-oracle")
    assert isinstance(realistic, NB201Benchmark) and realistic.table is table
    best_valid, valid = table.best("cifar10_valid_12ep")
    assert table.index(best_valid) == 13714 and valid == pytest.approx(84.892, abs=1e-3)
    cell = NB201Cell.from_arch_str(best_valid)
    assert realistic.reward(cell) == valid
    assert realistic.test_score(cell) == pytest.approx(94.3733, abs=1e-4)
    assert oracle.reward(cell) == oracle.test_score(cell) == realistic.test_score(cell)
    differ = sum(
        realistic.reward(c) != realistic.test_score(c) for c in am.iterate(realistic.space())
    )
    assert differ > 15_000
    assert realistic.reward(BEST_CELL) == realistic.reward(NB201Cell.from_arch_str(BEST_CELL))


def test_load_is_cached_and_uses_the_shipped_table_from_any_directory(
    table: NB201Table, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUTOMORPH_NB201", raising=False)
    monkeypatch.chdir(tmp_path)
    assert NB201Table.load() is table
    assert table.source == "automorph/benchmarks/data/nb201_merged.csv.xz (shipped with automorph)"


def test_the_shipped_table_is_the_source_csv(
    table: NB201Table, nasbench_source: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = read_shipped(NB201_FILE, "")
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "a7155d5596f787a15c0a090cfc4db940ad44b558f70736628f7be9827c3cabe2"
    )  # the sha256 PROVENANCE.md gives
    source = nasbench_source / "nb201" / "nb201_merged.csv"
    monkeypatch.setenv("AUTOMORPH_NB201", str(source))
    original = NB201Table.load()
    assert original is not table and original.source == str(source.resolve())
    assert len(table) == len(original) == 15_625 and list(table) == list(original)
    assert table.columns == original.columns
    for name in table.columns:
        assert table.column(name) == original.column(name)
    assert all(table.index(cell) == original.index(cell) for cell in table)
    packed = tmp_path / "copy.csv.xz"
    packed.write_bytes(lzma.compress(source.read_bytes()))
    assert NB201Table.read(packed).column("cifar10_test_200ep") == table.column(
        "cifar10_test_200ep"
    )


# --- made-up tables and the errors ---------------------------------------------


def test_load_from_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write_table(tmp_path / "table.csv")
    monkeypatch.setenv("AUTOMORPH_NB201", str(path))
    table = NB201Table.load()
    assert len(table) == 15_625 and NB201Table.load(path) is table
    assert table.get(_arch(("none",) * 6), "cifar10_test_200ep") == 0.0
    bench = benchmarks.create("nb201-cifar100")
    assert bench.optimum == 88.0


def test_missing_file_by_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(
        am.BenchmarkDataError, match=r"not found: '.*nope\.csv' \(given as `path`\)"
    ):
        NB201Table.load(missing)
    with pytest.raises(am.BenchmarkDataError, match=r"nope\.csv"):
        benchmarks.create("nb201-cifar10", path=missing)


def test_missing_file_by_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOMORPH_NB201", str(tmp_path / "gone.csv"))
    with pytest.raises(am.BenchmarkDataError, match=r"gone\.csv' \(named by AUTOMORPH_NB201\)"):
        NB201Table.load()


def test_an_installation_without_the_shipped_table_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AUTOMORPH_NB201", raising=False)
    monkeypatch.setattr(_nasbench201, "_TABLES", {})
    monkeypatch.setattr(_nasbench201, "NB201_FILE", "gone.csv.xz")
    with pytest.raises(
        am.BenchmarkDataError,
        match=r"cannot read automorph/benchmarks/data/gone\.csv\.xz .*reinstall it.*"
        r"`path=`.*AUTOMORPH_NB201",
    ):
        NB201Table.load()


def _bad(tmp_path: Path, edit: int, field: int, value: str) -> Path:
    """A made-up table with field `field` of line `edit + 1` (1-based) set to `value`."""
    path = _write_table(tmp_path / "bad.csv")
    lines = path.read_text().splitlines()
    fields = lines[edit].split(",")
    fields[field] = value
    lines[edit] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_header(tmp_path: Path) -> None:
    path = _write_table(tmp_path / "t.csv", header=HEADER.replace("cifar100_valid_12ep", "x"))
    with pytest.raises(
        am.BenchmarkDataError, match=r"line 1: missing column 'cifar100_valid_12ep'"
    ):
        NB201Table.load(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(am.BenchmarkDataError, match=r"empty.csv: the file is empty"):
        NB201Table.load(path)


def test_bad_number_names_line_and_column(tmp_path: Path) -> None:
    path = _bad(tmp_path, 42, 3, "abc")
    with pytest.raises(
        am.BenchmarkDataError,
        match=r"bad\.csv, line 43, column 'cifar100_test_200ep': expected a finite number, "
        r"got 'abc'",
    ):
        NB201Table.load(path)


def test_nan_and_bad_index(tmp_path: Path) -> None:
    path = _bad(tmp_path, 3, 2, "nan")
    with pytest.raises(am.BenchmarkDataError, match=r"line 4, column 'cifar10_test_200ep'"):
        NB201Table.load(path)
    path = _bad(tmp_path, 3, 0, "2.5")
    with pytest.raises(am.BenchmarkDataError, match=r"line 4, column 'index': expected an integer"):
        NB201Table.load(path)


def test_wrong_row_count(tmp_path: Path) -> None:
    path = _write_table(tmp_path / "short.csv")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(
        am.BenchmarkDataError, match=r"short\.csv: 15,624 cell rows, expected 15,625"
    ):
        NB201Table.load(path)


def test_duplicate_and_unknown_cells(tmp_path: Path) -> None:
    path = _write_table(tmp_path / "dup.csv")
    lines = path.read_text().splitlines()
    lines[-1] = lines[1].replace("0,", "15624,", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        am.BenchmarkDataError,
        match=r"line 15626, column 'arch_str': duplicate cell .*first on line 2",
    ):
        NB201Table.load(path)
    path = _bad(tmp_path, 5, 1, "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(
        am.BenchmarkDataError, match=r"line 6, column 'arch_str': .*unknown operation 'conv'"
    ):
        NB201Table.load(path)


def test_wrong_column_count(tmp_path: Path) -> None:
    path = _bad(tmp_path, 7, 2, "1,1,1,1")
    with pytest.raises(am.BenchmarkDataError, match=r"line 8: expected 11 columns, got 14"):
        NB201Table.load(path)


def test_read_accepts_any_row_count(tmp_path: Path) -> None:
    rows = [f"{i},{_arch((op,) * 6)},{i},1,1,1,1,1,1,1,1" for i, op in enumerate(NB201_OPS)]
    table = NB201Table.read(_write_table(tmp_path / "small.csv", rows), num_rows=None)
    assert len(table) == 5 and list(table) == [_arch((op,) * 6) for op in NB201_OPS]
    assert table.best("cifar10_test_200ep") == (_arch(("avg_pool_3x3",) * 6), 4.0)
    assert table.index(_arch(("skip_connect",) * 6)) == 1
    assert set(table.columns) == set(HEADER.split(",")[2:])


def test_small_table_errors() -> None:
    cell = _arch(("none",) * 6)
    table = NB201Table({cell: {"cifar10_test_200ep": 1.0, "cifar10_valid_12ep": 2.0}})
    other = _arch(("skip_connect",) * 6)
    with pytest.raises(am.BenchmarkDataError, match=r"no column 'cifar100_test_200ep'"):
        table.column("cifar100_test_200ep")
    with pytest.raises(am.BenchmarkDataError, match=r"cell '.*skip_connect.*' is not in the table"):
        table.get(other, "cifar10_test_200ep")
    with pytest.raises(am.BenchmarkDataError, match=r"no index known"):
        table.index(cell)
    bench = NB201Benchmark("cifar10", table=table)
    with pytest.raises(am.BenchmarkDataError, match=r"<memory>: cell .* is not in the table"):
        bench.reward(NB201Cell.from_arch_str(other))
    with pytest.raises(am.FieldValueError, match=r"unknown operation"):
        bench.test_score("|x~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(am.FieldValueError, match=r"`dataset` must be one of .*got 'mnist'"):
        NB201Benchmark("mnist", table=table)
    with pytest.raises(am.BenchmarkDataError, match=r"has columns \['a'\], expected"):
        NB201Table({cell: {"a": 1.0, "b": 2.0}, other: {"a": 1.0}})


def test_registered_names() -> None:
    names = benchmarks.names()
    for dataset in ("cifar10", "cifar100", "imagenet16"):
        assert f"nb201-{dataset}" in names and f"nb201-{dataset}-oracle" in names
    assert "nb201-paper" in names
