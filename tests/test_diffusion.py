"""Denoising and the few-step sampler: noise, schedule, sampler algebra, a training smoke test."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.data import make_scenes
from cnnlab.diffusion import add_noise, fit_denoiser, sample, sigma_schedule
from cnnlab.models import Denoiser

pytestmark = [pytest.mark.lec9, pytest.mark.usefixtures("one_torch_thread")]


def test_add_noise_per_image_levels():
    x0 = torch.zeros(3, 1, 64, 64)
    x = add_noise(x0, torch.tensor([0.0, 1.0, 3.0]), torch.Generator().manual_seed(0))
    assert x.shape == x0.shape and x[0].abs().max() == 0
    assert abs(x[1].std().item() - 1) < 0.05 and abs(x[2].std().item() - 3) < 0.15
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    torch.testing.assert_close(add_noise(x0, 0.5, g1), add_noise(x0, 0.5, g2))


def test_sigma_schedule_endpoints_and_order():
    s = sigma_schedule(10, 0.02, 3.0)
    assert s.shape == (11,) and s[-1] == 0
    assert s[0].item() == pytest.approx(3.0) and s[-2].item() == pytest.approx(0.02)
    assert (s[1:] < s[:-1]).all()
    assert sigma_schedule(1).tolist() == pytest.approx([3.0, 0.0])
    with pytest.raises(ValueError, match="steps"):
        sigma_schedule(0)


class _Oracle(nn.Module):
    """A 'perfect' denoiser that always answers the same clean image."""

    def __init__(self, target):
        super().__init__()
        self.target = target
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x, sigma):
        return self.target.expand_as(x) + 0 * self.w


def test_sample_with_an_oracle_returns_its_image():
    target = torch.rand(1, 1, 8, 8)
    imgs, traj = sample(_Oracle(target), 3, (1, 8, 8), steps=5, seed=0, progress=False)
    assert imgs.shape == (3, 1, 8, 8) and len(traj) == 6
    np.testing.assert_allclose(imgs, target.expand(3, 1, 8, 8).numpy(), atol=1e-6)
    # after each step what is left of the noise shrinks by σ_{i+1}/σ_i
    s = sigma_schedule(5)
    for i in range(5):
        np.testing.assert_allclose(traj[i + 1] - target.numpy(), (s[i + 1] / s[i]).item() * (traj[i] - target.numpy()),
                                   atol=1e-5)
    np.testing.assert_allclose(traj[0], (3.0 * torch.randn((3, 1, 8, 8), generator=torch.Generator().manual_seed(0))).numpy())


def test_denoiser_shapes_and_skip_at_small_sigma():
    torch.manual_seed(0)
    d = Denoiser(width=4).eval()
    x = torch.rand(2, 1, 16, 16)
    assert d(x, torch.tensor([0.5, 1.0])).shape == (2, 1, 16, 16)
    assert d(x, 0.5).shape == (2, 1, 16, 16)              # one σ for the whole batch
    # at σ → 0, c_skip → 1 and c_out → 0: the input passes through unchanged
    torch.testing.assert_close(d(x, 1e-6), x, atol=1e-4, rtol=0)


def test_fit_denoiser_smoke_loss_decreases():
    imgs = make_scenes(64, size=16, radius=(2, 4), noise=0.0, seed=0).images
    d = Denoiser(width=4)
    hist = fit_denoiser(d, imgs, epochs=4, batch_size=16, lr=1e-2, seed=0, device="cpu", progress=False)
    assert len(hist) == 4 and hist[-1] < hist[0] and all(np.isfinite(hist))
    again = fit_denoiser(Denoiser(width=4), imgs, epochs=1, batch_size=16, seed=0, device="cpu", progress=False)
    torch.manual_seed(0)
    assert np.isfinite(again[0])
