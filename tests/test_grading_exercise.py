"""The Exercise API: the module and training kinds on toy exercises, the registry, the judge's purity."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.grading import check, registry
from cnnlab.grading.exercise import REQUIRED, Exercise
from cnnlab.grading.judge import judge
from cnnlab.grading.mistake import HYPER_KINDS, hyper_mistakes
from cnnlab.grading.student import Outputs

pytestmark = [pytest.mark.ps3]


def _guide_blocks() -> dict:
    """The complete examples of the guide in cnnlab/grading/exercises/__init__.py, by the kind they show."""
    import textwrap

    import cnnlab.grading.exercises as guide

    blocks = {}
    for part in guide.__doc__.split("::\n\n")[1:]:
        lines = []
        for line in part.split("\n"):
            if line and not line.startswith("    "):
                break
            lines.append(line)
        code = textwrap.dedent("\n".join(lines))
        if "EXERCISES = [" in code:
            blocks[code.split('kind="')[1].split('"')[0] if 'kind="' in code else "array"] = code
    return blocks


def _run_guide(kind: str) -> dict:
    ns: dict = {}
    exec(compile(_guide_blocks()[kind], f"<guide: {kind}>", "exec"), ns)
    return ns


_MODULE = _run_guide("module")  # the guide's examples are what is tested: they cannot drift
_TRAINING = _run_guide("training")
TINY, _tiny = _MODULE["TINY"], _MODULE["_tiny"]
TRAIN_STEP = _TRAINING["TRAIN_STEP"]


def test_guide_has_an_example_per_kind():
    assert {"array", "module", "training"} <= set(_guide_blocks())


@pytest.fixture
def toys(monkeypatch):
    monkeypatch.setitem(registry.REGISTRY, "tiny_net", TINY)
    monkeypatch.setitem(registry.REGISTRY, "train_step", TRAIN_STEP)


def test_module_kind_correct_passes(toys):
    def tiny_net(c_in, c_out):
        return nn.Sequential(nn.Conv1d(c_in, c_out, 3), nn.ReLU(), nn.Flatten(), nn.Linear(c_out * 6, 2))

    result = check("tiny_net", tiny_net, device="cpu")
    assert result.passed, result.message
    assert result.mistake is None


def test_module_kind_mistakes_have_keys(toys):
    def wrong_kernel(c_in, c_out):  # kernel 2: a longer feature map, another Linear size
        return nn.Sequential(nn.Conv1d(c_in, c_out, 2), nn.ReLU(), nn.Flatten(), nn.Linear(c_out * 7, 2))

    def no_relu(c_in, c_out):
        return nn.Sequential(nn.Conv1d(c_in, c_out, 3), nn.Flatten(), nn.Linear(c_out * 6, 2))

    class Named(nn.Module):  # the same layers under other names: the reference cannot load them
        def __init__(self, c_in, c_out):
            super().__init__()
            self.conv = nn.Conv1d(c_in, c_out, 3)
            self.fc = nn.Linear(c_out * 6, 2)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))

    class Leaky(nn.Sequential):  # right layers and shapes, wrong forward pass
        def forward(self, x):
            return super().forward(x) * 2

    assert check("tiny_net", wrong_kernel, device="cpu").mistake == "layer-shapes"
    assert check("tiny_net", no_relu, device="cpu").mistake == "layer-shapes"
    assert check("tiny_net", lambda c_in, c_out: 3, device="cpu").mistake == "not-a-module"
    assert check("tiny_net", lambda c_in, c_out: Leaky(*_tiny(c_in, c_out)), device="cpu").mistake == "forward-values"
    assert check("tiny_net", Named, device="cpu").mistake in ("layer-shapes", "state-dict-keys")


def test_training_kind_reaches_accuracy(toys):
    def step(model, x, y, opt):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    def no_step(model, x, y, opt):  # forgets opt.step(): the model never learns
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()

    result = check("train_step", step, device="cpu", seed=1)
    assert result.passed, result.message
    assert check("train_step", step, device="cpu", seed=1).message == result.message
    assert check("train_step", no_step, device="cpu").mistake == "accuracy-too-low"

    def slow(model, x, y, opt):
        import time
        time.sleep(0.2)

    assert check("train_step", slow, device="cpu", time_limit=0.5).mistake == "time-limit"


def test_judge_works_on_plain_data_only():
    ex = registry.get("conv_output_size")
    case = ex.build_cases(0)[0]
    expected = ex.reference(*case.values)
    assert judge(ex, case, Outputs(value=expected), expected).passed
    verdict = judge(ex, case, Outputs(value=expected + 1), expected)
    assert not verdict.passed and verdict.message.startswith("  Problem:")
    assert judge(ex, case, Outputs(raised=("ZeroDivisionError", "x", ("ZeroDivisionError",))), expected).mistake \
        == "exception"


def test_hyper_mistakes_one_wording_every_kind():
    ms = hyper_mistakes("stride", lambda P, dev, v: v, get=lambda P: P.s, neutral=1, meaning="M.",
                        default=(lambda P: True, lambda P: (1, 1), "stride=None means kernel_size"))
    assert [m.key for m in ms] == [f"stride-{k}" for k in HYPER_KINDS]
    pad = hyper_mistakes("padding", lambda P, dev, v: v, get=lambda P: P.p, neutral=0, meaning="M.")
    swap = [("padding", "stride"), ("Padding", "Stride"), ("pH", "sH"), ("pW", "sW"), ("=0", "=1")]

    def as_stride(text):
        for a, b in swap:
            text = text.replace(a, b)
        return text

    assert [as_stride(m.text) for m in pad] == [m.text for m in ms[:len(pad)]]


def test_registry_rejects_bad_exercises():
    with pytest.raises(ValueError):
        Exercise(name="x", signature=(("x", REQUIRED),), kind="matrix", reference=lambda x: x)
    with pytest.raises(ValueError):
        Exercise(name="x", signature=(("x", REQUIRED),), kind="module")


def test_student_outputs_are_plain_data():
    """What crosses from the student's side is picklable data: arrays, numbers, type names; never the object."""
    import pickle

    from cnnlab.grading import student
    from cnnlab.grading.compare import Foreign

    class Spoof(np.ndarray):
        def __eq__(self, other):
            return True

    ex = registry.get("pad2d")
    case = ex.build_cases(0)[0]
    for fn, kind in [(lambda x, p: np.zeros((2, 2)), np.ndarray), (lambda x, p: torch.zeros(2), Foreign),
                     (lambda x, p: np.zeros(2).view(Spoof), Foreign), (lambda x, p: [np.zeros(2)], list)]:
        out = student.call(ex, fn, case, None, [None])
        assert isinstance(out.value, kind)
        assert pickle.loads(pickle.dumps(out)).typename == out.typename
    rec = student.call(TINY, _tiny, TINY.build_cases(0)[0], "cpu", [None]).value
    assert set(rec) == {"n_params", "state_dict", "shapes", "output", "forward_error"}
    assert all(type(v) is np.ndarray for v in rec["state_dict"].values())
    pickle.dumps(rec)
