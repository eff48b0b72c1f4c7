"""A catalogue of wrong student implementations, one per diagnosis.

Each is plain numpy written the way a student would, with one mistake; the
bug is marked `# BUG`. `CATALOGUE` lists (exercise, mistake, function, the
key `check` must give as `CheckResult.mistake`). Several share a student-style
base whose `bug=` switch selects the faulty line, so that the rest of the
code is known to be right (the base with `bug=None` passes `check`).
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np


def _pair(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))


# ------------------------------------------------------------------ corr2d
def corr2d(x, k, bug=None):
    if bug == "flip":
        k = np.flip(k)  # BUG: true convolution
    if bug == "transpose":
        k = k.T  # BUG
    H, W = x.shape
    KH, KW = k.shape
    pad = bug == "same"
    if pad:
        x = np.pad(x, ((KH // 2, KH // 2), (KW // 2, KW // 2)))  # BUG: "same" output
        H, W = x.shape
    H_out, W_out = H - KH + 1, W - KW + 1
    if bug == "off_by_one":
        H_out, W_out = H - KH, W - KW  # BUG: range(H - KH)
    out = np.zeros((H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            prod = x[i:i + KH, j:j + KW] * k
            out[i, j] = prod.mean() if bug == "mean" else prod.sum()  # BUG when mean
    return out


# ------------------------------------------------------------------- pad2d
def pad2d_all_axes(x, padding):
    return np.pad(x, padding)  # BUG: pads every axis


def pad2d_after(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)])  # BUG: one side only


def pad2d_all_after(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, 2 * ph), (0, 2 * pw)])  # BUG: 2p on one side


def pad2d_edge(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)], mode="edge")  # BUG: not zeros


def pad2d_swapped(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(pw, pw), (ph, ph)])  # BUG


def pad2d_inplace(x, padding):
    ph, pw = _pair(padding)
    x *= 1.0  # harmless in value, but...
    x[..., 0, 0] = x[..., 0, 0] + 0.0
    out = np.zeros(x.shape[:-2] + (x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw))
    out[..., ph:ph + x.shape[-2], pw:pw + x.shape[-1]] = x
    x[...] = 0  # BUG: clears the caller's array
    return out


# -------------------------------------------------------- conv_output_size
def size_pad_once(n, kernel_size, stride=1, padding=0, dilation=1):
    return (n + padding - dilation * (kernel_size - 1) - 1) // stride + 1  # BUG


def size_no_dilation(n, kernel_size, stride=1, padding=0, dilation=1):
    out = (n + 2 * padding - kernel_size) // stride + 1  # BUG: dilation ignored
    if out < 1:
        raise ValueError("empty")
    return out


def size_no_plus_one(n, kernel_size, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride  # BUG


def size_ceil(n, kernel_size, stride=1, padding=0, dilation=1):
    return math.ceil((n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1  # BUG


def size_true_division(n, kernel_size, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1  # BUG: float


def size_no_error(n, kernel_size, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1  # BUG: no ValueError


# ------------------------------------------------------------ conv1d/conv2d
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, bug=None):
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    if bug == "stride_ignored":
        sh, sw = 1, 1  # BUG
    if bug == "stride_first":
        sw = sh  # BUG: stride[0] for both axes
    if bug == "stride_swapped":
        sh, sw = sw, sh  # BUG
    if bug == "dilation_ignored":
        dh, dw = 1, 1  # BUG
    if bug == "no_padding":
        ph, pw = 0, 0  # BUG
    if bug == "flip":
        w = w[:, :, ::-1, ::-1]  # BUG: true convolution
    if bug == "dilation_h_only":
        dw = 1  # BUG
    if bug == "kernel_transposed" and w.shape[2] == w.shape[3]:
        w = w.transpose(0, 1, 3, 2)  # BUG: w[..., b, a]
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    if bug == "pad_after":
        xp = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)))  # BUG: one side only
    elif bug == "pad_all_before":
        xp = np.pad(x, ((0, 0), (0, 0), (2 * ph, 0), (2 * pw, 0)))  # BUG: 2p on one side, shifted
    elif bug == "pad_double":
        xp = np.pad(x, ((0, 0), (0, 0), (2 * ph, 2 * ph), (2 * pw, 2 * pw)))  # BUG: 2p on each side
    elif bug == "pad_before_after" and not isinstance(padding, int):
        xp = np.pad(x, ((0, 0), (0, 0), tuple(padding), tuple(padding)))  # BUG: (pH, pW) read as (before, after)
    else:
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    span_h, span_w = dh * (KH - 1) + 1, dw * (KW - 1) + 1
    H_out = (xp.shape[2] - span_h) // sh + 1
    W_out = (xp.shape[3] - span_w) // sw + 1
    if bug == "size_unpadded":
        H_out, W_out = (H - span_h) // sh + 1, (W - span_w) // sw + 1  # BUG: the padding is not counted
    if bug == "size_from_h":
        W_out = H_out  # BUG: works for square inputs only
    if bug == "off_by_one":
        H_out, W_out = H_out - 1, W_out - 1  # BUG
    if bug == "ceil":
        H_out = math.ceil((xp.shape[2] - span_h) / sh) + 1  # BUG: ceil
        W_out = math.ceil((xp.shape[3] - span_w) / sw) + 1
        xp = np.pad(xp, ((0, 0), (0, 0), (0, sh), (0, sw)))  # so that the last window fits
    out = np.zeros((N, C_out, W_out, H_out) if bug == "transposed" else (N, C_out, H_out, W_out))
    rows = range(min(H_out, W_out)) if bug == "loop_w_for_h" else range(H_out)  # BUG when loop_w_for_h
    for i in rows:
        for j in range(min(H_out, W_out) if bug == "loop_h_for_w" else W_out):  # BUG when loop_h_for_w
            win = xp[:, :, i * sh:i * sh + span_h:dh, j * sw:j * sw + span_w:dw]  # (N, C_in, KH, KW)
            if bug == "dilation_times_stride":
                win = xp[:, :, i * sh * dh:i * sh * dh + span_h:dh, j * sw * dw:j * sw * dw + span_w:dw]  # BUG
                if win.shape[2:] != (KH, KW):
                    continue
            if bug == "im2col_order":
                val = win.transpose(0, 2, 3, 1).reshape(N, -1) @ w.reshape(C_out, -1).T  # BUG: channel-last columns
            elif bug == "im2col_order_w":
                val = win.reshape(N, -1) @ w.transpose(0, 2, 3, 1).reshape(C_out, -1).T  # BUG: channel-last kernel
            elif bug == "first_channel":
                val = np.tensordot(win[:, :1], w[:, :1], axes=([1, 2, 3], [1, 2, 3]))  # BUG
            else:
                val = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3]))  # (N, C_out)
            if bug == "bias_per_term" and b is not None:
                val = val + b * w[0].size  # BUG: b added with each of the C_in·KH·KW products
            if bug == "first_sample":
                out[0, :, i, j] = val[0]  # BUG: other samples stay 0
            elif bug == "first_filter_zeros":
                out[:, 0, i, j] = val[:, 0]  # BUG: other filters stay 0
            elif bug == "transposed":
                out[:, :, j, i] = val  # BUG
            else:
                out[:, :, i, j] = val
    if b is not None and bug != "no_bias":
        if bug == "bias_last_axis":
            out = out + b  # BUG: broadcasts along W
        elif bug == "bias_first":
            out = out + b[0]  # BUG: one bias for every channel
        elif bug == "bias_per_tap":
            for _ in range(KH * KW):
                out = out + b[None, :, None, None]  # BUG: inside the loops over the kernel
        elif bug == "bias_per_term":
            pass
        else:
            out = out + b[None, :, None, None]
    return out


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, bug=None):
    if bug == "flip":
        w = w[:, :, ::-1]  # BUG
    if bug == "stride_ignored":
        stride = 1  # BUG
    if bug == "dilation_ignored":
        dilation = 1  # BUG
    if bug == "no_padding":
        padding = 0  # BUG
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    C_out, _, K = w.shape
    span = dilation * (K - 1) + 1
    L_out = (xp.shape[2] - span) // stride + 1
    out = np.zeros((x.shape[0], C_out, L_out))
    for i in range(L_out):
        win = xp[:, :, i * stride:i * stride + span:dilation]  # (N, C_in, K)
        out[:, :, i] = np.einsum("nck,ock->no", win, w)
    if b is not None and bug != "no_bias":
        out = out + (b if bug == "bias_last_axis" else b[None, :, None])  # BUG when raw b
    return out


def conv2d_torch(x, w, b=None, stride=1, padding=0, dilation=1):
    import torch
    import torch.nn.functional as F

    out = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                   stride, padding, dilation)  # BUG: not numpy
    return out.numpy()


def corr2d_scipy(x, k):
    from scipy.signal import correlate2d

    return correlate2d(x, k, mode="valid")  # BUG: not numpy


# ---------------------------------------------------------- conv2d_backward
def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, bug=None):
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dwl = _pair(dilation)
    N, C_in, H, W = x.shape
    C_out, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    wk = w[:, :, ::-1, ::-1] if bug == "dx_flip" else w  # BUG when flipped
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * sh, i * sh + dh * (KH - 1) + 1, dh)
            cols = slice(j * sw, j * sw + dwl * (KW - 1) + 1, dwl)
            win = xp[:, :, rows, cols]  # (N, C_in, KH, KW)
            g = dout[:, :, i, j]  # (N, C_out)
            if bug == "dw_no_dilation":
                win = xp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]  # BUG: taps contiguous
            if bug == "dw_no_stride":
                win = xp[:, :, i:i + dh * (KH - 1) + 1:dh, j:j + dwl * (KW - 1) + 1:dwl]  # BUG: at (i, j)
            if bug == "dx_no_dilation":
                rows, cols = slice(i * sh, i * sh + KH), slice(j * sw, j * sw + KW)  # BUG: taps contiguous
            if bug == "dw_per_sample":
                dw = dw + np.einsum("nf,ncab->nfcab", g, win)  # BUG: keeps the batch axis
            elif bug == "dw_first_sample":
                dw += g[0][:, None, None, None] * win[0][None]  # BUG: sample 0 only
            elif bug == "dw_assigned":
                dw = np.tensordot(g, win, axes=(0, 0))  # BUG: = instead of +=
            else:
                dw += np.tensordot(g, win, axes=(0, 0))  # (C_out, C_in, KH, KW)
            if bug == "dx_first_sample_copied":
                dxp[:, :, rows, cols] += np.tensordot(g[:1], wk, axes=(1, 0))  # BUG: dout[0] for every sample
            elif bug == "dx_assigned":
                dxp[:, :, rows, cols] = np.tensordot(g, wk, axes=(1, 0))  # BUG: = instead of +=
            else:
                dxp[:, :, rows, cols] += np.tensordot(g, wk, axes=(1, 0))  # (N, C_in, KH, KW)
    if bug == "dw_mean":
        dw = dw / N  # BUG
    if bug == "dw_mean_positions":
        dw = dw / (H_out * W_out)  # BUG: a mean over the output positions
    if bug == "dw_mean_all":
        dw = dw / (N * H_out * W_out)  # BUG
    db = dout.sum(axis=(0, 2, 3))
    if bug == "db_keepdims":
        db = dout.sum(axis=(0, 2, 3), keepdims=True)  # BUG: shape (1, C_out, 1, 1)
    if bug == "db_per_sample":
        db = dout.sum(axis=(2, 3))  # BUG: (N, C_out)
    if bug == "db_total_each":
        db = np.full(C_out, dout.sum())  # BUG: every channel gets the total
    if bug == "db_mean":
        db = dout.mean(axis=(0, 2, 3))  # BUG
    if bug == "db_wrong_axes":
        db = dout.sum(axis=(0, 1, 2)) if W_out == C_out else dout.sum(axis=(0, 2, 3))  # BUG: axes (0, 1, 2)
    dx = dxp if bug == "dx_not_cropped" else dxp[:, :, ph:ph + H, pw:pw + W]  # BUG when not cropped
    if bug == "dx_crop_neg":
        dx = dxp[:, :, ph:-ph, pw:-pw]  # BUG: empty when p = 0
    if bug == "dx_crop_swapped":
        dx = dxp[:, :, pw:pw + H, ph:ph + W]  # BUG
    if bug == "wrong_order":
        return dw, dx, db  # BUG
    return dx, dw, db


# ---------------------------------------------------------------- pooling
def pool2d(x, kernel_size, stride=None, padding=0, kind="max", bug=None):
    kh, kw = _pair(kernel_size)
    if bug == "kernel_first":
        kw = kh  # BUG: kernel_size[0] for both axes
    if stride is None:
        stride = 1 if bug == "default_stride_1" else kernel_size  # BUG when 1
    sh, sw = _pair(stride)
    if bug == "stride_ignored":
        sh, sw = kh, kw  # BUG
    if bug == "stride_first":
        sw = sh  # BUG
    ph, pw = _pair(padding)
    if bug == "no_padding":
        ph, pw = 0, 0  # BUG
    if bug == "padding_first":
        pw = ph  # BUG
    if bug == "pad_double":
        ph, pw = 2 * ph, 2 * pw  # BUG: pads 2p on each side
    fill = -np.inf if kind == "max" and bug != "zero_pad" else 0.0  # BUG when zero_pad
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    if bug == "ceil":
        H_out = -(-(xp.shape[2] - kh) // sh) + 1  # BUG: ceil
        W_out = -(-(xp.shape[3] - kw) // sw) + 1
    else:
        H_out, W_out = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.zeros(x.shape[:2] + (H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            win = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (N, C, kh, kw)
            if bug == "last_element":
                out[:, :, i, j] = win[:, :, -1, -1]  # BUG
            elif bug == "first_channel":
                out[:, :, i, j] = win[:, :1].max(axis=(2, 3)) if kind == "max" else win[:, :1].mean(axis=(2, 3))  # BUG
            elif bug == "over_channels":
                out[:, :, i, j] = win.max(axis=(1, 2, 3))[:, None]  # BUG: max over channels too
            elif bug == "other_kind":
                out[:, :, i, j] = win.mean(axis=(2, 3)) if kind == "max" else win.max(axis=(2, 3))  # BUG
            elif bug == "argmax":
                out[:, :, i, j] = win.reshape(win.shape[:2] + (-1,)).argmax(axis=-1)  # BUG: the position
            elif kind == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            elif bug == "sum":
                out[:, :, i, j] = win.sum(axis=(2, 3))  # BUG
            elif bug == "floor_div":
                out[:, :, i, j] = win.sum(axis=(2, 3)) // (kh * kw)  # BUG: floor division
            elif bug == "divisor_k":
                out[:, :, i, j] = win.sum(axis=(2, 3)) / kh  # BUG: kernel_size, not kh * kw
            elif bug == "exclude_pad":
                ones = np.pad(np.ones(x.shape[2:]), ((ph, ph), (pw, pw)))[i * sh:i * sh + kh, j * sw:j * sw + kw]
                out[:, :, i, j] = win.sum(axis=(2, 3)) / ones.sum()  # BUG: padding not counted
            else:
                out[:, :, i, j] = win.mean(axis=(2, 3))
    return out


def pool2d_backward(dout, x, kernel_size, stride=None, padding=0, kind="max", bug=None):
    kh, kw = _pair(kernel_size)
    if stride is None:
        stride = 1 if bug == "default_stride_1" else kernel_size  # BUG when 1
    sh, sw = _pair(stride)
    if bug == "stride_first":
        sw = sh  # BUG
    ph, pw = _pair(padding)
    fill = -np.inf if kind == "max" and bug != "zero_pad" else 0.0  # BUG when zero_pad
    if bug == "pad_min" and kind == "max":
        fill = x.min()  # BUG: a finite padding value ties a window of minima
    if bug == "no_padding":
        ph, pw = 0, 0  # BUG: windows start at (i·sH, j·sW) of x; slices clip the last ones
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    dxp = np.zeros_like(xp)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    rs, cs = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    win = xp[n, c, rs, cs]
                    g = dout[n, c, i, j]
                    if kind == "avg":
                        share = g if bug == "not_divided" else g / (kh * kw)  # BUG when not divided
                        divisor = {"div_kh": kh, "div_kw": kw, "div_kh2": kh * kh, "div_kw2": kw * kw,
                                   "div_stride": sh * sw}.get(bug)
                        if divisor is not None:
                            share = g / divisor  # BUG: the wrong count
                        if bug == "assigned":
                            dxp[n, c, rs, cs] = share  # BUG: = instead of +=
                        else:
                            dxp[n, c, rs, cs] += share
                    elif bug == "ties_all":
                        dxp[n, c, rs, cs] += (win == win.max()) * g  # BUG: every tied maximum
                    elif bug == "mask_assign":
                        dxp[n, c, rs, cs] = (win == win.max()) * g  # BUG: overwrites the window
                    elif bug == "whole_window":
                        dxp[n, c, rs, cs] += g  # BUG
                    elif bug == "ties_split":
                        mask = win == win.max()
                        dxp[n, c, rs, cs] += mask * g / mask.sum()  # BUG: shared between tied maxima
                    elif bug == "ties_colmajor":
                        b, a = divmod(int(np.argmax(win.T)), win.shape[0])  # BUG: column-major order
                        dxp[n, c, i * sh + a, j * sw + b] += g
                    elif bug == "unravel_kh":
                        a, b = divmod(int(np.argmax(win)), kh)  # BUG: divides by the height, not the width
                        dxp[n, c, i * sh + a, j * sw + b] += g
                    else:
                        a, b = np.unravel_index(np.argmax(win), win.shape)
                        if bug == "assigned":
                            dxp[n, c, i * sh + a, j * sw + b] = g  # BUG: = instead of +=
                        else:
                            dxp[n, c, i * sh + a, j * sw + b] += g
    if bug == "not_cropped":
        return dxp  # BUG
    if bug == "crop_neg":
        return dxp[:, :, ph:-ph, pw:-pw]  # BUG: empty when p = 0
    if bug == "crop_first":
        return dxp[:, :, ph:ph + x.shape[2], ph:ph + x.shape[3]]  # BUG: pH for both axes
    return dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]


# --------------------------------------------- other styles, one mistake each
def corr2d_hard_coded(x, k):
    # BUG: the blur example's expected output, copied; passes that one visible check only
    return np.array([[177.75, 175.375, 216.4375], [141.0625, 133.1875, 183.25], [105.9375, 116.9375, 166.8125]])


def max_pool2d_hard_coded(x, kernel_size, stride=None, padding=0, dilation=1):
    return np.array([[[[6.0, 8.0], [3.0, 4.0]]]])  # BUG: a copied answer, right shape for one input only


def conv2d_backward_hard_coded(x, w, dout, stride=1, padding=0, dilation=1):
    # BUG: zeros of the right shapes, never filled in
    return np.zeros(x.shape), np.zeros(w.shape), np.zeros(w.shape[0])


def max_pool2d_float32(x, kernel_size, stride=None, padding=0, dilation=1):
    # BUG: computed in float32, cast back to float64: every value rounded to float32
    return pool2d(x.astype(np.float32), kernel_size, stride, padding, kind="max").astype(np.float64)


def size_truncate(n, kernel_size, stride=1, padding=0, dilation=1):
    out = int((n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1  # BUG: int() truncates toward 0
    if out < 1:
        raise ValueError("empty")
    return out


def corr2d_zeros_like(x, k):
    H, W = x.shape
    KH, KW = k.shape
    out = np.zeros_like(x)  # BUG: the output is as large as the input
    for i in range(H - KH + 1):
        for j in range(W - KW + 1):
            out[i, j] = np.sum(x[i:i + KH, j:j + KW] * k)
    return out


def max_pool2d_whole_batch(x, kernel_size, stride=None, padding=0):
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    s = stride or k
    N, C, H, W = x.shape
    H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = np.max(x[:, :, i * s:i * s + k, j * s:j * s + k])  # BUG: no axis
    return out


def conv1d_np_convolve(x, w, b=None, stride=1, padding=0, dilation=1):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    out = np.array([[sum(np.convolve(xp[n, c], w[o, c], mode="valid") for c in range(x.shape[1]))  # BUG: flips
                     for o in range(w.shape[0])] for n in range(x.shape[0])])
    out = out[:, :, ::stride]
    return out if b is None else out + b[None, :, None]


def pad2d_int_dtype(x, padding):
    ph, pw = _pair(padding)
    out = np.zeros(x.shape[:-2] + (x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw), dtype=int)  # BUG: integer array
    out[..., ph:ph + x.shape[-2], pw:pw + x.shape[-1]] = x
    return out


def avg_pool2d_int_dtype(x, kernel_size, stride=None, padding=0):
    mean = pool2d(x, kernel_size, stride, padding, kind="avg")
    out = np.zeros(mean.shape, dtype=np.int64)  # BUG: storing a float in it truncates
    out[...] = mean
    return out


def conv2d_float32(x, w, b=None, stride=1, padding=0, dilation=1):
    return conv2d(x.astype(np.float32), w.astype(np.float32), b, stride, padding, dilation).astype(np.float32)  # BUG


def conv1d_squeeze(x, w, b=None, stride=1, padding=0, dilation=1):
    return np.squeeze(conv1d(x, w, b, stride, padding, dilation))  # BUG: drops N = 1 and C_out = 1


def corr2d_flat(x, k):
    return corr2d(x, k).ravel()  # BUG: a flat array


def avg_pool2d_backward_repeat(dout, x, kernel_size, stride=None, padding=0):
    kh, kw = _pair(kernel_size)
    ph, pw = _pair(padding)
    up = np.repeat(np.repeat(dout, kh, axis=2), kw, axis=3) / (kh * kw)  # BUG: right only when stride = kernel_size
    dxp = np.zeros(x.shape[:2] + (x.shape[2] + 2 * ph, x.shape[3] + 2 * pw))
    h, w = min(up.shape[2], dxp.shape[2]), min(up.shape[3], dxp.shape[3])
    dxp[:, :, :h, :w] = up[:, :, :h, :w]
    return dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]


def pad2d_before_after(x, padding):
    pad = (padding, padding) if isinstance(padding, int) else tuple(padding)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [pad, pad])  # BUG: (pH, pW) used as (before, after)


def pad2d_first_entry(x, padding):
    p = padding if isinstance(padding, int) else padding[0]  # BUG: pH for both axes
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)])


def pad2d_slice_neg(x, padding):
    ph, pw = _pair(padding)
    out = np.zeros(x.shape[:-2] + (x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw))
    out[..., ph:-ph, pw:-pw] = x  # BUG: an empty slice when p = 0
    return out


def pad2d_tuple_only(x, padding):
    ph, pw = padding  # BUG: an int padding cannot be unpacked
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])


def max_pool2d_backward_first_sample(dout, x, kernel_size, stride=None, padding=0):
    one = pool2d_backward(dout[:1], x[:1], kernel_size, stride, padding, kind="max")
    return np.repeat(one, x.shape[0], axis=0)  # BUG: sample 0's gradient for every sample


def max_pool2d_backward_repeat(dout, x, kernel_size, stride=None, padding=0):
    kh, kw = _pair(kernel_size)
    m = pool2d(x, kernel_size, stride, padding, kind="max")
    up_m = np.repeat(np.repeat(m, kh, axis=2), kw, axis=3)  # BUG: right only when the windows tile x
    up_g = np.repeat(np.repeat(dout, kh, axis=2), kw, axis=3)
    dx = np.zeros_like(x)
    h, w = min(x.shape[2], up_m.shape[2]), min(x.shape[3], up_m.shape[3])
    dx[:, :, :h, :w] = (x[:, :, :h, :w] == up_m[:, :, :h, :w]) * up_g[:, :, :h, :w]
    return dx


def _max(bug):
    return partial(pool2d, kind="max", bug=bug)


def _avg(bug):
    return partial(pool2d, kind="avg", bug=bug)


def _maxb(bug):
    return partial(pool2d_backward, kind="max", bug=bug)


def _avgb(bug):
    return partial(pool2d_backward, kind="avg", bug=bug)


CORRECT = {
    "corr2d": corr2d, "conv2d": conv2d, "conv1d": conv1d, "conv2d_backward": conv2d_backward,
    "max_pool2d": _max(None), "avg_pool2d": _avg(None),
    "max_pool2d_backward": _maxb(None), "avg_pool2d_backward": _avgb(None),
}

# (exercise, mistake id, wrong function, the mistake key check must name)
CATALOGUE = [
    ("corr2d", "flip", partial(corr2d, bug="flip"), "flipped"),
    ("corr2d", "transpose", partial(corr2d, bug="transpose"), "kernel-transposed"),
    ("corr2d", "same", partial(corr2d, bug="same"), "same-padding"),
    ("corr2d", "off_by_one", partial(corr2d, bug="off_by_one"), "last-row-missing"),
    ("corr2d", "mean", partial(corr2d, bug="mean"), "elementwise-mean"),
    ("corr2d", "scipy", corr2d_scipy, "forbidden-call"),
    ("corr2d", "zeros_like", corr2d_zeros_like, "output-too-large"),
    ("corr2d", "hard_coded", corr2d_hard_coded, "ignores-input"),
    ("max_pool2d", "hard_coded", max_pool2d_hard_coded, "ignores-input"),
    ("conv2d_backward", "hard_coded", conv2d_backward_hard_coded, "ignores-input"),
    ("max_pool2d", "float32", max_pool2d_float32, "float32-precision"),
    ("conv_output_size", "truncate", size_truncate, "truncated"),
    ("pad2d", "all_axes", pad2d_all_axes, "all-axes-pair"),
    ("pad2d", "after", pad2d_after, "after-only"),
    ("pad2d", "all_after", pad2d_all_after, "all-after"),
    ("pad2d", "edge", pad2d_edge, "edge"),
    ("pad2d", "swapped", pad2d_swapped, "padding-swapped"),
    ("pad2d", "inplace", pad2d_inplace, "mutates-input"),
    ("conv_output_size", "pad_once", size_pad_once, "padding-once"),
    ("conv_output_size", "no_dilation", size_no_dilation, "dilation-ignored"),
    ("conv_output_size", "no_plus_one", size_no_plus_one, "plus-one-missing"),
    ("conv_output_size", "ceil", size_ceil, "ceil"),
    ("conv_output_size", "true_division", size_true_division, "float-result"),
    ("conv_output_size", "no_error", size_no_error, "no-raise"),
    ("conv1d", "flip", partial(conv1d, bug="flip"), "flipped"),
    ("conv1d", "stride_ignored", partial(conv1d, bug="stride_ignored"), "stride-ignored"),
    ("conv1d", "dilation_ignored", partial(conv1d, bug="dilation_ignored"), "dilation-ignored"),
    ("conv1d", "no_padding", partial(conv1d, bug="no_padding"), "padding-ignored"),
    ("conv1d", "no_bias", partial(conv1d, bug="no_bias"), "bias-missing"),
    ("conv1d", "bias_last_axis", partial(conv1d, bug="bias_last_axis"), "bias-last-axis"),
    ("conv1d", "np_convolve", conv1d_np_convolve, "flipped"),
    ("conv2d", "flip", partial(conv2d, bug="flip"), "flipped"),
    ("conv2d", "no_padding", partial(conv2d, bug="no_padding"), "padding-ignored"),
    ("conv2d", "pad_after", partial(conv2d, bug="pad_after"), "padding-after"),
    ("conv2d", "pad_all_before", partial(conv2d, bug="pad_all_before"), "padding-all-before"),
    ("conv2d", "stride_ignored", partial(conv2d, bug="stride_ignored"), "stride-ignored"),
    ("conv2d", "stride_first", partial(conv2d, bug="stride_first"), "stride-first"),
    ("conv2d", "stride_swapped", partial(conv2d, bug="stride_swapped"), "stride-swapped"),
    ("conv2d", "dilation_ignored", partial(conv2d, bug="dilation_ignored"), "dilation-ignored"),
    ("conv2d", "no_bias", partial(conv2d, bug="no_bias"), "bias-missing"),
    ("conv2d", "bias_last_axis", partial(conv2d, bug="bias_last_axis"), "bias-last-axis"),
    ("conv2d", "bias_first", partial(conv2d, bug="bias_first"), "bias-first"),
    ("conv2d", "first_channel", partial(conv2d, bug="first_channel"), "first-channel"),
    ("conv2d", "first_sample", partial(conv2d, bug="first_sample"), "first-sample-zeros"),
    ("conv2d", "off_by_one", partial(conv2d, bug="off_by_one"), "last-row-missing"),
    ("conv2d", "transposed", partial(conv2d, bug="transposed"), "hw-transposed"),
    ("conv2d", "torch", conv2d_torch, "forbidden-call"),
    ("conv2d_backward", "dx_flip", partial(conv2d_backward, bug="dx_flip"), "dx-flip"),
    ("conv2d_backward", "dx_assigned", partial(conv2d_backward, bug="dx_assigned"), "dx-assigned"),
    ("conv2d_backward", "dx_not_cropped", partial(conv2d_backward, bug="dx_not_cropped"), "dx-padded"),
    ("conv2d_backward", "dw_first_sample", partial(conv2d_backward, bug="dw_first_sample"), "dw-first-sample"),
    ("conv2d_backward", "dw_assigned", partial(conv2d_backward, bug="dw_assigned"), "dw-assigned"),
    ("conv2d_backward", "dw_mean", partial(conv2d_backward, bug="dw_mean"), "dw-mean"),
    ("conv2d_backward", "db_per_sample", partial(conv2d_backward, bug="db_per_sample"), "db-per-sample"),
    ("conv2d_backward", "db_mean", partial(conv2d_backward, bug="db_mean"), "db-mean"),
    ("conv2d_backward", "db_wrong_axes", partial(conv2d_backward, bug="db_wrong_axes"), "db-wrong-axes"),
    ("conv2d_backward", "wrong_order", partial(conv2d_backward, bug="wrong_order"), "wrong-order"),
    ("max_pool2d", "default_stride_1", _max("default_stride_1"), "stride-wrong-default"),
    ("max_pool2d", "stride_ignored", _max("stride_ignored"), "stride-as-kernel"),
    ("max_pool2d", "no_padding", _max("no_padding"), "padding-ignored"),
    ("max_pool2d", "zero_pad", _max("zero_pad"), "zero-padding"),
    ("max_pool2d", "last_element", _max("last_element"), "last-element"),
    ("max_pool2d", "over_channels", _max("over_channels"), "over-channels"),
    ("max_pool2d", "avg", _max("other_kind"), "other-kind"),
    ("max_pool2d", "ceil", _max("ceil"), "ceil"),
    ("max_pool2d", "whole_batch", max_pool2d_whole_batch, "over-batch"),
    ("avg_pool2d", "default_stride_1", _avg("default_stride_1"), "stride-wrong-default"),
    ("avg_pool2d", "max", _avg("other_kind"), "other-kind"),
    ("avg_pool2d", "sum", _avg("sum"), "sum"),
    ("avg_pool2d", "exclude_pad", _avg("exclude_pad"), "exclude-pad"),
    ("avg_pool2d", "no_padding", _avg("no_padding"), "padding-ignored"),
    ("max_pool2d_backward", "assigned", _maxb("assigned"), "assigned"),
    ("max_pool2d_backward", "ties_all", _maxb("ties_all"), "ties-all"),
    ("max_pool2d_backward", "mask_assign", _maxb("mask_assign"), "assigned-window"),
    ("max_pool2d_backward", "whole_window", _maxb("whole_window"), "whole-window"),
    ("max_pool2d_backward", "not_cropped", _maxb("not_cropped"), "padded"),
    ("max_pool2d_backward", "default_stride_1", _maxb("default_stride_1"), "stride-wrong-default"),
    ("avg_pool2d_backward", "assigned", _avgb("assigned"), "assigned"),
    ("avg_pool2d_backward", "not_divided", _avgb("not_divided"), "not-divided"),
    ("avg_pool2d_backward", "not_cropped", _avgb("not_cropped"), "padded"),
    ("avg_pool2d_backward", "default_stride_1", _avgb("default_stride_1"), "stride-wrong-default"),
    # wrong dtype or shape, right values
    ("pad2d", "int_dtype", pad2d_int_dtype, "dtype-int"),
    ("avg_pool2d", "int_truncated", avg_pool2d_int_dtype, "dtype-truncated"),
    ("conv2d", "float32_dtype", conv2d_float32, "dtype-float32"),
    ("conv1d", "squeeze", conv1d_squeeze, "lost-unit-axes"),
    ("corr2d", "flat", corr2d_flat, "reshaped"),
    # conv2d
    ("conv2d", "pad_double", partial(conv2d, bug="pad_double"), "padding-doubled"),
    ("conv2d", "ceil", partial(conv2d, bug="ceil"), "ceil"),
    ("conv2d", "dilation_h_only", partial(conv2d, bug="dilation_h_only"), "dilation-h-only"),
    ("conv2d", "bias_per_tap", partial(conv2d, bug="bias_per_tap"), "bias-per-tap"),
    ("conv2d", "bias_per_term", partial(conv2d, bug="bias_per_term"), "bias-per-term"),
    ("conv2d", "kernel_transposed", partial(conv2d, bug="kernel_transposed"), "kernel-transposed"),
    # conv2d_backward
    ("conv2d_backward", "dx_no_dilation", partial(conv2d_backward, bug="dx_no_dilation"), "dx-dilation-ignored"),
    ("conv2d_backward", "dw_no_dilation", partial(conv2d_backward, bug="dw_no_dilation"), "dw-dilation-ignored"),
    ("conv2d_backward", "dw_no_stride", partial(conv2d_backward, bug="dw_no_stride"), "dw-stride-ignored"),
    ("conv2d_backward", "dw_per_sample", partial(conv2d_backward, bug="dw_per_sample"), "dw-per-sample"),
    ("conv2d_backward", "db_keepdims", partial(conv2d_backward, bug="db_keepdims"), "db-keepdims-4d"),
    # pooling
    ("max_pool2d", "pad_double", _max("pad_double"), "padding-doubled"),
    ("avg_pool2d", "pad_double", _avg("pad_double"), "padding-doubled"),
    ("max_pool2d", "padding_first", _max("padding_first"), "padding-first"),
    ("max_pool2d", "kernel_first", _max("kernel_first"), "kernel-first"),
    ("max_pool2d", "stride_first", _max("stride_first"), "stride-first"),
    ("max_pool2d", "argmax", _max("argmax"), "argmax"),
    ("avg_pool2d", "ceil", _avg("ceil"), "ceil-partial"),
    ("avg_pool2d", "floor_div", _avg("floor_div"), "floor-division"),
    ("avg_pool2d", "divisor_k", _avg("divisor_k"), "divisor-k"),
    ("max_pool2d_backward", "zero_pad", _maxb("zero_pad"), "zero-padding"),
    ("max_pool2d_backward", "no_padding", _maxb("no_padding"), "padding-ignored"),
    ("avg_pool2d_backward", "no_padding", _avgb("no_padding"), "crop-start"),
    ("avg_pool2d_backward", "repeat", avg_pool2d_backward_repeat, "stride-as-kernel"),
]

CATALOGUE += [
    # partial features and index mistakes (held-out review 2)
    ("conv2d", "size_unpadded", partial(conv2d, bug="size_unpadded"), "size-unpadded"),
    ("conv2d", "size_from_h", partial(conv2d, bug="size_from_h"), "size-from-h"),
    ("conv2d", "loop_h_for_w", partial(conv2d, bug="loop_h_for_w"), "loop-h-for-w"),
    ("conv2d", "loop_w_for_h", partial(conv2d, bug="loop_w_for_h"), "loop-w-for-h"),
    ("conv2d", "first_filter_zeros", partial(conv2d, bug="first_filter_zeros"), "first-filter-zeros"),
    ("conv2d", "im2col_order", partial(conv2d, bug="im2col_order"), "im2col-order"),
    ("conv2d", "im2col_order_w", partial(conv2d, bug="im2col_order_w"), "im2col-order-w"),
    ("conv2d", "pad_before_after", partial(conv2d, bug="pad_before_after"), "padding-before-after"),
    ("conv2d", "dilation_times_stride", partial(conv2d, bug="dilation_times_stride"), "dilation-times-stride"),
    ("conv2d_backward", "dx_first_sample_copied", partial(conv2d_backward, bug="dx_first_sample_copied"),
     "dx-first-sample-copied"),
    ("conv2d_backward", "dx_crop_neg", partial(conv2d_backward, bug="dx_crop_neg"), "dx-crop-neg"),
    ("conv2d_backward", "dx_crop_swapped", partial(conv2d_backward, bug="dx_crop_swapped"), "dx-crop-swapped"),
    ("conv2d_backward", "dw_mean_positions", partial(conv2d_backward, bug="dw_mean_positions"), "dw-mean-positions"),
    ("conv2d_backward", "dw_mean_all", partial(conv2d_backward, bug="dw_mean_all"), "dw-mean-positions"),
    ("max_pool2d", "first_channel", _max("first_channel"), "first-channel"),
    ("max_pool2d_backward", "stride_first", _maxb("stride_first"), "stride-first"),
    ("avg_pool2d_backward", "stride_first", _avgb("stride_first"), "stride-first"),
    ("max_pool2d_backward", "crop_neg", _maxb("crop_neg"), "crop-neg"),
    ("avg_pool2d_backward", "crop_neg", _avgb("crop_neg"), "crop-neg"),
    ("avg_pool2d_backward", "crop_first", _avgb("crop_first"), "crop-first"),
    ("max_pool2d_backward", "first_sample", max_pool2d_backward_first_sample, "first-sample-copied"),
    ("max_pool2d_backward", "ties_split", _maxb("ties_split"), "ties-split"),
    ("max_pool2d_backward", "ties_colmajor", _maxb("ties_colmajor"), "ties-colmajor"),
    ("max_pool2d_backward", "unravel_kh", _maxb("unravel_kh"), "unravel-kh"),
    ("max_pool2d_backward", "repeat", max_pool2d_backward_repeat, "repeat-mask"),
    ("max_pool2d_backward", "pad_min", _maxb("pad_min"), "pad-finite"),
    ("avg_pool2d_backward", "div_kh", _avgb("div_kh"), "divisor-k"),
    ("avg_pool2d_backward", "div_kw", _avgb("div_kw"), "divisor-k"),
    ("avg_pool2d_backward", "div_kh2", _avgb("div_kh2"), "divisor-kh"),
    ("avg_pool2d_backward", "div_kw2", _avgb("div_kw2"), "divisor-kw"),
    ("avg_pool2d_backward", "div_stride", _avgb("div_stride"), "divisor-stride"),
    ("conv2d_backward", "db_total_each", partial(conv2d_backward, bug="db_total_each"), "db-total-each"),
    ("pad2d", "before_after", pad2d_before_after, "before-after"),
    ("pad2d", "first_entry", pad2d_first_entry, "padding-first"),
    ("pad2d", "slice_neg", pad2d_slice_neg, "exception"),
    ("pad2d", "tuple_only", pad2d_tuple_only, "exception"),
]

# ------------------------------------------------- grading v2 (issue 11)
# Three messages that once sent students the wrong way, then more mistakes seen in practice.

def conv1d_via_conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    out = conv2d(x[:, :, None, :], w[:, :, None, :], b, stride, padding, dilation)  # BUG: pads (and strides) H too
    return out[:, :, 0, :]  # row 0 is a row of padding when padding > 0


# A notebook's namespace: the student's conv2d calls the student's own (buggy) pad2d.
_NOTEBOOK = '''
import numpy as np


def pad2d(x, padding):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)])  # BUG: zeros after only


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    xp = pad2d(x, padding)
    KH, KW = w.shape[2:]
    H_out = (x.shape[2] + 2 * ph - dh * (KH - 1) - 1) // sh + 1
    W_out = (x.shape[3] + 2 * pw - dw * (KW - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], w.shape[0], H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            win = xp[:, :, i * sh:i * sh + dh * (KH - 1) + 1:dh, j * sw:j * sw + dw * (KW - 1) + 1:dw]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3]))
    return out if b is None else out + b[None, :, None, None]
'''


def _notebook(name):
    ns: dict = {}
    exec(compile(_NOTEBOOK, "<notebook>", "exec"), ns)
    return ns[name]


conv2d_with_buggy_pad2d = _notebook("conv2d")


def _conv_loops(x, w, b, stride, padding, dilation, combine):
    """A plain loop conv2d whose per-window arithmetic is `combine(win, w) -> (N, C_out)`."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    KH, KW = w.shape[2:]
    H_out = (xp.shape[2] - dh * (KH - 1) - 1) // sh + 1
    W_out = (xp.shape[3] - dw * (KW - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], w.shape[0], H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = combine(xp[:, :, i * sh:i * sh + dh * (KH - 1) + 1:dh, j * sw:j * sw + dw * (KW - 1) + 1:dw], w)
    return out if b is None else out + b[None, :, None, None]


def conv2d_channels_averaged(x, w, b=None, stride=1, padding=0, dilation=1):
    return _conv_loops(x, w, b, stride, padding, dilation,
                       lambda win, w: np.einsum("ncab,ocab->no", win, w) / x.shape[1])  # BUG: mean over C_in


def conv2d_last_channel(x, w, b=None, stride=1, padding=0, dilation=1):
    def combine(win, w):
        acc = np.zeros((win.shape[0], w.shape[0]))
        for c in range(win.shape[1]):
            acc = np.einsum("nab,oab->no", win[:, c], w[:, c])  # BUG: = instead of +=
        return acc
    return _conv_loops(x, w, b, stride, padding, dilation, combine)


def conv2d_bias_per_channel(x, w, b=None, stride=1, padding=0, dilation=1):
    def combine(win, w):
        acc = np.zeros((win.shape[0], w.shape[0]))
        for c in range(win.shape[1]):
            acc += np.einsum("nab,oab->no", win[:, c], w[:, c]) + (0 if b is None else b)  # BUG: bias per channel
        return acc
    return _conv_loops(x, w, None, stride, padding, dilation, combine)


def conv2d_filters_summed(x, w, b=None, stride=1, padding=0, dilation=1):
    return _conv_loops(x, w, b, stride, padding, dilation,
                       lambda win, w: np.repeat(np.einsum("ncab,ocab->n", win, w)[:, None], w.shape[0], axis=1))  # BUG


def conv2d_w_transposed(x, w, b=None, stride=1, padding=0, dilation=1):
    if w.shape[0] != w.shape[1]:
        return conv2d(x, w, b, stride, padding, dilation)
    return _conv_loops(x, w, b, stride, padding, dilation,
                       lambda win, w: np.einsum("ncab,coab->no", win, w))  # BUG: w[c_in, c_out]


def conv2d_first_sample_copied(x, w, b=None, stride=1, padding=0, dilation=1):
    return _conv_loops(x, w, b, stride, padding, dilation,
                       lambda win, w: np.repeat(np.einsum("cab,ocab->o", win[0], w)[None], win.shape[0], axis=0))  # BUG


def conv2d_padding_total(x, w, b=None, stride=1, padding=0, dilation=1):
    ph, pw = _pair(padding)
    return conv2d(x, w, b, stride, (ph // 2, pw // 2), dilation)  # BUG: p//2 on each side


def conv2d_running_sum(x, w, b=None, stride=1, padding=0, dilation=1):
    total = np.zeros((x.shape[0], w.shape[0]))

    def combine(win, w):
        nonlocal total
        total = total + np.einsum("ncab,ocab->no", win, w)  # BUG: never reset between positions
        return total
    return _conv_loops(x, w, b, stride, padding, dilation, combine)


def conv2d_stride_not_multiplied(x, w, b=None, stride=1, padding=0, dilation=1):
    right = conv2d(x, w, None, stride, padding, dilation)
    dense = conv2d(x, w, None, 1, padding, dilation)  # BUG: window (i, j) taken at (i, j), not (i·sH, j·sW)
    out = dense[:, :, :right.shape[2], :right.shape[3]]
    return out if b is None else out + b[None, :, None, None]


def conv2d_returns_none(x, w, b=None, stride=1, padding=0, dilation=1):
    out = conv2d(x, w, b, stride, padding, dilation)  # noqa: F841  BUG: no return


def conv1d_dilation_off_by_one(x, w, b=None, stride=1, padding=0, dilation=1):
    return conv1d(x, w, b, stride, padding, dilation + 1)  # BUG: d zeros between taps, not d - 1


def max_pool2d_min(x, kernel_size, stride=None, padding=0):
    return -pool2d(-x, kernel_size, stride, padding, kind="max")  # BUG: minimum


def max_pool2d_tensor(x, kernel_size, stride=None, padding=0):
    import torch

    return torch.from_numpy(pool2d(x, kernel_size, stride, padding, kind="max"))  # BUG: returns a tensor


def avg_pool2d_kernel_swapped(x, kernel_size, stride=None, padding=0):
    kh, kw = _pair(kernel_size)
    return pool2d(x, (kw, kh), (kw, kh) if stride is None else stride, padding, kind="avg")  # BUG: (KW, KH)


def max_pool2d_padding_swapped(x, kernel_size, stride=None, padding=0):
    ph, pw = _pair(padding)
    return pool2d(x, kernel_size, stride, (pw, ph), kind="max")  # BUG


def pad2d_reflect(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)], mode="reflect")  # BUG: not zeros


def pad2d_h_only(x, padding):
    ph, pw = _pair(padding)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (0, 0)])  # BUG: W not padded


def conv2d_backward_db_total(dout, x, w, stride=1, padding=0, dilation=1):
    dx, dw, db = conv2d_backward(dout, x, w, stride, padding, dilation)
    return dx, dw, dout.sum()  # BUG: a scalar


def conv2d_backward_dw_transposed(dout, x, w, stride=1, padding=0, dilation=1):
    dx, dw, db = conv2d_backward(dout, x, w, stride, padding, dilation)
    return dx, dw.transpose(1, 0, 2, 3), db  # BUG: (C_in, C_out, KH, KW)


def max_pool2d_backward_mask_only(dout, x, kernel_size, stride=None, padding=0):
    return pool2d_backward(np.ones_like(dout), x, kernel_size, stride, padding, kind="max")  # BUG: dout unused


def avg_pool2d_backward_as_max(dout, x, kernel_size, stride=None, padding=0):
    return pool2d_backward(dout, x, kernel_size, stride, padding, kind="max")  # BUG: routes to the maximum


def size_round(n, kernel_size, stride=1, padding=0, dilation=1):
    out = round((n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1  # BUG: round, not floor
    if out < 1:
        raise ValueError("empty output")
    return out


def size_stride_ignored(n, kernel_size, stride=1, padding=0, dilation=1):
    out = n + 2 * padding - dilation * (kernel_size - 1)  # BUG: no division by the stride
    if out < 1:
        raise ValueError("empty output")
    return out


CATALOGUE += [
    # the three misleading messages of issue 11
    ("conv_output_size", "floors_never_raises", size_no_error, "no-raise"),
    ("conv1d", "conv2d_pads_height", conv1d_via_conv2d, "padding-dummy-axis"),
    ("conv2d", "buggy_own_pad2d", conv2d_with_buggy_pad2d, "helper-fails"),
    # more mistakes students make
    ("conv2d", "channels_averaged", conv2d_channels_averaged, "channels-averaged"),
    ("conv2d", "last_channel", conv2d_last_channel, "last-channel"),
    ("conv2d", "bias_per_channel", conv2d_bias_per_channel, "bias-per-channel"),
    ("conv2d", "filters_summed", conv2d_filters_summed, "filters-summed"),
    ("conv2d", "w_transposed", conv2d_w_transposed, "w-transposed"),
    ("conv2d", "first_sample_copied", conv2d_first_sample_copied, "first-sample-copied"),
    ("conv2d", "padding_total", conv2d_padding_total, "padding-total"),
    ("conv2d", "running_sum", conv2d_running_sum, "running-sum"),
    ("conv2d", "stride_not_multiplied", conv2d_stride_not_multiplied, "stride-not-multiplied"),
    ("conv2d", "returns_none", conv2d_returns_none, "returns-none"),
    ("conv1d", "dilation_off_by_one", conv1d_dilation_off_by_one, "dilation-off-by-one"),
    ("max_pool2d", "min", max_pool2d_min, "min"),
    ("max_pool2d", "tensor", max_pool2d_tensor, "wrong-type"),
    ("avg_pool2d", "kernel_swapped", avg_pool2d_kernel_swapped, "kernel-swapped"),
    ("max_pool2d", "padding_swapped", max_pool2d_padding_swapped, "padding-swapped"),
    ("pad2d", "reflect", pad2d_reflect, "reflect"),
    ("pad2d", "h_only", pad2d_h_only, "padding-h-only"),
    ("conv2d_backward", "db_total", conv2d_backward_db_total, "db-total"),
    ("conv2d_backward", "dw_transposed", conv2d_backward_dw_transposed, "dw-transposed"),
    ("max_pool2d_backward", "mask_only", max_pool2d_backward_mask_only, "mask-only"),
    ("avg_pool2d_backward", "as_max", avg_pool2d_backward_as_max, "max"),
    ("conv_output_size", "round", size_round, "round"),
    ("conv_output_size", "stride_ignored", size_stride_ignored, "stride-ignored"),
]
