"""max_pool2d, avg_pool2d and their backward passes (stride=None means kernel_size)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from cnnlab import examples
from cnnlab import reference as R
from cnnlab._args import as_pair, pool_stride
from cnnlab.grading.cases import REQUIRED, draw_pair, entry, fitting_size
from cnnlab.grading.exercise import Exercise
from cnnlab.grading.exercises._pool_mistakes import AVG_POOL, AVG_POOL_BACKWARD, MAX_POOL, MAX_POOL_BACKWARD
from cnnlab.shapes import pool_output_size

__all__ = ["MAX_POOL2D", "AVG_POOL2D", "MAX_POOL2D_BACKWARD", "AVG_POOL2D_BACKWARD", "EXERCISES"]

_POOL = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0))
# a 4x4 image whose values are not monotone (so "take the last element" fails): a course example
POOL_IMAGE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)

# label, N, C, H, W, kernel_size, stride, padding
_FEATURES = [
    ("2x2 windows, default stride", 1, 1, 4, 6, 2, None, 0),
    ("several samples and channels", 2, 3, 4, 4, 2, None, 0),
    ("3x3 windows, stride 2 (overlapping)", 1, 2, 7, 7, 3, 2, 0),
    ("stride 1 (overlapping)", 1, 2, 4, 5, 2, 1, 0),
    ("non-square window (2, 3), default stride", 2, 1, 6, 7, (2, 3), None, 0),
    ("stride (2, 1)", 1, 2, 6, 5, 2, (2, 1), 0),
    ("padding 1", 2, 3, 5, 5, 2, None, 1),
    ("padding 1, 3x3 windows, stride 2", 1, 3, 6, 5, 3, 2, 1),
    ("padding (0, 1)", 1, 2, 4, 5, (2, 3), (2, 1), (0, 1)),
    ("input size not a multiple of the window", 1, 2, 7, 5, 2, None, 0),
    ("window = input (output 1x1)", 2, 2, 3, 4, (3, 4), None, 0),
    ("1x1 window with stride 2", 1, 2, 5, 4, 1, 2, 0),
]


def _normalize(params: dict) -> SimpleNamespace:
    P = SimpleNamespace(one_d=False, **params)
    P.k = as_pair(P.kernel_size, "kernel_size", 1)
    P.s = pool_stride(P.stride, P.kernel_size)
    P.p = as_pair(P.padding, "padding")
    return P


def _case(ex, rng, label, N, C, H, W, k, s, p, ties=False, backward=False):
    """A pooling case; `ties` draws small integers so windows hold equal maxima."""
    x = rng.integers(-2, 3, size=(N, C, H, W)).astype(np.float64) if ties else rng.standard_normal((N, C, H, W))
    if backward:
        hw = [pool_output_size(n, entry(k, i), None if s is None else entry(s, i), entry(p, i))
              for i, n in enumerate((H, W))]
        return ex.case(label, dout=rng.standard_normal((N, C, *hw)), x=x, kernel_size=k, stride=s, padding=p)
    return ex.case(label, x=x, kernel_size=k, stride=s, padding=p)


def _random(ex, rng, label, backward):
    N, C = (int(v) for v in rng.integers(1, (3, 4)))
    k = draw_pair(rng, 1, 3)
    s = None if rng.random() < 0.3 else draw_pair(rng, 1, 3)
    p = (int(rng.integers(0, entry(k, 0) // 2 + 1)), int(rng.integers(0, entry(k, 1) // 2 + 1)))
    p = p[0] if p[0] == p[1] and rng.random() < 0.5 else p
    sk = k if s is None else s
    H = fitting_size(rng, entry(k, 0), entry(sk, 0), entry(p, 0), 1)
    W = fitting_size(rng, entry(k, 1), entry(sk, 1), entry(p, 1), 1)
    return _case(ex, rng, label, N, C, H, W, k, s, p, backward=backward)


def _features(ex, rng, backward, ties):
    out = [_case(ex, rng, f"feature case '{t[0]}'", *t[1:], backward=backward) for t in _FEATURES]
    if ties:  # note: last, so that other mistakes are named first
        out.append(_case(ex, rng, "feature case 'windows with tied maxima'", 2, 2, 5, 6, 2, 1, 0, True, backward))
        out.append(_case(ex, rng, "feature case 'tied maxima, padding 1'", 1, 2, 5, 5, 3, 2, 1, True, backward))
        # note: every window ties; a padding value that is finite (x.min(), 0) ties too and must not win
        x = np.broadcast_to(rng.integers(-3, 0, size=(1, 2, 1, 1)).astype(np.float64), (1, 2, 4, 5)).copy()
        out.append(ex.case("feature case 'constant negative channels, padding 1'", dout=rng.standard_normal((1, 2, 3, 3)),
                           x=x, kernel_size=2, stride=2, padding=1))
    return out


def _worked(ex, backward):
    w = "worked example"
    axes = examples.get("cartesian_axes_conv").inputs["x"]
    blur = examples.get("blur").inputs["x"]
    if not backward:
        return [ex.case(f"{w} '2x2 pooling of a 4x4 image'", x=POOL_IMAGE[None, None], kernel_size=2),
                ex.case(f"{w} 'Cartesian axes image, 3x3 windows, stride 1'", x=axes[None, None], kernel_size=3, stride=1)]
    return [ex.case(f"{w} '2x2 pooling of a 4x4 image, upstream [[1, 2], [3, 4]]'",
                    dout=np.array([[[[1.0, 2], [3, 4]]]]), x=POOL_IMAGE[None, None], kernel_size=2),
            ex.case(f"{w} 'blur image, 3x3 windows, stride 1 (overlapping)'",
                    dout=np.array([[[[1.0, -2, 1], [3, 0.5, -1], [2, 1, 4]]]]), x=blur[None, None], kernel_size=3, stride=1)]


def _exercise(name, reference, mistakes, backward=False, ties=False) -> Exercise:
    head = (("dout", REQUIRED), ("x", REQUIRED)) if backward else (("x", REQUIRED),)
    ex = None  # note: the case builders refer to the exercise they belong to, bound below
    ex = Exercise(name=name, signature=(*head, *_POOL), reference=reference,
                  worked=lambda: _worked(ex, backward), features=lambda rng: _features(ex, rng, backward, ties),
                  random=lambda rng, label: _random(ex, rng, label, backward), mistakes=tuple(mistakes),
                  normalize=_normalize)
    return ex


MAX_POOL2D = _exercise("max_pool2d", R.max_pool2d, MAX_POOL)
AVG_POOL2D = _exercise("avg_pool2d", R.avg_pool2d, AVG_POOL)
MAX_POOL2D_BACKWARD = _exercise("max_pool2d_backward", R.max_pool2d_backward, MAX_POOL_BACKWARD, backward=True, ties=True)
AVG_POOL2D_BACKWARD = _exercise("avg_pool2d_backward", R.avg_pool2d_backward, AVG_POOL_BACKWARD, backward=True)

EXERCISES = [MAX_POOL2D, AVG_POOL2D, MAX_POOL2D_BACKWARD, AVG_POOL2D_BACKWARD]
