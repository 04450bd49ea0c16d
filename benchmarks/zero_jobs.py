"""The AutoML-Zero paper's experiments as jobs: one named config and one command each,
with the compute the paper spent and what a run here needs.

    python benchmarks/zero_jobs.py                      # list the jobs and their commands
    python benchmarks/zero_jobs.py --run nonlinear [--cpu-seconds 600] [--islands 2]
        [--seed 1000] [--out DIR] [--data PATH]
    python benchmarks/zero_jobs.py --rescore nonlinear [--eval-seeds 8] [--select-train N]
        [--data PATH]

`--run NAME` (or `--run all`) launches `automorph zero run` for the job under
`nice -n 19` (one thread per process) with `--islands N --backend process`, the
job's `--migrate-every` (rounds short enough that checkpoints come every few
CPU seconds), a checkpoint `NAME-SEED.npz` and the result `NAME-SEED.json` in
`--out` (default `benchmarks/results/zero-jobs/` of the repository, so that the
checkpoints travel with the repository and a later session resumes them). The
same command run again with a larger `--cpu-seconds` resumes the run exactly
where it stopped: the budget counts the islands' CPU seconds from the start of
the run, checkpointed ones included. After a run the checkpoint is stored
compressed (np.load reads it either way). Image jobs read
`cifar10_projected.npz` from `--data` or as `automorph data where` says.

`--rescore NAME` scores a finished job's best program again, with the job's
search and selection tasks (experiment 0 of its seed) under `--eval-seeds`
evaluation seeds, beside the baselines every job is read against (the
hand-written network; for `nonlinear` also linear regression by SGD): the
programs draw random weights and noise, so one evaluation moves by 0.005 to
0.02 and a run's own select fitness (seed 0) is one draw. It prints a
Markdown table of mean +- standard deviation over the seeds. `--select-train N`
trains on N examples of each selection task in place of the job's (to tell a
program that learns fast on few examples from one that learns well).

The paper's compute is from Real et al., "AutoML-Zero" (ICML 2020), sections 4.1
to 4.3 and the supplement, as summarized in section 8 of the project's reference
notes; W is the number of worker processes of one experiment.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Job:
    """One experiment: its config, what the paper found, and the compute it took."""

    name: str
    config: str
    section: str
    finding: str
    paper_compute: str
    here: str
    migrate_every: int


JOBS = (
    Job(
        "linear-demo",
        "linear-demo",
        "4.1 (the released demo)",
        "linear regression trained by SGD, from random programs (fitness > 0.9999 on 100 tasks)",
        "W=1 process; minutes",
        "one process solves it in 1 to 5 CPU-minutes (benchmarks/results/zero.md)",
        1000,
    ),
    Job(
        "nonlinear",
        "nonlinear",
        "4.1, Fig. 5",
        "a 2-layer network trained by gradient descent, on tasks from a random 2-layer "
        "ReLU teacher (u.ReLU(Mx), F=8)",
        "W=1000 processes, 100 search tasks, 4/8/2 memory; about a day",
        "from empty programs, 10 search tasks, 5/9/2 memory; experiments of 1e10 "
        "training steps per island repeat until one is solved: 1,300 to 3,500 CPU-s each "
        "for 2 islands here (2026-12-07), and the paper needed 1000 processes: cluster scale",
        1000,
    ),
    Job(
        "cifar10-binary",
        "cifar10-binary",
        "4.2, S10 baselines",
        "beat the hand-written 2-layer network on held-out pairs of projected binary CIFAR-10",
        "4.2: W=10,000 processes for 5 days; Table S5: 100e9 training steps (about 12 h) per "
        "process, 1 to 100 processes",
        "the original's 1e11 training steps an island; a 2-process run of 2 CPU-hours ran "
        "1.4e10 (2026-12-07): 0.14 of ONE paper process",
        200,
    ),
    Job(
        "few-examples",
        "few-examples",
        "4.3, few training examples",
        "noise injected into the ReLU inputs (dropout-like) in 8 of 30 runs, 0 of 30 controls",
        "W=1000 processes per run, 30 runs",
        "as cifar10-binary: the 8000 training steps per task are the same",
        100,
    ),
    Job(
        "fast-training",
        "fast-training",
        "4.3, fast training",
        "learning-rate decay in 30 of 30 runs, 3 of 30 controls",
        "W=1000 processes per run, 30 runs",
        "as cifar10-binary",
        100,
    ),
)
"""The jobs, in the paper's order."""


OUT = Path(__file__).resolve().parent / "results" / "zero-jobs"
"""Where the checkpoints and results go by default (in the repository)."""

IMAGE_JOBS = ("cifar10-binary", "few-examples", "fast-training")
"""The jobs on CIFAR-10 (the others make their tasks and take no `--data`)."""

THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Set to 1 for the run unless already set: one core per island."""


def paths(job: Job, seed: int, out: Path) -> tuple[Path, Path]:
    """The checkpoint and the result JSON of `job` with `seed`."""
    return out / f"{job.name}-{seed}.npz", out / f"{job.name}-{seed}.json"


def command(job: Job, seed: int, islands: int, cpu_seconds: float, out: Path,
            data: str | None) -> list[str]:  # fmt: skip
    """The `automorph zero run` command of `job`."""
    checkpoint, result = paths(job, seed, out)
    cmd = [
        "nice", "-n", "19", sys.executable, "-m", "automorph.cli", "zero", "run",
        "--config", job.config, "--seed", str(seed),
        "--islands", str(islands), "--backend", "process",
        "--migrate-every", str(job.migrate_every), "--checkpoint-every", "60",
        "--checkpoint", str(checkpoint), "--max-cpu-seconds", f"{cpu_seconds:g}",
        "--json", str(result),
    ]  # fmt: skip
    if data is not None and job.name in IMAGE_JOBS:
        cmd += ["--data", data]
    return cmd


def compress(checkpoint: Path) -> None:
    """Stores the checkpoint (an uncompressed .npz) compressed, in place; the
    run reads it back unchanged (np.load reads both)."""
    with np.load(checkpoint) as saved:
        arrays = {k: saved[k] for k in saved.files}
    tmp = checkpoint.with_name(checkpoint.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(checkpoint)


def _shown(path: Path) -> Path:
    """`path` relative to the working directory where it is under it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def rescore(
    job: Job,
    seed: int,
    out: Path,
    data: str | None,
    eval_seeds: int,
    select_train: int | None = None,
) -> list[str]:
    """Markdown rows: `job`'s best program and its baselines scored on the job's
    search and selection tasks, mean +- std over `eval_seeds` evaluation seeds;
    with `select_train`, the selection tasks train on that many examples."""
    from automorph import zero
    from automorph.cli._zero import with_data
    from automorph.symbolic import from_json
    from automorph.zero._search import _experiment_tasks

    result_path = paths(job, seed, out)[1]
    if not result_path.exists():
        raise SystemExit(f"{result_path}: no result of job {job.name!r} (run it first)")
    saved = json.loads(result_path.read_text())
    config = zero.get_config(job.config)
    if data is not None and job.name in IMAGE_JOBS:
        config = with_data(config, data)
    if select_train is not None:
        config = config.rebind({"select_tasks.num_train": select_train})
    search, select = _experiment_tasks(config, seed, 0)
    programs = [
        (f"best of {job.name} ({saved['cpu_seconds']:.0f} CPU-s)", from_json(saved["program"]))
    ]
    if job.name == "nonlinear":
        programs.append(("linear regression by SGD", zero.linear_program()))
    programs.append(("hand-written network", zero.neural_net_program()))
    trained = "" if select_train is None else f", {select_train} training examples"
    rows = [
        f"| program | search tasks ({search.num_tasks}) "
        f"| select tasks ({select.num_tasks}{trained}) |",
        "|---|---|---|",
    ]
    for label, program in programs:
        cells = []
        for tasks in (search, select):
            scores = [
                zero.evaluate_program(program, tasks, config.memory, seed=s)[0]
                for s in range(eval_seeds)
            ]
            cells.append(f"{np.mean(scores):.3f} ± {np.std(scores):.3f}")
        rows.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Lists the jobs or runs one (or all)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", metavar="NAME", help="a job name, or 'all'")
    parser.add_argument("--rescore", metavar="NAME", help="score a finished job's program again")
    parser.add_argument("--eval-seeds", type=int, default=8, help="evaluation seeds of --rescore")
    parser.add_argument(
        "--select-train",
        type=int,
        metavar="N",
        help="--rescore's selection tasks train on N examples (default: the job's)",
    )
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--islands", type=int, default=2)
    parser.add_argument("--cpu-seconds", type=float, default=7200.0)
    parser.add_argument("--out", type=Path, default=OUT, help="checkpoints and results")
    parser.add_argument("--data", help="the CIFAR-10 .npz file or its folder")
    args = parser.parse_args(argv)
    out = _shown(args.out.resolve())
    names = [j.name for j in JOBS]
    if args.rescore is not None:
        if args.rescore not in names:
            parser.error(f"unknown job {args.rescore!r} (jobs: {', '.join(names)})")
        if args.eval_seeds < 1:
            parser.error(f"--eval-seeds must be at least 1, got {args.eval_seeds}")
        if args.select_train is not None and args.select_train < 1:
            parser.error(f"--select-train must be at least 1, got {args.select_train}")
        job = JOBS[names.index(args.rescore)]
        rows = rescore(job, args.seed, out, args.data, args.eval_seeds, args.select_train)
        print("\n".join(rows))
        return 0
    if args.run is None:
        for job in JOBS:
            cmd = command(job, args.seed, args.islands, args.cpu_seconds, out, args.data)
            print(f"{job.name} (paper section {job.section})")
            print(f"  found in the paper: {job.finding}")
            print(f"  paper's compute: {job.paper_compute}")
            print(f"  here: {job.here}")
            print(f"  $ {shlex.join(cmd)}")
        return 0
    if args.run != "all" and args.run not in names:
        parser.error(f"unknown job {args.run!r} (jobs: {', '.join(names)}, all)")
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **{k: os.environ.get(k, "1") for k in THREADS}}
    status = 0
    for job in JOBS:
        if args.run in ("all", job.name):
            cmd = command(job, args.seed, args.islands, args.cpu_seconds, out, args.data)
            print("$", shlex.join(cmd), flush=True)
            status = status or subprocess.call(cmd, env=env)
            checkpoint = paths(job, args.seed, out)[0]
            if checkpoint.exists():
                compress(checkpoint)
                print(f"checkpoint {checkpoint}: {checkpoint.stat().st_size / 1e6:.2f} MB")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
