"""cnnlab.reference for DESIGN §2b: the same names and signatures as cnnlab.functional, float64
numpy results, inputs untouched, the same errors, and (under `gpu`) CUDA equal to CPU."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from cnnlab import functional as F
from cnnlab import reference as R

pytestmark = [pytest.mark.ps2, pytest.mark.ps3, pytest.mark.ps5]

NAMES = ["relu", "relu_backward", "softmax_cross_entropy", "numerical_gradient", "batch_norm2d",
         "batch_norm2d_backward", "conv_transpose2d", "box_iou", "nms"]


def _calls(rng):
    x = rng.standard_normal((2, 3, 5, 4))
    boxes = np.concatenate([rng.random((8, 2)) * 5, rng.random((8, 2)) * 5 + 5], axis=1)  # (8, 4)
    return [
        ("relu", (x,), {}),
        ("relu_backward", (rng.standard_normal(x.shape), x), {}),
        ("softmax_cross_entropy", (rng.standard_normal((4, 3)) * 50, np.array([0, 2, 1, 2])), {}),
        ("numerical_gradient", (np.tanh, rng.standard_normal((2, 3)), rng.standard_normal((2, 3))), {}),
        ("batch_norm2d", (x, rng.standard_normal(3), rng.random(3) + 0.1, rng.standard_normal(3),
                          rng.standard_normal(3)), dict(training=True, momentum=0.2)),
        ("batch_norm2d", (x, rng.standard_normal(3), rng.random(3) + 0.1), dict(training=False)),
        ("batch_norm2d_backward", (rng.standard_normal(x.shape), x, rng.standard_normal(3)), {}),
        ("conv_transpose2d", (x, rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(2)),
         dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), dilation=(1, 2))),
        ("box_iou", (boxes, boxes[:3]), {}),
        ("nms", (boxes, rng.integers(0, 3, 8).astype(float), 0.2), {}),
    ]


def _assert_same(a, b, tol):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for u, v in zip(a, b):
            _assert_same(u, v, tol)
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                   rtol=tol, atol=tol)


@pytest.mark.parametrize("name", NAMES)
def test_reference_ops_signatures_match_functional(name):
    ours = inspect.signature(getattr(F, name))
    ref = inspect.signature(getattr(R, name))
    assert list(ref.parameters)[:-1] == list(ours.parameters) and list(ref.parameters)[-1] == "device"
    for p in ours.parameters.values():
        assert ref.parameters[p.name].default == p.default
    assert name in F.__all__ and name in R.__all__


def test_reference_ops_agree_with_functional_float64_and_leave_inputs_untouched(rng):
    for name, args, kw in _calls(rng):
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        copies = [a.copy() for a in arrays]
        ref = getattr(R, name)(*args, **kw)
        for a, c in zip(arrays, copies):
            np.testing.assert_array_equal(a, c)
        for r in (ref if isinstance(ref, tuple) else (ref,)):
            assert np.asarray(r).dtype == (np.int64 if name == "nms" else np.float64), name
        tol = 1e-6 if name == "numerical_gradient" else 1e-10
        _assert_same(getattr(F, name)(*args, **kw), ref, tol)


@pytest.mark.parametrize("name,args", [
    ("box_iou", (np.ones((2, 3)), np.ones((1, 4)))),
    ("nms", (np.zeros((2, 4)), np.ones(3), 0.5)),
    ("softmax_cross_entropy", (np.zeros((2, 3)), np.array([0, 5]))),
    ("batch_norm2d", (np.ones((2, 3, 2, 2)), np.zeros(3), -np.ones(3))),
    ("conv_transpose2d", (np.ones((1, 3, 4, 4)), np.ones((2, 3, 3, 3)))),
    ("relu_backward", (np.ones(3), np.ones(4))),
])
def test_reference_ops_raise_the_same_errors(name, args):
    with pytest.raises(ValueError) as ours:
        getattr(F, name)(*args)
    with pytest.raises(ValueError) as ref:
        getattr(R, name)(*args)
    assert str(ours.value) == str(ref.value)


@pytest.mark.gpu
def test_reference_ops_cuda_matches_cpu(rng):
    for name, args, kw in _calls(rng):
        _assert_same(getattr(R, name)(*args, **kw, device="cuda"), getattr(R, name)(*args, **kw, device="cpu"), 1e-10)
