"""JSON for symbolic trees: `to_json`, `from_json`, `save`, `load`.

The JSON form of a value is made of JSON's own types. Python values JSON has
no type for are written as one-key objects with a reserved key:

- a symbolic object: `{"_type": "<registered name>", "<field>": ..., ...}`
- a tuple: `{"_tuple": [...]}`
- a non-finite float: `{"_float": "nan" | "inf" | "-inf"}`
- a registered symbolic class: `{"_class": "<registered name>"}`
- a dict that has a reserved key: `{"_dict": {...}}`

Reading JSON constructs only registered symbolic types (looked up by name,
never imported) and validates every field, so JSON from an untrusted source
cannot run code; every problem is an automorph error naming the key path.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from automorph.symbolic import _registry
from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._object import Object
from automorph.symbolic._ops import without_defaults
from automorph.symbolic._spec import ANY, ROOT
from automorph.utils import MISSING, AutomorphError, SerializationError

_RESERVED = frozenset({"_type", "_tuple", "_float", "_dict", "_class"})
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class _Fail(Exception):
    """Carries a failure up the recursion, collecting the key path on the way."""

    def __init__(self, error: AutomorphError, inner: str = "") -> None:
        super().__init__(error.message)
        self.error = error
        self.inner = inner  # the path the error names inside the failing object
        self.keys: list[Key] = []

    def raise_with_path(self) -> None:
        path = str(KeyPath(reversed(self.keys)))
        if self.inner:
            sep = "" if not path or self.inner.startswith("[") else "."
            path = f"{path}{sep}{self.inner}"
        raise self.error.with_path(path) from None


def to_json(value: Any, hide_default_values: bool = False) -> Any:
    """The JSON-compatible form of `value` (see the module docstring).

    With `hide_default_values`, object fields that hold their default are
    left out (reading the JSON back fills them in again).

    Raises:
        SerializationError: If the tree holds a value JSON cannot represent,
            naming its key path.

    >>> import automorph as am
    >>> am.to_json(am.Dict(shape=(3, 3), rate=float("inf")))
    {'shape': {'_tuple': [3, 3]}, 'rate': {'_float': 'inf'}}
    """
    if hide_default_values:
        value = without_defaults(value)
    try:
        return _to(value)
    except _Fail as fail:
        fail.raise_with_path()
    except RecursionError:
        raise SerializationError("the value is nested too deeply to write as JSON") from None


def _to(value: Any) -> Any:
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if math.isfinite(value):
            return value
        return {"_float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, dict):
        # Checked before the items, so the error names the dict, not the key.
        for k in value:
            if type(k) is not str:
                raise _Fail(
                    SerializationError(
                        f"dict keys must be str to write JSON, got {type(k).__name__} ({k!r})"
                    )
                )
    key: Key = ""
    try:
        if isinstance(value, Object):
            out: dict[str, Any] = {"_type": type(value)._sym_type_name}
            for key, item in value._sym_args.items():
                if item is not MISSING:
                    out[key] = _to(item)
            return out
        if isinstance(value, list):
            result = []
            for key, item in enumerate(value):  # noqa: B007
                result.append(_to(item))
            return result
        if isinstance(value, dict):
            plain: dict[str, Any] = {}
            for key, item in value.items():
                plain[key] = _to(item)  # type: ignore[index] # keys checked above
            return {"_dict": plain} if not _RESERVED.isdisjoint(plain) else plain
        if isinstance(value, tuple):
            items = []
            for key, item in enumerate(value):  # noqa: B007
                items.append(_to(item))
            return {"_tuple": items}
    except _Fail as fail:
        fail.keys.append(key)
        raise
    if isinstance(value, type) and issubclass(value, Object):
        return {"_class": value._sym_type_name}
    if t in _PLAIN_TYPES:  # a registered non-symbolic type (a DNA)
        return _to_plain_type(value)
    raise _Fail(
        SerializationError(
            f"cannot write a {t.__module__}.{t.__qualname__} to JSON: only None, bool, int, "
            "float, str, lists, dicts, tuples and registered symbolic objects can be written"
        )
    )


_PLAIN_TYPES: set[type] = set()


def register_json_type(cls: type, name: str) -> None:
    """Lets values of `cls`, a class that is not symbolic, be written and read
    like symbolic objects (`{"_type": name, <field>: ...}`).

    `cls` gives `_sym_json_fields(self) -> dict` (its fields, any JSON-able
    values) and the classmethod `_sym_from_fields(fields) -> instance`, which
    checks what it is given; the type is looked up by `name` only.
    """
    _registry.register(cls, name)
    _PLAIN_TYPES.add(cls)


def _to_plain_type(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"_type": type(value)._sym_type_name}
    for key, item in value._sym_json_fields().items():
        try:
            out[key] = _to(item)
        except _Fail as fail:
            fail.keys.append(key)
            raise
    return out


def from_json(value: Any) -> Any:
    """Builds the value that `to_json` wrote; never mutates `value`.

    Raises:
        SerializationError: If `value` is not valid automorph JSON.
        UnknownTypeError: If it names a type that is not registered.
        FieldTypeError, FieldValueError, UnknownFieldError, MissingFieldError:
            If an object's fields do not validate. Every error names the path.

    >>> import automorph as am
    >>> am.from_json({"_tuple": [1, {"_float": "-inf"}]})
    (1, -inf)
    """
    try:
        return ANY.apply(_from(value), ROOT, None)  # top-level lists, dicts -> am.List, am.Dict
    except _Fail as fail:
        fail.raise_with_path()
    except RecursionError:
        raise SerializationError("the JSON is nested too deeply to read") from None


def _from(value: Any) -> Any:
    t = type(value)
    if t is str or t is int or t is bool or t is float or value is None:
        return value
    if isinstance(value, list):
        # Plain lists and dicts here: the field that receives one converts it
        # with its own item spec and adopts its nodes (no copies are made);
        # `from_json` converts what is left at the top.
        return [_child(item, i) for i, item in enumerate(value)]
    if not isinstance(value, dict) or isinstance(value, Object):
        raise _Fail(
            SerializationError(
                f"not a JSON value: {t.__module__}.{t.__qualname__} ({_short(value)})"
            )
        )
    if "_type" in value:
        return _object_from(value)
    if len(value) == 1:
        ((marker, body),) = value.items()
        if marker in _RESERVED:
            return _marker_from(marker, body)
    elif not _RESERVED.isdisjoint(value):
        raise _Fail(
            SerializationError(
                f"a reserved key ({', '.join(sorted(_RESERVED & set(value)))}) must be alone "
                "in its JSON object"
            )
        )
    return _dict_from(value)


def _child(value: Any, key: Key) -> Any:
    try:
        return _from(value)
    except _Fail as fail:
        fail.keys.append(key)
        raise


def _dict_from(value: dict[Any, Any]) -> dict[str, Any]:
    items: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            raise _Fail(
                SerializationError(
                    f"JSON object keys must be str, got {type(key).__name__} ({key!r})"
                )
            )
        items[key] = _child(item, key)
    return items


def _marker_from(marker: str, body: Any) -> Any:
    if marker == "_tuple":
        if not isinstance(body, list):
            raise _Fail(SerializationError(f"`_tuple` must hold a list, got {_short(body)}"))
        return tuple(_child(item, i) for i, item in enumerate(body))
    if marker == "_float":
        if type(body) is not str or body not in _NONFINITE:
            raise _Fail(
                SerializationError(f"`_float` must be 'nan', 'inf' or '-inf', got {_short(body)}")
            )
        return _NONFINITE[body]
    if marker == "_dict":
        if not isinstance(body, dict) or isinstance(body, Object):
            raise _Fail(SerializationError(f"`_dict` must hold an object, got {_short(body)}"))
        return _dict_from(body)
    if type(body) is not str:  # "_class"
        raise _Fail(SerializationError(f"`_class` must hold a type name, got {_short(body)}"))
    try:
        return _registry.lookup(body)
    except AutomorphError as e:
        raise _Fail(e) from None


def _object_from(value: dict[Any, Any]) -> Any:
    name = value["_type"]
    if type(name) is not str:
        raise _Fail(SerializationError(f"`_type` must be a type name (str), got {_short(name)}"))
    try:
        cls = _registry.lookup(name)
    except AutomorphError as e:
        raise _Fail(e) from None
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if key == "_type":
            continue
        if type(key) is not str:
            raise _Fail(
                SerializationError(
                    f"JSON object keys must be str, got {type(key).__name__} ({key!r})"
                )
            )
        fields[key] = _child(item, key)
    try:
        return cls._sym_from_fields(fields)  # type: ignore[attr-defined]
    except AutomorphError as e:
        raise _Fail(e, e.path) from None
    except Exception as e:
        raise _Fail(
            SerializationError(f"constructing {name!r} from JSON failed: {type(e).__name__}: {e}")
        ) from e


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_json_str(value: Any, indent: int | None = None) -> str:
    """`value` as JSON text.

    Raises:
        SerializationError: As `to_json` does; also for an integer longer
            than Python writes as text (`sys.get_int_max_str_digits()`).
    """
    data = to_json(value)
    try:
        return json.dumps(data, indent=indent, allow_nan=False)
    except ValueError as e:  # to_json has checked everything else
        raise SerializationError(f"cannot write JSON: {_why(e)}") from None
    except RecursionError:
        raise SerializationError("the value is nested too deeply to write as JSON") from None


def _why(error: ValueError) -> str:
    text = str(error)
    if "integer string conversion" in text:
        return (
            f"an integer has more than {sys.get_int_max_str_digits()} digits, "
            "longer than Python reads or writes as text"
        )
    return text


def from_json_str(text: str | bytes) -> Any:
    """Builds a value from JSON text written by `to_json_str` or `save`.

    Raises:
        SerializationError: If the text is not JSON, naming line and column.
    """
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise SerializationError(
            f"malformed JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from None
    except (UnicodeDecodeError, TypeError) as e:
        raise SerializationError(f"malformed JSON: {e}") from None
    except ValueError as e:  # an integer too long to read
        raise SerializationError(f"cannot read JSON: {_why(e)}") from None
    except RecursionError:
        raise SerializationError("the JSON is nested too deeply to read") from None
    return from_json(data)


def _reject_constant(name: str) -> Any:
    raise SerializationError(
        f'malformed JSON: {name} is not JSON; automorph writes {{"_float": ...}}'
    )


def save(value: Any, path: str | os.PathLike[str]) -> None:
    """Writes `value` as JSON to `path`.

    The write is atomic: the text goes to a temporary file beside `path`,
    which is flushed to disk and then renamed over `path`, so a failed save
    (an unserializable value, a full disk) leaves any existing file as it was.
    An existing file keeps its permissions.
    """
    text = to_json_str(value, indent=2)
    target = Path(path)
    if target.exists():
        mode = target.stat().st_mode & 0o7777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path: str | os.PathLike[str]) -> Any:
    """Reads a value saved by `save`.

    Raises:
        SerializationError: If the file is not valid automorph JSON; the
            message names the file.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SerializationError(f"{os.fspath(path)}: not UTF-8 text: {e}") from None
    try:
        return from_json_str(text)
    except AutomorphError as e:
        e.message = f"{os.fspath(path)}: {e.message}"
        e.args = (e._compose(),)
        raise
