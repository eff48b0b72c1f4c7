"""Worked examples from the lecture decks (../shared/seeds), run first.

Small, readable integer inputs whose answers students can check by hand; the
failure message prints them in full.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading.cases import Case, make

__all__ = ["worked_cases"]

# deck 000: a vertical line detector on a 5x6 image (output 3x4).
LINE_IMAGE = np.array([[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1],
                       [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], dtype=np.float64)
LINE_KERNEL = np.array([[-1, 2, -1]] * 3, dtype=np.float64)
# deck 004: the blur filter on a 5x5 image (the deck's 144 is a slip for 244).
BLUR_IMAGE = np.array([[206, 205, 247, 245, 244], [244, 161, 137, 244, 254], [192, 154, 75, 200, 249],
                       [90, 109, 96, 143, 223], [67, 69, 107, 196, 236]], dtype=np.float64)
BLUR_KERNEL = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float64) / 16
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
# deck 001: "Cartesian axes" image and its two line filters.
AXES_IMAGE = np.array([[0, 1, 0, 1], [0, 1, 0, 1], [1, 1, 1, 1], [0, -2, 0, -2]], dtype=np.float64)
AXES_FILTERS = np.array([[[-0.5, 1, -0.5]] * 3, [[-0.5] * 3, [1] * 3, [-0.5] * 3]], dtype=np.float64)
# deck 001: vertical edge detection, and the "convolution layers" 5x5 input with its 3x3 kernel.
EDGE_IMAGE = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float64)
EDGE_KERNEL = np.array([[1, 0, -1]] * 3, dtype=np.float64)
LAYER_IMAGE = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]],
                       dtype=np.float64)
LAYER_KERNEL = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=np.float64)
# deck 002: the 12-sample signal and the kernel [-0.5, 0, 0.5] (padding 1; stride 2 with dilation 2).
SIGNAL = np.array([[[5.2, 5.3, 5.4, 5.1, 10.1, 10.3, 9.9, 10.3, 3.2, 3.4, 3.3, 3.1]]])
SIGNAL_KERNEL = np.array([[[-0.5, 0.0, 0.5]]])
# a 4x4 pooling example whose values are not monotone (so "take the last element" fails).
POOL_IMAGE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)
STEP = np.array([[0, 0, 1, 2], [0, 1, 2, 3], [1, 2, 3, 3]], dtype=np.float64)  # a ramp, kernel (1, 2) detects slope


def _b(a, n=2):
    return a.reshape((1,) * n + a.shape)


def worked_cases(op: str) -> list[Case]:
    """The worked examples of `op` (may be empty)."""
    w = "worked example"
    if op == "corr2d":
        return [make(op, f"{w} 'vertical line detector' (deck 000)", x=LINE_IMAGE, k=LINE_KERNEL),
                make(op, f"{w} 'blur filter' (deck 004)", x=BLUR_IMAGE, k=BLUR_KERNEL),
                make(op, f"{w} 'vertical edge detection' (deck 001)", x=EDGE_IMAGE, k=EDGE_KERNEL),
                make(op, f"{w} 'convolution layer' (deck 001)", x=LAYER_IMAGE, k=LAYER_KERNEL),
                make(op, f"{w} 'Sobel x on the blur image'", x=BLUR_IMAGE, k=SOBEL_X),
                make(op, f"{w} 'ramp with kernel [[-1, 1]]'", x=STEP, k=np.array([[-1.0, 1.0]]))]
    if op == "pad2d":
        return [make(op, f"{w} 'pad a 2x3 image by 1'", x=np.arange(1.0, 7.0).reshape(2, 3), padding=1),
                make(op, f"{w} 'pad by (1, 2)'", x=np.arange(1.0, 7.0).reshape(2, 3), padding=(1, 2))]
    if op == "conv_output_size":
        # deck 004's 39x39 walk-through, deck 001's kernel 3 / stride 2 / padding 1.
        table = [(39, 3, 1, 0, 1), (37, 5, 2, 0, 1), (17, 5, 2, 0, 1), (5, 3, 2, 1, 1), (7, 3, 1, 1, 1), (32, 3, 1, 0, 2)]
        return [make(op, f"{w} (decks 001/002/004)", n=n, kernel_size=k, stride=s, padding=p, dilation=d)
                for n, k, s, p, d in table]
    if op == "conv1d":
        x = np.array([[[1.0, 2, 4, 7, 11, 16]]])
        return [make(op, f"{w} 'differences with kernel [-1, 0, 1]'", x=x, w=np.array([[[-1.0, 0, 1]]])),
                make(op, f"{w} '12-sample signal, kernel [-0.5, 0, 0.5], padding 1' (deck 002)", x=SIGNAL,
                     w=SIGNAL_KERNEL, padding=1),
                make(op, f"{w} 'the same signal, stride 2, dilation 2' (deck 002)", x=SIGNAL, w=SIGNAL_KERNEL,
                     stride=2, dilation=2),
                make(op, f"{w} 'kernel [1, 2], padding 1, stride 2'", x=x, w=np.array([[[1.0, 2]]]), stride=2, padding=1)]
    if op == "conv2d":
        return [make(op, f"{w} 'vertical line detector' (deck 000)", x=_b(LINE_IMAGE), w=_b(LINE_KERNEL)),
                make(op, f"{w} 'blur filter' (deck 004)", x=_b(BLUR_IMAGE), w=_b(BLUR_KERNEL)),
                make(op, f"{w} 'vertical edge detection' (deck 001)", x=_b(EDGE_IMAGE), w=_b(EDGE_KERNEL)),
                make(op, f"{w} 'Sobel x'", x=_b(BLUR_IMAGE), w=_b(SOBEL_X)),
                make(op, f"{w} 'Cartesian axes, two filters' (deck 001)", x=_b(AXES_IMAGE), w=AXES_FILTERS[:, None]),
                make(op, f"{w} 'Sobel x, padding 1, stride 2, bias 1'", x=_b(BLUR_IMAGE), w=_b(SOBEL_X),
                     b=np.array([1.0]), stride=2, padding=1)]
    if op == "conv2d_backward":
        dout = np.array([[[[1.0, -1], [2, 0.5]]]])
        return [make(op, f"{w} 'Cartesian axes image, filter 1, upstream [[1, -1], [2, 0.5]]'", dout=dout,
                     x=_b(AXES_IMAGE), w=AXES_FILTERS[0:1, None]),
                make(op, f"{w} 'ramp, kernel [[-1, 1]], stride (1, 2)'", dout=np.array([[[[1.0, 2], [3, 4], [5, 6]]]]),
                     x=_b(STEP), w=np.array([[[[-1.0, 1.0]]]]), stride=(1, 2))]
    if op in ("max_pool2d", "avg_pool2d"):
        return [make(op, f"{w} '2x2 pooling of a 4x4 image'", x=_b(POOL_IMAGE), kernel_size=2),
                make(op, f"{w} 'Cartesian axes image, 3x3 windows, stride 1'", x=_b(AXES_IMAGE), kernel_size=3, stride=1)]
    if op in ("max_pool2d_backward", "avg_pool2d_backward"):
        return [make(op, f"{w} '2x2 pooling of a 4x4 image, upstream [[1, 2], [3, 4]]'",
                     dout=np.array([[[[1.0, 2], [3, 4]]]]), x=_b(POOL_IMAGE), kernel_size=2),
                make(op, f"{w} 'blur image, 3x3 windows, stride 1 (overlapping)'",
                     dout=np.array([[[[1.0, -2, 1], [3, 0.5, -1], [2, 1, 4]]]]), x=_b(BLUR_IMAGE), kernel_size=3, stride=1)]
    return []
