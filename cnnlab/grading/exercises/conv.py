"""corr2d, conv1d and conv2d: cross-correlation, from one kernel to batches of filters.

conv1d is checked like a conv2d with H = 1 (its `normalize` adds the axis), so
both share the mistake catalogue of `_conv_mistakes`.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from cnnlab import examples
from cnnlab import reference as R
from cnnlab._args import as_int, as_pair
from cnnlab.grading.cases import REQUIRED, draw_pair, entry, fitting_size
from cnnlab.grading.exercise import Exercise
from cnnlab.grading.exercises._conv_mistakes import CONV, CONV1D_ONLY, CORR2D
from cnnlab.shapes import conv_output_size

__all__ = ["CORR2D_EX", "CONV1D", "CONV2D", "EXERCISES", "conv_case", "random_conv", "CONV2D_FEATURES",
           "normalize_2d", "SOBEL_X", "STEP"]

_HYPER = (("b", None), ("stride", 1), ("padding", 0), ("dilation", 1))


def _deck(name, key):
    return examples.get(name).inputs[key]


def _b(a, n=2):
    return np.asarray(a).reshape((1,) * n + np.shape(a))


# a ramp (kernel (1, 2) detects slope) and a 4x4 image for pooling: course examples, not deck data
STEP = np.array([[0, 0, 1, 2], [0, 1, 2, 3], [1, 2, 3, 3]], dtype=np.float64)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)


# ------------------------------------------------------------------ cases
def conv_case(ex, rng, label, N, C_in, H, W, C_out, KH, KW, bias, s, p, d, one_d=False, backward=False):
    """A conv1d/conv2d/conv2d_backward case with random normal values."""
    xs = (N, C_in, W) if one_d else (N, C_in, H, W)
    ws = (C_out, C_in, KW) if one_d else (C_out, C_in, KH, KW)
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws)
    if backward:
        hw = [conv_output_size(n, k, entry(s, i), entry(p, i), entry(d, i)) for i, (n, k) in enumerate(((H, KH), (W, KW)))]
        dout = rng.standard_normal((N, C_out, *hw))
        return ex.case(label, dout=dout, x=x, w=w, stride=s, padding=p, dilation=d)
    b = rng.standard_normal(C_out) if bias else None
    return ex.case(label, x=x, w=w, b=b, stride=s, padding=p, dilation=d)


def random_conv(ex, rng, label, one_d=False, backward=False):
    N, C_in, C_out = (int(v) for v in rng.integers(1, (4, 4, 5)))
    if not one_d:
        k, s, p, d = draw_pair(rng, 1, 4), draw_pair(rng, 1, 3), draw_pair(rng, 0, 2), draw_pair(rng, 1, 2, 0.6)
    else:
        k, s, p, d = (int(v) for v in rng.integers((1, 1, 0, 1), (6, 4, 3, 3)))
    KH, KW = entry(k, 0), entry(k, 1)
    H = 1 if one_d else fitting_size(rng, KH, entry(s, 0), entry(p, 0), entry(d, 0))
    W = fitting_size(rng, KW, entry(s, 1), entry(p, 1), entry(d, 1))
    return conv_case(ex, rng, label, N, C_in, H, W, C_out, KH, KW, rng.random() < 0.7, s, p, d, one_d, backward)


# label, N, C_in, H, W, C_out, KH, KW, bias, stride, padding, dilation
CONV2D_FEATURES = [
    ("one channel, 3x3 kernel, defaults", 1, 1, 5, 5, 1, 3, 3, False, 1, 0, 1),
    ("non-square input and kernel", 1, 1, 6, 5, 1, 2, 3, False, 1, 0, 1),
    ("several input channels", 1, 3, 5, 4, 1, 3, 3, False, 1, 0, 1),
    ("bias with C_out = H_out = W_out", 2, 2, 5, 5, 3, 3, 3, True, 1, 0, 1),
    ("several filters with a bias", 1, 2, 5, 6, 3, 3, 2, True, 1, 0, 1),
    ("batch of 3", 3, 2, 4, 5, 2, 2, 2, True, 1, 0, 1),
    ("padding 1", 2, 2, 5, 5, 2, 3, 3, True, 1, 1, 1),
    ("padding (0, 1)", 1, 2, 4, 5, 2, 3, 3, False, 1, (0, 1), 1),
    ("padding (2, 1)", 1, 1, 4, 4, 1, 2, 3, False, 1, (2, 1), 1),
    ("stride 2", 2, 2, 7, 8, 2, 3, 3, True, 2, 0, 1),
    ("stride (2, 1)", 1, 2, 7, 6, 2, 3, 2, False, (2, 1), 0, 1),
    ("stride (1, 3)", 1, 1, 5, 8, 2, 2, 2, False, (1, 3), 0, 1),
    ("stride 2 and padding 1", 1, 2, 6, 7, 2, 3, 3, True, 2, 1, 1),
    ("dilation 2", 1, 2, 7, 7, 2, 3, 3, False, 1, 0, 2),
    ("dilation (2, 1)", 1, 1, 7, 6, 2, 3, 2, True, 1, 0, (2, 1)),
    ("1x1 kernel", 2, 3, 4, 5, 2, 1, 1, True, 1, 0, 1),
    ("kernel as large as the padded input (output 1x1)", 2, 2, 3, 4, 2, 5, 6, True, 1, 1, 1),
    ("everything at once", 2, 3, 7, 8, 2, 3, 2, True, (2, 1), (1, 2), (1, 2)),
]

# label, N, C_in, L, C_out, K, bias, stride, padding, dilation
_CONV1D_FEATURES = [
    ("one channel, kernel 3, defaults", 1, 1, 7, 1, 3, False, 1, 0, 1),
    ("several input channels", 1, 3, 6, 1, 2, False, 1, 0, 1),
    ("bias with C_out = L_out", 2, 2, 6, 4, 3, True, 1, 0, 1),
    ("several filters with a bias", 1, 2, 7, 3, 3, True, 1, 0, 1),
    ("batch of 3", 3, 2, 6, 2, 2, True, 1, 0, 1),
    ("padding 2", 2, 2, 5, 2, 3, True, 1, 2, 1),
    ("stride 2", 2, 1, 9, 2, 3, True, 2, 0, 1),
    ("stride 3 and padding 1", 1, 2, 8, 2, 2, False, 3, 1, 1),
    ("dilation 2", 1, 2, 9, 2, 3, False, 1, 0, 2),
    ("kernel 1", 2, 3, 5, 2, 1, True, 1, 0, 1),
    ("kernel as large as the padded input (output length 1)", 2, 2, 4, 2, 6, True, 1, 1, 1),
    ("everything at once", 2, 3, 11, 2, 3, True, 2, 1, 2),
]


# -------------------------------------------------------------- normalize
def normalize_2d(params: dict) -> SimpleNamespace:
    """Hyper-parameters as (h, w) pairs (P.s, P.p, P.d) through the argument layer."""
    P = SimpleNamespace(one_d=False, **params)
    P.s, P.p, P.d = as_pair(P.stride, "stride", 1), as_pair(P.padding, "padding"), as_pair(P.dilation, "dilation", 1)
    return P


def _normalize_1d(params: dict) -> SimpleNamespace:
    """conv1d seen as a conv2d with H = 1: x (N, C_in, 1, L), w (C_out, C_in, 1, K)."""
    P = SimpleNamespace(one_d=True, **params)
    P.x, P.w = P.x[:, :, None, :], P.w[:, :, None, :]  # (N, C_in, 1, L), (C_out, C_in, 1, K)
    P.s, P.p, P.d = ((1, as_int(P.stride, "stride", 1)), (0, as_int(P.padding, "padding")),
                     (1, as_int(P.dilation, "dilation", 1)))
    return P


def _normalize_corr(params: dict) -> SimpleNamespace:
    return SimpleNamespace(one_d=False, **params)


# ------------------------------------------------------------------ corr2d
def _corr_worked():
    w = "worked example"
    return [CORR2D_EX.case(f"{w} 'vertical line detector' (deck 000)", x=_deck("vertical_line", "x"),
                           k=_deck("vertical_line", "k")),
            CORR2D_EX.case(f"{w} 'blur filter' (deck 004)", x=_deck("blur", "x"), k=_deck("blur", "k")),
            CORR2D_EX.case(f"{w} 'vertical edge detection' (deck 001)", x=_deck("vertical_edge", "x"),
                           k=_deck("vertical_edge", "k")),
            CORR2D_EX.case(f"{w} 'convolution layer' (deck 001)", x=_deck("conv_layer", "x"), k=_deck("conv_layer", "k")),
            CORR2D_EX.case(f"{w} 'Sobel x on the blur image'", x=_deck("blur", "x"), k=SOBEL_X),
            CORR2D_EX.case(f"{w} 'ramp with kernel [[-1, 1]]'", x=STEP, k=np.array([[-1.0, 1.0]]))]


def _corr_features(rng):
    shapes = [((5, 5), (3, 3)), ((6, 4), (2, 3)), ((4, 7), (3, 1)), ((3, 3), (3, 3)), ((5, 6), (1, 1))]
    labels = ["3x3 kernel", "non-square input and kernel", "kernel 3x1", "kernel = input (output 1x1)", "1x1 kernel"]
    return [CORR2D_EX.case(f"feature case '{lab}'", x=rng.standard_normal(xs), k=rng.standard_normal(ks))
            for lab, (xs, ks) in zip(labels, shapes)]


def _corr_random(rng, label):
    KH, KW = (int(v) for v in rng.integers(1, 5, size=2))
    H, W = (int(v) for v in rng.integers((KH, KW), (KH + 6, KW + 6)))
    return CORR2D_EX.case(label, x=rng.standard_normal((H, W)), k=rng.standard_normal((KH, KW)))


CORR2D_EX = Exercise(
    name="corr2d", signature=(("x", REQUIRED), ("k", REQUIRED)), reference=R.corr2d,
    worked=_corr_worked, features=_corr_features, random=_corr_random, mistakes=tuple(CORR2D),
    normalize=_normalize_corr)


# ------------------------------------------------------------------ conv1d
def _conv1d_worked():
    w, ex = "worked example", examples.get("signal_1d")
    x, sig, k = np.array([[[1.0, 2, 4, 7, 11, 16]]]), _b(ex.inputs["x"]), _b(ex.inputs["w"])
    strided = examples.get("signal_1d_stride_dilation").params
    return [CONV1D.case(f"{w} 'differences with kernel [-1, 0, 1]'", x=x, w=np.array([[[-1.0, 0, 1]]])),
            CONV1D.case(f"{w} '12-sample signal, kernel [-0.5, 0, 0.5], padding 1' (deck 002)", x=sig, w=k,
                        padding=ex.params["padding"]),
            CONV1D.case(f"{w} 'the same signal, stride 2, dilation 2' (deck 002)", x=sig, w=k,
                        stride=strided["stride"], dilation=strided["dilation"]),
            CONV1D.case(f"{w} 'kernel [1, 2], padding 1, stride 2'", x=x, w=np.array([[[1.0, 2]]]), stride=2, padding=1)]


def _conv1d_features(rng):
    return [conv_case(CONV1D, rng, f"feature case '{label}'", N, C_in, 1, L, C_out, 1, K, bias, s, p, d, one_d=True)
            for label, N, C_in, L, C_out, K, bias, s, p, d in _CONV1D_FEATURES]


CONV1D = Exercise(
    name="conv1d", signature=(("x", REQUIRED), ("w", REQUIRED), *_HYPER), reference=R.conv1d,
    worked=_conv1d_worked, features=_conv1d_features,
    random=lambda rng, label: random_conv(CONV1D, rng, label, one_d=True),
    mistakes=tuple(CONV1D_ONLY + CONV), normalize=_normalize_1d, helpers=("pad2d", "conv2d", "corr2d"))


# ------------------------------------------------------------------ conv2d
def _conv2d_worked():
    w = "worked example"
    axes = examples.get("cartesian_axes_conv").inputs
    blur = _b(_deck("blur", "x"))
    return [CONV2D.case(f"{w} 'vertical line detector' (deck 000)", x=_b(_deck("vertical_line", "x")),
                        w=_b(_deck("vertical_line", "k"))),
            CONV2D.case(f"{w} 'blur filter' (deck 004)", x=blur, w=_b(_deck("blur", "k"))),
            CONV2D.case(f"{w} 'vertical edge detection' (deck 001)", x=_b(_deck("vertical_edge", "x")),
                        w=_b(_deck("vertical_edge", "k"))),
            CONV2D.case(f"{w} 'Sobel x'", x=blur, w=_b(SOBEL_X)),
            CONV2D.case(f"{w} 'Cartesian axes, two filters' (deck 001)", x=_b(axes["x"]), w=axes["w"]),
            CONV2D.case(f"{w} 'Sobel x, padding 1, stride 2, bias 1'", x=blur, w=_b(SOBEL_X), b=np.array([1.0]),
                        stride=2, padding=1)]


CONV2D = Exercise(
    name="conv2d", signature=(("x", REQUIRED), ("w", REQUIRED), *_HYPER), reference=R.conv2d,
    worked=_conv2d_worked,
    features=lambda rng: [conv_case(CONV2D, rng, f"feature case '{t[0]}'", *t[1:]) for t in CONV2D_FEATURES],
    random=lambda rng, label: random_conv(CONV2D, rng, label),
    mistakes=tuple(CONV), normalize=normalize_2d, helpers=("pad2d", "corr2d"))

EXERCISES = [CORR2D_EX, CONV1D, CONV2D]
