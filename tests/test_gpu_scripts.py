"""The GPU check's scripts (benchmarks/gpu_bench.py, benchmarks/gpu_check.sh), run where they can be:
a typo must not waste the GPU's minutes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args, **kwargs):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, **kwargs)


def test_gpu_bench_dry_run_writes_a_table(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "bench.md"
    result = _run(["benchmarks/gpu_bench.py", "--dry-run", "--engine-backend", "strict", "--batches", "4,16",
                   "--out", str(out)])
    assert result.returncode == 0, result.stderr
    table = out.read_text()
    assert "| 4 | 5 |" in table and "| 16 | 5 |" in table  # batch, steps
    assert "target, batch 16: throughput" in table and "target, batch 4: step time" in table


def test_gpu_check_reports_what_is_missing(tmp_path):
    # sitecustomize runs at every interpreter start: each python the script calls lacks CuPy.
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['cupy'] = None\n")
    report = tmp_path / "report.md"
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(["bash", "benchmarks/gpu_check.sh", str(report)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    text = report.read_text()
    assert "missing Python modules: cupy" in text
    assert "tests: NOT RUN" in text and "benchmark: NOT RUN" in text

