"""What travels to a grading worker: the student's notebooks and the grading course, as bytes.

A worker (a local pool process or a Dask worker on another machine) needs
only the installed package and what a `Job` carries: the parent reads each
submission (`read_submission`) and packs the grading course once
(`pack_course`: nbgrader_config.py, the clean gradebook.db and the release of
one assignment; never solutions/), and the worker unpacks both into its own
scratch folder (`unpack_course`). No path of the parent's machine is read on
the worker.
"""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

__all__ = ["MAX_NOTEBOOK_BYTES", "read_submission", "pack_course", "unpack_course", "released_names"]

#: A submitted notebook larger than this is left out (and the submission is invalid), bytes.
MAX_NOTEBOOK_BYTES = 50 << 20


def read_submission(src: Path, names: list[str], max_bytes: int = MAX_NOTEBOOK_BYTES
                    ) -> tuple[dict[str, bytes], list[str], list[str]]:
    """Read the notebooks ``names`` from the folder ``src``.

    Returns ``(files, others, notes)``: the bytes of each expected notebook
    found, the other notebooks at the top of the folder (to suggest a
    rename), and notes on what was left out.

    note: only the notebooks: any other file (a startup script, a package
    named like one the grader imports, a timestamp.txt) could run or change
    something before the hidden tests do. Symbolic links are never followed:
    a link to solutions/ would otherwise be read, as a file.
    """
    src = Path(src)
    files: dict[str, bytes] = {}
    others: list[str] = []
    notes: list[str] = []
    if src.is_symlink():
        return files, others, [f"symbolic link {src.name} ignored"]
    if not src.is_dir():
        return files, others, notes
    skipped = 0
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part in (".ipynb_checkpoints", "__pycache__") for part in rel.parts):
            continue
        if path.is_symlink() or any(p.is_symlink() for p in list(path.parents)[: len(rel.parts) - 1]):
            notes.append(f"symbolic link {rel} ignored")
            continue
        if not path.is_file():
            continue
        if str(rel) not in names:
            if len(rel.parts) == 1 and path.suffix == ".ipynb":
                others.append(path.name)
            skipped += 1
            continue
        if path.stat().st_size > max_bytes:
            notes.append(f"{rel} ignored (larger than {max_bytes >> 20} MB)")
            continue
        files[str(rel)] = path.read_bytes()
    if skipped:
        notes.append(f"{skipped} file(s) besides the notebooks ignored")
    return files, others, notes


def released_names(template: Path, assignment: str) -> list[str]:
    """The released notebooks of ``assignment`` in a course folder, sorted."""
    return sorted(p.name for p in (Path(template) / "exercises" / assignment).glob("*.ipynb"))


def pack_course(template: Path, assignment: str) -> bytes:
    """A tar of what grading ``assignment`` needs from the scratch course ``template``."""
    template = Path(template)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel in ("nbgrader_config.py", "gradebook.db", f"exercises/{assignment}"):
            tar.add(template / rel, arcname=rel)
    return buf.getvalue()


def unpack_course(data: bytes, dest: Path) -> Path:
    """Unpack `pack_course`'s bytes into ``dest``; returns ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(dest, filter="data")  # note: no links out, no absolute paths, whatever the bytes hold
    return dest
