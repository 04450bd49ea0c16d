"""Multi-fidelity algorithms in the search loop: their curves and their policy.

A `MultiFidelity` algorithm (BOHB) learns from the study's learning curves
and is designed to run with an early-stopping policy. When a search loop
starts, `connect` gives the study's algorithm a curve source that reads the
study where it lives (this loop's memory, or the store shared by every
worker, so a worker's model sees the other workers' measurements) and picks
the loop's policy: the one the user gave, else the algorithm's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from automorph.algorithms import CurveSource, MultiFidelity
from automorph.geno import DNA
from automorph.storage import FINISHED
from automorph.tuning._backend import StudyBackend
from automorph.tuning._stored import StoredStudy

if TYPE_CHECKING:
    from automorph.early_stopping import EarlyStoppingPolicy

Curve = list[tuple[int, float]]


def connect(study: StudyBackend, policy: EarlyStoppingPolicy | None) -> EarlyStoppingPolicy | None:
    """Attaches the study's curves to a multi-fidelity algorithm and returns
    the policy the loop asks: `policy` if given, else the algorithm's own.
    Other algorithms, and multi-objective searches (which do not stop early),
    are left as they are."""
    algorithm = study.algorithm
    if not isinstance(algorithm, MultiFidelity) or algorithm.multi_objective:
        return policy
    sign = -1.0 if study.directions[0] == "minimize" else 1.0
    algorithm.use_curves(curve_source(study, sign))
    if policy is not None:
        return policy
    from automorph import early_stopping

    name, fields = algorithm.stopping_policy()
    return early_stopping.create(name, **fields)


def curve_source(study: StudyBackend, sign: float) -> CurveSource:
    """A function returning every measured trial of `study` as `(dna, curve)`,
    in trial order, rewards times `sign` (higher is better). An ended trial's
    curve no longer changes: it is built once and kept."""
    if isinstance(study, StoredStudy):
        return _stored_source(study, sign)
    ended: dict[int, tuple[DNA, Curve]] = {}

    def read() -> list[tuple[DNA, Curve]]:
        out: list[tuple[DNA, Curve]] = []
        for trial in study.trials():
            entry = ended.get(trial.id)
            if entry is None:
                if not trial.measurements:
                    continue
                curve = [(m.step, sign * m.reward) for m in trial.measurements]  # type: ignore[operator]
                entry = (trial.dna, curve)
                if trial.status != "pending":
                    ended[trial.id] = entry
            out.append(entry)
        return out

    return read


def _stored_source(study: StoredStudy, sign: float) -> CurveSource:
    """Reads the trials' records from the store (every worker's measurements)."""
    dnas: dict[int, DNA] = {}
    ended: dict[int, tuple[DNA, Curve]] = {}

    def read() -> list[tuple[DNA, Curve]]:
        out: list[tuple[DNA, Curve]] = []
        for record in study.storage.get_trials(study.name):
            entry = ended.get(record.id)
            if entry is None:
                if not record.measurements:
                    continue
                dna = dnas.get(record.id)
                if dna is None:
                    dna = dnas[record.id] = DNA.from_json(record.dna)
                curve = [
                    (int(m["step"]), sign * float(m["reward"]))
                    for m in record.measurements
                    if not isinstance(m["reward"], list)
                ]
                entry = (dna, curve)
                if record.status in FINISHED:
                    ended[record.id] = entry
            out.append(entry)
        return out

    return read
