"""Strict comparison of a student's result with the reference.

A result must be a plain ``numpy.ndarray`` (``type(r) is np.ndarray``: lists,
tensors, ndarray subclasses and objects that override ``__eq__`` are
rejected before any comparison), of floating dtype with at least float64
precision (every input is float64), of exactly the expected shape (no
broadcasting), finite, and equal to the reference within

    |actual - expected| <= ATOL * max(1, max|expected|) + RTOL * |expected|

with RTOL = 1e-9 and ATOL = 1e-9: loose enough for any float64 summation
order (float64 carries about 1e-16 relative error per operation), tight
enough to reject float32 arithmetic, even a single rounding to float32 (up to
6e-8 relative error), as in a max pool computed in float32.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["RTOL", "ATOL", "array_problem", "int_problem", "first_difference", "close", "Foreign"]

RTOL = 1e-9
ATOL = 1e-9


@dataclass(frozen=True)
class Foreign:
    """What the judge sees of a result it must reject without touching it (a tensor, an ndarray
    subclass, an object that overrides ``__eq__``): its type's name, and whether it subclasses ndarray."""

    typename: str
    ndarray_subclass: bool = False


def _idx(index) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def _typename(obj) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _type_problem(actual, what: str) -> str:
    if isinstance(actual, Foreign):
        if actual.ndarray_subclass:
            return (f"{what} is a {actual.typename}, a subclass of numpy.ndarray; return a plain "
                    f"numpy.ndarray (np.asarray(result))")
        if actual.typename.startswith("torch"):
            return f"{what} is a {actual.typename}: this exercise must return a numpy.ndarray, not a torch tensor"
        return f"{what} is of type {actual.typename}, not a numpy.ndarray"
    if actual is None:
        return f"{what} is None: the function returned nothing (did you forget `return`?)"
    if isinstance(actual, np.ndarray):
        return (f"{what} is a {_typename(actual)}, a subclass of numpy.ndarray; return a plain "
                f"numpy.ndarray (np.asarray(result))")
    try:
        is_tensor = type(actual).__module__.startswith("torch")
    except Exception:  # pragma: no cover - defensive
        is_tensor = False
    if is_tensor:
        return f"{what} is a {_typename(actual)}: this exercise must return a numpy.ndarray, not a torch tensor"
    if isinstance(actual, (list, tuple)):
        return f"{what} is a {_typename(actual)}: return a numpy.ndarray (e.g. np.array(...)), not a Python {_typename(actual)}"
    if isinstance(actual, str):
        text = actual if len(actual) <= 60 else actual[:57] + "..."
        return f"{what} is a string ({text!r}), not a numpy.ndarray"
    if isinstance(actual, (numbers.Number, np.generic)):
        return f"{what} is a single number of type {_typename(actual)}, not a numpy.ndarray"
    return f"{what} is of type {_typename(actual)}, not a numpy.ndarray"


def close(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> np.ndarray:
    """Elementwise closeness with the module's scaled tolerance (same shapes)."""
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    with np.errstate(all="ignore"):
        return np.abs(actual - expected) <= atol * scale + rtol * np.abs(expected)


def first_difference(actual: np.ndarray, expected: np.ndarray) -> str | None:
    """`None` if equal within tolerance, else where and by how much they differ."""
    ok = close(actual, expected)
    if ok.all():
        return None
    bad = np.argwhere(~ok)
    i = tuple(bad[0])
    err = float(np.max(np.abs(actual - expected)[~ok]))
    return (f"first difference at index {_idx(i)}: expected {float(expected[i]):.10g}, got {float(actual[i]):.10g} "
            f"({len(bad)} of {expected.size} values differ; largest difference {err:.4g})")


def array_problem(actual, expected: np.ndarray, what: str = "the output") -> str | None:
    """What is wrong with `actual` as a stand-in for `expected`, or None."""
    if type(actual) is not np.ndarray:
        return _type_problem(actual, what)
    if expected.dtype.kind in "iu":  # note: indices (nms): an integer array, compared exactly
        return _index_problem(actual, expected, what)
    if actual.dtype.kind != "f":
        hint = " (an object array: build the result with np.zeros(..., dtype=np.float64))" if actual.dtype.kind == "O" else ""
        return f"{what} has dtype {actual.dtype}; it must be a float64 array like the inputs{hint}"
    if actual.dtype.itemsize < 8:
        return (f"{what} has dtype {actual.dtype}, which loses precision; the inputs are float64, so "
                f"compute and return float64")
    if actual.shape != expected.shape:
        return f"{what} has shape {actual.shape}; expected shape {expected.shape}"
    finite = np.isfinite(actual)
    if not finite.all():
        i = tuple(np.argwhere(~finite)[0])
        return f"{what} contains {float(actual[i])} at index {_idx(i)} ({int((~finite).sum())} non-finite values); expected {float(expected[i]):.10g}"
    diff = first_difference(actual, expected)
    return None if diff is None else f"{what} has wrong values: {diff}"


def _index_problem(actual: np.ndarray, expected: np.ndarray, what: str) -> str | None:
    if actual.dtype.kind not in "iu":
        return f"{what} has dtype {actual.dtype}; it must be an integer array of indices ({expected.dtype})"
    if actual.shape != expected.shape:
        return f"{what} has shape {actual.shape}; expected shape {expected.shape}"
    bad = np.flatnonzero(actual.astype(np.int64) != expected)
    if bad.size == 0:
        return None
    i = int(bad[0])
    return (f"{what} has wrong values: first difference at index ({i},): expected {int(expected.flat[i])}, got "
            f"{int(actual.flat[i])} ({bad.size} of {expected.size} values differ)")


def int_problem(actual, expected: int, what: str = "the result") -> str | None:
    """Check an integer result (conv_output_size): Python or numpy int, not bool or float."""
    if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (numbers.Integral, np.integer)):
        if isinstance(actual, (float, np.floating)):
            if float(actual).is_integer() and int(actual) == expected:
                return f"{what} is the float {float(actual)!r}; return an int (use // for the division)"
            return (f"{what} is the float {float(actual)!r}; expected the int {expected}: the formula "
                    f"floors the division (use //)")
        if type(actual) is np.ndarray and actual.shape == ():
            return f"{what} is a 0-d numpy array; return an int (int(...))"
        return _type_problem(actual, what).replace("not a numpy.ndarray", "not an int")
    if int(actual) != expected:
        return f"{what} is {int(actual)}; expected {expected}"
    return None
