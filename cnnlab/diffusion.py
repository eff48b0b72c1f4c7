"""Denoising and a few-step diffusion-style sampler (a toy of seed 000's slides).

Training (seed 000): add noise of a random level σ to clean images and train
a network D(x, σ) to undo it with a per-pixel regression loss. Sampling:
start from pure noise of the largest level and apply D again and again while
the level goes down to 0 (the deterministic Euler sampler of Karras et al.,
2022). Real diffusion models are the same loop with a far bigger U-Net,
hundreds of millions of images and, for captions, text conditioning.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["add_noise", "sigma_schedule", "fit_denoiser", "sample"]


def add_noise(x0: torch.Tensor, sigma, generator: torch.Generator | None = None) -> torch.Tensor:
    """``x0 + σ·ε`` with ε ~ N(0, 1), one σ per image (N,) or one for all (scalar)."""
    sigma = torch.as_tensor(sigma, dtype=x0.dtype, device=x0.device).reshape(-1, *[1] * (x0.dim() - 1))  # (N|1, 1, ...)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
    return x0 + sigma * eps


def sigma_schedule(steps: int, sigma_min: float = 0.02, sigma_max: float = 3.0, rho: float = 7.0) -> torch.Tensor:
    """Noise levels σ_0 = σ_max > ... > σ_{steps-1} = σ_min, then a final 0.

    Karras et al.'s spacing (ρ = 7) takes small steps at low noise, where
    the fine detail is decided.

    Returns:
        (steps + 1,) float32 tensor ending in 0.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1; got {steps}")
    t = torch.linspace(0, 1, steps) if steps > 1 else torch.zeros(1)
    inv = sigma_max ** (1 / rho) + t * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))
    return torch.cat([inv ** rho, torch.zeros(1)]).float()


def fit_denoiser(model: nn.Module, images, *, epochs: int = 10, batch_size: int = 64, lr: float = 3e-3,
                 sigma_range=(0.02, 3.0), seed: int = 0, device=None, progress: bool = True) -> list[float]:
    """Train a denoiser ``model(x_noisy, σ) → x0`` on clean images.

    Every batch gets fresh noise: σ log-uniform in `sigma_range`, one per
    image. The loss is the mean squared error weighted by
    ``(σ² + σ_d²)/(σ·σ_d)²`` (Karras et al.), which gives every noise level a
    comparable share of the gradient; σ_d is ``model.sigma_data`` (0.5 if absent).

    Args:
        model: e.g. `cnnlab.models.Denoiser`.
        images: (N, C, H, W) clean images.
        epochs: passes over the images. Default: 10.
        batch_size: Default: 64.
        lr: Adam learning rate. Default: 3e-3.
        sigma_range: (σ_min, σ_max) of the training noise.
        seed: seeds initial shuffling and noise. Default: 0.
        device: default `cnnlab.device()`.
        progress: tqdm bar over epochs. Default: True.

    Returns:
        The mean training loss of every epoch.
    """
    from tqdm.auto import tqdm

    from cnnlab import device as default_device

    device = device or default_device()
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x_all = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sd = getattr(model, "sigma_data", 0.5)
    lo, hi = math.log(sigma_range[0]), math.log(sigma_range[1])
    history = []
    bar = tqdm(range(epochs), desc="denoiser epochs", disable=not progress)
    for _ in bar:
        total = 0.0
        for idx in torch.randperm(len(x_all), generator=g).split(batch_size):
            x0 = x_all[idx].to(device)
            sigma = torch.exp(lo + (hi - lo) * torch.rand(len(idx), generator=g)).to(device)  # (B,)
            x = add_noise(x0, sigma, g)
            weight = (sigma ** 2 + sd ** 2) / (sigma * sd) ** 2                             # (B,)
            loss = (weight.reshape(-1, 1, 1, 1) * (model(x, sigma) - x0) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        history.append(total / len(x_all))
        bar.set_postfix(loss=f"{history[-1]:.3f}")
    return history


@torch.no_grad()
def sample(model: nn.Module, n: int, shape, steps: int = 10, *, sigma_min: float = 0.02,
           sigma_max: float = 3.0, seed: int = 0, device=None, progress: bool = True):
    """Generate images from pure noise by repeated denoising (Euler steps, no extra noise).

    With x at level σ_i and the denoiser's guess x̂0 = D(x, σ_i), the step
    to the next level is ``x ← x̂0 + (σ_{i+1}/σ_i)·(x − x̂0)``: keep the
    guess, and shrink what remains of the noise. The last step (to σ = 0)
    returns the guess itself.

    Args:
        model: a denoiser ``model(x, σ) → x0``.
        n: number of images N.
        shape: (C, H, W) of one image.
        steps: denoiser calls. Default: 10.
        sigma_min, sigma_max: the schedule's range (see `sigma_schedule`).
        seed: seed of the starting noise. Default: 0.
        device: default: where the model's parameters are.
        progress: tqdm bar over the steps. Default: True.

    Returns:
        ``(images, trajectory)``: (N, C, H, W) float32 numpy, and the list of
        the ``steps + 1`` states x from the noise to the result (numpy).
    """
    from tqdm.auto import tqdm

    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    sigmas = sigma_schedule(steps, sigma_min, sigma_max)
    g = torch.Generator().manual_seed(seed)
    x = (sigmas[0] * torch.randn((n, *shape), generator=g)).to(device)  # (N, C, H, W) pure noise
    trajectory = [x.cpu().numpy()]
    for s, s_next in tqdm(list(zip(sigmas[:-1], sigmas[1:])), desc="sampling steps", disable=not progress):
        x0_hat = model(x, s.expand(n).to(device))
        x = x0_hat + (s_next / s) * (x - x0_hat)
        trajectory.append(x.cpu().numpy())
    model.train(was_training)
    return x.cpu().numpy(), trajectory
