"""Pooling in numpy: max_pool2d, avg_pool2d and their backward passes.

Semantics of `torch.nn.functional` with its defaults: `stride=None` means
`kernel_size`; max pooling pads with -inf (padding never wins); average
pooling counts padding zeros (`count_include_pad=True`), so the divisor is
always KH*KW; padding may be at most half the kernel. Each vectorized
function has a loop twin (`*_naive`) with the same signature.
"""
from __future__ import annotations

import numpy as np

from cnnlab import _args
from cnnlab._args import float_dtype
from cnnlab.functional._windows import _pad, _span

__all__ = ["max_pool2d", "max_pool2d_naive", "avg_pool2d", "avg_pool2d_naive",
           "max_pool2d_backward", "max_pool2d_backward_naive",
           "avg_pool2d_backward", "avg_pool2d_backward_naive"]


def _padded(x, p, value):
    """x as floats, padded with `value` (-inf for max, 0 for average)."""
    return _pad(x.astype(float_dtype(x), copy=False), p, value)


def _taps(xp, kernel, stride, out_hw):
    """For each kernel tap (i, j), row-major: the (N, C, H_out, W_out) view of the values it sees.

    note: looping over the KH*KW taps and combining whole strided views is far
    faster in numpy than reducing a (..., KH, KW) window view element by element.
    """
    (H_out, W_out), (sH, sW) = out_hw, stride
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield xp[:, :, _span(i, 1, sH, H_out), _span(j, 1, sW, W_out)]  # (N, C, H_out, W_out)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over each KH x KW window, channel by channel.

    Args:
        x: (N, C, H, W) input.
        kernel_size: int or (KH, KW).
        stride: int or (sH, sW); None means kernel_size. Default: None.
        padding: int or (pH, pW), at most half the kernel, filled with -inf. Default: 0.

    Returns:
        (N, C, H_out, W_out); see `cnnlab.shapes.pool_output_size`.
    """
    x, k, s, p, out_hw = _args.pool2d_args(x, kernel_size, stride, padding)
    taps = _taps(_padded(x, p, -np.inf), k, s, out_hw)
    out = next(taps).copy()
    for tap in taps:
        np.maximum(out, tap, out=out)
    return out


def max_pool2d_naive(x, kernel_size, stride=None, padding=0):
    """Loop twin of `max_pool2d`."""
    x, (KH, KW), (sH, sW), p, (H_out, W_out) = _args.pool2d_args(x, kernel_size, stride, padding)
    xp = _padded(x, p, -np.inf)
    out = np.empty((*x.shape[:2], H_out, W_out), dtype=xp.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = xp[n, c, i * sH:i * sH + KH, j * sW:j * sW + KW].max()
    return out


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each KH x KW window, channel by channel; padding zeros count.

    Args:
        x: (N, C, H, W) input.
        kernel_size: int or (KH, KW).
        stride: int or (sH, sW); None means kernel_size. Default: None.
        padding: int or (pH, pW) zeros, at most half the kernel. Default: 0.

    Returns:
        (N, C, H_out, W_out); see `cnnlab.shapes.pool_output_size`.
    """
    x, k, s, p, out_hw = _args.pool2d_args(x, kernel_size, stride, padding)
    taps = _taps(_padded(x, p, 0.0), k, s, out_hw)
    out = next(taps).copy()
    for tap in taps:
        out += tap
    return out / (k[0] * k[1])  # note: divisor KH*KW even where the window covers padding


def avg_pool2d_naive(x, kernel_size, stride=None, padding=0):
    """Loop twin of `avg_pool2d`."""
    x, (KH, KW), (sH, sW), p, (H_out, W_out) = _args.pool2d_args(x, kernel_size, stride, padding)
    xp = _padded(x, p, 0.0)
    out = np.empty((*x.shape[:2], H_out, W_out), dtype=xp.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = xp[n, c, i * sH:i * sH + KH, j * sW:j * sW + KW].sum() / (KH * KW)
    return out


def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    """Gradient of `max_pool2d` with respect to x.

    Each window sends its upstream gradient to its first maximum (row-major,
    as torch); overlapping windows add up; padding never receives gradient.

    Args:
        dout: (N, C, H_out, W_out) upstream gradient.
        x: (N, C, H, W) input of the forward pass.
        kernel_size: int or (KH, KW).
        stride: int or (sH, sW); None means kernel_size. Default: None.
        padding: int or (pH, pW). Default: 0.

    Returns:
        dx of shape (N, C, H, W).
    """
    dout, x, (KH, KW), (sH, sW), (pH, pW), (H_out, W_out) = _args.pool2d_backward_args(
        dout, x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    dt = float_dtype(dout, x)
    # first maximum of each window: visit the taps row-major and move only on a strictly larger
    # value; note: like torch, a NaN always takes over, so the last NaN of a window wins
    taps = _taps(_padded(x, (pH, pW), -np.inf), (KH, KW), (sH, sW), (H_out, W_out))
    best, arg = next(taps).copy(), np.zeros((N, C, H_out, W_out), dtype=np.intp)
    for t, tap in enumerate(taps, start=1):
        larger = (tap > best) | np.isnan(tap)
        np.copyto(best, tap, where=larger)
        arg[larger] = t
    dr, dc = np.divmod(arg, KW)  # offsets of the winner inside its window
    # winner in the coordinates of the unpadded x; note: clamping only matters when a window's
    # max is -inf and the winner stayed on a padding tap; torch then keeps its first real element
    rows = np.clip(np.arange(H_out)[:, None] * sH + dr - pH, 0, H - 1)  # (N, C, H_out, W_out)
    cols = np.clip(np.arange(W_out)[None, :] * sW + dc - pW, 0, W - 1)  # (N, C, H_out, W_out)
    nc = np.arange(N * C).reshape(N, C, 1, 1)  # (N, C, 1, 1): which (n, c) plane
    flat = (nc * H + rows) * W + cols  # (N, C, H_out, W_out) index into x.ravel()
    # note: bincount sums repeated indices (one pixel winning several overlapping windows),
    # accumulating in float64 before the cast back
    dx = np.bincount(flat.ravel(), weights=dout.astype(np.float64, copy=False).ravel(), minlength=N * C * H * W)
    return dx.astype(dt, copy=False).reshape(N, C, H, W)  # (N*C*H*W,) → (N, C, H, W)


def max_pool2d_backward_naive(dout, x, kernel_size, stride=None, padding=0):
    """Loop twin of `max_pool2d_backward`."""
    dout, x, (KH, KW), (sH, sW), (pH, pW), (H_out, W_out) = _args.pool2d_backward_args(
        dout, x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    xp = _padded(x, (pH, pW), -np.inf)
    dx = np.zeros(x.shape, dtype=float_dtype(dout, x))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, c, i * sH:i * sH + KH, j * sW:j * sW + KW].ravel()
                    nan = np.flatnonzero(np.isnan(window))
                    # first maximum, row-major; as torch, the last NaN if there is one
                    r, q = divmod(int(nan[-1] if nan.size else window.argmax()), KW)
                    r = min(max(i * sH + r - pH, 0), H - 1)  # back to x's coordinates (see above)
                    q = min(max(j * sW + q - pW, 0), W - 1)
                    dx[n, c, r, q] += dout[n, c, i, j]
    return dx


def avg_pool2d_backward(dout, x, kernel_size, stride=None, padding=0):
    """Gradient of `avg_pool2d` with respect to x.

    Each window spreads its upstream gradient evenly, dout / (KH*KW), over its
    KH*KW cells; overlapping windows add up; the share of padding is dropped.

    Args:
        dout: (N, C, H_out, W_out) upstream gradient.
        x: (N, C, H, W) input of the forward pass (only its shape matters).
        kernel_size: int or (KH, KW).
        stride: int or (sH, sW); None means kernel_size. Default: None.
        padding: int or (pH, pW). Default: 0.

    Returns:
        dx of shape (N, C, H, W).
    """
    dout, x, (KH, KW), s, (pH, pW), (H_out, W_out) = _args.pool2d_backward_args(
        dout, x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    dt = float_dtype(dout, x)
    share = dout.astype(dt, copy=False) / (KH * KW)  # (N, C, H_out, W_out)
    dxp = np.zeros((N, C, H + 2 * pH, W + 2 * pW), dtype=dt)
    for i in range(KH):  # loop over the KH*KW taps only; each += is vectorized over N, C, H_out, W_out
        for j in range(KW):
            dxp[:, :, _span(i, 1, s[0], H_out), _span(j, 1, s[1], W_out)] += share
    return dxp[:, :, pH:pH + H, pW:pW + W].copy()  # crop: padding gets no gradient


def avg_pool2d_backward_naive(dout, x, kernel_size, stride=None, padding=0):
    """Loop twin of `avg_pool2d_backward`."""
    dout, x, (KH, KW), (sH, sW), (pH, pW), (H_out, W_out) = _args.pool2d_backward_args(
        dout, x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    dxp = np.zeros((N, C, H + 2 * pH, W + 2 * pW), dtype=float_dtype(dout, x))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    dxp[n, c, i * sH:i * sH + KH, j * sW:j * sW + KW] += dout[n, c, i, j] / (KH * KW)
    return dxp[:, :, pH:pH + H, pW:pW + W].copy()
