"""Text of symbolic trees: the context of one `format` call, and the text of
a value or a block of children."""

from __future__ import annotations

from typing import Any, NamedTuple


class _FormatContext(NamedTuple):
    compact: bool
    verbose: bool
    hide_defaults: bool


def format_value(value: Any, ctx: _FormatContext, indent: int) -> str:
    """Text of any value inside a tree, for `format`."""
    from automorph.symbolic._base import Symbolic  # _base imports this module

    if isinstance(value, Symbolic):
        return value._sym_format(ctx, indent)
    if isinstance(value, str) and not ctx.verbose and len(value) > 40:
        return repr(value[:37] + "...")
    if isinstance(value, type):
        return value.__qualname__
    return repr(value)


def format_block(
    opening: str, closing: str, parts: list[str], ctx: _FormatContext, indent: int
) -> str:
    """Joins formatted children on one line, or one per line indented."""
    if not parts:
        return opening + closing
    if ctx.compact:
        return opening + ", ".join(parts) + closing
    pad = "  " * (indent + 1)
    body = "".join(f"{pad}{part},\n" for part in parts)
    return f"{opening}\n{body}{'  ' * indent}{closing}"
