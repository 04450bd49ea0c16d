"""automorph: AutoML by symbolic programming.

A machine-learning program is a tree of symbolic Python objects that other
programs can inspect, copy, serialize and rewrite. The package is layered;
each layer imports only the layers above it in this drawing:

    automorph
    ├── utils           errors, the MISSING sentinel; imports nothing of automorph
    ├── symbolic        Object, List, Dict, symbolize, KeyPath, JSON, validation
    ├── geno            genotypes: DNASpec (decision points) and DNA
    ├── hyper           hyper-values (oneof, manyof, floatv, intv) -> DNASpec
    ├── algorithms      search algorithms: propose / feedback / recover
    ├── early_stopping  multi-fidelity stopping policies
    ├── storage         studies and trials (memory, SQLite, PostgreSQL)
    ├── tuning          the search loop: sample(), tune(), execution backends
    └── domain packages: grammar, zero, nn, benchmarks, viz, cli

`import automorph as am` is the one import path; `am.*` is the curated API.

>>> import automorph as am
>>> class Layer(am.Object):
...     units: int
...     activation: str = "relu"
>>> class Model(am.Object):
...     layers: list[Layer]
>>> model = Model([Layer(8), Layer(16)])
>>> model.rebind({"layers[1].units": 32}).layers[1]
Layer(units=32, activation='relu')
>>> am.from_json(model.to_json()) == model
True
"""

from __future__ import annotations

from automorph import (
    algorithms,
    early_stopping,
    grammar,  # domain package: grammar spaces, graph kernels, GraphBO
    storage,
    tuning,
)
from automorph.geno import DNA, DNASpec
from automorph.hyper import (
    DynamicSpace,
    custom,
    define_by_run,
    dna_spec,
    encode,
    floatv,
    intv,
    iterate,
    manyof,
    materialize,
    oneof,
    permutate,
    random_sample,
)
from automorph.symbolic import (
    Bounds,
    Compound,
    Dict,
    Diff,
    FieldUpdate,
    Functor,
    KeyPath,
    List,
    Object,
    Symbolic,
    clone,
    compound,
    compound_class,
    diff,
    from_json,
    from_json_str,
    load,
    query,
    save,
    sym_eq,
    sym_hash,
    sym_lt,
    symbolize,
    to_json,
    to_json_str,
)
from automorph.tuning import (
    Study,
    StudyResult,
    Trial,
    TrialsFailedError,
    importance,
    load_study,
    sample,
    tune,
)
from automorph.utils import (
    MISSING,
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

# The one source of the version: the wheel's metadata (pyproject.toml's
# [tool.hatch.version]) and `automorph --version` read it from here.
__version__ = "0.1.0"

__all__ = [
    "DNA",
    "MISSING",
    "AutomorphError",
    "BenchmarkDataError",
    "DNASpec",
    "DynamicSpace",
    "FeedbackError",
    "InvalidDNAError",
    "SearchExhaustedError",
    "SearchSpaceError",
    "ArgumentOverrideError",
    "Bounds",
    "Compound",
    "Dict",
    "Diff",
    "FieldTypeError",
    "FieldUpdate",
    "FieldValueError",
    "Functor",
    "KeyPath",
    "KeyPathError",
    "List",
    "MissingFieldError",
    "Object",
    "PathNotFoundError",
    "RebindError",
    "RegistrationError",
    "SchemaError",
    "SerializationError",
    "StorageError",
    "StudyExistsError",
    "StudyNotFoundError",
    "Study",
    "StudyResult",
    "Symbolic",
    "TrialStateError",
    "Trial",
    "TrialsFailedError",
    "UnknownFieldError",
    "UnknownTypeError",
    "WritePermissionError",
    "__version__",
    "algorithms",
    "grammar",
    "clone",
    "compound",
    "compound_class",
    "custom",
    "define_by_run",
    "diff",
    "dna_spec",
    "early_stopping",
    "encode",
    "floatv",
    "from_json",
    "from_json_str",
    "importance",
    "intv",
    "iterate",
    "load",
    "load_study",
    "manyof",
    "materialize",
    "oneof",
    "permutate",
    "query",
    "random_sample",
    "sample",
    "save",
    "storage",
    "sym_eq",
    "sym_hash",
    "sym_lt",
    "symbolize",
    "to_json",
    "to_json_str",
    "tuning",
    "tune",
]
