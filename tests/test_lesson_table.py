"""`minitorch-relu train` prints the lesson's softmax table with no torch at all.

The weights and the batch order come from the engine's copy of torch's generator
(minitorch_relu/random.py), so the run is the lesson's run; only the float32 arithmetic (NumPy's
BLAS against torch's kernels) differs, by at most 1.3e-7 relative in any epoch (parity/README.md).
The CLI runs in a fresh interpreter in which importing torch fails.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minitorch_relu.data.files import FILES, find_file, resolve_root

# The lesson's table, as torch 2.14.1 prints it (parity/README.md): epochs 1..15, then the accuracy
# on the raw 0..255 test pixels (8917 of 10000, as a float32).
LESSON_COSTS = [5.728238583, 1.562848210, 1.036820531, 0.828017175, 0.710269153, 0.633605897, 0.577520072,
                0.535485566, 0.502551138, 0.476104438, 0.453757435, 0.435718387, 0.420195490, 0.406820953,
                0.394985616]
LESSON_ACCURACY = 0.8917000293731689

_NO_TORCH = """
import sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
sys.meta_path.insert(0, _NoTorch())
from minitorch_relu.cli import main
code = main(sys.argv[1:])
assert "torch" not in sys.modules
sys.exit(code)
"""


def _data_root():
    shared = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    root = os.environ.get("MINITORCH_RELU_DATA") or (str(shared) if shared.is_dir() else None)
    return resolve_root(root) if root else None


@pytest.mark.long
def test_train_prints_the_lessons_softmax_table_without_torch():
    root = _data_root()
    if root is None or any(find_file(root, name) is None for name in FILES):
        pytest.skip("MNIST not found: set MINITORCH_RELU_DATA or put it in ../shared/data")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    result = subprocess.run([sys.executable, "-c", _NO_TORCH, "train", "--data-dir", str(root), "--quiet",
                             "--raw-test-pixels"], capture_output=True, text=True, timeout=1800, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    costs = [float(line.split("=")[1]) for line in lines if line.startswith("Epoch:")]
    assert len(costs) == 15
    for epoch, (ours, lesson) in enumerate(zip(costs, LESSON_COSTS), 1):
        assert abs(ours - lesson) <= 1e-6 * lesson, f"epoch {epoch}: {ours} against the lesson's {lesson}"
    accuracy = float(next(line for line in lines if line.startswith("Accuracy:")).split()[1])
    assert accuracy == LESSON_ACCURACY
