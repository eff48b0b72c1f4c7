"""The grader side for the torch kinds: ``"module"`` (an ``nn.Module`` factory) and ``"training"``.

Like `judge.judge`, nothing here touches student code: a module arrives as the
plain record of `student.record_module` (parameter count, ``state_dict`` as
numpy, leaf layers' output shapes, output in float64); a training run as its
predictions on held-back data.
"""
from __future__ import annotations

import numpy as np

from cnnlab.grading import compare
from cnnlab.grading.judge import Verdict

__all__ = ["module_expected", "judge_module", "judge_training"]

_PASS = Verdict(True)


def module_expected(exercise, case, device) -> dict:
    from cnnlab.grading.student import record_module

    spec = exercise.module
    out = {"n_params": spec.n_params, "shapes": None, "keys": None}
    if spec.reference is not None:
        import torch

        torch.manual_seed(0)
        rec = record_module(spec.reference(*case.values), case.data["input"], device, spec.train)
        out.update(n_params=rec["n_params"] if spec.n_params is None else spec.n_params,
                   shapes=[(cls, shape) for _, cls, shape in rec["shapes"]], keys=sorted(rec["state_dict"]))
    if spec.layer_shapes is not None:
        shapes = spec.layer_shapes(case) if callable(spec.layer_shapes) else spec.layer_shapes
        out["shapes"] = [(None, tuple(s)) for s in shapes]
    return out


def judge_module(exercise, case, outputs, expected, device) -> Verdict:
    spec = exercise.module
    if outputs.timed_out:
        return Verdict(False, "  Problem: the time limit ran out while building or running your module.", "time-limit")
    if outputs.raised is not None:
        tname, text, _ = outputs.raised
        return Verdict(False, f"  Problem: your function raised {tname}: {text}", "exception")
    rec = outputs.value
    if not isinstance(rec, dict) or "n_params" not in rec:
        return Verdict(False, f"  Problem: it must return a torch.nn.Module; it returned an object of type "
                              f"{outputs.typename}.", "not-a-module")
    if rec["forward_error"] is not None:
        tname, text, _ = rec["forward_error"]
        return Verdict(False, f"  Problem: running your module on an input of shape {case.data['input'].shape} "
                              f"raised {tname}: {text}" + _layers_seen(rec), "forward-error")
    if expected["shapes"] is not None:
        got = [(cls, shape) for _, cls, shape in rec["shapes"]]
        for i, (g, e) in enumerate(zip(got, expected["shapes"])):
            if g[1] != e[1] or (e[0] is not None and g[0] != e[0]):
                name = rec["shapes"][i][0]
                want = f"{e[0]} with output shape {e[1]}" if e[0] else f"output shape {e[1]}"
                return Verdict(False, f"  Problem: layer {i + 1} in forward order ({name}: {g[0]}) gives output shape "
                                      f"{g[1]}; expected {want}." + _layers_seen(rec), "layer-shapes")
        if len(got) != len(expected["shapes"]):
            return Verdict(False, f"  Problem: your module runs {len(got)} layers (leaf modules, in forward order); "
                                  f"expected {len(expected['shapes'])}." + _layers_seen(rec), "layer-count")
    if expected["n_params"] is not None and rec["n_params"] != expected["n_params"]:
        return Verdict(False, f"  Problem: your module has {rec['n_params']:,} parameters; expected "
                              f"{expected['n_params']:,}.", "param-count")
    if spec.reference is None:
        return _PASS
    return _module_forward(exercise, case, rec, expected, device)


def _layers_seen(rec) -> str:
    rows = "".join(f"\n      {name or '(module)'}: {cls} -> {shape}" for name, cls, shape in rec["shapes"][:20])
    return f"\n  Your layers' outputs, in forward order:{rows}" if rows else ""


def _module_forward(exercise, case, rec, expected, device) -> Verdict:
    import torch

    spec = exercise.module
    keys = sorted(rec["state_dict"])
    if spec.load_strict and keys != expected["keys"]:
        missing = [k for k in expected["keys"] if k not in keys]
        extra = [k for k in keys if k not in expected["keys"]]
        return Verdict(False, f"  Problem: the state_dict keys differ from the reference's: missing {missing[:6]}, "
                              f"unexpected {extra[:6]}. Name the layers as the exercise says.", "state-dict-keys")
    torch.manual_seed(0)
    ref = spec.reference(*case.values)
    state = {k: torch.as_tensor(v) for k, v in rec["state_dict"].items()}
    try:
        ref.load_state_dict(state, strict=spec.load_strict)
    except RuntimeError as exc:
        return Verdict(False, f"  Problem: your parameters do not fit the reference layers: {str(exc)[:300]}",
                       "state-dict-shapes")
    ref = ref.to(device=device, dtype=torch.float64)
    ref.train(spec.train)
    with torch.no_grad():
        want = ref(torch.as_tensor(case.data["input"], dtype=torch.float64, device=device)).cpu().numpy()
    problem = compare.array_problem(rec["output"], want)
    if problem is None:
        return _PASS
    return Verdict(False, f"  Problem: with your weights loaded into the reference module, {problem} (your "
                          f"forward pass computes something else from the same weights).", "forward-values")


def judge_training(exercise, case, outputs, expected) -> Verdict:
    spec = exercise.training
    if outputs.timed_out:
        return Verdict(False, f"  Problem: training did not finish within the time budget of {spec.time_budget:g} s.",
                       "time-limit")
    if outputs.raised is not None:
        tname, text, _ = outputs.raised
        return Verdict(False, f"  Problem: your training code raised {tname}: {text}", "exception")
    pred, y = outputs.value["predictions"], np.asarray(expected["y_test"]).reshape(-1)
    if pred.shape != y.shape:
        return Verdict(False, f"  Problem: the trained model gave {pred.size} predictions for {y.size} held-back "
                              f"samples.", "prediction-shape")
    acc = float(np.mean(pred == y))
    if acc + 1e-12 < spec.accuracy:
        return Verdict(False, f"  Problem: accuracy on the held-back data is {acc:.3f}; it must reach "
                              f"{spec.accuracy:.3f} (trained in {outputs.value['seconds']:.1f} s).", "accuracy-too-low")
    return _PASS
