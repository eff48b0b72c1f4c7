"""Bad input gets a clear ValueError/TypeError naming the argument; inputs are never mutated.

Every check runs on the vectorized function, its naive twin and the torch
reference, which share the argument parsers in `cnnlab._args`.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnlab import functional as F
from cnnlab import reference as R

pytestmark = [pytest.mark.ps1, pytest.mark.ps2]

HYP = settings(max_examples=25, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def _impls(name):
    fns = [getattr(F, name), getattr(R, name)]
    naive = getattr(F, name + "_naive", None)
    return fns + ([naive] if naive is not None else [])


def _pid(fn):
    return f"{fn.__module__.split('.')[-1]}.{fn.__name__}"


CONV2D = _impls("conv2d")
CONV2D_BWD = _impls("conv2d_backward")
CONV1D = _impls("conv1d")
CORR2D = _impls("corr2d")
POOL = _impls("max_pool2d") + _impls("avg_pool2d")
POOL_BWD = _impls("max_pool2d_backward") + _impls("avg_pool2d_backward")


def _raises(exc, fn, *args, must=(), **kw):
    """Call fn, expect `exc`, and check that the message contains every string in `must`."""
    with pytest.raises(exc) as info:
        fn(*args, **kw)
    msg = str(info.value)
    for part in must:
        assert part in msg, f"{_pid(fn)}: {part!r} missing from the message {msg!r}"
    return msg


# --- wrong ndim, channels, sizes (hypothesis over shapes) ------------------------------

shape_st = st.lists(st.integers(1, 4), min_size=0, max_size=6)


@pytest.mark.parametrize("fn", CONV2D, ids=_pid)
@HYP
@given(shape=shape_st.filter(lambda s: len(s) != 4))
def test_conv2d_wrong_ndim_names_x_and_its_shape(fn, shape):
    x = np.zeros(shape)
    _raises(ValueError, fn, x, np.zeros((1, 1, 1, 1)), must=("x", "4-D", str(x.shape)))


@pytest.mark.parametrize("fn", CONV2D, ids=_pid)
@HYP
@given(shape=shape_st.filter(lambda s: len(s) != 4))
def test_conv2d_wrong_weight_ndim_names_w(fn, shape):
    w = np.zeros(shape)
    _raises(ValueError, fn, np.zeros((1, 1, 3, 3)), w, must=("w", "4-D", str(w.shape)))


@pytest.mark.parametrize("fn", CONV2D + CONV2D_BWD, ids=_pid)
@HYP
@given(c_x=st.integers(1, 5), c_w=st.integers(1, 5))
def test_conv2d_channel_mismatch_names_both_shapes(fn, c_x, c_w):
    if c_x == c_w:
        return
    x, w = np.zeros((2, c_x, 5, 5)), np.zeros((3, c_w, 2, 2))
    args = (np.zeros((2, 3, 4, 4)), x, w) if fn in CONV2D_BWD else (x, w)  # backward takes dout first
    _raises(ValueError, fn, *args, must=("C_in", str(x.shape), str(w.shape)))


@pytest.mark.parametrize("fn", CONV2D, ids=_pid)
@HYP
@given(H=st.integers(1, 6), K=st.integers(1, 8), p=st.integers(0, 2), d=st.integers(1, 3))
def test_conv2d_kernel_larger_than_padded_input(fn, H, K, p, d):
    if H + 2 * p >= d * (K - 1) + 1:
        return
    msg = _raises(ValueError, fn, np.zeros((1, 1, H, 7)), np.zeros((1, 1, K, 1)), padding=(p, 0), dilation=(d, 1),
                  must=("does not fit", f"({H}, 7)"))
    assert "kernel" in msg and "padding" in msg


@pytest.mark.parametrize("fn", CONV2D, ids=_pid)
def test_conv2d_bias_shape(fn):
    _raises(ValueError, fn, np.zeros((1, 2, 3, 3)), np.zeros((4, 2, 2, 2)), np.zeros(3), must=("b", "(4,)", "(3,)"))
    _raises(ValueError, fn, np.zeros((1, 2, 3, 3)), np.zeros((4, 2, 2, 2)), np.zeros((4, 1)), must=("b", "(4, 1)"))


@pytest.mark.parametrize("fn", CONV1D, ids=_pid)
def test_conv1d_errors(fn):
    _raises(ValueError, fn, np.zeros((1, 2, 3, 3)), np.zeros((1, 2, 2)), must=("x", "3-D", "(1, 2, 3, 3)"))
    _raises(ValueError, fn, np.zeros((1, 2, 5)), np.zeros((1, 3, 2)), must=("C_in", "(1, 3, 2)"))
    _raises(TypeError, fn, np.zeros((1, 2, 5)), np.zeros((1, 2, 2)), stride=(1, 1), must=("stride",))
    _raises(ValueError, fn, np.zeros((1, 2, 2)), np.zeros((1, 2, 3)), must=("does not fit",))


@pytest.mark.parametrize("fn", CORR2D, ids=_pid)
def test_corr2d_errors(fn):
    _raises(ValueError, fn, np.zeros((1, 3, 3)), np.zeros((2, 2)), must=("x", "2-D", "(1, 3, 3)"))
    _raises(ValueError, fn, np.zeros((3, 3)), np.zeros(2), must=("k", "2-D", "(2,)"))
    _raises(ValueError, fn, np.zeros((3, 3)), np.zeros((2, 4)), must=("does not fit", "(2, 4)", "(3, 3)"))


@pytest.mark.parametrize("fn", [F.pad2d, R.pad2d], ids=_pid)
def test_pad2d_errors(fn):
    _raises(ValueError, fn, np.zeros(3), 1, must=("x", "(3,)"))
    _raises(ValueError, fn, np.zeros((3, 3)), -1, must=("padding", ">= 0"))
    _raises(TypeError, fn, np.zeros((3, 3)), 1.5, must=("padding",))


# --- hyper-parameters ------------------------------------------------------------------

bad_type = st.one_of(st.floats(allow_nan=True), st.text(max_size=3), st.none(), st.booleans(),
                     st.tuples(st.integers(1, 3), st.floats(0.5, 2)),
                     st.lists(st.integers(1, 3), min_size=3, max_size=4))


@pytest.mark.parametrize("fn", CONV2D, ids=_pid)
@pytest.mark.parametrize("arg", ["stride", "padding", "dilation"])
@HYP
@given(value=bad_type)
def test_conv2d_non_integer_hyper_parameters(fn, arg, value):
    with pytest.raises((TypeError, ValueError), match=arg):
        fn(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 2, 2)), **{arg: value})


@pytest.mark.parametrize("fn", CONV2D, ids=_pid)
@HYP
@given(s=st.integers(-3, 0), p=st.integers(-3, -1), d=st.integers(-3, 0))
def test_conv2d_out_of_range_hyper_parameters(fn, s, p, d):
    x, w = np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 2, 2))
    _raises(ValueError, fn, x, w, stride=(1, s), must=("stride", ">= 1", str(s)))
    _raises(ValueError, fn, x, w, padding=p, must=("padding", ">= 0", str(p)))
    _raises(ValueError, fn, x, w, dilation=(d, 1), must=("dilation", ">= 1"))


@pytest.mark.parametrize("fn", POOL, ids=_pid)
@HYP
@given(k=st.integers(1, 4), p=st.integers(0, 4))
def test_pool2d_padding_at_most_half_the_kernel(fn, k, p):
    x = np.zeros((1, 1, 9, 9))
    if 2 * p > k:
        _raises(ValueError, fn, x, k, 1, p, must=("padding", "half", "kernel_size"))
        with pytest.raises(RuntimeError):  # torch draws the same line
            TF.max_pool2d(torch.zeros(1, 1, 9, 9), k, 1, p)
    else:
        assert fn(x, k, 1, p).shape == TF.max_pool2d(torch.zeros(1, 1, 9, 9), k, 1, p).shape


@pytest.mark.parametrize("fn", POOL, ids=_pid)
def test_pool2d_errors(fn):
    _raises(ValueError, fn, np.zeros((1, 3, 3)), 2, must=("x", "4-D", "(1, 3, 3)"))
    _raises(ValueError, fn, np.zeros((1, 1, 3, 3)), 0, must=("kernel_size", ">= 1"))
    _raises(ValueError, fn, np.zeros((1, 1, 3, 3)), 2, 0, must=("stride", ">= 1"))
    _raises(TypeError, fn, np.zeros((1, 1, 3, 3)), 2.0, must=("kernel_size",))
    _raises(TypeError, fn, np.zeros((1, 1, 3, 3)), 2, "2", must=("stride",))
    _raises(ValueError, fn, np.zeros((1, 1, 3, 3)), 4, must=("does not fit", "(3, 3)"))
    _raises(ValueError, fn, np.zeros((1, 1, 3, 3)), (1, 2, 3), must=("kernel_size", "length 3"))


@pytest.mark.parametrize("fn", POOL_BWD + CONV2D_BWD, ids=_pid)
def test_backward_dout_shape(fn):
    x = np.zeros((2, 3, 6, 6))
    if "conv" in fn.__name__:
        args, want = (x, np.zeros((4, 3, 3, 3))), "(2, 4, 4, 4)"
    else:
        args, want = (x, 2), "(2, 3, 3, 3)"
    _raises(ValueError, fn, np.zeros((2, 3, 3)), *args, must=("dout", want, "(2, 3, 3)"))


@pytest.mark.parametrize("fn", CONV2D + POOL + CORR2D, ids=_pid)
def test_non_arrays_are_rejected(fn):
    first = torch.zeros((1, 1, 3, 3)) if fn not in CORR2D else torch.zeros((3, 3))
    rest = (np.zeros((1, 1, 2, 2)),) if fn in CONV2D else ((np.zeros((2, 2)),) if fn in CORR2D else (2,))
    _raises(TypeError, fn, first, *rest, must=("x", "torch tensor"))
    _raises(TypeError, fn, np.array([["a"]]).reshape(1, 1, 1, 1) if fn not in CORR2D else np.array([["a"]]), *rest,
            must=("x", "dtype"))


# --- never an IndexError, never a silent broadcast: random calls compared with torch ---------------

@pytest.mark.parametrize("fn", [F.conv2d, F.conv2d_naive], ids=_pid)
@HYP
@given(N=st.integers(0, 2), C=st.integers(1, 3), Cw=st.integers(1, 3), H=st.integers(0, 5), W=st.integers(1, 5),
       K=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2), seed=st.integers(0, 99))
def test_conv2d_random_calls_succeed_like_torch_or_raise_clearly(fn, N, C, Cw, H, W, K, s, p, d, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((2, Cw, K, K))
    try:
        got = fn(x, w, stride=s, padding=p, dilation=d)
    except (ValueError, TypeError) as exc:
        assert re.search(r"\bx\b|\bw\b|kernel", str(exc))
        return
    want = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=s, padding=p, dilation=d).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fn", [F.max_pool2d, F.avg_pool2d, F.max_pool2d_naive, F.avg_pool2d_naive], ids=_pid)
@HYP
@given(H=st.integers(0, 5), W=st.integers(1, 5), k=st.integers(1, 4), s=st.one_of(st.none(), st.integers(1, 3)),
       p=st.integers(0, 2), seed=st.integers(0, 99))
def test_pool2d_random_calls_succeed_like_torch_or_raise_clearly(fn, H, W, k, s, p, seed):
    x = np.random.default_rng(seed).standard_normal((2, 2, H, W))
    try:
        got = fn(x, k, s, p)
    except ValueError as exc:
        assert re.search(r"\bx\b|padding|pooling window", str(exc))
        return
    op = TF.max_pool2d if "max" in fn.__name__ else TF.avg_pool2d
    np.testing.assert_allclose(got, op(torch.from_numpy(x), k, s, p).numpy(), rtol=1e-12, atol=1e-12)


# --- inputs are never mutated ------------------------------------------------------------

def _frozen(a):
    a = a.copy()
    a.setflags(write=False)  # any in-place write would raise
    return a


ALL = [fn for name in ["corr2d", "pad2d", "conv1d", "conv2d", "conv2d_backward", "max_pool2d", "avg_pool2d",
                       "max_pool2d_backward", "avg_pool2d_backward"] for fn in _impls(name)]


@pytest.mark.parametrize("fn", ALL, ids=_pid)
@settings(max_examples=8, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float64, np.float32, np.int64]))
def test_inputs_are_never_mutated_or_aliased(fn, seed, dtype):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((2, 3, 6, 5)) * 4).astype(dtype)
    w = (rng.standard_normal((4, 3, 3, 2)) * 4).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    name = fn.__name__.replace("_naive", "")
    args = {
        "corr2d": (x[0, 0], w[0, 0]), "pad2d": (x, 1),
        "conv1d": (x[:, :, 0], w[:, :, 0], b, 2, 1, 2), "conv2d": (x, w, b, (2, 1), (1, 0), (1, 2)),
        "conv2d_backward": (rng.standard_normal((2, 4, 3, 3)).astype(dtype), x, w, (2, 1), (1, 0), (1, 2)),
        "max_pool2d": (x, 2, 1, 1), "avg_pool2d": (x, 2, 1, 1),
        "max_pool2d_backward": (rng.standard_normal((2, 3, 7, 6)).astype(dtype), x, 2, 1, 1),
        "avg_pool2d_backward": (rng.standard_normal((2, 3, 7, 6)).astype(dtype), x, 2, 1, 1),
    }[name]
    frozen = tuple(_frozen(a) if isinstance(a, np.ndarray) else a for a in args)
    out = fn(*frozen)
    for a, f in zip(args, frozen):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, f)
            for o in out if isinstance(out, tuple) else (out,):
                assert not np.shares_memory(o, f)
