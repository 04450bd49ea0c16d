"""A one-line progress report for long searches, with no dependency.

On a terminal the line is rewritten in place (`'\\r'`) at most every
`interval` seconds (0.1 by default); elsewhere (a log file, a CI job) a
plain line is written every `interval` seconds (10 by default). Either way a
last line is written when the search ends. Nothing is formatted between
reports, so a search with progress on costs one clock read per trial more.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

TTY_INTERVAL = 0.1
LOG_INTERVAL = 10.0


class Progress:
    """Reports trials done, the best reward so far, trials per second and time.

    Args:
        total: How many trials the search will run, or None if unknown.
        name: The study's name, leading the line.
        unit: What is counted, plural ("trials"; "runs" for an experiment's
            runs, "rounds" for an island search's).
        stream: Where to write; `sys.stderr` by default.
        interval: Seconds between reports; by default 0.1 on a terminal and
            10 elsewhere.
        clock: The time source (`time.time`); tests pass a fake one.

    >>> import io
    >>> out = io.StringIO()
    >>> progress = Progress(10, name="demo", stream=out, clock=lambda: 4.0)
    >>> progress.update(3, 0.5, 2)
    >>> progress.close(3, 0.5, 2)
    >>> out.getvalue()
    'demo: 3/10 trials, best 0.5 (trial 2), 0.0 trials/s, 0:00:00\\n'
    """

    def __init__(
        self,
        total: int | None,
        name: str | None = None,
        stream: TextIO | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.time,
        unit: str = "trials",
    ) -> None:
        self.total = total
        self.name = name or "search"
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty()) if callable(isatty) else False
        self.interval = (
            interval if interval is not None else (TTY_INTERVAL if self.tty else LOG_INTERVAL)
        )
        self.clock = clock
        self.start = clock()
        self._last = self.start
        self._width = 0
        self._closed = False

    def update(self, done: int, best: object, best_id: int | None) -> None:
        """Reports if `interval` has passed since the last report.

        Args:
            done: Trials (or other units) finished: completed, skipped or failed.
            best: The best reward so far (a float), a description of the
                best (a str, for multi-objective searches), or None.
            best_id: The id of the best trial, or None.
        """
        now = self.clock()
        if now - self._last < self.interval:
            return
        self._last = now
        self._write(self.line(done, best, best_id, now), final=False)

    def close(self, done: int, best: object, best_id: int | None) -> None:
        """Writes the last report and ends the line (once)."""
        if self._closed:
            return
        self._closed = True
        self._write(self.line(done, best, best_id, self.clock()), final=True)

    def line(self, done: int, best: object, best_id: int | None, now: float) -> str:
        """The report's text."""
        elapsed = max(now - self.start, 0.0)
        count = f"{done}/{self.total}" if self.total is not None else str(done)
        parts = [f"{self.name}: {count} {self.unit}"]
        if isinstance(best, float):
            parts.append(f"best {best:.6g}" + (f" (trial {best_id})" if best_id else ""))
        elif best is not None:
            parts.append(str(best))
        rate = done / elapsed if elapsed > 0 else 0.0
        # Slow searches read better per trial (37.5 s/trial, not 0.0 trials/s).
        one = self.unit[:-1] if self.unit.endswith("s") else self.unit
        parts.append(
            f"{rate:.1f} {self.unit}/s" if rate >= 1 or rate == 0 else f"{1 / rate:.1f} s/{one}"
        )
        parts.append(_clock_time(elapsed))
        return ", ".join(parts)

    def _write(self, line: str, final: bool) -> None:
        if self.tty:
            padding = " " * max(self._width - len(line), 0)
            self._width = len(line)
            self.stream.write("\r" + line + padding + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _clock_time(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
