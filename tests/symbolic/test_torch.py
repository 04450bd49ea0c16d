"""`am.symbolize` on `torch.nn` layers: real modules with symbolic arguments."""

from __future__ import annotations

import pytest

import automorph as am

torch = pytest.importorskip("torch")

Linear = am.symbolize(torch.nn.Linear, symbolic_eq=False)
ReLU = am.symbolize(torch.nn.ReLU, symbolic_eq=False)
Sequential = am.symbolize(torch.nn.Sequential, symbolic_eq=False)


def _net() -> torch.nn.Module:
    return Sequential(Linear(4, 8), ReLU(), Linear(8, 2))


def test_symbolized_modules_are_real_modules() -> None:
    torch.manual_seed(0)
    net = _net()
    assert isinstance(net, torch.nn.Sequential)
    assert isinstance(net[0], torch.nn.Linear)
    assert len(list(net.parameters())) == 4
    assert net(torch.randn(3, 4)).shape == (3, 2)
    assert net.query(type=torch.nn.Linear).keys() == {"args[0]", "args[2]"}


def test_rebind_reinitializes_the_module_and_its_ancestors() -> None:
    net = _net()
    first = net[0]
    net.rebind({"args[2].out_features": 5})
    assert net[2].out_features == 5
    assert net(torch.randn(3, 4)).shape == (3, 5)
    assert net[0] is first  # untouched layers keep their parameters


def test_identity_equality_is_kept_for_modules() -> None:
    a, b = _net(), _net()
    assert a != b  # torch relies on identity (module sets, parameter memo)
    assert am.sym_eq(a, b)  # the symbolic arguments are equal
    # Two equal layers in one network are still two modules with own parameters.
    twin = Sequential(Linear(4, 4), Linear(4, 4))
    assert len(list(twin.parameters())) == 4


def test_json_round_trip_rebuilds_an_equivalent_network() -> None:
    net = _net()
    loaded = am.from_json_str(net.to_json_str())
    assert am.sym_eq(loaded, net)
    assert loaded(torch.randn(2, 4)).shape == (2, 2)


def test_bad_arguments_name_the_path() -> None:
    with pytest.raises(am.UnknownFieldError, match="no field 'units'") as info:
        Linear(4, 8, units=3)
    assert info.value.path == "units"
