"""Images, kernels and feature maps as labelled matplotlib figures.

Every function returns the `matplotlib.figure.Figure` it drew on (the figure
of `ax` when one is passed), works under the Agg backend, titles its panels
and labels its axes (rows i downwards, columns j to the right, as arrays are
indexed).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib import patheffects
import numpy as np

__all__ = [
    "show_image",
    "show_images",
    "show_channels",
    "show_matrix",
    "show_kernels",
    "show_feature_maps",
    "show_equation",
]


def _new_ax(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _is_rgb(img) -> bool:
    return img.ndim == 3 and img.shape[-1] in (3, 4)


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


def show_image(img, ax=None, *, title=None, cmap=None, colorbar=True, vmin=None, vmax=None,
               symmetric=False, robust=False, xlabel="column j (pixels)", ylabel="row i (pixels)"):
    """Draw one image, grayscale (H, W) or RGB (H, W, 3).

    Args:
        img: (H, W) or (H, W, 3|4) array.
        ax: axes to draw on; a new figure when None. Default: None.
        title: panel title; default states the shape and dtype.
        cmap: colormap for (H, W) images; default "gray", or "RdBu_r"
            when `symmetric`.
        colorbar: add a colorbar for (H, W) images. Default: True.
        vmin, vmax: colour limits. Default: the data range.
        symmetric: centre the colour scale on 0 (for signed feature maps).
        robust: set the colour range from the 0.5/99.5 percentiles, so a few
            extreme pixels do not wash out the rest. Default: False.
        xlabel, ylabel: axis labels.

    Returns:
        The Figure.
    """
    img = np.asarray(img)
    fig, ax = _new_ax(ax, (4.5, 4))
    if _is_rgb(img):
        im = ax.imshow(img)
    else:
        vmin, vmax = _limits(img, vmin, vmax, symmetric, robust)
        cmap = cmap or ("RdBu_r" if symmetric else "gray")
        im = ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if colorbar:
            fig.colorbar(im, ax=ax, shrink=0.8, label="value")
    ax.set_title(title if title is not None else f"{img.shape} {img.dtype}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def show_images(images, titles=None, *, ncols=None, cmap=None, colorbar=True, symmetric=False,
                shared_scale=False, robust=False, suptitle=None, panel_size=3.2,
                xlabel="column j", ylabel="row i"):
    """A grid of images, kernels or feature maps, each titled and labelled.

    Args:
        images: a sequence of arrays, or an (N, H, W) array.
        titles: one title per image. Default: "#0", "#1", ...
        ncols: columns of the grid. Default: min(N, 4).
        cmap: colormap; default "gray", or "RdBu_r" when `symmetric`.
        colorbar: one colorbar per panel. Default: True.
        symmetric: centre colour scales on 0. Default: False.
        shared_scale: one colour range for all panels. Default: False.
        robust: percentile colour limits, see `show_image`. Default: False.
        suptitle: title of the whole figure.
        panel_size: inches per panel. Default: 3.2.
        xlabel, ylabel: axis labels of every panel.

    Returns:
        The Figure.
    """
    images = [np.asarray(a) for a in images]
    n = len(images)
    if n == 0:
        raise ValueError("images is empty")
    titles = list(titles) if titles is not None else [f"#{i}" for i in range(n)]
    if len(titles) != n:
        raise ValueError(f"got {n} images but {len(titles)} titles")
    ncols = min(n, 4) if ncols is None else int(ncols)
    nrows = math.ceil(n / ncols)
    aspect = min(1.0, max(0.3, max(a.shape[0] / a.shape[1] for a in images)))  # panel height / width
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols + 0.9 * colorbar * ncols,
                                                    (panel_size * aspect + 0.7) * nrows + 0.4 * bool(suptitle)),
                             squeeze=False, layout="constrained")
    vmin = vmax = None
    if shared_scale:
        gray = [a for a in images if not _is_rgb(a)]
        if gray:
            both = np.concatenate([a.ravel() for a in gray]).astype(np.float64)
            vmin, vmax = _limits(both, None, None, symmetric, robust)
            if vmin is None:
                vmin, vmax = float(both.min()), float(both.max())
    for idx, ax in enumerate(axes.flat):
        if idx >= n:
            ax.set_axis_off()
            continue
        show_image(images[idx], ax, title=titles[idx], cmap=cmap, colorbar=colorbar, vmin=vmin,
                   vmax=vmax, symmetric=symmetric, robust=robust, xlabel=xlabel, ylabel=ylabel)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_channels(rgb, *, title=None):
    """An RGB image beside its red, green and blue channels as (H, W) arrays.

    Args:
        rgb: (H, W, 3) array (a 4th alpha channel is ignored).
        title: figure title. Default: the array's shape.

    Returns:
        The Figure.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] < 3:
        raise ValueError(f"rgb must be (H, W, 3); got shape {rgb.shape}")
    chans = [rgb[..., c] for c in range(3)]  # 3 × (H, W)
    fig = show_images([rgb[..., :3]] + chans,
                      ["RGB image", "channel 0: red", "channel 1: green", "channel 2: blue"],
                      cmap=None, ncols=4, shared_scale=True,
                      suptitle=title or f"an RGB image is an (H, W, 3) = {rgb.shape} array")
    for ax, cm in zip(fig.axes[1:4], ("Reds_r", "Greens_r", "Blues_r")):
        ax.images[0].set_cmap(cm)
    return fig


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


def show_feature_maps(maps, titles=None, *, ncols=None, suptitle=None, shared_scale=False,
                      robust=True, panel_size=3.2):
    """Signed feature maps (outputs of filters) with a 0-centred diverging colour scale.

    Red is positive, blue negative, white zero. The colour range is robust
    (99.5th percentile of |value|) by default, so that a few strong
    responses do not wash out the rest. Other arguments as `show_images`.

    Returns:
        The Figure.
    """
    maps = [np.asarray(m) for m in maps]
    return show_images(maps, titles, ncols=ncols, symmetric=True, shared_scale=shared_scale,
                       robust=robust, suptitle=suptitle, panel_size=panel_size)


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
