"""The layer rule of DESIGN.md §1, and the checker that enforces it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_layers", ROOT / "tools" / "check_layers.py")
assert _spec is not None and _spec.loader is not None
check_layers = importlib.util.module_from_spec(_spec)
sys.modules["check_layers"] = check_layers
_spec.loader.exec_module(check_layers)


def test_automorph_imports_only_downwards() -> None:
    assert check_layers.check(ROOT / "automorph") == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "automorph"
    for rel, text in {"__init__.py": "", **files}.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"utils/__init__.py": "import automorph.symbolic\n"}, "layer `utils` imports `symbolic`"),
        (
            {
                "algorithms/_x.py": "from automorph.hyper import oneof\n",
                "algorithms/__init__.py": "",
            },
            "layer `algorithms` imports `hyper`",
        ),
        (
            {"storage/__init__.py": "", "storage/_db.py": "from ..algorithms import base\n"},
            "layer `storage` imports `algorithms`",
        ),
        (
            {"symbolic/__init__.py": "def f():\n    import automorph.tuning\n"},
            "layer `symbolic` imports `tuning`",
        ),
        ({"symbolic/__init__.py": "import automorph as am\n"}, "the public API"),
        (
            {"grammar/__init__.py": "from automorph.zero import x\n"},
            "layer `grammar` imports `zero`",
        ),
        ({"mystery/__init__.py": ""}, "is in no layer"),
    ],
)
def test_checker_reports_upward_imports(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    problems = check_layers.check(_package(tmp_path, files))
    assert len(problems) == 1
    assert expected in problems[0]


def test_checker_accepts_downward_imports(tmp_path: Path) -> None:
    files = {
        "symbolic/__init__.py": "from automorph.utils import MISSING\nfrom . import _x\n",
        "symbolic/_x.py": "from automorph.symbolic import _y\n",
        "tuning/__init__.py": "from automorph import storage, algorithms\n",
        "grammar/__init__.py": "import automorph as am\nfrom automorph.geno import DNA\n",
    }
    assert check_layers.check(_package(tmp_path, files)) == []


def test_main_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _package(tmp_path, {"utils/__init__.py": "from automorph import tuning\n"})
    assert check_layers.main(["check_layers", str(bad)]) == 1
    assert "1 violation" in capsys.readouterr().out
