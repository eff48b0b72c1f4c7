"""Receptive fields, pooling, resampling and shift experiments (lectures 3-4).

Every function returns the `matplotlib.figure.Figure` it drew, titles its
panels and labels its axes; all work headless under the Agg backend.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from cnnlab._args import as_array, as_pair, check_ndim, pool_stride
from cnnlab.shapes import conv2d_output_shape, conv_output_size, receptive_field
from cnnlab.viz.images import show_matrix

__all__ = [
    "plot_receptive_field_1d",
    "plot_receptive_field_overlay",
    "plot_pooling",
    "plot_resampling",
    "plot_shift_equivariance",
    "plot_shift_response",
]

_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:red", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def _spec(layer):
    spec = tuple(layer) if isinstance(layer, (tuple, list)) else (layer,)
    return spec[0], spec[1] if len(spec) > 1 else 1, spec[2] if len(spec) > 2 else 1


def plot_receptive_field_1d(layers, n_in=None, unit=None, *, ax=None, title=None):
    """Units of a 1-D stack of valid convolutions, and the cone feeding one top unit.

    Args:
        layers: as `cnnlab.shapes.receptive_field`: k, (k, s) or (k, s, d) each.
        n_in: input length. Default: twice the receptive field plus 4.
        unit: index of the top-layer unit to trace. Default: the middle one.
        ax: axes to draw on; a new figure when None.
        title: default names the layers and the receptive field.

    Returns:
        The Figure. Highlighted dots are the units the traced unit depends
        on; their count in the input row is ``receptive_field(layers)``.
    """
    specs = [_spec(layer) for layer in layers]
    r = receptive_field(layers)
    n = [n_in or 2 * r + 4]
    start, jump, pos = [0.0], [1], []
    for k, s, d in specs:
        n.append(conv_output_size(n[-1], k, s, 0, d))
        start.append(start[-1] + d * (k - 1) / 2 * jump[-1])  # centre of the first window, in input units
        jump.append(jump[-1] * s)
    pos = [start[l] + jump[l] * np.arange(n[l]) for l in range(len(n))]
    L = len(specs)
    unit = n[L] // 2 if unit is None else unit
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(6, 0.28 * n[0] + 2), 1.0 * L + 1.8), layout="constrained")
    else:
        fig = ax.figure
    active = {L: {unit}}
    for l in range(L, 0, -1):  # walk down: which units of layer l-1 feed the active units of layer l
        k, s, d = specs[l - 1]
        active[l - 1] = {i * s + t * d for i in active[l] for t in range(k)}
        for i in active[l]:
            for t in range(k):
                ax.plot([pos[l][i], pos[l - 1][i * s + t * d]], [l, l - 1], color="tab:orange", lw=1.2, zorder=1)
    for l in range(L + 1):
        on = np.isin(np.arange(n[l]), sorted(active[l]))
        ax.scatter(pos[l][~on], np.full((~on).sum(), l), s=40, color="lightgray", edgecolor="gray", zorder=2)
        ax.scatter(pos[l][on], np.full(on.sum(), l), s=60, color="tab:orange", edgecolor="black", zorder=3)
        label = "input" if l == 0 else f"layer {l} (k={specs[l-1][0]}, s={specs[l-1][1]}, d={specs[l-1][2]})"
        ax.text(pos[0][-1] + 1.5, l, f"{label}: sees {receptive_field(layers[:l]) if l else 1} input(s)",
                va="center", fontsize=9)
    ax.set_yticks(range(L + 1), ["input"] + [f"layer {l}" for l in range(1, L + 1)])
    ax.set_xlabel("input position")
    ax.set_xlim(-1, pos[0][-1] + 0.45 * n[0] + 8)
    ax.set_ylim(-0.5, L + 0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or f"receptive field of one unit after {L} layer(s): {r} inputs")
    return fig


def plot_receptive_field_overlay(image, layers, center=None, *, ax=None, title=None, cmap="gray"):
    """An image with the square receptive field after each layer drawn around `center`.

    Args:
        image: (H, W) or (H, W, 3).
        layers: as `cnnlab.shapes.receptive_field` (same in both directions).
        center: (row, col) of the output unit's centre. Default: image centre.
        ax: axes to draw on; a new figure when None.
        title: panel title.

    Returns:
        The Figure; the legend gives each layer's receptive field r × r.
    """
    image = np.asarray(image)
    H, W = image.shape[:2]
    ci, cj = center if center is not None else (H // 2, W // 2)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 6 * H / W + 0.4), layout="constrained")
    else:
        fig = ax.figure
    ax.imshow(image, cmap=cmap if image.ndim == 2 else None)
    for l in range(1, len(layers) + 1):
        r = receptive_field(layers[:l])
        c = _COLORS[(l - 1) % len(_COLORS)]
        ax.add_patch(plt.Rectangle((cj - r / 2, ci - r / 2), r, r, fill=False, lw=2, edgecolor=c,
                                   label=f"after layer {l}: {r}×{r}"))
    ax.plot([cj], [ci], "+", color="red", ms=10)
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.set_title(title or "receptive field growing through the layers")
    return fig


def _pool_np(x, k, s, mode):
    """Pool (H, W) `x` with (KH, KW) windows and (sH, sW) strides; also each window's argmax position."""
    (KH, KW), (sH, sW) = k, s
    H_out, W_out = conv2d_output_shape(x.shape, k, s)
    out = np.empty((H_out, W_out))
    arg = np.empty((H_out, W_out, 2), dtype=int)
    for i in range(H_out):
        for j in range(W_out):
            win = x[i * sH:i * sH + KH, j * sW:j * sW + KW]
            out[i, j] = win.max() if mode == "max" else win.mean()
            a, b = np.unravel_index(np.argmax(win), win.shape)
            arg[i, j] = (i * sH + a, j * sW + b)
    return out, arg


def plot_pooling(x, kernel_size=2, stride=None, mode="max", *, fmt=None, title=None):
    """A 2-D input with its pooling windows outlined, next to the pooled output.

    Args:
        x: (H, W) array.
        kernel_size: int or (KH, KW). Default: 2.
        stride: int or (sH, sW); None means kernel_size, as in torch. Default: None.
        mode: "max" or "avg". Default: "max".
        fmt: number format, see `show_matrix`.
        title: figure title.

    Returns:
        The Figure. Each output cell has the colour of its window; with
        "max" the winning input of each window is circled.
    """
    x = as_array(x, "x").astype(np.float64)
    check_ndim(x, "x", 2, "(H, W)")
    k, s = as_pair(kernel_size, "kernel_size", 1), pool_stride(stride, kernel_size)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg'; got {mode!r}")
    out, arg = _pool_np(x, k, s, mode)
    fig, axes = plt.subplots(1, 2, figsize=(0.55 * (x.shape[1] + out.shape[1]) + 3.5, 0.55 * x.shape[0] + 1.6),
                             gridspec_kw={"width_ratios": [x.shape[1], max(out.shape[1], 1.5)]}, layout="constrained")
    show_matrix(x, axes[0], title=f"input {x.shape[0]}×{x.shape[1]}", fmt=fmt)
    ks = k[0] if k[0] == k[1] else k
    ss = s[0] if s[0] == s[1] else s
    show_matrix(out, axes[1], title=f"{mode} pool k={ks}, s={ss}: {out.shape[0]}×{out.shape[1]}", fmt=fmt, ylabel="")
    for n, (i, j) in enumerate(np.ndindex(*out.shape)):
        c = _COLORS[n % len(_COLORS)]
        off = 0.06 * (n % 3) if s[0] < k[0] or s[1] < k[1] else 0.0  # overlapping windows: offset the outlines
        axes[0].add_patch(plt.Rectangle((j * s[1] - 0.5 + off, i * s[0] - 0.5 + off), k[1] - 2 * off,
                                        k[0] - 2 * off, fill=False, lw=2.5, edgecolor=c))
        axes[1].add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=3, edgecolor=c))
        if mode == "max":
            axes[0].add_patch(plt.Circle((arg[i, j, 1], arg[i, j, 0]), 0.38, fill=False, lw=2, edgecolor=c))
    fig.suptitle(title or f"{'max' if mode == 'max' else 'average'} pooling: each output summarises one window")
    return fig


def plot_resampling(x, *, fmt=".3g", title=None):
    """Seed 002's down- and upsampling on a small 2-D array, values written in.

    Top row: `x`, then downsampling by 2 with subsampling (every other
    pixel, like stride 2), max pooling and mean pooling. Bottom row: the
    max-pooled array upsampled back with duplication (nearest), max-unpooling
    (values return to where the maxima were, zeros elsewhere) and bilinear
    interpolation (`align_corners=False`).

    Args:
        x: (H, W) array with even H and W.
        fmt: number format, see `show_matrix`.
        title: figure title.

    Returns:
        The Figure.
    """
    from cnnlab.functional.sampling import (max_pool2d_with_indices, max_unpool2d,
                                            upsample_bilinear2d, upsample_nearest2d)

    x = np.asarray(x, dtype=np.float64)
    x4 = x[None, None]  # (1, 1, H, W)
    pooled, idx = max_pool2d_with_indices(x4, 2)
    down = {"subsample x[::2, ::2]": x[::2, ::2], "max pool 2×2": pooled[0, 0],
            "mean pool 2×2": x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2).mean(axis=(1, 3))}
    up = {"duplicate (nearest)": upsample_nearest2d(pooled, scale_factor=2)[0, 0],
          "max-unpool": max_unpool2d(pooled, idx, 2, output_size=x.shape)[0, 0],
          "bilinear": upsample_bilinear2d(pooled, scale_factor=2)[0, 0]}
    fig, axes = plt.subplots(2, 4, figsize=(13, 6.6), layout="constrained")
    lim = float(np.abs(x).max()) or 1.0
    show_matrix(x, axes[0, 0], title=f"input {x.shape[0]}×{x.shape[1]}", fmt=fmt, vmin=-lim if (x < 0).any() else None,
                vmax=lim if (x < 0).any() else None)
    for ax, (name, a) in zip(axes[0, 1:], down.items()):
        show_matrix(a, ax, title=f"down: {name}", fmt=fmt, ylabel="")
    show_matrix(pooled[0, 0], axes[1, 0], title="start: the max-pooled 2×2", fmt=fmt)
    for ax, (name, a) in zip(axes[1, 1:], up.items()):
        show_matrix(a, ax, title=f"up: {name}", fmt=fmt, ylabel="")
    fig.suptitle(title or "downsampling (top) and upsampling (bottom) by a factor of 2")
    return fig


def plot_shift_equivariance(x, tx, fx, ftx, shift, *, border=0, names=("x", "f"), title=None, cmap="gray"):
    """Panels showing whether f commutes with a shift t: f(t(x)) vs t(f(x)).

    Args:
        x: (H, W) image; tx: the shifted image t(x).
        fx: f(x); ftx: f(t(x)), both (H', W').
        shift: (dy, dx) of t, in the pixels of fx. t(f(x)) is drawn as
            ``np.roll(fx, shift)``; rows/columns that wrap around are where
            a translation of a finite image has no data (boundary effects).
        border: width of a band along the edges to outline as affected by
            zero padding and by new content entering. Default: 0.
        names: what to call the input and the function in the titles.
        title: figure title.

    Returns:
        The Figure: x, t(x), f(x), f(t(x)), t(f(x)) and |f(t(x)) − t(f(x))|.
    """
    x, tx, fx, ftx = (np.asarray(a, dtype=np.float64) for a in (x, tx, fx, ftx))
    tfx = np.roll(fx, shift, axis=(0, 1))
    diff = np.abs(ftx - tfx)
    xn, fn = names
    fig, axes = plt.subplots(2, 3, figsize=(12, 7.6), layout="constrained")
    lim = float(max(np.abs(fx).max(), np.abs(ftx).max())) or 1.0
    panels = [(x, f"{xn}", cmap, None), (tx, f"t({xn}): shifted by {tuple(shift)}", cmap, None),
              (fx, f"{fn}({xn})", "RdBu_r", lim), (ftx, f"{fn}(t({xn}))", "RdBu_r", lim),
              (tfx, f"t({fn}({xn}))", "RdBu_r", lim), (diff, f"|{fn}(t({xn})) − t({fn}({xn}))|", "magma", None)]
    for ax, (a, name, cm, l) in zip(axes.flat, panels):
        im = ax.imshow(a, cmap=cm, vmin=-l if l else None, vmax=l)
        ax.set_title(name)
        ax.set_xlabel("column j")
        ax.set_ylabel("row i")
        fig.colorbar(im, ax=ax, shrink=0.75)
    if border:
        h, w = diff.shape
        axes[1, 2].add_patch(plt.Rectangle((border - 0.5, border - 0.5), w - 2 * border, h - 2 * border,
                                           fill=False, lw=1.5, ls="--", edgecolor="cyan"))
    fig.suptitle(title or f"is {fn} equivariant to the shift t?  compare {fn}(t({xn})) with t({fn}({xn}))")
    return fig


def plot_shift_response(shifts, curves, *, ylabel="relative change of the features", title=None, ax=None):
    """How much several feature extractors change as the input is shifted.

    Args:
        shifts: (S,) shift sizes in pixels (the x axis).
        curves: mapping label → (S,) values, e.g. ``‖f(t(x)) − f(x)‖ / ‖f(x)‖``.
        ylabel: y-axis label.
        title: panel title.
        ax: axes to draw on; a new figure when None.

    Returns:
        The Figure.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    else:
        fig = ax.figure
    for (label, values), m in zip(curves.items(), "osD^vx*+"):
        ax.plot(shifts, values, marker=m, label=label)
    ax.set_xlabel("shift t (pixels)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title or "feature change under a shift of the input")
    return fig
