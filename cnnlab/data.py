"""Offline datasets for the lectures: photos, synthetic shapes, digits, MNIST-1D.

Nothing here touches the network. Photos come only from the files that
scikit-image ships inside its wheel, digits from scikit-learn's bundled copy,
and MNIST-1D from the `mnist1d` package's procedural generator (never its
download path). Every random function takes an explicit seed. The scenes of
lecture 9 (several shapes with boxes and masks) live in `cnnlab.scenes` and
are re-exported here.
"""
from __future__ import annotations

import random

import numpy as np

from cnnlab.scenes import SCENE_CLASSES, Scenes, make_scenes, make_steering, steering_angle

__all__ = [
    "SAMPLE_IMAGES",
    "SHAPE_CLASSES",
    "sample_image",
    "make_shapes",
    "SCENE_CLASSES",
    "Scenes",
    "make_scenes",
    "make_steering",
    "steering_angle",
    "load_digits",
    "load_mnist1d",
]

# note: only photos bundled in scikit-image's wheel; others (kidney, lily,
# cells3d, skin, ...) would trigger a pooch download, so they are not offered.
SAMPLE_IMAGES = (
    "astronaut", "brick", "camera", "cat", "cell", "checkerboard", "chelsea",
    "clock", "coffee", "coins", "colorwheel", "grass", "gravel", "horse",
    "hubble_deep_field", "immunohistochemistry", "logo", "moon", "page",
    "retina", "rocket", "text",
)


def sample_image(name: str, as_gray: bool = False) -> np.ndarray:
    """A photo bundled with scikit-image, loaded without any download.

    Args:
        name: one of `SAMPLE_IMAGES` (e.g. ``"camera"``, ``"astronaut"``).
        as_gray: if True, return a float64 (H, W) image in [0, 1]
            (RGB converted with luminance weights, alpha dropped).
            Default: False.

    Returns:
        The image as scikit-image gives it: (H, W) grayscale or (H, W, 3)
        RGB (``logo`` is (H, W, 4) RGBA), usually uint8; or float64 (H, W)
        when `as_gray` is True.

    Raises:
        ValueError: `name` is not a bundled photo; the message lists them.
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(
            f"unknown sample image {name!r}; choose one of the photos bundled with "
            f"scikit-image: {', '.join(SAMPLE_IMAGES)}"
        )
    import skimage.data

    img = np.asarray(getattr(skimage.data, name)())
    if not as_gray:
        return img
    from skimage.color import rgb2gray, rgba2rgb
    from skimage.util import img_as_float

    if img.ndim == 3 and img.shape[-1] == 4:
        img = rgba2rgb(img)
    if img.ndim == 3:
        return rgb2gray(img).astype(np.float64)
    return img_as_float(img).astype(np.float64)


# ---------------------------------------------------------------- shapes

SHAPE_CLASSES = ("horizontal", "vertical", "diagonal", "antidiagonal", "cross", "x", "o", "disk")
"""Classes of `make_shapes`: lines at 0°, 90°, 45° (↗) and 135° (↘), a plus-shaped
cross, an X, an O (circle outline) and a filled disk."""


def _draw(kind: str, size: int, cy: float, cx: float, r: float) -> np.ndarray:
    """A binary (size, size) drawing of one shape centred at (cy, cx) with half-extent r."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)  # (size, size) each
    dy, dx = yy - cy, xx - cx
    inside = (np.abs(dy) <= r + 0.5) & (np.abs(dx) <= r + 0.5)
    if kind == "horizontal":
        m = (np.abs(dy) < 0.5) & inside
    elif kind == "vertical":
        m = (np.abs(dx) < 0.5) & inside
    elif kind == "diagonal":  # 45°: bottom-left to top-right (rows grow downwards)
        m = (np.abs(dy + dx) < 0.5) & inside
    elif kind == "antidiagonal":  # 135°: top-left to bottom-right
        m = (np.abs(dy - dx) < 0.5) & inside
    elif kind == "cross":
        m = ((np.abs(dy) < 0.5) | (np.abs(dx) < 0.5)) & inside
    elif kind == "x":
        m = ((np.abs(dy + dx) < 0.5) | (np.abs(dy - dx) < 0.5)) & inside
    elif kind == "o":
        rho = np.hypot(dy, dx)
        m = np.abs(rho - r) < 0.55
    elif kind == "disk":
        m = np.hypot(dy, dx) <= r + 0.25
    else:  # pragma: no cover - guarded by make_shapes
        raise ValueError(kind)
    return m


def make_shapes(n: int = 200, size: int = 16, classes=None, *, noise: float = 0.0,
                jitter: bool = True, background: float = 0.0, foreground: float = 1.0,
                seed: int = 0):
    """Synthetic images of lines, crosses, X vs O and circles, with labels.

    Each image holds one shape drawn one pixel thick (the disk is filled),
    at a random position and half-extent when `jitter` is on, plus optional
    Gaussian noise. Classes are balanced (cycled) and then shuffled.

    Args:
        n: number of images.
        size: image side length S (at least 7).
        classes: names from `SHAPE_CLASSES` to draw, in label order; default
            all of them. E.g. ``("x", "o")`` for the X-vs-O task.
        noise: standard deviation of additive Gaussian noise. Default: 0.
        jitter: random centre and size; False draws every shape centred at
            its largest size. Default: True.
        background: pixel value off the shape (seed 003 uses -1). Default: 0.
        foreground: pixel value on the shape. Default: 1.
        seed: seed of the private random generator. Default: 0.

    Returns:
        ``(images, labels, class_names)``: float64 (n, S, S) images, int64
        (n,) labels indexing `class_names`, and the tuple of class names.
    """
    classes = SHAPE_CLASSES if classes is None else tuple(classes)
    unknown = [c for c in classes if c not in SHAPE_CLASSES]
    if unknown or not classes:
        raise ValueError(f"unknown shape classes {unknown}; choose from {SHAPE_CLASSES}")
    if int(size) < 7:
        raise ValueError(f"size must be >= 7; got {size}")
    if int(n) < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    n, size = int(n), int(size)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(classes)
    rng.shuffle(labels)
    images = np.empty((n, size, size))
    r_max = (size - 1) / 2 - 1  # leave a one-pixel border
    for i, lab in enumerate(labels):
        if jitter:
            r = float(rng.integers(max(2, int(r_max) // 2), int(r_max) + 1))
            cy, cx = rng.integers(int(np.ceil(r)) + 1, size - int(np.ceil(r)) - 1, size=2, endpoint=True)
        else:
            r, cy, cx = float(int(r_max)), size // 2, size // 2
        m = _draw(classes[lab], size, float(cy), float(cx), r)
        images[i] = np.where(m, foreground, background)
    if noise:
        images += rng.normal(0.0, noise, size=images.shape)
    return images, labels.astype(np.int64), classes


# ---------------------------------------------------------------- digits


def load_digits(normalize: bool = True):
    """scikit-learn's bundled 8×8 handwritten digits (1,797 images, offline).

    Args:
        normalize: scale pixels from 0..16 to [0, 1]. Default: True.

    Returns:
        ``(images, labels)``: float64 (1797, 8, 8) and int64 (1797,).
    """
    from sklearn.datasets import load_digits as _load

    d = _load()
    images = d.images.astype(np.float64)  # (1797, 8, 8)
    if normalize:
        images = images / 16.0
    return images, d.target.astype(np.int64)


# ---------------------------------------------------------------- MNIST-1D


def load_mnist1d(n: int = 5000, seed: int = 42, *, shuffle_seq: bool = False,
                 train_split: float = 0.8) -> dict:
    """MNIST-1D generated procedurally with the `mnist1d` package (no download).

    Calls ``mnist1d.data.make_dataset(get_dataset_args())``, never
    ``get_dataset`` (which tries the network first). With the defaults this is
    the standard 5,000-sample dataset (4,000 train / 1,000 test, length 40).

    note: `make_dataset` reseeds numpy's and Python's global generators;
    their states are saved and restored, so calling this has no side effect.

    Args:
        n: number of samples, train and test together (rounded down to a
            multiple of 10, one tenth per digit; at least 10).
        seed: the generator's seed. Default: 42 (the published dataset).
        shuffle_seq: apply one fixed random permutation to the 40 positions
            of every sequence (destroys spatial structure). Default: False.
        train_split: fraction of samples in the training split. Default: 0.8.

    Returns:
        dict with ``x`` (N_train, 40) float32, ``y`` (N_train,) int64,
        ``x_test`` (N_test, 40) float32, ``y_test`` (N_test,) int64 and
        ``t`` (40,) the sample positions.
    """
    if int(n) < 10:
        raise ValueError(f"n must be >= 10 (one sample per digit at least); got {n}")
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = int(n)
    args.seed = int(seed)
    args.shuffle_seq = bool(shuffle_seq)
    args.train_split = float(train_split)
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {
        "x": np.asarray(d["x"], dtype=np.float32),
        "y": np.asarray(d["y"], dtype=np.int64),
        "x_test": np.asarray(d["x_test"], dtype=np.float32),
        "y_test": np.asarray(d["y_test"], dtype=np.int64),
        "t": np.asarray(d["t"], dtype=np.float64),
    }
