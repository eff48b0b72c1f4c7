"""bench/autograde.py's CPU measure: the machine's busy time, which sees the sandboxed kernels.

The bench itself is a script (run by hand, `make bench`), not a test: its whole run is minutes.
"""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_autograde", ROOT / "bench" / "autograde.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_machine_cpu_counts_busy_time():
    bench = _bench()
    before = bench._machine_cpu()
    sum(i * i for i in range(3_000_000))  # note: ~0.1-0.3 s of CPU in this process
    assert bench._machine_cpu() - before > 0.05

