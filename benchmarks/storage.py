"""Stored studies: trials per second with 1, 2 and 4 workers, automorph against Optuna.

For each database (a SQLite file; PostgreSQL on loopback) and each worker
count, both libraries run random search with a trivial objective over five
floats, every worker a separate process sharing one study in the database:
automorph with `am.tune(..., storage=url, executor="process")`, Optuna with
`optuna.load_study(storage=url)` and `study.optimize` in each process (its
RDB storage). The figure is completed trials per wall-clock second, process
start-up included, for both alike.

A PostgreSQL server is started for the run from the Debian binaries (as the
tests do); without them the PostgreSQL rows are skipped.

Run: `python benchmarks/storage.py` (Optuna: `pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import start_postgres

import automorph as am
from automorph import algorithms


def objective(example: Any) -> float:
    return float(sum(example.values()))


def space() -> Any:
    return am.Dict({f"x{i}": am.floatv(0.0, 1.0) for i in range(5)})


def run_automorph(url: str, workers: int, trials: int) -> float:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    result = am.tune(
        objective,
        space(),
        algorithms.Random(seed=1),
        trials,
        name=name,
        storage=url,
        executor="local" if workers == 1 else "process",
        num_workers=workers,
    )
    elapsed = time.perf_counter() - start
    assert result.num_completed == trials, (result.num_completed, trials)
    return trials / elapsed


def _optuna_objective(trial: Any) -> float:
    return float(sum(trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(5)))


def _optuna_worker(url: str, name: str, trials: int) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=url, sampler=optuna.samplers.RandomSampler())
    study.optimize(_optuna_objective, n_trials=trials)


def run_optuna(url: str, workers: int, trials: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    optuna.create_study(study_name=name, storage=url, direction="maximize")
    per_worker = trials // workers
    start = time.perf_counter()
    if workers == 1:
        _optuna_worker(url, name, per_worker)
    else:
        context = multiprocessing.get_context("spawn")
        procs = [
            context.Process(target=_optuna_worker, args=(url, name, per_worker))
            for _ in range(workers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
            assert p.exitcode == 0, f"an Optuna worker failed ({p.exitcode})"
    return per_worker * workers / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    am_trials = 200 if args.quick else 2000
    optuna_trials = 40 if args.quick else 400
    try:
        import optuna  # noqa: F401

        has_optuna = True
    except ImportError:
        has_optuna = False
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = start_postgres(Path(tmp) / "pg")
        databases = {"postgresql": server} if server is not None else {}
        try:
            for db in ["sqlite", *databases]:
                for workers in (1, 2, 4):
                    if db == "sqlite":
                        path = Path(tmp) / f"am-{workers}.db"
                        am_url, opt_url = str(path), f"sqlite:///{Path(tmp) / f'op-{workers}.db'}"
                    else:
                        am_url = server.new_database()
                        opt_url = server.new_database(driver="postgresql+psycopg")
                    ours = run_automorph(am_url, workers, am_trials)
                    theirs = run_optuna(opt_url, workers, optuna_trials) if has_optuna else None
                    rows.append(
                        {"database": db, "workers": workers, "automorph": ours, "optuna": theirs}
                    )
                    ratio = f"{ours / theirs:6.1f}x" if theirs else "   n/a"
                    print(
                        f"{db:<11} {workers} worker(s)  automorph {ours:8.1f} trials/s   "
                        f"Optuna {theirs or float('nan'):7.1f} trials/s   {ratio}",
                        flush=True,
                    )
        finally:
            if server is not None:
                server.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
