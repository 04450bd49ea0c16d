"""Contract test suites that ship with the package.

Every algorithm and every storage backend is run through these,
in automorph's own tests and in tests of user-written implementations.
"""

from __future__ import annotations

from automorph.testing._algorithms import (
    check_algorithm,
    check_constrained_recover,
    check_deterministic,
    check_errors,
    check_event_replay,
    check_json_round_trip,
    check_proposals_are_valid,
    check_recover,
    check_refuses_space,
    run,
    synthetic_constraints,
)
from automorph.testing._spaces import BitString, contract_spaces, synthetic_reward
from automorph.testing._storage import check_storage

__all__ = [
    "BitString",
    "check_algorithm",
    "check_constrained_recover",
    "check_deterministic",
    "check_errors",
    "check_event_replay",
    "check_json_round_trip",
    "check_proposals_are_valid",
    "check_recover",
    "check_refuses_space",
    "check_storage",
    "contract_spaces",
    "run",
    "synthetic_constraints",
    "synthetic_reward",
]
