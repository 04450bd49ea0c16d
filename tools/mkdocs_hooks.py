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

The figures of the hand-written pages are not kept in `docs/` either: the code on
the page draws them while the site is built. An image written
`![alt](figures/name.png){ data-figure="EXPR" }` is a figure of the page's code:
the hook runs the page's `>>>` examples in order, as one doctest (an example that
fails fails the build), and after the examples above the image it evaluates
`EXPR` among their names; the file at that path is served at the image's address.

The hooks add these pages to the `nav` after the hand-written ones. The examples
on the hand-written pages are doctests (`tests/test_docs_site.py` runs them);
their `# doctest:` directives are for the test runner and are left out of the
rendered pages.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import inspect
import io
import pkgutil
import posixpath
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import griffe
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "automorph"
API_DIR = "api"
BENCH_DIR = "benchmarks"
BENCH_FIGURES = (".png", ".svg")
DIRECTIVE = re.compile(r"^(\s*(?:>>>|\.\.\.) .*?)\s*#\s*doctest:[^\n]*$", re.MULTILINE)
FIGURE = re.compile(r'!\[[^\]]*\]\(([^)\s]+)\)\{\s*data-figure="([^"]+)"\s*\}')


@dataclass(frozen=True)
class Figure:
    """An image of a page that the page's code draws: where it is in the page's text,
    its address relative to the page, and the expression that gives the file's path."""

    offset: int
    src: str
    expression: str


def page_figures(markdown: str) -> list[Figure]:
    """The figures a page's code draws, in the order they appear."""
    return [Figure(m.start(), m.group(1), m.group(2)) for m in FIGURE.finditer(markdown)]


def run_examples(
    text: str, name: str, globs: dict[str, Any] | None = None, report: io.StringIO | None = None
) -> doctest.TestResults:
    """Runs the `>>>` examples of `text` (a page, or a part of one) as one doctest, in
    `globs` (kept afterwards, so the next part of the page runs after this one).

    ELLIPSIS is on, as for the README's examples; a failure is written to `report`
    (standard output if None) and counted in the result.
    """
    globs = {"__name__": "__main__"} if globs is None else globs
    test = doctest.DocTestParser().get_doctest(text, globs, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=(report or sys.stdout).write, clear_globs=False)
    globs.update(test.globs)  # the test ran in a copy
    return runner.summarize(verbose=False)


def draw_figures(markdown: str, name: str) -> dict[str, bytes]:
    """Runs the examples of a page up to its last figure; returns each figure's file
    by its address relative to the page.

    Raises:
        PluginError: If an example fails, or a figure's expression does not give the
            path of a file of the image's kind (the message names the page and the figure).
    """
    figures = page_figures(markdown)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    globs: dict[str, Any] = {"__name__": "__main__"}
    drawn: dict[str, bytes] = {}
    start = 0
    for figure in figures:
        report = io.StringIO()
        with contextlib.redirect_stderr(report):  # progress lines of the code, if any
            result = run_examples(markdown[start : figure.offset], name, globs, report)
        if result.failed:
            raise PluginError(
                f"{name}: an example above the figure {figure.src} failed, so the figure "
                f"cannot be drawn:\n{report.getvalue()[-4000:]}"
            )
        start = figure.offset
        try:
            path = Path(eval(figure.expression, globs))  # the page's own code
        except Exception as error:
            raise PluginError(
                f"{name}: the figure {figure.src}: data-figure={figure.expression!r} "
                f"failed: {type(error).__name__}: {error}"
            ) from error
        if not path.is_file() or path.suffix != Path(figure.src).suffix:
            raise PluginError(
                f"{name}: the figure {figure.src}: data-figure={figure.expression!r} gives "
                f"{path}, which is not a {Path(figure.src).suffix} file"
            )
        drawn[figure.src] = path.read_bytes()
    return drawn


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


def _summary(loaded: griffe.Object | griffe.Alias, path: str) -> str:
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
    """Add the API pages, the benchmark pages and the figures of the pages' code to the
    site's files."""
    for page in [f for f in files.documentation_pages() if not f.generated_by]:
        markdown = Path(page.abs_src_path or "").read_text(encoding="utf-8")
        if not page_figures(markdown):
            continue
        folder = posixpath.dirname(page.src_uri)
        for src, image in draw_figures(markdown, page.src_uri).items():
            uri = posixpath.normpath(posixpath.join(folder, src))
            files.append(File.generated(config, uri, content=image))
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
