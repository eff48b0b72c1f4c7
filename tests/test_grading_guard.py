"""check never raises because of the student: garbage, exceptions, time-outs, forbidden calls."""
from __future__ import annotations

import signal
import sys
import threading
import time
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.grading import check
from cnnlab.grading.guard import forbid
from wrong_impls import CORRECT

conv2d_ok = CORRECT["conv2d"]


class Spoof:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class Sub(np.ndarray):
    def __eq__(self, other):
        return True


def _recurse(*a):
    return _recurse(*a)


def _exit(*a):
    sys.exit(1)


GARBAGE = {
    "none": (lambda *a: None, "returned nothing"),
    "string": (lambda *a: "42", "string"),
    "list": (lambda *a: conv2d_ok(*a).tolist(), "list"),
    "tensor": (lambda *a: torch.from_numpy(conv2d_ok(*a)), "torch"),
    "subclass": (lambda *a: conv2d_ok(*a).view(Sub), "subclass"),
    "spoof": (lambda *a: Spoof(), "not a numpy.ndarray"),
    "nan": (lambda *a: conv2d_ok(*a) * np.nan, "nan"),
    "inf": (lambda *a: conv2d_ok(*a) + np.inf, "inf"),
    "wrong_shape": (lambda *a: conv2d_ok(*a)[0], "shape"),
    "broadcastable": (lambda *a: conv2d_ok(*a)[..., :1], "shape"),
    "huge": (lambda *a: np.zeros((2000, 2000)), "shape"),
    "exception": (lambda *a: 1 / 0, "ZeroDivisionError"),
    "system_exit": (_exit, "SystemExit"),
    "recursion": (_recurse, "RecursionError"),
    "int_dtype": (lambda *a: conv2d_ok(*a).astype(np.int64), "dtype int64"),
    "float32": (lambda *a: conv2d_ok(*a).astype(np.float32), "float32"),
    "object": (lambda *a: conv2d_ok(*a).astype(object), "dtype object"),
    "scalar": (lambda *a: 3.0, "single number"),
    "wrong_signature": (lambda x: x, "TypeError"),
}


@pytest.mark.parametrize("kind", list(GARBAGE))
def test_garbage_never_raises(kind):
    fn, fragment = GARBAGE[kind]
    result = check("conv2d", fn)
    assert not result.passed
    assert fragment in result.message
    assert "Call: conv2d(" in result.message


def test_garbage_tuple_results():
    assert check("conv2d_backward", lambda *a: None).mistake == "not-a-tuple"
    assert "tuple (dx, dw, db)" in check("conv2d_backward", lambda *a: None).message
    assert "length 2" in check("conv2d_backward", lambda *a: (1, 2)).message
    def dx_only(*args):
        return CORRECT["conv2d_backward"](*args)[0], None, "db"

    assert "dw (item 1 of the result) is None" in check("conv2d_backward", dx_only).message


def test_keyboard_interrupt_propagates():
    def interrupted(*a):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check("conv2d", interrupted)


def test_mutated_input_is_named():
    def mutates_w(x, w, b=None, stride=1, padding=0, dilation=1):
        out = conv2d_ok(x, w, b, stride, padding, dilation)
        w *= 2
        return out

    result = check("conv2d", mutates_w)
    assert result.mistake == "mutates-input"
    assert "modified its input `w` in place" in result.message


def test_guard_blocks_torch_and_restores_it():
    def uses_torch(x, w, b=None, stride=1, padding=0, dilation=1):
        t = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), None, stride, padding, dilation)
        return t.numpy()

    result = check("conv2d", uses_torch)
    assert result.mistake == "forbidden-call"
    assert "this exercise must be solved with numpy; torch.nn.functional.conv2d was called" in result.message
    x = torch.ones(1, 1, 3, 3)
    assert F.conv2d(x, x).item() == 9.0 and torch.conv2d(x, x).item() == 9.0
    assert F.max_pool2d(x, 3).item() == 1.0 and torch.nn.Conv2d(1, 1, 3)(x).shape == (1, 1, 1, 1)
    assert check("conv2d", conv2d_ok).passed  # the reference still works


def test_guard_blocks_module_classes_aliases_and_swallowed_calls():
    from torch.nn.functional import max_pool2d as imported_pool

    def pool_module(x, kernel_size, stride=None, padding=0):
        return torch.nn.MaxPool2d(kernel_size, stride, padding)(torch.from_numpy(x)).numpy()

    def pool_alias(x, kernel_size, stride=None, padding=0):
        return imported_pool(torch.from_numpy(x), kernel_size, stride, padding).numpy()

    def pool_swallow(x, kernel_size, stride=None, padding=0):
        try:
            return torch.nn.functional.avg_pool2d(torch.from_numpy(x), kernel_size).numpy()
        except Exception:
            return CORRECT["max_pool2d"](x, kernel_size, stride, padding)

    for fn in (pool_module, pool_alias):
        assert "must be solved with numpy; torch.nn.functional.max_pool2d" in check("max_pool2d", fn).message
    assert "avg_pool2d was called" in check("max_pool2d", pool_swallow).message
    assert imported_pool is F.max_pool2d


def test_guard_blocks_scipy_alias_in_globals():
    scipy_signal = pytest.importorskip("scipy.signal")
    ns = {"correlate2d": scipy_signal.correlate2d}
    exec("def corr2d(x, k):\n    return correlate2d(x, k, mode='valid')", ns)
    assert "scipy.signal.correlate2d was called" in check("corr2d", ns["corr2d"]).message
    assert ns["correlate2d"] is scipy_signal.correlate2d


def test_guard_restores_after_exception():
    original = F.conv2d
    with pytest.raises(RuntimeError), forbid(None):
        assert F.conv2d is not original
        raise RuntimeError("boom")
    assert F.conv2d is original


def test_time_limit_names_the_slow_case_and_restores_signals():
    def slow(x, w, b=None, stride=1, padding=0, dilation=1):
        if x.shape[0] > 1:
            time.sleep(30)
        return conv2d_ok(x, w, b, stride, padding, dilation)

    before = signal.getsignal(signal.SIGALRM)
    start = time.monotonic()
    result = check("conv2d", slow, time_limit=0.5)
    assert time.monotonic() - start < 10
    assert result.mistake == "time-limit"
    assert "time limit of 0.5 s" in result.message and "x of shape (2," in result.message
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_stops_a_loop_that_swallows_everything():
    def stubborn(*a):
        while True:
            try:
                time.sleep(0.01)
            except BaseException:
                pass

    assert "time limit" in check("pad2d", stubborn, time_limit=0.3).message
    assert sys.gettrace() is None or True  # a debugger's trace function would have been restored


def test_time_limit_keeps_an_outer_timer():
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 60)
        assert check("pad2d", lambda x, p: np.pad(x, 0) if False else None, time_limit=1).passed is False
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 50 < left <= 60
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert not fired


def test_time_limit_outside_the_main_thread():
    box = {}

    def slow(*a):
        time.sleep(3)

    worker = threading.Thread(target=lambda: box.setdefault("r", check("pad2d", slow, time_limit=0.3)))
    worker.start()
    worker.join(20)
    assert "time limit" in box["r"].message


def test_student_warnings_are_silenced(capsys):
    def noisy(x, padding):
        warnings.warn("student warning")
        np.log(-np.ones(1))
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check("pad2d", noisy).passed
    assert capsys.readouterr().err == ""


def test_non_callable_fails_without_raising():
    assert not check("conv2d", None).passed


@pytest.mark.slow
def test_guard_patches_a_module_first_imported_by_the_student():
    import subprocess

    code = (
        "import sys\n"
        "from cnnlab.grading import check\n"
        "assert 'scipy.signal' not in sys.modules\n"
        "def corr2d(x, k):\n"
        "    from scipy.signal import correlate2d\n"
        "    return correlate2d(x, k, mode='valid')\n"
        "msg = check('corr2d', corr2d).message\n"
        "assert 'scipy.signal.correlate2d was called' in msg, msg\n"
        "import scipy.signal\n"
        "assert scipy.signal.correlate2d.__name__ == 'correlate2d' and 'forbidden' not in repr(scipy.signal.correlate2d)\n"
        "assert not any(type(f).__name__ == '_LateImports' for f in sys.meta_path)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def _wrap_functional_conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    import cnnlab.functional as CF

    return CF.conv2d(x, w, b, stride, padding, dilation)


def _wrap_reference_max_pool(x, kernel_size, stride=None, padding=0):
    from cnnlab import reference

    return reference.max_pool2d(x, kernel_size, stride, padding)


def _wrap_submodule_corr2d(x, k):
    from cnnlab.functional.conv import corr2d_naive

    return corr2d_naive(x, k)


def _wrap_shapes(n, kernel_size, stride=1, padding=0, dilation=1):
    from cnnlab.shapes import pool_output_size

    return pool_output_size(n, kernel_size, stride, padding, dilation)


@pytest.mark.parametrize("name, fn, called", [
    ("conv2d", _wrap_functional_conv2d, "cnnlab.functional.conv2d"),
    ("max_pool2d", _wrap_reference_max_pool, "cnnlab.reference.max_pool2d"),
    ("corr2d", _wrap_submodule_corr2d, "cnnlab.functional.conv.corr2d_naive"),
    ("conv_output_size", _wrap_shapes, "cnnlab.shapes."),
])
def test_guard_blocks_the_course_own_solutions(name, fn, called):
    res = check(name, fn)
    assert not res.passed
    assert "must be solved with numpy" in res.message and called in res.message


def test_pooling_may_use_shapes_helpers():
    from cnnlab.shapes import pool_output_size

    pool = CORRECT["max_pool2d"]

    def max_pool2d(x, kernel_size, stride=None, padding=0):
        k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        pool_output_size(x.shape[2], k, stride if stride is None or isinstance(stride, int) else stride[0])
        return pool(x, kernel_size, stride, padding)

    assert check("max_pool2d", max_pool2d).passed


def test_course_functions_still_pass_and_work_afterwards():
    import cnnlab.functional as CF
    from cnnlab import shapes

    for name in ("conv2d", "max_pool2d_backward", "corr2d"):
        assert check(name, getattr(CF, name)).passed, name
    assert check("conv_output_size", shapes.conv_output_size).passed
    assert CF.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))).sum() == 16
    assert shapes.pool_output_size(4, 2) == 2
