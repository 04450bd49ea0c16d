"""From a symbolic program with hyper-values to a DNASpec, and back.

`Template` walks a search space once and remembers where every hyper-value
is (its location relative to the space or candidate that holds it) and which
nodes hold hyper-values at all. It then builds the `Space` (DNASpec),
materializes a DNA into a concrete program (copying the nodes without
decisions, rebuilding those with), and encodes a program back into DNA.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from automorph.geno import DNA, Space, join
from automorph.hyper._derived import DerivedValue, resolve_derived
from automorph.hyper._dynamic import DynamicSpace
from automorph.hyper._values import CustomHyper, FloatValue, HyperValue, IntValue, ManyOf, OneOf
from automorph.symbolic import Dict, Key, KeyPath, List, Object, Symbolic, rebuild, sym_eq
from automorph.utils import InvalidDNAError, SearchSpaceError

# where(hyper_value) -> whether a template decides it (else it is left in place).
Where = Callable[[Any], bool]


def _child_location(location: str, key: Key) -> str:
    return (
        str(KeyPath._trusted((*KeyPath.parse(location).keys, key)))
        if location
        else str(KeyPath._trusted((key,)))
    )


class _Mismatch(Exception):
    def __init__(self, path: str, why: str) -> None:
        super().__init__(why)
        self.path = path
        self.why = why


class Template:
    """A search space compiled for repeated use (`am.sample` builds one per search).

    The space must not change while a template of it is in use.

    A plain `dict` or `list` (at the top, or in a tuple) is searched as an
    `am.Dict` / `am.List` of the same items (nested plain containers too):
    examples come back as `am.Dict` / `am.List`, which are `dict` and `list`
    subclasses, so they read as the user's types.

    >>> import automorph as am
    >>> space = am.Dict(units=am.intv(8, 64), act=am.oneof(["relu", "gelu"]))
    >>> template = Template(space)
    >>> template.spec.size
    114
    >>> template.materialize(am.DNA({"units": 16, "act": 1}))
    {'units': 16, 'act': 'gelu'}
    >>> template.encode(am.Dict(units=32, act="relu"))
    DNA({'units': 32, 'act': 0})
    """

    def __init__(self, space: Any, where: Where | None = None) -> None:
        space = _symbolic_containers(space)
        self.space = space
        self._where = where
        self._derived = False  # whether the space holds derived values
        self._locations: dict[int, str] = {}
        self._has_hyper: dict[int, bool] = {}
        if isinstance(space, DynamicSpace):
            if where is not None:
                raise SearchSpaceError("a define-by-run space cannot take `where`")
            self.spec = space.collect()
        else:
            self.spec = Space(elements=self._collect(space, ""))

    @staticmethod
    def collect_detached(value: Any) -> Space:
        """The DNASpec of `value` alone (used when a hyper-value is asked directly)."""
        return Template(value).spec

    # --- DNASpec ---------------------------------------------------------------

    def _collect(self, value: Any, location: str) -> list[Any]:
        if isinstance(value, DerivedValue):
            self._derived = True
            return []
        if isinstance(value, HyperValue) and self._where is not None and not self._where(value):
            return []  # left in place: a value of the program (a partial template)
        if isinstance(value, HyperValue):
            if self._locations.get(id(value), location) != location:
                # Only possible through plain tuples, which symbolic trees do not copy.
                raise SearchSpaceError(
                    f"the same hyper-value object is at `{self._locations[id(value)]}` and "
                    f"`{location}`; give each place its own",
                    path=location,
                )
            self._locations[id(value)] = location
            self._has_hyper[id(value)] = True
            return [value.decision_point(location, self._candidate_space)]
        if isinstance(value, Symbolic) or type(value) is tuple:
            # Tuples are plain values in a symbolic tree, but a hyper-value may
            # stand for an item (`kernel_size=(am.oneof([3, 5]), 3)`).
            items = value.sym_items() if isinstance(value, Symbolic) else enumerate(value)
            points: list[Any] = []
            for key, child in items:
                points.extend(self._collect(child, _child_location(location, key)))
            self._has_hyper[id(value)] = bool(points)
            return points
        if isinstance(value, (dict, list)) and _holds_hyper(value):
            # A plain container in a tuple of a symbolic tree: not converted above.
            kind, fix = (
                ("dict", "am.Dict({...})")
                if isinstance(value, dict)
                else ("list", "am.List([...])")
            )
            raise SearchSpaceError(
                f"a plain {kind} holds hyper-values here, where they would never be decided; "
                f"write it as {fix}",
                path=location,
            )
        return []

    def _candidate_space(self, candidate: Any) -> Space:
        return Space(elements=self._collect(candidate, ""))

    # --- materialize -------------------------------------------------------------

    def materialize(
        self,
        dna: DNA | Mapping[str, Any],
        validate: bool = True,
        use_ints_as_literals: bool | None = False,
    ) -> Any:
        """The concrete program for `dna` (a DNA, or a dict of decisions as
        `DNA.from_dict` reads it: values as indices, choice strings such as
        "1/3", or candidates' literal values).

        Raises:
            InvalidDNAError: If `validate` and `dna` does not fit the space.
        """
        if not isinstance(dna, DNA):
            dna = self.spec.dna_from_dict(dna, use_ints_as_literals)
        elif validate:
            self.spec.validate(dna)
        if isinstance(self.space, DynamicSpace):
            return self.space.apply(dna)
        try:
            program = self._build(self.space, dna, "")
        except KeyError as e:
            raise InvalidDNAError(
                f"the DNA has no decision {e.args[0]!r}", path=e.args[0]
            ) from None
        return resolve_derived(program) if self._derived else program

    def _build(self, value: Any, dna: DNA, prefix: str) -> Any:
        if isinstance(value, HyperValue) and id(value) in self._locations:
            return self._decide(value, dna, prefix)
        if type(value) is tuple and self._has_hyper.get(id(value)):
            return tuple(self._build(item, dna, prefix) for item in value)
        if not isinstance(value, Symbolic):
            return value
        if not self._has_hyper.get(id(value)):
            return value.clone()
        built: dict[Key, Any] = {}
        hyper_keys: list[Key] = []
        for key, child in value.sym_items():
            if (isinstance(child, HyperValue) and id(child) in self._locations) or (
                type(child) is tuple and self._has_hyper.get(id(child))
            ):
                hyper_keys.append(key)  # decided values are validated against the field
            built[key] = self._build(child, dna, prefix)
        return rebuild(value, built, hyper_keys)

    def _decide(self, hyper: HyperValue, dna: DNA, prefix: str) -> Any:
        decision_id = join(prefix, self._locations[id(hyper)])
        if isinstance(hyper, OneOf):
            index = dna[decision_id]
            return self._build(hyper.candidates[index], dna, f"{decision_id}[={index}]")
        if isinstance(hyper, ManyOf):
            picks = []
            for j in range(hyper.num_choices):
                pick_id = f"{decision_id}[{j}]" if hyper.num_choices > 1 else decision_id
                index = dna[pick_id]
                picks.append(self._build(hyper.candidates[index], dna, f"{pick_id}[={index}]"))
            return picks
        if isinstance(hyper, CustomHyper):
            return hyper.materialize(dna[decision_id])
        return dna[decision_id]

    # --- encode ------------------------------------------------------------------

    def encode(self, value: Any) -> DNA:
        """The DNA that materializes into `value`.

        Raises:
            SearchSpaceError: If `value` is not a program of this space, naming
                the path where it leaves the space.
        """
        if isinstance(self.space, DynamicSpace):
            raise SearchSpaceError("a define-by-run space cannot encode a value")
        out: dict[str, Any] = {}
        try:
            self._encode(self.space, value, "", "", out)
        except _Mismatch as e:
            raise SearchSpaceError(f"cannot encode: {e.why}", path=e.path) from None
        try:
            dna = self.spec.dna_from_dict(out)
        except InvalidDNAError as e:  # a value outside the space, caught only by the spec
            raise SearchSpaceError(f"cannot encode: {e.message}", path=e.path) from None
        if self._derived:
            program = self.materialize(dna, validate=False)
            if not (sym_eq(program, value) or program == value):
                raise SearchSpaceError(
                    "cannot encode: a value where the space has a derived value differs from "
                    f"what it derives (the decisions make {program!r})"
                )
        return dna

    def _encode(self, node: Any, value: Any, prefix: str, path: str, out: dict[str, Any]) -> None:
        if isinstance(node, HyperValue) and id(node) in self._locations:
            self._encode_decision(node, value, prefix, path, out)
        elif isinstance(node, DerivedValue):
            return  # follows the decisions: any value it took is theirs
        elif isinstance(node, Symbolic):
            if not isinstance(value, Symbolic if isinstance(node, Object) else (list, dict)) or (
                isinstance(node, Object) and type(value) is not type(node)
            ):
                raise _Mismatch(path, f"expected {type(node).__name__}, got {type(value).__name__}")
            keys = [k for k, _ in node.sym_items()]
            other = (
                [k for k, _ in value.sym_items()]
                if isinstance(value, Symbolic)
                else (list(range(len(value))) if isinstance(value, list) else list(value))
            )
            if keys != other:
                raise _Mismatch(path, f"expected keys {keys}, got {other}")
            for key, child in node.sym_items():
                sub = _child_location(path, key)
                item = value.sym_get(key) if isinstance(value, Symbolic) else value[key]  # type: ignore[index]
                self._encode(child, item, prefix, sub, out)
        elif type(node) is tuple and self._has_hyper.get(id(node)):
            if not isinstance(value, tuple) or len(value) != len(node):
                raise _Mismatch(path, f"expected a tuple of {len(node)} items, got {value!r}")
            for i, (child, item) in enumerate(zip(node, value, strict=True)):
                self._encode(child, item, prefix, _child_location(path, i), out)
        elif not sym_eq(node, value) and node != value:
            raise _Mismatch(path, f"expected {node!r} (fixed in the space), got {value!r}")

    def _encode_decision(
        self, hyper: HyperValue, value: Any, prefix: str, path: str, out: dict[str, Any]
    ) -> None:
        decision_id = join(prefix, self._locations[id(hyper)])
        if isinstance(hyper, OneOf):
            out[decision_id] = self._encode_pick(
                hyper.candidates, value, decision_id, path, out, []
            )
        elif isinstance(hyper, ManyOf):
            if not isinstance(value, list) or len(value) != hyper.num_choices:
                raise _Mismatch(
                    path, f"expected a list of {hyper.num_choices} picks, got {value!r}"
                )
            used: list[int] = []
            for j, item in enumerate(value):
                pick_id = f"{decision_id}[{j}]" if hyper.num_choices > 1 else decision_id
                skip = used if hyper.distinct else []
                index = self._encode_pick(
                    hyper.candidates, item, pick_id, f"{path}[{j}]", out, skip
                )
                used.append(index)
                out[pick_id] = index
            if hyper.sorted and used != sorted(used):
                raise _Mismatch(
                    path,
                    f"the picks of a sorted `manyof` must be in candidate order, "
                    f"got candidates {used}",
                )
        elif isinstance(hyper, (FloatValue, IntValue)):
            kind = float if isinstance(hyper, FloatValue) else int
            if kind is float:
                ok = type(value) in (float, int)
            else:  # an `intv` in a float field materializes as an integral float
                ok = type(value) is int or (type(value) is float and value.is_integer())
            if not ok or not hyper.min_value <= value <= hyper.max_value:
                raise _Mismatch(
                    path,
                    f"expected {'an int' if kind is int else 'a float'} in "
                    f"[{hyper.min_value}, {hyper.max_value}], got {value!r}",
                )
            out[decision_id] = kind(value)
        else:
            assert isinstance(hyper, CustomHyper)
            try:
                decided = hyper.encode(value)
            except (TypeError, ValueError) as e:
                raise _Mismatch(
                    path, f"{value!r} is not a value of the custom decision: {e}"
                ) from None
            out[decision_id] = decided

    def _encode_pick(
        self,
        candidates: list[Any],
        value: Any,
        decision_id: str,
        path: str,
        out: dict[str, Any],
        skip: list[int],
    ) -> int:
        for index, candidate in enumerate(candidates):
            if index in skip:
                continue
            trial: dict[str, Any] = {}
            try:
                self._encode(candidate, value, f"{decision_id}[={index}]", path, trial)
            except _Mismatch:
                continue
            out.update(trial)
            return index
        raise _Mismatch(path, f"{value!r} matches none of the {len(candidates)} candidates")


def _holds_hyper(value: Any) -> bool:
    if isinstance(value, HyperValue):
        return True
    if isinstance(value, Symbolic):
        return any(_holds_hyper(v) for _, v in value.sym_items())
    if isinstance(value, dict):
        return any(_holds_hyper(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_hyper(v) for v in value)
    return False


def _symbolic_containers(value: Any) -> Any:
    """`value` with plain dicts and lists (at the top, or in tuples) as
    `Dict` / `List`, so the hyper-values they hold are found and decided
    (`Dict` and `List` convert the plain containers nested in them)."""
    if isinstance(value, Symbolic):
        return value
    if isinstance(value, dict):
        return Dict(value)
    if isinstance(value, list):
        return List(value)
    if type(value) is tuple:
        items = tuple(_symbolic_containers(v) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


# --- the public functions ---------------------------------------------------------


def dna_spec(space: Any, where: Where | None = None) -> Space:
    """The DNASpec (a `Space` of decision points) of a search space.

    With `where`, only the hyper-values for which `where(hyper_value)` is
    true are decisions; the others are left in place, as values of the
    program (PyGlove's `pg.dna_spec(value, where=...)`).

    >>> import automorph as am
    >>> spec = am.dna_spec(am.Dict(lr=am.floatv(1e-4, 1e-1, scale="log"), depth=am.intv(2, 8)))
    >>> [p.location for p in spec.decision_points()], spec.size
    (['lr', 'depth'], inf)
    """
    return Template(space, where).spec


def materialize(
    space: Any,
    dna: DNA | Mapping[str, Any],
    where: Where | None = None,
    *,
    use_ints_as_literals: bool | None = None,
) -> Any:
    """The concrete program that `dna` picks out of `space`.

    Args:
        space: The search space.
        dna: A DNA, or a dict of decisions keyed by id or name, whose values
            are candidate indices, choice strings ("1/3") or candidates'
            literal values, as `DNA.to_dict(..., value_type=...)` writes them.
        where: Decide only the hyper-values for which `where(hyper_value)`
            is true and leave the others in place (a partial template, as
            `dna_spec(space, where)` describes; PyGlove's
            `pg.template(value, where=...)`).
        use_ints_as_literals: How to read an int given for a choice: True,
            as a candidate's literal value (PyGlove's `pg.materialize`
            default); False, as a candidate index; None (the default),
            as whichever it can be, and an error where it is both the index
            of one candidate and the literal of another.

    Raises:
        InvalidDNAError: If `dna` does not fit `space`.

    >>> import automorph as am
    >>> space = am.Dict(a=am.oneof([1, 2, 3]), b=am.oneof(["x", "y"]))
    >>> am.materialize(space, {"a": "2/3", "b": "y"})
    {'a': 3, 'b': 'y'}
    >>> partial = am.materialize(space, {"a": 0}, where=lambda h: str(h.sym_path) == "a")
    >>> partial["a"], am.dna_spec(partial).size
    (1, 2)
    """
    return Template(space, where).materialize(dna, use_ints_as_literals=use_ints_as_literals)


def encode(space: Any, value: Any) -> DNA:
    """The DNA that picks `value` out of `space` (the inverse of `materialize`).

    Raises:
        SearchSpaceError: If `value` is not in `space`.
    """
    return Template(space).encode(value)


def iterate(
    space: Any, num_examples: int | None = None, float_points: int | None = None
) -> Iterator[Any]:
    """Every program of `space` in order (at most `num_examples`).

    >>> import automorph as am
    >>> list(am.iterate(am.List([am.oneof([1, 2]), am.oneof(["a", "b"])])))
    [[1, 'a'], [1, 'b'], [2, 'a'], [2, 'b']]
    """
    template = Template(space)
    for count, dna in enumerate(template.spec.iter_dna(float_points=float_points)):
        if num_examples is not None and count >= num_examples:
            return
        yield template.materialize(dna, validate=False)


def random_sample(
    space: Any, num_examples: int | None = None, seed: int | np.random.Generator | None = None
) -> Iterator[Any]:
    """Random programs of `space` (forever if `num_examples` is None).

    >>> import automorph as am
    >>> list(am.random_sample(am.Dict(x=am.intv(0, 9)), 3, seed=1))
    [{'x': 5}, {'x': 6}, {'x': 8}]
    """
    template = Template(space)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    count = 0
    while num_examples is None or count < num_examples:
        yield template.materialize(template.spec.random_dna(rng), validate=False)
        count += 1
