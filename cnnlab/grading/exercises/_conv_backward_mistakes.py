"""Known mistakes of conv2d_backward, one list entry per output (dx 0, dw 1, db 2).

Most come from the reference on altered inputs; assigning instead of
accumulating over overlapping windows is simulated with a small numpy loop.
"""
from __future__ import annotations

import numpy as np

from cnnlab import reference as R
from cnnlab.grading.mistake import Mistake

__all__ = ["CONV_BACKWARD"]


def _bwd(P, dev, dout=None, x=None, w=None, s=None, p=None):
    return R.conv2d_backward(P.dout if dout is None else dout, P.x if x is None else x, P.w if w is None else w,
                             P.s if s is None else s, P.p if p is None else p, P.d, device=dev)


def _padded_dx(P, dev):
    (ph, pw) = P.p
    return _bwd(P, dev, x=np.pad(P.x, ((0, 0), (0, 0), (ph, ph), (pw, pw))), p=(0, 0))[0]


def _scatter_dx(P, per_filter: bool):
    """dx with `=` instead of `+=` (last write wins), loops n, [c_out,] i, j."""
    N, C_out, H_out, W_out = P.dout.shape
    _, C_in, KH, KW = P.w.shape
    (sh, sw), (ph, pw), (dh, dw) = P.s, P.p, P.d
    dxp = np.zeros((N, C_in, P.x.shape[2] + 2 * ph, P.x.shape[3] + 2 * pw))
    for n in range(N):
        for co in (range(C_out) if per_filter else [None]):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * sh, i * sh + dh * (KH - 1) + 1, dh)
                    cols = slice(j * sw, j * sw + dw * (KW - 1) + 1, dw)
                    if per_filter:
                        dxp[n, :, rows, cols] = P.w[co] * P.dout[n, co, i, j]
                    else:
                        dxp[n, :, rows, cols] = np.tensordot(P.dout[n, :, i, j], P.w, axes=(0, 0))
    return dxp[:, :, ph:ph + P.x.shape[2], pw:pw + P.x.shape[3]]


def _overlap(P):
    return P.d[0] * (P.w.shape[2] - 1) + 1 > P.s[0] or P.d[1] * (P.w.shape[3] - 1) + 1 > P.s[1]


def _if(cond, fn):
    return fn() if cond else None


_N = "dw must sum the contributions of every sample of the batch (and every position)"

CONV_BACKWARD = [
    # dx
    Mistake("dx-flip", "dx: the kernel is flipped the wrong way. dx scatters each upstream value back "
            "through the window: dx[n, :, window(i, j)] += dout[n, c_out, i, j] · w[c_out] (no flip) — "
            "equivalently a full correlation of dout with the flipped kernel.",
            lambda P, dev: _bwd(P, dev, w=P.w[..., ::-1, ::-1])[0], output=0),
    Mistake("dx-assigned", "dx: gradients are assigned (=) instead of accumulated (+=): where windows "
            "overlap, a pixel must receive the sum of the contributions of every window that contains it.",
            lambda P, dev: _if(_overlap(P) or P.w.shape[0] > 1, lambda: _scatter_dx(P, True)), output=0),
    Mistake("dx-assigned-windows", "dx: gradients are assigned (=) instead of accumulated (+=): where windows "
            "overlap, a pixel must receive the sum of the contributions of every window that contains it.",
            lambda P, dev: _if(_overlap(P), lambda: _scatter_dx(P, False)), output=0),
    Mistake("dx-padded", "dx still includes the padding: compute the gradient of the padded input, then crop "
            "it, dx = dx_padded[:, :, pH:pH + H, pW:pW + W].",
            lambda P, dev: _if(P.p != (0, 0), lambda: _padded_dx(P, dev)), output=0),
    Mistake("dx-crop-start", "dx is shifted by the padding: either it is cropped from the wrong place (the padding "
            "is on each side, so crop dx_padded[:, :, pH:pH + H, pW:pW + W], not [:H, :W]) or the padding is ignored "
            "(the window of output (i, j) starts at row i·sH − pH and column j·sW − pW of x).",
            lambda P, dev: _if(P.p != (0, 0), lambda: _padded_dx(P, dev)[:, :, :P.x.shape[2], :P.x.shape[3]]),
            output=0),
    Mistake("dx-stride-ignored", "dx: the stride is ignored (windows placed at i, j instead of i·sH, j·sW).",
            lambda P, dev: _if(P.s != (1, 1), lambda: _scatter_stride1(P)), output=0),
    Mistake("dx-dilation-ignored", "dx: dilation is ignored (each upstream value goes back to a contiguous window): "
            "with dilation d the kernel taps are d positions apart, x[i·s + d·a].",
            lambda P, dev: _if(P.d != (1, 1), lambda: _scatter_undilated(P)), output=0),
    Mistake("dx-first-sample", "dx: only the first sample of the batch gets a gradient: loop over all N samples.",
            lambda P, dev: _if(P.x.shape[0] > 1, lambda: _bwd(P, dev, dout=_zero_rest(P.dout))[0]), output=0),
    Mistake("dx-first-sample-copied", "dx: every sample gets the gradient of the first sample (dout[0] or x[0] "
            "used for the whole batch): index dout[n] for sample n.",
            lambda P, dev: _if(P.x.shape[0] > 1, lambda: np.broadcast_to(
                _bwd(P, dev, dout=P.dout[:1], x=P.x[:1])[0], P.x.shape)), output=0),
    Mistake("dx-crop-neg", "dx is cropped with [p:-p], which is empty when p = 0 (-0 is 0, so [0:-0] selects "
            "nothing): crop dx_padded[:, :, pH:pH + H, pW:pW + W].",
            lambda P, dev: _if(0 in P.p, lambda: _padded_dx(P, dev)[:, :, P.p[0]:-P.p[0], P.p[1]:-P.p[1]]), output=0),
    Mistake("dx-crop-swapped", "dx is cropped with the padding pair swapped: padding=(pH, pW), so crop "
            "dx_padded[:, :, pH:pH + H, pW:pW + W].",
            lambda P, dev: _if(P.p[0] != P.p[1], lambda: _padded_dx(P, dev)[
                :, :, P.p[1]:P.p[1] + P.x.shape[2], P.p[0]:P.p[0] + P.x.shape[3]]), output=0),
    # dw
    Mistake("dw-first-sample", f"dw is not summed over the batch (it holds the first sample only): {_N}.",
            lambda P, dev: _if(P.x.shape[0] > 1, lambda: _bwd(P, dev, dout=P.dout[:1], x=P.x[:1])[1]), output=1),
    Mistake("dw-last-sample", f"dw is overwritten for every sample (it holds the last sample only): {_N}.",
            lambda P, dev: _if(P.x.shape[0] > 1, lambda: _bwd(P, dev, dout=P.dout[-1:], x=P.x[-1:])[1]), output=1),
    Mistake("dw-per-sample", f"dw has one gradient per sample (an extra batch axis in front): {_N}, so it has "
            "w's shape (C_out, C_in, KH, KW).",
            lambda P, dev: np.stack([_bwd(P, dev, dout=P.dout[n:n + 1], x=P.x[n:n + 1])[1] for n in range(P.x.shape[0])]),
            output=1),
    Mistake("dw-dilation-ignored", "dw: dilation is ignored (dw is taken from contiguous windows of x): with "
            "dilation d, dw[c_out, c_in, a, b] = Σ dout[n, c_out, i, j] · x_padded[n, c_in, i·sH + dH·a, j·sW + dW·b].",
            lambda P, dev: _if(P.d != (1, 1), lambda: _dw_windows(P, stride=P.s, dilation=(1, 1))), output=1),
    Mistake("dw-mean", "dw is averaged over the batch instead of summed: the loss gradient is the sum over samples.",
            lambda P, dev: _if(P.x.shape[0] > 1, lambda: _bwd(P, dev)[1] / P.x.shape[0]), output=1),
    Mistake("dw-mean-positions", "dw is averaged over the output positions instead of summed: "
            "dw[c_out, c_in, a, b] = Σ over n, i, j of dout[n, c_out, i, j] · x_padded[n, c_in, i·sH + dH·a, j·sW + dW·b] "
            "(a sum, no division by H_out·W_out).",
            lambda P, dev: _if(P.dout.shape[2] * P.dout.shape[3] > 1,
                               lambda: _bwd(P, dev)[1] / (P.dout.shape[2] * P.dout.shape[3])), output=1, family="dw-mean"),
    Mistake("dw-mean-all", "dw is averaged over the batch and the output positions instead of summed: the gradient "
            "is a sum over n, i and j (no division by N·H_out·W_out).",
            lambda P, dev: _if(P.dout.shape[0] > 1 and P.dout.shape[2] * P.dout.shape[3] > 1,
                               lambda: _bwd(P, dev)[1] / P.dout[:, 0].size), output=1, family="dw-mean"),
    Mistake("dw-flip", "dw is flipped: dw[c_out, c_in, a, b] = Σ dout[n, c_out, i, j] · x_padded[n, c_in, i·s + a, j·s + b].",
            lambda P, dev: _bwd(P, dev)[1][..., ::-1, ::-1], output=1),
    Mistake("dw-stride-ignored", "dw: the stride is ignored (windows of x taken at i, j instead of i·sH, j·sW): "
            "dw[c_out, c_in, a, b] = Σ dout[n, c_out, i, j] · x_padded[n, c_in, i·sH + dH·a, j·sW + dW·b].",
            lambda P, dev: _if(P.s != (1, 1), lambda: _dw_windows(P, stride=(1, 1), dilation=P.d)), output=1),
    Mistake("dw-no-padding", "dw is computed on the unpadded input: use the zero-padded x, as in the forward pass.",
            lambda P, dev: _if(P.p != (0, 0), lambda: _dw_unpadded(P)), output=1),
    Mistake("dw-transposed", "dw has layout (C_in, C_out, KH, KW); it must have w's layout (C_out, C_in, KH, KW).",
            lambda P, dev: _bwd(P, dev)[1].transpose(1, 0, 2, 3), output=1),
    Mistake("dw-assigned", "dw is assigned (=) instead of accumulated (+=) over output positions and samples.",
            lambda P, dev: _bwd(P, dev, dout=_last_only(P.dout))[1], output=1, family="dw-assigned"),
    Mistake("dw-assigned-positions", "dw is assigned (=) instead of accumulated (+=) over output positions: "
            "it holds the last window's contribution only.",
            lambda P, dev: _bwd(P, dev, dout=_last_position(P.dout))[1], output=1, family="dw-assigned"),
    # db
    Mistake("db-first-sample", "db is not summed over the batch (first sample only): db[c] = Σ over n, i, j of dout[n, c, i, j].",
            lambda P, dev: _if(P.x.shape[0] > 1, lambda: P.dout[0].sum(axis=(1, 2))), output=2),
    Mistake("db-last-sample", "db is overwritten for every sample (last sample only): db[c] = Σ over n, i, j of dout[n, c, i, j].",
            lambda P, dev: _if(P.x.shape[0] > 1, lambda: P.dout[-1].sum(axis=(1, 2))), output=2),
    Mistake("db-keepdims", "db has extra axes of size 1: it must have shape (C_out,), db = dout.sum(axis=(0, 2, 3)) "
            "(no keepdims, no [:, None]).",
            lambda P, dev: P.dout.sum(axis=(0, 2, 3))[:, None], output=2, family="db-keepdims"),
    Mistake("db-keepdims-4d", "db has extra axes of size 1: it must have shape (C_out,), db = dout.sum(axis=(0, 2, 3)) "
            "(no keepdims=True).",
            lambda P, dev: P.dout.sum(axis=(0, 2, 3), keepdims=True), output=2, family="db-keepdims"),
    Mistake("db-per-sample", "db is not summed over the batch: it must have shape (C_out,), db = dout.sum(axis=(0, 2, 3)).",
            lambda P, dev: P.dout.sum(axis=(2, 3)), output=2),
    Mistake("db-mean", "db is a mean, not a sum: db = dout.sum(axis=(0, 2, 3)).",
            lambda P, dev: P.dout.mean(axis=(0, 2, 3)), output=2),
    Mistake("db-batch-mean", "db is averaged over the batch instead of summed: db = dout.sum(axis=(0, 2, 3)).",
            lambda P, dev: _if(P.x.shape[0] > 1, lambda: P.dout.sum(axis=(0, 2, 3)) / P.x.shape[0]), output=2),
    Mistake("db-total", "db sums over every axis: it must keep the channel axis, db = dout.sum(axis=(0, 2, 3)).",
            lambda P, dev: P.dout.sum(), output=2),
    Mistake("db-total-each", "Every entry of db holds the sum over all of dout (every channel together): keep the "
            "channel axis, db = dout.sum(axis=(0, 2, 3)).",
            lambda P, dev: _if(P.dout.shape[1] > 1, lambda: np.full(P.dout.shape[1], P.dout.sum())), output=2),
    Mistake("db-wrong-axes", "db is summed over the wrong axes: db = dout.sum(axis=(0, 2, 3)), one value per output channel.",
            lambda P, dev: P.dout.sum(axis=(0, 1, 2)), output=2),
]


def _zero_rest(dout):
    out = np.zeros_like(dout)
    out[:1] = dout[:1]
    return out


def _last_only(dout):
    out = np.zeros_like(dout)
    out[-1, :, -1, -1] = dout[-1, :, -1, -1]
    return out


def _last_position(dout):
    out = np.zeros_like(dout)
    out[:, :, -1, -1] = dout[:, :, -1, -1]
    return out


def _dw_unpadded(P):
    """dw correlating dout with the unpadded x, windows clipped at the border."""
    N, C_out, H_out, W_out = P.dout.shape
    _, C_in, KH, KW = P.w.shape
    (sh, sw), (dh, dw) = P.s, P.d
    if (H_out - 1) * sh + dh * (KH - 1) + 1 > P.x.shape[2] or (W_out - 1) * sw + dw * (KW - 1) + 1 > P.x.shape[3]:
        return None
    out = np.zeros(P.w.shape)
    for i in range(H_out):
        for j in range(W_out):
            win = P.x[:, :, i * sh:i * sh + dh * (KH - 1) + 1:dh, j * sw:j * sw + dw * (KW - 1) + 1:dw]  # (N, C_in, KH, KW)
            out += np.tensordot(P.dout[:, :, i, j], win, axes=(0, 0))  # (C_out, C_in, KH, KW)
    return out


def _scatter_stride1(P):
    N, C_out, H_out, W_out = P.dout.shape
    _, C_in, KH, KW = P.w.shape
    (ph, pw), (dh, dw) = P.p, P.d
    dxp = np.zeros((N, C_in, P.x.shape[2] + 2 * ph, P.x.shape[3] + 2 * pw))
    for i in range(H_out):
        for j in range(W_out):
            contrib = np.tensordot(P.dout[:, :, i, j], P.w, axes=(1, 0))  # (N, C_in, KH, KW)
            dxp[:, :, i:i + dh * (KH - 1) + 1:dh, j:j + dw * (KW - 1) + 1:dw] += contrib
    return dxp[:, :, ph:ph + P.x.shape[2], pw:pw + P.x.shape[3]]


def _scatter_undilated(P):
    """dx computed with contiguous windows, as if dilation were 1 (windows past the input are cropped)."""
    N, C_out, H_out, W_out = P.dout.shape
    _, C_in, KH, KW = P.w.shape
    (sh, sw), (ph, pw) = P.s, P.p
    H, W = P.x.shape[2:]
    dxp = np.zeros((N, C_in, H + 2 * ph + KH + H_out * sh, W + 2 * pw + KW + W_out * sw))
    for i in range(H_out):
        for j in range(W_out):
            dxp[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW] += np.tensordot(P.dout[:, :, i, j], P.w, axes=(1, 0))
    return dxp[:, :, ph:ph + H, pw:pw + W]


def _dw_windows(P, stride, dilation):
    """dw from windows of the zero-padded x at (i·stride, j·stride) with taps `dilation` apart (zeros past the end)."""
    C_out, C_in, KH, KW = P.w.shape
    H_out, W_out = P.dout.shape[2:]
    (sh, sw), (dh, dw), (ph, pw) = stride, dilation, P.p
    H, W = P.x.shape[2:]
    xp = np.zeros((P.x.shape[0], C_in, H + 2 * ph + KH * dh + H_out * sh, W + 2 * pw + KW * dw + W_out * sw))
    xp[:, :, ph:ph + H, pw:pw + W] = P.x
    out = np.zeros(P.w.shape)
    for i in range(H_out):
        for j in range(W_out):
            win = xp[:, :, i * sh:i * sh + dh * (KH - 1) + 1:dh, j * sw:j * sw + dw * (KW - 1) + 1:dw]
            out += np.tensordot(P.dout[:, :, i, j], win, axes=(0, 0))
    return out
