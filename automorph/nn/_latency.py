"""Measured latency: a per-operation latency table of a supernet.

`measure_latency` times, on the machine it runs on, the forward pass of every
candidate of every choice of a supernet on the very input that choice gets in
the network (its position and shape), and the fixed part of the network (stem,
head, the sums inside cells) with every choice replaying a stored output (less
the time of one empty module call per choice). Each round times every
entry once, in turn, so that a change of load on a shared machine touches all
entries alike; after `warmup` untimed rounds the table keeps the median of
`repeats` rounds, with a fixed number of torch threads, in eval mode and
without gradients. An architecture's latency is the fixed part plus the sum of
its chosen candidates (`LatencyTable.architecture_ms`); `validate_latency`
measures whole architectures end to end, to say how well that sum predicts
them.

A table is saved as JSON with the method it was measured by (device, torch
version, threads, repeats, batch size, input shapes, date) and loaded back by
`LatencyTable.load`, which checks the file; `LatencyTable.check` says whether
a table fits a supernet.
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


@contextlib.contextmanager
def _threads(threads: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _time_rounds(
    calls: Sequence[Callable[[], object]], repeats: int, warmup: int, device: torch.device
) -> list[list[float]]:
    """Seconds of each call, `repeats` rounds that each time every call once, in turn."""
    cuda = device.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    times: list[list[float]] = [[] for _ in calls]
    with torch.no_grad():
        for round_ in range(warmup + repeats):
            for index, call in enumerate(calls):
                sync()
                start = time.perf_counter()
                call()
                sync()
                if round_ >= warmup:
                    times[index].append(time.perf_counter() - start)
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


def _check_counts(repeats: int, warmup: int, threads: int, batch_size: int) -> None:
    for name, value, least in (
        ("repeats", repeats, 1),
        ("warmup", warmup, 0),
        ("threads", threads, 1),
        ("batch_size", batch_size, 1),
    ):
        if value < least:
            raise FieldValueError(f"`{name}` ({value}) must be at least {least}", path=name)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return str(torch.cuda.get_device_name(device))
    return platform.processor() or platform.machine()


def _method(
    device: torch.device, threads: int, batch_size: int, repeats: int, warmup: int
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
        "timer": "time.perf_counter, interleaved rounds, eval mode, no gradients",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    with contextlib.suppress(OSError, AttributeError):
        method["niceness"] = os.getpriority(os.PRIO_PROCESS, 0)
    with contextlib.suppress(OSError, AttributeError):
        method["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return method


@contextlib.contextmanager
def _first_paths(supernet: Supernet) -> Iterator[dict[str, MixedOp]]:
    """The supernet in eval mode on its first candidates; its modes restored after."""
    ops = supernet.mixed_ops
    saved = {i: (op.active, op.relaxed, op.per_input) for i, op in ops.items()}
    was_training = supernet.training
    supernet.eval()
    for op in ops.values():
        op.active, op.relaxed, op.per_input = 0, False, None
    try:
        yield ops
    finally:
        for decision_id, op in ops.items():
            op.active, op.relaxed, op.per_input = saved[decision_id]
        supernet.train(was_training)


def measure_latency(
    supernet: Supernet,
    input_shape: tuple[int, ...],
    *,
    batch_size: int = 1,
    repeats: int = 50,
    warmup: int = 5,
    threads: int = 1,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> LatencyTable:
    """Measures the latency table of `supernet` on this machine (see the module docstring).

    Args:
        supernet: The supernet (no nested choices); it is moved to `device`.
        input_shape: Shape of one input (C, H, W).
        batch_size: Inputs per timed forward pass (1: per-image latency).
        repeats: Timed rounds; the table keeps each entry's median.
        warmup: Untimed rounds first.
        threads: torch threads while timing (restored after).
        device: Where to time ("cpu", "cuda", ...).
        seed: Seed of the random input.

    Raises:
        SearchSpaceError: If the supernet has nested choices.
        FieldValueError: If a count is below its least value.
    """
    _check_counts(repeats, warmup, threads, batch_size)
    if len(supernet.decision_ids) != len(supernet.root_ids):
        raise SearchSpaceError("a latency table needs a supernet without nested choices")
    where = torch.device(device)
    supernet.to(where)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, *input_shape, generator=generator).to(where)
    seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    with _threads(threads), _first_paths(supernet) as ops, torch.no_grad():
        handles = [
            op.register_forward_hook(
                lambda _, args, out, i=decision_id: seen.__setitem__(i, (args[0], out))
            )
            for decision_id, op in ops.items()
        ]
        try:
            supernet(x)
        finally:
            for handle in handles:
                handle.remove()
        empty = nn.Identity().to(where)
        calls: list[Callable[[], object]] = [lambda: supernet.net(x), lambda: empty(x)]
        keys: list[tuple[str, int]] = []
        for decision_id, op in ops.items():
            for index, candidate in enumerate(op.candidates):
                calls.append(_call(candidate, seen[decision_id][0]))
                keys.append((decision_id, index))
        for decision_id, op in ops.items():  # the fixed part: each choice replays its output
            vars(op)["forward"] = lambda *_, out=seen[decision_id][1]: out
        try:
            times = _time_rounds(calls, repeats, warmup, where)
        finally:
            for op in ops.values():
                vars(op).pop("forward")
    table: dict[str, list[float]] = {i: [] for i in ops}
    for (decision_id, _), samples in zip(keys, times[2:], strict=True):
        table[decision_id].append(_median_ms(samples))
    # The replaying choices still cost one module call each, which the network without
    # a supernet does not make: take off the time of as many empty calls.
    base_ms = max(0.0, _median_ms(times[0]) - len(ops) * _median_ms(times[1]))
    method = _method(where, threads, batch_size, repeats, warmup)
    method["input_shape"] = list(input_shape)
    method["spread"] = round(statistics.median(_relative_spread(s) for s in times), 4)
    return LatencyTable(
        base_ms=base_ms,
        ops=table,
        candidates={i: [_describe(c) for c in op.candidates] for i, op in ops.items()},
        shapes={i: list(seen[i][0].shape) for i in ops},
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
    (no supernet around it), timed as the table was (its batch size, threads
    and input shape; interleaved rounds, median).

    Raises:
        LatencyTableError: If the table does not fit the supernet.
        InvalidDNAError: If a DNA does not fit the space.
        FieldValueError: If a count is below its least value.
    """
    table.check(supernet)
    threads = int(table.method.get("threads", torch.get_num_threads()))
    batch_size = int(table.method.get("batch_size", 1))
    _check_counts(repeats, warmup, threads, batch_size)
    shape = table.method.get("input_shape")
    if shape is None:
        raise LatencyTableError("the table does not record its input shape", path="method")
    where = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, *shape, generator=generator).to(where)
    children = [materialize(supernet.space, dna).to(where).eval() for dna in dnas]
    with _threads(threads):
        times = _time_rounds([_call(c, x) for c in children], repeats, warmup, where)
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
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> float:
    """Median forward time of `module` in milliseconds (eval mode, no gradients).

    Raises:
        FieldValueError: If a count is below its least value.

    >>> measure_forward(nn.Identity(), (3,), repeats=3) >= 0
    True
    """
    _check_counts(repeats, warmup, threads, batch_size)
    where = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, *input_shape, generator=generator).to(where)
    was_training = module.training
    module.to(where).eval()
    try:
        with _threads(threads):
            (samples,) = _time_rounds([lambda: module(x)], repeats, warmup, where)
    finally:
        module.train(was_training)
    return _median_ms(samples)
