"""The `MISSING` sentinel: a value that has not been given."""

from __future__ import annotations

from typing import Any, Final


class MissingType:
    """Type of the singleton `MISSING`, which marks a value that was not given.

    >>> from automorph.utils import MISSING
    >>> MISSING
    MISSING
    >>> bool(MISSING)
    False
    """

    _instance: MissingType | None = None

    def __new__(cls) -> MissingType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> tuple[Any, ...]:
        return (MissingType, ())

    def __copy__(self) -> MissingType:
        return self

    def __deepcopy__(self, memo: Any) -> MissingType:
        return self


MISSING: Final = MissingType()
"""The value that was not given: a field without a value, a key left out of a `Dict`."""
