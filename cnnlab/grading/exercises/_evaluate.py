"""ps3's ``evaluate(model, x, y) -> float``: accuracy in [0, 1], checked by behaviour.

The model is a spy (`_Spy`) that records, on every forward pass, whether it ran in
eval mode and with gradients off; it is built in the kernel (`part_evaluate`) from the
same seed as the grader's copy, which gives the expected accuracy.
"""
from __future__ import annotations

from cnnlab.grading.custom import spend
from cnnlab.grading.exercises._training import _accuracy, _Base, _Fail, _number

__all__ = ["CUSTOM"]


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

    @staticmethod
    def _inner(seed):
        import torch

        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(40, 10))

    def part_evaluate(self, fn, budget, state, seed, x, y):
        """Kernel side: ``fn(spy, x, y)`` on the seeded model in training mode; how it was run and what it returned."""
        import torch

        spy = _Spy(self._inner(seed))
        spy.train()
        torch.manual_seed(seed + 1)
        out = spend(budget, lambda: fn(spy, torch.as_tensor(x), torch.as_tensor(y)))
        return {"calls": [(bool(t), bool(g)) for t, g in spy.calls], "out": _number(out)}

    def _run(self, side, seed, time_limit):
        import torch

        inner = self._inner(seed)
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(300, 1, 40, generator=gen)
        with torch.no_grad():
            y = inner[2](x.flatten(1)).argmax(1)
            flip = torch.rand(300, generator=gen) < 0.3  # note: 30 % wrong labels, so accuracy is not 1
            y[flip] = (y[flip] + 1) % 10
        expected = _accuracy(inner, x, y)
        rec = side.run("evaluate", [time_limit], seed=seed, x=x.numpy(), y=y.numpy())
        calls, out = [tuple(c) for c in rec["calls"]], rec["out"]
        where = "a model with Dropout(0.5), 300 samples, in training mode beforehand"
        if not calls:
            raise _Fail(f"on {where}, evaluate never called the model.", "model-not-called")
        if any(train for train, _ in calls):
            raise _Fail(f"on {where}, the model ran in training mode (dropout active): call model.eval() before "
                        f"evaluating.", "eval-missing")
        if any(grad for _, grad in calls):
            raise _Fail(f"on {where}, the model ran with gradients recorded: evaluate inside `with torch.no_grad():` "
                        f"(it saves memory and time).", "no-grad-missing")
        if out["tensor"]:
            raise _Fail("evaluate returned a tensor; return the accuracy as a Python float (.item()).",
                        "accuracy-tensor")
        if out["value"] is None:
            raise _Fail(f"evaluate must return the accuracy as a float; it returned {str(out['type'])[:60]}.",
                        "no-accuracy")
        val = float(out["value"])
        if abs(val - expected) <= 1e-6:  # note: float32 means are fine; accuracies are multiples of 1/300
            return f"evaluate: eval mode, no gradients, accuracy {expected:.4f} as expected."
        if abs(val - expected * len(y)) <= 1e-3:
            raise _Fail(f"evaluate returned {val:g}, the number of correct predictions; return the fraction "
                        f"({expected:.4f}).", "count-not-fraction")
        if abs(val - 100 * expected) <= 1e-4:
            raise _Fail(f"evaluate returned {val:g}, a percentage; return a fraction in [0, 1].", "percent")
        raise _Fail(f"on {where}, evaluate returned {val:.6g}; the accuracy is {expected:.6g} (argmax of the "
                    f"logits over the classes, compared with y, averaged).", "wrong-accuracy")


CUSTOM = {e.name: e for e in (_Evaluate(),)}
