"""ps3's training exercises: the student's `train_step`, `evaluate`, and a seeded MNIST-1D run.

- ``train_step(model, optimizer, x, y) -> float``: one step of cross-entropy
  training; returns the loss before the step as a Python float. Checked by
  behaviour on a small model whose ``.grad`` holds stale values beforehand:
  the parameters afterwards say whether ``zero_grad``, ``backward`` and
  ``step`` all ran, in that order.
- ``evaluate(model, x, y) -> float``: accuracy in [0, 1]; the model is a spy
  that records whether it ran in eval mode and with gradients off.
- ``mnist1d_training``: the grader trains its own copy of the seed's conv
  net with the student's ``train_step`` (`STEPS` Adam steps, lr 0.01, batch
  100, seed 0) and needs `MIN_ACCURACY` on the test split.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from cnnlab.grading.exercises._array import exc_text
from cnnlab.grading.limits import TimeLimit, call_with_limit
from cnnlab.grading.result import CheckResult

__all__ = ["CUSTOM", "STEPS", "BATCH", "LR", "MIN_ACCURACY", "mnist1d_tensors", "train"]

STEPS, BATCH, LR = 1500, 100, 1e-2
MIN_ACCURACY = 0.80  # the solution reaches about 0.87; a GPU's rounding moves it by about 0.01
_DATA: dict = {}


def mnist1d_tensors(shuffle_seq: bool = False):
    """MNIST-1D as tensors (x (4000, 1, 40), y, x_test (1000, 1, 40), y_test), cached per process."""
    import torch

    if shuffle_seq not in _DATA:
        from cnnlab.data import load_mnist1d

        d = load_mnist1d(shuffle_seq=shuffle_seq)
        _DATA[shuffle_seq] = (torch.tensor(d["x"]).unsqueeze(1), torch.tensor(d["y"]),  # (N, 40) → (N, 1, 40)
                              torch.tensor(d["x_test"]).unsqueeze(1), torch.tensor(d["y_test"]))
    return _DATA[shuffle_seq]


def train(model, step_fn, x, y, steps=STEPS, batch=BATCH, lr=LR, seed=0):
    """`steps` Adam steps of `step_fn(model, optimizer, xb, yb)` on random batches (seeded); the losses."""
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch,), generator=gen)
        losses.append(step_fn(model, opt, x[idx], y[idx]))
    return losses


def _accuracy(model, x, y) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).double().mean())


class _Fail(Exception):
    def __init__(self, text, key):
        super().__init__(text)
        self.text, self.key = text, key


class _GraderError(Exception):
    """Something on the grader's side failed before the student's code ran (data, model): not the student's fault."""


class _Base:
    name = ""

    def cases(self, seed=0, trials=None):
        return []

    def check(self, fn, *, seed=0, trials=None, device=None, time_limit=10.0) -> CheckResult:
        if not callable(fn):
            return CheckResult(self.name, False, f"{self.name}: expected a function, got {type(fn).__name__}.", 0,
                               "not-callable")
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # note: these small nets train several times faster on one thread
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # note: nbgrader scores any stderr output as an error
                message = self._run(fn, seed, time_limit)
        except _Fail as f:
            return CheckResult(self.name, False, f"{self.name} failed: {f.text}", 1, f.key)
        except TimeLimit:
            return CheckResult(self.name, False, f"{self.name} failed: the time limit of {time_limit:g} s ran out.",
                               1, "time-limit")
        except _GraderError as exc:
            return CheckResult(self.name, False, f"{self.name} could not be checked: the grader failed to prepare "
                               f"its data ({exc}). This is not a fault of your code: tell your instructor.", 0,
                               "grader-error")
        except (Exception, SystemExit) as exc:
            return CheckResult(self.name, False, f"{self.name} failed: your function raised {exc_text(exc)}.", 1,
                               "exception")
        finally:
            torch.set_num_threads(threads)
        return CheckResult(self.name, True, message, 1)


def _small_model(seed):
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 4)).double()


class _TrainStep(_Base):
    name = "train_step"

    def _run(self, fn, seed, time_limit):
        import torch
        import torch.nn.functional as F

        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(6, 1, 8, generator=gen, dtype=torch.float64)
        y = torch.randint(0, 4, (6,), generator=gen)
        model = _small_model(seed)
        before = [p.detach().clone() for p in model.parameters()]
        stale = [torch.full_like(p, 5.0) for p in model.parameters()]
        for p, s in zip(model.parameters(), stale):
            p.grad = s.clone()  # note: a previous step's gradient, left behind on purpose
        # the right answer, on a copy
        ref = _small_model(seed)
        logits = ref(x)
        loss = F.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, list(ref.parameters()), retain_graph=True)
        lr = 0.1
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        where = "a Linear(8, 4) model, SGD lr 0.1, a batch of 6, stale gradients in .grad beforehand"
        out = call_with_limit(lambda: fn(model, opt, x, y), time_limit)
        after = [p.detach() for p in model.parameters()]

        def moved_by(g):
            return all(torch.allclose(a, b - lr * d, rtol=1e-9, atol=1e-12) for a, b, d in zip(after, before, g))

        if all(torch.equal(a, b) for a, b in zip(after, before)):
            cleared = all(p.grad is None or not p.grad.any() for p in model.parameters())
            if cleared:
                raise _Fail(f"on {where}, the parameters did not change and the gradients are empty: step() had "
                            f"nothing to apply, so zero_grad() ran after backward() (or backward() never ran). "
                            f"Order: zero_grad, backward, step.", "zero-grad-after-backward")
            raise _Fail(f"on {where}, the parameters did not change: call optimizer.step() after loss.backward().",
                        "step-missing")
        if moved_by([g + s for g, s in zip(grads, stale)]):
            raise _Fail(f"on {where}, the update used the new gradient plus the stale one left in .grad: call "
                        f"optimizer.zero_grad() before loss.backward() (gradients accumulate).", "zero-grad-missing")
        if moved_by(stale):
            raise _Fail(f"on {where}, the update used only the stale gradient: loss.backward() was not called "
                        f"(or called before zero_grad()).", "backward-missing")
        if not moved_by(grads):
            for key, text, wrong in self._wrong_losses(logits, y):
                g = torch.autograd.grad(wrong, list(ref.parameters()), retain_graph=True)
                if moved_by(g):
                    raise _Fail(f"on {where}, the parameters moved along the gradient of another loss: {text}", key)
            raise _Fail(f"on {where}, the parameters after the step differ from one SGD step on "
                        f"F.cross_entropy(model(x), y).", "wrong-update")
        if isinstance(out, torch.Tensor):
            raise _Fail("train_step returned a tensor; return the loss as a Python float (loss.item()), so that "
                        "no graph is kept alive between steps.", "loss-tensor")
        if isinstance(out, (bool, np.bool_)) or not isinstance(out, (float, int, np.floating)):
            raise _Fail(f"train_step must return the loss as a float; it returned {type(out).__name__}.", "no-loss")
        loss = float(loss.detach())
        if not abs(float(out) - loss) <= 1e-9 * max(1.0, abs(loss)):
            with torch.no_grad():
                after_loss = float(F.cross_entropy(model(x), y))
            if abs(float(out) - after_loss) <= 1e-9 * max(1.0, abs(after_loss)):
                raise _Fail("train_step returned the loss after the step; return the loss computed in this step "
                            "(before optimizer.step()).", "loss-after-step")
            raise _Fail(f"train_step returned {float(out):.10g}; the cross-entropy of this batch is "
                        f"{loss:.10g}.", "wrong-loss-value")
        return "train_step: zero_grad, backward and step ran in order; the loss is returned as a float."

    @staticmethod
    def _wrong_losses(logits, y):
        import torch.nn.functional as F

        yield ("nll-on-logits", "F.nll_loss on raw logits; use F.cross_entropy(logits, y) (it includes log-softmax).",
               F.nll_loss(logits, y))
        yield ("softmax-twice", "cross-entropy of softmax outputs (softmax applied twice); pass the logits to "
                                "F.cross_entropy.", F.cross_entropy(F.softmax(logits, 1), y))
        yield ("sum-not-mean", "the summed loss (reduction='sum'); use the mean, F.cross_entropy's default.",
               F.cross_entropy(logits, y, reduction="sum"))


class _Spy:
    """A model wrapper that records (training, grad enabled) on every forward pass."""

    def __new__(cls, inner):
        import torch

        class Spy(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = inner
                self.calls = []

            def forward(self, x):
                self.calls.append((self.training, torch.is_grad_enabled()))
                return self.inner(x)

        return Spy()


class _Evaluate(_Base):
    name = "evaluate"

    def _run(self, fn, seed, time_limit):
        import torch

        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        inner = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(40, 10))
        x = torch.randn(300, 1, 40, generator=gen)
        with torch.no_grad():
            y = inner[2](x.flatten(1)).argmax(1)
            flip = torch.rand(300, generator=gen) < 0.3  # note: 30 % wrong labels, so accuracy is not 1
            y[flip] = (y[flip] + 1) % 10
        expected = _accuracy(inner, x, y)
        spy = _Spy(inner)
        spy.train()
        torch.manual_seed(seed + 1)
        out = call_with_limit(lambda: fn(spy, x, y), time_limit)
        where = "a model with Dropout(0.5), 300 samples, in training mode beforehand"
        if not spy.calls:
            raise _Fail(f"on {where}, evaluate never called the model.", "model-not-called")
        if any(train for train, _ in spy.calls):
            raise _Fail(f"on {where}, the model ran in training mode (dropout active): call model.eval() before "
                        f"evaluating.", "eval-missing")
        if any(grad for _, grad in spy.calls):
            raise _Fail(f"on {where}, the model ran with gradients recorded: evaluate inside `with torch.no_grad():` "
                        f"(it saves memory and time).", "no-grad-missing")
        if isinstance(out, torch.Tensor):
            raise _Fail("evaluate returned a tensor; return the accuracy as a Python float (.item()).",
                        "accuracy-tensor")
        if isinstance(out, (bool, np.bool_)) or not isinstance(out, (float, int, np.floating, np.integer)):
            raise _Fail(f"evaluate must return the accuracy as a float; it returned {type(out).__name__}.",
                        "no-accuracy")
        val = float(out)
        if abs(val - expected) <= 1e-6:  # note: float32 means are fine; accuracies are multiples of 1/300
            return f"evaluate: eval mode, no gradients, accuracy {expected:.4f} as expected."
        if abs(val - expected * len(y)) <= 1e-3:
            raise _Fail(f"evaluate returned {val:g}, the number of correct predictions; return the fraction "
                        f"({expected:.4f}).", "count-not-fraction")
        if abs(val - 100 * expected) <= 1e-4:
            raise _Fail(f"evaluate returned {val:g}, a percentage; return a fraction in [0, 1].", "percent")
        raise _Fail(f"on {where}, evaluate returned {val:.6g}; the accuracy is {expected:.6g} (argmax of the "
                    f"logits over the classes, compared with y, averaged).", "wrong-accuracy")


class _Mnist1dTraining(_Base):
    name = "mnist1d_training"

    def _run(self, fn, seed, time_limit):
        import torch

        from cnnlab.models import MNIST1DConvNet

        try:  # note: the grader's side, before any student code: its failure is never blamed on the student
            x, y, xt, yt = mnist1d_tensors()
            torch.manual_seed(seed)
            model = MNIST1DConvNet().net
        except Exception as exc:  # noqa: BLE001 - e.g. the mnist1d package missing on this machine
            raise _GraderError(exc_text(exc)) from exc
        start = time.process_time()
        losses = call_with_limit(lambda: train(model, fn, x, y, seed=seed), time_limit)
        cpu = time.process_time() - start
        acc = _accuracy(model, xt, yt)
        if not np.isfinite(losses[-1]) or acc < MIN_ACCURACY:
            raise _Fail(f"training the seed's conv net with your train_step ({STEPS} Adam steps, lr {LR}, batch "
                        f"{BATCH}, seed {seed}) reached test accuracy {acc:.3f}; at least {MIN_ACCURACY} is needed "
                        f"(final loss {float(losses[-1]):.4g}).", "accuracy-too-low")
        return (f"mnist1d_training: test accuracy {acc:.3f} >= {MIN_ACCURACY} after {STEPS} steps "
                f"({cpu:.1f} s CPU).")


CUSTOM = {e.name: e for e in (_TrainStep(), _Evaluate(), _Mnist1dTraining())}
