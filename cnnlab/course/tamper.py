"""Find code that rewrites the grader's libraries before the notebook runs.

Hidden tests run in the student's own kernel, so a submission could replace
``cnnlab.grading.check``, ``Result.raise_if_failed``, ``numpy.allclose`` or
``torch.nn.functional.conv2d`` (which the reference calls) and pass every
test. No check inside that kernel can stop this, so the parent scans the
notebook's source *outside* it, before grading: an assignment, ``del``,
``setattr`` or ``mock.patch`` whose target belongs to a protected module
(cnnlab, numpy, torch, scipy, builtins, nbgrader, importlib, ``sys.modules``),
also through an alias (``g = cnnlab.grading``, ``s = setattr``,
``importlib.import_module(...)``, ``object.__setattr__``), and any IPython
event hook (which can rewrite a cell's result after it ran) marks the
submission as tampered (score 0, for an instructor to review).

Shadowing a name (``def check(...)`` in the notebook) is not tampering: the
hidden tests re-import ``check``. Changing IPython's traceback display is not
either: the failing cell is still detected by its output. The scan reads
source text only, so obfuscated code (``exec`` of an encoded string) is not
seen; that is the limit of any static check.
"""
from __future__ import annotations

import ast
import re

__all__ = ["PROTECTED", "find_tampering"]

PROTECTED = ("cnnlab", "numpy", "torch", "scipy", "builtins", "nbgrader", "importlib")
# note: settings a training notebook legitimately changes; the reference sets its own for each call
_ALLOWED_PREFIXES = ("torch.backends.",)
_MAGIC = re.compile(r"^\s*[%!?]")


def find_tampering(nb: dict) -> list[str]:
    """Descriptions ("cell 'id', line L: `code` changes ...") of every tampering statement in a notebook dict."""
    found = []
    scanner = _Scanner()  # note: one for all cells, in order: an import in one cell binds names in the next
    for i, cell in enumerate(nb.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        # note: IPython magics are not Python; blank them, keeping line numbers
        src = "\n".join("" if _MAGIC.match(line) else line for line in src.splitlines())
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError):  # the kernel reports it; nothing runs from this cell
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        name = f"'{meta['grade_id']}'" if isinstance(meta, dict) and meta.get("grade_id") else str(i)
        for node, what in scanner.scan(tree):
            code = ast.unparse(node).splitlines()[0][:80]
            found.append(f"cell {name}, line {node.lineno}: `{code}` {what}")
    return found


class _Scanner(ast.NodeVisitor):
    def __init__(self):
        # note: names bound by imports, to the module path they stand for (one scope is enough
        # for a scan); the usual aliases are known even when the import is in a released cell
        self.bound: dict[str, str] = {"__builtins__": "builtins", "builtins": "builtins", "np": "numpy",
                                      "numpy": "numpy", "torch": "torch", "cnnlab": "cnnlab", "sys": "sys",
                                      "setattr": "builtins.setattr", "delattr": "builtins.delattr",
                                      "object": "builtins.object", "type": "builtins.type"}
        self.hits: list[tuple[ast.AST, str]] = []

    def scan(self, tree) -> list[tuple[ast.AST, str]]:
        self.hits = []
        self.visit(tree)
        return self.hits

    # imports bind names
    def visit_Import(self, node):
        for a in node.names:
            if a.asname:
                self.bound[a.asname] = a.name
            else:
                top = a.name.split(".")[0]
                self.bound[top] = top
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if node.module and not node.level:
            for a in node.names:
                self.bound[a.asname or a.name] = f"{node.module}.{a.name}"
        self.generic_visit(node)

    # statements that change an object
    def visit_Assign(self, node):
        for t in node.targets:
            self._target(node, t)
        # note: an alias (g = cnnlab.grading; s = setattr; m = importlib.import_module("numpy"))
        # is followed like an import; rebinding a name to anything else forgets it
        path = self._value_path(node.value)
        for t in node.targets:
            if isinstance(t, ast.Name):
                if path is not None:
                    self.bound[t.id] = path
                else:
                    self.bound.pop(t.id, None)
        self.generic_visit(node)

    def _value_path(self, value) -> str | None:
        """The module path an expression stands for, when it is a protected object (else None)."""
        if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Constant) \
                and isinstance(value.args[0].value, str):
            fpath = self._path(value.func, whole=True)
            name = value.args[0].value
            if fpath in ("importlib.import_module", "builtins.__import__") or (
                    isinstance(value.func, ast.Name) and value.func.id == "__import__"):
                full = name if fpath == "importlib.import_module" or len(value.args) > 3 or any(
                    k.arg == "fromlist" for k in value.keywords) else name.split(".")[0]
                return full if full.split(".")[0] in PROTECTED + ("sys",) else None
            return None
        if isinstance(value, ast.Subscript) and self._path(value.value, whole=True) == "sys.modules":
            key = value.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value
            return None
        if isinstance(value, (ast.Name, ast.Attribute)):
            path = self._path(value, whole=True)
            if path is not None and (path.split(".")[0] in PROTECTED or path.startswith("sys.modules")):
                return path
        return None

    def visit_AugAssign(self, node):
        self._target(node, node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._target(node, node.target)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for t in node.targets:
            self._target(node, t)
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        fpath = self._path(func, whole=True)
        if fpath in ("builtins.setattr", "builtins.delattr") and node.args:
            self._object(node, node.args[0], f"{fpath.split('.')[1]}() changes")
        elif fname in ("__setattr__", "__delattr__") and isinstance(func, ast.Attribute):
            # note: object.__setattr__(m, ...) / type.__setattr__(m, ...) or m.__setattr__(...)
            owner = self._path(func.value, whole=True)
            target = node.args[0] if owner in ("builtins.object", "builtins.type") and node.args else func.value
            self._object(node, target, f"{fname}() changes")
        elif fname in ("register", "unregister") and isinstance(func, ast.Attribute) \
                and isinstance(func.value, ast.Attribute) and func.value.attr == "events":
            # note: an IPython event hook (post_run_cell, ...) can rewrite a cell's result after it ran
            self.hits.append((node, "registers an IPython event hook, which can change test results"))
        elif fname in ("patch", "object") and node.args and "patch" in ast.unparse(func):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if self._protected_path(first.value):
                    self.hits.append((node, f"patches {self._protected_path(first.value)}"))
            else:
                self._object(node, first, "patches")
        elif isinstance(func, ast.Attribute) and func.attr in ("update", "pop", "popitem", "clear", "setdefault",
                                                              "__setitem__", "__delitem__"):
            path = self._path(func.value)
            if path == "sys.modules" or (path and path.endswith(".__dict__") and self._protected_path(path)):
                self.hits.append((node, f"changes {path}"))
        self.generic_visit(node)

    def _target(self, stmt, target):
        if isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self._target(stmt, t)
        elif isinstance(target, ast.Starred):
            self._target(stmt, target.value)
        elif isinstance(target, ast.Attribute) and target.attr in ("error_in_exec", "error_before_exec"):
            self.hits.append((stmt, "clears the error of a cell's result"))
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            path = self._path(target)
            if path is not None and (path.startswith("sys.modules") or self._protected_path(path)):
                self.hits.append((stmt, f"changes {self._protected_path(path) or 'sys.modules'}"))

    def _object(self, stmt, obj, verb):
        path = self._path(obj, whole=True)
        if path is not None and (path.startswith("sys.modules") or self._protected_path(path + ".")):
            self.hits.append((stmt, f"{verb} {path}"))

    def _protected_path(self, path: str) -> str | None:
        """The dotted path if it lies in a protected module (and is not an allowed setting)."""
        if path.split(".")[0] in PROTECTED and not path.startswith(_ALLOWED_PREFIXES):
            return path.rstrip(".")
        return None

    def _path(self, node, whole=False) -> str | None:
        """The dotted path an Attribute/Subscript chain stands for, resolved through imports; None if unknown."""
        parts = []
        while True:
            if isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            elif isinstance(node, ast.Subscript):
                parts.append("[]")
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args and \
                    node.func.id in ("vars", "getattr"):
                if node.func.id == "vars":
                    parts.append("__dict__")
                elif len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                    parts.append(str(node.args[1].value))
                node = node.args[0]
            elif isinstance(node, ast.Name):
                if node.id not in self.bound or (not parts and not whole):
                    return None  # an unknown object, or a bare name that is rebound, not changed
                return ".".join([self.bound[node.id]] + [p for p in reversed(parts) if p != "[]"])
            else:
                return None
