"""`Registry`: factories by name, the one source of every list of names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from automorph.utils._errors import RegistrationError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Registry(Generic[T]):
    """Named factories of one kind of thing (algorithms, stopping policies).

    >>> policies: Registry[object] = Registry("policy")
    >>> @policies.register("plain")
    ... def plain(**options: object) -> object:
    ...     return dict(options)
    >>> policies.create("plain", rate=0.5), policies.names()
    ({'rate': 0.5}, ['plain'])
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[F], F]:
        """A decorator that registers a factory (a class or function) under `name`.

        Raises:
            RegistrationError: If `name` is already taken by another factory.
        """

        def decorate(factory: F) -> F:
            existing = self._factories.get(name)
            if existing is not None and existing.__qualname__ != factory.__qualname__:
                raise RegistrationError(f"{self.kind} name {name!r} is already registered")
            self._factories[name] = factory
            return factory

        return decorate

    def create(self, name: str, **options: Any) -> T:
        """A new thing from the factory registered as `name`, given `options`.

        Raises:
            RegistrationError: If no factory has that name (the message lists them).
        """
        factory = self._factories.get(name)
        if factory is None:
            raise RegistrationError(
                f"no {self.kind} named {name!r}; registered: {', '.join(self.names())}"
            )
        return factory(**options)

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._factories)
