"""The static scan for code that rewrites the grader's libraries (cnnlab.course.tamper)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnnlab.course.tamper import find_tampering

ROOT = Path(__file__).resolve().parents[1]


def _nb(*sources, grade_id=None):
    meta = {"nbgrader": {"grade_id": grade_id, "solution": True}} if grade_id else {}
    return {"cells": [{"cell_type": "code", "source": s, "metadata": meta} for s in sources]}


# (source, what the finding must name)
TAMPERING = [
    ("import cnnlab.grading\ncnnlab.grading.check = lambda *a, **k: None", "changes cnnlab.grading.check"),
    ("from cnnlab.grading import Result\nResult.raise_if_failed = lambda self: None",
     "changes cnnlab.grading.Result.raise_if_failed"),
    ("from cnnlab import grading as g\ng.check = print", "changes cnnlab.grading.check"),
    ("import torch.nn.functional as F\nF.conv2d = lambda *a: 0", "changes torch.nn.functional.conv2d"),
    ("np.allclose = lambda *a, **k: True", "changes numpy.allclose"),
    ("np.testing.assert_allclose, x = print, 1", "changes numpy.testing.assert_allclose"),
    ("setattr(np.testing, 'assert_allclose', print)", "setattr() changes numpy.testing"),
    ("import sys\nsys.modules['cnnlab.grading'] = object()", "changes sys.modules"),
    ("sys.modules.pop('cnnlab.grading')", "changes sys.modules"),
    ("from unittest import mock\nmock.patch('cnnlab.grading.check').start()", "patches cnnlab.grading.check"),
    ("from unittest.mock import patch\nimport cnnlab.reference\npatch.object(cnnlab.reference, 'conv2d').start()",
     "patches cnnlab.reference"),
    ("import builtins\nbuiltins.isinstance = lambda *a: True", "changes builtins.isinstance"),
    ("__builtins__.type = 3", "changes builtins.type"),
    ("vars(np)['allclose'] = 1", "changes numpy.__dict__"),
    ("from cnnlab.grading import check\ncheck.__code__ = (lambda *a, **k: None).__code__",
     "changes cnnlab.grading.check.__code__"),
    ("del cnnlab.grading.check", "changes cnnlab.grading.check"),
    ("def f():\n    import cnnlab.reference as R\n    R.conv2d = None", "changes cnnlab.reference.conv2d"),
    # through an alias, a renamed setattr, a module looked up at run time
    ("import cnnlab.grading\n_g = cnnlab.grading\n_g.check = 1", "changes cnnlab.grading.check"),
    ("object.__setattr__(cnnlab.grading, 'check', 1)", "__setattr__() changes cnnlab.grading"),
    ("cnnlab.grading.__setattr__('check', 1)", "__setattr__() changes cnnlab.grading"),
    ("s = setattr\ns(np, 'allclose', 1)", "setattr() changes numpy"),
    ("import importlib\nm = importlib.import_module('cnnlab.grading')\nm.check = 1", "changes cnnlab.grading.check"),
    ("m = __import__('cnnlab.grading', fromlist=['check'])\nm.check = 1", "changes cnnlab.grading.check"),
    ("m = sys.modules['cnnlab.grading']\nm.check = 1", "changes cnnlab.grading.check"),
    # IPython hooks that rewrite a cell's result after it ran
    ("ip = get_ipython()\nip.events.register('post_run_cell', print)", "registers an IPython event hook"),
    ("def f(result):\n    result.error_in_exec = None", "clears the error of a cell's result"),
]

LEGITIMATE = [
    "np.random.seed(0)\nx = np.zeros(3)\nx[0] = 1\nx += 1",
    "torch.backends.cudnn.benchmark = True",
    "def check(*a, **k):  # shadows, but the hidden tests re-import check\n    return None",
    "import sys\nget_ipython().showtraceback = lambda *a, **k: None\nsys.excepthook = lambda *a: None",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 100",
    "class A:\n    def __eq__(self, o):\n        return True",
    "import numpy as np\nnp.set_printoptions(precision=3)",
    "import warnings\nwarnings.simplefilter('always')",
    "def broken(:\n    pass",  # a syntax error is the kernel's to report
    "x = np.zeros(3)\nx.shape = (3, 1)",  # an array made by numpy is not numpy
    "a = np.pi\na = 3\na.b = 1",  # rebinding forgets the alias
    "class Net:\n    def __init__(self):\n        setattr(self, 'w', np.zeros(3))\n        object.__setattr__(self, 'b', 0)",
]


@pytest.mark.parametrize("source, named", TAMPERING)
def test_tampering_is_found_and_named(source, named):
    found = find_tampering(_nb(source, grade_id="conv2d_solution"))
    assert found, source
    assert found[0].startswith("cell 'conv2d_solution', line ") and named in found[0], found


@pytest.mark.parametrize("source", LEGITIMATE)
def test_legitimate_code_is_not_flagged(source):
    assert find_tampering(_nb(source)) == []


def test_imports_carry_over_to_later_cells():
    found = find_tampering(_nb("import cnnlab.grading as G", "x = 1", "G.check = None"))
    assert found == ["cell 2, line 1: `G.check = None` changes cnnlab.grading.check"]


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").rglob("*.ipynb")) + sorted((ROOT / "lectures").glob("*.ipynb"))
                         + sorted((ROOT / "exercises").rglob("*.ipynb")), ids=lambda p: str(p.relative_to(ROOT)))
def test_course_notebooks_are_clean(path):
    assert find_tampering(json.loads(path.read_text(encoding="utf-8"))) == []
