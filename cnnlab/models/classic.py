"""The ImageNet classics of lecture 7: AlexNet, VGG and GoogLeNet (Inception).

Layer shapes follow torchvision's definitions, so the parameter counts equal
the published ones (AlexNet 61,100,840, VGG-16 138,357,544, VGG-19 143,667,240,
GoogLeNet 6,624,904); AlexNet's and VGG's layer names are torchvision's too,
so its ``state_dict`` files load unchanged (GoogLeNet's modules are grouped
differently here). ``AlexNet(variant="paper")`` and ``GoogLeNet(...)``'s
arguments rebuild the original papers' layers where torchvision differs.
Build them on the meta device to count without allocating weights:
``with torch.device("meta"): model = VGG(16)``.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["AlexNet", "VGG", "VGG_CONFIGS", "Inception", "GoogLeNet"]


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky, Sutskever, Hinton 2012): 5 conv + 3 fully connected layers.

    Args:
        num_classes: outputs. Default: 1000.
        variant: ``"torchvision"`` (default) is the one-GPU version torchvision
            ships (64, 192, 384, 256, 256 filters, no LRN, 61,100,840
            parameters); ``"paper"`` is the 2012 network (96, 256, 384, 384,
            256 filters, conv2/4/5 split in two groups, one per GPU, local
            response normalization after conv1 and conv2; 60,965,224).
        dropout: dropout probability before fc6 and fc7. Default: 0.5.

    Input (N, 3, 224, 224) for torchvision's variant (padding 2 in conv1),
    (N, 3, 227, 227) for the paper's (no padding: 227 → 55); output
    (N, num_classes).
    """

    def __init__(self, num_classes: int = 1000, variant: str = "torchvision", dropout: float = 0.5):
        super().__init__()
        if variant == "torchvision":
            c, groups, pad1, lrn = (64, 192, 384, 256, 256), 1, 2, False
        elif variant == "paper":
            c, groups, pad1, lrn = (96, 256, 384, 384, 256), 2, 0, True
        else:
            raise ValueError(f"variant must be 'torchvision' or 'paper'; got {variant!r}")

        def norm():  # the paper's LRN: k=2, n=5, alpha=1e-4, beta=0.75
            return [nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)] if lrn else []

        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], 11, stride=4, padding=pad1), nn.ReLU(inplace=True), *norm(),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c[0], c[1], 5, padding=2, groups=groups), nn.ReLU(inplace=True), *norm(),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c[2], c[3], 3, padding=1, groups=groups), nn.ReLU(inplace=True),
            nn.Conv2d(c[3], c[4], 3, padding=1, groups=groups), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))  # 6×6 for the native input size, so a no-op there
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c[4] * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))  # (N, C, 6, 6) → (N, C·36)


# Filters per 3×3 conv layer, "M" = 2×2 max pooling (Simonyan & Zisserman, Table 1).
VGG_CONFIGS = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"),
}


class VGG(nn.Module):
    """VGG-11/13/16/19: stacks of 3×3 convolutions (padding 1) and 2×2 max pooling.

    The depth counts weight layers: VGG-19 has 16 conv + 3 fully connected.

    Args:
        depth: 11, 13, 16 or 19. Default: 16.
        num_classes: outputs. Default: 1000.
        batch_norm: BatchNorm after every conv (the later ``vgg16_bn``). Default: False.
        dropout: before fc6 and fc7. Default: 0.5.

    Input (N, 3, 224, 224); output (N, num_classes).
    """

    def __init__(self, depth: int = 16, num_classes: int = 1000, batch_norm: bool = False,
                 dropout: float = 0.5):
        super().__init__()
        if depth not in VGG_CONFIGS:
            raise ValueError(f"depth must be one of {sorted(VGG_CONFIGS)}; got {depth!r}")
        layers, c_in = [], 3
        for v in VGG_CONFIGS[depth]:
            if v == "M":
                layers.append(nn.MaxPool2d(2, stride=2))
                continue
            layers.append(nn.Conv2d(c_in, v, 3, padding=1))
            layers += [nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else [nn.ReLU(inplace=True)]
            c_in = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))  # (N, 512, 7, 7) → (N, 25088)


def _conv_bn(c_in, c_out, kernel_size, stride=1, padding=0, batch_norm=True):
    """Conv + (BatchNorm) + ReLU, torchvision's ``BasicConv2d`` (conv bias only without BN)."""
    layers = [nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(c_out, eps=0.001))
    return nn.Sequential(*layers, nn.ReLU(inplace=True))


class Inception(nn.Module):
    """The Inception module: four parallel branches concatenated along channels.

    1×1 | 1×1 → 3×3 | 1×1 → 5×5 | 3×3 max pool → 1×1. The 1×1 "reduce"
    convolutions shrink the channels before the expensive 3×3 and 5×5 ones
    (the bottleneck idea ResNet-50 reuses).

    Args:
        c_in: input channels C_in.
        c1: filters of the 1×1 branch.
        c3_reduce, c3: 1×1 reduction, then 3×3 filters.
        c5_reduce, c5: 1×1 reduction, then "5×5" filters.
        pool_proj: 1×1 filters after the max pooling.
        k5: kernel of the "5×5" branch; torchvision uses 3 (a bug kept for
            its weights). Default: 5 (the paper).
        batch_norm: BatchNorm in every conv (torchvision); the paper had none. Default: True.

    Input (N, C_in, H, W); output (N, c1 + c3 + c5 + pool_proj, H, W).
    """

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, *, k5: int = 5,
                 batch_norm: bool = True):
        super().__init__()
        bn = dict(batch_norm=batch_norm)
        self.branch1 = _conv_bn(c_in, c1, 1, **bn)
        self.branch2 = nn.Sequential(_conv_bn(c_in, c3_reduce, 1, **bn), _conv_bn(c3_reduce, c3, 3, padding=1, **bn))
        self.branch3 = nn.Sequential(_conv_bn(c_in, c5_reduce, 1, **bn),
                                     _conv_bn(c5_reduce, c5, k5, padding=k5 // 2, **bn))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     _conv_bn(c_in, pool_proj, 1, **bn))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], dim=1)


# (c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj) of inception 3a ... 5b (Szegedy et al., Table 1)
_INCEPTION = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    """GoogLeNet (Szegedy et al. 2014): 22 weight layers deep, nine Inception modules.

    Without the two auxiliary classifiers (used only in training; left out
    here) and with torchvision's choices (``k5=3``, BatchNorm) it has the
    6,624,904 parameters of ``torchvision.models.googlenet``.

    Args:
        num_classes: outputs. Default: 1000.
        k5: kernel of the Inception modules' "5×5" branch. Default: 5 (paper).
        batch_norm: BatchNorm in every conv. Default: True (torchvision).
        dropout: before the classifier (the paper's 40 %). Default: 0.4.

    Input (N, 3, 224, 224); output (N, num_classes).
    """

    def __init__(self, num_classes: int = 1000, *, k5: int = 5, batch_norm: bool = True,
                 dropout: float = 0.4):
        super().__init__()
        bn = dict(batch_norm=batch_norm)

        def inception(name):
            return Inception(*_INCEPTION[name], k5=k5, **bn)

        def pool():
            return nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.stem = nn.Sequential(
            _conv_bn(3, 64, 7, stride=2, padding=3, **bn), pool(),
            _conv_bn(64, 64, 1, **bn), _conv_bn(64, 192, 3, padding=1, **bn), pool(),
        )
        self.inceptions = nn.Sequential(
            inception("3a"), inception("3b"), pool(),
            *(inception(n) for n in ("4a", "4b", "4c", "4d", "4e")), pool(),
            inception("5a"), inception("5b"),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.avgpool(self.inceptions(self.stem(x)))
        return self.fc(self.dropout(torch.flatten(x, 1)))  # (N, 1024, 1, 1) → (N, 1024)
