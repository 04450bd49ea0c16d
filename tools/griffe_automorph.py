"""Griffe extensions for the documentation site (mkdocs.yml names them).

`DoctestFences`: doctest examples as code blocks. automorph's docstrings put
their `>>>` examples in the running text (pytest runs them with
`--doctest-modules`), not under an `Examples:` section. Markdown would read
`>>>` as nested block quotes, so this extension wraps each run of doctest lines
(from a `>>>` line to the next blank line) in a fenced `pycon` block before
mkdocstrings renders the docstring. Doctest directives (`# doctest: +ELLIPSIS`)
and `<BLANKLINE>` markers are for the test runner, not the reader: they are
dropped from the rendered copy. The source docstrings are not changed.

`SymbolicSignatures`: the signature of a symbolic class. An `am.Object` subclass
declares its fields as annotations and inherits one `__init__(*args, **kwargs)`,
so static analysis sees no parameters. This extension gives each such class the
signature its constructor really has: the fields from the class's compiled schema
(`sym_schema()`, base classes' fields first), positional or keyword-only as
declared, with their annotations as written in the source and their defaults.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from typing import Any

import griffe

_DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")


def fence_doctests(text: str) -> str:
    """`text` with each block of doctest lines wrapped in a fenced `pycon` block.

    A block starts at a line whose first non-blank characters are `>>>` and ends
    before the next blank line (doctest's own rule for where an expected output
    ends). The fence keeps the block's indentation, and a blank line is put
    before and after it so that Markdown sees a block of its own.

    >>> fence_doctests("Add:\\n>>> 1 + 1  # doctest: +ELLIPSIS\\n2\\n\\nDone.").splitlines()
    ['Add:', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'Done.']
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            code = lines[i]
            if code.lstrip().startswith((">>>", "...")):
                code = _DIRECTIVE.sub("", code)
            elif code.strip() == "<BLANKLINE>":
                code = indent
            out.append(code)
            i += 1
        out.append(f"{indent}```")
        if i < len(lines):
            out.append("")
            i += 1  # the blank line that ended the block
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Wraps every docstring's doctest examples in fenced `pycon` blocks."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        todo: list[griffe.Object] = [pkg]
        while todo:
            obj = todo.pop()
            if obj.docstring is not None and ">>>" in obj.docstring.value:
                obj.docstring.value = fence_doctests(obj.docstring.value)
            todo.extend(m for m in obj.members.values() if not m.is_alias)  # type: ignore[misc]


def _runtime_class(cls: griffe.Class) -> Any:
    """The class object `cls` describes, or None if it cannot be imported."""
    try:
        value: Any = importlib.import_module(cls.module.path)
        for part in cls.path[len(cls.module.path) + 1 :].split("."):
            value = getattr(value, part)
    except Exception:  # noqa: BLE001 - a class the docs cannot import keeps its static signature
        return None
    return value


def _annotation(owner: type, name: str, cls: griffe.Class, loader: griffe.GriffeLoader) -> Any:
    """The annotation of field `name` as written in `owner`'s source, as an expression
    resolved where it was written (so that it links), else as text."""
    text = inspect.get_annotations(owner).get(name)
    if not isinstance(text, str):
        return None if text is None else getattr(text, "__name__", repr(text))
    scope: Any = cls
    path = f"{owner.__module__}.{owner.__qualname__}"
    if path != cls.path:
        try:
            scope = loader.modules_collection[path]
        except (KeyError, ValueError, AttributeError):
            return text
    try:
        return griffe.get_expression(ast.parse(text, mode="eval").body, parent=scope) or text
    except (SyntaxError, ValueError, AttributeError, KeyError):
        return text


class SymbolicSignatures(griffe.Extension):
    """Gives every `am.Object` subclass the signature of its fields."""

    def on_class(self, *, cls: griffe.Class, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        from automorph import MISSING, Object

        klass = _runtime_class(cls)
        if not (isinstance(klass, type) and issubclass(klass, Object)) or "__init__" in cls.members:
            return
        try:
            schema = klass.sym_schema()
        except Exception:  # noqa: BLE001 - an abstract class without a schema keeps its own
            return
        params = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
        # Positional fields first: a base's keyword-only fields (after its `_: KW_ONLY`)
        # come before a subclass's positional ones in the schema, not in a signature.
        ordered = [n for n in schema.names if n in schema.positional]
        ordered += [n for n in schema.names if n not in schema.positional]
        for name in ordered:
            owner = next((k for k in klass.__mro__ if name in inspect.get_annotations(k)), klass)
            default = schema.defaults.get(name, MISSING)
            kind = (
                griffe.ParameterKind.positional_or_keyword
                if name in schema.positional
                else griffe.ParameterKind.keyword_only
            )
            params.append(
                griffe.Parameter(
                    name,
                    annotation=_annotation(owner, name, cls, loader),
                    kind=kind,
                    default=None if default is MISSING else repr(default),
                )
            )
        if schema.open is not None:
            params.append(griffe.Parameter("kwargs", kind=griffe.ParameterKind.var_keyword))
        init = griffe.Function("__init__", parameters=griffe.Parameters(*params), returns="None")
        cls.set_member("__init__", init)
