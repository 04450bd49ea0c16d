"""DARTS on CIFAR-10: the paper's search-and-evaluate pipeline, for one GPU.

Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019
(arXiv:1806.09055). What this script runs, with the paper's settings as the
defaults (appendix A.1.1 and A.2.1):

- Search: half of the 50,000 training images train the weights, the other
  half the architecture. `amnn.darts_space(C=16, layers=8)` searched by
  `amnn.darts_search` on its `DartsSupernet` (every edge a softmax mixture of
  the 7 operations and "none"; batch norms without affine parameters, on
  batch statistics) for 50 epochs at batch size 64: weights by SGD (lr
  0.025, cosine-annealed to 0, momentum 0.9, weight decay 3e-4, gradient
  norm clipped to 5), architecture by Adam (lr 3e-4, betas (0.5, 0.999),
  weight decay 1e-3), first order (`--order 1`) or second order (`--order
  2`, the unrolled gradient with the finite-difference Hessian-vector
  product, xi = the weights' learning rate). Random crops (4-pixel padding)
  and flips. The genotype is derived by the paper's rule (each node's 2
  strongest incoming edges, by their strongest operation other than "none").
- Selection (`--searches 4` as in the paper; 1 by default): each search's
  cell is trained from scratch for `--select-epochs` (paper: 100) on the
  search's training half and scored on its validation half; the best goes on.
- Evaluation: `amnn.darts_network(genotype, C=36, layers=20,
  auxiliary=True)` trained from scratch on all 50,000 training images for
  600 epochs at batch size 96 (the search's SGD settings), with cutout (16
  pixels), path dropout rising linearly to 0.2 and the auxiliary tower's
  loss weighted 0.4; test error on the 10,000 test images, over `--eval-runs`
  runs (paper: 10).

The paper's Table 1 (CIFAR-10 test error, mean and standard deviation of 10
evaluation runs of the best of 4 searches; 3.3M parameters):
DARTS first order + cutout 3.00 +- 0.14 %, DARTS second order + cutout
2.76 +- 0.09 % (1.5 and 4 GPU days of search on GTX 1080 Ti; evaluation 1.5
days per run). This script has not been run on a GPU for automorph's results
(benchmarks/results/pytorch.md says so); the search and evaluation at the
paper's sizes take roughly a GPU day or more each on current hardware.

Data: `--data` is the CIFAR-10 python release (`cifar-10-python.tar.gz`, its
`cifar-10-batches-py` folder, or the folder above it, which is torchvision's
`CIFAR10(root)` layout), read by `automorph.utils.read_cifar10_python`. With
`--dataset fashion_mnist`, `--data` is Fashion-MNIST (see
`amnn.load_fashion_mnist`), for small runs on a CPU. `--smoke` runs the same
code on tiny synthetic images on the CPU in well under a minute (the test
suite runs it).

    python benchmarks/darts_cifar10.py --data ~/data/cifar-10-batches-py --order 2 \\
        --searches 4 --eval-runs 10 --amp --json darts2.json
    python benchmarks/darts_cifar10.py --smoke
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import automorph as am
from automorph import nn as amnn
from automorph.utils import read_cifar10_python

PAPER_ERROR = {1: (3.00, 0.14), 2: (2.76, 0.09)}
"""CIFAR-10 test error (%) of DARTS + cutout, mean and standard deviation over 10
runs, by order of the approximation: Liu et al. 2019, Table 1."""

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
FASHION_MEAN, FASHION_STD = (0.2860,), (0.3530,)


# --- data ---------------------------------------------------------------------------------


@dataclass
class Data:
    """Normalized train and test images, and what they are."""

    train: amnn.ImageData
    test: amnn.ImageData
    name: str

    @property
    def channels(self) -> int:
        return self.train.shape[0]


def _normalized(pixels: np.ndarray, labels: np.ndarray, mean: Any, std: Any) -> amnn.ImageData:
    x = torch.from_numpy(pixels.astype(np.float32) / 255.0)
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return amnn.ImageData((x - m) / s, torch.from_numpy(labels.astype(np.int64)))


def load_cifar10(path: str | Path) -> Data:
    """CIFAR-10 from the python release at `path` (see the module docstring)."""
    raw = read_cifar10_python(path)
    train = _normalized(
        raw["x_train"].reshape(-1, 3, 32, 32), raw["y_train"], CIFAR_MEAN, CIFAR_STD
    )
    test = _normalized(raw["x_test"].reshape(-1, 3, 32, 32), raw["y_test"], CIFAR_MEAN, CIFAR_STD)
    return Data(train, test, "CIFAR-10")


def load_fashion_mnist(path: str | Path | None, size: int) -> Data:
    """Fashion-MNIST (normalized by its mean and deviation), average-pooled to `size`."""
    train, test = amnn.load_fashion_mnist(path)

    def norm(data: amnn.ImageData) -> amnn.ImageData:
        data = data.resized(size)
        return amnn.ImageData((data.x - FASHION_MEAN[0]) / FASHION_STD[0], data.y)

    return Data(norm(train), norm(test), f"Fashion-MNIST ({size}x{size})")


def synthetic(n_train: int, n_test: int, size: int, seed: int) -> Data:
    """Images whose class (0..9) is where a bright square is, on noise: learnable, tiny."""
    generator = torch.Generator().manual_seed(seed)

    def make(n: int) -> amnn.ImageData:
        y = torch.randint(0, 10, (n,), generator=generator)
        x = 0.5 * torch.randn(n, 3, size, size, generator=generator)
        side = max(1, size // 4)
        for i, label in enumerate(y.tolist()):
            row, col = divmod(label, 4)
            x[i, label % 3, row * side : (row + 1) * side, col * side : (col + 1) * side] += 2.0
        return amnn.ImageData(x, y)

    return Data(make(n_train), make(n_test), f"synthetic ({size}x{size})")


# --- augmentation on the device ---------------------------------------------------------


class Augment:
    """Random crop (zero padding `pad`), horizontal flip and cutout (`cutout` pixels,
    0 for none) of a batch, on the batch's device; the draws come from a seeded
    CPU generator, so a run is reproducible on any device."""

    def __init__(self, seed: int, pad: int = 4, cutout: int = 0) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.pad = pad
        self.cutout = cutout

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        g, device = self.generator, x.device
        if self.pad:
            padded = nn.functional.pad(x, (self.pad,) * 4)
            dy = torch.randint(0, 2 * self.pad + 1, (n, 1), generator=g).to(device)
            dx = torch.randint(0, 2 * self.pad + 1, (n, 1), generator=g).to(device)
            rows = (dy + torch.arange(h, device=device))[:, None, :, None]
            cols = (dx + torch.arange(w, device=device))[:, None, None, :]
            batch = torch.arange(n, device=device)[:, None, None, None]
            channel = torch.arange(x.shape[1], device=device)[None, :, None, None]
            x = padded[batch, channel, rows, cols]
        flip = (torch.rand(n, generator=g) < 0.5).to(device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        if self.cutout:
            cy = torch.randint(0, h, (n, 1, 1), generator=g).to(device)
            cx = torch.randint(0, w, (n, 1, 1), generator=g).to(device)
            ys = torch.arange(h, device=device)[None, :, None]
            xs = torch.arange(w, device=device)[None, None, :]
            half = self.cutout // 2
            hole = (ys >= cy - half) & (ys < cy + half) & (xs >= cx - half) & (xs < cx + half)
            x = x * (~hole)[:, None].to(x.dtype)
        return x


# --- training a found cell from scratch ----------------------------------------------------


@dataclass
class TrainSettings:
    """How a cell is trained from scratch (the paper's evaluation by default)."""

    cells: int = 20
    channels: int = 36
    epochs: int = 600
    batch_size: int = 96
    lr: float = 0.025
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    cutout: int = 16
    drop_path: float = 0.2
    aux_weight: float = 0.4


def _epoch(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=generator)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


@torch.no_grad()
def accuracy(model: nn.Module, data: amnn.ImageData, device: torch.device, amp: bool) -> float:
    """Top-1 accuracy of `model` (in eval mode) on `data`, 500 images at a time."""
    model.eval()
    correct = 0
    for start in range(0, len(data), 500):
        x = data.x[start : start + 500].to(device)
        y = data.y[start : start + 500].to(device)
        with torch.autocast(device.type, torch.bfloat16, enabled=amp):
            correct += int((model(x).argmax(1) == y).sum())
    return correct / max(1, len(data))


def train_cell(
    genotype: amnn.Genotype,
    train: amnn.ImageData,
    test: amnn.ImageData,
    settings: TrainSettings,
    *,
    device: torch.device,
    amp: bool,
    seed: int,
    label: str,
) -> dict[str, Any]:
    """Trains `darts_network(genotype)` from scratch on `train`; its accuracy on `test`."""
    torch.manual_seed(seed)
    s = settings
    model = amnn.darts_network(
        genotype,
        C=s.channels,
        layers=s.cells,
        num_classes=int(train.y.max()) + 1,
        in_channels=train.shape[0],
        auxiliary=s.aux_weight > 0,
    ).to(device)
    params = sum(
        p.numel() for name, p in model.named_parameters() if not name.startswith("auxiliary")
    )
    optimizer = torch.optim.SGD(
        model.parameters(), lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, s.epochs)
    augment = Augment(seed, cutout=s.cutout)
    generator = torch.Generator().manual_seed(seed)
    start, wall = time.process_time(), time.perf_counter()
    loss = torch.tensor(float("nan"))
    for epoch in range(s.epochs):
        model.drop_path_prob = s.drop_path * epoch / s.epochs
        model.train()
        for index in _epoch(len(train), s.batch_size, generator):
            x = augment(train.x[index].to(device, non_blocking=True))
            y = train.y[index].to(device, non_blocking=True)
            with torch.autocast(device.type, torch.bfloat16, enabled=amp):
                logits, aux = model.logits_and_aux(x)
                loss = nn.functional.cross_entropy(logits.float(), y)
                if aux is not None:
                    loss = loss + s.aux_weight * nn.functional.cross_entropy(aux.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            nn.utils.clip_grad_norm_(model.parameters(), s.grad_clip)
            optimizer.step()
        schedule.step()
        if epoch + 1 == s.epochs or (epoch + 1) % max(1, s.epochs // 10) == 0:
            print(
                f"[{label}] epoch {epoch + 1}/{s.epochs} loss {loss.item():.4g} "
                f"({time.perf_counter() - wall:.0f} s)",
                flush=True,
            )
    acc = accuracy(model, test, device, amp)
    return {
        "accuracy": acc,
        "error_percent": 100.0 * (1.0 - acc),
        "params": params,
        "cpu_seconds": time.process_time() - start,
        "wall_seconds": time.perf_counter() - wall,
    }


# --- search --------------------------------------------------------------------------------


@dataclass
class SearchSettings:
    """How DARTS searches (the paper's CIFAR-10 search by default)."""

    order: int = 2
    cells: int = 8
    channels: int = 16
    epochs: int = 50
    batch_size: int = 64
    lr: float = 0.025
    lr_min: float = 0.0
    arch_lr: float = 3e-4
    train_portion: float = 0.5


def split(data: amnn.ImageData, portion: float) -> tuple[amnn.ImageData, amnn.ImageData]:
    """The first `portion` of `data` and the rest (DARTS: weights on the first half)."""
    cut = int(len(data) * portion)
    if not 0 < cut < len(data):
        raise SystemExit(f"--train-portion {portion} leaves an empty half of {len(data)} images")
    return data.subset(0, cut), data.subset(cut, len(data))


def search_cell(
    data: amnn.ImageData, s: SearchSettings, *, device: torch.device, amp: bool, seed: int
) -> dict[str, Any]:
    """One DARTS search on `data` (split by `s.train_portion`); the derived genotype."""
    train, valid = split(data, s.train_portion)
    space = amnn.darts_space(
        C=s.channels, layers=s.cells, num_classes=int(data.y.max()) + 1, in_channels=data.shape[0]
    )
    per_epoch = math.ceil(len(train) / s.batch_size)
    steps = s.epochs * per_epoch
    wall = time.perf_counter()
    result = amnn.darts_search(
        space,
        train,
        valid,
        steps=steps,
        batch_size=s.batch_size,
        lr=s.lr,
        lr_min=s.lr_min,
        arch_lr=s.arch_lr,
        warmup=0,
        order=s.order,
        transform=Augment(seed),
        device=device,
        amp=amp,
        seed=seed,
        progress=amnn.Progress(f"search seed {seed}", steps, every=per_epoch),
    )
    assert result.genotype is not None
    return {
        "seed": seed,
        "genotype": str(result.genotype),
        "nb301_encoding": amnn.nb301_encode(result.genotype),
        "dna": result.dna.to_dict(),
        "supernet_valid_accuracy": result.score,
        "steps": steps,
        "cpu_seconds": result.seconds,
        "wall_seconds": time.perf_counter() - wall,
    }


# --- the pipeline --------------------------------------------------------------------------

DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
"""The paper's second-order CIFAR-10 cells (its Figures 4 and 5; `DARTS_V2` in the
authors' genotypes.py)."""


def given_genotype(text: str, seed: int) -> amnn.Genotype:
    """`--genotype`: DARTS notation, `darts_v2` (the paper's cells) or `random` (seeded)."""
    if text == "darts_v2":
        return amnn.parse_genotype(DARTS_V2)
    if text == "random":
        space = amnn.darts_space()
        dna = am.dna_spec(space).random_dna(np.random.default_rng(seed))
        return amnn.genotype_from_dna(dna, space)
    return amnn.parse_genotype(text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add = parser.add_argument
    add("--data", default=None, help="CIFAR-10 python release (or Fashion-MNIST with --dataset)")
    add("--dataset", choices=["cifar10", "fashion_mnist"], default="cifar10")
    add("--image-size", type=int, default=28, help="Fashion-MNIST pooled to this size")
    add("--smoke", action="store_true", help="tiny synthetic run on the CPU (the tests' run)")
    add("--device", default=None, help="cuda, cuda:1, cpu (default: CUDA when present)")
    add("--amp", action="store_true", help="bfloat16 autocast")
    add("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    add("--seed", type=int, default=0)
    add("--order", type=int, choices=[1, 2], default=2, help="DARTS approximation order")
    add("--genotype", default=None, help="skip the search: DARTS text, darts_v2 or random")
    add("--train-subset", type=int, default=0, help="use the first N training images only")
    add("--test-subset", type=int, default=0, help="use the first N test images only")
    add("--search-subset", type=int, default=0, help="search on the first N training images")
    add("--search-epochs", type=int, default=50)
    add("--search-cells", type=int, default=8)
    add("--search-channels", type=int, default=16)
    add("--search-batch", type=int, default=64)
    add("--search-lr-min", type=float, default=0.0, help="the authors' code uses 0.001")
    add("--arch-lr", type=float, default=3e-4)
    add("--train-portion", type=float, default=0.5)
    add("--searches", type=int, default=1, help="searches (seeds) to select from; paper: 4")
    add("--select-epochs", type=int, default=100, help="training of each searched cell")
    add("--eval-epochs", type=int, default=600)
    add("--eval-cells", type=int, default=20)
    add("--eval-channels", type=int, default=36)
    add("--eval-batch", type=int, default=96)
    add("--cutout", type=int, default=16)
    add("--drop-path", type=float, default=0.2)
    add("--aux-weight", type=float, default=0.4)
    add("--eval-runs", type=int, default=1, help="evaluation runs (seeds); paper: 10")
    add("--skip-eval", action="store_true", help="search (and select) only")
    add("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    if args.smoke:  # the same code at toy sizes, on the CPU
        args.device, args.amp = "cpu", False
        args.search_epochs, args.search_cells, args.search_channels = 1, 3, 4
        args.search_batch, args.select_epochs = 16, 1
        args.eval_epochs, args.eval_cells, args.eval_channels = 2, 3, 4
        args.eval_batch, args.cutout = 32, 4
    return args


def load(args: argparse.Namespace) -> Data:
    if args.smoke and args.data is None:
        data = synthetic(64, 48, 16, args.seed)
    elif args.dataset == "fashion_mnist":
        data = load_fashion_mnist(args.data, args.image_size)
    elif args.data is None:
        raise SystemExit(
            "CIFAR-10 is not shipped: pass --data, the python release (cifar-10-python.tar.gz "
            "from https://www.cs.toronto.edu/~kriz/cifar.html, or its extracted folder)"
        )
    else:
        data = load_cifar10(args.data)
    if args.train_subset:
        data.train = data.train.subset(0, args.train_subset)
    if args.test_subset:
        data.test = data.test.subset(0, args.test_subset)
    return data


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = amnn.resolve_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    data = load(args)
    print(f"{data.name}: {len(data.train)} training, {len(data.test)} test images on {device}")
    out: dict[str, Any] = {"dataset": data.name, "device": str(device), "args": vars(args)}
    evaluate = TrainSettings(
        cells=args.eval_cells,
        channels=args.eval_channels,
        epochs=args.eval_epochs,
        batch_size=args.eval_batch,
        cutout=args.cutout,
        drop_path=args.drop_path,
        aux_weight=args.aux_weight,
    )
    if args.genotype is not None:
        genotype = given_genotype(args.genotype, args.seed)
        out["searches"] = []
    else:
        searched = SearchSettings(
            order=args.order,
            cells=args.search_cells,
            channels=args.search_channels,
            epochs=args.search_epochs,
            batch_size=args.search_batch,
            lr_min=args.search_lr_min,
            arch_lr=args.arch_lr,
            train_portion=args.train_portion,
        )
        pool = data.train.subset(0, args.search_subset) if args.search_subset else data.train
        runs = [
            search_cell(pool, searched, device=device, amp=args.amp, seed=args.seed + i)
            for i in range(args.searches)
        ]
        for run in runs:
            print(
                f"search seed {run['seed']}: {run['genotype']} "
                f"({run['cpu_seconds']:.0f} s CPU, {run['wall_seconds']:.0f} s wall)"
            )
        out["searches"] = runs
        best = runs[0]
        if len(runs) > 1:  # the paper's selection: a short training from scratch
            train, valid = split(pool, args.train_portion)
            select = TrainSettings(**{**vars(evaluate), "epochs": args.select_epochs})
            for run in runs:
                run["selection"] = train_cell(
                    amnn.parse_genotype(run["genotype"]),
                    train,
                    valid,
                    select,
                    device=device,
                    amp=args.amp,
                    seed=args.seed,
                    label=f"select seed {run['seed']}",
                )
            best = max(runs, key=lambda run: run["selection"]["accuracy"])
        genotype = amnn.parse_genotype(best["genotype"])
    out["genotype"] = str(genotype)
    print(f"cell: {genotype}")
    if not args.skip_eval:
        results = [
            train_cell(
                genotype,
                data.train,
                data.test,
                evaluate,
                device=device,
                amp=args.amp,
                seed=args.seed + i,
                label=f"evaluate run {i}",
            )
            for i in range(args.eval_runs)
        ]
        errors = [r["error_percent"] for r in results]
        mean = statistics.fmean(errors)
        std = statistics.stdev(errors) if len(errors) > 1 else 0.0
        out.update(evaluations=results, error_mean=mean, error_std=std)
        paper_mean, paper_std = PAPER_ERROR[args.order]
        kind = "given cell" if args.genotype is not None else f"DARTS order {args.order}"
        print(
            f"{kind} on {data.name}: test error {mean:.2f} +- {std:.2f} % over "
            f"{len(errors)} run(s), {results[0]['params']:,} parameters"
        )
        print(
            f"paper (CIFAR-10, order {args.order}, 10 runs): {paper_mean:.2f} +- "
            f"{paper_std:.2f} % (Liu et al. 2019, Table 1)"
        )
        out["paper"] = {"error_mean": paper_mean, "error_std": paper_std, "order": args.order}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
