"""bench/gpu_check.sh: its CPU path runs end to end, in quick mode, without the GPU machine's missing packages."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# note: the GPU machine has none of these; hiding them here shows the script needs none of them
_HIDE = '''
import importlib.abc, importlib.machinery, sys
_HIDDEN = {"mnist1d", "nbgrader", "nbclient", "nbformat", "nbconvert", "jupyter_client", "ipykernel", "IPython",
           "ipywidgets", "jupytext", "torchinfo", "notebook", "jupyterlab", "jupyter_server", "xdist", "requests"}
class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in _HIDDEN:  # installed copies only: a copy under the working tree stays visible
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or "site-packages" in (spec.origin or ""):
                raise ModuleNotFoundError(f"No module named {name!r} (hidden, as on the GPU machine)", name=name)
        return None
sys.meta_path.insert(0, _Hide())
'''


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None, reason="needs bash and timeout")
def test_gpu_check_quick_cpu_path_runs_end_to_end(tmp_path):
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "sitecustomize.py").write_text(_HIDE)
    out = tmp_path / "out"
    env = dict(os.environ, GPU_CHECK_QUICK="1", PYTHON=sys.executable, GPU_CHECK_EXTRA=str(tmp_path / "none"),
               PYTHONPATH=f"{tmp_path / 'hide'}{os.pathsep}{ROOT}", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    status = (out / "status.txt").read_text()
    for step in ("env", "grades", "throughput", "train_mnist1d"):
        assert f"{step} rc=0 " in status, status
    info = json.loads((out / "env.json").read_text())
    assert not info["cuda_available"] and info["cnnlab"].startswith(str(ROOT))
    assert {"mnist1d", "nbgrader", "torchinfo"} <= set(info["missing"])
    grades = json.loads((out / "grades.json").read_text())
    assert grades["summary"]["implementations"] > 20 and grades["summary"]["unexpected_on_cpu"] == []
    assert all(row["cuda"] == "skipped: no CUDA" for row in grades["rows"])
    assert {row["impl"] for row in grades["rows"]} >= {"correct"}
    throughput = json.loads((out / "throughput.json").read_text())
    assert len(throughput) == 5 and all(r["cpu_s"] > 0 and r["cuda_s"] is None for r in throughput)
    summary = (out / "summary.txt").read_text()
    assert "skipped: no CUDA" in summary and "st/s" in summary
    assert "mnist1d_training correct: quick mode" in summary
    assert "skipped: pytest steps in quick mode" in (out / "pytest_gpu.txt").read_text()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_check_prepare_copies_mnist1d(tmp_path):
    pytest.importorskip("mnist1d")
    env = dict(os.environ, PYTHON=sys.executable, GPU_CHECK_EXTRA=str(tmp_path / "extra"))
    proc = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), "--prepare"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "extra" / "mnist1d" / "data.py").is_file()
    assert (tmp_path / "extra" / "stubs" / "requests.py").is_file()
    code = "import mnist1d.data, requests; print(mnist1d.data.__file__, requests.__file__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=f"{tmp_path / 'extra'}{os.pathsep}{tmp_path / 'extra' / 'stubs'}"))
    assert str(tmp_path / "extra") in out.stdout, out.stderr
