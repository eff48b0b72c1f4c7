"""Known mistakes of corr2d, conv1d and conv2d (catalogues of exercises/conv.py), computed from the reference.

conv1d is handled as a conv2d with H = 1 (see `diagnose.normalize`).
"""
from __future__ import annotations

import numpy as np

from cnnlab import reference as R
from cnnlab.grading.mistake import Mistake, hyper_mistakes
from cnnlab.shapes import output_size_unchecked

__all__ = ["CORR2D", "CONV", "CONV1D_ONLY"]


def _conv(P, dev, x=None, w=None, b="same", s=None, p=None, d=None):
    return R.conv2d(P.x if x is None else x, P.w if w is None else w, P.b if b == "same" else b,
                    P.s if s is None else s, P.p if p is None else p, P.d if d is None else d, device=dev)


def _rerun(attr):
    """rerun(P, dev, value): the reference with hyper-parameter `attr` ("s", "p", "d") replaced by `value`."""
    return lambda P, dev, value: _conv(P, dev, **{attr: value})


def _get_s(P):
    return P.s


def _get_p(P):
    return P.p


def _get_d(P):
    return P.d


_STRIDE = "Move the window by the stride: the window of output (i, j) starts at (i·sH, j·sW)."
_PAD = "Padding p means p zeros on each side of x (pad2d) before sliding the kernel."
_DILATION = "With dilation d the kernel taps are d positions apart, x[i·s + d·k]; dilation 1 is a contiguous kernel."


def _if(cond, value_fn):
    return value_fn() if cond else None


def _bias_axis(P, dev, shape):
    if P.b is None:
        return None
    return _conv(P, dev, b=None) + P.b.reshape(shape)


def _pad_one_side(P, dev, before: bool, times: int = 1):
    """Zeros on one side only: p of them (a smaller output) or all 2p (the right size, shifted)."""
    (ph, pw) = P.p[0] * times, P.p[1] * times
    if ph == pw == 0:
        return None
    pad = ((0, 0), (0, 0), (ph, 0), (pw, 0)) if before else ((0, 0), (0, 0), (0, ph), (0, pw))
    return _conv(P, dev, x=np.pad(P.x, pad), p=(0, 0))


def _first_sample(P, dev, how):
    if P.x.shape[0] == 1:
        return None
    one = _conv(P, dev, x=P.x[:1])
    if how == "alone":
        return one
    if how == "zeros":  # the other samples keep their initial zeros (plus the bias, added at the end)
        out = np.zeros((P.x.shape[0],) + one.shape[1:]) + (0 if P.b is None else P.b.reshape(1, -1, 1, 1))
        out[:1] = one
        return out
    return np.broadcast_to(one, (P.x.shape[0],) + one.shape[1:])


def _crop(a, shape):
    return a[tuple(slice(0, n) for n in shape)]


def _running(P, dev):
    out = _conv(P, dev, b=None)
    N, C_out = out.shape[:2]
    run = np.cumsum(out.reshape(N, C_out, -1), axis=-1).reshape(out.shape)  # (N, C_out, H_out, W_out)
    return run + (0 if P.b is None else P.b.reshape(1, -1, 1, 1))


def _ceil(P, dev):
    """Output size rounded up; the last windows, which run past the input, see zeros."""
    (sh, sw), (ph, pw) = P.s, P.p
    if sh == sw == 1:
        return None
    xp = np.pad(P.x, ((0, 0), (0, 0), (ph, ph + sh - 1), (pw, pw + sw - 1)))
    return _conv(P, dev, x=xp, p=(0, 0))


def _dilation_times_stride(P, dev):
    """Windows at i·s·d (those that fit), the other output positions left at 0 (plus the bias)."""
    right = _conv(P, dev, b=None)
    got = _conv(P, dev, b=None, s=(P.s[0] * P.d[0], P.s[1] * P.d[1]))
    out = np.zeros(right.shape)
    h, w = min(got.shape[2], out.shape[2]), min(got.shape[3], out.shape[3])
    out[:, :, :h, :w] = got[:, :, :h, :w]
    return out + (0 if P.b is None else P.b.reshape(1, -1, 1, 1))


def _hw_out(P, dev):
    return _conv(P, dev).shape[2:]


def _size_unpadded(P, dev):
    """The correct output cut to the size of an unpadded input's output."""
    size = [output_size_unchecked(n, k, s, 0, d) for n, d, k, s in zip(P.x.shape[2:], P.d, P.w.shape[2:], P.s)]
    if min(size) < 1:
        return None
    return _conv(P, dev)[..., :size[0], :size[1]]


def _unfilled(P, dev, cols: bool):
    """Output positions past min(H_out, W_out) along one axis left at 0 (then the bias added)."""
    out = np.array(_conv(P, dev, b=None))
    H_out, W_out = out.shape[2:]
    if cols:
        out[..., H_out:] = 0
    else:
        out[..., W_out:, :] = 0
    return out + (0 if P.b is None else P.b.reshape(1, -1, 1, 1))


def _only_first_filter(P, dev, bias_everywhere: bool):
    out = np.array(_conv(P, dev))
    out[:, 1:] = P.b.reshape(1, -1, 1, 1)[:, 1:] if bias_everywhere else 0
    return out


CONV = [
    Mistake("flipped", "Your output equals a true convolution (kernel flipped). {op} must compute "
            "cross-correlation: multiply each window by the kernel as it is, without flipping it.",
            lambda P, dev: _conv(P, dev, w=P.w[..., ::-1, ::-1]), family="flip"),
    Mistake("flipped-rows", "Your output equals the result with the kernel flipped upside down (rows "
            "reversed). {op} computes cross-correlation: do not flip the kernel.",
            lambda P, dev: _conv(P, dev, w=P.w[..., ::-1, :]), only_2d=True, family="flip"),
    Mistake("flipped-cols", "Your output equals the result with the kernel flipped left-right (columns "
            "reversed). {op} computes cross-correlation: do not flip the kernel.",
            lambda P, dev: _conv(P, dev, w=P.w[..., :, ::-1]), only_2d=True, family="flip"),
    Mistake("bias-missing", "Your output equals the correct result without the bias: add b[c_out] to every "
            "value of output channel c_out.", lambda P, dev: _if(P.b is not None, lambda: _conv(P, dev, b=None))),
    Mistake("bias-last-axis", "The bias is broadcast along the wrong axis: `out + b` adds b along the last "
            "axis (W), not the channel axis. Reshape it to (1, C_out, 1, 1) with b[None, :, None, None].",
            lambda P, dev: _bias_axis(P, dev, (1, 1, 1, -1)) if not P.one_d else
            _if(P.b is not None, lambda: _conv(P, dev, b=None) + P.b.reshape(1, 1, 1, -1))),
    Mistake("bias-h-axis", "The bias is broadcast along the wrong axis (H instead of the channel axis): "
            "reshape it to (1, C_out, 1, 1) with b[None, :, None, None].",
            lambda P, dev: _bias_axis(P, dev, (1, 1, -1, 1)), only_2d=True),
    Mistake("bias-first", "Every output channel gets the bias of channel 0: add b[c_out] to output channel c_out "
            "(b[None, :, None, None]).", lambda P, dev: _if(P.b is not None and P.b.size > 1,
                                                          lambda: _conv(P, dev, b=None) + P.b[0])),
    Mistake("bias-per-channel", "The bias is added once per input channel (inside the loop over C_in): "
            "add it once, after summing over the input channels.",
            lambda P, dev: _if(P.b is not None and P.x.shape[1] > 1,
                               lambda: _conv(P, dev, b=None) + P.x.shape[1] * P.b.reshape(1, -1, 1, 1))),
    Mistake("bias-per-tap", "The bias is added once per kernel position (inside the loops over the kernel rows and "
            "columns): add b[c_out] once per output value, after the whole sum.",
            lambda P, dev: _if(P.b is not None and P.w.shape[2] * P.w.shape[3] > 1, lambda: _conv(P, dev, b=None)
                               + P.w.shape[2] * P.w.shape[3] * P.b.reshape(1, -1, 1, 1))),
    Mistake("bias-per-term", "The bias is added once per product (inside the loops over the input channels and the "
            "kernel): add b[c_out] once per output value, after the whole sum.",
            lambda P, dev: _if(P.b is not None and P.w[0].size > 1, lambda: _conv(P, dev, b=None)
                               + P.w[0].size * P.b.reshape(1, -1, 1, 1))),
    *hyper_mistakes("padding", _rerun("p"), get=_get_p, neutral=0, meaning=_PAD, kinds=("ignored",)),
    Mistake("size-unpadded", "The output size is computed from the unpadded input: the number of positions is "
            "⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1, with the padding counted (2p: p zeros on each side).",
            lambda P, dev: _if(P.p != (0, 0), lambda: _size_unpadded(P, dev))),
    Mistake("padding-after", "Zeros are added only after the input (bottom/right): padding p means p zeros "
            "on each side, before and after.", lambda P, dev: _pad_one_side(P, dev, False)),
    Mistake("padding-before", "Zeros are added only before the input (top/left): padding p means p zeros "
            "on each side, before and after.", lambda P, dev: _pad_one_side(P, dev, True)),
    Mistake("padding-all-after", "All the zeros are added after the input (2p at the bottom/right, none at "
            "the top/left): the output has the right size but is shifted. Padding p means p zeros on each side.",
            lambda P, dev: _pad_one_side(P, dev, False, 2)),
    Mistake("padding-all-before", "All the zeros are added before the input (2p at the top/left, none at "
            "the bottom/right): the output has the right size but is shifted. Padding p means p zeros on each "
            "side.", lambda P, dev: _pad_one_side(P, dev, True, 2)),
    Mistake("padding-before-after", "padding=(pH, pW) is used as (before, after) widths: np.pad(x, ((0, 0), (0, 0), "
            "(pH, pW), (pH, pW))) puts pH zeros before and pW after on each axis. Pad H by pH on both sides and W by pW "
            "on both sides: ((0, 0), (0, 0), (pH, pH), (pW, pW)).",
            lambda P, dev: _if(P.p[0] != P.p[1], lambda: _conv(
                P, dev, x=np.pad(P.x, ((0, 0), (0, 0), P.p, P.p)), p=(0, 0))), only_2d=True),
    *hyper_mistakes("padding", _rerun("p"), get=_get_p, neutral=0, meaning=_PAD, kinds=("h-only", "w-only", "swapped"), symbols=("pH", "pW")),
    Mistake("padding-total", "Padding is split between the sides (p//2 before and after): padding p means "
            "p zeros on each side.", lambda P, dev: _if(max(P.p) > 0, lambda: _conv(P, dev, p=(P.p[0] // 2, P.p[1] // 2)))),
    Mistake("padding-doubled", "The padding is doubled: your output equals the result with 2p zeros on each side. "
            "Padding p means p zeros on each side: pad x once, by p (and do not pad it again inside the loop).",
            lambda P, dev: _if(P.p != (0, 0), lambda: _conv(P, dev, p=(2 * P.p[0], 2 * P.p[1])))),
    Mistake("padding-added", "You padded the input although padding is 0 (\"same\" padding): pad only by the "
            "given padding.", lambda P, dev: _if(P.p == (0, 0), lambda: _conv(
                P, dev, p=(0 if P.one_d else (P.w.shape[2] - 1) // 2, (P.w.shape[3] - 1) // 2)))),
    *hyper_mistakes("stride", _rerun("s"), get=_get_s, neutral=1, meaning=_STRIDE, kinds=("ignored", "h-only", "w-only", "swapped", "first")),
    Mistake("stride-not-multiplied", "The windows are placed at (i, j) instead of (i·sH, j·sW): the output has the "
            "right size but the window of output (i, j) must start at row i·sH and column j·sW.",
            lambda P, dev: _if(P.s != (1, 1), lambda: _crop(_conv(P, dev, s=(1, 1)), _conv(P, dev).shape))),
    *hyper_mistakes("dilation", _rerun("d"), get=_get_d, neutral=1, meaning=_DILATION, kinds=("ignored",)),
    Mistake("dilation-times-stride", "The window of output i starts at i·s·d (the dilation is multiplied into the "
            "stride): it starts at i·s; dilation only spaces the taps inside the window, x[i·s + d·k].",
            lambda P, dev: _if(P.d != (1, 1), lambda: _dilation_times_stride(P, dev))),
    *hyper_mistakes("dilation", _rerun("d"), get=_get_d, neutral=1, meaning=_DILATION, kinds=("swapped", "w-only", "h-only", "off-by-one")),
    Mistake("first-channel", "Only input channel 0 is used: each filter must sum over all C_in input channels.",
            lambda P, dev: _if(P.x.shape[1] > 1, lambda: _conv(P, dev, x=P.x[:, :1], w=P.w[:, :1]))),
    Mistake("last-channel", "Only the last input channel counts: the sum over input channels is overwritten "
            "(= instead of +=) in the channel loop.",
            lambda P, dev: _if(P.x.shape[1] > 1, lambda: _conv(P, dev, x=P.x[:, -1:], w=P.w[:, -1:]))),
    Mistake("channels-averaged", "The input channels are averaged, not summed: a filter's response is the sum "
            "over all C_in channels.", lambda P, dev: _if(P.x.shape[1] > 1, lambda: (
                _conv(P, dev, b=None) / P.x.shape[1] + (0 if P.b is None else P.b.reshape(1, -1, 1, 1))))),
    Mistake("filters-summed", "Every output channel holds the sum over all filters: compute one output channel "
            "per filter, out[:, c_out] from w[c_out] only.",
            lambda P, dev: _if(P.w.shape[0] > 1, lambda: np.broadcast_to(
                _conv(P, dev, w=P.w.sum(axis=0, keepdims=True), b=None), _conv(P, dev).shape)
                + (0 if P.b is None else P.b.reshape(1, -1, 1, 1)))),
    Mistake("first-filter-zeros", "Only output channel 0 is computed (the other channels are left at 0): compute "
            "one output channel per filter, out[:, c_out] from w[c_out].",
            lambda P, dev: _if(P.w.shape[0] > 1, lambda: _only_first_filter(P, dev, False)), family="first-filter-zeros"),
    Mistake("first-filter-zeros-bias", "Only output channel 0 is computed (the other channels hold only their bias): "
            "compute one output channel per filter, out[:, c_out] from w[c_out].",
            lambda P, dev: _if(P.w.shape[0] > 1 and P.b is not None, lambda: _only_first_filter(P, dev, True)),
            family="first-filter-zeros"),
    Mistake("im2col-order", "The columns (im2col) and the reshaped kernel list the window's values in different "
            "orders: w.reshape(C_out, -1) is ordered (C_in, KH, KW), so each column of windows must be ordered "
            "(C_in, KH, KW) too (x_window.reshape(-1) of a (C_in, KH, KW) window), not channel-last.",
            lambda P, dev: _if(P.w.shape[1] > 1 and P.w.shape[2] * P.w.shape[3] > 1, lambda: _conv(
                P, dev, w=np.ascontiguousarray(P.w).reshape(P.w.shape[0], P.w.shape[2], P.w.shape[3], P.w.shape[1])
                .transpose(0, 3, 1, 2))), family="im2col"),
    Mistake("im2col-order-w", "The columns (im2col) and the reshaped kernel list the window's values in different "
            "orders: when the windows are flattened in (C_in, KH, KW) order, flatten the kernel the same way, "
            "w.reshape(C_out, -1), without moving the channel axis last.",
            lambda P, dev: _if(P.w.shape[1] > 1 and P.w.shape[2] * P.w.shape[3] > 1, lambda: _conv(
                P, dev, w=P.w.transpose(0, 2, 3, 1).reshape(P.w.shape))), family="im2col"),
    Mistake("running-sum", "The running sum is not reset between output positions (each value includes all earlier "
            "ones): start the sum at 0 for every output element.",
            lambda P, dev: _running(P, dev)),
    Mistake("first-sample", "Only the first sample of the batch is computed: loop over all N samples.",
            lambda P, dev: _first_sample(P, dev, "alone")),
    Mistake("first-sample-zeros", "Only the first sample of the batch is computed (the others are left at 0): "
            "loop over all N samples.", lambda P, dev: _first_sample(P, dev, "zeros")),
    Mistake("first-sample-copied", "Every sample of the batch gets the result of the first sample: index x[n], "
            "not x[0].", lambda P, dev: _first_sample(P, dev, "copied")),
    Mistake("first-filter", "Only the first filter is used: compute one output channel per filter, w[c_out].",
            lambda P, dev: _if(P.w.shape[0] > 1, lambda: np.broadcast_to(
                _conv(P, dev, w=P.w[:1], b=None if P.b is None else P.b[:1]), (P.x.shape[0], P.w.shape[0]) + _conv(P, dev).shape[2:]))),
    Mistake("kernel-transposed", "Your output equals the result with each kernel transposed (rows and columns "
            "swapped): w[c_out, c_in, a, b] multiplies x[n, c_in, i·sH + dH·a, j·sW + dW·b], a along H and b along W.",
            lambda P, dev: _if(P.w.shape[2] == P.w.shape[3] > 1, lambda: _conv(P, dev, w=P.w.transpose(0, 1, 3, 2))),
            only_2d=True),
    Mistake("w-transposed", "The filters are indexed as w[c_in, c_out]: w has layout (C_out, C_in, KH, KW).",
            lambda P, dev: _if(P.w.shape[0] == P.w.shape[1] > 1, lambda: _conv(P, dev, w=P.w.transpose(1, 0, 2, 3)))),
    Mistake("hw-transposed", "Your output has H and W swapped (transposed): keep the layout (..., H_out, W_out).",
            lambda P, dev: np.swapaxes(_conv(P, dev), -1, -2), only_2d=True),
    Mistake("dilation-span", "The output is one position short: with dilation d a kernel of size K spans "
            "d·(K − 1) + 1 input positions, not d·K.", lambda P, dev: _if(P.d != (1, 1), lambda: _crop(
                _conv(P, dev), tuple(_conv(P, dev).shape[:2]) + tuple(
                    (n + 2 * p - d * k) // s + 1 for n, p, d, k, s in zip(P.x.shape[2:], P.p, P.d, P.w.shape[2:], P.s))))),
    Mistake("ceil", "Your output has an extra position at the end (the output size is rounded up, ceil): there are "
            "⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1 positions per axis (floor); a window that does not fit is dropped.",
            lambda P, dev: _ceil(P, dev)),
    Mistake("last-row-missing", "The last row and column of output positions are missing: there are "
            "⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1 positions per axis (off by one).",
            lambda P, dev: _conv(P, dev)[..., :-1, :-1], only_2d=True),
    Mistake("size-from-h", "W_out is computed from H (the output is as wide as it is high): compute W_out from "
            "W, KW, sW, pW and dW, ⌊(W + 2pW − dW·(KW − 1) − 1)/sW⌋ + 1.",
            lambda P, dev: _if(_hw_out(P, dev)[0] < _hw_out(P, dev)[1], lambda: _conv(P, dev)[..., :_hw_out(P, dev)[0]]),
            only_2d=True),
    Mistake("loop-h-for-w", "The loop over the output columns stops at H_out (range(H_out) used for j): the columns "
            "from H_out on are never computed. Loop j over range(W_out).",
            lambda P, dev: _if(_hw_out(P, dev)[0] < _hw_out(P, dev)[1], lambda: _unfilled(P, dev, cols=True)),
            only_2d=True, family="loop-range"),
    Mistake("loop-w-for-h", "The loop over the output rows stops at W_out (range(W_out) used for i): the rows "
            "from W_out on are never computed. Loop i over range(H_out).",
            lambda P, dev: _if(_hw_out(P, dev)[1] < _hw_out(P, dev)[0], lambda: _unfilled(P, dev, cols=False)),
            only_2d=True, family="loop-range"),
    Mistake("last-col-missing", "The last output position along W is missing: there are "
            "⌊(W + 2p − d·(K − 1) − 1)/s⌋ + 1 positions (off by one).", lambda P, dev: _conv(P, dev)[..., :-1]),
    Mistake("last-row-only-missing", "The last output row is missing: there are ⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1 "
            "positions along H (off by one).", lambda P, dev: _conv(P, dev)[..., :-1, :], only_2d=True),
]


def _corr(x, k, dev):
    return R.corr2d(x, k, device=dev)


CORR2D = [
    Mistake("flipped", "Your output equals a true convolution (kernel flipped). corr2d must compute "
            "cross-correlation: multiply each window by the kernel as it is, without flipping it.",
            lambda P, dev: _corr(P.x, P.k[::-1, ::-1], dev), family="flip"),
    Mistake("flipped-rows", "Your output equals the result with the kernel flipped upside down. corr2d "
            "computes cross-correlation: do not flip the kernel.", lambda P, dev: _corr(P.x, P.k[::-1], dev), family="flip"),
    Mistake("flipped-cols", "Your output equals the result with the kernel flipped left-right. corr2d "
            "computes cross-correlation: do not flip the kernel.", lambda P, dev: _corr(P.x, P.k[:, ::-1], dev), family="flip"),
    Mistake("kernel-transposed", "Your output equals the result with the kernel transposed (k.T): "
            "k[a, b] multiplies x[i + a, j + b].", lambda P, dev: _corr(P.x, P.k.T, dev)),
    Mistake("same-padding", "Your output is \"same\"-padded (as large as x): corr2d is the valid "
            "correlation, of shape (H − KH + 1, W − KW + 1), without padding.",
            lambda P, dev: R.conv2d(P.x[None, None], P.k[None, None], padding=((P.k.shape[0] - 1) // 2,
                                    (P.k.shape[1] - 1) // 2), device=dev)[0, 0]),
    Mistake("full", "Your output is the \"full\" correlation (padded by K − 1): corr2d is the valid "
            "correlation, of shape (H − KH + 1, W − KW + 1).",
            lambda P, dev: R.conv2d(P.x[None, None], P.k[None, None], padding=(P.k.shape[0] - 1, P.k.shape[1] - 1),
                                    device=dev)[0, 0]),
    Mistake("hw-transposed", "Your output is transposed (H and W swapped).", lambda P, dev: _corr(P.x, P.k, dev).T),
    Mistake("last-row-missing", "The last row and column of outputs are missing: there are H − KH + 1 "
            "positions along H (range(H - KH + 1)), not H − KH.", lambda P, dev: _corr(P.x, P.k, dev)[:-1, :-1]),
    Mistake("last-col-missing", "The last column of outputs is missing: there are W − KW + 1 positions "
            "along W.", lambda P, dev: _corr(P.x, P.k, dev)[:, :-1]),
    Mistake("last-row-only-missing", "The last row of outputs is missing: there are H − KH + 1 positions "
            "along H.", lambda P, dev: _corr(P.x, P.k, dev)[:-1, :]),
    Mistake("elementwise-mean", "Each output is the mean of the window·kernel products, not their sum.",
            lambda P, dev: _corr(P.x, P.k, dev) / P.k.size),
]


def _bias_only(P, dev):
    """What a 2-D convolution of height 1 gives when it pads the dummy height axis too: row 0 is padding."""
    if not P.one_d or P.p[1] == 0:
        return None
    out = np.zeros(_conv(P, dev).shape)  # (N, C_out, 1, L_out)
    return out + (0 if P.b is None else P.b.reshape(1, -1, 1, 1))


CONV1D_ONLY = [
    Mistake("padding-dummy-axis", "Your output holds only the bias (zeros without one), whatever the input: conv1d "
            "written as a 2-D convolution of height 1 whose padding also pads the dummy height axis returns row 0, "
            "a row of padding. Pad only the length axis (padding (0, p), stride (1, s), dilation (1, d) in the 2-D "
            "call), or make sure every output value is computed from the input.", _bias_only),
]
