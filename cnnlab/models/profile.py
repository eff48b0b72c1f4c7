"""Parameters and multiply-accumulates of a model, counted on the meta device.

A meta tensor has a shape and a dtype but no storage, so a 138-million-
parameter VGG-16 is built and run through in milliseconds without allocating
its 553 MB of weights. Forward hooks read each layer's output shape and add
up its multiply-accumulates (MACs): the numbers papers and torchvision call
"FLOPs" (ResNet's "11.3 billion FLOPs", torchvision's "GFLOPS") are MACs.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from cnnlab.models.small import count_params

__all__ = ["on_meta", "count_macs", "profile"]


def on_meta(factory, *args, **kwargs) -> nn.Module:
    """Build ``factory(*args, **kwargs)`` with every parameter on the meta device (no memory)."""
    with torch.device("meta"):
        return factory(*args, **kwargs)


def _macs(module: nn.Module, out: torch.Tensor) -> int:
    """MACs of one layer call whose output is `out`; 0 for layers without weights."""
    if isinstance(module, nn.modules.conv._ConvNd):
        # each output value: C_in/groups · KH · KW multiply-accumulates
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        return out.numel() * per_output
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    return 0


def count_macs(model: nn.Module, input_shape, *, per_layer: bool = False):
    """Multiply-accumulates of conv and linear layers for one forward pass.

    Args:
        model: any module; it is moved to the meta device (a copy is not made,
            so pass a model built with `on_meta` or one you no longer need).
        input_shape: e.g. ``(1, 3, 224, 224)``; counts scale with N.
        per_layer: also return ``[(name, output shape, MACs), ...]``.

    Returns:
        Total MACs (int), or ``(total, rows)`` with `per_layer`. Normalization,
        pooling, activations and additions are not counted (a few percent at
        most), as in torchvision's and the papers' figures.
    """
    model = model.to("meta")
    rows, hooks = [], []
    for name, mod in model.named_modules():
        if isinstance(mod, (nn.modules.conv._ConvNd, nn.Linear)):
            def hook(m, inp, out, name=name):
                rows.append((name, tuple(out.shape), _macs(m, out)))
            hooks.append(mod.register_forward_hook(hook))
    was_training = model.training
    model.eval()  # note: dropout and BatchNorm in eval mode; shapes are the same either way
    try:
        with torch.no_grad():
            model(torch.empty(input_shape, device="meta"))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    total = sum(r[2] for r in rows)
    return (total, rows) if per_layer else total


def profile(factory, *args, input_shape=(1, 3, 224, 224), **kwargs) -> dict:
    """``{"params": int, "macs": int}`` of ``factory(*args, **kwargs)``, built on the meta device."""
    model = on_meta(factory, *args, **kwargs)
    return {"params": count_params(model), "macs": count_macs(model, input_shape)}
