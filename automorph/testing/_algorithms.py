"""The contract every search algorithm must pass.

Run it from a test (it raises `AssertionError` with a message on failure):

    from automorph.testing import check_algorithm
    check_algorithm(lambda seed: MyAlgorithm(seed=seed))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from automorph.algorithms import SearchAlgorithm
from automorph.geno import DNA, CustomDecisionPoint, Space
from automorph.symbolic import from_json, sym_eq
from automorph.testing._spaces import contract_spaces, synthetic_reward
from automorph.utils import AutomorphError, FeedbackError, SearchExhaustedError, SearchSpaceError

Factory = Callable[[int], SearchAlgorithm]


def run(algorithm: SearchAlgorithm, spec: Space, steps: int, lag: int = 0) -> list[tuple[DNA, Any]]:
    """Runs `steps` proposals, giving feedback `lag` proposals late.

    Returns the history: every proposal with its reward (None if still pending).
    """
    objectives = 2 if algorithm.multi_objective else 1
    history: list[tuple[DNA, Any]] = []
    pending: list[int] = []
    for _ in range(steps):
        try:
            dna = algorithm.propose()
        except SearchExhaustedError:
            break
        spec.validate(dna)
        history.append((dna, None))
        pending.append(len(history) - 1)
        while len(pending) > lag:
            i = pending.pop(0)
            reward = synthetic_reward(history[i][0], objectives)
            algorithm.feedback(history[i][0], reward)
            history[i] = (history[i][0], reward)
    return history


def _proposals(algorithm: SearchAlgorithm, count: int) -> list[DNA]:
    out = []
    for _ in range(count):
        try:
            out.append(algorithm.propose())
        except SearchExhaustedError:
            break
    return out


def check_proposals_are_valid(make: Factory, spec: Space, steps: int = 40) -> None:
    """Every proposal of `make(1)` over `steps` proposals, with feedback two
    proposals late, is valid DNA of `spec`, and there is at least one."""
    algorithm = make(1)
    algorithm.setup(spec)
    history = run(algorithm, spec, steps, lag=2)
    assert history, f"{type(algorithm).__name__} proposed nothing"


def check_deterministic(make: Factory, spec: Space, steps: int = 30) -> None:
    """Two algorithms made with the same seed propose the same DNA, given the
    same feedback."""
    a, b = make(7), make(7)
    a.setup(spec)
    b.setup(spec)
    first = [dna for dna, _ in run(a, spec, steps, lag=1)]
    second = [dna for dna, _ in run(b, spec, steps, lag=1)]
    assert first == second, f"{type(a).__name__}: the same seed gave different proposals"


def check_recover(make: Factory, spec: Space, steps: int = 30, after: int = 10) -> None:
    """`recover(history)` rebuilds the live algorithm's state: the recovered copy
    counts the same proposals and feedback, and its next `after` proposals are
    the live algorithm's."""
    live = make(3)
    live.setup(spec)
    history = run(live, spec, steps, lag=3)
    revived = make(3)
    revived.setup(spec)
    revived.recover(history)
    assert revived.num_proposed == live.num_proposed, "recover lost the proposal count"
    assert revived.num_feedback == live.num_feedback, "recover lost the feedback count"
    expected = _proposals(live, after)
    assert _proposals(revived, after) == expected, (
        f"{type(live).__name__}: after recover(history) the next proposals differ from the "
        "live algorithm's"
    )


def synthetic_constraints(dna: DNA) -> tuple[float, float]:
    """Two cheap deterministic constraint values of a DNA; about half the
    DNA of a space break one of them."""
    total = float(synthetic_reward(dna))  # type: ignore[arg-type]
    return (math.cos(3.0 * total), math.sin(2.0 * total) - 0.5)


def check_constrained_recover(make: Factory, spec: Space, steps: int = 24) -> None:
    """Feedback with constraints is taken (by every algorithm, whether it
    steers by them or not), `recover` with `(dna, reward, constraints)`
    history rebuilds the live state, and so do a study's events replayed
    with their constraints; constraints of another length are refused."""
    objectives = 2 if make(0).multi_objective else 1
    live, follower = make(13), make(13)
    live.setup(spec)
    follower.setup(spec)
    history: list[tuple[DNA, Any, Any]] = []
    pending: list[int] = []
    for _ in range(steps):
        try:
            dna = live.propose()
        except SearchExhaustedError:
            break
        follower.replay_proposal(dna)
        history.append((dna, None, None))
        pending.append(len(history) - 1)
        while len(pending) > 2:
            i = pending.pop(0)
            done = history[i][0]
            reward, constraints = synthetic_reward(done, objectives), synthetic_constraints(done)
            live.feedback(done, reward, constraints)
            follower.feedback(done, reward, constraints)
            history[i] = (done, reward, constraints)
    name = type(live).__name__
    revived = make(13)
    revived.setup(spec)
    revived.recover(history)
    assert revived.num_feedback == live.num_feedback, "recover lost the feedback count"
    assert revived.num_constraints == live.num_constraints, "recover lost the constraint count"
    expected = _proposals(live, 8)
    assert _proposals(revived, 8) == expected, (
        f"{name}: after recover(history) with constraints the next proposals differ from the "
        "live algorithm's"
    )
    assert _proposals(follower, 8) == expected, (
        f"{name}: replaying the events with constraints gave another state than the live one"
    )
    if live.num_constraints is not None:
        try:
            live.feedback(history[0][0], synthetic_reward(history[0][0], objectives), [0.0])
        except FeedbackError as e:
            assert "constraint values" in str(e), str(e)
        else:
            raise AssertionError(f"{name}: constraints of another length must be refused")


def check_propose_batch(make: Factory, spec: Space, steps: int = 16, batch: int = 6) -> None:
    """A batch (after some feedback, with proposals pending) is valid, counts
    as that many proposals, and a recovered copy reproduces it."""
    live = make(4)
    live.setup(spec)
    history = run(live, spec, steps, lag=2)
    before = live.num_proposed
    try:
        dnas = live.propose_batch(batch)
    except SearchExhaustedError:
        return
    assert 1 <= len(dnas) <= batch, f"propose_batch({batch}) gave {len(dnas)} DNA"
    for dna in dnas:
        spec.validate(dna)
    assert live.num_proposed == before + len(dnas), "propose_batch miscounted its proposals"
    revived = make(4)
    revived.setup(spec)
    revived.recover(history)
    assert revived.propose_batch(batch) == dnas, (
        f"{type(live).__name__}: after recover(history) propose_batch differs"
    )


def check_json_round_trip(make: Factory, spec: Space, steps: int = 20) -> None:
    """The algorithm survives a JSON round trip: the copy equals the original and
    proposes the same DNA."""
    original = make(5)
    copy = from_json(original.to_json())
    assert sym_eq(copy, original), f"{type(original).__name__} changed through JSON"
    original.setup(spec)
    copy.setup(spec)
    assert [d for d, _ in run(original, spec, steps)] == [d for d, _ in run(copy, spec, steps)], (
        f"{type(original).__name__}: the JSON copy proposes differently"
    )


def check_errors(make: Factory, spec: Space, other: Space) -> None:
    """Misuse is refused with a clear error: `propose` before `setup`, a
    multi-objective reward to a single-objective algorithm, and DNA of the
    space `other`."""
    algorithm = make(1)
    try:
        algorithm.propose()
    except AutomorphError as e:
        assert "setup" in str(e), str(e)
    else:
        raise AssertionError("propose() before setup() must raise an AutomorphError")
    algorithm.setup(spec)
    dna = algorithm.propose()
    if not algorithm.multi_objective:
        try:
            algorithm.feedback(dna, (1.0, 2.0))
        except FeedbackError as e:
            assert "single-objective" in str(e), str(e)
        else:
            raise AssertionError("a multi-objective reward must be refused")
    foreign = other.random_dna(np.random.default_rng(0))
    try:
        algorithm.feedback(foreign, 1.0)
    except FeedbackError as e:
        assert "does not belong" in str(e), str(e)
    else:
        raise AssertionError("a DNA of another space must be refused")


def check_algorithm(make: Factory, spaces: dict[str, Space] | None = None) -> None:
    """Runs every contract check of `make(seed)` on every contract space."""
    spaces = spaces or contract_spaces()
    names = list(spaces)
    handles_custom = make(0).handles_custom
    for i, (name, spec) in enumerate(spaces.items()):
        other = spaces[names[(i + 1) % len(names)]]
        if not handles_custom and _has_custom(spec):
            check_refuses_space(make, spec)
            continue
        for check in (
            check_proposals_are_valid,
            check_deterministic,
            check_recover,
            check_propose_batch,
            check_json_round_trip,
            check_event_replay,
            check_constrained_recover,
        ):
            try:
                check(make, spec)
            except AssertionError as e:
                raise AssertionError(f"[{name} space] {check.__name__}: {e}") from e
        check_errors(make, spec, other)


def _has_custom(spec: Space) -> bool:
    return any(isinstance(p, CustomDecisionPoint) for p in spec.decision_points())


def check_refuses_space(make: Factory, spec: Space) -> None:
    """An algorithm that does not handle custom decisions refuses such a space in
    `setup` with a `SearchSpaceError` naming the decision."""
    algorithm = make(1)
    try:
        algorithm.setup(spec)
    except SearchSpaceError as e:
        assert e.path, f"the refusal does not name the custom decision: {e}"
    else:
        raise AssertionError(
            f"{type(algorithm).__name__} declares handles_custom = False but accepted a space "
            "with a custom decision"
        )


def check_event_replay(make: Factory, spec: Space, steps: int = 24) -> None:
    """Proposals replayed with `replay_proposal` and rewards given later (as a
    shared study's events) leave a second instance in the live one's state."""
    live, follower = make(11), make(11)
    live.setup(spec)
    follower.setup(spec)
    objectives = 2 if live.multi_objective else 1
    pending: list[DNA] = []
    for step in range(steps):
        try:
            dna = live.propose()
        except SearchExhaustedError:
            break
        follower.replay_proposal(dna)
        pending.append(dna)
        if step % 3 == 2:  # rewards arrive in batches, in proposal order
            for done in pending:
                reward = synthetic_reward(done, objectives)
                live.feedback(done, reward)
                follower.feedback(done, reward)
            pending = []
    assert _proposals(follower, 8) == _proposals(live, 8), (
        f"{type(live).__name__}: replaying the events gave another state than the live one"
    )
