"""The 65-op instruction set of AutoML-Zero: ids, names, operand types, arity.

Ids and semantics are those of the original (`instruction.proto`; paper Table
S1). Operand types are `S` (scalar), `V` (vector of F) and `M` (F x F matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automorph.zero._errors import ProgramError

S, V, M, NONE = 0, 1, 2, -1
KIND_NAMES = {S: "s", V: "v", M: "m"}


@dataclass(frozen=True)
class OpInfo:
    """One op: its id, name, input kinds (0 to 2), output kind and Python-like form.

    >>> OPS[27].name, OPS[27].inputs, OPS[27].output
    ('VECTOR_INNER_PRODUCT_OP', (1, 1), 0)
    """

    id: int
    name: str
    inputs: tuple[int, ...]
    output: int
    form: str

    @property
    def arity(self) -> int:
        """Number of memory inputs (0 for NO_OP and the set ops)."""
        return len(self.inputs)

    @property
    def is_set(self) -> bool:
        """Whether the op writes constants or random values (ids 56 to 64)."""
        return 56 <= self.id <= 64


def _op(i: int, name: str, inputs: str, output: str, form: str) -> OpInfo:
    kinds = {"s": S, "v": V, "m": M, "-": NONE}
    return OpInfo(i, name, tuple(kinds[c] for c in inputs), kinds[output], form)


# form: how `Program.code()` prints it; {a} {b} are inputs, {c} the output, {d} data.
_TABLE = [
    (0, "NO_OP", "", "-", "pass"),
    (1, "SCALAR_SUM_OP", "ss", "s", "{c} = {a} + {b}"),
    (2, "SCALAR_DIFF_OP", "ss", "s", "{c} = {a} - {b}"),
    (3, "SCALAR_PRODUCT_OP", "ss", "s", "{c} = {a} * {b}"),
    (4, "SCALAR_DIVISION_OP", "ss", "s", "{c} = {a} / {b}"),
    (5, "SCALAR_ABS_OP", "s", "s", "{c} = abs({a})"),
    (6, "SCALAR_RECIPROCAL_OP", "s", "s", "{c} = 1 / {a}"),
    (7, "SCALAR_SIN_OP", "s", "s", "{c} = sin({a})"),
    (8, "SCALAR_COS_OP", "s", "s", "{c} = cos({a})"),
    (9, "SCALAR_TAN_OP", "s", "s", "{c} = tan({a})"),
    (10, "SCALAR_ARCSIN_OP", "s", "s", "{c} = arcsin({a})"),
    (11, "SCALAR_ARCCOS_OP", "s", "s", "{c} = arccos({a})"),
    (12, "SCALAR_ARCTAN_OP", "s", "s", "{c} = arctan({a})"),
    (13, "SCALAR_EXP_OP", "s", "s", "{c} = exp({a})"),
    (14, "SCALAR_LOG_OP", "s", "s", "{c} = log({a})"),
    (15, "SCALAR_HEAVYSIDE_OP", "s", "s", "{c} = heaviside({a}, 1.0)"),
    (16, "VECTOR_HEAVYSIDE_OP", "v", "v", "{c} = heaviside({a}, 0.0)"),
    (17, "MATRIX_HEAVYSIDE_OP", "m", "m", "{c} = heaviside({a}, 0.0)"),
    (18, "SCALAR_VECTOR_PRODUCT_OP", "sv", "v", "{c} = {a} * {b}"),
    (19, "SCALAR_BROADCAST_OP", "s", "v", "{c} = bcast({a})"),
    (20, "VECTOR_RECIPROCAL_OP", "v", "v", "{c} = 1 / {a}"),
    (21, "VECTOR_NORM_OP", "v", "s", "{c} = norm({a})"),
    (22, "VECTOR_ABS_OP", "v", "v", "{c} = abs({a})"),
    (23, "VECTOR_SUM_OP", "vv", "v", "{c} = {a} + {b}"),
    (24, "VECTOR_DIFF_OP", "vv", "v", "{c} = {a} - {b}"),
    (25, "VECTOR_PRODUCT_OP", "vv", "v", "{c} = {a} * {b}"),
    (26, "VECTOR_DIVISION_OP", "vv", "v", "{c} = {a} / {b}"),
    (27, "VECTOR_INNER_PRODUCT_OP", "vv", "s", "{c} = dot({a}, {b})"),
    (28, "VECTOR_OUTER_PRODUCT_OP", "vv", "m", "{c} = outer({a}, {b})"),
    (29, "SCALAR_MATRIX_PRODUCT_OP", "sm", "m", "{c} = {a} * {b}"),
    (30, "MATRIX_RECIPROCAL_OP", "m", "m", "{c} = 1 / {a}"),
    (31, "MATRIX_VECTOR_PRODUCT_OP", "mv", "v", "{c} = dot({a}, {b})"),
    (32, "VECTOR_COLUMN_BROADCAST_OP", "v", "m", "{c} = column_bcast({a})"),
    (33, "VECTOR_ROW_BROADCAST_OP", "v", "m", "{c} = row_bcast({a})"),
    (34, "MATRIX_NORM_OP", "m", "s", "{c} = norm({a})"),
    (35, "MATRIX_COLUMN_NORM_OP", "m", "v", "{c} = norm({a}, axis=0)"),
    (36, "MATRIX_ROW_NORM_OP", "m", "v", "{c} = norm({a}, axis=1)"),
    (37, "MATRIX_TRANSPOSE_OP", "m", "m", "{c} = transpose({a})"),
    (38, "MATRIX_ABS_OP", "m", "m", "{c} = abs({a})"),
    (39, "MATRIX_SUM_OP", "mm", "m", "{c} = {a} + {b}"),
    (40, "MATRIX_DIFF_OP", "mm", "m", "{c} = {a} - {b}"),
    (41, "MATRIX_PRODUCT_OP", "mm", "m", "{c} = {a} * {b}"),
    (42, "MATRIX_DIVISION_OP", "mm", "m", "{c} = {a} / {b}"),
    (43, "MATRIX_MATRIX_PRODUCT_OP", "mm", "m", "{c} = matmul({a}, {b})"),
    (44, "SCALAR_MIN_OP", "ss", "s", "{c} = minimum({a}, {b})"),
    (45, "VECTOR_MIN_OP", "vv", "v", "{c} = minimum({a}, {b})"),
    (46, "MATRIX_MIN_OP", "mm", "m", "{c} = minimum({a}, {b})"),
    (47, "SCALAR_MAX_OP", "ss", "s", "{c} = maximum({a}, {b})"),
    (48, "VECTOR_MAX_OP", "vv", "v", "{c} = maximum({a}, {b})"),
    (49, "MATRIX_MAX_OP", "mm", "m", "{c} = maximum({a}, {b})"),
    (50, "VECTOR_MEAN_OP", "v", "s", "{c} = mean({a})"),
    (51, "MATRIX_MEAN_OP", "m", "s", "{c} = mean({a})"),
    (52, "MATRIX_ROW_MEAN_OP", "m", "v", "{c} = mean({a}, axis=1)"),
    (53, "MATRIX_ROW_ST_DEV_OP", "m", "v", "{c} = std({a}, axis=1)"),
    (54, "VECTOR_ST_DEV_OP", "v", "s", "{c} = std({a})"),
    (55, "MATRIX_ST_DEV_OP", "m", "s", "{c} = std({a})"),
    (56, "SCALAR_CONST_SET_OP", "", "s", "{c} = {d}"),
    (57, "VECTOR_CONST_SET_OP", "", "v", "{c}[{i}] = {d}"),
    (58, "MATRIX_CONST_SET_OP", "", "m", "{c}[{i}, {j}] = {d}"),
    (59, "SCALAR_UNIFORM_SET_OP", "", "s", "{c} = uniform({lo}, {hi})"),
    (60, "VECTOR_UNIFORM_SET_OP", "", "v", "{c} = uniform({lo}, {hi}, n_features)"),
    (61, "MATRIX_UNIFORM_SET_OP", "", "m", "{c} = uniform({lo}, {hi}, (n_features, n_features))"),
    (62, "SCALAR_GAUSSIAN_SET_OP", "", "s", "{c} = gaussian({lo}, {hi})"),
    (63, "VECTOR_GAUSSIAN_SET_OP", "", "v", "{c} = gaussian({lo}, {hi}, n_features)"),
    (64, "MATRIX_GAUSSIAN_SET_OP", "", "m", "{c} = gaussian({lo}, {hi}, (n_features, n_features))"),
]

OPS: tuple[OpInfo, ...] = tuple(_op(*row) for row in _TABLE)
"""The 65 ops of AutoML-Zero, indexed by their original ids."""
NUM_OPS = len(OPS)
"""How many ops there are (65)."""
OP_IDS: dict[str, int] = {op.name: op.id for op in OPS}

# Arrays for the compiled kernels: per op, the arity class (0 none, 1 set op,
# 2 one input, 3 two inputs) and the kinds of in1, in2 and out (-1 if unused).
OP_CLASS = np.array(
    [0 if op.id == 0 else 1 if op.is_set else 1 + op.arity for op in OPS], dtype=np.int64
)
OP_IN1 = np.array([op.inputs[0] if op.arity >= 1 else NONE for op in OPS], dtype=np.int64)
OP_IN2 = np.array([op.inputs[1] if op.arity >= 2 else NONE for op in OPS], dtype=np.int64)
OP_OUT = np.array([op.output for op in OPS], dtype=np.int64)


def op_id(op: int | str) -> int:
    """The id of an op given by id or by name (with or without the `_OP` suffix).

    >>> op_id("VECTOR_SUM_OP"), op_id("vector_sum"), op_id(27)
    (23, 23, 27)

    Raises:
        ProgramError: If there is no such op.
    """
    if isinstance(op, bool) or not isinstance(op, int | str | np.integer):
        raise ProgramError(f"an op is an id 0..{NUM_OPS - 1} or a name, got {op!r}")
    if isinstance(op, str):
        name = op.upper()
        name = name if name.endswith("_OP") else name + "_OP"
        if name not in OP_IDS:
            raise ProgramError(f"unknown op name {op!r} (ops are named like 'VECTOR_SUM_OP')")
        return OP_IDS[name]
    if not 0 <= int(op) < NUM_OPS:
        raise ProgramError(f"unknown op id {int(op)}: ids are 0..{NUM_OPS - 1}")
    return int(op)
