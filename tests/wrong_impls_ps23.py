"""Wrong student implementations for ps2/ps3's exercises, one per keyed mistake.

`ARRAY` lists (exercise, mistake key, function) for the numpy exercises;
`MODULES` and `STEPS` the torch ones. Each is written the way a student
would, with the bug marked `# BUG`; `CORRECT` holds student-style right answers.
"""
from __future__ import annotations

import numpy as np


def _sce(z, y, *, shift=True, mean=True, divide=True, onehot=True, axis=1, sign=1.0):
    n = len(y)
    z = z - z.max(axis=axis, keepdims=True) if shift else z
    e = np.exp(z)
    p = e / e.sum(axis=axis, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).sum() * sign
    d = p.copy()
    if onehot:
        d[np.arange(n), y] -= 1
    d = d * sign
    return (loss / n if mean else loss), (d / n if divide and mean else d)


def _ng(f, x, dout=None, h=1e-6, *, kind="central", use_dout=True, step=None):
    step = h if step is None else step
    fx = np.asarray(f(x))
    dout = np.ones_like(fx) if dout is None or not use_dout else dout
    base = np.sum(fx * dout)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + step
        plus = np.sum(f(x) * dout)
        x[i] = old - step
        minus = np.sum(f(x) * dout)
        x[i] = old
        if kind == "central":
            grad[i] = (plus - minus) / (2 * step)
        elif kind == "forward":
            grad[i] = (plus - base) / step  # BUG
        elif kind == "backward":
            grad[i] = (base - minus) / step  # BUG
        else:
            grad[i] = (plus - minus) / step  # BUG: over h
    return grad


def _ng_in_place(f, x, dout=None, h=1e-6):
    fx = np.asarray(f(x))
    dout = np.ones_like(fx) if dout is None else dout
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = np.sum(f(x) * dout)
        x[i] -= 2 * h
        minus = np.sum(f(x) * dout)
        x[i] += h  # BUG: rounding leaves x changed
        grad[i] = (plus - minus) / (2 * h)
    return grad


def _relu_in_place(x):
    x[x < 0] = 0  # BUG: modifies the caller's array
    return x


CORRECT = {
    "relu": lambda x: np.maximum(x, 0.0),
    "relu_backward": lambda dout, x: dout * (x > 0),
    "softmax_cross_entropy": _sce,
    "numerical_gradient": _ng,
}

ARRAY = [
    ("relu", "leaky", lambda x: np.where(x > 0, x, 0.01 * x)),
    ("relu", "abs", lambda x: np.abs(x)),
    ("relu", "mask-returned", lambda x: (x > 0).astype(float)),
    ("relu", "negative-part", lambda x: np.minimum(x, 0.0)),
    ("relu", "clipped-at-6", lambda x: np.clip(x, 0.0, 6.0)),
    ("relu", "mutates-input", _relu_in_place),
    ("relu_backward", "grad-at-zero-one", lambda dout, x: dout * (x >= 0)),
    ("relu_backward", "mask-from-dout", lambda dout, x: dout * (dout > 0)),
    ("relu_backward", "dout-not-multiplied", lambda dout, x: (x > 0) * 1.0),
    ("relu_backward", "dout-unmasked", lambda dout, x: dout.copy()),
    ("relu_backward", "arguments-swapped", lambda dout, x: x * (dout > 0)),
    ("relu_backward", "times-relu", lambda dout, x: dout * np.maximum(x, 0)),
    ("softmax_cross_entropy", "no-max-shift", lambda z, y: _sce(z, y, shift=False)),
    ("softmax_cross_entropy", "sum-not-mean", lambda z, y: _sce(z, y, mean=False)),
    ("softmax_cross_entropy", "grad-not-divided", lambda z, y: _sce(z, y, divide=False)),
    ("softmax_cross_entropy", "no-one-hot", lambda z, y: _sce(z, y, onehot=False)),
    ("softmax_cross_entropy", "softmax-wrong-axis", lambda z, y: _sce(z, y, axis=0)),
    ("softmax_cross_entropy", "sign-flipped", lambda z, y: _sce(z, y, sign=-1.0)),
    ("numerical_gradient", "one-sided-forward", lambda f, x, dout=None, h=1e-6: _ng(f, x, dout, h, kind="forward")),
    ("numerical_gradient", "one-sided-backward", lambda f, x, dout=None, h=1e-6: _ng(f, x, dout, h, kind="backward")),
    ("numerical_gradient", "divided-by-h", lambda f, x, dout=None, h=1e-6: _ng(f, x, dout, h, kind="over_h")),
    ("numerical_gradient", "dout-ignored", lambda f, x, dout=None, h=1e-6: _ng(f, x, dout, h, use_dout=False)),
    ("numerical_gradient", "h-ignored", lambda f, x, dout=None, h=1e-6: _ng(f, x, dout, h, step=1e-6)),
    ("numerical_gradient", "x-not-restored", _ng_in_place),
    ("numerical_gradient", "flattened", lambda f, x, dout=None, h=1e-6: _ng(f, x, dout, h).ravel()),
]


# ------------------------------------------------------------------ torch models
def _models():
    import torch
    from torch import nn

    def cnn(padding=0, stride=2, bias=True, relu=True, softmax=False, k=3):
        n = 40
        layers = []
        c_in = 1
        for _ in range(3):
            layers += [nn.Conv1d(c_in, 15, k, stride=stride, padding=padding, bias=bias)]
            layers += [nn.ReLU()] if relu else []
            c_in = 15
            n = (n + 2 * padding - k) // stride + 1
        layers += [nn.Flatten(), nn.Linear(15 * n, 10, bias=bias)]
        layers += [nn.Softmax(dim=1)] if softmax else []
        return nn.Sequential(*layers)

    def mlp(bias=True, relus=3, last_relu=False, softmax=False):
        layers, n = [nn.Flatten()], 40
        for i, h in enumerate((350, 175, 400)):
            layers += [nn.Linear(n, h, bias=bias)] + ([nn.ReLU()] if i < relus else [])
            n = h
        layers += [nn.Linear(n, 10, bias=bias)] + ([nn.ReLU()] if last_relu else [])
        layers += [nn.Softmax(dim=1)] if softmax else []
        return nn.Sequential(*layers)

    def seed003(pools=2, flat=6, relu=True, softmax=False):
        layers = [nn.Conv2d(3, 32, kernel_size=3), nn.ReLU(), nn.MaxPool2d(2, 2),
                  nn.Conv2d(32, 64, kernel_size=3), nn.ReLU()] + ([nn.MaxPool2d(2, 2)] if pools == 2 else [])
        layers += [nn.Flatten(), nn.Linear(64 * flat * flat, 1024)] + ([nn.ReLU()] if relu else [])
        layers += [nn.Linear(1024, 10)] + ([nn.Softmax(dim=1)] if softmax else [])
        return nn.Sequential(*layers)

    shared = cnn()
    return {
        "correct": {"mnist1d_cnn": cnn, "mnist1d_mlp": mlp, "generate_model": seed003},
        "wrong": [
            ("mnist1d_cnn", "padding-added", lambda: cnn(padding=1)),
            ("mnist1d_cnn", "stride-missing", lambda: cnn(stride=1)),
            ("mnist1d_cnn", "bias-missing", lambda: cnn(bias=False)),
            ("mnist1d_cnn", "kernel-size-wrong", lambda: cnn(k=5)),
            ("mnist1d_cnn", "relu-missing", lambda: cnn(relu=False)),
            ("mnist1d_cnn", "softmax-at-end", lambda: cnn(softmax=True)),
            ("mnist1d_cnn", "not-fresh", lambda: shared),
            ("mnist1d_cnn", "not-a-module", lambda: [cnn()]),
            ("mnist1d_cnn", "sequential-list", lambda: nn.Sequential([nn.Conv1d(1, 15, 3, 2)])),
            ("mnist1d_mlp", "bias-missing", lambda: mlp(bias=False)),
            ("mnist1d_mlp", "relu-missing", lambda: mlp(relus=2)),
            ("mnist1d_mlp", "relu-after-output", lambda: mlp(last_relu=True)),
            ("mnist1d_mlp", "softmax-at-end", lambda: mlp(softmax=True)),
            ("generate_model", "filter-size-keyword", lambda: nn.Conv2d(in_channels=3, out_channels=32, filter_size=3)),
            ("generate_model", "flatten-size", lambda: seed003(flat=5)),
            ("generate_model", "pool-missing", lambda: seed003(pools=1, flat=13)),
            ("generate_model", "relu-missing", lambda: seed003(relu=False)),
            ("generate_model", "softmax-at-end", lambda: seed003(softmax=True)),
            ("generate_model", "nn-undefined", lambda: eval("nn.Sequential()", {})),
        ],
        "torch": torch,
    }


def _steps():
    import torch
    import torch.nn.functional as F

    def step(model, opt, x, y, *, zero="before", backward=True, do_step=True, loss_fn=None, ret="item"):
        if zero == "before":
            opt.zero_grad()
        logits = model(x)
        loss = (loss_fn or F.cross_entropy)(logits, y)
        if backward:
            loss.backward()
        if zero == "after":
            opt.zero_grad()  # BUG when zero="after"
        if do_step:
            opt.step()
        if ret == "after":
            with torch.no_grad():
                return F.cross_entropy(model(x), y).item()  # BUG: loss after the step
        return loss if ret == "tensor" else loss.item()

    def evaluate(model, x, y, *, eval_mode=True, no_grad=True, how="fraction"):
        if eval_mode:
            model.eval()
        with torch.set_grad_enabled(not no_grad):
            right = (model(x).argmax(1) == y).float()
        if how == "count":
            return right.sum().item()  # BUG
        if how == "percent":
            return 100 * right.mean().item()  # BUG
        if how == "tensor":
            return right.mean()  # BUG
        return right.mean().item()

    return {
        "correct": {"train_step": step, "evaluate": evaluate},
        "wrong": [
            ("train_step", "zero-grad-missing", lambda m, o, x, y: step(m, o, x, y, zero=None)),
            ("train_step", "zero-grad-after-backward", lambda m, o, x, y: step(m, o, x, y, zero="after")),
            ("train_step", "backward-missing", lambda m, o, x, y: step(m, o, x, y, zero=None, backward=False)),
            ("train_step", "step-missing", lambda m, o, x, y: step(m, o, x, y, do_step=False)),
            ("train_step", "loss-tensor", lambda m, o, x, y: step(m, o, x, y, ret="tensor")),
            ("train_step", "loss-after-step", lambda m, o, x, y: step(m, o, x, y, ret="after")),
            ("train_step", "nll-on-logits", lambda m, o, x, y: step(m, o, x, y, loss_fn=F.nll_loss)),
            ("train_step", "softmax-twice",
             lambda m, o, x, y: step(m, o, x, y, loss_fn=lambda z, t: F.cross_entropy(F.softmax(z, 1), t))),
            ("evaluate", "eval-missing", lambda m, x, y: evaluate(m, x, y, eval_mode=False)),
            ("evaluate", "no-grad-missing", lambda m, x, y: evaluate(m, x, y, no_grad=False)),
            ("evaluate", "count-not-fraction", lambda m, x, y: evaluate(m, x, y, how="count")),
            ("evaluate", "percent", lambda m, x, y: evaluate(m, x, y, how="percent")),
            ("evaluate", "accuracy-tensor", lambda m, x, y: evaluate(m, x, y, how="tensor")),
        ],
    }
