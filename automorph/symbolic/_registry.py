"""The registry of symbolic types that JSON may name.

Deserialization constructs only types found here, by name; it never imports a
module, so JSON from an untrusted source cannot run code.
"""

from __future__ import annotations

from automorph.utils import RegistrationError, UnknownTypeError

_TYPES: dict[str, type] = {}


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


def lookup(name: str, path: str = "") -> type:
    """The class registered under `name`.

    Raises:
        UnknownTypeError: If no class is registered under `name`.
    """
    cls = _TYPES.get(name)
    if cls is None:
        raise UnknownTypeError(
            f"unknown type {name!r}: no symbolic class is registered under this name "
            "(import the module that defines it before loading; automorph never "
            "imports modules named in JSON)",
            path=path,
        )
    return cls


def registered_names() -> list[str]:
    """The names of all registered symbolic types, sorted."""
    return sorted(_TYPES)
