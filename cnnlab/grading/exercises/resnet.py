"""ps4's PyTorch parts: the residual block, the trained small ResNet and the eval-mode fix.

- `check_basic_block(fn)`: the student's ``basic_block(c_in, c_out, stride)`` is
  graded by behaviour: its ``state_dict`` names and shapes must be torchvision's
  (`cnnlab.models.blocks.BasicBlock`); random weights and BatchNorm statistics
  are loaded into both blocks and the outputs compared in float64, in eval and
  in training mode. A wrong output is matched against known wrong blocks
  (ReLU before the addition, no final ReLU, ...) to name the mistake.
  note: not a "module" `Exercise`: that kind also compares the leaf layers'
  output shapes in forward order, which fails correct blocks that compute the
  shortcut first or call F.relu.
- `check_trained_resnet(model)`: accuracy on held-back synthetic shapes.
- `check_predict(predict)`: the fixed predict of the "forgot model.eval()" bug.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading import compare
from cnnlab.grading.limits import TimeLimit, call_with_limit
from cnnlab.grading.result import CheckResult

__all__ = ["check_basic_block", "check_trained_resnet", "check_predict", "block_cases", "EXERCISES"]

EXERCISES: list = []  # graded by the check_* functions below
_NAME = "basic_block"
_TIME = 20.0  # seconds for all of the student's calls of one check


def block_cases(seed: int = 0):
    """[(label, (c_in, c_out, stride), x)] that `check_basic_block(fn, seed=seed)` runs, in order."""
    rng = np.random.default_rng(seed)
    table = [("feature case 'identity shortcut'", (4, 4, 1), (2, 4, 5, 5)),
             ("feature case 'stride 2 and more channels: projection shortcut'", (8, 16, 2), (2, 8, 10, 7)),
             ("feature case 'more channels, stride 1'", (3, 6, 1), (2, 3, 6, 4)),
             ("feature case 'stride 2, same channels'", (5, 5, 2), (3, 5, 7, 8)),
             ("feature case 'batch of one'", (2, 3, 2), (1, 2, 6, 6))]
    out = [(lab, args, rng.standard_normal(shape)) for lab, args, shape in table]
    for i in range(4):
        c_in, c_out = (int(v) for v in rng.integers(1, 9, size=2))
        stride = int(rng.choice([1, 2]))
        shape = (int(rng.integers(2, 4)), c_in, int(rng.integers(3, 10)), int(rng.integers(3, 10)))
        out.append((f"random case {i + 1} of 4", (c_in, c_out, stride), rng.standard_normal(shape)))
    return out


def _keys(sd):
    return {k for k in sd if not k.endswith("num_batches_tracked")}


def _randomised(ref_sd, rng):
    """Random weights, BatchNorm affine parameters and running statistics (float64), shaped as the reference's."""
    import torch

    out = {}
    for k, v in ref_sd.items():
        if k.endswith("num_batches_tracked"):
            out[k] = v.clone()
        elif k.endswith("running_var"):
            out[k] = torch.as_tensor(rng.uniform(0.5, 2.0, tuple(v.shape)))
        elif k.split(".")[-2].startswith("bn") or (k.startswith("downsample.1") and not k.endswith("running_mean")):
            out[k] = torch.as_tensor(rng.uniform(0.5, 1.5, tuple(v.shape)) if k.endswith("weight")
                                     else rng.normal(0.0, 0.5, tuple(v.shape)))
        else:  # conv weights and running means
            out[k] = torch.as_tensor(rng.normal(0.0, 0.4, tuple(v.shape)))
    return out


def _variant(sd, x, stride, train, how):
    """A (wrong) basic block computed with the weights `sd`: how in relu-before-add, no-final-relu, ..."""
    import torch
    import torch.nn.functional as F

    def bn(prefix, z):
        return F.batch_norm(z, sd[f"{prefix}.running_mean"].clone(), sd[f"{prefix}.running_var"].clone(),
                            sd[f"{prefix}.weight"], sd[f"{prefix}.bias"], train, 0.1, 1e-5)

    s1, s2 = (1, stride) if how == "stride-on-conv2" else (stride, 1)
    out = bn("bn1", F.conv2d(x, sd["conv1.weight"], stride=s1, padding=1))
    out = out if how == "no-inner-relu" else torch.relu(out)
    out = bn("bn2", F.conv2d(out, sd["conv2.weight"], stride=s2, padding=1))
    if how == "no-shortcut":
        return torch.relu(out)
    identity = bn("downsample.1", F.conv2d(x, sd["downsample.0.weight"], stride=stride)) \
        if "downsample.0.weight" in sd else x
    if how == "relu-before-add":
        return torch.relu(out) + identity
    if how == "no-final-relu":
        return out + identity
    return torch.relu(out + identity)


_VARIANTS = {
    "relu-before-add": "the last ReLU comes before the addition; the block returns ReLU(F(x) + shortcut(x)): add "
                       "first, then apply the ReLU.",
    "no-final-relu": "the ReLU after the addition is missing: the block returns ReLU(F(x) + shortcut(x)).",
    "no-inner-relu": "the ReLU between bn1 and conv2 is missing: F = conv1 → bn1 → ReLU → conv2 → bn2.",
    "stride-on-conv2": "the stride is applied in conv2; in the basic block conv1 (and the shortcut) carry the stride.",
    "no-shortcut": "the shortcut is never added: the block computes ReLU(F(x) + x) (or + downsample(x)).",
}


def _diagnose_keys(got, want, sd, ref_sd):
    missing, extra = sorted(want - got), sorted(got - want)
    if any(k.startswith("downsample") for k in missing) and not any(k.startswith("downsample") for k in extra):
        return ("downsample-missing", "the shortcut has no projection although the shape changes (stride ≠ 1 or "
                "c_in ≠ c_out): x cannot be added to F(x). Add downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, "
                "stride=stride, bias=False), nn.BatchNorm2d(c_out)).")
    if any(k.startswith("downsample") for k in extra) and not missing:
        return ("downsample-always", "the block has a downsample projection although the shape does not change; "
                "then the shortcut must be the identity (torchvision's downsample is None).")
    if extra and all(k.endswith(".bias") and k.split(".")[0] in ("conv1", "conv2", "downsample") for k in extra):
        return ("conv-bias", "the convolutions have a bias; BatchNorm follows each of them, so they are built "
                "with bias=False (as torchvision): the state_dict has no conv1.bias/conv2.bias.")
    return ("state-dict-keys", f"the state_dict names differ from torchvision's BasicBlock: missing {missing[:6]}, "
            f"unexpected {extra[:6]}. Name the layers conv1, bn1, conv2, bn2 and downsample (a Sequential of "
            f"the 1×1 conv and its BatchNorm).")


def _run_case(fn, args, x, rng, budget):
    import torch

    from cnnlab.models.blocks import basic_block as reference

    start = _now()
    try:
        model = call_with_limit(lambda: fn(*args), budget[0])
    except TimeLimit:
        return "  Problem: the time limit ran out while building your block.", "time-limit"
    except (Exception, SystemExit) as exc:
        return f"  Problem: your function raised {type(exc).__name__}: {exc}", "exception"
    finally:
        budget[0] -= _now() - start
    if not isinstance(model, torch.nn.Module):
        return (f"  Problem: it must return a torch.nn.Module; it returned an object of type {type(model).__name__}.",
                "not-a-module")
    ref = reference(*args)
    sd, ref_sd = model.state_dict(), ref.state_dict()
    got, want = _keys(sd), _keys(ref_sd)
    if got != want:
        key, text = _diagnose_keys(got, want, sd, ref_sd)
        return f"  Problem: the state_dict keys differ from the reference's.\n  Likely cause: {text}", key
    for k in sorted(want):
        if tuple(sd[k].shape) != tuple(ref_sd[k].shape):
            key = "downsample-kernel" if k == "downsample.0.weight" else "state-dict-shapes"
            return (f"  Problem: {k} has shape {tuple(sd[k].shape)}; torchvision's has {tuple(ref_sd[k].shape)}"
                    + (" (the projection is a 1×1 convolution)." if key == "downsample-kernel" else "."), key)
    weights = _randomised(ref_sd, rng)
    xt = torch.as_tensor(x, dtype=torch.float64)
    for train in (False, True):
        mode = "training" if train else "eval"
        try:
            model = model.double().train(train)  # note: float64 before loading, so no float32 rounding
            model.load_state_dict(weights, strict=False)
            start = _now()
            try:
                with torch.no_grad():
                    out = call_with_limit(lambda: model(xt.clone()), budget[0])
            finally:
                budget[0] -= _now() - start
        except TimeLimit:
            return "  Problem: the time limit ran out while running your block.", "time-limit"
        except (Exception, SystemExit) as exc:
            return (f"  Problem: running your block in {mode} mode on an input of shape {x.shape} raised "
                    f"{type(exc).__name__}: {exc}", "forward-error")
        ref = ref.double().train(train)
        ref.load_state_dict(weights)
        with torch.no_grad():
            want_out = ref(xt.clone()).numpy()
        actual = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else out
        problem = compare.array_problem(actual, want_out)
        if problem is None:
            continue
        head = (f"  Problem: in {mode} mode, with the same random weights and BatchNorm statistics loaded into your "
                f"block and torchvision's, {problem}.")
        if isinstance(actual, np.ndarray) and actual.shape == want_out.shape:
            for how, text in _VARIANTS.items():
                try:
                    with torch.no_grad():
                        cand = _variant(weights, xt, args[2], train, how).numpy()
                except Exception:  # the variant does not apply (shapes)
                    continue
                if cand.shape == actual.shape and bool(compare.close(actual, cand, 1e-6, 1e-8).all()):
                    return head + f"\n  Likely cause: {text}", how
        return head, "forward-values"
    return None, None


def _now():
    import time

    return time.monotonic()


def check_basic_block(fn, *, seed: int = 0, time_limit: float = _TIME) -> CheckResult:
    """Grade the student's ``basic_block(c_in, c_out, stride)`` against torchvision's BasicBlock (see module doc)."""
    import warnings

    if not callable(fn):
        return CheckResult(_NAME, False, f"{_NAME}: expected a function, got an object of type {type(fn).__name__}.",
                           mistake="not-callable")
    cases = block_cases(seed)
    rng = np.random.default_rng(seed + 1)
    budget = [float(time_limit)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # note: nbgrader scores stderr output as an error
        for i, (label, args, x) in enumerate(cases, 1):
            problem, key = _run_case(fn, args, x, rng, budget)
            if problem is not None:
                return CheckResult(_NAME, False, f"{_NAME} failed on {label} (case {i} of {len(cases)}, seed {seed}).\n"
                                                 f"  Call: basic_block{args}, run on an input of shape {x.shape}\n"
                                                 f"{problem}", i, key)
    return CheckResult(_NAME, True, f"{_NAME}: passed all {len(cases)} cases (state_dict names and shapes, outputs "
                                    f"in eval and training mode; seed {seed}).", len(cases))


# ------------------------------------------------------------ the trained ResNet
HELD_BACK_SEED = 40_417  # not shown to students
RESNET_ACCURACY = 0.85


def _is_block(m) -> bool:
    return all(hasattr(m, a) for a in ("conv1", "bn1", "conv2", "bn2"))


def check_trained_resnet(model, *, n: int = 500, seed: int = HELD_BACK_SEED,
                         required: float = RESNET_ACCURACY) -> CheckResult:
    """Accuracy of the trained `model` (eval mode) on `n` unseen noisy shapes; and two basic blocks, one strided."""
    import torch

    from cnnlab.data import make_shapes

    name = "small_resnet"
    if not isinstance(model, torch.nn.Module):
        return CheckResult(name, False, f"{name}: `model` must be a trained torch.nn.Module; got an object of type "
                                        f"{type(model).__name__}.", mistake="not-a-module")
    blocks = [m for m in model.modules() if _is_block(m)]
    strided = [b for b in blocks if tuple(getattr(b.conv1, "stride", (1, 1)))[0] == 2]
    if len(blocks) < 2 or not strided:
        return CheckResult(name, False, f"{name}: `model` must contain at least two blocks made by your basic_block "
                                        f"(modules with conv1, bn1, conv2, bn2), one with a stride-2 conv1; found "
                                        f"{len(blocks)} block(s), {len(strided)} strided.", mistake="blocks-missing")
    x, y, _ = make_shapes(n, 16, noise=0.3, seed=seed)
    was = model.training
    try:
        device = next(iter(model.parameters())).device
        model.eval()
        with torch.no_grad():
            logits = model(torch.as_tensor(x[:, None], dtype=torch.float32, device=device))
        pred = logits.argmax(dim=1).cpu().numpy()
    except Exception as exc:  # a broken model fails; the grader never crashes
        return CheckResult(name, False, f"{name}: running `model` on {n} held-back images of shape (N, 1, 16, 16) "
                                        f"raised {type(exc).__name__}: {exc}", mistake="forward-error")
    finally:
        model.train(was)
    if pred.shape != y.shape:
        return CheckResult(name, False, f"{name}: `model` gave {pred.size} predictions for {n} images; its output "
                                        f"must be (N, {int(y.max()) + 1}) logits.", mistake="output-shape")
    acc = float((pred == y).mean())
    if acc + 1e-12 < required:
        return CheckResult(name, False, f"{name}: accuracy on {n} held-back images is {acc:.3f} (eval mode); it must "
                                        f"reach {required:.2f}. Train longer (more epochs) or with Adam.",
                           mistake="accuracy-too-low")
    return CheckResult(name, True, f"{name}: accuracy {acc:.3f} on {n} held-back images (required {required:.2f}).")


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


def check_predict(predict, *, seed: int = 0) -> CheckResult:
    """The fixed `predict(model, x)`: eval-mode int64 predictions, state unchanged, mode restored."""
    import torch

    name = "predict"
    model = _grader_model()
    x = np.random.default_rng(seed).normal(0.5, 1.0, (12, 1, 8, 8))
    model.eval()
    with torch.no_grad():
        want = model(torch.as_tensor(x, dtype=torch.float32)).argmax(dim=1)
    with torch.no_grad():
        train_pred = model.train()(torch.as_tensor(x, dtype=torch.float32)).argmax(dim=1)
    model = _grader_model()
    for mode in (True, False):
        model.train(mode)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        try:
            got = call_with_limit(lambda: predict(model, x.copy()), 10.0)
        except TimeLimit:
            return CheckResult(name, False, f"{name}: the time limit of 10 s ran out.", mistake="time-limit")
        except (Exception, SystemExit) as exc:
            return CheckResult(name, False, f"{name}: predict(model, x) with x of shape {x.shape} raised "
                                            f"{type(exc).__name__}: {exc}", mistake="exception")
        label = "a model in training mode" if mode else "a model in eval mode"
        if not isinstance(got, torch.Tensor) or got.dtype != torch.int64 or tuple(got.shape) != (len(x),):
            what = f"a {got.dtype} tensor of shape {tuple(got.shape)}" if isinstance(got, torch.Tensor) else \
                f"an object of type {type(got).__name__}"
            return CheckResult(name, False, f"{name}: on {label} it returned {what}; it must return an int64 tensor "
                                            f"of shape ({len(x)},) (argmax over the classes).", mistake="wrong-type")
        if not all(torch.equal(v, before[k]) for k, v in model.state_dict().items()):
            return CheckResult(name, False, f"{name}: calling predict on {label} changed the model's state_dict (the "
                                            f"BatchNorm running statistics): predict in eval mode.",
                               mistake="state-changed")
        if model.training != mode:
            return CheckResult(name, False, f"{name}: predict left {label} in "
                                            f"{'training' if model.training else 'eval'} mode; restore the mode it "
                                            f"was in (model.train(was_training)).", mistake="mode-not-restored")
        if not torch.equal(got.cpu(), want):
            same_as_train = torch.equal(got.cpu(), train_pred)
            return CheckResult(name, False, f"{name}: on {label} the predictions differ from eval-mode predictions"
                                            + (" (they are the training-mode ones: call model.eval() first)."
                                               if same_as_train else "."),
                               mistake="not-eval-mode" if same_as_train else "wrong-predictions")
    return CheckResult(name, True, f"{name}: eval-mode predictions, state unchanged and mode restored.")
