"""NAS-Bench-201: the cell space, the table of trained accuracies, benchmarks.

A NAS-Bench-201 cell is a DAG of four nodes; each of its six edges (from node
`j` to node `i > j`) carries one of five operations, so there are 5^6 = 15,625
cells. `NB201Cell` is the symbolic cell, `nb201_space()` the search space,
`NB201Table` the table of accuracies (one row per cell, `nb201_merged.csv`,
shipped with the package: see `automorph/benchmarks/data/PROVENANCE.md`), and
seven benchmarks are registered:

* `nb201-cifar10`, `nb201-cifar100`, `nb201-imagenet16`: the realistic
  protocol on each data set; the search sees that data set's 12-epoch
  validation accuracy and its 200-epoch test accuracy is reported.
* `nb201-cifar10-oracle`, `nb201-cifar100-oracle`, `nb201-imagenet16-oracle`:
  the search sees the 200-epoch test accuracy itself.
* `nb201-paper`: the protocol of the NAS-Bench-201 paper's table of search
  algorithms (`NB201PaperBenchmark`): the search sees CIFAR-10's 12-epoch
  validation accuracy, and the cell it found is reported by its 200-epoch
  test accuracy on all three data sets (CIFAR-10, and the CIFAR-10-searched
  cell transferred to CIFAR-100 and ImageNet16-120).
"""

from __future__ import annotations

import csv
import io
import lzma
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, cast, get_args

import automorph as am
from automorph.benchmarks._base import BENCHMARKS, Benchmark
from automorph.benchmarks._shipped import NB201_FILE, read_shipped, shipped_name
from automorph.utils import BenchmarkDataError, FieldValueError

__all__ = [
    "NB201_DATASETS",
    "NB201_EDGES",
    "NB201_NUM_CELLS",
    "NB201_OPS",
    "NB201_PAPER_BUDGET",
    "NB201Benchmark",
    "NB201Cell",
    "NB201Op",
    "NB201PaperBenchmark",
    "NB201Table",
    "nb201_space",
    "parse_arch_str",
]

NB201Op = Literal["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
"""The name of an operation on a NAS-Bench-201 edge."""

NB201_OPS: tuple[NB201Op, ...] = get_args(NB201Op)
"""The five operations an edge can carry, in NAS-Bench-201's order."""

NB201_EDGES: tuple[str, ...] = (
    "edge_1_0",
    "edge_2_0",
    "edge_2_1",
    "edge_3_0",
    "edge_3_1",
    "edge_3_2",
)
"""The six edge fields of `NB201Cell`; `edge_i_j` runs from node `j` to node `i`."""

NB201_NUM_CELLS = 15_625
"""5^6: the number of cells, and of rows in the table."""

NB201_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "imagenet16")
"""The data sets of the table (`imagenet16` is ImageNet16-120)."""

NB201_PAPER_BUDGET = 100
"""Queries per run of the `paper` protocol: this table's stand-in for the paper's budget.

The NAS-Bench-201 paper gave each search 12,000 seconds of simulated training
time, each query costing the time NAS-Bench-201 recorded for training its cell
for 12 epochs on CIFAR-10's training half and validating it. The table here
has no times, so the budget is a number of queries: the few recorded times
that are public put a query at about 90 to 200 seconds, so 12,000 seconds is
about 60 to 135 queries, and 100 is taken. The project's NAS-Bench-201 results
page gives the derivation, and the figures after 50 and 200 queries too.
"""

ENV_VAR = "AUTOMORPH_NB201"
_SHIPPED = "<shipped>"
_METRICS: tuple[str, ...] = tuple(f"{d}_test_200ep" for d in NB201_DATASETS) + tuple(
    f"{d}_{split}_12ep" for d in NB201_DATASETS for split in ("valid", "test")
)
_OP_SET = frozenset(NB201_OPS)


class NB201Cell(am.Object, type_name="automorph.benchmarks.NB201Cell"):
    """A NAS-Bench-201 cell: one operation on each of its six edges.

    >>> cell = NB201Cell.from_arch_str(
    ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    ...     "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> cell.edge_2_1, cell.edge_3_2
    ('avg_pool_3x3', 'skip_connect')
    >>> cell.rebind(edge_1_0="none").to_arch_str()
    '|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'
    """

    edge_1_0: NB201Op
    edge_2_0: NB201Op
    edge_2_1: NB201Op
    edge_3_0: NB201Op
    edge_3_1: NB201Op
    edge_3_2: NB201Op

    def to_arch_str(self) -> str:
        """The cell as a NAS-Bench-201 string, `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.

        Raises:
            FieldValueError: If an edge still holds a hyper-value (a search space,
                not a cell).
        """
        ops = (
            self.edge_1_0,
            self.edge_2_0,
            self.edge_2_1,
            self.edge_3_0,
            self.edge_3_1,
            self.edge_3_2,
        )
        for name, op in zip(NB201_EDGES, ops, strict=True):
            if not isinstance(op, str):
                raise FieldValueError(
                    "a cell string needs an operation on every edge, got a hyper-value "
                    "(materialize the space first)",
                    path=self.sym_path.child(name),
                )
        return _format_arch(ops)

    @classmethod
    def from_arch_str(cls, arch_str: str) -> NB201Cell:
        """The cell that `arch_str` (as written by `to_arch_str`) describes.

        Raises:
            FieldValueError: If `arch_str` is not a well-formed cell string; the
                message quotes it and says what is wrong.
        """
        return cls(*parse_arch_str(arch_str))


def parse_arch_str(arch_str: str) -> tuple[NB201Op, ...]:
    """The six edge operations of a cell string, in `NB201_EDGES` order.

    >>> parse_arch_str("|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_1x1~2|")[-1]
    'nor_conv_1x1'
    >>> try:
    ...     parse_arch_str("|none~0|")
    ... except am.FieldValueError as e:
    ...     print(e)
    malformed NAS-Bench-201 cell string '|none~0|': expected 3 node groups separated by '+', got 1

    Raises:
        FieldValueError: If the string is malformed (the message says how).
    """
    if not isinstance(arch_str, str):
        raise FieldValueError(
            f"a NAS-Bench-201 cell string must be a str, got {type(arch_str).__name__} "
            f"({arch_str!r})"
        )
    groups = arch_str.split("+")
    if len(groups) != 3:
        _malformed(arch_str, f"expected 3 node groups separated by '+', got {len(groups)}")
    ops: list[NB201Op] = []
    for node, group in enumerate(groups, start=1):
        if len(group) < 2 or group[0] != "|" or group[-1] != "|":
            _malformed(arch_str, f"node group {node} ({group!r}) must start and end with '|'")
        entries = group[1:-1].split("|")
        if len(entries) != node:
            _malformed(arch_str, f"node {node} must have {node} input edge(s), got {len(entries)}")
        for source, entry in enumerate(entries):
            op, tilde, index = entry.partition("~")
            if not tilde or index != str(source):
                _malformed(
                    arch_str,
                    f"edge {entry!r} of node {node} must be written 'operation~{source}'",
                )
            if op not in _OP_SET:
                _malformed(arch_str, f"unknown operation {op!r}; expected one of {list(NB201_OPS)}")
            ops.append(cast(NB201Op, op))
    return tuple(ops)


def _malformed(arch_str: str, problem: str) -> None:
    raise FieldValueError(f"malformed NAS-Bench-201 cell string {arch_str!r}: {problem}")


def _format_arch(ops: tuple[str, ...]) -> str:
    a, b, c, d, e, f = ops
    return f"|{a}~0|+|{b}~0|{c}~1|+|{d}~0|{e}~1|{f}~2|"


def nb201_space() -> NB201Cell:
    """The NAS-Bench-201 search space: `am.oneof(NB201_OPS)` on every edge.

    >>> am.dna_spec(nb201_space()).size
    15625
    """
    return NB201Cell(*(am.oneof(list(NB201_OPS)) for _ in NB201_EDGES))


class NB201Table:
    """NAS-Bench-201 accuracies (%), by cell string and column.

    Columns are the nine accuracy columns of `nb201_merged.csv`
    (`cifar10_test_200ep`, `cifar10_valid_12ep`, ...); `load()` reads the
    file once per path. Lookups are dict lookups on the canonical cell string.

    >>> cell = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    >>> table = NB201Table({cell: {"cifar10_test_200ep": 10.0}})
    >>> len(table), table.get(cell, "cifar10_test_200ep")
    (1, 10.0)
    >>> table.best("cifar10_test_200ep") == (cell, 10.0)
    True

    Args:
        rows: Cell string -> {column: accuracy}; every row must have the same
            columns.
        indices: Cell string -> official NAS-Bench-201 index, if known.
        source: Where the rows came from (for messages).
    """

    def __init__(
        self,
        rows: Mapping[str, Mapping[str, float]],
        *,
        indices: Mapping[str, int] | None = None,
        source: str = "<memory>",
    ) -> None:
        self.source = source
        self._columns: dict[str, dict[str, float]] = {}
        self._indices: dict[str, int] = dict(indices or {})
        self._cells: dict[str, None] = {}
        for arch_str, values in rows.items():
            key = _format_arch(parse_arch_str(arch_str))
            self._cells[key] = None
            if not self._columns:
                self._columns = {name: {} for name in values}
            if set(values) != set(self._columns):
                raise BenchmarkDataError(
                    f"{source}: row {arch_str!r} has columns {sorted(values)}, "
                    f"expected {sorted(self._columns)}"
                )
            for name, value in values.items():
                self._columns[name][key] = float(value)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> NB201Table:
        """The full table, read once per file and cached.

        The file is `path` if given, else the file named by the environment
        variable `AUTOMORPH_NB201`, else the table shipped with automorph
        (`automorph/benchmarks/data/nb201_merged.csv.xz`). A file given may be
        the CSV or an xz-compressed copy (`.xz`).

        Raises:
            BenchmarkDataError: If the file given is missing (the message says
                where it was named) or malformed (it names the line and the column).
        """
        resolved = _resolve_path(path)
        key = str(resolved) if resolved is not None else _SHIPPED
        table = _TABLES.get(key)
        if table is None:
            if resolved is None:
                text = read_shipped(NB201_FILE, f"pass `path=` or set {ENV_VAR}")
                table = cls._parse(
                    io.StringIO(text, newline=""),
                    source=shipped_name(NB201_FILE),
                    num_rows=NB201_NUM_CELLS,
                )
            else:
                table = cls.read(resolved)
            _TABLES[key] = table
        return table

    @classmethod
    def read(
        cls, path: str | os.PathLike[str], *, num_rows: int | None = NB201_NUM_CELLS
    ) -> NB201Table:
        """Reads a table file, CSV or xz-compressed CSV (no cache); `num_rows=None`
        accepts any row count.

        Raises:
            BenchmarkDataError: If the file cannot be read or is malformed.
        """
        try:
            if str(path).endswith(".xz"):
                with lzma.open(path, "rt", newline="", encoding="utf-8") as packed:
                    return cls._parse(packed, source=str(path), num_rows=num_rows)
            with open(path, newline="", encoding="utf-8") as file:
                return cls._parse(file, source=str(path), num_rows=num_rows)
        except (OSError, lzma.LZMAError) as e:
            raise BenchmarkDataError(f"cannot read NAS-Bench-201 table {str(path)!r}: {e}") from e

    @classmethod
    def _parse(cls, lines: Iterable[str], *, source: str, num_rows: int | None) -> NB201Table:
        reader = csv.reader(lines)
        header = next(reader, None)
        if header is None:
            raise BenchmarkDataError(f"{source}: the file is empty, expected a header line")
        positions = {name: i for i, name in enumerate(header)}
        for name in ("index", "arch_str", *_METRICS):
            if name not in positions:
                raise BenchmarkDataError(
                    f"{source}, line 1: missing column {name!r} in the header {header}"
                )
        rows: dict[str, dict[str, float]] = {}
        indices: dict[str, int] = {}
        first_line: dict[str, int] = {}
        for row in reader:
            if not row:
                continue
            line = reader.line_num
            if len(row) != len(header):
                raise BenchmarkDataError(
                    f"{source}, line {line}: expected {len(header)} columns, got {len(row)}"
                )
            try:
                key = _format_arch(parse_arch_str(row[positions["arch_str"]]))
            except FieldValueError as e:
                raise BenchmarkDataError(
                    f"{source}, line {line}, column 'arch_str': {e.message}"
                ) from e
            if key in first_line:
                raise BenchmarkDataError(
                    f"{source}, line {line}, column 'arch_str': duplicate cell {key!r} "
                    f"(first on line {first_line[key]})"
                )
            first_line[key] = line
            indices[key] = _parse_number(row, positions, "index", source, line, int)
            rows[key] = {
                name: _parse_number(row, positions, name, source, line, float) for name in _METRICS
            }
        if num_rows is not None and len(rows) != num_rows:
            raise BenchmarkDataError(
                f"{source}: {len(rows):,} cell rows, expected {num_rows:,} "
                "(one per NAS-Bench-201 cell)"
            )
        table = cls({}, indices=indices, source=source)
        table._cells = dict.fromkeys(rows)  # Keys are canonical already.
        table._columns = {name: {key: rows[key][name] for key in rows} for name in _METRICS}
        return table

    def __len__(self) -> int:
        return len(self._cells)

    def __contains__(self, arch_str: object) -> bool:
        return arch_str in self._cells

    def __iter__(self) -> Iterator[str]:
        """The cell strings, in the order of the rows."""
        return iter(self._cells)

    @property
    def columns(self) -> tuple[str, ...]:
        """The accuracy column names."""
        return tuple(self._columns)

    def column(self, name: str) -> dict[str, float]:
        """Cell string -> accuracy for one column (the table's own dict: do not change it).

        Raises:
            BenchmarkDataError: If the table has no such column.
        """
        try:
            return self._columns[name]
        except KeyError:
            raise BenchmarkDataError(
                f"{self.source}: no column {name!r}; columns: {list(self._columns)}"
            ) from None

    def get(self, arch_str: str, column: str) -> float:
        """The accuracy of the cell `arch_str` in `column`.

        Raises:
            BenchmarkDataError: If the column or the cell is not in the table.
        """
        values = self.column(column)
        try:
            return values[arch_str]
        except KeyError:
            raise BenchmarkDataError(
                f"{self.source}: cell {arch_str!r} is not in the table"
            ) from None

    def index(self, arch_str: str) -> int:
        """The official NAS-Bench-201 index of a cell.

        Raises:
            BenchmarkDataError: If the index of that cell is not known.
        """
        try:
            return self._indices[arch_str]
        except KeyError:
            raise BenchmarkDataError(
                f"{self.source}: no index known for cell {arch_str!r}"
            ) from None

    def best(self, column: str) -> tuple[str, float]:
        """The cell with the highest value in `column` (the first on ties), and that value."""
        values = self.column(column)
        arch_str = max(values, key=values.__getitem__)
        return arch_str, values[arch_str]


_TABLES: dict[str, NB201Table] = {}


def _parse_number(
    row: list[str],
    positions: Mapping[str, int],
    name: str,
    source: str,
    line: int,
    kind: type[int] | type[float],
) -> Any:
    text = row[positions[name]]
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        raise BenchmarkDataError(
            f"{source}, line {line}, column {name!r}: expected "
            f"{'an integer' if kind is int else 'a finite number'}, got {text!r}"
        )
    return value


def _resolve_path(path: str | os.PathLike[str] | None) -> Path | None:
    """The table file: `path`, else `$AUTOMORPH_NB201`, else None (the shipped table)."""
    hint = f"pass `path=` or set the environment variable {ENV_VAR} to the nb201_merged.csv file"
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            raise BenchmarkDataError(
                f"NAS-Bench-201 table not found: {str(candidate)!r} (given as `path`); "
                "leave `path` out to use the table shipped with automorph"
            )
        return candidate.resolve()
    env = os.environ.get(ENV_VAR)
    if env:
        candidate = Path(env).expanduser()
        if not candidate.is_file():
            raise BenchmarkDataError(
                f"NAS-Bench-201 table not found: {str(candidate)!r} (named by {ENV_VAR}); {hint}, "
                f"or unset {ENV_VAR} to use the table shipped with automorph"
            )
        return candidate.resolve()
    return None


class NB201Benchmark(Benchmark):
    """A NAS-Bench-201 benchmark on one data set.

    The realistic protocol rewards the 12-epoch validation accuracy and
    reports the 200-epoch test accuracy; the oracle protocol rewards and
    reports the 200-epoch test accuracy. `optimum` is the best 200-epoch test
    accuracy in the table.

    >>> cells = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    ...          "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"]
    >>> table = NB201Table({cells[0]: {"cifar10_valid_12ep": 30.0, "cifar10_test_200ep": 10.0},
    ...                     cells[1]: {"cifar10_valid_12ep": 20.0, "cifar10_test_200ep": 40.0}})
    >>> bench = NB201Benchmark("cifar10", table=table)
    >>> cell = NB201Cell.from_arch_str(cells[1])
    >>> bench.name, bench.optimum, bench.reward(cell), bench.test_score(cell)
    ('nb201-cifar10', 40.0, 20.0, 40.0)

    Args:
        dataset: `cifar10`, `cifar100` or `imagenet16` (ImageNet16-120).
        oracle: Reward the 200-epoch test accuracy instead of the 12-epoch
            validation accuracy.
        path: The table file (see `NB201Table.load`; default: the shipped table).
        table: A table to use instead of loading one.

    Raises:
        FieldValueError: If `dataset` is not one of `NB201_DATASETS`.
        BenchmarkDataError: If the table cannot be loaded.
    """

    def __init__(
        self,
        dataset: str,
        *,
        oracle: bool = False,
        path: str | os.PathLike[str] | None = None,
        table: NB201Table | None = None,
    ) -> None:
        if dataset not in NB201_DATASETS:
            raise FieldValueError(
                f"`dataset` must be one of {list(NB201_DATASETS)}, got {dataset!r}"
            )
        self.dataset = dataset
        self.oracle = oracle
        self.name = f"nb201-{dataset}" + ("-oracle" if oracle else "")
        self.table = table if table is not None else NB201Table.load(path)
        self.test_column = f"{dataset}_test_200ep"
        self.reward_column = self.test_column if oracle else f"{dataset}_valid_12ep"
        self._test = self.table.column(self.test_column)
        self._reward = self.table.column(self.reward_column)
        self.optimum = self.table.best(self.test_column)[1]

    def space(self) -> NB201Cell:
        """`nb201_space()`: every edge a choice among the five operations."""
        return nb201_space()

    def reward(self, example: NB201Cell | str) -> float:
        """The accuracy the search sees for a cell (or its string)."""
        return self._lookup(self._reward, example)

    def test_score(self, example: NB201Cell | str) -> float:
        """The 200-epoch test accuracy of a cell (or its string)."""
        return self._lookup(self._test, example)

    def top_threshold(self, fraction: float) -> float:
        """The 200-epoch test accuracy a cell needs to be in the best `fraction` of the table.

        The best `ceil(fraction * n)` cells of the `n` in the table qualify (at
        least one), ties included.

        Raises:
            FieldValueError: If `fraction` is not in (0, 1].
        """
        if not 0 < fraction <= 1:
            raise FieldValueError(f"`fraction` must be in (0, 1], got {fraction!r}")
        ranked = sorted(self._test.values(), reverse=True)
        return ranked[max(1, math.ceil(fraction * len(ranked))) - 1]

    def _lookup(self, values: dict[str, float], example: NB201Cell | str) -> float:
        key = example if isinstance(example, str) else example.to_arch_str()
        try:
            return values[key]
        except KeyError:
            parse_arch_str(key)  # A malformed string says so.
            raise BenchmarkDataError(
                f"{self.table.source}: cell {key!r} is not in the table"
            ) from None


def register_variants(cls: type[NB201Benchmark], suffix: str = "") -> None:
    """Registers `nb201-DATASET{suffix}` and `nb201-DATASET{suffix}-oracle` for every dataset."""
    for dataset in NB201_DATASETS:
        for oracle in (False, True):
            _register(cls, dataset, oracle, suffix)


def _register(cls: type[NB201Benchmark], dataset: str, oracle: bool, suffix: str) -> None:
    def factory(path: str | os.PathLike[str] | None = None) -> NB201Benchmark:
        return cls(dataset, oracle=oracle, path=path)

    name = f"nb201-{dataset}{suffix}" + ("-oracle" if oracle else "")
    factory.__qualname__ = factory.__name__ = name.replace("-", "_")
    factory.__doc__ = f"The `{name}` benchmark (`{cls.__name__}`); `path`: the table file."
    BENCHMARKS.register(name)(factory)


class NB201PaperBenchmark(NB201Benchmark):
    """NAS-Bench-201 as its paper searched it: on CIFAR-10, reported on three data sets.

    The NAS-Bench-201 paper (Dong & Yang, ICLR 2020) ran each search algorithm
    on CIFAR-10 only, rewarded by the 12-epoch validation accuracy, and
    reported the cell it found on CIFAR-10, CIFAR-100 and ImageNet16-120: its
    CIFAR-100 and ImageNet16-120 columns are the CIFAR-10-searched cell
    transferred, not searches on those data sets. Here `reward` is the
    `cifar10_valid_12ep` column, `test_score` the `cifar10_test_200ep` column,
    and `report` the three `*_test_200ep` columns. `optima` holds the best of
    each of the three (the paper's "optimal" row); `optimum` is CIFAR-10's.
    The suite preset `nb201-paper` runs the paper's settings: regularized
    evolution with a population of 10 and a tournament of 3, and random
    search, 500 runs each, `NB201_PAPER_BUDGET` queries per run.

    >>> cells = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    ...          "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"]
    >>> columns = ["cifar10_valid_12ep", "cifar10_test_200ep",
    ...            "cifar100_test_200ep", "imagenet16_test_200ep"]
    >>> table = NB201Table({cells[0]: dict(zip(columns, [30.0, 10.0, 5.0, 2.0])),
    ...                     cells[1]: dict(zip(columns, [20.0, 40.0, 8.0, 1.0]))})
    >>> bench = NB201PaperBenchmark(table=table)
    >>> bench.name, bench.reward(cells[0]), bench.reward(cells[1])
    ('nb201-paper', 30.0, 20.0)
    >>> bench.report(cells[0])
    {'cifar10_test_200ep': 10.0, 'cifar100_test_200ep': 5.0, 'imagenet16_test_200ep': 2.0}
    >>> bench.optima
    {'cifar10_test_200ep': 40.0, 'cifar100_test_200ep': 8.0, 'imagenet16_test_200ep': 2.0}

    Args:
        path: The table file (see `NB201Table.load`; default: the shipped table).
        table: A table to use instead of loading one.

    Raises:
        BenchmarkDataError: If the table cannot be loaded or lacks one of the
            four columns.
    """

    def __init__(
        self,
        *,
        path: str | os.PathLike[str] | None = None,
        table: NB201Table | None = None,
    ) -> None:
        super().__init__("cifar10", path=path, table=table)
        self.name = "nb201-paper"
        self.report_columns = tuple(f"{dataset}_test_200ep" for dataset in NB201_DATASETS)
        self._reported = {name: self.table.column(name) for name in self.report_columns}
        self.optima = {name: self.table.best(name)[1] for name in self.report_columns}

    def report(self, example: NB201Cell | str) -> dict[str, float]:
        """The 200-epoch test accuracy of a cell on CIFAR-10, CIFAR-100 and ImageNet16-120."""
        return {name: self._lookup(values, example) for name, values in self._reported.items()}


register_variants(NB201Benchmark)


@BENCHMARKS.register("nb201-paper")
def nb201_paper(path: str | os.PathLike[str] | None = None) -> NB201PaperBenchmark:
    """The `nb201-paper` benchmark (`NB201PaperBenchmark`); `path`: the table file."""
    return NB201PaperBenchmark(path=path)
