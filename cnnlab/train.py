"""Minimal, explicit training loops: seeding, data loaders, fit and evaluate.

Written to be read: one loop over epochs, one over mini-batches, no
callbacks. Progress bars come from tqdm and can be switched off.
"""
from __future__ import annotations

import random

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

__all__ = ["seed_everything", "make_loader", "fit", "evaluate", "accuracy"]


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, numpy's and torch's global generators.

    Returns:
        A `torch.Generator` seeded with `seed`, for loaders and initialisers
        that should not depend on global state.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA
    return torch.Generator().manual_seed(seed)


def make_loader(x, y, batch_size: int = 64, shuffle: bool = True, seed: int = 0) -> DataLoader:
    """A `DataLoader` over arrays or tensors ``x`` (N, ...) and ``y`` (N,).

    Inputs become float32, integer labels int64 (what `nn.CrossEntropyLoss`
    expects), float targets float32; the shuffle order depends only on `seed`.
    """
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length N; got {len(x)} and {len(y)}")
    x = x.float()  # models are float32
    y = y.long() if not y.is_floating_point() else y.float()
    g = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=g)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows of (N, K) `logits` whose arg-max equals the (N,) label."""
    return (logits.argmax(dim=1) == y).float().mean().item()


def _progress(iterable, enabled, **kw):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kw)


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, loss_fn=None, device=None) -> dict:
    """Mean loss and accuracy of `model` over `loader`, in eval mode.

    Args:
        model: maps an (N, ...) batch to (N, K) logits.
        loader: yields ``(x, y)`` batches.
        loss_fn: default `nn.CrossEntropyLoss()`.
        device: default: where the model's parameters are.

    Returns:
        ``{"loss": float, "accuracy": float}`` averaged over examples.
        note: accuracy is arg-max accuracy, computed for (N, K > 1) outputs
        only; it is 0 for a single-logit model.
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, loss_sum, correct = 0, 0.0, 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss_sum += loss_fn(out, y).item() * len(y)
        if out.dim() == 2 and out.shape[1] > 1:
            correct += (out.argmax(dim=1) == y).sum().item()
        total += len(y)
    model.train(was_training)
    return {"loss": loss_sum / total, "accuracy": correct / total}


def fit(model: nn.Module, train_loader: DataLoader, *, epochs: int = 10, lr: float = 0.01,
        optimizer: str | torch.optim.Optimizer = "sgd", momentum: float = 0.0, loss_fn=None,
        val_loader: DataLoader | None = None, device=None, seed: int | None = 0,
        progress: bool = True) -> dict:
    """Train `model` with mini-batch gradient descent; return the history.

    Args:
        model: maps an (N, ...) batch to outputs `loss_fn` accepts.
        train_loader: yields ``(x, y)`` batches (see `make_loader`).
        epochs: passes over the training set. Default: 10.
        lr: learning rate. Default: 0.01.
        optimizer: "sgd", "adam", or a ready `torch.optim.Optimizer`.
        momentum: for "sgd". Default: 0.
        loss_fn: default `nn.CrossEntropyLoss()`.
        val_loader: evaluated after every epoch when given.
        device: default `cnnlab.device()`; the model is moved there.
        seed: seeds the global generators first (dropout, shuffling);
            None leaves them alone. Default: 0.
        progress: show a tqdm bar over epochs. Default: True.

    Returns:
        ``{"train_loss": [...], "train_accuracy": [...], "val_loss": [...],
        "val_accuracy": [...]}``, one entry per epoch (val lists empty
        without `val_loader`).
    """
    if seed is not None:
        seed_everything(seed)
    if device is None:
        from cnnlab import device as _default_device

        device = _default_device()
    model.to(device)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    if isinstance(optimizer, str):
        if optimizer == "sgd":
            optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        elif optimizer == "adam":
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        else:
            raise ValueError(f"optimizer must be 'sgd', 'adam' or a torch optimizer; got {optimizer!r}")
    history = {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": []}
    bar = _progress(range(epochs), progress, desc="epochs")
    for _ in bar:
        model.train()
        total, loss_sum, correct = 0, 0.0, 0.0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)
            if out.dim() == 2 and out.shape[1] > 1:
                correct += (out.argmax(dim=1) == y).sum().item()
            total += len(y)
        history["train_loss"].append(loss_sum / total)
        history["train_accuracy"].append(correct / total)
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn, device)
            history["val_loss"].append(val["loss"])
            history["val_accuracy"].append(val["accuracy"])
        if progress and hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{history['train_loss'][-1]:.3f}")
    return history
