"""Every registered algorithm, and notable configurations, pass the contract suite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from automorph import algorithms
from automorph.testing import check_algorithm, contract_spaces

VARIANTS: dict[str, Callable[[int], algorithms.SearchAlgorithm]] = {
    "random(dedup)": lambda seed: algorithms.Random(seed=seed, dedup=True),
    "grid(float_points=3)": lambda seed: algorithms.Grid(seed=seed, float_points=3),
    # Auto's other choices: GP-BO (numeric space), grid (multi_pick space) ...
    "auto(budget=100)": lambda seed: algorithms.Auto(seed=seed, budget=100),
    # ... and NSGA-II (multi-objective)
    "auto(multi_objective)": lambda seed: algorithms.Auto(seed=seed, multi_objective=True),
    # CMA-ES takes over within the checks' 24 to 40 proposals, some still in flight
    "gp_bo_cmaes(gp_trials=6)": lambda seed: algorithms.GPBOThenCMAES(seed=seed, gp_trials=6),
}


@pytest.mark.parametrize("name", algorithms.names())
def test_registered_algorithm_passes_the_contract(name: str) -> None:
    check_algorithm(lambda seed: algorithms.create(name, seed=seed))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_passes_the_contract(variant: str) -> None:
    check_algorithm(VARIANTS[variant])


def test_the_contract_catches_an_algorithm_that_forgets_its_state() -> None:
    class Forgetful(algorithms.Random):
        """De-duplicates, but does not rebuild what it has seen on recover."""

        def _replay(self, dna: algorithms.SearchAlgorithm, reward: object) -> None:  # type: ignore[override]
            pass

    with pytest.raises(AssertionError, match="after recover"):
        check_algorithm(
            lambda seed: Forgetful(seed=seed, dedup=True),
            {
                "small": contract_spaces()["choices"],
            },
        )
