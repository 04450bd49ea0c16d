"""Every storage backend passes the storage contract; the contract catches broken ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from automorph.storage import MemoryStorage, Storage, TrialRecord, TrialState, open_storage
from automorph.storage._sql import SQLStorage
from automorph.testing import check_storage


def test_memory_storage_passes_the_contract() -> None:
    check_storage(MemoryStorage)


def test_sqlite_storage_passes_the_contract(tmp_path: Path) -> None:
    check_storage(lambda: SQLStorage(f"sqlite:///{tmp_path / 'studies.db'}"))


def test_sqlite_storage_opened_by_path_passes_the_contract(tmp_path: Path) -> None:
    check_storage(lambda: open_storage(tmp_path / "studies.db"))


def test_postgres_storage_passes_the_contract(postgres_url: str) -> None:
    check_storage(lambda: SQLStorage(postgres_url))


class Leaky(MemoryStorage):
    """Hands out the stored record itself."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[tuple[str, int], TrialRecord] = {}

    def get_trial(self, study: str, trial_id: int) -> TrialRecord:
        return self.kept.setdefault((study, trial_id), super().get_trial(study, trial_id))


class Careless(MemoryStorage):
    """Takes a result from any worker."""

    def finish_trial(
        self, study: str, trial_id: int, worker: str, status: TrialState, *args: Any, **kwargs: Any
    ) -> TrialRecord:
        owner = self.get_trial(study, trial_id).worker or worker
        return super().finish_trial(study, trial_id, owner, status, *args, **kwargs)


class Haunted(MemoryStorage):
    """Takes a result from a worker that the trial was taken from."""

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[tuple[str, int], set[str]] = {}

    def propose_trial(self, study: str, worker: str, since: int, make: Any) -> TrialRecord | None:
        trial = super().propose_trial(study, worker, since, make)
        if trial is not None:
            self.owners.setdefault((study, trial.id), set()).add(worker)
        return trial

    def finish_trial(
        self, study: str, trial_id: int, worker: str, status: TrialState, *args: Any, **kwargs: Any
    ) -> TrialRecord:
        owner = self.get_trial(study, trial_id).worker
        if owner is not None and worker in self.owners.get((study, trial_id), ()):
            worker = owner
        return super().finish_trial(study, trial_id, worker, status, *args, **kwargs)


class Forgetful(MemoryStorage):
    """Shows `make` every event, whatever `since` says."""

    def propose_trial(self, study: str, worker: str, since: int, make: Any) -> TrialRecord | None:
        return super().propose_trial(study, worker, 0, make)


class Eager(MemoryStorage):
    """Requeues every running trial, stale or not."""

    def requeue_stale(self, study: str, timeout: float, retry_limit: int) -> list[int]:
        return super().requeue_stale(study, -1.0, retry_limit)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (Leaky, "changed the (trial|store)"),
        (Careless, "finish_trial by another worker: raised nothing"),
        (Haunted, "finish_trial from the worker that lost the trial: raised nothing"),
        (Forgetful, r"make\(events\) after since=1 saw"),
        (Eager, "requeue_stale moved a live trial"),
    ],
)
def test_the_contract_catches_a_broken_store(broken: Callable[[], Storage], message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        check_storage(broken)
