"""Hyper-values: values that stand for a decision in a symbolic program.

Placed where a concrete value would go (`Conv(filters=am.oneof([16, 32]))`),
a hyper-value is accepted wherever a value of its candidates' type is, and
turns the program into a search space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY
from typing import Any, Literal

from automorph.geno import (
    Choices,
    CustomDecisionPoint,
    CustomHooks,
    DecisionPoint,
    Float,
    Int,
    Space,
)
from automorph.symbolic import (
    CustomTyping,
    Key,
    KeyPath,
    ListSpec,
    Object,
    TupleSpec,
    UnionSpec,
    ValueSpec,
)
from automorph.utils import FieldTypeError, FieldValueError, SearchSpaceError

# collect(candidate) -> the sub-space of a candidate value (given by the compiler).
Collect = Callable[[Any], Space]


class HyperValue(Object, CustomTyping, type_name="automorph.HyperValue"):
    """Base of hyper-values: a decision inside a symbolic program."""

    _: KW_ONLY
    name: str | None = None

    def decision_point(self, location: str, collect: Collect | None = None) -> DecisionPoint:
        """The decision point for this value, at `location` in its space;
        `collect` turns a candidate into its sub-space."""
        raise NotImplementedError

    def default(self) -> Any:
        """A valid value for define-by-run's first pass (no DNA yet)."""
        raise NotImplementedError


class OneOf(HyperValue, type_name="automorph.OneOf"):
    """One of `candidates`; a candidate may itself contain hyper-values.

    >>> import automorph as am
    >>> am.dna_spec(am.oneof([1, 2, 3])).size
    3
    """

    candidates: list[Any]

    def _on_bound(self) -> None:
        if not self.candidates:
            raise SearchSpaceError("`oneof` needs at least one candidate")

    def sym_custom_apply(self, spec: ValueSpec, parent: KeyPath, key: Key | None) -> Any:
        for i, candidate in enumerate(self.candidates):
            _check_candidate(spec, candidate, parent, key, i)
        return self

    def decision_point(self, location: str, collect: Collect | None = None) -> DecisionPoint:
        return Choices(
            location=location,
            name=self.name,
            candidates=_spaces(self.candidates, collect),
            literal_values=_literals(self.candidates),
        )

    def default(self) -> Any:
        return self.candidates[0]


class ManyOf(HyperValue, type_name="automorph.ManyOf"):
    """A list of `num_choices` of `candidates` (distinct and/or sorted)."""

    num_choices: int
    candidates: list[Any]
    distinct: bool = True
    sorted: bool = False

    def _on_bound(self) -> None:
        if not self.candidates:
            raise SearchSpaceError("`manyof` needs at least one candidate")

    def sym_custom_apply(self, spec: ValueSpec, parent: KeyPath, key: Key | None) -> Any:
        item = _item_spec(spec, parent, key)
        if item is not None:
            for i, candidate in enumerate(self.candidates):
                _check_candidate(item, candidate, parent, key, i)
        return self

    def decision_point(self, location: str, collect: Collect | None = None) -> DecisionPoint:
        return Choices(
            location=location,
            name=self.name,
            num_choices=self.num_choices,
            distinct=self.distinct,
            sorted=self.sorted,
            candidates=_spaces(self.candidates, collect),
            literal_values=_literals(self.candidates),
        )

    def default(self) -> Any:
        if self.distinct:
            return list(self.candidates[: self.num_choices])
        return [self.candidates[0]] * self.num_choices


class FloatValue(HyperValue, type_name="automorph.FloatValue"):
    """A float in [min_value, max_value], on a linear or log scale."""

    min_value: float
    max_value: float
    scale: Literal["linear", "log"] = "linear"

    def _on_bound(self) -> None:
        self.decision_point("")  # the same checks as the decision point

    def sym_custom_apply(self, spec: ValueSpec, parent: KeyPath, key: Key | None) -> Any:
        spec.apply(self.min_value, parent, key)
        spec.apply(self.max_value, parent, key)
        return self

    def decision_point(self, location: str, collect: Collect | None = None) -> DecisionPoint:
        return Float(
            location=location,
            name=self.name,
            min_value=self.min_value,
            max_value=self.max_value,
            scale=self.scale,
        )

    def default(self) -> Any:
        return self.min_value


class IntValue(HyperValue, type_name="automorph.IntValue"):
    """An int in [min_value, max_value]."""

    min_value: int
    max_value: int

    def _on_bound(self) -> None:
        self.decision_point("")

    def sym_custom_apply(self, spec: ValueSpec, parent: KeyPath, key: Key | None) -> Any:
        spec.apply(self.min_value, parent, key)
        spec.apply(self.max_value, parent, key)
        return self

    def decision_point(self, location: str, collect: Collect | None = None) -> DecisionPoint:
        return Int(
            location=location,
            name=self.name,
            min_value=self.min_value,
            max_value=self.max_value,
        )

    def default(self) -> Any:
        return self.min_value


class CustomHyper(HyperValue, type_name="automorph.CustomHyper"):
    """A decision whose value is a structure, chosen by `hooks`.

    Subclass it to turn the decided value into the program's value
    (`materialize`), for example a grammar derivation into a network.
    """

    hooks: CustomHooks

    def sym_custom_apply(self, spec: ValueSpec, parent: KeyPath, key: Key | None) -> Any:
        return self

    def decision_point(self, location: str, collect: Collect | None = None) -> DecisionPoint:
        return CustomDecisionPoint(location=location, name=self.name, hooks=self.hooks)

    def materialize(self, value: Any) -> Any:
        """The program's value for the decided `value` (the value itself by default)."""
        return value

    def encode(self, value: Any) -> Any:
        """The decided value that `materialize` turns into the program's `value`
        (its inverse, used by `am.encode`; the value itself by default).

        A subclass that overrides `materialize` overrides this too, raising
        `ValueError` or `TypeError` for a value no decision materializes into.
        """
        return value

    def default(self) -> Any:
        raise SearchSpaceError("custom hyper-values cannot be used in define-by-run spaces")


def _spaces(candidates: list[Any], collect: Collect | None) -> list[Space]:
    if collect is None:
        from automorph.hyper._compile import Template

        collect = Template.collect_detached
    return [collect(c) for c in candidates]


def _check_candidate(
    spec: ValueSpec, candidate: Any, parent: KeyPath, key: Key | None, i: int
) -> None:
    """Checks that `candidate` may stand where `spec` applies (without keeping the result)."""
    if isinstance(candidate, HyperValue):
        candidate.sym_custom_apply(spec, parent, key)
        return
    try:
        spec.apply(candidate, parent, key)
    except (FieldTypeError, FieldValueError) as e:
        raise type(e)(f"candidate {i} does not fit: {e.message}", path=e.path) from None


def _item_spec(spec: ValueSpec, parent: KeyPath, key: Key | None) -> ValueSpec | None:
    """The item spec a `manyof` list must satisfy, or None if anything goes."""
    if isinstance(spec, ListSpec):
        return spec.item
    if isinstance(spec, UnionSpec):
        for option in spec.options:
            if isinstance(option, ListSpec):
                return option.item
    if isinstance(spec, TupleSpec) or spec.describe() != "Any":
        raise FieldTypeError(
            f"expected {spec.describe()}, got a `manyof`, which makes a list",
            path=parent if key is None else parent.child(key),
        )
    return None


def _literals(candidates: list[Any]) -> list[str]:
    return [repr(c) if not isinstance(c, Object) else type(c).__name__ for c in candidates]


# --- the public constructors ----------------------------------------------------


def oneof(candidates: Sequence[Any], *, name: str | None = None) -> Any:
    """A decision: one of `candidates` (each may contain hyper-values itself).

    Inside a define-by-run function being searched, returns the decided value.

    Raises:
        SearchSpaceError: If `candidates` is empty.
    """
    hyper = OneOf(candidates=list(candidates), name=name)
    return _dynamic_hook(hyper)


def manyof(
    k: int,
    candidates: Sequence[Any],
    *,
    distinct: bool = True,
    sorted: bool = False,  # noqa: A002 - the natural name, as in PyGlove
    name: str | None = None,
) -> Any:
    """A decision: a list of `k` of `candidates`, all different if `distinct`,
    in candidate order if `sorted`.

    Raises:
        SearchSpaceError: If there are no candidates, `k` < 1, or `k` distinct
            picks are asked of fewer candidates.
    """
    if k < 1 or (distinct and k > len(candidates)):
        raise SearchSpaceError(
            f"cannot pick {k} {'distinct ' if distinct else ''}candidates out of {len(candidates)}"
        )
    hyper = ManyOf(
        num_choices=k, candidates=list(candidates), distinct=distinct, sorted=sorted, name=name
    )
    return _dynamic_hook(hyper)


def permutate(candidates: Sequence[Any], *, name: str | None = None) -> Any:
    """A decision: an ordering of all `candidates`."""
    return manyof(len(candidates), candidates, distinct=True, sorted=False, name=name)


def floatv(
    min_value: float,
    max_value: float,
    *,
    scale: Literal["linear", "log"] = "linear",
    name: str | None = None,
) -> Any:
    """A decision: a float in [min_value, max_value], linear or log scale.

    Raises:
        SearchSpaceError: If `min_value` >= `max_value`, or a log scale has
            `min_value` <= 0.
    """
    hyper = FloatValue(min_value=min_value, max_value=max_value, scale=scale, name=name)
    return _dynamic_hook(hyper)


def intv(min_value: int, max_value: int, *, name: str | None = None) -> Any:
    """A decision: an int in [min_value, max_value].

    Raises:
        SearchSpaceError: If `min_value` > `max_value`.
    """
    return _dynamic_hook(IntValue(min_value=min_value, max_value=max_value, name=name))


def custom(hooks: CustomHooks, *, name: str | None = None) -> Any:
    """A decision whose value is a structure chosen by `hooks` (see `CustomHooks`)."""
    return _dynamic_hook(CustomHyper(hooks=hooks, name=name))


def _dynamic_hook(hyper: HyperValue) -> Any:
    from automorph.hyper._dynamic import current_context

    context = current_context()
    return hyper if context is None else context.decide(hyper)
