"""`DNA`: one point of a search space, as decisions keyed by decision id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from automorph.symbolic import from_json, to_json
from automorph.utils import SerializationError

if TYPE_CHECKING:
    from automorph.geno._spec import Space


class DNA(Mapping[str, Any]):
    """The decisions that pick one program out of a search space.

    A DNA maps the id of every *active* decision point (those of candidates
    that were not chosen are absent) to its value: a candidate index for a
    choice, a number for a float or an int, a structure for a custom
    decision. It is immutable, hashable, ordered as its space's decision
    points, and independent of the program: algorithms only ever see DNA.

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

    def to_dict(self, space: Space | None = None, key: str = "id") -> dict[str, Any]:
        """The decisions as a dict keyed by decision id, or by name where
        `key="name"` and the decision has one (a `space` is needed for names)."""
        if key == "id":
            return dict(self._values)
        if key != "name" or space is None:
            raise ValueError("`key` must be 'id', or 'name' together with a `space`")
        return space.names_of(self)

    @classmethod
    def from_dict(cls, space: Space, values: Mapping[str, Any]) -> DNA:
        """The DNA for decisions keyed by id or by name, validated against `space`."""
        return space.dna_from_dict(values)

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
