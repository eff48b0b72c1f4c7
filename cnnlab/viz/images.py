"""Images, kernels and feature maps as labelled matplotlib figures.

Every function returns the `matplotlib.figure.Figure` it drew on (the figure
of `ax` when one is passed), works under the Agg backend, titles its panels
and labels its axes (rows i downwards, columns j to the right, as arrays are
indexed).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

# note: show_matrix lives in cnnlab.viz.matrices; it is importable from here too.
from cnnlab.viz.matrices import _limits, _new_ax, show_matrix  # noqa: F401

__all__ = [
    "show_image",
    "show_images",
    "show_channels",
    "show_feature_maps",
]


def _is_rgb(img) -> bool:
    return img.ndim == 3 and img.shape[-1] in (3, 4)


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
