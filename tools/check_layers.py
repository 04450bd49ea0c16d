"""Checks that automorph's layers import only downwards (DESIGN.md §1).

Every `import` and `from ... import` in the package is read with `ast` (so
imports inside functions and under TYPE_CHECKING count too) and checked
against the table below. Run: `python tools/check_layers.py [package_dir]`;
exit status 1 and one line per violation if any layer imports upwards.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = ["utils", "symbolic", "geno", "hyper", "algorithms", "early_stopping", "storage", "tuning"]
DOMAIN = ["grammar", "zero", "nn", "benchmarks"]
TOP = ["viz", "dashboard", "cli"]

# What each layer may import, besides itself.
ALLOWED: dict[str, set[str]] = {
    "utils": set(),
    "symbolic": {"utils"},
    "geno": {"utils", "symbolic"},
    "hyper": {"utils", "symbolic", "geno"},
    # Algorithms see only the genotype: never hyper-values, storage or a program.
    "algorithms": {"utils", "symbolic", "geno"},
    "early_stopping": {"utils", "symbolic", "geno"},
    # Storage keeps DNA and measurements as data; it never imports an algorithm.
    "storage": {"utils", "symbolic", "geno", "hyper"},
    "tuning": {"utils", "symbolic", "geno", "hyper", "algorithms", "early_stopping", "storage"},
}
for _name in DOMAIN:
    # A domain package uses the core; other domain packages only via `automorph`.
    ALLOWED[_name] = set(CORE) | {"<api>"}
ALLOWED["viz"] = set(CORE) | {"<api>"}
# The contract suites test every core layer's implementations.
ALLOWED["testing"] = set(CORE) | {"<api>"}
ALLOWED["dashboard"] = set(CORE) | set(DOMAIN) | {"viz", "<api>"}
ALLOWED["cli"] = set(CORE) | set(DOMAIN) | {"viz", "dashboard", "<api>"}


def layer_of(module: str) -> str | None:
    """The layer a module `automorph.x.y` belongs to; `<api>` for `automorph` itself."""
    parts = module.split(".")
    if parts[0] != "automorph":
        return None
    if len(parts) == 1:
        return "<api>"
    return parts[1].lstrip("_") if parts[1].lstrip("_") in ALLOWED else parts[1]


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "automorph":
                # `from automorph import symbolic` names a layer, not the API.
                for alias in node.names:
                    sub = f"automorph.{alias.name}"
                    found.append((node.lineno, sub if layer_of(sub) in ALLOWED else target))
            else:
                found.append((node.lineno, target))
    return found


def check(package_dir: Path) -> list[str]:
    """One message per import that goes against the layer table."""
    package_dir = package_dir.resolve()
    root = package_dir.parent
    problems: list[str] = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        is_package = rel.name == "__init__"
        module = ".".join(rel.parts[:-1] if is_package else rel.parts)
        layer = layer_of(module)
        if layer == "<api>":
            continue  # the top-level facade re-exports every layer
        if layer not in ALLOWED:
            problems.append(f"{path}: `{module}` is in no layer of DESIGN.md §1")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for lineno, target in _imports(tree, module, is_package):
            other = layer_of(target)
            if other is None or other == layer:
                continue
            if other not in ALLOWED[layer]:
                what = "the public API `automorph`" if other == "<api>" else f"`{other}`"
                problems.append(
                    f"{path}:{lineno}: layer `{layer}` imports {what} ({target}); "
                    f"it may import only: {', '.join(sorted(ALLOWED[layer])) or 'nothing'}"
                )
    return problems


def main(argv: list[str]) -> int:
    package = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent.parent / "automorph"
    problems = check(package)
    for line in problems:
        print(line)
    print(f"layers: {len(problems)} violation(s) in {package}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
