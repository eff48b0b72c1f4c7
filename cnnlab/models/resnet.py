"""Residual networks (He et al. 2015): ResNet-18 ... 152 from `cnnlab.models.blocks`.

Module and parameter names are torchvision's (``conv1, bn1, layer1.0.conv1,
..., downsample.0/1, fc``), so a torchvision ``state_dict`` loads unchanged
and the counts equal the published ones (ResNet-18 11,689,512, ResNet-34
21,797,672, ResNet-50 25,557,032, ResNet-101 44,549,160, ResNet-152
60,192,808). `StackNet` is the small plain-or-residual network of lecture 7's
degradation experiment.
"""
from __future__ import annotations

import torch
from torch import nn

from cnnlab.models.blocks import BasicBlock, Bottleneck

__all__ = ["ResNet", "RESNET_LAYERS", "resnet", "StackNet"]


# depth -> (block, blocks per stage) (He et al., Table 1)
RESNET_LAYERS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


class ResNet(nn.Module):
    """ImageNet ResNet: 7×7 stem, four stages of blocks, global average pool, fc.

    Args:
        block: `BasicBlock` or `Bottleneck`.
        layers: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        num_classes: outputs. Default: 1000.

    Input (N, 3, 224, 224); stages give 56², 28², 14², 7² maps; output
    (N, num_classes).
    """

    def __init__(self, block, layers, num_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        c_in = 64
        for i, (n, width) in enumerate(zip(layers, (64, 128, 256, 512))):
            blocks = []
            for j in range(n):
                # note: the first block of stages 2-4 halves H, W (stride 2 once per stage)
                blocks.append(block(c_in, width, stride=2 if (i > 0 and j == 0) else 1))
                c_in = width * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))  # (N, C, 1, 1) → (N, C)


def resnet(depth: int = 18, num_classes: int = 1000) -> ResNet:
    """ResNet-18, -34, -50, -101 or -152 (`RESNET_LAYERS`), torchvision's layout."""
    if depth not in RESNET_LAYERS:
        raise ValueError(f"depth must be one of {sorted(RESNET_LAYERS)}; got {depth!r}")
    block, layers = RESNET_LAYERS[depth]
    return ResNet(block, layers, num_classes)


class _PlainBlock(BasicBlock):
    """A `BasicBlock` without its shortcut: ``relu(F(x))``."""

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)))


class StackNet(nn.Module):
    """A small CIFAR-style network of ``depth`` conv layers, plain or residual.

    stem conv 3×3 → ``blocks`` two-conv blocks in three stages (width, 2·width,
    4·width channels; stride 2 at the start of stages 2 and 3) → global
    average pool → fc; ``depth = 2 · blocks + 2`` weight layers. With
    ``residual=False`` it is the "plain" network of He et al.'s Figure 1.
    Convolutions start from He (Kaiming) normal initialization.

    Args:
        blocks: two-conv blocks in all (at least 3, divisible by 3).
        residual: add the shortcuts. Default: True.
        batch_norm: BatchNorm after every conv; False replaces it by identity
            (the block convs then have no bias; BatchNorm's shift was their bias).
            Default: True.
        width: channels of the first stage. Default: 16.
        in_channels: input channels. Default: 1.
        num_classes: outputs. Default: 10.

    Input (N, in_channels, H, W); output (N, num_classes).
    """

    def __init__(self, blocks: int = 3, residual: bool = True, batch_norm: bool = True, width: int = 16,
                 in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        if blocks < 3 or blocks % 3:
            raise ValueError(f"blocks must be a positive multiple of 3; got {blocks!r}")
        block = BasicBlock if residual else _PlainBlock
        layers = [nn.Conv2d(in_channels, width, 3, padding=1, bias=not batch_norm),
                  nn.BatchNorm2d(width) if batch_norm else nn.Identity(), nn.ReLU(inplace=True)]
        c_in = width
        for stage in range(3):
            for j in range(blocks // 3):
                c_out = width * 2 ** stage
                layers.append(block(c_in, c_out, stride=2 if (stage > 0 and j == 0) else 1))
                c_in = c_out
        self.features = nn.Sequential(*layers)
        if not batch_norm:
            for m in self.features.modules():
                for name, child in list(m.named_children()):
                    if isinstance(child, nn.BatchNorm2d):
                        setattr(m, name, nn.Identity())
        for m in self.features.modules():
            if isinstance(m, nn.Conv2d):  # He init, as the ResNet paper and torchvision
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes))
        self.depth = 2 * blocks + 2

    def forward(self, x):
        return self.head(self.features(x))
