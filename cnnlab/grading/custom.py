"""Custom checks on two sides: the grader judges, the kernel only runs the student's code.

A custom exercise (``cnnlab/grading/exercises/_custom.py``: softmax_cross_entropy,
convnet_loss, ps3's models and training, ps4/ps5's blocks and trained nets) is
an object with ``check(fn, *, seed, trials, device, time_limit, side)``. Its
check never calls the student's code itself: every call goes through a *side*,
``side.run(part, budget, **args)``, which runs the exercise's kernel-side method
``part_<part>(fn, budget, state, **args)`` on the student's object and returns
plain data (what `remote.encode` can send: arrays, numbers, strings, tuples,
dicts of them). Everything else — the inputs, the reference, the comparison,
the diagnosis — runs where `check` runs:

- `LocalSide` (outside grading mode): the part runs in this process; its result
  still goes through `remote.encode`/`remote.decode`, so what the judge sees is
  exactly what it would see over the wire.
- `RemoteCustomSide` (grading mode, in the grader): the part runs in the
  student's kernel, which `remote.kernel_check` serves; the grader keeps the time.

A part that raises is reported as `Raised` (the exception as plain data), one
that runs out of time as `TimeLimit`, on either side. A kernel that lies can
only send other plain data, which the judge checks like any other output.
"""
from __future__ import annotations

import time

from cnnlab.grading.limits import TimeLimit, call_with_limit

__all__ = ["Raised", "LocalSide", "RemoteCustomSide", "kernel_run", "unwrap", "spend", "exc_text", "short_type",
           "helper_functions", "plain_tensor"]


class Raised(Exception):
    """The student's code raised; `info` is ``(type name, message, base-class names)`` (plain data)."""

    def __init__(self, info):
        super().__init__(info[1])
        self.info = info

    @property
    def typename(self) -> str:
        return self.info[0]


def exc_text(exc: BaseException) -> str:
    """``Type: message`` of an exception (a `Raised` shows the student's), shortened, never raising."""
    if isinstance(exc, Raised):
        name, text = exc.info[0], exc.info[1]
        return f"{name}: {text}" if text else name
    try:
        text = str(exc)
    except Exception:  # a student's exception whose __str__ fails
        text = "<unprintable>"
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def short_type(v) -> str:
    """The type's name of a plain value (a `compare.Foreign` shows the student's type, ``Tensor``)."""
    from cnnlab.grading.compare import Foreign

    if type(v) is Foreign:
        return v.typename.rsplit(".", 1)[-1]
    return type(v).__name__


def spend(budget: list, body):
    """``body()`` under the time left in ``budget`` (a one-item list of seconds, or [None]); the time is spent."""
    start = time.monotonic()
    try:
        return call_with_limit(body, budget[0])
    finally:
        if budget[0] is not None:
            budget[0] -= time.monotonic() - start


def kernel_run(exercise, part: str, fn, args: dict, budget: list, state: dict) -> dict:
    """Run ``exercise.part_<part>(fn, budget, state, **args)``; the outcome as plain data, never raising.

    ``{"ok": value}``, ``{"timed_out": True}`` or ``{"raised": (type, message, bases)}``.
    """
    from cnnlab.grading.student import exc_info

    method = getattr(exercise, f"part_{part}", None) if part.isidentifier() else None
    if method is None:
        return {"raised": ("LookupError", f"{exercise.name} has no part {part!r}", ("LookupError",))}
    try:
        return {"ok": method(fn, budget, state, **args)}
    except TimeLimit:
        return {"timed_out": True}
    except (Exception, SystemExit) as exc:
        return {"raised": exc_info(exc)}


def unwrap(result):
    """A part's outcome (`kernel_run`'s dict, possibly from a lying kernel) → its value; raises
    `TimeLimit` or `Raised` for those outcomes, `ValueError` for anything malformed."""
    if type(result) is not dict or len(result) != 1:
        raise ValueError("the kernel sent a malformed result")
    (key, val), = result.items()
    if key == "ok":
        return val
    if key == "timed_out":
        raise TimeLimit
    if key == "raised" and type(val) is tuple and len(val) == 3 and all(type(v) is str for v in val[:2]) \
            and type(val[2]) is tuple and all(type(v) is str for v in val[2]):
        raise Raised((val[0][:100], val[1][:300], tuple(v[:100] for v in val[2][:20])))
    raise ValueError("the kernel sent a malformed result")


class LocalSide:
    """The student side in this process (outside grading mode)."""

    remote = False

    def __init__(self, exercise, fn):
        self.exercise, self.fn, self.state = exercise, fn, {}

    def run(self, part: str, budget: list, **args):
        from cnnlab.grading.remote import decode, encode

        wire = {"args": args}
        args = decode(encode(wire)[4:])["args"]  # note: the kernel gets exactly what the grader could send
        result = kernel_run(self.exercise, part, self.fn, args, budget, self.state)
        return unwrap(decode(encode({"result": result})[4:])["result"])

    def helpers(self, names, rule: str = "called"):
        """``[(name, side)]`` for the student's own functions among `names` that `fn` uses."""
        return [(h, _LocalHelper(h, f)) for h, f in helper_functions(self.fn, names, rule).items()]


class _LocalHelper:
    remote = False

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def check(self, **kw):
        from cnnlab.grading.runner import check

        return check(self.name, self.fn, **kw)


def plain_tensor(out):
    """Kernel side: a model's output as plain data: a tensor as a numpy array, anything else by its type's name."""
    import torch

    from cnnlab.grading.compare import Foreign
    from cnnlab.grading.student import _typename

    if isinstance(out, torch.Tensor):
        return out.detach().cpu().numpy().copy()
    return Foreign(_typename(out))


def helper_functions(fn, names, rule: str = "called") -> dict:
    """The student's helpers among `names`, found in `fn`'s globals (the notebook's namespace).

    ``rule="called"``: `fn`'s own code names them and they are not the course's;
    ``rule="same-module"``: they are defined where `fn` is (the notebook).
    """
    glob = getattr(fn, "__globals__", {}) or {}
    called = set(getattr(getattr(fn, "__code__", None), "co_names", ()))
    out = {}
    for h in names:
        helper = glob.get(h)
        if not callable(helper):
            continue
        module = getattr(helper, "__module__", None) or ""
        if rule == "same-module":
            ok = module == getattr(fn, "__module__", None)
        else:
            ok = h in called and not module.startswith("cnnlab.")
        if ok:
            out[h] = helper
    return out


# ------------------------------------------------------------------ the grader's side of grading mode
class RemoteCustomSide:
    """The student side of a custom check (`cnnlab.grading.custom`), over a connection to the kernel.

    ``run(part, budget, **args)`` asks the kernel to run the exercise's part on the
    student's object (``target``: None for the checked function, else one of its helpers)
    and returns the plain data it sends back; the grader keeps the time, as `RemoteSide`.
    """

    remote = True

    def __init__(self, sock: "socket.socket", exercise, target: str | None = None):
        self.sock, self.exercise, self.target = sock, exercise, target

    def run(self, part: str, budget: list, **args):
        from cnnlab.grading.remote import GRACE_S, WireError, recv, send

        left = budget[0]
        start = time.monotonic()
        send(self.sock, {"op": "run", "exercise": self.exercise.name, "part": part, "args": args,
                         "target": self.target, "budget": left})
        try:
            reply = recv(self.sock, None if left is None else max(left, 0) + GRACE_S)
        except TimeoutError:
            budget[0] = 0.0 if left is not None else None
            raise TimeLimit from None
        finally:
            if budget[0] is not None:
                budget[0] -= time.monotonic() - start
        if reply.get("op") != "result":
            raise WireError("the kernel did not send a result")
        if budget[0] is not None and budget[0] < -GRACE_S / 2:
            raise TimeLimit  # note: the grader's clock, not the kernel's report
        return unwrap(reply.get("result"))

    def helpers(self, names, rule: str = "called"):
        """``[(name, helper side)]`` for the student's own functions among `names` that the kernel finds."""
        from cnnlab.grading.remote import recv, send

        send(self.sock, {"op": "helpers", "names": list(names), "rule": rule})
        reply = recv(self.sock, 10.0)
        found = reply.get("names", [])
        return [(h, _RemoteHelper(self.sock, h)) for h in names if type(found) is list and h in found]


class _RemoteHelper:
    """One of the student's helpers, checked here against its outputs in the kernel (seed as given)."""

    remote = True

    def __init__(self, sock, name):
        self.sock, self.name = sock, name

    def check(self, seed=0, trials=None, device=None, time_limit=None):
        from cnnlab.grading.remote import RemoteSide, _exercise, _Proxy
        from cnnlab.grading.runner import run_check

        ex = _exercise(self.name)
        if getattr(ex, "custom", False):
            return ex.check(_Proxy(), seed=seed, trials=trials, device=device, time_limit=time_limit,
                            side=RemoteCustomSide(self.sock, ex, self.name))
        return run_check(self.name, _Proxy(), seed=seed, trials=trials, device=device, time_limit=time_limit,
                         side=RemoteSide(self.sock, self.name, seed))
