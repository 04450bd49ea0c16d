"""Running `am.tune` with several workers: a local process pool, or Ray.

Every worker runs the same search loop against the same stored study (so the
store must be one that processes share: a SQLite file on one machine, or
PostgreSQL across machines). The study lives in the store, not in the
workers: the same code runs on a laptop and on a cluster, and a study that
outlives its workers is resumed by the next run.

Ray runs one core task per worker (not one task or actor per trial, whose
start-up would cost more than a trial). `ray_address` (or the RAY_ADDRESS
environment variable) points it at an existing cluster, for example
"ray://head-node:10001"; without it a local Ray instance is started.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from automorph.algorithms import SearchAlgorithm
from automorph.storage import Storage, open_storage
from automorph.tuning._progress import Progress
from automorph.utils import FieldValueError, StorageError


def worker_task(payload: dict[str, Any]) -> int:
    """One worker of a study: runs the search loop until the study is done.

    Returns the number of trials this worker finished.
    """
    from automorph.tuning._loop import tune

    result = tune(
        payload["objective"],
        payload["space"],
        payload["algorithm"],
        payload["num_trials"],
        name=payload["name"],
        storage=payload["storage"],
        worker=payload["worker"],
        catch=payload["catch"],
        early_stopping=payload["early_stopping"],
        heartbeat_s=payload["heartbeat_s"],
        timeout_s=payload["timeout_s"],
        retry_limit=payload["retry_limit"],
    )
    return sum(1 for t in result.trials if t.status != "pending")


def run_workers(
    executor: str,
    num_workers: int,
    payload: dict[str, Any],
    ray_address: str | None,
    progress: Progress | None,
) -> None:
    """Runs `num_workers` copies of `worker_task` on `executor` and waits."""
    storage = payload["storage"]
    if not isinstance(storage, (str, os.PathLike)):
        raise FieldValueError(
            f"executor={executor!r} needs the study in a store that processes share: give "
            "`storage` as a SQLite file path or a PostgreSQL URL (not a Storage object)"
        )
    store = open_storage(storage)
    try:
        if not type(store).shared:
            raise StorageError(f"executor={executor!r} needs a shared store, not {storage!r}")
        tasks = [
            dict(payload, worker=f"{payload['worker'] or 'worker'}-{i}") for i in range(num_workers)
        ]
        algorithm: SearchAlgorithm = payload["algorithm"]
        if algorithm.seed is None:  # every worker of the study must share one seed
            algorithm.rebind(seed=secrets.randbelow(2**31))
        if executor == "process":
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=num_workers, mp_context=context) as pool:
                futures = [pool.submit(worker_task, task) for task in tasks]
                _wait(futures, store, payload["name"], progress)
                for future in futures:
                    future.result()
            return
        if executor == "ray":
            ray = _import_ray()
            if not ray.is_initialized():
                ray.init(
                    address=ray_address or os.environ.get("RAY_ADDRESS"),
                    ignore_reinit_error=True,
                    log_to_driver=False,
                )
            remote = ray.remote(worker_task)
            refs = [remote.remote(task) for task in tasks]
            pending = list(refs)
            while pending:
                _, pending = ray.wait(pending, timeout=0.5)
                _report(store, payload["name"], progress)
            ray.get(refs)
            return
        raise FieldValueError(f"`executor` must be 'local', 'process' or 'ray', got {executor!r}")
    finally:
        store.close()


def _wait(futures: list[Future[int]], store: Storage, name: str, progress: Progress | None) -> None:
    while not all(f.done() for f in futures):
        time.sleep(0.5)
        _report(store, name, progress)


def _report(store: Storage, name: str, progress: Progress | None) -> None:
    if progress is None:
        return
    try:
        trials = store.get_trials(name)
    except Exception:  # noqa: BLE001 - the study may not exist yet
        return
    done = [t for t in trials if t.status in ("completed", "skipped", "failed")]
    rewarded = [t for t in done if isinstance(t.reward, float)]
    best = max(rewarded, key=lambda t: t.reward, default=None)  # type: ignore[arg-type,return-value]
    progress.update(len(done), best.reward if best else None, best.id if best else None)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise StorageError("executor='ray' needs Ray: pip install 'automorph[ray]'") from e
    return ray
