"""The shipped checkpoint: loads safely, is small, and its recorded accuracy reproduces."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab.models import count_params
from cnnlab.pretrained import (CHECKPOINT, METADATA, NOISE, SOURCE_CLASSES, TARGET_CLASSES, ShapesNet,
                               load_pretrained, make_source_data, read_metadata)
from cnnlab.train import evaluate, make_loader

pytestmark = pytest.mark.lec8


def test_checkpoint_is_package_data_and_small():
    assert CHECKPOINT.is_file() and METADATA.is_file()
    assert CHECKPOINT.stat().st_size <= 2 * 1024 * 1024
    text = open(CHECKPOINT.parents[2] / "pyproject.toml").read()
    assert '"cnnlab.pretrained" = ["shapes16.pt", "shapes16.json"]' in text


def test_read_metadata_records_how_it_was_made():
    rec = read_metadata()
    for key in ("data", "config", "test_accuracy", "torch", "numpy", "command", "parameters"):
        assert key in rec, key
    assert rec["config"]["seed"] == 0 and rec["config"]["train_data_seed"] != rec["config"]["test_data_seed"]
    assert rec["data"]["classes"] == list(SOURCE_CLASSES) and rec["data"]["held_out_classes"] == list(TARGET_CLASSES)
    assert f"noise={NOISE}" in rec["data"]["source"]
    assert rec["parameters"] == count_params(ShapesNet())
    assert 0.85 < rec["test_accuracy"] < 1.0  # a real task: neither trivial nor failed


def test_load_pretrained_weights_only_and_eval_mode():
    state = torch.load(CHECKPOINT, map_location="cpu", weights_only=True)
    model = load_pretrained()
    assert not model.training
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, state[k], rtol=0, atol=0)
    assert model(torch.zeros(2, 1, 16, 16)).shape == (2, len(SOURCE_CLASSES))


def test_load_pretrained_new_head_keeps_features():
    base, model = load_pretrained(), load_pretrained(num_classes=3)
    assert isinstance(model.head, nn.Linear) and model.head.out_features == 3 and model.head.in_features == 64
    for (k, v), (k2, v2) in zip(base.features.state_dict().items(), model.features.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    assert load_pretrained(num_classes=len(SOURCE_CLASSES)).head.weight.equal(base.head.weight)


class _Payload:
    """Any class: unpickling it would mean importing and running code named by the file."""


def test_load_pretrained_rejects_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"head.weight": torch.zeros(2, 64), "x": _Payload()}, path)
    with pytest.raises(Exception, match="(?i)weights_only|unsupported|global"):
        load_pretrained(path)


def test_make_source_data_shapes_seeded():
    x, y = make_source_data(20, seed=3)
    x2, y2 = make_source_data(20, seed=3)
    assert x.shape == (20, 1, 16, 16) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert set(y.tolist()) <= set(range(len(SOURCE_CLASSES)))
    assert not np.array_equal(x, make_source_data(20, seed=4)[0])


def test_recorded_accuracy_reproduces_on_regenerated_test_set():
    rec = read_metadata()
    x, y = make_source_data(rec["config"]["n_test"], rec["config"]["test_data_seed"])
    acc = evaluate(load_pretrained(), make_loader(x, y, 500, shuffle=False), device="cpu")["accuracy"]
    assert acc == pytest.approx(rec["test_accuracy"], abs=0.005)


def test_pretrained_features_beat_random_on_held_out_shapes():
    """The reason the checkpoint exists: its features separate classes it never saw."""
    from cnnlab.data import make_shapes

    xs, ys, _ = make_shapes(600, 16, TARGET_CLASSES, noise=NOISE, seed=5)
    x = torch.from_numpy(xs[:, None].astype(np.float32))

    def nearest_centroid_accuracy(model):
        with torch.no_grad():
            f = model.eval().features(x).numpy()  # (600, 64)
        centroids = np.stack([f[:300][ys[:300] == c].mean(0) for c in range(3)])  # (3, 64)
        pred = np.argmin(((f[300:, None] - centroids[None]) ** 2).sum(-1), axis=1)
        return (pred == ys[300:]).mean()

    torch.manual_seed(0)
    assert nearest_centroid_accuracy(load_pretrained()) > nearest_centroid_accuracy(ShapesNet()) + 0.1


@pytest.mark.slow
def test_train_reproduces_recorded_accuracy(tmp_path):
    """Retrains the checkpoint from scratch (~20 s CPU) and compares with the record."""
    from cnnlab.pretrained.train import train

    rec = train(tmp_path, progress=False)
    shipped = read_metadata()
    assert rec["config"] == shipped["config"]
    assert rec["test_accuracy"] == pytest.approx(shipped["test_accuracy"], abs=0.02)
    assert json.loads((tmp_path / "shapes16.json").read_text())["test_accuracy"] == rec["test_accuracy"]
    model = load_pretrained(tmp_path / "shapes16.pt")
    assert count_params(model) == shipped["parameters"]
