"""Networks of the course, as `torch.nn.Module`s, one family per module.

- `small`: the seed decks' small networks (ConvNet39, LeNet-5, SmallCNN,
  MNIST-1D nets) and the helpers `count_params`, `output_shapes`.
- `mnist1d`: the networks trained in lectures 5-6 (the seed's MNIST-1D net
  as a flat `nn.Sequential`, a small course net, a LeNet for 8×8 digits).
- `inside`: looking inside a trained network (activations, saliency,
  occlusion, activation maximisation).

Every model documents its input shape and parameter count; the counts are
checked in `tests/test_models.py` and `tests/test_mnist1d.py`.
"""
from __future__ import annotations

from cnnlab.models.inside import (
    activation_maximization,
    occlusion,
    record_activations,
    saliency,
    top_activating,
)
from cnnlab.models.mnist1d import DigitsLeNet, MNIST1DCourseNet, mnist1d_convnet
from cnnlab.models.small import (
    ConvNet39,
    LeNet5,
    MNIST1DConvNet,
    MNIST1DMLP,
    SmallCNN,
    count_params,
    output_shapes,
)

__all__ = [
    "count_params",
    "output_shapes",
    "ConvNet39",
    "LeNet5",
    "SmallCNN",
    "MNIST1DMLP",
    "MNIST1DConvNet",
    "mnist1d_convnet",
    "MNIST1DCourseNet",
    "DigitsLeNet",
    "record_activations",
    "top_activating",
    "saliency",
    "occlusion",
    "activation_maximization",
]
