"""Small arrays drawn as grids of coloured cells with their numbers written in.

For the worked examples: kernels, tiny images, outputs, and the equation
``input ⋆ kernel = output``. Every function returns the
`matplotlib.figure.Figure` it drew on and works under the Agg backend.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects

__all__ = ["show_matrix", "show_kernels", "show_equation"]


def _new_ax(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _limits(a, vmin, vmax, symmetric, robust=False):
    if vmin is not None or vmax is not None or not a.size:
        return vmin, vmax
    if symmetric:
        m = float(np.percentile(np.abs(a), 99.5)) if robust else float(np.max(np.abs(a)))
        m = m or float(np.max(np.abs(a))) or 1.0
        return -m, m
    if robust:
        return float(np.percentile(a, 0.5)), float(np.percentile(a, 99.5))
    return None, None


def _fmt(v, fmt):
    if fmt is not None:
        return format(v, fmt)
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.3g}"


def show_matrix(a, ax=None, *, title=None, fmt=None, cmap=None, symmetric=None, highlight=None,
                highlight_color="tab:orange", annotate=True, colorbar=False, vmin=None, vmax=None,
                xlabel="column j", ylabel="row i", hide=None, fontsize=None):
    """A small 1-D or 2-D array drawn as coloured cells with their values written in.

    Args:
        a: (L,) or (H, W) array.
        ax: axes to draw on; a new figure when None.
        title: panel title. Default: the shape.
        fmt: format spec for the numbers (e.g. ".2f"); default: integers
            plainly, others with 3 significant digits.
        cmap: colormap. Default: "RdBu_r" if `symmetric`, else "Blues".
        symmetric: centre the colour scale on 0. Default: True when `a`
            has negative entries.
        highlight: cells to outline: ``(i0, j0, h, w)`` or a list of them.
        highlight_color: colour of the outline. Default: "tab:orange".
        annotate: write the values. Default: True.
        colorbar: add a colorbar. Default: False.
        vmin, vmax: colour limits.
        xlabel, ylabel: axis labels.
        hide: boolean mask (same shape) of cells to leave blank (e.g. outputs
            not computed yet).
        fontsize: of the numbers; default scales with the array size.

    Returns:
        The Figure.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
        ylabel = ""
    if a.ndim != 2:
        raise ValueError(f"show_matrix draws 1-D or 2-D arrays; got shape {a.shape}")
    H, W = a.shape
    fig, ax = _new_ax(ax, (0.55 * W + 1.2, 0.55 * H + 1.0))
    if symmetric is None:
        symmetric = bool((a < 0).any())
    vmin, vmax = _limits(a, vmin, vmax, symmetric)
    if not symmetric and vmin is None and vmax is None:
        lo, hi = float(a.min()), float(a.max())
        vmin, vmax = (lo - 0.15 * (hi - lo), hi) if hi > lo else (lo - 1, lo + 3)  # the smallest value stays light, not white-on-white
    cmap = cmap or ("RdBu_r" if symmetric else "Blues")
    shown = np.ma.masked_array(a, mask=hide) if hide is not None else a
    im = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if annotate:
        fs = fontsize or max(6, min(12, int(90 / max(H, W, 1))))
        norm = im.norm
        for i in range(H):
            for j in range(W):
                if hide is not None and np.asarray(hide)[i, j]:
                    continue
                rgba = im.cmap(norm(a[i, j]))
                dark = (0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]) < 0.5
                ax.text(j, i, _fmt(a[i, j], fmt), ha="center", va="center", fontsize=fs,
                        color="white" if dark else "black")
    if highlight is not None:
        boxes = [highlight] if np.ndim(highlight) == 1 and len(highlight) == 4 and not isinstance(
            highlight[0], (tuple, list)) else list(highlight)
        for (i0, j0, h, w) in boxes:
            ax.add_patch(plt.Rectangle((j0 - 0.5, i0 - 0.5), w, h, fill=False, lw=3,
                                       edgecolor=highlight_color,
                                       path_effects=[patheffects.withStroke(linewidth=5.5, foreground="black")]))
    ax.set_xticks(range(W))
    ax.set_yticks(range(H) if ylabel else [])
    ax.set_xticks(np.arange(-0.5, W, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, H, 1), minor=True)
    ax.grid(which="minor", color="white", lw=1)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title if title is not None else f"shape {a.shape if ylabel else (W,)}")
    if colorbar:
        fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def show_kernels(kernels, titles=None, *, ncols=None, annotate=True, fmt=None, suptitle=None):
    """A row/grid of small kernels with their weights written in (diverging colours).

    Args:
        kernels: sequence of (KH, KW) arrays or a (N, KH, KW) array.
        titles: one per kernel. Default: "kernel 0", ...
        ncols: columns of the grid. Default: min(N, 4).
        annotate: write the weights. Default: True.
        fmt: number format, see `show_matrix`.
        suptitle: figure title.

    Returns:
        The Figure.
    """
    kernels = [np.asarray(k, dtype=np.float64) for k in kernels]
    n = len(kernels)
    titles = list(titles) if titles is not None else [f"kernel {i}" for i in range(n)]
    ncols = min(n, 4) if ncols is None else int(ncols)
    nrows = math.ceil(n / ncols)
    kh = max(k.shape[0] for k in kernels)
    kw = max(k.shape[-1] for k in kernels)
    size = max(2.2, 0.55 * max(kh, kw) + 0.8)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3),
                             squeeze=False, layout="constrained")
    for idx, ax in enumerate(axes.flat):
        if idx >= n:
            ax.set_axis_off()
            continue
        show_matrix(kernels[idx], ax, title=titles[idx], annotate=annotate, fmt=fmt, symmetric=True,
                    xlabel="column j", ylabel="row i" if idx % ncols == 0 else " ")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_equation(x, k, y, *, op="⋆", titles=("input", "kernel", "output"), fmt=None,
                  highlight=None, suptitle=None):
    """``input ⋆ kernel = output`` drawn as three annotated matrices.

    Args:
        x: (H, W) input.
        k: (KH, KW) kernel.
        y: (H_out, W_out) output.
        op: the operator symbol between input and kernel. Default: "⋆"
            (cross-correlation, what deep-learning libraries call convolution).
        titles: titles of the three panels.
        fmt: number format, see `show_matrix`.
        highlight: optional ``((i0, j0, h, w), (i, j))``: a window of the
            input and the output cell it produces, both outlined.
        suptitle: figure title.

    Returns:
        The Figure.
    """
    x, k, y = (np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in (x, k, y))
    widths = [x.shape[1], 0.8, k.shape[1], 0.8, y.shape[1]]
    height = max(x.shape[0], k.shape[0], y.shape[0])
    fig, axes = plt.subplots(1, 5, figsize=(0.55 * sum(widths) + 2.5, 0.55 * height + 1.3),
                             gridspec_kw={"width_ratios": widths}, layout="constrained")
    win = out = None
    if highlight is not None:
        win, (oi, oj) = highlight
        out = (oi, oj, 1, 1)
    show_matrix(x, axes[0], title=titles[0], fmt=fmt, highlight=win)
    show_matrix(k, axes[2], title=titles[1], fmt=fmt, symmetric=True, ylabel="")
    show_matrix(y, axes[4], title=titles[2], fmt=fmt, highlight=out, ylabel="")
    for ax, sym in ((axes[1], op), (axes[3], "=")):
        ax.set_axis_off()
        ax.text(0.5, 0.5, sym, ha="center", va="center", fontsize=22, transform=ax.transAxes)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
