"""DNASpec: the tree of decision points of a search space.

A `Space` is a list of decision points. A `Choices` picks one or more of its
candidates, each a `Space` of its own (conditional spaces); `Float` and `Int`
pick numbers; a `CustomDecisionPoint` picks a structure through user hooks.

Decision ids are key paths: a decision at `layers[0].op` has that id; the
decisions inside candidate `i` of a choice `op` have ids under `op[=i]` (for
example `op[=2].filters`); the picks of a choice of several (`manyof`) have
ids `op[0]`, `op[1]`, ... Only the decisions of chosen candidates are active
in a DNA.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import KW_ONLY
from typing import Any

import numpy as np

from automorph.geno._dna import DNA
from automorph.geno._walk import (
    NO_DRAWS,
    Draws,
    Factory,
    Pairs,
    Start,
    complete_symmetric,
    constant,
    elementary_symmetric,
    factory,
    join,
    product,
)
from automorph.symbolic import Object
from automorph.utils import MISSING, FieldTypeError, InvalidDNAError, SearchSpaceError

# provider(decision_id, point) -> a value to use for that decision, or MISSING to sample it.
Provider = Callable[[str, "DecisionPoint"], Any]


class DecisionPoint(Object, type_name="automorph.DecisionPoint"):
    """One decision of a search space.

    Attributes:
        location: Key path of the decision in its enclosing space (set by
            `am.dna_spec` to where the hyper-value sits).
        name: Optional user name, unique in the whole space.
    """

    _: KW_ONLY
    location: str = ""
    name: str | None = None

    def _sample(
        self, prefix: str, draws: Draws, out: dict[str, Any], fill: Provider | None
    ) -> None:
        """Puts this decision's value in `out`: `fill`'s, else a draw (a single
        decision; `Choices` overrides)."""
        decision_id = join(prefix, self.location)
        value = fill(decision_id, self) if fill is not None else MISSING
        if value is _PLACEHOLDER:
            value = self._stand_in()
        elif value is MISSING:
            value = self._draw(draws)
        out[decision_id] = value

    def _draw(self, draws: Draws) -> Any:
        """A random value of this decision."""
        raise NotImplementedError

    def _stand_in(self) -> Any:
        """A value for walks that only list decisions (never stored)."""
        return None

    def _check(self, prefix: str, values: Mapping[str, Any], seen: list[str]) -> None:
        """Checks this decision's value in `values` (a single decision; `Choices` overrides)."""
        decision_id = join(prefix, self.location)
        if decision_id not in values:
            raise _invalid(decision_id, f"missing the decision {decision_id!r}")
        self.check_value(decision_id, values[decision_id])
        seen.append(decision_id)

    def _read(self, prefix: str, numbers: Iterator[Any], out: dict[str, Any]) -> None:
        """Reads this decision's value from `numbers` (a single decision)."""
        decision_id = join(prefix, self.location)
        value = next(numbers, MISSING)
        if value is MISSING:
            raise _invalid(decision_id, f"too few numbers: nothing for {decision_id!r}")
        out[decision_id] = self._from_number(value)

    def _from_number(self, value: Any) -> Any:
        """The decision's value for a number read by `from_numbers`."""
        return value

    def _enumerate(
        self, prefix: str, float_points: int | None, start: Start = None
    ) -> Iterator[list[tuple[str, Any]]]:
        """This decision's values in order; from `start`'s value on (those not
        below it) when a `start` DNA is given."""
        raise NotImplementedError

    def _check_enumerable(self, prefix: str, float_points: int | None) -> None:
        """Raises, naming the decision, if it cannot be enumerated (as asked)."""

    def _size(self) -> int | float:
        raise NotImplementedError

    def _points(self) -> Iterator[DecisionPoint]:
        yield self

    def check_value(self, decision_id: str, value: Any) -> None:
        """Raises `InvalidDNAError` naming `decision_id` if `value` does not fit."""
        raise NotImplementedError


class Space(Object, type_name="automorph.Space"):
    """A search space's genotype: an ordered list of decision points.

    >>> import automorph as am
    >>> spec = am.dna_spec(am.Dict(op=am.oneof(["a", "b", "c"]), n=am.intv(1, 4)))
    >>> spec.size
    12
    >>> [str(d) for d in spec.iter_dna()][:2]
    ["DNA({'op': 0, 'n': 1})", "DNA({'op': 0, 'n': 2})"]
    >>> spec.random_dna(np.random.default_rng(0))
    DNA({'op': 1, 'n': 2})
    """

    elements: list[DecisionPoint] = []

    def _on_bound(self) -> None:
        # A new token whenever this space (or anything in it) changes: DNA
        # validated against an older version are checked again.
        self._token = object()
        if self.sym_parent is None:
            names: dict[str, DecisionPoint] = {}
            ids: dict[str, str] = {}  # name -> the id where it was first seen
            points_of_ids: dict[str, DecisionPoint] = {}
            for prefix, point in self._first_ids(""):
                decision_id = _id_of(prefix, point)
                points_of_ids.setdefault(decision_id, point)
                if point.name is not None:
                    if point.name in names and names[point.name] is not point:
                        raise SearchSpaceError(
                            f"the decision name {point.name!r} is used twice (at "
                            f"`{ids[point.name]}` and `{decision_id}`)",
                            path=decision_id,
                        )
                    names[point.name] = point
                    ids.setdefault(point.name, decision_id)
            for name, point in names.items():
                other = points_of_ids.get(name)
                if other is not None and other is not point:
                    # A DNA dict keyed by names and ids would hold two decisions under one key.
                    raise SearchSpaceError(
                        f"the decision name {name!r} (at `{ids[name]}`) is the id of another "
                        "decision; names must differ from every other decision's id",
                        path=ids[name],
                    )
            self._names = names

    # --- structure -----------------------------------------------------------

    def decision_points(self) -> list[DecisionPoint]:
        """Every decision point, active or not, top-down (candidates' included)."""
        return [p for e in self.elements for p in e._points()]

    @property
    def size(self) -> int | float:
        """Number of distinct DNA: an exact integer, or `math.inf`."""
        sizes = [element._size() for element in self.elements]
        if math.inf in sizes:  # before any product: an int beyond floats times inf overflows
            return math.inf
        total = 1
        for size in sizes:
            total *= int(size)
        return total

    @property
    def is_finite(self) -> bool:
        """Whether the space has finitely many DNA."""
        return self.size != math.inf

    def point(self, name: str) -> DecisionPoint:
        """The decision point with this user name.

        Raises:
            KeyError: If no decision has that name.
        """
        return self._names[name]

    # --- DNA -------------------------------------------------------------------

    def _sample_into(
        self, prefix: str, draws: Draws, out: dict[str, Any], fill: Provider | None
    ) -> None:
        for element in self.elements:
            element._sample(prefix, draws, out, fill)

    def random_dna(self, rng: np.random.Generator, fill: Provider | None = None) -> DNA:
        """A DNA drawn from `rng`.

        Args:
            rng: The random generator; the same generator state gives the same DNA.
            fill: Optional `fill(decision_id, point)` returning a value to use
                for a decision, or `MISSING` to draw it; mutation and crossover
                use it to keep some decisions and redraw the rest.
        """
        out: dict[str, Any] = {}
        self._sample_into("", Draws(rng), out, fill)
        # Drawn values are valid by construction; values given by `fill` are not.
        return DNA._trusted(out, self._token if fill is None else None)

    def validate(self, dna: Mapping[str, Any]) -> None:
        """Checks that `dna` fits this space.

        Raises:
            InvalidDNAError: Naming the decision id: a missing decision, a value
                out of range, or a decision this space does not have (a DNA
                from another space).
        """
        if getattr(dna, "_valid_for", None) is self._token:
            return
        seen: list[str] = []
        for element in self.elements:
            element._check("", dna, seen)
        if len(seen) != len(dna):
            extra = [k for k in dna if k not in set(seen)]
            raise InvalidDNAError(
                f"unknown decision {extra[0]!r}: this space has no such active decision "
                "(is the DNA from another search space?)",
                path=extra[0],
            )
        if isinstance(dna, DNA):
            dna._valid_for = self._token

    def dna_from_numbers(self, numbers: list[Any]) -> DNA:
        """The DNA whose values in decision order are `numbers`."""
        out: dict[str, Any] = {}
        it = iter(numbers)
        for element in self.elements:
            element._read("", it, out)
        rest = list(it)
        if rest:
            raise InvalidDNAError(
                f"{len(rest)} numbers left over after reading a DNA of {len(out)} decisions"
            )
        dna = DNA._trusted(out)
        self.validate(dna)
        return dna

    def dna_from_dict(
        self, values: Mapping[str, Any], use_ints_as_literals: bool | None = False
    ) -> DNA:
        """The DNA for values keyed by decision id or by decision name.

        A named choice of several picks is keyed `name[0]`, `name[1]`, ...; a
        name active at several ids (inside the candidates of such a choice)
        stands for the first of them, as in `names_of`. A choice's value is
        its candidate index, a choice string ("1/3"), or the candidate's
        literal (see `DNA.to_dict`); an int is an index unless
        `use_ints_as_literals` (None: whichever the int can be, and an error
        where it could be either and they differ).

        Raises:
            InvalidDNAError: If the values do not make a DNA of this space.
        """
        used: set[str] = set()

        def convert(key: str, point: DecisionPoint, value: Any) -> Any:
            used.add(key)
            if isinstance(point, Choices):
                return point.index_of(key, value, use_ints_as_literals)
            return value

        ordered = {}
        for decision_id, _, value in self._active_ids(values, convert):
            if value is not MISSING:
                ordered[decision_id] = value
        for key in values:
            if key not in used:  # reported by `validate` as an unknown decision
                ordered.setdefault(key, values[key])
        dna = DNA._trusted(ordered)
        self.validate(dna)
        return dna

    def _active_ids(
        self,
        values: Mapping[str, Any],
        convert: Callable[[str, DecisionPoint, Any], Any] | None = None,
    ) -> list[tuple[str, DecisionPoint, Any]]:
        """(id, point, value) of the decisions active under `values` (keyed by
        id, or by name for the first id that has the name), each value passed
        through `convert(key, point, value)` where given."""
        found: list[tuple[str, DecisionPoint, Any]] = []
        names_used: set[str] = set()

        def fill(decision_id: str, point: DecisionPoint) -> Any:
            key = decision_id
            value = values.get(decision_id, MISSING)
            name = _name_key(decision_id, point)
            if value is MISSING and name is not None and name not in names_used:
                key, value = name, values.get(name, MISSING)
            if name is not None:
                names_used.add(name)
            if value is not MISSING and convert is not None:
                value = convert(key, point, value)
            found.append((decision_id, point, value))
            return value if value is not MISSING else _PLACEHOLDER

        self._sample_into("", NO_DRAWS, {}, fill)
        return found

    def names_of(self, dna: DNA) -> dict[str, Any]:
        """The decisions of `dna`, keyed by name where the decision has one.

        The picks of a named choice of several are keyed `name[0]`, `name[1]`,
        ...; where a name is active at several ids, the first is keyed by the
        name and the others by id. `dna_from_dict` reads the result back.
        """
        return self.dna_to_dict(dna, "name", "value")

    def dna_to_dict(self, dna: DNA, key: str, value_type: str) -> dict[str, Any]:
        """`dna` as a dict keyed by "id" or "name", choice values given as
        "value", "choice" or "literal" (see `DNA.to_dict`)."""
        self.validate(dna)
        out: dict[str, Any] = {}
        for decision_id, point, value in self._active_ids(dna):
            name = _name_key(decision_id, point) if key == "name" else None
            if isinstance(point, Choices) and value_type != "value":
                value = point.show(value, literal=value_type == "literal")
            out[name if name is not None and name not in out else decision_id] = value
        return out

    def iter_dna(
        self, start: Mapping[str, Any] | None = None, *, float_points: int | None = None
    ) -> Iterator[DNA]:
        """Every DNA of the space in order, or those after `start`.

        The order is the one `DNA` sorts by: decisions compared one by one
        in decision order (a choice's candidate index, then the decisions
        inside that candidate, then the next decision), so the last decision
        varies fastest, and `sorted` of any DNA of the space agrees with it.

        Args:
            start: A DNA of the space; the walk yields only the DNA after it
                (as PyGlove's `iter_dna(dna)` does). A float value off the grid
                is allowed: the walk goes on from the next grid point.
            float_points: Grid points per float decision (linear or log as
                the decision's scale); without it a space with floats cannot
                be enumerated.

        Raises:
            SearchSpaceError: If the space has a float and no `float_points`,
                or a custom decision that cannot enumerate its values.
            InvalidDNAError: If `start` does not fit the space.
        """
        if start is not None and not isinstance(start, Mapping):
            raise FieldTypeError(
                f"`iter_dna`'s first argument is the DNA to start after, got {start!r}; "
                "pass the grid size by keyword: `iter_dna(float_points=...)`"
            )
        # Fail before the first DNA, not mid-walk when a candidate is reached.
        for prefix, point in self._first_ids(""):
            point._check_enumerable(prefix, float_points)
        if start is not None:
            self.validate(start)
        walk = product([factory(e, "", float_points) for e in self.elements], start)
        first = start is not None
        for pairs in walk:
            values = dict(pairs)
            if first:
                first = False
                if values == dict(start):  # type: ignore[arg-type]
                    continue  # the walk starts at `start` itself
            yield DNA._trusted(values, self._token)

    def first_dna(self, float_points: int | None = None) -> DNA:
        """The first DNA of `iter_dna()` (every choice's first candidate, every
        number at its minimum).

        Raises:
            SearchSpaceError: As `iter_dna` does.
        """
        return next(self.iter_dna(float_points=float_points))

    def next_dna(
        self, dna: Mapping[str, Any] | None = None, float_points: int | None = None
    ) -> DNA | None:
        """The DNA after `dna` in `iter_dna()` order; None after the last, and
        the first DNA when `dna` is None (as in PyGlove).

        Raises:
            SearchSpaceError: As `iter_dna` does.
            InvalidDNAError: If `dna` does not fit the space.
        """
        return next(self.iter_dna(dna, float_points=float_points), None)

    def _first_ids(self, prefix: str) -> Iterator[tuple[str, DecisionPoint]]:
        """(prefix, point) of every decision point, active or not, under the
        first pick of each choice (the id it has in some DNA)."""
        for element in self.elements:
            yield prefix, element
            if isinstance(element, Choices):
                first = _id_of(prefix, element)
                for i, candidate in enumerate(element.candidates):
                    yield from candidate._first_ids(f"{first}[={i}]")


_PLACEHOLDER = object()
_CHOICE = re.compile(r"(\d+)/(\d+)")


def _id_of(prefix: str, point: DecisionPoint) -> str:
    """The id of `point` under `prefix` (of its first pick, for a choice of several)."""
    if isinstance(point, Choices):
        return point.pick_ids(prefix)[0]
    return join(prefix, point.location)


def _name_key(decision_id: str, point: DecisionPoint) -> str | None:
    """The key of decision `decision_id` in a dict keyed by name: its point's
    name (with the pick's `[j]` for a choice of several picks), or None."""
    if point.name is None:
        return None
    if isinstance(point, Choices) and point.num_choices > 1:
        return point.name + decision_id[decision_id.rindex("[") :]
    return point.name


def _invalid(decision_id: str, message: str) -> InvalidDNAError:
    return InvalidDNAError(message, path=decision_id)


class Choices(DecisionPoint, type_name="automorph.Choices"):
    """Picks `num_choices` of the candidates; each candidate is a sub-space.

    `distinct` picks are all different; `sorted` picks are in increasing
    order. The value of each pick is the index of the chosen candidate.
    """

    candidates: list[Space]
    num_choices: int = 1
    distinct: bool = True
    sorted: bool = False
    literal_values: list[str] | None = None

    def _on_bound(self) -> None:
        n, k = len(self.candidates), self.num_choices
        if n == 0:
            raise SearchSpaceError("a choice needs at least one candidate", path=self.location)
        if k < 1:
            raise SearchSpaceError(f"`num_choices` ({k}) must be at least 1", path=self.location)
        if self.distinct and k > n:
            raise SearchSpaceError(
                f"cannot pick {k} distinct candidates out of {n}", path=self.location
            )
        self._trivial = [not c.elements for c in self.candidates]

    def _points(self) -> Iterator[DecisionPoint]:
        yield self
        for candidate in self.candidates:
            for element in candidate.elements:
                yield from element._points()

    def pick_ids(self, prefix: str) -> list[str]:
        """The decision ids of the picks, under `prefix`."""
        base = join(prefix, self.location)
        if self.num_choices == 1:
            return [base]
        return [f"{base}[{j}]" for j in range(self.num_choices)]

    def _sample(
        self, prefix: str, draws: Draws, out: dict[str, Any], fill: Provider | None
    ) -> None:
        n = len(self.candidates)
        if self.num_choices == 1 and fill is None:  # the common case, kept fast
            decision_id = join(prefix, self.location)
            index = int(draws.next() * n)
            out[decision_id] = index
            if not self._trivial[index]:
                self.candidates[index]._sample_into(f"{decision_id}[={index}]", draws, out, fill)
            return
        ids = self.pick_ids(prefix)
        picks: list[int] = []
        for decision_id in ids:
            value: Any = fill(decision_id, self) if fill is not None else MISSING
            if value is _PLACEHOLDER:
                value = 0
            elif value is not MISSING:
                # A value from `fill` (or from `dna_from_dict`) indexes the candidates below.
                self.check_value(decision_id, value)
            if value is MISSING or (self.distinct and value in picks):
                if self.distinct:
                    free = [i for i in range(n) if i not in picks]
                    value = free[int(draws.next() * len(free))]
                else:
                    value = int(draws.next() * n)
            picks.append(value)
        if self.sorted:
            picks.sort()
        for decision_id, index in zip(ids, picks, strict=True):
            out[decision_id] = index
            if not self._trivial[index]:
                self.candidates[index]._sample_into(f"{decision_id}[={index}]", draws, out, fill)

    def _check(self, prefix: str, values: Mapping[str, Any], seen: list[str]) -> None:
        if self.num_choices == 1:  # the common case, kept fast
            decision_id = join(prefix, self.location)
            value = values.get(decision_id, MISSING)
            if value is MISSING:
                raise _invalid(decision_id, f"missing the decision {decision_id!r}")
            if type(value) is not int or not 0 <= value < len(self.candidates):
                self.check_value(decision_id, value)
            seen.append(decision_id)
            if not self._trivial[value]:
                for element in self.candidates[value].elements:
                    element._check(f"{decision_id}[={value}]", values, seen)
            return
        picks: list[int] = []
        for decision_id in self.pick_ids(prefix):
            if decision_id not in values:
                raise _invalid(decision_id, f"missing the decision {decision_id!r}")
            value = values[decision_id]
            self.check_value(decision_id, value)
            if self.distinct and value in picks:
                raise _invalid(decision_id, f"pick {value} repeats an earlier pick (distinct)")
            if self.sorted and picks and value < picks[-1]:
                raise _invalid(decision_id, f"picks must be sorted; {value} < {picks[-1]}")
            picks.append(value)
            seen.append(decision_id)
            for element in self.candidates[value].elements:
                element._check(f"{decision_id}[={value}]", values, seen)

    def check_value(self, decision_id: str, value: Any) -> None:
        if type(value) is not int or not 0 <= value < len(self.candidates):
            raise _invalid(
                decision_id,
                f"a choice among {len(self.candidates)} candidates must be an index in "
                f"[0, {len(self.candidates) - 1}], got {value!r}",
            )

    def show(self, index: int, literal: bool = False) -> Any:
        """Candidate `index` as a choice string ("1/3"), or as its literal
        value where it is a plain value that names it alone (else the
        choice string)."""
        if literal:
            value = self._literal(index)
            if value is not MISSING:
                return value
        return f"{index}/{len(self.candidates)}"

    def _literal(self, index: int) -> Any:
        texts = self.literal_values
        if texts is None or texts.count(texts[index]) > 1:
            return MISSING
        try:
            value = ast.literal_eval(texts[index])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return MISSING
        if type(value) not in (int, float, str, bool, type(None)):
            return MISSING
        if type(value) is str and _CHOICE.fullmatch(value):
            return MISSING  # would read back as a choice string
        return value

    def index_of(self, decision_id: str, value: Any, ints_as_literals: bool | None = False) -> Any:
        """The candidate index that `value` stands for: an index (an int,
        unless `ints_as_literals`), a choice string "i/n", or a candidate's
        literal value (as `show` writes it, or its text). With
        `ints_as_literals=None` an int is whichever it can be.

        Raises:
            InvalidDNAError: If a choice string or a literal names no
                candidate, or (with None) an int is an index of one candidate
                and the literal of another.
        """
        n = len(self.candidates)
        if type(value) is int and ints_as_literals is not True:
            if ints_as_literals is False or not self.literal_values:
                return value
            found = [i for i, text in enumerate(self.literal_values) if text == repr(value)]
            if not found or found == [value]:
                return value
            if len(found) == 1 and not 0 <= value < n:
                return found[0]
            raise _invalid(
                decision_id,
                f"{value} is both the index of candidate {value} and the literal of candidate "
                f"{found[0]}: pass `use_ints_as_literals=True` (literals) or False (indices), "
                f"or write a choice string such as '{value}/{n}'",
            )
        if type(value) is str:
            match = _CHOICE.fullmatch(value)
            if match is not None:
                if int(match.group(2)) != n:
                    raise _invalid(
                        decision_id,
                        f"the choice {value!r} is out of {match.group(2)} candidates, but this "
                        f"decision has {n}: write it as 'index/{n}'",
                    )
                return int(match.group(1))
        texts = self.literal_values
        if not texts:
            return value  # no literals to match: `check_value` reports it
        found = [i for i, text in enumerate(texts) if text == repr(value)]
        if not found and type(value) is str:
            found = [i for i, text in enumerate(texts) if text == value]
        if len(found) == 1:
            return found[0]
        raise _invalid(
            decision_id,
            f"{value!r} is {'more than one' if found else 'none'} of the {n} candidates "
            f"({', '.join(texts)}); give an index, a choice string 'index/{n}', or a "
            "candidate's literal value",
        )

    def _read(self, prefix: str, numbers: Iterator[Any], out: dict[str, Any]) -> None:
        for decision_id in self.pick_ids(prefix):
            value: Any = next(numbers, MISSING)
            if value is MISSING:
                raise _invalid(decision_id, f"too few numbers: nothing for {decision_id!r}")
            self.check_value(decision_id, value)
            out[decision_id] = value
            for element in self.candidates[value].elements:
                element._read(f"{decision_id}[={value}]", numbers, out)

    def _allowed(self, picks: list[int]) -> Iterator[int]:
        """The candidates the next pick may take after `picks`, in order."""
        n = len(self.candidates)
        if not picks:
            return iter(range(n))
        if self.sorted:
            return iter(range(picks[-1] + 1 if self.distinct else picks[-1], n))
        if self.distinct:
            return (i for i in range(n) if i not in picks)
        return iter(range(n))

    def _enumerate(
        self, prefix: str, float_points: int | None, start: Start = None
    ) -> Iterator[list[tuple[str, Any]]]:
        if self.num_choices == 1 and start is None:  # the common case, kept lean
            return self._enumerate_one(join(prefix, self.location), float_points)
        return self._enumerate_picks(self.pick_ids(prefix), [], float_points, start)

    def _enumerate_one(self, decision_id: str, float_points: int | None) -> Iterator[Pairs]:
        for index, candidate in enumerate(self.candidates):
            if self._trivial[index]:
                yield [(decision_id, index)]
                continue
            parts: list[Factory] = [constant([(decision_id, index)])]
            parts.extend(
                factory(e, f"{decision_id}[={index}]", float_points) for e in candidate.elements
            )
            yield from product(parts)

    def _rest(self, ids: list[str], picks: list[int], float_points: int | None) -> Factory:
        """A factory of the enumerations of the picks after `picks`."""
        return lambda start: self._enumerate_picks(ids, picks, float_points, start)

    def _enumerate_picks(
        self, ids: list[str], picks: list[int], float_points: int | None, start: Start
    ) -> Iterator[Pairs]:
        """The picks from `len(picks)` on, each followed by the decisions of
        its candidate (depth first, as the DNA's decisions are ordered)."""
        if len(picks) == len(ids):
            yield []
            return
        decision_id = ids[len(picks)]
        first: Any = start.get(decision_id, MISSING) if start is not None else MISSING
        for index in self._allowed(picks):
            if first is not MISSING and index < first:
                continue
            chosen = [*picks, index]
            parts: list[Factory] = [constant([(decision_id, index)])]
            parts.extend(
                factory(e, f"{decision_id}[={index}]", float_points)
                for e in self.candidates[index].elements
            )
            parts.append(self._rest(ids, chosen, float_points))
            yield from product(parts, start if index == first else None)

    def _size(self) -> int | float:
        sizes = [c.size for c in self.candidates]
        if math.inf in sizes:  # before any sum: an int beyond floats plus inf overflows
            return math.inf
        k = self.num_choices
        if k == 1:
            return sum(sizes)
        if self.distinct:
            total = elementary_symmetric(sizes, k)  # type: ignore[arg-type]
            return total if self.sorted else total * math.factorial(k)
        if self.sorted:
            return complete_symmetric(sizes, k)  # type: ignore[arg-type]
        return int(sum(sizes)) ** k  # type: ignore[no-any-return]
