"""relu and relu_backward (ps2), on the Exercise API.

softmax_cross_entropy (a float loss beside an array) and numerical_gradient
(a tolerance looser than `compare.RTOL`: central differences summed in
another order round differently) need what the array kinds do not offer yet;
they live in `_gradients.py` and are reached through `_custom.py`.
"""
from __future__ import annotations

import numpy as np

from cnnlab import reference as R
from cnnlab.grading.cases import REQUIRED
from cnnlab.grading.exercise import Exercise, Mistake

__all__ = ["RELU", "RELU_BACKWARD", "EXERCISES"]

_X = np.array([-2.0, -0.5, 0.0, 1.5, 3.0])


def _zeros_in(rng, shape):
    x = rng.standard_normal(shape) * 3
    x.flat[rng.choice(x.size, size=max(1, x.size // 5), replace=False)] = 0.0  # exact zeros: the kink
    return x


def _shape(rng):
    return tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 5))))


RELU = Exercise(
    name="relu",
    signature=(("x", REQUIRED),),
    reference=R.relu,
    worked=lambda: [RELU.case("worked example: relu([-2, -0.5, 0, 1.5, 3])", x=_X.copy())],
    features=lambda rng: [
        RELU.case("feature case: 4-D (N, C, H, W) input with exact zeros", x=_zeros_in(rng, (2, 3, 4, 5))),
        RELU.case("feature case: values far above 6 and below -6", x=rng.standard_normal((3, 4)) * 20),
        RELU.case("feature case: all negative", x=-np.abs(rng.standard_normal((5,))) - 0.1),
    ],
    random=lambda rng, label: RELU.case(label, x=_zeros_in(rng, _shape(rng))),
    mistakes=(
        Mistake("leaky", "This is a leaky ReLU (negative inputs times a small slope); ReLU sets them to 0.",
                lambda P, dev: np.where(P.x > 0, P.x, 0.01 * P.x)),
        Mistake("abs", "This is |x|; ReLU keeps positive values and sets negative ones to 0 (np.maximum(x, 0)).",
                lambda P, dev: np.abs(P.x)),
        Mistake("mask-returned", "This is the mask x > 0 as 0/1, not x where x > 0: multiply by x.",
                lambda P, dev: (P.x > 0).astype(np.float64)),
        Mistake("negative-part", "This keeps the negative values and zeroes the positive ones: the comparison is "
                                 "the wrong way round (np.minimum instead of np.maximum?).",
                lambda P, dev: np.minimum(P.x, 0)),
        Mistake("clipped-at-6", "Values above 6 are clipped (ReLU6); ReLU has no upper limit.",
                lambda P, dev: np.clip(P.x, 0, 6)),
    ),
)


def _rb(rng, label, shape):
    return RELU_BACKWARD.case(label, dout=rng.standard_normal(shape), x=_zeros_in(rng, shape))


RELU_BACKWARD = Exercise(
    name="relu_backward",
    signature=(("dout", REQUIRED), ("x", REQUIRED)),
    reference=R.relu_backward,
    worked=lambda: [RELU_BACKWARD.case("worked example: dout = [1, -2, 3, -4, 5] at x = [-2, -0.5, 0, 1.5, 3]",
                                       dout=np.array([1.0, -2.0, 3.0, -4.0, 5.0]), x=_X.copy())],
    features=lambda rng: [
        RELU_BACKWARD.case("feature case: x exactly 0 everywhere (the gradient there is 0, as torch)",
                           dout=rng.standard_normal((2, 3)), x=np.zeros((2, 3))),
        RELU_BACKWARD.case("feature case: negative upstream gradients at positive x",
                           dout=-np.abs(rng.standard_normal((3, 4))), x=np.abs(rng.standard_normal((3, 4))) + 0.1),
        _rb(rng, "feature case: 4-D (N, C, H, W) with exact zeros", (2, 3, 4, 5)),
    ],
    random=lambda rng, label: _rb(rng, label, _shape(rng)),
    mistakes=(
        Mistake("grad-at-zero-one", "The gradient at x == 0 is taken as 1 (x >= 0); torch and this course use 0 "
                                    "there (x > 0).", lambda P, dev: P.dout * (P.x >= 0)),
        Mistake("mask-from-dout", "The mask comes from dout (dout > 0); it must come from the forward input x "
                                  "(x > 0).", lambda P, dev: P.dout * (P.dout > 0)),
        Mistake("dout-not-multiplied", "This is the local gradient (x > 0) alone; multiply it by the upstream "
                                       "gradient dout (chain rule).", lambda P, dev: (P.x > 0).astype(np.float64)),
        Mistake("dout-unmasked", "dout is passed through unchanged; zero it where x <= 0.",
                lambda P, dev: P.dout.copy()),
        Mistake("arguments-swapped", "dout and x are swapped: the signature is relu_backward(dout, x).",
                lambda P, dev: P.x * (P.dout > 0)),
        Mistake("times-relu", "This multiplies dout by relu(x); the local gradient is the 0/1 mask (x > 0), "
                              "not the forward output.", lambda P, dev: P.dout * np.maximum(P.x, 0)),
    ),
)

EXERCISES = [RELU, RELU_BACKWARD]
