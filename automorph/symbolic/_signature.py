"""Reading a function's signature: its parameters as a schema, the call
arguments for field values, and its return annotation as a check."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any, cast

from automorph.symbolic._object import Schema
from automorph.symbolic._spec import (
    ROOT,
    AnySpec,
    DictSpec,
    ListSpec,
    TupleSpec,
    UnionSpec,
    ValueSpec,
    compile_annotation,
)
from automorph.utils import MISSING, FieldTypeError, FieldValueError, SchemaError


def signature_schema(
    fn: Callable[..., Any],
    owner: str,
    strict: bool,
    skip_self: bool = False,
    localns: dict[str, Any] | None = None,
) -> Schema:
    """A schema with one field per parameter of `fn` (`self` excluded if `skip_self`)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as e:
        raise SchemaError(f"cannot read the signature of {owner}: {e}") from e
    try:
        hints = typing.get_type_hints(fn, localns=localns, include_extras=True)
    except Exception:  # noqa: BLE001 - unresolvable third-party hints: accept anything
        if strict:
            raise SchemaError(f"cannot resolve the annotations of {owner}") from None
        hints = {}
    specs: dict[str, ValueSpec] = {}
    defaults: dict[str, Any] = {}
    positional: list[str] = []
    varargs = varkw = None
    params = list(sig.parameters.values())
    if skip_self and params:
        params = params[1:]
    for p in params:
        where = f"{owner}.{p.name}"
        annotation = hints.get(p.name, Any)
        spec = compile_annotation(annotation, strict=strict, where=where)
        default = MISSING if p.default is inspect.Parameter.empty else p.default
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            spec, varargs, default = ListSpec(spec), p.name, MISSING
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            spec, varkw, default = DictSpec(spec), p.name, MISSING
        elif p.kind is not inspect.Parameter.KEYWORD_ONLY:
            positional.append(p.name)
        specs[p.name] = spec
        defaults[p.name] = default
    return Schema(
        specs, defaults, {n: hints.get(n, Any) for n in specs}, tuple(positional), varargs, varkw
    )


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def call_args(
    fn: Callable[..., Any], schema: Schema, values: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments for calling `fn` with field values.

    Parameters before `*args` are passed positionally (as long as no earlier
    one is left out), so that the values collected by `*args` follow them.
    """
    sig = inspect.signature(fn)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    in_order = True  # whether every positional parameter so far was passed
    for p in sig.parameters.values():
        if p.name not in schema.specs:
            continue
        value = values.get(p.name, MISSING)
        if value is MISSING:
            in_order = in_order and p.kind not in _POSITIONAL
            continue
        if p.kind is inspect.Parameter.POSITIONAL_ONLY or (
            p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and in_order
        ):
            args.append(value)
        elif p.kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(value)
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            kwargs.update(value)
        else:
            kwargs[p.name] = value
    return args, kwargs


def function_signature(fn: Callable[..., Any]) -> inspect.Signature:
    """`inspect.signature(fn)` with string annotations resolved where they can be."""
    try:
        return inspect.signature(fn, eval_str=True)
    except Exception:  # noqa: BLE001 - a name the function's module does not define
        return inspect.signature(fn)


def return_spec(fn: Callable[..., Any], localns: dict[str, Any]) -> ValueSpec | None:
    """The spec of `fn`'s return annotation; None where there is none to check."""
    try:
        hint = typing.get_type_hints(fn, localns=localns, include_extras=True).get("return", Any)
    except Exception:  # noqa: BLE001 - an annotation that cannot be resolved is not checked
        return None
    try:
        spec = compile_annotation(hint, strict=False)
    except SchemaError:
        return None
    return None if isinstance(spec, AnySpec) else spec


def check_return(spec: ValueSpec, value: Any, owner: str) -> None:
    try:
        _conform(spec, value)
    except (FieldTypeError, FieldValueError) as e:
        raise type(e)(
            f"{owner}: returned {value!r:.80}, which does not match its return annotation "
            f"`{spec.describe()}` ({e.message})",
            path="returns",
        ) from None


def _conform(spec: ValueSpec, value: Any) -> None:
    """Checks `value` against `spec` without converting or adopting anything."""
    if isinstance(spec, AnySpec):
        return
    if isinstance(spec, UnionSpec):
        for option in spec.options:
            try:
                _conform(option, value)
                return
            except (FieldTypeError, FieldValueError):
                continue
        raise FieldTypeError(f"expected {spec.describe()}")
    if isinstance(spec, ListSpec):
        if not isinstance(value, list):
            raise FieldTypeError(f"expected a list, got {type(value).__name__}")
        for item in value:
            _conform(spec.item, item)
    elif isinstance(spec, DictSpec):
        if not isinstance(value, dict):
            raise FieldTypeError(f"expected a dict, got {type(value).__name__}")
        for item in value.values():
            _conform(spec.value, item)
    elif isinstance(spec, TupleSpec):
        if not isinstance(value, tuple) or (spec.rest is None and len(value) != len(spec.items)):
            raise FieldTypeError(f"expected {spec.describe()}")
        for i, item in enumerate(value):
            _conform(spec.items[i] if i < len(spec.items) else cast(ValueSpec, spec.rest), item)
    else:
        spec.apply(value, ROOT, None)
