"""cnnlab.train: seeding, loaders, fit and evaluate on a tiny separable problem."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.train import accuracy, evaluate, fit, make_loader, seed_everything

pytestmark = pytest.mark.lec3


def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.standard_normal((n, 2)) + 3.0 * y[:, None]
    return x, y


def test_seed_everything_repeats_torch_and_numpy():
    seed_everything(3)
    a = torch.rand(3), np.random.rand(3)
    seed_everything(3)
    b = torch.rand(3), np.random.rand(3)
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_make_loader_dtypes_and_order():
    x, y = _blobs(10)
    l1, l2 = make_loader(x, y, batch_size=4, seed=1), make_loader(x, y, batch_size=4, seed=1)
    xb, yb = next(iter(l1))
    assert xb.dtype == torch.float32 and yb.dtype == torch.int64 and xb.shape == (4, 2)
    assert torch.equal(next(iter(l2))[1], yb)
    with pytest.raises(ValueError, match="same length"):
        make_loader(x, y[:-1])


def test_accuracy():
    assert accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 0])) == 0.5


def test_fit_learns_and_is_deterministic():
    x, y = _blobs()
    hists = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        h = fit(model, make_loader(x, y, 32), epochs=5, lr=0.1, val_loader=make_loader(x, y, 64, shuffle=False),
                device="cpu", progress=False)
        hists.append(h)
    h = hists[0]
    assert len(h["train_loss"]) == len(h["val_accuracy"]) == 5
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert h["val_accuracy"][-1] > 0.9
    assert hists[0] == hists[1]
    res = evaluate(model, make_loader(x, y, 64, shuffle=False))
    assert res["accuracy"] == pytest.approx(h["val_accuracy"][-1])
    assert model.training  # evaluate restores the mode


def test_fit_rejects_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer"):
        fit(nn.Linear(2, 2), make_loader(*_blobs(8)), optimizer="lbfgs", progress=False, device="cpu")
