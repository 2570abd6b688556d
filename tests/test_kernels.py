"""The fused CuPy kernels of the ops (GPU only), each against its op's readable device code."""

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu import functions as F
from minitorch_relu.autograd import graph
from minitorch_relu.functions import cupy_fused
from tests.devices import cupy_or_skip


def test_apply_runs_the_registered_gpu_version_only_on_cupy(monkeypatch):
    # Without a GPU: pretend the strict stand-in device is CuPy, and look at which class recorded the op.
    x = mt.tensor([[-1.0, 2.0]], requires_grad=True)
    assert type(F.ReLU.apply(x).grad_fn) is F.ReLU
    strict = mt.get_backend("strict")
    monkeypatch.setattr(strict, "is_cupy", True)
    on_device = mt.tensor([[-1.0, 2.0]], backend="strict", requires_grad=True)
    out = F.ReLU.apply(on_device)
    assert type(out.grad_fn) is cupy_fused.ReLU and isinstance(out.grad_fn, F.ReLU)
    assert out.grad_fn.name() == "ReLUBackward0"  # torch's name, whichever version runs
    assert graph._cupy_versions == {F.ReLU: cupy_fused.ReLU, F.CrossEntropy: cupy_fused.CrossEntropy}
    assert type(F.Sigmoid.apply(on_device).grad_fn) is F.Sigmoid  # ops without a GPU version run as they are


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cupy_cross_entropy_matches_the_readable_device_path(monkeypatch, dtype, reduction):
    cupy_or_skip()

    rng = np.random.default_rng(5)
    logits = (rng.normal(size=(37, 10)) * 20).astype(dtype)
    logits[3, 2] = -np.inf  # its exp is 0; row 3's target is another class
    target = rng.integers(0, 10, size=37).astype(np.int32)  # int32 targets are accepted too
    target[3], target[5], target[6] = 7, 10, -1  # rows 5 and 6: outside [0, 10), NaN losses on a device
    incoming = rng.normal(size=37).astype(dtype) if reduction == "none" else None

    def loss_and_grad():
        x = mt.tensor(logits, backend="cupy", requires_grad=True)
        loss = mt.nn.functional.cross_entropy(x, mt.tensor(target, backend="cupy"), reduction=reduction)
        loss.backward(None if incoming is None else mt.tensor(incoming, backend="cupy"))
        return loss.numpy(), x.grad.numpy()

    fused = loss_and_grad()
    monkeypatch.delitem(graph._cupy_versions, F.CrossEntropy)  # the readable op on CuPy
    readable = loss_and_grad()
    assert np.isnan(fused[0]).any() and not np.isnan(fused[1]).any()
    tolerance = 1e-6 if dtype == np.float32 else 1e-14  # sums of exp may add in another order
    for name, a, b in zip(("loss", "grad"), fused, readable):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance, err_msg=name)


@pytest.mark.gpu
def test_fused_cupy_relu_backward_matches_the_readable_select():
    cupy = cupy_or_skip()
    from minitorch_relu.functions.relu import zero_where

    rng = np.random.default_rng(6)
    out = np.maximum(rng.normal(size=(64, 33)), 0).astype(np.float32)  # exact zeros included
    grad = rng.normal(size=(64, 33)).astype(np.float32)
    out[0, :4], grad[1, :4] = np.nan, np.nan  # NaN outputs pass the gradient; NaN gradients of off units are 0
    np.testing.assert_array_equal(cupy.asnumpy(cupy_fused.relu_backward(cupy.asarray(out), cupy.asarray(grad))),
                                  zero_where(out <= 0, grad))
