"""MkDocs hooks for the documentation site (`mkdocs.yml`, `make docs`).

Two kinds of pages are made at build time instead of being kept in `docs/`:

- API reference: one page per public package of automorph (every package under
  `automorph/` whose name does not start with `_`, found on disk), each a
  mkdocstrings `::: package` block that renders the names in the package's
  `__all__`. A name added to a package appears without editing anything here.
  The `automorph` page renders the package docstring and a table that links
  each `am.` name to the page of the package that documents it.
- Benchmarks: `benchmarks/RESULTS.md`, the topic pages `benchmarks/results/*.md`
  and their figures are served from where they are in the repository, under
  `benchmarks/` in the site, so their relative links and images keep working and
  the text exists once.

The hooks add these pages to the `nav` after the hand-written ones. The examples
on the hand-written pages are doctests (`tests/test_docs_site.py` runs them);
their `# doctest:` directives are for the test runner and are left out of the
rendered pages.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path
from typing import Any

import griffe
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "automorph"
API_DIR = "api"
BENCH_DIR = "benchmarks"
BENCH_FIGURES = (".png", ".svg")
DIRECTIVE = re.compile(r"^(\s*(?:>>>|\.\.\.) .*?)\s*#\s*doctest:[^\n]*$", re.MULTILINE)


def public_packages() -> list[str]:
    """`automorph` and its public sub-packages, in the order they are listed."""
    subpackages = sorted(
        info.name
        for info in pkgutil.iter_modules([str(ROOT / PACKAGE)])
        if info.ispkg and not info.name.startswith("_")
    )
    return [PACKAGE] + [f"{PACKAGE}.{name}" for name in subpackages]


def api_page(package: str) -> str:
    """The path of `package`'s API page, relative to the docs folder."""
    return f"{API_DIR}/{package}.md"


def _summary(loaded: griffe.Module, path: str) -> str:
    """The first paragraph of the docstring of `path` (an `automorph.` path), for a table cell."""
    try:
        docstring = loaded[path[len(PACKAGE) + 1 :]].docstring
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return ""
    first = docstring.value.split("\n\n", 1)[0] if docstring else ""
    return " ".join(first.split()).replace("|", "\\|")


def _top_page() -> str:
    """The `automorph` page: the package docstring, then where each name is documented."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    top = importlib.import_module(PACKAGE)
    loaded = griffe.load(PACKAGE, search_paths=[str(ROOT)], resolve_aliases=False)
    homes: dict[int, str] = {}
    for package in public_packages()[1:]:
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            homes.setdefault(id(getattr(module, name)), f"{package}.{name}")
    rows = []
    for name in top.__all__:
        value = getattr(top, name)
        if inspect.ismodule(value):
            link, path = f"[`{name}`]({value.__name__}.md)", value.__name__
        elif id(value) in homes:
            link, path = f"[`{name}`][{homes[id(value)]}]", homes[id(value)]
        else:
            rows.append(f"| `{name}` | `{value!r}` |")
            continue
        rows.append(f"| {link} | {_summary(loaded, path)} |")
    return "\n".join(
        [
            f"# `{PACKAGE}`",
            "",
            f"::: {PACKAGE}",
            "    options:",
            "      show_root_heading: false",
            "      members: false",
            "",
            "## Names",
            "",
            "`import automorph as am` gives these names; each links to its documentation on the",
            "page of the package that defines it.",
            "",
            "| name | what it is |",
            "|---|---|",
            *rows,
            "",
        ]
    )


def _package_page(package: str) -> str:
    return f"# `{package}`\n\n::: {package}\n    options:\n      show_root_heading: false\n"


def _benchmark_files() -> list[str]:
    """`benchmarks/RESULTS.md`, then the results pages (in the order RESULTS.md links
    them, then any it does not link) and their figures."""
    overview = ROOT / BENCH_DIR / "RESULTS.md"
    results = ROOT / BENCH_DIR / "results"
    linked = re.findall(r"\]\(results/([\w.-]+\.md)\)", overview.read_text(encoding="utf-8"))
    order = {name: i for i, name in enumerate(dict.fromkeys(linked))}
    pages = sorted(results.glob("*.md"), key=lambda p: (order.get(p.name, len(order)), p.name))
    figures = sorted(p for p in results.rglob("*") if p.suffix in BENCH_FIGURES)
    paths = [overview, *pages, *figures]
    return [p.relative_to(ROOT).as_posix() for p in paths]


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the API pages and the benchmark pages to the site's files."""
    for package in public_packages():
        content = _top_page() if package == PACKAGE else _package_page(package)
        files.append(File.generated(config, api_page(package), content=content))
    for path in _benchmark_files():
        files.append(File(path, str(ROOT), config.site_dir, config.use_directory_urls))
    return files


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Put the benchmark pages and the API reference at the end of the `nav`."""
    nav: list[Any] = list(config.nav or [])
    bench = [p for p in _benchmark_files() if p.endswith(".md")]
    nav.append({"Benchmarks": [{"Overview": bench[0]}, *bench[1:]]})
    nav.append({"API reference": [{package: api_page(package)} for package in public_packages()]})
    config.nav = nav
    return config


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Leave doctest directives (`# doctest: +ELLIPSIS`) out of the rendered examples."""
    return DIRECTIVE.sub(r"\1", markdown)
