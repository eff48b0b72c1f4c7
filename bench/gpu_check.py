"""GPU verification helper for `bench/gpu_check.sh` (issue 21): grades and reference throughput, CPU vs CUDA.

    python bench/gpu_check.py env        OUT   # torch build, device, missing packages → OUT/env.json
    python bench/gpu_check.py grades     OUT   # every catalogued implementation, device="cpu" vs "cuda"
    python bench/gpu_check.py throughput OUT   # reference conv2d (float64/float32) and nms, CPU vs CUDA

Every part runs without CUDA too: the CUDA side then says "skipped: no CUDA" and
the CPU side still runs, so the script is tested on CPU machines
(tests/test_gpu_check.py). ``GPU_CHECK_QUICK=1`` shrinks every size and grades
a sample of the catalogue. A check, not a test: it exits 0 unless it crashes;
differences are printed and written to OUT/grades_diff.txt.
"""
from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # cnnlab from the source tree
sys.path.insert(0, str(ROOT / "tests"))  # the catalogues of wrong implementations

import numpy as np  # noqa: E402
import torch  # noqa: E402

QUICK = os.environ.get("GPU_CHECK_QUICK", "") not in ("", "0")
CUDA = torch.cuda.is_available()
SKIP = "skipped: no CUDA"
OPTIONAL = ["mnist1d", "nbgrader", "nbclient", "nbformat", "jupyter_client", "ipykernel", "torchinfo",
            "ipywidgets", "jupytext", "xdist"]


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _write(out: Path, name: str, data) -> None:
    (out / name).write_text(json.dumps(data, indent=2, default=str) + "\n")


def env(out: Path) -> None:
    """Record the torch build, the device and which optional packages are missing."""
    info = {"python": sys.version.split()[0], "platform": platform.platform(), "torch": torch.__version__,
            "torch_cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if CUDA else None,
            "cuda_available": CUDA, "gpu": torch.cuda.get_device_name(0) if CUDA else None,
            "cpu_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "numpy": np.__version__,
            "missing": [m for m in OPTIONAL if not _has(m)], "quick": QUICK}
    import cnnlab
    info["cnnlab"] = cnnlab.__file__
    for k, v in info.items():
        print(f"{k:16s} {v}")
    _write(out, "env.json", info)


# ------------------------------------------------------------------ grades
def catalogue():
    """(exercise, label, fn, expected key or None for a correct one) for every catalogued implementation."""
    import wrong_impls as w1
    import wrong_impls_ps23 as w23
    import wrong_impls_ps45 as w45

    from cnnlab import functional, shapes
    from cnnlab.grading import names

    correct = {**w1.CORRECT, **w23.CORRECT, **w45.CORRECT}
    models, steps = w23._models(), w23._steps()
    correct.update(models["correct"])
    correct.update(steps["correct"])
    correct["mnist1d_training"] = steps["correct"]["train_step"]  # as tests/test_grading_ps23.py
    try:  # note: the convnet student code lives in the test module itself
        from test_grading_ps23 import _convnet
        correct.update(convnet_loss=_convnet(), convnet_training=_convnet())
    except Exception as e:  # noqa: BLE001 — reported, never fatal
        print(f"convnet_loss/convnet_training: no correct implementation ({type(e).__name__}: {e})")
    items, missing = [], []
    for name in names():
        fn = correct.get(name) or getattr(functional, name, None) or getattr(shapes, name, None)
        if fn is None:
            missing.append(name)
        else:
            items.append((name, "correct", fn, None))
    items += [(n, m, fn, key) for n, m, fn, key in w1.CATALOGUE]
    items += [(n, key, fn, key) for n, key, fn in w23.ARRAY + models["wrong"] + steps["wrong"]]
    items += [(n, key, fn, key) for n, fn, key in w45.CATALOGUE]
    return items, missing


def _grade(name, fn, device):
    from cnnlab.grading import check

    t0 = time.perf_counter()
    extra = {"time_limit": 120} if name.endswith("training") else {}  # as tests/test_grading_ps23.py
    try:
        r = check(name, fn, device=device, **extra)
    except Exception as e:  # noqa: BLE001 — check must never raise; if it does, record it and go on
        import traceback
        return {"passed": None, "mistake": f"CHECK-RAISED {type(e).__name__}", "cases": 0,
                "message": traceback.format_exc(), "s": round(time.perf_counter() - t0, 3)}
    return {"passed": r.passed, "mistake": r.mistake, "cases": r.cases_run, "message": r.message,
            "s": round(time.perf_counter() - t0, 3)}


def grades(out: Path) -> None:
    """check() every catalogued implementation with CPU and CUDA references; compare verdicts and keys."""
    items, missing = catalogue()
    skipped = [f"{n}: no correct implementation catalogued" for n in missing]
    if not _has("mnist1d") or QUICK:
        why = "quick mode" if QUICK else "the mnist1d package is missing"
        skipped += [f"{n} {m}: {why}" for n, m, _, _ in items if n == "mnist1d_training"]
        items = [it for it in items if it[0] != "mnist1d_training"]
    if QUICK:
        items = items[::9]
    if CUDA:  # note: CUDA context and cuDNN load before any timed check, or the first check's budget pays them
        from cnnlab import reference
        reference.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), device="cuda")
    rows, diffs, unexpected = [], [], []
    print(f"{len(items)} implementations, references on cpu" + (" and cuda" if CUDA else f" ({SKIP} for cuda)"))
    for name, label, fn, key in items:
        row = {"exercise": name, "impl": label, "expected": key, "cpu": _grade(name, fn, "cpu")}
        row["cuda"] = _grade(name, fn, "cuda") if CUDA else SKIP
        c, g = row["cpu"], row["cuda"]
        want_pass = key is None
        if c["passed"] != want_pass or (key is not None and c["mistake"] != key):
            unexpected.append(f"{name} {label}: cpu gave passed={c['passed']} mistake={c['mistake']}, "
                              f"catalogue expects {key or 'pass'}")
        if CUDA:
            row["same_verdict"] = c["passed"] == g["passed"] and c["mistake"] == g["mistake"]
            row["same_message"] = c["message"] == g["message"]
            if not row["same_verdict"]:
                diffs.append(f"{name} {label}: cpu passed={c['passed']} mistake={c['mistake']} | "
                             f"cuda passed={g['passed']} mistake={g['mistake']}\n  cpu:  {c['message']}\n"
                             f"  cuda: {g['message']}")
        rows.append(row)
        flag = "" if not CUDA else ("  same" if row["same_verdict"] else "  DIFFERENT")
        print(f"{name:24s} {label:28s} cpu {'pass' if c['passed'] else c['mistake']!s:24s} "
              f"cuda {SKIP if not CUDA else ('pass' if g['passed'] else g['mistake'])}{flag}")
    # note: the resnet module checkers take no device argument; they build on the CPU and are not compared here
    skipped.append("check_basic_block/check_predict (cnnlab.grading.exercises.resnet): no device argument")
    summary = {"implementations": len(rows), "cuda": CUDA, "verdict_differences": len(diffs),
               "message_differences": sum(1 for r in rows if CUDA and not r["same_message"]),
               "unexpected_on_cpu": unexpected, "skipped": skipped}
    _write(out, "grades.json", {"summary": summary, "rows": rows})
    (out / "grades_diff.txt").write_text("\n".join(diffs) + ("\n" if diffs else "no verdict differences\n"
                                                             if CUDA else f"{SKIP}\n"))
    print(json.dumps({k: v for k, v in summary.items() if k != "skipped"}, indent=1))
    print("skipped:\n  " + "\n  ".join(skipped))
    for d in diffs:
        print("DIFFERENT:", d)


# ---------------------------------------------------------------- throughput
def _best(fn, repeats, cuda):
    fn()  # note: warm-up (kernel selection, allocator)
    best = float("inf")
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def throughput(out: Path) -> None:
    """Best-of-3 seconds for the references on large cases, CPU (all threads) and CUDA, with ratios."""
    import torch.nn.functional as F

    from cnnlab import reference, torch_boxes

    N, C_in, C_out, H = (2, 8, 16, 16) if QUICK else (64, 64, 128, 64)
    n_boxes = 500 if QUICK else 10_000
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((N, C_in, H, H)), rng.standard_normal((C_out, C_in, 3, 3))
    xy = rng.uniform(0, 1000, (n_boxes, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 60, (n_boxes, 2))], 1)  # (n_boxes, 4) corners
    scores = rng.uniform(0, 1, n_boxes)
    conv = f"conv2d N={N}, {C_in}→{C_out}, {H}×{H}, 3×3, padding 1"
    cases = [(f"reference.{conv} (numpy in/out, float64)",
              lambda d: (lambda: reference.conv2d(x, w, padding=1, device=d)))]
    for dt in (torch.float64, torch.float32):
        def make(d, dt=dt):
            xt, wt = torch.tensor(x, dtype=dt, device=d), torch.tensor(w, dtype=dt, device=d)
            return lambda: F.conv2d(xt, wt, padding=1)
        cases.append((f"F.{conv} (tensors on device, {str(dt)[6:]}, TF32 off)", make))
    cases.append((f"reference.nms {n_boxes:,} boxes, IoU 0.5 (numpy in/out)",
                  lambda d: (lambda: reference.nms(boxes, scores, 0.5, device=d))))

    def nms_t(d):
        bt, st = torch.tensor(boxes, device=d), torch.tensor(scores, device=d)
        return lambda: torch_boxes.nms(bt, st, 0.5)
    cases.append((f"torch_boxes.nms {n_boxes:,} boxes (tensors on device, float64)", nms_t))
    rows = []
    print(f"CPU: {torch.get_num_threads()} torch threads; GPU: "
          f"{torch.cuda.get_device_name(0) if CUDA else SKIP}; best of 3 after a warm-up")
    with reference.numerics():
        for label, make in cases:
            try:
                cpu = _best(make("cpu"), 3, False)
                gpu = _best(make("cuda"), 3, True) if CUDA else None
            except Exception as e:  # noqa: BLE001 — e.g. out of memory: report it, time the other cases
                print(f"{label}: FAILED {type(e).__name__}: {e}")
                rows.append({"case": label, "error": f"{type(e).__name__}: {e}"})
                continue
            rows.append({"case": label, "cpu_s": cpu, "cuda_s": gpu, "speedup": cpu / gpu if gpu else None})
            print(f"{label:78s} cpu {cpu * 1e3:9.2f} ms   cuda " +
                  (f"{gpu * 1e3:9.2f} ms   cuda is {cpu / gpu:7.1f}× faster" if gpu else SKIP))
    _write(out, "throughput.json", rows)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("env", "grades", "throughput"):
        sys.exit("usage: gpu_check.py env|grades|throughput OUT_DIR")
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    {"env": env, "grades": grades, "throughput": throughput}[argv[0]](out)


if __name__ == "__main__":
    main()
