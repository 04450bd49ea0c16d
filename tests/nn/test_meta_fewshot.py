"""Auto-Meta on few-shot image classification: episodes, conv learners, MAML, search."""

from __future__ import annotations

from pathlib import Path

import pytest

import automorph as am
from automorph import algorithms

torch = pytest.importorskip("torch")
from automorph import nn as amnn  # noqa: E402


def synthetic(classes: int, per_class: int, seed: int, side: int = 8) -> amnn.ImageData:
    """Each class a random prototype image plus noise, `per_class` images of it."""
    generator = torch.Generator().manual_seed(seed)
    prototypes = torch.rand(classes, 1, side, side, generator=generator)
    y = torch.arange(classes).repeat_interleave(per_class)
    x = prototypes[y] + 0.3 * torch.randn(len(y), 1, side, side, generator=generator)
    return amnn.ImageData(x, y)


def splits(ways: int = 5, shots: int = 1, queries: int = 5) -> dict[str, amnn.EpisodeSampler]:
    data = synthetic(12, 20, seed=1)
    return amnn.episode_splits(
        data,
        data,
        train_classes=range(6),
        test_classes=range(6, 12),
        ways=ways,
        shots=shots,
        queries=queries,
    )


def test_an_episode_has_n_ways_k_shots_and_distinct_images() -> None:
    data = synthetic(8, 10, seed=0)
    sampler = amnn.EpisodeSampler(data, [1, 3, 5, 7], ways=3, shots=2, queries=4)
    for episode in sampler.episodes(20, seed=3):
        assert episode.support_x.shape == (6, 1, 8, 8) and episode.query_x.shape == (12, 1, 8, 8)
        assert episode.support_y.tolist() == [0, 0, 1, 1, 2, 2]
        assert episode.query_y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
        assert len(set(episode.classes)) == 3 and set(episode.classes) <= {1, 3, 5, 7}
        # label i stands for class classes[i]: its images are that class's, none repeated
        for label, cls in enumerate(episode.classes):
            images = torch.cat(
                [
                    episode.support_x[episode.support_y == label],
                    episode.query_x[episode.query_y == label],
                ]
            )
            rows = [(data.x == img).flatten(1).all(1).nonzero().item() for img in images]
            assert len(set(rows)) == 6 and all(int(data.y[r]) == cls for r in rows)


def test_episodes_are_reproducible_from_their_seed_and_relabel_classes() -> None:
    sampler = amnn.EpisodeSampler(synthetic(6, 10, seed=0), range(6), ways=5, shots=1, queries=2)
    first = list(sampler.episodes(10, seed=7))
    again = list(sampler.episodes(10, seed=7))
    other = list(sampler.episodes(10, seed=8))
    assert all(torch.equal(a.query_x, b.query_x) for a, b in zip(first, again, strict=True))
    assert [e.classes for e in first] == [e.classes for e in again]
    assert [e.classes for e in first] != [e.classes for e in other]
    # the order of the classes (which gets label 0) changes from episode to episode
    assert len({e.classes[0] for e in first}) > 1


def test_splits_keep_meta_training_and_meta_test_classes_apart() -> None:
    made = splits()
    assert made["train"].classes == made["valid"].classes == tuple(range(6))
    assert made["test"].classes == tuple(range(6, 12))
    for episode in made["test"].episodes(10):
        assert set(episode.classes) <= set(range(6, 12))
    with pytest.raises(ValueError, match=r"must be disjoint; both have \[4, 5\]"):
        amnn.episode_splits(
            synthetic(8, 5, 0), synthetic(8, 5, 0), train_classes=range(6), test_classes=range(4, 8)
        )


def test_bad_ways_shots_and_classes_are_named() -> None:
    data = synthetic(6, 4, seed=0)
    with pytest.raises(ValueError, match=r"`ways` \(1\) must be at least 2"):
        amnn.EpisodeSampler(data, range(6), ways=1)
    with pytest.raises(ValueError, match=r"`shots` \(0\) must be at least 1"):
        amnn.EpisodeSampler(data, range(6), shots=0)
    with pytest.raises(ValueError, match=r"`queries` \(0\) must be at least 1"):
        amnn.EpisodeSampler(data, range(6), queries=0)
    with pytest.raises(ValueError, match=r"5-way episodes need at least 5 classes, got 3"):
        amnn.EpisodeSampler(data, [0, 1, 2], ways=5)
    with pytest.raises(ValueError, match=r"`classes` repeats a class: \[0, 1, 1\]"):
        amnn.EpisodeSampler(data, [0, 1, 1], ways=2)
    with pytest.raises(amnn.DataShapeError, match=r"class 0 has 4 images; .* = 6 of each"):
        amnn.EpisodeSampler(data, range(6), ways=5, shots=1, queries=5)
    with pytest.raises(amnn.DataShapeError, match=r"class 9 has 0 images"):
        amnn.EpisodeSampler(data, [0, 9], ways=2, shots=1, queries=1)


def test_the_maml_conv_net_and_every_searched_cell_classify_any_image_size() -> None:
    for size in (28, 14, 8, 5):
        net = amnn.maml_conv_learner(ways=3, filters=4, image_size=size)
        assert net(torch.zeros(2, 1, size, size)).shape == (2, 3)
    assert len(amnn.maml_conv_learner(filters=4).body) == 4 * 4  # conv, bn, relu, pool per block
    space = amnn.conv_meta_space(nodes=3, ways=4, filters=4, blocks=2, image_size=8)
    assert am.dna_spec(space).size == 6**3 * 2 * 3
    for learner in am.random_sample(space, 6, seed=0):
        assert learner(torch.rand(3, 1, 8, 8)).shape == (3, 4)
    # a node no other node reads is an output: here nodes 2 and 3 (1 feeds 2)
    cell = amnn.ConvMetaCell(["conv3", "max3", "identity"], [0, 1, 0], channels=2)
    assert cell.outputs == [2, 3]


def test_bad_cells_are_named() -> None:
    with pytest.raises(amnn.ModuleError, match=r"node j of a cell takes input 0..j"):
        amnn.ConvMetaCell(["conv3", "max3"], [0, 2])
    with pytest.raises(amnn.ModuleError, match=r"unknown operation 'conv7'"):
        amnn.ConvMetaCell(["conv7"], [0])
    with pytest.raises(ValueError, match=r"`blocks` \(0\) must be at least 1"):
        amnn.maml_conv_learner(blocks=0)


def test_meta_training_helps_on_classes_never_seen() -> None:
    made = splits()
    torch.manual_seed(1)
    net = amnn.maml_conv_learner(ways=5, filters=8, blocks=2, image_size=8)
    options = {"count": 40, "inner_steps": 1, "inner_lr": 0.1}
    before = amnn.maml_fewshot_evaluate(net, made["test"], **options)
    weights = [p.detach().clone() for p in net.parameters()]
    again = amnn.maml_fewshot_evaluate(net, made["test"], **options)
    assert again == before  # evaluation leaves the learner as it was
    assert all(torch.equal(w, p) for w, p in zip(weights, net.parameters(), strict=True))
    amnn.maml_fewshot_train(
        net, made["train"], iterations=60, meta_batch=2, inner_lr=0.1, meta_lr=0.01
    )
    after = amnn.maml_fewshot_evaluate(net, made["test"], **options)
    assert after.accuracy > before.accuracy + 0.05
    assert len(after.accuracies) == 40 and 0 < after.ci95 < 0.1


def test_first_order_maml_and_a_cpu_budget() -> None:
    made = splits(shots=2)
    net = amnn.maml_conv_learner(ways=5, filters=4, blocks=2, image_size=8)
    weights = [p.detach().clone() for p in net.parameters()]
    # a budget of 0 CPU seconds stops after the first iteration, whatever `iterations` says
    amnn.maml_fewshot_train(
        net, made["train"], iterations=10**9, first_order=True, inner_steps=2, budget_s=0.0
    )
    assert not all(torch.equal(w, p) for w, p in zip(weights, net.parameters(), strict=True))
    with pytest.raises(ValueError, match=r"`meta_batch` \(0\) must be at least 1"):
        amnn.maml_fewshot_train(net, made["train"], meta_batch=0)
    with pytest.raises(ValueError, match=r"`count` \(0\) must be at least 1"):
        amnn.maml_fewshot_evaluate(net, made["test"], count=0)


def test_the_confidence_interval_is_mamls() -> None:
    accuracies = [0.2, 0.4, 0.4, 0.6, 1.0]
    score = amnn.MetaTestScore.of(accuracies)
    values = torch.tensor(accuracies, dtype=torch.float64)
    assert score.accuracy == pytest.approx(0.52)
    assert score.ci95 == pytest.approx(1.96 * float(values.std(unbiased=False)) / 5**0.5)
    assert str(amnn.MetaTestScore.of([0.5])) == "50.00 ± 0.00%"


def test_pnas_searches_conv_cells_by_meta_validation_accuracy() -> None:
    made = splits()
    space = amnn.conv_meta_space(nodes=2, filters=4, blocks=2, image_size=8)

    def objective(learner: torch.nn.Module) -> float:
        amnn.maml_fewshot_train(learner, made["train"], iterations=2, meta_batch=1)
        return amnn.maml_fewshot_evaluate(learner, made["valid"], count=4, inner_steps=1).accuracy

    torch.manual_seed(0)
    pnas = algorithms.create("pnas", levels=2, per_level=2, seed=0)
    result = am.tune(objective, space, pnas, 4)
    assert result.num_completed == 4 and 0 < result.best_reward <= 1
    assert am.materialize(space, result.best_trial.dna)(torch.rand(2, 1, 8, 8)).shape == (2, 5)


def test_fashion_mnist_is_split_five_and_five(fashion_mnist_path: Path) -> None:
    made = amnn.fashion_mnist_episodes(fashion_mnist_path, shots=5, queries=3, size=14)
    assert set(made["train"].classes).isdisjoint(made["test"].classes)
    assert sorted(made["train"].classes + made["test"].classes) == list(range(10))
    assert len(made["train"].data) == 60000 and len(made["test"].data) == 10000
    episode = next(made["test"].episodes(1))
    assert episode.support_x.shape == (25, 1, 14, 14) and episode.query_x.shape == (15, 1, 14, 14)
    net = amnn.maml_conv_learner(filters=4, image_size=14)
    amnn.maml_fewshot_train(net, made["train"], iterations=1, meta_batch=1)
    score = amnn.maml_fewshot_evaluate(net, made["test"], count=3, inner_steps=1)
    assert len(score.accuracies) == 3


def test_the_example_searches_few_shot_learners(
    fashion_mnist_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.examples.test_examples import _load

    tiny = "--trials 3 --search-iterations 1 --final-iterations 1 --episodes 3"
    results = _load("nn_auto_meta").main(["--task", "fashion-mnist", *tiny.split()])
    assert {"found", "hand-designed"} <= set(results)
    assert len(results["found"].accuracies) == 3
    out = capsys.readouterr().out
    assert "found cell: ops [" in out and "5-way 1-shot meta-test accuracy" in out
