"""Test cases: what the student's function is called with.

A check runs, in order: the worked examples (`worked.py`), then *feature
cases* — a fixed list of shapes and hyper-parameters, one feature each
(padding, stride (2, 1), dilation, C_out = H_out = W_out, ...), so that every
feature is exercised whatever the seed — then *random cases* in which every
dimension varies independently. Values come from ``numpy.random.default_rng(seed)``:
the same seed gives the same cases and so the same verdict.

Arguments are passed positionally in the order of DESIGN §2; trailing
arguments equal to their default are left out, so defaults are tested too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.shapes import conv_output_size

__all__ = ["Case", "SIGNATURES", "make", "params", "describe", "random_cases", "conv_case", "pool_case"]

_REQ = object()  # marks a required argument
_CONV = (("b", None), ("stride", 1), ("padding", 0), ("dilation", 1))
_POOL = (("kernel_size", _REQ), ("stride", None), ("padding", 0))
SIGNATURES = {
    "corr2d": (("x", _REQ), ("k", _REQ)),
    "pad2d": (("x", _REQ), ("padding", _REQ)),
    "conv_output_size": (("n", _REQ), ("kernel_size", _REQ), ("stride", 1), ("padding", 0), ("dilation", 1)),
    "conv1d": (("x", _REQ), ("w", _REQ), *_CONV),
    "conv2d": (("x", _REQ), ("w", _REQ), *_CONV),
    "conv2d_backward": (("dout", _REQ), ("x", _REQ), ("w", _REQ), *_CONV[1:]),
    "max_pool2d": (("x", _REQ), *_POOL),
    "avg_pool2d": (("x", _REQ), *_POOL),
    "max_pool2d_backward": (("dout", _REQ), ("x", _REQ), *_POOL),
    "avg_pool2d_backward": (("dout", _REQ), ("x", _REQ), *_POOL),
}


@dataclass(frozen=True, eq=False)
class Case:
    """One call: positional `values` for the parameters `names`.

    `error` names the exception the call must raise (e.g. ``"ValueError"``)
    instead of returning; None for an ordinary case.
    """

    label: str
    names: tuple
    values: tuple
    error: str | None = None


def make(op: str, label: str, error: str | None = None, **kw) -> Case:
    """A case for `op` from keyword values; trailing defaults are dropped."""
    sig = SIGNATURES[op]
    full = [(n, kw.get(n, d)) for n, d in sig]
    while full and full[-1][1] is not _REQ and _same(full[-1][1], dict(sig)[full[-1][0]]):
        full.pop()
    names = tuple(n for n, _ in full)
    values = tuple(v for _, v in full)
    return Case(label, names, values, error)


def _same(a, b) -> bool:
    return (a is None and b is None) or (not isinstance(a, np.ndarray) and a is not None and a == b)


def params(op: str, case: Case) -> dict:
    """All parameters of the call, defaults filled in."""
    out = {n: d for n, d in SIGNATURES[op]}
    out.update(zip(case.names, case.values))
    return out


def _fmt(v) -> str:
    if isinstance(v, np.ndarray):
        return f"array of shape {v.shape}"
    return repr(v)


def describe(op: str, case: Case) -> str:
    """``conv2d(x, w, b, stride=(2, 1)) with x: (2, 3, 7, 6), ...`` for messages."""
    arrays = [(n, v) for n, v in zip(case.names, case.values) if isinstance(v, np.ndarray)]
    call = ", ".join(n if isinstance(v, np.ndarray) else f"{n}={v!r}" for n, v in zip(case.names, case.values))
    text = f"{op}({call})"
    if arrays:
        text += " with " + ", ".join(f"{n} of shape {v.shape}" for n, v in arrays)
    left = [n for n, _ in SIGNATURES[op][len(case.names):]]
    if left:
        text += f" ({', '.join(left)} left at the default)"
    return text


# ----------------------------------------------------------------- generators
def _pair(rng, lo, hi, as_int_prob=0.4):
    a, b = (int(v) for v in rng.integers(lo, hi + 1, size=2))
    if a == b and rng.random() < as_int_prob * 2:
        return a
    return (a, b)


def _p(v, i):
    return v if isinstance(v, int) else v[i]


def _span(k, d):
    return d * (k - 1) + 1


def _conv_size(rng, k, s, p, d, extra=6):
    lo = max(1, _span(k, d) - 2 * p)
    return int(rng.integers(lo, lo + extra + 1))


def conv_case(op, rng, label, N, C_in, H, W, C_out, KH, KW, bias, s, p, d):
    """A conv1d/conv2d/conv2d_backward case with random normal values."""
    two = op != "conv1d"
    xs = (N, C_in, H, W) if two else (N, C_in, W)
    ws = (C_out, C_in, KH, KW) if two else (C_out, C_in, KW)
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws)
    if op == "conv2d_backward":
        hw = [conv_output_size(n, k, _p(s, i), _p(p, i), _p(d, i)) for i, (n, k) in enumerate(((H, KH), (W, KW)))]
        dout = rng.standard_normal((N, C_out, *hw))
        return make(op, label, dout=dout, x=x, w=w, stride=s, padding=p, dilation=d)
    b = rng.standard_normal(C_out) if bias else None
    return make(op, label, x=x, w=w, b=b, stride=s, padding=p, dilation=d)


def random_conv(op, rng, label):
    two = op != "conv1d"
    N, C_in, C_out = (int(v) for v in rng.integers(1, (4, 4, 5)))
    if two:
        k, s, p, d = _pair(rng, 1, 4), _pair(rng, 1, 3), _pair(rng, 0, 2), _pair(rng, 1, 2, 0.6)
    else:
        k, s, p, d = (int(v) for v in rng.integers((1, 1, 0, 1), (6, 4, 3, 3)))
    KH, KW = _p(k, 0), _p(k, 1)
    H = _conv_size(rng, KH, _p(s, 0), _p(p, 0), _p(d, 0)) if two else 1
    W = _conv_size(rng, KW, _p(s, 1), _p(p, 1), _p(d, 1))
    return conv_case(op, rng, label, N, C_in, H, W, C_out, KH, KW, rng.random() < 0.7, s, p, d)


def pool_case(op, rng, label, N, C, H, W, k, s, p, ties=False):
    """A pooling case; `ties` draws small integers so windows hold equal maxima."""
    x = rng.integers(-2, 3, size=(N, C, H, W)).astype(np.float64) if ties else rng.standard_normal((N, C, H, W))
    if op.endswith("_backward"):
        sk = k if s is None else s
        hw = [conv_output_size(n, _p(k, i), _p(sk, i), _p(p, i)) for i, n in enumerate((H, W))]
        dout = rng.standard_normal((N, C, *hw))
        return make(op, label, dout=dout, x=x, kernel_size=k, stride=s, padding=p)
    return make(op, label, x=x, kernel_size=k, stride=s, padding=p)


def random_pool(op, rng, label):
    N, C = (int(v) for v in rng.integers(1, (3, 4)))
    k = _pair(rng, 1, 3)
    s = None if rng.random() < 0.3 else _pair(rng, 1, 3)
    p = (int(rng.integers(0, _p(k, 0) // 2 + 1)), int(rng.integers(0, _p(k, 1) // 2 + 1)))
    p = p[0] if p[0] == p[1] and rng.random() < 0.5 else p
    sk = k if s is None else s
    H = _conv_size(rng, _p(k, 0), _p(sk, 0), _p(p, 0), 1)
    W = _conv_size(rng, _p(k, 1), _p(sk, 1), _p(p, 1), 1)
    return pool_case(op, rng, label, N, C, H, W, k, s, p)


def random_corr2d(rng, label):
    KH, KW = (int(v) for v in rng.integers(1, 5, size=2))
    H, W = (int(v) for v in rng.integers((KH, KW), (KH + 6, KW + 6)))
    return make("corr2d", label, x=rng.standard_normal((H, W)), k=rng.standard_normal((KH, KW)))


def random_pad2d(rng, label):
    ndim = int(rng.integers(2, 5))
    shape = tuple(int(v) for v in rng.integers(1, 5, size=ndim - 2)) + tuple(int(v) for v in rng.integers(1, 6, size=2))
    return make("pad2d", label, x=rng.standard_normal(shape), padding=_pair(rng, 0, 3))


def random_size(rng, label):
    k, s, p, d = (int(v) for v in rng.integers((1, 1, 0, 1), (8, 5, 4, 4)))
    n = int(rng.integers(max(1, _span(k, d) - 2 * p), 40))
    return make("conv_output_size", label, n=n, kernel_size=k, stride=s, padding=p, dilation=d)


def random_cases(op: str, rng: np.random.Generator, trials: int) -> list[Case]:
    """`trials` cases for `op`, every dimension drawn independently."""
    out = []
    for i in range(trials):
        label = f"random case {i + 1} of {trials}"
        if op == "corr2d":
            out.append(random_corr2d(rng, label))
        elif op == "pad2d":
            out.append(random_pad2d(rng, label))
        elif op == "conv_output_size":
            out.append(random_size(rng, label))
        elif op.startswith("conv"):
            out.append(random_conv(op, rng, label))
        else:
            out.append(random_pool(op, rng, label))
    return out

