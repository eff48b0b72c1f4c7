"""Checks that run inside notebooks: `check(name, fn)` grades a student's function.

```python
from cnnlab.grading import check
result = check("conv2d", conv2d)
result.passed; result.message; result.raise_if_failed()
```

Modules: `runner` (the loop), `cases`/`features`/`worked` (what is tried),
`compare` (strict comparison), `diagnose` + `mistakes_*` (naming the mistake),
`guard` (no torch/scipy convolution in numpy exercises), `limits` (time
limit), `registry` (the gradable names), `result` (`CheckResult`).
"""
from __future__ import annotations

from cnnlab.grading.runner import DEFAULT_TIME_LIMIT, check
from cnnlab.grading.registry import REGISTRY, build_cases
from cnnlab.grading.result import CheckResult

__all__ = ["check", "CheckResult", "REGISTRY", "names", "cases", "DEFAULT_TIME_LIMIT"]


def names() -> list[str]:
    """The gradable exercise names."""
    from cnnlab.grading.exercises import EXERCISES

    return list(REGISTRY) + list(EXERCISES)


def cases(name: str, seed: int = 0, trials: int | None = None):
    """The cases `check(name, fn, seed=seed, trials=trials)` runs, in order (to reproduce a failure).

    Each `Case` has `.label`, `.names` and `.values`: call ``fn(*case.values)``.
    """
    from cnnlab.grading.exercises import EXERCISES

    if name in EXERCISES:
        return EXERCISES[name].cases(seed, trials)
    return build_cases(name, seed, trials)
