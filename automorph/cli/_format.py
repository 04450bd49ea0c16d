"""Text for the command line: tables, values, times, and flat trial records."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from automorph.storage import RecordLayout, csv_cell, json_safe

# Flat records live in the storage layer (`Study.export` writes them too).
__all__ = [
    "RecordLayout",
    "csv_cell",
    "cut",
    "dna_text",
    "json_safe",
    "number",
    "table",
    "value_text",
    "when",
]

MAX_CELL = 60  # characters of a table cell, at most


def when(timestamp: float | None) -> str:
    """A timestamp (`time.time()`) as local time, or '-'."""
    if not timestamp:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def number(value: float | Sequence[float] | None) -> str:
    """A reward: '0.912345', '[0.5, 0.25]', or '-' for none.

    >>> number(0.1234567), number([1.0, 0.25]), number(None)
    ('0.123457', '[1, 0.25]', '-')
    """
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{float(value):.6g}"
    return "[" + ", ".join(f"{float(v):.6g}" for v in value) + "]"


def value_text(value: Any) -> str:
    """A decision or metric value, short: floats with 6 significant digits,
    structures as compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def dna_text(dna: dict[str, Any], width: int = MAX_CELL) -> str:
    """Decisions as 'a=1, b=0.5', cut to `width` characters.

    >>> dna_text({"op": 1, "lr": 0.001}), dna_text({"x": 1, "y": 2}, width=6)
    ('op=1, lr=0.001', 'x=1, …')
    """
    return cut(", ".join(f"{k}={value_text(v)}" for k, v in dna.items()), width)


def cut(text: str, width: int = MAX_CELL) -> str:
    """`text` on one line, at most `width` characters (an ellipsis marks a cut)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> list[str]:
    """Lines of an aligned text table; columns in `numeric` are right-aligned.

    >>> print("\\n".join(table(["name", "n"], [["a", "1"], ["bb", "10"]], {1})))
    name   n
    ----  --
    a      1
    bb    10
    """
    cells = [[cut(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(row: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(row) for row in cells)]
