"""cnnlab.reference, the oracle: same contract as cnnlab.functional, checked against direct torch calls,
the seed decks' hand-computed cases and, under `gpu`, CUDA against CPU."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnlab import examples
from cnnlab import functional as F
from cnnlab import reference as R

pytestmark = [pytest.mark.ps1, pytest.mark.ps2]

NAMES = ["corr2d", "pad2d", "conv1d", "conv2d", "conv2d_backward",
         "max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward"]


def _t(a, grad=False, device="cpu"):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad, device=device)


def _calls(rng):
    """(name, args, kwargs) for one non-trivial call of every operator."""
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    hp = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    dout = rng.standard_normal(TF.conv2d(_t(x), _t(w), **hp).shape)
    pool = dict(kernel_size=(3, 2), stride=(2, 1), padding=1)
    pdout = rng.standard_normal(TF.max_pool2d(_t(x), **pool).shape)
    return [
        ("corr2d", (x[0, 0], w[0, 0]), {}),
        ("pad2d", (x, (1, 2)), {}),
        ("conv1d", (x[:, :, 0], w[:, :, 0], rng.standard_normal(4)), dict(stride=2, padding=1, dilation=2)),
        ("conv2d", (x, w, rng.standard_normal(4)), hp),
        ("conv2d_backward", (dout, x, w), hp),
        ("max_pool2d", (x,), pool),
        ("avg_pool2d", (x,), pool),
        ("max_pool2d_backward", (pdout, x), pool),
        ("avg_pool2d_backward", (pdout, x), pool),
    ]


def _torch(name, args, kw, device="cpu"):
    """The same call spelled directly in torch."""
    if name == "corr2d":
        return TF.conv2d(_t(args[0], device=device)[None, None], _t(args[1], device=device)[None, None])[0, 0]
    if name == "pad2d":
        ph, pw = args[1]
        return TF.pad(_t(args[0], device=device), (pw, pw, ph, ph))
    if name in ("conv1d", "conv2d"):
        return getattr(TF, name)(*(_t(a, device=device) for a in args), **kw)
    if name == "conv2d_backward":
        dout, x, w = args
        xt, wt = _t(x, True, device), _t(w, True, device)
        bt = _t(np.zeros(w.shape[0]), True, device)
        TF.conv2d(xt, wt, bt, **kw).backward(_t(dout, device=device))
        return xt.grad, wt.grad, bt.grad
    if name.endswith("_backward"):
        xt = _t(args[1], True, device)
        getattr(TF, name[:-len("_backward")])(xt, **kw).backward(_t(args[0], device=device))
        return xt.grad
    return getattr(TF, name)(_t(args[0], device=device), **kw)


def _np(v):
    return tuple(_np(a) for a in v) if isinstance(v, tuple) else v.detach().cpu().numpy()


def _assert_same(got, want, tol=1e-12):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same(g, w, tol)
        return
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_reference_exports_the_contract():
    assert set(NAMES) <= set(R.__all__)
    assert set(NAMES) <= set(F.__all__)


@pytest.mark.parametrize("name", NAMES)
def test_reference_signature_matches_functional(name):
    ref = inspect.signature(getattr(R, name)).parameters
    fun = inspect.signature(getattr(F, name)).parameters
    assert list(ref)[:-1] == list(fun) and list(ref)[-1] == "device"
    assert [p.default for p in list(ref.values())[:-1]] == [p.default for p in fun.values()]
    naive = getattr(F, name + "_naive", None)
    if naive is not None:
        assert inspect.signature(naive) == inspect.signature(getattr(F, name))


@pytest.mark.parametrize("device", [None, "cpu"])
def test_reference_matches_direct_torch(device, rng):
    for name, args, kw in _calls(rng):
        _assert_same(getattr(R, name)(*args, **kw, device=device), _np(_torch(name, args, kw)))


def test_functional_matches_reference(rng):
    for name, args, kw in _calls(rng):
        for fn in (getattr(F, name), getattr(F, name + "_naive", None)):
            if fn is not None:
                _assert_same(fn(*args, **kw), getattr(R, name)(*args, **kw), 1e-10)


def test_reference_seed_examples():
    ex = examples.get("cartesian_axes_conv")
    axes, w = ex.inputs["x"][None, None], ex.inputs["w"]  # (1, 1, 4, 4), (2, 1, 3, 3)
    maps = R.conv2d(axes, w)
    np.testing.assert_array_equal(maps, ex.expected[None])
    np.testing.assert_array_equal(R.max_pool2d(maps, 2), [[[[2]], [[4]]]])
    np.testing.assert_array_equal(R.avg_pool2d(maps, 2), [[[[0]], [[1.5]]]])
    np.testing.assert_array_equal(R.max_pool2d_backward(np.array([[[[10.0]], [[20.0]]]]), maps, 2),
                                  [[[[10, 0], [0, 0]], [[0, 0], [0, 20]]]])
    np.testing.assert_array_equal(R.avg_pool2d_backward(np.ones((1, 1, 1, 2)), np.zeros((1, 1, 1, 3)), (1, 2), 1),
                                  [[[[0.5, 1, 0.5]]]])
    dx, dw, db = R.conv2d_backward(np.ones((1, 2, 2, 2)), axes, w)
    np.testing.assert_array_equal(db, [4, 4])
    np.testing.assert_array_equal(dw, [[[[2, 2, 2], [3, 3, 3], [0, 0, 0]]]] * 2)
    np.testing.assert_array_equal(dx, [[[[-1, -0.5, -0.5, -1], [-0.5, 2, 2, -0.5], [-0.5, 2, 2, -0.5],
                                         [-1, -0.5, -0.5, -1]]]])
    for name in ("blur", "vertical_edge", "vertical_line", "conv_layer"):  # the decks' numbers: cnnlab.examples
        ex = examples.get(name)
        got = R.corr2d(ex.inputs["x"], ex.inputs["k"])
        np.testing.assert_array_equal(np.rint(got) if ex.params.get("round") else got, ex.expected)
    ex = examples.get("signal_1d_stride_dilation")
    np.testing.assert_allclose(R.conv1d(ex.inputs["x"][None, None], ex.inputs["w"][None, None], None,
                                        **ex.params)[0, 0], ex.expected, atol=1e-12)
    np.testing.assert_array_equal(R.pad2d(np.array([[1, 2]]), 1), [[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]])


def test_reference_returns_float64_from_float32_and_int(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    w = rng.integers(-3, 3, (3, 2, 2, 2))
    assert R.conv2d(x, w).dtype == np.float64
    assert R.max_pool2d(x.astype(np.int32), 2).dtype == np.float64


def test_reference_restores_torch_settings():
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.benchmark, torch.are_deterministic_algorithms_enabled())
    try:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
        torch.use_deterministic_algorithms(False)
        with R.numerics():
            assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
            assert torch.are_deterministic_algorithms_enabled()
        R.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))
        with pytest.raises(ValueError):
            R.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 2, 2, 2)))  # an error inside must restore too
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        assert torch.backends.cudnn.benchmark and not torch.are_deterministic_algorithms_enabled()
    finally:
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.benchmark) = saved[:3]
        torch.use_deterministic_algorithms(saved[3])


def test_reference_does_not_mutate_inputs(rng):
    for name, args, kw in _calls(rng):
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        copies = [a.copy() for a in arrays]
        getattr(R, name)(*args, **kw)
        for a, c in zip(arrays, copies):
            np.testing.assert_array_equal(a, c)


@pytest.mark.gpu
def test_reference_cuda_matches_cpu(rng):
    for name, args, kw in _calls(rng):
        _assert_same(getattr(R, name)(*args, **kw, device="cuda"), getattr(R, name)(*args, **kw, device="cpu"), 1e-10)


@pytest.mark.gpu
def test_reference_cuda_is_float64_faithful_with_tf32_requested(rng):
    # even when the caller allows TF32, the oracle must not round to ~1e-3
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        x, w = rng.standard_normal((8, 16, 24, 24)), rng.standard_normal((32, 16, 3, 3))
        np.testing.assert_allclose(R.conv2d(x, w, device="cuda"), F.conv2d(x, w), rtol=1e-10, atol=1e-10)
        assert torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.gpu
def test_reference_device_none_picks_cuda(rng):
    import cnnlab

    assert cnnlab.device().type == "cuda"
    for name, args, kw in _calls(rng):
        _assert_same(getattr(R, name)(*args, **kw), _np(_torch(name, args, kw, device="cuda")), 1e-10)
