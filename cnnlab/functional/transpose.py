"""Transposed convolution in numpy, as `torch.nn.functional.conv_transpose2d`.

Every input pixel scatters a copy of the kernel, scaled by its value, into the
output, at stride steps; overlapping copies add up. Then `padding` rows and
columns are *cropped* from each side (the opposite of conv2d's padding) and
`output_padding` adds rows/columns at the bottom/right only, to pick one of the
sizes a strided conv2d maps to the same output size. The result is the
gradient of conv2d with respect to its input, and the weight is laid out
(C_in, C_out, KH, KW), input channels first.

    H_out = (H − 1)·sH − 2·pH + dH·(KH − 1) + output_padding_H + 1
"""
from __future__ import annotations

import numpy as np

from cnnlab import _args_ops as _args
from cnnlab._args import float_dtype
from cnnlab.functional._windows import _span

__all__ = ["conv_transpose2d", "conv_transpose2d_naive"]


def _full_size(x, w, s, d, p, out_hw):
    """Rows/columns of the uncropped canvas: every kernel copy, plus room for output_padding."""
    return tuple(max((x.shape[2 + a] - 1) * s[a] + d[a] * (w.shape[2 + a] - 1) + 1, p[a] + out_hw[a])
                 for a in range(2))


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
    """2-D transposed convolution ("fractionally strided", "deconvolution").

    Args:
        x: (N, C_in, H, W) input.
        w: (C_in, C_out, KH, KW) filters (note: input channels first, unlike conv2d).
        b: optional (C_out,) bias. Default: None.
        stride: int or (sH, sW), the step between kernel copies. Default: 1.
        padding: int or (pH, pW) rows/columns cropped from each side. Default: 0.
        output_padding: int or (h, w) extra rows/columns at the bottom/right;
            smaller than stride or dilation. Default: 0.
        dilation: int or (dH, dW); 1 is a contiguous kernel. Default: 1.

    Returns:
        (N, C_out, H_out, W_out), H_out as in the module docstring.
    """
    x, w, b, s, p, op, d, (H_out, W_out) = _args.conv_transpose2d_args(
        x, w, b, stride, padding, output_padding, dilation)
    dt = float_dtype(x, w) if b is None else float_dtype(x, w, b)
    (N, C_in, H, W), (_, C_out, KH, KW) = x.shape, w.shape
    # one matmul gives every (input pixel, kernel tap) product: the scattered copies, before adding
    w2 = w.astype(dt, copy=False).reshape(C_in, -1)  # (C_in, C_out*KH*KW)
    x2 = x.astype(dt, copy=False).transpose(1, 0, 2, 3).reshape(C_in, -1)  # (C_in, N*H*W)
    cols = (w2.T @ x2).reshape(C_out, KH, KW, N, H, W)  # tap (i, j) of every copy
    full = np.zeros((N, C_out, *_full_size(x, w, s, d, p, (H_out, W_out))), dtype=dt)
    for i in range(KH):
        for j in range(KW):
            # tap (i, j) of the copy of pixel (r, c) lands at (r·sH + i·dH, c·sW + j·dW); copies overlap, hence +=
            full[:, :, _span(i, d[0], s[0], H), _span(j, d[1], s[1], W)] += \
                cols[:, i, j].transpose(1, 0, 2, 3)  # (N, C_out, H, W)
    out = full[:, :, p[0]:p[0] + H_out, p[1]:p[1] + W_out]  # crop padding
    if b is not None:
        out = out + b.astype(dt, copy=False).reshape(1, -1, 1, 1)  # (1, C_out, 1, 1)
    return np.ascontiguousarray(out)


def conv_transpose2d_naive(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
    """Loop twin of `conv_transpose2d`: scatter each input pixel times the kernel, then crop."""
    x, w, b, (sH, sW), p, op, (dH, dW), (H_out, W_out) = _args.conv_transpose2d_args(
        x, w, b, stride, padding, output_padding, dilation)
    dt = float_dtype(x, w) if b is None else float_dtype(x, w, b)
    (N, C_in, H, W), (_, C_out, KH, KW) = x.shape, w.shape
    full = np.zeros((N, C_out, *_full_size(x, w, (sH, sW), (dH, dW), p, (H_out, W_out))), dtype=dt)
    for n in range(N):
        for ci in range(C_in):
            for r in range(H):
                for c in range(W):
                    rows = slice(r * sH, r * sH + dH * (KH - 1) + 1, dH)  # KH taps, dH apart
                    cols = slice(c * sW, c * sW + dW * (KW - 1) + 1, dW)
                    full[n, :, rows, cols] += x[n, ci, r, c] * w[ci]  # (C_out, KH, KW) copy of the kernel
    out = full[:, :, p[0]:p[0] + H_out, p[1]:p[1] + W_out].copy()  # crop padding
    if b is not None:
        out += b.reshape(1, -1, 1, 1)  # (1, C_out, 1, 1)
    return out
