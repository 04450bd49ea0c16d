"""Algebraic terms: the right-hand sides of productions, and their text form.

A term is a terminal (`relu`), a nonterminal (`CONV`), or an operator applied
to terms (`Sequential(CONV, relu)`). In text, a bare name that starts with an
upper-case letter is a nonterminal, any other bare name a terminal, and a name
followed by `(` an operator; a name in single quotes is always a terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from automorph.utils import SearchSpaceError

__all__ = ["GrammarError", "Nonterminal", "Op", "Term", "Terminal", "parse_term"]


class GrammarError(SearchSpaceError):
    """A grammar (or a derivation, or its text) is not well formed.

    >>> try:
    ...     parse_term("Sequential(a, ")
    ... except GrammarError as e:
    ...     print(e)
    malformed term 'Sequential(a, ' at column 15: expected a name
    """


@dataclass(frozen=True)
class Terminal:
    """A terminal symbol: a primitive of the architecture (an operation)."""

    name: str

    def __str__(self) -> str:
        return (
            self.name
            if _NAME.fullmatch(self.name) and not self.name[0].isupper()
            else (f"'{self.name}'")
        )


@dataclass(frozen=True)
class Nonterminal:
    """A nonterminal symbol: a placeholder that a production rewrites."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Op:
    """An operator (a topology such as `Sequential`, `Residual`, `Cell`) over terms."""

    name: str
    args: tuple[Term, ...]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


Term = Terminal | Nonterminal | Op
"""A term of a production's right-hand side: a terminal, a nonterminal or an operator."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)|'(?P<quoted>[^']+)'|(?P<punct>[(),]))"
)


def nonterminals_of(term: Term) -> list[str]:
    """The nonterminal names in `term`, left to right (with repeats)."""
    if isinstance(term, Nonterminal):
        return [term.name]
    if isinstance(term, Op):
        return [n for a in term.args for n in nonterminals_of(a)]
    return []


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.pos = 0
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while True:
            stripped = len(text) - len(text[pos:].lstrip())
            if stripped >= len(text):
                break
            m = _TOKEN.match(text, pos)
            if m is None:
                self.fail(stripped, f"unexpected character {text[stripped]!r}")
            assert m is not None
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()

    def fail(self, column: int, problem: str) -> None:
        raise GrammarError(
            f"malformed term {self.text!r}{self.where} at column {column + 1}: {problem}"
        )

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def term(self) -> Term:
        token = self.peek()
        if token is None or token[0] == "punct":
            self.fail(token[2] if token else len(self.text), "expected a name")
        assert token is not None
        kind, value, _ = token
        self.pos += 1
        if kind == "quoted":
            return Terminal(value)
        following = self.peek()
        if following is None or following[1] != "(":
            return Nonterminal(value) if value[0].isupper() else Terminal(value)
        self.pos += 1
        args = [self.term()]
        while True:
            token = self.peek()
            if token is None:
                self.fail(len(self.text), f"unclosed '(' of {value!r}")
            assert token is not None
            self.pos += 1
            if token[1] == ")":
                return Op(value, tuple(args))
            if token[1] != ",":
                self.fail(token[2], f"expected ',' or ')', got {token[1]!r}")
            args.append(self.term())

    def whole(self) -> Term:
        result = self.term()
        token = self.peek()
        if token is not None:
            self.fail(token[2], f"unexpected {token[1]!r} after the term")
        return result


def parse_term(text: str, where: str = "") -> Term:
    """The term that `text` writes, e.g. `Sequential(CONV, 'relu')`.

    Args:
        text: The term.
        where: Appended to error messages (for example ` (line 3)`).

    Raises:
        GrammarError: If `text` is not a well-formed term; the message quotes
            it and gives the column.

    >>> parse_term("Residual(C, id, 'Down')")
    Op(name='Residual', args=(Nonterminal(name='C'), Terminal(name='id'), Terminal(name='Down')))
    """
    return _Parser(text, where).whole()
