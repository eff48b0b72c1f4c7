"""The grader's side of out-of-band verdicts: a socket server in the driver process.

The driver (outside the sandbox) listens on a Unix socket in the kernel's run
folder; each `check` the kernel makes in grading mode connects, and
`cnnlab.grading.remote.serve_check` runs it here: cases from the instructor's
secret, reference, comparison and diagnosis never run where student code can
reach them. `SandboxExecute` tells the server which cell is running, so every
verdict is recorded against the cell that was executing when it was asked for;
after the cell, `apply_verdicts` decides what the cell shows and whether it
scores (see there).
"""
from __future__ import annotations

import ast
import hashlib
import os
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

__all__ = ["VerdictServer", "course_secret", "expected_checks", "hidden_lines", "apply_verdicts",
           "scrub_outputs", "ACTIVE"]

#: The server of this driver process (one notebook is graded at a time per driver).
ACTIVE: "VerdictServer | None" = None
_MAX_CONNECTIONS = 4
_MAX_CHECKS = 300  # per notebook: the grader's work runs outside the sandbox's limits
_SECRET_FILE = ".cnnlab_secret"


def course_secret(root: Path) -> str:
    """The instructor's grading secret: $CNNLAB_GRADING_SECRET, else ``<root>/.cnnlab_secret``
    (created on first use, readable by its owner only; keep it out of version control)."""
    if os.environ.get("CNNLAB_GRADING_SECRET"):
        return os.environ["CNNLAB_GRADING_SECRET"]
    path = Path(root) / _SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_hex(16)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
        return value


@dataclass
class _Cell:
    grade_id: str | None
    source: str = ""  # note: the test cell as the grader holds it (nbgrader restored the instructor's)
    records: list = field(default_factory=list)
    calls: dict = field(default_factory=dict)  # exercise name -> how many checks of it so far


class VerdictServer:
    """Listens on ``path``; runs each kernel `check` here and records its verdict for the current cell."""

    def __init__(self, path: str, secret: str, assignment: str, device=None):
        self.path, self.secret, self.assignment, self.device = path, secret, assignment, device
        self.cell = _Cell(None)
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.served = 0
        self.log: list[dict] = []  # every verdict, with its cell: the grader's records for reports
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(_MAX_CONNECTIONS)
        self._sock = None
        self._stop = threading.Event()

    def start(self) -> "VerdictServer":
        global ACTIVE
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(self.path)
        os.chmod(self.path, 0o666)  # note: the kernel may run as another user inside the sandbox
        sock.listen(8)
        sock.settimeout(0.2)
        self._sock = sock
        threading.Thread(target=self._accept, name="cnnlab-verdicts", daemon=True).start()
        ACTIVE = self
        return self

    def stop(self) -> None:
        global ACTIVE
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
        if ACTIVE is self:
            ACTIVE = None

    # --- cells ------------------------------------------------------------------
    def begin(self, grade_id: str | None, source: str = "") -> None:
        with self._lock:
            self.cell = _Cell(grade_id, source)

    def end(self) -> list[dict]:
        with self._lock:
            records, self.cell = self.cell.records, _Cell(None)
        return records

    def seed_for(self, cell: _Cell, name: str, seed: int) -> int:
        """Hidden cases' seed: from the secret, the cell, the exercise, the notebook's seed and how
        many checks of it the cell made before (the same on every rerun, unknown to the kernel)."""
        k = cell.calls.get(name, 0)
        cell.calls[name] = k + 1
        text = f"{self.secret}|{self.assignment}|{cell.grade_id}|{name}|{seed}|{k}"
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")

    # --- connections ----------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.served >= _MAX_CHECKS or not self._slots.acquire(blocking=False):
                conn.close()  # note: more than a few at once, or hundreds in all, is not a notebook's checks
                continue
            self.served += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        from cnnlab.grading.remote import serve_check

        with self._lock:
            cell = self.cell  # note: the verdict belongs to the cell running when it was asked for
        def record(rec):
            with self._lock:
                cell.records.append(rec)
                self.log.append({"cell": cell.grade_id, **rec})

        try:
            with conn:
                serve_check(conn, lambda name, seed: self.seed_for(cell, name, seed), self.device, record,
                            cell.source)
        except Exception as exc:  # noqa: BLE001 - a broken connection is an unrecorded check, nothing more
            self.errors.append(f"{exc.__class__.__name__}: {exc}"[:300])
        finally:
            self._slots.release()


# ------------------------------------------------------------------ cells
def expected_checks(source: str) -> int:
    """How many `check(...)` calls the (instructor's) cell source makes, statically."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return 0
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "check") or (isinstance(f, ast.Attribute) and f.attr == "check"):
                n += 1
    return n


_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)


def hidden_lines(source: str) -> list[str]:
    """The distinctive lines of a cell's hidden tests (to keep them out of anything shown)."""
    out = []
    for block in _HIDDEN.findall(source):
        for line in block.splitlines():
            line = line.strip()
            if len(line) >= 12 and not line.startswith("#"):
                out.append(line)
    return out


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _scrub(text: str, hidden: list[str]) -> str:
    for line in hidden:
        if line in text:
            return "[removed: this text quoted the hidden tests]"
    return text


def apply_verdicts(cell, records: list[dict], hidden: list[str]) -> str | None:
    """Rewrite a graded test cell's outputs from the grader's records; returns a note for the instructor or None.

    The cell scores (no error output) only when it raised nothing, every check its source
    makes reported a passing verdict to the grader (at least as many as it calls), and
    none failed. What it shows is the grader's words: the first failed check's message,
    else the error it raised (name and message only, never a traceback into hidden code),
    else which checks never reported, else a line per passing check. Nothing printed
    while the hidden tests ran is kept.
    """
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    failed = [r for r in records if not r["passed"]]
    wanted = expected_checks(cell.source)
    note = None
    if failed:
        # note: a traceback of the grader's making: the failing call is in the hidden part
        msg = failed[0]["message"]
        outputs = [NotebookNode(output_type="error", ename="AssertionError", evalue=msg, traceback=[
            "Traceback (most recent call last)", "(the failing check is in a hidden test of this cell: "
            "its code is not shown)", f"AssertionError: {msg}"])]
    elif errors:
        err = errors[-1]
        # note: kept as raised (a visible assert's traceback helps); feedback.HideHiddenTracebacks
        # removes hidden frames from the student's copy, and the message may not quote hidden lines
        err["evalue"] = _scrub(str(err.get("evalue", ""))[:2000], hidden)
        outputs = [err]
    elif wanted and len(records) < wanted:
        missing = wanted - len(records)
        outputs = [_error("CheckNotRecorded", f"{missing} of the {wanted} checks in this test never reported to "
                          f"the grader, so this test cannot pass (was `check` replaced, skipped or wrapped?)")]
    elif not wanted:
        outputs = [o for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
        note = (f"test cell {cell.metadata.get('nbgrader', {}).get('grade_id')!r} calls no grader check: its points "
                f"rest on code in the student's kernel")
    else:
        text = "".join(f"{(r['message'].splitlines() or [r['name']])[0]}\n" for r in records)
        outputs = [NotebookNode(output_type="stream", name="stdout", text=text)]
    cell.outputs = outputs
    return note


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def scrub_outputs(nb, hidden: list[str]) -> int:
    """Remove every printed or displayed output of ``nb`` that quotes hidden-test lines, and every
    error message that does; returns how many were changed. (Tracebacks are cleaned for the
    student's copy by `cnnlab.course.feedback.HideHiddenTracebacks`.)"""
    if not hidden:
        return 0
    changed = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                value = _ANSI.sub("", str(out.get("evalue", "")))
                if any(line in value for line in hidden):
                    out["evalue"] = "[removed: this message quoted the hidden tests]"
                    changed += 1
                kept.append(out)
                continue
            blob = _ANSI.sub("", str(out.get("text", "")) + "".join(str(v) for v in (out.get("data") or {}).values()))
            if any(line in blob for line in hidden):
                changed += 1
                kept.append(NotebookNode(output_type="stream", name="stdout",
                                         text="[output removed: it quoted the hidden tests]\n"))
            else:
                kept.append(out)
        cell.outputs = kept
    return changed
