"""Define-by-run search spaces: hyper-values called inside ordinary code.

A function that calls `am.oneof`, `am.floatv`, ... while it runs (a model
builder, an `nn.Module.__init__`) becomes a search space when wrapped in
`am.define_by_run`. A first run (the collection pass) records the decisions
in the order the calls happen; later runs take the decided values from a
DNA, so the function returns a concrete program.

Conditional sub-spaces are written as candidate functions: a candidate of
`oneof`/`manyof` that is a plain Python function without parameters
(`lambda: ...` or a `def`) is called when it is chosen, and the decisions it
makes belong to that candidate only. The collection pass calls every
candidate function once, in order, to collect its sub-space (and returns the
value of the first one, as it returns the first plain candidate); a decided
run calls only the chosen one. Other candidates (symbolic objects, functors,
classes, functions with parameters, even defaulted ones) are values, copied
when chosen.

A decision's value in the collection pass is the first candidate (the first
`k` for a distinct `manyof`), the minimum of a number, and for a custom
decision the first of its hooks' `values()`, else `hooks.random` with seed 0.

Names. A name used a second time in one run, where the first use is in the
same candidate function or an enclosing one (or both are at the top level),
is the same decision: no new decision point, and the call returns the value
of the first. The second call must be the same kind of decision with the
same settings and candidates (candidate functions are compared by their
code), else it is a `SearchSpaceError`. The same name in two different
candidate functions (two branches that never run together) is an error too.

Decision ids (one rule, the one static spaces follow):

- A decision's *location* is its `name` if it has one, else
  `decision_<n>`, where `n` counts the hyper-value calls made before it at
  the same level in this run: at the top level of the function, or inside
  the same candidate function. Named calls and repeated names count too, so
  naming one decision does not renumber the others.
- A decision at the top level has its location as its id. A decision made
  inside candidate `i` of a choice whose id is `c` has the id
  `c[=i].<location>`.
- The picks of a `manyof` of `k` > 1 whose id is `m` have the ids `m[0]`,
  ..., `m[k-1]`; a decision inside candidate `i` chosen by pick `j` has the
  id `m[j][=i].<location>`.

So the ids do not depend on which branches a run takes, and the collection
pass and every decided run agree on them.
"""

from __future__ import annotations

import inspect
import threading
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from automorph.geno import DNA, Choices, CustomDecisionPoint, DecisionPoint, Space, join
from automorph.symbolic import Symbolic, sym_eq
from automorph.utils import InvalidDNAError, SearchSpaceError

if TYPE_CHECKING:
    from automorph.hyper._values import HyperValue

_local = threading.local()


def current_context() -> _Context | None:
    """The define-by-run context the running code is in, if any."""
    return getattr(_local, "context", None)


def is_candidate_function(value: Any) -> bool:
    """Whether a candidate is a function to call when chosen: a plain Python
    function (or lambda) without parameters."""
    if type(value) is not types.FunctionType:
        return False
    try:
        return not inspect.signature(value).parameters
    except (TypeError, ValueError):
        return False


class _Scope:
    """The decisions of one level of a run: the top level or one candidate function."""

    __slots__ = ("count", "locations", "names", "parent", "points", "prefix")

    def __init__(self, prefix: str, parent: _Scope | None) -> None:
        self.prefix = prefix  # the id prefix of decisions made here
        self.parent = parent
        self.points: list[DecisionPoint] = []
        self.count = 0  # hyper-value calls so far at this level
        self.locations: set[str] = set()
        self.names: dict[str, tuple[HyperValue, Any]] = {}  # name -> (first call, its value)


class _Context:
    def __init__(self, dna: DNA | None) -> None:
        self.dna = dna
        self.scope = _Scope("", None)
        self.top = self.scope
        # name -> id prefix of the scope where it was first used (across branches).
        self.name_scopes: dict[str, str] = {}

    @property
    def points(self) -> list[DecisionPoint]:
        return self.top.points

    # --- one call ------------------------------------------------------------------

    def decide(self, hyper: HyperValue) -> Any:
        scope = self.scope
        location = hyper.name if hyper.name is not None else f"decision_{scope.count}"
        scope.count += 1
        if hyper.name is not None:
            shared = self._shared(hyper, scope)
            if shared is not None:
                return _fresh(shared[1])
        decision_id = join(scope.prefix, location)
        if location in scope.locations:
            raise SearchSpaceError(
                f"the decision id {decision_id!r} is used twice in one run of the "
                "define-by-run function (a name that equals an automatic id)",
                path=decision_id,
            )
        scope.locations.add(location)
        if self.dna is None:
            value = self._collect(hyper, location, decision_id)
        else:
            value = self._apply(hyper, decision_id)
        if hyper.name is not None:
            scope.names[hyper.name] = (hyper, value)
            self.name_scopes[hyper.name] = scope.prefix
        return value

    def _shared(self, hyper: HyperValue, scope: _Scope) -> tuple[HyperValue, Any] | None:
        """The first call of the same name visible from `scope`, if any."""
        name = hyper.name
        assert name is not None
        node: _Scope | None = scope
        while node is not None:
            first = node.names.get(name)
            if first is not None:
                if not _same_decision(first[0], hyper):
                    raise SearchSpaceError(
                        f"the decision name {name!r} is used twice in one run of the "
                        "define-by-run function for different decisions "
                        f"({_describe(first[0])} and {_describe(hyper)}); a repeated name "
                        "must repeat the same decision",
                        path=join(node.prefix, name),
                    )
                return first
            node = node.parent
        if self.dna is None and name in self.name_scopes:
            raise SearchSpaceError(
                f"the decision name {name!r} is used in two candidate functions that do not "
                f"run together (under `{self.name_scopes[name] or '<top>'}` and "
                f"`{scope.prefix or '<top>'}`); use a different name in each",
                path=join(scope.prefix, name),
            )
        return None

    def _in_scope(self, prefix: str, fn: Callable[[], Any]) -> tuple[Any, _Scope]:
        """Calls a candidate function with its decisions in a new scope."""
        outer = self.scope
        self.scope = _Scope(prefix, outer)
        try:
            return fn(), self.scope
        finally:
            self.scope = outer

    # --- the collection pass ---------------------------------------------------------

    def _collect(self, hyper: HyperValue, location: str, decision_id: str) -> Any:
        from automorph.hyper._values import CustomHyper, ManyOf, OneOf

        scope = self.scope
        if isinstance(hyper, (OneOf, ManyOf)):
            k = hyper.num_choices if isinstance(hyper, ManyOf) else 1
            spaces: list[Space] = []
            values: list[Any] = []
            literals: list[str] = []
            for i, candidate in enumerate(hyper.candidates):
                if is_candidate_function(candidate):
                    value, sub = self._in_scope(f"{decision_id}[={i}]", candidate)
                    spaces.append(Space(elements=sub.points))
                    values.append(value)
                    literals.append(f"<function {candidate.__qualname__}>")
                else:
                    spaces.append(Space())
                    values.append(candidate)
                    literals.append(_literal(candidate))
            point: DecisionPoint = Choices(
                location=location,
                name=hyper.name,
                num_choices=k,
                distinct=getattr(hyper, "distinct", True),
                sorted=getattr(hyper, "sorted", False),
                candidates=spaces,
                literal_values=literals,
            )
            scope.points.append(point)
            if isinstance(hyper, OneOf):
                return _fresh(values[0])
            picks = values[:k] if hyper.distinct else [values[0]] * k
            return [_fresh(v) for v in picks]
        if isinstance(hyper, CustomHyper):
            scope.points.append(
                CustomDecisionPoint(location=location, name=hyper.name, hooks=hyper.hooks)
            )
            return hyper.materialize(_first_custom_value(hyper))
        scope.points.append(hyper.decision_point(location))
        return hyper.default()

    # --- a decided run -----------------------------------------------------------------

    def _apply(self, hyper: HyperValue, decision_id: str) -> Any:
        from automorph.hyper._values import CustomHyper, ManyOf, OneOf

        if isinstance(hyper, (OneOf, ManyOf)):
            k = hyper.num_choices if isinstance(hyper, ManyOf) else 1
            ids = [decision_id] if k == 1 else [f"{decision_id}[{j}]" for j in range(k)]
            picks = []
            for pick_id in ids:
                index = self._value(pick_id)
                candidate = hyper.candidates[index]
                if is_candidate_function(candidate):
                    value, _ = self._in_scope(f"{pick_id}[={index}]", candidate)
                    picks.append(value)
                else:
                    picks.append(_fresh(candidate))
            return picks[0] if isinstance(hyper, OneOf) else picks
        if isinstance(hyper, CustomHyper):
            return hyper.materialize(self._value(decision_id))
        return self._value(decision_id)

    def _value(self, decision_id: str) -> Any:
        assert self.dna is not None
        if decision_id not in self.dna:
            raise InvalidDNAError(
                f"the define-by-run function asked for {decision_id!r}, which the DNA does not "
                "decide (did the function take another branch than when it was collected? "
                "Write branches as candidate functions: `am.oneof([lambda: ..., ...])`)",
                path=decision_id,
            )
        return self.dna[decision_id]


def _first_custom_value(hyper: Any) -> Any:
    """The collection pass's value of a custom decision (see the module docstring)."""
    try:
        for value in hyper.hooks.values():
            return value
    except SearchSpaceError:
        pass  # hooks that cannot enumerate their values
    return hyper.hooks.random(np.random.default_rng(0))


def _same_decision(a: HyperValue, b: HyperValue) -> bool:
    """Whether two calls with one name are the same decision (see the module docstring)."""
    if type(a) is not type(b):
        return False
    args_a, args_b = a.sym_init_args, b.sym_init_args
    for key, value in args_a.items():
        other = args_b[key]
        if key == "candidates":
            value = [_comparable(c) for c in value]
            other = [_comparable(c) for c in other]
        if not sym_eq(value, other):
            return False
    return True


def _comparable(candidate: Any) -> Any:
    return candidate.__code__ if is_candidate_function(candidate) else candidate


def _describe(hyper: HyperValue) -> str:
    return repr(hyper)


def _literal(candidate: Any) -> str:
    from automorph.symbolic import Object

    return type(candidate).__name__ if isinstance(candidate, Object) else repr(candidate)


def _fresh(value: Any) -> Any:
    return value.clone(deep=True) if isinstance(value, Symbolic) else value


class DynamicSpace:
    """A search space defined by running a function (see the module docstring).

    >>> import automorph as am
    >>> def build():
    ...     width = am.intv(8, 32, name="width")
    ...     act = am.oneof(["relu", "gelu"], name="act")
    ...     return f"mlp(width={width}, act={act})"
    >>> space = am.define_by_run(build)
    >>> am.dna_spec(space).size
    50
    >>> am.materialize(space, am.DNA({"width": 16, "act": 1}))
    'mlp(width=16, act=gelu)'

    A candidate function defines a sub-space that exists only where it is chosen:

    >>> def build_net():
    ...     return am.oneof(
    ...         [lambda: ("conv", am.oneof([3, 5], name="kernel")), lambda: ("pool", None)],
    ...         name="op",
    ...     )
    >>> net = am.define_by_run(build_net)
    >>> am.dna_spec(net).size
    3
    >>> am.materialize(net, am.DNA({"op": 0, "op[=0].kernel": 1}))
    ('conv', 5)
    >>> am.materialize(net, am.DNA({"op": 1}))
    ('pool', None)
    """

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn

    def _run(self, dna: DNA | None) -> tuple[Any, _Context]:
        if current_context() is not None:
            raise SearchSpaceError("define-by-run spaces cannot be nested")
        context = _Context(dna)
        _local.context = context
        try:
            return self.fn(), context
        finally:
            _local.context = None

    def collect(self) -> Space:
        """Runs the function once, collecting its decisions into a DNASpec."""
        _, context = self._run(None)
        return Space(elements=context.points)

    def apply(self, dna: DNA) -> Any:
        """Runs the function with the decisions of `dna`; returns its result."""
        result, _ = self._run(dna)
        return result


def define_by_run(fn: Callable[[], Any]) -> DynamicSpace:
    """Makes a function that calls hyper-values while it runs a search space."""
    return DynamicSpace(fn)
