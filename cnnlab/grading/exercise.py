"""`Exercise`: everything `check` knows about one graded function, in one value.

An exercise module (``cnnlab/grading/exercises/<family>.py``) builds one
`Exercise` per graded function and lists them in ``EXERCISES``; the registry
collects them. Nothing outside that module looks at an exercise's name.

Result kinds (`Exercise.kind`):

- ``"array"``: one float64 ``numpy.ndarray``, compared with the reference.
- ``"int"``: a Python/numpy int (``conv_output_size``).
- ``"arrays"``: a tuple of float64 arrays named by `Exercise.outputs`
  (``("dx", "dw", "db")``).
- ``"module"``: the function returns a fresh ``torch.nn.Module``; see `ModuleSpec`.
- ``"training"``: the student's training step or loop; see `TrainingSpec`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import numpy as np

from cnnlab.grading.cases import REQUIRED, Case
from cnnlab.grading.mistake import Mistake

__all__ = ["Exercise", "ModuleSpec", "TrainingSpec", "KINDS", "REQUIRED", "Case", "Mistake"]

KINDS = ("array", "int", "arrays", "module", "training")


@dataclass(frozen=True)
class ModuleSpec:
    """How a ``"module"`` exercise is checked (the student's function returns an ``nn.Module``).

    Each case's ``values`` are the constructor arguments (``()`` for
    ``mnist1d_cnn()``, ``(c_in, c_out, stride)`` for ``basic_block``) and
    ``case.data["input"]`` is the float64 batch it is run on. The student's
    module is checked, in this order, by: parameter count, the output shapes
    of its leaf layers in forward order, and — when `reference` is given —
    its output in float64 after its ``state_dict`` is loaded into the
    reference module (so the forward pass itself is compared, not just shapes).

    Attributes:
        reference: ``reference(*case.values)`` → a fresh reference ``nn.Module``
            (same signature as the student's function), or None.
        n_params: the required parameter count, or None to take it from `reference`.
        layer_shapes: the leaf layers' output shapes (batch axis included) in
            forward order, or None to take them from `reference`;
            ``layer_shapes(case)`` may also be a function of the case.
        train: run the forward pass in training mode (default: eval mode, so
            BatchNorm uses its running statistics).
        load_strict: the student's ``state_dict`` keys must equal the reference's.
    """

    reference: Callable | None = None
    n_params: int | None = None
    layer_shapes: tuple | Callable | None = None
    train: bool = False
    load_strict: bool = True


@dataclass(frozen=True)
class TrainingSpec:
    """How a ``"training"`` exercise is checked: reach `accuracy` on held-back data in `time_budget` s.

    Everything is seeded from the check's seed (numpy and torch). Runs on
    ``cnnlab.device()`` unless `check(..., device=...)` says otherwise.

    Attributes:
        prepare: ``prepare(seed, device)`` → a dict ``task`` with at least
            ``"x_test"`` and ``"y_test"`` (held-back data, numpy) plus whatever
            the loop needs (a fresh model, training tensors, an optimizer).
            Runs on the grader's side; it never calls the student's code.
        run: ``run(fn, task, device)`` → the trained model (or anything
            `predict` accepts). Calls the student's `fn` (a step or a loop);
            this is the only part that runs student code.
        predict: ``predict(trained, task, device)`` → numpy int labels for
            ``task["x_test"]``.
        accuracy: the accuracy on held-back data required to pass (0..1).
        time_budget: seconds allowed for `run` (the student's training).
        describe: one line for messages (the data, model and epochs).
    """

    prepare: Callable
    run: Callable
    predict: Callable
    accuracy: float
    time_budget: float = 60.0
    describe: str = ""


def _default_normalize(params: dict) -> SimpleNamespace:
    return SimpleNamespace(**params)


@dataclass(frozen=True)
class Exercise:
    """One graded function.

    Attributes:
        name: the function's name, as in DESIGN §2 (``check(name, fn)``).
        signature: ``(("x", REQUIRED), ("padding", 0), ...)``: parameter names
            and defaults in call order; cases pass arguments positionally and
            drop trailing defaults, so defaults are tested too.
        kind: one of `KINDS`.
        reference: ``reference(*case.values, device=device)`` → the expected
            result (float64 numpy, int, tuple of arrays). Not used for the
            ``"module"``/``"training"`` kinds (see `module`, `training`).
        worked: ``worked()`` → the deck's worked examples (cases), run first.
        features: ``features(rng)`` → fixed cases, one feature each (padding,
            stride (2, 1), ties, ...), run whatever the seed.
        random: ``random(rng, label)`` → one random case; called `trials` times.
        errors: ``errors()`` → cases that must raise (``Case.error``).
        mistakes: the diagnosis catalogue (`Mistake`s, tried in order).
        forbidden: extra entry points forbidden while the student's function
            runs, ``{"module": ["name", ...]}``, on top of `guard.TARGETS`.
        guard_own: numpy kinds only: also forbid the course's own implementations
            (every array exercise's name in cnnlab.functional/cnnlab.reference).
            Turn it off when a case passes a function that uses them (the `f`
            of numerical_gradient).
        outputs: names of the parts of an ``"arrays"`` result (``("dx", "dw", "db")``).
        trials: default number of random cases.
        normalize: ``normalize(params)`` → the namespace `P` that mistakes see
            (hyper-parameters as ``(h, w)`` pairs, ...); default: the params as is.
        hints: ``hints(exc, params)`` → a hint for an exception the student's
            function raised, or None.
        helpers: names of other exercises the student's function may call
            (``("pad2d",)`` for conv2d): when a case fails and the student's own
            helper (found in the function's globals) fails its check, the
            message says so first.
        module: the `ModuleSpec` of a ``"module"`` exercise.
        training: the `TrainingSpec` of a ``"training"`` exercise.
        probe_constant: a failed array case is re-run on fresh inputs of the
            same shapes; the same output twice means the inputs are not used.
    """

    name: str
    signature: tuple
    kind: str = "array"
    reference: Callable | None = None
    worked: Callable = field(default=lambda: [], repr=False)
    features: Callable = field(default=lambda rng: [], repr=False)
    random: Callable | None = field(default=None, repr=False)
    errors: Callable = field(default=lambda: [], repr=False)
    mistakes: tuple = ()
    forbidden: dict = field(default_factory=dict)
    outputs: tuple = ()
    trials: int = 8
    normalize: Callable = field(default=_default_normalize, repr=False)
    hints: Callable | None = field(default=None, repr=False)
    helpers: tuple = ()
    module: ModuleSpec | None = None
    training: TrainingSpec | None = None
    probe_constant: bool = True
    guard_own: bool = True

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Exercise {self.name!r}: kind must be one of {KINDS}; got {self.kind!r}")
        if self.kind == "arrays" and not self.outputs:
            raise ValueError(f"Exercise {self.name!r}: kind 'arrays' needs outputs=(names of the parts)")
        if self.kind == "module" and self.module is None:
            raise ValueError(f"Exercise {self.name!r}: kind 'module' needs module=ModuleSpec(...)")
        if self.kind == "training" and self.training is None:
            raise ValueError(f"Exercise {self.name!r}: kind 'training' needs training=TrainingSpec(...)")
        if self.kind in ("array", "int", "arrays") and self.reference is None:
            raise ValueError(f"Exercise {self.name!r}: kind {self.kind!r} needs a reference")
        names = [n for n, _ in self.signature]
        if len(set(names)) != len(names):
            raise ValueError(f"Exercise {self.name!r}: repeated parameter names in {names}")

    # ------------------------------------------------------------- cases
    def case(self, label: str, error: str | None = None, data: dict | None = None, **kw) -> Case:
        """A case from keyword values; trailing arguments equal to their default are dropped."""
        unknown = set(kw) - {n for n, _ in self.signature}
        if unknown:
            raise TypeError(f"{self.name}: unknown parameters {sorted(unknown)}")
        full = [(n, kw.get(n, d)) for n, d in self.signature]
        missing = [n for n, v in full if v is REQUIRED]
        if missing:
            raise TypeError(f"{self.name}: missing required parameters {missing}")
        defaults = dict(self.signature)
        while full and defaults[full[-1][0]] is not REQUIRED and _same(full[-1][1], defaults[full[-1][0]]):
            full.pop()
        return Case(label, tuple(n for n, _ in full), tuple(v for _, v in full), error, data)

    def params(self, case: Case) -> dict:
        """Every parameter of the call, defaults filled in."""
        out = {n: d for n, d in self.signature}
        out.update(zip(case.names, case.values))
        return out

    def describe(self, case: Case) -> str:
        """``conv2d(x, w, b, stride=(2, 1)) with x of shape (2, 3, 7, 6), ...`` for messages."""
        arrays = [(n, v) for n, v in zip(case.names, case.values) if isinstance(v, np.ndarray)]
        call = ", ".join(n if isinstance(v, np.ndarray) else f"{n}={v!r}" for n, v in zip(case.names, case.values))
        text = f"{self.name}({call})"
        if arrays:
            text += " with " + ", ".join(f"{n} of shape {v.shape}" for n, v in arrays)
        left = [n for n, _ in self.signature[len(case.names):]]
        if left:
            text += f" ({', '.join(left)} left at the default)"
        if case.data and isinstance(case.data.get("input"), np.ndarray):
            text += f", run on an input of shape {case.data['input'].shape}"
        return text

    def build_cases(self, seed: int = 0, trials: int | None = None) -> list[Case]:
        """Worked examples, feature cases, `trials` random cases, error cases — in that order."""
        if self.kind == "training":  # note: one seeded run; the seed picks the data order and initial weights
            return [Case(f"training run (seed {seed})", (), (), None, {"seed": int(seed)})]
        rng = np.random.default_rng(seed)
        n = self.trials if trials is None else int(trials)
        if n < 0:
            raise ValueError(f"trials must be >= 0; got {trials!r}")
        out = list(self.worked()) + list(self.features(rng))  # note: features draw from rng before random cases
        if self.random is not None:
            out += [self.random(rng, f"random case {i + 1} of {n}") for i in range(n)]
        return out + list(self.errors())


def _same(a, b) -> bool:
    return (a is None and b is None) or (not isinstance(a, np.ndarray) and a is not None and a == b)
