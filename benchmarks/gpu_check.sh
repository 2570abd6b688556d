#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU, CuPy and torch, run the unit and parity suites on CuPy,
# then the GPU benchmark (this engine on CuPy vs torch eager on CUDA), and print a short report.
#
#   benchmarks/gpu_check.sh [REPORT_FILE]      (or GPU_CHECK_OUT=REPORT_FILE; default benchmarks/gpu_report.md)
#
# Needs no network: the package is used from this checkout (PYTHONPATH), nothing is installed.
# The MNIST parity tests read ../shared/data, or the folder holding MNIST/ named by
# MINITORCH_RELU_DATA; without the data they skip and say why.
# Budget: the tests are cut off after 6 minutes, the benchmark after 3 (GPU_CHECK_TEST_TIMEOUT and
# GPU_CHECK_BENCH_TIMEOUT, in seconds), so the whole check ends well inside 10 minutes.
# Exit status 0 only when the tests pass and both speed targets are met.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
REPORT=${1:-${GPU_CHECK_OUT:-benchmarks/gpu_report.md}}
TEST_TIMEOUT=${GPU_CHECK_TEST_TIMEOUT:-360}
BENCH_TIMEOUT=${GPU_CHECK_BENCH_TIMEOUT:-180}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$(dirname "$REPORT")"

missing=""
for module in numpy cupy torch pytest hypothesis; do
    "$PY" -c "import $module" 2>/dev/null || missing="$missing $module"
done
{
    echo "# GPU check ($(date -u '+%Y-%m-%d %H:%M UTC'))"
    echo
    "$PY" -c "import sys; print('python', sys.version.split()[0])"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /'
} | tee "$REPORT"
if [ -n "$missing" ]; then
    echo "missing Python modules:$missing (this machine has no network: install them beforehand)" | tee -a "$REPORT"
fi

status=0
echo
echo "== pytest tests parity --backend cupy"
if [[ " $missing " == *" pytest "* || " $missing " == *" hypothesis "* || " $missing " == *" cupy "* ]]; then
    echo "- tests: NOT RUN (needs pytest, hypothesis and cupy)" | tee -a "$REPORT"
    status=1
else
    log=$(mktemp)
    timeout "$TEST_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider tests parity --backend cupy -rs 2>&1 | tee "$log"
    code=${PIPESTATUS[0]}
    summary=$(grep -E '(passed|failed|error|skipped|deselected)' "$log" | tail -n 1)
    [ "$code" = 124 ] && summary="TIMED OUT after $TEST_TIMEOUT s; $summary"
    echo "- tests (exit $code): $summary" | tee -a "$REPORT"
    [ "$code" = 0 ] || status=1
    rm -f "$log"
fi

echo
echo "== benchmark"
if [[ " $missing " == *" cupy "* || " $missing " == *" torch "* ]]; then
    echo "- benchmark: NOT RUN (needs cupy and torch)" | tee -a "$REPORT"
    status=1
else
    bench=$(mktemp)
    timeout "$BENCH_TIMEOUT" "$PY" benchmarks/gpu_bench.py --out "$bench"
    code=$?
    if [ -s "$bench" ]; then cat "$bench" >> "$REPORT"; else echo "- benchmark failed (exit $code)" | tee -a "$REPORT"; fi
    [ "$code" = 0 ] || status=1
    rm -f "$bench"
fi

echo
echo "== report ($REPORT)"
cat "$REPORT"
exit $status
