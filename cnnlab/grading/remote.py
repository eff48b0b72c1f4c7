"""Verdicts decided outside the student's kernel.

When the autograder grades a notebook, code in the student's kernel can
rewrite anything in that kernel, `check` included. So in grading mode
(the kernel's environment names a socket in ``CNNLAB_VERDICT_SOCKET``)
`check(name, fn)` only *serves* the grader: the grader process (outside the
sandbox) builds the cases from its own secret seed, sends each case's inputs,
the kernel runs the student's function on them (`student.call`, under the time
limit) and sends back plain data (`student.Outputs`), and the grader compares
with the reference, diagnoses, records the verdict for the cell being run and
sends the message to show. A `check` that never reports is a failure.

The wire is length-prefixed JSON frames; arrays travel as ``.npy`` bytes and are
read with ``allow_pickle=False``: the grader never unpickles anything the
kernel sends.
"""
from __future__ import annotations

import base64
import io
import json
import os
import socket
import struct
import time
from dataclasses import fields

import numpy as np

__all__ = ["ENV_SOCKET", "encode", "decode", "send", "recv", "kernel_check", "RemoteSide", "serve_check",
           "WireError"]

#: The environment variable that puts `check` in grading mode (set by the autograder only).
ENV_SOCKET = "CNNLAB_VERDICT_SOCKET"
MAX_FRAME = 64 << 20  # bytes; outputs of a check are small
MAX_DEPTH = 32
GRACE_S = 5.0  # seconds the grader waits beyond a call's budget (the kernel's own limit comes first)


class WireError(Exception):
    """A frame that is not what the protocol allows (too large, too deep, malformed)."""


# ------------------------------------------------------------------ encoding
def _enc(obj, depth=0):
    from cnnlab.grading.cases import Case
    from cnnlab.grading.compare import Foreign
    from cnnlab.grading.student import Outputs

    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if obj is None or type(obj) in (bool, int, float, str):
        if type(obj) is float and not np.isfinite(obj):
            return {"__float__": repr(obj)}
        return obj
    if type(obj) is np.ndarray:
        buf = io.BytesIO()
        np.save(buf, obj, allow_pickle=False)
        return {"__nd__": base64.b64encode(buf.getvalue()).decode("ascii")}
    if isinstance(obj, np.generic) and type(obj).__module__ == "numpy":
        return {"__np__": _enc(np.asarray(obj), depth + 1)}
    if type(obj) is tuple:
        return {"__tuple__": [_enc(v, depth + 1) for v in obj]}
    if type(obj) is list:
        return [_enc(v, depth + 1) for v in obj]
    if type(obj) is dict:
        if not all(type(k) is str for k in obj):
            raise WireError("dict keys must be strings")
        return {"__dict__": {k: _enc(v, depth + 1) for k, v in obj.items()}}
    if type(obj) is Foreign:
        return {"__foreign__": [obj.typename, bool(obj.ndarray_subclass)]}
    if type(obj) is Outputs:
        return {"__outputs__": {f.name: _enc(getattr(obj, f.name), depth + 1) for f in fields(Outputs)}}
    if type(obj) is Case:
        return {"__case__": {f.name: _enc(getattr(obj, f.name), depth + 1) for f in fields(Case)}}
    raise WireError(f"cannot send an object of type {type(obj).__name__}")


def _dec(obj, depth=0):
    from cnnlab.grading.cases import Case
    from cnnlab.grading.compare import Foreign
    from cnnlab.grading.student import Outputs

    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if type(obj) is list:
        return [_dec(v, depth + 1) for v in obj]
    if type(obj) is not dict or len(obj) != 1:
        raise WireError("malformed value")
    (tag, val), = obj.items()
    if tag == "__nd__":
        arr = np.load(io.BytesIO(base64.b64decode(val)), allow_pickle=False)
        if arr.dtype.hasobject:
            raise WireError("object arrays are not allowed")
        return arr
    if tag == "__float__":
        return float(val) if val in ("nan", "inf", "-inf") else _bad(val)
    if tag == "__np__":
        return _dec(val, depth + 1)[()]
    if tag == "__tuple__":
        return tuple(_dec(v, depth + 1) for v in val)
    if tag == "__dict__":
        return {str(k): _dec(v, depth + 1) for k, v in val.items()}
    if tag == "__foreign__":
        return Foreign(str(val[0])[:200], bool(val[1]))
    if tag in ("__outputs__", "__case__"):
        cls = Outputs if tag == "__outputs__" else Case
        names = {f.name for f in fields(cls)}
        return cls(**{k: _dec(v, depth + 1) for k, v in val.items() if k in names})
    raise WireError(f"unknown tag {tag!r}")


def _bad(val):
    raise WireError(f"bad float {val!r}")


def encode(msg: dict) -> bytes:
    """One frame: 4-byte big-endian length, then JSON."""
    body = json.dumps(_enc(msg)).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise WireError(f"message of {len(body)} bytes is larger than {MAX_FRAME}")
    return struct.pack(">I", len(body)) + body


def decode(body: bytes) -> dict:
    try:
        msg = _dec(json.loads(body.decode("utf-8")))
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise WireError(f"malformed message ({exc.__class__.__name__})") from None
    if type(msg) is not dict:
        raise WireError("a message is a dict")
    return msg


def send(sock: socket.socket, msg: dict) -> None:
    sock.sendall(encode(msg))


def _read(sock, n, deadline):
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            sock.settimeout(left)
        else:
            sock.settimeout(None)
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket, timeout: float | None = None) -> dict:
    deadline = None if timeout is None else time.monotonic() + timeout
    (n,) = struct.unpack(">I", _read(sock, 4, deadline))
    if n > MAX_FRAME:
        raise WireError(f"message of {n} bytes is larger than {MAX_FRAME}")
    return decode(_read(sock, n, deadline))


# ------------------------------------------------------------------ kernel side
def _exercise(name):
    """The registered exercise or the custom one (`exercises._custom.CUSTOM`) called `name`."""
    from cnnlab.grading import registry
    from cnnlab.grading.exercises._custom import CUSTOM

    if isinstance(name, str) and name in CUSTOM and name not in registry.REGISTRY:
        return CUSTOM[name]
    return registry.get(name)


def kernel_check(name, fn, *, seed=0, trials=None, device=None, time_limit=None):
    """`check` in grading mode: serve the grader's calls, return the grader's result.

    The grader decides; this side only runs the student's function on the
    inputs it is sent (`student.call` for registered exercises, a custom
    exercise's parts through `custom.kernel_run`). Whatever goes wrong here is a failed check.
    """
    from cnnlab.grading import student
    from cnnlab.grading.custom import helper_functions, kernel_run
    from cnnlab.grading.result import CheckResult

    path = os.environ.get(ENV_SOCKET, "")
    _exercise(name)  # note: an unknown name is the instructor's mistake: ValueError, as outside grading mode
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
    except OSError as exc:
        return CheckResult(name, False, f"{name}: could not reach the grader ({exc.__class__.__name__}); "
                                        "this check is not recorded.")
    targets, states = {None: fn}, {}
    with sock:
        send(sock, {"op": "check", "name": name, "seed": seed, "trials": trials, "time_limit": time_limit,
                    "callable": callable(fn), "type": type(fn).__name__})
        while True:
            msg = recv(sock)
            op = msg.get("op")
            if op == "done":
                r = msg["result"]
                return CheckResult(name, bool(r["passed"]), str(r["message"]), int(r["cases_run"]), r["mistake"])
            if op == "helpers":
                found = helper_functions(fn, msg.get("names", ()), msg.get("rule", "called"))
                targets.update(found)
                send(sock, {"op": "helpers", "names": sorted(found)})
                continue
            target = targets.get(msg.get("target"))
            ex = _exercise(msg.get("exercise", name))
            budget = [msg.get("budget")]
            if op == "run":
                state = states.setdefault((msg.get("target"), ex.name), {})
                send(sock, {"op": "result", "result": kernel_run(ex, str(msg.get("part")), target,
                                                                 msg.get("args") or {}, budget, state)})
                continue
            case = msg["case"]
            if op == "call":
                task = None
                if ex.kind == "training":
                    task = ex.training.prepare(int(msg["seed"]), _device(device, ex))
                    task.pop("y_test", None)  # note: the held-back labels stay with the grader
                out = student.call(ex, target, case, _device(device, ex), budget, task)
                send(sock, {"op": "outputs", "outputs": out})
            elif op == "probe":
                send(sock, {"op": "outputs", "outputs": student.probe(ex, target, case, _device(device, ex), budget)})
            else:
                return CheckResult(name, False, f"{name}: the grader sent an unknown request; not recorded.")


def _device(device, exercise):
    if device is None and exercise.kind in ("module", "training"):
        from cnnlab import device as best

        return best()
    return device


# ------------------------------------------------------------------ grader side
class RemoteSide:
    """The student side of `runner.run_check`, over a connection to the kernel.

    The grader keeps the time: each call may take the seconds left in the
    check's budget (plus a grace for the transfer); an answer that does not
    come in time is a time-out, whatever the kernel says.
    """

    def __init__(self, sock: socket.socket, target: str | None = None, seed: int = 0):
        self.sock, self.target, self.seed = sock, target, seed

    def _ask(self, msg, exercise, budget):
        from cnnlab.grading.student import Outputs

        left = budget[0]
        start = time.monotonic()
        send(self.sock, {**msg, "target": self.target, "exercise": exercise.name, "budget": left})
        try:
            reply = recv(self.sock, None if left is None else max(left, 0) + GRACE_S)
        except TimeoutError:
            budget[0] = 0.0 if left is not None else None
            return Outputs(timed_out=True)
        finally:
            if budget[0] is not None:
                budget[0] -= time.monotonic() - start
        out = reply.get("outputs") if reply.get("op") == "outputs" else None
        if msg["op"] == "call" and type(out) is not Outputs:
            raise WireError("the kernel did not send outputs")
        return out

    def call(self, exercise, fn, case, device, budget, task=None):
        msg = {"op": "call", "case": case}
        if exercise.kind == "training":
            msg["seed"] = int((case.data or {}).get("seed", 0))
        out = self._ask(msg, exercise, budget)
        if budget[0] is not None and budget[0] < -GRACE_S / 2:
            out.timed_out = True  # note: the grader's clock, not the kernel's report
        return out

    def probe(self, exercise, fn, case, device, budget):
        return self._ask({"op": "probe", "case": case}, exercise, budget)

    def helpers(self, exercise, fn):
        """(name, proxy) for each of the student's helpers that ``fn`` calls."""
        send(self.sock, {"op": "helpers", "names": list(exercise.helpers)})
        reply = recv(self.sock, 10.0)
        return [(h, RemoteSide(self.sock, h, self.seed)) for h in reply.get("names", []) if h in exercise.helpers]


def serve_check(sock: socket.socket, seed_for, device=None, on_verdict=None, source: str | None = None) -> dict:
    """Answer one kernel's `check` on ``sock``: run it here, send the result; return the record.

    ``on_verdict(record)`` is called before the kernel hears the result, so the verdict is
    recorded before the cell that asked for it can end.

    ``seed_for(name, seed)`` gives the seed of the hidden cases (from the
    instructor's secret). Returns ``{"name", "passed", "mistake", "message"}``.
    Custom exercises (`cnnlab.grading.custom`) run here too, their student side in the kernel;
    ``source`` is the test cell's source as the grader holds it (an answer key may live there).
    """
    from cnnlab.grading.custom import RemoteCustomSide
    from cnnlab.grading.result import CheckResult
    from cnnlab.grading.runner import run_check

    req = recv(sock, 30.0)
    if req.get("op") != "check":
        raise WireError("expected a check request")
    name = str(req.get("name"))
    try:
        ex = _exercise(name)
    except ValueError as exc:
        raise WireError(str(exc)) from None
    custom = getattr(ex, "custom", False)
    trials = req.get("trials")
    trials = int(trials) if type(trials) is int and 0 <= trials <= 1000 else None
    limit = req.get("time_limit")
    limit = float(limit) if type(limit) in (int, float) and 0 < limit <= 3600 else None
    if not req.get("callable") and not (custom and getattr(ex, "takes_objects", False)):
        result = CheckResult(name, False, f"{name}: expected a function, got an object of type "
                                          f"{str(req.get('type'))[:60]}.", mistake="not-callable")
    else:
        seed = req.get("seed") if type(req.get("seed")) is int else 0
        hidden = seed_for(name, seed)
        kw = {} if limit is None else {"time_limit": limit}
        if custom:  # note: a training run keeps the notebook's seed: a hidden one must not decide a pass
            if getattr(ex, "needs_source", False):
                kw["source"] = source
            try:
                result = ex.check(_Proxy(), seed=hidden if getattr(ex, "hidden_seed", True) else seed,
                                  trials=trials, device=device, side=RemoteCustomSide(sock, ex), **kw)
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
                # note: what the kernel sent is not what its part returns: a failure, never a crash
                result = CheckResult(name, False, f"{name}: the answers from your kernel could not be judged "
                                                  f"({type(exc).__name__}).", mistake="malformed-outputs")
        else:
            result = run_check(name, _Proxy(), seed=hidden, trials=trials, device=device,
                               side=RemoteSide(sock, None, hidden), reproduce=False, **kw)
    record = {"name": name, "passed": result.passed, "mistake": result.mistake, "message": result.message}
    if on_verdict is not None:
        on_verdict(record)
    send(sock, {"op": "done", "result": {"passed": result.passed, "message": result.message,
                                         "cases_run": result.cases_run, "mistake": result.mistake}})
    return record


class _Proxy:
    """Stands for the student's function on the grader's side (it is never called here)."""

    __code__ = None

    def __call__(self, *args, **kwargs):  # pragma: no cover - the remote side calls the real one
        raise RuntimeError("the student's function runs in the kernel")
