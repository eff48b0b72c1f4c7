"""Benchmark: cnnlab's numpy operators against torch on the CPU, measured side by side in one run.

    python bench/conv.py            # 30 rounds x 5 calls per side and row
    python bench/conv.py --quick    # 6 rounds x 2 (run by `make course`)

Rows: conv2d (N=32, 16→32 channels, 32x32, 3x3, float32) with padding 0 and 1
(target: ratio ≤ 2.0), conv_transpose2d, batch_norm2d, nms of 1,000 boxes and
pooling, each as numpy time / torch time; then naive vs vectorized. Every row
is measured twice:

1. wall clock with `--threads` threads for torch and for numpy (BLAS, and
   cnnlab's own split of the batch);
2. CPU time of the calling thread with one thread on both sides, which a
   machine loaded by other processes barely moves (a preempted call is not
   charged for the time it waited), so it is the number to compare across runs.

The two sides alternate call block by call block (the order flipping every
round), so load changes hit both alike; each column is the median of all its
calls. A benchmark, not a test: it always exits 0.
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
from cnnlab import reference as R  # noqa: E402

TARGET = 2.0


def best_ms(fn, repeats, number):
    """Fastest single call out of `repeats` x `number` calls, in milliseconds (after one warm-up)."""
    fn()
    best = float("inf")
    for _ in range(repeats * number):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def interleaved(ours, theirs, rounds, number, clock):
    """Median ms per call of each side; blocks of `number` calls alternate, the order flipping each round.

    note: medians, not minima: on a shared machine the fastest call is luck,
    the median is what a user waits for.
    """
    times = ([], [])
    for fn in (ours, theirs):  # warm up allocators, thread pools and oneDNN's kernel cache
        fn(), fn()
    for r in range(rounds):
        for side in ((0, 1) if r % 2 == 0 else (1, 0)):
            fn = (ours, theirs)[side]
            time.sleep(0.002)  # let the other library's spinning worker threads go idle first
            for _ in range(number):
                t0 = clock()
                fn()
                times[side].append(clock() - t0)
    return float(np.median(times[0])) * 1e3, float(np.median(times[1])) * 1e3


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


def _rows(rng):
    """(label, numpy call, torch call, target) for every operator compared with torch."""
    x = rng.standard_normal((32, 16, 32, 32)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    xt, wt, bt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
    # decoder upsampling: (32, 32, 16, 16) → (32, 16, 32, 32)
    u = rng.standard_normal((32, 32, 16, 16)).astype(np.float32)
    wu = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    ut, wut = torch.from_numpy(u), torch.from_numpy(wu)
    up = dict(stride=2, padding=1, output_padding=1)
    y = rng.standard_normal((32, 32, 32, 32)).astype(np.float32)
    yt = torch.from_numpy(y)
    stats = [np.zeros(32, np.float32), np.ones(32, np.float32), np.ones(32, np.float32), np.zeros(32, np.float32)]
    tstats = [torch.from_numpy(a.copy()) for a in stats]  # F.batch_norm updates the running ones in place
    xy = rng.random((1000, 2)) * 100
    boxes = np.concatenate([xy, xy + 1 + rng.random((1000, 2)) * 20], axis=1).astype(np.float32)  # (1000, 4)
    scores = rng.random(1000).astype(np.float32)
    return [
        ("conv2d, padding 0", lambda: F.conv2d(x, w, b), lambda: TF.conv2d(xt, wt, bt), TARGET),
        ("conv2d, padding 1", lambda: F.conv2d(x, w, b, padding=1), lambda: TF.conv2d(xt, wt, bt, padding=1), TARGET),
        ("conv_transpose2d, s2 p1 op1", lambda: F.conv_transpose2d(u, wu, **up),
         lambda: TF.conv_transpose2d(ut, wut, **up), None),
        ("batch_norm2d, training", lambda: F.batch_norm2d(y, *stats, training=True),
         lambda: TF.batch_norm(yt, *tstats, training=True), None),
        ("nms, 1,000 boxes, IoU 0.5 (*)", lambda: F.nms(boxes, scores, 0.5),
         lambda: R.nms(boxes, scores, 0.5, device="cpu"), None),
        ("max_pool2d(2)", lambda: F.max_pool2d(y, 2), lambda: TF.max_pool2d(yt, 2), None),
        ("avg_pool2d(3, stride 1)", lambda: F.avg_pool2d(y, 3, 1), lambda: TF.avg_pool2d(yt, 3, 1), None),
    ]


def _section(title, rows, rounds, number, clock):
    print(f"\n{title}")
    ratios = {}
    with torch.no_grad():
        for label, ours, theirs, target in rows:
            a, b = interleaved(ours, theirs, rounds, number, clock)
            ratios[label] = row(label, "numpy", a, "torch", b, target)
    return ratios


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; finishes in seconds")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1),
                        help="threads for torch and numpy in the wall-clock section (default: min(2, cores))")
    args = parser.parse_args(argv)
    rounds, number = (6, 2) if args.quick else (30, 5)
    rng = np.random.default_rng(0)
    rows = _rows(rng)

    try:
        load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        load = "unknown"
    print(f"cnnlab benchmark ({'quick' if args.quick else 'full'}): median of {rounds} rounds x {number} calls "
          "per side, the sides alternating")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{os.cpu_count()} cores, load average {load} (1, 5, 15 min)")
    print(f"  BLAS: {_blas_core()}")
    x = rng.standard_normal((32, 16, 32, 32)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    err = np.abs(F.conv2d(x, w, padding=1) - TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy())
    print(f"  conv2d N=32, 16→32 channels, 32x32, 3x3, float32: max |difference| from torch {err.max():.1e}")
    print("  (*) nms against cnnlab.reference.nms (torch tensor ops): torchvision's C++ nms does not import here")

    torch.set_num_threads(args.threads)
    blas = _limit_blas(args.threads)
    wall = _section(f"wall clock, {torch.get_num_threads()} torch threads, BLAS threads {blas}, median ms per call",
                    rows, rounds, number, time.perf_counter)
    torch.set_num_threads(1)
    _limit_blas(1)
    cpu = _section("CPU time of the calling thread, 1 thread each side, median ms per call",
                   rows, rounds, number, time.thread_time)

    # --- naive vs vectorized --------------------------------------------------------
    xs = rng.standard_normal((2, 4, 16, 16))
    ws = rng.standard_normal((8, 4, 3, 3))
    ys = rng.standard_normal((2, 4, 16, 16))
    bx = rng.random((100, 2)) * 50
    bs = np.concatenate([bx, bx + 1 + rng.random((100, 2)) * 10], axis=1)
    n_rep = 2 if args.quick else 5
    print("\nnaive vs vectorized, float64, smaller: x (2, 4, 16, 16), w (8, 4, 3, 3), padding 1; pooling 2x2; "
          "100 boxes")
    for label, naive, fast in [
        ("conv2d", lambda: F.conv2d_naive(xs, ws, padding=1), lambda: F.conv2d(xs, ws, padding=1)),
        ("conv2d_backward", lambda: F.conv2d_backward_naive(np.ones((2, 8, 16, 16)), xs, ws, padding=1),
         lambda: F.conv2d_backward(np.ones((2, 8, 16, 16)), xs, ws, padding=1)),
        ("conv_transpose2d", lambda: F.conv_transpose2d_naive(xs, ws.transpose(1, 0, 2, 3), stride=2),
         lambda: F.conv_transpose2d(xs, ws.transpose(1, 0, 2, 3), stride=2)),
        ("max_pool2d", lambda: F.max_pool2d_naive(ys, 2), lambda: F.max_pool2d(ys, 2)),
        ("avg_pool2d", lambda: F.avg_pool2d_naive(ys, 2), lambda: F.avg_pool2d(ys, 2)),
        ("nms", lambda: F.nms_naive(bs, bs[:, 0], 0.5), lambda: F.nms(bs, bs[:, 0], 0.5)),
    ]:
        row(f"{label}: naive vs vectorized", "naive", best_ms(naive, n_rep, 1), "vectorized",
            best_ms(fast, n_rep * 4, 3))

    for p in (0, 1):
        label = f"conv2d, padding {p}"
        print(f"\nconv2d ratio, padding {p} (numpy / torch): {wall[label]:.2f} wall clock with {args.threads} threads, "
              f"{cpu[label]:.2f} CPU time with 1 (target ≤ {TARGET:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
