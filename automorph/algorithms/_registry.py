"""Algorithms by name: the one source for every list of algorithm names.

`@register("name")` on a factory (a class or a function returning a
`SearchAlgorithm`) makes it available to `create("name", **options)`, to the
command line and to the benchmark harness.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from automorph.algorithms._base import SearchAlgorithm
from automorph.utils import Registry

F = TypeVar("F", bound=Callable[..., SearchAlgorithm])

_REGISTRY: Registry[SearchAlgorithm] = Registry("algorithm")


def register(name: str) -> Callable[[F], F]:
    """Registers an algorithm factory under `name`.

    Raises:
        RegistrationError: If `name` is already taken by another factory.
    """
    return _REGISTRY.register(name)


def create(name: str, **options: Any) -> SearchAlgorithm:
    """A new algorithm of the registered `name`, with `options` as its fields.

    Raises:
        RegistrationError: If no algorithm has that name (the message lists them).

    >>> from automorph import algorithms
    >>> algorithms.create("grid", float_points=3)
    Grid(seed=None, float_points=3)
    """
    return _REGISTRY.create(name, **options)


def names() -> list[str]:
    """The registered algorithm names, sorted."""
    return _REGISTRY.names()
