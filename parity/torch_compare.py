"""One helper that runs an op in this engine and in torch, and compares the forward output and the
gradient of every input.

Inputs are NumPy arrays. Floating arrays become leaves that require grad (in the dtype asked for);
integer and boolean arrays become plain tensors (class indices, index arrays). Both functions
receive the same inputs in the same order; anything else an op needs (dims, slopes) is closed over
by the two functions.

The backward pass uses a fixed random weight w for each differentiable output, i.e. it compares the
gradients of L = sum(out * w): every output element's gradient is tested, not just their sum.
"""

import numpy as np
import torch

import minitorch_relu as mt
from parity.ledger import check

TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def _flush_subnormals(array):
    """``array`` with its subnormal values replaced by (signed) zeros.

    CuPy compiles every kernel with -ftz=true, so on a GPU float32 subnormals (|x| < 1.2e-38) are
    read and written as zeros by this engine, while torch keeps them (ReLU's gradient at 1e-45 is 1
    in torch, 0 on CuPy). Parity on CuPy is checked on inputs both sides read alike.
    """
    subnormal = (array != 0) & (np.abs(array) < np.finfo(array.dtype).tiny)
    return np.where(subnormal, np.copysign(np.zeros_like(array), array), array)


def _make_inputs(inputs, dtype, backend):
    ours, theirs = [], []
    for array in inputs:
        array = np.asarray(array)
        if np.issubdtype(array.dtype, np.floating):
            array = array.astype(dtype)
            if backend == "cupy" and dtype == np.float32:  # (CUDA flushes only single precision)
                array = _flush_subnormals(array)
            ours.append(mt.tensor(array, requires_grad=True, backend=backend))
            theirs.append(torch.tensor(array, requires_grad=True))
        else:
            ours.append(mt.tensor(array, backend=backend))
            theirs.append(torch.tensor(array))
    return ours, theirs


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def op_error(ours, theirs):
    """The ledger's measure for ops: max |engine - torch| / (1 + |torch|), relative for values above 1
    and absolute below (where results that cancel to almost 0 make a relative error meaningless)."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.size == 0:
        return 0.0
    same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))  # equal infinities and NaNs: no error
    return float(np.where(same, 0.0, np.abs(ours - theirs) / (1 + np.abs(theirs))).max())


def _assert_close(what, ours, theirs, key, backend):
    """Values, shape and dtype of a numpy array against a torch tensor; floats within the ledger's bound."""
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape, f"{what}: shape {ours.shape}, torch {expected.shape}"
    assert ours.dtype == expected.dtype, f"{what}: dtype {ours.dtype}, torch {expected.dtype}"
    if np.issubdtype(expected.dtype, np.floating):
        check(key, op_error(ours, expected), backend, detail=what)
    else:
        np.testing.assert_array_equal(ours, expected, err_msg=what)


def check_against_torch(mt_fn, torch_fn, inputs, dtype, *, backend="numpy", seed=0):
    """Assert that mt_fn and torch_fn agree, forward and backward, on ``inputs`` in ``dtype``.

    The bound is the ledger's ``ops.float32`` or ``ops.float64`` (parity/ledger.toml), with its reason.
    Outputs may be one tensor or a tuple of them (max(dim) gives values and indices); integer and
    boolean outputs must be equal exactly. Returns the engine's outputs for further checks.
    """
    dtype = np.dtype(dtype)
    key = f"ops.{dtype.name}"
    ours_in, theirs_in = _make_inputs(inputs, dtype, backend)
    ours_out, theirs_out = _as_tuple(mt_fn(*ours_in)), _as_tuple(torch_fn(*theirs_in))
    assert len(ours_out) == len(theirs_out), f"{len(ours_out)} outputs, torch gives {len(theirs_out)}"

    rng = np.random.default_rng(seed)
    ours_roots, ours_weights, theirs_roots, theirs_weights = [], [], [], []
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        _assert_close(f"forward output {k}", o.numpy(), t, key, backend)
        assert o.requires_grad == t.requires_grad, (
            f"output {k}: requires_grad {o.requires_grad}, torch {t.requires_grad}")
        if t.requires_grad:
            weight = rng.uniform(0.5, 1.5, size=t.shape).astype(dtype)
            ours_roots.append(o)
            ours_weights.append(mt.tensor(weight, backend=backend))
            theirs_roots.append(t)
            theirs_weights.append(torch.tensor(weight))

    if not theirs_roots:
        return ours_out
    for o, w in zip(ours_roots, ours_weights):
        o.backward(w)
    torch.autograd.backward(theirs_roots, theirs_weights)
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if not t.requires_grad:
            continue
        if t.grad is None:  # torch found no path from the outputs to this input
            assert o.grad is None or not np.any(o.grad.numpy()), f"input {i}: a gradient where torch has none"
            continue
        assert o.grad is not None, f"input {i}: no gradient, torch has one"
        _assert_close(f"gradient of input {i}", o.grad.numpy(), t.grad, key, backend)
    return ours_out
