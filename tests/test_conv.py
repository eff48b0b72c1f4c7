"""cnnlab.functional.conv: every function, fast and naive, against torch in float64.

Each test body runs on both twins (as minitorch runs one test on every
backend); hand-computed cases come from the seed decks.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from cnnlab import examples
from cnnlab import functional as F

pytestmark = [pytest.mark.ps1, pytest.mark.lec2]

CORR2D = [F.corr2d, F.corr2d_naive]
CONV1D = [F.conv1d, F.conv1d_naive]
CONV2D = [F.conv2d, F.conv2d_naive]
CONV2D_BACKWARD = [F.conv2d_backward, F.conv2d_backward_naive]


def _ids(fns):
    return [f.__name__ for f in fns]


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def close(actual, expected, atol=1e-10):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected, dtype=np.float64), rtol=1e-10, atol=atol)
    assert np.shape(actual) == np.shape(expected)


# (N, C_in, C_out, H, W, KH, KW, stride, padding, dilation, bias): non-square inputs and kernels,
# ints and asymmetric tuples, 1x1 kernels, kernel = input size, output size 1.
CONV2D_CASES = [
    (2, 3, 4, 7, 9, 2, 3, 1, 0, 1, True),
    (2, 3, 4, 7, 9, 3, 2, (2, 1), (1, 2), (2, 1), True),
    (3, 2, 5, 8, 6, 3, 3, 2, 1, 2, False),
    (2, 4, 3, 5, 6, 1, 1, (1, 2), 0, 1, True),            # 1x1 kernel mixes channels
    (2, 2, 3, 6, 6, 1, 1, 1, (2, 1), (3, 2), False),      # 1x1 kernel on zero padding
    (2, 3, 2, 4, 5, 4, 5, 1, 0, 1, True),                 # kernel = input size → 1x1 output
    (2, 3, 2, 5, 7, 3, 3, 3, 0, 1, True),                 # stride larger than the remainder → H_out 1
    (1, 1, 1, 1, 1, 1, 1, 1, 0, 1, False),                # the smallest conv
    (2, 2, 3, 9, 4, 2, 4, (3, 1), (0, 2), (3, 1), True),
    (2, 3, 2, 3, 3, 3, 3, (1, 2), (2, 0), (2, 1), False),  # padding larger than half the kernel
]


def _conv2d_inputs(case, rng):
    N, C_in, C_out, H, W, KH, KW, s, p, d, bias = case
    x = rng.standard_normal((N, C_in, H, W))
    w = rng.standard_normal((C_out, C_in, KH, KW))
    b = rng.standard_normal(C_out) if bias else None
    return x, w, b, dict(stride=s, padding=p, dilation=d)


def _random_cases(seed, count):
    """Seeded random valid configurations beyond the fixed table."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        KH, KW, dH, dW, sH, sW = rng.integers(1, 4, 6)
        pH, pW = rng.integers(0, 3, 2)
        H, W = rng.integers(1, 10, 2)
        if H + 2 * pH < dH * (KH - 1) + 1 or W + 2 * pW < dW * (KW - 1) + 1:
            continue
        s = (int(sH), int(sW)) if rng.random() < 0.5 else int(sH)
        out.append((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(H), int(W),
                    int(KH), int(KW), s, (int(pH), int(pW)), (int(dH), int(dW)), bool(rng.random() < 0.5)))
    return out


ALL_CONV2D_CASES = CONV2D_CASES + _random_cases(0, 10)


# --- corr2d ----------------------------------------------------------------------

@pytest.mark.parametrize("fn", CORR2D, ids=_ids(CORR2D))
def test_corr2d_matches_torch(fn, rng):
    for H, W, KH, KW in [(5, 7, 2, 3), (4, 4, 4, 4), (6, 3, 1, 1), (1, 5, 1, 2), (8, 5, 3, 5)]:
        x, k = rng.standard_normal((H, W)), rng.standard_normal((KH, KW))
        close(fn(x, k), TF.conv2d(_t(x)[None, None], _t(k)[None, None])[0, 0].numpy())


@pytest.mark.parametrize("fn", CORR2D, ids=_ids(CORR2D))
@pytest.mark.parametrize("name", ["blur", "vertical_edge", "vertical_line", "conv_layer"])
def test_corr2d_seed_examples(fn, name):
    # the decks' numbers live in cnnlab.examples (blur: the image's 244, not the slide's 144)
    ex = examples.get(name)
    got = fn(ex.inputs["x"], ex.inputs["k"])
    np.testing.assert_array_equal(np.rint(got) if ex.params.get("round") else got, ex.expected)
    if name == "blur":
        assert got[0, 0] == 177.75  # exact: 2844 / 16


@pytest.mark.parametrize("fn", CORR2D, ids=_ids(CORR2D))
def test_corr2d_is_not_convolution(fn):
    # cross-correlation does not flip the kernel: an asymmetric kernel tells them apart
    x = np.arange(9.0).reshape(3, 3)
    k = np.array([[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(fn(x, k), x[:2, :2])


# --- pad2d -----------------------------------------------------------------------

def test_pad2d_hand_and_torch(rng):
    np.testing.assert_array_equal(F.pad2d(np.array([[1, 2]]), 1), [[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(F.pad2d(np.array([[1, 2]]), (0, 2)), [[0, 0, 1, 2, 0, 0]])
    for shape, p in [((3, 4), (1, 2)), ((2, 3, 4, 5), 2), ((2, 1, 3), (0, 0)), ((5, 2, 3, 1, 2), (3, 1))]:
        x = rng.standard_normal(shape)
        pp = (p, p) if isinstance(p, int) else p
        close(F.pad2d(x, p), TF.pad(_t(x), (pp[1], pp[1], pp[0], pp[0])).numpy())


def test_pad2d_seed_same_padding():
    # seed 004, 'Padding': p = 1 around the 5x5 image makes 7x7, and a 3x3 blur then keeps 5x5
    blur = examples.get("blur")
    img = blur.inputs["x"]
    padded = F.pad2d(img, 1)
    assert padded.shape == (7, 7) and padded.dtype == np.float64
    np.testing.assert_array_equal(padded[1:6, 1:6], img)
    assert padded[0].sum() == padded[-1].sum() == padded[:, 0].sum() == padded[:, -1].sum() == 0
    blurred = F.corr2d(padded, blur.inputs["k"])
    assert blurred.shape == (5, 5)
    np.testing.assert_array_equal(np.rint(blurred[1:4, 1:4]), blur.expected)


def test_pad2d_returns_a_new_array():
    x = np.ones((2, 2))
    out = F.pad2d(x, 0)
    out[0, 0] = 5
    assert x[0, 0] == 1


# --- conv1d ----------------------------------------------------------------------

CONV1D_CASES = [  # (N, C_in, C_out, L, K, stride, padding, dilation, bias)
    (2, 3, 4, 11, 3, 1, 0, 1, True), (2, 3, 4, 11, 3, 2, 1, 2, False), (3, 1, 2, 5, 5, 1, 0, 1, True),
    (2, 2, 3, 7, 1, 3, 2, 1, True), (1, 4, 1, 6, 2, (2,), (3,), (4,), False), (2, 2, 2, 4, 3, 5, 1, 1, True),
]


@pytest.mark.parametrize("fn", CONV1D, ids=_ids(CONV1D))
@pytest.mark.parametrize("case", CONV1D_CASES)
def test_conv1d_matches_torch(fn, case, rng):
    N, C_in, C_out, L, K, s, p, d, bias = case
    x, w = rng.standard_normal((N, C_in, L)), rng.standard_normal((C_out, C_in, K))
    b = rng.standard_normal(C_out) if bias else None
    want = TF.conv1d(_t(x), _t(w), None if b is None else _t(b), stride=s, padding=p, dilation=d).numpy()
    close(fn(x, w, b, s, p, d), want)


@pytest.mark.parametrize("fn", CONV1D, ids=_ids(CONV1D))
def test_conv1d_seed_signal(fn):
    # seed 002's signal, kernel [-0.5, 0, 0.5] (worked by hand: 0.5 (x[i+1] - x[i-1]) with zero padding)
    for name in ("signal_1d", "signal_1d_stride_dilation"):
        ex = examples.get(name)
        x, w = ex.inputs["x"][None, None], ex.inputs["w"][None, None]  # (1, 1, 12), (1, 1, 3)
        close(fn(x, w, None, ex.params["stride"], ex.params["padding"], ex.params["dilation"])[0, 0], ex.expected, 1e-12)
    close(fn(x, w, np.array([1.0]))[0, 0], 1 + 0.5 * (x[0, 0, 2:] - x[0, 0, :-2]), 1e-12)


# --- conv2d ----------------------------------------------------------------------

@pytest.mark.parametrize("fn", CONV2D, ids=_ids(CONV2D))
@pytest.mark.parametrize("case", ALL_CONV2D_CASES)
def test_conv2d_matches_torch(fn, case, rng):
    x, w, b, hp = _conv2d_inputs(case, rng)
    want = TF.conv2d(_t(x), _t(w), None if b is None else _t(b), **hp).numpy()
    close(fn(x, w, b, **hp), want)


@pytest.mark.parametrize("fn", CONV2D, ids=_ids(CONV2D))
def test_conv2d_seed_cartesian_axes(fn):
    # seed 001: two 3x3 line filters on the 4x4 "axes" image → [[2,-2],[-1,1]] and [[-1,-1/2],[7/2,4]]
    axes = examples.get("cartesian_axes_conv")
    x, w = axes.inputs["x"][None, None], axes.inputs["w"]  # (1, 1, 4, 4), (2, 1, 3, 3)
    np.testing.assert_array_equal(fn(x, w), axes.expected[None])
    np.testing.assert_array_equal(fn(x, w, np.array([1.0, -4.0])), [[[[3, -1], [0, 2]], [[-5, -4.5], [-0.5, 0]]]])


@pytest.mark.parametrize("fn", CONV2D, ids=_ids(CONV2D))
def test_conv2d_seed_edge_stride_padding_dilation(fn):
    # seed 001's 10/0 image with the vertical-edge kernel, worked by hand
    edge = examples.get("vertical_edge").inputs
    x, k = edge["x"][None, None], edge["k"][None, None]  # (1, 1, 6, 6), (1, 1, 3, 3)
    np.testing.assert_array_equal(fn(x, k, stride=2), [[[[0, 30], [0, 30]]]])  # every other 0 30 30 0
    np.testing.assert_array_equal(fn(x, k, dilation=2), [[[[30, 30], [30, 30]]]])  # taps j, j+2, j+4
    edge, mid = [-20, 0, 20, 20, 0, 0], [-30, 0, 30, 30, 0, 0]  # zero padding makes a fake edge at the left
    np.testing.assert_array_equal(fn(x, k, padding=1), [[[edge, mid, mid, mid, mid, edge]]])
    np.testing.assert_array_equal(fn(x, k, padding=(0, 1)), [[[mid] * 4]])


@pytest.mark.parametrize("fn", CONV2D + CONV1D, ids=_ids(CONV2D + CONV1D))
def test_conv_dtypes_follow_numpy_promotion(fn, rng):
    nd = 4 if "2d" in fn.__name__ else 3
    x = rng.standard_normal((2, 3) + (5,) * (nd - 2)).astype(np.float32)
    w = rng.standard_normal((4, 3) + (2,) * (nd - 2)).astype(np.float32)
    assert fn(x, w).dtype == np.float32
    assert fn(x, w, np.zeros(4, np.float32)).dtype == np.float32
    assert fn(x.astype(np.int64), w.astype(np.int64)).dtype == np.float64
    assert fn(x, w.astype(np.float64)).dtype == np.float64


@pytest.mark.parametrize("fn", CONV2D, ids=_ids(CONV2D))
def test_conv2d_float32_large_matches_torch(fn, rng):
    # the benchmark's dtype; a bigger batch exercises the threaded im2col copy
    N = 8 if fn is F.conv2d else 1
    x = rng.standard_normal((N, 16, 12, 12)).astype(np.float32)
    w = rng.standard_normal((8, 16, 3, 3)).astype(np.float32)
    want = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    np.testing.assert_allclose(fn(x, w, padding=1), want, rtol=1e-4, atol=1e-4)


# --- conv2d backward -------------------------------------------------------------

def _torch_backward(dout, x, w, hp):
    xt, wt, bt = _t(x, True), _t(w, True), _t(np.zeros(w.shape[0]), True)
    TF.conv2d(xt, wt, bt, **hp).backward(_t(dout))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("fn", CONV2D_BACKWARD, ids=_ids(CONV2D_BACKWARD))
@pytest.mark.parametrize("case", ALL_CONV2D_CASES)
def test_conv2d_backward_matches_autograd(fn, case, rng):
    x, w, _, hp = _conv2d_inputs(case, rng)
    dout = rng.standard_normal(TF.conv2d(_t(x), _t(w), **hp).shape)
    got = fn(dout, x, w, **hp)
    assert isinstance(got, tuple) and len(got) == 3
    for g, want in zip(got, _torch_backward(dout, x, w, hp)):
        close(g, want)


@pytest.mark.parametrize("fn", CONV2D_BACKWARD, ids=_ids(CONV2D_BACKWARD))
def test_conv2d_backward_central_differences(fn, rng):
    x, w, b, hp = _conv2d_inputs((2, 2, 2, 5, 4, 2, 3, (2, 1), (1, 1), (1, 2), True), rng)
    dout = rng.standard_normal(F.conv2d(x, w, b, **hp).shape)
    dx, dw, db = fn(dout, x, w, **hp)

    def loss(x_, w_, b_):
        return float(np.sum(F.conv2d(x_, w_, b_, **hp) * dout))

    eps = 1e-6
    for arr, grad, which in [(x, dx, 0), (w, dw, 1), (b, db, 2)]:
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            args = [x.copy(), w.copy(), b.copy()]
            args[which][idx] += eps
            up = loss(*args)
            args[which][idx] -= 2 * eps
            num[idx] = (up - loss(*args)) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fn", CONV2D_BACKWARD, ids=_ids(CONV2D_BACKWARD))
def test_conv2d_backward_seed_cartesian_axes(fn):
    # dout = 1 everywhere: db counts output positions, dw sums the four windows, dx sums the filters
    # over the windows covering each pixel (worked by hand on seed 001's example)
    x = np.array([[[[0, 1, 0, 1], [0, 1, 0, 1], [1, 1, 1, 1], [0, -2, 0, -2]]]], dtype=float)
    w = np.array([[[[-0.5, 1, -0.5]] * 3], [[[-0.5] * 3, [1] * 3, [-0.5] * 3]]])
    dx, dw, db = fn(np.ones((1, 2, 2, 2)), x, w)
    np.testing.assert_array_equal(db, [4, 4])
    np.testing.assert_array_equal(dw, [[[[2, 2, 2], [3, 3, 3], [0, 0, 0]]]] * 2)
    corner, side = [-1, -0.5, -0.5, -1], [-0.5, 2, 2, -0.5]
    np.testing.assert_array_equal(dx, [[[corner, side, side, corner]]])


@pytest.mark.parametrize("fn", CONV2D_BACKWARD, ids=_ids(CONV2D_BACKWARD))
def test_conv2d_backward_padding_gets_no_gradient(fn, rng):
    # 1x1 kernel, stride 2, padding 1 on 5x5: the 4x4 outputs read padded rows/cols 0, 2, 4, 6, i.e.
    # x's rows/cols 1 and 3 (the others are padding); dx keeps x's shape and is 0 elsewhere
    x, w = rng.standard_normal((1, 1, 5, 5)), rng.standard_normal((1, 1, 1, 1))
    dx, dw, db = fn(np.ones((1, 1, 4, 4)), x, w, stride=2, padding=(1, 1))
    want = np.zeros((1, 1, 5, 5))
    want[0, 0, 1::2, 1::2] = w[0, 0, 0, 0]
    np.testing.assert_array_equal(dx, want)
    close(dw, [[[[x[0, 0, 1::2, 1::2].sum()]]]])
    close(db, [16.0])


def test_conv2d_naive_and_fast_agree_on_the_same_call(rng):
    x, w, b, hp = _conv2d_inputs((2, 3, 2, 6, 7, 3, 2, (2, 1), (1, 0), (1, 2), True), rng)
    close(F.conv2d(x, w, b, **hp), F.conv2d_naive(x, w, b, **hp))


def _conv_in_child(x, w):
    return F.conv2d(x, w).shape


def test_conv2d_works_in_a_forked_child(rng):
    # the threaded im2col copy must not hang in a fork of a process that already used it
    import multiprocessing

    x = rng.standard_normal((16, 16, 16, 16)).astype(np.float32)  # large enough to use the threads
    w = rng.standard_normal((4, 16, 3, 3)).astype(np.float32)
    want = F.conv2d(x, w).shape
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_conv_in_child, (x, w)).get(timeout=20) == want


@pytest.mark.parametrize("fn", CONV2D + CONV2D_BACKWARD, ids=_ids(CONV2D + CONV2D_BACKWARD))
def test_conv2d_accepts_strided_views(fn, rng):
    # reversed, sliced and Fortran-ordered inputs: the strided window view must follow the real strides
    x = rng.standard_normal((2, 3, 9, 14))[:, ::-1, ::-1, ::2]  # (2, 3, 9, 7), negative and doubled strides
    w = np.asfortranarray(rng.standard_normal((4, 3, 3, 2)))[..., ::-1]
    hp = dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1))
    if fn in CONV2D:
        want = TF.conv2d(_t(x.copy()), _t(w.copy()), **hp).numpy()
        close(fn(x, w, **hp), want)
    else:
        dout = rng.standard_normal(TF.conv2d(_t(x.copy()), _t(w.copy()), **hp).shape)
        dout_view = np.ascontiguousarray(dout[..., ::-1])[..., ::-1]  # equal to dout, negative strides
        for g, want in zip(fn(dout_view, x, w, **hp), _torch_backward(dout, x.copy(), w.copy(), hp)):
            close(g, want)


# --- blocked, threaded path (conv2d splits the batch into cache-sized blocks) ------------

@pytest.mark.parametrize("blas_threads", [1, 2])
@pytest.mark.parametrize("case", [CONV2D_CASES[1], CONV2D_CASES[2], CONV2D_CASES[9], (5, 3, 4, 7, 6, 3, 3, 1, 1, 1, True)])
def test_conv2d_blocked_matches_torch(case, blas_threads, rng, monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import cnnlab.functional.conv as conv_module

    monkeypatch.setattr(conv_module, "_BLOCK_BYTES", 1)  # one image per block: many blocks, split between threads
    x, w, b, kw = _conv2d_inputs(case, rng)
    x = np.concatenate([x, x[::-1] * 2])  # a larger batch, so several blocks reach every thread
    with threadpoolctl.threadpool_limits(blas_threads, user_api="blas"):
        out = F.conv2d(x, w, b, **kw)
    close(out, TF.conv2d(_t(x), _t(w), None if b is None else _t(b), **kw).detach().numpy())
    assert out.flags.c_contiguous


def test_conv2d_float32_stays_float32_and_close(rng):
    x = rng.standard_normal((4, 3, 9, 8)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    out = F.conv2d(x, w, padding=1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy(),
                               rtol=1e-5, atol=1e-5)
