"""The chapter's layers: Conv2d, MaxPool2d, BatchNorm1d, Dropout, Flatten, and module buffers.

Each op is checked against finite differences (float64) and, where torch is installed, against torch:
the forward values and the gradient of every input, on the backend under test.
"""

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.nn import functional as F


def leaf(array, backend, dtype=mt.float64):
    return mt.tensor(np.asarray(array), dtype=dtype, backend=backend, requires_grad=True)


def rng(seed=0):
    return np.random.default_rng(seed)


# ----- gradcheck (float64, finite differences) ----------------------------------------------------
@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 1), ((2, 1), (0, 2))])
def test_conv2d_gradcheck(backend, stride, padding):
    r = rng(1)
    x, w, b = r.normal(size=(2, 3, 5, 6)), r.normal(size=(4, 3, 3, 2)), r.normal(size=4)
    fn = lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding)  # noqa: E731
    assert mt.gradcheck(fn, [leaf(x, backend), leaf(w, backend), leaf(b, backend)])


def test_conv2d_gradcheck_without_bias(backend):
    r = rng(2)
    x, w = r.normal(size=(1, 2, 4, 4)), r.normal(size=(3, 2, 2, 2))
    assert mt.gradcheck(lambda x, w: F.conv2d(x, w, stride=2), [leaf(x, backend), leaf(w, backend)])


@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 1, 1), (3, 2, 0), ((2, 3), (1, 2), (1, 1))])
def test_max_pool2d_gradcheck(backend, kernel, stride, padding):
    # distinct values, spaced far beyond eps: the winner never changes under the finite differences
    x = rng(3).permutation(2 * 3 * 6 * 7).reshape(2, 3, 6, 7) * 0.1
    assert mt.gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding), [leaf(x, backend)])


@pytest.mark.parametrize("shape", [(6, 4), (5, 3, 4)])
def test_batch_norm_training_gradcheck(backend, shape):
    r = rng(4)
    x, w, b = r.normal(size=shape) * 2 + 1, r.normal(size=shape[1]), r.normal(size=shape[1])
    fn = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert mt.gradcheck(fn, [leaf(x, backend), leaf(w, backend), leaf(b, backend)])


def test_batch_norm_eval_gradcheck(backend):
    r = rng(5)
    x, w, b = r.normal(size=(4, 3)), r.normal(size=3), r.normal(size=3)
    mean = mt.tensor(r.normal(size=3), dtype=mt.float64, backend=backend)
    var = mt.tensor(r.uniform(0.5, 2, size=3), dtype=mt.float64, backend=backend)
    fn = lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=False)  # noqa: E731
    assert mt.gradcheck(fn, [leaf(x, backend), leaf(w, backend), leaf(b, backend)])


def test_dropout_gradcheck_with_a_fixed_mask(backend, monkeypatch):
    mask = (rng(6).random((4, 5)) < 0.7).astype(np.float64)
    monkeypatch.setattr(mt.random, "bernoulli", lambda shape, p, dtype, generator=None: mask.astype(dtype))
    assert mt.gradcheck(lambda x: F.dropout(x, 0.3, training=True), [leaf(rng(7).normal(size=(4, 5)), backend)])


# ----- known numbers ----------------------------------------------------------------------------
def test_conv2d_known_numbers(backend):
    x = mt.tensor(np.arange(16.0).reshape(1, 1, 4, 4), backend=backend)
    w = mt.tensor(np.array([[[[1.0, 0.0], [0.0, -1.0]]]]), backend=backend)  # x[i, j] - x[i+1, j+1]
    assert F.conv2d(x, w).numpy().tolist() == [[[[-5.0] * 3] * 3]]
    out = F.conv2d(x, w, mt.tensor([10.0], backend=backend), stride=2, padding=1)
    expected = np.zeros((3, 3))
    padded = np.pad(np.arange(16.0).reshape(4, 4), 1)
    for i in range(3):
        for j in range(3):
            expected[i, j] = padded[2 * i, 2 * j] - padded[2 * i + 1, 2 * j + 1] + 10
    np.testing.assert_array_equal(out.numpy()[0, 0], expected)


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum(backend):
    x = leaf(np.array([[[[1.0, 1.0], [1.0, 1.0]]]]), backend)
    out = F.max_pool2d(x, 2)
    out.backward(mt.tensor([[[[1.0]]]], dtype=mt.float64, backend=backend))
    assert out.numpy().tolist() == [[[[1.0]]]]
    assert x.grad.numpy().tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]
    y = leaf(np.array([[[[0.0, 2.0], [2.0, 1.0]]]]), backend)
    F.max_pool2d(y, 2).sum().backward()
    assert y.grad.numpy().tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]


def test_batch_norm_normalizes_and_updates_running_stats(backend):
    bn = mt.nn.BatchNorm1d(2, backend=backend)
    x = mt.tensor([[1.0, 10.0], [3.0, 30.0]], backend=backend)
    out = bn(x).numpy()
    eps = 1e-5
    np.testing.assert_allclose(out, [[-1 / np.sqrt(1 + eps), -10 / np.sqrt(100 + eps)],
                                     [1 / np.sqrt(1 + eps), 10 / np.sqrt(100 + eps)]], rtol=1e-6)
    # running = 0.9 * running + 0.1 * batch stat; the variance unbiased: (1^2 + 1^2) / (2 - 1) = 2
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.2, 2.0], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.2, 0.9 + 20.0], rtol=1e-6)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    np.testing.assert_allclose(bn(x).numpy(), (x.numpy() - [0.2, 2.0]) / np.sqrt([1.1 + eps, 20.9 + eps]), rtol=1e-6)
    assert bn.num_batches_tracked.item() == 1  # evaluation leaves the statistics alone


def test_dropout_train_and_eval(backend):
    mt.manual_seed(0)
    drop = mt.nn.Dropout(0.25)
    x = mt.tensor(np.ones((200, 50)), backend=backend, requires_grad=True)
    out = drop(x)
    values = out.numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], 1 / np.float32(0.75))
    assert 0.70 < kept.mean() < 0.80  # 10,000 draws: the kept fraction is 0.75 +- 0.005 (1 sigma)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # d(x * noise)/dx = noise
    drop.eval()
    assert drop(x) is x
    assert F.dropout(x, 1.0).numpy().max() == 0 and F.dropout(x, 0.0) is x


def test_train_eval_switches_every_layer(backend):
    model = mt.nn.Sequential(mt.nn.Linear(3, 4, backend=backend), mt.nn.BatchNorm1d(4, backend=backend),
                             mt.nn.Dropout(0.5), mt.nn.Flatten())
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    x = mt.tensor(np.ones((5, 3), dtype=np.float32), backend=backend)
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())  # no dropout, running stats
    model.train()
    assert all(m.training for m in model.modules())


def test_flatten(backend):
    x = mt.tensor(np.arange(24.0).reshape(2, 3, 2, 2), backend=backend, requires_grad=True)
    out = mt.nn.Flatten()(x)
    assert out.shape == (2, 12)
    assert mt.nn.Flatten(0, 1)(x).shape == (6, 2, 2) and mt.nn.Flatten(2)(x).shape == (2, 3, 4)
    out.sum().backward()
    assert x.grad.shape == (2, 3, 2, 2)
    with pytest.raises(IndexError, match="start_dim=3, end_dim=1"):
        mt.nn.Flatten(3, 1)(x)


# ----- buffers and state_dict --------------------------------------------------------------------
def test_buffers_in_state_dict_and_to(backend):
    model = mt.nn.Sequential(mt.nn.Linear(3, 4), mt.nn.BatchNorm1d(4), mt.nn.ReLU(), mt.nn.Linear(4, 2))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                        "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert [n for n, _ in model.named_buffers()] == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert model.state_dict()["1.num_batches_tracked"].dtype == np.int64
    model.to(backend)
    assert all(b.backend == backend for b in model.buffers())
    model(mt.tensor(np.ones((3, 3), dtype=np.float32), backend=backend))
    assert model[1].num_batches_tracked.item() == 1


def test_register_buffer_checks_and_persistence():
    module = mt.nn.Module()
    module.register_buffer("kept", mt.tensor([1.0]))
    module.register_buffer("scratch", mt.tensor([2.0]), persistent=False)
    assert list(module.state_dict()) == ["kept"]
    assert [n for n, _ in module.named_buffers()] == ["kept", "scratch"]
    module.kept = mt.tensor([5.0])  # assigning replaces the buffer
    assert module.state_dict()["kept"].tolist() == [5.0]
    with pytest.raises(TypeError, match="buffer 'bad'"):
        module.register_buffer("bad", [1.0])
    with pytest.raises(KeyError, match="'a.b'"):
        module.register_buffer("a.b", mt.tensor([1.0]))


def test_load_state_dict_with_buffers_checks_before_changing():
    bn = mt.nn.BatchNorm1d(3)
    state = bn.state_dict()
    state["running_mean"] = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    state["num_batches_tracked"] = np.array(7)
    bn.load_state_dict(state)
    assert bn.running_mean.numpy().tolist() == [1.0, 2.0, 3.0] and bn.num_batches_tracked.item() == 7
    state["running_var"] = np.ones(4)
    with pytest.raises(RuntimeError, match="running_var"):
        bn.load_state_dict(state)
    del state["num_batches_tracked"]
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        mt.nn.BatchNorm1d(3).load_state_dict(state)


# ----- bad input ----------------------------------------------------------------------------------
def test_errors_name_the_problem():
    x = mt.tensor(np.zeros((2, 3, 5, 5)))
    with pytest.raises(ValueError, match="3 channels"):
        F.conv2d(x, mt.tensor(np.zeros((4, 2, 3, 3))))
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(x, mt.tensor(np.zeros((4, 3, 3, 3))), stride=0)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(x, mt.tensor(np.zeros((4, 3, 7, 7))))
    with pytest.raises(ValueError, match="4-D"):
        F.max_pool2d(mt.tensor(np.zeros((3, 5))), 2)
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="between 0 and 1"):
        mt.nn.Dropout(1.5)
    bn = mt.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(mt.tensor(np.zeros((1, 3))))
    assert bn.num_batches_tracked.item() == 0  # refused before any state changed
    with pytest.raises(ValueError, match=r"running_mean must have shape \(4,\)"):
        F.batch_norm(mt.tensor(np.zeros((2, 4))), bn.running_mean, bn.running_var)


# ----- torch parity --------------------------------------------------------------------------------
def _torch():
    return pytest.importorskip("torch")


def _compare(ours, theirs, rtol):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol, atol=rtol)


TOLERANCE = {mt.float64: 1e-12, mt.float32: 1e-5}


@pytest.mark.parametrize("dtype", [mt.float64, mt.float32])
@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0), ((1, 2), (2, 1))])
def test_conv2d_matches_torch(backend, dtype, stride, padding):
    torch = _torch()
    r = rng(10)
    x, w, b = r.normal(size=(3, 2, 7, 6)), r.normal(size=(5, 2, 3, 3)), r.normal(size=5)
    g = r.normal(size=F.conv2d(mt.tensor(x), mt.tensor(w), stride=stride, padding=padding).shape)
    ours = [leaf(a, backend, dtype) for a in (x, w, b)]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ours, stride=stride, padding=padding)
    ref = torch.nn.functional.conv2d(*theirs, stride=stride, padding=padding)
    out.backward(mt.tensor(g, dtype=dtype, backend=backend))
    ref.backward(torch.tensor(g.astype(dtype)))
    tol = TOLERANCE[dtype]
    _compare(out, ref, tol)
    for a, t in zip(ours, theirs):
        _compare(a.grad, t.grad, tol)


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 0)])
def test_conv2d_slice_by_slice_matches_torch(backend, monkeypatch, stride, padding):
    # the CPU builds the window matrix a slice of images at a time; one image a slice here, so the
    # weight gradient adds up over three slices and each slice's input gradient lands on its images
    from minitorch_relu.functions import conv2d as conv_module

    monkeypatch.setattr(conv_module, "SLICE_BYTES", 1)
    test_conv2d_matches_torch(backend, mt.float64, stride, padding)


@pytest.mark.parametrize("kernel,stride,padding,shape", [(2, 2, 0, (2, 3, 7, 8)), (2, 2, 0, (2, 3, 8, 6)),
                                                        (3, 2, 1, (2, 3, 7, 8)), (3, 1, 0, (2, 3, 7, 8))])
def test_max_pool2d_matches_torch_including_ties(backend, kernel, stride, padding, shape):
    torch = _torch()
    x = rng(11).integers(0, 3, size=shape).astype(np.float32)  # few values: many ties
    g = rng(12).normal(size=F.max_pool2d(mt.tensor(x), kernel, stride, padding).shape).astype(np.float32)
    ours, theirs = leaf(x, backend, mt.float32), torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(ours, kernel, stride, padding)
    ref = torch.nn.functional.max_pool2d(theirs, kernel, stride, padding)
    out.backward(mt.tensor(g, backend=backend))
    ref.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)  # sums of overlaps


def test_max_pool2d_with_nan_outputs_nan_and_sends_the_gradient_to_the_last_nan_as_torch(backend):
    # torch's argmax of a window holding NaN is its last NaN (functions/max_pool2d.py)
    torch = _torch()
    nan = np.nan
    x = np.array([[[[1.0, nan, 3.0, 2.0], [2.0, 5.0, nan, nan], [1.0, 2.0, 3.0, 4.0], [4.0, 0.0, 2.0, 1.0]]]],
                 dtype=np.float32)
    g = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=np.float32)
    ours, theirs = leaf(x, backend, mt.float32), torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(ours, 2)
    ref = torch.nn.functional.max_pool2d(theirs, 2)
    out.backward(mt.tensor(g, backend=backend))
    ref.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())  # NaN in the top two windows
    assert np.isnan(out.numpy()[0, 0, 0]).all() and not np.isnan(out.numpy()[0, 0, 1]).any()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert ours.grad.numpy()[0, 0, 1, 3] == 2.0 and ours.grad.numpy()[0, 0, 1, 2] == 0.0  # the last NaN of two
    assert ours.grad.numpy()[0, 0, 3, 0] == 3.0 and ours.grad.numpy()[0, 0, 2, 3] == 4.0  # the other windows' winners


@pytest.mark.parametrize("dtype", [mt.float64, mt.float32])
@pytest.mark.parametrize("shape", [(8, 4), (6, 4, 5)])
def test_batch_norm1d_matches_torch_train_then_eval(backend, dtype, shape):
    torch = _torch()
    r = rng(13)
    ours = mt.nn.BatchNorm1d(4, dtype=dtype, backend=backend)
    theirs = torch.nn.BatchNorm1d(4, dtype=torch.float64 if dtype == mt.float64 else torch.float32)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(r.normal(size=4)))
        theirs.bias.copy_(torch.tensor(r.normal(size=4)))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    tol = TOLERANCE[dtype]
    for step, training in enumerate([True, True, False]):
        ours.train(training), theirs.train(training)
        x, g = r.normal(size=shape) * 3 + step, r.normal(size=shape)
        xo, xt = leaf(x, backend, dtype), torch.tensor(x.astype(dtype), requires_grad=True)
        out, ref = ours(xo), theirs(xt)
        out.backward(mt.tensor(g, dtype=dtype, backend=backend))
        ref.backward(torch.tensor(g.astype(dtype)))
        _compare(out, ref, tol)
        _compare(xo.grad, xt.grad, tol)
        _compare(ours.weight.grad, theirs.weight.grad, tol)
        _compare(ours.bias.grad, theirs.bias.grad, tol)
        ours.zero_grad(), theirs.zero_grad()
    state, ref_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(ref_state)
    for name in state:
        np.testing.assert_allclose(state[name], ref_state[name].numpy(), rtol=tol)
    assert state["num_batches_tracked"] == 2


def test_dropout_matches_torch_given_torch_mask(backend, monkeypatch):
    torch = _torch()
    x = rng(14).normal(size=(50, 40)).astype(np.float32)
    torch.manual_seed(3)
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.dropout(xt, 0.3, training=True)
    ref.sum().backward()
    torch.manual_seed(3)
    mask = torch.empty(x.shape).bernoulli_(0.7).numpy()  # the draw torch's CPU dropout makes
    monkeypatch.setattr(mt.random, "bernoulli", lambda shape, p, dtype, generator=None: mask.astype(dtype))
    xo = leaf(x, backend, mt.float32)
    out = F.dropout(xo, 0.3)
    out.sum().backward()
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())


def test_state_dict_keys_match_torch_and_torch_state_loads():
    torch = _torch()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, 1, 1), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2), torch.nn.Flatten(),
        torch.nn.Linear(4 * 14 * 14, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 10))
    ours = mt.nn.Sequential(
        mt.nn.Conv2d(1, 4, 3, 1, 1), mt.nn.ReLU(), mt.nn.MaxPool2d(2, 2), mt.nn.Flatten(),
        mt.nn.Linear(4 * 14 * 14, 8), mt.nn.BatchNorm1d(8), mt.nn.Dropout(0.3), mt.nn.Linear(8, 10))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.train()
    theirs(torch.randn(5, 1, 28, 28))  # moves the running statistics and the batch count
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name], value.numpy())
    ours.eval(), theirs.eval()
    x = rng(15).normal(size=(3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(ours(mt.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    for ours_m, theirs_m in zip(ours, theirs):
        assert repr(ours_m) == repr(theirs_m)


# ----- the chapter's programs (minitorch_relu/chapter.py) -------------------------------------------------
def test_chapter_models_shapes_keys_and_init(backend):
    from minitorch_relu import chapter

    mt.manual_seed(777)
    xavier = chapter.build("xavier", backend=backend)
    assert [(k, v.shape) for k, v in xavier.state_dict().items()] == [
        ("0.weight", (256, 784)), ("0.bias", (256,)), ("2.weight", (256, 256)), ("2.bias", (256,)),
        ("4.weight", (10, 256)), ("4.bias", (10,))]
    bound = np.sqrt(6 / (784 + 256))  # xavier_uniform_'s bound for the first weight
    w = xavier[0].weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    dropout = chapter.build("dropout", backend=backend)
    assert [type(m).__name__ for m in dropout][:4] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert list(dropout.state_dict())[-2:] == ["12.weight", "12.bias"] and dropout[2].p == 0.3
    cnn = chapter.build("cnn", backend=backend)
    assert [(k, v.shape) for k, v in cnn.state_dict().items()] == [
        ("layer1.0.weight", (32, 1, 3, 3)), ("layer1.0.bias", (32,)), ("layer2.0.weight", (64, 32, 3, 3)),
        ("layer2.0.bias", (64,)), ("fc.weight", (10, 3136)), ("fc.bias", (10,))]
    assert cnn(mt.tensor(np.zeros((2, 784), dtype=np.float32), backend=backend)).shape == (2, 10)
    with_bn, without_bn = chapter.batchnorm_pair(backend=backend)
    assert list(with_bn.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                          "1.num_batches_tracked", "3.weight", "3.bias", "4.weight", "4.bias",
                                          "4.running_mean", "4.running_var", "4.num_batches_tracked", "6.weight", "6.bias"]
    assert list(without_bn.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def test_chapter_defaults_fill_only_what_was_not_given():
    from types import SimpleNamespace

    from minitorch_relu.chapter import fill_defaults

    args = fill_defaults(SimpleNamespace(model="batchnorm", lr=None, batch_size=None, epochs=None))
    assert (args.lr, args.batch_size, args.epochs) == (0.01, 32, 10)
    args = fill_defaults(SimpleNamespace(model="cnn", lr=0.5, batch_size=None, epochs=2))
    assert (args.lr, args.batch_size, args.epochs) == (0.5, 100, 2)


def test_batchnorm_side_by_side_training_learns_and_switches_modes(backend):
    from minitorch_relu import chapter
    from minitorch_relu.data import DataLoader
    from minitorch_relu.demos._data import synthetic

    x, y = synthetic(256, seed=3)
    mt.manual_seed(0)
    models = chapter.batchnorm_pair(backend=backend)
    optimizers = [mt.optim.Adam(m.parameters(), lr=0.01) for m in models]
    loader = DataLoader((x, y), batch_size=32, shuffle=True, drop_last=True, seed=0, backend=backend)
    seen = []

    def evaluate(model):
        assert all(m.training for m in model.modules())  # evaluation switches to eval() itself
        return chapter.loss_and_accuracy(model, x, y, backend=backend)

    history = chapter.train_side_by_side(models, loader, optimizers, 3, evaluate=evaluate,
                                         on_epoch=lambda epoch, results: seen.append(epoch))
    assert seen == [1, 2, 3] and models[0][1].num_batches_tracked.item() == 3 * 8
    for k in range(2):
        assert history[-1][k][1] > history[0][k][1] or history[-1][k][0] < history[0][k][0]  # learns
        assert 0 <= history[-1][k][1] <= 1
    line = chapter.comparison_lines(1, "TRAIN", (0.5, 0.9), (0.7, 0.8))
    assert line == ("[Epoch 1-TRAIN] Batchnorm Loss(Acc): bn_loss:0.50000(bn_acc:0.90) "
                    "vs No Batchnorm Loss(Acc): nn_loss:0.70000(nn_acc:0.80)")


_SHARED = __import__("pathlib").Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.mark.skipif(not (_SHARED / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file(),
                    reason=f"MNIST not found under {_SHARED}")
def test_train_batchnorm_cli_prints_both_nets_per_epoch_and_writes_files(tmp_path, capsys):
    import json

    from minitorch_relu.cli import main

    costs, plot = tmp_path / "bn.json", tmp_path / "bn.png"
    code = main(["train", "--model", "batchnorm", "--epochs", "2", "--batch-size", "1000", "--data-dir", str(_SHARED),
                 "--costs-out", str(costs), "--plot", str(plot), "--quiet"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [line.split("]")[0] for line in out[:4]] == ["[Epoch 1-TRAIN", "[Epoch 1-VALID", "[Epoch 2-TRAIN", "[Epoch 2-VALID"]
    assert all("Batchnorm Loss(Acc): bn_loss:" in line and "No Batchnorm" in line for line in out[:4])
    assert out[4] == "Learning finished"
    record = json.loads(costs.read_text())
    assert record["model"] == "batchnorm" and record["lr"] == 0.01 and len(record["evaluations"]) == 2
    assert record["costs"] == [e["with_batchnorm"]["train"][0] for e in record["evaluations"]]
    assert plot.stat().st_size > 10_000
