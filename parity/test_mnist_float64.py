"""MNIST training in float64, torch against this engine: the strict proof (see parity/README.md).

Rounding is 2^29 times smaller than float32's: softmax regression agrees to the last bit or two for
all 15 epochs; the MLP, chaotic even in float64, is proven step by step (every 10th of torch's 9,000
steps replayed op by op from torch's state). Bounds: parity/ledger.toml (mnist.*.float64.*).
"""

import pytest

from mnist_harness import (check_accuracy, check_costs, data_available, data_root, engine_run, load_arrays, report,
                           torch_fast)
from parity.ledger import check

pytestmark = pytest.mark.skipif(not data_available(), reason=f"MNIST not found under {data_root()}/MNIST/raw "
                                                             "(set MINITORCH_RELU_DATA to the folder holding MNIST/)")

F64_STEP_EVERY = 10  # replay every 10th step: 900 of the 9,000, across all 15 epochs


@pytest.fixture(scope="module")
def arrays():
    return load_arrays()


@pytest.mark.long
def test_softmax_float64_agrees_to_rounding(arrays, backend):
    theirs = torch_fast(arrays, "softmax", 15, "float64")
    ours = engine_run(arrays, theirs, "softmax", 15, "float64", backend)
    rel = report("softmax float64", ours, theirs)
    check_costs("mnist.softmax.float64.cost", rel, "softmax", "float64", backend)
    check_accuracy("mnist.softmax.float64.accuracy", ours, theirs, backend)


@pytest.mark.long
def test_mlp_float64_every_step_from_torchs_state(backend):
    """The MLP is chaotic even in float64: free-running, or restarted from torch's state every epoch,
    the runs drift to percents (parity/README.md). So torch trains all 15 epochs, and every
    F64_STEP_EVERY-th of its 9,000 steps is replayed op by op by this engine from torch's weights,
    Adam state and inputs (parity/diverge.py): each op within rounding of torch's, at every stage
    of the lesson's training."""
    from diverge import lesson_start, worst_errors

    t_model, engine, batches = lesson_start("mlp", dtype="float64", epochs=15, backend=backend)
    ratio, where, compared = worst_errors(t_model, engine, batches, dtype="float64", every=F64_STEP_EVERY,
                                          backend=backend)
    print(f"\nmlp float64, {compared} steps replayed op by op: worst error / rounding allowance {ratio:.3g} at {where}")
    assert compared == 15 * 600 // F64_STEP_EVERY
    check("mnist.mlp.float64.step", ratio, backend, detail=f"at (step, phase, layer, tensor, error) {where}")


def test_float64_first_epoch(arrays, backend):
    """One epoch of both models in float64: quick enough for every backend, strict included."""
    for model_name in ("softmax", "mlp"):
        theirs = torch_fast(arrays, model_name, 1, "float64")
        ours = engine_run(arrays, theirs, model_name, 1, "float64", backend)
        rel = report(f"{model_name} float64, epoch 1", ours, theirs)
        check_costs(f"mnist.{model_name}.float64.epoch1", rel, model_name, "float64", backend)
