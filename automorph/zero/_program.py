"""Programs: memory sizes, instructions, and Setup/Predict/Learn as symbolic values.

A `Program` is an ordinary symbolic object (printable, JSON round trip,
`am.diff`-able). `Program.to_arrays` gives the compact array form the compiled
evaluator runs: one int64 array (op, in1, in2, out) and one float64 array
(activation, f0, f1, f2) per instruction, padded to a fixed length.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

import automorph as am
from automorph.zero._errors import ProgramError
from automorph.zero._ops import KIND_NAMES, OPS, M, S, V, op_id

COMPONENTS = ("setup", "predict", "learn")
MAX_FEATURES = 32


class Memory(am.Object, type_name="automorph.zero.Memory"):
    """Sizes of the three address spaces (scalars, vectors, matrices).

    `s0` is the label, `s1` the prediction and `v0` the features, so a memory
    needs at least 2 scalars and 1 vector.

    >>> Memory(4, 3, 1)
    Memory(num_scalars=4, num_vectors=3, num_matrices=1)
    """

    num_scalars: int = 4
    num_vectors: int = 3
    num_matrices: int = 1

    def _on_bound(self) -> None:
        super()._on_bound()
        for name, low in (("num_scalars", 2), ("num_vectors", 1), ("num_matrices", 0)):
            value = getattr(self, name)
            if not low <= value <= 1000:
                raise ProgramError(f"Memory.{name} must be in {low}..1000, got {value}")

    def size(self, kind: int) -> int:
        """The number of addresses of a kind (0 scalar, 1 vector, 2 matrix)."""
        return (self.num_scalars, self.num_vectors, self.num_matrices)[kind]


class Instruction(am.Object, type_name="automorph.zero.Instruction"):
    """One instruction: an op id, two input addresses, an output address and data.

    `activation` is the constant of SCALAR_CONST_SET; `f0`, `f1`, `f2` are the
    float data of the other set ops (index fractions, values, bounds).

    >>> ins = Instruction(27, in1=0, in2=1, out=1)
    >>> ins.code()
    's1 = dot(v0, v1)'
    """

    op: int
    in1: int = 0
    in2: int = 0
    out: int = 0
    activation: float = 0.0
    f0: float = 0.0
    f1: float = 0.0
    f2: float = 0.0

    def _on_bound(self) -> None:
        super()._on_bound()
        op_id(self.op)
        for name in ("in1", "in2", "out"):
            if getattr(self, name) < 0:
                raise ProgramError(
                    f"Instruction {OPS[self.op].name}: {name} must be >= 0, "
                    f"got {getattr(self, name)}"
                )

    @classmethod
    def of(
        cls, op: int | str, in1: int = 0, in2: int = 0, out: int = 0, **data: float
    ) -> Instruction:
        """An instruction with the op given by name or id.

        >>> Instruction.of("scalar_const_set", out=2, activation=0.01).code()
        's2 = 0.01'
        """
        return cls(op_id(op), in1, in2, out, **data)

    def code(self, n_features: int | None = None) -> str:
        """The instruction as one line of Python-like code."""
        info = OPS[self.op]
        names = {
            "a": _addr(info.inputs[0], self.in1) if info.arity >= 1 else "",
            "b": _addr(info.inputs[1], self.in2) if info.arity >= 2 else "",
            "c": _addr(info.output, self.out) if info.output >= 0 else "",
            "d": _num(self.activation if self.op == 56 else self.f1 if self.op == 57 else self.f2),
            "i": _index(self.f0, n_features),
            "j": _index(self.f1, n_features),
            "lo": _num(self.f0),
            "hi": _num(self.f1),
        }
        return info.form.format(**names)


def _addr(kind: int, address: int) -> str:
    return f"{KIND_NAMES[kind]}{address}"


def _num(x: float) -> str:
    return f"{x:.6g}"


def _index(fraction: float, n_features: int | None) -> str:
    if n_features is None:
        return f"int({_num(fraction)} * n_features)"
    return str(math.floor(fraction * n_features))


class Program(am.Object, type_name="automorph.zero.Program"):
    """A learning algorithm: the Setup, Predict and Learn component functions.

    >>> p = Program(predict=[Instruction.of("VECTOR_INNER_PRODUCT", 0, 1, 1)])
    >>> print(p.code())
    def setup():
      pass
    def predict():
      s1 = dot(v0, v1)
    def learn():
      pass
    """

    setup: list[Instruction] = []
    predict: list[Instruction] = []
    learn: list[Instruction] = []

    def code(self, n_features: int | None = None) -> str:
        """The program as Python-like code, one `def` per component function."""
        lines: list[str] = []
        for component in COMPONENTS:
            lines.append(f"def {component}():")
            body = [ins.code(n_features) for ins in getattr(self, component) if ins.op != 0]
            lines.extend("  " + line for line in body or ["pass"])
        return "\n".join(lines)

    def sizes(self) -> tuple[int, int, int]:
        """The number of instructions of setup, predict and learn."""
        return (len(self.setup), len(self.predict), len(self.learn))

    def validate(self, memory: Memory, n_features: int) -> Program:
        """Checks every address against `memory` and every index fraction.

        Returns:
            The program itself.

        Raises:
            ProgramError: Naming the component, the instruction and the value.
        """
        if not 1 <= n_features <= MAX_FEATURES:
            raise ProgramError(f"n_features must be in 1..{MAX_FEATURES}, got {n_features}")
        for component in COMPONENTS:
            for i, ins in enumerate(getattr(self, component)):
                _check_instruction(ins, memory, f"{component}[{i}]")
        return self

    def to_arrays(self, max_size: int | None = None) -> tuple[NDArray[np.int64], ...]:
        """The compact array form: (ints [3, L, 4], floats [3, L, 4], sizes [3]).

        `ints[k, i]` is (op, in1, in2, out) of instruction i of component k;
        `floats[k, i]` is (activation, f0, f1, f2). `L` is `max_size` (default:
        the longest component).

        >>> ints, floats, sizes = Program(learn=[Instruction(1, 1, 2, 3)]).to_arrays(2)
        >>> ints.shape, sizes.tolist(), ints[2, 0].tolist()
        ((3, 2, 4), [0, 0, 1], [1, 1, 2, 3])
        """
        sizes = np.array(self.sizes(), dtype=np.int64)
        length = int(sizes.max()) if max_size is None else max_size
        if sizes.max() > length:
            raise ProgramError(f"a component has {sizes.max()} instructions > max_size {length}")
        ints = np.zeros((3, max(length, 1), 4), dtype=np.int64)
        floats = np.zeros((3, max(length, 1), 4), dtype=np.float64)
        for k, component in enumerate(COMPONENTS):
            for i, ins in enumerate(getattr(self, component)):
                ints[k, i] = (ins.op, ins.in1, ins.in2, ins.out)
                floats[k, i] = (ins.activation, ins.f0, ins.f1, ins.f2)
        return ints, floats, sizes  # type: ignore[return-value]

    @classmethod
    def from_arrays(
        cls, ints: NDArray[np.int64], floats: NDArray[np.float64], sizes: NDArray[np.int64]
    ) -> Program:
        """The program of an array form (the inverse of `to_arrays`).

        >>> p = Program(setup=[Instruction(56, out=2, activation=0.5)])
        >>> Program.from_arrays(*p.to_arrays()) == p
        True
        """
        parts: dict[str, list[Instruction]] = {}
        for k, component in enumerate(COMPONENTS):
            parts[component] = [
                Instruction(
                    int(ints[k, i, 0]),
                    int(ints[k, i, 1]),
                    int(ints[k, i, 2]),
                    int(ints[k, i, 3]),
                    *(float(x) for x in floats[k, i]),
                )
                for i in range(int(sizes[k]))
            ]
        return cls(**parts)

    def close_to(self, other: Program, tolerance: float = 1e-5) -> bool:
        """Equality as the original defines it: same ops and addresses, data within tolerance.

        >>> a = Program(setup=[Instruction(56, out=2, activation=0.5)])
        >>> a.close_to(Program(setup=[Instruction(56, out=2, activation=0.500001)]))
        True
        """
        if self.sizes() != other.sizes():
            return False
        ia, fa, _ = self.to_arrays()
        ib, fb, _ = other.to_arrays()
        return bool(np.array_equal(ia, ib) and np.allclose(fa, fb, rtol=0.0, atol=tolerance))


def _check_instruction(ins: Instruction, memory: Memory, where: str) -> None:
    info = OPS[ins.op]
    fields = [("in1", k) for k in info.inputs[:1]] + [("in2", k) for k in info.inputs[1:2]]
    if info.output >= 0:
        fields.append(("out", info.output))
    for name, kind in fields:
        address = getattr(ins, name)
        limit = memory.size(kind)
        if not 0 <= address < limit:
            raise ProgramError(
                f"{where} ({info.name}): {name}={address} is out of range: the memory has "
                f"{limit} {('scalar', 'vector', 'matrix')[kind]} addresses (0..{limit - 1})"
            )
    fractions = {57: ("f0",), 58: ("f0", "f1")}.get(ins.op, ())
    for name in fractions:
        value = getattr(ins, name)
        if not 0.0 <= value < 1.0:
            raise ProgramError(
                f"{where} ({info.name}): {name}={value} is an index fraction and must be in [0, 1)"
            )


__all__ = ["COMPONENTS", "MAX_FEATURES", "Instruction", "Memory", "Program", "M", "S", "V"]
