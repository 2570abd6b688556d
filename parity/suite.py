"""Every test, as the README's test command and CI run it:

    python -m parity.suite

1. ``pytest``: tests/ (NumPy only) and parity/ (against torch) on NumPy;
2. ``pytest --backend strict``: the same on the strict stand-in device (tests taking ``backend``);
3. the MNIST parity tests again as another machine would run them: AVX2 kernels (no AVX-512) with one
   and with two threads (parity/profiles.py), so a bound that holds only on this CPU fails here.

Every stage runs even when an earlier one failed; the last line sums them up, and the exit code is
non-zero if any failed. Extra arguments go to every pytest call (``-x``, ``-k ...``).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

from parity.profiles import profiles

REPO = Path(__file__).resolve().parent.parent
OTHER_MACHINES = ["avx2-t1", "avx2-t2"]
# On the other machines: the comparisons whose numbers depend on the kernels (float32 training and the
# lesson's printed table). The float64 runs (test_mnist_float64.py) and the literal-program check run
# once, in stage 1; their spreads across the profiles are in parity/ledger.toml.
MNIST_ON_OTHER_MACHINES = ["parity/test_mnist_training.py", "-k", "float32 or lessons_softmax_table"]


# Two pytest workers, a test file each at a time (module fixtures such as a 15-epoch torch run stay in
# one process): the machines this runs on have two cores. Without pytest-xdist, one process.
try:
    import xdist  # noqa: F401

    WORKERS = ["-n", "2", "--dist", "loadfile"]
except ImportError:
    WORKERS = []


# Hypothesis draws the same examples on every run of the suite (derandomized; conftest.py's "ci"
# profile), so a submission that passed once passes again; a plain `pytest` draws new ones each run
# and keeps exploring.
REPEATABLE = ["--hypothesis-profile", "ci"]


def stages(extra):
    yield "numpy", {}, ["-q", *WORKERS, *REPEATABLE, *extra]
    yield "strict", {}, ["-q", "--backend", "strict", *WORKERS, *REPEATABLE, *extra]
    table = profiles()
    for name in OTHER_MACHINES:
        yield f"mnist on {name}", table[name], ["-q", *MNIST_ON_OTHER_MACHINES, *extra]


def _counts(output):
    """passed/failed/skipped/errors from pytest's closing line."""
    last = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed|error|skipped)", line)]
    counts = {}
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", last[-1] if last else ""):
        counts[word.rstrip("s") if word.startswith("error") else word] = int(number)
    return counts


def main(extra):
    totals, failed_stages = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}, []
    for title, env, args in stages(extra):
        print(f"=== {title}: pytest {' '.join(args)}", flush=True)
        proc = subprocess.Popen([sys.executable, "-m", "pytest", *args], cwd=REPO, env={**os.environ, **env},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in proc.stdout:  # shown as it comes, kept for the counts
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
        proc.wait()
        counts = _counts("".join(lines))
        for key in totals:
            totals[key] += counts.get(key, 0)
        if proc.returncode != 0:
            failed_stages.append(f"{title} (exit {proc.returncode})")
    if failed_stages:
        print("failed stages: " + ", ".join(failed_stages))
    print(f"suite: {totals['passed']} passed, {totals['failed'] + totals['error']} failed, {totals['skipped']} skipped")
    return 1 if failed_stages else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
