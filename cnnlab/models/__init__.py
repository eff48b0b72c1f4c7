"""Networks of the course, as `torch.nn.Module`s, one family per module.

- `small`: the seed decks' small networks (ConvNet39, LeNet-5, SmallCNN,
  MNIST-1D nets) and the helpers `count_params`, `output_shapes`.
- `classic`: AlexNet, VGG-11/13/16/19, GoogLeNet and its Inception module.
- `resnet`: ResNet-18/34/50/101/152 from `blocks`' BasicBlock and Bottleneck, and `StackNet`
  (a small plain-or-residual network for experiments).
- `profile`: parameters and multiply-accumulates counted on the meta device.
- `blocks`: the references of the ps3/ps4 torch exercises: `mnist1d_cnn()`
  (a plain nn.Sequential, keys ``0.*, 2.*, 4.*, 7.*``) and ResNet's
  `BasicBlock`/`basic_block`, `Bottleneck`/`bottleneck` with torchvision's keys.
- `dense`: networks that output more than a class (lecture 9): `GridDetector`,
  `TinyUNet`, `Denoiser`, `SteeringNet`.

- `mnist1d`: networks trained in lectures 5-6 (a small course net for
  MNIST-1D, a LeNet for 8×8 digits; the seed's net is `mnist1d_cnn`).
- `inside`: looking inside a trained network (activations, saliency,
  occlusion, activation maximisation).

Every model documents its input shape and parameter count; the counts are
checked in `tests/test_models.py` and `tests/test_mnist1d.py`.
"""
from __future__ import annotations

from cnnlab.models.blocks import BasicBlock, Bottleneck, basic_block, bottleneck, mnist1d_cnn
from cnnlab.models.classic import VGG, VGG_CONFIGS, AlexNet, GoogLeNet, Inception
from cnnlab.models.dense import Denoiser, GridDetector, SteeringNet, TinyUNet
from cnnlab.models.inside import (
    activation_maximization,
    occlusion,
    record_activations,
    saliency,
    top_activating,
)
from cnnlab.models.mnist1d import DigitsLeNet, MNIST1DCourseNet
from cnnlab.models.profile import count_macs, on_meta, profile
from cnnlab.models.resnet import RESNET_LAYERS, ResNet, StackNet, resnet
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
    "AlexNet",
    "VGG",
    "VGG_CONFIGS",
    "Inception",
    "GoogLeNet",
    "ResNet",
    "RESNET_LAYERS",
    "resnet",
    "StackNet",
    "on_meta",
    "count_macs",
    "profile",
    "mnist1d_cnn",
    "BasicBlock",
    "basic_block",
    "Bottleneck",
    "bottleneck",
    "GridDetector",
    "TinyUNet",
    "Denoiser",
    "SteeringNet",
    "MNIST1DCourseNet",
    "DigitsLeNet",
    "record_activations",
    "top_activating",
    "saliency",
    "occlusion",
    "activation_maximization",
]
