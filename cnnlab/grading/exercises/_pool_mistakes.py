"""Known mistakes of max/avg pooling and their backward passes (catalogues of exercises/pool.py).

Forward mistakes come from the reference on altered inputs; backward routing
mistakes (ties, assign instead of accumulate, fixed position) are simulated
by `_route`, a plain loop over the windows.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlab import reference as R
from cnnlab.grading.mistake import Mistake, hyper_mistakes

__all__ = ["MAX_POOL", "AVG_POOL", "MAX_POOL_BACKWARD", "AVG_POOL_BACKWARD"]

_NEG = -np.inf


def _pool(kind, P, dev, x=None, k=None, s=None, p=None):
    f = R.max_pool2d if kind == "max" else R.avg_pool2d
    return f(P.x if x is None else x, P.k if k is None else k, P.s if s is None else s, P.p if p is None else p, device=dev)


def _if(cond, fn):
    return fn() if cond else None


def _sw(v):
    return (v[1], v[0])


def _pad(x, p, value, where="both"):
    (ph, pw) = p
    before, after = (ph, pw) if where in ("both", "before") else (0, 0), (ph, pw) if where in ("both", "after") else (0, 0)
    return np.pad(x, ((0, 0), (0, 0), (before[0], after[0]), (before[1], after[1])), constant_values=value)


def _corner(P, last: bool):
    """The element at a fixed corner of each window (what monotone test inputs cannot tell from the max)."""
    xp = _pad(P.x, P.p, 0.0)
    out = R.max_pool2d(P.x, P.k, P.s, P.p).shape  # (N, C, H_out, W_out)
    (kh, kw), (sh, sw) = P.k, P.s
    r0, c0 = (kh - 1, kw - 1) if last else (0, 0)
    return xp[:, :, r0::sh, c0::sw][:, :, :out[2], :out[3]]


def _argmax(P):
    """The flat (row-major) index of each window's first maximum."""
    out = R.max_pool2d(P.x, P.k, P.s, P.p).shape
    win = sliding_window_view(_pad(P.x, P.p, _NEG), P.k, axis=(2, 3))[:, :, ::P.s[0], ::P.s[1]][:, :, :out[2], :out[3]]
    return win.reshape(win.shape[:4] + (-1,)).argmax(axis=-1).astype(np.float64)


def _ceil(kind, P, dev):
    (sh, sw) = P.s
    if sh == sw == 1:
        return None
    fill = _NEG if kind == "max" else 0.0
    xp = np.pad(_pad(P.x, P.p, fill), ((0, 0), (0, 0), (0, sh - 1), (0, sw - 1)), constant_values=fill)
    return _pool(kind, P, dev, x=xp, p=(0, 0))


def _ceil_partial_mean(P, dev):
    """Avg pooling rounded up, each partial window averaged over the elements it holds (padding included)."""
    (sh, sw) = P.s
    if sh == sw == 1:
        return None
    more = ((0, 0), (0, 0), (0, sh - 1), (0, sw - 1))
    xp = np.pad(_pad(P.x, P.p, 0.0), more)
    ones = np.pad(np.ones(xp.shape[:2] + (xp.shape[2] - sh + 1, xp.shape[3] - sw + 1)), more)
    return _pool("avg", P, dev, x=xp, p=(0, 0)) / _pool("avg", P, dev, x=ones, p=(0, 0))


def _first_of_pair(kind, P, dev, stride_from_k0: bool):
    """kernel_size[0] used for both axes; the stride either as given (or kernel_size) or k[0] too."""
    if P.k[0] == P.k[1]:
        return None
    k = (P.k[0], P.k[0])
    if P.stride is not None:
        s = P.s
    else:
        s = k if stride_from_k0 else P.k
    return _pool(kind, P, dev, x=_pad(P.x, P.p, _NEG if kind == "max" else 0.0), k=k, s=s, p=(0, 0))


_STRIDE = "The window of output (i, j) starts at (i·sH, j·sW)."
_PADDING = "Padding p means p values on each side (−inf for max pooling, zeros for average pooling)."
_DEFAULT = (lambda P: P.stride is None, lambda P: (1, 1),
            "stride=None means stride = kernel_size (non-overlapping windows), not 1: set stride = kernel_size "
            "when it is None")


def forward(kind: str) -> list[Mistake]:
    other = "avg" if kind == "max" else "max"
    fill = _NEG if kind == "max" else 0.0

    def _stride(*kinds, family=""):
        return hyper_mistakes("stride", lambda P, dev, v: _pool(kind, P, dev, s=v), get=lambda P: P.s, neutral=1,
                              meaning=_STRIDE, kinds=kinds, default=_DEFAULT, family=family)

    def _padding(*kinds):
        return hyper_mistakes("padding", lambda P, dev, v: _pool(kind, P, dev, x=_pad(P.x, v, fill), p=(0, 0)),
                              get=lambda P: P.p, neutral=0, meaning=_PADDING, kinds=kinds, symbols=("pH", "pW"))
    op = f"{kind}_pool2d"
    out = [
        *_stride("wrong-default", family="stride1"),
        Mistake("stride-as-kernel", "The stride argument is ignored (you always step by kernel_size): use the stride "
                "given, and kernel_size only when stride is None.",
                lambda P, dev: _if(P.stride is not None and P.s != P.k, lambda: _pool(kind, P, dev, s=P.k))),
        *_stride("ignored", family="stride1"),
        Mistake("stride-not-multiplied", "The windows are placed at (i, j) instead of (i·sH, j·sW): the window of "
                "output (i, j) must start at row i·sH and column j·sW.",
                lambda P, dev: _if(P.s != (1, 1), lambda: _pool(kind, P, dev, s=(1, 1))[
                    tuple(slice(0, n) for n in _pool(kind, P, dev).shape)])),
        *_stride("h-only", "w-only", "swapped"),
        Mistake("kernel-swapped", "The kernel_size pair is swapped: kernel_size=(KH, KW) is KH rows by KW columns.",
                lambda P, dev: _if(P.k[0] != P.k[1], lambda: _pool(kind, P, dev, k=_sw(P.k),
                                                               s=P.s if P.stride is not None else _sw(P.k)))),
        Mistake("other-kind", f"Your output equals {'average' if kind == 'max' else 'max'} pooling: {op} must take "
                f"the {'maximum' if kind == 'max' else 'mean'} of each window.",
                lambda P, dev: _pool(other, P, dev)),
        *_padding("ignored"),
        Mistake("padding-after", "Padding is added only after the input (bottom/right): padding p means p on each side.",
                lambda P, dev: _if(P.p != (0, 0), lambda: _pool(kind, P, dev, x=_pad(P.x, P.p, fill, "after"), p=(0, 0)))),
        Mistake("padding-before", "Padding is added only before the input (top/left): padding p means p on each side.",
                lambda P, dev: _if(P.p != (0, 0), lambda: _pool(kind, P, dev, x=_pad(P.x, P.p, fill, "before"), p=(0, 0)))),
        Mistake("padding-doubled", "The padding is doubled: your output equals the result with 2p on each side. "
                "Padding p means p on each side: pad x once, by p.",
                lambda P, dev: _if(P.p != (0, 0), lambda: _pool(kind, P, dev, x=_pad(P.x, (2 * P.p[0], 2 * P.p[1]), fill),
                                                              p=(0, 0)))),
        *_padding("first"),
        Mistake("kernel-first", "Only the first entry of the kernel_size pair is used, for both axes: "
                "kernel_size=(KH, KW) is a window of KH rows by KW columns.",
                lambda P, dev: _first_of_pair(kind, P, dev, False), family="kernel-first"),
        Mistake("kernel-first-stride", "Only the first entry of the kernel_size pair is used, for both axes (window "
                "and default stride): kernel_size=(KH, KW) is a window of KH rows by KW columns.",
                lambda P, dev: _first_of_pair(kind, P, dev, True), family="kernel-first"),
        *_stride("first"),
        *_padding("swapped"),
        Mistake("last-element", "Your output takes the last (bottom-right) element of each window instead of "
                f"its {'maximum' if kind == 'max' else 'mean'}.", lambda P, dev: _corner(P, True)),
        Mistake("first-element", "Your output takes the first (top-left) element of each window instead of "
                f"its {'maximum' if kind == 'max' else 'mean'}.", lambda P, dev: _corner(P, False)),
        Mistake("over-channels", "The window also spans the channels: pool each channel separately, over "
                "x[n, c, window] only.", lambda P, dev: _if(P.x.shape[1] > 1, lambda: np.broadcast_to(
                    _pool(kind, P, dev).max(axis=1, keepdims=True) if kind == "max" else
                    _pool(kind, P, dev).mean(axis=1, keepdims=True), _pool(kind, P, dev).shape))),
        Mistake("first-channel", "Every channel gets the result of channel 0 (x[:, 0] used for all channels): "
                "pool each channel separately, over x[n, c, window].",
                lambda P, dev: _if(P.x.shape[1] > 1, lambda: np.broadcast_to(
                    _pool(kind, P, dev, x=P.x[:, :1]), _pool(kind, P, dev).shape))),
        Mistake("over-batch", "The window also spans the samples and the channels (one value per window for the "
                "whole batch): pool each sample and channel separately, over x[n, c, window] only.",
                lambda P, dev: _if(P.x.shape[0] > 1, lambda: np.broadcast_to(
                    _pool(kind, P, dev).max(axis=(0, 1), keepdims=True) if kind == "max" else
                    _pool(kind, P, dev).mean(axis=(0, 1), keepdims=True), _pool(kind, P, dev).shape))),
        Mistake("ceil", "Your output has an extra, partial window at the end (ceil instead of floor): there are "
                "⌊(H + 2p − K)/s⌋ + 1 windows per axis.", lambda P, dev: _ceil(kind, P, dev), family="ceil"),
        Mistake("ceil-partial", "Your output has an extra, partial window at the end (ceil instead of floor): there are "
                "⌊(H + 2p − K)/s⌋ + 1 windows per axis.",
                lambda P, dev: _ceil_partial_mean(P, dev) if kind == "avg" else None, family="ceil"),
        Mistake("last-missing", "The last row and column of windows are missing: there are ⌊(H + 2p − K)/s⌋ + 1 "
                "windows per axis (off by one).", lambda P, dev: _pool(kind, P, dev)[..., :-1, :-1]),
        Mistake("hw-transposed", "Your output has H and W swapped (transposed).",
                lambda P, dev: np.swapaxes(_pool(kind, P, dev), -1, -2)),
    ]
    if kind == "max":
        out.insert(8, Mistake("zero-padding", "Max pooling pads with zeros here: it must pad with −inf (padding never "
                              "wins the max), so a window of negative values keeps its negative maximum.",
                              lambda P, dev: _if(P.p != (0, 0), lambda: _pool(kind, P, dev, x=_pad(P.x, P.p, 0.0), p=(0, 0)))))
        out.insert(9, Mistake("argmax", "Your output holds the position of each window's maximum (np.argmax, the "
                              "index in the flattened window), not its value: take the maximum, win.max().",
                              lambda P, dev: _argmax(P)))
        out.insert(10, Mistake("min", "Your output takes the minimum of each window, not the maximum.",
                              lambda P, dev: -R.max_pool2d(-_pad(P.x, P.p, np.inf), P.k, P.s, 0, device=dev)))
    else:
        kk = lambda P: P.k[0] * P.k[1]  # noqa: E731
        out += [
            Mistake("sum", "Your output is the sum of each window, not its mean: divide by KH·KW.",
                    lambda P, dev: _pool(kind, P, dev) * kk(P)),
            Mistake("exclude-pad", "Padding zeros are left out of the average: avg_pool2d (like torch's default, "
                    "count_include_pad=True) divides by KH·KW in every window, padding included.",
                    lambda P, dev: _if(P.p != (0, 0), lambda: _pool(kind, P, dev) / _pool(kind, P, dev, x=np.ones_like(P.x)))),
            Mistake("floor-division", "The window sums are divided with // (floor division), which rounds every "
                    "mean down to a whole number: divide with /.",
                    lambda P, dev: np.floor_divide(np.round(_pool(kind, P, dev) * kk(P), 9), kk(P))),
            Mistake("divisor-kh", "The window sum is divided by the wrong count: divide by KH·KW.",
                    lambda P, dev: _if(P.k[0] != P.k[1], lambda: _pool(kind, P, dev) * kk(P) / P.k[0] ** 2)),
            Mistake("divisor-kw", "The window sum is divided by the wrong count: divide by KH·KW.",
                    lambda P, dev: _if(P.k[0] != P.k[1], lambda: _pool(kind, P, dev) * kk(P) / P.k[1] ** 2)),
            Mistake("divisor-k", "The window sum is divided by the kernel size KH (one side of the window), not by "
                    "the number of elements in the window: divide by KH·KW.",
                    lambda P, dev: _if(kk(P) > 1, lambda: _pool(kind, P, dev) * kk(P) / P.k[0])),
            Mistake("divisor-kw-only", "The window sum is divided by KW (one side of the window), not by the number of "
                    "elements in the window: divide by KH·KW.",
                    lambda P, dev: _if(P.k[1] > 1, lambda: _pool(kind, P, dev) * kk(P) / P.k[1])),
        ]
    return out


MAX_POOL = forward("max")
AVG_POOL = forward("avg")


# ------------------------------------------------------------------ backward
def _route(P, pick: str, assign: bool = False, stride=None, use_dout: bool = True, divide: str = "k",
           pad: bool = True):
    """dx by an explicit loop over windows (clipped where they run past the input, as slicing does).

    pick: "first"/"last"/"all" maxima, "corner-last"/"corner-first" element, "mean" (avg pooling).
    pad=False: the padding is ignored (windows start at i·sH of the unpadded x).
    """
    N, C, H, W = P.x.shape
    (kh, kw) = P.k
    (ph, pw) = P.p if pad else (0, 0)
    sh, sw = P.s if stride is None else stride
    fill = 0.0 if pick == "mean" else _NEG
    xp = _pad(P.x, (ph, pw), fill)
    dxp = np.zeros_like(xp)
    ones = _pad(np.ones_like(P.x), (ph, pw), 0.0)
    _, _, H_out, W_out = P.dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    rs, cs = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    win = xp[n, c, rs, cs]
                    if win.size == 0:  # note: with an altered stride, a window can start past the input
                        continue
                    if win.shape != (kh, kw) and pick.startswith("corner"):
                        return None
                    g = P.dout[n, c, i, j] if use_dout else 1.0
                    mask = np.zeros(win.shape, dtype=bool)
                    if pick == "mean":
                        mask[:] = True
                        g = g / (kh * kw if divide == "k" else ones[n, c, rs, cs].sum())
                    elif pick in ("all", "split"):
                        mask = win == win.max()
                        if pick == "split":
                            g = g / mask.sum()
                    elif pick == "first-colmajor":
                        b, a = divmod(int(np.argmax(win.T)), win.shape[0])
                        mask[a, b] = True
                    elif pick == "unravel-kh":  # the flat index split with the window's height, not its width
                        if win.shape != (kh, kw):
                            return None
                        a, b = divmod(int(np.argmax(win)), kh)
                        r, cc = i * sh + a, j * sw + b
                        if r >= dxp.shape[2] or cc >= dxp.shape[3]:
                            return None  # the student's code raises an IndexError there
                        dxp[n, c, r, cc] += g
                        continue
                    elif pick in ("first", "last"):
                        flat = win.ravel()
                        idx = int(np.argmax(flat)) if pick == "first" else flat.size - 1 - int(np.argmax(flat[::-1]))
                        mask.flat[idx] = True
                    else:
                        mask[(kh - 1, kw - 1) if pick == "corner-last" else (0, 0)] = True
                    region = dxp[n, c, rs, cs]  # a view into dxp
                    if assign == "window":
                        region[...] = mask * g
                    elif assign:
                        region[mask] = g
                    else:
                        region[mask] += g
    return dxp[:, :, ph:ph + H, pw:pw + W]


def _repeat_mask(P):
    """dx = (x == repeat(max)) · repeat(dout), both upsampled by the kernel and cut or zero-filled to x's shape."""
    N, C, H, W = P.x.shape
    (kh, kw) = P.k
    if P.p != (0, 0) or (P.s == P.k and H % kh == 0 and W % kw == 0):
        return None
    m = R.max_pool2d(P.x, P.k, P.s, 0)
    up_m = np.repeat(np.repeat(m, kh, axis=2), kw, axis=3)[:, :, :H, :W]
    up_g = np.repeat(np.repeat(P.dout, kh, axis=2), kw, axis=3)[:, :, :H, :W]
    h, w = up_m.shape[2:]
    out = np.zeros(P.x.shape)
    out[:, :, :h, :w] = (P.x[:, :, :h, :w] == up_m) * up_g
    return out


def _overlap(P):
    return P.s[0] < P.k[0] or P.s[1] < P.k[1]


def _bwd(kind, P, dev, x=None, s=None, p=None, dout=None):
    f = R.max_pool2d_backward if kind == "max" else R.avg_pool2d_backward
    return f(P.dout if dout is None else dout, P.x if x is None else x, P.k, P.s if s is None else s,
             P.p if p is None else p, device=dev)


_ACC = ("gradients are assigned (=) instead of accumulated (+=): where windows overlap, a pixel must receive "
        "the sum of the gradients of every window that uses it")


def backward(kind: str) -> list[Mistake]:
    pick = "first" if kind == "max" else "mean"
    fill = _NEG if kind == "max" else 0.0

    def _bstride(*kinds, family=""):
        return hyper_mistakes("stride", lambda P, dev, v: _route(P, pick, stride=v), get=lambda P: P.s, neutral=1,
                              meaning=_STRIDE, kinds=kinds, default=_DEFAULT, family=family)
    out = [
        Mistake("assigned", f"dx: {_ACC}.", lambda P, dev: _if(_overlap(P), lambda: _route(P, pick, assign=True))),
        Mistake("padded", "dx still includes the padding: compute the gradient of the padded input, then crop it, "
                "dx = dx_padded[:, :, pH:pH + H, pW:pW + W].",
                lambda P, dev: _if(P.p != (0, 0), lambda: _bwd(kind, P, dev, x=_pad(P.x, P.p, fill), p=(0, 0)))),
        Mistake("crop-start", "dx is shifted by the padding: either it is cropped from the wrong place (crop "
                "dx_padded[:, :, pH:pH + H, pW:pW + W], not [:H, :W]) or the padding is ignored (the window of output "
                "(i, j) starts at row i·sH − pH and column j·sW − pW of x).",
                lambda P, dev: _if(P.p != (0, 0), lambda: _bwd(kind, P, dev, x=_pad(P.x, P.p, fill), p=(0, 0))
                                   [:, :, :P.x.shape[2], :P.x.shape[3]])),
        *_bstride("wrong-default", family="stride1"),
        Mistake("stride-as-kernel", "The stride argument is ignored (you step by kernel_size): the window of output "
                "(i, j) starts at (i·sH, j·sW). Spreading dout with np.repeat or np.kron is right only when the stride "
                "equals kernel_size; with overlapping windows, add each window's share with +=.",
                lambda P, dev: _if(P.stride is not None and P.s != P.k, lambda: _route(P, pick, stride=P.k))),
        *_bstride("ignored", family="stride1"),
        *_bstride("swapped", "first"),
        Mistake("crop-neg", "dx is cropped with [p:-p], which is empty when p = 0 (-0 is 0, so [0:-0] selects "
                "nothing): crop dx_padded[:, :, pH:pH + H, pW:pW + W].",
                lambda P, dev: _if(0 in P.p, lambda: _bwd(kind, P, dev, x=_pad(P.x, P.p, fill), p=(0, 0))
                                   [:, :, P.p[0]:-P.p[0], P.p[1]:-P.p[1]])),
        Mistake("crop-first", "dx is cropped with pH on both axes: padding=(pH, pW), so crop "
                "dx_padded[:, :, pH:pH + H, pW:pW + W].",
                lambda P, dev: _if(P.p[0] != P.p[1], lambda: _bwd(kind, P, dev, x=_pad(P.x, P.p, fill), p=(0, 0))
                                   [:, :, P.p[0]:P.p[0] + P.x.shape[2], P.p[0]:P.p[0] + P.x.shape[3]])),
        Mistake("first-sample-copied", "dx: every sample gets the gradient of the first sample (dout[0] or x[0] used "
                "for the whole batch): index dout[n] and x[n] for sample n.",
                lambda P, dev: _if(P.x.shape[0] > 1, lambda: np.broadcast_to(
                    _bwd(kind, P, dev, x=P.x[:1], dout=P.dout[:1]), P.x.shape))),
    ]
    if kind == "max":
        out += [
            Mistake("padding-ignored", "dx: the padding is ignored: the window of output (i, j) starts at row "
                    "i·sH − pH and column j·sW − pW of x. Pad x with −inf, route the gradient in the padded array, "
                    "then crop dx_padded[:, :, pH:pH + H, pW:pW + W].",
                    lambda P, dev: _if(P.p != (0, 0), lambda: _route(P, "first", pad=False))),
            Mistake("zero-padding", "dx: the input is padded with zeros instead of −inf, so in a window of negative "
                    "values the maximum is a padding zero and its gradient is lost: pad with −inf (padding never wins "
                    "the max).", lambda P, dev: _if(P.p != (0, 0), lambda: _bwd(kind, P, dev, x=_pad(P.x, P.p, 0.0), p=(0, 0))
                                                      [:, :, P.p[0]:P.p[0] + P.x.shape[2], P.p[1]:P.p[1] + P.x.shape[3]])),
            Mistake("pad-finite", "dx: the input is padded with a finite value (such as x.min()) instead of −inf: "
                    "in a window whose real values all equal it, the padding ties the maximum, comes first and takes the "
                    "gradient. Pad with −inf (padding never wins the max).",
                    lambda P, dev: _if(P.p != (0, 0), lambda: _bwd(kind, P, dev, x=_pad(P.x, P.p, float(P.x.min())),
                                                                 p=(0, 0))[:, :, P.p[0]:P.p[0] + P.x.shape[2],
                                                                           P.p[1]:P.p[1] + P.x.shape[3]])),
            Mistake("avg", "dx equals the gradient of average pooling: max pooling sends each upstream value only "
                    "to the position of the window's maximum.", lambda P, dev: _bwd("avg", P, dev)),
            Mistake("whole-window", "dx sends the upstream value to every element of the window: only the "
                    "maximum's position receives it.", lambda P, dev: _route(P, "mean") * P.k[0] * P.k[1]),
            Mistake("mask-only", "dx marks the maxima with 1 instead of passing on the upstream gradient dout.",
                    lambda P, dev: _route(P, "first", use_dout=False)),
            Mistake("corner-last", "dx sends the gradient to the last (bottom-right) element of each window, "
                    "not to its maximum.", lambda P, dev: _route(P, "corner-last")),
            Mistake("corner-first", "dx sends the gradient to the first (top-left) element of each window, "
                    "not to its maximum.", lambda P, dev: _route(P, "corner-first")),
            Mistake("ties-all", "When a window holds several equal maxima, your dx sends the gradient to every one "
                    "of them; like torch, send it only to the first maximum in row-major order (np.argmax).",
                    lambda P, dev: _route(P, "all")),
            Mistake("ties-last", "When a window holds several equal maxima, your dx sends the gradient to the last "
                    "one; like torch, send it to the first maximum in row-major order (np.argmax).",
                    lambda P, dev: _route(P, "last")),
            Mistake("ties-split", "When a window holds several equal maxima, your dx splits the gradient equally "
                    "between them; like torch, send all of it to the first maximum in row-major order (np.argmax).",
                    lambda P, dev: _route(P, "split")),
            Mistake("ties-colmajor", "When a window holds several equal maxima, your dx picks the first one column by "
                    "column (argmax of the transposed window); like torch, pick the first maximum in row-major order, "
                    "np.unravel_index(np.argmax(win), win.shape).", lambda P, dev: _route(P, "first-colmajor")),
            Mistake("unravel-kh", "dx: the flat index of the maximum is turned into (row, column) with the window's "
                    "height: for a KH×KW window, row = idx // KW and column = idx % KW "
                    "(np.unravel_index(idx, (KH, KW))).",
                    lambda P, dev: _if(P.k[0] != P.k[1], lambda: _route(P, "unravel-kh"))),
            Mistake("repeat-mask", "dx spreads dout and the window maxima with np.repeat/np.kron and keeps the "
                    "positions where x equals its window's maximum: that is right only when the windows tile x "
                    "exactly (stride = kernel_size, no padding, no leftover rows); otherwise loop over the windows "
                    "and add each gradient at its window's argmax with +=.",
                    lambda P, dev: _repeat_mask(P)),
            Mistake("assigned-ties", f"dx: {_ACC}.", lambda P, dev: _route(P, "all", assign=True)),
            Mistake("assigned-window", f"dx: {_ACC}; writing mask·dout into the whole window (dx[window] = ...) "
                    "also erases the gradients already stored there by earlier windows.",
                    lambda P, dev: _if(_overlap(P), lambda: _route(P, "first", assign="window"))),
            Mistake("assigned-window-ties", f"dx: {_ACC}; writing mask·dout into the whole window (dx[window] = ...) "
                    "also erases the gradients already stored there by earlier windows.",
                    lambda P, dev: _if(_overlap(P), lambda: _route(P, "all", assign="window"))),
        ]
    else:
        out += [
            Mistake("not-divided", "dx is not divided by the window size: each of the KH·KW elements of a window "
                    "receives dout / (KH·KW).", lambda P, dev: _bwd(kind, P, dev) * P.k[0] * P.k[1]),
            Mistake("max", "dx equals the gradient of max pooling: average pooling spreads dout / (KH·KW) over "
                    "the whole window.", lambda P, dev: _bwd("max", P, dev)),
            Mistake("divisor-k", "dx is divided by one side of the window (KH or KW), not by the number of elements: "
                    "each of the KH·KW elements of a window receives dout / (KH·KW).",
                    lambda P, dev: _if(P.k[0] * P.k[1] > 1, lambda: _bwd(kind, P, dev) * P.k[1])),
            Mistake("divisor-kw-only", "dx is divided by one side of the window (KW or KH), not by the number of elements: "
                    "each of the KH·KW elements of a window receives dout / (KH·KW).",
                    lambda P, dev: _if(P.k[1] > 1 and P.k[0] != P.k[1], lambda: _bwd(kind, P, dev) * P.k[0])),
            Mistake("divisor-kh", "dx is divided by the wrong count (KH·KH or KW·KW): each of the KH·KW elements of "
                    "a window receives dout / (KH·KW).",
                    lambda P, dev: _if(P.k[0] != P.k[1], lambda: _bwd(kind, P, dev) * P.k[1] / P.k[0]), family="div-sq"),
            Mistake("divisor-kw", "dx is divided by the wrong count (KH·KH or KW·KW): each of the KH·KW elements of "
                    "a window receives dout / (KH·KW).",
                    lambda P, dev: _if(P.k[0] != P.k[1], lambda: _bwd(kind, P, dev) * P.k[0] / P.k[1]), family="div-sq"),
            Mistake("divisor-stride", "dx is divided by sH·sW (the stride), not by the window size KH·KW.",
                    lambda P, dev: _if(P.s != P.k, lambda: _bwd(kind, P, dev) * P.k[0] * P.k[1] / (P.s[0] * P.s[1]))),
            Mistake("exclude-pad", "dx divides by the number of non-padding elements: avg_pool2d divides by "
                    "KH·KW in every window (padding included).",
                    lambda P, dev: _if(P.p != (0, 0), lambda: _route(P, "mean", divide="count"))),
        ]
    return out


MAX_POOL_BACKWARD = backward("max")
AVG_POOL_BACKWARD = backward("avg")
