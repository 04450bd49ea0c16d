"""`am.compound`: a factory function as a symbolic class.

A compound class is a symbolic subclass of the class a factory function
returns, whose fields are the factory's parameters. An instance is built from
the arguments alone; the object the factory makes (`decomposed`) is built
when first needed (or at once, with `lazy_build=False`) and again after a
rebind. Attributes that are not the compound's own (its arguments and
automorph's symbolic methods) are read from the decomposed object, so the
compound stands in for it; `isinstance` holds for the base class.
"""

from __future__ import annotations

import abc
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar

from automorph.symbolic import _registry
from automorph.symbolic._base import FieldUpdate
from automorph.symbolic._functor import _from_fields
from automorph.symbolic._keypath import KeyPath
from automorph.symbolic._object import Object, Schema
from automorph.symbolic._signature import call_args, function_signature, signature_schema
from automorph.utils import FieldValueError, SchemaError

_UNBUILT = object()

# Special methods a base class may define that Python looks up on the type,
# bypassing `__getattribute__`: the compound forwards them to the decomposed.
_FORWARDED = ("__call__", "__len__", "__iter__", "__getitem__", "__contains__")


class Compound(Object):
    """Base of the classes `am.compound` makes (see the module docstring).

    >>> import automorph as am
    >>> class Point:
    ...     def __init__(self, x: int, y: int) -> None:
    ...         self.x, self.y = x, y
    ...     def norm1(self) -> int:
    ...         return abs(self.x) + abs(self.y)
    >>> @am.compound
    ... def diagonal(v: int) -> Point:
    ...     return Point(v, v)
    >>> d = diagonal(3)
    >>> isinstance(d, Point), d.v, d.x, d.norm1()
    (True, 3, 3, 6)
    >>> d.rebind(v=-2).norm1()
    4
    """

    _sym_factory: ClassVar[Callable[..., Any]]
    _sym_lazy: ClassVar[bool] = True
    _sym_hooks = True

    @classmethod
    def _sym_build_schema(cls) -> Schema:
        if not hasattr(cls, "_sym_factory"):
            return Schema({}, {}, {})
        return signature_schema(
            cls._sym_factory, cls.__qualname__, strict=True, localns=cls._sym_localns
        )

    def _on_bound(self) -> None:
        # Deliberately not the base class's `_on_bound`: its state lives in `decomposed`.
        self.__dict__["_sym_decomposed"] = _UNBUILT
        if not type(self)._sym_lazy:
            self.decomposed  # noqa: B018 - builds it now

    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        self.__dict__["_sym_decomposed"] = _UNBUILT  # never kept past a change
        if not self.sym_abstract:
            self._on_bound()

    @property
    def decomposed(self) -> Any:
        """The object the factory makes from this compound's arguments.

        Raises:
            FieldValueError: If an argument holds a hyper-value (the compound
                is a search space; materialize it first).
        """
        state = self.__dict__
        built = state.get("_sym_decomposed", _UNBUILT)
        if built is _UNBUILT:
            cls = type(self)
            if self.sym_abstract:
                raise FieldValueError(
                    f"{cls.__name__} holds hyper-values (it is a search space): materialize "
                    "it before using the object it builds",
                    path=self.sym_path,
                )
            args, kwargs = call_args(cls._sym_factory, cls.sym_schema(), self._sym_args)
            built = state["_sym_decomposed"] = cls._sym_factory(*args, **kwargs)
        return built

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_") or name in _OWN:
            return object.__getattribute__(self, name)
        if name in object.__getattribute__(self, "_sym_args"):
            return object.__getattribute__(self, name)
        return getattr(object.__getattribute__(self, "decomposed"), name)

    @classmethod
    def _sym_from_fields(cls, fields: dict[str, Any]) -> Object:
        return _from_fields(cls, fields, partial=False)


# A base, never written to JSON itself (the classes `compound` makes are registered).
_registry.unregister(Compound._sym_type_name)


_OWN = frozenset(n for n in dir(Compound) if not n.startswith("_"))


def compound_class(
    factory: Callable[..., Any],
    base_class: type | None = None,
    *,
    lazy_build: bool = True,
    type_name: str | None = None,
) -> type:
    """The compound class of a factory function (see `compound`).

    Raises:
        SchemaError: If `factory` is not a function, or the base class is
            neither given nor the factory's return annotation.
    """
    if not isinstance(factory, types.FunctionType):
        raise SchemaError(
            f"`compound` applies to functions, got {type(factory).__name__} ({factory!r:.60})"
        )
    base = base_class if base_class is not None else _returned_class(factory)
    namespace: dict[str, Any] = {
        "_sym_factory": staticmethod(factory),
        "_sym_lazy": lazy_build,
        "__module__": factory.__module__,
        "__qualname__": factory.__qualname__,
        "__doc__": factory.__doc__,
        "__init__": Object.__init__,
        "__signature__": function_signature(factory).replace(
            return_annotation=inspect.Signature.empty
        ),
    }
    for name in _FORWARDED:
        if getattr(base, name, None) is not None and name not in vars(object):
            namespace[name] = _forward(name)
    bases = (Compound,) if base is object or issubclass(Compound, base) else (Compound, base)
    try:
        cls = types.new_class(
            factory.__name__, bases, {"type_name": type_name}, lambda ns: ns.update(namespace)
        )
    except TypeError as e:
        raise SchemaError(f"cannot make a compound class of {base.__qualname__}: {e}") from e
    # Abstract methods of the base are served by the decomposed object.
    for name in getattr(cls, "__abstractmethods__", ()):
        setattr(cls, name, None)
    abc.update_abstractmethods(cls)
    return cls


def compound(
    target: Any = None,
    /,
    base_class: type | None = None,
    *,
    lazy_build: bool = True,
    type_name: str | None = None,
) -> Any:
    """Makes a factory function a symbolic class: `@am.compound`.

    The class's fields are the factory's parameters (validated against their
    annotations); it subclasses `base_class`, by default the class named by
    the factory's return annotation. Use it bare (`@am.compound`), with the
    base class (`@am.compound(Base)`) or with options
    (`@am.compound(lazy_build=False)`).

    Args:
        target: The factory function, or the base class when used as
            `@am.compound(Base)`.
        base_class: The class the compound subclasses.
        lazy_build: Build the decomposed object when first used (True) or
            at construction and after every rebind (False).
        type_name: The name used in JSON; defaults to `module.qualname`.

    Raises:
        SchemaError: If the target is not a function, or the base class is
            neither given nor the factory's return annotation.
    """
    options = {"lazy_build": lazy_build, "type_name": type_name}
    if isinstance(target, type):
        return lambda fn: compound_class(fn, target, **options)  # type: ignore[arg-type]
    if target is None:
        return lambda fn: compound_class(fn, base_class, **options)  # type: ignore[arg-type]
    return compound_class(target, base_class, **options)  # type: ignore[arg-type]


def _returned_class(factory: Callable[..., Any]) -> type:
    try:
        returns = typing.get_type_hints(factory).get("return")
    except Exception:  # noqa: BLE001 - an unresolvable annotation names no class
        returns = None
    if not isinstance(returns, type):
        raise SchemaError(
            f"cannot tell which class the compound {factory.__qualname__!r} stands for: "
            "annotate the factory's return type with a class (`-> Model`) or pass "
            "`base_class=`"
        )
    return returns


def _forward(name: str) -> Callable[..., Any]:
    def forward(self: Compound, /, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.decomposed, name)(*args, **kwargs)

    forward.__name__ = name
    return forward
