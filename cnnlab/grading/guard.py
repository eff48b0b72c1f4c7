"""Forbid torch's and scipy's convolution and pooling while a student's function runs.

`forbid(fn)` is a context manager: inside it, each entry point listed in
`TARGETS` (of the modules already imported) is replaced by a stub that
records the call and raises `ForbiddenCall`; a target module first imported
inside the student's function is patched as it loads (with the target
submodules its extension made, torch._C._nn); names in the student's
globals and closures bound to one of those functions (``from scipy.signal
import correlate2d``) are swapped too. Everything is restored on exit,
exceptions and time-outs included. Sliding-window views (numpy's
`sliding_window_view`, `Tensor.unfold`) stay allowed: the lectures teach them.

note: `cnnlab.reference` itself calls torch.nn.functional, so the guard must
be active only around the student's call, never around the reference.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import sys

__all__ = ["ForbiddenCall", "forbid", "TARGETS", "targets_for"]

_POOL = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
         "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
         "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
         "lp_pool1d", "lp_pool2d", "fractional_max_pool2d", "max_unpool2d"]
_CONV = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
         "conv_tbc", "convolution"]
TARGETS = {
    "torch.nn.functional": _CONV + _POOL + ["unfold", "fold", "pad"],
    "torch": _CONV + _POOL + ["constant_pad_nd"],
    "torch._C._nn": _POOL + ["im2col", "col2im", "pad", "constant_pad_nd", "reflection_pad2d", "replication_pad2d"],
    "torch._C._VariableFunctions": _CONV + _POOL + ["constant_pad_nd"],
    "scipy.signal": ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve", "oaconvolve"],
    "scipy.ndimage": ["convolve", "correlate", "convolve1d", "correlate1d", "maximum_filter", "maximum_filter1d",
                      "minimum_filter", "uniform_filter", "uniform_filter1d", "generic_filter"],
    "skimage.measure": ["block_reduce"],
}

# The course's own implementations are solutions too: a numpy exercise that
# wraps them teaches nothing. Every registered numpy exercise's name (and its
# `_naive` twin) is blocked in cnnlab.functional (and its submodules) and
# cnnlab.reference, in every numpy exercise.
_OWN_EXTRA = ["max_pool2d_with_indices", "max_unpool2d"]


def _functional_modules() -> list[str]:
    import importlib.util
    import pkgutil

    spec = importlib.util.find_spec("cnnlab.functional")
    subs = [f"cnnlab.functional.{m.name}" for m in pkgutil.iter_modules(spec.submodule_search_locations or [])]
    return ["cnnlab.functional", *sorted(subs)]


def targets_for(exercise) -> dict:
    """The entry points forbidden while the student's implementation of `exercise` runs.

    numpy kinds: torch's and scipy's convolution and pooling (`TARGETS`), the
    course's own implementations, plus `exercise.forbidden`; module and
    training kinds: `exercise.forbidden` only (they are written in torch).
    """
    if exercise.kind in ("module", "training"):
        return {m: list(v) for m, v in exercise.forbidden.items()}
    from cnnlab.grading import registry  # note: late, the registry imports the exercise modules

    own = []
    for ex in registry.REGISTRY.values():
        if ex.kind in ("array", "arrays"):  # note: not "int": shapes' helpers are fair game elsewhere
            own += [ex.name, f"{ex.name}_naive"]
    targets = {m: list(v) for m, v in TARGETS.items()}
    own_modules = _functional_modules() + ["cnnlab.reference"] if exercise.guard_own else []
    for mod in own_modules:
        targets[mod] = own + _OWN_EXTRA
    for mod, names in exercise.forbidden.items():
        targets[mod] = targets.get(mod, []) + [n for n in names if n not in targets.get(mod, [])]
    return targets


class ForbiddenCall(RuntimeError):
    """Raised by a forbidden entry point while a numpy exercise runs."""


def _stub(qualname: str, calls: list):
    def forbidden(*args, **kwargs):
        calls.append(qualname)
        raise ForbiddenCall(f"this exercise must be solved with numpy; {qualname} was called")

    forbidden.__name__ = qualname.rsplit(".", 1)[-1]
    return forbidden


def _namespaces(fn):
    """Global dicts and closure cells of `fn` (unwrapping partials and bound methods)."""
    seen, out = set(), []
    todo = [fn]
    while todo:
        f = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        for attr in ("func", "__func__", "__wrapped__"):
            inner = getattr(f, attr, None)
            if inner is not None and inner is not f:
                todo.append(inner)
        call = getattr(type(f), "__call__", None)  # a callable object: look into its class's __call__
        if hasattr(call, "__globals__"):
            todo.append(call)
        g = getattr(f, "__globals__", None)
        if isinstance(g, dict):
            out.append(("globals", g))
        for cell in getattr(f, "__closure__", None) or ():
            out.append(("cell", cell))
    return out


class _LateImports(importlib.abc.MetaPathFinder):
    """Patches a target module that the student's function imports for the first time."""

    def __init__(self, patch, targets):
        self.patch, self.targets = patch, targets

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.targets:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchingLoader(spec.loader, self.patch)
                return spec
        return None


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner, patch):
        self.inner, self.patch = inner, patch

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self.inner  # note: leave no trace on the module
        self.inner.exec_module(module)
        self.patch(module.__name__, module)


@contextlib.contextmanager
def forbid(fn=None, targets=None):
    """Patch the entry points of `targets` (and aliases in `fn`'s namespaces) to raise.

    `targets` maps module names to attribute names; default `TARGETS`
    (torch and scipy), see `targets_for` for an exercise's full list.

    Yields the list that records the names of forbidden functions called.
    """
    targets = TARGETS if targets is None else targets
    calls: list[str] = []
    saved = []  # (owner, attribute, original), restored in reverse
    swapped = []  # (namespace dict or cell, key or None, original)
    stubs = {}  # id(original) -> (original, stub), for aliases in the student's namespaces
    originals = {}  # id(stub) -> original

    patched = set()  # names of the target modules patched so far

    def patch(modname, mod):
        patched.add(modname)
        pretty = "torch.nn.functional" if modname == "torch._C._nn" else modname
        for name in targets[modname]:
            orig = getattr(mod, name, None)
            if orig is None:
                continue
            # note: a package first imported inside the guard (cnnlab.functional) imports
            # its submodules' names after they were patched: it holds our stub, whose
            # original is what must come back on exit.
            orig = originals.get(id(orig), orig)
            stub = _stub(f"{pretty}.{name}", calls)
            stubs.setdefault(id(orig), (orig, stub))
            originals[id(stub)] = orig
            try:
                setattr(mod, name, stub)
            except (AttributeError, TypeError):  # an immutable extension type
                continue
            saved.append((mod, name, orig))

    def patch_late(modname, mod):
        patch(modname, mod)
        # note: a C extension makes some target modules itself (torch._C._nn, while torch loads):
        # no finder sees them, so patch them with the package that brought them in
        for sub in targets:
            if sub.startswith(modname + ".") and sub not in patched and sys.modules.get(sub) is not None:
                patch(sub, sys.modules[sub])

    hook = _LateImports(patch_late, targets)
    try:
        for modname in targets:
            if sys.modules.get(modname) is not None:
                patch(modname, sys.modules[modname])
        sys.meta_path.insert(0, hook)
        for kind, ns in _namespaces(fn) if fn is not None else ():
            if kind == "globals":
                for key, val in list(ns.items()):
                    hit = stubs.get(id(val))
                    if hit is not None and hit[0] is val:
                        swapped.append((ns, key, val))
                        ns[key] = hit[1]
            else:
                try:
                    val = ns.cell_contents
                except ValueError:  # an empty cell
                    continue
                hit = stubs.get(id(val))
                if hit is not None and hit[0] is val:
                    swapped.append((ns, None, val))
                    ns.cell_contents = hit[1]
        yield calls
    finally:
        if hook in sys.meta_path:
            sys.meta_path.remove(hook)
        for holder, key, val in reversed(swapped):
            if key is None:
                holder.cell_contents = val
            else:
                holder[key] = val
        for mod, name, orig in reversed(saved):
            setattr(mod, name, orig)
