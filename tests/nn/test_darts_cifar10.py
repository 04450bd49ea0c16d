"""benchmarks/darts_cifar10.py: its smoke run (the GPU pipeline's code on the CPU) and data."""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from automorph import nn as amnn  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "darts_cifar10.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_darts_cifar10", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_smoke_run_searches_selects_and_evaluates(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "smoke.json"
    assert script.main(["--smoke", "--searches", "2", "--order", "2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["device"] == "cpu" and len(result["searches"]) == 2
    for run in result["searches"]:
        genotype = amnn.parse_genotype(run["genotype"])
        assert amnn.nb301_encode(genotype) == [[tuple(p) for p in c] for c in run["nb301_encoding"]]
        assert 0.0 <= run["selection"]["accuracy"] <= 1.0
    chosen = max(result["searches"], key=lambda run: run["selection"]["accuracy"])
    assert result["genotype"] == chosen["genotype"]
    (evaluation,) = result["evaluations"]
    assert 0.0 <= evaluation["error_percent"] <= 100.0 and evaluation["params"] > 0
    assert result["paper"] == {"error_mean": 2.76, "error_std": 0.09, "order": 2}
    text = capsys.readouterr().out
    assert "[search seed 1] step 2/2" in text and "[evaluate run 0] epoch 2/2" in text
    assert "paper (CIFAR-10, order 2, 10 runs): 2.76 +- 0.09 %" in text


def test_a_given_cell_skips_the_search(script: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "given.json"
    assert (
        script.main(["--smoke", "--genotype", "darts_v2", "--skip-eval", "--json", str(out)]) == 0
    )
    result = json.loads(out.read_text())
    assert result["searches"] == [] and "evaluations" not in result
    assert amnn.parse_genotype(result["genotype"]) == amnn.parse_genotype(script.DARTS_V2)
    random = script.given_genotype("random", 3)
    assert random == script.given_genotype("random", 3) != script.given_genotype("random", 4)


def _fake_release(folder: Path, per_batch: int = 4) -> None:
    """The CIFAR-10 python release's files, with `per_batch` images in each batch."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, per_batch).tolist(),
        }
        (folder / name).write_bytes(pickle.dumps(batch))
    meta = {b"label_names": [f"class{i}".encode() for i in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))


def test_cifar10_is_read_from_the_python_release(script: ModuleType, tmp_path: Path) -> None:
    _fake_release(tmp_path / "cifar-10-batches-py")
    for path in (tmp_path, tmp_path / "cifar-10-batches-py"):  # torchvision's root, or the folder
        data = script.load_cifar10(path)
        assert len(data.train) == 20 and len(data.test) == 4 and data.train.shape == (3, 32, 32)
        assert -3.0 < float(data.train.x.min()) < 0.0 < float(data.train.x.max()) < 3.0
    with pytest.raises(SystemExit, match="CIFAR-10 is not shipped: pass --data"):
        script.main([])


def test_augmentation_crops_flips_and_cuts_out_reproducibly(script: ModuleType) -> None:
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8) + 1.0
    out = script.Augment(0, pad=0, cutout=0)(x)
    # no crop: each image is itself or its mirror
    for i in range(2):
        assert torch.equal(out[i], x[i]) or torch.equal(out[i], x[i].flip(-1))
    cropped = script.Augment(1, pad=2)(x)
    assert cropped.shape == x.shape
    assert torch.equal(cropped, script.Augment(1, pad=2)(x))  # same seed, same draws
    holes = script.Augment(2, pad=0, cutout=4)(torch.ones(64, 1, 8, 8))
    zeros = (holes == 0).flatten(1).sum(1)
    assert int(zeros.min()) >= 4 and int(zeros.max()) <= 16  # a 4x4 square, clipped at edges
    assert int((zeros == 16).sum()) > 0
