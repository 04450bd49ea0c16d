"""Tests of `am.compound`: a factory function as a symbolic class."""

from __future__ import annotations

import abc
import inspect
import pickle
from typing import Any

import pytest

import automorph as am


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


BUILDS: list[int] = []


@am.compound
def diagonal(v: int) -> Point:
    BUILDS.append(v)
    return Point(v, v)


@am.compound(lazy_build=False)
def eager(v: int) -> Point:
    BUILDS.append(v)
    return Point(v, 0)


class Scored(am.Object):
    score: int = 1

    def doubled(self) -> int:
        return self.score * 2


def scored(base: int) -> Scored:
    return Scored(base + 1)


ScoredCompound = am.compound_class(scored)


def test_a_compound_stands_for_the_object_its_factory_builds() -> None:
    d = diagonal(3)
    assert isinstance(d, Point) and isinstance(d, am.Compound)
    assert (d.v, d.x, d.y, d.norm1()) == (3, 3, 3, 6)
    assert type(d.decomposed) is Point
    assert d == diagonal(3) and hash(d) == hash(diagonal(3)) and d != diagonal(4)
    assert str(inspect.signature(diagonal)) == "(v: int)"
    with pytest.raises(am.FieldTypeError, match="expected int"):
        diagonal("x")


def test_the_compound_builds_lazily_and_again_after_a_rebind() -> None:
    BUILDS.clear()
    d = diagonal(1)
    assert BUILDS == []
    assert d.x == 1 and d.y == 1
    assert BUILDS == [1]
    d.rebind(v=2)
    assert d.norm1() == 4
    assert BUILDS == [1, 2]
    BUILDS.clear()
    e = eager(5)
    assert BUILDS == [5]
    e.rebind(v=6)
    assert BUILDS == [5, 6] and e.x == 6


def test_a_compound_of_a_symbolic_class_keeps_its_own_arguments_first() -> None:
    c = ScoredCompound(1)
    assert isinstance(c, Scored)
    assert (c.base, c.score, c.doubled()) == (1, 2, 4)
    assert type(c.decomposed) is Scored


def test_compound_of_an_abstract_base() -> None:
    class Shape(abc.ABC):
        @abc.abstractmethod
        def area(self) -> float: ...

    class Square(Shape):
        def __init__(self, side: float) -> None:
            self.side = side

        def area(self) -> float:
            return self.side**2

    @am.compound(Shape)
    def square(side: float) -> Any:
        return Square(side)

    assert isinstance(square(2.0), Shape)
    assert square(2.0).area() == 4.0


def test_compound_is_symbolic_json_pickle_and_search_spaces() -> None:
    d = diagonal(3)
    assert am.to_json(d) == {"_type": f"{__name__}.diagonal", "v": 3}
    assert am.from_json(am.to_json(d)).x == 3
    assert pickle.loads(pickle.dumps(d)).norm1() == 6
    space = am.Dict(p=diagonal(am.intv(1, 3)))
    assert am.materialize(space, am.DNA({"p.v": 2}))["p"].x == 2
    with pytest.raises(am.FieldValueError, match=r"holds hyper-values .* materialize it"):
        space["p"].x  # noqa: B018
    d.rebind(v=am.oneof([1, 2]))
    with pytest.raises(am.FieldValueError, match="holds hyper-values"):
        d.decomposed  # noqa: B018


def test_compound_errors() -> None:
    with pytest.raises(am.SchemaError, match=r"cannot tell which class the compound '.*no_base'"):

        @am.compound
        def no_base(x: int):  # type: ignore[no-untyped-def]
            return x

    with pytest.raises(am.SchemaError, match="`compound` applies to functions, got type"):
        am.compound_class(Point)
