"""Stored studies at scale: throughput with 1 to 64 worker processes.

Two parts, in one run:

1. Sleeping trials ("sleep"). The objective sleeps one second, so N workers
   can complete at most N trials per second: the ideal. For N = 1, 4, 16
   worker processes on a SQLite file and N = 1, 4, 16, 64 on PostgreSQL, and
   for random search, regularized evolution, TPE and GP-BO (their defaults,
   seed 1), `am.tune(..., executor="process", num_workers=N)` runs a fresh
   study over four floats and a categorical. The figure is the throughput in
   the steady state over the ideal, N trials/s. The steady state is read
   from the stored trials (`open_storage(url).get_trials(name)`): it opens
   when the last worker starts its first trial (so the start-up of 64
   processes on 2 cores is left out) and closes when the first worker
   finishes its last one; completions in it are counted per worker,
   interpolated between finishes (see `_common.steady_window`). Each run
   gets enough trials for a steady window of about `--window` seconds (20 by
   default; see `sleep_part`): N x (window + 1 s) plus those completed
   before the window opens, about N (processes started together reach their
   first trial within a second or so of each other, however long their
   start-up), then as many as an earlier run at that N and database did. A
   run that takes far longer than expected (start-up guessed as 2 + 0.4 N
   seconds) is stopped with SIGINT (am.tune stops its workers cleanly) and
   measured on what it completed; its row says "stopped".

2. A trivial objective ("trivial"). The store and the search loop are all
   the work: random search with 1, 2, 4 and 8 workers, on SQLite and on
   PostgreSQL, beside Optuna's RDB storage (`optuna.load_study` and
   `study.optimize` in each of N processes, `RandomSampler`). Both figures
   are given: completed trials per second in the steady state (as above;
   Optuna's workers log their finish times in memory), and trials over the
   whole call's wall time, process start-up included (as `storage.py`).
   automorph runs 5,000 trials a cell, Optuna 600. On 2 cores a cell's
   figure varies by 20-30% from one run to the next (which process the
   scheduler runs while a lock is held), so every cell is run `--repeats`
   times (3 by default), in rounds over all the cells, and reported as the
   median run, with the lowest and highest beside it; the targets are
   checked on the medians.

The PostgreSQL server is the tests' throwaway one (Debian's binaries, fsync
off, loopback), started with max_connections=400 so that 64 workers, each
with its own connection pool, fit; the peak number of connections to the
study's database is reported. Without the binaries the PostgreSQL rows are
skipped.

The full run takes about 20-25 minutes on 2 cores (the sleep part about
16, 28 studies; the trivial part 5-7); every study prints a line as it
ends. `--quick` is a smoke test (1 and 4 workers, 3-second windows, small
trivial runs: about 3 minutes). `--only sleep|trivial`, `--db`,
`--algorithm` and `--workers` pick parts.

Run: `python benchmarks/scale.py --markdown benchmarks/results/scale.md`
(Optuna from `pip install -e '.[bench]'`). Writes the figures as JSON to
`--json` (benchmarks/results/scale.json for a full run).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import multiprocessing
import os
import platform
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # workers import _common too

import _common
from _common import ConnectionPeak, Sleep, Window, automorph_runs, steady_window

import automorph as am
from automorph import algorithms
from automorph.storage import open_storage

ALGORITHMS: dict[str, tuple[str, Callable[[], Any]]] = {
    "random": ("random search", lambda: algorithms.Random(seed=1)),
    "evolution": ("regularized evolution", lambda: algorithms.regularized_evolution(seed=1)),
    "tpe": ("TPE", lambda: algorithms.TPE(seed=1)),
    "gpbo": ("GP-BO", lambda: algorithms.GPBO(seed=1)),
}
DATABASES = ("sqlite", "postgresql")
DB_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
MAX_CONNECTIONS = 400
HEARTBEAT_S = 10.0
TIMEOUT_S = 120.0
TRIVIAL_LIMIT_S = 300.0
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
RESULTS = _common.ROOT / "benchmarks" / "results"


@dataclasses.dataclass
class Sizes:
    """How much each part runs (see the module docstring)."""

    sleep_workers: dict[str, tuple[int, ...]]
    trivial_workers: tuple[int, ...]
    window_s: float
    sleep_s: float
    automorph_trials: int
    optuna_trials: int
    repeats: int


FULL = Sizes(
    {"sqlite": (1, 4, 16), "postgresql": (1, 4, 16, 64)}, (1, 2, 4, 8), 20.0, 1.0, 5000, 600, 3
)
QUICK = Sizes({"sqlite": (1, 4), "postgresql": (1, 4)}, (1, 2), 3.0, 1.0, 400, 60, 1)


def startup_guess(workers: int) -> float:
    """Seconds until the last of `workers` processes starts its first trial, on 2 cores."""
    return 2.0 + 0.4 * workers


# --- running a study ----------------------------------------------------------------


@contextmanager
def deadline(seconds: float) -> Iterator[dict[str, bool]]:
    """Sends this process SIGINT after `seconds` unless the block is over:
    `am.tune` then stops its workers cleanly and raises KeyboardInterrupt,
    which is swallowed here (and `state["stopped"]` set); any other
    KeyboardInterrupt propagates."""
    state = {"stopped": False, "inside": True}
    lock = threading.Lock()

    def fire() -> None:
        with lock:
            if state["inside"]:
                state["stopped"] = True
                os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield state
    except KeyboardInterrupt:
        if not state["stopped"]:
            raise
    finally:
        with lock:
            state["inside"] = False
        timer.cancel()


def run_automorph(
    url: str, objective: Any, algorithm: Any, trials: int, workers: int, limit_s: float
) -> dict[str, Any]:
    """Runs one study with `workers` processes; its wall time, stored trials'
    counts and steady window (None if empty)."""
    name = f"scale-{uuid.uuid4().hex[:8]}"
    began = time.time()
    with deadline(limit_s) as state:
        am.tune(
            objective,
            _common.space(),
            algorithm,
            trials,
            name=name,
            storage=url,
            executor="process",
            num_workers=workers,
            heartbeat_s=HEARTBEAT_S,
            timeout_s=TIMEOUT_S,
        )
    wall = time.time() - began
    store = open_storage(url)
    try:
        records = store.get_trials(name)
    finally:
        store.close()
    completed = sum(1 for r in records if r.status == "completed")
    return {
        "began": began,
        "wall_s": wall,
        "stopped": state["stopped"] and completed < trials,  # it cut the run short
        "completed": completed,
        "failed": sum(1 for r in records if r.status == "failed"),
        "requeued": sum(1 for r in records if r.retries > 0),
        "window": steady_window(automorph_runs(records)),
    }


def run_optuna(url: str, workers: int, trials: int, logs: Path, limit_s: float) -> dict[str, Any]:
    """Runs Optuna's random search in `workers` processes on one stored study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = f"scale-{uuid.uuid4().hex[:8]}"
    optuna.create_study(study_name=name, storage=url, direction="maximize")
    per_worker = trials // workers
    context = multiprocessing.get_context("spawn")
    paths = [logs / f"{name}-{i}.json" for i in range(workers)]
    began = time.time()
    procs = [
        context.Process(target=_common.optuna_worker, args=(url, name, per_worker, str(p)))
        for p in paths
    ]
    for p in procs:
        p.start()
    stopped = False
    for p in procs:
        p.join(max(1.0, began + limit_s - time.time()))
        if p.is_alive():
            stopped = True
            p.terminate()
            p.join()
        elif p.exitcode != 0:
            raise RuntimeError(f"an Optuna worker failed (exit status {p.exitcode})")
    wall = time.time() - began
    runs = {}
    for i, path in enumerate(paths):
        if path.exists():
            log = json.loads(path.read_text())
            if log["first"]:
                runs[str(i)] = (log["first"][0], log["finishes"])
    return {
        "wall_s": wall,
        "stopped": stopped,
        "completed": sum(len(r[1]) for r in runs.values()),
        "window": steady_window(runs),
    }


# --- the two parts --------------------------------------------------------------------


class Databases:
    """A fresh database per run: a SQLite file in `tmp`, or a new database on
    the PostgreSQL server (started on first use)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.server: Any = None
        self.tried = False

    def available(self, db: str) -> bool:
        if db == "sqlite":
            return True
        if not self.tried:
            self.tried = True
            self.server = _common.start_postgres(self.tmp / "pg", max_connections=MAX_CONNECTIONS)
        return self.server is not None

    def new(self, db: str, label: str) -> str:
        if db == "sqlite":
            return f"sqlite:///{self.tmp / f'{label}-{uuid.uuid4().hex[:6]}.db'}"
        return str(self.server.new_database(driver="postgresql+psycopg"))

    def watch(self, db: str, url: str) -> Any:
        return ConnectionPeak(self.server, url) if db == "postgresql" else nullcontext()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def _window_fields(window: Window | None, began: float | None = None) -> dict[str, Any]:
    return {
        "steady_rate": window and window.rate,
        "window_s": window and window.seconds,
        "window_trials": window and window.completed,
        "trials_before_window": window and window.before,
        "startup_s": None if window is None or began is None else window.start - began,
        "workers_seen": window and window.workers,
    }


def sleep_part(
    dbs: Databases, sizes: Sizes, chosen: list[str], workers_of: dict[str, tuple[int, ...]]
) -> list[dict[str, Any]]:
    """Part 1: sleeping trials, every algorithm, database and worker count.

    A run's trials: those its workers complete before the window opens (N at
    first, as processes that start together reach their first trial within
    about a second of each other; then the most an earlier run at the same
    database and N completed), plus N per second of window and one more
    second's worth. A run may take twice its expected time plus 30 s before
    it is stopped.
    """
    plan = [(db, n, a) for db in workers_of for n in workers_of[db] for a in chosen]
    seen_startup: dict[tuple[str, int], float] = {}
    seen_before: dict[tuple[str, int], float] = {}
    rows = []
    for i, (db, n, key) in enumerate(plan, 1):
        startup = max(startup_guess(n), seen_startup.get((db, n), 0.0) + 1.0)
        before = seen_before.get((db, n), float(n))
        trials = math.ceil(before + n * (sizes.window_s + 1.0) / sizes.sleep_s)
        limit = 2.0 * (startup + sizes.window_s + sizes.sleep_s) + 30.0
        url = dbs.new(db, f"sleep-{key}-{n}")
        with dbs.watch(db, url) as peak:
            run = run_automorph(url, Sleep(sizes.sleep_s), ALGORITHMS[key][1](), trials, n, limit)
        window = run.pop("window")
        ideal = n / sizes.sleep_s
        row = {
            "database": db,
            "algorithm": key,
            "workers": n,
            "trials": trials,
            "ideal_rate": ideal,
            "ratio": window and window.rate / ideal,
            **_window_fields(window, run.pop("began")),
            **run,
            "peak_connections": getattr(peak, "peak", None),
        }
        if window is not None:
            seen_startup[(db, n)] = max(seen_startup.get((db, n), 0.0), row["startup_s"])
            seen_before[(db, n)] = max(seen_before.get((db, n), 0.0), window.before)
        rows.append(row)
        print(f"[sleep {i}/{len(plan)}] {_describe(row)}", flush=True)
    return rows


def _describe(row: dict[str, Any]) -> str:
    """One run of the sleep part, in a line."""
    label = ALGORITHMS[row["algorithm"]][0]
    what = f"{DB_LABELS[row['database']]:<10} {label:<21} {row['workers']:>2} workers"
    done = f"{row['completed']}/{row['trials']} trials in {row['wall_s']:.1f} s"
    if row["steady_rate"] is None:
        steady = "no steady window (a worker ran out of trials before the last one started)"
    else:
        steady = (
            f"steady {row['steady_rate']:.2f} trials/s over {row['window_s']:.1f} s after "
            f"{row['startup_s']:.1f} s of start-up: {row['ratio']:.3f} of ideal"
        )
    extra = []
    if row["stopped"]:
        extra.append("stopped at its time limit")
    if row["failed"] or row["requeued"]:
        extra.append(f"{row['failed']} failed, {row['requeued']} requeued")
    if row["peak_connections"]:
        extra.append(f"peak {row['peak_connections']} connections")
    return f"{what}: {done}; {steady}" + (f" ({'; '.join(extra)})" if extra else "")


def _trivial_cell(
    dbs: Databases, sizes: Sizes, db: str, n: int, has_optuna: bool, logs: Path, round_: int
) -> dict[str, Any]:
    """One run of one cell: automorph's workers, then Optuna's, on fresh studies."""
    url = dbs.new(db, f"trivial-am-{n}-{round_}")
    with dbs.watch(db, url) as peak:
        ours = run_automorph(
            url,
            _common.trivial_objective,
            algorithms.Random(seed=1),
            sizes.automorph_trials,
            n,
            TRIVIAL_LIMIT_S,
        )
    row: dict[str, Any] = {
        "automorph": {
            "trials": sizes.automorph_trials,
            "wall_rate": ours["completed"] / ours["wall_s"],
            **_window_fields(ours.pop("window"), ours.pop("began")),
            **ours,
            "peak_connections": getattr(peak, "peak", None),
        },
        "optuna": None,
    }
    if has_optuna:
        url = dbs.new(db, f"trivial-op-{n}-{round_}")
        theirs = run_optuna(url, n, sizes.optuna_trials, logs, TRIVIAL_LIMIT_S)
        row["optuna"] = {
            "trials": sizes.optuna_trials,
            "wall_rate": theirs["completed"] / theirs["wall_s"],
            **_window_fields(theirs.pop("window")),
            **theirs,
        }
    return row


def _median_run(runs: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The run with the median steady rate (the lower middle one of an even
    count), with every run's steady rate beside it as `steady_rates`."""
    done = [r for r in runs if r is not None]
    if not done:
        return None
    ranked = sorted(done, key=lambda r: r["steady_rate"] or 0.0)
    return {**ranked[(len(ranked) - 1) // 2], "steady_rates": [r["steady_rate"] for r in done]}


def trivial_part(
    dbs: Databases,
    sizes: Sizes,
    databases: list[str],
    workers: tuple[int, ...],
    has_optuna: bool,
    logs: Path,
) -> list[dict[str, Any]]:
    """Part 2: a trivial objective, automorph beside Optuna, each cell
    `sizes.repeats` times (in rounds over the cells), reported as the median."""
    cells = [(db, n) for db in databases for n in workers]
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {cell: [] for cell in cells}
    step, steps = 0, len(cells) * sizes.repeats
    for round_ in range(sizes.repeats):
        for db, n in cells:
            step += 1
            run = _trivial_cell(dbs, sizes, db, n, has_optuna, logs, round_)
            runs[(db, n)].append(run)
            a, o = run["automorph"], run["optuna"] or {}
            print(
                f"[trivial {step}/{steps}] {DB_LABELS[db]:<10} {n} workers: automorph "
                f"{_num(a['steady_rate'])} trials/s steady, {a['wall_rate']:.1f} wall "
                f"({a['completed']} completed, {a['failed']} failed); Optuna "
                f"{_num(o.get('steady_rate'))} steady, {_num(o.get('wall_rate'))} wall",
                flush=True,
            )
    return [
        {
            "database": db,
            "workers": n,
            "automorph": _median_run([r["automorph"] for r in runs[(db, n)]]),
            "optuna": _median_run([r["optuna"] for r in runs[(db, n)]]),
        }
        for db, n in cells
    ]


# --- the report ----------------------------------------------------------------------


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _table(header: list[str], align: str, rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align.split()) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def sleep_table(rows: list[dict[str, Any]]) -> str:
    """The sleep part as a markdown table."""
    header = ["database", "workers", "algorithm", "trials/s (steady)", "ideal", "ratio"]
    header += ["window s", "start-up s", "completed", "peak connections"]
    return _table(
        header,
        "--- ---: --- ---: ---: ---: ---: ---: ---: ---:",
        [
            [
                DB_LABELS[r["database"]],
                str(r["workers"]),
                ALGORITHMS[r["algorithm"]][0] + (" (stopped)" if r["stopped"] else ""),
                _num(r["steady_rate"], 2),
                f"{r['ideal_rate']:g}",
                _num(r["ratio"], 3),
                _num(r["window_s"]),
                _num(r["startup_s"]),
                str(r["completed"]),
                "-" if r["peak_connections"] is None else str(r["peak_connections"]),
            ]
            for r in rows
        ],
    )


def _spread(run: dict[str, Any]) -> str:
    """The median steady rate, with the lowest and highest of several runs."""
    rates = [x for x in run.get("steady_rates", []) if x is not None]
    text = _num(run["steady_rate"])
    if len(rates) > 1:
        text += f" ({min(rates):,.0f}-{max(rates):,.0f})"
    return text


def trivial_table(rows: list[dict[str, Any]]) -> str:
    """The trivial part as a markdown table."""
    header = ["database", "workers", "automorph trials/s (steady)", "automorph (wall)"]
    header += ["Optuna trials/s (steady)", "Optuna (wall)", "automorph / Optuna (steady)"]
    body = []
    for r in rows:
        a, o = r["automorph"], r["optuna"] or {}
        both = a["steady_rate"] and o.get("steady_rate")
        body.append(
            [
                DB_LABELS[r["database"]],
                str(r["workers"]),
                _spread(a),
                _num(a["wall_rate"]),
                _spread(o) if o else "n/a",
                _num(o.get("wall_rate")),
                f"{a['steady_rate'] / o['steady_rate']:.1f}x" if both else "n/a",
            ]
        )
    return _table(header, "--- ---: ---: ---: ---: ---: ---:", body)


def _verdict(ok: bool, text: str) -> str:
    return f"{'PASS' if ok else 'FAIL'}: {text}"


def targets(sleep: list[dict[str, Any]], trivial: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, each PASS or FAIL, for those this run measured."""
    out = []
    for db, n in (("sqlite", 16), ("postgresql", 64)):
        for r in sleep:
            if (r["database"], r["workers"]) == (db, n):
                label = ALGORITHMS[r["algorithm"]][0]
                out.append(
                    _verdict(
                        r["ratio"] is not None and r["ratio"] >= 0.9,
                        f"{label}, {n} workers on {DB_LABELS[db]}: "
                        f"{_num(r['ratio'], 3)} of ideal (target 0.9)",
                    )
                )
    pg = sorted((r for r in trivial if r["database"] == "postgresql"), key=lambda r: r["workers"])
    rates = [r["automorph"]["steady_rate"] for r in pg]
    if len(rates) > 1 and all(rates):
        listed = ", ".join(f"{r['workers']}: {_num(x)}" for r, x in zip(pg, rates, strict=True))
        out.append(
            _verdict(
                all(b >= 0.95 * a for a, b in itertools.pairwise(rates)),
                "PostgreSQL trivial throughput does not fall as workers are added (each "
                f"within 5% of the one before, or above), trials/s by workers: {listed}",
            )
        )
    by_cell = {(r["database"], r["workers"]): r for r in trivial}
    for db, floor in (("sqlite", 850.0), ("postgresql", 230.0)):
        if (db, 1) in by_cell:
            rate = by_cell[(db, 1)]["automorph"]["steady_rate"]
            out.append(
                _verdict(
                    rate is not None and rate >= floor,
                    f"one worker on {DB_LABELS[db]}, trivial: {_num(rate)} trials/s "
                    f"(target {floor:g})",
                )
            )
    if ("sqlite", 1) in by_cell:
        ours = by_cell[("sqlite", 1)]["automorph"]["steady_rate"]
        theirs = (by_cell[("sqlite", 1)]["optuna"] or {}).get("steady_rate")
        if ours and theirs:
            out.append(
                _verdict(
                    ours >= 10 * theirs,
                    f"one worker on SQLite, against Optuna: {ours / theirs:.1f}x (target 10x)",
                )
            )
    return out


def write_markdown(path: Path, text: str) -> None:
    """Puts `text` between the BEGIN and END markers of `path`."""
    page = path.read_text()
    if BEGIN not in page or END not in page:
        raise SystemExit(f"{path} has no {BEGIN} ... {END} block to put the figures in")
    head, rest = page.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        import optuna

        optuna_version: str | None = optuna.__version__
    except ImportError:
        optuna_version = None
    return {
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "automorph": getattr(am, "__version__", None),
        "optuna": optuna_version,
    }


def report(
    sizes: Sizes,
    sleep: list[dict[str, Any]],
    trivial: list[dict[str, Any]],
    command: str,
    minutes: float,
    info: dict[str, Any],
) -> str:
    """The run's tables, targets and command, as markdown."""
    parts = []
    if sleep:
        parts.append(
            f"Sleeping trials ({sizes.sleep_s:g} s each): steady-state throughput against "
            f"the ideal, N trials/s; windows aimed at {sizes.window_s:g} s.\n\n{sleep_table(sleep)}"
        )
    if trivial:
        parts.append(
            "Trivial objective, random search, trials per second (automorph "
            f"{sizes.automorph_trials:,} trials a cell, Optuna {sizes.optuna_trials:,}; "
            f"the median of {sizes.repeats} runs, lowest-highest in brackets, and the "
            "median run's wall rate).\n\n" + trivial_table(trivial)
        )
    checks = targets(sleep, trivial)
    if checks:
        parts.append("Targets:\n\n" + "\n".join(f"- {c}" for c in checks))
    parts.append(
        f"Command: `{command}`; {minutes:.1f} minutes on {info['cores']} cores "
        f"({info['machine']}, Python {info['python']}, Optuna {info['optuna'] or 'n/a'})."
    )
    return "\n\n".join(parts)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (minutes)")
    parser.add_argument("--only", choices=["sleep", "trivial"], help="run one part only")
    parser.add_argument("--db", action="append", choices=DATABASES, help="this database only")
    parser.add_argument(
        "--algorithm", action="append", choices=list(ALGORITHMS), help="this algorithm only"
    )
    parser.add_argument("--workers", type=_ints, help="worker counts (1,4,16) for both parts")
    parser.add_argument("--window", type=float, help="seconds of steady state to aim for")
    parser.add_argument("--repeats", type=int, help="runs of each trivial cell (3; quick: 1)")
    parser.add_argument(
        "--json", help="write the figures here (a whole run: benchmarks/results/scale.json)"
    )
    parser.add_argument(
        "--markdown", type=Path, help=f"put the report between {BEGIN} and {END} in this file"
    )
    args = parser.parse_args(argv)
    sizes = dataclasses.replace(QUICK if args.quick else FULL)
    if args.window:
        sizes.window_s = args.window
    if args.repeats:
        sizes.repeats = args.repeats
    databases = args.db or list(DATABASES)
    chosen = args.algorithm or list(ALGORITHMS)
    try:
        import optuna  # noqa: F401

        has_optuna = True
    except ImportError:
        print("Optuna is not installed: its columns are n/a (pip install -e '.[bench]')")
        has_optuna = False
    info = machine()
    print(f"machine: {info}", flush=True)
    began = time.time()
    sleep: list[dict[str, Any]] = []
    trivial: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        dbs = Databases(Path(tmp))
        try:
            usable = [db for db in databases if dbs.available(db)]
            if args.only in (None, "sleep"):
                workers_of = {db: args.workers or sizes.sleep_workers[db] for db in usable}
                sleep = sleep_part(dbs, sizes, chosen, workers_of)
            if args.only in (None, "trivial"):
                counts = args.workers or sizes.trivial_workers
                trivial = trivial_part(dbs, sizes, usable, counts, has_optuna, Path(tmp))
        finally:
            dbs.stop()
    minutes = (time.time() - began) / 60
    given = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python benchmarks/scale.py", *given])
    text = report(sizes, sleep, trivial, command, minutes, info)
    print("\n" + text, flush=True)
    whole = not (args.quick or args.only or args.db or args.algorithm or args.workers)
    out = args.json or (str(RESULTS / "scale.json") if whole else None)
    if out:
        figures = {
            "machine": info,
            "command": command,
            "minutes": minutes,
            "sizes": dataclasses.asdict(sizes),
            "sleep": sleep,
            "trivial": trivial,
            "targets": targets(sleep, trivial),
        }
        Path(out).write_text(json.dumps(figures, indent=2) + "\n")
    if args.markdown:
        write_markdown(args.markdown, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
