"""Known mistakes of pad2d (arrays) and conv_output_size (integers)."""
from __future__ import annotations

import math

import numpy as np

from cnnlab._validate import as_pair
from cnnlab.grading.diagnose import Mistake

__all__ = ["PAD2D", "SIZE_MISTAKES", "diagnose_size", "diagnose_size_error"]


def _pp(P):
    return as_pair(P.padding, "padding")


def _lead(x):
    return [(0, 0)] * (x.ndim - 2)


PAD2D = [
    Mistake("unchanged", "Your output is the input unchanged: no zeros were added.",
            lambda P, dev: _if(_pp(P) != (0, 0), lambda: P.x), family="too-little"),
    Mistake("all-axes", "np.pad(x, p) pads every axis, including the leading ones (N, C, ...): give a pad "
            "width per axis, ((0, 0), ..., (pH, pH), (pW, pW)).",
            lambda P, dev: _if(P.x.ndim > 2, lambda: np.pad(P.x, [(_pp(P)[0], _pp(P)[0])] * (P.x.ndim - 1) + [(_pp(P)[1], _pp(P)[1])]))),
    Mistake("before-after", "padding=(pH, pW) is used as (before, after) widths: np.pad(x, ..., [(pH, pW), (pH, pW)]) "
            "puts pH zeros before and pW after on each axis. pad2d pads H by pH on both sides and W by pW on both "
            "sides: ((0, 0), ..., (pH, pH), (pW, pW)).",
            lambda P, dev: _if(_pp(P)[0] != _pp(P)[1], lambda: np.pad(P.x, _lead(P.x) + [_pp(P), _pp(P)]))),
    Mistake("first-entry", "Only the first entry of the padding pair is used, for both axes: padding=(pH, pW) pads H "
            "by pH and W by pW.",
            lambda P, dev: _if(_pp(P)[0] != _pp(P)[1], lambda: np.pad(P.x, _lead(P.x) + [(_pp(P)[0],) * 2] * 2))),
    Mistake("all-axes-pair", "np.pad(x, (pH, pW)) pads every axis with pH before and pW after: give a pad width "
            "per axis, ((0, 0), ..., (pH, pH), (pW, pW)).", lambda P, dev: np.pad(P.x, _pp(P))),
    Mistake("after-only", "Zeros are added only after (bottom/right): padding p means p zeros on each side.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(0, _pp(P)[0]), (0, _pp(P)[1])])),
    Mistake("before-only", "Zeros are added only before (top/left): padding p means p zeros on each side.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(_pp(P)[0], 0), (_pp(P)[1], 0)])),
    Mistake("all-after", "All the zeros are added after the input (2p at the bottom/right, none at the "
            "top/left): the shape is right but the image is shifted. Padding p means p zeros on each side.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(0, 2 * _pp(P)[0]), (0, 2 * _pp(P)[1])])),
    Mistake("all-before", "All the zeros are added before the input (2p at the top/left, none at the "
            "bottom/right): the shape is right but the image is shifted. Padding p means p zeros on each side.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(2 * _pp(P)[0], 0), (2 * _pp(P)[1], 0)])),
    Mistake("total", "The padding is split between the sides (p//2 each): padding p means p zeros on each side.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(_pp(P)[0] // 2,) * 2, (_pp(P)[1] // 2,) * 2]), family="too-little"),
    Mistake("swapped", "The padding pair is swapped: padding=(pH, pW) pads H (rows) by pH and W (columns) by pW.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(_pp(P)[1],) * 2, (_pp(P)[0],) * 2])),
    Mistake("h-only", "Only H (rows) is padded: pad W by pW as well.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(_pp(P)[0],) * 2, (0, 0)])),
    Mistake("w-only", "Only W (columns) is padded: pad H by pH as well.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(0, 0), (_pp(P)[1],) * 2])),
    Mistake("first-axes", "The first two axes are padded instead of the last two (H, W).",
            lambda P, dev: _if(P.x.ndim > 2, lambda: np.pad(P.x, [(_pp(P)[0],) * 2, (_pp(P)[1],) * 2] + [(0, 0)] * (P.x.ndim - 2)))),
    Mistake("edge", "The border is padded with copies of the edge values: pad2d pads with zeros.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(_pp(P)[0],) * 2, (_pp(P)[1],) * 2], mode="edge")),
    Mistake("reflect", "The border is padded by reflection: pad2d pads with zeros.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(_pp(P)[0],) * 2, (_pp(P)[1],) * 2], mode="reflect")),
    Mistake("double", "The padding is doubled (2p on each side): padding p means p zeros on each side.",
            lambda P, dev: np.pad(P.x, _lead(P.x) + [(2 * _pp(P)[0],) * 2, (2 * _pp(P)[1],) * 2])),
]


def _if(cond, fn):
    return fn() if cond else None


# (text, formula) — each formula gets (n, k, s, p, d).
SIZE_MISTAKES = [
    ("the padding is counted once: there are p zeros on *each* side, so the padded length is n + 2p",
     lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1),
    ("dilation is ignored: a dilated kernel spans d·(k − 1) + 1 positions",
     lambda n, k, s, p, d: (n + 2 * p - k) // s + 1),
    ("the dilated kernel is taken to span d·k positions; it spans d·(k − 1) + 1",
     lambda n, k, s, p, d: (n + 2 * p - d * k) // s + 1),
    ("the −1 is missing: the formula is ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1",
     lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s + 1),
    ("the +1 is missing: the formula is ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1 (the first window counts too)",
     lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s),
    ("the division is rounded up (ceil); the formula floors it: a window that does not fit is dropped",
     lambda n, k, s, p, d: math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1),
    ("the division is rounded to the nearest integer; the formula floors it",
     lambda n, k, s, p, d: round((n + 2 * p - d * (k - 1) - 1) / s) + 1),
    ("the stride is ignored: divide by s (floor) before adding 1",
     lambda n, k, s, p, d: n + 2 * p - d * (k - 1)),
    ("the +1 is inside the division: the formula is ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1",
     lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1 + 1) // s),
    ("the padding is subtracted instead of added",
     lambda n, k, s, p, d: (n - 2 * p - d * (k - 1) - 1) // s + 1),
]


def diagnose_size(params: dict, actual) -> str | None:
    """Name the formula mistake whose value equals the student's `actual`."""
    try:
        got = float(actual)
    except Exception:
        return None
    args = [int(params[k]) for k in ("n", "kernel_size", "stride", "padding", "dilation")]
    right = mistakes_right(args)
    hits = [text for text, f in SIZE_MISTAKES if f(*args) != right and got == f(*args)]
    if hits:  # note: integers collide often, so name every formula that gives this value
        return "Your result matches a known mistake: " + "; or ".join(hits[:3]) + "."
    if got != int(got) if math.isfinite(got) else True:
        return "The result is not an integer: the formula floors the division (use //)."
    return None


def diagnose_size_error(params: dict, actual) -> str | None:
    """For a call that must raise: name the mistake behind the value returned instead."""
    try:
        got = float(actual)
        n, k, s, p, d = (int(params[key]) for key in ("n", "kernel_size", "stride", "padding", "dilation"))
    except Exception:
        return None
    num = n + 2 * p - d * (k - 1) - 1
    if num < 0 and got == int(num / s) + 1:
        # note: int() truncates toward zero, floor rounds down; they differ only for a negative numerator
        return (f"int({num}/{s}) truncates toward zero and gives {int(num / s)}, but the formula floors: "
                f"⌊{num}/{s}⌋ = {num // s}, so the output size is {num // s + 1} and the call must raise. "
                f"Use // (floor division), and raise ValueError when the size is < 1.")
    return None


def mistakes_right(args):
    n, k, s, p, d = args
    return (n + 2 * p - d * (k - 1) - 1) // s + 1
