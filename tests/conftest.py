"""Shared pytest configuration: GPU tests skip without CUDA, seeds are explicit."""
from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:  # pragma: no cover - torch is a hard dependency
        return False


def pytest_collection_modifyitems(config, items):
    if _cuda():
        return
    skip = pytest.mark.skip(reason="needs CUDA (no GPU on this machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    """A seeded generator; tests never use numpy's global state."""
    import numpy as np

    return np.random.default_rng(0)


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: one torch thread; two spin against each other on a busy 2-core CPU."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
