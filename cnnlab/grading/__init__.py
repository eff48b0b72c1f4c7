"""Checks that run inside notebooks: `check(name, fn)` grades a student's function.

```python
from cnnlab.grading import check
result = check("conv2d", conv2d)
result.passed; result.message; result.mistake; result.raise_if_failed()
```

Each graded function is one `Exercise` (`exercise.py`) in a family module of
`exercises/` (how to add one: `cnnlab.grading.exercises`), collected by
`registry`. A check runs the student's code on each case (`student`, plain
data out) and judges it (`judge`, never touching student code), naming the
mistake by a stable key (`mistake`, `diagnose`). `guard` forbids torch/scipy
convolution in numpy exercises, `limits` enforces the time limit, `compare`
is the strict comparison, `result` holds `CheckResult`.
"""
from __future__ import annotations

from cnnlab.grading.registry import REGISTRY, build_cases
from cnnlab.grading.result import CheckResult
from cnnlab.grading.runner import DEFAULT_TIME_LIMIT, check

__all__ = ["check", "CheckResult", "REGISTRY", "names", "cases", "DEFAULT_TIME_LIMIT"]


def names() -> list[str]:
    """The gradable exercise names."""
    from cnnlab.grading.exercises._custom import CUSTOM

    return list(REGISTRY) + list(CUSTOM)


def cases(name: str, seed: int = 0, trials: int | None = None):
    """The cases `check(name, fn, seed=seed, trials=trials)` runs, in order (to reproduce a failure).

    Each `Case` has `.label`, `.names` and `.values`: call ``fn(*case.values)``.
    """
    from cnnlab.grading.exercises._custom import CUSTOM

    if name in CUSTOM:
        return CUSTOM[name].cases(seed, trials)
    return build_cases(name, seed, trials)
