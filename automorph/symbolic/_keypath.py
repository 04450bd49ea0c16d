"""`KeyPath`: the address of a value inside a symbolic tree."""

from __future__ import annotations

import functools
import re
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from automorph.utils import KeyPathError, PathNotFoundError

Key = str | int
"""One step of a key path: a field or dict key (str), or a list index (int)."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"\[(-?\d+)\]")


class KeyPath:
    """An immutable path of keys from a root value to a value under it.

    String keys address fields of objects and keys of dicts; integer keys
    address list items. A key path prints and parses as Python would write
    the access, and compares equal to (and hashes like) that string.

    >>> p = KeyPath.parse("model.layers[2].filters")
    >>> p.keys
    ('model', 'layers', 2, 'filters')
    >>> str(p.parent), p.key
    ('model.layers[2]', 'filters')
    >>> p == "model.layers[2].filters"
    True
    >>> str(KeyPath(["d", "not an identifier"]))
    "d['not an identifier']"
    """

    __slots__ = ("_keys", "_str")

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        keys = tuple(keys)
        for i, key in enumerate(keys):
            if type(key) is not str and type(key) is not int:
                raise KeyPathError(
                    f"key #{i} of a key path must be a str or an int, "
                    f"got {type(key).__name__} ({key!r})",
                    path="",
                )
        self._keys: tuple[Key, ...] = keys
        self._str: str | None = None

    @classmethod
    def _trusted(cls, keys: tuple[Key, ...]) -> KeyPath:
        path = cls.__new__(cls)
        path._keys = keys
        path._str = None
        return path

    @staticmethod
    def parse(text: str | KeyPath) -> KeyPath:
        """Parses `a.b[2]['c d']` into a key path; a KeyPath is returned as is.

        Raises:
            KeyPathError: If `text` is not a well-formed key path.
        """
        if isinstance(text, KeyPath):
            return text
        if not isinstance(text, str):
            raise KeyPathError(
                f"a key path must be a str or a KeyPath, got {type(text).__name__} ({text!r})"
            )
        return _parse_cached(text)

    @property
    def keys(self) -> tuple[Key, ...]:
        """The keys from the root down, as a tuple."""
        return self._keys

    @property
    def key(self) -> Key | None:
        """The last key, or None for the root path."""
        return self._keys[-1] if self._keys else None

    @property
    def parent(self) -> KeyPath:
        """The path without its last key.

        Raises:
            PathNotFoundError: If this is the root path.
        """
        if not self._keys:
            raise PathNotFoundError("the root key path has no parent", path="")
        return KeyPath._trusted(self._keys[:-1])

    @property
    def depth(self) -> int:
        """Number of keys in the path; 0 for the root."""
        return len(self._keys)

    @property
    def is_root(self) -> bool:
        """Whether the path has no keys."""
        return not self._keys

    def child(self, key: Key) -> KeyPath:
        """The path one level down, at `key`."""
        return KeyPath._trusted((*self._keys, key))

    def __truediv__(self, other: Key | KeyPath | str) -> KeyPath:
        if isinstance(other, KeyPath):
            return KeyPath._trusted(self._keys + other._keys)
        if isinstance(other, int):
            return self.child(other)
        return KeyPath._trusted(self._keys + KeyPath.parse(other)._keys)

    def is_prefix_of(self, other: KeyPath | str) -> bool:
        """Whether `other` equals this path or lies under it."""
        keys = KeyPath.parse(other)._keys
        return keys[: len(self._keys)] == self._keys

    def relative_to(self, prefix: KeyPath | str) -> KeyPath:
        """This path with `prefix` removed from its front.

        Raises:
            KeyPathError: If `prefix` is not a prefix of this path.
        """
        prefix = KeyPath.parse(prefix)
        if not prefix.is_prefix_of(self):
            raise KeyPathError(f"{prefix!s} is not a prefix of {self!s}", path=self)
        return KeyPath._trusted(self._keys[len(prefix._keys) :])

    def get(self, root: Any) -> Any:
        """The value this path addresses under `root`.

        Raises:
            PathNotFoundError: If some key does not exist, naming the path
                resolved so far.
        """
        value = root
        for i, key in enumerate(self._keys):
            value = _step(value, key, KeyPath._trusted(self._keys[:i]))
        return value

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __str__(self) -> str:
        if self._str is None:
            self._str = _format(self._keys)
        return self._str

    def __repr__(self) -> str:
        return f"KeyPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KeyPath):
            return self._keys == other._keys
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: KeyPath) -> bool:
        return _sort_key(self._keys) < _sort_key(other._keys)

    def __reduce__(self) -> tuple[Any, ...]:
        return (KeyPath, (self._keys,))


def _sort_key(keys: tuple[Key, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, k) if type(k) is int else (1, k) for k in keys)


def _step(value: Any, key: Key, where: KeyPath) -> Any:
    """Goes one key down from `value`, as `KeyPath.get` does."""
    from automorph.symbolic._base import Symbolic

    if isinstance(value, Symbolic):
        return value.sym_get(key, where)
    if type(key) is int and isinstance(value, (list, tuple)):
        if -len(value) <= key < len(value):
            return value[key]
    elif type(key) is str and isinstance(value, dict):
        if key in value:
            return value[key]
    raise PathNotFoundError(
        f"no key {key!r} in the {type(value).__name__} at `{where}`",
        path=where.child(key),
    )


def _format(keys: tuple[Key, ...]) -> str:
    parts: list[str] = []
    for key in keys:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif _IDENT.fullmatch(key):
            parts.append(f".{key}" if parts else key)
        else:
            parts.append(f"[{key!r}]")
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> KeyPath:
    return KeyPath._trusted(tuple(_parse(text)))


def _parse(text: str) -> Generator[Key, None, None]:
    pos, n = 0, len(text)
    while pos < n:
        ch = text[pos]
        if ch == "[":
            pos = yield from _parse_bracket(text, pos)
            continue
        if ch == ".":
            if pos == 0 or pos + 1 >= n:
                raise _malformed(text, pos, "a key path may not start or end with '.'")
            pos += 1
        elif pos != 0:
            raise _malformed(text, pos, f"expected '.' or '[', found {ch!r}")
        match = _IDENT.match(text, pos)
        if match is None:
            raise _malformed(
                text, pos, "expected a name (letters, digits, '_'), or '[' for an index"
            )
        yield match.group()
        pos = match.end()


def _parse_bracket(text: str, pos: int) -> Generator[Key, None, int]:
    """Parses `[3]` or `['key']` at `pos`; returns the position after it."""
    match = _INDEX.match(text, pos)
    if match is not None:
        yield int(match.group(1))
        return match.end()
    if pos + 1 < len(text) and text[pos + 1] in "'\"":
        quote, i, chars = text[pos + 1], pos + 2, []
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                char, i = _unescape(text, i)
                chars.append(char)
                continue
            if ch == quote:
                if text[i + 1 : i + 2] != "]":
                    raise _malformed(text, i + 1, "expected ']' after a quoted key")
                yield "".join(chars)
                return i + 2
            chars.append(ch)
            i += 1
        raise _malformed(text, pos, "unterminated quoted key")
    raise _malformed(text, pos, "'[' must hold an integer index or a quoted key")


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _unescape(text: str, i: int) -> tuple[str, int]:
    """Decodes the escape at `text[i]` (a backslash), as `repr` writes one.

    Returns the character and the position after the escape. A backslash
    before any other character stands for that character.
    """
    ch = text[i + 1]
    if ch in _ESCAPES:
        return _ESCAPES[ch], i + 2
    width = _HEX_ESCAPES.get(ch)
    if width is not None:
        digits = text[i + 2 : i + 2 + width]
        if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
            code = int(digits, 16)
            if code <= 0x10FFFF:
                return chr(code), i + 2 + width
    return ch, i + 2


def _malformed(text: str, pos: int, why: str) -> KeyPathError:
    return KeyPathError(f"malformed key path {text!r} at position {pos}: {why}", path=text)
