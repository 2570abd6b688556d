"""Backends: choosing one, moving tensors/modules/optimizers between them, and what happens without CuPy.

The moves are tested numpy <-> strict (the stand-in device), so they run on every CI machine; a GPU
run (``pytest --backend cupy``) repeats the training-loop tests on CuPy through the ``backend`` fixture.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu_testing import strict
from minitorch_relu.backend import _by_name, backend_of, get_backend

ROOT = Path(__file__).resolve().parents[1]


def other_backend(backend):
    """A backend different from the one under test, so every move really moves."""
    return "strict" if backend == "numpy" else "numpy"


def small_mlp(backend, seed=0):
    mt.manual_seed(seed)
    model = mt.nn.Sequential(mt.nn.Linear(6, 5), mt.nn.ReLU(), mt.nn.Linear(5, 3))
    return model.to(backend)


def batch(backend, seed=1):
    rng = np.random.default_rng(seed)
    x = mt.tensor(rng.normal(size=(4, 6)).astype(np.float32), backend=backend)
    y = mt.tensor(rng.integers(0, 3, size=4), backend=backend)
    return x, y


def train_steps(model, optimizer, x, y, steps):
    for _ in range(steps):
        loss = mt.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss


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


# ----- Tensor.to, Module.to, Optimizer.to --------------------------------------------------------
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


def test_training_continues_after_moving_model_and_optimizer(backend):
    """3 steps here, move model + Adam state, 3 steps there == 6 steps without moving."""
    reference = small_mlp(backend)
    ref_opt = mt.optim.Adam(reference.parameters(), lr=0.05)
    train_steps(reference, ref_opt, *batch(backend), steps=6)

    model = small_mlp(backend)
    opt = mt.optim.Adam(model.parameters(), lr=0.05)
    train_steps(model, opt, *batch(backend), steps=3)
    target = other_backend(backend)
    model.to(target)
    assert opt.to(target) is opt
    for state in opt.state.values():
        assert state["step"] == 3
        assert backend_of(state["exp_avg"]).name == target and backend_of(state["exp_avg_sq"]).name == target
    train_steps(model, opt, *batch(target), steps=3)

    # The same float32 arithmetic on both sides (a GPU's may round differently: 1e-5 covers that).
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_optimizer_state_left_behind_is_a_clear_error(backend):
    model = small_mlp(backend)
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_steps(model, opt, *batch(backend), steps=1)
    model.to(other_backend(backend))  # but not the optimizer
    x, y = batch(other_backend(backend))
    loss = mt.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    # The device refuses to mix its arrays with the host's (a TypeError, as CuPy raises): no silent copy.
    with pytest.raises(TypeError):
        opt.step()


def test_sgd_momentum_state_moves(backend):
    model = small_mlp(backend)
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_steps(model, opt, *batch(backend), steps=2)
    target = other_backend(backend)
    opt.to(target)
    for state in opt.state.values():
        assert backend_of(state["momentum_buffer"]).name == target


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


def test_nothing_imports_cupy_or_torch_unless_asked():
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        import minitorch_relu as mt
        for info in pkgutil.walk_packages(mt.__path__, "minitorch_relu."):
            if info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)
        x = mt.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        from minitorch_relu_testing import register_strict_backend
        register_strict_backend()
        mt.nn.Linear(2, 2).to("strict")
        print(sorted(m for m in ("cupy", "torch") if m in sys.modules))
    """)
    result = _run(["-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ----- the fused Adam kernel (GPU only) ----------------------------------------------------------
def _cupy_or_skip():
    try:
        return get_backend("cupy").xp
    except RuntimeError as exc:
        pytest.skip(str(exc))


@pytest.mark.gpu
@pytest.mark.parametrize("options", [
    dict(weight_decay=0.0, maximize=False, decoupled_weight_decay=False),
    dict(weight_decay=0.1, maximize=False, decoupled_weight_decay=False),
    dict(weight_decay=0.1, maximize=True, decoupled_weight_decay=True),
])
def test_fused_cupy_adam_matches_the_readable_adam_update(options):
    cupy = _cupy_or_skip()
    from minitorch_relu.optim._cupy_kernels import fused_adam_update
    from minitorch_relu.optim.adam import adam_update

    rng = np.random.default_rng(3)
    param, grad = (cupy.asarray(rng.normal(size=(64, 33)).astype(np.float32)) for _ in range(2))
    spec = [param.copy(), cupy.zeros_like(param), cupy.zeros_like(param)]
    fused = [param.copy(), cupy.zeros_like(param), cupy.zeros_like(param)]
    hyper = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, **options)
    for step in range(1, 51):
        g = grad * (1 + 0.01 * step)
        adam_update(spec[0], g, spec[1], spec[2], None, step, amsgrad=False, **hyper)
        fused_adam_update(fused[0], g, fused[1], fused[2], step, **hyper)
    # float32; the kernel may fuse a multiply-add where NumPy-style ops round twice: a few ulps drift.
    for name, a, b in zip(("param", "exp_avg", "exp_avg_sq"), fused, spec):
        np.testing.assert_allclose(cupy.asnumpy(a), cupy.asnumpy(b), rtol=2e-5, atol=1e-6, err_msg=name)


@pytest.mark.gpu
def test_adam_on_cupy_takes_the_fused_path_and_matches_numpy():
    _cupy_or_skip()
    cpu = small_mlp("numpy")
    gpu = small_mlp("cupy")
    train_steps(cpu, mt.optim.Adam(cpu.parameters(), lr=0.01), *batch("numpy"), steps=20)
    train_steps(gpu, mt.optim.Adam(gpu.parameters(), lr=0.01), *batch("cupy"), steps=20)
    for name, value in cpu.state_dict().items():
        np.testing.assert_allclose(gpu.state_dict()[name], value, rtol=1e-4, atol=1e-5, err_msg=name)


# ----- the GPU check's scripts, run where they can be: a typo must not waste the GPU's minutes -------
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


def test_lbfgs_history_moves_with_the_optimizer(backend):
    """L-BFGS keeps arrays in lists (its curvature history): those must move too."""
    def fit(move_after_first_step):
        mt.manual_seed(0)
        layer = mt.nn.Linear(3, 1).to(backend)
        rng = np.random.default_rng(0)
        data = [rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=(8, 1)).astype(np.float32)]
        x, y = (mt.tensor(a, backend=backend) for a in data)
        opt = mt.optim.LBFGS(layer.parameters(), lr=0.5, max_iter=3)

        def closure():
            opt.zero_grad()
            loss = mt.nn.functional.mse_loss(layer(x), y)
            loss.backward()
            return loss

        opt.step(closure)
        if move_after_first_step:
            target = other_backend(backend)
            layer.to(target)
            assert opt.to(target) is opt
            history = opt.state[layer.weight]["old_dirs"]
            assert history and all(backend_of(a).name == target for a in history)
            x, y = x.to(target), y.to(target)
        opt.step(closure)
        return [p.numpy() for p in layer.parameters()]

    for moved, stayed in zip(fit(True), fit(False)):
        np.testing.assert_allclose(moved, stayed, rtol=1e-5, atol=1e-6)


# ----- the fused op kernels (GPU only): each against its op's readable device code ---------------
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cupy_cross_entropy_matches_the_readable_device_path(monkeypatch, dtype, reduction):
    _cupy_or_skip()
    from minitorch_relu.functions import _cupy_kernels

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
    monkeypatch.setattr(_cupy_kernels, "handles", lambda xp: False)
    readable = loss_and_grad()
    assert np.isnan(fused[0]).any() and not np.isnan(fused[1]).any()
    tolerance = 1e-6 if dtype == np.float32 else 1e-14  # sums of exp may add in another order
    for name, a, b in zip(("loss", "grad"), fused, readable):
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance, err_msg=name)


@pytest.mark.gpu
def test_fused_cupy_relu_backward_matches_the_readable_product():
    cupy = _cupy_or_skip()
    from minitorch_relu.functions import _cupy_kernels

    rng = np.random.default_rng(6)
    out = cupy.asarray(np.maximum(rng.normal(size=(64, 33)), 0).astype(np.float32))  # exact zeros included
    grad = cupy.asarray(rng.normal(size=(64, 33)).astype(np.float32))
    np.testing.assert_array_equal(cupy.asnumpy(_cupy_kernels.relu_backward(out, grad)),
                                  cupy.asnumpy(grad * (out > 0)))
