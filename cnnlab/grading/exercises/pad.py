"""pad2d: zeros around the last two axes, p on each side."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from cnnlab import reference as R
from cnnlab._args import as_pair
from cnnlab.grading.cases import REQUIRED, draw_pair
from cnnlab.grading.exercise import Exercise, Mistake
from cnnlab.grading.mistake import hyper_mistakes

__all__ = ["PAD2D", "EXERCISES"]


def _normalize(params: dict) -> SimpleNamespace:
    P = SimpleNamespace(**params)
    P.p = as_pair(P.padding, "padding")
    return P


def _lead(x):
    return [(0, 0)] * (x.ndim - 2)


def _pad(P, before_after, mode="constant"):
    return np.pad(P.x, _lead(P.x) + list(before_after), mode=mode)


def _if(cond, fn):
    return fn() if cond else None


def _rerun(P, dev, p):
    return _pad(P, [(p[0], p[0]), (p[1], p[1])])


_MEANING = "pad2d adds pH zeros above and below and pW zeros left and right of the last two axes."


def _hyper(*kinds, family=""):
    return hyper_mistakes("padding", _rerun, get=lambda P: P.p, neutral=0, meaning=_MEANING, kinds=kinds,
                          symbols=("pH", "pW"), family=family)


_MISTAKES = (
    *_hyper("ignored", family="too-little"),
    Mistake("all-axes", "np.pad(x, p) pads every axis, including the leading ones (N, C, ...): give a pad width per "
            "axis, ((0, 0), ..., (pH, pH), (pW, pW)).",
            lambda P, dev: _if(P.x.ndim > 2, lambda: np.pad(P.x, [(P.p[0], P.p[0])] * (P.x.ndim - 1) + [(P.p[1], P.p[1])]))),
    Mistake("before-after", "padding=(pH, pW) is used as (before, after) widths: np.pad(x, ..., [(pH, pW), (pH, pW)]) "
            "puts pH zeros before and pW after on each axis. pad2d pads H by pH on both sides and W by pW on both "
            "sides: ((0, 0), ..., (pH, pH), (pW, pW)).", lambda P, dev: _if(P.p[0] != P.p[1], lambda: _pad(P, [P.p, P.p]))),
    *_hyper("first"),
    Mistake("all-axes-pair", "np.pad(x, (pH, pW)) pads every axis with pH before and pW after: give a pad width "
            "per axis, ((0, 0), ..., (pH, pH), (pW, pW)).", lambda P, dev: np.pad(P.x, P.p)),
    Mistake("after-only", "Zeros are added only after (bottom/right): padding p means p zeros on each side.",
            lambda P, dev: _pad(P, [(0, P.p[0]), (0, P.p[1])])),
    Mistake("before-only", "Zeros are added only before (top/left): padding p means p zeros on each side.",
            lambda P, dev: _pad(P, [(P.p[0], 0), (P.p[1], 0)])),
    Mistake("all-after", "All the zeros are added after the input (2p at the bottom/right, none at the top/left): "
            "the shape is right but the image is shifted. Padding p means p zeros on each side.",
            lambda P, dev: _pad(P, [(0, 2 * P.p[0]), (0, 2 * P.p[1])])),
    Mistake("all-before", "All the zeros are added before the input (2p at the top/left, none at the bottom/right): "
            "the shape is right but the image is shifted. Padding p means p zeros on each side.",
            lambda P, dev: _pad(P, [(2 * P.p[0], 0), (2 * P.p[1], 0)])),
    Mistake("total", "The padding is split between the sides (p//2 each): padding p means p zeros on each side.",
            lambda P, dev: _pad(P, [(P.p[0] // 2,) * 2, (P.p[1] // 2,) * 2]), family="too-little"),
    *_hyper("swapped", "h-only", "w-only"),
    Mistake("first-axes", "The first two axes are padded instead of the last two (H, W).",
            lambda P, dev: _if(P.x.ndim > 2, lambda: np.pad(P.x, [(P.p[0],) * 2, (P.p[1],) * 2] + [(0, 0)] * (P.x.ndim - 2)))),
    Mistake("edge", "The border is padded with copies of the edge values: pad2d pads with zeros.",
            lambda P, dev: _pad(P, [(P.p[0],) * 2, (P.p[1],) * 2], mode="edge")),
    Mistake("reflect", "The border is padded by reflection: pad2d pads with zeros.",
            lambda P, dev: _pad(P, [(P.p[0],) * 2, (P.p[1],) * 2], mode="reflect")),
    Mistake("double", "The padding is doubled (2p on each side): padding p means p zeros on each side.",
            lambda P, dev: _pad(P, [(2 * P.p[0],) * 2, (2 * P.p[1],) * 2])),
)


def _hints(raised, P):
    tname, text, bases = raised
    if "ValueError" in bases and any(w in text for w in ("broadcast", "pad_width", "padding")):
        return ("x may have any number of leading axes (2-D (H, W), 3-D, 4-D (N, C, H, W)): pad only the last two, "
                "with one pad width per axis, [(0, 0)] * (x.ndim - 2) + [(pH, pH), (pW, pW)]; and copy x into "
                "out[..., pH:pH + H, pW:pW + W] (out[..., p:-p] is empty when p = 0).")
    return None


def _worked():
    w, x = "worked example", np.arange(1.0, 7.0).reshape(2, 3)
    return [PAD2D.case(f"{w} 'pad a 2x3 image by 1'", x=x, padding=1),
            PAD2D.case(f"{w} 'pad by (1, 2)'", x=x, padding=(1, 2))]


def _features(rng):
    table = [("2-D, padding 1", (3, 4), 1), ("2-D, padding (1, 2)", (3, 3), (1, 2)),
             ("4-D (N, C, H, W), padding 1", (2, 3, 3, 4), 1), ("3-D, padding (2, 0)", (2, 3, 2), (2, 0)),
             ("padding 0", (2, 2, 3), 0), ("4-D, padding (0, 3)", (1, 2, 2, 3), (0, 3))]
    return [PAD2D.case(f"feature case '{lab}'", x=rng.standard_normal(shape), padding=p) for lab, shape, p in table]


def _random(rng, label):
    ndim = int(rng.integers(2, 5))
    shape = tuple(int(v) for v in rng.integers(1, 5, size=ndim - 2)) + tuple(int(v) for v in rng.integers(1, 6, size=2))
    return PAD2D.case(label, x=rng.standard_normal(shape), padding=draw_pair(rng, 0, 3))


PAD2D = Exercise(
    name="pad2d", signature=(("x", REQUIRED), ("padding", REQUIRED)), reference=R.pad2d,
    worked=_worked, features=_features, random=_random, mistakes=_MISTAKES, normalize=_normalize, hints=_hints)

EXERCISES = [PAD2D]
