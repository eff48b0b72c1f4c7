"""Lecture 9's networks: output shapes, parameter counts, skips, and a short training smoke test."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.data import make_scenes, make_steering
from cnnlab.detection import GridLoss, encode_grid
from cnnlab.models import Denoiser, GridDetector, SteeringNet, TinyUNet, count_params, output_shapes
from cnnlab.shapes import receptive_field
from cnnlab.train import fit, make_loader

pytestmark = [pytest.mark.lec9, pytest.mark.usefixtures("one_torch_thread")]


def test_grid_detector_shapes_and_count():
    m = GridDetector(num_classes=3, width=16)
    assert m(torch.zeros(2, 1, 32, 32)).shape == (2, 8, 8, 8)
    assert GridDetector(num_classes=5, in_channels=3, width=8)(torch.zeros(1, 3, 48, 64)).shape == (1, 10, 12, 16)
    convs = 16 * 9 + 32 * 16 * 9 + 64 * 32 * 9 + 64 * 64 * 9       # bias-free 3×3 convs
    bns = 2 * (16 + 32 + 64 + 64)
    assert count_params(m) == convs + bns + 64 * 8 + 8 == 60920
    assert receptive_field([3, (2, 2), 3, (2, 2), 3, 3]) == 26


@pytest.mark.parametrize("skip", [True, False])
def test_tiny_unet_shapes(skip):
    m = TinyUNet(1, 4, width=8, skip=skip)
    assert m(torch.zeros(2, 1, 32, 32)).shape == (2, 4, 32, 32)
    assert TinyUNet(3, 2, width=4, skip=skip)(torch.zeros(1, 3, 16, 24)).shape == (1, 2, 16, 24)
    with pytest.raises(ValueError, match="divisible by 4"):
        m(torch.zeros(1, 1, 30, 32))


def test_tiny_unet_skip_adds_decoder_weights_only():
    w = 8
    diff = count_params(TinyUNet(1, 4, w, skip=True)) - count_params(TinyUNet(1, 4, w, skip=False))
    assert diff == (4 * w - 2 * w) * 2 * w * 9 + (2 * w - w) * w * 9


def test_tiny_unet_skip_concatenates_encoder_features():
    seen = {}
    for skip in (True, False):
        m = TinyUNet(1, 1, width=4, skip=skip)
        m.dec1.register_forward_hook(lambda mod, inp, out, skip=skip: seen.update({skip: inp[0].shape}))
        m(torch.zeros(1, 1, 16, 16))
    # the U-Net's last decoder level reads upsampled features and the encoder's, side by side
    assert seen[True] == (1, 8, 16, 16) and seen[False] == (1, 4, 16, 16)


def test_denoiser_and_steering_shapes_and_counts():
    assert Denoiser(width=8)(torch.zeros(3, 1, 32, 32), torch.ones(3)).shape == (3, 1, 32, 32)
    assert count_params(Denoiser(width=8)) == count_params(TinyUNet(2, 1, 8)) == 29553
    m = SteeringNet()
    rows = output_shapes(m, (2, 1, 32, 32))
    assert rows[-1][2] == (2, 1) and [r[2] for r in rows if r[1] == "Flatten"] == [(2, 256)]
    assert count_params(m) == (8 * 9 + 8) + (16 * 8 * 9 + 16) + (16 * 16 * 9 + 16) + (256 * 32 + 32) + 33 == 11825
    with pytest.raises(ValueError, match="divisible by 8"):
        SteeringNet(size=30)


def test_training_smoke_detector_and_steering():
    s = make_scenes(64, seed=0)
    y = encode_grid(s.boxes, s.labels, 32, 8, 3)
    det = GridDetector(width=4)
    h = fit(det, make_loader(s.images, y, batch_size=16), epochs=3, lr=1e-2, optimizer="adam",
            loss_fn=GridLoss(), device="cpu", progress=False)
    assert h["train_loss"][-1] < h["train_loss"][0]
    x, a, _ = make_steering(64, seed=0)
    steer = SteeringNet()
    h = fit(steer, make_loader(x, a[:, None], batch_size=16), epochs=3, lr=3e-3, optimizer="adam",
            loss_fn=nn.MSELoss(), device="cpu", progress=False)
    assert np.isfinite(h["train_loss"]).all() and h["train_loss"][-1] < h["train_loss"][0]
