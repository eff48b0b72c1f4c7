"""The course's own pretrained network: a small CNN trained on 30,000 generated shapes.

Nothing can be downloaded in the course, so lecture 8 transfers a network
that `cnnlab` trains itself and ships as package data:

- ``shapes16.pt``: the `state_dict` of ``ShapesNet()`` (about 100 KB),
  trained by ``python -m cnnlab.pretrained`` (`cnnlab.pretrained.train`);
- ``shapes16.json``: how: data source, sizes, seed, optimizer, epochs, the
  test accuracy, torch and numpy versions.

The source task is `cnnlab.data.make_shapes` at 16×16 with noise, restricted
to `SOURCE_CLASSES` (lines in four orientations and circles); `TARGET_CLASSES`
(cross, X, disk) are held out for the "similar" target task.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["CHECKPOINT", "METADATA", "SOURCE_CLASSES", "TARGET_CLASSES", "IMAGE_SIZE", "NOISE",
           "ShapesNet", "make_source_data", "load_pretrained", "read_metadata"]

_HERE = Path(__file__).resolve().parent
CHECKPOINT = _HERE / "shapes16.pt"
METADATA = _HERE / "shapes16.json"
SOURCE_CLASSES = ("horizontal", "vertical", "diagonal", "antidiagonal", "o")
TARGET_CLASSES = ("cross", "x", "disk")
IMAGE_SIZE = 16
NOISE = 0.6


class ShapesNet(nn.Module):
    """Three conv + BatchNorm + ReLU layers (16, 32, 64 channels), global pooling, a linear head.

    ``features`` maps (N, 1, 16, 16) images to (N, 64) feature vectors
    (conv 3×3 pad 1 → max pool 2 twice: 16 → 8 → 4, then a conv and global
    average pooling); ``head`` is the ``nn.Linear(64, num_classes)`` that
    transfer learning replaces.

    Args:
        num_classes: outputs of the head. Default: 5 (`SOURCE_CLASSES`).

    Input (N, 1, H, W), any H, W ≥ 4; output (N, num_classes).
    """

    def __init__(self, num_classes: int = len(SOURCE_CLASSES)):
        super().__init__()

        def block(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(1, 16), nn.MaxPool2d(2),
            *block(16, 32), nn.MaxPool2d(2),
            *block(32, 64),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, 64, h, w) → (N, 64)
        )
        self.head = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


def make_source_data(n: int, seed: int):
    """`n` noisy 16×16 shape images of `SOURCE_CLASSES`, as the checkpoint was trained on.

    Returns:
        ``(x, y)``: float32 (n, 1, 16, 16) images and int64 (n,) labels
        indexing `SOURCE_CLASSES`.
    """
    from cnnlab.data import make_shapes

    images, labels, _ = make_shapes(n, IMAGE_SIZE, SOURCE_CLASSES, noise=NOISE, seed=seed)
    return images[:, None].astype(np.float32), labels  # (n, 16, 16) → (n, 1, 16, 16)


def read_metadata(path=None) -> dict:
    """The JSON record written next to the checkpoint (seed, data, accuracy, versions)."""
    return json.loads(Path(path or METADATA).read_text())


def load_pretrained(path=None, num_classes: int | None = None, map_location="cpu") -> ShapesNet:
    """A `ShapesNet` with the shipped (or given) weights, in eval mode.

    Loads with ``torch.load(..., weights_only=True)``: a checkpoint is then
    only tensors, never code that runs on load.

    Args:
        path: a ``state_dict`` file. Default: `CHECKPOINT`.
        num_classes: when given and different from the checkpoint's, the head
            is replaced by a fresh ``nn.Linear(64, num_classes)``.
        map_location: where the tensors go. Default: "cpu".
    """
    state = torch.load(path or CHECKPOINT, map_location=map_location, weights_only=True)
    model = ShapesNet(num_classes=state["head.weight"].shape[0])
    model.load_state_dict(state)
    if num_classes is not None and num_classes != model.head.out_features:
        model.head = nn.Linear(model.head.in_features, num_classes)
    return model.eval()
