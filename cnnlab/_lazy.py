"""`LazyModule`: a module imported on its first attribute access.

`cnnlab.reference` (and what it uses) names torch at module level, yet a
student's kernel in grading mode checks numpy exercises without ever needing
torch: the grader computes the references. Importing torch costs ~1.5 s of CPU
per notebook, so those modules hold a `LazyModule` instead of the module.

note: nothing goes into ``sys.modules`` until the real import, so
``"torch" in sys.modules`` stays an honest test of whether torch was imported,
and the grading guard (`cnnlab.grading.guard`) still patches torch when the
student's own code is the first to import it.
"""
from __future__ import annotations

import importlib

__all__ = ["LazyModule"]


class LazyModule:
    """Stands for the module `name`; the first attribute looked up imports it.

    >>> torch = LazyModule("torch")
    >>> torch.float64  # imports torch here
    torch.float64
    """

    def __init__(self, name: str):
        self._lazy_name = name

    def __getattr__(self, attr):
        # note: only called for names not on the proxy itself; import_module is a dict
        # lookup once the module is loaded, so no need to cache (and nothing can go stale)
        return getattr(importlib.import_module(self._lazy_name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._lazy_name!r}>"
