"""Benchmark: steps per second of MNIST-1D training (lectures 5-6), CPU and GPU side by side.

    python bench/train_mnist1d.py            # 1,000 timed steps per configuration
    python bench/train_mnist1d.py --steps 200

Times `cnnlab.train.train_steps` (batch 100, SGD with momentum, as in the
lectures) for the seed's 2,050-parameter CNN, the course net and the
150,185-parameter MLP: on the CPU with one thread and with all of torch's
threads, and on CUDA when present. Inputs are random arrays of MNIST-1D's
shape (4,000 × 1 × 40, 10 classes): the cost of a step does not depend on the
values, and the GPU machine has no `mnist1d` package. Each configuration is
warmed up first; the best of `--repeats` runs is reported. A benchmark, not a
test: it always exits 0.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import torch  # noqa: E402

from cnnlab.models import MNIST1DCourseNet, MNIST1DMLP, count_params, mnist1d_cnn  # noqa: E402
from cnnlab.train import train_steps  # noqa: E402

MODELS = {"seed CNN": mnist1d_cnn, "course net": MNIST1DCourseNet, "MLP": MNIST1DMLP}


def steps_per_s(make, x, y, device, steps, repeats):
    """Best steps/s of `repeats` timed runs of `steps` training steps (after a 50-step warm-up)."""
    best = 0.0
    for r in range(repeats + 1):
        torch.manual_seed(0)
        model = make()
        n = 50 if r == 0 else steps
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        train_steps(model, x, y, steps=n, batch_size=100, optimizer="sgd", lr=0.05, momentum=0.9,
                    eval_every=n, device=device, progress=False)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if r:  # run 0 is the warm-up
            best = max(best, n / (time.perf_counter() - t0))
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 1, 40, generator=g)                  # MNIST-1D's shape: (N, 1, L)
    y = torch.randint(0, 10, (4000,), generator=g)
    threads = torch.get_num_threads()
    configs = [("CPU, 1 thread", torch.device("cpu"), 1), (f"CPU, {threads} threads", torch.device("cpu"), threads)]
    if torch.cuda.is_available():
        configs.append((f"GPU {torch.cuda.get_device_name(0)}", torch.device("cuda"), threads))
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.steps} steps of batch 100 per run, best of {args.repeats}")
    header = f"{'model':12s} {'params':>8s} " + " ".join(f"{name:>24s}" for name, _, _ in configs)
    print(header + "   ratio to CPU 1 thread")
    for label, make in MODELS.items():
        rates = []
        for _, device, n_threads in configs:
            torch.set_num_threads(n_threads)
            rates.append(steps_per_s(make, x, y, device, args.steps, args.repeats))
        torch.set_num_threads(threads)
        cells = " ".join(f"{r:18.0f} st/s " for r in rates)
        ratios = ", ".join(f"{r / rates[0]:.2f}×" for r in rates[1:])
        print(f"{label:12s} {count_params(make()):8,d} {cells}  {ratios}")
    if not torch.cuda.is_available():
        print("no CUDA device here: run this script on a GPU machine for the GPU column")


if __name__ == "__main__":
    main()
