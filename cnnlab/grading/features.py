"""Feature cases: one fixed shape/hyper-parameter setting per feature.

They run after the worked examples and before the random cases, so every
feature (padding, asymmetric stride, dilation, bias broadcasting, batch sums,
overlapping pooling windows, ties, ...) is exercised whatever the seed.
Values are drawn from the check's generator.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading.cases import Case, conv_case, make, pool_case

__all__ = ["feature_cases", "error_cases"]

# label, N, C_in, H, W, C_out, KH, KW, bias, stride, padding, dilation
_CONV2D = [
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
_CONV1D = [
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

# label, N, C, H, W, kernel_size, stride, padding
_POOL = [
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


def feature_cases(op: str, rng: np.random.Generator) -> list[Case]:
    """The fixed feature cases of `op`, with values from `rng`."""
    if op in ("conv2d", "conv2d_backward"):
        return [conv_case(op, rng, f"feature case '{t[0]}'", *t[1:]) for t in _CONV2D]
    if op == "conv1d":
        out = []
        for label, N, C_in, L, C_out, K, bias, s, p, d in _CONV1D:
            out.append(conv_case(op, rng, f"feature case '{label}'", N, C_in, 1, L, C_out, 1, K, bias, s, p, d))
        return out
    if op.endswith("pool2d") or op.endswith("pool2d_backward"):
        out = [pool_case(op, rng, f"feature case '{t[0]}'", *t[1:]) for t in _POOL]
        if op == "max_pool2d_backward":  # note: last, so that other mistakes are named first
            out.append(pool_case(op, rng, "feature case 'windows with tied maxima'", 2, 2, 5, 6, 2, 1, 0, ties=True))
            out.append(pool_case(op, rng, "feature case 'tied maxima, padding 1'", 1, 2, 5, 5, 3, 2, 1, ties=True))
            # note: every window ties; a padding value that is finite (x.min(), 0) ties too and must not win
            x = np.broadcast_to(rng.integers(-3, 0, size=(1, 2, 1, 1)).astype(np.float64), (1, 2, 4, 5)).copy()
            out.append(make(op, "feature case 'constant negative channels, padding 1'", dout=rng.standard_normal((1, 2, 3, 3)),
                            x=x, kernel_size=2, stride=2, padding=1))
        return out
    if op == "corr2d":
        shapes = [((5, 5), (3, 3)), ((6, 4), (2, 3)), ((4, 7), (3, 1)), ((3, 3), (3, 3)), ((5, 6), (1, 1))]
        labels = ["3x3 kernel", "non-square input and kernel", "kernel 3x1", "kernel = input (output 1x1)", "1x1 kernel"]
        return [make(op, f"feature case '{lab}'", x=rng.standard_normal(xs), k=rng.standard_normal(ks))
                for lab, (xs, ks) in zip(labels, shapes)]
    if op == "pad2d":
        table = [("2-D, padding 1", (3, 4), 1), ("2-D, padding (1, 2)", (3, 3), (1, 2)),
                 ("4-D (N, C, H, W), padding 1", (2, 3, 3, 4), 1), ("3-D, padding (2, 0)", (2, 3, 2), (2, 0)),
                 ("padding 0", (2, 2, 3), 0), ("4-D, padding (0, 3)", (1, 2, 2, 3), (0, 3))]
        return [make(op, f"feature case '{lab}'", x=rng.standard_normal(shape), padding=p) for lab, shape, p in table]
    if op == "conv_output_size":
        table = [("valid", (7, 3, 1, 0, 1)), ("same padding", (7, 3, 1, 1, 1)), ("stride 2, floor", (8, 3, 2, 0, 1)),
                 ("stride 3 with padding", (10, 4, 3, 2, 1)), ("dilation 2", (9, 3, 1, 0, 2)),
                 ("everything", (20, 3, 2, 1, 3)), ("kernel = padded input", (3, 5, 1, 1, 1)), ("1x1 kernel", (6, 1, 1, 0, 1)),
                 ("stride larger than the kernel", (11, 2, 4, 0, 1)), ("padding 3", (2, 2, 1, 3, 1))]
        return [make(op, f"feature case '{lab}'", n=n, kernel_size=k, stride=s, padding=p, dilation=d)
                for lab, (n, k, s, p, d) in table]
    return []


def error_cases(op: str) -> list[Case]:
    """Calls that must raise (the contract's ValueError for an empty output)."""
    if op != "conv_output_size":
        return []
    table = [(3, 5, 1, 0, 1), (4, 3, 1, 0, 2), (2, 6, 2, 1, 1), (2, 4, 3, 0, 1)]  # the last: int(-2/3) != -2 // 3
    return [make(op, "error case (the kernel does not fit: the output would be empty)", error="ValueError",
                 n=n, kernel_size=k, stride=s, padding=p, dilation=d) for n, k, s, p, d in table]
