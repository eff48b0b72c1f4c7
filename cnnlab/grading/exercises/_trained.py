"""ps4/ps5's checks of objects the notebook trained or fixed, decided on the grader's side.

- ``check("small_resnet", model)``: accuracy of ps4's trained ResNet on held-back noisy shapes,
  and at least two of the student's basic blocks, one strided;
- ``check("tiny_unet", unet)``: mean Dice of ps5's trained U-Net on held-back noisy shapes;
- ``check("predict", predict)``: ps4's fixed ``predict(model, x)`` (eval mode, state unchanged,
  mode restored).

The held-back data is made here (the grader, in grading mode, from the instructor's hidden
seed); the kernel only runs the student's model or function on it (`part_*` methods,
`cnnlab.grading.custom`) and the labels never leave this side.
`resnet.check_trained_resnet`, `resnet.check_predict` and `segment.check_trained_unet` call these.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading.custom import LocalSide, Raised, spend
from cnnlab.grading.limits import TimeLimit
from cnnlab.grading.result import CheckResult

__all__ = ["SMALL_RESNET", "TINY_UNET", "PREDICT", "CUSTOM", "RESNET_SEED", "UNET_SEED", "RESNET_ACCURACY",
           "UNET_DICE"]

RESNET_SEED = 40_417  # held-back data of check(seed=0); not shown to students
UNET_SEED = 20_507
RESNET_ACCURACY = 0.85
UNET_DICE = 0.85


def _is_block(m) -> bool:
    return all(hasattr(m, a) for a in ("conv1", "bn1", "conv2", "bn2"))


def _forward(model, x, budget):
    """Kernel side: `model` in eval mode on `x` (float32, on the model's device), its mode restored."""
    import torch

    was = model.training
    try:
        device = next(iter(model.parameters())).device
        model.eval()
        with torch.no_grad():
            return spend(budget, lambda: model(torch.as_tensor(x, dtype=torch.float32, device=device)))
    finally:
        model.train(was)


class _Trained:
    """A trained ``nn.Module`` scored on held-back data (`SMALL_RESNET`, `TINY_UNET`)."""

    custom = True
    takes_objects = True  # note: `check(name, model)`: the object is a model, not a builder
    hidden_seed = True

    def __init__(self, name, what, base_seed, n, required):
        self.name, self.what, self.base_seed, self.n, self.required = name, what, base_seed, n, required

    def cases(self, seed=0, trials=None):
        return []

    def part_structure(self, model, budget, state):
        import torch

        if not isinstance(model, torch.nn.Module):
            return {"not_module": type(model).__name__}
        blocks = [m for m in model.modules() if _is_block(m)]
        strided = [b for b in blocks if tuple(getattr(b.conv1, "stride", (1, 1)))[0] == 2]
        return {"blocks": len(blocks), "strided": len(strided)}

    def check(self, model, *, seed=0, trials=None, device=None, time_limit=30.0, side=None, n=None,
              required=None) -> CheckResult:
        """Score `model` on `n` held-back images made from ``base_seed + seed``."""
        side = side or LocalSide(self, model)
        n = self.n if n is None else n
        required = self.required if required is None else required
        budget = [None if time_limit is None else float(time_limit)]
        try:
            found = self._run(side, self.base_seed + int(seed), n, required, budget)
        except TimeLimit:
            found = (f"running `{self.what}` on {n} held-back images took more than {time_limit:g} s.", "time-limit")
        except Raised as exc:
            found = (f"running `{self.what}` on {n} held-back images of shape (N, 1, 16, 16) raised "
                     f"{exc.info[0]}: {exc.info[1]}", "forward-error")
        except (ValueError, TypeError, KeyError, IndexError) as exc:  # note: the kernel sent something malformed
            found = (f"the results of `{self.what}` did not come back ({type(exc).__name__}).", "forward-error")
        if isinstance(found, str):
            return CheckResult(self.name, True, found)
        return CheckResult(self.name, False, f"{self.name}: {found[0]}", mistake=found[1])


class _SmallResnet(_Trained):
    def part_predict(self, model, budget, state, x):
        return _forward(model, x, budget).argmax(dim=1).cpu().numpy().astype(np.int64)

    def _run(self, side, seed, n, required, budget):
        from cnnlab.data import make_shapes

        rec = side.run("structure", budget)
        if "not_module" in rec:
            return (f"`model` must be a trained torch.nn.Module; got an object of type {str(rec['not_module'])[:60]}.",
                    "not-a-module")
        if rec["blocks"] < 2 or rec["strided"] < 1:
            return (f"`model` must contain at least two blocks made by your basic_block (modules with conv1, bn1, "
                    f"conv2, bn2), one with a stride-2 conv1; found {int(rec['blocks'])} block(s), "
                    f"{int(rec['strided'])} strided.", "blocks-missing")
        x, y, _ = make_shapes(n, 16, noise=0.3, seed=seed)
        pred = side.run("predict", budget, x=x[:, None].astype(np.float32))
        if type(pred) is not np.ndarray or pred.shape != y.shape:
            size = pred.size if type(pred) is np.ndarray else 0
            return (f"`model` gave {size} predictions for {n} images; its output must be (N, {int(y.max()) + 1}) "
                    f"logits.", "output-shape")
        acc = float((pred == y).mean())
        if acc + 1e-12 < required:
            return (f"accuracy on {n} held-back images is {acc:.3f} (eval mode); it must reach {required:.2f}. Train "
                    f"longer (more epochs) or with Adam.", "accuracy-too-low")
        return f"{self.name}: accuracy {acc:.3f} on {n} held-back images (required {required:.2f})."


class _TinyUnet(_Trained):
    def part_predict(self, model, budget, state, x):
        out = _forward(model, x, budget)
        return {"shape": tuple(int(v) for v in out.shape), "mask": (out > 0).cpu().numpy()}

    def _run(self, side, seed, n, required, budget):
        from cnnlab.grading.exercises.segment import dice_score_reference, noisy_shapes

        rec = side.run("structure", budget)
        if "not_module" in rec:
            return (f"`unet` must be a trained torch.nn.Module; got an object of type {str(rec['not_module'])[:60]}.",
                    "not-a-module")
        x, masks = noisy_shapes(n, seed)
        out = side.run("predict", budget, x=x.astype(np.float32))
        shape, pred = tuple(out["shape"]), out["mask"]
        if shape != masks.shape or type(pred) is not np.ndarray or pred.shape != masks.shape:
            return (f"`unet` maps (N, 1, 16, 16) to shape {shape}; expected {masks.shape} (one logit per pixel).",
                    "output-shape")
        pred = pred.astype(bool)[:, 0]
        dice = float(dice_score_reference(pred, masks[:, 0] > 0.5).mean())
        if dice + 1e-12 < required:
            hint = (" Every pixel is predicted as foreground: the logits may be probabilities (> 0 always) or the "
                    "loss was not the binary cross-entropy with logits." if pred.all() else
                    " No pixel is predicted as foreground: train longer or with a larger learning rate."
                    if not pred.any() else "")
            return (f"mean Dice on {n} held-back images is {dice:.3f}; it must reach {required:.2f} (eval mode, "
                    f"mask = logits > 0).{hint}", "dice-too-low")
        return f"{self.name}: mean Dice {dice:.3f} on {n} held-back images (required {required:.2f})."


SMALL_RESNET = _SmallResnet("small_resnet", "model", RESNET_SEED, 500, RESNET_ACCURACY)
TINY_UNET = _TinyUnet("tiny_unet", "unet", UNET_SEED, 300, UNET_DICE)


# ------------------------------------------------------------- the eval fix
def _grader_model():
    import torch
    from torch import nn

    from cnnlab.models.blocks import basic_block

    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                          basic_block(4, 8, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    g = np.random.default_rng(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):  # statistics far from a batch's own, so modes disagree
                m.running_mean.copy_(torch.as_tensor(g.normal(0, 1.0, m.num_features)))
                m.running_var.copy_(torch.as_tensor(g.uniform(0.2, 3.0, m.num_features)))
    return model


class _Predict:
    """``check("predict", predict)``: eval-mode int64 predictions, state unchanged, mode restored."""

    name = "predict"
    custom = True

    def cases(self, seed=0, trials=None):
        return []

    def part_call(self, predict, budget, state, x, mode):
        """Kernel side: ``predict(model, x)`` on the grader's network (one for both calls) in `mode`."""
        import torch

        model = state.setdefault("model", _grader_model())
        model.train(bool(mode))
        before = {k: v.clone() for k, v in model.state_dict().items()}
        got = spend(budget, lambda: predict(model, np.array(x)))
        rec = {"tensor": isinstance(got, torch.Tensor), "type": type(got).__name__,
               "state_same": all(torch.equal(v, before[k]) for k, v in model.state_dict().items()),
               "training": bool(model.training)}
        if rec["tensor"]:
            rec.update(dtype=str(got.dtype), shape=tuple(int(v) for v in got.shape),
                       values=got.detach().cpu().numpy().copy())
        return rec

    def check(self, predict, *, seed=0, trials=None, device=None, time_limit=10.0, side=None) -> CheckResult:
        import torch

        name = self.name
        side = side or LocalSide(self, predict)
        model = _grader_model()
        x = np.random.default_rng(seed).normal(0.5, 1.0, (12, 1, 8, 8))
        model.eval()
        with torch.no_grad():
            want = model(torch.as_tensor(x, dtype=torch.float32)).argmax(dim=1).numpy()
            train_pred = model.train()(torch.as_tensor(x, dtype=torch.float32)).argmax(dim=1).numpy()
        for mode in (True, False):
            try:
                rec = side.run("call", [time_limit], x=x, mode=mode)
            except TimeLimit:
                return CheckResult(name, False, f"{name}: the time limit of {time_limit:g} s ran out.",
                                   mistake="time-limit")
            except Raised as exc:
                return CheckResult(name, False, f"{name}: predict(model, x) with x of shape {x.shape} raised "
                                                f"{exc.info[0]}: {exc.info[1]}", mistake="exception")
            label = "a model in training mode" if mode else "a model in eval mode"
            if not rec["tensor"] or rec["dtype"] != "torch.int64" or tuple(rec["shape"]) != (len(x),) \
                    or type(rec["values"]) is not np.ndarray or rec["values"].shape != (len(x),):
                what = (f"a {str(rec['dtype'])[:40]} tensor of shape {tuple(rec['shape'])}" if rec["tensor"] else
                        f"an object of type {str(rec['type'])[:60]}")
                return CheckResult(name, False, f"{name}: on {label} it returned {what}; it must return an int64 "
                                                f"tensor of shape ({len(x)},) (argmax over the classes).",
                                   mistake="wrong-type")
            if rec["state_same"] is not True:
                return CheckResult(name, False, f"{name}: calling predict on {label} changed the model's state_dict "
                                                f"(the BatchNorm running statistics): predict in eval mode.",
                                   mistake="state-changed")
            if rec["training"] is not mode:
                return CheckResult(name, False, f"{name}: predict left {label} in "
                                                f"{'training' if rec['training'] else 'eval'} mode; restore the mode "
                                                f"it was in (model.train(was_training)).", mistake="mode-not-restored")
            got = rec["values"]
            if not np.array_equal(got, want):
                same_as_train = np.array_equal(got, train_pred)
                return CheckResult(name, False, f"{name}: on {label} the predictions differ from eval-mode "
                                                f"predictions" + (" (they are the training-mode ones: call "
                                                                  "model.eval() first)." if same_as_train else "."),
                                   mistake="not-eval-mode" if same_as_train else "wrong-predictions")
        return CheckResult(name, True, f"{name}: eval-mode predictions, state unchanged and mode restored.")


PREDICT = _Predict()
CUSTOM = {e.name: e for e in (SMALL_RESNET, TINY_UNET, PREDICT)}
