"""GP-BO then CMA-ES: the switch, the warm start, proposals in flight, errors."""

from __future__ import annotations

import numpy as np
import pytest

import automorph as am
from automorph import algorithms
from automorph.utils import FieldValueError, SearchSpaceError

SPACE = am.dna_spec(am.Dict(x=am.floatv(-5.0, 5.0), y=am.floatv(-5.0, 5.0)))
OPTIMUM = np.array([1.5, -2.0])


def value(dna: am.DNA) -> float:
    """A rotated ellipsoid (condition 100) with its minimum at OPTIMUM."""
    z = np.array([dna["x"], dna["y"]]) - OPTIMUM
    u, v = (z[0] + z[1]) / np.sqrt(2.0), (z[0] - z[1]) / np.sqrt(2.0)
    return float(u**2 + 100.0 * v**2)


def search(algorithm: algorithms.SearchAlgorithm, trials: int) -> float:
    algorithm.setup(SPACE)
    best = np.inf
    for _ in range(trials):
        dna = algorithm.propose()
        best = min(best, value(dna))
        algorithm.feedback(dna, -value(dna))
    return best


def test_cmaes_takes_over_after_the_gp_phase_from_its_best_trials() -> None:
    hybrid = algorithms.GPBOThenCMAES(seed=3, gp_trials=25, gamma=0.2)
    hybrid.setup(SPACE)
    seen = []
    for _ in range(25):
        assert hybrid.phase == "gp_bo"
        dna = hybrid.propose()
        seen.append((value(dna), dna))
        hybrid.feedback(dna, -value(dna))
    assert hybrid.phase == "cmaes" and hybrid.gp_bo.num_feedback == 25
    assert hybrid.cmaes.num_proposed == 0
    # The first distribution's mean is the mean of the best fifth (5) of the GP trials.
    best = sorted(seen, key=lambda t: t[0])[:5]
    expected = np.mean([[d["x"], d["y"]] for _, d in best], axis=0)
    mean = hybrid.cmaes.mean_dna()
    assert np.allclose([mean["x"], mean["y"]], expected, atol=1e-9)
    dna = hybrid.propose()
    assert hybrid.cmaes.num_proposed == 1
    hybrid.feedback(dna, -value(dna))


def test_it_beats_random_search() -> None:
    hybrid = [search(algorithms.GPBOThenCMAES(seed=s, gp_trials=30), 150) for s in range(3)]
    rand = [search(algorithms.Random(seed=s), 150) for s in range(3)]
    assert max(hybrid) < min(rand)
    assert np.median(hybrid) < 0.01 < min(rand)  # CMA-ES converges where random search cannot


def test_with_the_lq_surrogate_cmaes_models_the_gp_phase_and_converges_sooner() -> None:
    hybrid = algorithms.GPBOThenCMAES(seed=1, gp_trials=12, surrogate="lq")
    search(hybrid, 12)
    assert hybrid.phase == "cmaes" and len(hybrid.cmaes._model) == 12
    lq = [
        search(algorithms.GPBOThenCMAES(seed=s, gp_trials=12, surrogate="lq"), 60) for s in range(3)
    ]
    plain = [search(algorithms.GPBOThenCMAES(seed=s, gp_trials=12), 60) for s in range(3)]
    assert np.median(lq) < np.median(plain) / 100, (lq, plain)


@pytest.mark.parametrize("surrogate", [None, "lq"])
def test_proposals_in_flight_at_the_switch_become_cmaes_members(surrogate: str | None) -> None:
    hybrid = algorithms.GPBOThenCMAES(seed=0, gp_trials=6, surrogate=surrogate)
    follower = algorithms.GPBOThenCMAES(seed=0, gp_trials=6, surrogate=surrogate)
    hybrid.setup(SPACE)
    follower.setup(SPACE)

    def feedback(dna: am.DNA) -> None:
        hybrid.feedback(dna, -value(dna))
        follower.feedback(dna, -value(dna))

    first = [hybrid.propose() for _ in range(6)]
    extra = [hybrid.propose() for _ in range(3)]  # the GP phase has no result yet
    for dna in first + extra:
        follower.replay_proposal(dna)
    assert hybrid.phase == "gp_bo" and hybrid.gp_bo.num_proposed == 9
    feedback(extra[0])  # an extra one's result comes first
    hybrid.discard(first[0])
    follower.discard(first[0])
    for dna in first[1:]:
        feedback(dna)
    assert hybrid.phase == "cmaes"
    assert hybrid.cmaes.num_proposed == 3 and hybrid.cmaes.num_feedback == 1
    for dna in extra[1:]:  # later results go to CMA-ES
        feedback(dna)
    assert hybrid.cmaes.num_feedback == 3
    assert [follower.propose() for _ in range(8)] == [hybrid.propose() for _ in range(8)]


def test_recover_reaches_the_live_state_across_the_switch() -> None:
    live = algorithms.GPBOThenCMAES(seed=5, gp_trials=8)
    live.setup(SPACE)
    history = []
    for _ in range(20):
        dna = live.propose()
        live.feedback(dna, -value(dna))
        history.append((dna, -value(dna)))
    revived = algorithms.GPBOThenCMAES(seed=5, gp_trials=8)
    revived.setup(SPACE)
    revived.recover(history)
    assert revived.phase == live.phase == "cmaes"
    assert [revived.propose() for _ in range(10)] == [live.propose() for _ in range(10)]


def test_a_gp_phase_without_results_starts_cmaes_at_the_centre() -> None:
    hybrid = algorithms.GPBOThenCMAES(seed=0, gp_trials=3)
    hybrid.setup(SPACE)
    for _ in range(3):
        hybrid.discard(hybrid.propose())
    assert hybrid.phase == "cmaes"
    mean = hybrid.cmaes.mean_dna()
    assert mean["x"] == pytest.approx(0.0) and mean["y"] == pytest.approx(0.0)


def test_the_gp_phase_is_twenty_trials_per_coordinate_by_default() -> None:
    def phase(space: am.Dict) -> int:
        hybrid = algorithms.GPBOThenCMAES(seed=0)
        hybrid.setup(am.dna_spec(space))
        return int(hybrid._gp_trials)

    assert phase(am.Dict(x=am.floatv(0.0, 1.0))) == 20
    assert phase(am.Dict(x=am.floatv(0.0, 1.0), c=am.oneof("abc"))) == 80  # 1 + 3 coordinates
    assert phase(am.Dict(**{f"x{i}": am.floatv(0.0, 1.0) for i in range(12)})) == 200


@pytest.mark.parametrize(
    ("fields", "path"),
    [({"gamma": 0.0}, "gamma"), ({"gamma": 1.5}, "gamma"), ({"alpha": 0.0}, "alpha")],
)
def test_bad_fields_are_refused_by_name(fields: dict[str, float], path: str) -> None:
    with pytest.raises((FieldValueError, ValueError), match=path):
        algorithms.GPBOThenCMAES(**fields)


def test_spaces_cmaes_cannot_take_are_refused() -> None:
    with pytest.raises(SearchSpaceError, match="GPBOThenCMAES needs a space with at least one"):
        algorithms.GPBOThenCMAES(seed=0).setup(am.dna_spec(am.Dict(x=1)))
