"""Time one `cnnlab.grading.check` per exercise on this machine (target: <= 2 s on CPU).

Run: python bench/grading.py [--device cpu|cuda] [--repeat 3]
Prints the best of `repeat` runs for a correct numpy implementation
(cnnlab.functional when importable, else the student-style catalogue in
tests/wrong_impls.py) and for a wrong one that needs a diagnosis. Not a test.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="reference device (default: CUDA when available)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    from cnnlab import shapes
    from cnnlab.grading import REGISTRY, check
    from wrong_impls import CATALOGUE, CORRECT

    try:
        import cnnlab.functional as functional
    except ImportError:  # pragma: no cover - before the functional package exists
        functional = None
    check("pad2d", lambda x, p: None)  # imports torch and warms the reference up
    print(f"import + warm-up: {time.perf_counter() - t0:.2f} s")
    wrong = {}
    for name, _, fn, _ in CATALOGUE:
        wrong.setdefault(name, fn)
    print(f"{'exercise':<22}{'cases':>6}{'correct (s)':>13}{'wrong+diagnosis (s)':>21}")
    worst = 0.0
    for name in REGISTRY:
        if REGISTRY[name].kind in ("module", "training"):
            continue  # note: timed by their own budgets, not by this benchmark
        # the course's own implementation: cnnlab.functional for arrays, cnnlab.shapes for sizes
        good = getattr(functional, name, None) or getattr(shapes, name, None) or CORRECT.get(name)
        times = []
        for fn in (good, wrong[name]):
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                result = check(name, fn, device=args.device)
                best = min(best, time.perf_counter() - start)
            times.append(best)
        worst = max(worst, *times)
        print(f"{name:<22}{check(name, good, device=args.device).cases_run:>6}{times[0]:>13.3f}{times[1]:>21.3f}")
    print(f"slowest check: {worst:.3f} s (target <= 2 s on CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
