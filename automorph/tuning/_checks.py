"""Checks of what users pass to `am.sample` and `am.tune`, made before a
search starts (so that no study is created and no worker starts for a call
that cannot run), and of how a search ended."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Mapping
from typing import Any

from automorph.hyper import Template
from automorph.tuning._result import StudyResult
from automorph.utils import FeedbackError, FieldTypeError, FieldValueError, SearchSpaceError

#: Where `am.tune` can run trials (`executor=`).
EXECUTORS: tuple[str, ...] = ("local", "process", "ray")


class TrialsFailedError(FeedbackError):
    """Every trial of a search failed (`am.tune`): the message lists the reasons."""


def check_count(value: Any, parameter: str) -> None:
    """Raises FieldValueError, naming `parameter`, unless `value` is an int >= 0 or None."""
    if value is not None and (type(value) is not int or value < 0):
        raise FieldValueError(f"`{parameter}` must be an int >= 0 or None, got {value!r}")


def check_options(
    name: Any, heartbeat_s: Any, timeout_s: Any, retry_limit: Any, worker: Any = None
) -> None:
    """Checks the study options that `sample` and `tune` share.

    Raises:
        FieldTypeError: If `name` or `worker` is not a string.
        FieldValueError: If a duration is not a number > 0, or `retry_limit`
            not an int >= 0.
    """
    if name is not None and not isinstance(name, str):
        raise FieldTypeError(f"`name` must be a string, got {type(name).__name__} ({name!r})")
    if worker is not None and not isinstance(worker, str):
        raise FieldTypeError(
            f"`worker` must be a string (this worker's id), got {type(worker).__name__}"
        )
    for parameter, value in (("heartbeat_s", heartbeat_s), ("timeout_s", timeout_s)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise FieldValueError(f"`{parameter}` must be a number of seconds > 0, got {value!r}")
    if type(retry_limit) is not int or retry_limit < 0:
        raise FieldValueError(f"`retry_limit` must be an int >= 0, got {retry_limit!r}")


def check_decisions(template: Template) -> None:
    """Raises SearchSpaceError if the space has no decision to search."""
    if not template.spec.decision_points():
        raise SearchSpaceError(
            f"the search space has no decision to search: {_short(template.space)} holds no "
            "hyper-value (`am.oneof`, `am.manyof`, `am.floatv`, `am.intv`, ...), so every "
            "trial would be the same program; put a hyper-value where a choice is to be made"
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_tune_options(
    objective: Any, catch: Any, executor: Any, num_workers: Any, progress: Any
) -> None:
    if not callable(objective):
        raise FieldTypeError(
            f"`objective` must be a function of the example, got {type(objective).__name__}"
        )
    kinds = catch if isinstance(catch, tuple) else (catch,)
    if not all(isinstance(k, type) and issubclass(k, BaseException) for k in kinds):
        raise FieldTypeError(
            f"`catch` must be an exception class or a tuple of them, got {catch!r}"
        )
    if executor not in EXECUTORS:
        known = ", ".join(repr(e) for e in EXECUTORS)
        raise FieldValueError(f"unknown `executor` {executor!r}; the executors are {known}")
    if type(num_workers) is not int or num_workers < 1:
        raise FieldValueError(f"`num_workers` must be an int >= 1, got {num_workers!r}")
    if executor == "local" and num_workers != 1:
        raise FieldValueError(
            f"`num_workers={num_workers}` needs executor='process' or 'ray'; "
            "executor='local' runs one trial at a time in this process"
        )
    if type(progress) is not bool:
        raise FieldTypeError(f"`progress` must be True or False, got {progress!r}")


def check_picklable(payload: Mapping[str, Any]) -> None:
    """Raises FieldValueError, naming the parameter and the fix, if a part of
    a worker's task cannot be sent to another process (executor="process")."""
    for parameter in ("objective", "space", "algorithm", "early_stopping", "catch"):
        value = payload[parameter]
        what = getattr(value, "__qualname__", None) or type(value).__name__
        try:
            pickle.dumps(value)
        except Exception as e:  # noqa: BLE001 - pickle raises many kinds
            fix = (
                "define it at module level (a `def` in a module, not a lambda, a nested "
                "function or a closure), or use executor='local'"
                if parameter == "objective"
                else "build it from module-level classes and functions, or use executor='local'"
            )
            raise FieldValueError(
                f"executor='process' runs `{parameter}` ({what}) in other processes, but it "
                f"cannot be pickled ({type(e).__name__}: {e}); {fix}"
            ) from None
        module = getattr(value, "__module__", None)
        main = sys.modules.get("__main__")
        if module == "__main__" and not getattr(main, "__file__", None):
            raise FieldValueError(
                f"executor='process' runs `{parameter}` ({what}) in other processes, but it "
                "is defined in an interactive session, which they cannot import; define it "
                "in a module (a .py file), or use executor='local'"
            )


def check_not_all_failed(result: StudyResult) -> None:
    """Raises TrialsFailedError if the study has trials and every one failed."""
    trials = result.trials
    if not trials or any(t.status != "failed" for t in trials):
        return
    reasons = list(dict.fromkeys(t.error or "no reason recorded" for t in trials))
    shown = "; ".join(reasons[:3]) + (
        f"; ... ({len(reasons)} reasons in all)" if len(reasons) > 3 else ""
    )
    raise TrialsFailedError(f"every trial failed ({len(trials)} trials): {shown}")
