"""The documentation site (mkdocs.yml, docs/, tools/mkdocs_hooks.py) is tested like code.

One strict build (`mkdocs build --strict`, as `make docs` runs it; any warning fails) serves
the tests of this module: the API pages document every name in every public package's
`__all__`, and the examples of the hand-written pages run as doctests.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import automorph
from tests.test_readme import run_doctests

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# The hand-written pages, guides/ included; the hook makes the others.
PAGES = sorted(DOCS.rglob("*.md"))
PAGE_IDS = [page.relative_to(DOCS).as_posix() for page in PAGES]
BENCHMARK_PAGES = [
    ROOT / "benchmarks" / "RESULTS.md",
    *sorted(ROOT.glob("benchmarks/results/*.md")),
]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
IDS = re.compile(r'\bid="([^"]+)"')


def subpackages() -> list[str]:
    """automorph's public sub-packages, found on disk (every one gets an API page)."""
    return sorted(
        f"automorph.{info.name}"
        for info in pkgutil.iter_modules(automorph.__path__)
        if info.ispkg and not info.name.startswith("_")
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    log = proc.stdout + proc.stderr
    problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0 and not problems, (
        "`mkdocs build --strict` failed (the `docs` extra installs MkDocs; `make setup` "
        "includes it):\n" + "\n".join(problems or log.splitlines()[-30:])
    )
    return out


def api_html(site: Path, package: str) -> str:
    page = site / "api" / package / "index.html"
    assert page.is_file(), f"no API page for {package} (expected {page.relative_to(site)})"
    return page.read_text(encoding="utf-8")


def test_the_site_builds_strictly_with_every_page(site: Path) -> None:
    assert (site / "index.html").is_file()
    for page in PAGES:
        rel = page.relative_to(DOCS).with_suffix("")
        built = site / ("index.html" if rel.name == "index" else rel / "index.html")
        assert built.is_file(), f"{rel} was not built"
    for page in BENCHMARK_PAGES:
        rel = page.relative_to(ROOT).with_suffix("")
        assert (site / rel / "index.html").is_file(), f"{rel} is not on the site"
    # The figures the benchmark pages show are served beside them.
    assert (site / "benchmarks" / "results" / "nb201-cifar10" / "regret.png").is_file()


def _nav_paths(entries: list[dict[str, object]]) -> set[str]:
    """The pages a `nav` list names, sections (a title over a list) included."""
    paths: set[str] = set()
    for entry in entries:
        for value in entry.values():
            paths |= _nav_paths(value) if isinstance(value, list) else {str(value)}
    return paths


def test_every_hand_written_page_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert _nav_paths(config["nav"]) == set(PAGE_IDS)


@pytest.mark.parametrize("package", subpackages())
def test_the_api_page_documents_every_public_name(site: Path, package: str) -> None:
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    assert names, f"{package} has no __all__: its public names are not declared"
    ids = set(IDS.findall(api_html(site, package)))
    missing = [name for name in names if f"{package}.{name}" not in ids]
    assert not missing, (
        f"the API page of {package} lacks {missing}: give each a docstring (an attribute gets "
        "one as a string on the line after it)"
    )


@pytest.mark.parametrize("package", ["automorph", *subpackages()])
def test_docstring_examples_render_as_code(site: Path, package: str) -> None:
    # Markdown reads a bare `>>>` line as nested quotes; tools/griffe_automorph.py fences them.
    assert "<blockquote>" not in api_html(site, package)


def test_a_symbolic_class_shows_its_fields_as_its_signature(site: Path) -> None:
    html = api_html(site, "automorph.hyper")
    start = html.index('id="automorph.hyper.FloatValue"')
    entry = re.sub(r"<[^>]+>", "", html[start : html.index("doc-heading", start + 50)])
    signature = " ".join(entry.split())
    assert "FloatValue( min_value: float, max_value: float" in signature, signature
    assert "*, name: str | None = None" in signature, signature


def test_the_automorph_page_links_every_am_name_to_its_documentation(site: Path) -> None:
    html = api_html(site, "automorph")
    page_dir = site / "api" / "automorph"
    links = dict(
        (m.group(2), m.group(1))
        for m in re.finditer(r'<a [^>]*href="([^"]+)"[^>]*>\s*<code>([\w.]+)</code>', html)
    )
    homes = {id(getattr(importlib.import_module(p), n)) for p in subpackages()
             for n in importlib.import_module(p).__all__}  # fmt: skip
    problems = []
    for name in automorph.__all__:
        value = getattr(automorph, name)
        if name not in links:
            # Only a value of the top package itself (`__version__`) is shown, not linked.
            if inspect.ismodule(value) or id(value) in homes or f"<code>{name}</code>" not in html:
                problems.append(f"{name}: no link")
            continue
        target, _, anchor = links[name].partition("#")
        target_page = (page_dir / target / "index.html").resolve()
        if not target_page.is_file():
            problems.append(f"{name}: links {links[name]}, which is not built")
        elif anchor and anchor not in IDS.findall(target_page.read_text(encoding="utf-8")):
            problems.append(f"{name}: links #{anchor}, which {target_page.parent.name} lacks")
    assert not problems, problems


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_the_examples_of_the_page_run(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    blocks = [body for lang, body in FENCE.findall(text) if lang in ("pycon", "python")]
    result = run_doctests(page)
    assert result.failed == 0
    assert result.attempted >= len(blocks)


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([\w-]+):", text, re.MULTILINE))


def _extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return set(project["optional-dependencies"])


def _command_problem(line: str) -> str | None:
    """Why a shell line of a page is not checked here, or None if it is right."""
    if m := re.fullmatch(r"make ([\w-]+)", line):
        return None if m.group(1) in _make_targets() else f"`{line}`: no such make target"
    if m := re.fullmatch(r"pip install (?:automorph|'automorph\[([\w,]+)\]')", line):
        unknown = set((m.group(1) or "").split(",")) - _extras() - {""}
        return f"`{line}`: unknown extras {sorted(unknown)}" if unknown else None
    return f"`{line}`: a command this test does not check (write it as a doctest, or check it)"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_code_block_of_the_page_is_run_or_checked(page: Path) -> None:
    problems = []
    for lang, body in FENCE.findall(page.read_text(encoding="utf-8")):
        if lang in ("pycon", "python"):
            if not body.lstrip().startswith(">>>"):
                problems.append(f"a {lang} block that is not a doctest: {body[:60]!r}")
        elif lang == "sh":
            for raw in body.splitlines():
                line = raw.split("#", 1)[0].strip()
                if line and (problem := _command_problem(line)):
                    problems.append(problem)
        elif lang != "text":
            problems.append(f"a block in {lang or 'no language'}: mark it pycon, sh or text")
    assert not problems, problems


def test_the_benchmark_pages_name_scripts_that_exist() -> None:
    named = {
        path
        for page in BENCHMARK_PAGES
        for _, body in FENCE.findall(page.read_text(encoding="utf-8"))
        for path in re.findall(r"\b((?:benchmarks|examples)/\w+\.py)\b", body)
    }
    assert named, "the benchmark pages name no script"
    assert not [path for path in sorted(named) if not (ROOT / path).is_file()]
