"""Small helpers shared by every layer; imports nothing else from automorph."""

from __future__ import annotations

from automorph.utils._errors import (
    AutomorphError,
    FieldTypeError,
    FieldValueError,
    KeyPathError,
    MissingFieldError,
    PathNotFoundError,
    RegistrationError,
    SchemaError,
    SerializationError,
    UnknownFieldError,
    UnknownTypeError,
)
from automorph.utils._missing import MISSING, MissingType

__all__ = [
    "MISSING",
    "AutomorphError",
    "FieldTypeError",
    "FieldValueError",
    "KeyPathError",
    "MissingFieldError",
    "MissingType",
    "PathNotFoundError",
    "RegistrationError",
    "SchemaError",
    "SerializationError",
    "UnknownFieldError",
    "UnknownTypeError",
]
