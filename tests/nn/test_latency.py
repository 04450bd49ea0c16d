"""Latency tables: measured per-candidate forward times, their file, their use and their errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import automorph as am

torch = pytest.importorskip("torch")
from automorph import nn as amnn  # noqa: E402


def _small() -> amnn.Supernet:
    return amnn.Supernet(
        amnn.cell_space(
            4, nodes=2, num_classes=2, input_shape=(1, 8, 8), ops=[amnn.Zero(), amnn.ConvBNReLU(4)]
        )
    )


def _heavy() -> amnn.Supernet:
    # An identity against a 5x5 convolution of 32 channels on 32x32: about 26 million
    # multiply-adds against none, so their order survives any load on the machine.
    return amnn.Supernet(
        amnn.Sequential(am.oneof([amnn.Identity(), amnn.Conv2d(32, 32, 5, padding=2)]))
    )


def test_a_measured_table_saves_and_loads_back(tmp_path: Path) -> None:
    net = _small()
    net.set_path(am.DNA({i: 1 for i in net.decision_ids}))
    table = amnn.measure_latency(net, (1, 8, 8), repeats=3, warmup=1, batch_size=2)
    assert list(table.ops) == net.decision_ids == list(table.shapes)
    assert all(len(times) == 2 and min(times) >= 0 for times in table.ops.values())
    assert table.shapes["cell.edges[0]"] == [2, 4, 4, 4]  # batch 2, after the stem's pooling
    assert table.candidates["cell.edges[0]"][1] == "ConvBNReLU(channels=4, kernel=3, dilation=1)"
    method = table.method
    assert (method["batch_size"], method["repeats"], method["warmup"]) == (2, 3, 1)
    assert method["threads"] == 1 and method["torch"] == torch.__version__
    assert method["device"] == "cpu" and method["input_shape"] == [1, 8, 8]
    assert method["clock"] == "wall" and "perf_counter" in method["timer"]
    assert {"date", "statistic", "spread", "device_name", "wrapper_ms"} <= set(method)
    # The supernet is left in the mode it was in.
    assert all(op.active == 1 and not op.relaxed for op in net.mixed_ops.values())
    path = tmp_path / "table.json"
    table.save(path)
    loaded = amnn.LatencyTable.load(path)
    assert loaded == table
    loaded.check(net)
    dna = am.DNA({"cell.edges[0]": 1, "cell.edges[1]": 0, "cell.edges[2]": 1})
    expected = table.base_ms + sum(table.ops[i][dna[i]] for i in dna)
    assert loaded.architecture_ms(dna) == pytest.approx(expected)
    picks = {i: torch.tensor([0, 1]) for i in net.decision_ids}
    per_input = loaded.per_input_ms(picks)
    assert per_input.tolist() == pytest.approx(
        [loaded.architecture_ms({i: k for i in picks}) for k in (0, 1)]
    )


def test_heavy_operations_measure_slower_and_the_sum_predicts_the_network() -> None:
    net = _heavy()
    table = amnn.measure_latency(net, (32, 32, 32), repeats=5, warmup=1, clock="cpu")
    assert table.method["clock"] == "cpu"
    identity, conv = table.ops["args[0]"]
    assert conv > 10 * identity
    checks = amnn.validate_latency(
        table, net, [{"args[0]": 0}, {"args[0]": 1}], repeats=5, warmup=1
    )
    assert [c.dna["args[0]"] for c in checks] == [0, 1]
    assert checks[1].measured_ms > 10 * checks[0].measured_ms
    assert abs(checks[1].relative_error) < 0.5  # the convolution dominates both
    assert checks[1].predicted_ms == pytest.approx(table.architecture_ms({"args[0]": 1}))
    assert amnn.LatencyCheck({}, 1.5, 1.0).relative_error == 0.5
    assert amnn.measure_forward(torch.nn.Conv2d(32, 32, 5, padding=2), (32, 32, 32)) > 0


def test_the_median_of_tables_damps_one_bad_measurement() -> None:
    net = _small()
    tables = [amnn.measure_latency(net, (1, 8, 8), repeats=2, warmup=0, seed=k) for k in range(2)]
    spoiled = amnn.LatencyTable(
        1000.0,
        {i: [1000.0, 1000.0] for i in net.decision_ids},
        tables[0].candidates,
        tables[0].shapes,
        {"date": "then"},
    )
    median = amnn.LatencyTable.median_of([*tables, spoiled])
    assert median.base_ms == pytest.approx(max(t.base_ms for t in tables))
    for i in net.decision_ids:
        assert median.ops[i] == pytest.approx([max(t.ops[i][k] for t in tables) for k in (0, 1)])
    assert median.method["tables"] == 3 and median.method["dates"][2] == "then"
    median.check(net)
    with pytest.raises(amnn.LatencyTableError, match="no tables"):
        amnn.LatencyTable.median_of([])
    other = amnn.LatencyTable(1.0, {"op": [1.0]})
    with pytest.raises(amnn.LatencyTableError, match=r"different choices .* at `tables\[1\]`"):
        amnn.LatencyTable.median_of([tables[0], other])


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_bad_files_are_named(tmp_path: Path) -> None:
    good = amnn.LatencyTable(1.0, {"op": [0.5, 2.0]}).to_json()
    with pytest.raises(amnn.LatencyTableError, match=r"bad\.json: not JSON"):
        amnn.LatencyTable.load(_write(tmp_path, "{oops"))
    with pytest.raises(amnn.LatencyTableError, match="not a latency table"):
        amnn.LatencyTable.load(_write(tmp_path, {**good, "format": "other"}))
    with pytest.raises(amnn.LatencyTableError, match="is a JSON object"):
        amnn.LatencyTable.load(_write(tmp_path, [1, 2]))
    without = {k: v for k, v in good.items() if k != "base_ms"}
    with pytest.raises(amnn.LatencyTableError, match="missing field at `base_ms`"):
        amnn.LatencyTable.load(_write(tmp_path, without))
    with pytest.raises(amnn.LatencyTableError, match=r"at least 0, got -1.0 at `ops\['op'\]\[1\]`"):
        amnn.LatencyTable.load(_write(tmp_path, {**good, "ops": {"op": [0.5, -1]}}))
    with pytest.raises(amnn.LatencyTableError, match="wrong type"):
        amnn.LatencyTable.load(_write(tmp_path, {**good, "ops": {"op": [0.5, "fast"]}}))
    with pytest.raises(amnn.LatencyTableError, match=r"expected a list.* at `ops\.op`"):
        amnn.LatencyTable.load(_write(tmp_path, {**good, "ops": {"op": 3}}))
    with pytest.raises(amnn.LatencyTableError, match="unit must be 'ms'"):
        amnn.LatencyTable.load(_write(tmp_path, {**good, "unit": "s"}))
    with pytest.raises(FileNotFoundError):
        amnn.LatencyTable.load(tmp_path / "nowhere.json")
    with pytest.raises(amnn.LatencyTableError, match="at least one choice"):
        amnn.LatencyTable(1.0, {})
    with pytest.raises(amnn.LatencyTableError, match="2 candidates described, 1 timed"):
        amnn.LatencyTable(1.0, {"op": [1.0]}, candidates={"op": ["a", "b"]})
    with pytest.raises(amnn.LatencyTableError, match="`shapes` names choices"):
        amnn.LatencyTable(1.0, {"op": [1.0]}, shapes={"other": [1]})


def test_a_table_that_does_not_fit_is_refused() -> None:
    net = _small()
    measured = amnn.measure_latency(net, (1, 8, 8), repeats=2, warmup=0)
    first = {"cell.edges[0]": measured.ops["cell.edges[0]"]}
    where = r"no entry for this choice.* `cell\.edges\[1\]`"
    with pytest.raises(amnn.LatencyTableError, match=where):
        amnn.LatencyTable(measured.base_ms, first).check(net)
    with pytest.raises(amnn.LatencyTableError, match="times 3 candidates, the supernet has 2"):
        amnn.LatencyTable(1.0, {i: [1.0, 1.0, 1.0] for i in net.decision_ids}).check(net)
    wrong = {i: ["Zero(args=[], kwargs={})", "Identity()"] for i in net.decision_ids}
    with pytest.raises(amnn.LatencyTableError, match=r"candidate 1 is ConvBNReLU.* timed Identity"):
        amnn.LatencyTable(1.0, measured.ops, candidates=wrong).check(net)
    extra = {**measured.ops, "head": [1.0]}
    with pytest.raises(amnn.LatencyTableError, match="does not have: \\['head'\\]"):
        amnn.LatencyTable(1.0, extra).check(net)
    with pytest.raises(amnn.LatencyTableError, match=r"makes no pick here at `cell\.edges\[2\]`"):
        measured.architecture_ms({"cell.edges[0]": 0, "cell.edges[1]": 0})
    with pytest.raises(amnn.LatencyTableError, match="candidate 5 is not in the table"):
        measured.architecture_ms(dict.fromkeys(net.decision_ids, 5))
    with pytest.raises(amnn.LatencyTableError, match="no per-input pick given"):
        measured.per_input_ms({})
    nested = amnn.Supernet(
        amnn.Sequential(
            am.oneof([amnn.Identity(), amnn.Sequential(am.oneof([amnn.ReLU(), amnn.Identity()]))])
        )
    )
    with pytest.raises(am.SearchSpaceError, match="without nested choices"):
        amnn.measure_latency(nested, (4,))
    with pytest.raises(ValueError, match=r"`repeats` \(0\) must be at least 1"):
        amnn.measure_latency(net, (1, 8, 8), repeats=0)
    with pytest.raises(ValueError, match=r"`clock` must be one of \['cpu', 'wall'\], got 'sun'"):
        amnn.measure_latency(net, (1, 8, 8), clock="sun")
    with pytest.raises(ValueError, match="the 'cpu' clock times one thread on the CPU; got 2"):
        amnn.measure_forward(torch.nn.Identity(), (3,), clock="cpu", threads=2)
    with pytest.raises(amnn.LatencyTableError, match="does not record its input shape"):
        amnn.validate_latency(amnn.LatencyTable(1.0, measured.ops), net, [])
