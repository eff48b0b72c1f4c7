"""Pre-checks of a submitted notebook, before any of it runs: parse, repair, measure, scan.

`prechecks(spec)` runs in the submission's driver process (never in the
worker: a pathological notebook must not take the worker down), under an
address-space cap: valid JSON and Unicode, a list of well-formed cells,
nbformat 3 upgraded, duplicate cell ids and graded cells repaired, the
release's nbgrader metadata restored (`cells.align_with_release`), at most
`MAX_CODE_BYTES` of code, and the tamper report (`tamper.find_tampering`).
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from cnnlab.course.cells import align_with_release
from cnnlab.course.tamper import find_tampering

__all__ = ["prechecks", "check_notebook", "PRECHECK_MEMORY", "MAX_CODE_BYTES"]


#: Address space the driver may use while it parses and scans a submission, bytes.
PRECHECK_MEMORY = 3 << 29
#: Most source code a notebook may hold (Python's parser needs ~0.5 GB per MB of some code).
MAX_CODE_BYTES = 2 << 20


def check_notebook(path: Path, release: dict | None = None) -> tuple[str | None, list[str]]:
    """(fatal problem or None, notes); repairs in place: duplicate cell ids and graded cells,
    nbgrader metadata restored from ``release`` (the released notebook), nbformat 3 upgraded."""
    import nbformat

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return f"{path.name} is not valid JSON ({exc.__class__.__name__}: {exc})", []
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return f"{path.name} holds text that is not valid Unicode (a lone surrogate escape such as \\ud800)", []
    upgraded = False
    if isinstance(raw, dict) and isinstance(raw.get("nbformat"), int) and raw["nbformat"] < 4 and "worksheets" in raw:
        try:  # note: an old but valid notebook: grade it in today's format
            raw = json.loads(nbformat.writes(nbformat.reads(json.dumps(raw), as_version=4)))
            upgraded = True
        except Exception as exc:  # noqa: BLE001 - any malformed notebook is the student's problem
            return f"{path.name} is an nbformat {raw['nbformat']} notebook that cannot be converted ({exc})", []
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return f"{path.name} is not a notebook (no list of cells)", []
    nb = raw
    notes, seen_ids, seen_grade = [], set(), set()
    changed = False
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or "cell_type" not in cell or not isinstance(cell.get("metadata", {}), dict):
            return f"{path.name} has a malformed cell (cell {i})", []
        cid = cell.get("id")
        if cid is not None and cid in seen_ids:
            cell["id"] = f"dup-{i}-{uuid.uuid4().hex[:6]}"
            changed = True
        seen_ids.add(cell.get("id"))
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        if gid is not None:
            if gid in seen_grade:
                # note: nbgrader aborts on some duplicates; keep the first copy
                # as the graded cell and turn later copies into ordinary cells
                notes.append(f"duplicate cell {gid!r} ignored")
                cell["metadata"].pop("nbgrader", None)
                changed = True
            seen_grade.add(gid)
    if release is not None:
        aligned, edited = align_with_release(nb, release)
        notes += aligned
        changed = changed or edited
    changed = changed or upgraded
    try:
        nb = nbformat.reads(json.dumps(nb), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any malformed notebook is the student's problem
        return f"{path.name} cannot be read as a notebook ({exc.__class__.__name__}: {exc})", []
    if changed:
        path.write_text(nbformat.writes(nb), encoding="utf-8")
    return None, notes


def prechecks(spec) -> dict:
    """Parse, repair and scan the submitted notebooks under a memory limit.

    Returns ``{"notes": [...]}`` when grading may go on, else a verdict
    ``{"status": "invalid" | "tampered", "reason": ...}``.
    """
    import resource

    scratch = Path(spec["scratch"])
    subdir = scratch / "course" / "submitted" / spec["student"] / spec["assignment"]
    released = Path(spec["template"]) / "exercises" / spec["assignment"]
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = PRECHECK_MEMORY if hard == resource.RLIM_INFINITY else min(PRECHECK_MEMORY, hard)
    notes = []
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        for name in spec["notebooks"]:
            release_nb = json.loads((released / name).read_text(encoding="utf-8"))
            problem, nb_notes = check_notebook(subdir / name, release_nb)
            if problem:
                return dict(status="invalid", reason=problem)
            notes += nb_notes
            nb = json.loads((subdir / name).read_text(encoding="utf-8"))
            code = sum(len("".join(c.get("source", ""))) for c in nb.get("cells", [])
                       if isinstance(c, dict) and c.get("cell_type") == "code")
            if code > MAX_CODE_BYTES:
                return dict(status="invalid", reason=f"{name} holds {code / (1 << 20):.1f} MB of code, more than "
                            f"the {MAX_CODE_BYTES >> 20} MB a submission may hold; not graded")
            try:
                tampering = find_tampering(nb)
            except RecursionError:
                return dict(status="invalid", reason=f"{name} is nested too deeply to be checked")
            if tampering:  # note: a report for the instructor; verdicts are the grader's, whatever the kernel does
                more = f" (and {len(tampering) - 1} more)" if len(tampering) > 1 else ""
                notes.append(f"review by hand: {name} rewrites the grader's libraries at run time: "
                             f"{tampering[0]}{more} (graded all the same: the grader decides every verdict)")
    except MemoryError:
        return dict(status="invalid", reason=f"the submission is too large to be checked "
                    f"(parsing it needed more than {cap >> 30} GiB)")
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return {"notes": notes}
