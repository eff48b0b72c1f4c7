"""What `check` knows about each exercise: reference, cases, mistakes, result kind."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.grading import mistakes_backward, mistakes_conv, mistakes_misc, mistakes_pool
from cnnlab.grading.cases import Case, random_cases
from cnnlab.grading.features import error_cases, feature_cases
from cnnlab.grading.worked import worked_cases

__all__ = ["Spec", "REGISTRY", "get", "build_cases"]


@dataclass(frozen=True)
class Spec:
    """One gradable function.

    Attributes:
        name: the exercise's name (DESIGN §2).
        outputs: names of the parts of a tuple result, e.g. ("dx", "dw", "db"); () for one array.
        mistakes: the diagnosis catalogue (see `diagnose.Mistake`).
        trials: default number of random cases.
        kind: "array" or "int".
    """

    name: str
    outputs: tuple = ()
    mistakes: tuple = ()
    trials: int = 8
    kind: str = "array"

    def expected(self, case: Case, device):
        """The reference result for `case` (float64 numpy, or int)."""
        if self.kind == "int":
            from cnnlab.shapes import conv_output_size

            return conv_output_size(*case.values)
        from cnnlab import reference

        return getattr(reference, self.name)(*case.values, device=device)


REGISTRY = {
    "corr2d": Spec("corr2d", mistakes=tuple(mistakes_conv.CORR2D)),
    "pad2d": Spec("pad2d", mistakes=tuple(mistakes_misc.PAD2D)),
    "conv_output_size": Spec("conv_output_size", trials=20, kind="int"),
    "conv1d": Spec("conv1d", mistakes=tuple(mistakes_conv.CONV)),
    "conv2d": Spec("conv2d", mistakes=tuple(mistakes_conv.CONV)),
    "conv2d_backward": Spec("conv2d_backward", outputs=("dx", "dw", "db"), mistakes=tuple(mistakes_backward.CONV_BACKWARD)),
    "max_pool2d": Spec("max_pool2d", mistakes=tuple(mistakes_pool.MAX_POOL)),
    "avg_pool2d": Spec("avg_pool2d", mistakes=tuple(mistakes_pool.AVG_POOL)),
    "max_pool2d_backward": Spec("max_pool2d_backward", mistakes=tuple(mistakes_pool.MAX_POOL_BACKWARD)),
    "avg_pool2d_backward": Spec("avg_pool2d_backward", mistakes=tuple(mistakes_pool.AVG_POOL_BACKWARD)),
}


def get(name) -> Spec:
    """The spec of `name`; ValueError (an instructor's mistake) for an unknown name."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown exercise {name!r}; valid names: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def build_cases(name: str, seed: int = 0, trials: int | None = None) -> list[Case]:
    """Every case `check(name, ..., seed=seed, trials=trials)` runs, in order."""
    spec = get(name)
    rng = np.random.default_rng(seed)
    n = spec.trials if trials is None else int(trials)
    if n < 0:
        raise ValueError(f"trials must be >= 0; got {trials!r}")
    return worked_cases(name) + feature_cases(name, rng) + random_cases(name, rng, n) + error_cases(name)
