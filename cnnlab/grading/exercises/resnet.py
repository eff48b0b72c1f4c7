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

All three are custom exercises (`cnnlab.grading.custom`): ``check("basic_block", fn)``,
``check("small_resnet", model)`` and ``check("predict", predict)`` run them, decided by the
grader in grading mode; the last two live in `_trained`.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading import compare
from cnnlab.grading.custom import LocalSide, Raised, exc_text, plain_tensor, spend
from cnnlab.grading.limits import TimeLimit
from cnnlab.grading.result import CheckResult

__all__ = ["check_basic_block", "check_trained_resnet", "check_predict", "block_cases", "BASIC_BLOCK", "EXERCISES"]

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


def _diagnose_keys(got, want, sd, ref_sd):  # note: sd and ref_sd map the names to (shapes of) the entries
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


def _run_case(side, args, x, rng, budget):
    import torch

    from cnnlab.models.blocks import basic_block as reference

    try:
        built = side.run("build", budget, args=tuple(args))
    except TimeLimit:
        return "  Problem: the time limit ran out while building your block.", "time-limit"
    except Raised as exc:
        return f"  Problem: your function raised {exc_text(exc)}", "exception"
    if "not_module" in built:
        return (f"  Problem: it must return a torch.nn.Module; it returned an object of type "
                f"{str(built['not_module'])[:60]}.", "not-a-module")
    ref = reference(*args)
    shapes, ref_sd = built["shapes"], ref.state_dict()
    got, want = _keys(shapes), _keys(ref_sd)
    if got != want:
        key, text = _diagnose_keys(got, want, shapes, ref_sd)
        return f"  Problem: the state_dict keys differ from the reference's.\n  Likely cause: {text}", key
    for k in sorted(want):
        if tuple(shapes[k]) != tuple(ref_sd[k].shape):
            key = "downsample-kernel" if k == "downsample.0.weight" else "state-dict-shapes"
            return (f"  Problem: {k} has shape {tuple(shapes[k])}; torchvision's has {tuple(ref_sd[k].shape)}"
                    + (" (the projection is a 1×1 convolution)." if key == "downsample-kernel" else "."), key)
    weights = _randomised(ref_sd, rng)
    xt = torch.as_tensor(x, dtype=torch.float64)
    for train in (False, True):
        mode = "training" if train else "eval"
        try:
            actual = side.run("forward", budget, weights={k: v.numpy() for k, v in weights.items()}, x=x,
                              train=train)
        except TimeLimit:
            return "  Problem: the time limit ran out while running your block.", "time-limit"
        except Raised as exc:
            return (f"  Problem: running your block in {mode} mode on an input of shape {x.shape} raised "
                    f"{exc_text(exc)}", "forward-error")
        ref = ref.double().train(train)
        ref.load_state_dict(weights)
        with torch.no_grad():
            want_out = ref(xt.clone()).numpy()
        problem = compare.array_problem(actual, want_out)
        if problem is None:
            continue
        head = (f"  Problem: in {mode} mode, with the same random weights and BatchNorm statistics loaded into your "
                f"block and torchvision's, {problem}.")
        if type(actual) is np.ndarray and actual.shape == want_out.shape:
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


class _BasicBlock:
    """``check("basic_block", fn)``: the student's block builder, graded on the grader's side (see module doc)."""

    name = _NAME
    custom = True  # note: a `cnnlab.grading.custom` exercise; the student's code runs only in its part_* methods

    def cases(self, seed=0, trials=None):
        return []

    def part_build(self, fn, budget, state, args):
        """Kernel side: ``fn(*args)``, kept for `part_forward`; its state_dict's names and shapes."""
        import torch

        model = spend(budget, lambda: fn(*args))
        if not isinstance(model, torch.nn.Module):
            return {"not_module": type(model).__name__}
        state["model"] = model
        return {"shapes": {str(k): tuple(int(d) for d in v.shape) for k, v in model.state_dict().items()}}

    def part_forward(self, fn, budget, state, weights, x, train):
        """Kernel side: the built block in float64 with `weights` loaded, run on `x` in the given mode."""
        import torch

        model = state["model"].double().train(bool(train))  # note: float64 before loading, so no float32 rounding
        model.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()}, strict=False)
        with torch.no_grad():
            return plain_tensor(spend(budget, lambda: model(torch.as_tensor(x, dtype=torch.float64))))

    def check(self, fn, *, seed=0, trials=None, device=None, time_limit=_TIME, side=None) -> CheckResult:
        import warnings

        if not callable(fn):
            return CheckResult(_NAME, False, f"{_NAME}: expected a function, got an object of type "
                                             f"{type(fn).__name__}.", mistake="not-callable")
        side = side or LocalSide(self, fn)
        seed_text = "the grader's hidden seed" if side.remote else f"seed {seed}"
        cases = block_cases(seed)
        rng = np.random.default_rng(seed + 1)
        budget = [None if time_limit is None else float(time_limit)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # note: nbgrader scores stderr output as an error
            for i, (label, args, x) in enumerate(cases, 1):
                problem, key = _run_case(side, args, x, rng, budget)
                if problem is not None:
                    return CheckResult(_NAME, False, f"{_NAME} failed on {label} (case {i} of {len(cases)}, "
                                                     f"{seed_text}).\n  Call: basic_block{args}, run on an input of "
                                                     f"shape {x.shape}\n{problem}", i, key)
        return CheckResult(_NAME, True, f"{_NAME}: passed all {len(cases)} cases (state_dict names and shapes, "
                                        f"outputs in eval and training mode; {seed_text}).", len(cases))


BASIC_BLOCK = _BasicBlock()


def check_basic_block(fn, *, seed: int = 0, time_limit: float = _TIME) -> CheckResult:
    """Grade the student's ``basic_block(c_in, c_out, stride)`` against torchvision's BasicBlock (see module doc);
    ``check("basic_block", fn)`` is the same check (decided by the grader in grading mode)."""
    return BASIC_BLOCK.check(fn, seed=seed, time_limit=time_limit)


# ------------------------------------------------ the trained ResNet and the eval fix (`_trained`)
HELD_BACK_SEED = 40_417  # not shown to students
RESNET_ACCURACY = 0.85


def check_trained_resnet(model, *, n: int = 500, seed: int = HELD_BACK_SEED,
                         required: float = RESNET_ACCURACY) -> CheckResult:
    """Accuracy of the trained `model` (eval mode) on `n` unseen noisy shapes; and two basic blocks, one strided.
    ``check("small_resnet", model)`` is the same check (decided by the grader in grading mode)."""
    from cnnlab.grading.exercises._trained import SMALL_RESNET

    return SMALL_RESNET.check(model, seed=seed - SMALL_RESNET.base_seed, time_limit=None, n=n, required=required)


def check_predict(predict, *, seed: int = 0) -> CheckResult:
    """The fixed `predict(model, x)`: eval-mode int64 predictions, state unchanged, mode restored.
    ``check("predict", predict)`` is the same check (decided by the grader in grading mode)."""
    from cnnlab.grading.exercises._trained import PREDICT

    return PREDICT.check(predict, seed=seed)
