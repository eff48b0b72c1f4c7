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
from cnnlab.functional._windows import _parallel, _tap_ranges

__all__ = ["conv_transpose2d", "conv_transpose2d_naive"]

_BLOCK_BYTES = 1 << 20  # the kernel copies of a block of images stay in the cache while they are added


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
    wT = w.astype(dt, copy=False).reshape(C_in, -1).T  # (C_out*KH*KW, C_in)
    x3 = x.astype(dt, copy=False).reshape(N, C_in, H * W)  # (N, C_in, H*W)
    out = np.zeros((N, C_out, H_out, W_out), dtype=dt)
    if b is not None:
        out += b.astype(dt, copy=False).reshape(1, -1, 1, 1)  # (1, C_out, 1, 1)
    # tap (i, j) of the copy scattered by input pixel (r, c) lands at (r·sH + i·dH − pH, c·sW + j·dW − pW);
    # only the pixels landing inside the output (not in the cropped padding) are added
    rows = _tap_ranges(H_out, H, KH, s[0], p[0], d[0])  # per tap: (input rows, output rows)
    cols_ = _tap_ranges(W_out, W, KW, s[1], p[1], d[1])
    per = max(1, min(N, _BLOCK_BYTES // (wT.shape[0] * H * W * dt.itemsize)))  # images per block
    blocks = [(n, min(N, n + per)) for n in range(0, N, per)]

    def work(lo, hi):
        for n0, n1 in blocks[lo:hi]:
            # one matmul gives every (input pixel, kernel tap) product: the scaled kernel copies, before adding
            cols = np.matmul(wT, x3[n0:n1]).reshape(n1 - n0, C_out, KH, KW, H, W)  # (m, C_out, KH, KW, H, W)
            for i, (ri, ro) in enumerate(rows):
                for j, (ci, co) in enumerate(cols_):
                    out[n0:n1, :, ro, co] += cols[:, :, i, j, ri, ci]  # copies overlap, hence +=

    _parallel(work, len(blocks))  # blocks write disjoint images, so threads never add to the same element
    return out


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
