"""Small helpers shared by every layer; imports nothing else from automorph."""

from __future__ import annotations

from automorph.utils._errors import (
    ArgumentOverrideError,
    AutomorphError,
    BenchmarkDataError,
    FeedbackError,
    FieldTypeError,
    FieldValueError,
    InvalidDNAError,
    KeyPathError,
    MissingFieldError,
    PathNotFoundError,
    RebindError,
    RegistrationError,
    SchemaError,
    SearchExhaustedError,
    SearchSpaceError,
    SerializationError,
    StorageError,
    StudyExistsError,
    StudyNotFoundError,
    TrialStateError,
    UnknownFieldError,
    UnknownTypeError,
)
from automorph.utils._missing import MISSING, MissingType
from automorph.utils._registry import Registry

__all__ = [
    "MISSING",
    "ArgumentOverrideError",
    "AutomorphError",
    "BenchmarkDataError",
    "FeedbackError",
    "FieldTypeError",
    "FieldValueError",
    "InvalidDNAError",
    "KeyPathError",
    "MissingFieldError",
    "MissingType",
    "PathNotFoundError",
    "RebindError",
    "RegistrationError",
    "Registry",
    "SchemaError",
    "SearchExhaustedError",
    "SearchSpaceError",
    "SerializationError",
    "StorageError",
    "StudyExistsError",
    "StudyNotFoundError",
    "TrialStateError",
    "UnknownFieldError",
    "UnknownTypeError",
]
