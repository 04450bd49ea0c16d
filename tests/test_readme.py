"""The README's tour runs as written."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def run_doctests(page: Path) -> doctest.TestResults:
    """Runs the `>>>` examples of a Markdown page as one doctest (ELLIPSIS on);
    the tests of the documentation site run their pages with it too."""
    return doctest.testfile(
        str(page), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )


def test_readme_examples_run() -> None:
    result = run_doctests(README)
    assert result.attempted > 10
    assert result.failed == 0
