"""Test cases: what the student's function is called with, and helpers to draw them.

A check runs, in order: the worked examples (from the decks), then *feature
cases* — a fixed list of shapes and hyper-parameters, one feature each
(padding, stride (2, 1), dilation, C_out = H_out = W_out, ...), so that every
feature is exercised whatever the seed — then *random cases* in which every
dimension varies independently, then calls that must raise. Values come from
``numpy.random.default_rng(seed)``: the same seed gives the same cases and so
the same verdict. Each exercise builds its cases with `Exercise.case`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Case", "REQUIRED", "draw_pair", "entry", "span", "fitting_size"]


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()  # marks a parameter without a default in `Exercise.signature`


@dataclass(frozen=True, eq=False)
class Case:
    """One call: positional `values` for the parameters `names`.

    `error` names the exception the call must raise (e.g. ``"ValueError"``)
    instead of returning; None for an ordinary case. `data` holds what the
    grader needs besides the arguments (``{"input": batch}`` for a module
    exercise); it is never passed to the student's function.
    """

    label: str
    names: tuple
    values: tuple
    error: str | None = None
    data: dict | None = None


def draw_pair(rng: np.random.Generator, lo: int, hi: int, as_int_prob: float = 0.4):
    """An (h, w) pair of ints in [lo, hi]; equal entries come back as one int most of the time."""
    a, b = (int(v) for v in rng.integers(lo, hi + 1, size=2))
    if a == b and rng.random() < as_int_prob * 2:
        return a
    return (a, b)


def entry(v, i: int) -> int:
    """Entry `i` of an int-or-pair hyper-parameter."""
    return v if isinstance(v, int) else v[i]


def span(k: int, d: int) -> int:
    """Input positions covered by a kernel of size k with dilation d."""
    return d * (k - 1) + 1


def fitting_size(rng: np.random.Generator, k: int, s: int, p: int, d: int, extra: int = 6) -> int:
    """A random input length in which the dilated kernel fits (the output is not empty)."""
    lo = max(1, span(k, d) - 2 * p)
    return int(rng.integers(lo, lo + extra + 1))
