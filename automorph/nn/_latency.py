"""Measured latency: a per-operation latency table of a supernet.

`measure_latency` times, on the machine it runs on, every candidate of every
choice of a supernet where it runs: inside whole forward passes of the network,
on the input that choice gets there (its position and shape). Each round runs
as many passes as the largest choice has candidates, every choice taking each
of its candidates once in a random order, so that each candidate is timed among
varying neighbours and a change of load touches all candidates alike; the time
of a pass less the times of its candidates is the fixed part of the network
(stem, head, the sums inside cells), less the cost of the timing wrapper itself
(calibrated on an empty module). After `warmup` untimed rounds the table keeps
the median of `repeats` rounds, with a fixed number of torch threads, in eval
mode and without gradients. The clock is elapsed time, or, on a shared CPU,
the CPU time of the timing thread (which leaves out the time other processes
hold the core). An architecture's latency is the fixed part plus the sum of its
chosen candidates (`LatencyTable.architecture_ms`); `validate_latency` measures
whole architectures end to end, to say how well that sum predicts them.

A table is saved as JSON with the method it was measured by (device, torch
version, threads, clock, repeats, batch size, input shapes, date) and loaded
back by `LatencyTable.load`, which checks the file; `LatencyTable.check` says
whether a table fits a supernet.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automorph.hyper import materialize
from automorph.nn._supernet import MixedOp, Supernet
from automorph.utils import AutomorphError, FieldValueError, SearchSpaceError

FORMAT = "automorph.latency_table/1"


class LatencyTableError(AutomorphError, ValueError):
    """A latency table cannot be read, or does not fit the supernet it is used with."""


def _describe(module: nn.Module) -> str:
    return " ".join(repr(module).split())


@dataclass(frozen=True)
class LatencyTable:
    """Forward time of every candidate of every choice of a supernet, in milliseconds.

    Attributes:
        base_ms: Time of the fixed part of the network (everything outside the
            choices).
        ops: Time of each candidate of each choice, by decision id, in the
            supernet's candidate order.
        candidates: What each candidate is (its `repr`), by decision id; used to
            check that a table fits a supernet (empty: not checked).
        shapes: The input shape (batch first) each choice was timed on.
        method: How the table was measured (device, torch version, threads,
            repeats, batch size, date, ...).

    Raises:
        LatencyTableError: If a time is negative or not finite, a choice has no
            candidates, or `candidates` / `shapes` do not match `ops`.

    >>> table = LatencyTable(1.0, {"op": [0.5, 2.0]})
    >>> table.architecture_ms({"op": 1})
    3.0
    >>> table.extremes()
    (1.5, 3.0)
    """

    base_ms: float
    ops: dict[str, list[float]]
    candidates: dict[str, list[str]] = field(default_factory=dict)
    shapes: dict[str, list[int]] = field(default_factory=dict)
    method: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_time(self.base_ms, "base_ms")
        if not self.ops:
            raise LatencyTableError("a latency table needs at least one choice", path="ops")
        for decision_id, times in self.ops.items():
            if not times:
                raise LatencyTableError("a choice needs at least one candidate", path=decision_id)
            for index, value in enumerate(times):
                _check_time(value, f"ops[{decision_id!r}][{index}]")
        for name, other in (("candidates", self.candidates), ("shapes", self.shapes)):
            if other and set(other) != set(self.ops):
                raise LatencyTableError(
                    f"`{name}` names choices {sorted(other)}, `ops` names {sorted(self.ops)}",
                    path=name,
                )
        for decision_id, described in self.candidates.items():
            if len(described) != len(self.ops[decision_id]):
                raise LatencyTableError(
                    f"{len(described)} candidates described, {len(self.ops[decision_id])} timed",
                    path=f"candidates[{decision_id!r}]",
                )

    # --- use --------------------------------------------------------------------

    def architecture_ms(self, dna: Mapping[str, Any]) -> float:
        """The predicted time of one architecture: the fixed part plus its chosen candidates.

        Raises:
            LatencyTableError: If `dna` lacks a choice of the table or picks a
                candidate the table does not have.
        """
        total = self.base_ms
        for decision_id, times in self.ops.items():
            if decision_id not in dna:
                raise LatencyTableError("the architecture makes no pick here", path=decision_id)
            index = int(dna[decision_id])
            if not 0 <= index < len(times):
                raise LatencyTableError(
                    f"candidate {index} is not in the table ({len(times)} candidates)",
                    path=decision_id,
                )
            total += times[index]
        return total

    def per_input_ms(self, picks: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The predicted time of each input's architecture (per-input picks, as InstaNAS).

        Raises:
            LatencyTableError: If `picks` lacks a choice of the table.
        """
        total: torch.Tensor | None = None
        for decision_id, times in self.ops.items():
            if decision_id not in picks:
                raise LatencyTableError("no per-input pick given", path=decision_id)
            part = torch.tensor(times, dtype=torch.float64)[picks[decision_id].cpu()]
            total = part if total is None else total + part
        assert total is not None
        return total + self.base_ms

    def extremes(self) -> tuple[float, float]:
        """The predicted times of the fastest and of the slowest architecture."""
        least = self.base_ms + sum(min(times) for times in self.ops.values())
        most = self.base_ms + sum(max(times) for times in self.ops.values())
        return least, most

    def check(self, supernet: Supernet) -> None:
        """Checks that the table was measured for a supernet of this shape.

        Raises:
            LatencyTableError: If a choice of the supernet is missing from the
                table (or the table has one the supernet lacks), the numbers of
                candidates differ, or a candidate is not the one the table timed.
        """
        ops = supernet.mixed_ops
        for decision_id, op in ops.items():
            if decision_id not in self.ops:
                raise LatencyTableError(
                    f"the latency table has no entry for this choice (it has {sorted(self.ops)})",
                    path=decision_id,
                )
            if len(self.ops[decision_id]) != len(op.candidates):
                raise LatencyTableError(
                    f"the table times {len(self.ops[decision_id])} candidates, the supernet "
                    f"has {len(op.candidates)}",
                    path=decision_id,
                )
            for index, candidate in enumerate(op.candidates):
                described = self.candidates.get(decision_id)
                if described is not None and described[index] != _describe(candidate):
                    raise LatencyTableError(
                        f"candidate {index} is {_describe(candidate)}, the table timed "
                        f"{described[index]}",
                        path=decision_id,
                    )
        extra = sorted(set(self.ops) - set(ops))
        if extra:
            raise LatencyTableError(
                f"the table times choices the supernet does not have: {extra}", path=extra[0]
            )

    @classmethod
    def median_of(cls, tables: Sequence[LatencyTable]) -> LatencyTable:
        """The entry-by-entry median of tables measured for one supernet (say, at
        different times, to damp changes of load). Its method is the first table's,
        with the number of tables and their dates.

        Raises:
            LatencyTableError: If there is no table, or the tables time
                different choices or candidates.

        >>> a, b, c = (LatencyTable(t, {"op": [t, 2 * t]}) for t in (1.0, 3.0, 2.0))
        >>> LatencyTable.median_of([a, b, c]).ops
        {'op': [2.0, 4.0]}
        """
        if not tables:
            raise LatencyTableError("no tables to take the median of", path="tables")
        first = tables[0]
        for index, other in enumerate(tables[1:], 1):
            same = {i: len(t) for i, t in other.ops.items()} == {
                i: len(t) for i, t in first.ops.items()
            }
            if not same or (other.candidates and other.candidates != first.candidates):
                raise LatencyTableError(
                    "the tables time different choices or candidates than the first",
                    path=f"tables[{index}]",
                )
        method = dict(first.method)
        method["tables"] = len(tables)
        method["dates"] = [t.method.get("date") for t in tables]
        return cls(
            base_ms=statistics.median(t.base_ms for t in tables),
            ops={
                i: [statistics.median(t.ops[i][k] for t in tables) for k in range(len(times))]
                for i, times in first.ops.items()
            },
            candidates=first.candidates,
            shapes=first.shapes,
            method=method,
        )

    # --- files ------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The table as a JSON-ready dict (what `save` writes)."""
        return {
            "format": FORMAT,
            "unit": "ms",
            "method": self.method,
            "base_ms": self.base_ms,
            "ops": self.ops,
            "candidates": self.candidates,
            "shapes": self.shapes,
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "") -> LatencyTable:
        """The table `to_json` wrote.

        Raises:
            LatencyTableError: If `data` is not such a table (naming the field).
        """
        prefix = f"{where}: " if where else ""
        if not isinstance(data, dict):
            raise LatencyTableError(f"{prefix}a latency table is a JSON object, got {data!r:.60}")
        if data.get("format") != FORMAT:
            raise LatencyTableError(
                f"{prefix}not a latency table (`format` is {data.get('format')!r}, "
                f"expected {FORMAT!r})",
                path="format",
            )
        if data.get("unit", "ms") != "ms":
            raise LatencyTableError(f"{prefix}the unit must be 'ms'", path="unit")
        try:
            return cls(
                base_ms=_number(data, "base_ms"),
                ops={str(k): [_finite(v) for v in vs] for k, vs in _obj(data, "ops").items()},
                candidates={
                    str(k): [str(v) for v in vs]
                    for k, vs in _obj(data, "candidates", optional=True).items()
                },
                shapes={
                    str(k): [int(v) for v in vs]
                    for k, vs in _obj(data, "shapes", optional=True).items()
                },
                method=dict(_obj(data, "method", optional=True)),
            )
        except LatencyTableError as error:
            raise LatencyTableError(f"{prefix}{error.message}", path=error.path) from None
        except (TypeError, ValueError) as error:
            raise LatencyTableError(f"{prefix}a field has the wrong type: {error}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the table (and its method) as JSON to `path`."""
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LatencyTable:
        """Reads a table `save` wrote.

        Raises:
            FileNotFoundError: If there is no file at `path`.
            LatencyTableError: If the file is not JSON or not a latency table.
        """
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise LatencyTableError(f"{path}: not JSON ({error})") from None
        return cls.from_json(data, str(path))


def _check_time(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LatencyTableError(f"a time must be a number, got {value!r}", path=where)
    if not math.isfinite(value) or value < 0:
        raise LatencyTableError(f"a time must be finite and at least 0, got {value!r}", path=where)


def _finite(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _number(data: dict[str, Any], key: str) -> float:
    if key not in data:
        raise LatencyTableError("missing field", path=key)
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LatencyTableError(f"expected a number, got {value!r}", path=key)
    return float(value)


def _obj(data: dict[str, Any], key: str, optional: bool = False) -> dict[str, Any]:
    if key not in data:
        if optional:
            return {}
        raise LatencyTableError("missing field", path=key)
    value = data[key]
    if not isinstance(value, dict):
        raise LatencyTableError(f"expected an object, got {value!r:.60}", path=key)
    for inner, items in value.items():
        if key != "method" and not isinstance(items, list):
            raise LatencyTableError(f"expected a list, got {items!r:.60}", path=f"{key}.{inner}")
    return value


# --- measuring ------------------------------------------------------------------------

CLOCKS = {
    "wall": "time.perf_counter (elapsed time)",
    "cpu": "time.thread_time (CPU time of the timing thread: leaves out the time other "
    "processes hold the core; one thread, CPU only)",
}


@contextlib.contextmanager
def _threads(threads: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Timer:
    """The clock of a measurement, synchronized with the device."""

    def __init__(self, clock: str, device: torch.device) -> None:
        self.read = time.thread_time if clock == "cpu" else time.perf_counter
        self.cuda = device.type == "cuda"
        self.device = device

    def __call__(self) -> float:
        if self.cuda:
            torch.cuda.synchronize(self.device)
        return self.read()


def _time_rounds(
    calls: Sequence[Callable[[], object]], repeats: int, warmup: int, timer: _Timer
) -> list[list[float]]:
    """Seconds of each call: `repeats` rounds that each time every call once, in turn."""
    times: list[list[float]] = [[] for _ in calls]
    with torch.no_grad():
        for round_ in range(warmup + repeats):
            for index, call in enumerate(calls):
                start = timer()
                call()
                if round_ >= warmup:
                    times[index].append(timer() - start)
    return times


def _call(module: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    return lambda: module(x)


def _median_ms(samples: list[float]) -> float:
    return 1000.0 * statistics.median(samples)


def _relative_spread(samples: list[float]) -> float:
    """Interquartile range over median: how noisy one entry's timings were."""
    q1, _, q3 = statistics.quantiles(samples, n=4) if len(samples) > 1 else (0.0, 0.0, 0.0)
    middle = statistics.median(samples)
    return (q3 - q1) / middle if middle > 0 else 0.0


def _check_settings(
    repeats: int, warmup: int, threads: int, batch_size: int, clock: str, device: torch.device
) -> None:
    for name, value, least in (
        ("repeats", repeats, 1),
        ("warmup", warmup, 0),
        ("threads", threads, 1),
        ("batch_size", batch_size, 1),
    ):
        if value < least:
            raise FieldValueError(f"`{name}` ({value}) must be at least {least}", path=name)
    if clock not in CLOCKS:
        raise FieldValueError(
            f"`clock` must be one of {sorted(CLOCKS)}, got {clock!r}", path="clock"
        )
    if clock == "cpu" and (threads != 1 or device.type != "cpu"):
        raise FieldValueError(
            f"the 'cpu' clock times one thread on the CPU; got {threads} threads on {device}",
            path="clock",
        )


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return str(torch.cuda.get_device_name(device))
    return platform.processor() or platform.machine()


def _method(
    device: torch.device, threads: int, batch_size: int, repeats: int, warmup: int, clock: str
) -> dict[str, Any]:
    method: dict[str, Any] = {
        "device": str(device),
        "device_name": _device_name(device),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": threads,
        "batch_size": batch_size,
        "repeats": repeats,
        "warmup": warmup,
        "statistic": "median",
        "clock": clock,
        "timer": CLOCKS[clock],
        "where": "candidates timed inside whole forward passes (random paths), eval mode, "
        "no gradients; fixed part = pass less its candidates less the timing wrapper",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    with contextlib.suppress(OSError, AttributeError):
        method["niceness"] = os.getpriority(os.PRIO_PROCESS, 0)
    with contextlib.suppress(OSError, AttributeError):
        method["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return method


@contextlib.contextmanager
def _timed_choices(
    supernet: Supernet, timer: _Timer, spent: dict[str, float]
) -> Iterator[dict[str, MixedOp]]:
    """The supernet in eval mode, each choice timing its active candidate into `spent`;
    its modes and forward passes restored after."""
    ops = supernet.mixed_ops
    saved = {i: (op.active, op.relaxed, op.per_input) for i, op in ops.items()}
    was_training = supernet.training
    supernet.eval()
    for decision_id, op in ops.items():
        op.active, op.relaxed, op.per_input = 0, False, None
        vars(op)["forward"] = _timed_forward(op, decision_id, timer, spent)
    try:
        yield ops
    finally:
        for decision_id, op in ops.items():
            vars(op).pop("forward", None)
            op.active, op.relaxed, op.per_input = saved[decision_id]
        supernet.train(was_training)


def _timed_forward(
    op: MixedOp, decision_id: str, timer: _Timer, spent: dict[str, float]
) -> Callable[[torch.Tensor], torch.Tensor]:
    candidates = op.candidates

    def forward(x: torch.Tensor) -> torch.Tensor:
        candidate = candidates[op.active]
        start = timer()
        out = candidate(x)
        spent[decision_id] = timer() - start
        return out  # type: ignore[no-any-return]

    return forward


def measure_latency(
    supernet: Supernet,
    input_shape: tuple[int, ...],
    *,
    batch_size: int = 1,
    repeats: int = 50,
    warmup: int = 5,
    threads: int = 1,
    clock: str = "wall",
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> LatencyTable:
    """Measures the latency table of `supernet` on this machine (see the module docstring).

    Args:
        supernet: The supernet (no nested choices); it is moved to `device`.
        input_shape: Shape of one input (C, H, W).
        batch_size: Inputs per forward pass (1: per-image latency).
        repeats: Timed rounds; the table keeps each entry's median.
        warmup: Untimed rounds first.
        threads: torch threads while timing (restored after).
        clock: "wall" (elapsed time) or "cpu" (the timing thread's CPU time: on a
            shared machine it leaves out the time other processes hold the core;
            one thread on the CPU only).
        device: Where to time ("cpu", "cuda", ...).
        seed: Seed of the random input and of the order of the candidates.

    Raises:
        SearchSpaceError: If the supernet has nested choices.
        FieldValueError: If a count is below its least value, or the clock is
            unknown or cannot time this device and threads.
    """
    where = torch.device(device)
    _check_settings(repeats, warmup, threads, batch_size, clock, where)
    if len(supernet.decision_ids) != len(supernet.root_ids):
        raise SearchSpaceError("a latency table needs a supernet without nested choices")
    supernet.to(where)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, *input_shape, generator=generator).to(where)
    timer = _Timer(clock, where)
    spent: dict[str, float] = {}
    samples: dict[str, list[list[float]]] = {}
    fixed: list[float] = []
    wrapper: list[float] = []
    shapes: dict[str, list[int]] = {}
    empty = MixedOp("empty", [nn.Identity()]).to(where)
    with _threads(threads), _timed_choices(supernet, timer, spent) as ops, torch.no_grad():
        handles = [
            op.register_forward_pre_hook(
                lambda _, args, i=i: shapes.__setitem__(i, list(args[0].shape))
            )
            for i, op in ops.items()
        ]
        try:
            supernet.net(x)
        finally:
            for handle in handles:
                handle.remove()
        vars(empty)["forward"] = _timed_forward(empty, "empty", timer, spent)
        samples = {i: [[] for _ in op.candidates] for i, op in ops.items()}
        passes = max(len(op.candidates) for op in ops.values())
        for round_ in range(warmup + repeats):
            orders = {
                i: torch.randperm(len(op.candidates), generator=generator).tolist()
                for i, op in ops.items()
            }
            for step in range(passes):
                for decision_id, op in ops.items():
                    op.active = orders[decision_id][step % len(op.candidates)]
                start = timer()
                supernet.net(x)
                total = timer() - start
                start = timer()
                empty(x)
                outer = timer() - start
                if round_ < warmup:
                    continue
                fixed.append(total - sum(spent[i] for i in ops))
                wrapper.append(outer - spent["empty"])
                for decision_id, op in ops.items():
                    if step < len(op.candidates):
                        samples[decision_id][op.active].append(spent[decision_id])
    overhead = len(ops) * _median_ms(wrapper)
    method = _method(where, threads, batch_size, repeats, warmup, clock)
    method["input_shape"] = list(input_shape)
    every = [s for per_choice in samples.values() for s in per_choice] + [fixed]
    method["spread"] = round(statistics.median(_relative_spread(s) for s in every), 4)
    method["wrapper_ms"] = round(overhead, 6)
    return LatencyTable(
        base_ms=max(0.0, _median_ms(fixed) - overhead),
        ops={i: [_median_ms(s) for s in per_choice] for i, per_choice in samples.items()},
        candidates={i: [_describe(c) for c in op.candidates] for i, op in ops.items()},
        shapes=shapes,
        method=method,
    )


@dataclass(frozen=True)
class LatencyCheck:
    """One architecture's latency as the table predicts it and as measured end to end.

    >>> LatencyCheck({"op": 0}, 1.1, 1.0).relative_error
    0.1
    """

    dna: Mapping[str, Any]
    predicted_ms: float
    measured_ms: float

    @property
    def relative_error(self) -> float:
        """predicted / measured - 1 (positive: the table overestimates)."""
        return round(self.predicted_ms / self.measured_ms - 1.0, 12)


def validate_latency(
    table: LatencyTable,
    supernet: Supernet,
    dnas: Sequence[Mapping[str, Any]],
    *,
    repeats: int = 50,
    warmup: int = 5,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> list[LatencyCheck]:
    """Measures whole architectures end to end and sets them beside the table's sums.

    Each architecture is the plain network `am.materialize(supernet.space, dna)`
    (no supernet around it), timed as the table was (its batch size, threads,
    clock and input shape): rounds that run every architecture once, in turn;
    the median of `repeats` rounds.

    Raises:
        LatencyTableError: If the table does not fit the supernet or lacks its
            input shape.
        InvalidDNAError: If a DNA does not fit the space.
        FieldValueError: If a count is below its least value.
    """
    table.check(supernet)
    threads = int(table.method.get("threads", torch.get_num_threads()))
    batch_size = int(table.method.get("batch_size", 1))
    clock = str(table.method.get("clock", "wall"))
    where = torch.device(device)
    _check_settings(repeats, warmup, threads, batch_size, clock, where)
    shape = table.method.get("input_shape")
    if shape is None:
        raise LatencyTableError("the table does not record its input shape", path="method")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, *shape, generator=generator).to(where)
    children = [materialize(supernet.space, dna).to(where).eval() for dna in dnas]
    with _threads(threads):
        calls = [_call(c, x) for c in children]
        times = _time_rounds(calls, repeats, warmup, _Timer(clock, where))
    return [
        LatencyCheck(dna, table.architecture_ms(dna), _median_ms(samples))
        for dna, samples in zip(dnas, times, strict=True)
    ]


def measure_forward(
    module: nn.Module,
    input_shape: tuple[int, ...],
    *,
    batch_size: int = 1,
    repeats: int = 50,
    warmup: int = 5,
    threads: int = 1,
    clock: str = "wall",
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> float:
    """Median forward time of `module` in milliseconds (eval mode, no gradients).

    The arguments are those of `measure_latency`.

    Raises:
        FieldValueError: If a count is below its least value, or the clock is
            unknown or cannot time this device and threads.

    >>> measure_forward(nn.Identity(), (3,), repeats=3) >= 0
    True
    """
    where = torch.device(device)
    _check_settings(repeats, warmup, threads, batch_size, clock, where)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, *input_shape, generator=generator).to(where)
    was_training = module.training
    module.to(where).eval()
    try:
        with _threads(threads):
            (samples,) = _time_rounds([_call(module, x)], repeats, warmup, _Timer(clock, where))
    finally:
        module.train(was_training)
    return _median_ms(samples)
