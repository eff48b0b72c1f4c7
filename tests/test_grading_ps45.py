"""The ps4/ps5 exercises: correct implementations pass, each keyed mistake is named by its key."""
from __future__ import annotations

import pytest

from cnnlab import functional
from cnnlab.grading import check
from wrong_impls_ps45 import CATALOGUE, CORRECT

pytestmark = [pytest.mark.ps4, pytest.mark.ps5]


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_check_student_style_correct_passes(name):
    result = check(name, CORRECT[name])
    assert result.passed, result.message
    assert result.mistake is None


# note: functional.nms calls functional.box_iou, a course implementation the guard forbids in students' code
@pytest.mark.parametrize("name", sorted(n for n in CORRECT if hasattr(functional, n) and n != "nms"))
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
