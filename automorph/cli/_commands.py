"""The commands: studies, show, trials, best, export, plot, importance, enqueue, delete.

Rewards are shown as the objective reported them; "best" follows the study's
direction (the highest reward, or the lowest for a minimized objective). In
a constrained study (trials with constraint values, each <= 0 when met) the
best trial and the Pareto front are feasible ones when any trial is, and
listings mark the infeasible trials.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, get_args

import numpy as np

from automorph.cli._format import (
    cut,
    dna_text,
    json_safe,
    number,
    table,
    value_text,
    when,
)
from automorph.storage import (
    CONSTRAINTS_KEY,
    Storage,
    StudyInfo,
    TrialRecord,
    TrialState,
    direction_signs,
    write_records,
)
from automorph.tuning import Importances, Study, importance, trial_violation
from automorph.utils import AutomorphError, StudyNotFoundError
from automorph.viz import decisions_of, pareto_mask, plot_importance, write_report

STATES: tuple[str, ...] = get_args(TrialState)
DEFAULT_LIMIT = 50  # rows of `trials`, unless --limit says otherwise
MAX_DECISIONS = 50  # decisions listed by `show`


class CliError(AutomorphError):
    """A command cannot run: the message is printed as is, and the exit status is 1."""


@dataclass
class Context:
    """What every command gets: the store, where it is (for messages), and stdout."""

    store: Storage
    where: str
    out: TextIO

    def print(self, text: str = "") -> None:
        """Writes a line to the command's output."""
        self.out.write(text + "\n")


# --- studies and their trials ----------------------------------------------------------


def find_study(ctx: Context, name: str) -> StudyInfo:
    """The study called `name`.

    Raises:
        CliError: If there is none; the message lists the studies there are.
    """
    try:
        return ctx.store.get_study(name)
    except StudyNotFoundError:
        names = [s.name for s in ctx.store.list_studies()]
        listing = ", ".join(names[:20]) + (
            f", ... ({len(names)} in all)" if len(names) > 20 else ""
        )
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise CliError(
            f"no study named {name!r} in {ctx.where} (studies: {listing or 'none'}){hint}"
        ) from None


@dataclass
class Summary:
    """What a pass over a study's trials adds up to."""

    counts: Counter[str] = field(default_factory=Counter)
    best: TrialRecord | None = None
    front: list[TrialRecord] = field(default_factory=list)
    decision_ids: dict[str, None] = field(default_factory=dict)
    constrained: int = 0  # completed trials that report constraints
    feasible: int = 0  # completed trials that meet them (or report none)

    @property
    def total(self) -> int:
        """How many trials there are."""
        return sum(self.counts.values())

    def status_text(self) -> str:
        """'8 completed, 1 failed, 1 skipped' (in lifecycle order)."""
        return ", ".join(f"{self.counts[s]:,} {s}" for s in STATES if self.counts[s]) or "none"


def summarize(ctx: Context, info: StudyInfo) -> Summary:
    """Counts, the best trial (or the Pareto front) and the decision ids of
    a study, streaming its trials."""
    summary = Summary()
    completed: list[TrialRecord] = []  # kept only for a Pareto front
    best_key = (np.inf, np.inf)  # (violation, -signed reward): Deb's rules
    least = np.inf  # the least violation of the completed multi-objective trials
    sign = direction_signs(info.directions, 1)[0]
    for trial in ctx.store.iter_trials(info.name):
        summary.counts[trial.status] += 1
        summary.decision_ids.update(dict.fromkeys(trial.dna))
        if trial.status != "completed" or trial.reward is None:
            continue
        excess = trial_violation(trial)
        summary.constrained += CONSTRAINTS_KEY in trial.metadata
        summary.feasible += excess == 0.0
        if info.multi_objective or isinstance(trial.reward, list):
            if excess < least:
                completed, least = [], excess
            if excess == least:
                completed.append(trial)
        else:
            key = (excess, -sign * trial.reward if excess == 0.0 else 0.0)
            if key < best_key:  # the first trial wins ties
                summary.best, best_key = trial, key
    if completed:
        summary.front = pareto_front(completed, info.directions)
    return summary


def pareto_front(
    trials: list[TrialRecord], directions: list[str] | None = None
) -> list[TrialRecord]:
    """The trials (all completed, with list rewards) on the Pareto front, in
    id order, each objective in its direction (maximized by default)."""
    width = max(len(_objectives(t.reward)) for t in trials)
    kept = [t for t in trials if len(_objectives(t.reward)) == width]
    points = np.array([_objectives(t.reward) for t in kept], dtype=float).reshape(-1, width)
    points *= np.array(direction_signs(directions or ["maximize"], width))
    points[~np.isfinite(points)] = -np.inf
    mask = pareto_mask(points)
    return [t for t, on in zip(kept, mask, strict=True) if on]


def _objectives(reward: float | list[float] | None) -> list[float]:
    if reward is None:
        return []
    return list(reward) if isinstance(reward, list) else [reward]


def _sort_key(trial: TrialRecord, sign: float = 1.0) -> tuple[int, float, float, int]:
    """Best reward first (objective 0 for several; `sign` -1 when it is
    minimized), feasible trials before infeasible ones (by violation), then
    trials without a reward."""
    values = _objectives(trial.reward) if trial.status == "completed" else []
    if not values or not np.isfinite(values[0]):
        return (1, 0.0, 0.0, trial.id)
    excess = trial_violation(trial)
    return (0, excess, -sign * values[0] if excess == 0.0 else 0.0, trial.id)


def minimized(info: StudyInfo) -> bool:
    """Whether the study minimizes its (first) objective."""
    return info.directions[0] == "minimize"


def directions_text(info: StudyInfo) -> str:
    """'maximized', 'minimized', or the directions of mixed objectives."""
    directions = info.directions
    if len(set(directions)) == 1:
        return "minimized" if directions[0] == "minimize" else "maximized"
    return ", ".join(f"{k}: {d}d" for k, d in enumerate(directions))


def _trial_json(trial: TrialRecord) -> dict[str, Any]:
    last = trial.measurements[-1] if trial.measurements else {}
    data = {
        "study": trial.study,
        "id": trial.id,
        "status": trial.status,
        "reward": trial.reward,
        **(
            {"feasible": trial_violation(trial) == 0.0} if CONSTRAINTS_KEY in trial.metadata else {}
        ),
        "dna": trial.dna,
        "metrics": last.get("metrics") or {},
        "metadata": trial.metadata,
        "worker": trial.worker,
        "retries": trial.retries,
        "created": trial.created,
        "started": trial.started,
        "finished": trial.finished,
    }
    return {k: json_safe(v) for k, v in data.items()}


# --- commands ----------------------------------------------------------------------------


def cmd_studies(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph studies`: one row per study."""
    studies = ctx.store.list_studies()
    if not studies:
        ctx.print(f"No studies in {ctx.where}.")
        return 0
    rows = []
    for info in studies:
        summary = summarize(ctx, info)
        if summary.front:
            best = f"front of {len(summary.front):,}"
        else:
            best = number(summary.best.reward) if summary.best is not None else "-"
        if best != "-" and "minimize" in info.directions:
            best += " (min)"
        if summary.constrained and not summary.feasible:
            best += " (infeasible)"
        completed = f"{summary.counts['completed']:,}"
        rows.append([info.name, f"{summary.total:,}", completed, best, when(info.created)])
    headers = ["name", "trials", "completed", "best reward", "created"]
    for line in table(headers, rows, numeric={1, 2, 3}):
        ctx.print(line)
    return 0


def cmd_show(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph show NAME`: a study, its counts, best trial and decisions."""
    info = find_study(ctx, args.name)
    summary = summarize(ctx, info)
    ctx.print(f"Study:      {info.name}")
    ctx.print(f"Created:    {when(info.created)}")
    count = "several" if info.multi_objective else "one"
    ctx.print(f"Objectives: {count}, {directions_text(info)}")
    algorithm = _type_name(info.algorithm)
    if algorithm:
        ctx.print(f"Algorithm:  {algorithm}")
    ctx.print(f"Trials:     {summary.total:,} ({summary.status_text()})")
    if summary.constrained:
        completed = summary.counts["completed"]
        ctx.print(f"Feasible:   {summary.feasible:,} of {completed:,} completed")
    if summary.best is not None:
        best = summary.best
        ctx.print(f"Best trial: {best.id} (reward {number(best.reward)}){_infeasible(best)}")
        ctx.print(f"  dna: {dna_text(best.dna, width=200)}")
    elif summary.front:
        front_ids = ", ".join(str(t.id) for t in summary.front[:10])
        more = f", ... ({len(summary.front):,} in all)" if len(summary.front) > 10 else ""
        ctx.print(f"Pareto front: {len(summary.front):,} trials ({front_ids}{more})")
    else:
        ctx.print("Best trial: none completed yet")
    decisions = decisions_of(info.dna_spec)
    ids = list(decisions) if decisions else list(summary.decision_ids)
    ctx.print(f"Decisions:  {len(ids)}")
    width = max((len(i) for i in ids[:MAX_DECISIONS]), default=0)
    for decision_id in ids[:MAX_DECISIONS]:
        decision = decisions.get(decision_id)
        text = decision.describe() if decision is not None else ""
        ctx.print(f"  {decision_id.ljust(width)}  {text}".rstrip())
    if len(ids) > MAX_DECISIONS:
        ctx.print(f"  ... and {len(ids) - MAX_DECISIONS:,} more")
    for key, value in info.metadata.items():
        ctx.print(f"Metadata:   {key} = {cut(value_text(value), 100)}")
    return 0


def _infeasible(trial: TrialRecord) -> str:
    """' (infeasible, violation 0.5)' for a trial that breaks a constraint, else ''."""
    excess = trial_violation(trial)
    return f" (infeasible, violation {number(excess)})" if excess > 0.0 else ""


def _type_name(text: str | None) -> str | None:
    """The `_type` of automorph JSON text (an algorithm, say), if it has one."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON Python reads: shown without it
        return None
    name = data.get("_type") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def cmd_trials(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph trials NAME`: a table of trials."""
    info = find_study(ctx, args.name)
    trials = ctx.store.get_trials(info.name, status=args.status)
    if args.sort == "reward":
        sign = -1.0 if minimized(info) else 1.0
        trials.sort(key=lambda t: _sort_key(t, sign))
    total = len(trials)
    shown = trials[: args.limit] if args.limit > 0 else trials
    if not shown:
        which = f" {args.status}" if args.status else ""
        ctx.print(f"Study {info.name!r} has no{which} trials.")
        return 0
    errors = any(t.error for t in shown)
    constrained = any(CONSTRAINTS_KEY in t.metadata for t in shown)
    rows = []
    for t in shown:
        row = [str(t.id), t.status, number(t.reward)]
        if constrained:
            row.append(_feasible_text(t))
        row += [t.worker or "-", dna_text(t.dna)]
        rows.append([*row, cut(t.error or "", 40)] if errors else row)
    headers = ["id", "status", "reward", *(["feasible"] if constrained else [])]
    headers += ["worker", "dna", *(["error"] if errors else [])]
    for line in table(headers, rows, numeric={0, 2}):
        ctx.print(line)
    if len(shown) < total:
        ctx.print(
            f"({len(shown):,} of {total:,} trials shown; `--limit 0` shows all, "
            "`automorph export` writes them to a file)"
        )
    return 0


def _feasible_text(trial: TrialRecord) -> str:
    """'yes', 'no' (with the violation), or '-' for a trial without constraints."""
    if CONSTRAINTS_KEY not in trial.metadata:
        return "-"
    excess = trial_violation(trial)
    return "yes" if excess == 0.0 else f"no ({number(excess)})"


def cmd_best(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph best NAME`: the best trial, or the Pareto front."""
    info = find_study(ctx, args.name)
    summary = summarize(ctx, info)
    if summary.best is None and not summary.front:
        raise CliError(
            f"study {info.name!r} has no completed trial yet "
            f"({summary.total:,} trials: {summary.status_text()})"
        )
    if args.json:
        data: Any = [_trial_json(t) for t in summary.front]
        if summary.best is not None:
            data = _trial_json(summary.best)
        ctx.print(json.dumps(data, indent=2, allow_nan=False))
        return 0
    if summary.front:
        said = f" (objectives {directions_text(info)})" if "minimize" in info.directions else ""
        if summary.constrained:
            said += (
                " of the feasible trials"
                if summary.feasible
                else " of the least infeasible trials (no trial is feasible)"
            )
        ctx.print(f"Pareto front of {info.name!r}: {len(summary.front):,} trials{said}")
        rows = [[str(t.id), number(t.reward), dna_text(t.dna)] for t in summary.front]
        for line in table(["id", "reward", "dna"], rows, numeric={0}):
            ctx.print(line)
        return 0
    best = summary.best
    assert best is not None
    decisions = decisions_of(info.dna_spec)
    ctx.print(f"Best trial of {info.name!r}: trial {best.id}")
    ctx.print(f"reward: {number(best.reward)}" + (" (minimized)" if minimized(info) else ""))
    if CONSTRAINTS_KEY in best.metadata:
        met = "feasible" if trial_violation(best) == 0.0 else "infeasible: no trial is feasible"
        ctx.print(f"constraints: {value_text(best.metadata[CONSTRAINTS_KEY])} ({met})")
    ctx.print("dna:")
    for key, value in best.dna.items():
        decision = decisions.get(key)
        label = ""
        if decision is not None and decision.kind == "choice" and isinstance(value, int):
            label = f" ({decision.labels[value]})" if 0 <= value < len(decision.labels) else ""
        ctx.print(f"  {key} = {value_text(value)}{label}")
    metrics = (best.measurements[-1].get("metrics") or {}) if best.measurements else {}
    notes = {k: v for k, v in best.metadata.items() if k != CONSTRAINTS_KEY}
    for title, values in (("metrics", metrics), ("metadata", notes)):
        if values:
            ctx.print(f"{title}:")
            for key, value in values.items():
                ctx.print(f"  {key} = {cut(value_text(value), 100)}")
    ctx.print(f"finished: {when(best.finished)}" + (f" by {best.worker}" if best.worker else ""))
    return 0


def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph export NAME`: every trial as flat records, in CSV or JSON
    (`automorph.storage.write_records`, which `Study.export` uses too)."""
    info = find_study(ctx, args.name)
    if args.output is None:
        write_records(ctx.store, info.name, info.multi_objective, args.format, ctx.out)
        return 0
    path = Path(args.output)
    with path.open("w", encoding="utf-8", newline="") as stream:
        count = write_records(ctx.store, info.name, info.multi_objective, args.format, stream)
    ctx.print(f"Wrote {count:,} trials of {info.name!r} to {path}")
    return 0


def cmd_plot(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph plot NAME`: the history and parallel-coordinate plots, as
    a PNG and an HTML report; with `--kind importance`, the importance of
    each decision as a PNG."""
    info = find_study(ctx, args.name)
    if args.kind == "importance":
        imp = _importance(ctx, info, args)
        png = Path((args.output or safe_name(info.name) + "_importance") + ".png")
        png.parent.mkdir(parents=True, exist_ok=True)
        ctx.print(str(plot_importance(imp, png)))
        return 0
    prefix = args.output or safe_name(info.name)
    png, page = write_report(info, ctx.store.iter_trials(info.name), prefix)
    ctx.print(str(png))
    ctx.print(str(page))
    return 0


def cmd_importance(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph importance NAME`: each decision's share of the reward's
    variance (`am.importance`), as a table or JSON."""
    info = find_study(ctx, args.name)
    imp = _importance(ctx, info, args)
    if args.json:
        ctx.print(json.dumps(imp.to_json(), indent=2, allow_nan=False))
        return 0
    which = f", objective {imp.objective}" if info.multi_objective else ""
    ctx.print(
        f"Importance of the decisions of {info.name!r} ({imp.num_trials:,} completed trials"
        f"{which}): the fraction of the reward's variance each explains alone"
    )
    decisions = decisions_of(info.dna_spec)
    rows = []
    for rank, (decision_id, value) in enumerate(imp.items(), start=1):
        decision = decisions.get(decision_id)
        kind = decision.describe() if decision is not None else ""
        rows.append([str(rank), decision_id, f"{value:.3f}", f"{imp.std[decision_id]:.3f}", kind])
    headers = ["rank", "decision", "importance", "std", "kind"]
    for line in table(headers, rows, numeric={0, 2, 3}):
        ctx.print(line)
    ctx.print(f"interactions: {imp.interactions:.3f} (explained only by decisions together)")
    return 0


def _importance(ctx: Context, info: StudyInfo, args: argparse.Namespace) -> Importances:
    return importance(Study(info.name, ctx.store), objective=args.objective, seed=args.seed)


def safe_name(name: str) -> str:
    """A study name as a file name.

    >>> safe_name("mnist/run 3")
    'mnist_run_3'
    """
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "study"


def cmd_enqueue(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph enqueue NAME --params JSON | --dna JSON`: queues a trial that
    runs before any new proposal (`Study.enqueue`)."""
    info = find_study(ctx, args.name)
    text = args.params if args.params is not None else args.dna
    option = "--params" if args.params is not None else "--dna"
    try:
        values = json.loads(text)
    except ValueError as e:
        raise CliError(f"{option} must be JSON, got {text!r} ({e})") from None
    study = Study(info.name, ctx.store)
    if args.params is not None:
        trial_id = study.enqueue(values)
    else:
        if not isinstance(values, dict):
            raise CliError(
                f'--dna must be a JSON object of decision values by id or name ({{"lr": 0.1}}), '
                f"got {text!r}"
            )
        trial_id = study.enqueue_dna(values)
    ctx.print(f"Enqueued trial {trial_id} of {info.name!r}: it runs before any new proposal.")
    return 0


def cmd_delete(ctx: Context, args: argparse.Namespace) -> int:
    """`automorph delete NAME [--yes]`: deletes a study and its trials, after
    asking (without --yes, a command run without a terminal refuses)."""
    info = find_study(ctx, args.name)
    count = sum(1 for _ in ctx.store.iter_trials(info.name))
    if not args.yes:
        stdin = sys.stdin
        if stdin is None or not stdin.isatty():
            raise CliError(
                f"not deleting study {info.name!r} ({count:,} trials) without a confirmation; "
                f"run `automorph delete {info.name} --yes` to delete it"
            )
        ctx.out.write(f"Delete study {info.name!r} and its {count:,} trials? [y/N] ")
        ctx.out.flush()
        if stdin.readline().strip().lower() not in ("y", "yes"):
            ctx.print("Not deleted.")
            return 1
    ctx.store.delete_study(info.name)
    ctx.print(f"Deleted study {info.name!r} ({count:,} trials) from {ctx.where}.")
    return 0


Command = Callable[[Context, argparse.Namespace], int]


def cmd_dashboard(ctx: Context, args: argparse.Namespace) -> int:
    """Serves the dashboard over the store until Ctrl-C or SIGTERM."""
    from automorph.dashboard import serve

    mode = "read and write" if args.allow_writes else "read-only"
    ctx.print(f"automorph dashboard of {ctx.where} at http://{args.host}:{args.port}/ ({mode})")
    ctx.out.flush()
    serve(ctx.store, host=args.host, port=args.port, allow_writes=args.allow_writes)
    return 0


COMMANDS: dict[str, Command] = {
    "studies": cmd_studies,
    "show": cmd_show,
    "trials": cmd_trials,
    "best": cmd_best,
    "export": cmd_export,
    "plot": cmd_plot,
    "importance": cmd_importance,
    "enqueue": cmd_enqueue,
    "delete": cmd_delete,
    "dashboard": cmd_dashboard,
}
