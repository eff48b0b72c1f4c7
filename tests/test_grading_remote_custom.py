"""Custom checks decided by the grader: a grading-mode round trip per converted check.

The kernel (a subprocess, `remote_harness`) lies: its `check` always tells the notebook
"passed". The grader's records must still be the grader's verdicts: pass for a right
implementation, fail with the mistake's key for a wrong one, fail for made-up outputs.
"""
from __future__ import annotations

import pytest

from remote_harness import grade_remotely, summary

PS2_KERNEL = '''
import numpy as np
from wrong_impls_ps23 import ARRAY, CORRECT
from test_grading_ps23 import _convnet

wrong = {(n, k): f for n, k, f in ARRAY}
check("softmax_cross_entropy", CORRECT["softmax_cross_entropy"], seed=1)
check("softmax_cross_entropy", wrong["softmax_cross_entropy", "no-max-shift"], seed=1)
check("softmax_cross_entropy", wrong["softmax_cross_entropy", "grad-not-divided"], seed=1)
check("numerical_gradient", CORRECT["numerical_gradient"], seed=1)
check("numerical_gradient", wrong["numerical_gradient", "dout-ignored"], seed=1)
check("numerical_gradient", wrong["numerical_gradient", "x-not-restored"], seed=1)
check("convnet_loss", _convnet())
check("convnet_loss", _convnet("no_relu_backward"))
check("convnet_loss", _convnet("course_pool"))

def relu(x):
    return np.abs(x)  # BUG: the student's own helper, beside convnet_loss in the "notebook"

def convnet_loss(params, x, y):
    loss, grads = _convnet()(params, x, y)
    return loss + 1.0 + 0 * relu(np.zeros(1)).sum(), grads

check("convnet_loss", convnet_loss)
check("convnet_training", _convnet(), time_limit=60)
check("convnet_training", _convnet("missing_key"), time_limit=60)

def rel_error(a, b):
    return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))

check("rel_error", rel_error, seed=6)
check("rel_error", lambda a, b: float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + 1e-12)), seed=6)
'''


@pytest.fixture(scope="module")
def ps2_records():
    return grade_remotely(PS2_KERNEL)


def test_remote_ps2_verdicts_are_the_graders(ps2_records):
    assert summary(ps2_records) == [
        ("softmax_cross_entropy", True, None),
        ("softmax_cross_entropy", False, "no-max-shift"),
        ("softmax_cross_entropy", False, "grad-not-divided"),
        ("numerical_gradient", True, None),
        ("numerical_gradient", False, "dout-ignored"),
        ("numerical_gradient", False, "x-not-restored"),
        ("convnet_loss", True, None),
        ("convnet_loss", False, "wrong-values"),
        ("convnet_loss", False, "forbidden-call"),
        ("convnet_loss", False, "helper-fails:relu"),
        ("convnet_training", True, None),
        ("convnet_training", False, "grads-missing"),
        ("rel_error", True, None),
        ("rel_error", False, "wrong-value"),
    ]


def test_remote_ps2_messages_hide_the_seed(ps2_records):
    failed = [r for r in ps2_records if r["name"] == "softmax_cross_entropy" and not r["passed"]]
    assert all("the grader's hidden seed" in r["message"] and "Reproduce" not in r["message"] for r in failed)
    helper = next(r for r in ps2_records if r["mistake"] == "helper-fails:relu")
    assert "your relu fails its own check" in helper["message"]


MADE_UP = '''
import numpy as np
import cnnlab.grading.custom as custom
from wrong_impls_ps23 import CORRECT
from test_grading_ps23 import _convnet

custom.kernel_run = lambda *a, **k: {"ok": {"value": np.zeros(3), "raised": None, "forbidden": None, "mutated": None}}
check("softmax_cross_entropy", CORRECT["softmax_cross_entropy"])
check("numerical_gradient", CORRECT["numerical_gradient"])
custom.kernel_run = lambda *a, **k: {"ok": {"loss": 0.0, "grads": {}}}
check("convnet_loss", _convnet())
custom.kernel_run = lambda *a, **k: {"raised": 5}
check("convnet_training", _convnet())
'''


def test_remote_made_up_outputs_fail():
    records = grade_remotely(MADE_UP)
    assert [(r["name"], r["passed"]) for r in records] == [
        ("softmax_cross_entropy", False), ("numerical_gradient", False), ("convnet_loss", False),
        ("convnet_training", False)]


PS3_KERNEL = '''
from wrong_impls_ps23 import _models, _steps

models, steps = _models(), _steps()
wrong = {(n, k): f for n, k, f in models["wrong"] + steps["wrong"]}
for name in ("mnist1d_cnn", "mnist1d_mlp", "generate_model"):
    check(name, models["correct"][name])
check("mnist1d_cnn", wrong["mnist1d_cnn", "padding-added"])
check("mnist1d_cnn", wrong["mnist1d_cnn", "not-fresh"])
check("mnist1d_cnn", wrong["mnist1d_cnn", "sequential-list"])
check("mnist1d_mlp", wrong["mnist1d_mlp", "softmax-at-end"])
check("generate_model", wrong["generate_model", "flatten-size"])
check("train_step", steps["correct"]["train_step"])
check("train_step", wrong["train_step", "zero-grad-missing"])
check("train_step", wrong["train_step", "loss-after-step"])
check("evaluate", steps["correct"]["evaluate"])
check("evaluate", wrong["evaluate", "eval-missing"])
check("evaluate", wrong["evaluate", "accuracy-tensor"])
check("mnist1d_training", lambda m, o, x, y: 0.0, time_limit=120)
'''


def test_remote_ps3_verdicts_are_the_graders():
    records = grade_remotely(PS3_KERNEL)
    assert summary(records) == [
        ("mnist1d_cnn", True, None), ("mnist1d_mlp", True, None), ("generate_model", True, None),
        ("mnist1d_cnn", False, "padding-added"),
        ("mnist1d_cnn", False, "not-fresh"),
        ("mnist1d_cnn", False, "sequential-list"),
        ("mnist1d_mlp", False, "softmax-at-end"),
        ("generate_model", False, "flatten-size"),
        ("train_step", True, None),
        ("train_step", False, "zero-grad-missing"),
        ("train_step", False, "loss-after-step"),
        ("evaluate", True, None),
        ("evaluate", False, "eval-missing"),
        ("evaluate", False, "accuracy-tensor"),
        ("mnist1d_training", False, "accuracy-too-low"),
    ]


@pytest.mark.slow
def test_remote_mnist1d_training_passes_a_right_step():
    records = grade_remotely('''
from wrong_impls_ps23 import _steps
check("mnist1d_training", _steps()["correct"]["train_step"], time_limit=120)
''')
    assert summary(records) == [("mnist1d_training", True, None)], records


def test_remote_ps3_made_up_outputs_fail():
    records = grade_remotely('''
import cnnlab.grading.custom as custom
from wrong_impls_ps23 import _models, _steps

custom.kernel_run = lambda *a, **k: {"ok": {"count": 2050, "rows": [], "out": None, "params": []}}
check("mnist1d_cnn", _models()["correct"]["mnist1d_cnn"])
custom.kernel_run = lambda *a, **k: {"ok": {"after": [], "grads": [], "out": {"value": 1.0}}}
check("train_step", _steps()["correct"]["train_step"])
custom.kernel_run = lambda *a, **k: {"ok": {"calls": [[False, False]], "out": {"tensor": False, "value": 1.0}}}
check("evaluate", _steps()["correct"]["evaluate"])
''')
    assert [(r["name"], r["passed"]) for r in records] == [
        ("mnist1d_cnn", False), ("train_step", False), ("evaluate", False)]


PS45_KERNEL = '''
from functools import partial

import torch
from torch import nn

from cnnlab.models.blocks import basic_block as ref_block
from wrong_impls_ps45 import basic_block, predict

def receptive_field(layers):
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r

def conv_cost(c_in, c_out, kernel_size, h_out, w_out):
    params = c_out * c_in * kernel_size * kernel_size
    return params, params * h_out * w_out

check("basic_block", basic_block, seed=43, time_limit=20)
check("basic_block", partial(basic_block, bug="relu_before_add"), seed=43, time_limit=20)
check("basic_block", partial(basic_block, bug="no_downsample"), seed=43, time_limit=20)
check("predict", predict)
check("predict", partial(predict, bug="no_eval"))
check("predict", partial(predict, bug="numpy"))
check("receptive_field", receptive_field, seed=44)
check("receptive_field", lambda layers: 1 + sum(k - 1 for k, s in layers), seed=44)
check("conv_cost", conv_cost, seed=45)
check("conv_cost", lambda a, b, k, h, w: (a * b * k * k, a * b * k * k * h), seed=45)
torch.manual_seed(0)
check("small_resnet", nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.LazyLinear(8)))
check("small_resnet", nn.Sequential(ref_block(1, 8, 1), ref_block(8, 8, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                    nn.Linear(8, 8)))
check("small_resnet", [1, 2, 3])
check("tiny_unet", nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Sigmoid()))
check("tiny_unet", nn.Conv2d(1, 2, 3, padding=1))
'''


def test_remote_ps45_verdicts_are_the_graders():
    records = grade_remotely(PS45_KERNEL)
    assert summary(records) == [
        ("basic_block", True, None),
        ("basic_block", False, "relu-before-add"),
        ("basic_block", False, "downsample-missing"),
        ("predict", True, None),
        ("predict", False, "state-changed"),
        ("predict", False, "wrong-type"),
        ("receptive_field", True, None),
        ("receptive_field", False, "wrong-value"),
        ("conv_cost", True, None),
        ("conv_cost", False, "wrong-value"),
        ("small_resnet", False, "blocks-missing"),
        ("small_resnet", False, "accuracy-too-low"),
        ("small_resnet", False, "not-a-module"),
        ("tiny_unet", False, "dice-too-low"),
        ("tiny_unet", False, "output-shape"),
    ]
    assert "the grader's hidden seed" in records[1]["message"]


def test_remote_ps45_made_up_outputs_fail():
    records = grade_remotely('''
import numpy as np
import cnnlab.grading.custom as custom
from torch import nn
from cnnlab.models.blocks import basic_block
from wrong_impls_ps45 import predict

custom.kernel_run = lambda *a, **k: {"ok": {"shapes": {}}}
check("basic_block", basic_block)
custom.kernel_run = lambda *a, **k: {"ok": {"tensor": True, "dtype": "torch.int64", "shape": (12,),
                                            "values": np.zeros(12, dtype=np.int64), "state_same": True,
                                            "training": True}}
check("predict", predict)
custom.kernel_run = lambda *a, **k: {"ok": {"blocks": 2, "strided": 1} if a[1] == "structure" else np.zeros(500)}
check("small_resnet", nn.Linear(2, 2))
custom.kernel_run = lambda *a, **k: {"ok": {"value": 7, "raised": None}}
check("receptive_field", lambda layers: 7)
''')
    assert [(r["name"], r["passed"]) for r in records] == [
        ("basic_block", False), ("predict", False), ("small_resnet", False), ("receptive_field", False)]


def test_remote_malformed_answers_are_a_recorded_failure():
    records = grade_remotely('''
import cnnlab.grading.custom as custom
from wrong_impls_ps23 import CORRECT, _steps

custom.kernel_run = lambda *a, **k: {"ok": {"value": 1.0, "raised": 5, "forbidden": None, "mutated": None}}
check("softmax_cross_entropy", CORRECT["softmax_cross_entropy"])
custom.kernel_run = lambda *a, **k: {"ok": [1, 2]}
check("train_step", _steps()["correct"]["train_step"])
''')
    assert summary(records) == [("softmax_cross_entropy", False, "malformed-outputs"),
                                ("train_step", False, "exception")]


GRADCHECK_KERNEL = '''
import numpy as np
from cnnlab import functional as F
from cnnlab.functional import conv2d, conv2d_backward, max_pool2d, max_pool2d_backward

def numerical_gradient(f, x, dout=None, h=1e-6):
    return F.numerical_gradient(f, x, dout, h)

def avg_pool2d(x, k):
    return F.avg_pool2d(x, k)

def avg_pool2d_backward(dout, x, k):
    return F.avg_pool2d_backward(dout, x, k)

check("gradient_check", numerical_gradient, seed=7)

def avg_pool2d_backward(dout, x, k):
    return 2 * F.avg_pool2d_backward(dout, x, k)  # BUG: twice the gradient

check("gradient_check", numerical_gradient, seed=7)

def avg_pool2d(x, k):
    return 2 * F.avg_pool2d(x, k)  # BUG: a sum of 2x2 halves; the backward pass shares it

check("gradient_check", numerical_gradient, seed=7)
'''


def test_remote_gradient_check_is_the_graders():
    records = grade_remotely(GRADCHECK_KERNEL)
    assert summary(records) == [("gradient_check", True, None), ("gradient_check", False, "gradient-check"),
                                ("gradient_check", False, "shared-mistake")]


ANSWERS_CELL = '''
check("answers", {"eval_bug_cause": (eval_bug_cause, "B", "eval_bug_cause: BatchNorm in training mode"),
                  "eval_bug_changed": (eval_bug_changed, "C", "eval_bug_changed: the running statistics")})
'''


def test_remote_answers_key_comes_from_the_cell_source():
    lying_key = '''
check("answers", {"eval_bug_cause": (eval_bug_cause, eval_bug_cause, ""),
                  "eval_bug_changed": (eval_bug_changed, eval_bug_changed, "")})
'''
    records = grade_remotely(f'''
eval_bug_cause, eval_bug_changed = "B", "C"
{ANSWERS_CELL}
eval_bug_cause, eval_bug_changed = "B", "A"
{ANSWERS_CELL}
eval_bug_cause = ["B"]
{ANSWERS_CELL}
eval_bug_cause, eval_bug_changed = "A", "A"
{lying_key}
''', source=ANSWERS_CELL)
    assert summary(records) == [("answers", True, None), ("answers", False, "wrong-answer"),
                                ("answers", False, "wrong-answer"), ("answers", False, "wrong-answer")]
    assert records[1]["message"] == "eval_bug_changed: the running statistics"
    assert summary(grade_remotely('check("answers", {"x": ("B", "B", "")})')) == [("answers", False, "grader-error")]
