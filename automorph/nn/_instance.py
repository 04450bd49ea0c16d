"""Instance-aware architecture search (InstaNAS) on a trained supernet.

A controller looks at each input and picks, for that input, one candidate of
every choice of the supernet. It is trained by policy gradient on a reward
that trades the input's correctness against the cost of its path, either its
FLOPs, `reward = correct - cost_weight * flops / max_flops`, or its latency
measured on this machine (a `LatencyTable`), `reward = correct - cost_weight *
(ms - fastest) / (slowest - fastest)` over the architectures of the space.
The supernet's shared weights may be fine-tuned on the sampled paths at the
same time. `latency_front` trains one controller per cost weight and sets the
resulting accuracy / latency points beside single fixed architectures.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from automorph.geno import DNA
from automorph.nn._data import ImageData, check_images
from automorph.nn._latency import LatencyTable, measure_forward
from automorph.nn._supernet import Supernet
from automorph.nn._train import Progress, batches
from automorph.utils import FieldValueError, SearchSpaceError


class InstanceController(nn.Module):
    """A policy over the choices of a supernet, conditioned on the input image.

    Args:
        input_shape: Shape (C, H, W) of one input.
        choices: Number of candidates of each choice, by decision id.
        hidden: Width of the hidden layer.

    >>> controller = InstanceController((1, 8, 8), {"a": 3, "b": 2})
    >>> picks, log_prob, _ = controller.sample(torch.zeros(5, 1, 8, 8), torch.Generator())
    >>> picks["a"].shape, log_prob.shape
    (torch.Size([5]), torch.Size([5]))
    """

    def __init__(
        self, input_shape: tuple[int, ...], choices: dict[str, int], hidden: int = 32
    ) -> None:
        super().__init__()
        self.ids = list(choices)
        self.body = nn.Sequential(
            nn.AdaptiveAvgPool2d(7),
            nn.Flatten(),
            nn.Linear(input_shape[0] * 49, hidden),
            nn.ReLU(),
        )
        self.heads = nn.ModuleList([nn.Linear(hidden, n) for n in choices.values()])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.body(x)
        return [head(h) for head in self.heads]

    def sample(
        self, x: torch.Tensor, generator: torch.Generator
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Per-input picks, their log-probability and the policy's entropy per input."""
        picks: dict[str, torch.Tensor] = {}
        log_prob = x.new_zeros(x.shape[0])
        entropy = x.new_zeros(x.shape[0])
        for decision_id, logits in zip(self.ids, self(x), strict=True):
            probs = torch.softmax(logits, 1)
            pick = torch.multinomial(probs.detach(), 1, generator=generator).squeeze(1)
            logp = torch.log_softmax(logits, 1)
            log_prob = log_prob + logp.gather(1, pick[:, None]).squeeze(1)
            entropy = entropy - (probs * logp).sum(1)
            picks[decision_id] = pick
        return picks, log_prob, entropy

    @torch.no_grad()
    def greedy(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The most likely pick of every choice, per input."""
        return {i: logits.argmax(1) for i, logits in zip(self.ids, self(x), strict=True)}


def _owner(supernet: Supernet) -> dict[int, tuple[str, int]]:
    owner: dict[int, tuple[str, int]] = {}
    for decision_id, op in supernet.mixed_ops.items():  # top-down: inner ones win
        for index, candidate in enumerate(op.candidates):
            for module in candidate.modules():
                owner[id(module)] = (decision_id, index)
    return owner


@torch.no_grad()
def path_flops(
    supernet: Supernet, input_shape: tuple[int, ...]
) -> tuple[float, dict[str, list[float]]]:
    """Multiply-adds of the fixed part, and of every candidate of every choice.

    Counts convolutions and linear layers (the rest is negligible here).

    Raises:
        SearchSpaceError: If the supernet has nested choices.
    """
    if len(supernet.decision_ids) != len(supernet.root_ids):
        raise SearchSpaceError("per-input FLOPs need a supernet without nested choices")
    owner = _owner(supernet)
    table = {i: [0.0] * len(op.candidates) for i, op in supernet.mixed_ops.items()}
    base = [0.0]

    def hook(module: nn.Module, _: object, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs = output.numel() * int(module.in_channels) // int(module.groups) * k
        else:
            assert isinstance(module, nn.Linear)
            macs = output.numel() * module.in_features
        where = owner.get(id(module))
        if where is None:
            base[0] += float(macs)
        else:
            table[where[0]][where[1]] += float(macs)

    handles = [
        m.register_forward_hook(hook)
        for m in supernet.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    was_training = supernet.training
    supernet.eval()
    supernet.relax()
    try:
        supernet(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
        supernet.train(was_training)
    return base[0], table


def _flops_of(
    picks: dict[str, torch.Tensor], base: float, table: dict[str, list[float]]
) -> torch.Tensor:
    total = torch.full((next(iter(picks.values())).shape[0],), base)
    for decision_id, pick in picks.items():
        total = total + torch.tensor(table[decision_id])[pick]
    return total


@dataclass
class InstanceResult:
    """A trained per-input controller and its accuracy / FLOPs on the data it was scored on.

    Attributes:
        controller: The trained controller.
        accuracy: Accuracy of the greedy per-input paths.
        mflops: Mean multiply-adds per input, in millions.
        rewards: Mean reward of every training step.
        latency_ms: Mean latency per input as the latency table predicts it
            (None when the search ran without a table).
    """

    controller: InstanceController
    accuracy: float
    mflops: float
    rewards: list[float] = field(default_factory=list)
    latency_ms: float | None = None


Cost = Callable[[dict[str, torch.Tensor]], torch.Tensor]


def _true_class(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits.detach(), 1).gather(1, y[:, None]).squeeze(1)


def _latency_cost(table: LatencyTable) -> Cost:
    least, most = table.extremes()
    span = most - least if most > least else 1.0

    def cost(picks: dict[str, torch.Tensor]) -> torch.Tensor:
        return ((table.per_input_ms(picks) - least) / span).float()

    return cost


def instance_search(
    supernet: Supernet,
    train: ImageData,
    valid: ImageData,
    *,
    cost_weight: float = 0.5,
    latency: LatencyTable | None = None,
    steps: int = 200,
    batch_size: int = 64,
    lr: float = 0.01,
    finetune_lr: float = 0.0,
    entropy_weight: float = 0.01,
    task_reward: str = "correct",
    baseline: str = "batch",
    seed: int = 0,
    progress: bool = False,
) -> InstanceResult:
    """Trains a per-input controller on `train`; scores its greedy paths on `valid`.

    Args:
        latency: A latency table of `supernet`: the reward's cost is then the
            path's measured latency (scaled to [0, 1] between the fastest and
            the slowest architecture) instead of its FLOPs.
        task_reward: The reward's task term per input: "correct" (1 if the
            path classifies it right, else 0) or "probability" (the
            probability the path gives its true class: less noisy).
        baseline: What a sampled path's reward is compared with: "batch" (the
            batch's mean reward) or "greedy" (the reward of the controller's
            most likely path for the same input, a per-input baseline as
            InstaNAS uses; one more forward pass per step).

    Raises:
        FieldValueError: If `steps` < 1, `cost_weight` < 0, or `task_reward`
            or `baseline` is not one of its values.
        DataShapeError: If the data do not fit the network.
        LatencyTableError: If `latency` does not fit the supernet.
    """
    if steps < 1 or cost_weight < 0:
        raise FieldValueError(
            f"`steps` ({steps}) must be at least 1 and `cost_weight` ({cost_weight}) at least 0",
            path="steps" if steps < 1 else "cost_weight",
        )
    for name, value, allowed in (
        ("task_reward", task_reward, ("correct", "probability")),
        ("baseline", baseline, ("batch", "greedy")),
    ):
        if value not in allowed:
            raise FieldValueError(
                f"`{name}` must be one of {list(allowed)}, got {value!r}", path=name
            )
    shape = tuple(int(d) for d in train.x.shape[1:])
    check_images(valid.x, valid.y, shape, "valid")
    torch.manual_seed(seed)
    base, table = path_flops(supernet, shape)
    most = base + sum(max(costs) for costs in table.values())
    if latency is not None:
        latency.check(supernet)
    cost = _latency_cost(latency) if latency is not None else _mflops(base, table, most / 1e6)
    controller = InstanceController(shape, {i: len(c) for i, c in table.items()})
    optimizer = torch.optim.Adam(controller.parameters(), lr=lr)
    weights = (
        torch.optim.SGD(supernet.weight_parameters(), lr=finetune_lr, momentum=0.9)
        if finetune_lr > 0
        else None
    )
    generator = torch.Generator().manual_seed(seed)
    stream = batches(train, batch_size, generator)
    shown = Progress("instance", steps) if progress else None
    rewards: list[float] = []

    def rewards_of(picks: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        supernet.set_per_input(picks)
        with torch.no_grad():
            logits = supernet(x)
        correct = (logits.argmax(1) == y).float()
        task = correct if task_reward == "correct" else _true_class(logits, y)
        return task - cost_weight * cost(picks), correct

    for step in range(steps):
        x, y = next(stream)
        picks, log_prob, entropy = controller.sample(x, generator)
        reward, correct = rewards_of(picks)
        reference = rewards_of(controller.greedy(x))[0] if baseline == "greedy" else reward.mean()
        advantage = reward - reference
        loss = -(advantage.detach() * log_prob).mean() - entropy_weight * entropy.mean()
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        if weights is not None:
            supernet.set_per_input(picks)
            task_loss = nn.functional.cross_entropy(supernet(x), y)
            weights.zero_grad()
            task_loss.backward()  # type: ignore[no-untyped-call]
            weights.step()
        rewards.append(float(reward.mean()))
        if shown is not None:
            shown.update(step, reward=rewards[-1], accuracy=float(correct.mean()))
    costs = [_mflops(base, table)]
    if latency is not None:
        costs.append(latency.per_input_ms)
    accuracy, means = _per_input_pass(supernet, valid, controller.greedy, costs)
    return InstanceResult(
        controller, accuracy, means[0], rewards, means[1] if latency is not None else None
    )


def _per_input_pass(
    supernet: Supernet,
    data: ImageData,
    choose: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    costs: list[Cost],
) -> tuple[float, list[float]]:
    """Accuracy of the per-input paths `choose` picks, and the mean of each cost."""
    correct, totals = 0, [0.0] * len(costs)
    with torch.no_grad():
        for start in range(0, len(data), 500):
            x, y = data.x[start : start + 500], data.y[start : start + 500]
            picks = choose(x)
            supernet.set_per_input(picks)
            correct += int((supernet(x).argmax(1) == y).sum())
            for k, cost in enumerate(costs):
                totals[k] += float(cost(picks).sum())
    return correct / len(data), [total / len(data) for total in totals]


def _mflops(base: float, table: dict[str, list[float]], scale: float = 1.0) -> Cost:
    """Millions of multiply-adds of each input's path, divided by `scale`."""

    def cost(picks: dict[str, torch.Tensor]) -> torch.Tensor:
        return _flops_of(picks, base, table) / 1e6 / scale

    return cost


def _flops_cost(supernet: Supernet, data: ImageData) -> Cost:
    return _mflops(*path_flops(supernet, tuple(int(d) for d in data.x.shape[1:])))


def _chooser(
    supernet: Supernet, choose: InstanceController | Mapping[str, Any]
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    if isinstance(choose, InstanceController):
        return choose.greedy
    supernet.spec.validate(choose if isinstance(choose, DNA) else DNA(choose))
    fixed = {i: int(choose[i]) for i in supernet.decision_ids}

    def same(x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {i: torch.full((x.shape[0],), k) for i, k in fixed.items()}

    return same


def evaluate_instance(
    supernet: Supernet, controller: InstanceController, data: ImageData
) -> tuple[float, float]:
    """Accuracy and mean MFLOPs (multiply-adds) of the controller's greedy per-input paths."""
    accuracy, (mflops,) = _per_input_pass(
        supernet, data, controller.greedy, [_flops_cost(supernet, data)]
    )
    return accuracy, mflops


def evaluate_fixed(supernet: Supernet, dna: DNA, data: ImageData) -> tuple[float, float]:
    """Accuracy and MFLOPs of one fixed architecture with the supernet's weights."""
    accuracy, (mflops,) = _per_input_pass(
        supernet, data, _chooser(supernet, dna), [_flops_cost(supernet, data)]
    )
    return accuracy, mflops


def evaluate_latency(
    supernet: Supernet,
    choose: InstanceController | Mapping[str, Any],
    data: ImageData,
    table: LatencyTable,
) -> tuple[float, float]:
    """Accuracy and mean latency per input (ms, as `table` predicts it).

    `choose` is a trained controller (per-input paths) or one fixed architecture (DNA).

    Raises:
        LatencyTableError: If the table does not fit the supernet.
        InvalidDNAError: If a fixed architecture does not fit the space.
    """
    table.check(supernet)
    accuracy, (ms,) = _per_input_pass(
        supernet, data, _chooser(supernet, choose), [table.per_input_ms]
    )
    return accuracy, ms


# --- the accuracy / latency front ---------------------------------------------------------


@dataclass(frozen=True)
class FrontPoint:
    """One point of an accuracy / latency trade-off.

    Attributes:
        label: What the point is.
        accuracy: Test accuracy.
        latency_ms: Mean latency per test input as the latency table predicts it
            (the network only; a controller's own time is `LatencyFront.controller_ms`).
        valid_accuracy: Accuracy on the validation data (what choices are made on).
        valid_latency_ms: Mean latency per validation input (a fixed
            architecture's is its test latency).
        cost_weight: The controller's cost weight (None for a fixed architecture).
        seed: The controller's seed (None for a fixed architecture).
        dna: The fixed architecture's picks (None for a controller).
        routes: How many test inputs the controller sends to each architecture
            (named by its picks, "0-3-3"), most used first (None for a fixed one).
    """

    label: str
    accuracy: float
    latency_ms: float
    valid_accuracy: float
    valid_latency_ms: float
    cost_weight: float | None = None
    seed: int | None = None
    dna: dict[str, int] | None = None
    routes: dict[str, int] | None = None


def pareto_points(points: Sequence[FrontPoint], on: str = "test") -> list[FrontPoint]:
    """The points no other point beats on both accuracy and latency, fastest first,
    judged on the test figures or (`on="valid"`) on the validation figures.

    >>> a, b, c = (FrontPoint(n, acc, ms, acc, ms) for n, acc, ms in
    ...            [("a", 0.8, 1.0), ("b", 0.7, 2.0), ("c", 0.9, 3.0)])
    >>> [p.label for p in pareto_points([a, b, c])]
    ['a', 'c']

    Raises:
        FieldValueError: If `on` is neither "test" nor "valid".
    """
    if on not in ("test", "valid"):
        raise FieldValueError(f"`on` must be 'test' or 'valid', got {on!r}", path="on")

    def figures(p: FrontPoint) -> tuple[float, float]:
        return (
            (p.accuracy, p.latency_ms) if on == "test" else (p.valid_accuracy, p.valid_latency_ms)
        )

    front: list[FrontPoint] = []
    for point in sorted(points, key=lambda p: (figures(p)[1], -figures(p)[0])):
        if not front or figures(point)[0] > figures(front[-1])[0]:
            front.append(point)
    return front


@dataclass
class LatencyFront:
    """Per-input controllers (one per cost weight and seed) beside single fixed architectures.

    Attributes:
        instance: One point per cost weight and seed: the controller's greedy
            per-input paths.
        fixed: The fixed architectures scored with the same shared weights.
        best: The fixed architecture most accurate on the validation data
            ("the single best architecture").
        controller_ms: The controller's own forward time per batch of the
            table's batch size, measured as the table was.
        table: The latency table every latency comes from (with its method).
        results: The trained controllers, in the order of `instance`.
    """

    instance: list[FrontPoint]
    fixed: list[FrontPoint]
    best: FrontPoint
    controller_ms: float
    table: LatencyTable
    results: list[InstanceResult] = field(default_factory=list)

    def pareto(self, fixed: bool = False, on: str = "valid") -> list[FrontPoint]:
        """The non-dominated per-input points (or fixed architectures), fastest first,
        chosen on the validation figures (or `on="test"`)."""
        return pareto_points(self.fixed if fixed else self.instance, on)

    def at_equal_accuracy(
        self, tolerance: float = 0.0, with_controller: bool = False
    ) -> tuple[FrontPoint | None, float | None]:
        """The per-input point that matches the best fixed architecture's accuracy
        at the lowest latency, and its latency reduction on test.

        The point is chosen on the validation data, as `best` is: the fastest
        per-input point (on validation) whose validation accuracy is at least
        the best's less `tolerance`. The reduction is 1 - its test latency / the
        best's; its test accuracy is `point.accuracy` (to set beside
        `best.accuracy`). `(None, None)` if no point is that accurate. With
        `with_controller`, the controller's own time counts in its latency.
        """
        level = self.best.valid_accuracy - tolerance
        reaching = [p for p in self.instance if p.valid_accuracy >= level]
        if not reaching:
            return None, None
        point = min(reaching, key=lambda p: (p.valid_latency_ms, -p.valid_accuracy))
        extra = self.controller_ms if with_controller else 0.0
        return point, 1.0 - (point.latency_ms + extra) / self.best.latency_ms

    def to_json(self) -> dict[str, Any]:
        """The front, the table and its method as a JSON-ready dict (what `save` writes)."""
        return {
            "instance": [asdict(p) for p in self.instance],
            "fixed": [asdict(p) for p in self.fixed],
            "best": asdict(self.best),
            "controller_ms": self.controller_ms,
            "table": self.table.to_json(),
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes `to_json()` to `path`: the result together with the table and its method."""
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


class _Greedy(nn.Module):
    def __init__(self, controller: InstanceController) -> None:
        super().__init__()
        self.controller = controller

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.controller.greedy(x)


def _all_architectures(supernet: Supernet, limit: int) -> list[DNA]:
    size = supernet.spec.size
    if size > limit:
        raise FieldValueError(
            f"the space has {size} architectures, more than `max_fixed` ({limit}): give the "
            "fixed architectures to compare with in `fixed`",
            path="fixed",
        )
    return list(supernet.spec.iter_dna())


def _routes(supernet: Supernet, controller: InstanceController, data: ImageData) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for start in range(0, len(data), 500):
        picks = controller.greedy(data.x[start : start + 500])
        columns = [picks[i].tolist() for i in supernet.decision_ids]
        counts.update("-".join(str(k) for k in row) for row in zip(*columns, strict=True))
    return dict(counts.most_common())


def _fixed_points(
    supernet: Supernet,
    valid: ImageData,
    test: ImageData,
    table: LatencyTable,
    architectures: list[DNA],
) -> list[FrontPoint]:
    points = []
    for dna in architectures:
        valid_accuracy, _ = _per_input_pass(supernet, valid, _chooser(supernet, dna), [])
        accuracy, _ = _per_input_pass(supernet, test, _chooser(supernet, dna), [])
        picks = {i: int(dna[i]) for i in supernet.decision_ids}
        label = "fixed " + "-".join(str(k) for k in picks.values())
        ms = table.architecture_ms(dna)
        points.append(FrontPoint(label, accuracy, ms, valid_accuracy, ms, dna=picks))
    return points


def latency_front(
    supernet: Supernet,
    train: ImageData,
    valid: ImageData,
    test: ImageData,
    table: LatencyTable,
    *,
    cost_weights: Sequence[float] = (0.0, 0.02, 0.1, 0.5),
    seeds: Sequence[int] = (0,),
    fixed: Sequence[Mapping[str, Any]] | None = None,
    max_fixed: int = 1000,
    steps: int = 200,
    batch_size: int = 64,
    lr: float = 0.01,
    entropy_weight: float = 0.01,
    task_reward: str = "probability",
    baseline: str = "greedy",
    progress: bool = False,
) -> LatencyFront:
    """Trains a controller per cost weight and seed with the latency reward; scores all.

    Each controller is trained on `train` (`instance_search` with `latency=table`
    and the given settings) and its greedy per-input paths are scored on `valid`
    and `test`. The fixed architectures (`fixed`, or every architecture of the
    space if it has at most `max_fixed`) are scored with the same shared
    weights; the one most accurate on `valid` is `best`. Latencies are the
    table's predictions.

    Raises:
        FieldValueError: If `cost_weights`, `seeds` or `fixed` is empty, a cost
            weight is negative, a setting is not one of its values, or the
            space is larger than `max_fixed` without `fixed`.
        LatencyTableError: If the table does not fit the supernet.
    """
    if not cost_weights or not seeds:
        raise FieldValueError(
            "give at least one cost weight and one seed",
            path="cost_weights" if not cost_weights else "seeds",
        )
    table.check(supernet)
    architectures = (
        _all_architectures(supernet, max_fixed) if fixed is None else [DNA(d) for d in fixed]
    )
    if not architectures:
        raise FieldValueError("give at least one fixed architecture", path="fixed")
    points, results = [], []
    for weight in cost_weights:
        for seed in seeds:
            found = instance_search(
                supernet,
                train,
                valid,
                cost_weight=weight,
                latency=table,
                steps=steps,
                batch_size=batch_size,
                lr=lr,
                entropy_weight=entropy_weight,
                task_reward=task_reward,
                baseline=baseline,
                seed=seed,
                progress=progress,
            )
            accuracy, ms = evaluate_latency(supernet, found.controller, test, table)
            label = f"per-input, cost weight {weight:g}" + (
                f", seed {seed}" if len(seeds) > 1 else ""
            )
            assert found.latency_ms is not None
            routes = _routes(supernet, found.controller, test)
            points.append(
                FrontPoint(
                    label,
                    accuracy,
                    ms,
                    found.accuracy,
                    found.latency_ms,
                    weight,
                    seed,
                    None,
                    routes,
                )
            )
            results.append(found)
    fixed_points = _fixed_points(supernet, valid, test, table, architectures)
    best = max(fixed_points, key=lambda p: (p.valid_accuracy, -p.latency_ms))
    controller_ms = measure_forward(
        _Greedy(results[0].controller),
        tuple(int(d) for d in train.x.shape[1:]),
        batch_size=int(table.method.get("batch_size", 1)),
        threads=int(table.method.get("threads", 1)),
        clock=str(table.method.get("clock", "wall")),
        seed=seeds[0],
    )
    return LatencyFront(points, fixed_points, best, controller_ms, table, results)
