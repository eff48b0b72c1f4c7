#!/usr/bin/env bash
# GPU verification in one call (issue 21): tests with CUDA visible, grades CPU vs CUDA,
# reference throughput CPU vs CUDA, MNIST-1D training steps/s, and a summary.
#
#   PYTHONPATH=. bash bench/gpu_check.sh [OUT_DIR]      # default: $OUT, else ./gpu_check_out
#   GPU_CHECK_QUICK=1 bash bench/gpu_check.sh /tmp/x    # tiny sizes, a sample of the catalogue (CI on CPU)
#   bash bench/gpu_check.sh --prepare   # here, before: copies the pure-Python mnist1d package (52 kB) into
#                                       # gpu_check_extra/ (git-ignored: carry it) for the mnist1d_training grade
#
# Run from the repository root. Needs python with torch, numpy, pytest (pytest-xdist
# optional); every part that needs CUDA or a missing package says "skipped: ..." and
# the rest still runs. Each step's output goes to OUT_DIR/<step>.txt, its exit status
# to OUT_DIR/status.txt; the script itself exits 0 unless OUT_DIR cannot be written.
# Budget: the step limits below add up to 470 s (7.8 min); estimated (not measured) on an H100 with 16 cores: 3-4 min; 3.4 min wall here on 2 loaded CPU cores.
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)" || exit 1
EXTRA="${GPU_CHECK_EXTRA:-$ROOT/gpu_check_extra}"
case "$EXTRA" in /*) ;; *) EXTRA="$PWD/$EXTRA" ;; esac
if [ "${1:-}" = "--prepare" ]; then
    SRC=$("${PYTHON:-$(command -v python || command -v python3)}" -c "import mnist1d, os; print(os.path.dirname(mnist1d.__file__))") || exit 1
    mkdir -p "$EXTRA/stubs" && rm -rf "$EXTRA/mnist1d" && cp -r "$SRC" "$EXTRA/mnist1d" || exit 1
    rm -rf "$EXTRA/mnist1d/__pycache__"
    # note: mnist1d imports requests at module level but only get_dataset (never called) uses it
    printf '"""Stand-in: mnist1d imports requests; cnnlab never calls what uses it (no network)."""\n' \
        > "$EXTRA/stubs/requests.py"
    echo "prepared $EXTRA/ ($(du -sh "$EXTRA" | cut -f1)); carry it to the GPU machine"
    exit 0
fi
OUT_DIR="${1:-${OUT:-./gpu_check_out}}"
mkdir -p "$OUT_DIR" || exit 1
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
cd "$ROOT" || exit 1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1
PY="${PYTHON:-$(command -v python || command -v python3)}"
QUICK="${GPU_CHECK_QUICK:-0}"
if ! "$PY" -c "import mnist1d" 2>/dev/null && [ -d "$EXTRA/mnist1d" ]; then  # the copy --prepare made
    export PYTHONPATH="$PYTHONPATH:$EXTRA"
    "$PY" -c "import requests" 2>/dev/null || export PYTHONPATH="$PYTHONPATH:$EXTRA/stubs"
fi
: > "$OUT_DIR/status.txt"
T0=$(date +%s)

step() {  # step NAME LIMIT_S CMD...: run with a time limit, tee to OUT_DIR/NAME.txt, record the status
    local name=$1 limit=$2; shift 2
    echo "=== $name (limit ${limit}s): $*" | tee "$OUT_DIR/$name.txt"
    local s=$(date +%s)
    timeout -k 10 "$limit" "$@" 2>&1 | tee -a "$OUT_DIR/$name.txt"
    local rc=${PIPESTATUS[0]}
    echo "$name rc=$rc seconds=$(( $(date +%s) - s ))" | tee -a "$OUT_DIR/status.txt"
}

# 0. the machine
{ nvidia-smi 2>&1 || echo "skipped: no nvidia-smi"; } > "$OUT_DIR/nvidia-smi.txt"
step env 20 "$PY" bench/gpu_check.py env "$OUT_DIR"
CUDA=$("$PY" -c "import torch; print(int(torch.cuda.is_available()))" 2>/dev/null || echo 0)

# 1. tests with CUDA visible: every gpu-marked test, then the reference and grading tests
XDIST=""
if "$PY" -c "import xdist" 2>/dev/null && [ "$(nproc)" -ge 8 ]; then XDIST="-n 8"; fi
GPU_FILES=$(grep -l "mark.gpu" tests/test_*.py | tr '\n' ' ')
REF_FILES="tests/test_reference.py tests/test_reference_ops.py tests/test_grading.py tests/test_grading_exercise.py tests/test_grading_guard.py tests/test_grading_ps23.py tests/test_grading_ps45.py"
if [ "$QUICK" != "0" ]; then
    echo "skipped: pytest steps in quick mode" | tee "$OUT_DIR/pytest_gpu.txt" "$OUT_DIR/pytest_ref.txt"
else
    [ "$CUDA" = 1 ] || echo "no CUDA: the gpu tests below report as skipped" | tee "$OUT_DIR/pytest_gpu_note.txt"
    # -rA lists every test with its outcome (which ran, which skipped and why)
    step pytest_gpu 40 "$PY" -m pytest -m gpu -rA -p no:cacheprovider $GPU_FILES \
        --junitxml="$OUT_DIR/pytest_gpu.xml"
    DESELECT=""
    if ! "$PY" -c "import mnist1d" 2>/dev/null; then
        DESELECT="--deselect tests/test_grading_ps23.py::test_mnist1d_training_reaches_the_stated_accuracy"
        echo "deselected (mnist1d missing; run --prepare and carry $EXTRA): $DESELECT" | tee "$OUT_DIR/pytest_ref_note.txt"
    fi
    step pytest_ref 100 "$PY" -m pytest -rA -p no:cacheprovider $XDIST $DESELECT $REF_FILES \
        --junitxml="$OUT_DIR/pytest_ref.xml"
fi

# 2. grades identical on CPU and GPU
step grades 100 "$PY" bench/gpu_check.py grades "$OUT_DIR"

# 3. reference throughput, CPU vs CUDA
step throughput 120 "$PY" bench/gpu_check.py throughput "$OUT_DIR"

# 4. MNIST-1D training steps/s (random arrays of MNIST-1D's shape: no mnist1d package needed)
if [ "$QUICK" != "0" ]; then STEPS="--steps 5 --repeats 1"; else STEPS="--steps 300 --repeats 2"; fi
step train_mnist1d 90 "$PY" bench/train_mnist1d.py $STEPS

# 5. summary
{
    echo "# gpu_check summary ($(date -u +%FT%TZ), $(( $(date +%s) - T0 )) s, quick=$QUICK)"
    echo; echo "## machine"; cat "$OUT_DIR/env.json" 2>/dev/null
    grep -m1 -E "NVIDIA|skipped" "$OUT_DIR/nvidia-smi.txt"
    echo; echo "## step status (rc 0 = ran to the end; 124 = time limit)"; cat "$OUT_DIR/status.txt"
    echo; echo "## pytest"
    for f in pytest_gpu pytest_ref; do echo "$f: $(tail -n 1 "$OUT_DIR/$f.txt" 2>/dev/null)"; done
    for f in pytest_gpu pytest_ref; do
        grep -hE "^(FAILED|ERROR)" "$OUT_DIR/$f.txt" 2>/dev/null | head -n 40
    done
    echo; echo "## grades CPU vs CUDA"
    sed -n '/^{/,/^}/p' "$OUT_DIR/grades.txt" 2>/dev/null
    sed -n '/^skipped:/,$p' "$OUT_DIR/grades.txt" 2>/dev/null | grep -v "^grades rc=" | head -n 20
    echo "differences: see grades_diff.txt"; head -n 40 "$OUT_DIR/grades_diff.txt" 2>/dev/null
    echo; echo "## reference throughput"
    grep -E "^(CPU|reference|F\.|torch_boxes)" "$OUT_DIR/throughput.txt" 2>/dev/null
    echo; echo "## MNIST-1D training"
    grep -vE "^(===|train_mnist1d rc=)" "$OUT_DIR/train_mnist1d.txt" 2>/dev/null
    echo; echo "## not covered here"
    echo "lecture notebooks on CUDA and the demo class through nbgrader: need the Jupyter stack/nbgrader"
} > "$OUT_DIR/summary.txt" 2>&1
cat "$OUT_DIR/summary.txt"
exit 0
