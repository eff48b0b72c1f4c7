"""Networks of the course, as `torch.nn.Module`s, one family per module.

- `small`: the seed decks' small networks (ConvNet39, LeNet-5, SmallCNN,
  MNIST-1D nets) and the helpers `count_params`, `output_shapes`.
- `blocks`: the references of the ps3/ps4 torch exercises: `mnist1d_cnn()`
  (a plain nn.Sequential, keys ``0.*, 2.*, 4.*, 7.*``) and ResNet's
  `BasicBlock`/`basic_block`, `Bottleneck`/`bottleneck` with torchvision's keys.

Every model documents its input shape and parameter count; the counts are
checked in `tests/test_models.py`.
"""
from __future__ import annotations

from cnnlab.models.blocks import BasicBlock, Bottleneck, basic_block, bottleneck, mnist1d_cnn
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
    "mnist1d_cnn",
    "BasicBlock",
    "basic_block",
    "Bottleneck",
    "bottleneck",
]
