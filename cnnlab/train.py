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

__all__ = ["seed_everything", "make_loader", "fit", "evaluate", "accuracy", "evaluate_arrays", "train_steps"]


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


# --- step-based training on in-memory arrays (lectures 5-6) ----------------------------------------

def _as_tensors(x, y, device):
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).float().to(device)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y).long().to(device)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length N; got {len(x)} and {len(y)}")
    return x, y


@torch.no_grad()
def evaluate_arrays(model: nn.Module, x, y, batch_size: int = 1000, device=None) -> dict:
    """Mean cross-entropy and accuracy of `model` on in-memory arrays, in eval mode.

    Args:
        model: maps (N, ...) inputs to (N, K) logits.
        x: (N, ...) inputs (array or tensor); y: (N,) integer labels.
        batch_size: examples per forward pass. Default: 1000.
        device: default: where the model's parameters are.

    Returns:
        ``{"loss": float, "accuracy": float}``.
    """
    device = device or next(model.parameters()).device
    x, y = _as_tensors(x, y, device)
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, len(y), batch_size):
        out = model(x[i:i + batch_size])
        loss_sum += nn.functional.cross_entropy(out, y[i:i + batch_size], reduction="sum").item()
        correct += (out.argmax(dim=1) == y[i:i + batch_size]).sum().item()
    model.train(was_training)
    return {"loss": loss_sum / len(y), "accuracy": correct / len(y)}


def train_steps(model: nn.Module, x, y, *, steps: int = 2000, batch_size: int = 100, lr: float = 1e-2,
                optimizer: str = "adam", momentum: float = 0.9, weight_decay: float = 0.0,
                schedule: str | None = None, x_test=None, y_test=None, eval_every: int = 250,
                seed: int = 0, device=None, progress: bool = True, desc: str = "train") -> dict:
    """Train a classifier for a fixed number of mini-batch steps on in-memory arrays.

    As the seed decks count training ("100,000 steps with SGD, LR = 0.01,
    batch size 100"): each step draws the next `batch_size` examples of a
    seeded random order (a new order every epoch), one cross-entropy
    gradient step. Faster than a `DataLoader` for data that fits in memory.

    Args:
        model: maps (N, ...) batches of `x` to (N, K) logits.
        x: (N, ...) training inputs; y: (N,) integer labels.
        steps: optimizer steps. Default: 2000.
        batch_size: examples per step. Default: 100.
        lr: (initial) learning rate. Default: 1e-2.
        optimizer: "adam", "adamw" or "sgd" (with `momentum`). Default: "adam".
        momentum: for "sgd". Default: 0.9.
        weight_decay: L2 penalty (decoupled for "adamw"). Default: 0.
        schedule: None (constant lr) or "cosine" (lr decays to 0 over `steps`).
        x_test, y_test: evaluated every `eval_every` steps and at the end when given.
        eval_every: steps between evaluations. Default: 250.
        seed: seeds the global generators (initialisation is the caller's)
            and the batch order. Default: 0.
        device: default `cnnlab.device()`; model and data are moved there.
        progress: show a tqdm bar over steps. Default: True.
        desc: label of the bar. Default: "train".

    Returns:
        ``{"step": [...], "train_loss": [...], "train_accuracy": [...],
        "test_loss": [...], "test_accuracy": [...]}``: one entry per
        evaluation; train values are running means over the steps since the
        previous one, test lists are empty without test data.
    """
    if steps < 1 or batch_size < 1 or eval_every < 1:
        raise ValueError(f"steps, batch_size and eval_every must be >= 1; got {steps}, {batch_size}, {eval_every}")
    if device is None:
        from cnnlab import device as _default_device

        device = _default_device()
    seed_everything(seed)
    model.to(device)
    x, y = _as_tensors(x, y, device)
    has_test = x_test is not None and y_test is not None
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd'; got {optimizer!r}")
    if schedule not in (None, "cosine"):
        raise ValueError(f"schedule must be None or 'cosine'; got {schedule!r}")
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps) if schedule == "cosine" else None
    g = torch.Generator().manual_seed(seed)
    order, pos = torch.randperm(len(y), generator=g), 0
    hist = {"step": [], "train_loss": [], "train_accuracy": [], "test_loss": [], "test_accuracy": []}
    loss_sum, correct, seen = 0.0, 0, 0
    bar = _progress(range(1, steps + 1), progress, desc=desc, mininterval=0.5)
    model.train()
    for step in bar:
        if pos + batch_size > len(y):  # new epoch: a new order, no partial batch
            order, pos = torch.randperm(len(y), generator=g), 0
        idx = order[pos:pos + batch_size].to(device)
        pos += batch_size
        out = model(x[idx])
        loss = nn.functional.cross_entropy(out, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        # note: .item() syncs with the GPU; detach-and-accumulate keeps the loop asynchronous
        loss_sum += loss.detach() * len(idx)
        correct += (out.argmax(dim=1) == y[idx]).sum()
        seen += len(idx)
        if step % eval_every == 0 or step == steps:
            hist["step"].append(step)
            hist["train_loss"].append(float(loss_sum) / seen)
            hist["train_accuracy"].append(float(correct) / seen)
            loss_sum, correct, seen = 0.0, 0, 0
            if has_test:
                res = evaluate_arrays(model, x_test, y_test, device=device)
                hist["test_loss"].append(res["loss"])
                hist["test_accuracy"].append(res["accuracy"])
                if progress and hasattr(bar, "set_postfix"):
                    bar.set_postfix(test_acc=f"{res['accuracy']:.3f}")
    return hist
