"""conv2d_params, linear_params: parameter counts of a layer (kind "int").

ps1 asks for both; their hidden tests go through `check` like every other
graded function, so their points rest on a verdict the grader decides.
"""
from __future__ import annotations

from cnnlab.grading.exercise import REQUIRED, Exercise, Mistake
from cnnlab.shapes import conv2d_params, linear_params

__all__ = ["CONV2D_PARAMS", "LINEAR_PARAMS", "EXERCISES"]


def _pair(k):
    return (int(k), int(k)) if isinstance(k, int) else (int(k[0]), int(k[1]))


def _conv(P):
    kh, kw = _pair(P.kernel_size)
    return int(P.c_in), int(P.c_out), kh, kw, bool(P.bias)


_CONV_WRONG = [
    ("bias-ignored", "the bias is not counted: a layer with bias=True has one bias per output channel (C_out more)",
     lambda ci, co, kh, kw, b: co * ci * kh * kw),
    ("bias-always", "the bias is counted even with bias=False",
     lambda ci, co, kh, kw, b: co * (ci * kh * kw + 1)),
    ("bias-per-input", "one bias per input channel is counted; there is one per output channel",
     lambda ci, co, kh, kw, b: co * ci * kh * kw + (ci if b else 0)),
    ("channels-in-ignored", "the input channels are not counted: every filter spans all C_in channels",
     lambda ci, co, kh, kw, b: co * (kh * kw + (1 if b else 0))),
    ("kernel-square", "the kernel is taken as square (KH·KH): a tuple kernel_size (KH, KW) has KH·KW weights",
     lambda ci, co, kh, kw, b: co * (ci * kh * kh + (1 if b else 0)) if kh != kw else None),
]

_CONV_MISTAKES = tuple(
    Mistake(key, f"Your count matches a known mistake: {text}.",
            (lambda f: lambda P, dev: f(*_conv(P)))(f)) for key, text, f in _CONV_WRONG)


def _conv_features(rng):
    table = [("bias=False", (3, 2, 3, False)), ("tuple kernel", (64, 128, (3, 1), True)),
             ("tuple kernel, no bias", (16, 8, (1, 5), False)), ("1x1", (1, 1, 1, True))]
    return [CONV2D_PARAMS.case(f"feature case '{lab}'", c_in=a, c_out=b, kernel_size=k, bias=bb)
            for lab, (a, b, k, bb) in table]


def _conv_random(rng, label):
    ci, co = (int(v) for v in rng.integers(1, 65, size=2))
    k = int(rng.integers(1, 8)) if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(1, 8, size=2))
    return CONV2D_PARAMS.case(label, c_in=ci, c_out=co, kernel_size=k, bias=bool(rng.random() < 0.5))


CONV2D_PARAMS = Exercise(
    name="conv2d_params",
    signature=(("c_in", REQUIRED), ("c_out", REQUIRED), ("kernel_size", REQUIRED), ("bias", True)),
    kind="int",
    reference=conv2d_params,
    worked=lambda: [CONV2D_PARAMS.case("worked example (lecture 3: 2 filters 3x3 on RGB)", c_in=3, c_out=2,
                                       kernel_size=3, bias=True),
                    CONV2D_PARAMS.case("worked example (10 filters 3x3 on RGB)", c_in=3, c_out=10, kernel_size=3,
                                       bias=True)],
    features=_conv_features,
    random=_conv_random,
    mistakes=_CONV_MISTAKES,
    forbidden={"cnnlab.shapes": ["conv2d_params", "linear_params"]},
    trials=8,
)

_LIN_WRONG = [
    ("bias-ignored", "the bias is not counted: a layer with bias=True has one bias per output (n_out more)",
     lambda i, o, b: i * o),
    ("bias-always", "the bias is counted even with bias=False", lambda i, o, b: o * (i + 1)),
    ("bias-per-input", "one bias per input is counted; there is one per output", lambda i, o, b: i * o + (i if b else 0)),
    ("plus-one", "one parameter is added instead of one per output", lambda i, o, b: i * o + (1 if b else 0)),
]

_LIN_MISTAKES = tuple(
    Mistake(key, f"Your count matches a known mistake: {text}.",
            (lambda f: lambda P, dev: f(int(P.n_in), int(P.n_out), bool(P.bias)))(f)) for key, text, f in _LIN_WRONG)


def _lin_random(rng, label):
    i, o = (int(v) for v in rng.integers(1, 3000, size=2))
    return LINEAR_PARAMS.case(label, n_in=i, n_out=o, bias=bool(rng.random() < 0.5))


LINEAR_PARAMS = Exercise(
    name="linear_params",
    signature=(("n_in", REQUIRED), ("n_out", REQUIRED), ("bias", True)),
    kind="int",
    reference=linear_params,
    worked=lambda: [LINEAR_PARAMS.case("worked example (a 5x6 input, fully connected to 12 outputs)",
                                       n_in=30, n_out=12, bias=True)],
    features=lambda rng: [LINEAR_PARAMS.case("feature case 'bias=False'", n_in=784, n_out=10, bias=False),
                          LINEAR_PARAMS.case("feature case 'one input, one output'", n_in=1, n_out=1, bias=True)],
    random=_lin_random,
    mistakes=_LIN_MISTAKES,
    forbidden={"cnnlab.shapes": ["conv2d_params", "linear_params"]},
    trials=8,
)

EXERCISES = [CONV2D_PARAMS, LINEAR_PARAMS]
