"""The ps4/ps5 exercises: correct implementations pass, each keyed mistake is named by its key."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab import functional
from cnnlab.grading import check
from cnnlab.grading.exercises import resnet
from wrong_impls_ps45 import CATALOGUE, CORRECT, MODULE_CATALOGUE, MODULE_CORRECT

pytestmark = [pytest.mark.ps4, pytest.mark.ps5]


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_check_student_style_correct_passes(name):
    result = check(name, CORRECT[name])
    assert result.passed, result.message
    assert result.mistake is None


@pytest.mark.parametrize("name", sorted(n for n in CORRECT if hasattr(functional, n)))
def test_check_functional_passes(name):
    fns = [getattr(functional, name)] + ([getattr(functional, f"{name}_naive")]
                                         if hasattr(functional, f"{name}_naive") else [])
    for fn in fns:
        result = check(name, fn, seed=1)
        assert result.passed, result.message


@pytest.mark.parametrize("name,fn,key", CATALOGUE, ids=[f"{c[0]}-{c[2]}" for c in CATALOGUE])
def test_check_wrong_impl_gets_its_key(name, fn, key):
    result = check(name, fn)
    assert not result.passed
    assert result.mistake == key, result.message
    assert "Likely cause" in result.message or key in ("mutates-input",), result.message


@pytest.mark.parametrize("checker", sorted(MODULE_CORRECT))
def test_module_check_correct_passes(checker):
    result = getattr(resnet, checker)(MODULE_CORRECT[checker])
    assert result.passed, result.message


@pytest.mark.parametrize("checker,fn,key", MODULE_CATALOGUE, ids=[f"{c[0]}-{c[2]}" for c in MODULE_CATALOGUE])
def test_module_check_wrong_gets_its_key(checker, fn, key):
    result = getattr(resnet, checker)(fn)
    assert not result.passed
    assert result.mistake == key, result.message


def test_check_basic_block_reference_passes():
    from cnnlab.models.blocks import basic_block

    assert resnet.check_basic_block(basic_block, seed=3).passed


def test_check_basic_block_never_raises():
    def broken(c_in, c_out, stride=1):
        raise RuntimeError("student bug")

    result = resnet.check_basic_block(broken)
    assert not result.passed and result.mistake == "exception" and "student bug" in result.message
    assert resnet.check_basic_block(lambda *a: 42).mistake == "not-a-module"


def test_nms_names_the_students_failing_box_iou():
    from functools import partial

    import wrong_impls_ps45 as w

    # as in a notebook: nms finds the student's box_iou among its globals
    namespace = {"np": np, "box_iou": partial(w.box_iou, bug="plus_one")}
    exec("def nms(boxes, scores, iou_threshold):\n"
         "    order = np.argsort(-scores, kind='stable')\n"
         "    iou = box_iou(boxes, boxes)\n"
         "    removed, keep = np.zeros(len(scores), dtype=bool), []\n"
         "    for i in order:\n"
         "        if not removed[i]:\n"
         "            keep.append(i)\n"
         "            removed |= iou[i] > iou_threshold\n"
         "    return np.array(keep, dtype=np.int64)\n", namespace)
    result = check("nms", namespace["nms"])
    assert not result.passed and result.mistake == "helper-fails", result.message
    assert "Your box_iou fails its check" in result.message


def test_nms_may_not_call_the_courses_nms():
    from cnnlab.functional import boxes

    result = check("nms", lambda b, s, t: boxes.nms(b, s, t))
    assert not result.passed and result.mistake == "forbidden-call", result.message
