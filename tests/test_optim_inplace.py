"""The optimizers' in-place helpers (optim/_inplace.py) and what every optimizer declares.

The helpers must compute torch's formula in torch's order: checked to the bit against the plain
expression in that order, against known numbers (both of lerp_'s formulas), and against torch.
"""

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.backend import get_backend
from minitorch_relu.optim._inplace import CACHE_BLOCK, add_, addcdiv_, addcmul_, div_, in_cache_blocks, lerp_, mul_


def arrays(backend, dtype, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n)).astype(dtype)
    return a, b, np.abs(c) + 0.5  # c is a divisor


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_helper_is_its_formula_in_torchs_order_to_the_bit(backend, dtype):
    a, b, c = arrays(backend, dtype)
    xp = get_backend(backend)

    def on(array):  # a fresh copy on the backend: each helper overwrites its first argument
        return xp.asarray(array.copy())
    expected = {
        "mul_": a * dtype(0.3),
        "div_": a / dtype(0.3),
        "add_": a + b * dtype(-0.3),
        "lerp_ (weight 0.2)": a + (b - a) * dtype(0.2),
        "lerp_ (weight 0.8)": b - (b - a) * dtype(1 - 0.8),
        "addcmul_": a + (dtype(0.3) * b) * c,
        "addcdiv_": a + (dtype(-0.3) * b) / c,
        "addcmul_ (value 1)": a + b * c,
        "addcdiv_ (value 1)": a + b / c,
    }
    results = {
        "mul_": mul_(on(a), 0.3),
        "div_": div_(on(a), 0.3),
        "add_": add_(on(a), on(b), alpha=-0.3),
        "lerp_ (weight 0.2)": lerp_(on(a), on(b), 0.2),
        "lerp_ (weight 0.8)": lerp_(on(a), on(b), 0.8),
        "addcmul_": addcmul_(on(a), on(b), on(c), value=0.3),
        "addcdiv_": addcdiv_(on(a), on(b), on(c), value=-0.3),
        "addcmul_ (value 1)": addcmul_(on(a), on(b), on(c)),
        "addcdiv_ (value 1)": addcdiv_(on(a), on(b), on(c)),
    }
    for name, result in results.items():
        assert result.dtype == dtype, name
        np.testing.assert_array_equal(xp.to_numpy(result), expected[name], err_msg=name)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_in_cache_blocks_gives_one_calls_bits(backend, amsgrad):
    from minitorch_relu.optim.adam import adam_update

    xp = get_backend(backend)
    rng = np.random.default_rng(3)
    n = 2 * CACHE_BLOCK + 123  # two whole blocks and a part
    start = [rng.normal(size=(n // 7, 7)).astype(np.float32) for _ in range(4)]  # param, grad, m, v
    start[3] = np.abs(start[3])
    hyper = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, amsgrad=amsgrad, maximize=False)
    results = []
    for run in (adam_update, lambda *a, **k: in_cache_blocks(adam_update, *a, **k)):
        param, grad, m, v = (xp.asarray(a.copy()) for a in start)
        v_max = xp.asarray(start[3].copy()) if amsgrad else None
        for step in (1, 2, 3):
            run(param, grad, m, v, v_max, step=step, **hyper)
        results.append([xp.to_numpy(a) for a in (param, m, v)])
    for one_call, blocks in zip(*results):
        np.testing.assert_array_equal(blocks, one_call)
    assert not np.array_equal(results[0][0], start[0])  # the update did run


def test_in_cache_blocks_calls_once_for_a_strided_array():
    calls = []
    big = np.zeros((2, 2 * CACHE_BLOCK), np.float32)
    in_cache_blocks(lambda *arrays: calls.append([a.shape for a in arrays]), big[:, ::2], big[:, 1::2])
    assert calls == [[(2, CACHE_BLOCK), (2, CACHE_BLOCK)]]  # blocks of a strided view would be copies
    calls.clear()
    in_cache_blocks(lambda *arrays: calls.append([a.shape for a in arrays]), big, big)
    assert calls == [[(CACHE_BLOCK,), (CACHE_BLOCK,)]] * 4


def test_helpers_write_into_their_first_argument_and_return_it(backend):
    on = get_backend(backend).asarray
    start, end = on([0.0, 10.0]), on([4.0, 2.0])
    assert lerp_(start, end, 0.25) is start
    np.testing.assert_array_equal(get_backend(backend).to_numpy(start), [1.0, 8.0])  # 0 + (4 - 0) / 4, 10 - 8 / 4
    start = on([0.0, 10.0])
    lerp_(start, end, 0.75)  # the other formula: end - (end - start) * 0.25
    np.testing.assert_array_equal(get_backend(backend).to_numpy(start), [3.0, 4.0])
    a = on([1.0, 2.0])
    assert addcmul_(a, on([2.0, 3.0]), on([4.0, 5.0]), value=0.5) is a  # 1 + 0.5*2*4, 2 + 0.5*3*5
    np.testing.assert_array_equal(get_backend(backend).to_numpy(a), [5.0, 9.5])
    assert addcdiv_(a, on([2.0, 3.0]), on([4.0, 6.0]), value=-2.0) is a  # 5 - 2*2/4, 9.5 - 2*3/6
    np.testing.assert_array_equal(get_backend(backend).to_numpy(a), [4.0, 8.5])
    assert mul_(a, 2.0) is a and add_(a, 1.0) is a
    np.testing.assert_array_equal(get_backend(backend).to_numpy(a), [9.0, 18.0])


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_helpers_match_torchs_in_place_ops(dtype, rtol):
    torch = pytest.importorskip("torch")
    a, b, c = arrays("numpy", dtype, n=10_000, seed=1)
    t = torch.from_numpy
    cases = [
        ("lerp_ 0.1", lerp_(a.copy(), b, 0.1), t(a.copy()).lerp_(t(b), 0.1)),
        ("lerp_ 0.9", lerp_(a.copy(), b, 0.9), t(a.copy()).lerp_(t(b), 0.9)),
        ("addcmul_", addcmul_(a.copy(), b, c, value=0.3), t(a.copy()).addcmul_(t(b), t(c), value=0.3)),
        ("addcdiv_", addcdiv_(a.copy(), b, c, value=-0.3), t(a.copy()).addcdiv_(t(b), t(c), value=-0.3)),
        ("add_", add_(a.copy(), b, alpha=0.3), t(a.copy()).add_(t(b), alpha=0.3)),
    ]
    for name, ours, ref in cases:
        np.testing.assert_allclose(ours, ref.numpy(), rtol=rtol, atol=rtol, err_msg=name)
    np.testing.assert_array_equal(cases[3][1], cases[3][2].numpy())  # addcdiv: no fused step in torch either


def test_only_lbfgs_requires_a_closure():
    """Training loops ask optimizer.requires_closure whether step() needs a closure."""
    needs = {name: getattr(mt.optim, name).requires_closure for name in mt.optim.__all__}
    assert needs == {name: name == "LBFGS" for name in mt.optim.__all__}


@pytest.mark.parametrize("owner", ["module", "optimizer"])
def test_zero_grad_drops_or_zeroes_every_gradient(owner, backend):
    model = mt.nn.Linear(3, 2).to(backend)
    optimizer = mt.optim.SGD(model.parameters(), lr=0.1)
    clear = model.zero_grad if owner == "module" else optimizer.zero_grad
    model(mt.ones(4, 3, backend=backend)).sum().backward()
    grads = [p.grad.data for p in model.parameters()]
    clear(set_to_none=False)
    assert [p.grad.data is g for p, g in zip(model.parameters(), grads)] == [True, True]  # the same arrays
    assert all(not get_backend(backend).to_numpy(g).any() for g in grads)
    clear()
    assert [p.grad for p in model.parameters()] == [None, None]
