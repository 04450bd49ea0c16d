"""Define-by-run search spaces: hyper-values called inside ordinary code.

A function that calls `am.oneof`, `am.floatv`, ... while it runs (a model
builder, an `nn.Module.__init__`) becomes a search space when wrapped in
`am.define_by_run`. A first run collects the decisions in the order the calls
happen (each named by its `name`, else `decision_<n>`); later runs take the
decided values from a DNA, so the function returns a concrete program.

Candidates of define-by-run decisions are plain values: a hyper-value inside
a candidate would be called (and decided) before the outer decision.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from automorph.geno import DNA, DecisionPoint, Space
from automorph.symbolic import Symbolic
from automorph.utils import InvalidDNAError, SearchSpaceError

_local = threading.local()


def current_context() -> _Context | None:
    """The define-by-run context the running code is in, if any."""
    return getattr(_local, "context", None)


class _Context:
    def __init__(self, dna: DNA | None) -> None:
        self.dna = dna
        self.points: list[DecisionPoint] = []
        self.ids: set[str] = set()
        self.count = 0

    def _next_id(self, name: str | None) -> str:
        decision_id = name if name is not None else f"decision_{self.count}"
        self.count += 1
        if decision_id in self.ids:
            raise SearchSpaceError(
                f"the decision name {decision_id!r} is used twice in one run of the "
                "define-by-run function",
                path=decision_id,
            )
        self.ids.add(decision_id)
        return decision_id

    def decide(self, hyper: Any) -> Any:
        from automorph.hyper._values import ManyOf, OneOf

        decision_id = self._next_id(hyper.name)
        if self.dna is None:
            self.points.append(hyper.decision_point(decision_id))
            return hyper.default()
        if isinstance(hyper, ManyOf):
            ids = (
                [decision_id]
                if hyper.num_choices == 1
                else [f"{decision_id}[{j}]" for j in range(hyper.num_choices)]
            )
            return [_fresh(hyper.candidates[self._value(i)]) for i in ids]
        value = self._value(decision_id)
        if isinstance(hyper, OneOf):
            return _fresh(hyper.candidates[value])
        return value

    def _value(self, decision_id: str) -> Any:
        assert self.dna is not None
        if decision_id not in self.dna:
            raise InvalidDNAError(
                f"the define-by-run function asked for {decision_id!r}, which the DNA does not "
                "decide (did the function take another branch than when it was collected?)",
                path=decision_id,
            )
        return self.dna[decision_id]


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
