"""The contract every storage backend must pass.

Run it from a test (it raises `AssertionError` with a message on failure):

    from automorph.testing import check_storage
    check_storage(lambda: MyStorage(...))

`make` is called once per group of checks and must return a usable store;
it may return the same database each time: the checks use study names of
their own and look only at those, so a store that already holds studies (a
shared PostgreSQL database, say) works too. Every store made is closed.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from automorph.storage import FINISHED, Event, Storage, StudyInfo, TrialRecord
from automorph.utils import (
    FieldValueError,
    SerializationError,
    StudyExistsError,
    StudyNotFoundError,
    TrialStateError,
)

Factory = Callable[[], Storage]


def check_storage(make: Factory) -> None:
    """Runs every storage check on stores from `make`.

    Args:
        make: Returns a store: a new one, or one more connection to the same
            database (see the module docstring).

    Raises:
        AssertionError: At the first check the store fails, saying which.

    >>> from automorph.storage import MemoryStorage
    >>> check_storage(MemoryStorage)
    """
    for check in CHECKS:
        check(make)


# --- helpers ---------------------------------------------------------------------


@contextmanager
def _store(make: Factory) -> Iterator[Storage]:
    store = make()
    assert isinstance(store, Storage), f"make() returned {type(store).__name__}, not a Storage"
    try:
        yield store
    finally:
        store.close()


def _name(label: str) -> str:
    return f"contract-{label}-{uuid.uuid4().hex[:8]}"


def _new_study(store: Storage, label: str, **fields: Any) -> str:
    name = _name(label)
    store.create_study(StudyInfo(name, **fields))
    return name


def _dna(n: int) -> dict[str, Any]:
    return {"format": "dna", "value": [n, {"lr": 0.1 * n}]}


def _propose(store: Storage, study: str, worker: str = "w1", n: int | None = None) -> TrialRecord:
    def make(events: list[Event]) -> tuple[dict[str, Any], str | None]:
        return _dna(len(events) if n is None else n), f"example {n}"

    trial = store.propose_trial(study, worker, 10**12, make)
    assert trial is not None, "propose_trial returned None although make returned a trial"
    return trial


def _raises(error: type[Exception], what: str, call: Callable[[], Any]) -> Exception:
    try:
        call()
    except error as e:
        return e
    except Exception as e:  # the wrong error is the finding
        raise AssertionError(
            f"{what}: raised {type(e).__name__} ({e}), not {error.__name__}"
        ) from e
    raise AssertionError(f"{what}: raised nothing, expected {error.__name__}")


def _listed(value: Any) -> Any:
    # Stores that go through JSON give lists for tuples; memory keeps the tuple.
    return list(value) if isinstance(value, tuple) else value


def _same(store: Storage, study: str, trial_id: int, before: TrialRecord, what: str) -> None:
    after = store.get_trial(study, trial_id)
    assert after == before, f"{what} changed the trial:\n  before {before}\n  after  {after}"


# --- studies -------------------------------------------------------------------------


def check_studies(make: Factory) -> None:
    """Create, get, list, delete; exist_ok; the errors for missing and taken names."""
    with _store(make) as store:
        first = _name("study-a")
        info = StudyInfo(
            first,
            space='{"space": 1}',
            algorithm='{"algo": "random"}',
            dna_spec='{"spec": 2}',
            multi_objective=True,
            metadata={"owner": "me", "tags": ["x", 1, None]},
        )
        created = store.create_study(info)
        assert created.name == first, f"create_study returned the study {created.name!r}"
        assert created.created > 0, "create_study did not set `created`"
        got = store.get_study(first)
        for key in ("space", "algorithm", "dna_spec", "multi_objective", "metadata"):
            assert getattr(got, key) == getattr(info, key), (
                f"get_study: {key} is {getattr(got, key)!r}, was stored as {getattr(info, key)!r}"
            )
        assert got == created, f"get_study returned {got}, create_study {created}"

        e = _raises(
            StudyExistsError, "create_study of a taken name", lambda: store.create_study(info)
        )
        assert first in str(e), f"StudyExistsError does not name the study: {e}"
        again = store.create_study(StudyInfo(first, algorithm="other"), exist_ok=True)
        assert again == created, f"create_study(exist_ok=True) returned {again}, not the existing"
        assert store.get_study(first).algorithm == info.algorithm, "exist_ok replaced the study"

        second = _new_study(store, "study-b")
        names = [s.name for s in store.list_studies() if s.name in (first, second)]
        assert names == [first, second], f"list_studies gives {names}, expected oldest first"

        missing = _name("missing")
        e = _raises(
            StudyNotFoundError, "get_study of a missing name", lambda: store.get_study(missing)
        )
        assert missing in str(e), f"StudyNotFoundError does not name the study: {e}"
        assert first in str(e) and second in str(e), (
            f"StudyNotFoundError does not list the studies there are: {e}"
        )
        _propose(store, second)
        store.delete_study(second)
        _raises(StudyNotFoundError, "get_study after delete", lambda: store.get_study(second))
        _raises(StudyNotFoundError, "delete_study twice", lambda: store.delete_study(second))
        assert second not in [s.name for s in store.list_studies()], "a deleted study is listed"
        # The name is free again, with a new event sequence and no trials.
        store.create_study(StudyInfo(second))
        assert store.get_trials(second) == [], "a re-created study kept the old trials"
        assert _propose(store, second).proposed_seq == 1, "a re-created study kept its events"


def check_missing_study(make: Factory) -> None:
    """Every method that names a study raises StudyNotFoundError for a missing one."""
    with _store(make) as store:
        name = _name("nowhere")
        calls: dict[str, Callable[[], Any]] = {
            "delete_study": lambda: store.delete_study(name),
            "propose_trial": lambda: store.propose_trial(name, "w", 0, lambda e: ({}, None)),
            "claim_trial": lambda: store.claim_trial(name, "w"),
            "enqueue_trial": lambda: store.enqueue_trial(name, {"x": 1}, None),
            "heartbeat": lambda: store.heartbeat(name, 1, "w"),
            "add_measurement": lambda: store.add_measurement(name, 1, "w", {"reward": 1.0}),
            "finish_trial": lambda: store.finish_trial(name, 1, "w", "completed", 1.0),
            "requeue_stale": lambda: store.requeue_stale(name, 1.0, 1),
            "get_trials": lambda: store.get_trials(name),
            "get_trial": lambda: store.get_trial(name, 1),
            "events": lambda: store.events(name),
            "iter_trials": lambda: list(store.iter_trials(name)),
        }
        for method, call in calls.items():
            _raises(StudyNotFoundError, f"{method} on a missing study", call)
        study = _new_study(store, "no-trial")
        _raises(
            StudyNotFoundError, "get_trial of a missing trial", lambda: store.get_trial(study, 1)
        )


# --- proposing ------------------------------------------------------------------------


def check_propose(make: Factory) -> None:
    """Ids and event numbers in order; `make` sees exactly the events after `since`."""
    with _store(make) as store:
        study = _new_study(store, "propose")
        before = time.time()
        first = _propose(store, study, "w1", n=0)
        assert (first.id, first.proposed_seq) == (1, 1), (
            f"the first trial has id {first.id} and event {first.proposed_seq}, expected 1 and 1"
        )
        assert first.status == "running" and first.worker == "w1", (
            f"a new trial is {first.status} for {first.worker!r}, expected running for 'w1'"
        )
        assert first.dna == _dna(0) and first.example == "example 0", (
            f"the trial's dna/example did not round trip: {first.dna}, {first.example!r}"
        )
        assert first.created >= before - 1 and first.heartbeat and first.started, (
            f"a new trial needs created, started and heartbeat times: {first}"
        )
        assert (first.measurements, first.retries, first.finished_seq) == ([], 0, None), (
            f"a new trial starts clean: {first}"
        )
        assert store.get_trial(study, 1) == first, "get_trial differs from what propose returned"
        second = _propose(store, study, "w2", n=1)
        store.finish_trial(study, 1, "w1", "completed", reward=0.5)
        third = _propose(store, study, "w1", n=2)
        assert [second.id, third.id] == [2, 3], f"trial ids {second.id}, {third.id}, expected 2, 3"
        assert third.proposed_seq == 4, f"the third trial took event {third.proposed_seq}, not 4"

        every = store.events(study)
        assert [(e.seq, e.kind, e.trial_id) for e in every] == [
            (1, "proposed", 1),
            (2, "proposed", 2),
            (3, "finished", 1),
            (4, "proposed", 3),
        ], f"events: {every}"
        assert every[2].reward == 0.5 and every[0].dna == _dna(0), f"event contents: {every}"
        for since in range(5):
            seen: list[list[Event]] = []
            assert store.propose_trial(study, "w", since, seen.append) is None, (
                "propose_trial returned a trial although make returned None"
            )
            assert seen == [every[since:]], (
                f"make(events) after since={since} saw {seen}, expected {every[since:]}"
            )
            assert store.events(study, since) == every[since:], f"events(since={since}) is wrong"
        assert len(store.get_trials(study)) == 3, "a proposal whose make returned None was stored"

        def fail(events: list[Event]) -> None:
            raise KeyError("make failed")

        _raises(
            KeyError,
            "propose_trial whose make raises",
            lambda: store.propose_trial(study, "w", 0, fail),
        )
        fourth = _propose(store, study)
        assert (fourth.id, fourth.proposed_seq) == (4, 5), (
            f"after a None and a failed proposal the next trial is {fourth.id} at event "
            f"{fourth.proposed_seq}; nothing may be stored or numbered for them (expected 4 at 5)"
        )


# --- running trials ----------------------------------------------------------------------


def check_claim(make: Factory) -> None:
    """claim_trial takes only pending trials, oldest first."""
    with _store(make) as store:
        study = _new_study(store, "claim")
        for _ in range(3):
            _propose(store, study, "dead")
        assert store.claim_trial(study, "w2") is None, "claim_trial took a running trial"
        store.finish_trial(study, 2, "dead", "completed", reward=1.0)
        assert sorted(store.requeue_stale(study, -1.0, 5)) == [1, 3], "requeue_stale ids"
        claimed = store.claim_trial(study, "w2")
        assert claimed is not None and claimed.id == 1, f"claim_trial took {claimed}, expected 1"
        assert (claimed.status, claimed.worker) == ("running", "w2"), f"claimed: {claimed}"
        assert store.get_trial(study, 1) == claimed, "get_trial differs from the claimed record"
        nxt = store.claim_trial(study, "w3")
        assert nxt is not None and nxt.id == 3, f"the second claim took {nxt}, expected 3"
        assert store.claim_trial(study, "w4") is None, "claim_trial took a trial twice"
        assert store.get_trial(study, 2).status == "completed", "claim touched a finished trial"


def check_lease(make: Factory) -> None:
    """One proposer at a time: take_lease is exclusive until the lease expires
    or is released; add_trials stores only the holder's proposals, in order
    and with the next event numbers; waiting workers are counted by demand
    until they claim; release_lease can mark the study exhausted."""
    with _store(make) as store:
        study = _new_study(store, "lease")
        assert store.take_lease(study, "a", 60.0), "take_lease refused a free lease"
        assert store.take_lease(study, "a", 60.0), "take_lease refused its holder's renewal"
        assert not store.take_lease(study, "b", 60.0), "take_lease gave a held lease away"
        demand = store.demand(study, 60.0)
        assert demand.proposer == "a", f"demand.proposer is {demand.proposer!r}, not 'a'"
        refused = store.add_trials(study, "b", [(_dna(9), None)])
        assert refused is None, "add_trials stored proposals of a worker without the lease"
        assert store.get_trials(study) == [], "a refused add_trials stored something"
        store.wait_for_trial(study, "b")
        store.wait_for_trial(study, "c")
        store.wait_for_trial(study, "c")  # said again: still one worker
        demand = store.demand(study, 60.0)
        assert (demand.waiting, demand.pending, demand.trials) == (2, 0, 0), f"demand: {demand}"
        made = store.add_trials(study, "a", [(_dna(1), "one"), (_dna(2), None)], keep=True)
        assert made is not None and [t.id for t in made] == [1, 2], f"add_trials made {made}"
        assert [(t.status, t.worker) for t in made] == [("running", "a"), ("pending", None)], (
            f"add_trials with keep: {[(t.status, t.worker) for t in made]}"
        )
        assert [t.proposed_seq for t in made] == [1, 2], "add_trials event numbers"
        assert made[0].example == "one", "add_trials lost the example"
        claimed = store.claim_trial(study, "b")
        assert claimed is not None and claimed.id == 2, f"claim_trial took {claimed}"
        demand = store.demand(study, 60.0)
        assert (demand.waiting, demand.pending, demand.running, demand.trials) == (1, 0, 2, 2), (
            f"demand after a claim: {demand}"
        )
        assert store.demand(study, -1.0).waiting == 0, "demand counted workers seen too long ago"
        store.wait_for_trial(study, "c", waiting=False)
        assert store.demand(study, 60.0).waiting == 0, "a worker that stopped waiting counts"
        store.release_lease(study, "b")  # not b's: nothing changes
        assert not store.take_lease(study, "b", 60.0), "release_lease by another worker freed it"
        store.release_lease(study, "a", exhausted=True)
        demand = store.demand(study, 60.0)
        assert demand.exhausted and demand.proposer is None, f"demand after release: {demand}"
        assert store.take_lease(study, "b", 0.0), "take_lease refused a released lease"
        assert store.take_lease(study, "c", 60.0), "take_lease refused an expired lease"
        assert store.add_trials(study, "b", [(_dna(3), None)]) is None, (
            "add_trials stored proposals of a worker whose lease expired and passed on"
        )
        final = {"reward": 1.0, "step": 3, "metrics": {}, "elapsed": 0.5}
        done = store.finish_trial(
            study, 1, "a", "completed", reward=1.0, example="ONE", measurement=final
        )
        assert done.example == "ONE", "finish_trial did not store the example"
        stored = store.get_trial(study, 1)
        assert stored.example == "ONE", "the stored example is not the new one"
        assert stored.measurements == [final], f"the final measurement: {stored.measurements}"


def check_enqueue(make: Factory) -> None:
    """An enqueued trial is pending, takes the next event number as a
    proposal, and is claimed before trials proposed later are."""
    with _store(make) as store:
        study = _new_study(store, "enqueue")
        _propose(store, study)
        queued = store.enqueue_trial(study, _dna(7), '{"x": 7}')
        assert (queued.id, queued.status, queued.proposed_seq) == (2, "pending", 2), (
            f"enqueued: {queued}"
        )
        assert queued.dna == _dna(7) and queued.example == '{"x": 7}', f"enqueued: {queued}"
        assert store.get_trial(study, 2) == queued, "get_trial differs from the enqueued record"
        events = store.events(study, 1)
        assert [(e.seq, e.kind, e.trial_id) for e in events] == [(2, "proposed", 2)], (
            f"events after an enqueue: {events}"
        )
        claimed = store.claim_trial(study, "w2")
        assert claimed is not None and claimed.id == 2, f"claim_trial took {claimed}, expected 2"
        assert store.claim_trial(study, "w3") is None, "claim_trial took an enqueued trial twice"
        done = store.finish_trial(study, 2, "w2", "completed", reward=0.5)
        assert done.finished_seq == 3, f"finishing an enqueued trial took seq {done.finished_seq}"


def check_heartbeat(make: Factory) -> None:
    """Only the trial's own worker may beat, and only while it runs."""
    with _store(make) as store:
        study = _new_study(store, "heartbeat")
        trial = _propose(store, study, "w1")
        time.sleep(0.002)
        assert store.heartbeat(study, 1, "w1") is True, "heartbeat of the owner returned False"
        beat = store.get_trial(study, 1).heartbeat
        assert beat is not None and trial.heartbeat is not None and beat > trial.heartbeat, (
            f"heartbeat did not move the time forward ({trial.heartbeat} -> {beat})"
        )
        assert store.heartbeat(study, 1, "w2") is False, "another worker's heartbeat counted"
        store.requeue_stale(study, -1.0, 5)
        assert store.heartbeat(study, 1, "w1") is False, "a heartbeat on a requeued trial counted"
        store.claim_trial(study, "w2")
        store.finish_trial(study, 1, "w2", "skipped")
        assert store.heartbeat(study, 1, "w2") is False, "a heartbeat on a finished trial counted"


def check_wrong_worker(make: Factory) -> None:
    """Measurements and results from a worker that does not own the trial are refused."""
    with _store(make) as store:
        study = _new_study(store, "ownership")
        _propose(store, study, "w1")
        store.add_measurement(study, 1, "w1", {"reward": 0.25, "step": 1, "metrics": {}})
        before = store.get_trial(study, 1)
        _raises(
            TrialStateError,
            "add_measurement by another worker",
            lambda: store.add_measurement(study, 1, "w2", {"reward": 9.0}),
        )
        _same(store, study, 1, before, "add_measurement by another worker")
        _raises(
            TrialStateError,
            "finish_trial by another worker",
            lambda: store.finish_trial(study, 1, "w2", "completed", reward=9.0),
        )
        _same(store, study, 1, before, "finish_trial by another worker")
        _raises(
            TrialStateError,
            "finish_trial as 'running'",
            lambda: store.finish_trial(study, 1, "w1", "running"),
        )
        _same(store, study, 1, before, "finish_trial as 'running'")
        done = store.finish_trial(study, 1, "w1", "completed", reward=0.5)
        for call, what in [
            (lambda: store.add_measurement(study, 1, "w1", {"reward": 9.0}), "add_measurement"),
            (lambda: store.finish_trial(study, 1, "w1", "failed", error="x"), "finish_trial"),
        ]:
            _raises(TrialStateError, f"{what} on a finished trial", call)
            _same(store, study, 1, done, f"{what} on a finished trial")
        assert [e.seq for e in store.events(study)] == [1, 2], "a refused finish took an event"


def check_taken_over(make: Factory) -> None:
    """A trial requeued from a silent worker and claimed by another takes
    results only from its new owner: the old one (alive after all: paused,
    cut off) has its heartbeats, measurements and result refused."""
    with _store(make) as store:
        study = _new_study(store, "taken-over")
        # Ids as workers make them (host:pid:random): a late worker never shares one.
        old, new = "host-a:4242:1f2e3d", "host-b:4242:9c8b7a"
        _propose(store, study, old)
        store.add_measurement(study, 1, old, {"reward": 0.1, "step": 1, "metrics": {}})
        assert store.requeue_stale(study, -1.0, 5) == [1], "the silent worker's trial stayed"
        claimed = store.claim_trial(study, new)
        assert claimed is not None and (claimed.id, claimed.worker) == (1, new), (
            f"the requeued trial was not claimed by the new worker: {claimed}"
        )
        store.add_measurement(study, 1, new, {"reward": 0.3, "step": 1, "metrics": {}})
        before = store.get_trial(study, 1)
        assert store.heartbeat(study, 1, old) is False, "the old owner's heartbeat counted"
        _same(store, study, 1, before, "a heartbeat from the worker that lost the trial")
        lost = "from the worker that lost the trial"
        _raises(
            TrialStateError,
            f"add_measurement {lost}",
            lambda: store.add_measurement(study, 1, old, {"reward": 9.0, "step": 2}),
        )
        _same(store, study, 1, before, f"add_measurement {lost}")
        _raises(
            TrialStateError,
            f"finish_trial {lost}",
            lambda: store.finish_trial(study, 1, old, "completed", reward=9.0),
        )
        _same(store, study, 1, before, f"finish_trial {lost}")
        assert store.heartbeat(study, 1, new) is True, "the new owner's heartbeat was refused"
        done = store.finish_trial(study, 1, new, "completed", reward=0.7)
        assert (done.status, done.reward, done.worker) == ("completed", 0.7, new), (
            f"the new owner's result was not stored: {done}"
        )
        assert [m["reward"] for m in done.measurements] == [0.3], (
            f"measurements of the finished trial: {done.measurements}"
        )
        _raises(
            TrialStateError,
            f"finish_trial {lost}, after the new owner's",
            lambda: store.finish_trial(study, 1, old, "failed", error="late"),
        )
        _same(store, study, 1, done, f"finish_trial {lost}, after the new owner's")
        finished = [(e.trial_id, e.reward) for e in store.events(study) if e.kind == "finished"]
        assert finished == [(1, 0.7)], f"finished events: {finished}"


def check_finish(make: Factory) -> None:
    """finish_trial stores the outcome and takes the next event number."""
    with _store(make) as store:
        study = _new_study(store, "finish")
        for _ in range(3):
            _propose(store, study, "w")
        store.add_measurement(study, 1, "w", {"reward": 0.1, "step": 1, "metrics": {"a": 1}})
        store.add_measurement(study, 1, "w", {"reward": 0.2, "step": 2, "metrics": {"a": 2}})
        done = store.finish_trial(study, 1, "w", "completed", reward=0.2, metadata={"k": 1})
        assert done.status == "completed" and done.reward == 0.2, f"finished: {done}"
        assert done.finished_seq == 4 and done.finished is not None, (
            f"the finish took event {done.finished_seq}, expected 4 (after 3 proposals)"
        )
        assert [m["step"] for m in done.measurements] == [1, 2], f"measurements: {done}"
        assert done.metadata == {"k": 1}, f"finish metadata not stored: {done.metadata}"
        assert store.get_trial(study, 1) == done, "get_trial differs from what finish returned"
        skipped = store.finish_trial(study, 2, "w", "skipped", reward=1.0, error="too slow")
        assert (skipped.reward, skipped.error, skipped.finished_seq) == (None, "too slow", 5), (
            f"a skipped trial keeps no reward, keeps its reason and takes event 5: {skipped}"
        )
        failed = store.finish_trial(study, 3, "w", "failed", error="boom")
        assert failed.status == "failed" and failed.error == "boom", f"failed: {failed}"
        last = store.events(study, 3)
        assert [(e.kind, e.trial_id, e.reward) for e in last] == [
            ("finished", 1, 0.2),
            ("finished", 2, None),
            ("finished", 3, None),
        ], f"finish events: {last}"
        for status in FINISHED:
            got = [t.id for t in store.get_trials(study, status)]
            want = {"completed": [1], "skipped": [2], "failed": [3]}[status]
            assert got == want, f"get_trials(status={status!r}) gave {got}, expected {want}"
        assert store.get_trials(study, "running") == [], "finished trials listed as running"
        assert [t.id for t in store.get_trials(study)] == [1, 2, 3], "get_trials is not in id order"
        assert list(store.iter_trials(study)) == store.get_trials(study), "iter_trials differs"


def check_requeue(make: Factory) -> None:
    """Stale trials go back to pending, and fail at the retry limit."""
    with _store(make) as store:
        study = _new_study(store, "requeue")
        _propose(store, study, "w1")
        _propose(store, study, "w2")
        store.add_measurement(study, 1, "w1", {"reward": 0.5, "step": 1})
        assert store.requeue_stale(study, 3600.0, 1) == [], "requeue_stale moved a live trial"
        time.sleep(0.4)
        store.heartbeat(study, 2, "w2")
        moved = store.requeue_stale(study, 0.2, 1)
        assert moved == [1], f"requeue_stale moved {moved}; only trial 1 missed its heartbeats"
        pending = store.get_trial(study, 1)
        assert (pending.status, pending.retries, pending.measurements) == ("pending", 1, []), (
            f"a requeued trial is pending, retries + 1, its measurements cleared: {pending}"
        )
        assert pending.finished_seq is None and len(store.events(study)) == 2, (
            "requeueing is not an event"
        )
        assert store.get_trial(study, 2).status == "running", "requeue_stale moved trial 2"
        claimed = store.claim_trial(study, "w3")
        assert claimed is not None and claimed.retries == 1, f"claim kept retries: {claimed}"
        # Its second miss reaches the limit (1): the trial fails, as a finish event.
        moved = store.requeue_stale(study, -1.0, 1)
        assert moved == [1, 2], f"requeue_stale with every heartbeat stale moved {moved}"
        failed, again = store.get_trial(study, 1), store.get_trial(study, 2)
        assert failed.status == "failed" and failed.error, f"at the retry limit: {failed}"
        assert failed.finished_seq == 3 and failed.finished is not None, (
            f"a trial failed by requeue_stale takes the next event (3): {failed}"
        )
        assert (again.status, again.retries) == ("pending", 1), f"under the limit: {again}"
        assert [(e.kind, e.trial_id, e.reward) for e in store.events(study, 2)] == [
            ("finished", 1, None)
        ], "the failure is a finished event without reward"
        _raises(
            TrialStateError,
            "finish_trial by the worker of a failed trial",
            lambda: store.finish_trial(study, 1, "w3", "completed", reward=1.0),
        )


def check_changed(make: Factory) -> None:
    """changed_trials gives what changed after an event number, without examples."""
    with _store(make) as store:
        study = _new_study(store, "changed")
        for _ in range(3):
            _propose(store, study, "w")
        store.finish_trial(study, 1, "w", "completed", reward=0.5)
        latest, trials = store.changed_trials(study)
        assert latest == 4, f"changed_trials gave latest event {latest}, expected 4"
        assert [(t.id, t.status) for t in trials] == [
            (1, "completed"),
            (2, "running"),
            (3, "running"),
        ], f"changed_trials(since=0) gave {trials}"
        assert all(t.example is None for t in trials), "changed_trials kept the examples"
        assert trials[0].reward == 0.5 and trials[0].dna == _dna(0), f"values: {trials[0]}"
        store.add_measurement(study, 2, "w", {"reward": 0.1, "step": 1})
        light_latest, light = store.changed_trials(study, light=True)
        assert light_latest == 4 and [(t.id, t.status, t.reward) for t in light] == [
            (t.id, t.status, t.reward) for t in trials
        ], f"changed_trials(light=True) gave {light}"
        assert all(t.dna == {} and t.measurements == [] for t in light), (
            f"light=True kept the DNA or the measurements: {light}"
        )
        latest, trials = store.changed_trials(study, latest)
        # Nothing took an event; the running trials come with their measurements.
        assert latest == 4 and [t.id for t in trials] == [2, 3], f"after a report: {trials}"
        assert [m["step"] for m in trials[0].measurements] == [1], f"measurements: {trials[0]}"
        store.finish_trial(study, 2, "w", "failed", error="x")
        store.finish_trial(study, 3, "w", "completed", reward=1.0)
        _propose(store, study, "w")
        latest, trials = store.changed_trials(study, 4)
        assert latest == 7, f"latest event after two finishes and a proposal: {latest}"
        assert [(t.id, t.status) for t in trials] == [
            (2, "failed"),
            (3, "completed"),
            (4, "running"),
        ], f"changed_trials(since=4) gave {trials}"
        assert store.changed_trials(study, 7)[1] == [trials[-1]], "only the running one is left"
        _raises(
            StudyNotFoundError,
            "changed_trials of a missing study",
            lambda: store.changed_trials(_name("missing")),
        )


def check_study_metadata(make: Factory) -> None:
    """update_study_metadata sets and removes keys, keeps the directions, names bad input."""
    with _store(make) as store:
        study = _new_study(store, "meta", metadata={"directions": ["minimize"], "a": 1})
        got = store.update_study_metadata(study, {"notes": {"study": "<b>x</b>"}, "a": None})
        want = {"directions": ["minimize"], "notes": {"study": "<b>x</b>"}}
        assert got.metadata == want, f"update_study_metadata returned {got.metadata}"
        assert store.get_study(study).metadata == want, "the update was not stored"
        assert store.get_study(study).directions == ["minimize"]
        error = _raises(
            FieldValueError,
            "changing the directions",
            lambda: store.update_study_metadata(study, {"directions": ["maximize"]}),
        )
        assert "directions" in str(error), error
        _raises(
            SerializationError,
            "a value JSON cannot hold",
            lambda: store.update_study_metadata(study, {"bad": object()}),
        )
        assert store.get_study(study).metadata == want, "a refused update changed the study"
        _raises(
            StudyNotFoundError,
            "update_study_metadata of a missing study",
            lambda: store.update_study_metadata(_name("missing"), {"a": 1}),
        )


# --- values -------------------------------------------------------------------------------


def check_copies(make: Factory) -> None:
    """Records handed out are copies; values handed in are copied."""
    with _store(make) as store:
        study = _new_study(store, "copies", metadata={"a": {"b": 1}})
        info = store.get_study(study)
        info.metadata["a"]["b"] = 2
        assert store.get_study(study).metadata == {"a": {"b": 1}}, "StudyInfo is not a copy"
        trial = _propose(store, study)
        measurement: dict[str, Any] = {"reward": 0.5, "step": 1, "metrics": {"m": [1]}}
        store.add_measurement(study, 1, "w1", measurement)
        measurement["metrics"]["m"].append(2)
        meta: dict[str, Any] = {"nested": {"x": [1]}}
        store.finish_trial(study, 1, "w1", "completed", reward=[1.0, 2.0], metadata=meta)
        meta["nested"]["x"].append(2)
        kept = store.get_trial(study, 1)
        expected = copy.deepcopy(kept)
        assert kept.measurements[0]["metrics"] == {"m": [1]}, "the store kept the measurement dict"
        assert kept.metadata == {"nested": {"x": [1]}}, "the store kept the metadata dict"
        for record in (trial, kept, store.get_trials(study)[0], next(store.iter_trials(study))):
            record.dna["value"].append("changed")
            record.metadata["new"] = 1
            record.measurements.append({"reward": 9})
            if isinstance(record.reward, list):
                record.reward.append(3.0)
        again = store.get_trial(study, 1)
        assert again == expected, f"changing a returned record changed the store: {again}"


def check_json_values(make: Factory) -> None:
    """Nested JSON values round trip; tuple rewards read back as lists."""
    with _store(make) as store:
        metadata = {"nested": {"list": [1, 2.5, None, True, "ü"], "empty": {}}, "big": 2**53}
        study = _new_study(store, "json", metadata=metadata)
        assert store.get_study(study).metadata == metadata, "study metadata did not round trip"
        dna = {"format": "dna", "value": [0, [1, 2], {"x": 0.1 + 0.2}], "name": "ünï"}
        trial = store.propose_trial(study, "w", 0, lambda events: (dna, "example ✓"))
        assert trial is not None and trial.dna == dna, f"dna did not round trip: {trial}"
        measurement = {"reward": [0.5, -1e-300], "step": 3, "metrics": {"acc": 0.9}, "elapsed": 1.5}
        store.add_measurement(study, 1, "w", measurement)
        pair: Any = (0.5, 2.0)
        done = store.finish_trial(study, 1, "w", "completed", reward=pair, metadata=metadata)
        for record in (done, store.get_trial(study, 1)):
            assert _listed(record.reward) == [0.5, 2.0], (
                f"the tuple reward read back as {record.reward!r}"
            )
            assert record.measurements == [measurement], f"measurement: {record.measurements}"
            assert record.metadata == metadata, f"trial metadata: {record.metadata}"
            assert record.example == "example ✓", f"example: {record.example!r}"
        reward = store.events(study)[-1].reward
        assert _listed(reward) == [0.5, 2.0], f"the event's reward reads {reward!r}"


CHECKS: list[Callable[[Factory], None]] = [
    check_studies,
    check_missing_study,
    check_propose,
    check_claim,
    check_lease,
    check_enqueue,
    check_heartbeat,
    check_wrong_worker,
    check_taken_over,
    check_finish,
    check_requeue,
    check_changed,
    check_study_metadata,
    check_copies,
    check_json_values,
]
