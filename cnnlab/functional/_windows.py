"""Private helpers shared by conv.py, pool.py and transpose.py: padding, strided windows,
im2col, the in-bounds range of every kernel tap, and one thread split per call.

Nothing here checks arguments; the public functions do that first (`cnnlab._args`).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided


def _pad(x, padding, value=0.0):
    """(..., H, W) → (..., H + 2pH, W + 2pW) filled with `value`; a new array unless padding is 0."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x  # note: callers only read from it, so no copy is needed
    H, W = x.shape[-2:]
    out = np.full((*x.shape[:-2], H + 2 * ph, W + 2 * pw), value, dtype=x.dtype)
    out[..., ph:ph + H, pw:pw + W] = x
    return out


def _windows(xp, kernel, stride, dilation, out_hw):
    """Read-only strided view (N, C, H_out, W_out, KH, KW) of every window of padded `xp`.

    No data is copied: window (i, j) starts at row i*sH, column j*sW and its
    taps are dH rows / dW columns apart.
    """
    sN, sC, sH, sW = xp.strides
    shape = (*xp.shape[:2], *out_hw, *kernel)
    strides = (sN, sC, sH * stride[0], sW * stride[1], sH * dilation[0], sW * dilation[1])
    return as_strided(xp, shape, strides, writeable=False)


def _span(i, k_step, s, n_out):
    """Slice of the padded axis touched by kernel tap i over all n_out output positions."""
    start = i * k_step
    return slice(start, start + s * (n_out - 1) + 1, s)


# the cores this process may use (not the host's count); beyond 4 a memory-bound copy gains little
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_THREADS = max(1, min(4, _CORES))
_POOL = []  # one lazily created executor, shared by every call
# note: a forked child (e.g. a DataLoader worker) inherits the executor but not its threads
os.register_at_fork(after_in_child=_POOL.clear)


def _copy(dst, src):
    """dst[...] = src, split across `_THREADS` threads (the caller's included) when large.

    note: numpy releases the GIL while copying, so on a multi-core machine the
    im2col gather (memory-bound, single-threaded otherwise) runs about
    `_THREADS` times faster; the result is identical.
    """
    axis = next((a for a in range(3) if dst.shape[a] >= _THREADS), None)
    if _THREADS == 1 or dst.size < (1 << 18) or axis is None:
        dst[...] = src
        return
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(_THREADS - 1, thread_name_prefix="cnnlab-copy"))
    edges = np.linspace(0, dst.shape[axis], _THREADS + 1).astype(int)
    parts = [(slice(None),) * axis + (slice(a, b),) for a, b in zip(edges[:-1], edges[1:])]
    futures = [_POOL[0].submit(dst.__setitem__, part, src[part]) for part in parts[1:]]
    dst[parts[0]] = src[parts[0]]  # the calling thread copies its share meanwhile
    for f in futures:
        f.result()


def _tap_ranges(n_in, n_out, k, s, p, d):
    """Per kernel tap i: (output slice, input slice) of the output positions r whose input
    r*s + i*d - p lies inside x (not in padding), and of those inputs. Read backwards it
    serves the transposed conv, whose output position is r*s + i*d - p for input r."""
    out = []
    for i in range(k):
        lo = max(0, -((i * d - p) // s))  # first output position r with r*s + i*d - p >= 0
        hi = min(n_out, (n_in - 1 + p - i * d) // s + 1)  # one past the last with r*s + i*d - p < n_in
        hi = max(hi, lo)
        start = lo * s + i * d - p
        out.append((slice(lo, hi), slice(start, start + s * (hi - lo - 1) + 1 if hi > lo else start, s)))
    return out


def _blas():
    """threadpoolctl's handle on numpy's BLAS, created once; None when threadpoolctl is missing."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS.append(ThreadpoolController().select(user_api="blas"))
        except Exception:  # optional dependency: without it BLAS keeps its own threading
            _BLAS.append(None)
    return _BLAS[0]


_BLAS = []


def _parallel(fn, n):
    """Run fn(lo, hi) over [0, n) split into contiguous parts, one per thread, BLAS single-threaded meanwhile.

    note: as many threads as BLAS is allowed (threadpoolctl's limit, the caller's
    choice), at most `_THREADS`; the work is split once, so the threads meet once
    per call (BLAS's own threading meets once per matmul, which a loaded machine
    punishes). Without threadpoolctl, or with one part, fn runs in the caller with
    BLAS threading as configured.
    """
    ctl = _blas()
    limit = min((lib.num_threads for lib in ctl.lib_controllers), default=1) if ctl is not None else 1
    workers = max(1, min(_THREADS, n, limit))
    if workers == 1:
        fn(0, n)
        return
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(_THREADS - 1, thread_name_prefix="cnnlab-copy"))
    edges = np.linspace(0, n, workers + 1).astype(int)
    with ctl.limit(limits=1):
        futures = [_POOL[0].submit(fn, a, b) for a, b in zip(edges[1:-1], edges[2:])]
        try:
            fn(edges[0], edges[1])  # the calling thread does the first part meanwhile
        finally:
            for f in futures:
                f.result()  # wait for all, so no worker still writes after we return


def _im2col(xp, kernel, stride, dilation, out_hw):
    """Contiguous im2col buffer (C_in*KH*KW, N*H_out*W_out) of padded `xp`."""
    win = _windows(xp, kernel, stride, dilation, out_hw)  # (N, C_in, H_out, W_out, KH, KW)
    win = win.transpose(1, 4, 5, 0, 2, 3)  # (C_in, KH, KW, N, H_out, W_out)
    # note: one copy here makes every later step a plain BLAS call on contiguous memory
    cols = np.empty(win.shape, dtype=xp.dtype)  # (C_in, KH, KW, N, H_out, W_out)
    _copy(cols, win)
    return cols.reshape(-1, xp.shape[0] * out_hw[0] * out_hw[1])  # (C_in*KH*KW, N*H_out*W_out)
