"""`DNA`: one point of a search space, as decisions keyed by decision id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from automorph.symbolic import from_json, register_json_type, to_json
from automorph.utils import (
    MISSING,
    FieldTypeError,
    FieldValueError,
    InvalidDNAError,
    SerializationError,
)

if TYPE_CHECKING:
    from automorph.geno._spec import Space


class DNA(Mapping[str, Any]):
    """The decisions that pick one program out of a search space.

    A DNA maps the id of every *active* decision point (those of candidates
    that were not chosen are absent) to its value: a candidate index for a
    choice, a number for a float or an int, a structure for a custom
    decision. It is immutable, hashable, ordered as its space's decision
    points, and independent of the program: algorithms only ever see DNA.

    DNA of one space are ordered (`<`, `sorted`) as `Space.iter_dna`
    enumerates them: decision by decision, the first that differs deciding.
    `am.to_json(dna)` writes a DNA like any value (also inside a symbolic
    tree); `dna.to_json()` gives the bare dict of decisions that storage keeps.

    >>> import automorph as am
    >>> space = am.dna_spec(am.Dict(op=am.oneof(["conv", "pool"]), lr=am.floatv(0.1, 1.0)))
    >>> dna = am.DNA({"op": 1, "lr": 0.5})
    >>> space.validate(dna)
    >>> dna.to_numbers(), dna["op"]
    ([1, 0.5], 1)
    >>> am.DNA.from_numbers(space, [0, 0.25])
    DNA({'op': 0, 'lr': 0.25})
    """

    __slots__ = ("_hash", "_valid_for", "_values")

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = dict(values) if values else {}
        self._hash: int | None = None
        # The token of the space version that last validated this DNA (a DNA
        # is immutable, so it stays valid until that space changes).
        self._valid_for: object = None

    @classmethod
    def _trusted(cls, values: dict[str, Any], valid_for: object = None) -> DNA:
        dna = cls.__new__(cls)
        dna._values = values
        dna._hash = None
        dna._valid_for = valid_for
        return dna

    # --- mapping -----------------------------------------------------------

    def __getitem__(self, decision_id: str) -> Any:
        return self._values[decision_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, decision_id: object) -> bool:
        return decision_id in self._values

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DNA):
            return self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._values.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"DNA({self._values!r})"

    # --- order -----------------------------------------------------------------

    def _cmp(self, other: object) -> int:
        """-1, 0 or 1: decisions compared one by one in decision order, the
        first that differs deciding (as `Space.iter_dna` enumerates)."""
        if not isinstance(other, DNA):
            raise FieldTypeError(f"a DNA can only be ordered against a DNA, got {other!r}")
        for (key, value), (other_key, other_value) in zip(
            self._values.items(), other._values.items(), strict=False
        ):
            if key != other_key:
                raise InvalidDNAError(
                    f"cannot order DNA of different spaces: decision {key!r} where the other "
                    f"DNA has {other_key!r}",
                    path=key,
                )
            if value != other_value:
                try:
                    return -1 if value < other_value else 1
                except TypeError:
                    raise FieldTypeError(
                        f"the values of decision {key!r} cannot be ordered: {value!r} and "
                        f"{other_value!r}",
                        path=key,
                    ) from None
        return (len(self) > len(other)) - (len(self) < len(other))

    def __lt__(self, other: DNA) -> bool:
        return self._cmp(other) < 0

    def __le__(self, other: DNA) -> bool:
        return self._cmp(other) <= 0

    def __gt__(self, other: DNA) -> bool:
        return self._cmp(other) > 0

    def __ge__(self, other: DNA) -> bool:
        return self._cmp(other) >= 0

    def __reduce__(self) -> tuple[Any, ...]:
        return (DNA, (self._values,))

    # --- conversions ---------------------------------------------------------

    def to_numbers(self) -> list[Any]:
        """The values in decision order: indices, numbers (custom values as is)."""
        return list(self._values.values())

    @classmethod
    def from_numbers(cls, space: Space, numbers: list[Any]) -> DNA:
        """The DNA whose `to_numbers()` is `numbers`, read against `space`.

        Raises:
            InvalidDNAError: If `numbers` does not fit `space`.
        """
        return space.dna_from_numbers(numbers)

    def to_dict(
        self,
        space: Space | None = None,
        key: Literal["id", "name"] = "id",
        value_type: Literal["value", "choice", "literal"] = "value",
    ) -> dict[str, Any]:
        """The decisions as a dict (PyGlove's `DNA.to_dict(key_type, value_type)`).

        Args:
            space: The DNA's space; needed for names and for choice or
                literal values.
            key: "id" keys by decision id; "name" by name where the decision
                has one (`name[j]` for the picks of a choice of several).
            value_type: What a choice's value is: "value", the candidate
                index; "choice", the string "index/number of candidates"
                ("1/3"); "literal", the candidate itself where it is a plain
                value (a number, a string, a bool, None; the choice string
                for other candidates). Numbers and custom values are as is.
                `am.materialize` and `DNA.from_dict` read all three back.

        Raises:
            FieldValueError: If `key` or `value_type` is unknown, or a space
                is needed and missing.
        """
        if key not in ("id", "name"):
            raise FieldValueError(f"`key` must be 'id' or 'name', got {key!r}")
        if value_type not in ("value", "choice", "literal"):
            raise FieldValueError(
                f"`value_type` must be 'value', 'choice' or 'literal', got {value_type!r}"
            )
        if key == "id" and value_type == "value":
            return dict(self._values)
        if space is None:
            raise FieldValueError(
                f"`to_dict(key={key!r}, value_type={value_type!r})` needs the DNA's space: "
                "pass it as `space`"
            )
        return space.dna_to_dict(self, key, value_type)

    @classmethod
    def from_dict(
        cls, space: Space, values: Mapping[str, Any], use_ints_as_literals: bool | None = False
    ) -> DNA:
        """The DNA for decisions keyed by id or by name, validated against `space`.

        A choice's value may be its candidate index, a choice string
        ("1/3"), or the candidate itself (a literal, as `to_dict(...,
        value_type="literal")` writes it); an int is an index unless
        `use_ints_as_literals` (None: whichever the int can be, and an error
        where it could be either and they differ).
        """
        return space.dna_from_dict(values, use_ints_as_literals)

    # The JSON form inside any value (`am.to_json(dna)`, a DNA in a symbolic tree).
    _sym_type_name = "automorph.DNA"

    def _sym_json_fields(self) -> dict[str, Any]:
        return {"decisions": self._values}

    @classmethod
    def _sym_from_fields(cls, fields: dict[str, Any]) -> DNA:
        decisions = fields.get("decisions", MISSING)
        if not isinstance(decisions, Mapping) or set(fields) != {"decisions"}:
            raise SerializationError(
                "a DNA's JSON must have exactly one field, `decisions`, an object of decisions"
            )
        for key in decisions:
            if type(key) is not str:
                raise SerializationError(f"DNA JSON keys must be decision ids, got {key!r}")
        return cls(decisions)

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict (custom decision values written as automorph JSON)."""
        return {k: to_json(v) for k, v in self._values.items()}

    @classmethod
    def from_json(cls, data: Any) -> DNA:
        """Reads what `to_json` wrote.

        Raises:
            SerializationError: If `data` is not a JSON object of decisions.
        """
        if not isinstance(data, dict):
            raise SerializationError(
                f"DNA JSON must be an object of decisions, got {type(data).__name__}"
            )
        values = {}
        for key, value in data.items():
            if type(key) is not str:
                raise SerializationError(f"DNA JSON keys must be decision ids, got {key!r}")
            values[key] = from_json(value) if isinstance(value, (dict, list)) else value
        return cls._trusted(values)


register_json_type(DNA, DNA._sym_type_name)
