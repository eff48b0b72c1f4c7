"""Synthetic scenes for lecture 9: several filled shapes per image, with
boxes, class labels and per-pixel masks, plus a toy steering task.

Everything comes from one private, seeded generator, so the same seed gives
the same scenes on every machine. Re-exported by `cnnlab.data`.

Conventions: images are (N, 1, H, W) float32 (ready for `nn.Conv2d`); a box
is ``(x1, y1, x2, y2)`` in pixel-edge coordinates, so a shape covering
columns 3..7 has ``x1 = 3, x2 = 8`` and its box width equals its pixel width;
``masks`` hold 0 for background and ``k + 1`` for class k; ``instances``
hold 0 for background and ``j + 1`` for the j-th object of the image.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["SCENE_CLASSES", "Scenes", "make_scenes", "make_steering", "steering_angle"]

SCENE_CLASSES = ("disk", "square", "triangle")
"""Classes of `make_scenes`: filled disks, axis-aligned squares and upward triangles."""


class Scenes(NamedTuple):
    """What `make_scenes` returns (N images of side S)."""

    images: np.ndarray      # (N, 1, S, S) float32
    masks: np.ndarray       # (N, S, S) int64: 0 background, k + 1 for class k
    instances: np.ndarray   # (N, S, S) int64: 0 background, j + 1 for object j
    boxes: list             # N arrays (n_i, 4) float32: x1, y1, x2, y2 (pixel edges)
    labels: list            # N arrays (n_i,) int64 class indices into class_names
    class_names: tuple


def _shape_mask(kind: str, size: int, cy: int, cx: int, r: int) -> np.ndarray:
    """Binary (size, size) mask of one filled shape centred on pixel (cy, cx), half-extent r."""
    yy, xx = np.mgrid[0:size, 0:size]  # (size, size) each
    dy, dx = yy - cy, xx - cx
    if kind == "disk":
        return dy * dy + dx * dx <= r * r + r  # + r: rounder outline at small radii
    if kind == "square":
        return (np.abs(dy) <= r) & (np.abs(dx) <= r)
    # triangle pointing up: apex row cy - r, base row cy + r of width 2r + 1
    return (np.abs(dy) <= r) & (2 * np.abs(dx) <= dy + r)


def _scene(rng, size, kinds, r_range, tries=100):
    """Place `kinds` without overlap (1-pixel gap); return instance map, boxes, kept kinds."""
    inst = np.zeros((size, size), np.int64)
    boxes, kept = [], []
    for kind in kinds:
        for _ in range(tries):
            r = int(rng.integers(r_range[0], r_range[1] + 1))
            cy, cx = rng.integers(r, size - r, size=2)  # whole shape inside the image
            m = _shape_mask(kind, size, int(cy), int(cx), r)
            rows, cols = np.nonzero(m)
            y1, y2, x1, x2 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
            # note: the gap keeps touching shapes apart, so every mask is one blob
            if not inst[max(y1 - 1, 0):y2 + 1, max(x1 - 1, 0):x2 + 1].any():
                inst[m] = len(boxes) + 1
                boxes.append((x1, y1, x2, y2))
                kept.append(kind)
                break
    return inst, np.array(boxes, np.float32).reshape(-1, 4), kept  # (n_kept, 4) even when empty


def _render(rng, inst, n_obj, noise, contrast):
    """Grey image: each object a random brightness in `contrast`, plus Gaussian noise."""
    levels = np.concatenate([[0.0], rng.uniform(contrast[0], contrast[1], size=n_obj)])
    img = levels[inst]  # (S, S) via the instance map
    if noise:
        img = img + rng.normal(0.0, noise, size=img.shape)
    return img


def _check(n, size, r_range):
    if int(n) < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    if int(size) < 8:
        raise ValueError(f"size must be >= 8; got {size}")
    if not (1 <= r_range[0] <= r_range[1] and 2 * r_range[1] + 1 <= size):
        raise ValueError(f"radius must be (r_min, r_max) with 1 <= r_min <= r_max and 2*r_max + 1 <= "
                         f"size={size}; got {r_range}")


def make_scenes(n: int = 1000, size: int = 32, *, objects=(1, 4), radius=(2, 6), noise: float = 0.1,
                contrast=(0.3, 1.0), seed: int = 0) -> Scenes:
    """Grey images with a few filled shapes, for detection and segmentation.

    Shapes never touch (a one-pixel gap, diagonals included), so every mask
    is one blob and, since each shape contains its centre pixel, no two box
    centres fall in the same 4×4 cell; boxes of a disk or triangle may overlap.

    Args:
        n: number of images N.
        size: image side S (at least 8). Default: 32.
        objects: (min, max) shapes per image, drawn uniformly; a shape that
            finds no free place after 100 tries is left out. Default: (1, 3).
        radius: (min, max) half-extent r of a shape in pixels; a shape spans
            2r + 1 pixels. Default: (3, 6).
        noise: standard deviation of additive Gaussian pixel noise. Default: 0.05.
        contrast: (low, high) range of object brightness on a 0 background.
        seed: seed of the private generator. Default: 0.

    Returns:
        A `Scenes` tuple: images (N, 1, S, S) float32, masks and instances
        (N, S, S) int64, and per image boxes (n_i, 4) float32 and labels
        (n_i,) int64. Every box is the tight box of its instance's pixels.
    """
    radius, objects = tuple(radius), tuple(objects)
    _check(n, size, radius)
    if not 1 <= objects[0] <= objects[1]:
        raise ValueError(f"objects must be (min, max) with 1 <= min <= max; got {objects}")
    rng = np.random.default_rng(seed)
    n, size = int(n), int(size)
    images = np.empty((n, 1, size, size), np.float32)
    masks = np.zeros((n, size, size), np.int64)
    instances = np.empty((n, size, size), np.int64)
    boxes, labels = [], []
    for i in range(n):
        k = rng.integers(0, len(SCENE_CLASSES), size=int(rng.integers(objects[0], objects[1] + 1)))
        inst, b, kept = _scene(rng, size, [SCENE_CLASSES[j] for j in k], radius)
        lab = np.array([SCENE_CLASSES.index(c) for c in kept], np.int64)
        instances[i] = inst
        masks[i] = np.concatenate([[0], lab + 1])[inst]  # (S, S): instance id -> class + 1
        images[i, 0] = _render(rng, inst, len(kept), noise, contrast)
        boxes.append(b)
        labels.append(lab)
    return Scenes(images, masks, instances, boxes, labels, SCENE_CLASSES)


def steering_angle(boxes, size: int) -> np.ndarray:
    """Heading from the vehicle (bottom centre of the image) to each box centre.

    Args:
        boxes: (M, 4) boxes ``x1, y1, x2, y2``.
        size: image side S; the vehicle sits at ``(x, y) = (S/2, S)``.

    Returns:
        (M,) angles in radians: 0 straight ahead (up), positive to the right.
    """
    boxes = np.asarray(boxes, np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (M, 4); got {boxes.shape}")
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    return np.arctan2(cx - size / 2, size - cy)


def make_steering(n: int = 1000, size: int = 32, *, distractors: int = 2, radius=(3, 5),
                  noise: float = 0.05, seed: int = 0):
    """A toy "drive towards the disk" task: images and the heading the simulator knows.

    Each image holds one disk (the target) and up to `distractors` squares or
    triangles. The label is not drawn by a person: the simulator knows where
    it put the disk, and `steering_angle` turns that into a heading.

    Args:
        n: number of images N.
        size: image side S. Default: 32.
        distractors: at most this many other shapes per image. Default: 2.
        radius: (min, max) half-extent of every shape. Default: (3, 5).
        noise: pixel noise standard deviation. Default: 0.05.
        seed: seed of the private generator. Default: 0.

    Returns:
        ``(images, angles, boxes)``: (N, 1, S, S) float32, (N,) float32
        radians, and the (N, 4) float32 box of each target disk.
    """
    radius = tuple(radius)
    _check(n, size, radius)
    rng = np.random.default_rng(seed)
    n, size = int(n), int(size)
    images = np.empty((n, 1, size, size), np.float32)
    targets = np.empty((n, 4), np.float32)
    for i in range(n):
        others = rng.choice(SCENE_CLASSES[1:], size=int(rng.integers(0, distractors + 1)))
        inst, b, kept = _scene(rng, size, ["disk", *others], radius)  # the disk is placed first
        images[i, 0] = _render(rng, inst, len(kept), noise, (0.5, 1.0))
        targets[i] = b[0]
    return images, steering_angle(targets, size).astype(np.float32), targets
