"""The seed decks' small networks, as `torch.nn.Module`s.

Every model documents its input shape and parameter count; the counts are
checked in `tests/test_models.py` against `cnnlab.shapes`.
"""
from __future__ import annotations

import torch
from torch import nn

from cnnlab.shapes import conv2d_output_shape, conv_output_size

__all__ = [
    "count_params",
    "output_shapes",
    "ConvNet39",
    "LeNet5",
    "SmallCNN",
    "MNIST1DMLP",
    "MNIST1DConvNet",
]


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters of `model` (all, or only those with requires_grad)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def output_shapes(model: nn.Module, input_shape) -> list[tuple[str, str, tuple[int, ...], int]]:
    """Run a zero input through `model` and record every leaf layer's output.

    Args:
        model: any module; only leaf modules (no children) are reported.
        input_shape: e.g. ``(1, 3, 39, 39)``, batch dimension included.

    Returns:
        One ``(name, layer type, output shape, parameter count)`` per leaf
        layer call, in forward order (torchinfo's table, without torchinfo).
    """
    rows, hooks = [], []
    for name, mod in model.named_modules():
        if not any(True for _ in mod.children()):
            def hook(m, inp, out, name=name):
                rows.append((name, type(m).__name__, tuple(out.shape), count_params(m)))
            hooks.append(mod.register_forward_hook(hook))
    try:
        p = next(model.parameters(), None)
        x = torch.zeros(input_shape, dtype=p.dtype if p is not None else torch.float32,
                        device=p.device if p is not None else None)
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return rows


class ConvNet39(nn.Sequential):
    """Seed 004's CNN for 39×39×3 images: three conv layers, then a classifier.

    ===========  =====================  ============  ==========
    layer        hyper-parameters       output        parameters
    ===========  =====================  ============  ==========
    input                               3 × 39 × 39
    conv1+ReLU   10 filters 3×3, s=1    10 × 37 × 37  280
    conv2+ReLU   20 filters 5×5, s=2    20 × 17 × 17  5,020
    conv3+ReLU   40 filters 5×5, s=2    40 × 7 × 7    20,040
    flatten                             1,960
    linear       1,960 → num_classes    num_classes   1,961 · num_classes
    ===========  =====================  ============  ==========

    Args:
        num_classes: outputs of the last layer; 1 gives the single logit of
            logistic regression (a binary "cat or not" as on the slide),
            K > 1 the K logits of a softmax. Default: 1.

    Input (N, 3, 39, 39); output (N, num_classes). 27,301 parameters for
    ``num_classes=1``.
    """

    def __init__(self, num_classes: int = 1):
        super().__init__(
            nn.Conv2d(3, 10, kernel_size=3, stride=1, padding=0), nn.ReLU(),
            nn.Conv2d(10, 20, kernel_size=5, stride=2, padding=0), nn.ReLU(),
            nn.Conv2d(20, 40, kernel_size=5, stride=2, padding=0), nn.ReLU(),
            nn.Flatten(),  # (N, 40, 7, 7) → (N, 1960)
            nn.Linear(40 * 7 * 7, num_classes),
        )


class LeNet5(nn.Sequential):
    """LeNet-5 (LeCun et al., 1998) with tanh and average pooling.

    C1 conv 6@5×5 → S2 avgpool 2 → C3 conv 16@5×5 → S4 avgpool 2 →
    C5 120 units → F6 84 units → num_classes. On a 32×32 input the feature
    maps are 6×28×28, 6×14×14, 16×10×10, 16×5×5. 61,706 parameters for
    ``in_channels=1, num_classes=10``.

    Args:
        num_classes: outputs. Default: 10.
        in_channels: input channels. Default: 1.
        padding: of C1; 2 lets a 28×28 input (MNIST size) keep the 32×32
            geometry. Default: 0 (the original 32×32 input).

    Input (N, in_channels, 32 − 2·padding, 32 − 2·padding); output (N, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, padding: int = 0):
        super().__init__(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding), nn.Tanh(),
            nn.AvgPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(),
            nn.AvgPool2d(2),
            nn.Flatten(),  # (N, 16, 5, 5) → (N, 400)
            nn.Linear(16 * 5 * 5, 120), nn.Tanh(),
            nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes),
        )


class SmallCNN(nn.Sequential):
    """Seed 003's model listing, corrected: two conv+ReLU+maxpool blocks and an MLP.

    The slide passes a list to `nn.Sequential` and writes ``filter_size`` for
    ``kernel_size``; here the flatten size is computed from `input_hw` with
    `cnnlab.shapes.conv2d_output_shape` instead of being typed in (it is
    64·6·6 for 32×32 inputs, 64·5·5 for 28×28).

    Args:
        in_channels: input channels. Default: 3.
        num_classes: outputs. Default: 10.
        input_hw: (H, W) of the inputs. Default: (32, 32).
        hidden: units of the hidden linear layer. Default: 1024.

    Input (N, in_channels, H, W); output (N, num_classes).
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, input_hw=(32, 32), hidden: int = 1024):
        hw = tuple(input_hw)
        for _ in range(2):  # conv 3×3 (valid), then maxpool 2
            hw = conv2d_output_shape(hw, 3)
            hw = conv2d_output_shape(hw, 2, stride=2)
        self.flat_features = 64 * hw[0] * hw[1]
        super().__init__(
            nn.Conv2d(in_channels, 32, kernel_size=3), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(32, 64, kernel_size=3), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.Linear(self.flat_features, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )


class MNIST1DMLP(nn.Sequential):
    """Fully connected network for MNIST-1D (40 inputs, 10 classes).

    Args:
        hidden: widths of the hidden layers, each followed by ReLU.
            note: seed 002 reports 150,185 parameters but not the widths;
            the default (350, 175, 400) is one choice of three hidden layers
            (as many as the conv net) that gives exactly that count.
        in_features: input length. Default: 40.
        num_classes: outputs. Default: 10.

    Input (N, 40) or (N, 1, 40); output (N, num_classes).
    """

    def __init__(self, hidden=(350, 175, 400), in_features: int = 40, num_classes: int = 10):
        layers, n = [nn.Flatten()], in_features
        for h in hidden:
            layers += [nn.Linear(n, h), nn.ReLU()]
            n = h
        layers.append(nn.Linear(n, num_classes))
        super().__init__(*layers)


class MNIST1DConvNet(nn.Module):
    """Seed 002's 2,050-parameter convolutional network for MNIST-1D.

    Three Conv1d(kernel 3, stride 2, no padding) layers of 15 channels with
    ReLU, then one linear layer:

    ==========  ============  ==========
    layer       output        parameters
    ==========  ============  ==========
    input       1 × 40
    conv1       15 × 19       60
    conv2       15 × 9        690
    conv3       15 × 4        690
    flatten     60
    linear      10            610
    ==========  ============  ==========

    Args:
        channels: channels of each conv layer. Default: 15.
        in_features: input length. Default: 40.
        num_classes: outputs. Default: 10.

    Input (N, 40) or (N, 1, 40); output (N, num_classes).
    """

    def __init__(self, channels: int = 15, in_features: int = 40, num_classes: int = 10):
        super().__init__()
        n = in_features
        for _ in range(3):
            n = conv_output_size(n, 3, stride=2)
        self.net = nn.Sequential(
            nn.Conv1d(1, channels, kernel_size=3, stride=2), nn.ReLU(),
            nn.Conv1d(channels, channels, kernel_size=3, stride=2), nn.ReLU(),
            nn.Conv1d(channels, channels, kernel_size=3, stride=2), nn.ReLU(),
            nn.Flatten(),  # (N, channels, 4) → (N, 60)
            nn.Linear(channels * n, num_classes),
        )

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(1)  # (N, L) → (N, 1, L)
        return self.net(x)
