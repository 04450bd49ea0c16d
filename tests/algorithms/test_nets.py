"""The numpy kit: exact gradients (checked numerically), Adam, softmax helpers."""

from __future__ import annotations

import numpy as np
import pytest

from automorph.algorithms.models import (
    Adam,
    Array,
    Dense,
    Embedding,
    LSTMCell,
    Params,
    clip_grads,
    entropy_grad,
    log_softmax,
    softmax,
    zero_grads,
)

TOKENS = [3, 0, 2, 4, 1]
TARGETS = [1, 2, 0, 2, 1]


def _model() -> tuple[Embedding, LSTMCell, Dense, Params]:
    rng = np.random.default_rng(0)
    params: Params = {}
    emb, cell, head = Embedding("emb", 5, 3), LSTMCell("lstm", 3, 4), Dense("head", 4, 3)
    emb.init(params, rng, scale=0.5)
    cell.init(params, rng)
    head.init(params, rng)
    return emb, cell, head, params


def _loss_and_grads(params: Params) -> tuple[float, Params]:
    """Cross-entropy of an unrolled LSTM over TOKENS, with exact BPTT."""
    emb, cell, head, _ = _model()
    grads = zero_grads(params)
    h, c = np.zeros(4), np.zeros(4)
    caches = []
    loss = 0.0
    for token, target in zip(TOKENS, TARGETS, strict=True):
        x, e_cache = emb.forward(params, token)
        (h, c), l_cache = cell.forward(params, x, h, c)
        logits, d_cache = head.forward(params, h)
        log_p = log_softmax(logits)
        loss -= float(log_p[target])
        d_logits = np.exp(log_p)
        d_logits[target] -= 1.0
        caches.append((e_cache, l_cache, d_cache, d_logits))
    dh, dc = np.zeros(4), np.zeros(4)
    for e_cache, l_cache, d_cache, d_logits in reversed(caches):
        dh = dh + head.backward(params, grads, d_cache, d_logits)
        dx, dh, dc = cell.backward(params, grads, l_cache, dh, dc)
        emb.backward(params, grads, e_cache, dx)
    return loss, grads


def test_backprop_through_time_matches_numerical_gradients() -> None:
    *_, params = _model()
    _, grads = _loss_and_grads(params)
    eps = 1e-6
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            up, _ = _loss_and_grads(params)
            value[index] = saved - eps
            down, _ = _loss_and_grads(params)
            value[index] = saved
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-7, err_msg=name)
    assert np.abs(grads["lstm.w"]).sum() > 0.0  # the check is not vacuous


def test_dense_backward_sums_over_a_batch() -> None:
    rng = np.random.default_rng(1)
    params: Params = {}
    layer = Dense("d", 3, 2)
    layer.init(params, rng)
    x = rng.normal(size=(4, 3))
    y, cache = layer.forward(params, x)
    grads = zero_grads(params)
    dx = layer.backward(params, grads, cache, np.ones_like(y))
    np.testing.assert_allclose(grads["d.w"], x.sum(axis=0)[:, None] * np.ones((1, 2)))
    np.testing.assert_allclose(grads["d.b"], [4.0, 4.0])
    assert dx.shape == (4, 3)


def test_entropy_gradient_matches_numerical_gradient() -> None:
    logits = np.array([0.3, -1.2, 2.0, 0.0])

    def entropy(z: Array) -> float:
        return entropy_grad(softmax(z))[0]

    value, grad = entropy_grad(softmax(logits))
    eps = 1e-6
    numeric = [
        (entropy(logits + eps * np.eye(4)[k]) - entropy(logits - eps * np.eye(4)[k])) / (2 * eps)
        for k in range(4)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    assert 0.0 < value < np.log(4)


def test_masked_softmax_gives_zero_probability_to_masked_entries() -> None:
    mask = np.array([True, False, True])
    probs = softmax(np.array([1.0, 50.0, 1.0]), mask)
    np.testing.assert_allclose(probs, [0.5, 0.0, 0.5])
    assert log_softmax(np.array([1.0, 2.0]), np.array([False, True]))[1] == 0.0


def test_adam_minimizes_a_quadratic_and_is_deterministic() -> None:
    def run() -> tuple[Params, Adam]:
        params = {"x": np.array([3.0, -2.0])}
        opt = Adam(learning_rate=0.1)
        for _ in range(300):
            opt.step(params, {"x": 2.0 * params["x"]})
        return params, opt

    (a, opt_a), (b, opt_b) = run(), run()
    assert np.abs(a["x"]).max() < 0.05
    assert a["x"].tobytes() == b["x"].tobytes()
    assert opt_a.state()["t"] == 300
    assert opt_a.state()["m"]["x"].tobytes() == opt_b.state()["m"]["x"].tobytes()


def test_clip_grads_scales_to_the_max_norm() -> None:
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert clip_grads(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose([grads["a"][0], grads["b"][0]], [0.6, 0.8])
    small = {"a": np.array([0.1])}
    clip_grads(small, 1.0)
    assert small["a"][0] == 0.1
