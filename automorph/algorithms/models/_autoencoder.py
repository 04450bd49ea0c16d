"""A DNA autoencoder: DNA of a space to a continuous vector and back, in numpy.

`DNAAutoencoder` maps the feature vector of a DNA (`DNAEncoder`: one-hot
blocks for choices and small ints, numbers in [0, 1] for the rest) through a
perceptron with one tanh hidden layer to a point of the cube
`[-1, 1]^latent_dim` (a tanh output), and a second perceptron maps such a
point back to scores in the feature layout, from which `DNAEncoder.decode`
reads a valid DNA.

Pre-training (`pretrain`) fits both on DNA drawn at random from the space:
softmax cross-entropy on every one-hot block and squared error on every
number column, counted only where the decision is active, with Gaussian
noise added to the codes while training (a denoising autoencoder) so that
the points between codes decode to nearby DNA, minimized with `Adam` on
mini-batches. Everything is drawn from one seeded generator, so the same
seed and settings give the same weights; `pretrained` caches the result per
(space, seed, settings) within a process.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from automorph.algorithms.models._encoder import DNAEncoder
from automorph.algorithms.models._nets import Adam, Array, Dense, Params, zero_grads
from automorph.geno import DNA, Space

_CACHE: OrderedDict[tuple[Any, ...], DNAAutoencoder] = OrderedDict()
_CACHE_SIZE = 16
_MAX_ONE_HOT_INT = 16


class DNAAutoencoder:
    """An encoder and decoder between DNA and `[-1, 1]^latent_dim` (see the module docstring).

    Args:
        spec: The space (without custom decisions).
        latent_dim: The size of a code.
        hidden: The width of the hidden layer of each perceptron.
        seed: Seeds the initial weights and everything `pretrain` draws.
        who: Named in the error for a space with custom decisions.

    Raises:
        SearchSpaceError: If the space has a custom decision.

    >>> import automorph as am
    >>> spec = am.dna_spec(am.List([am.oneof([0, 1, 2]) for _ in range(3)]))
    >>> model = DNAAutoencoder(spec, latent_dim=4, seed=0)
    >>> losses = model.pretrain(samples=256, steps=600)
    >>> model.reconstruction_accuracy(samples=200, seed=1) > 0.9
    True
    >>> dna = am.DNA({"[0]": 2, "[1]": 0, "[2]": 1})
    >>> model.decode(model.encode([dna]))[0] == dna
    True
    """

    def __init__(
        self,
        spec: Space,
        latent_dim: int = 8,
        hidden: int = 64,
        seed: int = 0,
        who: str = "DNAAutoencoder",
    ) -> None:
        self.encoder = DNAEncoder(spec, one_hot_ints=_MAX_ONE_HOT_INT, who=who)
        self.latent_dim = latent_dim
        self.rng = np.random.default_rng([seed, 0x5EED])
        d = self.encoder.width
        self._layers = [
            Dense("enc1", d, hidden),
            Dense("enc2", hidden, latent_dim),
            Dense("dec1", latent_dim, hidden),
            Dense("dec2", hidden, d),
        ]
        self.params: Params = {}
        for layer in self._layers:
            layer.init(self.params, self.rng)
        entries = self.encoder.entries
        self._blocks = [(e.columns.start, e.size) for e in entries if e.one_hot]
        self._numbers = np.array([e.columns.start for e in entries if not e.one_hot], np.int64)

    # --- forward ------------------------------------------------------------------

    def encode_features(self, x: Array) -> Array:
        """The codes of feature rows `x`."""
        enc1, enc2 = self._layers[:2]
        h = np.tanh(enc1.forward(self.params, x)[0])
        out: Array = np.tanh(enc2.forward(self.params, h)[0])
        return out

    def decode_scores(self, z: Array) -> Array:
        """Scores in the feature layout for codes `z` (logits; sigmoids for number columns)."""
        dec1, dec2 = self._layers[2:]
        out: Array = dec2.forward(self.params, np.tanh(dec1.forward(self.params, z)[0]))[0]
        if len(self._numbers):
            out[:, self._numbers] = 1.0 / (1.0 + np.exp(-out[:, self._numbers]))
        return out

    def encode(self, dnas: list[DNA]) -> Array:
        """The codes of `dnas`, one row each."""
        return self.encode_features(self.encoder.encode_all(dnas))

    def decode(self, z: Array) -> list[DNA]:
        """The valid DNA that codes `z` (rows) decode to."""
        scores = self.decode_scores(np.atleast_2d(z))
        return [self.encoder.decode(row) for row in scores]

    # --- training -----------------------------------------------------------------

    def pretrain(
        self,
        samples: int = 4096,
        steps: int = 3000,
        batch_size: int = 128,
        learning_rate: float = 3e-3,
        noise: float = 0.05,
    ) -> list[float]:
        """Fits the encoder and decoder on `samples` random DNA of the space.

        Returns:
            The mean loss of each block of 100 steps.
        """
        dnas = [self.encoder.spec.random_dna(self.rng) for _ in range(samples)]
        x = self.encoder.encode_all(dnas)
        mask = np.array([self.encoder.active_mask(d) for d in dnas])
        adam = Adam(learning_rate)
        losses: list[float] = []
        running = 0.0
        for step in range(steps):
            rows = self.rng.integers(0, samples, size=min(batch_size, samples))
            loss, grads = self._loss_and_grads(x[rows], mask[rows], noise)
            adam.step(self.params, grads)
            running += loss
            if (step + 1) % 100 == 0 or step + 1 == steps:
                losses.append(running / ((step % 100) + 1))
                running = 0.0
        return losses

    def _loss_and_grads(self, x: Array, mask: Array, noise: float) -> tuple[float, Params]:
        enc1, enc2, dec1, dec2 = self._layers
        params, n = self.params, len(x)
        h1 = np.tanh(enc1.forward(params, x)[0])
        z = np.tanh(enc2.forward(params, h1)[0])
        zn = z + noise * self.rng.standard_normal(z.shape)
        h2 = np.tanh(dec1.forward(params, zn)[0])
        out = dec2.forward(params, h2)[0]
        grad_out = np.zeros_like(out)
        loss = 0.0
        for start, width in self._blocks:
            logits = out[:, start : start + width]
            active = mask[:, start]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            target = x[:, start : start + width]
            loss -= float((active * np.log((p * target).sum(axis=1) + 1e-12)).sum())
            grad_out[:, start : start + width] = (p - target) * active[:, None]
        if len(self._numbers):
            s = 1.0 / (1.0 + np.exp(-out[:, self._numbers]))
            active = mask[:, self._numbers]
            diff = (s - x[:, self._numbers]) * active
            loss += float((diff * diff).sum())
            grad_out[:, self._numbers] = 2.0 * diff * s * (1.0 - s)
        grad_out /= n
        grads = zero_grads(params)
        g_h2 = dec2.backward(params, grads, h2, grad_out) * (1.0 - h2 * h2)
        g_z = dec1.backward(params, grads, zn, g_h2) * (1.0 - z * z)
        g_h1 = enc2.backward(params, grads, h1, g_z) * (1.0 - h1 * h1)
        enc1.backward(params, grads, x, g_h1)
        return loss / n, grads

    def reconstruction_accuracy(self, samples: int = 1000, seed: int = 1) -> float:
        """The fraction of `samples` random DNA (drawn from `seed`) that decode
        back from their codes to themselves (numbers within 1% of their range)."""
        rng = np.random.default_rng([seed, 0xACC])
        dnas = [self.encoder.spec.random_dna(rng) for _ in range(samples)]
        x = self.encoder.encode_all(dnas)
        back = self.encoder.encode_all(self.decode(self.encode_features(x)))
        ok = np.all(np.abs(back - x) <= 0.01, axis=1)
        return float(ok.mean())


def pretrained(
    spec: Space,
    seed: int,
    latent_dim: int,
    hidden: int,
    samples: int,
    steps: int,
    who: str = "NASES",
) -> DNAAutoencoder:
    """The autoencoder of `spec` pre-trained from `seed` with these settings,
    from this process's cache when it was made before.

    Raises:
        SearchSpaceError: If the space has a custom decision.
    """
    key = (spec.to_json_str(), seed, latent_dim, hidden, samples, steps)
    model = _CACHE.get(key)
    if model is None:
        model = DNAAutoencoder(spec, latent_dim, hidden, seed, who=who)
        model.pretrain(samples=samples, steps=steps)
        _CACHE[key] = model
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return model
