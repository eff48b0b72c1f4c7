"""Benchmark: cnnlab's numpy operators against torch on the CPU, measured side by side in one run.

    python bench/conv.py            # fastest of 40 x 5 calls per side
    python bench/conv.py --quick    # fastest of 10 x 3, a few seconds (run by `make course`)

Prints, for conv2d (N=32, 16→32 channels, 32x32, 3x3, float32) and for max/avg
pooling, the vectorized numpy time next to torch's and their ratio (target for
conv2d: ≤ 2.0), then naive vs vectorized on a smaller configuration. Times are
the fastest of many calls, alternating between the two sides, with torch's
and BLAS's thread counts fixed to the same number. A benchmark, not a test: it
always exits 0.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

from cnnlab import functional as F  # noqa: E402

TARGET = 2.0


def best_ms(fn, repeats, number):
    """Fastest single call out of `repeats` x `number` calls, in milliseconds (after one warm-up).

    note: the fastest call, not a mean, because on a shared machine any call
    may be preempted; the minimum is the best estimate of the cost itself.
    """
    fn()
    best = float("inf")
    for _ in range(repeats * number):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def side_by_side(ours, theirs, repeats, number):
    """Alternate blocks of the two so that machine noise hits both alike; returns (ms_ours, ms_theirs)."""
    a = b = float("inf")
    for _ in range(repeats):
        time.sleep(0.01)  # let the other library's spinning worker threads go idle first
        a = min(a, best_ms(ours, 1, number))
        time.sleep(0.01)
        b = min(b, best_ms(theirs, 1, number))
    return a, b


def row(label, a_name, a, b_name, b, target=None):
    ratio = a / b
    verdict = "" if target is None else f"  target ≤ {target:.1f}: {'met' if ratio <= target else 'NOT met'}"
    print(f"  {label:34s} {a_name} {a:8.3f} ms   {b_name} {b:8.3f} ms   ratio {ratio:6.2f}{verdict}")
    return ratio


def _limit_blas(threads):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it BLAS keeps its default thread count
        return "default (threadpoolctl not installed)"
    threadpool_limits(threads)
    return str(threads)


def _blas_core() -> str:
    """OpenBLAS's kernel family, and a hint when it leaves AVX-512 unused (torch's oneDNN does use it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    arch = next((i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"), None)
    if arch is None:
        return "not OpenBLAS"
    try:
        avx512 = " avx512f " in open("/proc/cpuinfo").read().replace("\n", " ")
    except OSError:
        avx512 = False
    if avx512 and arch in ("Haswell", "Zen", "Sandybridge"):
        return (f"OpenBLAS {arch} kernels (AVX2) on an AVX-512 CPU, where torch's oneDNN uses AVX-512: "
                f"expect a higher ratio; OPENBLAS_CORETYPE=SkylakeX selects OpenBLAS's AVX-512 kernels")
    return f"OpenBLAS {arch} kernels"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; finishes in seconds")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1),
                        help="threads for torch and BLAS (default: min(2, cores))")
    args = parser.parse_args(argv)
    repeats, number = (10, 3) if args.quick else (40, 5)
    torch.set_num_threads(args.threads)
    blas = _limit_blas(args.threads)
    rng = np.random.default_rng(0)

    print(f"cnnlab benchmark ({'quick' if args.quick else 'full'}): fastest call of {repeats} x {number} "
          "per side, the sides alternating")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{os.cpu_count()} cores; torch threads {torch.get_num_threads()}, BLAS threads {blas}")
    print(f"  BLAS: {_blas_core()}")

    # --- conv2d vs torch -----------------------------------------------------------
    x = rng.standard_normal((32, 16, 32, 32)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    xt, wt, bt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
    err = np.abs(F.conv2d(x, w, b, padding=1) - TF.conv2d(xt, wt, bt, padding=1).numpy()).max()
    print("\nconv2d, N=32, 16→32 channels, 32x32, 3x3, float32 (max |difference| from torch "
          f"{err:.1e})")
    with torch.no_grad():
        for _ in range(5):  # warm up allocators, BLAS/OpenMP thread pools and oneDNN's kernel cache
            F.conv2d(x, w, b), TF.conv2d(xt, wt, bt)
        ms = side_by_side(lambda: F.conv2d(x, w, b), lambda: TF.conv2d(xt, wt, bt), repeats, number)
        ratio = row("padding 0: conv2d vs torch", "numpy", ms[0], "torch", ms[1], TARGET)
        ms = side_by_side(lambda: F.conv2d(x, w, b, padding=1), lambda: TF.conv2d(xt, wt, bt, padding=1),
                          repeats, number)
        row("padding 1: conv2d vs torch", "numpy", ms[0], "torch", ms[1], TARGET)

    # --- pooling vs torch ----------------------------------------------------------
    y = rng.standard_normal((32, 32, 32, 32)).astype(np.float32)
    yt = torch.from_numpy(y)
    print("\npooling forward, N=32, C=32, 32x32, float32")
    for name, ours, theirs in [("max_pool2d", F.max_pool2d, TF.max_pool2d),
                               ("avg_pool2d", F.avg_pool2d, TF.avg_pool2d)]:
        for k, s in [(2, None), (3, 1)]:
            ms = side_by_side(lambda: ours(y, k, s), lambda: theirs(yt, k, s), max(2, repeats // 2), number)
            row(f"{name}(kernel {k}, stride {s or k}) vs torch", "numpy", ms[0], "torch", ms[1])

    # --- naive vs vectorized --------------------------------------------------------
    xs = rng.standard_normal((2, 4, 16, 16))
    ws = rng.standard_normal((8, 4, 3, 3))
    ys = rng.standard_normal((2, 4, 16, 16))
    n_rep = 2 if args.quick else 5
    print("\nnaive vs vectorized, float64, smaller: x (2, 4, 16, 16), w (8, 4, 3, 3), padding 1; pooling 2x2")
    for label, naive, fast in [
        ("conv2d", lambda: F.conv2d_naive(xs, ws, padding=1), lambda: F.conv2d(xs, ws, padding=1)),
        ("conv2d_backward", lambda: F.conv2d_backward_naive(np.ones((2, 8, 16, 16)), xs, ws, padding=1),
         lambda: F.conv2d_backward(np.ones((2, 8, 16, 16)), xs, ws, padding=1)),
        ("max_pool2d", lambda: F.max_pool2d_naive(ys, 2), lambda: F.max_pool2d(ys, 2)),
        ("avg_pool2d", lambda: F.avg_pool2d_naive(ys, 2), lambda: F.avg_pool2d(ys, 2)),
    ]:
        row(f"{label}: naive vs vectorized", "naive", best_ms(naive, n_rep, 1), "vectorized",
            best_ms(fast, n_rep * 4, 3))

    print(f"\nconv2d ratio (numpy / torch, N=32, 16→32, 32x32, 3x3, float32): {ratio:.2f} "
          f"(target ≤ {TARGET:.1f}: {'met' if ratio <= TARGET else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
