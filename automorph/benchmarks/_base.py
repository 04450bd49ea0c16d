"""`Benchmark`: a search space, the reward a search sees, and the figure reported.

A benchmark separates what the search optimizes (`reward`, for example the
12-epoch validation accuracy of NAS-Bench-201) from what is reported
(`test_score`, the 200-epoch test accuracy), so that realistic and oracle
protocols are two benchmarks over one table. A benchmark may report more
than one figure for the example a search found (`report`: NAS-Bench-201's
`paper` protocol reports the found cell's test accuracy on three data sets).
Benchmarks are registered by name; the harness (`python -m automorph.benchmarks
run`) looks them up.
"""

from __future__ import annotations

from typing import Any

from automorph.utils import Registry


class Benchmark:
    """What the harness needs of a benchmark (subclass it).

    Attributes:
        name: The registered name.
        optimum: The best `test_score` there is (for regret), if known.
    """

    name: str = ""
    optimum: float | None = None

    def space(self) -> Any:
        """The search space: a symbolic value with hyper-values."""
        raise NotImplementedError

    def reward(self, example: Any) -> float:
        """What the search maximizes for a materialized `example`."""
        raise NotImplementedError

    def test_score(self, example: Any) -> float:
        """What is reported for `example` (higher is better)."""
        return self.reward(example)

    def report(self, example: Any) -> dict[str, float]:
        """Every figure reported for `example`, by name (higher is better).

        The default is the one figure `{"test": test_score(example)}`. The
        harness computes it for the incumbent of every run, and when a
        benchmark reports several figures it adds a table of their mean and
        standard deviation over the runs.
        """
        return {"test": self.test_score(example)}

    def top_threshold(self, fraction: float) -> float | None:
        """The lowest `test_score` among the best `fraction` of the whole space.

        A search "reaches the top 1%" when it evaluates an example scoring at
        least `top_threshold(0.01)`. Benchmarks that cannot enumerate their
        space return None (the default), and the harness then skips the figure.
        """
        return None


BENCHMARKS: Registry[Benchmark] = Registry("benchmark")
"""The benchmarks by name (`nb201-cifar10`, `branin`, ...): what `create` and the harness read."""


def create(name: str, **options: Any) -> Benchmark:
    """The benchmark registered as `name` (its options, such as a data path).

    Raises:
        RegistrationError: If no benchmark has that name (the message lists them).
    """
    return BENCHMARKS.create(name, **options)


def names() -> list[str]:
    """The registered benchmark names, sorted."""
    return BENCHMARKS.names()
