"""Tests of `am.symbolize` on classes: symbolic third-party classes (a plain
class, OrderedDict, scikit-learn's LogisticRegression), their equality, and
a class without its own `__init__`."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import automorph as am
from tests.symbolic.test_functor import (
    EqLogReg,
    IdentityLogReg,
    Model,
    Point,
    SymLogReg,
    SymOrderedDict,
    SymPoint,
)

# --- symbolic third-party classes: a plain class ------------------------------


def test_symbolic_plain_class_instances_are_real_instances() -> None:
    p = SymPoint(3, y=-4)
    assert isinstance(p, Point)
    assert isinstance(p, am.Object)
    assert (p.x, p.y) == (3, -4)
    assert p.norm1() == 7
    assert p.sym_init_args == {"x": 3, "y": -4}
    assert repr(p) == "Point(x=3, y=-4)"


def test_symbolic_plain_class_validates_its_annotations() -> None:
    with pytest.raises(am.FieldTypeError, match=r"Point: expected int, got str") as info:
        SymPoint("3")
    assert info.value.path == "x"
    with pytest.raises(am.MissingFieldError, match=r"missing a value for 'x'"):
        SymPoint()


def test_rebind_constructs_the_plain_object_again() -> None:
    p = SymPoint(1)
    assert p.inits == 1
    p.cached = "state from using the old object"
    p.rebind(y=5)
    assert p.inits == 1  # constructed afresh, not initialized twice
    assert not hasattr(p, "cached")
    assert (p.x, p.y) == (1, 5)
    assert p.norm1() == 6


def test_symbolic_plain_class_json_round_trip() -> None:
    p = SymPoint(3, 4)
    data = am.to_json(p)
    assert data == {"_type": "tests.symbolic.test_functor.Point", "x": 3, "y": 4}
    back = am.from_json(data)
    assert type(back) is SymPoint
    assert (back.x, back.y) == (3, 4)
    assert back.inits == 1
    assert am.sym_eq(back, p)
    assert back != p  # Point's own `==` (identity) is kept


def test_symbolic_ordered_dict_round_trip() -> None:
    od = SymOrderedDict([("a", 1), ("b", (2, 3))], c=4)
    assert isinstance(od, OrderedDict)
    assert list(od.items()) == [("a", 1), ("b", (2, 3)), ("c", 4)]
    back = am.from_json_str(am.to_json_str(od))
    assert type(back) is SymOrderedDict
    assert list(back.items()) == [("a", 1), ("b", (2, 3)), ("c", 4)]
    assert am.sym_eq(back, od)


# --- symbolic third-party classes: scikit-learn ------------------------------


def _tiny_dataset() -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 0.0], [3.0, -0.5], [4.0, -1.0], [5.0, -1.5]])
    y = np.array([0, 0, 0, 1, 1, 1])
    return x, y


def test_symbolic_estimator_is_a_logistic_regression() -> None:
    model = SymLogReg(C=0.5, max_iter=200)
    assert isinstance(model, LogisticRegression)
    assert model.C == 0.5
    params = model.get_params()
    assert params["C"] == 0.5
    assert params["max_iter"] == 200
    assert model.sym_init_args["C"] == 0.5


def test_sklearn_clone_of_a_symbolic_estimator() -> None:
    model = SymLogReg(C=0.25, max_iter=300)
    copy = clone(model)
    assert copy is not model
    assert isinstance(copy, LogisticRegression)
    assert copy.get_params() == model.get_params()
    assert copy.sym_init_args == model.sym_init_args


def test_symbolic_estimator_fits_and_predicts() -> None:
    x, y = _tiny_dataset()
    model = SymLogReg(C=10.0, max_iter=500)
    assert model.fit(x, y) is model
    assert list(model.predict(x)) == list(y)
    assert model.coef_.shape == (1, 2)


def test_rebind_reinitializes_the_estimator() -> None:
    model = SymLogReg(C=1.0)
    model.rebind(C=3.0, max_iter=77)
    assert model.C == 3.0
    assert model.max_iter == 77
    assert model.get_params()["C"] == 3.0
    assert clone(model).C == 3.0


def test_symbolic_estimator_json_round_trip() -> None:
    model = SymLogReg(C=0.125, max_iter=42, class_weight="balanced", tol=1e-5)
    back = am.from_json_str(am.to_json_str(model))
    assert type(back) is SymLogReg
    assert back != model  # LogisticRegression's own `==` (identity) is kept
    assert am.sym_eq(back, model)
    assert back.get_params() == model.get_params()
    assert (back.C, back.max_iter, back.class_weight, back.tol) == (0.125, 42, "balanced", 1e-5)
    x, y = _tiny_dataset()
    assert list(back.fit(x, y).predict(x)) == list(y)


def test_symbolic_eq_false_keeps_identity_equality() -> None:
    a = IdentityLogReg(C=1.0)
    b = IdentityLogReg(C=1.0)
    assert a != b
    assert a == a
    assert len({a, b}) == 2
    assert am.sym_eq(a, b)
    assert not am.sym_eq(a, IdentityLogReg(C=2.0))
    back = am.from_json(am.to_json(a))
    assert type(back) is IdentityLogReg
    assert back != a
    assert am.sym_eq(back, a)
    assert am.to_json(a)["_type"] == "tests.functor.IdentityLogReg"


def test_symbolic_eq_true_compares_arguments() -> None:
    assert EqLogReg(C=1.0) == EqLogReg(C=1.0)
    assert EqLogReg(C=1.0) != EqLogReg(C=2.0)
    assert hash(EqLogReg(C=1.0)) == hash(EqLogReg(C=1.0))


def test_a_wrapped_class_keeps_its_own_eq_and_hash_by_default() -> None:
    @am.symbolize
    class B:
        def __init__(self, x: int = 1) -> None:
            self.x = x

    a, b = B(), B()
    assert a != b and a == a
    assert hash(a) == object.__hash__(a)
    assert len({a, b}) == 2
    assert am.sym_eq(a, b) and am.sym_hash(a) == am.sym_hash(b)

    class Value:
        def __init__(self, x: int) -> None:
            self.x = x

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Value) and other.x == self.x

        def __hash__(self) -> int:
            return hash(self.x)

    SymValue = am.symbolize(Value, type_name="tests.functor.Value")
    assert SymValue(1) == SymValue(1) == Value(1)
    assert hash(SymValue(2)) == hash(2)
    assert SymValue(1) != SymValue(2)


def test_symbolic_estimator_inside_a_symbolic_tree() -> None:
    model = Model(loss=SymLogReg(C=1.0))
    model.rebind({"loss.C": 9.0})
    assert model.loss.C == 9.0
    assert am.sym_eq(am.from_json(am.to_json(model)), model)


def test_a_class_without_its_own_init_has_no_fields() -> None:
    import inspect

    @am.symbolize
    class Plain:
        def twice(self, x: int) -> int:
            return 2 * x

    schema = Plain.sym_schema()
    assert schema.names == () and schema.varargs is None and schema.varkw is None
    assert list(Plain().sym_items()) == []
    assert str(inspect.signature(Plain)) == "()"
    assert Plain().twice(2) == 4
    assert am.from_json(Plain().to_json()).twice(3) == 6
    with pytest.raises(am.UnknownFieldError, match="takes 0 positional arguments"):
        Plain(1)
    with pytest.raises(am.UnknownFieldError, match="kwargs"):
        Plain(kwargs={})
