"""PyTorch integration: searchable modules, supernets for weight sharing.

Needs the `torch` extra (`pip install 'automorph[torch]'`). A search space
is an ordinary tree of searchable modules with hyper-values in it;
`am.materialize` turns a DNA into a plain `torch.nn.Module`. The same space
builds a `Supernet` for weight-sharing search: paths sampled by any
automorph algorithm (ENAS) or a continuous relaxation (DARTS).
`darts_space` is the DARTS cell space (NAS-Bench-301's), with its genotypes;
`darts_search` searches it on a `DartsSupernet` (first or second order), on
any `device`.
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
except ImportError as _e:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "automorph.nn needs PyTorch: install the `torch` extra (pip install 'automorph[torch]')"
    ) from _e

from automorph.nn._cells import Cell, Network, cell_space
from automorph.nn._darts import (
    DARTS_OPS,
    NB301_OPS,
    AuxiliaryHead,
    DartsCell,
    DartsNetwork,
    DilConv,
    FactorizedReduce,
    Genotype,
    GenotypeError,
    ReLUConvBN,
    SepConv2x,
    canonical_genotype,
    check_genotype,
    darts_network,
    darts_op,
    darts_space,
    drop_path,
    genotype_from_dna,
    genotype_to_dna,
    nb301_decode,
    nb301_encode,
    parse_genotype,
)
from automorph.nn._data import (
    DataShapeError,
    ImageData,
    check_images,
    fashion_mnist_splits,
    load_fashion_mnist,
)
from automorph.nn._instance import (
    InstanceController,
    InstanceResult,
    evaluate_fixed,
    evaluate_instance,
    instance_search,
    path_flops,
)
from automorph.nn._meta import (
    Learner,
    MetaCell,
    hand_designed_learner,
    maml_evaluate,
    maml_train,
    meta_cell_space,
    sinusoid_tasks,
)
from automorph.nn._modules import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    ConvBNReLU,
    Dropout,
    Flatten,
    Identity,
    Linear,
    MaxPool2d,
    ModuleError,
    Pool,
    ReLU,
    SepConv,
    Sequential,
    Zero,
    cell_ops,
    searchable,
)
from automorph.nn._search import (
    SearchResult,
    architecture_gradient,
    darts_search,
    enas_search,
    independent_search,
    resolve_device,
    search,
)
from automorph.nn._supernet import DartsSupernet, MixedOp, Supernet
from automorph.nn._train import Progress, evaluate, fit

__all__ = [
    "DARTS_OPS",
    "NB301_OPS",
    "DartsCell",
    "DartsNetwork",
    "DilConv",
    "FactorizedReduce",
    "Genotype",
    "GenotypeError",
    "ReLUConvBN",
    "SepConv2x",
    "canonical_genotype",
    "check_genotype",
    "darts_network",
    "darts_op",
    "darts_space",
    "genotype_from_dna",
    "genotype_to_dna",
    "nb301_decode",
    "nb301_encode",
    "parse_genotype",
    "AuxiliaryHead",
    "DartsSupernet",
    "architecture_gradient",
    "drop_path",
    "resolve_device",
    "Cell",
    "DataShapeError",
    "ImageData",
    "InstanceController",
    "InstanceResult",
    "Learner",
    "MetaCell",
    "Network",
    "Progress",
    "SearchResult",
    "check_images",
    "cell_space",
    "darts_search",
    "enas_search",
    "evaluate",
    "evaluate_fixed",
    "evaluate_instance",
    "fashion_mnist_splits",
    "fit",
    "hand_designed_learner",
    "independent_search",
    "instance_search",
    "load_fashion_mnist",
    "maml_evaluate",
    "maml_train",
    "meta_cell_space",
    "path_flops",
    "search",
    "sinusoid_tasks",
    "AvgPool2d",
    "BatchNorm2d",
    "Conv2d",
    "ConvBNReLU",
    "Dropout",
    "Flatten",
    "Identity",
    "Linear",
    "MaxPool2d",
    "MixedOp",
    "ModuleError",
    "Pool",
    "ReLU",
    "SepConv",
    "Sequential",
    "Supernet",
    "Zero",
    "cell_ops",
    "searchable",
]
