"""`am.load_study`: a stored study, opened by name, without its objective.

A `Study` reads what a store keeps of a study (its trials, search space,
DNASpec and directions) and acts on it: best trials, a DataFrame, export,
`enqueue` (a warm start) and `delete`. It needs neither the objective nor
the algorithm: the search itself runs with `am.tune` or `am.sample`, in any
process, against the same `name` and `storage`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from automorph.geno import DNA, Space
from automorph.hyper import Template
from automorph.storage import (
    EXPORT_FORMATS,
    RecordLayout,
    Storage,
    StudyInfo,
    open_storage,
    write_records,
)
from automorph.symbolic import from_json_str
from automorph.tuning._result import StudyResult, records_frame
from automorph.tuning._stored import _json_or_none, trial_from_record
from automorph.tuning._trial import Trial
from automorph.utils import AutomorphError, FieldTypeError, FieldValueError, SearchSpaceError


class Study:
    """A stored study: its trials and what they add up to, and the actions a
    user takes on a study between searches.

    Open one with `am.load_study(name, storage)`. Reads go to the store each
    time (a search may be running in another process). Rewards are the values
    the objective reported; `directions` says whether each is maximized or
    minimized, and the best trials follow it.

    Attributes:
        name: The study's name.
        storage: The store it lives in.

    >>> import automorph as am
    >>> from automorph.storage import MemoryStorage
    >>> store = MemoryStorage()
    >>> space = am.Dict(x=am.intv(0, 9))
    >>> _ = am.tune(lambda e: e["x"] ** 2, space, am.algorithms.Random(seed=1), 4,
    ...             name="demo", storage=store, minimize=True)
    >>> study = am.load_study("demo", store)
    >>> study.directions, len(study.trials)
    (('minimize',), 4)
    >>> study.enqueue({"x": 0})
    5
    >>> result = am.tune(lambda e: e["x"] ** 2, space, am.algorithms.Random(seed=1), 5,
    ...                  name="demo", storage=store)
    >>> last = study.trials[-1]
    >>> last.id, last.example, last.status, last.reward
    (5, {'x': 0}, 'completed', 0.0)
    """

    def __init__(self, name: str, storage: Storage | str | os.PathLike[str]) -> None:
        if not isinstance(name, str) or not name:
            raise FieldTypeError(f"`name` must be a study's name (a non-empty str), got {name!r}")
        if storage is None:
            raise FieldValueError("`storage` must name the store of the study, got None")
        self.name = name
        self._owns = not isinstance(storage, Storage)
        self.storage = open_storage(storage)
        try:
            self.storage.get_study(name)  # StudyNotFoundError lists the studies there are
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"Study(name={self.name!r}, storage={self.storage!r})"

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Releases the store's connections if `load_study` opened it."""
        if self._owns:
            self.storage.close()

    # --- what is stored -------------------------------------------------------------

    @property
    def info(self) -> StudyInfo:
        """The study as stored (space, algorithm, DNASpec as JSON text; metadata)."""
        return self.storage.get_study(self.name)

    @property
    def directions(self) -> tuple[str, ...]:
        """ "maximize" or "minimize" per objective (one entry applies to all)."""
        return tuple(self.info.directions)

    @property
    def multi_objective(self) -> bool:
        """Whether rewards are tuples of objectives."""
        return self.info.multi_objective

    @property
    def dna_spec(self) -> Space:
        """The DNASpec the study searches.

        Raises:
            AutomorphError: If the store holds none for the study.
        """
        text = self.info.dna_spec
        if text is None:
            raise AutomorphError(f"study {self.name!r} has no stored DNASpec")
        spec = from_json_str(text)
        assert isinstance(spec, Space)
        return spec

    @property
    def space(self) -> Any:
        """The search space, or None if it could not be stored (a define-by-run
        space, or one holding values that do not serialize)."""
        text = self.info.space
        return None if text is None else from_json_str(text)

    @property
    def trials(self) -> list[Trial]:
        """Every trial, in id order (running and enqueued ones as pending)."""
        return [trial_from_record(r) for r in self.storage.get_trials(self.name)]

    @property
    def result(self) -> StudyResult:
        """The trials as a `StudyResult` (read now)."""
        info = self.info
        spec = from_json_str(info.dna_spec) if info.dna_spec else Space(elements=[])
        return StudyResult(
            self.trials, spec, info.multi_objective, self.name, tuple(info.directions)
        )

    @property
    def best_trial(self) -> Trial:
        """The completed trial with the best reward, in the study's direction.

        Raises:
            AutomorphError: For a multi-objective study, or if none completed.
        """
        return self.result.best_trial

    @property
    def best_trials(self) -> list[Trial]:
        """The Pareto front (for one objective, every trial tied for best)."""
        return self.result.best_trials

    @property
    def pareto_front(self) -> list[Trial]:
        """The completed trials no other completed trial dominates."""
        return self.result.pareto_front

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per trial (see `StudyResult.to_records`)."""
        return self.result.to_records()

    def to_dataframe(self) -> Any:
        """The trials as a `pandas.DataFrame`: the columns of `export`.

        Raises:
            ImportError: If pandas is not installed (the message says how to
                install it).
        """
        layout = RecordLayout(self.multi_objective)
        records = self.storage.get_trials(self.name)
        for record in records:
            layout.add(record)
        return records_frame([layout.record(record) for record in records])

    def export(self, target: str | os.PathLike[str] | TextIO, fmt: str | None = None) -> int:
        """Writes every trial as flat records, as `automorph export` does.

        Args:
            target: A file path, or an open text stream.
            fmt: "csv" or "json"; by default the path's suffix, else CSV.

        Returns:
            How many trials were written.

        Raises:
            FieldValueError: If `fmt` is neither "csv" nor "json".
        """
        if fmt is None:
            suffix = Path(target).suffix.lower() if isinstance(target, (str, os.PathLike)) else ""
            fmt = "json" if suffix == ".json" else "csv"
        if fmt not in EXPORT_FORMATS:
            raise FieldValueError(f"`fmt` must be 'csv' or 'json', got {fmt!r}")
        multi = self.multi_objective
        if isinstance(target, (str, os.PathLike)):
            with open(target, "w", encoding="utf-8", newline="") as stream:
                return write_records(self.storage, self.name, multi, fmt, stream)
        return write_records(self.storage, self.name, multi, fmt, target)

    # --- actions --------------------------------------------------------------------

    def enqueue(self, example_or_dna: Any) -> int:
        """Queues a trial to run before any new proposal (a warm start).

        Whatever runs the study next (`am.tune` with any executor, or
        `am.sample`) claims enqueued trials first, oldest first; its
        algorithm learns of each as a proposal made elsewhere, then of its
        reward, as for any trial of a shared study.

        Args:
            example_or_dna: An `am.DNA` of the study's space, or an example
                (a program of the space, such as `{"lr": 0.01, "depth": 3}`),
                which is encoded with the study's stored space
                (`am.encode(space, example)`).

        Returns:
            The id of the enqueued trial.

        Raises:
            InvalidDNAError: If a DNA does not fit the study's space.
            SearchSpaceError: If an example is not in the space, or the
                study's space could not be stored (then pass a DNA).
        """
        spec = self.dna_spec
        space = self.space
        if isinstance(example_or_dna, DNA):
            dna = example_or_dna
            spec.validate(dna)
        else:
            if space is None:
                raise SearchSpaceError(
                    f"study {self.name!r} could not store its search space (a define-by-run "
                    "space, or one whose values do not serialize), so an example cannot be "
                    "encoded; enqueue its DNA instead: `study.enqueue(am.DNA({...}))`"
                )
            dna = Template(space).encode(example_or_dna)
        example = None
        if space is not None:
            example = _json_or_none(Template(space).materialize(dna, validate=False))
        record = self.storage.enqueue_trial(self.name, dna.to_json(), example)
        return record.id

    def enqueue_dna(self, values: Mapping[str, Any]) -> int:
        """`enqueue` of the DNA given as values keyed by decision id or name.

        Raises:
            InvalidDNAError: If the values do not make a DNA of the space.
        """
        spec = self.dna_spec
        dna = spec.dna_from_dict(values)
        return self.enqueue(dna)

    def delete(self) -> None:
        """Deletes the study and its trials from the store."""
        self.storage.delete_study(self.name)


def load_study(name: str, storage: Storage | str | os.PathLike[str]) -> Study:
    """The study `name` in `storage` (a SQLite path, a URL, or a `Storage`),
    without its objective, space or algorithm.

    Raises:
        StudyNotFoundError: If the store has no such study (the message lists
            the studies it has).
        StorageError: If the store cannot be opened.

    >>> import automorph as am
    >>> from automorph.storage import MemoryStorage
    >>> store = MemoryStorage()
    >>> _ = am.tune(lambda e: float(e["x"]), am.Dict(x=am.intv(0, 3)), am.algorithms.Grid(),
    ...             name="grid", storage=store)
    >>> am.load_study("grid", store).best_trial.reward
    3.0
    """
    return Study(name, storage)
