"""conv2d_backward: the gradients (dx, dw, db) of conv2d (kind "arrays")."""
from __future__ import annotations

import numpy as np

from cnnlab import examples
from cnnlab import reference as R
from cnnlab.grading.cases import REQUIRED
from cnnlab.grading.exercise import Exercise
from cnnlab.grading.exercises._conv_backward_mistakes import CONV_BACKWARD
from cnnlab.grading.exercises.conv import CONV2D_FEATURES, STEP, conv_case, normalize_2d, random_conv

__all__ = ["CONV2D_BACKWARD", "EXERCISES"]


def _worked():
    w = "worked example"
    axes = examples.get("cartesian_axes_conv").inputs
    x = axes["x"].reshape(1, 1, *axes["x"].shape)  # (1, 1, 4, 4)
    return [CONV2D_BACKWARD.case(f"{w} 'Cartesian axes image, filter 1, upstream [[1, -1], [2, 0.5]]'",
                                 dout=np.array([[[[1.0, -1], [2, 0.5]]]]), x=x, w=axes["w"][0:1]),
            CONV2D_BACKWARD.case(f"{w} 'ramp, kernel [[-1, 1]], stride (1, 2)'",
                                 dout=np.array([[[[1.0, 2], [3, 4], [5, 6]]]]), x=STEP[None, None],
                                 w=np.array([[[[-1.0, 1.0]]]]), stride=(1, 2))]


CONV2D_BACKWARD = Exercise(
    name="conv2d_backward",
    signature=(("dout", REQUIRED), ("x", REQUIRED), ("w", REQUIRED), ("stride", 1), ("padding", 0), ("dilation", 1)),
    kind="arrays", outputs=("dx", "dw", "db"), reference=R.conv2d_backward,
    worked=_worked,
    features=lambda rng: [conv_case(CONV2D_BACKWARD, rng, f"feature case '{t[0]}'", *t[1:], backward=True)
                          for t in CONV2D_FEATURES],
    random=lambda rng, label: random_conv(CONV2D_BACKWARD, rng, label, backward=True),
    mistakes=tuple(CONV_BACKWARD), normalize=normalize_2d)

EXERCISES = [CONV2D_BACKWARD]
