"""automorph as a new user gets it: the wheel alone in a fresh virtual environment.

The tests marked `install` build the wheel out of the source tree, install only
that wheel (no extras; pip fetches numpy and SQLAlchemy) in a new virtual
environment without the system's site packages, and run automorph from an
empty directory with an environment that carries no PYTHONPATH and no
AUTOMORPH_* variable. `pytest -m "not install"` leaves them out (they need PyPI).

The other tests check, in this environment, the messages that name an extra.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import automorph as am
from automorph.benchmarks._harness import NO_FIGURE, run_experiment
from automorph.storage import open_storage
from automorph.utils import StorageError

ROOT = Path(__file__).resolve().parents[1]
BASE_INSTALL_TIMEOUT_S = 300

STUDY_SCRIPT = """
import sys

import automorph as am

space = am.Dict(x=am.floatv(-1.0, 1.0), k=am.oneof([1, 2, 3]))
result = am.tune(
    lambda e: e["k"] - e["x"] ** 2,
    space,
    am.algorithms.Random(seed=3),
    num_trials=int(sys.argv[1]),
    storage="study.db",
    name="s",
)
print(len(result.trials))
"""


@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment holding only the built wheel and its dependencies."""

    wheel: Path
    python: Path
    script: Path  # the `automorph` command
    home: Path  # an empty directory to run in
    env: dict[str, str]

    def run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=BASE_INSTALL_TIMEOUT_S,
        )
        if check and done.returncode != 0:
            pytest.fail(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def automorph(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(self.script, *args, check=check)


def clean_env() -> dict[str, str]:
    """This process's environment without what would reach past the install."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AUTOMORPH_")}


def tree_state() -> str | None:
    """`git status --ignored --porcelain` of the source tree (None outside a git clone)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    done = subprocess.run(
        ["git", "status", "--ignored", "--porcelain"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def call(*args: str | Path, env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BASE_INSTALL_TIMEOUT_S,
    )
    if done.returncode != 0:
        pytest.fail(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    env = clean_env()
    before = tree_state()
    dist = work / "dist"
    call(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, ROOT,
         env=env, cwd=work)  # fmt: skip
    assert tree_state() == before, "building the wheel wrote into the source tree"
    (wheel,) = dist.glob("automorph-*.whl")
    venv = work / "venv"
    # No pip inside (ensurepip is slow): this pip installs into the new environment.
    call(sys.executable, "-m", "venv", "--without-pip", venv, env=env, cwd=work)
    python = venv / "bin" / "python"
    call(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", wheel,
         env=env, cwd=work)  # fmt: skip
    home = work / "home"
    home.mkdir()
    return Installed(wheel, python, venv / "bin" / "automorph", home, env)


def export_rows(installed: Installed) -> list[dict[str, str]]:
    done = installed.automorph("--storage", "study.db", "export", "s", "--format", "csv")
    return list(csv.DictReader(io.StringIO(done.stdout)))


@pytest.mark.install
def test_the_wheel_holds_the_package_data_and_the_licence(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert "automorph/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    data = ROOT / "automorph" / "benchmarks" / "data"
    shipped = [p.relative_to(ROOT).as_posix() for p in data.rglob("*") if p.is_file()]
    missing = [p for p in shipped if p not in names and "__pycache__" not in p]
    assert not missing, f"files under automorph/benchmarks/data left out of the wheel: {missing}"


@pytest.mark.install
def test_a_plain_install_imports_without_extras(installed: Installed) -> None:
    probe = (
        "import importlib.util, automorph, automorph.storage, automorph.cli, automorph.tuning, "
        "automorph.benchmarks, automorph.viz, automorph.zero, automorph.grammar, sqlalchemy\n"
        "extras = ['torch', 'ray', 'numba', 'matplotlib', 'psycopg', 'pyglove', 'optuna', "
        "'sklearn']\n"
        "print([m for m in extras if importlib.util.find_spec(m)])\n"
        "print(automorph.__file__)\n"
        "import json, sys\n"
        "print(json.dumps(sys.path))\n"
    )
    lines = installed.run(installed.python, "-c", probe).stdout.splitlines()
    assert lines[0] == "[]", f"extras present in the fresh environment: {lines[0]}"
    venv = installed.python.parents[1]
    assert Path(lines[1]).is_relative_to(venv), lines[1]
    # Only the standard library and the new environment: no system or source-tree packages.
    paths = [Path(p) for p in json.loads(lines[2]) if p]
    site_dirs = [p for p in paths if p.name in ("site-packages", "dist-packages")]
    assert site_dirs and all(p.is_relative_to(venv) for p in site_dirs), site_dirs
    assert ROOT not in paths


@pytest.mark.install
def test_a_plain_install_keeps_resumes_lists_and_exports_a_sqlite_study(
    installed: Installed,
) -> None:
    (installed.home / "study.py").write_text(STUDY_SCRIPT)
    assert installed.run(installed.python, "study.py", "4").stdout.split() == ["4"]
    first = export_rows(installed)
    assert [r["id"] for r in first] == ["1", "2", "3", "4"]
    # Resumed: the same script asks for 7 trials in all and runs 3 more.
    assert installed.run(installed.python, "study.py", "7").stdout.split() == ["7"]
    rows = export_rows(installed)
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 8)]
    assert {r["status"] for r in rows} == {"completed"}
    assert rows[:4] == first
    for row in rows:
        x, k = float(row["dna.x"]), int(row["dna.k"])
        assert float(row["reward"]) == pytest.approx((1, 2, 3)[k] - x**2)

    version = installed.automorph("--version").stdout.strip()
    assert version == f"automorph {am.__version__}"
    assert installed.wheel.name.startswith(f"automorph-{am.__version__}-")
    studies = installed.automorph("--storage", "study.db", "studies").stdout
    assert re.search(r"^s\s+7\s+7\s", studies, re.MULTILINE), studies
    shown = installed.automorph("--storage", "study.db", "show", "s").stdout
    assert re.search(r"^Trials:\s+7 \(7 completed\)", shown, re.MULTILINE), shown
    listed = installed.automorph("--storage", "study.db", "trials", "s").stdout
    assert len(re.findall(r"^\s*\d+\s+completed\s", listed, re.MULTILINE)) == 7, listed
    best = json.loads(installed.automorph("--storage", "study.db", "best", "s", "--json").stdout)
    top = max(rows, key=lambda r: float(r["reward"]))
    assert (best["id"], best["reward"]) == (int(top["id"]), pytest.approx(float(top["reward"])))


@pytest.mark.install
def test_verbs_that_need_an_extra_name_it_in_one_line(installed: Installed) -> None:
    (installed.home / "study.py").write_text(STUDY_SCRIPT)
    installed.run(installed.python, "study.py", "2")
    plot = installed.automorph("--storage", "study.db", "plot", "s", check=False)
    assert plot.returncode == 1
    assert "pip install 'automorph[viz]'" in plot.stderr
    assert "Traceback" not in plot.stderr
    imp = installed.automorph("--storage", "study.db", "importance", "s", check=False)
    assert imp.returncode == 1
    assert "pip install 'automorph[importance]'" in imp.stderr
    assert "Traceback" not in imp.stderr
    zero = installed.automorph("zero", "run", "--config", "linear-tiny", "--quiet", check=False)
    assert zero.returncode == 1
    assert "pip install 'automorph[zero]'" in zero.stderr
    assert "Traceback" not in zero.stderr, zero.stderr


@pytest.mark.install
def test_a_plain_install_runs_the_harness_and_suites_without_plots(installed: Installed) -> None:
    done = installed.run(
        installed.python, "-m", "automorph.benchmarks", "run", "--benchmark", "branin",
        "--algorithms", "random,regularized_evolution", "--trials", "8", "--seeds", "2",
        "--output", "branin",
    )  # fmt: skip
    assert NO_FIGURE in done.stdout
    results = json.loads((installed.home / "branin" / "results.json").read_text())
    assert set(results["summary"]) == {"random", "regularized_evolution"}
    assert not (installed.home / "branin" / "regret.png").exists()
    done = installed.run(
        installed.python, "-m", "automorph.benchmarks", "suite", "--benchmarks", "branin,ackley",
        "--algorithms", "random", "--trials", "6", "--seeds", "2", "--output", "suite",
    )  # fmt: skip
    assert NO_FIGURE in done.stdout
    results = json.loads((installed.home / "suite" / "results.json").read_text())
    assert set(results["summaries"]) == {"branin", "ackley"}


@pytest.mark.install
def test_a_plain_install_runs_a_nas_bench_201_comparison(installed: Installed) -> None:
    # The NB-201 table ships inside the package: no --data, no environment variable.
    done = installed.run(
        installed.python, "-m", "automorph.benchmarks", "run", "--benchmark", "nb201-cifar10",
        "--algorithms", "random,regularized_evolution", "--trials", "12", "--seeds", "2",
        "--output", "nb201",
    )  # fmt: skip
    results = json.loads((installed.home / "nb201" / "results.json").read_text())
    assert set(results["summary"]) == {"random", "regularized_evolution"}
    for label, curves in results["curves"].items():
        assert len(curves) == 2, label
        for curve in curves:
            assert len(curve) == 12
            assert all(0.0 < accuracy <= 100.0 for accuracy in curve)
    table = (installed.home / "nb201" / "results.md").read_text()
    assert "| random |" in table and "| regularized_evolution |" in table
    assert "nb201-cifar10" in done.stdout


# --- in this environment: the messages that name an extra -----------------------------


def test_the_harness_writes_its_tables_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails
    result = run_experiment("branin", ["random"], 4, 1, 1, tmp_path, log=lambda _: None)
    assert result["figure"] is None
    assert (tmp_path / "results.md").exists() and (tmp_path / "results.json").exists()
    assert not (tmp_path / "regret.png").exists()


def test_a_missing_postgresql_driver_names_the_postgres_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StorageError, match=r"needs the database driver .*automorph\[postgres\]"):
        open_storage("postgresql+psycopg://nobody@localhost:1/nothing")


def test_a_missing_sqlalchemy_says_it_is_a_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    for name in ("automorph.storage._sql", "automorph.storage._sql_schema"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(StorageError, match=r"need SQLAlchemy, a dependency of automorph.*>=2\.0"):
        open_storage("study.db")
