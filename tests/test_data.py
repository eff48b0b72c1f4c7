"""cnnlab.data: offline datasets, checked with the network blocked."""
from __future__ import annotations

import random
import socket

import numpy as np
import pytest

from cnnlab import data


class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        raise OSError("network access attempted in cnnlab.data")


@pytest.fixture
def no_network(monkeypatch):
    """Any socket creation or connection raises."""
    # note: a subclass, not a function, so that modules importing later
    # (ssl subclasses socket.socket at import time) still import cleanly.
    monkeypatch.setattr(socket, "socket", _NoSocket)

    def refuse(*args, **kwargs):
        raise OSError("network access attempted in cnnlab.data")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.parametrize("name", data.SAMPLE_IMAGES)
def test_sample_image_offline(no_network, name):
    img = data.sample_image(name)
    assert img.ndim in (2, 3) and min(img.shape[:2]) >= 100
    gray = data.sample_image(name, as_gray=True)
    assert gray.ndim == 2 and gray.dtype == np.float64
    assert gray.shape == img.shape[:2]
    assert 0.0 <= gray.min() <= gray.max() <= 1.0


def test_sample_image_kinds():
    assert data.sample_image("camera").shape == (512, 512)
    assert data.sample_image("astronaut").shape == (512, 512, 3)
    assert data.sample_image("astronaut").dtype == np.uint8


@pytest.mark.parametrize("name", ["kidney", "lily", "cells3d", "lena", "../camera"])
def test_sample_image_unknown_lists_names(no_network, name):
    with pytest.raises(ValueError, match="camera") as err:
        data.sample_image(name)
    assert repr(name) in str(err.value)


def test_make_shapes_shapes_and_labels(no_network):
    x, y, classes = data.make_shapes(80, size=16, seed=3)
    assert x.shape == (80, 16, 16) and x.dtype == np.float64
    assert y.shape == (80,) and y.dtype == np.int64
    assert classes == data.SHAPE_CLASSES
    assert np.bincount(y).tolist() == [10] * len(classes)  # balanced
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert (x.reshape(80, -1).sum(1) >= 3).all()  # every image draws something


def test_make_shapes_deterministic_and_seeded():
    a = data.make_shapes(20, seed=1, noise=0.1)
    b = data.make_shapes(20, seed=1, noise=0.1)
    c = data.make_shapes(20, seed=2, noise=0.1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_make_shapes_x_vs_o_values():
    x, y, classes = data.make_shapes(10, size=9, classes=("x", "o"), jitter=False,
                                     background=-1, foreground=1)
    assert classes == ("x", "o")
    assert set(np.unique(x)) == {-1.0, 1.0}
    xs = x[y == 0][0]
    assert np.array_equal(xs, xs.T) and np.array_equal(xs, xs[:, ::-1])  # an X is symmetric
    assert xs[4, 4] == 1 and xs[1, 1] == 1 and xs[1, 7] == 1


@pytest.mark.parametrize("kind,row_or_col", [("horizontal", 0), ("vertical", 1)])
def test_make_shapes_lines_are_straight(kind, row_or_col):
    x, _, _ = data.make_shapes(5, size=12, classes=(kind,), seed=0)
    for img in x:
        on = np.argwhere(img > 0)
        assert len(np.unique(on[:, row_or_col])) == 1


def test_make_shapes_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown shape"):
        data.make_shapes(4, classes=("triangle",))
    with pytest.raises(ValueError, match="size"):
        data.make_shapes(4, size=4)


def test_load_digits_offline(no_network):
    x, y = data.load_digits()
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(y.tolist()) == set(range(10))
    raw, _ = data.load_digits(normalize=False)
    assert raw.max() == 16.0


def test_load_mnist1d_offline_and_restores_global_state(no_network):
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    d = data.load_mnist1d(200, seed=0)
    assert np.random.rand() == expected_np and random.random() == expected_py
    assert d["x"].shape == (160, 40) and d["x_test"].shape == (40, 40)
    assert d["x"].dtype == np.float32 and d["y"].dtype == np.int64
    assert d["t"].shape == (40,)
    assert set(np.unique(np.concatenate([d["y"], d["y_test"]]))) == set(range(10))


def test_load_mnist1d_deterministic_and_shuffle_seq():
    a = data.load_mnist1d(100, seed=5)
    b = data.load_mnist1d(100, seed=5)
    assert np.array_equal(a["x"], b["x"]) and np.array_equal(a["y"], b["y"])
    s = data.load_mnist1d(100, seed=5, shuffle_seq=True)
    assert np.array_equal(s["y"], a["y"])
    # the same samples with positions permuted: sorted values agree row by row
    assert np.allclose(np.sort(s["x"], axis=1), np.sort(a["x"], axis=1), atol=1e-5)
    assert not np.allclose(s["x"], a["x"])


@pytest.mark.slow
def test_load_mnist1d_default_is_standard_split():
    d = data.load_mnist1d()
    assert d["x"].shape == (4000, 40) and d["x_test"].shape == (1000, 40)


def test_load_mnist1d_rejects_tiny_n():
    with pytest.raises(ValueError):
        data.load_mnist1d(5)
