"""Algorithms by name: the one source for every list of algorithm names.

`@register("name")` on a factory (a class or a function returning a
`SearchAlgorithm`) makes it available to `create("name", **options)`, to the
command line and to the benchmark harness.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from automorph.algorithms._base import SearchAlgorithm
from automorph.utils import RegistrationError

F = TypeVar("F", bound=Callable[..., SearchAlgorithm])

_FACTORIES: dict[str, Callable[..., SearchAlgorithm]] = {}


def register(name: str) -> Callable[[F], F]:
    """Registers an algorithm factory under `name`.

    Raises:
        RegistrationError: If `name` is already taken by another factory.
    """

    def decorate(factory: F) -> F:
        existing = _FACTORIES.get(name)
        if existing is not None and existing.__qualname__ != factory.__qualname__:
            raise RegistrationError(f"algorithm name {name!r} is already registered")
        _FACTORIES[name] = factory
        return factory

    return decorate


def create(name: str, **options: Any) -> SearchAlgorithm:
    """A new algorithm of the registered `name`, with `options` as its fields.

    Raises:
        RegistrationError: If no algorithm has that name (the message lists them).

    >>> from automorph import algorithms
    >>> algorithms.create("grid", float_points=3)
    Grid(seed=None, float_points=3)
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        raise RegistrationError(f"no algorithm named {name!r}; registered: {', '.join(names())}")
    return factory(**options)


def names() -> list[str]:
    """The registered algorithm names, sorted."""
    return sorted(_FACTORIES)
