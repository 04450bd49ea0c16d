"""The automorph error hierarchy.

Every error automorph raises derives from `AutomorphError`. Errors about bad
values also derive from the built-in `TypeError` or `ValueError` a Python user
would expect, and carry the key path where the problem was found.
"""

from __future__ import annotations

import copy
from typing import Any


class AutomorphError(Exception):
    """Root of every error raised by automorph.

    Attributes:
        message: What went wrong, without the path.
        path: The key path (as a string) where the error was found, or `""`
            when it concerns the root value or no tree at all.

    >>> error = AutomorphError("value 0 is out of bounds [1, 8]", path="layers[2].units")
    >>> str(error)
    'value 0 is out of bounds [1, 8] at `layers[2].units`'
    """

    def __init__(self, message: str, *, path: Any = "") -> None:
        self.message = message
        self.path = str(path)
        super().__init__(self._compose())

    def _compose(self) -> str:
        return f"{self.message} at `{self.path}`" if self.path else self.message

    def __str__(self) -> str:
        # KeyError would quote the message; every automorph error reads plainly.
        return str(self.args[0]) if self.args else self.message

    def with_path(self, path: Any) -> AutomorphError:
        """A copy of this error that names `path` instead of its own path."""
        error = copy.copy(self)
        error.path = str(path)
        error.args = (error._compose(),)
        return error


class SchemaError(AutomorphError, TypeError):
    """A symbolic class declares its fields in a way automorph cannot use."""


class FieldTypeError(AutomorphError, TypeError):
    """A value has the wrong type for the field or container that holds it."""


class FieldValueError(AutomorphError, ValueError):
    """A value has the right type but breaks a rule (bounds, literal set)."""


class UnknownFieldError(AutomorphError, TypeError, KeyError):
    """A field name that the symbolic class does not declare.

    A `TypeError` (as an unknown keyword argument is) and, as PyGlove raises
    when `rebind` names an unknown key, a `KeyError`.
    """


class MissingFieldError(AutomorphError, TypeError, ValueError):
    """A required field was given no value.

    A `TypeError` (as a missing argument is) and, as PyGlove raises when a
    required field is rebound to `MISSING`, a `ValueError`.
    """


class WritePermissionError(AutomorphError):
    """A write to a sealed symbolic value (`seal()`); `seal(False)` unseals it."""


class KeyPathError(AutomorphError, ValueError, KeyError):
    """A key path string is malformed; the message quotes it and the position.

    A `ValueError` and, as PyGlove raises for a bad key path, a `KeyError`.
    """

    def _compose(self) -> str:
        return self.message


class RebindError(AutomorphError, TypeError, ValueError):
    """`rebind` was given something other than updates (a mapping of key paths
    to values, a function over the tree, or keyword arguments). It is a
    TypeError and, as PyGlove raises there, a ValueError."""


class ArgumentOverrideError(AutomorphError, TypeError):
    """A functor call gives a new value for an argument the functor already
    binds, without `override_args=True` (a silent override hides mistakes)."""


class PathNotFoundError(AutomorphError, KeyError, IndexError):
    """A well-formed key path that does not lead to a value in the tree.

    It is also a `KeyError` and an `IndexError`, as a missing dict key or list
    index would be.
    """


class RegistrationError(AutomorphError, ValueError):
    """Two different classes claim the same registered type name."""


class SerializationError(AutomorphError, ValueError):
    """A value cannot be written to JSON, or JSON cannot be read back."""


class UnknownTypeError(SerializationError):
    """JSON names a type that is not registered; nothing is imported."""


class SearchSpaceError(AutomorphError, ValueError):
    """A search space is ill-defined: no candidates, bounds the wrong way round,
    a decision name used twice."""


class InvalidDNAError(AutomorphError, ValueError):
    """A DNA does not fit its search space: a missing or unknown decision, a
    value out of range; the path names the decision id."""


class SearchExhaustedError(AutomorphError):
    """The algorithm has nothing left to propose (a grid walked to its end, a
    de-duplicating search over a finite space that has seen every point)."""


class FeedbackError(AutomorphError, ValueError):
    """Feedback an algorithm cannot take: a multi-objective reward given to a
    single-objective algorithm, or a DNA from another search space."""


class TrialStateError(FeedbackError):
    """Feedback a trial can no longer take: a reward, `done`, `skip` or `fail`
    for a trial that is already completed, skipped or failed."""


class StorageError(AutomorphError):
    """A store cannot be used: not an automorph store, a schema version this
    automorph does not know, a corrupt file, a missing driver. Nothing stored
    is changed when this is raised."""


class BenchmarkDataError(AutomorphError, ValueError):
    """A benchmark's data file is missing or malformed; the message names the
    file, and the line and column where reading failed (or every place looked)."""


class StudyNotFoundError(AutomorphError, LookupError):
    """No study of that name in the store."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.message


class StudyExistsError(AutomorphError, ValueError):
    """A study of that name already exists (and `exist_ok` was not given)."""
