"""Stable type names: every class of the package has an explicit, public name,
and JSON written with the names of an earlier release still reads.

The files in `data/legacy_1048f84/` were written by automorph at commit
1048f84 (see the README there); the values they hold are built again here
with today's package and compared.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms as A
from automorph import benchmarks as B
from automorph import zero as Z
from automorph.symbolic import _registry
from automorph.testing import BitString

LEGACY = Path(__file__).parent / "data" / "legacy_1048f84"
REPO = Path(__file__).resolve().parents[2]
PUBLIC_NAME = re.compile(r"automorph(\.[A-Za-z][A-Za-z0-9_]*)+")

# Run in a fresh interpreter, so that only the package's own classes are registered.
_WALK = """
import importlib, json, pkgutil, sys
import automorph
from automorph.symbolic import Object, _registry

failed = []
for info in pkgutil.walk_packages(automorph.__path__, "automorph."):
    try:
        importlib.import_module(info.name)
    except ImportError as error:  # an optional extra that is not installed
        failed.append(f"{info.name}: {error}")

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

classes = {}
for cls in subclasses(Object):
    classes[f"{cls.__module__}.{cls.__qualname__}#{id(cls)}"] = {
        "name": cls.__dict__.get("_sym_type_name", cls._sym_type_name),
        "default": f"{cls.__module__}.{cls.__qualname__}",
        "registered": _registry._TYPES.get(cls._sym_type_name) is cls,
    }
json.dump(
    {
        "registry": {n: f"{c.__module__}.{c.__qualname__}" for n, c in _registry._TYPES.items()},
        "classes": classes,
        "failed": failed,
    },
    sys.stdout,
)
"""
# Bases that are never written to JSON, and so are left unregistered.
_UNREGISTERED = {
    "automorph.symbolic._functor.Functor",
    "automorph.symbolic._functor.ClassWrapper",
    "automorph.symbolic._compound.Compound",
}


@pytest.fixture(scope="module")
def package_types() -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-c", _WALK],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def test_every_registered_class_of_the_package_has_an_explicit_public_name(
    package_types: dict[str, Any],
) -> None:
    registry: dict[str, str] = package_types["registry"]
    assert len(registry) > 50, registry  # the walk reached the whole package
    private = sorted(name for name in registry if not PUBLIC_NAME.fullmatch(name))
    assert private == [], f"type names that are module paths or private: {private}"
    defaults = sorted(name for name, where in registry.items() if name == where)
    assert defaults == [], f"type names derived from the module path: {defaults}"


def test_every_symbolic_class_of_the_package_is_registered_under_its_own_name(
    package_types: dict[str, Any],
) -> None:
    names: dict[str, list[str]] = {}
    for where, entry in package_types["classes"].items():
        default = entry["default"]
        if default in _UNREGISTERED:
            continue
        assert entry["registered"], f"{where} is not registered under {entry['name']!r}"
        names.setdefault(entry["name"], []).append(default)
    shared = {name: owners for name, owners in names.items() if len(owners) > 1}
    assert shared == {}, f"classes that share a type name: {shared}"


def test_old_names_stand_for_registered_new_names(package_types: dict[str, Any]) -> None:
    registry: dict[str, str] = package_types["registry"]
    for old, new in _registry.LEGACY_NAMES.items():
        assert new in registry, f"{old!r} stands for {new!r}, which nothing registers"
        assert old not in registry, f"the old name {old!r} is still registered"
    assert _registry.aliases() == _registry.LEGACY_NAMES


def test_new_json_uses_the_new_names() -> None:
    text = am.to_json_str([Z.linear_program(), B.nb201_space(), Z.get_config("linear-tiny")])
    assert "._" not in text
    assert '"_type": "automorph.zero.Program"' in text
    assert '"_type": "automorph.benchmarks.NB201Cell"' in text


# --- aliases ---------------------------------------------------------------------------


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets a test add aliases and classes without leaving them behind."""
    monkeypatch.setattr(_registry, "_TYPES", dict(_registry._TYPES))
    monkeypatch.setattr(_registry, "_ALIASES", dict(_registry._ALIASES))


@pytest.mark.usefixtures("isolated_registry")
def test_an_alias_reads_as_the_new_name_and_writes_the_new_name() -> None:
    class Moved(am.Object, type_name="tests.type_names.Moved"):
        x: int = 1

    _registry.alias("tests.type_names.old_module.Moved", "tests.type_names.Moved")
    value = am.from_json({"_type": "tests.type_names.old_module.Moved", "x": 3})
    assert type(value) is Moved and value.x == 3
    assert am.from_json({"_class": "tests.type_names.old_module.Moved"}) is Moved
    assert am.to_json(value) == {"_type": "tests.type_names.Moved", "x": 3}


@pytest.mark.usefixtures("isolated_registry")
def test_a_class_registered_under_an_old_name_wins_over_the_alias() -> None:
    class New(am.Object, type_name="tests.type_names.New"):
        x: int = 1

    class Old(am.Object, type_name="tests.type_names.Old"):
        x: int = 1

    _registry.alias("tests.type_names.Old", "tests.type_names.New")
    assert type(am.from_json({"_type": "tests.type_names.Old"})) is Old


@pytest.mark.usefixtures("isolated_registry")
def test_alias_errors() -> None:
    with pytest.raises(am.RegistrationError, match=r"cannot be an alias of itself"):
        _registry.alias("tests.a", "tests.a")
    _registry.alias("tests.old", "tests.new")
    _registry.alias("tests.old", "tests.new")  # the same again is fine
    with pytest.raises(am.RegistrationError, match=r"'tests\.old' already stands for 'tests\.new'"):
        _registry.alias("tests.old", "tests.other")
    with pytest.raises(am.RegistrationError, match=r"'tests\.old' is an old name of 'tests\.new'"):
        _registry.alias("tests.older", "tests.old")


@pytest.mark.usefixtures("isolated_registry")
def test_an_old_name_of_a_class_not_imported_says_what_to_import() -> None:
    _registry.alias("tests.type_names._old.Gone", "automorph.nowhere.Gone")
    with pytest.raises(
        am.UnknownTypeError,
        match=r"unknown type 'tests\.type_names\._old\.Gone' \(now 'automorph\.nowhere\.Gone'\)"
        r".*import automorph\.nowhere before loading",
    ):
        am.from_json({"_type": "tests.type_names._old.Gone"})


# --- JSON written by automorph at 1048f84 --------------------------------------------------


def _legacy(name: str) -> Any:
    return am.load(LEGACY / name)


def _assert_old_names(name: str, *old: str) -> None:
    """The fixture holds the old names (so the test reads what it claims to)."""
    text = (LEGACY / name).read_text(encoding="utf-8")
    for type_name in old:
        assert f'"_type": "{type_name}"' in text


def test_algorithms_of_1048f84_load() -> None:
    expected = [
        A.regularized_evolution(population_size=20, tournament_size=5, seed=3),
        A.nsga2(population_size=12, seed=4),
        A.REINFORCE(seed=5, batch_size=2),
        A.PPO(seed=6),
        A.TPE(seed=7),
    ]
    loaded = _legacy("algorithms.json")
    assert am.sym_eq(list(loaded), expected)
    assert [type(a) for a in loaded] == [type(a) for a in expected]


def _legacy_space() -> Any:
    return am.Dict(
        op=am.oneof(["conv", "pool", am.Dict(k=am.intv(1, 5))]),
        lr=am.floatv(1e-4, 1e-1, scale="log"),
        layers=am.manyof(2, ["a", "b", "c"]),
        bits=am.custom(BitString(6)),
    )


def test_dna_spec_and_dna_of_1048f84_load() -> None:
    space = _legacy_space()
    assert am.sym_eq(_legacy("dna_spec.json"), am.dna_spec(space))
    saved = json.loads((LEGACY / "dna.json").read_text(encoding="utf-8"))
    assert am.sym_eq(am.from_json(saved["space"]), space)
    dna = am.DNA.from_json(saved["dna"])
    expected = next(am.random_sample(space, 1, seed=1))
    assert dna == am.encode(space, expected)
    assert am.sym_eq(am.materialize(space, dna), expected)


def test_zero_programs_and_configs_of_1048f84_load() -> None:
    _assert_old_names(
        "zero.json",
        "automorph.zero._program.Program",
        "automorph.zero._program.Instruction",
        "automorph.zero._program.Memory",
        "automorph.zero._config.SearchConfig",
        "automorph.zero._tasks.TaskSpec",
    )
    loaded = _legacy("zero.json")
    expected = {
        "linear": Z.linear_program(0.05),
        "neural": Z.neural_net_program(),
        "config": Z.get_config("linear-tiny"),
        "task": Z.TaskSpec("linear", features=4, num_train=10, num_valid=10, num_tasks=2),
    }
    assert am.sym_eq(loaded, am.Dict(expected))
    assert isinstance(loaded["linear"], Z.Program)
    assert isinstance(loaded["config"], Z.SearchConfig)


def test_benchmark_cells_of_1048f84_load() -> None:
    _assert_old_names(
        "cells.json",
        "automorph.benchmarks._nasbench201.NB201Cell",
        "automorph.benchmarks._nasbench101.NB101Cell",
    )
    loaded = _legacy("cells.json")
    arch = (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
        "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    )
    assert am.sym_eq(loaded["nb201"], B.NB201Cell.from_arch_str(arch))
    assert loaded["nb201"].to_arch_str() == arch
    assert am.sym_eq(loaded["nb201_space"], B.nb201_space())
    cell = B.NB101Cell(
        matrix=[[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
        ops=["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
    )
    assert am.sym_eq(loaded["nb101"], cell)
    assert loaded["nb101"].spec_hash() == cell.spec_hash()


def test_searchable_torch_modules_of_1048f84_load(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from automorph import nn as amnn

    # Other tests symbolize torch layers themselves, under the default names the
    # old release wrote (`torch.nn.modules.conv.Conv2d`): such a class would be
    # read instead (see `test_a_class_registered_under_an_old_name_wins_over_the_alias`).
    types = {k: v for k, v in _registry._TYPES.items() if k not in _registry.LEGACY_NAMES}
    monkeypatch.setattr(_registry, "_TYPES", types)

    _assert_old_names(
        "nn.json",
        "automorph.nn._cells._Cell",
        "automorph.nn._modules._ConvBNReLU",
        "torch.nn.modules.conv.Conv2d",
    )
    loaded = _legacy("nn.json")
    assert am.sym_eq(loaded["cell_space"], amnn.cell_space(4))
    layers = amnn.Sequential(amnn.Conv2d(1, 4, 3), amnn.ReLU(), amnn.Flatten())
    assert am.sym_eq(loaded["layers"], layers)
    assert type(loaded["layers"]) is amnn.Sequential
    assert am.to_json(loaded["layers"])["_type"] == "automorph.nn.Sequential"


def test_searchable_returns_the_package_s_own_class_for_a_layer_it_wraps() -> None:
    torch = pytest.importorskip("torch")
    from automorph import nn as amnn

    assert amnn.searchable(torch.nn.Linear) is amnn.Linear
    assert amnn.Linear._sym_type_name == "automorph.nn.Linear"


def _study_space() -> Any:
    return am.Dict(
        cell=B.nb201_space(),
        program=am.oneof([Z.linear_program(0.01), Z.linear_program(0.1)]),
        lr=am.floatv(0.001, 0.1),
    )


def _study_algorithm() -> Any:
    return A.regularized_evolution(population_size=4, tournament_size=2, seed=11)


def test_a_study_stored_by_1048f84_reads_and_resumes(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    shutil.copyfile(LEGACY / "study_1048f84.db", db)
    store = am.storage.open_storage(db)
    try:
        info = store.get_study("legacy")
        assert "automorph.benchmarks._nasbench201.NB201Cell" in (info.space or "")
        assert am.sym_eq(am.from_json_str(info.space or ""), _study_space())
        assert am.sym_eq(am.from_json_str(info.algorithm or ""), _study_algorithm())
        assert am.sym_eq(am.from_json_str(info.dna_spec or ""), am.dna_spec(_study_space()))
        old = store.get_trials("legacy")
    finally:
        store.close()
    assert [t.status for t in old] == ["completed"] * 6
    space = _study_space()
    for record in old:
        example = am.from_json_str(record.example or "")
        assert am.sym_eq(example, am.materialize(space, am.DNA.from_json(record.dna)))
        assert record.metadata["arch"] == example["cell"].to_arch_str()

    with am.sample(space, _study_algorithm(), 8, name="legacy", storage=str(db)) as loop:
        for example, feedback in loop:
            feedback(example["lr"])
    result = loop.result
    assert [t.id for t in result.trials] == list(range(1, 9))
    assert all(t.status == "completed" for t in result.trials)
    assert all(t.example is not None for t in result.trials)  # old examples read too
