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


# --- step-based training (lectures 5-6) ---


@pytest.mark.lec5
def test_train_steps_learns_and_is_deterministic():
    from cnnlab.train import evaluate_arrays, train_steps

    x, y = _blobs(300)
    hists, models = [], []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        hists.append(train_steps(model, x, y, steps=60, batch_size=32, lr=0.05, x_test=x, y_test=y,
                                 eval_every=20, device="cpu", progress=False))
        models.append(model)
    h = hists[0]
    assert h["step"] == [20, 40, 60] and len(h["test_accuracy"]) == len(h["train_loss"]) == 3
    assert h["test_accuracy"][-1] > 0.9 and h["train_loss"][-1] < h["train_loss"][0]
    assert hists[0] == hists[1]
    assert evaluate_arrays(models[0], x, y)["accuracy"] == pytest.approx(h["test_accuracy"][-1])


@pytest.mark.lec5
def test_train_steps_sgd_cosine_and_no_test():
    from cnnlab.train import train_steps

    x, y = _blobs(50)
    model = nn.Linear(2, 2)
    h = train_steps(model, x, y, steps=7, batch_size=20, optimizer="sgd", schedule="cosine", eval_every=5,
                    device="cpu", progress=False)
    assert h["step"] == [5, 7] and h["test_accuracy"] == []  # 50 // 20 = 2 batches per epoch, reshuffled


@pytest.mark.lec5
@pytest.mark.parametrize("kw", [{"optimizer": "lbfgs"}, {"schedule": "step"}, {"steps": 0}])
def test_train_steps_rejects_bad_arguments(kw):
    from cnnlab.train import train_steps

    with pytest.raises(ValueError):
        train_steps(nn.Linear(2, 2), *_blobs(8), device="cpu", progress=False, **kw)


@pytest.mark.lec5
def test_evaluate_arrays_rejects_length_mismatch():
    from cnnlab.train import evaluate_arrays

    x, y = _blobs(8)
    with pytest.raises(ValueError, match="same length"):
        evaluate_arrays(nn.Linear(2, 2), x, y[:-1])
