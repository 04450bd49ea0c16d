"""A search's options, as one value handed from `am.sample`/`am.tune` to the
study and to every worker (instead of the same keyword list copied around)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from automorph.tuning import _direction
from automorph.tuning._checks import check_options
from automorph.tuning._direction import Directions
from automorph.utils import FieldTypeError

if TYPE_CHECKING:
    from automorph.early_stopping import EarlyStoppingPolicy
    from automorph.storage import Storage

#: A running trial's worker stores a heartbeat this often (seconds).
DEFAULT_HEARTBEAT_S = 2.0
#: A running trial without a heartbeat for this long goes back to the queue
#: (seconds): ten missed beats, long enough for a busy machine or a network
#: hiccup, short enough that a laptop user whose worker died gets its trial
#: run again within half a minute.
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_RETRY_LIMIT = 2


@dataclass(frozen=True)
class StudyOptions:
    """How a search keeps its study (see `am.sample` for each option).

    Attributes:
        name: The study's name (the key of a stored study).
        storage: Where the study lives: None for this process's memory.
        worker: This worker's id in a stored study (None: host, pid, random).
        early_stopping: The policy `feedback.should_stop_early()` asks.
        heartbeat_s: Seconds between heartbeats of a stored trial.
        timeout_s: Seconds without a heartbeat before a trial is requeued.
        retry_limit: How many times a trial is requeued before it fails.
        directions: The wanted directions, or None for the study's (or
            "maximize" for a new one).
        progress: Write a progress line to stderr.
    """

    name: str | None = None
    storage: Storage | str | None = None
    worker: str | None = None
    early_stopping: EarlyStoppingPolicy | None = None
    heartbeat_s: float = DEFAULT_HEARTBEAT_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    retry_limit: int = DEFAULT_RETRY_LIMIT
    directions: Directions | None = None
    progress: bool = False

    @classmethod
    def make(
        cls,
        *,
        minimize: bool | None = None,
        direction: str | Sequence[str] | None = None,
        **options: Any,
    ) -> StudyOptions:
        """Checks the options (each error names its parameter) and resolves
        `minimize`/`direction` into `directions`."""
        made = cls(directions=_direction.resolve(minimize, direction), **options)
        check_options(made.name, made.heartbeat_s, made.timeout_s, made.retry_limit, made.worker)
        if made.early_stopping is not None and not _is_policy(made.early_stopping):
            got = type(made.early_stopping).__name__
            raise FieldTypeError(
                "`early_stopping` must be a policy (for example "
                f"`am.early_stopping.SuccessiveHalving()`), got {got}"
            )
        return made

    def but(self, **changes: Any) -> StudyOptions:
        """A copy with `changes`."""
        return replace(self, **changes)


def _is_policy(value: Any) -> bool:
    from automorph.early_stopping import EarlyStoppingPolicy

    return isinstance(value, EarlyStoppingPolicy)
