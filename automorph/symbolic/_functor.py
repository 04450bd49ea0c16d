"""`am.symbolize`: symbolic functions (functors) and symbolic third-party classes."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, cast, overload

from automorph.symbolic import _registry
from automorph.symbolic._object import Object, Schema, _prefixed
from automorph.symbolic._spec import DictSpec, ListSpec, ValueSpec, compile_annotation
from automorph.utils import (
    MISSING,
    AutomorphError,
    MissingFieldError,
    SchemaError,
    UnknownFieldError,
)

T = TypeVar("T")


def _signature_schema(
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


def _call_args(
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


def _from_fields(cls: type[Object], fields: dict[str, Any], partial: bool) -> Object:
    """An instance of `cls` from values given by field name (as JSON holds them).

    Unlike a call, this does not route names through the signature, so the
    fields that collect `*args` and `**kwargs` are set as the lists and dicts
    they are, not taken as extra keyword arguments.
    """
    schema = cls.sym_schema()
    try:
        for name in fields:
            if name not in schema.specs:
                raise UnknownFieldError(
                    f"no field {name!r}; the fields are: {', '.join(schema.names)}", path=name
                )
        stored = cls._sym_validate(schema, fields, partial=partial)
    except AutomorphError as e:
        raise _prefixed(e, cls.__name__) from None
    return cls._sym_trusted(stored)


class Functor(Object):
    """A symbolic function call: arguments are bound now (and can be inspected
    and rebound), and the function runs when the functor is called.

    Create functors with `@am.symbolize` on a function.

    >>> import automorph as am
    >>> @am.symbolize
    ... def scale(x: float, factor: float = 2.0) -> float:
    ...     return x * factor
    >>> f = scale.partial(factor=3.0)
    >>> f
    scale(factor=3.0)
    >>> f(x=2.0)
    6.0
    >>> scale(1.5)()
    3.0
    """

    _sym_fn: ClassVar[Callable[..., Any]]

    @classmethod
    def _sym_build_schema(cls) -> Schema:
        if not hasattr(cls, "_sym_fn"):
            return Schema({}, {}, {})
        return _signature_schema(
            cls._sym_fn, cls.__qualname__, strict=True, localns=cls._sym_localns
        )

    @classmethod
    def partial(cls, /, *args: Any, **kwargs: Any) -> Functor:
        """A functor with some arguments bound and others left for the call."""
        schema = cls.sym_schema()
        try:
            values = schema.bind(cls.__name__, args, kwargs)
            stored = cls._sym_validate(schema, values, partial=True)
        except AutomorphError as e:
            raise _prefixed(e, cls.__name__) from None
        obj = cls.__new__(cls)
        obj._sym_init(stored)
        return obj

    @classmethod
    def _sym_from_fields(cls, fields: dict[str, Any]) -> Object:
        return _from_fields(cls, fields, partial=True)

    @property
    def unbound(self) -> list[str]:
        """Names of the arguments that have no value yet."""
        return [k for k, v in self._sym_args.items() if v is MISSING]

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        """Calls the function with the bound arguments.

        Positional `args` fill the unbound arguments in order; keyword `kwargs`
        fill or (for this call only) override arguments by name.
        """
        cls = type(self)
        schema = cls.sym_schema()
        values = dict(self._sym_args)
        free = [n for n in schema.positional if values.get(n, MISSING) is MISSING]
        try:
            if len(args) > len(free):
                raise MissingFieldError(
                    f"got {len(args)} positional arguments but only {len(free)} "
                    f"unbound: {', '.join(free) or 'none'}"
                )
            call = dict(zip(free, args, strict=False))
            call.update(kwargs)
            for name, value in schema.bind(cls.__name__, (), call).items():
                values[name] = schema.specs[name].apply(value, self.sym_path, name)
            missing = [n for n, v in values.items() if v is MISSING]
            if missing:
                raise MissingFieldError(
                    f"missing a value for {', '.join(repr(m) for m in missing)}",
                    path=self.sym_path,
                )
        except AutomorphError as e:
            raise _prefixed(e, cls.__name__) from None
        call_args, call_kwargs = _call_args(cls._sym_fn, schema, values)
        return cls._sym_fn(*call_args, **call_kwargs)


class ClassWrapper(Object):
    """A symbolic subclass of a class automorph did not define.

    Instances are real instances of the wrapped class (constructed by its own
    `__init__`) whose constructor arguments are also symbolic fields: they
    can be inspected, rebound (which constructs the object again with the new
    arguments), cloned and written to JSON. Create one with `am.symbolize(cls)`.

    Where the wrapped class has a public method of the same name as one of
    automorph's (`format`, `query`, ...), the wrapped class's method wins.
    Classes that construct themselves in `__new__` (immutable types such as
    `fractions.Fraction`) cannot be constructed again, and are refused.

    >>> import automorph as am
    >>> import logging
    >>> SymFormatter = am.symbolize(logging.Formatter)
    >>> formatter = SymFormatter("%(message)s")
    >>> isinstance(formatter, logging.Formatter)
    True
    >>> record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO"})
    >>> formatter.rebind(fmt="[%(levelname)s] %(message)s").format(record)
    '[INFO] hello'
    >>> formatter.sym_init_args["fmt"]
    '[%(levelname)s] %(message)s'
    """

    _sym_wrapped: ClassVar[type]
    _sym_mirror: ClassVar[bool] = False
    _sym_hooks = True

    @classmethod
    def _sym_build_schema(cls) -> Schema:
        if not hasattr(cls, "_sym_wrapped") or cls._sym_wrapped.__init__ is object.__init__:  # type: ignore[misc]
            # No constructor of its own: no arguments (not object's *args, **kwargs).
            return Schema({}, {}, {})
        return _signature_schema(
            cls._sym_wrapped.__init__,  # type: ignore[misc]
            cls.__qualname__,
            strict=False,
            skip_self=True,
        )

    def _on_bound(self) -> None:
        # Construct the wrapped object (again, after a change): drop the state
        # the last construction and later use left behind, such as fitted
        # attributes, then run the wrapped `__init__` with the arguments.
        state = self.__dict__
        for name in [n for n in state if not n.startswith("_sym_")]:
            del state[name]
        cls = type(self)
        init = cls._sym_wrapped.__init__  # type: ignore[misc]
        args, kwargs = _call_args(init, cls.sym_schema(), self._sym_args)
        init(self, *args, **kwargs)

    @classmethod
    def _sym_from_fields(cls, fields: dict[str, Any]) -> Object:
        return _from_fields(cls, fields, partial=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_wrapper, (type(self)._sym_type_name, dict(self._sym_args)))


# The two bases are not types JSON may name: they have no function or class.
_registry.unregister(Functor._sym_type_name)
_registry.unregister(ClassWrapper._sym_type_name)


def _restore_wrapper(name: str, args: dict[str, Any]) -> Object:
    return _registry.lookup(name)._sym_trusted(args)  # type: ignore[attr-defined,no-any-return]


F = TypeVar("F", bound=Callable[..., Any])


@overload
def symbolize(  # type: ignore[overload-overlap]  # a class is also a callable
    target: type[T], *, type_name: str | None = ..., symbolic_eq: bool = ...
) -> type[T]: ...
@overload
def symbolize(
    target: Callable[..., Any], *, type_name: str | None = ..., symbolic_eq: bool = ...
) -> type[Functor]: ...
@overload
def symbolize(
    target: None = ..., *, type_name: str | None = ..., symbolic_eq: bool = ...
) -> Callable[[Any], Any]: ...


def symbolize(target: Any = None, *, type_name: str | None = None, symbolic_eq: bool = True) -> Any:
    """Makes a function or an existing class symbolic, without editing it.

    On a function, returns a `Functor` class named after it: calling it binds
    arguments (validated against the function's annotations) and returns a
    functor; calling the functor runs the function.

    On a class, returns a symbolic subclass whose instances are real instances
    of the class and whose constructor arguments are symbolic fields.

    Args:
        target: The function or class. Leave it out to use
            `@am.symbolize(type_name=...)` as a decorator with options.
        type_name: The name used in JSON; defaults to `module.qualname`.
        symbolic_eq: For classes: whether `==` and `hash` compare the
            symbolic arguments (True) or keep the class's own behaviour
            (False; needed for classes used as identity-keyed objects, such as
            `torch.nn.Module`). `am.sym_eq` always compares arguments.

    >>> import automorph as am
    >>> from collections import OrderedDict
    >>> SymOrderedDict = am.symbolize(OrderedDict)
    >>> od = SymOrderedDict([("a", 1)])
    >>> isinstance(od, OrderedDict), list(od.items())
    (True, [('a', 1)])
    """
    if target is None:
        return lambda t: symbolize(t, type_name=type_name, symbolic_eq=symbolic_eq)
    key = (target, type_name, symbolic_eq)
    if isinstance(target, type) or callable(target):
        made = _MADE.get(key)
        if made is not None:  # symbolize is idempotent: one symbolic class per target
            return made
    if isinstance(target, type):
        if issubclass(target, Object):
            return target
        made = _MADE[key] = _wrap_class(target, type_name, symbolic_eq)
        return made
    if isinstance(target, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        if target.__name__ == "<lambda>" and type_name is None:
            raise SchemaError(
                "symbolize needs a `type_name` for a lambda: all lambdas share the name "
                "'<lambda>', so JSON could not tell them apart"
            )
        made = _MADE[key] = _functor_class(target, type_name)
        return made
    raise SchemaError(
        f"symbolize takes a function or a class, got {type(target).__name__} ({target!r})"
    )


# (target, type_name, symbolic_eq) -> the symbolic class made for it.
_MADE: dict[tuple[Any, str | None, bool], Any] = {}


def _functor_class(fn: Callable[..., Any], type_name: str | None) -> type[Functor]:
    namespace = {
        "_sym_fn": staticmethod(fn),
        "__module__": fn.__module__,
        "__qualname__": fn.__qualname__,
        "__doc__": fn.__doc__,
        "__wrapped__": fn,
    }
    cls = types.new_class(
        fn.__name__, (Functor,), {"type_name": type_name}, lambda ns: ns.update(namespace)
    )
    return cast(type[Functor], cls)


def _wrap_class(target: type, type_name: str | None, symbolic_eq: bool) -> type:
    builtin: dict[str, Any] = dict(vars(object))
    own_init = getattr(target, "__init__", None) is not builtin["__init__"]
    if not own_init and getattr(target, "__new__", None) is not builtin["__new__"]:
        raise SchemaError(
            f"cannot make {target.__qualname__} symbolic: it is constructed in `__new__` "
            "(an immutable type), so it cannot be constructed again when rebound"
        )
    namespace: dict[str, Any] = {
        "_sym_wrapped": target,
        "__module__": target.__module__,
        "__qualname__": target.__qualname__,
        "__doc__": target.__doc__,
        "__setattr__": target.__setattr__,
        "__delattr__": target.__delattr__,
    }
    if not symbolic_eq:
        namespace["__eq__"] = target.__eq__
        namespace["__ne__"] = target.__ne__
        namespace["__hash__"] = target.__hash__

    def __init__(self: Any, /, *args: Any, **kwargs: Any) -> None:
        Object.__init__(self, *args, **kwargs)

    try:  # Show the wrapped signature to code that reads it (scikit-learn does).
        signature = inspect.signature(target.__init__)  # type: ignore[misc]
        if not own_init:
            signature = signature.replace(parameters=list(signature.parameters.values())[:1])
        __init__.__signature__ = signature  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        pass
    namespace["__init__"] = __init__
    # Where the wrapped class defines a public method that automorph also
    # defines, the wrapped class's method wins (it is what its users call).
    for name in dir(ClassWrapper):
        if not name.startswith("_") and name in dir(target):
            namespace[name] = getattr(target, name)
    try:
        return types.new_class(
            target.__name__,
            (ClassWrapper, target),
            {"type_name": type_name},
            lambda ns: ns.update(namespace),
        )
    except TypeError as e:
        raise SchemaError(f"cannot make {target.__qualname__} symbolic: {e}") from e
