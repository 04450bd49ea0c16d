"""Symbolic types and exact comparisons shared by the JSON tests."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Optional, Union

from hypothesis import HealthCheck, settings

import automorph as am

RESERVED = ["_type", "_tuple", "_float", "_dict", "_class"]
FUZZ = settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- module-level symbolic types -------------------------------------------


class Conv(am.Object):
    filters: Annotated[int, am.Bounds(1, 1024)]
    kernel: int = 3
    activation: Optional[str] = "relu"


class Net(am.Object):
    layers: list[Conv]
    head: Union[Conv, str, None] = None
    rates: dict[str, float] = {}
    shape: tuple[int, ...] = ()
    block: type[am.Object] = Conv


class Wrapper(am.Object):
    model: Any
    notes: list[Any] = []


class Leaf(am.Object):
    value: Any


class Pair(am.Object):
    left: Any
    right: Any = None


class Bag(am.Object):
    items: list[Any] = []
    table: dict[str, Any] = {}


class Custom(am.Object, type_name="tests.json.custom"):
    size: int = 1


class Fragile(am.Object):
    n: int

    def _on_bound(self) -> None:
        self._inverse = 1 / self.n

    @property
    def inverse(self) -> float:
        return self._inverse


@am.symbolize
def schedule(base: float, decay: float = 0.5, *, warmup: int = 0) -> float:
    return base * decay + warmup


FIELD_NAMES = [
    "filters",
    "kernel",
    "activation",
    "layers",
    "head",
    "rates",
    "shape",
    "block",
    "model",
    "notes",
    "value",
    "left",
    "right",
    "items",
    "table",
    "size",
    "base",
    "decay",
]


# --- comparing values exactly ----------------------------------------------


def assert_same(actual: Any, expected: Any, path: str = "") -> None:
    """Fails unless `actual` is `expected` rebuilt exactly.

    Leaves must have the same type and value (nan matches nan, -0.0 does not
    match 0.0). A list and an `am.List` (or a dict and an `am.Dict`) are the
    same container, since reading JSON always makes the symbolic kind; tuples
    must stay tuples and symbolic objects must keep their class.
    """
    where = path or "<root>"
    if isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not a list"
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not a dict"
        assert list(actual) == list(expected), f"{where}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}[{key!r}]")
        return
    assert type(actual) is type(expected), f"{where}: {type(actual)} is not {type(expected)}"
    if isinstance(expected, am.Object):
        assert_same(actual.sym_init_args, expected.sym_init_args, path)
    elif isinstance(expected, tuple):
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
    elif type(expected) is float and math.isnan(expected):
        assert math.isnan(actual), f"{where}: {actual!r} is not nan"
    elif type(expected) is float:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
        assert math.copysign(1.0, actual) == math.copysign(1.0, expected), f"{where}: sign"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def identical_plain(a: Any, b: Any) -> bool:
    """Whether two plain JSON-like values are equal with the same types throughout."""
    if type(a) is not type(b):
        return False
    if type(a) is list or type(a) is tuple:
        return len(a) == len(b) and all(identical_plain(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return list(a) == list(b) and all(identical_plain(a[k], b[k]) for k in a)
    if type(a) is float and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def round_trips(value: Any, tmp_path: Path) -> list[Any]:
    """`value` read back by each of the three ways of writing it."""
    target = tmp_path / "value.json"
    am.save(value, target)
    return [
        am.from_json(am.to_json(value)),
        am.from_json_str(am.to_json_str(value)),
        am.from_json_str(am.to_json_str(value, indent=2)),
        am.load(target),
    ]


def sample_net() -> Net:
    """A net with nested objects, lists, dicts, tuples, inf and a class."""
    return Net(
        layers=[Conv(8), Conv(16, kernel=5, activation=None)],
        head=Conv(4, activation="gelu"),
        rates={"lr": 1, "wd": 1e-4, "clip": math.inf},
        shape=(3, 3),
        block=Wrapper,
    )


HERE = __name__  # the module the types above are registered under
