"""The documentation site (mkdocs.yml, docs/, tools/mkdocs_hooks.py) is tested like code.

One strict build (`mkdocs build --strict`, as `make docs` runs it; any warning fails) serves
the tests of this module: the API pages document every name in every public package's
`__all__`, and the figures of the guides are drawn by the code on their pages (the build runs
it; tools/mkdocs_hooks.py). Every code block of the hand-written pages runs here: the `>>>`
examples as doctests (those of the studies guide on a PostgreSQL server and a Ray cluster that
the test starts), and the shell commands in subprocesses, in a temporary folder.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import pkgutil
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

import automorph
from automorph import zero

# The storage tests' throwaway PostgreSQL server, and the tests' local Ray cluster.
from tests.storage.conftest import fresh_postgres_url, postgres_server  # noqa: F401
from tests.tuning.ray_cluster import free_port, local_cluster
from tools.mkdocs_hooks import page_figures, run_examples

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
BLOCK = re.compile(
    r'^```(\w*)(?:[^\n]*title="([^"]*)")?[^\n]*\n(.*?)^```', re.MULTILINE | re.DOTALL
)
IDS = re.compile(r'\bid="([^"]+)"')
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"}
# The shell blocks (```sh title="...") that a test of this module runs, by page and title.
RUN_SHELL = {
    ("guides/automl-zero.md", "Shell"): "test_the_automl_zero_commands_run",
    ("guides/benchmarks.md", "Shell"): "test_the_benchmark_suite_commands_run",
    ("guides/dashboard.md", "Shell"): "test_the_dashboard_commands_run",
    ("guides/studies.md", "Shell, on the cluster's machines"): "test_the_examples_of_the_page_run",
}
# A page whose examples register a name for the rest of the process runs in a process of its own.
ISOLATED = {"guides/custom-algorithm.md"}
# The studies guide's PostgreSQL URL and Ray head, which its test replaces by its own.
SHOWN_URL = "postgresql+psycopg://user@db-host/studies"
SHOWN_HEAD = "head-host:6379"


class Block(NamedTuple):
    lang: str
    title: str
    body: str


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a page: language, title (or "") and text."""
    return [Block(*m) for m in BLOCK.findall(page.read_text(encoding="utf-8"))]


def shell_lines(page: str, title: str) -> list[str]:
    """The commands of the ```sh block of `page` with that title, comments left out."""
    found = [b for b in blocks(DOCS / page) if b.lang == "sh" and b.title == title]
    assert len(found) == 1, f"{page} has {len(found)} sh blocks titled {title!r}, not one"
    lines = [raw.split("#", 1)[0].strip() for raw in found[0].body.splitlines()]
    return [line for line in lines if line]


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


def substitute(text: str, replacements: dict[str, str]) -> str:
    """`text` with each key replaced by its value; a key that `text` lacks is an error
    (the page changed, and what the test puts in place would silently not be used)."""
    for shown, actual in replacements.items():
        assert shown in text, f"the page no longer shows {shown!r}; update the test"
        text = text.replace(shown, actual)
    return text


@contextlib.contextmanager
def ray_cluster_from(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Starts a Ray cluster on this machine with the `ray start` commands of a page; yields
    the head's address. Each command runs as written, with the head's port and host made
    local (a free port, 127.0.0.1) and what the node's processes need on a shared machine
    added: a CPU count (1 for the head, 2 for each other node), free ports for the head's
    other servers, no dashboard; `start_node` adds `--block` and a temp dir of the node's
    own, so that only this cluster's processes are stopped at the end (never `ray stop`)."""
    with local_cluster("amdocs-", monkeypatch) as cluster:
        for i, line in enumerate(lines):
            local = line.replace("6379", str(cluster.port)).replace("head-host", "127.0.0.1")
            argv = shlex.split(local)
            assert argv[:2] == ["ray", "start"], f"not a `ray start` command: {line}"
            if "--head" in argv:
                extra = ["--num-cpus=1", "--include-dashboard=false"]
                extra += [f"--dashboard-port={free_port()}"]
                extra += [f"--ray-client-server-port={free_port()}"]
            else:
                extra = ["--num-cpus=2"]
            cluster.start_node(f"node{i}", argv[2:] + extra)
        yield cluster.address


def _run_isolated(page: Path) -> tuple[int, int, str]:
    """Runs a page's examples in a new Python process: (attempted, failed, its report)."""
    code = (
        "import sys; from pathlib import Path; from tools.mkdocs_hooks import run_examples; "
        "r = run_examples(Path(sys.argv[1]).read_text(encoding='utf-8'), sys.argv[1]); "
        "print(r.attempted, r.failed)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(page)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    attempted, failed = map(int, proc.stdout.split()[-2:])
    return attempted, failed, proc.stdout


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_the_examples_of_the_page_run(page: Path, request: pytest.FixtureRequest) -> None:
    rel = page.relative_to(DOCS).as_posix()
    text = page.read_text(encoding="utf-8")
    examples = [b for b in blocks(page) if b.lang in ("pycon", "python")]
    if rel in ISOLATED:
        attempted, failed, report = _run_isolated(page)
    elif rel == "guides/studies.md":
        url = request.getfixturevalue("fresh_postgres_url")
        lines = shell_lines(rel, "Shell, on the cluster's machines")
        with ray_cluster_from(lines, request.getfixturevalue("monkeypatch")) as head:
            result = run_examples(substitute(text, {SHOWN_URL: url, SHOWN_HEAD: head}), rel)
        attempted, failed, report = result.attempted, result.failed, ""
    else:
        result = run_examples(text, rel)
        attempted, failed, report = result.attempted, result.failed, ""
    assert failed == 0, report
    assert attempted >= len(examples)


def _subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}


def _run_command(argv: list[str], cwd: Path) -> str:
    """Runs a command of a page (its program as this Python runs it); returns its output."""
    program = {
        "automorph": [sys.executable, "-m", "automorph.cli"],
        "python": [sys.executable],
    }[argv[0]]
    proc = subprocess.run(
        [*program, *argv[1:]], cwd=cwd, env=_subprocess_env(), capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, f"`{shlex.join(argv)}` failed:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def test_the_automl_zero_commands_run(tmp_path: Path) -> None:
    lines = shell_lines("guides/automl-zero.md", "Shell")
    configs, search, islands = [shlex.split(line) for line in lines]
    assert _run_command(configs, tmp_path).split() == list(zero.CONFIG_NAMES)
    for run, checkpoint in ((search, "demo.npz"), (islands, "islands.npz")):
        budget = run.index("--max-cpu-seconds") + 1
        assert run[budget] == "600", "the page changed its budget; update the page's note and this"
        run[budget] = "3"  # the page says that the test runs it with 3 CPU seconds
        lines = _run_command(run, tmp_path).splitlines()
        outcome = next(i for i, line in enumerate(lines) if not line.startswith("experiment="))
        assert re.match(r"(not )?solved: select_fitness=", lines[outcome]), lines[outcome]
        program = "\n".join(lines[outcome + 1 :])
        assert all(f"def {f}():" in program for f in ("setup", "predict", "learn")), program
        assert (tmp_path / checkpoint).is_file()
    assert {"island=0", "island=1"} <= {w for line in lines for w in line.split()}


def test_the_dashboard_commands_run(tmp_path: Path) -> None:
    pytest.importorskip("starlette", reason="the dashboard extra is not installed")
    from tests.dashboard.support import Server, make_store

    install, read_only, writes = shell_lines("guides/dashboard.md", "Shell")
    assert _command_problem(install) is None, install
    make_store(tmp_path / "studies.db", trials=5)
    for line, mode in ((read_only, "read-only"), (writes, "read and write")):
        argv = shlex.split(line)
        assert argv[:4] == ["automorph", "dashboard", "--storage", "studies.db"], argv
        # The page's options, on the store made here and on a free port in place of the page's.
        options = [
            a for i, a in enumerate(argv[4:]) if a != "--port" and argv[4:][i - 1] != "--port"
        ]
        server = Server(f"sqlite:///{tmp_path / 'studies.db'}", *options)
        try:
            names = [s["name"] for s in server.json("/api/studies")["studies"]]
            assert "tune-min" in names
            status, body = server.post("/api/delete", {"name": "x", "confirm": "y"})
            assert status == (403 if mode == "read-only" else 400), body
        finally:
            code, out, _ = server.stop()
        assert code == 0 and mode in out, out


def test_the_benchmark_suite_commands_run(tmp_path: Path) -> None:
    full, short = [shlex.split(line) for line in shell_lines("guides/benchmarks.md", "Shell")]
    # The page says that the preset's full run gets these options in the test.
    _run_command(
        [*full, "--seeds", "2", "--trials", "10", "--benchmarks", "nb201-cifar10"], tmp_path
    )
    _run_command(short, tmp_path)
    for folder in ("benchmarks/results/learned-search", "benchmarks/out/learned-search"):
        written = sorted(p.name for p in (tmp_path / folder).iterdir() if p.is_file())
        assert {"regret.png", "results.json", "results.md"} <= set(written), (folder, written)
    table = (tmp_path / "benchmarks/out/learned-search/results.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[2].strip() for line in table.splitlines() if "| nb201-cifar10 |" in line
    }
    assert rows == {"random", "tpe"}, table


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


# A line of a ```text block that is a command or a program (which must run, so be
# ```sh or ```pycon): a prompt, Python, or a command's name at the start of the line.
CODE_LINE = re.compile(
    r"""^\s*(?:
        [$%]\s | >>> | \.\.\.\s | \#!
      | (?:import|from)\s+[\w.]+ | (?:def|class|async\s+def)\s+\w | @[\w.]+
      | (?:automorph|python3?|pip|make|ray|mkdocs|pytest|git|cd|export|docker|psql|uv|sudo)(?:\s|$)
      | [\w.\[\]"']+\s*=\s*\S       # an assignment
      | [\w.]+\(                      # a call
    )""",
    re.VERBOSE,
)


def looks_like_code(text: str) -> bool:
    """Whether a block holds a shell command, a prompt or Python."""
    return any(CODE_LINE.match(line) for line in text.splitlines())


def test_a_text_block_with_a_command_or_python_is_recognized() -> None:
    for code in ("$ automorph studies", "ray start --head", "am.tune(objective, space)",
                 "x = am.floatv(0, 1)", ">>> 1 + 1", "import optuna", "@algorithms.register('a')",
                 "python -m automorph.benchmarks list", "def f():"):  # fmt: skip
        assert looks_like_code(code), code
    for prose in ("utils            small helpers, no automorph imports",
                  "hyper            hyper-values (oneof, manyof) -> DNASpec",
                  "--- domain packages, each a client of the layers above ---"):  # fmt: skip
        assert not looks_like_code(prose), prose


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_code_block_of_the_page_is_run_or_checked(page: Path) -> None:
    rel = page.relative_to(DOCS).as_posix()
    problems = []
    for lang, title, body in blocks(page):
        if lang in ("pycon", "python"):
            if not body.lstrip().startswith(">>>"):
                problems.append(f"a {lang} block that is not a doctest: {body[:60]!r}")
        elif lang == "sh":
            if (rel, title) in RUN_SHELL:
                continue  # a test runs it
            for raw in body.splitlines():
                line = raw.split("#", 1)[0].strip()
                if line and (problem := _command_problem(line)):
                    problems.append(problem)
        elif lang == "text":
            if looks_like_code(body):
                problems.append(
                    "a text block holds a command or Python, which must run (as ```pycon, "
                    f"or ```sh in a block a test runs): {body[:60]!r}"
                )
        else:
            problems.append(f"a block in {lang or 'no language'}: mark it pycon, sh or text")
    assert not problems, problems


def test_the_shell_blocks_that_tests_run_exist() -> None:
    names = {name for name, value in globals().items() if name.startswith("test_")}
    for (page, title), test in RUN_SHELL.items():
        assert shell_lines(page, title), (page, title)
        assert test in names, f"{page}: the block {title!r} names {test}, which does not exist"


def test_no_image_is_kept_in_docs() -> None:
    # The pages' figures are drawn by their code when the site is built.
    kept = [p.relative_to(ROOT).as_posix() for p in DOCS.rglob("*") if p.suffix in IMAGE_SUFFIXES]
    assert not kept, f"images in docs/ that no code draws: {kept}"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_image_of_the_page_is_drawn_by_its_code(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    drawn = {figure.src for figure in page_figures(text)}
    undrawn = [src for src in IMAGE.findall(text) if src not in drawn]
    assert not undrawn, f"images without data-figure (the code that draws them): {undrawn}"


def test_the_figures_of_the_pages_are_on_the_site(site: Path) -> None:
    count = 0
    for page in PAGES:
        rel = page.relative_to(DOCS).with_suffix("")
        for figure in page_figures(page.read_text(encoding="utf-8")):
            built = site / rel.parent / figure.src
            assert built.is_file(), f"{rel}: the figure {figure.src} is not on the site"
            assert built.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and built.stat().st_size > 10_000
            html = site / ("index.html" if rel.name == "index" else rel / "index.html")
            assert f'src="../{figure.src}"' in html.read_text(encoding="utf-8"), figure.src
            count += 1
    assert count >= 6  # getting started, the tuning, command-line and benchmarks guides


def test_the_benchmark_pages_name_scripts_that_exist() -> None:
    named = {
        path
        for page in BENCHMARK_PAGES
        for _, body in FENCE.findall(page.read_text(encoding="utf-8"))
        for path in re.findall(r"\b((?:benchmarks|examples)/\w+\.py)\b", body)
    }
    assert named, "the benchmark pages name no script"
    assert not [path for path in sorted(named) if not (ROOT / path).is_file()]
