"""cnnlab.grading.check: correct implementations pass, known mistakes are named."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab import shapes
from cnnlab.grading import REGISTRY, CheckResult, cases, check, names
from wrong_impls import CATALOGUE, CORRECT

pytestmark = [pytest.mark.ps1, pytest.mark.ps2]


def _pad2d(x, padding):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])


STUDENT_OK = dict(CORRECT, pad2d=_pad2d, conv_output_size=shapes.conv_output_size,
                  relu=lambda x: np.maximum(x, 0.0), relu_backward=lambda dout, x: dout * (x > 0))


def test_registry_has_every_exercise():
    assert set(names()) >= {"corr2d", "pad2d", "conv_output_size", "conv1d", "conv2d", "conv2d_backward",
                            "max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward"}


@pytest.mark.parametrize("name", sorted(STUDENT_OK))
def test_check_student_style_correct_passes(name):
    result = check(name, STUDENT_OK[name])
    assert isinstance(result, CheckResult)
    assert result.passed, result.message
    assert "passed all" in result.message
    result.raise_if_failed()


@pytest.mark.parametrize("name", [n for n, ex in REGISTRY.items() if ex.kind in ("array", "int", "arrays")])
def test_check_functional_passes(name):
    functional = pytest.importorskip("cnnlab.functional")
    fns = [getattr(functional, name, None) or getattr(shapes, name, None)]
    if fns[0] is None:
        pytest.skip(f"cnnlab.functional has no {name} yet")
    if hasattr(functional, f"{name}_naive"):
        fns.append(getattr(functional, f"{name}_naive"))
    for fn in fns:
        result = check(name, fn, seed=1)
        assert result.passed, result.message


@pytest.mark.parametrize("name,mistake,fn,key", CATALOGUE, ids=[f"{c[0]}-{c[1]}" for c in CATALOGUE])
def test_check_wrong_impl_is_diagnosed(name, mistake, fn, key):
    result = check(name, fn)
    assert not result.passed
    assert result.mistake == key, result.message
    with pytest.raises(AssertionError) as info:
        result.raise_if_failed()
    assert str(info.value) == result.message


def test_catalogue_keys_are_known():
    generic = {"forbidden-call", "exception", "time-limit", "mutates-input", "ignores-input", "helper-fails",
               "no-raise", "float-result", "not-integer", "wrong-type", "returns-none", "wrong-order", "not-a-tuple",
               "dtype-int", "dtype-truncated", "dtype-float32", "float32-precision", "output-cropped",
               "output-too-large", "hw-swapped", "off-by-one-size", "lost-axis", "lost-unit-axes", "extra-axis",
               "reshaped"}
    for name, mistake, _, key in CATALOGUE:
        own = {m.key for m in REGISTRY[name].mistakes}
        assert key in own | generic, (name, mistake, key)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_mistake_keys_unique_per_exercise(name):
    keys = [(m.key, m.output, m.when) for m in REGISTRY[name].mistakes]
    assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]


def test_check_message_names_case_index_and_values():
    conv = next(c for c in CATALOGUE if c[:2] == ("conv2d", "no_padding"))[2]
    msg = check("conv2d", conv).message
    assert "Call: conv2d(x, w, b, stride=2, padding=1)" in msg
    assert "x of shape (1, 1, 5, 5)" in msg
    assert "expected shape (1, 1, 3, 3)" in msg
    stride = next(c for c in CATALOGUE if c[:2] == ("conv2d", "stride_first"))[2]
    assert "b=None, stride=(2, 1)" in check("conv2d", stride).message
    flip = next(c for c in CATALOGUE if c[:2] == ("conv2d", "flip"))[2]
    msg = check("conv2d", flip).message
    assert "first difference at index (0, 0, 0, 1): expected 30, got -30" in msg
    assert "expected =" in msg and "got =" in msg  # worked examples are printed in full


def test_check_is_deterministic():
    for name, _, fn, _ in CATALOGUE[::7]:
        assert check(name, fn).message == check(name, fn).message
    assert check("conv2d", CORRECT["conv2d"], seed=3).message == check("conv2d", CORRECT["conv2d"], seed=3).message


def test_cases_depend_on_seed_only():
    a, b, c = cases("conv2d", seed=0), cases("conv2d", seed=0), cases("conv2d", seed=1)
    assert all(np.array_equal(u, v) for x, y in zip(a, b) for u, v in zip(x.values, y.values)
               if isinstance(u, np.ndarray))
    assert not all(np.array_equal(x.values[0], y.values[0]) for x, y in zip(a, c))
    assert len(cases("conv2d", trials=0)) < len(cases("conv2d", trials=5))


def _hyper(case, i):
    return case.values[i] if len(case.values) > i else None


def test_cases_vary_every_dimension():
    conv = cases("conv2d")
    xs = [c.values[0].shape for c in conv]
    ws = [c.values[1].shape for c in conv]
    assert any(s[0] > 1 for s in xs) and any(s[1] > 1 for s in xs) and any(s[0] > 1 for s in ws)
    assert any(s[2] != s[3] for s in xs) and any(s[2] != s[3] for s in ws) and any(s[2:] == (1, 1) for s in ws)
    assert any(isinstance(_hyper(c, 3), tuple) and _hyper(c, 3)[0] != _hyper(c, 3)[1] for c in conv)  # stride (2, 1)
    assert any(isinstance(_hyper(c, 4), tuple) and 0 in _hyper(c, 4) and max(_hyper(c, 4)) > 0 for c in conv)
    assert any(_hyper(c, 5) not in (None, 1) for c in conv)  # dilation
    assert any((c.values[0] < 0).any() for c in conv)
    pools = cases("max_pool2d")
    assert any(len(c.values) == 2 for c in pools)  # default stride
    assert any(_hyper(c, 3) not in (None, 0) for c in pools)  # padding
    back = cases("max_pool2d_backward")
    full = [REGISTRY["max_pool2d_backward"].params(c) for c in back]
    assert any(p["stride"] is not None and np.less(np.broadcast_to(p["stride"], 2),
                                                   np.broadcast_to(p["kernel_size"], 2)).any() for p in full)
    assert any(len(np.unique(c.values[1])) < c.values[1].size // 2 for c in back)  # tied maxima


def test_max_pool_inputs_are_not_monotone():
    for c in cases("max_pool2d")[:3]:
        x = c.values[0]
        assert not (np.diff(x, axis=-1) >= 0).all()


def test_conv_output_size_must_raise_value_error():
    result = check("conv_output_size", lambda n, k, s=1, p=0, d=1: max(1, (n + 2 * p - d * (k - 1) - 1) // s + 1))
    assert result.mistake == "clamped"
    assert "must raise ValueError" in result.message


def test_conv_output_size_floor_without_raise_is_not_told_about_truncation():
    """Issue 11: a correct floor that never raises returned -1 and was told about int() truncation."""
    result = check("conv_output_size", lambda n, k, s=1, p=0, d=1: (n + 2 * p - d * (k - 1) - 1) // s + 1)
    assert result.mistake == "no-raise"
    assert "truncat" not in result.message and "raise ValueError" in result.message


def test_constant_output_is_not_called_hard_coded_without_evidence():
    """Issue 11: conv1d as a height-1 conv2d padding the dummy axis returns zeros: name that, not "hard-coded"."""
    from wrong_impls import conv1d_via_conv2d

    result = check("conv1d", conv1d_via_conv2d)
    assert result.mistake == "padding-dummy-axis"
    assert "hard-coded" not in result.message


def test_failing_own_helper_is_named_first():
    """Issue 11: a conv2d that reuses the student's buggy pad2d is told that pad2d fails its check."""
    from wrong_impls import conv2d_with_buggy_pad2d

    result = check("conv2d", conv2d_with_buggy_pad2d)
    assert result.mistake == "helper-fails"
    assert result.message.splitlines()[2].startswith("  Your pad2d fails its check: pad2d failed on")


def test_several_matching_mistakes_are_narrowed_by_later_cases():
    from wrong_impls import size_round

    first = check("conv_output_size", size_round)
    assert first.mistake == "round" and "\n  Or:" not in first.message


def test_conv_output_size_accepts_numpy_int_rejects_float_and_bool():
    def size(n, k, s=1, p=0, d=1):  # note: wrapping cnnlab.shapes itself is forbidden
        out = (n + 2 * p - d * (k - 1) - 1) // s + 1
        if out < 1 or n + 2 * p < d * (k - 1) + 1:
            raise ValueError("empty output")
        return out

    assert check("conv_output_size", lambda *a: np.int64(size(*a))).passed
    assert check("conv_output_size", lambda *a: float(size(*a))).mistake == "float-result"
    assert not check("conv_output_size", lambda *a: True).passed


def test_unknown_name_raises_value_error_listing_names():
    with pytest.raises(ValueError, match="conv2d_backward"):
        check("conv3d", CORRECT["conv2d"])


def test_result_truthiness_and_markdown():
    good, bad = check("pad2d", _pad2d), check("pad2d", lambda x, p: x)
    assert good and not bad
    assert "failed" in bad._repr_markdown_()


@pytest.mark.gpu
def test_grades_identical_on_cpu_and_gpu():
    for name, _, fn, _ in CATALOGUE[::5]:
        assert check(name, fn, device="cpu").message == check(name, fn, device="cuda").message
    for name, fn in STUDENT_OK.items():
        assert check(name, fn, device="cuda").passed
