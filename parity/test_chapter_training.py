"""The chapter's programs (xavier, deep, dropout, batchnorm, cnn): torch against this engine, epoch by epoch.

Both start from torch's initial weights and take torch's batches, in lockstep (parity/chapter_harness.py);
dropout replays torch's own masks, batchnorm compares both nets' per-epoch evaluations and the running
statistics. CI runs short cuts of each program (the first few dozen batches of an epoch, float64 where
the arithmetic can be compared tightly); the full programs are marked ``long``.

Every tolerance says where it was measured: on the shared 2-core CPU machine, NumPy backend, torch
2.14.1, torch and NumPy's BLAS on 1 thread (mnist_harness sets both);
``python parity/chapter_harness.py NAME EPOCHS DTYPE STEPS THREADS`` prints a comparison.
"""

import os

import numpy as np
import pytest

from chapter_harness import data_available, data_root, load_arrays, lockstep, max_relative, report, state_difference

pytestmark = pytest.mark.skipif(not data_available(), reason=f"MNIST not found under {data_root()}/MNIST/raw "
                                                             "(set MINITORCH_RELU_DATA to the folder holding MNIST/)")

# ----- float64: the same arithmetic, rounding 2^29 times finer -----------------------------------------
# Measured (numpy, 1 thread): per-epoch costs and batchnorm's evaluation losses differ by 0 to 2.7e-16
# relative; final weights by 3.9e-13 (deep, 30 steps) to 6.8e-13 (dropout, 20 steps; cnn, 10 steps).
# 1e-12 and 1e-10 leave room for other summation orders (BLAS threads, a GPU) and catch any formula slip.
F64_COST_RTOL = 1e-12
F64_WEIGHT_RTOL = 1e-10
# Except: the bias of a Linear that feeds BatchNorm, and so the running mean after it. Its gradient is
# zero in exact arithmetic (BatchNorm subtracts the batch mean), so what backward gives is rounding
# noise (~1e-17), and Adam divides by sqrt(v) and turns that noise into steps of size lr. Those entries
# follow the noise, not the arithmetic: measured 1.9e-9 (3.bias) and 3.9e-10 (running_mean) after 30
# steps of lr 1e-2; they do not move the output (BatchNorm removes them again), which the costs show.
F64_NOISE_DRIVEN = ("0.bias", "3.bias", "running_mean")
F64_NOISE_RTOL = 1e-6

# (program, epochs, steps per epoch): a few seconds each in CI
F64_CASES = [("xavier", 1, 50), ("deep", 1, 30), ("dropout", 1, 30), ("batchnorm", 2, 30), ("cnn", 1, 10)]


@pytest.fixture(scope="module")
def arrays():
    return load_arrays()


# batchnorm's per-epoch evaluation losses (eval mode), per net. Without BN: the cost's bound. With BN,
# eval mode subtracts the running mean, which lags the noise-driven bias before it (see above), so the
# noise reaches the output: measured 5.8e-12 relative (train split, epoch 1, 30 steps).
F64_EVAL_RTOL = {0: 1e-9, 1: F64_COST_RTOL}


def _check_evaluations(result, rtols):
    for epoch, (ours, theirs) in enumerate(zip(result.engine.evals, result.torch.evals), 1):
        for k, (o, t) in enumerate(zip(ours, theirs)):
            for split in (0, 1):  # train, test
                assert abs(o[split][0] - t[split][0]) <= rtols[k] * abs(t[split][0]), (epoch, k, split, o, t)
                assert o[split][1] == t[split][1], (epoch, k, split, o, t)


@pytest.mark.parametrize("name, epochs, steps", F64_CASES)
def test_float64_lockstep_agrees_to_rounding(arrays, backend, name, epochs, steps):
    result = lockstep(arrays, name, "float64", epochs, steps, backend=backend, eval_images=1000)
    print("\n" + report(result))
    for k, (ours, theirs) in enumerate(zip(result.engine.costs, result.torch.costs)):
        assert max_relative(ours, theirs) <= F64_COST_RTOL, (k, ours, theirs)
        assert result.engine.accuracy[k] == result.torch.accuracy[k]
        o_state, t_state = result.engine.final_state[k], result.torch.final_state[k]
        assert list(o_state) == list(t_state)  # the same keys, buffers included, in torch's order
        noisy = [key for key in t_state if name == "batchnorm" and k == 0 and key.endswith(F64_NOISE_DRIVEN)]
        exact = [key for key in t_state if key not in noisy]
        assert state_difference(o_state, t_state, exact) <= F64_WEIGHT_RTOL
        if noisy:
            assert state_difference(o_state, t_state, noisy) <= F64_NOISE_RTOL
    if name == "batchnorm":
        _check_evaluations(result, F64_EVAL_RTOL)
        assert result.engine.final_state[0]["1.num_batches_tracked"] == epochs * steps


# ----- float32, short: bounds from torch's own spread ------------------------------------------------
# float32 rounds 2^29 times coarser and torch's kernels sum in other orders than NumPy's BLAS, so the
# runs drift apart from the first step. How far torch drifts from itself was measured on the same cuts,
# 1 thread, by running torch's side again with MKL_ENABLE_INSTRUCTIONS=AVX2 (other GEMM kernels than
# this CPU's AVX-512 ones) and on 2 threads (torch.set_num_threads(2)); the engine against torch
# (1 thread) was measured in the same session. Max relative difference of the per-epoch cost;
# "weights": max |difference| / max |value| over each tensor of the final state_dict:
#
#   program    steps  cost: engine  torch AVX2  torch 2 thr   weights: engine  torch AVX2  torch 2 thr
#   xavier      100       0          1.0e-7      0                    4.9e-5     2.0e-5      0
#   deep         50       7.5e-5     7.5e-5      0                    0.136      0.136       0
#   dropout      50       2.0e-5     8.4e-5      0                    0.109      0.109       0
#   batchnorm   100  BN:  8.2e-8     8.1e-8      8.2e-8               (noise-driven biases: 0.84, 0.67, 0.57)
#                   no BN: 7.2e-8    7.2e-8      7.2e-8               3.8e-5     (in 0.67)   8.3e-6
#   cnn          20       1.4e-7     0           1.2e-6               2.4e-3     2.6e-5      5.1e-3
# The deep nets' weight spread is torch's own (0.136 against itself): Adam's first steps are about
# lr * sign(gradient), and for weights whose gradient sums to nearly zero the sign is decided by
# rounding, so some weights take opposite steps while the costs agree to 1e-4.
# batchnorm's evaluation losses (eval mode uses the running mean, which lags the noise-driven bias):
# with BN 8.6e-4 engine against torch, 3.6e-4 torch 1 against 2 threads; without BN 1.4e-7 and 6.6e-8.
# Bounds: about 10x the larger of the engine's and torch's own measured spread.
F32_CASES = [("xavier", 1, 100), ("deep", 1, 50), ("dropout", 1, 50), ("batchnorm", 1, 100), ("cnn", 1, 20)]
F32_COST_RTOL = {"xavier": 1e-5, "deep": 1e-3, "dropout": 1e-3, "batchnorm": 1e-5, "cnn": 2e-5}
F32_WEIGHT_RTOL = {"xavier": 5e-4, "deep": 0.5, "dropout": 0.5, "batchnorm": 5e-4, "cnn": 5e-2}
F32_EVAL_RTOL = {0: 1e-2, 1: 1e-5}  # batchnorm's per-epoch evaluation losses: with BN, without
# Accuracy on the 1000 test images evaluated: measured equal, or 1 image apart (dropout); batchnorm's
# BN net 2 images apart (0.853 vs 0.855), and torch against itself on 2 threads the same 2 images.
F32_ACCURACY_ATOL = 0.005


@pytest.mark.parametrize("name, epochs, steps", F32_CASES)
def test_float32_short_runs_stay_within_torchs_own_spread(arrays, backend, name, epochs, steps):
    result = lockstep(arrays, name, "float32", epochs, steps, backend=backend, eval_images=1000)
    print("\n" + report(result))
    for k, (ours, theirs) in enumerate(zip(result.engine.costs, result.torch.costs)):
        assert max_relative(ours, theirs) <= F32_COST_RTOL[name], (k, ours, theirs)
        assert abs(result.engine.accuracy[k] - result.torch.accuracy[k]) <= F32_ACCURACY_ATOL
        t_state = result.torch.final_state[k]
        if name == "batchnorm" and k == 0:  # the noise-driven entries are not compared (see F64_NOISE_DRIVEN)
            keys = [key for key in t_state if not key.endswith(F64_NOISE_DRIVEN)]
            limit = F32_WEIGHT_RTOL["deep"]  # Adam sign flips again, not measured apart from the noise
        else:
            keys, limit = list(t_state), F32_WEIGHT_RTOL[name]
        assert state_difference(result.engine.final_state[k], t_state, keys) <= limit
    for ours, theirs in zip(result.engine.evals, result.torch.evals):
        for k, (o, t) in enumerate(zip(ours, theirs)):
            for split in (0, 1):
                assert abs(o[split][0] - t[split][0]) <= F32_EVAL_RTOL[k] * abs(t[split][0]), (k, split, o, t)
                assert abs(o[split][1] - t[split][1]) <= F32_ACCURACY_ATOL


# ----- the full programs, float32 (long) -----------------------------------------------------------------
# Not measured on full runs yet (the CNN takes ~45 min a side on this machine); the bounds are the
# lesson's MLP's (parity/README.md: epoch 1 within 3e-3, later epochs within 0.2, accuracy within
# 0.3 points), which bound a chaotic ReLU net trained 9,000 steps in float32.
LONG_EPOCH1_RTOL, LONG_RTOL, LONG_ACCURACY_ATOL = 3e-3, 0.2, 0.003


# Lockstep costs both sides' time: on the shared 2-core machine xavier takes minutes, deep and dropout
# ~10 minutes each, the CNN hours. So these run only when asked for, on top of the long marker.
FULL = os.environ.get("MINITORCH_RELU_FULL_CHAPTER") == "1"


@pytest.mark.long
@pytest.mark.skipif(not FULL, reason="full chapter programs in lockstep: set MINITORCH_RELU_FULL_CHAPTER=1 (slow)")
@pytest.mark.parametrize("name", ["xavier", "deep", "dropout", "batchnorm", "cnn"])
def test_full_program_float32(arrays, backend, name):
    from minitorch_relu.chapter import DEFAULTS

    result = lockstep(arrays, name, "float32", DEFAULTS[name][2], backend=backend)
    print("\n" + report(result))
    for k, (ours, theirs) in enumerate(zip(result.engine.costs, result.torch.costs)):
        rel = np.abs(np.subtract(ours, theirs)) / np.abs(theirs)
        assert rel[0] <= LONG_EPOCH1_RTOL and rel.max() <= LONG_RTOL
        assert abs(result.engine.accuracy[k] - result.torch.accuracy[k]) <= LONG_ACCURACY_ATOL
