"""ps2 and ps3 as the autograder meets them: the demo class graded in the sandbox.

Each problem set's demo class (full solution, blank release and the
realistic wrong submissions of `cnnlab.course.demos.psN`) is graded in one
batch in a scratch copy of the course; every student must get the score the
manifest computes, and the reason must name the failing tests.
"""
from __future__ import annotations

import shutil
import time

import pytest

from cnnlab.course.config import COURSE_ROOT, Limits
from cnnlab.course.demo import build_demo_class, students

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Non-unique cell id")]
# note: the default cell limit is 30 s and every cell here needs at most ~5 s of CPU (MLP training);
# the limits are wider because this test shares 2 cores with ~8 engineers (load average ~16 measured)
LIMITS = Limits(cell_timeout=120, notebook_timeout=900, memory_mb=3072)

# words each demo student's reason must contain (the mistake named, not guessed)
WORDS = {
    "ps2": {
        "full_solution": ["all tests passed"],
        "blank_release": ["NotImplementedError"],
        "pool_stride_one": ["test_max_pool2d"],
        "no_max_shift": ["test_softmax_cross_entropy", "subtract each row's maximum"],
        "relu_grad_at_zero": ["test_relu_backward", "x == 0"],
        "one_sided_differences": ["test_numerical_gradient"],
        "conv_backward_padding": ["test_conv2d_backward"],
        "max_backward_overlap": ["test_max_pool2d_backward"],
        "convnet_no_relu_backward": ["test_convnet_loss"],
    },
    "ps3": {
        "full_solution": ["all tests passed"],
        "blank_release": ["NotImplementedError"],
        "cnn_padded": ["test_mnist1d_cnn", "padded"],
        "mlp_softmax": ["test_mnist1d_mlp", "softmax"],
        "no_zero_grad": ["test_train_step", "zero_grad"],
        "no_eval_mode": ["test_evaluate", "model.eval()"],
        "flatten_size": ["test_generate_model", "in_features"],
    },
}


def _course(tmp_path_factory, assignment):
    root = tmp_path_factory.mktemp(f"course_{assignment}")
    shutil.copy2(COURSE_ROOT / "nbgrader_config.py", root)
    for folder in ("solutions", "exercises"):
        shutil.copytree(COURSE_ROOT / folder / assignment, root / folder / assignment)
    return root


def _grade(tmp_path_factory, assignment):
    from cnnlab.course.autograde import autograde

    course = _course(tmp_path_factory, assignment)
    subs = tmp_path_factory.mktemp(f"subs_{assignment}")
    expected = build_demo_class(subs, assignment)
    start = time.monotonic()
    results = autograde(assignment, subs, root=course, workers=2, limits=LIMITS, progress=False)
    wall = time.monotonic() - start
    print(f"{assignment}: {len(results)} submissions in {wall:.0f} s wall ({wall / len(results):.1f} s each, 2 workers)")
    return expected, {r["student"]: r for r in results}


@pytest.fixture(scope="module")
def ps2_batch(tmp_path_factory):
    return _grade(tmp_path_factory, "ps2")


@pytest.fixture(scope="module")
def ps3_batch(tmp_path_factory):
    return _grade(tmp_path_factory, "ps3")


def _assert_student(batch, assignment, sid):
    expected, results = batch
    res = results[sid]
    assert res["status"] == "graded", f"{sid}: {res['status']} ({res['reason']})"
    assert res["score"] == expected[sid], f"{sid}: {res['score']} != {expected[sid]} ({res['reason']})"
    for word in WORDS[assignment][sid]:
        assert word in res["reason"], f"{sid}: {word!r} not in {res['reason']!r}"


def test_every_demo_student_has_words():
    for assignment in ("ps2", "ps3"):
        assert {s.name for s in students(assignment)} == set(WORDS[assignment])


@pytest.mark.ps2
@pytest.mark.parametrize("sid", sorted(WORDS["ps2"]))
def test_ps2_demo_class_in_the_sandbox(ps2_batch, sid):
    _assert_student(ps2_batch, "ps2", sid)


@pytest.mark.ps3
@pytest.mark.parametrize("sid", sorted(WORDS["ps3"]))
def test_ps3_demo_class_in_the_sandbox(ps3_batch, sid):
    _assert_student(ps3_batch, "ps3", sid)


@pytest.mark.ps2
@pytest.mark.ps3
def test_full_and_blank_scores(ps2_batch, ps3_batch):
    for expected, results in (ps2_batch, ps3_batch):
        full = results["full_solution"]
        assert full["score"] == full["max_score"] == expected["full_solution"] > 0
        assert results["blank_release"]["score"] == 0
