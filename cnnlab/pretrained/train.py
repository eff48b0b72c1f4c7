"""Train the shipped checkpoint reproducibly: ``python -m cnnlab.pretrained [--out DIR]``.

Generates the source data (`make_source_data`, 30,000 training and 3,000
test images from different seeds), trains `ShapesNet` on the CPU with one
thread (deterministic for a given torch version), and writes
``shapes16.pt`` (the state_dict) and ``shapes16.json`` (the record).
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from cnnlab.pretrained import (IMAGE_SIZE, NOISE, SOURCE_CLASSES, TARGET_CLASSES, ShapesNet,
                               make_source_data)
from cnnlab.train import evaluate, fit, make_loader, seed_everything

__all__ = ["CONFIG", "train", "main"]

CONFIG = {"n_train": 30_000, "n_test": 3_000, "train_data_seed": 0, "test_data_seed": 1, "seed": 0,
          "epochs": 4, "batch_size": 128, "optimizer": "adam", "lr": 0.003}


def train(out_dir, config=None, progress: bool = True) -> dict:
    """Train on the source task, save ``shapes16.pt`` and ``shapes16.json`` in `out_dir`; return the record."""
    cfg = {**CONFIG, **(config or {})}
    torch.set_num_threads(1)  # note: one thread makes the float sums, hence the weights, repeatable
    t0 = time.process_time()
    x, y = make_source_data(cfg["n_train"], cfg["train_data_seed"])
    x_test, y_test = make_source_data(cfg["n_test"], cfg["test_data_seed"])
    seed_everything(cfg["seed"])
    model = ShapesNet()
    hist = fit(model, make_loader(x, y, cfg["batch_size"], seed=cfg["seed"]), epochs=cfg["epochs"], lr=cfg["lr"],
               optimizer=cfg["optimizer"], device="cpu", seed=cfg["seed"], progress=progress)
    test = evaluate(model, make_loader(x_test, y_test, 500, shuffle=False), device="cpu")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, out / "shapes16.pt")
    record = {
        "model": "cnnlab.pretrained.ShapesNet", "parameters": sum(p.numel() for p in model.parameters()),
        "data": {"source": f"cnnlab.data.make_shapes(n, size={IMAGE_SIZE}, classes=SOURCE_CLASSES, "
                           f"noise={NOISE}, seed=...)", "classes": list(SOURCE_CLASSES),
                 "held_out_classes": list(TARGET_CLASSES)},
        "config": cfg,
        "train_loss": hist["train_loss"], "train_accuracy": hist["train_accuracy"][-1],
        "test_accuracy": test["accuracy"], "test_loss": test["loss"],
        "cpu_seconds": round(time.process_time() - t0, 1),
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "command": "python -m cnnlab.pretrained",
    }
    (out / "shapes16.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.pretrained", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent),
                        help="folder for shapes16.pt and shapes16.json (default: the package's)")
    args = parser.parse_args(argv)
    record = train(args.out)
    print(json.dumps({k: record[k] for k in ("test_accuracy", "parameters", "cpu_seconds", "torch")}))
    return 0
