"""Type checkers see the fields declared on `am.Object` subclasses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

SNIPPET = """
from typing import Annotated
import automorph as am

class Conv(am.Object):
    filters: Annotated[int, am.Bounds(1, 64)]
    kernel: int = 3

ok = Conv(8, kernel=5)
reveal_type(ok.filters)
bad_type = Conv("8")
bad_name = Conv(8, width=2)
missing = Conv()
"""


def test_mypy_checks_constructor_arguments(tmp_path: Path) -> None:
    source = tmp_path / "snippet.py"
    source.write_text(SNIPPET)
    out, _, status = mypy_api.run(
        [
            str(source),
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    assert status == 1, out
    lines = out.splitlines()
    assert any(re.search(r':10: note: Revealed type is "(builtins\.)?int"', ln) for ln in lines), (
        out
    )
    assert any(":11: error:" in line and "incompatible type" in line for line in lines), out
    assert any(":12: error:" in line and "width" in line for line in lines), out
    assert any(":13: error:" in line and "filters" in line for line in lines), out
    assert not any(":9: error" in line for line in lines), out
