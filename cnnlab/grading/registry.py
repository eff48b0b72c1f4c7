"""The gradable exercises: every `Exercise` listed in an ``EXERCISES`` of a module of
`cnnlab.grading.exercises`, collected by name.

Adding an exercise touches one file: its family module (or a new module in
that package, found automatically). Only its module and this registry look
at an exercise's name.
"""
from __future__ import annotations

import importlib
import pkgutil

from cnnlab.grading import exercises as _package
from cnnlab.grading.exercise import Exercise

__all__ = ["REGISTRY", "get", "build_cases", "collect"]


def collect() -> dict[str, Exercise]:
    """{name: Exercise} from every module of `cnnlab.grading.exercises`, in module then list order."""
    found: dict[str, Exercise] = {}
    for info in sorted(pkgutil.iter_modules(_package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_package.__name__}.{info.name}")
        for ex in getattr(module, "EXERCISES", ()):
            if not isinstance(ex, Exercise):
                raise TypeError(f"{module.__name__}.EXERCISES holds {ex!r}, not an Exercise")
            if ex.name in found:
                raise ValueError(f"exercise {ex.name!r} is defined twice (again in {module.__name__})")
            found[ex.name] = ex
    return found


REGISTRY: dict[str, Exercise] = collect()


def get(name) -> Exercise:
    """The exercise `name`; ValueError (an instructor's mistake) for an unknown name."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown exercise {name!r}; valid names: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def build_cases(name: str, seed: int = 0, trials: int | None = None):
    """Every case `check(name, ..., seed=seed, trials=trials)` runs, in order."""
    return get(name).build_cases(seed, trials)
