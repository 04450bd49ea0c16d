"""automorph demo: a program as a tree that another program rewrites.

A small convolutional network is written as symbolic objects. The demo then
does what a search algorithm does to such a program, by hand: inspects it,
rewrites it (by path and by a function over the whole tree), compares the
versions, and saves and loads them exactly. (The search loop itself arrives
with the search-space issue; this demo will then run a real search.)

Run: `make demo`, or `python examples/demo.py`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

import automorph as am


class Conv(am.Object):
    filters: Annotated[int, am.Bounds(1, 4096)]
    kernel: Literal[1, 3, 5, 7] = 3
    activation: Literal["relu", "gelu", "swish"] = "relu"


class Pool(am.Object):
    size: int = 2


class Dense(am.Object):
    units: Annotated[int, am.Bounds(1, 1_000_000)]


class Network(am.Object):
    stem: Conv
    body: list[Conv | Pool]
    head: Dense
    input_channels: int = 1
    _params: int = 0

    def _on_bound(self) -> None:
        # Derived state, kept consistent by automorph after every change.
        channels, total = self.input_channels, 0
        for layer in [self.stem, *self.body]:
            if isinstance(layer, Conv):
                total += layer.kernel * layer.kernel * channels * layer.filters + layer.filters
                channels = layer.filters
        self._params = total + channels * self.head.units + self.head.units

    @property
    def num_params(self) -> int:
        return self._params


@am.symbolize
def train(
    model: Network, learning_rate: Annotated[float, am.Bounds(0.0, 1.0)], epochs: int = 3
) -> float:
    """A stand-in for training: a deterministic score from the program's shape."""
    capacity = model.num_params**0.25
    return round(capacity * learning_rate * epochs / (1.0 + 0.01 * model.num_params**0.5), 4)


def main() -> None:
    net = Network(
        stem=Conv(16, kernel=5),
        body=[Conv(32), Pool(), Conv(64), Pool()],
        head=Dense(10),
    )
    print("== the program, as a tree ==")
    print(net)
    print(f"parameters: {net.num_params:,}")

    print("\n== inspect: every convolution, by key path ==")
    for path, conv in net.query(type=Conv).items():
        print(f"  {path}: {conv!r}")

    print("\n== rewrite by path (validated, all-or-nothing) ==")
    wider = net.clone(deep=True).rebind({"body[0].filters": 48, "head.units": 20})
    print(f"  parameters now {wider.num_params:,} (derived state followed the change)")
    try:
        wider.rebind({"body[2].filters": 64, "body[0].kernel": 4})
    except am.AutomorphError as error:
        print(f"  rejected: {error}")
        print(f"  body[2].filters is still {wider.body[2].filters}: nothing changed")

    print("\n== rewrite by a function over the tree: gelu everywhere, kernels of 3 ==")
    rewritten = net.clone(deep=True).rebind(
        lambda path, value, parent: (
            Conv(value.filters, kernel=3, activation="gelu") if isinstance(value, Conv) else value
        )
    )
    print(am.diff(net, rewritten))

    print("\n== a hand-made 'search' over rewrites of the same program ==")
    experiment = train.partial(learning_rate=0.1)
    for width in (8, 16, 32, 64):
        candidate = net.clone(deep=True).rebind(
            lambda path, value, parent, w=width: value * w // 16 if path.key == "filters" else value
        )
        score = experiment(model=candidate)
        print(f"  width x{width / 16:<4} params {candidate.num_params:>8,}  score {score}")

    print("\n== exact JSON round trip (only registered types are ever constructed) ==")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "experiment.json"
        am.save(experiment.rebind(model=net), path)
        loaded = am.load(path)
        print(f"  saved {path.stat().st_size} bytes; loaded == saved: {loaded == experiment}")
        print(f"  the loaded experiment runs: score {loaded()}")
    try:
        am.from_json({"_type": "os.system", "command": "echo pwned"})
    except am.UnknownTypeError as error:
        print(f"  untrusted JSON: {error}")


if __name__ == "__main__":
    main()
