"""ps2/ps3's exercises: right answers pass, each keyed mistake is named by its key."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab.grading import CheckResult, cases, check
from wrong_impls_ps23 import ARRAY, CORRECT, _models, _steps

pytestmark = [pytest.mark.ps2, pytest.mark.ps3]
MODELS = _models()
STEPS = _steps()


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_check_student_style_correct_passes(name):
    result = check(name, CORRECT[name])
    assert isinstance(result, CheckResult)
    assert result.passed, result.message
    assert result.mistake is None


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_check_functional_and_reference_pass(name):
    from cnnlab import functional, reference

    assert check(name, getattr(functional, name), seed=3).passed

    def wraps_the_course(*args):
        return getattr(reference, name)(*args)

    result = check(name, wraps_the_course, seed=3)
    assert not result.passed and result.mistake == "forbidden-call", \
        "the course's own implementation may not stand in for the student's"


@pytest.mark.parametrize("name,key,fn", ARRAY, ids=[f"{n}-{k}" for n, k, _ in ARRAY])
def test_check_wrong_array_impl_gets_its_key(name, key, fn):
    result = check(name, fn)
    assert not result.passed
    assert result.mistake == key, result.message
    with pytest.raises(AssertionError):
        result.raise_if_failed()


def test_softmax_cross_entropy_names_the_overflow_case():
    result = check("softmax_cross_entropy", ARRAY[12][2])
    assert "+-1000" in result.message and "subtract each row's maximum" in result.message


def test_numerical_gradient_cases_are_reproducible():
    first = cases("numerical_gradient", seed=4)
    again = cases("numerical_gradient", seed=4)
    assert [c.label for c in first] == [c.label for c in again]
    assert all(np.array_equal(a.values[1], b.values[1]) for a, b in zip(first, again))
    assert check("numerical_gradient", CORRECT["numerical_gradient"], seed=4).passed


@pytest.mark.parametrize("name", ["mnist1d_cnn", "mnist1d_mlp", "generate_model"])
def test_check_correct_model_passes(name):
    result = check(name, MODELS["correct"][name])
    assert result.passed, result.message


@pytest.mark.parametrize("name,key,fn", MODELS["wrong"], ids=[f"{n}-{k}" for n, k, _ in MODELS["wrong"]])
def test_check_wrong_model_gets_its_key(name, key, fn):
    result = check(name, fn)
    assert not result.passed
    assert result.mistake == key, result.message


def test_model_messages_show_both_tables():
    result = check("mnist1d_cnn", MODELS["wrong"][0][2])
    assert "Your layers" in result.message and "Expected" in result.message and "[5, 15, 20]" in result.message


@pytest.mark.parametrize("name", ["train_step", "evaluate"])
def test_check_correct_step_passes(name):
    result = check(name, STEPS["correct"][name])
    assert result.passed, result.message


@pytest.mark.parametrize("name,key,fn", STEPS["wrong"], ids=[f"{n}-{k}" for n, k, _ in STEPS["wrong"]])
def test_check_wrong_step_gets_its_key(name, key, fn):
    result = check(name, fn)
    assert not result.passed
    assert result.mistake == key, result.message


def test_checks_restore_torch_threads():
    import torch

    before = torch.get_num_threads()
    check("train_step", STEPS["correct"]["train_step"])
    assert torch.get_num_threads() == before


def _convnet(bug=None):
    from cnnlab import functional as Fn

    def convnet_loss(params, x, y):
        a1 = Fn.conv2d(x, params["w1"], params["b1"], padding=1)
        h1 = CORRECT["relu"](a1)
        p1 = Fn.max_pool2d(h1, 2) if bug == "course_pool" else _max_pool(h1)
        flat = p1.reshape(len(x), -1)
        scores = flat @ params["w2"] + params["b2"]
        loss, ds = CORRECT["softmax_cross_entropy"](scores, y)
        grads = {"w2": flat.T @ ds, "b2": ds.sum(0)}
        dp1 = (ds @ params["w2"].T).reshape(p1.shape)
        dh1 = _max_pool_backward(dp1, h1)
        da1 = dh1 if bug == "no_relu_backward" else CORRECT["relu_backward"](dh1, a1)
        grads["w1"] = np.einsum("nohw,ncuvhw->ocuv", da1, _patches(x))
        grads["b1"] = da1.sum((0, 2, 3))
        if bug == "missing_key":
            del grads["b1"]
        return loss, grads

    return convnet_loss


def _max_pool(h):
    N, C, H, W = h.shape
    return h.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))  # (N, C, H/2, W/2)


def _max_pool_backward(dp, h):
    N, C, H, W = h.shape
    blocks = h.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
    first = blocks.argmax(-1)[..., None] == np.arange(4)  # (N, C, H/2, W/2, 4): the first maximum
    dx = (first * dp[..., None]).reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return dx.reshape(N, C, H, W)


def _patches(x):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    H, W = x.shape[2:]
    return np.stack([np.stack([xp[:, :, u:u + H, v:v + W] for v in range(3)], 2) for u in range(3)], 2)


def test_convnet_loss_correct_and_training_pass():
    assert check("convnet_loss", _convnet()).passed
    result = check("convnet_training", _convnet(), time_limit=60)
    assert result.passed, result.message


@pytest.mark.parametrize("bug,key", [("no_relu_backward", "wrong-values"), ("missing_key", "grads-missing"),
                                     ("course_pool", "forbidden-call")])
def test_convnet_loss_mistakes(bug, key):
    result = check("convnet_loss", _convnet(bug))
    assert not result.passed and result.mistake == key, result.message


def test_convnet_names_the_failing_helper():
    def relu(x):
        return np.abs(x)  # BUG: the student's own helper

    def convnet_loss(params, x, y):
        return _convnet()(params, x, y)[0] + 0 * relu(np.zeros(1)).sum() + 1.0, _convnet()(params, x, y)[1]

    convnet_loss.__globals__["relu"] = relu  # note: a test module stands in for the notebook namespace
    try:
        result = check("convnet_loss", convnet_loss)
    finally:
        del convnet_loss.__globals__["relu"]
    assert result.mistake == "helper-fails:relu" and "your relu fails its own check" in result.message


@pytest.mark.slow
def test_mnist1d_training_reaches_the_stated_accuracy():
    result = check("mnist1d_training", STEPS["correct"]["train_step"], time_limit=120)
    assert result.passed, result.message
    wrong = check("mnist1d_training", lambda m, o, x, y: 0.0, time_limit=120)  # never trains
    assert not wrong.passed and wrong.mistake == "accuracy-too-low"


def test_mnist1d_training_grader_failure_is_not_blamed_on_the_student(monkeypatch):
    """The grader's own data load fails (mnist1d missing): the message says so, key grader-error."""
    import cnnlab.grading.exercises._training as tr
    from cnnlab.grading import check

    def broken():
        raise ModuleNotFoundError("No module named 'mnist1d'")

    monkeypatch.setattr(tr, "mnist1d_tensors", broken)
    res = check("mnist1d_training", lambda *a, **k: None)
    assert not res.passed and res.mistake == "grader-error", res
    assert "not a fault of your code" in res.message and "your function raised" not in res.message
