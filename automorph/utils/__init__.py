"""Small helpers shared by every layer; imports nothing else from automorph.

Errors, the type registry, and the data resolver: `find_data` / `load_data`
find the image data sets (Fashion-MNIST, projected CIFAR-10) for `nn`, `zero`,
the examples and the benchmarks, and `build_cifar10_projected` makes the
projected CIFAR-10 file from the official release.
"""

from __future__ import annotations

from automorph.utils._cifar import (
    CIFAR10_DIMS,
    PROJECTION_SHA256,
    build_cifar10_projected,
    cifar10_projection,
    read_cifar10_python,
)
from automorph.utils._data import (
    DATA_ENV,
    DATASETS,
    DEBIAN_FASHION_MNIST,
    DataNotFoundError,
    DatasetInfo,
    data_help,
    data_locations,
    find_data,
    load_data,
    read_idx,
    user_data_dir,
)
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
    WritePermissionError,
)
from automorph.utils._gc import gc_paused
from automorph.utils._missing import MISSING, MissingType
from automorph.utils._registry import Registry

__all__ = [
    "gc_paused",
    "CIFAR10_DIMS",
    "DATASETS",
    "DATA_ENV",
    "DEBIAN_FASHION_MNIST",
    "MISSING",
    "PROJECTION_SHA256",
    "ArgumentOverrideError",
    "AutomorphError",
    "BenchmarkDataError",
    "DataNotFoundError",
    "DatasetInfo",
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
    "WritePermissionError",
    "build_cifar10_projected",
    "cifar10_projection",
    "data_help",
    "data_locations",
    "find_data",
    "load_data",
    "read_cifar10_python",
    "read_idx",
    "user_data_dir",
]
