"""No file users get names a fixed machine path or the data folder beside the clone.

The package, the examples, the README and the docs may read only paths the
user gives (an argument, an environment variable), the user's own folders
(`~/.cache/automorph` and the platform's equivalents) and one system place
the issue names: Debian's `/usr/share/datasets`. This test reads every text
file of those and fails on a line naming another fixed location.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = [ROOT / "automorph", ROOT / "examples", ROOT / "README.md", ROOT / "docs"]
SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".json", ".yaml", ".yml", ".html", ".rst", ""}

# A fixed machine location: an absolute path under a machine's own folders, or the
# data folder beside a clone.
FORBIDDEN = re.compile(
    r"(?<![\w.~])/(?:work|home|root|mnt|srv|data|scratch|opt|Users)/"
    r"|\.\./shared\b|\bshared/data\b|[A-Za-z]:\\\\Users\\\\"
)
# /tmp/ as a default; a doctest that shows how a path is parsed reads nothing.
TEMPORARY = re.compile(r"(?<![\w.~])/tmp/")


def _files() -> list[Path]:
    files: list[Path] = []
    for place in CHECKED:
        if place.is_file():
            files.append(place)
        elif place.is_dir():
            files.extend(
                p
                for p in sorted(place.rglob("*"))
                if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts
            )
    return files


def offending_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each line of `text` that names a fixed location."""
    found = []
    in_doctest = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        in_doctest = stripped.startswith(">>>") or (in_doctest and bool(stripped))
        if FORBIDDEN.search(line) or (TEMPORARY.search(line) and not in_doctest):
            found.append((number, stripped))
    return found


def test_a_doctest_may_show_a_temporary_path() -> None:
    doctest = ">>> parse('sqlite:////tmp/a.db')\nPosixPath('/tmp/a.db')\n\nx = '/tmp/default'"
    assert offending_lines(doctest) == [(4, "x = '/tmp/default'")]


def test_the_checked_files_exist() -> None:
    names = {p.relative_to(ROOT).parts[0] for p in _files()}
    assert {"automorph", "examples", "README.md"} <= names
    assert len(_files()) > 100


@pytest.mark.parametrize(
    "line",
    [
        'DEFAULT_DATA_DIR = Path("/work/shared/data/images")',
        "see /home/me/data.npz",
        "os.environ.get('X', '/tmp/automorph')",
        'Path("..", "shared", "data") / "x"  # ../shared beside the clone',
        "--data shared/data/images/fashion_mnist.npz",
        "default='/root/.cache/x'",
        "/mnt/datasets/cifar",
        "/srv/x",
    ],
)
def test_fixed_locations_are_caught(line: str) -> None:
    assert offending_lines(line) == [(1, line.strip())]


@pytest.mark.parametrize(
    "line",
    [
        'DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")',
        "`~/.cache/automorph` or `$XDG_CACHE_HOME/automorph`",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "sqlite:////tmp2/a.db",
        "a shared store, shared by workers",
        "benchmarks/out/nb201",
    ],
)
def test_allowed_locations_pass(line: str) -> None:
    assert offending_lines(line) == []


def test_no_user_file_names_a_fixed_machine_path() -> None:
    found = []
    for path in _files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary data (the shipped tables are .xz, not read here)
        found.extend(f"{path.relative_to(ROOT)}:{n}: {line}" for n, line in offending_lines(text))
    assert not found, "fixed machine paths:\n" + "\n".join(found)
