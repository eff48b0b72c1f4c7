"""Up- and downsampling in numpy with torch semantics (lecture 4, ps5).

`upsample_nearest2d` and `upsample_bilinear2d` match
`F.interpolate(x, ..., mode="nearest" | "bilinear")`; `max_unpool2d` matches
`F.max_unpool2d`, fed by `max_pool2d_with_indices`, which matches
`F.max_pool2d(..., return_indices=True)`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from cnnlab._args import as_array, as_int, as_pair, check_ndim, float_dtype, pool_stride
from cnnlab.shapes import pool_output_size

__all__ = ["upsample_nearest2d", "upsample_bilinear2d", "max_pool2d_with_indices", "max_unpool2d"]


def _scale_pair(scale_factor):
    sf = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
    if len(sf) != 2 or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and v > 0 for v in sf):
        raise ValueError(f"scale_factor must be a positive number or a pair (h, w) of them; got {scale_factor!r}")
    return float(sf[0]), float(sf[1])


def _sizes(x, size, scale_factor):
    """Output (H_out, W_out) and per-axis input/output scale, as `F.interpolate` computes them."""
    x = as_array(x, "x")
    check_ndim(x, "x", 4, "(N, C, H, W)")
    if (size is None) == (scale_factor is None):
        raise ValueError("give exactly one of size and scale_factor")
    H, W = x.shape[2:]
    if size is not None:
        out = as_pair(size, "size", 1)
        scales = (None, None)
    else:
        sf = _scale_pair(scale_factor)
        out = (math.floor(H * sf[0]), math.floor(W * sf[1]))
        if min(out) < 1:
            raise ValueError(f"scale_factor {scale_factor!r} gives an empty output from ({H}, {W})")
        scales = (1.0 / sf[0], 1.0 / sf[1])  # note: torch uses 1/scale_factor, not H/H_out
    return x, out, scales


def upsample_nearest2d(x, size=None, scale_factor=None):
    """Nearest-neighbour resize ("duplicate"), as `F.interpolate(mode="nearest")`.

    Output pixel i copies input pixel ``min(floor(i · scale), H − 1)`` with
    ``scale = 1 / scale_factor`` (or ``H / H_out`` when `size` is given).

    Args:
        x: (N, C, H, W) input.
        size: int or (H_out, W_out). Give this or `scale_factor`.
        scale_factor: positive number or (sH, sW) pair; H_out = ⌊H · sH⌋.

    Returns:
        (N, C, H_out, W_out), same dtype as x (ints stay ints).
    """
    x, (H_out, W_out), scales = _sizes(x, size, scale_factor)
    rows = _nearest_index(x.shape[2], H_out, scales[0])  # (H_out,)
    cols = _nearest_index(x.shape[3], W_out, scales[1])  # (W_out,)
    return x[:, :, rows[:, None], cols[None, :]]  # (N, C, H_out, W_out), a copy


def _nearest_index(n_in, n_out, scale):
    dst = np.arange(n_out)
    if n_out == n_in:
        return dst
    if n_out == 2 * n_in:
        return dst >> 1
    # note: torch does this in float32; doing the same keeps odd ratios identical.
    s = np.float32(scale) if scale is not None else np.float32(n_in) / np.float32(n_out)
    return np.minimum(np.floor(dst.astype(np.float32) * s).astype(np.int64), n_in - 1)


def _linear_weights(n_in, n_out, scale, align_corners):
    """For each output index: the two source indices and their weights."""
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = dst * s
    else:
        s = scale if scale is not None else n_in / n_out
        src = np.maximum((dst + 0.5) * s - 0.5, 0.0)  # pixel centres; clamp at the left edge
    i0 = np.minimum(src.astype(np.int64), n_in - 1)  # floor, since src >= 0
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0  # weight of i1
    return i0, i1, 1.0 - lam, lam


def upsample_bilinear2d(x, size=None, scale_factor=None, align_corners=False):
    """Bilinear resize, as `F.interpolate(mode="bilinear", align_corners=...)`.

    With ``align_corners=False`` (torch's default) output pixel i sits at
    input coordinate ``(i + ½) · scale − ½`` (clamped at 0), pixel centres
    aligned; with True the corner pixels of input and output coincide.

    Args:
        x: (N, C, H, W) input.
        size: int or (H_out, W_out). Give this or `scale_factor`.
        scale_factor: positive number or (sH, sW) pair; H_out = ⌊H · sH⌋.
        align_corners: see above. Default: False.

    Returns:
        (N, C, H_out, W_out) floating array.
    """
    x, (H_out, W_out), scales = _sizes(x, size, scale_factor)
    x = x.astype(float_dtype(x), copy=False)
    r0, r1, wr0, wr1 = _linear_weights(x.shape[2], H_out, scales[0], align_corners)
    c0, c1, wc0, wc1 = _linear_weights(x.shape[3], W_out, scales[1], align_corners)
    rows = wr0[:, None] * x[:, :, r0, :] + wr1[:, None] * x[:, :, r1, :]  # (N, C, H_out, W)
    out = wc0 * rows[..., c0] + wc1 * rows[..., c1]  # (N, C, H_out, W_out)
    return out.astype(x.dtype, copy=False)


def max_pool2d_with_indices(x, kernel_size, stride=None, padding=0):
    """Max pooling that also returns where each maximum came from.

    Args:
        x: (N, C, H, W) input.
        kernel_size: int or (KH, KW).
        stride: int or (sH, sW); None means kernel_size. Default: None.
        padding: int or (pH, pW) of -inf on each side. Default: 0.

    Returns:
        ``(out, indices)``, both (N, C, H_out, W_out); `indices` are flat
        positions ``row · W + col`` in the unpadded (H, W) plane, as
        `F.max_pool2d(..., return_indices=True)`. note: with ties the first
        maximum in row-major order wins, as in torch.
    """
    x = as_array(x, "x")
    check_ndim(x, "x", 4, "(N, C, H, W)")
    k, s, p = as_pair(kernel_size, "kernel_size", 1), pool_stride(stride, kernel_size), as_pair(padding, "padding", 0)
    N, C, H, W = x.shape
    H_out = pool_output_size(H, k[0], s[0], p[0])
    W_out = pool_output_size(W, k[1], s[1], p[1])
    xp = np.full((N, C, H + 2 * p[0], W + 2 * p[1]), -np.inf, dtype=float_dtype(x))
    xp[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = x
    win = np.lib.stride_tricks.sliding_window_view(xp, k, axis=(2, 3))  # (N, C, Hp-KH+1, Wp-KW+1, KH, KW)
    win = win[:, :, ::s[0], ::s[1]][:, :, :H_out, :W_out]  # (N, C, H_out, W_out, KH, KW)
    flat = win.reshape(N, C, H_out, W_out, k[0] * k[1])  # (N, C, H_out, W_out, KH*KW)
    arg = flat.argmax(axis=-1)  # first maximum, row-major within the window
    out = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0].astype(x.dtype if x.dtype.kind == "f" else np.float64)
    dr, dc = np.divmod(arg, k[1])
    rows = np.arange(H_out)[:, None] * s[0] + dr - p[0]  # (N, C, H_out, W_out) in unpadded coordinates
    cols = np.arange(W_out)[None, :] * s[1] + dc - p[1]
    return out, (rows * W + cols).astype(np.int64)


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max pooling ("max-upsampling"), as `F.max_unpool2d`.

    Each value goes back to the position its maximum came from; every other
    output pixel is 0.

    Args:
        x: (N, C, H, W) pooled values.
        indices: (N, C, H, W) ints from `max_pool2d_with_indices`: flat
            positions ``row · W_out + col`` in the output plane.
        kernel_size: int or (KH, KW) of the pooling being undone.
        stride: int or (sH, sW); None means kernel_size. Default: None.
        padding: int or (pH, pW) of the pooling being undone. Default: 0.
        output_size: optional (H_out, W_out) (or (N, C, H_out, W_out)); by
            default ``H_out = (H − 1) · sH − 2pH + KH``.

    Returns:
        (N, C, H_out, W_out). note: if two indices coincide (overlapping
        windows), which value lands there is unspecified, as in torch.
    """
    x, indices = as_array(x, "x"), as_array(indices, "indices")
    check_ndim(x, "x", 4, "(N, C, H, W)")
    if indices.shape != x.shape:
        raise ValueError(f"indices must have the shape of x {x.shape}; got {indices.shape}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers; got dtype {indices.dtype}")
    k, s, p = as_pair(kernel_size, "kernel_size", 1), pool_stride(stride, kernel_size), as_pair(padding, "padding", 0)
    N, C, H, W = x.shape
    if output_size is None:
        H_out, W_out = (H - 1) * s[0] - 2 * p[0] + k[0], (W - 1) * s[1] - 2 * p[1] + k[1]
    else:
        H_out, W_out = (as_int(v, "output_size", 1) for v in tuple(output_size)[-2:])
        for n, n_def, st in ((H_out, (H - 1) * s[0] - 2 * p[0] + k[0], s[0]), (W_out, (W - 1) * s[1] - 2 * p[1] + k[1], s[1])):
            if not n_def - st < n < n_def + st:  # torch's rule: only the rounding of the pooling is undone
                raise ValueError(f"output_size {tuple(output_size)!r}: each side must lie strictly between "
                                 f"{n_def - st} and {n_def + st} for this kernel_size, stride and padding")
    if indices.size and (indices.min() < 0 or indices.max() >= H_out * W_out):
        raise ValueError(f"indices must lie in [0, {H_out * W_out}) for an output of size ({H_out}, {W_out}); "
                         f"got range [{indices.min()}, {indices.max()}]")
    out = np.zeros((N, C, H_out * W_out), dtype=float_dtype(x))
    np.put_along_axis(out, indices.reshape(N, C, H * W), x.reshape(N, C, H * W), axis=-1)  # (N, C, H_out*W_out)
    return out.reshape(N, C, H_out, W_out)
