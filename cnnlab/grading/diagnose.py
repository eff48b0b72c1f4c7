"""Name the likely mistake behind a wrong output.

Each op has a catalogue of `Mistake`s (`mistakes_conv.py`,
`mistakes_backward.py`, `mistakes_pool.py`, `mistakes_misc.py`). A mistake
computes what a function with that bug would return on the failing case —
from `cnnlab.reference` run on altered inputs or hyper-parameters wherever
possible, from a tiny numpy simulation otherwise (accumulate-vs-assign, tie
breaking). If the student's output matches it (same shape, same values to
1e-6), the message says so in plain words; failing that, a shape-only hint.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import numpy as np

from cnnlab._validate import as_pair, pool_stride
from cnnlab.grading.compare import close

__all__ = ["Mistake", "diagnose", "normalize", "MAX_CAUSES"]

MAX_CAUSES = 2  # mistakes named when several explain the same output


@dataclass(frozen=True)
class Mistake:
    """A known mistake: `candidate(P, device)` is the buggy output (None: not applicable).

    `output` selects the part of a tuple result (0 dx, 1 dw, 2 db) it concerns.
    `only_2d` skips it for conv1d.
    """

    key: str
    text: str
    candidate: Callable
    output: int | None = None
    only_2d: bool = False
    family: str = ""  # mistakes of one family (e.g. the kernel flips) are named at most once


def normalize(op: str, params: dict) -> SimpleNamespace:
    """Parameters as numpy arrays and (h, w) pairs; conv1d is viewed as a 2-D conv with H = 1."""
    P = SimpleNamespace(op=op, one_d=(op == "conv1d"), **params)
    if op in ("conv1d", "conv2d", "conv2d_backward"):
        if P.one_d:
            P.x, P.w = P.x[:, :, None, :], P.w[:, :, None, :]  # (N, C_in, 1, L), (C_out, C_in, 1, K)
            P.s, P.p, P.d = (1, int(P.stride)), (0, int(P.padding)), (1, int(P.dilation))
        else:
            P.s, P.p, P.d = (as_pair(P.stride, "stride", 1), as_pair(P.padding, "padding"),
                             as_pair(P.dilation, "dilation", 1))
    elif "pool" in op:
        P.k = as_pair(P.kernel_size, "kernel_size", 1)
        P.s = pool_stride(P.stride, P.kernel_size)
        P.p = as_pair(P.padding, "padding")
    return P


def _matches(actual, cand) -> bool:
    cand = np.asarray(cand, dtype=np.float64)
    if cand.shape != actual.shape:
        return False
    # note: compare infinite entries exactly; an inf in `cand` would otherwise make the
    # tolerance (scaled by max|cand|) infinite, and every output would match.
    fin = np.isfinite(cand)
    if not bool((actual[~fin] == cand[~fin]).all()):
        return False
    return bool(close(actual[fin], cand[fin], rtol=1e-6, atol=1e-8).all())


def diagnose(op: str, params: dict, actual, expected, device, catalogue, output: int | None = None) -> str | None:
    """The texts of the first `MAX_CAUSES` mistakes whose output equals `actual`, else a generic hint."""
    if type(actual) is not np.ndarray or actual.dtype.kind not in "fiu" or actual.size > 10**6:
        return None
    dtype = actual.dtype
    actual = actual.astype(np.float64)
    hint = _dtype_hint(dtype, actual, expected)
    if hint is not None:  # note: decisive, and cheaper than the catalogue
        return hint
    P = normalize(op, params)
    hits: list[str] = []
    families: set[str] = set()
    for m in catalogue:
        if m.output != output or (m.only_2d and P.one_d):
            continue
        try:
            cand = m.candidate(P, device)
            if cand is None:
                continue
            cand = np.asarray(cand, dtype=np.float64)
            if P.one_d and cand.ndim == 4:
                cand = cand[:, :, 0, :]  # back to (N, C_out, L_out)
        except Exception:  # the mistake does not apply to this case
            continue
        same_as_right = cand.shape == expected.shape and bool(close(cand, expected).all())
        text = m.text.replace("{op}", op)  # note: not str.format, texts hold braces
        if not same_as_right and text not in hits and (m.family or m.key) not in families and _matches(actual, cand):
            hits.append(text)
            families.add(m.family or m.key)
            if len(hits) == MAX_CAUSES:
                break
    if hits:  # note: on one case two mistakes can give the same output; name both
        return hits[0] + "".join(f"\n  Or: {h}" for h in hits[1:])
    return _generic_hint(actual, expected)


def _dtype_hint(dtype, actual: np.ndarray, expected: np.ndarray) -> str | None:
    """For a result of the wrong dtype: are its values right (or right but truncated)?"""
    if dtype.kind == "f" and dtype.itemsize >= 8 or actual.shape != expected.shape:
        return None
    if dtype.kind in "iu":
        where = ("allocate the output as float64 (np.zeros(shape) is float64; np.zeros_like(x) copies x's dtype, "
                 "so it is an integer array when x is one)")
        if bool(close(actual, expected).all()):
            return f"Your values are right, but the array has the integer dtype {dtype}: {where}."
        if bool(close(actual, np.trunc(expected)).all()) or bool(close(actual, np.floor(expected)).all()):
            return (f"Your output holds the correct values with their fractional part cut off: it is an integer "
                    f"array ({dtype}), and storing a float in it truncates the value. Instead, {where}.")
        return None
    if expected.size and bool(close(actual, expected, rtol=1e-4, atol=1e-5).all()):
        err = float(np.max(np.abs(actual - expected)))
        return (f"Your values are right{'' if err == 0 else f' to about {dtype} precision (largest error {err:.2g})'}, "
                f"but the array has dtype {dtype}: keep every intermediate array in float64 (no astype(np.float32), "
                f"no dtype=np.float32, no torch float32 tensors) and return float64.")
    return None


def _generic_hint(actual: np.ndarray, expected: np.ndarray) -> str | None:
    a, e = actual.shape, expected.shape
    if a == e:
        if expected.size and bool(close(actual, expected, rtol=1e-4, atol=1e-5).all()):
            err = float(np.max(np.abs(actual - expected)))
            return (f"Your values are right only to about float32 precision (largest error {err:.2g}): keep every "
                    f"intermediate array in float64 (no dtype=np.float32, no torch float32 tensors).")
        return None
    if len(a) == len(e) and all(x <= y for x, y in zip(a, e)) and bool(
            close(actual, expected[tuple(slice(0, n) for n in a)], rtol=1e-6, atol=1e-8).all()):
        return ("Your output is the top-left part of the correct output: its values are right but it has too few "
                "positions; check the output-size formula ⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1.")
    if len(a) == len(e) and all(x >= y for x, y in zip(a, e)) and bool(
            close(actual[tuple(slice(0, n) for n in e)], expected, rtol=1e-6, atol=1e-8).all()):
        return ("Your output holds the right values in its top-left part but is too large: allocate it with the "
                f"output's shape {e} (see cnnlab.shapes.conv_output_size).")
    return _shape_hint(actual, expected)


def _shape_hint(actual: np.ndarray, expected: np.ndarray) -> str | None:
    a, e = actual.shape, expected.shape
    if a == e:
        return None
    if len(a) == len(e) >= 2 and a[:-2] == e[:-2] and a[-2:] == e[-2:][::-1]:
        return "The last two axes of your output are swapped: H and W are transposed somewhere (layout is (..., H, W))."
    if len(a) == len(e) and sum(x != y for x, y in zip(a, e)) >= 1 and all(abs(x - y) <= 1 for x, y in zip(a, e)):
        return ("Your output is off by one in size: check the number of window positions, "
                "⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1 (see cnnlab.shapes.conv_output_size).")
    if len(a) == len(e) - 1 and a in (e[1:], e[:1] + e[2:]):
        return "Your output has lost an axis: keep the layout (N, C, ...) even when N or C is 1."
    if len(a) < len(e) and a == tuple(n for n in e if n != 1):
        return ("Your output has lost its axes of size 1 (np.squeeze, or indexing with [0]): keep every axis of "
                f"the layout, shape {e}, even when N or C is 1.")
    if len(a) == len(e) + 1:
        return "Your output has an extra axis: a sum over an axis (e.g. the input channels) may be missing."
    if actual.size == expected.size and bool(close(actual.reshape(e), expected, rtol=1e-6, atol=1e-8).all()):
        return f"Your values are right and in the right order, but the array has shape {a}: return it with shape {e}."
    return None
