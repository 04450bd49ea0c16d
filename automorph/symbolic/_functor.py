"""`am.symbolize`: symbolic functions (functors) and symbolic third-party classes."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, cast, overload

from automorph.symbolic import _registry
from automorph.symbolic._base import FieldUpdate, Symbolic, sym_eq
from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._object import (
    Object,
    Schema,
    _prefixed,
    build_schema,
    fresh_default,
)
from automorph.symbolic._signature import (
    call_args,
    check_return,
    function_signature,
    return_spec,
    signature_schema,
)
from automorph.symbolic._spec import ROOT, DictSpec, ValueSpec
from automorph.utils import (
    MISSING,
    ArgumentOverrideError,
    AutomorphError,
    MissingFieldError,
    SchemaError,
    UnknownFieldError,
)

T = TypeVar("T")


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


class _SignatureOf:
    """`__signature__` of functor classes and functors: on the class, the
    constructor's; on a functor, what a call accepts (see `Functor`)."""

    def __get__(self, obj: Functor | None, owner: type[Functor]) -> inspect.Signature:
        if obj is None:
            return owner._sym_class_signature()
        return obj._sym_call_signature()


class Functor(Object):
    """A symbolic function call: arguments are bound now (and can be inspected
    and rebound), and the function runs when the functor is called.

    Create functors with `@am.symbolize` on a function, or subclass
    `am.Functor`, declare the arguments as fields and write the body in
    `_call(self)`, which reads them as attributes.

    A call fills the unbound arguments: positional values fill them in
    order, keyword values by name. A keyword value for an argument the
    functor binds explicitly (one of `specified_args`) is an
    `ArgumentOverrideError` unless the call passes `override_args=True`;
    then it overrides it for that call only. `ignore_extra_args=True` drops
    keywords the function does not take. Arguments collected by `**kwargs`
    are attributes of the functor (`f.d`) and are rebound by name
    (`f.rebind(d=1)`); `rebind(a=am.MISSING)` unbinds `a` (back to its
    default, or unbound). The return value is checked against the
    function's return annotation. `inspect.signature` of a functor class is
    the function's; of a functor, what a call still accepts.

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
    >>> f.specified_args, f.unbound_args
    ({'factor'}, {'x'})
    >>> f(2.0, factor=1.0, override_args=True)
    2.0
    >>> class Affine(am.Functor):
    ...     weight: float
    ...     bias: float = 0.0
    ...     def _call(self) -> float:
    ...         return self.weight * 2 + self.bias
    >>> Affine(1.5)(), Affine(1.5)(bias=1.0)
    (3.0, 4.0)
    """

    _sym_fn: ClassVar[Callable[..., Any]]
    _sym_returns: ClassVar[ValueSpec | None] = None
    __signature__: ClassVar[Any] = _SignatureOf()

    @classmethod
    def _sym_build_schema(cls) -> Schema:
        if hasattr(cls, "_sym_fn"):
            fn = cls._sym_fn
            schema = signature_schema(fn, cls.__qualname__, strict=True, localns=cls._sym_localns)
        elif getattr(cls._call, "__qualname__", "") != "Functor._call":
            fn = cls._call
            _check_call_body(cls)
            schema = build_schema(cls)
        else:
            return Schema({}, {}, {})
        cls._sym_returns = return_spec(fn, cls._sym_localns)
        return schema

    def __init__(self, /, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = type(self).sym_schema()
        given = set(schema.positional[: len(args)])
        if len(args) > len(schema.positional) and schema.varargs is not None:
            given.add(schema.varargs)
        for name in kwargs:
            given.add(name if _is_named(schema, name) else cast(str, schema.varkw))
        self.__dict__["_sym_specified"] = given

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
        obj.__dict__["_sym_specified"] = set(values)
        return obj

    @classmethod
    def _sym_from_fields(cls, fields: dict[str, Any]) -> Object:
        return _from_fields(cls, fields, partial=True)

    def _call(self) -> Any:
        """The body of a `Functor` subclass: reads its arguments as attributes."""
        raise NotImplementedError(f"{type(self).__name__} must implement `_call`")

    # --- which arguments are bound ---------------------------------------------

    def _sym_specified_set(self) -> set[str]:
        """Field names bound explicitly (by construction, `partial` or rebind).

        A functor read from JSON or a pickle counts the arguments whose values
        differ from their defaults.
        """
        specified = self.__dict__.get("_sym_specified")
        if specified is None:
            defaults = type(self).sym_schema().defaults
            specified = {
                name
                for name, value in self._sym_args.items()
                if value is not MISSING and not _is_default(value, defaults[name])
            }
            self.__dict__["_sym_specified"] = specified
        return specified

    def _sym_named_args(self) -> dict[str, Any]:
        """Argument values by argument name: `**kwargs` items by their own names."""
        varkw = type(self).sym_schema().varkw
        named = {k: v for k, v in self._sym_args.items() if k != varkw}
        if varkw is not None:
            named.update(self._sym_args[varkw])
        return named

    @property
    def specified_args(self) -> set[str]:
        """Names of the arguments given explicitly (`**kwargs` items by name)."""
        schema = type(self).sym_schema()
        names = {n for n in self._sym_specified_set() if n != schema.varkw}
        if schema.varkw is not None:
            names.update(self._sym_args[schema.varkw])
        return names

    @property
    def non_default_args(self) -> set[str]:
        """Names of the bound arguments whose values are not their defaults."""
        schema = type(self).sym_schema()
        names = {
            name
            for name, value in self._sym_args.items()
            if name != schema.varkw
            and value is not MISSING
            and not _is_default(value, schema.defaults[name])
        }
        if schema.varkw is not None:
            names.update(self._sym_args[schema.varkw])  # no defaults: all given
        return names

    @property
    def default_args(self) -> set[str]:
        """Names of the arguments whose values are their defaults."""
        schema = type(self).sym_schema()
        return {
            name
            for name, value in self._sym_args.items()
            if name != schema.varkw
            and (schema.defaults[name] is not MISSING or name == schema.varargs)
            and _is_default(value, schema.defaults[name])
        }

    @property
    def bound_args(self) -> set[str]:
        """Names of the arguments that have a value (given or default)."""
        return {n for n, v in self._sym_named_args().items() if v is not MISSING}

    @property
    def unbound_args(self) -> set[str]:
        """Names of the arguments that have no value yet."""
        return set(self.unbound)

    @property
    def unbound(self) -> list[str]:
        """Names of the arguments that have no value yet, in order."""
        return [k for k, v in self._sym_args.items() if v is MISSING]

    # --- rebind, attributes -----------------------------------------------------

    def _sym_store(self, key: Key, value: Any) -> None:
        super()._sym_store(key, value)
        self._sym_specified_set().add(cast(str, key))

    def _sym_missing(self, key: Key, where: KeyPath) -> Any:
        return MISSING  # unbind: `_sym_remove` resets the argument

    def _sym_remove(self, key: Key) -> None:
        name = cast(str, key)
        schema = type(self).sym_schema()
        value = schema.defaults[name]
        if name == schema.varargs or name == schema.varkw:
            value = schema.specs[name].apply([] if name == schema.varargs else {}, ROOT, name)
        elif value is not MISSING:
            value = fresh_default(value)
        if isinstance(value, Symbolic):
            value = self._sym_adopt(name, value)
        Object._sym_store(self, name, value)
        self._sym_specified_set().discard(name)

    def rebind(
        self,
        updates: Mapping[str | KeyPath, Any]
        | Callable[[KeyPath, Any, Symbolic], Any]
        | None = None,
        /,
        *,
        notify: bool = True,
        **kwargs: Any,
    ) -> Functor:
        """`Symbolic.rebind`; names collected by `**kwargs` may be rebound directly
        (`f.rebind(d=1)` for `f.kwargs["d"]`), and `am.MISSING` unbinds."""
        schema = type(self).sym_schema()
        if schema.varkw is not None:
            moved: dict[str | KeyPath, Any] = {}
            for name in [n for n in kwargs if n not in schema.specs]:
                moved[KeyPath._trusted((schema.varkw, name))] = kwargs.pop(name)
            if isinstance(updates, Mapping):
                for key, value in updates.items():
                    path = KeyPath.parse(key) if isinstance(key, str) else key
                    head = path.keys[0] if path.keys else None
                    if isinstance(head, str) and head not in schema.specs:
                        path = KeyPath._trusted((schema.varkw, *path.keys))
                    moved[path] = value
            elif moved and updates is not None:
                super().rebind(updates, notify=notify)
            if moved:
                updates = moved
        return super().rebind(updates, notify=notify, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: arguments collected by **kwargs.
        args = self.__dict__.get("_sym_args")
        varkw = type(self).sym_schema().varkw if args is not None else None
        if varkw is not None and not name.startswith("_") and name in args[varkw]:  # type: ignore[index]
            return args[varkw][name]  # type: ignore[index]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            schema = type(self).sym_schema()
            if schema.varkw is not None and name not in schema.specs:
                self.rebind({KeyPath._trusted((schema.varkw, name)): value})
                return
        super().__setattr__(name, value)

    # --- copies ------------------------------------------------------------------

    def _sym_clone(self, deep: bool, memo: dict[int, Any]) -> Functor:
        other = cast(Functor, super()._sym_clone(deep, memo))
        other.__dict__["_sym_specified"] = set(self._sym_specified_set())
        return other

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_functor, (type(self), dict(self._sym_args), self._sym_specified_set()))

    # --- call ------------------------------------------------------------------

    def __call__(
        self,
        /,
        *args: Any,
        override_args: bool = False,
        ignore_extra_args: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Calls the function with the bound arguments (see the class docstring).

        Raises:
            ArgumentOverrideError: If a keyword gives a new value to an argument
                bound explicitly, without `override_args=True`.
            MissingFieldError: If an argument is left without a value.
            FieldTypeError, FieldValueError: If a value, or the return value,
                does not match its annotation.
        """
        cls = type(self)
        schema = cls.sym_schema()
        try:
            values = self._sym_call_values(schema, args, kwargs, override_args, ignore_extra_args)
        except AutomorphError as e:
            raise _prefixed(e, cls.__name__) from None
        if hasattr(cls, "_sym_fn"):
            fn_args, fn_kwargs = call_args(cls._sym_fn, schema, values)
            result = cls._sym_fn(*fn_args, **fn_kwargs)
        elif args or kwargs:
            # Run the body on a view of this functor with the call's values.
            view = cls.__new__(cls)
            view.__dict__.update(self.__dict__)
            view.__dict__["_sym_args"] = values
            view.__dict__.update(values)
            result = view._call()
        else:
            result = self._call()
        if cls._sym_returns is not None:
            check_return(cls._sym_returns, result, cls.__name__)
        return result

    def _sym_call_values(
        self,
        schema: Schema,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        override_args: bool,
        ignore_extra_args: bool,
    ) -> dict[str, Any]:
        """The argument values of a call: the bound ones, updated by the call's."""
        values = dict(self._sym_args)
        free = [n for n in schema.positional if values.get(n, MISSING) is MISSING]
        if len(args) > len(free):
            raise MissingFieldError(
                f"got {len(args)} positional arguments but only {len(free)} "
                f"unbound: {', '.join(free) or 'none'}"
            )
        call = dict(zip(free, args, strict=False))
        if kwargs:
            checked = self._sym_checked_keywords(schema, kwargs, override_args, ignore_extra_args)
            call.update(checked)
        for name, value in schema.bind(type(self).__name__, (), call).items():
            if name == schema.varkw:
                item = cast(DictSpec, schema.specs[name]).value
                extra = {k: item.apply(v, self.sym_path.child(name), k) for k, v in value.items()}
                values[name] = {**values[name], **extra}
            else:
                values[name] = schema.specs[name].apply(value, self.sym_path, name)
        missing = [n for n, v in values.items() if v is MISSING]
        if missing:
            raise MissingFieldError(
                f"missing a value for {', '.join(repr(m) for m in missing)}",
                path=self.sym_path,
            )
        return values

    def _sym_checked_keywords(
        self, schema: Schema, kwargs: dict[str, Any], override_args: bool, ignore_extra_args: bool
    ) -> dict[str, Any]:
        """The call's keywords, refusing silent overrides of bound arguments."""
        specified = self._sym_specified_set()
        extra = self._sym_args[schema.varkw] if schema.varkw is not None else {}
        out: dict[str, Any] = {}
        for name, value in kwargs.items():
            where = self.sym_path.child(name)
            if _is_named(schema, name):
                bound, old = name in specified, self._sym_args[name]
            elif schema.varkw is not None:
                bound, old = name in extra, extra.get(name, MISSING)
                where = self.sym_path.child(schema.varkw).child(name)
            elif ignore_extra_args:
                continue
            else:
                bound, old = False, MISSING
            if bound and not override_args:
                raise ArgumentOverrideError(
                    f"the call gives {name!r} the value {value!r}, but the functor binds it "
                    f"to {old!r}; pass override_args=True to override it for this call, "
                    "or rebind it",
                    path=where,
                )
            out[name] = value
        return out

    # --- signatures --------------------------------------------------------------

    @classmethod
    def _sym_class_signature(cls) -> inspect.Signature:
        """The constructor's signature: the function's parameters (or the fields)."""
        if hasattr(cls, "_sym_fn"):
            return function_signature(cls._sym_fn).replace(
                return_annotation=inspect.Signature.empty
            )
        schema = cls.sym_schema()
        params = []
        for name in schema.names:
            kind = (
                inspect.Parameter.POSITIONAL_OR_KEYWORD
                if name in schema.positional
                else inspect.Parameter.KEYWORD_ONLY
            )
            default = schema.defaults[name]
            params.append(
                inspect.Parameter(
                    name,
                    kind,
                    default=inspect.Parameter.empty if default is MISSING else default,
                    annotation=schema.annotations.get(name, inspect.Parameter.empty),
                )
            )
        return inspect.Signature(params, __validate_parameters__=False)

    def _sym_call_signature(self) -> inspect.Signature:
        """What a call accepts: the unbound arguments (positional where the
        function's are), then the bound ones by keyword with their values."""
        cls = type(self)
        base = cls._sym_class_signature()
        positional: list[inspect.Parameter] = []
        keyword: list[inspect.Parameter] = []
        varkw: list[inspect.Parameter] = []
        for p in base.parameters.values():
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                continue
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                varkw.append(p)
                continue
            value = self._sym_args.get(p.name, MISSING)
            if value is MISSING:
                target = keyword if p.kind is inspect.Parameter.KEYWORD_ONLY else positional
                target.append(p.replace(default=inspect.Parameter.empty))
            else:
                keyword.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, default=value))
        for option in ("override_args", "ignore_extra_args"):
            keyword.append(
                inspect.Parameter(
                    option, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=bool
                )
            )
        returns = cls._sym_returns_annotation()
        return inspect.Signature(
            [*positional, *keyword, *varkw],
            return_annotation=returns,
            __validate_parameters__=False,
        )

    @classmethod
    def _sym_returns_annotation(cls) -> Any:
        fn = cls._sym_fn if hasattr(cls, "_sym_fn") else cls._call
        try:
            return function_signature(fn).return_annotation
        except (TypeError, ValueError):
            return inspect.Signature.empty


def _is_named(schema: Schema, name: str) -> bool:
    """Whether `name` is one of the function's own named parameters."""
    return name in schema.specs and name != schema.varargs and name != schema.varkw


def _is_default(value: Any, default: Any) -> bool:
    if default is MISSING:
        return isinstance(value, (list, dict)) and not value  # empty *args / **kwargs
    return sym_eq(value, default)


def _check_call_body(cls: type) -> None:
    params = list(inspect.signature(cls._call).parameters)  # type: ignore[attr-defined]
    if len(params) != 1:
        raise SchemaError(
            f"`{cls.__qualname__}._call` must take no arguments besides `self` (it takes "
            f"{', '.join(params[1:])}); declare them as fields of the class, and a call "
            "fills or overrides them"
        )


def _restore_functor(cls: type[Functor], args: dict[str, Any], specified: set[str]) -> Object:
    obj = cls._sym_trusted(args)
    obj.__dict__["_sym_specified"] = set(specified)
    return obj


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
        return signature_schema(
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
        args, kwargs = call_args(init, cls.sym_schema(), self._sym_args)
        init(self, *args, **kwargs)

    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        if self.sym_abstract:
            # Now a search space: the object built from the old arguments is
            # gone, not kept as if it still matched them.
            state = self.__dict__
            for name in [n for n in state if not n.startswith("_sym_")]:
                del state[name]
        else:
            self._on_bound()

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


def symbolize(
    target: Any = None, *, type_name: str | None = None, symbolic_eq: bool = False
) -> Any:
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
            symbolic arguments (True) or keep the class's own `__eq__` and
            `__hash__` (False, the default, as PyGlove does: a class whose
            instances compare by identity, such as `torch.nn.Module`, keeps
            doing so). `am.sym_eq` and `am.sym_hash` always compare arguments.

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
