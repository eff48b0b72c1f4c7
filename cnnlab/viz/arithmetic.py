"""Convolution arithmetic: sliding windows, padding, stride and dilation drawn.

Every function returns the `matplotlib.figure.Figure` it drew on and works
under the Agg backend. Sizes come from `cnnlab.shapes.conv_output_size`, the
one home of the output-size formula.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from cnnlab._args import as_pair
from cnnlab.shapes import conv_output_size
from cnnlab.viz.matrices import show_matrix

__all__ = [
    "plot_conv_arithmetic",
    "plot_sliding_window",
    "plot_conv1d_connections",
    "plot_signals",
]

_TAP = "tab:orange"
_PAD = "#d9d9d9"


def _formula(n, k, s, p, d, out) -> str:
    return f"⌊({n} + 2·{p} − {d}·({k}−1) − 1) / {s}⌋ + 1 = {out}"


def _grid(ax, H, W, colors, *, offset=0, texts=None, edge="0.35"):
    """Draw an H×W grid of unit squares; colors[i][j] fills cell (i, j)."""
    for i in range(H):
        for j in range(W):
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=colors[i][j],
                                       edgecolor=edge, lw=1))
            if texts is not None and texts[i][j]:
                ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=9, color="0.3")
    ax.set_xlim(-0.6, W - 0.4)
    ax.set_ylim(H - 0.4, -0.6)
    ax.set_aspect("equal")
    ticks_j, ticks_i = range(W), range(H)
    ax.set_xticks(list(ticks_j), [str(j - offset) for j in ticks_j], fontsize=8)
    ax.set_yticks(list(ticks_i), [str(i - offset) for i in ticks_i], fontsize=8)


def plot_conv_arithmetic(in_size=5, kernel_size=3, stride=1, padding=0, dilation=1,
                         out_index=(0, 0), *, fig=None, title=None):
    """The convolution-arithmetic diagram: input, padding, kernel taps, output.

    Left: the input (white) inside its zero padding (grey, marked 0), with
    the kernel taps that produce output cell `out_index` in orange (spread
    apart by the dilation) and the window's extent outlined. Right: the
    output grid with that cell in orange. The title works the output-size
    formula ``⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1`` with the numbers.

    Args:
        in_size: n, int or (H, W). Default: 5.
        kernel_size: k, int or (KH, KW). Default: 3.
        stride: s, int or (sH, sW). Default: 1.
        padding: p per side, int or (pH, pW). Default: 0.
        dilation: d, int or (dH, dW); 1 is contiguous. Default: 1.
        out_index: (i, j) output cell to explain. Default: (0, 0).
        fig: an existing Figure (or SubFigure) to clear and draw on.
        title: a line put above the worked formula. Default: None.

    Returns:
        The Figure.

    Raises:
        ValueError: the configuration gives an empty output, or `out_index`
            is outside the output.
    """
    (H, W), (KH, KW) = as_pair(in_size, "in_size", 1), as_pair(kernel_size, "kernel_size", 1)
    (sH, sW), (pH, pW) = as_pair(stride, "stride", 1), as_pair(padding, "padding", 0)
    dH, dW = as_pair(dilation, "dilation", 1)
    H_out = conv_output_size(H, KH, sH, pH, dH)
    W_out = conv_output_size(W, KW, sW, pW, dW)
    oi, oj = out_index
    if not (0 <= oi < H_out and 0 <= oj < W_out):
        raise ValueError(f"out_index {out_index} is outside the ({H_out}, {W_out}) output")
    Hp, Wp = H + 2 * pH, W + 2 * pW
    taps = {(oi * sH + a * dH, oj * sW + b * dW) for a in range(KH) for b in range(KW)}
    colors = [[_PAD if (i < pH or i >= H + pH or j < pW or j >= W + pW) else "white"
               for j in range(Wp)] for i in range(Hp)]
    texts = [["0" if colors[i][j] == _PAD else "" for j in range(Wp)] for i in range(Hp)]
    for (i, j) in taps:
        colors[i][j] = _TAP
    if fig is None:
        fig = plt.figure(figsize=(min(13, 0.45 * (Wp + W_out) + 3.0), min(7, 0.45 * max(Hp, H_out) + 1.8)),
                         layout="constrained")
    else:
        fig.clear()
    ax_in, ax_out = fig.subplots(1, 2, gridspec_kw={"width_ratios": [max(Wp, 4), max(W_out, 4)]})
    _grid(ax_in, Hp, Wp, colors, texts=texts)
    ax_in.set_xticks(range(Wp), [str(j - pW) for j in range(Wp)], fontsize=8)
    ax_in.set_yticks(range(Hp), [str(i - pH) for i in range(Hp)], fontsize=8)
    span_h, span_w = dH * (KH - 1) + 1, dW * (KW - 1) + 1
    ax_in.add_patch(plt.Rectangle((oj * sW - 0.5, oi * sH - 0.5), span_w, span_h, fill=False,
                                  lw=2.5, edgecolor="tab:red", linestyle="--"))
    ax_in.set_title(f"input {H}×{W}, padding ({pH}, {pW}) in grey\n"
                    f"kernel {KH}×{KW}, dilation ({dH}, {dW}): taps in orange")
    ax_in.set_xlabel("input column j")
    ax_in.set_ylabel("input row i")
    out_colors = [["#cfe3f5"] * W_out for _ in range(H_out)]
    out_colors[oi][oj] = _TAP
    _grid(ax_out, H_out, W_out, out_colors)
    ax_out.set_title(f"output {H_out}×{W_out}, stride ({sH}, {sW})\ncell ({oi}, {oj}) in orange")
    ax_out.set_xlabel("output column")
    ax_out.set_ylabel("output row")
    if (H, KH, sH, pH, dH) == (W, KW, sW, pW, dW):
        head = f"H_out = W_out = {_formula(H, KH, sH, pH, dH, H_out)}"
    else:
        head = (f"H_out = {_formula(H, KH, sH, pH, dH, H_out)},   "
                f"W_out = {_formula(W, KW, sW, pW, dW, W_out)}")
    fig.suptitle(head if title is None else f"{title}\n{head}", fontsize=10)
    return fig


def _corr_at(xp, k, i, j, s, d):
    KH, KW = k.shape
    rows = i * s[0] + d[0] * np.arange(KH)
    cols = j * s[1] + d[1] * np.arange(KW)
    patch = xp[np.ix_(rows, cols)]  # (KH, KW)
    return patch, float(np.sum(patch * k))


def plot_sliding_window(x, k, position=(0, 0), *, stride=1, padding=0, dilation=1,
                        reveal=True, fmt=None, show_sum=True):
    """One step of a 2-D cross-correlation with the numbers written in.

    Left: the (zero-padded) input with the window that produces output cell
    `position` outlined. Middle: the kernel. Right: the output, filled up to
    `position` in reading order when `reveal` (as the slides animate it).
    The title expands the dot product ``Σ kernel ⊙ patch``.

    Args:
        x: (H, W) input.
        k: (KH, KW) kernel.
        position: (i, j) output cell. Default: (0, 0).
        stride, padding, dilation: as `torch.nn.functional.conv2d`.
        reveal: hide outputs after `position`. Default: True.
        fmt: number format, see `cnnlab.viz.show_matrix`.
        show_sum: write out the dot product in the title. Default: True.

    Returns:
        The Figure.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    k = np.atleast_2d(np.asarray(k, dtype=np.float64))
    s, p, d = as_pair(stride, "stride", 1), as_pair(padding, "padding", 0), as_pair(dilation, "dilation", 1)
    H_out = conv_output_size(x.shape[0], k.shape[0], s[0], p[0], d[0])
    W_out = conv_output_size(x.shape[1], k.shape[1], s[1], p[1], d[1])
    i, j = position
    if not (0 <= i < H_out and 0 <= j < W_out):
        raise ValueError(f"position {position} is outside the ({H_out}, {W_out}) output")
    xp = np.pad(x, ((p[0], p[0]), (p[1], p[1])))  # (H + 2pH, W + 2pW)
    y = np.array([[_corr_at(xp, k, a, b, s, d)[1] for b in range(W_out)] for a in range(H_out)])
    patch, val = _corr_at(xp, k, i, j, s, d)
    hide = (np.arange(H_out * W_out) > i * W_out + j).reshape(H_out, W_out) if reveal else None
    KH, KW = k.shape
    if d == (1, 1):
        win = (i * s[0], j * s[1], KH, KW)
    else:
        win = [(i * s[0] + a * d[0], j * s[1] + b * d[1], 1, 1) for a in range(KH) for b in range(KW)]
    widths = [xp.shape[1], k.shape[1], y.shape[1]]
    height = max(xp.shape[0], KH, H_out)
    fig, axes = plt.subplots(1, 3, figsize=(0.55 * sum(widths) + 3.5, 0.55 * height + 1.8),
                             gridspec_kw={"width_ratios": widths}, layout="constrained")
    pad_note = f", zero-padded by {p}" if p != (0, 0) else ""
    show_matrix(xp, axes[0], title=f"input {x.shape[0]}×{x.shape[1]}{pad_note}", fmt=fmt, highlight=win)
    axes[0].set_xticks(range(xp.shape[1]), [str(c - p[1]) for c in range(xp.shape[1])])
    axes[0].set_yticks(range(xp.shape[0]), [str(r - p[0]) for r in range(xp.shape[0])])
    show_matrix(k, axes[1], title=f"kernel {KH}×{KW}", fmt=fmt, symmetric=True, ylabel=" ")
    show_matrix(y, axes[2], title=f"output {H_out}×{W_out}", fmt=fmt, highlight=(i, j, 1, 1),
                hide=hide, ylabel=" ")
    head = f"output[{i}, {j}] = Σ kernel ⊙ window = {_num(val, fmt)}"
    if show_sum and k.size <= 9:
        terms = " + ".join(f"({_num(kv, fmt)})({_num(pv, fmt)})" for kv, pv in zip(k.ravel(), patch.ravel()))
        head += f"\n= {terms}"
    fig.suptitle(head, fontsize=10)
    return fig


def _num(v, fmt):
    if fmt is not None:
        return format(v, fmt)
    return str(int(v)) if float(v).is_integer() else f"{v:.3g}"


def plot_conv1d_connections(n=8, kernel_size=3, stride=1, padding=0, dilation=1, *, ax=None,
                            title=None):
    """Which inputs feed which outputs in a 1-D convolution (a UDL-style wiring diagram).

    Inputs sit on the bottom row (zero padding as hollow circles), outputs on
    the top row; each output is wired to its `kernel_size` taps.

    Args:
        n: input length L. Default: 8.
        kernel_size, stride, padding, dilation: as `torch.nn.functional.conv1d`.
        ax: axes to draw on; a new figure when None.
        title: panel title; default states the hyper-parameters and L_out.

    Returns:
        The Figure.
    """
    L_out = conv_output_size(n, kernel_size, stride, padding, dilation)
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(5.0, 0.5 * (n + 2 * padding) + 1.5), 2.8), layout="constrained")
    else:
        fig = ax.figure
    xs = np.arange(-padding, n + padding)
    cmap = plt.get_cmap("tab10")
    for o in range(L_out):
        taps = o * stride - padding + dilation * np.arange(kernel_size)
        xo = taps.mean()
        for t in taps:
            ax.plot([t, xo], [0, 1], color=cmap(o % 10), lw=1.3, alpha=0.8)
        ax.plot(xo, 1, "s", ms=11, color=cmap(o % 10), zorder=3)
    real = (xs >= 0) & (xs < n)
    ax.plot(xs[real], np.zeros(real.sum()), "o", ms=10, color="0.25", zorder=3, label="input x_i")
    if (~real).any():
        ax.plot(xs[~real], np.zeros((~real).sum()), "o", ms=10, mfc="white", mec="0.25", zorder=3,
                label="zero padding")
        ax.legend(loc="center left", fontsize=8, bbox_to_anchor=(1.0, 0.5))
    ax.set_yticks([0, 1], ["input", "output"])
    ax.set_xticks(xs)
    ax.set_xlabel("input position i")
    ax.set_ylim(-0.35, 1.35)
    ax.set_title(title or f"kernel size {kernel_size}, stride {stride}, dilation {dilation}, "
                          f"padding {padding}: L = {n} → L_out = {L_out}", fontsize=10)
    return fig


def plot_signals(signals, *, ax=None, title=None, xlabel="position i", ylabel="value",
                 x=None, markers=True):
    """Several 1-D signals on one labelled axes (e.g. a signal and its convolutions).

    Args:
        signals: dict ``label -> 1-D array``; each is drawn against its
            own positions ``0, 1, ...`` (or `x[label]` when given).
        ax: axes to draw on; a new figure when None.
        title, xlabel, ylabel: labels.
        x: optional dict ``label -> positions`` for signals that are offset
            (a valid convolution's output starts at the kernel's centre).
        markers: draw markers at the samples. Default: True.

    Returns:
        The Figure.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    else:
        fig = ax.figure
    for label, sig in signals.items():
        sig = np.asarray(sig, dtype=np.float64).ravel()
        pos = np.asarray(x[label]) if x is not None and label in x else np.arange(sig.size)
        ax.plot(pos, sig, "o-" if markers else "-", ms=4, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig
