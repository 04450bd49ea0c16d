"""DNA as fixed-length vectors, and back: the one encoding every model uses.

`DNAEncoder` lays out one *entry* per decision that can be active in some
DNA of a space (the decisions inside every candidate of a choice, and every
pick of a choice of several, included), in the space's order, each with
its feature columns:

- a pick of a `Choices`: a one-hot block, one column per candidate;
- an `Int` of at most `one_hot_ints` values: a one-hot block; a wider `Int`
  and a `Float`: one column, the value mapped to [0, 1] (`to_unit`: on the
  log scale for a log-scale float).

The taken column of a one-hot block holds `hot` (1 by default; GP-BO uses
1/sqrt(2), so two different candidates are at distance 1, as the two ends
of a number's range are). An inactive decision (inside a candidate that was
not chosen) leaves its block at zero and its number column at `inactive`
(GP-BO uses -0.5: half a range below the lowest value, so active and
inactive points differ in that column and two inactive points agree).
Custom decisions have no vector form: `custom="refuse"` refuses spaces with
them, `custom="skip"` leaves them out (they are drawn at random when a
vector becomes DNA).

Two forms of a DNA:

- the *feature vector* (`encode`, `encode_all`; `width` columns), what models
  take; `decode(vector, rng)` turns any vector in that layout (scores,
  logits, a point of a continuous optimizer) back into a valid DNA: per
  active decision, the one-hot column with the highest score (a distinct
  multi-pick skips the candidates already picked) or the number column,
  clipped to [0, 1] and mapped back to the decision's range (`from_unit`);
- the *raw row* (`raw`, `raws`; one number per entry): a number's value in
  [0, 1] or a one-hot decision's index, NaN where inactive. Candidate
  generators work on raw rows (`random_raw`, `perturb`), `features` turns
  them into feature rows, `raw_to_dna` into DNA.

`column_kinds` and `bounds()` describe each column, `Entry.kind` and
`raw_bounds()` each entry of a raw row, for optimizers that work on the
vectors directly (any point of those boxes decodes to a valid DNA).
`option_of`, `value_of` and `num_options` cut a number decision into bins,
for policies that pick among options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from automorph.geno import DNA, Choices, CustomDecisionPoint, DecisionPoint, Float, Int, Space, join
from automorph.utils import MISSING, SearchSpaceError

Array = npt.NDArray[np.float64]

KERNEL_HOT = 1.0 / math.sqrt(2.0)
"""The taken column of a one-hot block in `DNAEncoder.for_kernel`."""
KERNEL_INACTIVE = -0.5
"""The number column of an inactive decision in `DNAEncoder.for_kernel`."""


@dataclass(frozen=True)
class Entry:
    """One decision of the layout and its columns.

    Attributes:
        decision_id: The id of the decision in a DNA.
        point: Its decision point.
        parent: The index of the entry of the choice it sits under (-1: top level).
        parent_value: The candidate of that choice it sits in.
        group: For a pick of a distinct choice of several, the id of the
            choice (its picks must differ); else "".
        columns: Its feature columns.
        size: The width of its one-hot block (candidates, or values of an
            int); 0 for a number column.
    """

    decision_id: str
    point: DecisionPoint
    parent: int
    parent_value: int
    group: str
    columns: slice
    size: int

    @property
    def one_hot(self) -> bool:
        """Whether the columns are a one-hot block."""
        return self.size > 0

    @property
    def kind(self) -> str:
        """ "choice", "int" or "float"."""
        if isinstance(self.point, Choices):
            return "choice"
        return "int" if isinstance(self.point, Int) else "float"


class DNAEncoder:
    """The vector layout of a space (see the module docstring).

    Args:
        spec: The space.
        one_hot_ints: The widest `Int` (in values) given a one-hot block
            (0: every `Int` is a number column).
        hot: The value of the taken column of a one-hot block.
        inactive: The value of the number column of an inactive decision.
        custom: "refuse" spaces with custom decisions, or "skip" them.
        who: Named in the error for a space that is refused.

    Raises:
        SearchSpaceError: With `custom="refuse"`, if the space has a custom
            decision.

    >>> import automorph as am
    >>> spec = am.dna_spec(am.Dict(op=am.oneof(["a", "b", "c"]), x=am.floatv(0.0, 2.0)))
    >>> encoder = DNAEncoder(spec)
    >>> encoder.encode(am.DNA({"op": 2, "x": 0.5})).tolist()
    [0.0, 0.0, 1.0, 0.25]
    >>> encoder.column_kinds
    ['one_hot', 'one_hot', 'one_hot', 'float']
    >>> encoder.decode(np.array([0.1, 0.7, 0.2, 1.0]))
    DNA({'op': 1, 'x': 2.0})
    """

    def __init__(
        self,
        spec: Space,
        *,
        one_hot_ints: int = 0,
        hot: float = 1.0,
        inactive: float = 0.0,
        custom: Literal["refuse", "skip"] = "refuse",
        who: str = "this algorithm",
    ) -> None:
        self.spec = spec
        self.one_hot_ints = one_hot_ints
        self.hot, self.inactive, self.custom = hot, inactive, custom
        self.entries: list[Entry] = []
        self._who = who
        self._width = 0
        self._walk(spec, "", -1, -1)
        self.index = {entry.decision_id: i for i, entry in enumerate(self.entries)}

    @classmethod
    def for_kernel(
        cls,
        spec: Space,
        custom: Literal["refuse", "skip"] = "refuse",
        who: str = "this algorithm",
    ) -> DNAEncoder:
        """The layout the Gaussian processes use: every `Int` a number column,
        one-hot blocks at `KERNEL_HOT` (two candidates at distance 1, as the
        ends of a number's range), inactive numbers at `KERNEL_INACTIVE`.

        >>> import automorph as am
        >>> encoder = DNAEncoder.for_kernel(am.dna_spec(am.Dict(k=am.oneof([1, 2]))))
        >>> a, b = encoder.encode(am.DNA({"k": 0})), encoder.encode(am.DNA({"k": 1}))
        >>> round(float(np.linalg.norm(a - b)), 12)
        1.0
        """
        return cls(spec, hot=KERNEL_HOT, inactive=KERNEL_INACTIVE, custom=custom, who=who)

    # --- the layout -----------------------------------------------------------

    @property
    def width(self) -> int:
        """The length of a feature vector."""
        return self._width

    @property
    def groups(self) -> list[slice]:
        """The columns of each entry, in entry order."""
        return [entry.columns for entry in self.entries]

    @property
    def column_kinds(self) -> list[str]:
        """Each column's kind: "one_hot" (a column of a one-hot block),
        "int" or "float" (a number column, in [0, 1])."""
        kinds: list[str] = []
        for entry in self.entries:
            if entry.one_hot:
                kinds.extend(["one_hot"] * entry.size)
            else:
                kinds.append("int" if isinstance(entry.point, Int) else "float")
        return kinds

    def bounds(self) -> tuple[Array, Array]:
        """The lowest and highest value of each column of an encoded DNA
        (`inactive` aside): [0, 1] for numbers, [0, hot] for one-hot columns."""
        high = np.ones(self._width)
        for entry in self.entries:
            if entry.one_hot:
                high[entry.columns] = self.hot
        return np.zeros(self._width), high

    def raw_bounds(self) -> tuple[Array, Array]:
        """The range of each entry of a raw row: [0, 1] for a number, [0,
        size] for a one-hot decision (`raw_to_dna` takes the index below the
        value, clipped to the block: any point of the box is a valid row)."""
        high = np.array([float(e.size) if e.one_hot else 1.0 for e in self.entries])
        return np.zeros(len(self.entries)), high

    def _add(
        self, decision_id: str, point: DecisionPoint, parent: int, value: int, group: str, size: int
    ) -> int:
        columns = slice(self._width, self._width + max(size, 1))
        self._width = columns.stop
        self.entries.append(Entry(decision_id, point, parent, value, group, columns, size))
        return len(self.entries) - 1

    def _walk(self, space: Space, prefix: str, parent: int, value: int) -> None:
        for point in space.elements:
            decision_id = join(prefix, point.location)
            if isinstance(point, Choices):
                group = decision_id if point.num_choices > 1 and point.distinct else ""
                size = len(point.candidates)
                for pick_id in point.pick_ids(prefix):
                    index = self._add(pick_id, point, parent, value, group, size)
                    for i, candidate in enumerate(point.candidates):
                        self._walk(candidate, f"{pick_id}[={i}]", index, i)
            elif isinstance(point, Int):
                span = point.max_value - point.min_value + 1
                size = span if span <= self.one_hot_ints else 0
                self._add(decision_id, point, parent, value, "", size)
            elif isinstance(point, Float):
                self._add(decision_id, point, parent, value, "", 0)
            elif isinstance(point, CustomDecisionPoint):
                if self.custom == "refuse":
                    raise SearchSpaceError(
                        f"{self._who} models DNA as vectors and cannot handle the custom "
                        f"decision {decision_id!r} ({type(point.hooks).__name__}); use a "
                        "space of choices, ints and floats",
                        path=decision_id,
                    )
            else:  # pragma: no cover -- every kind of decision is handled above
                raise SearchSpaceError(f"unknown decision kind {type(point).__name__}")

    # --- DNA -> vectors -------------------------------------------------------

    def raw(self, dna: DNA) -> Array:
        """The raw row of `dna` (see the module docstring)."""
        row = np.full(len(self.entries), np.nan)
        for i, entry in enumerate(self.entries):
            value = dna.get(entry.decision_id, MISSING)
            if value is not MISSING:
                row[i] = _raw_value(entry, value)
        return row

    def raws(self, dnas: list[DNA]) -> Array:
        """The raw rows of `dnas`, one each (shape `(len(dnas), len(entries))`)."""
        out = np.empty((len(dnas), len(self.entries)))
        for i, dna in enumerate(dnas):
            out[i] = self.raw(dna)
        return out

    def encode(self, dna: DNA) -> Array:
        """The feature vector of `dna`."""
        out: Array = self.features(self.raw(dna)[None, :])[0]
        return out

    def encode_all(self, dnas: list[DNA]) -> Array:
        """The feature vectors of `dnas`, one row each (shape `(len(dnas), width)`)."""
        return self.features(self.raws(dnas))

    def active_mask(self, dna: DNA) -> Array:
        """1 on the columns of the decisions active in `dna`, else 0."""
        out = np.zeros(self._width)
        for decision_id in dna:
            i = self.index.get(decision_id)
            if i is not None:
                out[self.entries[i].columns] = 1.0
        return out

    # --- raw rows -------------------------------------------------------------

    def active(self, raw: Array) -> npt.NDArray[np.bool_]:
        """Which entries of each raw row are active."""
        active = np.ones(raw.shape, dtype=bool)
        for i, entry in enumerate(self.entries):
            if entry.parent >= 0:
                active[:, i] = active[:, entry.parent] & (
                    raw[:, entry.parent] == entry.parent_value
                )
        return active

    def features(self, raw: Array) -> Array:
        """The feature rows of raw rows."""
        n = raw.shape[0]
        active = self.active(raw)
        out = np.zeros((n, self._width))
        rows = np.arange(n)
        for i, entry in enumerate(self.entries):
            on = active[:, i]
            if entry.one_hot:
                picks = np.where(on, raw[:, i], 0).astype(np.int64)
                out[rows[on], entry.columns.start + picks[on]] = self.hot
            else:
                column = raw[:, i]
                if isinstance(entry.point, Int):
                    column = _snap(entry.point, column)
                out[:, entry.columns.start] = np.where(on, column, self.inactive)
        return out

    def random_raw(self, rng: np.random.Generator, size: int) -> Array:
        """`size` raw rows drawn uniformly (inactive entries get values too)."""
        raw = rng.random((size, len(self.entries)))
        for i, entry in enumerate(self.entries):
            if entry.one_hot:
                raw[:, i] = np.minimum(np.floor(raw[:, i] * entry.size), entry.size - 1)
        return raw

    def perturb(self, raw: Array, scale: Array, rng: np.random.Generator) -> Array:
        """Copies of raw rows (no NaN) with some entries changed: each with
        probability max(0.2, 1 / entries), and one at least; a number by a
        Gaussian step of its row's `scale` (in [0, 1] units), clipped; a
        one-hot decision redrawn."""
        n, e = raw.shape
        out = raw.copy()
        change = rng.random((n, e)) < max(0.2, 1.0 / e)
        change[np.arange(n), rng.integers(e, size=n)] = True
        steps = rng.normal(0.0, 1.0, (n, e)) * scale[:, None]
        redraw = self.random_raw(rng, n)
        for i, entry in enumerate(self.entries):
            rows = change[:, i]
            if entry.one_hot:
                out[rows, i] = redraw[rows, i]
            else:
                out[rows, i] = np.clip(out[rows, i] + steps[rows, i], 0.0, 1.0)
        return out

    def raw_to_dna(self, raw: Array, rng: np.random.Generator) -> DNA:
        """The DNA of a raw row (skipped custom decisions drawn from `rng`).

        A one-hot decision takes the index below its value, clipped to its
        block (NaN: 0); a number is clipped to [0, 1] (see `from_unit`). The
        space's rules (distinct, sorted picks) apply, which may redraw or
        reorder picks."""

        def fill(decision_id: str, point: DecisionPoint) -> Any:
            i = self.index.get(decision_id)
            if i is None:
                return MISSING
            entry, value = self.entries[i], float(raw[i])
            if entry.one_hot:
                index = int(min(max(value, 0.0), entry.size - 1.0)) if value == value else 0
                return _one_hot_value(point, index)
            return from_unit(point, value)

        return self.spec.random_dna(rng, fill)

    # --- vectors -> DNA -------------------------------------------------------

    def decode(self, vector: Array, rng: np.random.Generator | None = None) -> DNA:
        """The valid DNA that best matches `vector` (see the module docstring).

        Args:
            vector: `width` numbers in the feature layout: for a one-hot
                block, the candidate with the highest number is taken; a
                number column is clipped to [0, 1] and mapped back to the
                decision's range (NaN: the middle).
            rng: Draws the skipped custom decisions (default: a generator
                seeded with 0; nothing is drawn from it without them).
        """
        picked: dict[str, list[int]] = {}

        def fill(decision_id: str, point: DecisionPoint) -> Any:
            i = self.index.get(decision_id)
            if i is None:
                return MISSING
            entry = self.entries[i]
            block = vector[entry.columns]
            if not entry.one_hot:
                return from_unit(point, float(block[0]))
            if entry.group:
                taken = picked.setdefault(entry.group, [])
                order = np.argsort(-block, kind="stable")
                index = int(next(i for i in order if int(i) not in taken))
                taken.append(index)
            else:
                index = int(np.argmax(block))
            return _one_hot_value(point, index)

        return self.spec.random_dna(rng if rng is not None else np.random.default_rng(0), fill)


def _raw_value(entry: Entry, value: Any) -> float:
    if not entry.one_hot:
        return to_unit(entry.point, value)
    if isinstance(entry.point, Int):
        return float(value - entry.point.min_value)
    return float(value)


def _one_hot_value(point: DecisionPoint, index: int) -> Any:
    """The value of a one-hot decision's column `index`."""
    return point.min_value + index if isinstance(point, Int) else index


def _snap(point: Int, unit: Array) -> Array:
    """Unit values of an int decision rounded to the values it can take."""
    span = point.max_value - point.min_value
    if span == 0:
        return np.zeros_like(unit)
    snapped: Array = np.round(unit * span) / span
    return snapped


def to_unit(point: DecisionPoint, value: Any) -> float:
    """The value of a number decision mapped to [0, 1] (on its scale).

    >>> to_unit(Float(min_value=1.0, max_value=100.0, scale="log"), 10.0)
    0.5
    """
    if isinstance(point, Float):
        low, high = point.min_value, point.max_value
        if point.scale == "log":
            return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
        return (float(value) - low) / (high - low)
    if isinstance(point, Int):
        span = point.max_value - point.min_value
        return 0.0 if span == 0 else (value - point.min_value) / span
    raise TypeError(f"to_unit maps Int and Float decisions, not {type(point).__name__}")


def from_unit(point: DecisionPoint, unit: float) -> Any:
    """The value of a number decision at `unit` (clipped to [0, 1]; NaN: 0.5).

    >>> from_unit(Int(min_value=0, max_value=10), 0.33)
    3
    >>> from_unit(Float(min_value=0.0, max_value=2.0), 1.7)
    2.0
    """
    unit = min(max(unit, 0.0), 1.0) if unit == unit else 0.5
    if isinstance(point, Int):
        return point.min_value + round(unit * (point.max_value - point.min_value))
    if isinstance(point, Float):
        low, high = point.min_value, point.max_value
        if unit in (0.0, 1.0):  # the bounds exactly (exp(log(x)) may differ from x)
            return float(high if unit else low)
        if point.scale == "log":
            value = math.exp(math.log(low) + unit * (math.log(high) - math.log(low)))
        else:
            value = low + unit * (high - low)
        return float(min(max(value, low), high))
    raise TypeError(f"from_unit maps Int and Float decisions, not {type(point).__name__}")


# --- options: a decision cut into bins -----------------------------------------


def num_options(point: DecisionPoint, bins: int) -> int:
    """The options of a decision: its candidates, an int's values (at most
    `bins`), or `bins` bins of a float."""
    if isinstance(point, Choices):
        return len(point.candidates)
    if isinstance(point, Int):
        return min(point.max_value - point.min_value + 1, bins)
    return bins


def option_of(point: DecisionPoint, value: Any, bins: int) -> int:
    """The option of `value` (its bin, for floats and ints of more than `bins` values).

    >>> option_of(Float(min_value=0.0, max_value=1.0), 0.55, 10)
    5
    >>> option_of(Int(min_value=0, max_value=99), 42, 10)
    4
    """
    if isinstance(point, Choices):
        return int(value)
    if isinstance(point, Int):
        span = point.max_value - point.min_value + 1
        offset = int(value) - point.min_value
        return offset if span <= bins else offset * bins // span
    return min(int(to_unit(point, float(value)) * bins), bins - 1)


def value_of(point: DecisionPoint, option: int, bins: int, rng: np.random.Generator) -> Any:
    """A value of `point` for `option` (drawn uniformly inside a bin)."""
    if isinstance(point, Choices):
        return option
    if isinstance(point, Int):
        span = point.max_value - point.min_value + 1
        if span <= bins:
            return point.min_value + option
        low = -(-option * span // bins)
        high = -(-(option + 1) * span // bins)
        return point.min_value + low + int(rng.integers(high - low))
    return from_unit(point, (option + float(rng.random())) / bins)
