"""The "For PyGlove users" page names only what exists: every `am.` name in it resolves."""

from __future__ import annotations

import re
from pathlib import Path

import automorph as am

PAGE = Path(__file__).resolve().parent.parent / "docs" / "pyglove.md"


def test_every_automorph_name_on_the_pyglove_page_exists() -> None:
    text = PAGE.read_text(encoding="utf-8")
    names = set(re.findall(r"`am\.([A-Za-z_][\w.]*)", text))
    assert len(names) > 30
    missing = []
    for name in sorted(names):
        value: object = am
        for part in name.split("."):
            if not hasattr(value, part):
                missing.append(name)
                break
            value = getattr(value, part)
    assert not missing, f"docs/pyglove.md names what automorph lacks: {missing}"


def test_the_readme_links_the_pyglove_page() -> None:
    readme = (PAGE.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "(docs/pyglove.md)" in readme
