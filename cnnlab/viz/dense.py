"""Figures for lecture 9: boxes on images, masks, and block diagrams of
R-CNN → Fast → Faster R-CNN and of FCN vs U-Net.

Every function returns the `matplotlib.figure.Figure` it drew on.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

__all__ = ["draw_boxes", "show_detections", "show_masks", "plot_rcnn_family", "plot_encoder_decoder"]

CLASS_COLORS = ("tab:orange", "tab:cyan", "tab:pink", "tab:olive", "tab:purple")
MASK_CMAP = ListedColormap(["black", *CLASS_COLORS])


def draw_boxes(ax, boxes, labels=None, scores=None, class_names=None, *, linestyle="-", linewidth=1.5):
    """Draw (M, 4) ``x1, y1, x2, y2`` boxes (pixel edges) on an `imshow` axis, coloured by class."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    labels = np.zeros(len(boxes), int) if labels is None else np.asarray(labels)
    for m, (x1, y1, x2, y2) in enumerate(boxes):
        color = CLASS_COLORS[int(labels[m]) % len(CLASS_COLORS)]
        # note: imshow centres pixel j on x = j, so pixel edges sit at j - 0.5
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=color,
                               linestyle=linestyle, linewidth=linewidth))
        text = [] if class_names is None else [class_names[int(labels[m])]]
        text += [] if scores is None else [f"{float(scores[m]):.2f}"]
        if text:
            ax.text(x1 - 0.5, y1 - 1.0, " ".join(text), color=color, fontsize=6, va="bottom")
    return ax.figure


def show_detections(images, detections, gt_boxes=None, class_names=None, *, titles=None, suptitle=None,
                    cols=4):
    """A grid of images with detected boxes (solid) and ground truth (dashed white).

    Args:
        images: (N, 1, H, W) or (N, H, W).
        detections: N tuples ``(boxes, scores, labels)``.
        gt_boxes: optional N arrays of true boxes.
        class_names: names for the labels.
        titles: optional N panel titles; default "n boxes".
    """
    images = np.asarray(images)
    images = images[:, 0] if images.ndim == 4 else images     # (N, H, W)
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.7 * rows), squeeze=False)
    for n, ax in enumerate(axes.ravel()):
        if n >= len(images):
            ax.axis("off")
            continue
        ax.imshow(images[n], cmap="gray", vmin=0, vmax=1)
        if gt_boxes is not None:
            draw_boxes(ax, gt_boxes[n], np.zeros(len(gt_boxes[n]), int), linestyle="--", linewidth=0.8)
            for p in ax.patches:
                p.set_edgecolor("white")
        draw_boxes(ax, *detections[n][::2], scores=detections[n][1], class_names=class_names)
        ax.set_title(titles[n] if titles else f"{len(detections[n][0])} boxes", fontsize=9)
        ax.set_xlabel("x (pixels)", fontsize=7)
        ax.set_ylabel("y (pixels)", fontsize=7)
        ax.tick_params(labelsize=6)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_masks(images, masks, class_names, *, titles=("image", "true mask", "prediction"), suptitle=None):
    """Rows of (image, mask, mask, ...) panels; masks use 0 = background, k + 1 = class k.

    Args:
        images: (N, 1, H, W) or (N, H, W).
        masks: a list of (N, H, W) label maps, drawn left to right after the image.
        class_names: the K class names (the legend).
    """
    images = np.asarray(images)
    images = images[:, 0] if images.ndim == 4 else images     # (N, H, W)
    cols = 1 + len(masks)
    fig, axes = plt.subplots(len(images), cols, figsize=(2.3 * cols, 2.3 * len(images)), squeeze=False)
    k = len(class_names)
    for n in range(len(images)):
        axes[n, 0].imshow(images[n], cmap="gray", vmin=0, vmax=1)
        for c, m in enumerate(masks, start=1):
            axes[n, c].imshow(np.asarray(m)[n], cmap=MASK_CMAP, vmin=0, vmax=len(CLASS_COLORS), interpolation="nearest")
        for c in range(cols):
            axes[n, c].set_xticks([])
            axes[n, c].set_yticks([])
            if n == 0:
                axes[n, c].set_title(titles[c] if c < len(titles) else f"mask {c}", fontsize=9)
        axes[n, 0].set_ylabel(f"image {n}", fontsize=8)
    handles = [Rectangle((0, 0), 1, 1, color=CLASS_COLORS[i]) for i in range(k)]
    fig.legend(handles, class_names, loc="lower center", ncol=k, fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def _block(ax, x, y, text, w=1.5, h=0.6, color="#dde8f7"):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", facecolor=color,
                                edgecolor="0.3"))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, a, b, text=None):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, color="0.3"))
    if text:
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.12, text, ha="center", fontsize=7, color="0.2")


def plot_rcnn_family():
    """Three pipelines side by side: where the CNN runs, and how often, per image."""
    fig, ax = plt.subplots(figsize=(11, 4.6))
    rows = [
        ("R-CNN (2014)", ["image", "selective search\n~2000 regions", "crop + warp\neach region",
                          "CNN × 2000", "SVM classes\n+ box fix"], ["", "", "2000 crops", ""]),
        ("Fast R-CNN (2015)", ["image", "selective search\n~2000 regions", "CNN × 1\n(whole image)",
                               "RoI pooling\nfrom features", "heads: class\n+ box"], ["", "boxes", "feature map", ""]),
        ("Faster R-CNN (2015)", ["image", "CNN × 1\n(whole image)", "region proposal\nnetwork (RPN)",
                                 "RoI pooling\nfrom features", "heads: class\n+ box"], ["", "anchors", "proposals", ""]),
    ]
    for r, (name, blocks, labels) in enumerate(rows):
        y = 2 - r * 1.3
        ax.text(-0.3, y, name, ha="right", va="center", fontsize=10, weight="bold")
        for b, text in enumerate(blocks):
            slow = "selective" in text or "× 2000" in text
            _block(ax, 0.8 + 2.1 * b, y, text, color="#f7d9d9" if slow else "#dde8f7")
            if b:
                _arrow(ax, (0.8 + 2.1 * (b - 1) + 0.8, y), (0.8 + 2.1 * b - 0.8, y), labels[b - 1])
    ax.text(5, -1.05, "red: the slow parts (proposals by a hand-made heuristic; one CNN pass per region)",
            ha="center", fontsize=8, color="0.3")
    ax.set_xlim(-3.2, 10.2)
    ax.set_ylim(-1.3, 2.6)
    ax.axis("off")
    ax.set_title("two-stage detectors: propose regions, then classify each (seed 003)")
    return fig


def plot_encoder_decoder():
    """FCN-style (no skips) vs U-Net (concatenated skips): feature maps down, then up."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    levels = [(1.0, "32×32"), (0.6, "16×16"), (0.35, "8×8")]  # block height ~ spatial size
    for ax, skip in zip(axes, (False, True)):
        def centre(i, side):  # side: 0 encoder, 1 decoder
            x = 2.0 if i == 2 else (0.4 + 0.8 * i if side == 0 else 3.6 - 0.8 * i)
            return x, 2.4 - 0.95 * i
        for i, (h, text) in enumerate(levels):
            for side in ((0,) if i == 2 else (0, 1)):
                x, y = centre(i, side)
                color = "#dde8f7" if side == 0 and i < 2 else ("#f3e6c8" if i == 2 else "#e3f2dc")
                ax.add_patch(Rectangle((x - 0.12, y - h / 2), 0.24, h, facecolor=color, edgecolor="0.3"))
                ax.text(x, y - h / 2 - 0.05, text, ha="center", va="top", fontsize=7)
        for i in range(2):
            (xe, ye), (xd, yd) = centre(i, 0), centre(i, 1)
            (xe2, ye2), (xd2, yd2) = centre(i + 1, 0), centre(i + 1, 1)
            _arrow(ax, (xe + 0.12, ye - 0.2), (xe2 - 0.12, ye2 + 0.05), "pool")
            _arrow(ax, (xd2 + 0.12, yd2 + 0.05), (xd - 0.12, yd - 0.2), "up")
            if skip:
                _arrow(ax, (xe + 0.12, ye + 0.25), (xd - 0.12, yd + 0.25), "copy + concatenate")
        ax.text(2.0, -0.55, "encoder: conv + ReLU + max pool → decoder: transposed conv + conv",
                ha="center", fontsize=8)
        ax.set_title("U-Net: skip connections at every scale" if skip else
                     "FCN-style: no skips (upsample the coarse map)")
        ax.set_xlim(-0.2, 4.2)
        ax.set_ylim(-0.8, 3.0)
        ax.axis("off")
    return fig
