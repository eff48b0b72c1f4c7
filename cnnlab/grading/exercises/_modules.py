"""ps3's torch model exercises, graded by behaviour, never by source.

A `ModuleExercise` calls the student's builder (no arguments), then checks,
in order: it returns a fresh `nn.Module`; its parameter count; the output
shape of every leaf layer (the torchinfo table) on a batch of the stated
input shape; and, after copying the student's parameters (in order, by
shape) into the reference model, the outputs in float64. Keyed mistakes are
read off that summary (bias missing, padding added, stride missing, softmax
at the end, ...) or off the exception the builder raised.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from cnnlab.grading.custom import LocalSide, Raised, plain_tensor, short_type, spend
from cnnlab.grading.exercises._array import exc_text
from cnnlab.grading.limits import TimeLimit
from cnnlab.grading.result import CheckResult

__all__ = ["CUSTOM", "ModuleExercise", "summary"]


@dataclass
class Summary:
    """What the student's model is: parameter count, leaf table, output on a random batch."""

    count: int
    rows: list  # (layer type, output shape, parameter count) per leaf call
    out: object = None

    def shapes_of(self, kind):
        return [r[1] for r in self.rows if r[0] == kind]

    def table(self) -> str:
        return "\n".join(f"      {t:<10} {list(s)!s:<18} {p:>9,}" for t, s, p in self.rows)


def summary(model, x) -> Summary:
    """Run `x` through `model`, recording each leaf module's output shape and parameter count."""
    import torch

    rows, hooks = [], []
    for mod in model.modules():
        if not any(True for _ in mod.children()):
            def hook(m, inp, out):
                shape = tuple(out.shape) if isinstance(out, torch.Tensor) else ()
                rows.append((type(m).__name__, shape, sum(p.numel() for p in m.parameters(recurse=False))))
            hooks.append(mod.register_forward_hook(hook))
    count = sum(p.numel() for p in model.parameters())
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for h in hooks:
            h.remove()
    return Summary(count, rows, out)


@dataclass(frozen=True)
class ModuleExercise:
    """One `nn.Module` builder exercise.

    Attributes:
        name: the exercise's (and the student's function's) name.
        reference: () -> the reference module.
        input_shape: the batch the model is run on, e.g. (5, 1, 40).
        what: how the task names the model, for messages.
        mistakes: (key, text, predicate(Summary, reference Summary) -> bool), tried in order.
        exceptions: (key, text, words): a builder or forward that raised an exception
            whose text contains all `words` is named by `key`.
    """

    name: str
    reference: Callable
    input_shape: tuple
    what: str
    mistakes: tuple = ()
    exceptions: tuple = ()

    custom = True  # note: a `cnnlab.grading.custom` exercise; the student's builder runs only in `part_build`

    def cases(self, seed=0, trials=None):
        return []

    def check(self, fn, *, seed=0, trials=None, device=None, time_limit=30.0, side=None) -> CheckResult:
        """Grade the builder `fn` (see the module docstring). Runs on the CPU, float32 then float64."""
        if not callable(fn):
            return self._fail(f"expected a function, got an object of type {type(fn).__name__}.", "not-callable")
        import torch

        side = side or LocalSide(self, fn)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # note: nbgrader scores any stderr output as an error
                found = self._run(side, seed, time_limit)
        except TimeLimit:
            found = (f"building or running the model took more than {time_limit:g} s.", "time-limit")
        except (Exception, SystemExit) as exc:  # note: a student's model may fail anywhere
            found = self._exception(exc)
        finally:
            torch.set_default_dtype(torch.float32)
        if found is None:
            return CheckResult(self.name, True, f"{self.name}: {self.what} has the expected layers, output shapes, "
                                                f"parameter count and outputs.", 1)
        return self._fail(*found)

    def _fail(self, text, key):
        return CheckResult(self.name, False, f"{self.name} failed: {text}", 1, key)

    def _exception(self, exc):
        text = exc_text(exc)
        for key, hint, words in self.exceptions:
            if all(w in text for w in words):
                return f"it raised {text}\n  Likely cause: {hint}", key
        return f"it raised {text}", "exception"

    def part_build(self, fn, budget, state, x):
        """Kernel side: build twice (fresh?), the leaf table and output on `x` (float32), the parameters in
        order, and the output in float64 in eval mode (or the exception it raised), as plain data."""
        import torch

        from cnnlab.grading.student import exc_info

        def body():
            model = fn()
            if not isinstance(model, torch.nn.Module):
                return {"not_module": type(model).__name__}
            if fn() is model:
                return {"not_fresh": True}
            xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
            s = summary(model.float(), xt)
            rec = {"count": int(s.count), "rows": [(str(t), tuple(int(v) for v in shape), int(p)) for t, shape, p in s.rows],
                   "out": plain_tensor(s.out), "params": [p.detach().cpu().numpy().copy() for p in model.parameters()]}
            try:
                model = model.double()
                model.eval()
                with torch.no_grad():
                    rec["out64"] = plain_tensor(model(xt.double()))
            except (Exception, SystemExit) as exc:
                rec["out64_error"] = exc_info(exc)
            return rec

        try:
            return spend(budget, body)
        finally:
            torch.set_default_dtype(torch.float32)

    def _run(self, side, seed, time_limit):
        import torch

        ref = self.reference()
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(self.input_shape, generator=gen)
        rec = side.run("build", [time_limit], x=x.numpy())
        if "not_module" in rec:
            return (f"{self.name}() must return an nn.Module; it returned an object of type "
                    f"{str(rec['not_module'])[:60]}.", "not-a-module")
        if "not_fresh" in rec:
            return f"{self.name}() returned the same object twice; build a fresh model on every call.", "not-fresh"
        out = rec["out"]
        theirs = Summary(int(rec["count"]), [(str(t), tuple(shape), int(p)) for t, shape, p in rec["rows"]],
                         torch.as_tensor(out) if type(out) is np.ndarray else out)
        mine = summary(ref, x)
        table = f"\n  Your layers (type, output shape, parameters):\n{theirs.table()}\n  Expected:\n{mine.table()}"
        for key, text, pred in self.mistakes:
            try:
                if pred(theirs, mine):
                    return f"{self._differs(theirs, mine)}\n  Likely cause: {text}{table}", key
            except Exception:
                continue
        if theirs.count != mine.count:
            return f"{self._differs(theirs, mine)}{table}", "param-count"
        if _layers(theirs) != _layers(mine):
            return f"the layers or their output shapes differ from the expected table.{table}", "layers"
        return self._compare_outputs(rec, ref, x)

    def _differs(self, theirs, mine) -> str:
        if theirs.count != mine.count:
            return f"the model has {theirs.count:,} parameters; {self.what} has {mine.count:,}."
        return "the layers or their output shapes differ from the expected table."

    def _compare_outputs(self, rec, ref, x):
        import torch

        mine = list(ref.parameters())
        theirs = [p for p in rec["params"] if type(p) is np.ndarray]
        if len(theirs) != len(rec["params"]) or [p.shape for p in theirs] != [tuple(p.shape) for p in mine]:
            got = ", ".join(str(tuple(p.shape)) for p in theirs)
            want = ", ".join(str(tuple(p.shape)) for p in mine)
            return (f"the parameters, in order, have shapes {got}; expected {want} (weights before biases, layers "
                    f"in forward order).", "param-shapes")
        ref = ref.double()
        with torch.no_grad():
            for p, q in zip(mine, theirs):
                p.copy_(torch.as_tensor(q))
            ref.eval()
            want = ref(x.double())
        if "out64_error" in rec:
            raise Raised(rec["out64_error"])
        got = rec.get("out64")
        if type(got) is not np.ndarray or got.shape != tuple(want.shape):
            shape = got.shape if type(got) is np.ndarray else short_type(got)
            return f"the output has shape {shape}; expected {tuple(want.shape)}.", "output-shape"
        got = torch.as_tensor(got.astype(np.float64))
        if not torch.allclose(got, want, rtol=1e-7, atol=1e-9):
            diff = float((got - want).abs().max())
            return (f"with your parameters copied into the reference, the outputs differ (largest difference "
                    f"{diff:.3g}): the layers are the right sizes but not applied as the table says (order, "
                    f"activation, flattening?).", "outputs")
        return None


def _layers(s: Summary):
    """(type, output shape) of each leaf call; Flatten is left out (a no-op on an already flat input)."""
    return [r[:2] for r in s.rows if r[0] != "Flatten"]


# ------------------------------------------------------------------ the three models
def _mnist1d_cnn():
    from cnnlab.models import MNIST1DConvNet

    return MNIST1DConvNet().net  # note: the plain Sequential, so its leaf table is the seed's


def _mlp():
    from cnnlab.models import MNIST1DMLP

    return MNIST1DMLP()


def _seed003():
    from cnnlab.models import SmallCNN

    return SmallCNN()


def _softmax_at_end(theirs, mine):
    import torch

    out = theirs.out
    return (isinstance(out, torch.Tensor) and out.dim() == 2 and bool((out >= 0).all())
            and torch.allclose(out.sum(1), torch.ones(len(out)), atol=1e-4))


_SOFTMAX = ("softmax-at-end", "the outputs sum to 1 per row: the model ends with a softmax. Return the logits; "
                              "F.cross_entropy applies log-softmax itself.", _softmax_at_end)
_EXC_SEQ = ("sequential-list", "nn.Sequential takes the layers as separate arguments, nn.Sequential(a, b, c), "
                               "not a list (unpack it: nn.Sequential(*layers)).", ("list is not a Module subclass",))
_EXC_MATMUL = ("flatten-size", "the first Linear layer's in_features does not match the flattened size: compute "
                               "the shape after each layer (print x.shape) and use C * H * W of the last feature map.",
               ("shapes cannot be multiplied",))


def _n_relu(s):
    return sum(r[0] == "ReLU" for r in s.rows)


MNIST1D_CNN = ModuleExercise(
    name="mnist1d_cnn", reference=_mnist1d_cnn, input_shape=(5, 1, 40),
    what="the seed's MNIST-1D conv net (2,050 parameters)",
    mistakes=(
        ("bias-missing", "the layers have no bias (bias=False); the seed's table counts 60 = 15 * (3 + 1) for the "
                         "first convolution, weights plus biases.", lambda t, m: t.count == 1995),
        ("padding-added", "the convolutions are padded; the table's lengths 40 -> 19 -> 9 -> 4 are those of "
                          "kernel 3, stride 2, no padding.",
         lambda t, m: t.shapes_of("Conv1d")[:1] == [(5, 15, 20)]),
        ("stride-missing", "the convolutions use stride 1; the table's lengths 19, 9, 4 need stride=2.",
         lambda t, m: t.shapes_of("Conv1d")[:1] == [(5, 15, 38)]),
        ("kernel-size-wrong", "the kernels are not of size 3: the first layer has 60 = 15 * (1 * 3 + 1) parameters.",
         lambda t, m: [r for r in t.rows if r[0] == "Conv1d"][:1] and [r for r in t.rows if r[0] == "Conv1d"][0][2] != 60),
        ("relu-missing", "a ReLU is missing: the table has one after each convolution (three in all).",
         lambda t, m: t.count == m.count and _n_relu(t) < 3),
        _SOFTMAX,
    ),
    exceptions=(_EXC_SEQ, _EXC_MATMUL),
)

MNIST1D_MLP = ModuleExercise(
    name="mnist1d_mlp", reference=_mlp, input_shape=(5, 1, 40),
    what="the fully connected baseline 40 -> 350 -> 175 -> 400 -> 10 (150,185 parameters)",
    mistakes=(
        ("bias-missing", "the Linear layers have no bias; 150,185 counts weights and biases.",
         lambda t, m: t.count == 150185 - 935),
        ("relu-missing", "a ReLU is missing: each of the three hidden layers is followed by one.",
         lambda t, m: t.count == m.count and _n_relu(t) < 3),
        ("relu-after-output", "a ReLU follows the last Linear layer: the outputs are logits and may be negative.",
         lambda t, m: t.count == m.count and bool(t.rows) and t.rows[-1][0] == "ReLU"),
        _SOFTMAX,
    ),
    exceptions=(_EXC_SEQ, _EXC_MATMUL),
)

GENERATE_MODEL = ModuleExercise(
    name="generate_model", reference=_seed003, input_shape=(2, 3, 32, 32),
    what="the fixed model of seed 003 (2,389,962 parameters on 32x32 RGB images)",
    mistakes=(
        ("pool-missing", "a max-pooling layer is missing: 32 -> 30 -> 15 -> 13 -> 6 needs both MaxPool2d(2, 2).",
         lambda t, m: len(t.shapes_of("MaxPool2d")) < 2),
        ("relu-missing", "a ReLU is missing: one after each convolution and after the hidden Linear layer.",
         lambda t, m: t.count == m.count and _n_relu(t) < 3),
        _SOFTMAX,
    ),
    exceptions=(
        _EXC_SEQ,
        ("filter-size-keyword", "nn.Conv2d has no argument filter_size; the keyword is kernel_size.", ("filter_size",)),
        ("nn-undefined", "`nn` is not defined in the listing: import torch.nn as nn (or from torch import nn).",
         ("name 'nn' is not defined",)),
        _EXC_MATMUL,
    ),
)

CUSTOM = {e.name: e for e in (MNIST1D_CNN, MNIST1D_MLP, GENERATE_MODEL)}
