"""A grading kernel checks numpy exercises without importing torch.

In grading mode (``CNNLAB_VERDICT_SOCKET`` set) the kernel only runs the
student's function; the grader computes the references. So neither
``from cnnlab.grading import check`` nor a numpy check in that mode may load
torch (~1.5 s of CPU per notebook), while a student's function that imports
torch itself must still be caught calling its convolution. Each test runs the
kernel side in a fresh interpreter: this process has torch loaded already.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from cnnlab.course.verdicts import VerdictServer
from cnnlab.grading.guard import TARGETS
from cnnlab.grading.remote import ENV_SOCKET

TESTS = Path(__file__).resolve().parent
_TORCH_TARGETS = ("torch", "torch.nn.functional", "torch._C._nn")

# Student-style numpy solutions (and one wrong count), defined in the kernel.
_STUDENT = '''
import numpy as np

def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    if min(n, kernel_size, stride, dilation) < 1 or padding < 0:
        raise ValueError("bad arguments")
    size = (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if size < 1:
        raise ValueError("the kernel does not fit")
    return size

def pad2d(x, padding):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])

def conv2d_params_no_bias(c_in, c_out, kernel_size, bias=True):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return c_out * c_in * kh * kw  # BUG: bias not counted
'''


def _kernel(*parts: str, env_extra: dict | None = None, timeout: float = 300) -> list[dict]:
    """Run the code `parts` (each dedented) in a fresh interpreter, tests/ on its path; its JSON lines."""
    env = {k: v for k, v in os.environ.items() if k != ENV_SOCKET}
    env.update(env_extra or {})
    prelude = f"import json, sys\nsys.path.insert(0, {str(TESTS)!r})\n"
    code = prelude + "".join(textwrap.dedent(p) for p in parts)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _graded(*parts: str) -> tuple[list[dict], list[dict]]:
    """Run the code `parts` as a grading-mode kernel against a `VerdictServer` here: (kernel's lines, grader's log)."""
    with tempfile.TemporaryDirectory() as tmp:  # note: a short path, unix sockets allow ~100 bytes
        server = VerdictServer(os.path.join(tmp, "v.sock"), "test-secret", "ps1").start()
        try:
            lines = _kernel(*parts, env_extra={ENV_SOCKET: server.path})
        finally:
            server.stop()
    assert server.errors == []
    return lines, server.log


_REPORT = '''
def report(name, r):
    print(json.dumps({"name": name, "passed": r.passed, "mistake": r.mistake, "message": r.message,
                      "torch": "torch" in sys.modules}), flush=True)
'''


def test_check_import_leaves_torch_unloaded():
    (line,) = _kernel('''
        import numpy
        from cnnlab.grading import CheckResult, cases, check, names
        import cnnlab.reference
        names(); cases("conv2d"); cases("max_pool2d")
        print(json.dumps({"torch": "torch" in sys.modules}))
    ''')
    assert line == {"torch": False}


def test_reference_imports_torch_on_first_call():
    lines = _kernel('''
        import numpy as np
        from cnnlab import reference as R
        print(json.dumps({"torch": "torch" in sys.modules}))
        out = R.corr2d(np.arange(12.0).reshape(3, 4), np.ones((2, 2)))
        print(json.dumps({"torch": "torch" in sys.modules, "out": out.tolist()}))
    ''')
    assert lines == [{"torch": False}, {"torch": True, "out": [[10.0, 14.0, 18.0], [26.0, 30.0, 34.0]]}]


def test_check_grading_mode_numpy_exercises_without_torch():
    kernel, log = _graded(_REPORT, _STUDENT, '''
        import wrong_impls as W
        from cnnlab.grading import check
        for name, fn in [("corr2d", W.corr2d), ("corr2d", W.CATALOGUE[0][2]), ("pad2d", pad2d),
                         ("conv2d", W.conv2d_with_buggy_pad2d), ("max_pool2d", W.CORRECT["max_pool2d"]),
                         ("conv_output_size", conv_output_size), ("conv2d_params", conv2d_params_no_bias)]:
            report(name, check(name, fn))
    ''')
    got = [(k["name"], k["passed"], k["mistake"]) for k in kernel]
    assert got == [("corr2d", True, None), ("corr2d", False, "flipped"), ("pad2d", True, None),
                   ("conv2d", False, "helper-fails"), ("max_pool2d", True, None),
                   ("conv_output_size", True, None), ("conv2d_params", False, "bias-ignored")]
    assert [(r["name"], r["passed"], r["mistake"], r["message"]) for r in log] == \
        [(k["name"], k["passed"], k["mistake"], k["message"]) for k in kernel]  # the grader decided each one
    assert "the grader's hidden seed" in kernel[0]["message"]
    assert not any(k["torch"] for k in kernel)


_TORCH_STUDENTS = {
    "conv2d": ('''
        def student(x, w, b=None, stride=1, padding=0, dilation=1):
            import torch
            import torch.nn.functional as F
            bt = None if b is None else torch.from_numpy(b)
            return F.conv2d(torch.from_numpy(x), torch.from_numpy(w), bt, stride, padding, dilation).numpy()
    ''', "torch.nn.functional.conv2d was called"),
    "avg_pool2d": ('''
        def student(x, kernel_size, stride=None, padding=0):
            import torch  # note: torch's extension makes torch._C._nn; no import statement loads it
            return torch._C._nn.avg_pool2d(torch.from_numpy(x), kernel_size, stride or kernel_size, padding).numpy()
    ''', "torch.nn.functional.avg_pool2d was called"),
}


@pytest.mark.parametrize("name", sorted(_TORCH_STUDENTS))
def test_check_grading_mode_student_importing_torch_is_forbidden(name):
    source, text = _TORCH_STUDENTS[name]
    kernel, log = _graded(_REPORT, source, f'''
        from cnnlab.grading import check
        print(json.dumps({{"torch_before": "torch" in sys.modules}}), flush=True)
        report({name!r}, check({name!r}, student))
        import torch.nn.functional
        from cnnlab.grading.guard import TARGETS
        stubs = [f"{{m}}.{{n}}" for m in {_TORCH_TARGETS!r} for n in TARGETS[m]
                 if "forbidden" in repr(getattr(sys.modules[m], n, None))]
        hooks = [type(f).__name__ for f in sys.meta_path if type(f).__name__ == "_LateImports"]
        print(json.dumps({{"stubs_left": stubs, "hooks_left": hooks}}))
    ''')
    assert kernel[0] == {"torch_before": False}
    assert (kernel[1]["passed"], kernel[1]["mistake"]) == (False, "forbidden-call")
    assert text in kernel[1]["message"]
    assert "(case 1 of" in kernel[1]["message"]  # caught on the call that first imported torch
    assert [r["mistake"] for r in log] == ["forbidden-call"]  # the grader's verdict
    assert kernel[2] == {"stubs_left": [], "hooks_left": []}  # everything restored after the check


@pytest.mark.parametrize("module", ["torch", "torch.nn.functional"])
def test_forbid_patches_torch_first_imported_inside(module):
    import torch.nn.functional  # noqa: F401 - here, to count the targets that exist

    wanted = {m: sum(getattr(sys.modules[m], n, None) is not None for n in TARGETS[m]) for m in _TORCH_TARGETS}
    assert wanted["torch._C._nn"] > 0
    (line,) = _kernel(f'''
        import importlib
        from cnnlab.grading.guard import TARGETS, forbid
        assert "torch" not in sys.modules
        with forbid(None, TARGETS):
            importlib.import_module({module!r})
            patched = {{m: sum("forbidden" in repr(getattr(sys.modules[m], n, None)) for n in TARGETS[m])
                        for m in {_TORCH_TARGETS!r}}}
        print(json.dumps(patched))
    ''')
    assert line == wanted
