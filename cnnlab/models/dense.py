"""Networks that output more than a class (lecture 9): a grid detector, a tiny
U-Net (and its skip-less FCN twin), a noise-conditioned denoiser and a
steering regressor. All are small enough to train on a CPU in seconds on the
32×32 scenes of `cnnlab.scenes`.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["GridDetector", "TinyUNet", "Denoiser", "SteeringNet"]


def _conv_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    # note: bias is redundant before BatchNorm, which adds its own shift
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


class GridDetector(nn.Module):
    """A one-stage, YOLO-style detector: one prediction per cell of an S×S grid.

    Fully convolutional, with two 2×2 max pools, so each output cell sees a
    4×4 pixel cell of the input (S = H / 4) and, through its receptive field
    of 26×26 pixels, the whole of any object centred in it. Per cell it
    predicts (channel order, all raw logits or values; see
    `cnnlab.detection.decode_grid`):

    - 0: objectness logit ("is an object centred in this cell?");
    - 1, 2: x and y of the box centre inside the cell, through a sigmoid;
    - 3, 4: box width and height as fractions of the image, through a sigmoid;
    - 5 ... 5 + K - 1: class logits.

    YOLO v1 predicts two boxes per cell on a 7×7 grid; one box per cell is
    enough here because two objects of `make_scenes` never share a 4×4 cell.

    Args:
        num_classes: K. Default: 3.
        in_channels: C_in. Default: 1.
        width: channels of the first layer (doubled twice). Default: 16.

    Shape:
        (N, C_in, H, W) → (N, 5 + K, H/4, W/4).
    """

    def __init__(self, num_classes: int = 3, in_channels: int = 1, width: int = 16):
        super().__init__()
        self.num_classes = num_classes
        w = width
        self.features = nn.Sequential(
            *_conv_bn_relu(in_channels, w), nn.MaxPool2d(2),
            *_conv_bn_relu(w, 2 * w), nn.MaxPool2d(2),
            *_conv_bn_relu(2 * w, 4 * w),
            *_conv_bn_relu(4 * w, 4 * w),
        )
        self.head = nn.Conv2d(4 * w, 5 + num_classes, 1)  # a 1×1 conv: the same classifier in every cell

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class TinyUNet(nn.Module):
    """A two-level encoder–decoder; with skips it is a U-Net, without an FCN.

    Encoder: (conv 3×3 + BN + ReLU) twice per level, 2×2 max pool between
    levels. Decoder: a stride-2 transposed convolution doubles H and W; the
    U-Net then concatenates the encoder's feature map of the same size (the
    skip connection) before two more convs. With ``skip=False`` the decoder
    sees only the upsampled coarse features (like FCN-32s, which upsamples
    its coarsest prediction).

    Args:
        in_channels: C_in. Default: 1.
        out_channels: C_out, e.g. classes + 1 (background) for segmentation,
            or 1 for a denoiser. Default: 4.
        width: channels at full resolution (2× and 4× below). Default: 8.
        skip: concatenate encoder features in the decoder. Default: True.

    Shape:
        (N, C_in, H, W) → (N, C_out, H, W), H and W divisible by 4.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 4, width: int = 8, skip: bool = True):
        super().__init__()
        w, self.skip = width, skip
        self.enc1 = nn.Sequential(*_conv_bn_relu(in_channels, w), *_conv_bn_relu(w, w))
        self.enc2 = nn.Sequential(*_conv_bn_relu(w, 2 * w), *_conv_bn_relu(2 * w, 2 * w))
        self.bottom = nn.Sequential(*_conv_bn_relu(2 * w, 4 * w), *_conv_bn_relu(4 * w, 4 * w))
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, kernel_size=2, stride=2)
        self.dec2 = nn.Sequential(*_conv_bn_relu(4 * w if skip else 2 * w, 2 * w), *_conv_bn_relu(2 * w, 2 * w))
        self.up1 = nn.ConvTranspose2d(2 * w, w, kernel_size=2, stride=2)
        self.dec1 = nn.Sequential(*_conv_bn_relu(2 * w if skip else w, w), *_conv_bn_relu(w, w))
        self.out = nn.Conv2d(w, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"TinyUNet needs H and W divisible by 4; got input {tuple(x.shape)}")
        e1 = self.enc1(x)                          # (N, w, H, W)
        e2 = self.enc2(self.pool(e1))              # (N, 2w, H/2, W/2)
        b = self.bottom(self.pool(e2))             # (N, 4w, H/4, W/4)
        d2 = self.up2(b)                           # (N, 2w, H/2, W/2)
        if self.skip:
            d2 = torch.cat([d2, e2], dim=1)        # (N, 4w, H/2, W/2)
        d1 = self.up1(self.dec2(d2))               # (N, w, H, W)
        if self.skip:
            d1 = torch.cat([d1, e1], dim=1)        # (N, 2w, H, W)
        return self.out(self.dec1(d1))


class Denoiser(nn.Module):
    """Predicts the clean image from a noisy one and its noise level σ.

    A `TinyUNet` sees the input scaled to unit variance and σ as a second,
    constant channel; its output F is mixed with the input as in Karras et
    al. (2022, "EDM"):
    ``x0_hat = c_skip(σ)·x + c_out(σ)·F``, with ``c_skip = σ_d²/(σ² + σ_d²)``
    and ``c_out = σ·σ_d/√(σ² + σ_d²)``. At small σ the input is already
    nearly clean (c_skip → 1); at large σ the network's guess dominates.

    Args:
        channels: image channels C. Default: 1.
        width: width of the inner U-Net. Default: 8.
        sigma_data: σ_d, the standard deviation of clean images. Default: 0.3.

    Shape:
        x (N, C, H, W), sigma (N,) → (N, C, H, W).
    """

    def __init__(self, channels: int = 1, width: int = 8, sigma_data: float = 0.3):
        super().__init__()
        self.sigma_data = sigma_data
        self.net = TinyUNet(channels + 1, channels, width=width)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)  # (N, 1, 1, 1)
        sigma = sigma.expand(len(x), 1, 1, 1)      # a scalar σ serves the whole batch
        sd2 = self.sigma_data ** 2
        c_in = 1 / torch.sqrt(sigma ** 2 + sd2)
        c_skip = sd2 / (sigma ** 2 + sd2)
        c_out = sigma * self.sigma_data / torch.sqrt(sigma ** 2 + sd2)
        level = sigma.log().expand(-1, 1, *x.shape[-2:])  # (N, 1, H, W): σ as an input channel
        f = self.net(torch.cat([c_in * x, level], dim=1))
        return c_skip * x + c_out * f


class SteeringNet(nn.Sequential):
    """Image → steering angle (radians), learned end to end.

    Three conv + ReLU + 2×2 max-pool stages, then a fully connected head.
    The head sees the flattened feature map, so it knows *where* features
    are: a global pooling layer here would throw the position away (lecture
    4's invariance) and the network could not steer.

    Args:
        in_channels: C_in. Default: 1.
        size: input side H = W, divisible by 8. Default: 32.

    Shape:
        (N, C_in, size, size) → (N, 1).
    """

    def __init__(self, in_channels: int = 1, size: int = 32):
        if size % 8:
            raise ValueError(f"size must be divisible by 8; got {size}")
        super().__init__(
            nn.Conv2d(in_channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),                                       # (N, 16 · size/8 · size/8)
            nn.Linear(16 * (size // 8) ** 2, 32), nn.ReLU(),
            nn.Linear(32, 1),
        )
