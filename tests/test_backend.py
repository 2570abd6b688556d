"""Backends: choosing one, moving tensors and modules between them, and what happens without CuPy.

The moves are tested numpy <-> strict (the stand-in device), so they run on every CI machine; a GPU
run (``pytest --backend cupy``) repeats the training-loop tests on CuPy through the ``backend`` fixture.
Optimizers across backends: test_optim_backends.py; the fused GPU kernels: test_kernels.py.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu_testing import strict
from minitorch_relu.backend import _by_name, backend_of, get_backend
from tests.devices import batch, other_backend, small_mlp, train_steps

ROOT = Path(__file__).resolve().parents[1]


# ----- choosing a backend ------------------------------------------------------------------------
def test_get_backend_by_name_and_unknown_names():
    assert get_backend(None).name == "numpy" and get_backend("numpy").xp is np
    assert get_backend("strict").xp is strict
    with pytest.raises(ValueError, match="unknown backend 'tpu'; choose one of 'numpy'.*'cupy'"):
        get_backend("tpu")


def test_tensor_lives_where_it_is_asked(backend):
    t = mt.tensor([[1.0, 2.0]], backend=backend)
    assert t.backend == backend and backend_of(t.data).name == backend
    np.testing.assert_array_equal(t.numpy(), [[1.0, 2.0]])
    assert type(t.numpy()) is np.ndarray


# ----- mixing backends is an error naming both ---------------------------------------------------
@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a @ b.T, lambda a, b: mt.nn.functional.mse_loss(a, b),
])
def test_mixing_backends_in_one_op_names_both(backend, op):
    a = mt.tensor([[1.0, 2.0]], backend=backend, requires_grad=True)
    b = mt.tensor([[3.0, 4.0]], backend=other_backend(backend))
    with pytest.raises(RuntimeError, match=f"different backends.*'{backend}'.*'{other_backend(backend)}'"):
        op(a, b)


def test_model_and_input_on_different_backends_is_an_error(backend):
    model = small_mlp(backend)
    x, _ = batch(other_backend(backend))
    with pytest.raises(RuntimeError, match="Linear: inputs live on different backends"):
        model(x)


# ----- Tensor.to, Module.to ----------------------------------------------------------------------
def test_tensor_to_moves_values_and_grad(backend):
    t = mt.tensor([1.0, -2.0, 3.0], requires_grad=True, backend=backend)
    (t * t).sum().backward()
    target = other_backend(backend)
    moved = t.to(target)
    assert moved.backend == target and moved.grad.backend == target
    assert moved.requires_grad and moved.is_leaf
    np.testing.assert_array_equal(moved.numpy(), [1.0, -2.0, 3.0])
    np.testing.assert_array_equal(moved.grad.numpy(), [2.0, -4.0, 6.0])
    assert t.to(backend) is t  # already there: no copy
    back = moved.to(backend)
    assert back.backend == backend and back.dtype == t.dtype


def test_module_to_moves_parameters_and_grads_in_place(backend):
    model = small_mlp(backend)
    x, y = batch(backend)
    mt.nn.functional.cross_entropy(model(x), y).backward()
    params = list(model.parameters())
    values = [p.numpy().copy() for p in params]
    grads = [p.grad.numpy().copy() for p in params]
    target = other_backend(backend)
    assert model.to(target) is model
    assert list(model.parameters()) == params  # the same Parameter objects, so optimizers keep working
    for p, value, grad in zip(params, values, grads):
        assert p.backend == target and p.grad.backend == target
        np.testing.assert_array_equal(p.numpy(), value)
        np.testing.assert_array_equal(p.grad.numpy(), grad)



# ----- no host round trip inside the training loop (strict counts every transfer) ----------------
def test_training_step_on_the_device_moves_nothing_to_the_host_but_item():
    model = small_mlp("strict")
    opt = mt.optim.Adam(model.parameters(), lr=0.01)
    x, y = batch("strict")
    strict.reset_transfers()
    loss = train_steps(model, opt, x, y, steps=3)
    assert strict.transfers == {"to_device": 0, "to_host": 0}, "a training step crossed the host boundary"
    assert 0 < loss.item() < 5
    assert strict.transfers == {"to_device": 0, "to_host": 1}


def test_data_loader_uploads_the_set_once_and_cuts_batches_on_the_device():
    from minitorch_relu.data.loader import DataLoader

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=50)
    strict.reset_transfers()
    loader = DataLoader((images, labels), batch_size=10, shuffle=True, drop_last=True, seed=1, backend="strict")
    assert strict.transfers == {"to_device": 2, "to_host": 0}  # images and labels, once
    for _ in range(2):
        batches = list(loader)
    assert len(batches) == 5 and all(x.backend == "strict" and y.backend == "strict" for x, y in batches)
    assert batches[0][0].shape == (10, 784) and batches[0][0].dtype == np.float32
    # One permutation per epoch is sent; no image or label crosses again, nothing comes back.
    assert strict.transfers == {"to_device": 2 + 2, "to_host": 0}
    seen = np.sort(np.concatenate([y.numpy() for _, y in batches]))
    np.testing.assert_array_equal(seen, np.sort(labels))


# ----- without CuPy ------------------------------------------------------------------------------
@pytest.fixture
def no_cupy(monkeypatch):
    """`import cupy` fails, and no CuPy backend is registered yet."""
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.delitem(_by_name, "cupy", raising=False)


def test_cupy_backend_without_cupy_is_one_clear_error(no_cupy):
    with pytest.raises(RuntimeError) as info:
        mt.tensor([1.0], backend="cupy")
    message = str(info.value)
    assert "backend 'cupy' needs CuPy, which is not installed" in message
    assert "pip install" in message
    with pytest.raises(RuntimeError, match="needs CuPy"):
        mt.nn.Linear(2, 2).to("cupy")


class _FakeCupy:
    """Just enough of a CuPy module for the loader to ask CUDA how many devices there are."""

    def __init__(self, count=None, error=None):
        def get_device_count():
            if error:
                raise error
            return count

        runtime = type("runtime", (), {"getDeviceCount": staticmethod(get_device_count)})
        self.cuda = type("cuda", (), {"runtime": runtime})
        self.ndarray = type("ndarray", (), {})


@pytest.mark.parametrize("fake, message", [
    (_FakeCupy(error=OSError("libcuda.so: cannot open shared object file")), "CUDA is not usable here: libcuda.so"),
    (_FakeCupy(count=0), "needs a CUDA device, and none was found"),
])
def test_cupy_backend_without_a_cuda_device_is_one_clear_error(monkeypatch, fake, message):
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.delitem(_by_name, "cupy", raising=False)
    with pytest.raises(RuntimeError, match=message):
        mt.tensor([1.0], backend="cupy")
    assert "cupy" not in _by_name  # nothing half-registered


def _run(args, **kwargs):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, **kwargs)


def test_pytest_backend_cupy_skips_with_the_reason_when_cupy_is_missing(tmp_path):
    (tmp_path / "block_cupy.py").write_text("import sys\nsys.modules['cupy'] = None\n")  # a plugin, loaded first
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    probe = "tests/test_backend.py::test_tensor_lives_where_it_is_asked"  # takes the backend fixture
    result = _run(["-m", "pytest", "-q", "-rs", "-p", "block_cupy", "-p", "no:cacheprovider", "--backend", "cupy",
                   probe], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "backend 'cupy' needs CuPy, which is not installed" in result.stdout


