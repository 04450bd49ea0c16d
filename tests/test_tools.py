"""The scripts of tools/ type-check as strictly as the package (`mypy --strict`).

`python -m mypy` checks the `automorph` package only, so an error in the site's
build hooks went unseen. The scripts here do not import automorph itself
(tools/griffe_automorph.py does, and is left to the package's own check: it
would need the whole package analyzed, about a minute without a cache).
"""

from __future__ import annotations

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["tools/mkdocs_hooks.py", "tools/check_layers.py"]
CONFIG = """\
[mypy]
strict = True
python_version = 3.11
# Imported at run time only (importlib), never statically: nothing of it to analyze.
[mypy-automorph.*]
follow_imports = skip
"""


def test_the_tools_scripts_type_check_strictly(tmp_path: Path) -> None:
    config = tmp_path / "mypy.ini"
    config.write_text(CONFIG)
    paths = [str(ROOT / script) for script in SCRIPTS]
    args = ["--config-file", str(config), "--cache-dir", str(tmp_path / "cache"), *paths]
    out, err, status = mypy_api.run(args)
    assert status == 0, out + err
