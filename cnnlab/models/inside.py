"""Looking inside a trained network (lecture 6): activations, saliency, occlusion, activation maximisation.

Every function works for 1-D signals (C, L) and 2-D images (C, H, W) alike,
takes one model in eval mode semantics (no parameter is changed) and
returns detached tensors on the CPU.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["record_activations", "top_activating", "saliency", "occlusion", "activation_maximization"]


def _device(model):
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _check_example(x, name="x"):
    x = torch.as_tensor(x)
    if x.dim() not in (2, 3):
        raise ValueError(f"{name} must be one example of shape (C, L) or (C, H, W); got shape {tuple(x.shape)}")
    return x.float()


def _named(model, layers):
    named = dict(model.named_modules())
    missing = [n for n in layers if n not in named]
    if missing:
        raise ValueError(f"layers {missing} are not modules of the model; choose from {list(named)[1:]}")
    return named


@torch.no_grad()
def record_activations(model: nn.Module, x, layers) -> dict[str, torch.Tensor]:
    """Outputs of the named layers for a batch `x` (forward hooks; eval mode).

    Args:
        model: any module.
        x: (N, ...) batch the model accepts.
        layers: names as in ``model.named_modules()`` (e.g. ``["1", "3"]`` for
            the ReLUs of an `nn.Sequential`).

    Returns:
        ``{name: output}`` with each output on the CPU, e.g. (N, C, L_out).
    """
    named = _named(model, layers)
    acts, hooks = {}, []
    for name in layers:
        hooks.append(named[name].register_forward_hook(
            lambda m, inp, out, name=name: acts.__setitem__(name, out.detach().cpu())))
    was_training = model.training
    model.eval()
    try:
        model(torch.as_tensor(x).float().to(_device(model)))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return acts


def top_activating(acts: torch.Tensor, channel: int, k: int = 5):
    """The k largest values of one channel over a batch and all positions.

    Args:
        acts: (N, C, L) or (N, C, H, W) activations of one layer.
        channel: which channel c.
        k: how many. Default: 5.

    Returns:
        ``(values, examples, positions)``: (k,) values in decreasing order,
        (k,) example indices n, and (k,) flat positions inside the map
        (for 2-D maps use ``divmod(position, W_out)`` for the row and column).
    """
    if acts.dim() < 3 or not 0 <= channel < acts.shape[1]:
        raise ValueError(f"acts must be (N, C, ...) with 0 <= channel < C; got shape {tuple(acts.shape)}, "
                         f"channel {channel}")
    a = acts[:, channel].reshape(acts.shape[0], -1)  # (N, L_out) or (N, H_out*W_out)
    values, flat = a.reshape(-1).topk(k)
    return values, flat // a.shape[1], flat % a.shape[1]


def saliency(model: nn.Module, x, target: int | None = None):
    """Vanilla-gradient saliency: |∂ logit_target / ∂x| for one example.

    Args:
        model: maps (1, C, ...) to (1, K) logits.
        x: (C, L) or (C, H, W) one example.
        target: class whose logit is differentiated; default the predicted one.

    Returns:
        ``(sal, target)``: sal of the shape of x (absolute gradient), target int.
    """
    x = _check_example(x).to(_device(model)).requires_grad_(True)
    was_training = model.training
    model.eval()
    try:
        logits = model(x[None])  # (1, K)
        target = int(logits.argmax()) if target is None else int(target)
        (grad,) = torch.autograd.grad(logits[0, target], x)
    finally:
        model.train(was_training)
    return grad.abs().cpu(), target


@torch.no_grad()
def occlusion(model: nn.Module, x, target: int, window, stride=1, fill: float = 0.0) -> torch.Tensor:
    """Occlusion sensitivity (Zeiler & Fergus): how much the target probability drops
    when a window of the input is replaced by `fill`.

    Args:
        model: maps (B, C, ...) to (B, K) logits.
        x: (C, L) or (C, H, W) one example.
        target: class whose softmax probability is watched.
        window: int, or (WH, WW) for images: the occluded patch.
        stride: int or (sH, sW): step between patches. Default: 1.
        fill: value written into the patch. Default: 0 (the data mean after
            standardisation).

    Returns:
        (L_out,) or (H_out, W_out) drops p(target | x) − p(target | occluded x),
        one per window position, L_out = ⌊(L − window)/stride⌋ + 1.
    """
    x = _check_example(x)
    spatial = tuple(x.shape[1:])
    win = (window,) * len(spatial) if isinstance(window, int) else tuple(window)
    st = (stride,) * len(spatial) if isinstance(stride, int) else tuple(stride)
    if len(win) != len(spatial) or len(st) != len(spatial) or any(w > n for w, n in zip(win, spatial)):
        raise ValueError(f"window {window} and stride {stride} must have one entry per spatial axis "
                         f"of x {tuple(x.shape)} and fit inside it")
    starts = [range(0, n - w + 1, s) for n, w, s in zip(spatial, win, st)]
    grid = torch.cartesian_prod(*[torch.tensor(list(r)) for r in starts]).reshape(-1, len(spatial))
    batch = x.repeat(len(grid), *([1] * x.dim()))  # (P, C, ...) one copy per patch position
    for i, corner in enumerate(grid.tolist()):
        idx = (i, slice(None)) + tuple(slice(c, c + w) for c, w in zip(corner, win))
        batch[idx] = fill
    was_training = model.training
    model.eval()
    try:
        dev = _device(model)
        p0 = model(x[None].to(dev)).softmax(dim=1)[0, target]
        p = model(batch.to(dev)).softmax(dim=1)[:, target]  # (P,)
    finally:
        model.train(was_training)
    return (p0 - p).cpu().reshape([len(r) for r in starts])  # (P,) → (L_out,) or (H_out, W_out)


def activation_maximization(model: nn.Module, shape, unit: int, layer: str | None = None, *, steps: int = 200,
                            lr: float = 0.05, l2: float = 1e-2, log_softmax: bool = False,
                            seed: int = 0) -> torch.Tensor:
    """An input that maximises one unit, found by gradient ascent on the input.

    Maximises ``mean(activation of channel `unit`) − l2 · ‖x‖²`` (the L2 term
    keeps the input in a plausible range), starting from small noise. For
    class scores, ``log_softmax=True`` maximises log p(unit) instead of the
    logit: the logit of a ReLU network grows without bound along many
    directions, often raising other classes' logits more.

    Args:
        model: the network; its parameters are not changed.
        shape: (C, L) or (C, H, W) of one input.
        unit: class index (layer None) or channel of `layer`.
        layer: name of a module in ``model.named_modules()``; None means the
            output logits.
        log_softmax: with ``layer=None``, maximise the log-probability of
            class `unit` rather than its logit. Default: False.
        steps: Adam steps. Default: 200.
        lr: step size. Default: 0.05.
        l2: weight of the L2 penalty. Default: 1e-2.
        seed: seed of the starting noise. Default: 0.

    Returns:
        The optimised input, of shape `shape`.
    """
    dev = _device(model)
    g = torch.Generator().manual_seed(seed)
    x = (0.01 * torch.randn(tuple(shape), generator=g)).to(dev).requires_grad_(True)
    store, hook = {}, None
    if layer is not None:
        module = _named(model, [layer])[layer]
        hook = module.register_forward_hook(lambda m, inp, out: store.__setitem__("out", out))
    was_training, grads = model.training, [p.requires_grad for p in model.parameters()]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)  # only the input moves
    opt = torch.optim.Adam([x], lr=lr)
    try:
        for _ in range(steps):
            out = model(x[None])
            if layer is not None:
                act = store["out"][0, unit].mean()
            else:
                act = out.log_softmax(dim=1)[0, unit] if log_softmax else out[0, unit]
            loss = -act + l2 * (x ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        if hook is not None:
            hook.remove()
        for p, r in zip(model.parameters(), grads):
            p.requires_grad_(r)
        model.train(was_training)
    return x.detach().cpu()
