"""Name the likely mistake behind a wrong output: a `(key, text)` pair, or None.

Each exercise has a catalogue of `Mistake`s. A mistake computes what a
function with that bug would return on the failing case; if the student's
output matches it (same shape, same values to 1e-6), the check names it.
Failing that, a generic hint from the output's dtype and shape (keys such as
``"dtype-int"``, ``"off-by-one-size"``, ``"hw-swapped"``).
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading.compare import close
from cnnlab.grading.mistake import Mistake

__all__ = ["Mistake", "diagnose", "diagnose_value", "matches", "MAX_CAUSES", "SHAPE_GUESSES"]

# generic hints that only guess from the output's shape: a decisive finding (the
# result does not depend on the input values) may replace them
SHAPE_GUESSES = frozenset({"off-by-one-size", "extra-axis", "lost-axis", "hw-swapped"})

MAX_CAUSES = 2  # mistakes named when several explain the same output


def matches(actual, cand) -> bool:
    """Whether float64 `actual` equals the candidate output `cand` (same shape, values to 1e-6)."""
    cand = np.asarray(cand, dtype=np.float64)
    if cand.shape != actual.shape:
        return False
    # note: compare infinite entries exactly; an inf in `cand` would otherwise make the
    # tolerance (scaled by max|cand|) infinite, and every output would match.
    fin = np.isfinite(cand)
    if not bool((actual[~fin] == cand[~fin]).all()):
        return False
    return bool(close(actual[fin], cand[fin], rtol=1e-6, atol=1e-8).all())


def _hits(op: str, P, actual, expected, device, catalogue, output, same, matches, when="wrong"):
    hits: list = []
    families: set = set()
    for m in catalogue:
        if m.output != output or m.when != when or (m.only_2d and getattr(P, "one_d", False)):
            continue
        try:
            cand = m.candidate(P, device)
            if cand is None:
                continue
            if isinstance(cand, np.ndarray) or isinstance(cand, (list, tuple)):
                cand = np.asarray(cand, dtype=np.float64)
                if getattr(P, "one_d", False) and cand.ndim == 4:
                    cand = cand[:, :, 0, :]  # back to (N, C_out, L_out)
            if expected is not None and same(cand, expected):
                continue
            if not matches(actual, cand):
                continue
        except Exception:  # the mistake does not apply to this case
            continue
        text = m.text.replace("{op}", op)  # note: not str.format, texts hold braces
        if text not in [t for _, t in hits] and (m.family or m.key) not in families:
            hits.append((m.key, text))
            families.add(m.family or m.key)
    return hits


def _join(hits):
    """``(key, text, all hits)``: the first hit's key, the first `MAX_CAUSES` texts, every ``(key, text)`` hit."""
    if not hits:
        return None
    # note: on one case several mistakes can give the same output; name two, keep all for the runner,
    # which may narrow them down on later cases
    return hits[0][0], hits[0][1] + "".join(f"\n  Or: {t}" for _, t in hits[1:MAX_CAUSES]), tuple(hits)


def diagnose(op: str, P, actual, expected, device, catalogue, output: int | None = None):
    """``(key, text)`` of the first `MAX_CAUSES` array mistakes whose output equals `actual`, else a generic hint."""
    if type(actual) is not np.ndarray or actual.dtype.kind not in "fiu" or actual.size > 10**6:
        return None
    dtype = actual.dtype
    actual = actual.astype(np.float64)
    hint = _dtype_hint(dtype, actual, expected)
    if hint is not None:  # note: decisive, and cheaper than the catalogue
        return hint
    found = _join(_hits(op, P, actual, expected, device, catalogue, output,
                        lambda c, e: c.shape == e.shape and bool(close(c, e).all()), matches))
    return found or _generic_hint(actual, expected)


def diagnose_value(op: str, P, actual, expected, device, catalogue, when: str = "wrong"):
    """``(key, text)`` for a scalar result (an int): mistakes whose value equals `actual`.

    `when="no-raise"`: the call had to raise; `expected` is None.
    """
    def same(c, e):
        return not isinstance(c, np.ndarray) and c == e

    def matches(a, c):
        return not isinstance(c, np.ndarray) and float(a) == float(c)

    return _join(_hits(op, P, actual, expected, device, catalogue, None, same, matches, when))


def _dtype_hint(dtype, actual: np.ndarray, expected: np.ndarray) -> str | None:
    """For a result of the wrong dtype: are its values right (or right but truncated)?"""
    if dtype.kind == "f" and dtype.itemsize >= 8 or actual.shape != expected.shape:
        return None
    if dtype.kind in "iu":
        where = ("allocate the output as float64 (np.zeros(shape) is float64; np.zeros_like(x) copies x's dtype, "
                 "so it is an integer array when x is one)")
        if bool(close(actual, expected).all()):
            return ("dtype-int", f"Your values are right, but the array has the integer dtype {dtype}: {where}.")
        if bool(close(actual, np.trunc(expected)).all()) or bool(close(actual, np.floor(expected)).all()):
            return ("dtype-truncated", (f"Your output holds the correct values with their fractional part cut off: it is an integer "
                    f"array ({dtype}), and storing a float in it truncates the value. Instead, {where}."))
        return None
    if expected.size and bool(close(actual, expected, rtol=1e-4, atol=1e-5).all()):
        err = float(np.max(np.abs(actual - expected)))
        return ("dtype-float32", (f"Your values are right{'' if err == 0 else f' to about {dtype} precision (largest error {err:.2g})'}, "
                f"but the array has dtype {dtype}: keep every intermediate array in float64 (no astype(np.float32), "
                f"no dtype=np.float32, no torch float32 tensors) and return float64."))
    return None


def _generic_hint(actual: np.ndarray, expected: np.ndarray) -> str | None:
    a, e = actual.shape, expected.shape
    if a == e:
        if expected.size and bool(close(actual, expected, rtol=1e-4, atol=1e-5).all()):
            err = float(np.max(np.abs(actual - expected)))
            return ("float32-precision", (f"Your values are right only to about float32 precision (largest error {err:.2g}): keep every "
                    f"intermediate array in float64 (no dtype=np.float32, no torch float32 tensors)."))
        return None
    if len(a) == len(e) and all(x <= y for x, y in zip(a, e)) and bool(
            close(actual, expected[tuple(slice(0, n) for n in a)], rtol=1e-6, atol=1e-8).all()):
        return ("output-cropped", ("Your output is the top-left part of the correct output: its values are right but it has too few "
                "positions; check the output-size formula ⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1."))
    if len(a) == len(e) and all(x >= y for x, y in zip(a, e)) and bool(
            close(actual[tuple(slice(0, n) for n in e)], expected, rtol=1e-6, atol=1e-8).all()):
        return ("output-too-large", ("Your output holds the right values in its top-left part but is too large: allocate it with the "
                f"output's shape {e} (see cnnlab.shapes.conv_output_size)."))
    return _shape_hint(actual, expected)


def _shape_hint(actual: np.ndarray, expected: np.ndarray) -> str | None:
    a, e = actual.shape, expected.shape
    if a == e:
        return None
    if len(a) == len(e) >= 2 and a[:-2] == e[:-2] and a[-2:] == e[-2:][::-1]:
        return ("hw-swapped", "The last two axes of your output are swapped: H and W are transposed somewhere (layout is (..., H, W)).")
    if len(a) == len(e) and sum(x != y for x, y in zip(a, e)) >= 1 and all(abs(x - y) <= 1 for x, y in zip(a, e)):
        return ("off-by-one-size", ("Your output is off by one in size: check the number of window positions, "
                "⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1 (see cnnlab.shapes.conv_output_size)."))
    if len(a) == len(e) - 1 and a in (e[1:], e[:1] + e[2:]):
        return ("lost-axis", "Your output has lost an axis: keep the layout (N, C, ...) even when N or C is 1.")
    if len(a) < len(e) and a == tuple(n for n in e if n != 1):
        return ("lost-unit-axes", ("Your output has lost its axes of size 1 (np.squeeze, or indexing with [0]): keep every axis of "
                f"the layout, shape {e}, even when N or C is 1."))
    if len(a) == len(e) + 1:
        return ("extra-axis", "Your output has an extra axis: a sum over an axis (e.g. the input channels) may be missing.")
    if actual.size == expected.size and bool(close(actual.reshape(e), expected, rtol=1e-6, atol=1e-8).all()):
        return ("reshaped", f"Your values are right and in the right order, but the array has shape {a}: return it with shape {e}.")
    return None
