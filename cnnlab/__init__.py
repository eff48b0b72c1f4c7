"""cnnlab: the helper package of a self-grading course on convolutional networks.

Submodules: `functional` (numpy operators), `reference` (torch oracle),
`shapes`, `grading`, `course`, `data`, `models`, `train`, `viz`, `widgets`,
and lecture 9's `scenes`, `detection`, `segmentation`, `diffusion`; `pretrained` (lecture 8's checkpoint).
They are imported on first use, so `import cnnlab` stays fast and does not
pull in torch until it is needed.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["__version__", "device", "functional", "reference", "shapes", "grading",
           "course", "data", "models", "train", "viz", "widgets", "examples", "scenes", "detection", "segmentation",
           "diffusion", "pretrained"]

_SUBMODULES = {"functional", "reference", "shapes", "grading", "course", "data", "models",
               "train", "viz", "widgets", "examples", "scenes", "detection", "segmentation", "diffusion",
               "pretrained"}


def device():
    """The best available torch device: CUDA when present, else CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"cnnlab.{name}")
    raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")
