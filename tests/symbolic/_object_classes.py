"""Symbolic classes shared by the object tests (module level: annotations resolve here)."""

# am.Object copies mutable field defaults per instance (RUF012), and the typing spellings
# `Optional`/`Union` are tested on purpose next to `X | None` (UP007, UP045).

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, Optional, Union

import pytest

import automorph as am
from automorph.symbolic import KeyPath

# --- symbolic classes used by the tests (module level: annotations resolve here) ---


class Base(am.Object):
    a: int
    b: str = "b"


class Derived(Base):
    c: float = 1.0
    b = "override"  # a new default for an inherited field


class Retyped(Base):
    b: Optional[str] = None  # type: ignore[assignment]


class Other(Base):
    pass


class Point(am.Object):
    x: float
    y: float = 0.0


class SameFieldsAsPoint(am.Object):
    x: float
    y: float = 0.0


class Conv(am.Object):
    filters: Annotated[int, am.Bounds(1, 1024)]
    kernel: int = 3
    activation: Literal["relu", "gelu"] = "relu"


class Net(am.Object):
    layers: list[Conv]
    name: str = "net"
    meta: dict[str, int] = {}


class Everything(am.Object):
    i: int = 0
    f: float = 0.5
    s: str = "s"
    flag: bool = False
    opt: Optional[int] = None
    num: Union[int, str] = 1
    either: Union[float, int] = 0
    maybe: float | None = None
    lit: Literal["a", "b", 3] = "a"
    ints: list[int] = [1, 2]
    table: dict[str, float] = {}
    shape: tuple[int, ...] = ()
    pair: tuple[int, str] = (0, "")
    point: Optional[Point] = None
    ratio: Annotated[float, am.Bounds(0.0, 1.0)] = 0.5
    fn: Callable[..., Any] = len
    kind: type[Base] = Base
    anything: Any = None
    counter: ClassVar[int] = 0
    _hidden: int = 7


class Box(am.Object):
    v: Any = None
    w: Any = None


class Rect(am.Object):
    """Keeps `_area` derived from its fields."""

    w: float
    h: float

    def _on_bound(self) -> None:
        self._area = self.w * self.h
        self._bound_calls = getattr(self, "_bound_calls", 0) + 1


class Size(am.Object):
    w: float
    h: float


class Panel(am.Object):
    """Keeps state derived from values deep below it."""

    size: Size
    parts: list[Size] = []

    def _on_bound(self) -> None:
        self._area = self.size.w * self.size.h
        self._parts_area = sum(p.w * p.h for p in self.parts)


CHANGES: list[tuple[str, dict[KeyPath, am.FieldUpdate]]] = []


class Recorder(am.Object):
    """Logs every `_on_change` it receives into `CHANGES`."""

    tag: str
    value: int = 0
    child: Any = None

    def _on_change(self, updates: dict[KeyPath, am.FieldUpdate]) -> None:
        CHANGES.append((self.tag, dict(updates)))


@pytest.fixture(autouse=True)
def _clear_changes() -> None:
    CHANGES.clear()


def make_net() -> Net:
    return Net([Conv(1), Conv(2, kernel=5), Conv(3)], meta={"a": 1})
