"""Value specs: type annotations compiled into fast validators.

A field declared as `filters: Annotated[int, am.Bounds(1, 1024)] = 32` is
compiled once, when its class is created, into a `ValueSpec`. Construction and
`rebind` call `spec.apply(value, parent_path, key)`, which returns the value to
store (a plain list becomes an `am.List`, an int given to a float field becomes
a float) or raises an error that names the key path, the rule and the value.
"""

from __future__ import annotations

import abc
import collections.abc
import numbers
import types
import typing
from typing import Any, Literal, Union

from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._txn import Transaction
from automorph.utils import FieldTypeError, FieldValueError, SchemaError

ROOT = KeyPath()

# Bound by `_containers` at import time, to break the import cycle.
_List: Any = None
_Dict: Any = None


def _bind_containers(list_cls: type, dict_cls: type) -> None:
    global _List, _Dict
    _List, _Dict = list_cls, dict_cls


def _where(parent: KeyPath, key: Key | None) -> KeyPath:
    return parent if key is None else parent.child(key)


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} ({text})"


class CustomTyping:
    """A value that decides for itself whether a spec accepts it.

    Hyper-values (`am.oneof`, `am.floatv`, ...) implement this, which is how a
    hyper-value is accepted wherever a value of its candidates' type is.

    >>> import automorph as am
    >>> from automorph.symbolic import CustomTyping
    >>> class AnyInt(CustomTyping):
    ...     def sym_custom_apply(self, spec, parent, key):
    ...         return spec.apply(0, parent, key)  # acceptable where an int is
    >>> class Layer(am.Object):
    ...     units: int
    >>> isinstance(Layer(AnyInt()).units, int)
    True
    """

    __slots__ = ()

    def sym_custom_apply(self, spec: ValueSpec, parent: KeyPath, key: Key | None) -> Any:
        """Returns the value to store for `spec`, or raises an automorph error."""
        raise NotImplementedError


class Bounds:
    """Inclusive numeric bounds, used as `Annotated[int, am.Bounds(1, 1024)]`.

    >>> Bounds(0.0, 1.0)
    Bounds(min_value=0.0, max_value=1.0)
    """

    __slots__ = ("max_value", "min_value")

    def __init__(self, min_value: float | None = None, max_value: float | None = None) -> None:
        if min_value is not None and max_value is not None and min_value > max_value:
            raise SchemaError(
                f"`min_value` ({min_value!r}) must not exceed `max_value` ({max_value!r})"
            )
        self.min_value = min_value
        self.max_value = max_value

    def __repr__(self) -> str:
        return f"Bounds(min_value={self.min_value!r}, max_value={self.max_value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bounds) and (self.min_value, self.max_value) == (
            other.min_value,
            other.max_value,
        )

    def __hash__(self) -> int:
        return hash((self.min_value, self.max_value))


class ValueSpec(abc.ABC):
    """What a field or container slot accepts, compiled from an annotation.

    >>> from automorph.symbolic import KeyPath, compile_annotation
    >>> spec = compile_annotation(list[float])
    >>> spec.describe(), spec.apply([1, 2.5], KeyPath(), "xs")
    ('list[float]', [1.0, 2.5])
    """

    __slots__ = ()

    @abc.abstractmethod
    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        """Validates `value` for the slot at `parent`/`key`; returns what to store."""

    @abc.abstractmethod
    def describe(self) -> str:
        """The spec in annotation syntax, for messages."""

    def accepts_exactly(self, value: Any) -> bool:
        """Whether `value` fits with no conversion (used to rank union options)."""
        return False

    def _reject(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        if isinstance(value, CustomTyping):
            return value.sym_custom_apply(self, parent, key)
        raise FieldTypeError(
            f"expected {self.describe()}, got {_show(value)}", path=_where(parent, key)
        )

    def __repr__(self) -> str:
        return f"ValueSpec({self.describe()})"


class AnySpec(ValueSpec):
    """Accepts every value; lists and dicts become `am.List` and `am.Dict`."""

    __slots__ = ()

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        cls = type(value)
        if cls is list:
            return _List._sym_from_spec(value, ANY, _where(parent, key))
        if cls is dict:
            return _Dict._sym_from_spec(value, ANY, _where(parent, key))
        return value

    def accepts_exactly(self, value: Any) -> bool:
        return True

    def describe(self) -> str:
        return "Any"


ANY = AnySpec()


class TypeSpec(ValueSpec):
    """An `isinstance` check; `int` refuses bools, `float` takes ints."""

    __slots__ = ("bounds", "cls")

    def __init__(self, cls: type, bounds: Bounds | None = None) -> None:
        self.cls = cls
        self.bounds = bounds

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        cls = self.cls
        vcls = type(value)
        if vcls is not cls:
            if cls is float and vcls is int:
                value = float(value)
            elif vcls is bool or (cls is not bool and isinstance(value, bool)):
                return self._reject(value, parent, key)
            elif cls in _COERCE:
                coerced = _COERCE[cls](value)
                if coerced is None:
                    return self._reject(value, parent, key)
                value = coerced
            elif not isinstance(value, cls):
                return self._reject(value, parent, key)
        if self.bounds is not None:
            self._check_bounds(value, parent, key)
        return value

    def _check_bounds(self, value: Any, parent: KeyPath, key: Key | None) -> None:
        lo, hi = self.bounds.min_value, self.bounds.max_value  # type: ignore[union-attr]
        if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
            raise FieldValueError(
                f"value {value!r} is out of bounds [{lo}, {hi}]", path=_where(parent, key)
            )

    def accepts_exactly(self, value: Any) -> bool:
        return type(value) is self.cls or (type(value) is not bool and isinstance(value, self.cls))

    def describe(self) -> str:
        name = self.cls.__name__
        if self.bounds is not None:
            return f"{name} in [{self.bounds.min_value}, {self.bounds.max_value}]"
        return name


def _to_int(value: Any) -> int | None:
    # numpy and other integer types that are not `int` subclasses.
    return int(value) if isinstance(value, numbers.Integral) else None


def _to_float(value: Any) -> float | None:
    # numpy floats (also `np.float64`, a float subclass JSON would not write).
    return float(value) if isinstance(value, numbers.Real) else None


def _to_str(value: Any) -> str | None:
    return str(value) if isinstance(value, str) else None


# Values of other numeric types are stored as the built-in type of the field,
# so a field declared `int` always holds an `int` (and writes to JSON).
_COERCE: dict[type, Any] = {int: _to_int, float: _to_float, str: _to_str}


class NoneSpec(ValueSpec):
    """Only `None`."""

    __slots__ = ()

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        return None if value is None else self._reject(value, parent, key)

    def accepts_exactly(self, value: Any) -> bool:
        return value is None

    def describe(self) -> str:
        return "None"


class LiteralSpec(ValueSpec):
    """One of a fixed set of values (`Literal['relu', 'gelu']`)."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        if self.accepts_exactly(value):
            return value
        if isinstance(value, CustomTyping):
            return value.sym_custom_apply(self, parent, key)
        raise FieldValueError(
            f"expected one of {list(self.values)!r}, got {_show(value)}",
            path=_where(parent, key),
        )

    def accepts_exactly(self, value: Any) -> bool:
        return any(type(v) is type(value) and v == value for v in self.values)

    def describe(self) -> str:
        return f"Literal[{', '.join(repr(v) for v in self.values)}]"


class UnionSpec(ValueSpec):
    """The first option that takes the value exactly, else the first that converts."""

    __slots__ = ("options",)

    def __init__(self, options: tuple[ValueSpec, ...]) -> None:
        self.options = options

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        if isinstance(value, CustomTyping):
            return value.sym_custom_apply(self, parent, key)
        exact = [o for o in self.options if o.accepts_exactly(value)]
        errors = []
        for option in exact + [o for o in self.options if o not in exact]:
            try:
                with Transaction():  # a failed option leaves no node re-parented
                    return option.apply(value, parent, key)
            except (FieldTypeError, FieldValueError) as e:
                errors.append(e)
        if any(isinstance(e, FieldValueError) for e in errors):
            detail = "; ".join(e.message for e in errors)
            raise FieldValueError(
                f"no option of {self.describe()} accepts {_show(value)}: {detail}",
                path=_where(parent, key),
            )
        raise FieldTypeError(
            f"expected {self.describe()}, got {_show(value)}", path=_where(parent, key)
        )

    def accepts_exactly(self, value: Any) -> bool:
        return any(o.accepts_exactly(value) for o in self.options)

    def describe(self) -> str:
        names = [o.describe() for o in self.options if not isinstance(o, NoneSpec)]
        if len(names) < len(self.options):
            inner = names[0] if len(names) == 1 else " | ".join(names)
            return f"Optional[{inner}]"
        return " | ".join(names)


class ListSpec(ValueSpec):
    """A list whose items match `item`; stored as an `am.List`."""

    __slots__ = ("item",)

    def __init__(self, item: ValueSpec) -> None:
        self.item = item

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        if not isinstance(value, list):
            return self._reject(value, parent, key)
        return _List._sym_from_spec(value, self.item, _where(parent, key))

    def accepts_exactly(self, value: Any) -> bool:
        return isinstance(value, list)

    def describe(self) -> str:
        return f"list[{self.item.describe()}]"


class DictSpec(ValueSpec):
    """A dict with str keys whose values match `value`; stored as an `am.Dict`."""

    __slots__ = ("value",)

    def __init__(self, value: ValueSpec) -> None:
        self.value = value

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        if not isinstance(value, dict):
            return self._reject(value, parent, key)
        return _Dict._sym_from_spec(value, self.value, _where(parent, key))

    def accepts_exactly(self, value: Any) -> bool:
        return isinstance(value, dict)

    def describe(self) -> str:
        return f"dict[str, {self.value.describe()}]"


class TupleSpec(ValueSpec):
    """A tuple, of fixed length (`tuple[int, str]`) or any length (`tuple[int, ...]`).

    Tuples are leaves of the tree: they are stored as plain tuples.
    """

    __slots__ = ("items", "rest")

    def __init__(self, items: tuple[ValueSpec, ...], rest: ValueSpec | None) -> None:
        self.items = items
        self.rest = rest

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        if not isinstance(value, tuple):
            return self._reject(value, parent, key)
        where = _where(parent, key)
        if self.rest is not None:
            return tuple(self.rest.apply(v, where, i) for i, v in enumerate(value))
        if len(value) != len(self.items):
            raise FieldValueError(
                f"expected a tuple of {len(self.items)} items ({self.describe()}), "
                f"got {len(value)}: {_show(value)}",
                path=where,
            )
        return tuple(
            s.apply(v, where, i) for i, (s, v) in enumerate(zip(self.items, value, strict=True))
        )

    def accepts_exactly(self, value: Any) -> bool:
        return isinstance(value, tuple)

    def describe(self) -> str:
        if self.rest is not None:
            return f"tuple[{self.rest.describe()}, ...]"
        return f"tuple[{', '.join(s.describe() for s in self.items)}]"


class CallableSpec(ValueSpec):
    """Any callable."""

    __slots__ = ()

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        return value if callable(value) else self._reject(value, parent, key)

    def accepts_exactly(self, value: Any) -> bool:
        return callable(value)

    def describe(self) -> str:
        return "Callable"


class ClassSpec(ValueSpec):
    """A class that is `base` or a subclass of it (`type[Layer]`)."""

    __slots__ = ("base",)

    def __init__(self, base: type) -> None:
        self.base = base

    def apply(self, value: Any, parent: KeyPath, key: Key | None) -> Any:
        if isinstance(value, type) and issubclass(value, self.base):
            return value
        return self._reject(value, parent, key)

    def accepts_exactly(self, value: Any) -> bool:
        return isinstance(value, type) and issubclass(value, self.base)

    def describe(self) -> str:
        return f"type[{self.base.__name__}]"


def may_adopt(spec: ValueSpec) -> bool:
    """Whether applying `spec` can build containers that adopt the user's nodes."""
    if isinstance(spec, (AnySpec, ListSpec, DictSpec)):
        return True
    if isinstance(spec, UnionSpec):
        return any(may_adopt(o) for o in spec.options)
    if isinstance(spec, TupleSpec):
        return any(may_adopt(o) for o in (*spec.items, spec.rest) if o is not None)
    return False


_NONE = NoneSpec()
_CALLABLE = CallableSpec()
_LIST_ORIGINS = (list, collections.abc.Sequence, collections.abc.MutableSequence)
_DICT_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def compile_annotation(annotation: Any, *, strict: bool = True, where: str = "") -> ValueSpec:
    """Compiles a (resolved) type annotation into a `ValueSpec`.

    Args:
        annotation: The annotation, with forward references already resolved.
        strict: If False, annotations automorph does not understand accept any
            value (used for third-party code); if True they are a `SchemaError`.
        where: The field's description, for error messages.

    >>> compile_annotation(list[int]).describe()
    'list[int]'
    >>> compile_annotation(typing.Optional[str]).describe()
    'Optional[str]'
    """
    bounds: Bounds | None = None
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *extras = typing.get_args(annotation)
        for extra in extras:
            if isinstance(extra, Bounds):
                bounds = extra
    spec = _compile(annotation, strict, where)
    if bounds is not None:
        if not (isinstance(spec, TypeSpec) and spec.cls in (int, float)):
            raise SchemaError(
                f"Bounds apply to int and float fields, not {spec.describe()}"
                f"{' in ' + where if where else ''}"
            )
        spec = TypeSpec(spec.cls, bounds)
    return spec


def _compile(annotation: Any, strict: bool, where: str) -> ValueSpec:
    if annotation is Any or annotation is object or annotation is typing.Any:
        return ANY
    if annotation is None or annotation is type(None):
        return _NONE
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Union or origin is types.UnionType:
        return UnionSpec(tuple(_compile(a, strict, where) for a in args))
    if origin is Literal:
        return LiteralSpec(tuple(args))
    if origin is typing.Annotated:
        return compile_annotation(annotation, strict=strict, where=where)
    if annotation in _LIST_ORIGINS or origin in _LIST_ORIGINS:
        return ListSpec(_compile(args[0], strict, where) if args else ANY)
    if annotation in _DICT_ORIGINS or origin in _DICT_ORIGINS:
        if args and args[0] is not str and strict:
            raise SchemaError(
                f"dict keys must be str, not {args[0]!r}{' in ' + where if where else ''}"
            )
        return DictSpec(_compile(args[1], strict, where) if args else ANY)
    if annotation is tuple or origin is tuple:
        if not args:
            return TupleSpec((), ANY)
        if len(args) == 2 and args[1] is Ellipsis:
            return TupleSpec((), _compile(args[0], strict, where))
        return TupleSpec(tuple(_compile(a, strict, where) for a in args), None)
    if annotation is collections.abc.Callable or origin is collections.abc.Callable:
        return _CALLABLE
    if annotation is type or origin is type:
        base = args[0] if args and isinstance(args[0], type) else object
        return ClassSpec(base)
    if isinstance(annotation, type) and origin is None:
        return TypeSpec(annotation)
    if not strict:
        return ANY
    raise SchemaError(
        f"unsupported type annotation {annotation!r}{' for ' + where if where else ''}; "
        "use a class, Optional, Union, Literal, list[...], dict[str, ...], tuple[...], "
        "Callable, type[...] or Any"
    )
