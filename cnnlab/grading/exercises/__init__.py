'''The graded exercises, one small module per family (`conv`, `pool`, `size`, `pad`, ...).

How to add an exercise
======================

Write (or extend) ONE module in this package. The registry
(`cnnlab.grading.registry`) imports every module here whose name does not
start with ``_`` and collects the `Exercise` objects in its ``EXERCISES``
list; `check(name, fn)` then works for them. Nothing else changes: no list
of names to extend, no dispatch on the name anywhere else.

An `Exercise` (`cnnlab.grading.exercise`) holds the signature, worked
examples (from `cnnlab.examples` when the decks have one), feature cases, a
random case generator, the reference, keyed mistakes (`Mistake`), forbidden
calls and the result kind. Tests assert `CheckResult.mistake` (the key).

Kind "array" (one float64 ndarray)::

    import numpy as np
    from cnnlab import reference as R
    from cnnlab.grading.exercise import REQUIRED, Exercise, Mistake

    def _random(rng, label):
        return RELU.case(label, x=rng.standard_normal(tuple(rng.integers(1, 5, size=3))))

    RELU = Exercise(
        name="relu",
        signature=(("x", REQUIRED),),
        reference=R.relu,                                # reference(*values, device=...)
        worked=lambda: [RELU.case("worked example 'a ramp'", x=np.linspace(-2.0, 2.0, 5))],
        features=lambda rng: [RELU.case("feature case 'exact zeros'", x=np.array([[-1.0, 0.0, 2.0]]))],
        random=_random,
        mistakes=(
            Mistake("abs", "Your output equals |x|: ReLU keeps positives and sets negatives to 0.",
                    lambda P, dev: np.abs(P.x)),     # P: the params (after `normalize`)
        ),
    )
    EXERCISES = [RELU]

Kind "int": as above with ``kind="int"`` and an int reference; a mistake's
candidate returns the wrong int. Calls that must raise come from
``errors=lambda: [EX.case("error case ...", error="ValueError", n=3, ...)]``;
mistakes with ``when="no-raise"`` name what a function that returned instead
of raising did (see `size.py`).

Kind "arrays" (a tuple of arrays)::

    Exercise(name="relu_backward_pair", signature=..., kind="arrays", outputs=("dx", "dmask"),
             reference=..., mistakes=(Mistake("dx-sign", "...", cand, output=0),), ...)

Hyper-parameter mistakes (ignored, swapped pair, one axis only, first entry,
off by one, wrong default) come from ONE factory with one wording::

    from cnnlab.grading.mistake import hyper_mistakes
    mistakes = (*hyper_mistakes("stride", lambda P, dev, s: R.conv2d(P.x, P.w, P.b, s, P.p, P.d, device=dev),
                                get=lambda P: P.s, neutral=1,
                                meaning="The window of output (i, j) starts at (i·sH, j·sW)."),)

`normalize=` turns the params into the namespace `P` that candidates see
(ints as ``(h, w)`` pairs through `cnnlab._args`); `helpers=("pad2d",)` lets
the message say "your pad2d fails its check" when the student's own helper is
the cause; `forbidden={"cnnlab.shapes": ["conv_output_size"]}` adds entry
points the student may not call (torch/scipy convolution and pooling and the
course's own implementations are always forbidden for numpy kinds;
``guard_own=False`` lifts the latter where a case passes a function that uses
them, such as numerical_gradient's ``f``).

Kind "module" (the function returns a fresh ``nn.Module``): each case's
values are the constructor arguments, ``data={"input": batch}`` the float64
input it is run on. Checked by parameter count, the output shapes of its leaf
layers in forward order, and — with a reference — the output after its
``state_dict`` is loaded into the reference module (float64)::

    import numpy as np
    from torch import nn
    from cnnlab.grading.exercise import REQUIRED, Exercise, ModuleSpec

    def _tiny(c_in, c_out):                 # the reference: same signature as the student's function
        return nn.Sequential(nn.Conv1d(c_in, c_out, 3), nn.ReLU(), nn.Flatten(), nn.Linear(c_out * 6, 2))

    TINY = Exercise(
        name="tiny_net", signature=(("c_in", REQUIRED), ("c_out", REQUIRED)), kind="module",
        module=ModuleSpec(reference=_tiny),  # or n_params=..., layer_shapes=[(N, C, L), ...] without one
        features=lambda rng: [TINY.case("feature case 'two samples'", c_in=2, c_out=4,
                                        data={"input": rng.standard_normal((2, 2, 8))})],
    )
    EXERCISES = [TINY]

Kind "training" (a training step or loop; pass = a stated accuracy on
held-back data within a time budget; seeded; runs on `cnnlab.device()`)::

    import numpy as np, torch
    from cnnlab.grading.exercise import REQUIRED, Exercise, TrainingSpec

    def _prepare(seed, device):             # grader side: data and a fresh model, seeded
        g = np.random.default_rng(seed)
        x = g.standard_normal((400, 2)); y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
        torch.manual_seed(seed)
        return {"model": torch.nn.Linear(2, 2).double().to(device), "x": x[:300], "y": y[:300],
                "x_test": x[300:], "y_test": y[300:]}

    def _run(step, task, device):           # student side: calls the student's step
        model = task["model"]; opt = torch.optim.SGD(model.parameters(), lr=0.5)
        x, y = (torch.as_tensor(task[k], device=device) for k in ("x", "y"))
        for _ in range(50):
            step(model, x, y, opt)
        return model

    def _predict(model, task, device):
        with torch.no_grad():
            return model(torch.as_tensor(task["x_test"], device=device)).argmax(1).cpu().numpy()

    TRAIN_STEP = Exercise(
        name="train_step", signature=(("model", REQUIRED), ("x", REQUIRED), ("y", REQUIRED), ("opt", REQUIRED)),
        kind="training",
        training=TrainingSpec(prepare=_prepare, run=_run, predict=_predict, accuracy=0.9, time_budget=30))
    EXERCISES = [TRAIN_STEP]

The student side (`cnnlab.grading.student`) runs the student's code and
returns plain data; `cnnlab.grading.judge.judge(exercise, case, outputs,
expected)` gives the verdict (passed, message, mistake key) without touching
student code. tests/test_grading_exercise.py runs the module and training
examples above.
'''
