"""Convolution in numpy: corr2d, pad2d, conv1d, conv2d and conv2d's backward pass.

Each vectorized function has a loop twin (`*_naive`) with the same signature,
written to be read; both follow `torch.nn.functional` (cross-correlation,
NCHW layout, zero padding on each side). The fast path is im2col: gather every
receptive field into a contiguous (C_in*KH*KW, H_out*W_out) buffer per image
through a strided view, then do a BLAS matmul with the (C_out, C_in*KH*KW)
filters; conv2d does this a cache-sized block of images at a time.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlab import _args
from cnnlab._args import float_dtype
from cnnlab.functional._windows import _im2col, _pad, _parallel, _span, _tap_ranges, _windows

__all__ = ["corr2d", "corr2d_naive", "pad2d", "conv1d", "conv1d_naive", "conv2d", "conv2d_naive",
           "conv2d_backward", "conv2d_backward_naive"]


# --- corr2d and pad2d ------------------------------------------------------------

def corr2d(x, k):
    """2-D cross-correlation of one image with one kernel, no padding ("valid").

    Args:
        x: (H, W) image.
        k: (KH, KW) kernel.

    Returns:
        (H - KH + 1, W - KW + 1): out[i, j] = sum(x[i:i+KH, j:j+KW] * k).
    """
    x, k, _ = _args.corr2d_args(x, k)
    dt = float_dtype(x, k)
    win = sliding_window_view(x.astype(dt, copy=False), k.shape)  # (H_out, W_out, KH, KW), a view
    return np.tensordot(win, k.astype(dt, copy=False), axes=2)  # (H_out, W_out)


def corr2d_naive(x, k):
    """Loop twin of `corr2d`: same signature, same result."""
    x, k, (H_out, W_out) = _args.corr2d_args(x, k)
    dt = float_dtype(x, k)
    KH, KW = k.shape
    out = np.zeros((H_out, W_out), dtype=dt)
    for i in range(H_out):
        for j in range(W_out):
            out[i, j] = np.sum(x[i:i + KH, j:j + KW] * k)
    return out


def pad2d(x, padding):
    """Zero-pad the last two axes on each side.

    Args:
        x: (..., H, W) array.
        padding: int or (pH, pW) zeros added on each side.

    Returns:
        A new (..., H + 2pH, W + 2pW) array (float dtype).
    """
    x, p = _args.pad2d_args(x, padding)
    dt = float_dtype(x)
    out = _pad(x.astype(dt, copy=False), p)
    return out.copy() if out is x else out  # never hand back the caller's array


# --- conv2d ----------------------------------------------------------------------

# cols of about this many bytes per block stay in the cache between the copy and the matmul
_BLOCK_BYTES = 1 << 20


def _conv2d(x, w, b, s, p, d, out_hw):
    """conv2d on checked arguments; shared by conv1d.

    Blocked im2col: a cache-sized block of images at a time is gathered into
    a contiguous cols buffer and multiplied there, the result landing directly
    in the contiguous output. With padding, each kernel tap copies only the
    part of x it reads into its rows of cols; the rest of cols, where the tap
    reads padding, is zeroed once per call, so no padded copy of x is made.
    Blocks are split between threads (see `_parallel`).
    """
    dt = float_dtype(x, w) if b is None else float_dtype(x, w, b)
    x = x.astype(dt, copy=False)
    (N, C_in, H, W), (C_out, _, KH, KW), (H_out, W_out) = x.shape, w.shape, out_hw
    K, P = C_in * KH * KW, H_out * W_out
    w2 = w.astype(dt, copy=False).reshape(C_out, K)  # (C_out, C_in*KH*KW)
    b2 = None if b is None else b.astype(dt, copy=False)[:, None]  # (C_out, 1) broadcast over positions
    out = np.empty((N, C_out, P), dtype=dt)
    per = max(1, min(N, _BLOCK_BYTES // (K * P * dt.itemsize)))  # images per block
    blocks = [(n, min(N, n + per)) for n in range(0, N, per)]
    rows = _tap_ranges(H, H_out, KH, s[0], p[0], d[0])
    cols_ = _tap_ranges(W, W_out, KW, s[1], p[1], d[1])

    # every window of x, as a view: (N, C_in, H_out, W_out, KH, KW) → (N, C_in, KH, KW, H_out, W_out)
    win = _windows(x, (KH, KW), s, d, out_hw).transpose(0, 1, 4, 5, 2, 3) if p == (0, 0) else None

    def work(lo, hi):  # blocks[lo:hi], with a cols buffer of its own (one per thread)
        if p == (0, 0):
            cols = np.empty((per, C_in, KH, KW, H_out, W_out), dtype=dt)
        else:
            cols = np.zeros((per, C_in, KH, KW, H_out, W_out), dtype=dt)  # padding taps stay zero
            taps = [(cols[:, :, i, j, ro, co], ri, ci) for i, (ro, ri) in enumerate(rows)
                    for j, (co, ci) in enumerate(cols_)]  # (per, C_in, rows, cols) views, one per tap
        for n0, n1 in blocks[lo:hi]:
            m = n1 - n0
            if p == (0, 0):  # one strided copy of every window
                cols[:m] = win[n0:n1]  # (m, C_in, KH, KW, H_out, W_out)
            else:
                for dst, ri, ci in taps:
                    dst[:m] = x[n0:n1, :, ri, ci]  # (m, C_in, rows, cols) of x this tap reads
            res = np.matmul(w2, cols[:m].reshape(m, K, P), out=out[n0:n1])  # (m, C_out, H_out*W_out)
            if b2 is not None:
                res += b2

    _parallel(work, len(blocks))
    return out.reshape(N, C_out, H_out, W_out)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """2-D cross-correlation of a batch with a bank of filters.

    Args:
        x: (N, C_in, H, W) input.
        w: (C_out, C_in, KH, KW) filters.
        b: optional (C_out,) bias. Default: None.
        stride: int or (sH, sW). Default: 1.
        padding: int or (pH, pW) zeros added on each side. Default: 0.
        dilation: int or (dH, dW); 1 is a contiguous kernel. Default: 1.

    Returns:
        (N, C_out, H_out, W_out); see `cnnlab.shapes.conv_output_size`.
    """
    x, w, b, s, p, d, out_hw = _args.conv2d_args(x, w, b, stride, padding, dilation)
    return _conv2d(x, w, b, s, p, d, out_hw)


def conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1):
    """Loop twin of `conv2d`: one dot product per output element."""
    x, w, b, (sH, sW), p, (dH, dW), (H_out, W_out) = _args.conv2d_args(x, w, b, stride, padding, dilation)
    dt = float_dtype(x, w) if b is None else float_dtype(x, w, b)
    N, C_out, KH, KW = x.shape[0], w.shape[0], *w.shape[2:]
    xp = _pad(x.astype(dt, copy=False), p)
    out = np.zeros((N, C_out, H_out, W_out), dtype=dt)
    for n in range(N):
        for co in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * sH, i * sH + dH * (KH - 1) + 1, dH)  # KH taps, dH apart
                    cols = slice(j * sW, j * sW + dW * (KW - 1) + 1, dW)
                    patch = xp[n, :, rows, cols]  # (C_in, KH, KW)
                    out[n, co, i, j] = np.sum(patch * w[co]) + (0 if b is None else b[co])
    return out


# --- conv1d ----------------------------------------------------------------------

def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """1-D cross-correlation of a batch of signals with a bank of filters.

    Args:
        x: (N, C_in, L) input.
        w: (C_out, C_in, K) filters.
        b: optional (C_out,) bias. Default: None.
        stride: int. Default: 1.
        padding: int zeros added on each side. Default: 0.
        dilation: int; 1 is a contiguous kernel. Default: 1.

    Returns:
        (N, C_out, L_out); see `cnnlab.shapes.conv_output_size`.
    """
    x, w, b, s, p, d, L_out = _args.conv1d_args(x, w, b, stride, padding, dilation)
    # note: a signal is an image of height 1, so conv2d's im2col path does the work
    out = _conv2d(x[:, :, None, :], w[:, :, None, :], b, (1, s), (0, p), (1, d), (1, L_out))  # (N, C_out, 1, L_out)
    return out[:, :, 0, :]  # (N, C_out, L_out)


def conv1d_naive(x, w, b=None, stride=1, padding=0, dilation=1):
    """Loop twin of `conv1d`: one dot product per output element."""
    x, w, b, s, p, d, L_out = _args.conv1d_args(x, w, b, stride, padding, dilation)
    dt = float_dtype(x, w) if b is None else float_dtype(x, w, b)
    N, C_out, K = x.shape[0], w.shape[0], w.shape[2]
    xp = _pad(x.astype(dt, copy=False), (0, p))
    out = np.zeros((N, C_out, L_out), dtype=dt)
    for n in range(N):
        for co in range(C_out):
            for i in range(L_out):
                patch = xp[n, :, i * s:i * s + d * (K - 1) + 1:d]  # (C_in, K)
                out[n, co, i] = np.sum(patch * w[co]) + (0 if b is None else b[co])
    return out


# --- conv2d backward -------------------------------------------------------------

def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1):
    """Gradients of `conv2d` with respect to its input, filters and bias.

    Args:
        dout: (N, C_out, H_out, W_out) upstream gradient dL/d(output).
        x: (N, C_in, H, W) input of the forward pass.
        w: (C_out, C_in, KH, KW) filters of the forward pass.
        stride: int or (sH, sW). Default: 1.
        padding: int or (pH, pW). Default: 0.
        dilation: int or (dH, dW). Default: 1.

    Returns:
        (dx, dw, db) of shapes (N, C_in, H, W), (C_out, C_in, KH, KW), (C_out,).
    """
    dout, x, w, s, p, d, (H_out, W_out) = _args.conv2d_backward_args(dout, x, w, stride, padding, dilation)
    dt = float_dtype(dout, x, w)
    (N, C_in, H, W), (C_out, _, KH, KW) = x.shape, w.shape
    xp = _pad(x.astype(dt, copy=False), p)
    cols = _im2col(xp, (KH, KW), s, d, (H_out, W_out))  # (C_in*KH*KW, N*H_out*W_out)
    g = dout.astype(dt, copy=False).transpose(1, 0, 2, 3).reshape(C_out, -1)  # (C_out, N*H_out*W_out)
    dw = (g @ cols.T).reshape(w.shape)  # (C_out, C_in*KH*KW) → (C_out, C_in, KH, KW)
    db = g.sum(axis=1)  # (C_out,)
    w2 = w.astype(dt, copy=False).reshape(C_out, -1)  # (C_out, C_in*KH*KW)
    dcols = (w2.T @ g).reshape(C_in, KH, KW, N, H_out, W_out)  # gradient of each im2col entry
    # col2im: every tap adds its gradients back where it read; windows overlap, hence +=
    dxp = np.zeros((N, C_in, *xp.shape[2:]), dtype=dt)
    for i in range(KH):
        for j in range(KW):
            dxp[:, :, _span(i, d[0], s[0], H_out), _span(j, d[1], s[1], W_out)] += \
                dcols[:, i, j].transpose(1, 0, 2, 3)  # (N, C_in, H_out, W_out)
    return dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W].copy(), dw, db  # crop: padding gets no gradient


def conv2d_backward_naive(dout, x, w, stride=1, padding=0, dilation=1):
    """Loop twin of `conv2d_backward`: each output element sends its gradient back to its window."""
    dout, x, w, (sH, sW), p, (dH, dW), (H_out, W_out) = _args.conv2d_backward_args(
        dout, x, w, stride, padding, dilation)
    dt = float_dtype(dout, x, w)
    (N, C_in, H, W), (C_out, _, KH, KW) = x.shape, w.shape
    xp = _pad(x.astype(dt, copy=False), p)
    dxp, dw, db = np.zeros(xp.shape, dtype=dt), np.zeros(w.shape, dtype=dt), np.zeros(C_out, dtype=dt)
    for n in range(N):
        for co in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * sH, i * sH + dH * (KH - 1) + 1, dH)
                    cols = slice(j * sW, j * sW + dW * (KW - 1) + 1, dW)
                    g = dout[n, co, i, j]
                    dxp[n, :, rows, cols] += g * w[co]  # out = sum(patch * w) → d/dpatch = w
                    dw[co] += g * xp[n, :, rows, cols]  # d/dw = patch
                    db[co] += g
    return dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W].copy(), dw, db
