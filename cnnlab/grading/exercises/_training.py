"""ps3's training exercises: the student's `train_step`, `evaluate`, and a seeded MNIST-1D run.

- ``train_step(model, optimizer, x, y) -> float``: one step of cross-entropy
  training; returns the loss before the step as a Python float. Checked by
  behaviour on a small model whose ``.grad`` holds stale values beforehand:
  the parameters afterwards say whether ``zero_grad``, ``backward`` and
  ``step`` all ran, in that order.
- ``evaluate(model, x, y) -> float``: accuracy in [0, 1]; the model is a spy
  that records whether it ran in eval mode and with gradients off (`_evaluate`).
- ``mnist1d_training``: the grader trains its own copy of the seed's conv
  net with the student's ``train_step`` (`STEPS` Adam steps, lr 0.01, batch
  100, seed 0) and needs `MIN_ACCURACY` on the test split.
"""
from __future__ import annotations

import contextlib
import time
import warnings

import numpy as np

from cnnlab.grading.custom import LocalSide, spend
from cnnlab.grading.exercises._array import exc_text
from cnnlab.grading.limits import TimeLimit
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


@contextlib.contextmanager
def _one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # note: these small nets train several times faster on one thread
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _number(out) -> dict:
    """Kernel side: what the judge needs of a returned loss or accuracy, as plain data."""
    import torch

    number = not isinstance(out, (bool, np.bool_)) and isinstance(out, (float, int, np.floating, np.integer))
    return {"tensor": isinstance(out, torch.Tensor), "type": type(out).__name__,
            "np_int": isinstance(out, np.integer), "value": float(out) if number else None}


class _Base:
    name = ""
    custom = True  # note: a `cnnlab.grading.custom` exercise; the student's code runs only in its part_* method

    def cases(self, seed=0, trials=None):
        return []

    def check(self, fn, *, seed=0, trials=None, device=None, time_limit=10.0, side=None) -> CheckResult:
        if not callable(fn):
            return CheckResult(self.name, False, f"{self.name}: expected a function, got {type(fn).__name__}.", 0,
                               "not-callable")
        side = side or LocalSide(self, fn)
        try:
            with warnings.catch_warnings(), _one_thread():
                warnings.simplefilter("ignore")  # note: nbgrader scores any stderr output as an error
                message = self._run(side, seed, time_limit)
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
        return CheckResult(self.name, True, message, 1)


def _small_model(seed):
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 4)).double()


class _TrainStep(_Base):
    name = "train_step"

    def part_step(self, fn, budget, state, seed, x, y):
        """Kernel side: one ``fn(model, opt, x, y)`` on the seeded small model with stale gradients; the
        parameters and gradients afterwards and what it returned, as plain data."""
        import torch

        model = _small_model(seed)
        for p in model.parameters():
            p.grad = torch.full_like(p, 5.0)  # note: a previous step's gradient, left behind on purpose
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with _one_thread():
            out = spend(budget, lambda: fn(model, opt, torch.as_tensor(x), torch.as_tensor(y)))
        return {"after": [p.detach().cpu().numpy().copy() for p in model.parameters()],
                "grads": [None if p.grad is None else p.grad.detach().cpu().numpy().copy() for p in model.parameters()],
                "out": _number(out)}

    def _run(self, side, seed, time_limit):
        import torch
        import torch.nn.functional as F

        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(6, 1, 8, generator=gen, dtype=torch.float64)
        y = torch.randint(0, 4, (6,), generator=gen)
        model = _small_model(seed)
        before = [p.detach().clone() for p in model.parameters()]
        stale = [torch.full_like(p, 5.0) for p in model.parameters()]
        # the right answer, on a copy
        ref = _small_model(seed)
        logits = ref(x)
        loss = F.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, list(ref.parameters()), retain_graph=True)
        lr = 0.1
        where = "a Linear(8, 4) model, SGD lr 0.1, a batch of 6, stale gradients in .grad beforehand"
        rec = side.run("step", [time_limit], seed=seed, x=x.numpy(), y=y.numpy())
        after = [torch.as_tensor(a) for a in rec["after"]]
        if [tuple(a.shape) for a in after] != [tuple(b.shape) for b in before]:
            raise _Fail(f"on {where}, the model's parameters changed shape.", "wrong-update")
        out = rec["out"]

        def moved_by(g):
            return all(torch.allclose(a, b - lr * d, rtol=1e-9, atol=1e-12) for a, b, d in zip(after, before, g))

        if all(torch.equal(a, b) for a, b in zip(after, before)):
            cleared = all(g is None or not np.any(g) for g in rec["grads"])
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
        if out["tensor"]:
            raise _Fail("train_step returned a tensor; return the loss as a Python float (loss.item()), so that "
                        "no graph is kept alive between steps.", "loss-tensor")
        if out["value"] is None or out["np_int"]:
            raise _Fail(f"train_step must return the loss as a float; it returned {str(out['type'])[:60]}.",
                        "no-loss")
        loss, value = float(loss.detach()), float(out["value"])
        if not abs(value - loss) <= 1e-9 * max(1.0, abs(loss)):
            with torch.no_grad():
                for p, a in zip(model.parameters(), after):
                    p.copy_(a)
                after_loss = float(F.cross_entropy(model(x), y))
            if abs(value - after_loss) <= 1e-9 * max(1.0, abs(after_loss)):
                raise _Fail("train_step returned the loss after the step; return the loss computed in this step "
                            "(before optimizer.step()).", "loss-after-step")
            raise _Fail(f"train_step returned {value:.10g}; the cross-entropy of this batch is "
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


class _Mnist1dTraining(_Base):
    name = "mnist1d_training"
    hidden_seed = False  # note: the seed picks batches and initial weights; a hidden one must not decide a pass

    def part_train(self, fn, budget, state, seed):
        """Kernel side: train the seed's conv net with ``fn`` as the step; its test predictions, as plain data."""
        import torch

        from cnnlab.models import MNIST1DConvNet

        try:  # note: the data and model are the grader's; their failure is never blamed on the student
            x, y, xt, _ = mnist1d_tensors()
            torch.manual_seed(seed)
            model = MNIST1DConvNet().net
        except Exception as exc:  # noqa: BLE001 - e.g. the mnist1d package missing on this machine
            return {"grader_error": exc_text(exc)}
        start = time.process_time()
        with _one_thread():
            losses = spend(budget, lambda: train(model, fn, x, y, seed=seed))
        cpu = time.process_time() - start
        model.eval()
        with torch.no_grad():
            pred = model(xt).argmax(1).cpu().numpy().astype(np.int64)
        try:
            last = float(losses[-1])
        except Exception:  # noqa: BLE001 - a step that returns no number: the accuracy decides
            last = float("nan")
        return {"predictions": pred, "last_loss": last, "cpu": float(cpu)}

    def _run(self, side, seed, time_limit):
        try:  # note: the grader's side, before any student code: its failure is never blamed on the student
            yt = mnist1d_tensors()[3].numpy()
        except Exception as exc:  # noqa: BLE001 - e.g. the mnist1d package missing on this machine
            raise _GraderError(exc_text(exc)) from exc
        rec = side.run("train", [time_limit], seed=seed)
        if "grader_error" in rec:
            raise _GraderError(str(rec["grader_error"])[:300])
        pred, last = rec["predictions"], rec["last_loss"]
        if type(pred) is not np.ndarray or pred.shape != yt.shape or type(last) is not float:
            raise _Fail("the predictions of the trained model did not come back.", "accuracy-too-low")
        acc = float((pred == yt).mean())
        if not np.isfinite(last) or acc < MIN_ACCURACY:
            raise _Fail(f"training the seed's conv net with your train_step ({STEPS} Adam steps, lr {LR}, batch "
                        f"{BATCH}, seed {seed}) reached test accuracy {acc:.3f}; at least {MIN_ACCURACY} is needed "
                        f"(final loss {last:.4g}).", "accuracy-too-low")
        return (f"mnist1d_training: test accuracy {acc:.3f} >= {MIN_ACCURACY} after {STEPS} steps "
                f"({float(rec['cpu']):.1f} s CPU).")


CUSTOM = {e.name: e for e in (_TrainStep(), _Mnist1dTraining())}  # evaluate: `_evaluate`
