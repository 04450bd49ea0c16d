"""Adoption transactions: a failed validation leaves no node re-parented.

Validating a value can build new containers (a plain list given for a
`list[Layer]` field becomes an `am.List`) that adopt the user's nodes, which
sets their parent. If validation then fails (a later item, another field, the
next option of a union), those containers are thrown away, and the adopted
nodes must get their old state back: no parent. A `Transaction` records every
adoption of a parentless node made while it is open, undoes them if the block
fails, and hands them to the enclosing transaction if it succeeds.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

_local = threading.local()


def record_adoption(node: Any) -> None:
    """Notes that a parentless `node` was just given a parent."""
    stack = getattr(_local, "stack", None)
    if stack:
        stack[-1].append(node)


class Transaction:
    """`with Transaction():` undoes the block's adoptions if it raises."""

    __slots__ = ("entries",)

    def __enter__(self) -> Transaction:
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        self.entries: list[Any] = []
        stack.append(self.entries)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack = _local.stack
        stack.pop()
        if exc_type is None:
            if stack:
                stack[-1].extend(self.entries)
            return
        for node in self.entries:
            object.__setattr__(node, "_sym_parent", None)
            object.__setattr__(node, "_sym_key", None)
