"""JSON as stores keep it: the text they write, and the errors of values that
cannot be written or of stored text that cannot be read back.

A store keeps DNA, rewards, measurements and metadata as JSON text. Writing a
value JSON cannot hold (an object, a key that is not a string, an integer too
long for Python to print, a structure that contains itself or is nested too
deeply) is a `SerializationError`, raised before anything is written. Stored
text that cannot be read (a store changed outside automorph) is a
`StorageError` naming the study, the trial and the column.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from automorph.utils import SerializationError, StorageError


def _default(value: Any) -> Any:
    # numpy scalars and arrays (duck-typed: storage does not import numpy).
    if hasattr(value, "tolist"):
        return value.tolist()
    raise SerializationError(
        f"a value of type {type(value).__name__} ({_short(value)}) is not JSON"
    )


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails (a huge int) is not the error to show
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def why(error: BaseException) -> str:
    """What JSON's own error means, in words."""
    if isinstance(error, RecursionError):
        return "it is nested too deeply"
    text = str(error)
    if "integer string conversion" in text:
        limit = sys.get_int_max_str_digits()
        return f"it holds an integer of more than {limit} digits (longer than Python reads)"
    if "Circular reference" in text:
        return "it contains itself"
    if isinstance(error, SerializationError):
        return error.message
    return text


def dumps(value: Any, what: str = "the value") -> str:
    """`value` as compact JSON text.

    Raises:
        SerializationError: If JSON cannot hold it; the message names `what`.
    """
    try:
        return json.dumps(value, separators=(",", ":"), default=_default)
    except (TypeError, ValueError, RecursionError) as error:
        raise SerializationError(
            f"{what} cannot be stored as JSON: {why(error)}; stores keep DNA, rewards, "
            "measurements and metadata as JSON (None, bool, int, float, str, lists, "
            "dicts with str keys)"
        ) from None


def fresh(value: Any, what: str = "the value") -> Any:
    """The value as it reads back from a store (a fresh copy; tuples become lists).

    Raises:
        SerializationError: If JSON cannot hold it (naming `what`).
    """
    return None if value is None else json.loads(dumps(value, what))


def dumps_metadata(metadata: Mapping[str, Any], where: str) -> str:
    """A trial's metadata as JSON text.

    Raises:
        SerializationError: If an entry cannot be stored; the message names
            `where` and the entry, and the error's `path` is the entry's key.
    """
    try:
        return dumps(dict(metadata))
    except SerializationError as whole:
        for key, value in metadata.items():
            if type(key) is not str:
                raise SerializationError(
                    f"{where}: metadata keys must be str to be stored as JSON, got {key!r}",
                    path=str(key),
                ) from None
            try:
                dumps(value, f"metadata {key!r}")
            except SerializationError as error:
                raise SerializationError(f"{where}: {error.message}", path=key) from None
        raise SerializationError(f"{where}: {whole.message}") from None


def unreadable(study: str, trial_id: int | None, column: str, error: BaseException) -> StorageError:
    """The error for stored text that does not read back as JSON."""
    which = f"trial {trial_id} of study {study!r}" if trial_id is not None else f"study {study!r}"
    return StorageError(
        f"the stored {column} of {which} cannot be read: {why(error)}; the store was changed "
        "outside automorph or is damaged (restore it from a backup, or delete the study)"
    )


def loads(text: str, study: str, trial_id: int | None, column: str) -> Any:
    """Reads one stored JSON text.

    Raises:
        StorageError: If it is not JSON Python can read, naming where it is.
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise unreadable(study, trial_id, column, error) from None


def loads_rows(
    texts: Sequence[str], study: str, where: Callable[[], Iterable[tuple[int, str]]]
) -> list[Any]:
    """Reads many stored JSON texts in one call of the C decoder (most of the
    time of reading 50,000 trials would otherwise go to per-call overhead);
    `where()` gives the (trial id, column) of each text, when one fails.

    Raises:
        StorageError: Naming the first text that does not read back.
    """
    if not texts:
        return []
    try:
        values = json.loads("[" + ",".join(texts) + "]")
    except (ValueError, RecursionError):
        values = None
    if isinstance(values, list) and len(values) == len(texts):
        return values
    for text, (trial_id, column) in zip(texts, where(), strict=True):
        loads(text, study, trial_id, column)
    # Every text reads on its own, but not together: one holds several values.
    raise StorageError(f"the stored trials of study {study!r} cannot be read: a value is not JSON")
