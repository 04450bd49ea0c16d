"""A small numpy neural-network kit: the layers and the one optimizer of the models.

Everything is float64 numpy, so a controller trained on the same data in the
same order gives the same weights bit for bit, on any machine with the same
numpy. Parameters live in one `Params` dict (name -> array) and gradients in a
dict with the same keys (`zero_grads`); a layer holds only its sizes and the
names of its parameters, so the weights can be copied, saved or rebuilt
without the layer objects.

Layers have `forward(params, ...) -> (output, cache)` and
`backward(params, grads, cache, d_output) -> d_input`; `backward` adds the
parameter gradients into `grads`. Time loops (backpropagation through time)
are written by the caller: run `LSTMCell.forward` step by step, keep the
caches, then call `LSTMCell.backward` on them in reverse order, passing each
step's gradient of the hidden and cell states back to the step before.

`Adam` is the one optimizer of the model core: the reinforcement-learning
controllers, the DNA autoencoder and the Gaussian process's hyper-parameter
fit all step with it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Params = dict[str, Array]

__all__ = [
    "Adam",
    "Array",
    "Dense",
    "Embedding",
    "LSTMCell",
    "Params",
    "clip_grads",
    "entropy_grad",
    "log_softmax",
    "softmax",
    "zero_grads",
]


def zero_grads(params: Params) -> Params:
    """A gradient dict for `params`: zeros of the same shapes, same keys."""
    return {name: np.zeros_like(value) for name, value in params.items()}


def log_softmax(logits: Array, mask: npt.NDArray[np.bool_] | None = None) -> Array:
    """Log-probabilities of a softmax over the last axis; entries where `mask`
    is False get probability 0 (log -inf)."""
    if mask is not None:
        logits = np.where(mask, logits, -np.inf)
    top = np.max(logits, axis=-1, keepdims=True)
    shifted = logits - top
    out: Array = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return out


def softmax(logits: Array, mask: npt.NDArray[np.bool_] | None = None) -> Array:
    """Probabilities of a softmax over the last axis (0 where `mask` is False)."""
    out: Array = np.exp(log_softmax(logits, mask))
    return out


def entropy_grad(probs: Array) -> tuple[float, Array]:
    """The entropy of a categorical distribution `probs` (1-D, zeros allowed)
    and its gradient with respect to the logits."""
    safe = np.where(probs > 0.0, probs, 1.0)
    log_p = np.log(safe)
    entropy = float(-np.sum(probs * log_p))
    grad: Array = -probs * (log_p + entropy)
    return entropy, grad


def clip_grads(grads: Params, max_norm: float) -> float:
    """Scales `grads` in place so their global L2 norm is at most `max_norm`;
    returns the norm before clipping."""
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    if norm > max_norm > 0.0:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm


class Dense:
    """An affine layer `y = x @ w + b` over the last axis of `x`.

    >>> rng = np.random.default_rng(0)
    >>> params: Params = {}
    >>> layer = Dense("out", 3, 2)
    >>> layer.init(params, rng)
    >>> y, cache = layer.forward(params, np.ones(3))
    >>> y.shape
    (2,)
    """

    def __init__(self, name: str, in_size: int, out_size: int) -> None:
        self.name, self.in_size, self.out_size = name, in_size, out_size
        self.w, self.b = f"{name}.w", f"{name}.b"

    def init(self, params: Params, rng: np.random.Generator, scale: float | None = None) -> None:
        """Adds the weights to `params`: normal with std `scale` (default
        1/sqrt(in_size)), zero bias."""
        std = 1.0 / math.sqrt(self.in_size) if scale is None else scale
        params[self.w] = rng.normal(0.0, std, (self.in_size, self.out_size))
        params[self.b] = np.zeros(self.out_size)

    def forward(self, params: Params, x: Array) -> tuple[Array, Array]:
        y: Array = x @ params[self.w] + params[self.b]
        return y, x

    def backward(self, params: Params, grads: Params, cache: Array, dy: Array) -> Array:
        x = cache
        x2, dy2 = x.reshape(-1, self.in_size), dy.reshape(-1, self.out_size)
        grads[self.w] += x2.T @ dy2
        grads[self.b] += dy2.sum(axis=0)
        dx: Array = dy @ params[self.w].T
        return dx


class Embedding:
    """A table of `count` vectors of `size`, looked up by index.

    >>> params: Params = {}
    >>> table = Embedding("emb", 4, 3)
    >>> table.init(params, np.random.default_rng(0))
    >>> table.forward(params, 2)[0].shape
    (3,)
    """

    def __init__(self, name: str, count: int, size: int) -> None:
        self.name, self.count, self.size = name, count, size
        self.w = f"{name}.w"

    def init(self, params: Params, rng: np.random.Generator, scale: float = 0.1) -> None:
        """Adds the table to `params`: normal entries with std `scale`."""
        params[self.w] = rng.normal(0.0, scale, (self.count, self.size))

    def forward(self, params: Params, index: int) -> tuple[Array, int]:
        row: Array = params[self.w][index].copy()
        return row, index

    def backward(self, params: Params, grads: Params, cache: int, dy: Array) -> None:
        grads[self.w][cache] += dy


LSTMCache = tuple[Array, Array, Array, Array, Array, Array, Array, Array]


class LSTMCell:
    """One step of an LSTM (input, forget and output gates, no peepholes).

    `forward(params, x, h, c)` returns the new `(h, c)` and a cache;
    `backward(params, grads, cache, dh, dc)` returns `(dx, dh_prev, dc_prev)`
    and adds the weight gradients into `grads`. The forget gate's bias starts
    at 1.

    >>> params: Params = {}
    >>> cell = LSTMCell("lstm", 3, 4)
    >>> cell.init(params, np.random.default_rng(0))
    >>> h, c = np.zeros(4), np.zeros(4)
    >>> (h, c), cache = cell.forward(params, np.ones(3), h, c)
    >>> h.shape, c.shape
    ((4,), (4,))
    """

    def __init__(self, name: str, in_size: int, hidden_size: int) -> None:
        self.name, self.in_size, self.hidden_size = name, in_size, hidden_size
        self.w, self.b = f"{name}.w", f"{name}.b"

    def init(self, params: Params, rng: np.random.Generator) -> None:
        """Adds the weights to `params` (uniform in +-1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        n = self.hidden_size
        params[self.w] = rng.uniform(-bound, bound, (self.in_size + n, 4 * n))
        bias = np.zeros(4 * n)
        bias[n : 2 * n] = 1.0
        params[self.b] = bias

    def forward(
        self, params: Params, x: Array, h: Array, c: Array
    ) -> tuple[tuple[Array, Array], LSTMCache]:
        n = self.hidden_size
        xh = np.concatenate([x, h])
        z = xh @ params[self.w] + params[self.b]
        gates = _sigmoid(z[: 3 * n])
        i, f, o = gates[:n], gates[n : 2 * n], gates[2 * n :]
        g = np.tanh(z[3 * n :])
        c_new = f * c + i * g
        tanh_c = np.tanh(c_new)
        h_new = o * tanh_c
        return (h_new, c_new), (xh, c, i, f, o, g, tanh_c, c_new)

    def backward(
        self, params: Params, grads: Params, cache: LSTMCache, dh: Array, dc: Array
    ) -> tuple[Array, Array, Array]:
        xh, c_prev, i, f, o, g, tanh_c, _ = cache
        do = dh * tanh_c
        dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
        di = dc_total * g
        df = dc_total * c_prev
        dg = dc_total * i
        dz = np.concatenate(
            [di * i * (1.0 - i), df * f * (1.0 - f), do * o * (1.0 - o), dg * (1.0 - g * g)]
        )
        grads[self.w] += np.outer(xh, dz)
        grads[self.b] += dz
        dxh = params[self.w] @ dz
        return dxh[: self.in_size], dxh[self.in_size :], dc_total * f


class Adam:
    """The Adam optimizer (Kingma & Ba), with bias correction, over a `Params` dict.

    Its state (`m`, `v`, `t`) is plain arrays and a counter, so two optimizers
    fed the same gradients in the same order stay identical.

    >>> params = {"x": np.array([1.0])}
    >>> opt = Adam(learning_rate=0.1)
    >>> opt.step(params, {"x": np.array([2.0])})
    >>> params["x"].round(6)
    array([0.9])
    """

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.m: Params = {}
        self.v: Params = {}
        self.t = 0

    def step(self, params: Params, grads: Params) -> None:
        """Moves `params` (in place) against `grads`."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        correction1 = 1.0 - b1**self.t
        correction2 = 1.0 - b2**self.t
        for name, grad in grads.items():
            m = self.m.setdefault(name, np.zeros_like(grad))
            v = self.v.setdefault(name, np.zeros_like(grad))
            m *= b1
            m += (1.0 - b1) * grad
            v *= b2
            v += (1.0 - b2) * grad * grad
            step = self.learning_rate * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
            params[name] -= step

    def state(self) -> dict[str, Any]:
        """A copy of the optimizer's state (for comparisons and snapshots)."""
        return {
            "t": self.t,
            "m": {k: v.copy() for k, v in self.m.items()},
            "v": {k: v.copy() for k, v in self.v.items()},
        }


def _sigmoid(z: Array) -> Array:
    out: Array = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out
