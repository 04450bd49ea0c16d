"""`am.Object`: symbolic classes whose fields are declared as annotations."""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
import types
import typing
from collections.abc import Iterator
from typing import Any, ClassVar, cast, dataclass_transform

from automorph.symbolic import _registry
from automorph.symbolic._base import (
    ATOMIC,
    FLAGS,
    FieldUpdate,
    Symbolic,
    clone_value,
    sym_eq,
    sym_hash,
    values_equal,
)
from automorph.symbolic._format import _FormatContext, format_block, format_value
from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._ops import without_defaults
from automorph.symbolic._spec import (
    ROOT,
    CustomTyping,
    ValueSpec,
    compile_annotation,
    may_adopt,
)
from automorph.symbolic._txn import Transaction
from automorph.utils import (
    MISSING,
    AutomorphError,
    FieldValueError,
    MissingFieldError,
    PathNotFoundError,
    SchemaError,
    UnknownFieldError,
)


class Schema:
    """The compiled fields of a symbolic class.

    Attributes:
        names: Field names in declaration order (base classes first).
        specs: The `ValueSpec` of each field.
        defaults: The default of each field, or `MISSING` if it is required.
        positional: Field names that may be given positionally, in order.
        varargs: The field that collects extra positional arguments, if any.
        varkw: The field that collects extra keyword arguments, if any.
        frozen: `typing.Final` fields, by name, with their (fixed) values.
        open: The spec of extra keyword fields (a `__kwargs__` annotation),
            or None if the class takes no fields beyond its declared ones.

    >>> import automorph as am
    >>> class Opt(am.Object):
    ...     lr: float
    ...     momentum: float = 0.9
    >>> schema = Opt.sym_schema()
    >>> schema.names, schema.defaults["momentum"], schema.specs["lr"].describe()
    (('lr', 'momentum'), 0.9, 'float')
    """

    __slots__ = (
        "adopts",
        "annotations",
        "defaults",
        "frozen",
        "names",
        "open",
        "positional",
        "specs",
        "varargs",
        "varkw",
    )

    def __init__(
        self,
        specs: dict[str, ValueSpec],
        defaults: dict[str, Any],
        annotations: dict[str, Any],
        positional: tuple[str, ...] | None = None,
        varargs: str | None = None,
        varkw: str | None = None,
        frozen: dict[str, Any] | None = None,
        open: ValueSpec | None = None,  # noqa: A002 - the schema is open or not
    ) -> None:
        self.names = tuple(specs)
        self.specs = specs
        self.defaults = defaults
        self.annotations = annotations
        self.positional = self.names if positional is None else positional
        self.varargs = varargs
        self.varkw = varkw
        self.frozen = frozen or {}
        self.open = open
        # Whether validation may build containers that adopt given nodes (and so
        # needs a Transaction to undo that if it fails).
        self.adopts = any(may_adopt(spec) for spec in specs.values())

    def bind(self, owner: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Maps call arguments to field names, as Python binds a signature."""
        values: dict[str, Any] = {}
        positional = self.positional
        if len(args) > len(positional):
            if self.varargs is None:
                raise UnknownFieldError(
                    f"takes {len(positional)} positional arguments but {len(args)} were given"
                )
            values[self.varargs] = list(args[len(positional) :])
            args = args[: len(positional)]
        for name, value in zip(positional, args, strict=False):
            values[name] = value
        extra: dict[str, Any] = {}
        specs = self.specs
        for name, value in kwargs.items():
            if name not in specs or name == self.varargs or name == self.varkw:
                if self.varkw is not None:
                    extra[name] = value
                    continue
                if self.open is not None and name not in specs:
                    values[name] = value  # an extra keyword field, validated later
                    continue
                if name in self.frozen:
                    raise _frozen(name)
                raise UnknownFieldError(
                    f"no field {name!r}; the fields are: {', '.join(self.names)}",
                    path=name,
                )
            if name in values:
                raise UnknownFieldError(f"got multiple values for {name!r}", path=name)
            values[name] = value
        if extra:
            values[self.varkw] = extra  # type: ignore[index]
        return values


def _own_annotations(klass: type) -> dict[str, Any]:
    """The annotations `klass` itself declares, unevaluated (strings stay strings)."""
    return dict(inspect.get_annotations(klass))


_SKIP_FILES = (os.path.dirname(__file__), types.__file__)


def defining_namespace(cls_module: str) -> dict[str, Any]:
    """Names visible where a class or function is being defined, beyond its module.

    Annotations are resolved in the defining module; a class defined inside a
    function (or a doctest) may also name classes local to that scope, so we
    keep a snapshot of that scope. Frames of automorph itself, of `types`
    and of `__init_subclass__` chains are skipped.
    """
    frame = sys._getframe(1)
    while frame is not None and (
        frame.f_code.co_name == "__init_subclass__"
        or frame.f_code.co_filename.startswith(_SKIP_FILES)
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return {}
    module = sys.modules.get(cls_module)
    names: dict[str, Any] = {}
    if module is None or frame.f_globals is not vars(module):
        names.update(frame.f_globals)
    if frame.f_locals is not frame.f_globals:
        names.update(frame.f_locals)
    return names


def _resolve_hints(cls: type) -> dict[str, Any]:
    """Resolved public annotations of `cls` and its bases, each in its own module."""
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        own = {n: a for n, a in _own_annotations(klass).items() if not n.startswith("_")}
        if not own:
            continue
        module = sys.modules.get(klass.__module__)
        carrier = type("_Annotations", (), {"__annotations__": own})
        try:
            hints.update(
                typing.get_type_hints(
                    carrier,
                    globalns=vars(module) if module else {},
                    localns={
                        **getattr(klass, "_sym_localns", {}),
                        cls.__name__: cls,
                        klass.__name__: klass,
                    },
                    include_extras=True,
                )
            )
        except NameError as e:
            raise SchemaError(
                f"cannot resolve the annotations of {cls.__qualname__}: {e}; a class named "
                "in an annotation must be defined at module level (or written without quotes)"
            ) from e
    return hints


def _is_class_var(annotation: Any) -> bool:
    return annotation is ClassVar or typing.get_origin(annotation) is ClassVar


def _is_final(annotation: Any) -> bool:
    return annotation is typing.Final or typing.get_origin(annotation) is typing.Final


def _frozen(name: str) -> FieldValueError:
    return FieldValueError(
        f"field {name!r} is declared typing.Final: it keeps its default and cannot be "
        "given or rebound",
        path=name,
    )


def _open_spec(cls: type) -> ValueSpec | None:
    """The spec of extra keyword fields, from a `__kwargs__` annotation in `cls` or a base."""
    for klass in cls.__mro__:
        own = _own_annotations(klass)
        if "__kwargs__" not in own:
            continue
        module = sys.modules.get(klass.__module__)
        carrier = type("_Annotations", (), {"__annotations__": {"kw": own["__kwargs__"]}})
        try:
            hint = typing.get_type_hints(
                carrier,
                globalns=vars(module) if module else {},
                localns={**getattr(klass, "_sym_localns", {}), klass.__name__: klass},
                include_extras=True,
            )["kw"]
        except NameError as e:
            raise SchemaError(f"cannot resolve `__kwargs__` of {cls.__qualname__}: {e}") from e
        return compile_annotation(hint, strict=True, where=f"{cls.__qualname__}.__kwargs__")
    return None


def build_schema(cls: type) -> Schema:
    """Compiles the annotated fields of `cls` and its symbolic bases."""
    hints = _resolve_hints(cls)
    names: list[str] = []
    keyword_only: set[str] = set()
    for klass in reversed(cls.__mro__):
        after_marker = False
        for name, annotation in _own_annotations(klass).items():
            if _is_kw_only_marker(annotation):
                after_marker = True  # dataclasses' `_: KW_ONLY`
            elif name not in names and not name.startswith("_") and name in hints:
                if not _is_class_var(hints[name]):
                    names.append(name)
                    if after_marker:
                        keyword_only.add(name)
    specs: dict[str, ValueSpec] = {}
    defaults: dict[str, Any] = {}
    frozen: dict[str, Any] = {}
    for name in [n for n in names if _is_final(hints[n])]:
        names.remove(name)
        frozen[name] = getattr(cls, name, MISSING)
        if frozen[name] is MISSING:
            raise SchemaError(
                f"field `{cls.__qualname__}.{name}` is declared typing.Final but has no "
                "default; give it its fixed value (`name: Final[int] = 1`)"
            )
    for name in names:
        where = f"{cls.__qualname__}.{name}"
        if name in _RESERVED:
            raise SchemaError(
                f"field `{where}` clashes with the method or property `{name}` of "
                "am.Object; rename the field"
            )
        spec = compile_annotation(hints[name], strict=True, where=where)
        default = getattr(cls, name, MISSING)
        if isinstance(default, (types.FunctionType, property, classmethod, staticmethod)):
            raise SchemaError(f"field `{where}` clashes with a method of the same name")
        if default is not MISSING:
            try:
                default = spec.apply(default, ROOT, name)
            except AutomorphError as e:
                raise SchemaError(f"the default of `{where}` is invalid: {e}") from e
        specs[name] = spec
        defaults[name] = default
    positional = tuple(n for n in names if n not in keyword_only)
    return Schema(
        specs,
        defaults,
        {n: hints[n] for n in names},
        positional,
        frozen=frozen,
        open=_open_spec(cls),
    )


def _is_kw_only_marker(annotation: Any) -> bool:
    if annotation is dataclasses.KW_ONLY:
        return True
    return isinstance(annotation, str) and annotation.rsplit(".", 1)[-1] == "KW_ONLY"


def fresh_default(value: Any) -> Any:
    """A per-instance copy of a default value (symbolic defaults are cloned)."""
    if type(value) in ATOMIC or value is MISSING:
        return value
    return clone_value(value, False, {})


@dataclass_transform()
class Object(Symbolic):
    """Base class of symbolic classes; fields are declared as annotations.

    Fields may be given positionally (in declaration order) or by name;
    fields declared after a `_: dataclasses.KW_ONLY` marker only by name.
    Values are validated against the annotations at construction and on
    every change; lists and dicts become `am.List` and `am.Dict`.

    Subclasses may keep derived state in attributes whose names start with
    `_`, computed in `_on_bound`, which runs after construction and after
    every change to the object or anything under it.

    >>> import automorph as am
    >>> from typing import Annotated
    >>> class Conv(am.Object):
    ...     filters: Annotated[int, am.Bounds(1, 1024)]
    ...     kernel: int = 3
    >>> conv = Conv(32)
    >>> conv
    Conv(filters=32, kernel=3)
    >>> conv.rebind(kernel=5).kernel
    5
    >>> Conv(0)
    Traceback (most recent call last):
      ...
    automorph.utils._errors.FieldValueError: Conv: value 0 is out of bounds [1, 1024] at `filters`
    """

    _sym_schema: ClassVar[Schema | None] = None
    _sym_localns: ClassVar[dict[str, Any]] = {}
    _sym_type_name: ClassVar[str] = "automorph.Object"
    _sym_mirror: ClassVar[bool] = True
    # Set on instances made by `partial` (and by `seal`); read on write paths only.
    _sym_allow_partial: ClassVar[bool] = False
    _sym_sealed: ClassVar[bool] = False

    _sym_parent: Symbolic | None
    _sym_key: Key | None
    _sym_args: dict[str, Any]

    def __init_subclass__(cls, *, type_name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._sym_schema = None
        cls._sym_localns = defining_namespace(cls.__module__)
        cls._sym_type_name = type_name or f"{cls.__module__}.{cls.__qualname__}"
        cls._sym_hooks = cls._sym_hooks or (
            cls._on_bound is not Object._on_bound or cls._on_change is not Object._on_change
        )
        cls._sym_moves = cls._sym_moves or (
            cls._on_parent_change is not Symbolic._on_parent_change
            or cls._on_path_change is not Symbolic._on_path_change
        )
        if cls._sym_moves:
            FLAGS.moves = True
        try:
            cls._sym_schema = cls._sym_build_schema()
        except SchemaError as e:
            if not isinstance(e.__cause__, NameError):
                raise  # A class whose fields are wrong is never registered.
            # Otherwise defer: an annotation may name a class defined later.
        _registry.register(cls, cls._sym_type_name)

    @classmethod
    def _sym_build_schema(cls) -> Schema:
        return build_schema(cls)

    @classmethod
    def sym_schema(cls) -> Schema:
        """The compiled fields of this class."""
        schema = cls._sym_schema
        if schema is None:
            schema = cls._sym_schema = cls._sym_build_schema()
        return schema

    def __init__(self, /, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        schema = cls._sym_schema or cls.sym_schema()
        try:
            values = schema.bind(cls.__name__, args, kwargs)
            if schema.adopts:
                with Transaction():
                    stored = self._sym_validate(schema, values, partial=False)
            else:
                stored = self._sym_validate(schema, values, partial=False)
        except AutomorphError as e:
            raise _prefixed(e, cls.__name__) from None
        self._sym_init(stored)

    @staticmethod
    def _sym_validate(schema: Schema, values: dict[str, Any], partial: bool) -> dict[str, Any]:
        specs = schema.specs
        stored: dict[str, Any] = {}
        for name in schema.names:
            value = values.get(name, MISSING)
            if value is MISSING:
                value = schema.defaults[name]
                if value is MISSING:
                    if name == schema.varargs or name == schema.varkw:
                        # An empty am.List / am.Dict, like the one a value would give.
                        stored[name] = specs[name].apply(
                            [] if name == schema.varargs else {}, ROOT, name
                        )
                        continue
                    if not partial:
                        raise MissingFieldError(
                            f"missing a value for {name!r} (`.partial(...)` makes an "
                            "object that may lack required values until they are rebound)",
                            path=name,
                        )
                    else:
                        stored[name] = MISSING
                        continue
                value = fresh_default(value)
            else:
                value = specs[name].apply(value, ROOT, name)
            stored[name] = value
        if schema.open is not None:
            for name, value in values.items():
                if name not in specs:
                    _check_extra_name(name)
                    if value is not MISSING:
                        stored[name] = schema.open.apply(value, ROOT, name)
        return stored

    def _sym_init(self, stored: dict[str, Any]) -> None:
        """Installs validated field values; links children; runs `_on_bound`."""
        d = self.__dict__
        d["_sym_parent"] = None
        d["_sym_key"] = None
        d["_sym_args"] = stored
        for name, value in stored.items():
            if isinstance(value, Symbolic):
                stored[name] = self._sym_adopt(name, value)
        if self._sym_mirror:
            d.update(stored)
        if self._sym_hooks and (isinstance(self, CustomTyping) or not self.sym_abstract):
            self._on_bound()

    @classmethod
    def partial(cls, /, *args: Any, **kwargs: Any) -> Object:
        """An instance that may lack values for required fields (a partial object).

        The missing fields hold `MISSING`; `sym_partial` is true and
        `missing_values()` lists them until each is rebound. A partial
        object's `_on_bound` does not run (as for a search space), and its
        required fields may be rebound to `MISSING` again.

        >>> import automorph as am
        >>> class Opt(am.Object):
        ...     lr: float
        ...     momentum: float = 0.9
        >>> opt = Opt.partial(momentum=0.5)
        >>> opt.sym_partial, opt.missing_values()
        (True, {'lr': MISSING})
        >>> opt.rebind(lr=0.1).sym_partial
        False
        """
        schema = cls._sym_schema or cls.sym_schema()
        try:
            values = schema.bind(cls.__name__, args, kwargs)
            with Transaction():
                stored = cls._sym_validate(schema, values, partial=True)
        except AutomorphError as e:
            raise _prefixed(e, cls.__name__) from None
        obj = cls.__new__(cls)
        obj.__dict__["_sym_allow_partial"] = True
        obj._sym_init(stored)
        return obj

    @classmethod
    def _sym_from_fields(cls, fields: dict[str, Any]) -> Object:
        """An instance from field values read from JSON (validated)."""
        return cls(**fields)

    @classmethod
    def _sym_trusted(cls, stored: dict[str, Any]) -> Object:
        """An instance from already validated values (clone, JSON, pickle)."""
        obj = cls.__new__(cls)
        obj._sym_init(stored)
        return obj

    # --- hooks -------------------------------------------------------------

    def _on_bound(self) -> None:
        """Recomputes derived state; runs after construction and every change."""

    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        """Called after this object or a value under it changed; calls `_on_bound`
        (unless the object is abstract, see `sym_abstract`)."""
        if isinstance(self, CustomTyping) or not self.sym_abstract:
            self._on_bound()

    @property
    def sym_abstract(self) -> bool:
        """Whether a hyper-value (a decision) stands anywhere under this object.

        An abstract object is a search space, not a program: `_on_bound` (and,
        for symbolized classes, the wrapped constructor) does not run until it
        is materialized, so derived state never sees a hyper-value. A partial
        object (a required value `MISSING`, see `partial`) is abstract too.
        """
        return any(_holds_decision(v) for v in self._sym_args.values())

    # --- attribute access ----------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._sym_check_field(name)
            self._apply_updates([(KeyPath._trusted((name,)), value)], True)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
            return
        self._sym_check_field(name)
        if name not in type(self).sym_schema().specs:  # an extra keyword field
            self._apply_updates([(KeyPath._trusted((name,)), MISSING)], True)
            return
        raise UnknownFieldError(
            f"cannot delete field {name!r} of {type(self).__name__}; "
            "rebind it to am.MISSING to reset it to its default",
            path=self.sym_path.child(name),
        )

    def _sym_check_field(self, name: str) -> None:
        schema = type(self).sym_schema()
        if name not in schema.specs:
            if name in schema.frozen:
                raise _frozen(name).with_path(self.sym_path.child(name))
            if schema.open is not None:
                return
            raise UnknownFieldError(
                f"{type(self).__name__} has no field {name!r}; its fields are: "
                f"{', '.join(schema.names)}",
                path=self.sym_path.child(name),
            )

    # --- Symbolic ----------------------------------------------------------

    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        return iter(self._sym_args.items())

    @property
    def sym_init_args(self) -> dict[str, Any]:
        """The field values, by name (a copy)."""
        return dict(self._sym_args)

    def sym_get(self, key: Key, where: KeyPath | None = None) -> Any:
        args = self._sym_args
        if type(key) is str and key in args:
            return args[key]
        where = self.sym_path if where is None else where
        raise PathNotFoundError(
            f"{type(self).__name__} has no field {key!r}; its fields are: {', '.join(args)}",
            path=where.child(key),
        )

    def _sym_peek(self, key: Key) -> Any:
        return self._sym_args.get(key, MISSING)  # type: ignore[arg-type]

    def _sym_spec_for(self, key: Key, where: KeyPath) -> ValueSpec:
        schema = type(self).sym_schema()
        spec = schema.specs.get(key)  # type: ignore[arg-type]
        if spec is None and schema.open is not None and type(key) is str:
            try:
                _check_extra_name(key)
            except AutomorphError as e:
                raise e.with_path(where) from None
            return schema.open
        if spec is None:
            if key in schema.frozen:
                raise _frozen(key).with_path(where)
            raise UnknownFieldError(
                f"{type(self).__name__} has no field {key!r}; its fields are: "
                f"{', '.join(self._sym_args)}",
                path=where,
            )
        return spec

    def _sym_store(self, key: Key, value: Any) -> None:
        name = cast(str, key)  # an object's keys are field names
        self._sym_args[name] = value
        if self._sym_mirror:
            self.__dict__[name] = value

    def _sym_missing(self, key: Key, where: KeyPath) -> Any:
        schema = type(self).sym_schema()
        if key not in schema.specs:  # an extra keyword field: removed
            if key not in self._sym_args:
                raise PathNotFoundError(
                    f"{type(self).__name__} has no field {key!r} to remove", path=where
                )
            return MISSING
        default = schema.defaults[key]
        if default is MISSING:
            if self._sym_allow_partial or any(v is MISSING for v in self._sym_args.values()):
                return MISSING  # a partial object: the field is left without a value
            raise MissingFieldError(
                f"field {key!r} of {type(self).__name__} has no default to reset to "
                f"(only a partial object, from {type(self).__name__}.partial(...), may "
                "lack a required value)",
                path=where,
            )
        return fresh_default(default)

    def _sym_remove(self, key: Key) -> None:
        name = cast(str, key)
        if name in type(self).sym_schema().specs:
            self._sym_store(name, MISSING)  # a required field of a partial object
            return
        del self._sym_args[name]
        if self._sym_mirror:
            self.__dict__.pop(name, None)

    def _sym_default(self, key: Key) -> Any:
        return type(self).sym_schema().defaults.get(key, MISSING)  # type: ignore[arg-type]

    def _sym_without_defaults(self) -> Object:
        defaults = type(self).sym_schema().defaults
        return type(self)._sym_trusted(
            {
                k: MISSING
                if v is not MISSING and sym_eq(v, defaults.get(k, MISSING))
                else without_defaults(v)
                for k, v in self._sym_args.items()
            }
        )

    def _sym_clone(self, deep: bool, memo: dict[int, Any]) -> Object:
        return type(self)._sym_trusted(
            {k: clone_value(v, deep, memo) for k, v in self._sym_args.items()}
        )

    def _sym_format(self, ctx: _FormatContext, indent: int) -> str:
        defaults = type(self).sym_schema().defaults
        parts = []
        for name, value in self._sym_args.items():
            if value is MISSING:
                continue
            if ctx.hide_defaults and _same(value, defaults.get(name, MISSING)):
                continue
            parts.append(f"{name}={format_value(value, ctx, indent + 1)}")
        return format_block(f"{type(self).__name__}(", ")", parts, ctx, indent)

    # --- equality, hashing, pickling --------------------------------------

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return False
        try:
            return bool(self._sym_args == other._sym_args)
        except (ValueError, TypeError):
            # A leaf whose `==` gives no bool (a numpy array): compare field by field.
            return values_equal(self._sym_args, other._sym_args)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        try:
            return hash((type(self), *self._sym_args.values()))
        except TypeError:
            # An unhashable leaf (a numpy array): the hash `sym_eq` agrees with.
            return sym_hash(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), dict(self._sym_args)))


def _check_extra_name(name: str) -> None:
    """Refuses extra keyword field names that would hide a method or be private."""
    if name.startswith("_") or name in _RESERVED:
        raise UnknownFieldError(
            f"{name!r} cannot be an extra keyword field: it is private or names a method "
            "of am.Object",
            path=name,
        )


def _holds_decision(value: Any) -> bool:
    if value is MISSING or isinstance(value, CustomTyping):
        return True
    if isinstance(value, Symbolic):
        return any(_holds_decision(v) for _, v in value.sym_items())
    if isinstance(value, tuple):
        return any(_holds_decision(v) for v in value)
    return False


def _restore(cls: type[Object], args: dict[str, Any]) -> Object:
    return cls._sym_trusted(args)


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - values whose == is not a bool
        return False


def _prefixed(error: AutomorphError, owner: str) -> AutomorphError:
    """The same error with the owning class named at the front of its message."""
    new = error.with_path(error.path)
    new.message = f"{owner}: {error.message}"
    new.args = (new._compose(),)
    return new


_RESERVED = frozenset(n for n in dir(Object) if not n.startswith("__"))
