"""The registry of symbolic types that JSON may name.

Deserialization constructs only types found here, by name; it never imports a
module, so JSON from an untrusted source cannot run code.

A type's name is what JSON stores, so it must outlive the module that defines
the class: every class of the automorph package has an explicit, public name
(`automorph.zero.Program`, `automorph.algorithms.Evolution`), never a module
path, and moving the class to another module leaves saved JSON readable. A
user's class is named `module.qualname` unless it passes `type_name`.

When a name has to change, the old one becomes an alias (`alias`): JSON that
names it still reads, and new JSON is written with the new name.
`LEGACY_NAMES` holds the names the package wrote before its names were
explicit (up to commit 1048f84).
"""

from __future__ import annotations

from automorph.utils import RegistrationError, UnknownTypeError

_TYPES: dict[str, type] = {}
_ALIASES: dict[str, str] = {}

# The names automorph wrote (up to commit 1048f84) for classes whose type
# names were module paths, and the names they have now.
LEGACY_NAMES: dict[str, str] = {
    "automorph.algorithms._Controller": "automorph.algorithms.Controller",
    "automorph.benchmarks._nasbench101.NB101Cell": "automorph.benchmarks.NB101Cell",
    "automorph.benchmarks._nasbench201.NB201Cell": "automorph.benchmarks.NB201Cell",
    "automorph.nn._cells._Cell": "automorph.nn.Cell",
    "automorph.nn._cells._Network": "automorph.nn.Network",
    "automorph.nn._meta._Learner": "automorph.nn.Learner",
    "automorph.nn._meta._MetaCell": "automorph.nn.MetaCell",
    "automorph.nn._modules._ConvBNReLU": "automorph.nn.ConvBNReLU",
    "automorph.nn._modules._Pool": "automorph.nn.Pool",
    "automorph.nn._modules._SepConv": "automorph.nn.SepConv",
    "automorph.nn._modules._Zero": "automorph.nn.Zero",
    "automorph.zero._config.SearchConfig": "automorph.zero.SearchConfig",
    "automorph.zero._program.Instruction": "automorph.zero.Instruction",
    "automorph.zero._program.Memory": "automorph.zero.Memory",
    "automorph.zero._program.Program": "automorph.zero.Program",
    "automorph.zero._tasks.TaskSpec": "automorph.zero.TaskSpec",
    # The torch layers `automorph.nn` makes searchable.
    "torch.nn.modules.activation.ReLU": "automorph.nn.ReLU",
    "torch.nn.modules.batchnorm.BatchNorm2d": "automorph.nn.BatchNorm2d",
    "torch.nn.modules.container.Sequential": "automorph.nn.Sequential",
    "torch.nn.modules.conv.Conv2d": "automorph.nn.Conv2d",
    "torch.nn.modules.dropout.Dropout": "automorph.nn.Dropout",
    "torch.nn.modules.flatten.Flatten": "automorph.nn.Flatten",
    "torch.nn.modules.linear.Identity": "automorph.nn.Identity",
    "torch.nn.modules.linear.Linear": "automorph.nn.Linear",
    "torch.nn.modules.pooling.AvgPool2d": "automorph.nn.AvgPool2d",
    "torch.nn.modules.pooling.MaxPool2d": "automorph.nn.MaxPool2d",
}


def register(cls: type, name: str) -> None:
    """Registers `cls` under `name`.

    Re-registering a name by a class of the same module and qualified name
    replaces the old class (a module reloaded, a notebook cell run again);
    a name claimed by an unrelated class is an error.
    """
    existing = _TYPES.get(name)
    if (
        existing is not None
        and existing is not cls
        and (
            existing.__module__,
            existing.__qualname__,
        )
        != (cls.__module__, cls.__qualname__)
    ):
        raise RegistrationError(
            f"type name {name!r} is already registered by "
            f"{existing.__module__}.{existing.__qualname__}; "
            f"pass another `type_name` for {cls.__module__}.{cls.__qualname__}"
        )
    _TYPES[name] = cls


def unregister(name: str) -> None:
    """Removes the class registered under `name`, if any."""
    _TYPES.pop(name, None)


def alias(old_name: str, name: str) -> None:
    """Makes JSON that names `old_name` read as the type now called `name`.

    A class registered under `old_name` itself still takes precedence (a
    user's class that happens to have the name). The alias holds a name, not
    a class, so it may be declared before the class is defined.

    Raises:
        RegistrationError: If `old_name` is already an alias of another name,
            or `name` is itself an alias (aliases do not chain).
    """
    if old_name == name:
        raise RegistrationError(f"type name {name!r} cannot be an alias of itself")
    if name in _ALIASES:
        raise RegistrationError(
            f"{name!r} is an old name of {_ALIASES[name]!r}; alias {old_name!r} to "
            f"{_ALIASES[name]!r} instead"
        )
    current = _ALIASES.get(old_name)
    if current is not None and current != name:
        raise RegistrationError(
            f"the old type name {old_name!r} already stands for {current!r}, not {name!r}"
        )
    _ALIASES[old_name] = name


def aliases() -> dict[str, str]:
    """Every old type name and the name it stands for."""
    return dict(_ALIASES)


def lookup(name: str, path: str = "") -> type:
    """The class registered under `name` (or under the name `name` is an old
    name of).

    Raises:
        UnknownTypeError: If no class is registered under `name`.
    """
    cls = _TYPES.get(name)
    if cls is not None:
        return cls
    current = _ALIASES.get(name)
    if current is not None:
        cls = _TYPES.get(current)
        if cls is not None:
            return cls
    shown = name if current is None else current
    known = f" (now {current!r})" if current is not None else ""
    hint = "the module that defines it"
    if shown.startswith("automorph.") and shown.count(".") >= 2:
        hint = shown.rsplit(".", 1)[0]
    raise UnknownTypeError(
        f"unknown type {name!r}{known}: no symbolic class is registered under this name "
        f"(import {hint} before loading; automorph never imports modules named in JSON)",
        path=path,
    )


def registered_names() -> list[str]:
    """The names of all registered symbolic types, sorted (old names not included)."""
    return sorted(_TYPES)


for _old, _new in LEGACY_NAMES.items():
    alias(_old, _new)
