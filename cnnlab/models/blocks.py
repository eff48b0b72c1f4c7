"""Reference modules of problem sets 3 and 4: the MNIST-1D conv net as a plain `nn.Sequential`,
and ResNet's residual blocks with torchvision's exact layout.

The graders load a student's `state_dict` into these references and compare
outputs in float64, so the parameter names are part of the contract:

- `mnist1d_cnn()`: ``0.weight, 0.bias`` (conv1), ``2.*`` (conv2), ``4.*`` (conv3),
  ``7.weight, 7.bias`` (linear); ReLUs at 1, 3, 5 and Flatten at 6 have none.
- `BasicBlock` / `basic_block`: ``conv1.weight, bn1.*, conv2.weight, bn2.*`` and,
  when the shape changes, ``downsample.0.weight`` (1×1 conv, stride s, no bias)
  and ``downsample.1.*`` (BatchNorm); every ``bn*`` holds ``weight, bias,
  running_mean, running_var, num_batches_tracked``. torchvision's names.
- `Bottleneck` / `bottleneck`: ``conv1, bn1, conv2, bn2, conv3, bn3`` and the
  same ``downsample`` (torchvision's v1.5 layout: the stride is on the 3×3 conv).

torchvision itself does not import beside the pinned torch, so the blocks are
written out here; `tests/test_blocks.py` checks them against a hand-written
forward pass of torchvision's definition.
"""
from __future__ import annotations

from torch import nn

from cnnlab.shapes import conv_output_size

__all__ = ["mnist1d_cnn", "BasicBlock", "basic_block", "Bottleneck", "bottleneck"]


def mnist1d_cnn(channels: int = 15, num_classes: int = 10) -> nn.Sequential:
    """A fresh copy of seed 002's MNIST-1D conv net, as the exercise asks for it.

    ===  ======================  ============  ==========
    key  layer                   output        parameters
    ===  ======================  ============  ==========
    0    Conv1d(1→15, k3, s2)    [N, 15, 19]   60
    1    ReLU                    [N, 15, 19]
    2    Conv1d(15→15, k3, s2)   [N, 15, 9]    690
    3    ReLU                    [N, 15, 9]
    4    Conv1d(15→15, k3, s2)   [N, 15, 4]    690
    5    ReLU                    [N, 15, 4]
    6    Flatten                 [N, 60]
    7    Linear(60→10)           [N, 10]       610
    ===  ======================  ============  ==========

    2,050 parameters. Input (N, 1, 40); output (N, 10) logits. The same
    layers as `cnnlab.models.MNIST1DConvNet`, but a plain `nn.Sequential`, so
    the state_dict keys are ``0.weight, 0.bias, 2.*, 4.*, 7.*``.
    """
    n = 40
    for _ in range(3):
        n = conv_output_size(n, 3, stride=2)  # 40 → 19 → 9 → 4
    return nn.Sequential(
        nn.Conv1d(1, channels, kernel_size=3, stride=2), nn.ReLU(),
        nn.Conv1d(channels, channels, kernel_size=3, stride=2), nn.ReLU(),
        nn.Conv1d(channels, channels, kernel_size=3, stride=2), nn.ReLU(),
        nn.Flatten(),  # (N, channels, 4) → (N, 60)
        nn.Linear(channels * n, num_classes),
    )


def _downsample(c_in, c_out, stride):
    """The shortcut's projection when the shape changes: 1×1 conv (stride s, no bias) + BatchNorm; else None."""
    if stride == 1 and c_in == c_out:
        return None
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(c_out))


class BasicBlock(nn.Module):
    """ResNet-18/34's residual block: two 3×3 convs and a shortcut (He et al., 2016).

        out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))

    shortcut(x) is x itself, or ``downsample(x)`` (1×1 conv + BatchNorm) when
    stride ≠ 1 or c_in ≠ c_out. note: the last ReLU comes *after* the addition.

    Args:
        c_in: input channels C_in.
        c_out: output channels C_out.
        stride: of conv1 and of the shortcut; 2 halves H and W. Default: 1.

    Input (N, C_in, H, W); output (N, C_out, ⌈H/s⌉, ⌈W/s⌉). Parameters:
    9·C_in·C_out + 9·C_out² + 4·C_out, plus C_in·C_out + 2·C_out with a downsample.
    """

    expansion = 1

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = _downsample(c_in, c_out, stride)
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def basic_block(c_in: int, c_out: int, stride: int = 1) -> BasicBlock:
    """A fresh `BasicBlock(c_in, c_out, stride)`: the reference of the ps4 exercise."""
    return BasicBlock(c_in, c_out, stride)


class Bottleneck(nn.Module):
    """ResNet-50/101/152's residual block: 1×1 reduce, 3×3, 1×1 expand (×4), and a shortcut.

        out = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))

    torchvision's "ResNet v1.5" layout: the stride sits on the 3×3 conv2 (the
    original paper put it on conv1). The shortcut is ``downsample`` (1×1 conv,
    stride s, + BatchNorm) when stride ≠ 1 or c_in ≠ 4·planes.

    Args:
        c_in: input channels C_in.
        planes: channels of the 1×1 and 3×3 convs; the block outputs 4·planes.
        stride: of conv2 and the shortcut. Default: 1.

    Input (N, C_in, H, W); output (N, 4·planes, ⌈H/s⌉, ⌈W/s⌉).
    """

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1):
        super().__init__()
        c_out = planes * self.expansion
        self.conv1 = nn.Conv2d(c_in, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, c_out, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(c_in, c_out, stride)
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def bottleneck(c_in: int, planes: int, stride: int = 1) -> Bottleneck:
    """A fresh `Bottleneck(c_in, planes, stride)` (output channels 4·planes)."""
    return Bottleneck(c_in, planes, stride)
