"""Tests of `am.symbolize`: functors made from functions, and symbolic
third-party classes (scikit-learn's LogisticRegression, OrderedDict, a plain
class)."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from typing import Annotated, Any

import pytest
from sklearn.linear_model import LogisticRegression

import automorph as am

# --- module-level symbolic functions and classes ---------------------------


@am.symbolize
def scale(
    x: float, factor: Annotated[float, am.Bounds(0.0, 10.0)] = 2.0, *, bias: int = 0
) -> float:
    """Returns `x * factor + bias`."""
    return x * factor + bias


@am.symbolize
def join(head: str, *rest: str, sep: str = "-", **tags: int) -> tuple[str, dict[str, int]]:
    return sep.join((head, *rest)), tags


@am.symbolize
def collect(*items: Any) -> tuple[Any, ...]:
    return items


@am.symbolize
def options(**named: Any) -> dict[str, Any]:
    return named


@am.symbolize
def make(cls: type, count: int = 1) -> list[Any]:
    # A parameter named `cls` must not clash with `Functor.partial`'s own.
    return [cls() for _ in range(count)]


@am.symbolize(type_name="tests.functor.renamed")
def renamed(a: int, b: int = 0) -> int:
    return a - b


@am.symbolize
def triple(a: int, b: int, c: int) -> tuple[int, int, int]:
    return (a, b, c)


@am.symbolize
def pair(a: int, b: int) -> tuple[int, int]:
    return (a, b)


def bad_annotation(x: set[int]) -> None:
    del x


@am.symbolize
def untyped(a, b=3):  # type: ignore[no-untyped-def]
    return (a, b)


class Counter(am.Object):
    n: int = 0


class Model(am.Object):
    loss: Any
    steps: int = 10


class Point:
    """A plain class that automorph did not define."""

    def __init__(self, x: int, y: int = 0) -> None:
        self.x = x
        self.y = y
        self.inits = getattr(self, "inits", 0) + 1

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


SymPoint = am.symbolize(Point)
SymLogReg = am.symbolize(LogisticRegression)
IdentityLogReg = am.symbolize(
    LogisticRegression, type_name="tests.functor.IdentityLogReg", symbolic_eq=False
)
EqLogReg = am.symbolize(LogisticRegression, type_name="tests.functor.EqLogReg", symbolic_eq=True)
SymOrderedDict = am.symbolize(OrderedDict)


# --- functors: binding and calling -----------------------------------------


def test_binding_every_argument_then_calling_runs_the_function() -> None:
    f = scale(1.5, 4.0, bias=1)
    assert f.sym_init_args == {"x": 1.5, "factor": 4.0, "bias": 1}
    assert f.unbound == []
    assert f() == 7.0
    assert f() == 7.0  # calling does not consume the bound arguments


def test_functor_is_a_symbolic_object_named_after_the_function() -> None:
    f = scale(1.0)
    assert isinstance(f, am.Functor)
    assert isinstance(f, am.Object)
    assert type(f).__name__ == "scale"
    assert type(f).__doc__ == "Returns `x * factor + bias`."
    assert repr(f) == "scale(x=1.0, factor=2.0, bias=0)"


def test_int_given_to_a_float_argument_is_stored_as_float() -> None:
    f = scale(2)
    assert type(f.x) is float
    assert f.x == 2.0


def test_binding_by_call_requires_every_argument_without_default() -> None:
    with pytest.raises(am.MissingFieldError, match=r"scale: missing a value for 'x'") as info:
        scale()
    assert info.value.path == "x"


def test_partial_leaves_arguments_unbound_and_fills_defaults() -> None:
    f = scale.partial(factor=3.0)
    assert f.unbound == ["x"]
    assert f.x is am.MISSING
    assert f.factor == 3.0
    assert f.bias == 0
    assert repr(f) == "scale(factor=3.0, bias=0)"


def test_partial_accepts_positional_arguments() -> None:
    f = scale.partial(5.0)
    assert f.unbound == []
    assert f() == 10.0


def test_call_fills_unbound_arguments_positionally_in_order() -> None:
    f = triple.partial(b=2)
    assert f.unbound == ["a", "c"]
    assert f(1, 3) == (1, 2, 3)


def test_call_fills_unbound_arguments_by_keyword() -> None:
    f = scale.partial(factor=3.0)
    assert f(x=2.0) == 6.0
    assert f(2.0, bias=1) == 7.0


def test_call_time_keyword_overrides_only_that_call() -> None:
    f = scale(1.0, 3.0)
    assert f(factor=5.0, override_args=True) == 5.0
    assert f(bias=1) == 4.0  # `bias` was not given: its default is not an override
    assert f.factor == 3.0
    assert f.sym_init_args == {"x": 1.0, "factor": 3.0, "bias": 0}
    assert f() == 3.0


def test_call_without_a_value_for_an_unbound_argument_names_it() -> None:
    f = pair.partial()
    with pytest.raises(am.MissingFieldError, match=r"pair: missing a value for 'a', 'b'"):
        f()
    with pytest.raises(am.MissingFieldError, match=r"missing a value for 'b'"):
        f(1)
    assert f.unbound == ["a", "b"]  # a failed call binds nothing


def test_call_with_more_positional_arguments_than_unbound_ones_is_an_error() -> None:
    f = scale.partial(factor=3.0)
    with pytest.raises(
        am.AutomorphError, match=r"got 2 positional arguments but only 1 unbound: x"
    ) as info:
        f(1.0, 2.0)
    assert isinstance(info.value, TypeError)


def test_annotated_arguments_are_validated_at_binding_and_at_call() -> None:
    with pytest.raises(am.FieldTypeError, match=r"scale: expected float, got str \('a'\)") as info:
        scale("a")
    assert info.value.path == "x"
    with pytest.raises(am.FieldValueError, match=r"out of bounds \[0.0, 10.0\]") as bounds:
        scale.partial(factor=11.0)
    assert bounds.value.path == "factor"
    f = scale.partial()
    with pytest.raises(am.FieldTypeError, match=r"expected float, got str") as at_call:
        f("a")
    assert at_call.value.path == "x"
    with pytest.raises(am.FieldValueError, match=r"out of bounds") as over:
        f(1.0, factor=-1.0)
    assert over.value.path == "factor"


def test_unannotated_arguments_accept_anything() -> None:
    assert untyped("s", b=[1])() == ("s", [1])
    assert untyped(None)() == (None, 3)


def test_unknown_argument_is_an_error_naming_it() -> None:
    with pytest.raises(
        am.UnknownFieldError, match=r"no field 'y'; the fields are: x, factor, bias"
    ) as info:
        scale(1.0, y=2)
    assert info.value.path == "y"
    with pytest.raises(am.UnknownFieldError, match=r"no field 'y'"):
        scale.partial(y=2)
    with pytest.raises(am.UnknownFieldError, match=r"no field 'y'"):
        scale(1.0)(y=2)


def test_too_many_positional_arguments_at_binding_is_an_error() -> None:
    with pytest.raises(am.UnknownFieldError, match=r"takes 2 positional arguments but 3"):
        scale(1.0, 2.0, 3)


def test_argument_given_twice_is_an_error() -> None:
    with pytest.raises(am.UnknownFieldError, match=r"multiple values for 'x'"):
        scale(1.0, x=2.0)


def test_a_parameter_named_cls_can_be_bound_and_overridden() -> None:
    f = make(list, count=2)
    assert f() == [[], []]
    assert make.partial(cls=dict)(count=1) == [{}]
    assert f(cls=tuple, override_args=True) == [(), ()]
    assert am.from_json(am.to_json(make(Counter)))() == [Counter()]


# --- *args and **kwargs --------------------------------------------------


def test_var_positional_and_var_keyword_are_fields() -> None:
    f = join("a", "b", "c", sep="+", x=1, y=2)
    assert f.sym_init_args == {
        "head": "a",
        "rest": ["b", "c"],
        "sep": "+",
        "tags": {"x": 1, "y": 2},
    }
    assert f() == ("a+b+c", {"x": 1, "y": 2})


def test_var_positional_and_var_keyword_default_to_empty() -> None:
    f = join("a")
    assert f.rest == []
    assert f.tags == {}
    assert f() == ("a", {})


def test_empty_var_positional_and_var_keyword_are_symbolic_and_validated() -> None:
    f = join("a")
    assert type(f.rest) is am.List
    assert type(f.tags) is am.Dict
    f.rest.append("b")
    f.tags["k"] = 2
    assert f() == ("a-b", {"k": 2})
    with pytest.raises(am.FieldTypeError, match=r"expected str, got int") as info:
        f.rest.append(3)
    assert info.value.path == "rest[1]"
    assert am.sym_eq(join("a"), am.from_json(am.to_json(join("a"))))


def test_var_positional_items_and_var_keyword_values_are_validated() -> None:
    with pytest.raises(am.FieldTypeError, match=r"expected str, got int") as info:
        join("a", "b", 3)
    assert info.value.path == "rest[1]"
    with pytest.raises(am.FieldTypeError, match=r"expected int, got str") as kw:
        join("a", x="no")
    assert kw.value.path == "tags.x"


def test_only_var_positional_or_only_var_keyword() -> None:
    assert collect(1, "two", (3,))() == (1, "two", (3,))
    assert collect()() == ()
    assert options(a=1, b=[2])() == {"a": 1, "b": [2]}


def test_partial_of_a_var_args_function_fills_the_rest_at_call() -> None:
    f = join.partial(sep=".")
    assert f.unbound == ["head"]
    assert f("x") == ("x", {})


def test_rebind_of_var_positional_and_var_keyword() -> None:
    f = join("a", "b", k=1)
    f.rebind({"rest[0]": "z", "tags.k": 5})
    assert f() == ("a-z", {"k": 5})
    f.rebind(rest=["p", "q"], sep="/")
    assert f() == ("a/p/q", {"k": 5})


# --- rebind ------------------------------------------------------------------


def test_rebind_changes_what_the_next_call_computes() -> None:
    f = scale(1.0, 3.0)
    f.rebind(factor=4.0, bias=2)
    assert f.sym_init_args == {"x": 1.0, "factor": 4.0, "bias": 2}
    assert f() == 6.0


def test_rebind_of_an_unbound_argument_binds_it() -> None:
    f = scale.partial()
    f.rebind(x=3.0)
    assert f.unbound == []
    assert f() == 6.0


def test_rebind_with_an_invalid_value_changes_nothing() -> None:
    f = scale(1.0, 3.0)
    with pytest.raises(am.FieldValueError, match=r"out of bounds") as info:
        f.rebind(x=2.0, factor=50.0)
    assert info.value.path == "factor"
    assert f.sym_init_args == {"x": 1.0, "factor": 3.0, "bias": 0}


def test_functor_inside_a_symbolic_object_is_rebound_by_path() -> None:
    model = Model(loss=scale.partial(factor=2.0))
    model.rebind({"loss.factor": 0.5})
    assert model.loss(4.0) == 2.0
    assert str(model.loss.sym_path) == "loss"


def test_functors_compare_by_arguments() -> None:
    assert scale(1.0, 3.0) == scale(1.0, 3.0)
    assert scale(1.0, 3.0) != scale(1.0, 4.0)
    assert hash(scale(1.0)) == hash(scale(1.0))
    assert am.sym_eq(scale.partial(factor=3.0), scale.partial(factor=3.0))


def test_functor_clone_is_independent() -> None:
    f = join("a", "b")
    g = f.clone()
    g.rebind({"rest[0]": "c"})
    assert f() == ("a-b", {})
    assert g() == ("a-c", {})


def test_functor_pickles() -> None:
    f = join.partial("a", "b", sep="+")
    g = pickle.loads(pickle.dumps(f))
    assert g == f
    assert g() == ("a+b", {})


# --- JSON ------------------------------------------------------------------


@pytest.mark.parametrize(
    "functor",
    [
        scale(1.5, 4.0, bias=2),
        scale.partial(factor=3.0),
        join("a", "b", "c", sep="+", x=1),
        join.partial(sep="."),
        collect(1, (2, 3), [4]),
        options(a=1, b={"c": None}),
        make(Counter, count=2),
        renamed(5, 2),
        untyped("s"),
    ],
    ids=repr,
)
def test_functor_json_round_trip(functor: am.Functor) -> None:
    data = am.to_json(functor)
    back = am.from_json(data)
    assert type(back) is type(functor)
    assert am.sym_eq(back, functor)
    assert back.unbound == functor.unbound
    assert am.to_json(back) == data
    text_back = am.from_json_str(am.to_json_str(functor))
    assert am.sym_eq(text_back, functor)
    if not functor.unbound:
        assert back() == functor()


def test_functor_json_names_the_function_and_leaves_unbound_arguments_out() -> None:
    assert am.to_json(scale.partial(factor=3.0)) == {
        "_type": f"{__name__}.scale",
        "factor": 3.0,
        "bias": 0,
    }
    assert am.to_json(join("a", "b", k=1)) == {
        "_type": f"{__name__}.join",
        "head": "a",
        "rest": ["b"],
        "sep": "-",
        "tags": {"k": 1},
    }


def test_functor_with_var_keyword_from_json_does_not_nest_its_fields() -> None:
    back = am.from_json({"_type": f"{__name__}.join", "head": "a", "rest": ["b"], "tags": {"k": 1}})
    assert back.rest == ["b"]
    assert back.tags == {"k": 1}
    assert back() == ("a-b", {"k": 1})


def test_functor_from_json_validates_arguments() -> None:
    with pytest.raises(am.FieldValueError, match=r"out of bounds") as info:
        am.from_json({"_type": f"{__name__}.scale", "factor": 99.0})
    assert info.value.path == "factor"
    with pytest.raises(am.UnknownFieldError, match=r"scale: no field 'y'") as unknown:
        am.from_json({"a": [{"_type": f"{__name__}.scale", "y": 1}]})
    assert unknown.value.path == "a[0].y"


def test_type_name_option_is_the_json_name() -> None:
    assert renamed._sym_type_name == "tests.functor.renamed"
    data = am.to_json(renamed(5, 2))
    assert data == {"_type": "tests.functor.renamed", "a": 5, "b": 2}
    assert am.from_json(data)() == 3
    assert renamed.__name__ == "renamed"


def test_decorator_with_options_returns_a_functor_class() -> None:
    decorate = am.symbolize(type_name="tests.functor.inline")
    assert callable(decorate)
    cls = decorate(lambda a, b=1: a * b)
    assert issubclass(cls, am.Functor)
    assert cls(3, 2)() == 6
    assert am.to_json(cls(3))["_type"] == "tests.functor.inline"


def test_symbolize_of_a_builtin_function() -> None:
    sym_len = am.symbolize(len)
    assert sym_len([1, 2, 3])() == 3


# --- symbolize errors and identity ------------------------------------------


@pytest.mark.parametrize("target", [42, 3.5, "scale", (), [len], Point(1)])
def test_symbolize_of_a_non_callable_is_a_schema_error(target: Any) -> None:
    with pytest.raises(am.SchemaError, match=r"symbolize takes a function or a class, got"):
        am.symbolize(target)


def test_schema_error_is_also_a_type_error() -> None:
    with pytest.raises(TypeError):
        am.symbolize(42)


def test_symbolize_of_a_symbolic_class_returns_it_unchanged() -> None:
    assert am.symbolize(Model) is Model
    assert am.symbolize(type_name="ignored")(Model) is Model
    assert am.symbolize(scale) is scale
    assert Model._sym_type_name == f"{__name__}.Model"


def test_function_with_an_unsupported_annotation_is_a_schema_error() -> None:
    with pytest.raises(am.SchemaError, match=r"unsupported type annotation .* bad_annotation.x"):
        am.symbolize(bad_annotation)


# --- PyGlove's functor rules (issue 20) ------------------------------------------


@am.symbolize
def total(a: int, b: int = 1, *rest: int, c: int = 2, **extra: int) -> int:
    return a + b + c + sum(rest) + sum(extra.values())


def test_var_keyword_arguments_are_attributes_and_rebound_by_name() -> None:
    f = total(1, d=4)
    assert f.d == 4
    assert f.extra == {"d": 4}
    f.rebind(d=5)
    assert f() == 1 + 1 + 2 + 5
    f.rebind({"e": 6})
    f.g = 7
    assert f.extra == {"d": 5, "e": 6, "g": 7}
    assert f() == 1 + 1 + 2 + 5 + 6 + 7
    f.rebind(d=am.MISSING)
    assert f.extra == {"e": 6, "g": 7}
    with pytest.raises(AttributeError, match="no attribute 'zz'"):
        f.zz  # noqa: B018
    f.rebind(extra={"q": 1})  # the field itself, by its own name
    assert f.extra == {"q": 1}
    assert am.from_json(am.to_json(f)).q == 1


def test_rebind_to_missing_unbinds_an_argument() -> None:
    f = total(3, b=5)
    f.rebind(b=am.MISSING)
    assert f.b == 1  # back to its default
    assert f.specified_args == {"a"}
    f.rebind(a=am.MISSING)
    assert f.unbound == ["a"] and f.unbound_args == {"a"}
    assert f(10) == 13
    with pytest.raises(am.MissingFieldError, match="missing a value for 'a'"):
        f()


def test_overriding_a_bound_argument_at_call_needs_override_args() -> None:
    f = total(1, b=2, d=3)
    with pytest.raises(
        am.ArgumentOverrideError,
        match=r"total: the call gives 'b' the value 5, but the functor binds it to 2; "
        r"pass override_args=True",
    ) as info:
        f(b=5)
    assert info.value.path == "b"
    assert isinstance(info.value, TypeError)
    with pytest.raises(am.ArgumentOverrideError, match="gives 'd' the value 0") as info:
        f(d=0)
    assert info.value.path == "extra.d"
    assert f(b=5, override_args=True) == 1 + 5 + 2 + 3
    assert f.b == 2  # for that call only
    assert f(c=10) == 1 + 2 + 10 + 3  # `c` has its default: not bound by the user
    assert f(e=1) == 1 + 2 + 2 + 3 + 1  # a new **kwargs item
    with pytest.raises(am.UnknownFieldError, match="no field 'zz'"):
        scale(1.0)(zz=1)
    assert scale(1.0)(zz=1, ignore_extra_args=True) == 2.0


def test_specified_non_default_and_default_args() -> None:
    f = total(1, b=1, d=4)
    assert f.specified_args == {"a", "b", "d"}
    assert f.non_default_args == {"a", "d"}
    assert f.default_args == {"b", "c", "rest"}
    assert f.bound_args == {"a", "b", "c", "rest", "d"}
    g = total.partial(b=3)
    assert (g.specified_args, g.non_default_args, g.default_args) == ({"b"}, {"b"}, {"c", "rest"})
    g.rebind(c=9)
    assert g.specified_args == {"b", "c"} and "c" in g.non_default_args
    assert g.clone().specified_args == {"b", "c"}
    assert pickle.loads(pickle.dumps(g)).specified_args == {"b", "c"}
    # From JSON, the arguments whose values are not their defaults count as given.
    assert am.from_json(am.to_json(f)).specified_args == {"a", "d"}


@am.symbolize
def halve(x: int) -> int:
    return x // 2 if x >= 0 else "negative"  # type: ignore[return-value]


@am.symbolize
def bounded(x: float) -> Annotated[float, am.Bounds(0.0, 1.0)]:
    return x


@am.symbolize
def listing(n: int) -> list[int]:
    return [1] * n if n >= 0 else [1, "x"]  # type: ignore[list-item]


def test_return_values_are_checked_against_the_return_annotation() -> None:
    assert halve(4)() == 2
    with pytest.raises(
        am.FieldTypeError,
        match=r"halve: returned 'negative', which does not match its return annotation `int`",
    ) as info:
        halve(-1)()
    assert info.value.path == "returns"
    assert bounded(0.5)() == 0.5
    with pytest.raises(am.FieldValueError, match=r"returned 2\.0.*out of bounds"):
        bounded(2.0)()
    assert listing(2)() == [1, 1]
    with pytest.raises(am.FieldTypeError, match=r"`list\[int\]`"):
        listing(-1)()
    assert untyped(1)() == (1, 3)  # no annotation: nothing to check


def test_inspect_signature_of_a_functor_class_and_a_functor() -> None:
    import inspect

    assert (
        str(inspect.signature(total))
        == "(a: int, b: int = 1, *rest: int, c: int = 2, **extra: int)"
    )
    f = total.partial(b=3)
    sig = inspect.signature(f)
    assert str(sig) == (
        "(a: int, *, b: int = 3, c: int = 2, override_args: bool = False, "
        "ignore_extra_args: bool = False, **extra: int) -> int"
    )
    assert sig.bind(1).arguments == {"a": 1}
    params = inspect.signature(scale(1.0)).parameters
    assert list(params)[:4] == ["x", "factor", "bias", "override_args"]
    assert all(p.kind is p.KEYWORD_ONLY for p in params.values())


class Affine(am.Functor):
    """A functor written as a class: fields are its arguments."""

    weight: float
    bias: float = 0.0

    def _call(self) -> float:
        return self.weight * 2 + self.bias


def test_functor_subclass_with_fields_and_a_call_body() -> None:
    import inspect

    f = Affine(1.5)
    assert f() == 3.0
    assert f(bias=1.0) == 4.0
    assert f.bias == 0.0  # the call's values are for that call only
    with pytest.raises(am.ArgumentOverrideError, match=r"binds it to 1\.5"):
        f(weight=2.0)
    assert f(weight=2.0, override_args=True) == 4.0
    g = Affine.partial(bias=1.0)
    assert g(2.0) == 5.0
    assert g.unbound == ["weight"]
    assert str(inspect.signature(Affine)) == "(weight: float, bias: float = 0.0)"
    assert am.from_json(am.to_json(f)) == f
    with pytest.raises(am.FieldTypeError, match="expected float"):
        Affine("x")


def test_functor_subclass_call_body_takes_no_arguments() -> None:
    with pytest.raises(
        am.SchemaError, match=r"`.*Bad._call` must take no arguments besides `self` \(it takes x\)"
    ):

        class Bad(am.Functor):
            def _call(self, x: int) -> int:
                return x


def test_functor_subclass_return_annotation_is_checked() -> None:
    class Wrong(am.Functor):
        x: int

        def _call(self) -> str:
            return self.x  # type: ignore[return-value]

    with pytest.raises(am.FieldTypeError, match="Wrong: returned 1"):
        Wrong(1)()


def test_rebinding_a_wrapped_object_to_a_hyper_value_drops_its_state() -> None:
    p = SymPoint(1, 2)
    assert p.norm1() == 3
    p.rebind(y=am.oneof([5, 6]))
    assert p.sym_abstract
    assert not hasattr(p, "x") and not hasattr(p, "inits")  # nothing stale left
    with pytest.raises(AttributeError):
        p.norm1()
    p.rebind(y=7)
    assert (p.x, p.y, p.norm1()) == (1, 7, 8)
