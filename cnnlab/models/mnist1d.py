"""Networks trained in lectures 5 and 6: MNIST-1D and 8×8 digits.

The seed's own MNIST-1D networks (`MNIST1DConvNet` / `mnist1d_cnn`, 2,050
parameters, and `MNIST1DMLP`, 150,185) live in `cnnlab.models.small` and
`cnnlab.models.blocks`; this module adds a small course network that aims
higher and a LeNet-style 2-D network for scikit-learn's 8×8 digits.
"""
from __future__ import annotations

from torch import nn

__all__ = ["MNIST1DCourseNet", "DigitsLeNet"]


class MNIST1DCourseNet(nn.Sequential):
    """A small MNIST-1D network (5,650 parameters) built from the course's blocks.

    Three blocks of Conv1d(k=5, 'same' padding) → ReLU → MaxPool1d(2) take
    the signal from 1×40 to 24×20, 24×10 and 24×5 (stride-1 convolutions
    see every position; pooling then halves the length), then one linear
    layer on the 120 flattened features.

    ========  ==========  ==========
    layer     output      parameters
    ========  ==========  ==========
    input     1 × 40
    block 1   c1 × 20     6·c1
    block 2   c2 × 10     c2·(5·c1 + 1)
    block 3   c2 × 5      c2·(5·c2 + 1)
    linear    10          10·(5·c2 + 1)
    ========  ==========  ==========

    With the defaults c1 = 8, c2 = 16: 48 + 656 + 1,296 + 810 = 2,810; with
    ``channels=(12, 24)`` 72 + 1,464 + 2,904 + 1,210 = 5,650.

    Args:
        channels: (c1, c2) channels of the first and of the two later blocks.
            Default: (12, 24).
        in_features: signal length L, a multiple of 8. Default: 40.
        num_classes: outputs. Default: 10.

    Input (N, 1, L); output (N, num_classes).
    """

    def __init__(self, channels=(12, 24), in_features: int = 40, num_classes: int = 10):
        c1, c2 = channels
        if in_features % 8:
            raise ValueError(f"in_features must be a multiple of 8 (three poolings by 2); got {in_features}")
        super().__init__(
            nn.Conv1d(1, c1, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(c1, c2, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(c2, c2, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Flatten(),  # (N, c2, L/8) → (N, c2*L/8)
            nn.Linear(c2 * (in_features // 8), num_classes),
        )


class DigitsLeNet(nn.Sequential):
    """LeNet-style network for scikit-learn's 8×8 digits (1,898 parameters).

    Two blocks of Conv2d(3×3, padding 1) → ReLU → MaxPool2d(2) take an image
    from 1×8×8 to 8×4×4 and 16×2×2, then one linear layer on the 64 features:
    80 + 1,168 + 650 = 1,898 parameters (LeNet-5 itself has 61,706 for 32×32
    inputs).

    Args:
        channels: (c1, c2) channels of the two conv layers. Default: (8, 16).
        num_classes: outputs. Default: 10.

    Input (N, 1, 8, 8); output (N, num_classes).
    """

    def __init__(self, channels=(8, 16), num_classes: int = 10):
        c1, c2 = channels
        super().__init__(
            nn.Conv2d(1, c1, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),  # (N, c2, 2, 2) → (N, 4*c2)
            nn.Linear(c2 * 2 * 2, num_classes),
        )
