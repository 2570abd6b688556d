"""The ops of issue 13 part 2 on known numbers, dtype rules and bad input (NumPy only; torch parity
is in parity/test_ops_parity.py and parity/test_ops_more_parity.py, finite differences in
tests/test_ops_gradcheck.py, both from the op table tests/op_table.py)."""

import math

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.functions._erf import normal_cdf
from minitorch_relu.nn import functional as F


def leaf(values, backend, dtype=mt.float64):
    return mt.tensor(np.asarray(values, dtype=float), requires_grad=True, dtype=dtype, backend=backend)


def grad_of(fn, values, backend):
    x = leaf(values, backend)
    fn(x).sum().backward()
    return x.grad.numpy()


# ----- creation ---------------------------------------------------------------------------------
def test_creation_dtypes_follow_torch(backend):
    assert mt.zeros(2, 3, backend=backend).dtype == mt.float32
    assert mt.ones((2,), dtype=mt.float64, backend=backend).dtype == mt.float64
    assert mt.full((2,), 7, backend=backend).dtype == mt.int64
    assert mt.full((2,), 7.0, backend=backend).dtype == mt.float32
    assert mt.full((2,), True, backend=backend).dtype == mt.bool_
    assert mt.arange(5, backend=backend).dtype == mt.int64
    assert mt.arange(0, 5, 0.5, backend=backend).dtype == mt.float32
    assert mt.arange(5.0, backend=backend).dtype == mt.float32
    assert mt.linspace(0, 1, 3, backend=backend).dtype == mt.float32
    assert mt.eye(2, backend=backend).dtype == mt.float32
    for t in (mt.zeros(1, backend=backend), mt.arange(3, backend=backend), mt.eye(2, backend=backend)):
        assert t.backend == backend and not t.requires_grad


def test_creation_values(backend):
    np.testing.assert_array_equal(mt.arange(10, 0, -3, backend=backend).numpy(), [10, 7, 4, 1])
    np.testing.assert_array_equal(mt.arange(0, 1, 0.25, backend=backend).numpy(), [0, 0.25, 0.5, 0.75])
    # element i is start + i * step rounded once, so 0.7 is float32(0.7), not the sum of seven 0.1f
    assert mt.arange(0, 1, 0.1, backend=backend).numpy()[7] == np.float32(0.7)
    np.testing.assert_array_equal(mt.linspace(-1, 1, 5, backend=backend).numpy(), [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_array_equal(mt.linspace(2, 3, 1, backend=backend).numpy(), [2])
    assert mt.linspace(2, 3, 0, backend=backend).shape == (0,)
    np.testing.assert_array_equal(mt.eye(2, 3, backend=backend).numpy(), [[1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(mt.full((2, 2), 1.5, backend=backend).numpy(), [[1.5, 1.5], [1.5, 1.5]])
    assert mt.zeros((), backend=backend).shape == ()
    assert mt.empty(3, 0, backend=backend).shape == (3, 0)


def test_like_functions_keep_shape_dtype_and_backend(backend):
    x = mt.tensor([[1.0, 2.0]], dtype=mt.float64, backend=backend)
    for t, value in ((mt.zeros_like(x), 0), (mt.ones_like(x), 1), (mt.full_like(x, 3), 3)):
        assert t.shape == (1, 2) and t.dtype == mt.float64 and t.backend == backend
        np.testing.assert_array_equal(t.numpy(), [[value, value]])
    assert mt.zeros_like(x, dtype=mt.int64).dtype == mt.int64
    assert mt.empty_like(x).shape == (1, 2)


def test_requires_grad_on_created_tensors(backend):
    w = mt.zeros(2, 2, requires_grad=True, backend=backend)
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((2, 2), 3.0))
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients, got dtype int64"):
        mt.arange(3, requires_grad=True, backend=backend)


@pytest.mark.parametrize("call, error, message", [
    (lambda: mt.zeros(2, -1), RuntimeError, r"sizes must be non-negative, got \(2, -1\)"),
    (lambda: mt.ones(2.5), TypeError, r"size must be ints, got \(2.5,\)"),
    (lambda: mt.arange(0, 5, 0), RuntimeError, "step must be nonzero"),
    (lambda: mt.arange(0, 5, -1), RuntimeError, r"inconsistent with step sign \(start=0, end=5, step=-1\)"),
    (lambda: mt.linspace(0, 1, -2), RuntimeError, "number of steps must be a non-negative int, got -2"),
    (lambda: mt.full((2,), "a"), TypeError, "fill_value must be a number or bool, got str"),
    (lambda: mt.zeros_like([1, 2]), TypeError, "expected a Tensor, got list"),
])
def test_creation_errors_name_the_values(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----- shape ------------------------------------------------------------------------------------
def test_shape_ops_give_torch_shapes(backend):
    x = mt.zeros(2, 1, 3, backend=backend)
    assert x.unsqueeze(0).shape == (1, 2, 1, 3) and x.unsqueeze(-1).shape == (2, 1, 3, 1)
    assert x.squeeze().shape == (2, 3) and x.squeeze(0).shape == (2, 1, 3) and x.squeeze((1, 2)).shape == (2, 3)
    assert x.expand(4, 2, 5, 3).shape == (4, 2, 5, 3) and x.expand(-1, 2, -1).shape == (2, 2, 3)
    assert x.flatten().shape == (6,) and x.flatten(1).shape == (2, 3) and x.flatten(0, 1).shape == (2, 3)
    assert mt.zeros((), backend=backend).flatten().shape == (1,)
    assert mt.cat([x, x], dim=1).shape == (2, 2, 3) and mt.cat([x, x], -1).shape == (2, 1, 6)
    assert mt.stack([x, x]).shape == (2, 2, 1, 3) and mt.stack([x, x], dim=-1).shape == (2, 1, 3, 2)


def test_cat_and_stack_send_each_input_its_part_of_the_gradient(backend):
    a, b = leaf([[1.0, 2.0]], backend), leaf([[3.0, 4.0], [5.0, 6.0]], backend)
    weights = mt.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=mt.float64, backend=backend)
    (mt.cat([a, b]) * weights).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[1, 2]])
    np.testing.assert_array_equal(b.grad.numpy(), [[3, 4], [5, 6]])
    c, d = leaf([1.0, 2.0], backend), leaf([3.0, 4.0], backend)
    (mt.stack([c, d], dim=1) * mt.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mt.float64, backend=backend)).sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), [1, 3])
    np.testing.assert_array_equal(d.grad.numpy(), [2, 4])


def test_expand_sums_the_gradient_over_the_repeats(backend):
    x = leaf([[1.0], [2.0]], backend)
    x.expand(3, 2, 4).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[12.0], [12.0]])


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.unsqueeze(4), IndexError, r"range of \[-4, 3\], but got 4"),
    (lambda x: x.squeeze(3), IndexError, r"range of \[-3, 2\], but got 3"),
    (lambda x: x.flatten(2, 0), RuntimeError, "start_dim 2 cannot come after end_dim 0"),
    (lambda x: x.expand(2, 1, 5), RuntimeError, r"size 3 of dimension 2 of shape \(2, 1, 3\) must match 5"),
    (lambda x: x.expand(3), RuntimeError, r"number of sizes 1 in \(3,\) must be at least the number of dimensions 3"),
    (lambda x: x.expand(-1, 2, 1, 3), RuntimeError, "-1 is not allowed for the new leading dimension 0"),
    (lambda x: mt.cat([x, x.squeeze(1)]), RuntimeError, r"got 3 \(shape \(2, 1, 3\)\) and 2 \(shape \(2, 3\)\)"),
    (lambda x: mt.cat([x, x.expand(2, 2, 3)], dim=2), RuntimeError,
     r"Expected size 1 but got size 2 for tensor number 1 .*\(2, 1, 3\) and \(2, 2, 3\)"),
    (lambda x: mt.cat([]), RuntimeError, "expected a non-empty list"),
    (lambda x: mt.cat([x, x], dim=3), IndexError, r"range of \[-3, 2\], but got 3"),
    (lambda x: mt.stack([x, x.squeeze()]), RuntimeError, r"got \(2, 1, 3\) at entry 0 and \(2, 3\) at entry 1"),
    (lambda x: mt.stack([x], dim=5), IndexError, r"range of \[-4, 3\], but got 5"),
])
def test_shape_errors_name_the_values(backend, call, error, message):
    with pytest.raises(error, match=message):
        call(mt.zeros(2, 1, 3, backend=backend))


# ----- elementwise: torch's conventions, as known numbers ---------------------------------------
def test_conventions_at_kinks_ties_and_bounds(backend):
    np.testing.assert_array_equal(grad_of(lambda x: x.abs(), [-2.0, 0.0, 3.0], backend), [-1, 0, 1])
    np.testing.assert_array_equal(grad_of(lambda x: x.sign(), [-2.0, 0.0, 3.0], backend), [0, 0, 0])
    # clamp: the gradient passes strictly inside the bounds (0 at a bound, as ReLU's at 0)
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp(0, 1), [-1.0, 0.0, 0.5, 1.0, 2.0], backend), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(grad_of(lambda x: x.clip(min=0.0), [-1.0, 0.0, 2.0], backend), [0, 0, 1])
    # maximum/minimum: a tie gives each side half
    a, b = leaf([1.0, 2.0, 3.0], backend), leaf([1.0, 1.0, 4.0], backend)
    mt.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1, 0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0, 1])
    # where: the gradient follows the condition; numbers allowed on either side
    x = leaf([1.0, -2.0, 3.0], backend)
    y = mt.where(x > 0, x * 10, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [10, 0, 30])
    np.testing.assert_array_equal(x.grad.numpy(), [10, 0, 10])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) and 0 ** -1 on purpose
def test_tensor_exponents(backend):
    x, y = leaf([2.0, 3.0], backend), leaf([3.0, 0.5], backend)
    out = x**y
    out.sum().backward()
    np.testing.assert_allclose(out.numpy(), [8.0, math.sqrt(3)], rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [3 * 4.0, 0.5 / math.sqrt(3)], rtol=1e-15)
    np.testing.assert_allclose(y.grad.numpy(), [8 * math.log(2), math.sqrt(3) * math.log(3)], rtol=1e-15)
    z = leaf([0.0, 1.0, 3.0], backend)
    (2**z).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [math.log(2), 2 * math.log(2), 8 * math.log(2)], rtol=1e-15)
    # a zero base with a non-negative exponent: the exponent's gradient is 0, not 0 * log 0
    base, exponent = mt.tensor([0.0, 0.0], dtype=mt.float64, backend=backend), leaf([0.0, 2.0], backend)
    (base**exponent).sum().backward()
    np.testing.assert_array_equal(exponent.grad.numpy(), [0, 0])
    with pytest.raises(TypeError, match="takes a number or Tensor exponent, got str"):
        x ** "2"


def test_methods_add_sub_mul_div_neg_pow(backend):
    a = mt.tensor([1.0, 2.0], backend=backend)
    b = mt.tensor([10.0, 20.0], backend=backend)
    np.testing.assert_array_equal(a.add(b, alpha=2).numpy(), [21, 42])
    np.testing.assert_array_equal(a.sub(b, alpha=0.5).numpy(), [-4, -8])
    np.testing.assert_array_equal(a.add(1).numpy(), [2, 3])
    np.testing.assert_array_equal(a.mul(b).numpy(), [10, 40])
    np.testing.assert_array_equal(b.div(a).numpy(), [10, 10])
    np.testing.assert_array_equal(a.neg().numpy(), [-1, -2])
    np.testing.assert_array_equal(a.pow(2).numpy(), [1, 4])
    np.testing.assert_array_equal(a.pow(a).numpy(), [1, 4])


def test_clamp_needs_a_number_bound(backend):
    x = mt.zeros(2, backend=backend)
    with pytest.raises(RuntimeError, match="at least one of 'min' or 'max'"):
        x.clamp()
    with pytest.raises(TypeError, match="clamp: max must be a number, got list"):
        x.clamp(max=[1])
    with pytest.raises(TypeError, match="condition must be a bool Tensor, got float32"):
        x.where(x, x)


# ----- reductions -------------------------------------------------------------------------------
def test_min_argmin_and_their_gradients(backend):
    x = leaf([[3.0, 1.0, 1.0], [0.0, 5.0, 0.0]], backend)
    values, indices = x.min(1)
    np.testing.assert_array_equal(values.numpy(), [1, 0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])  # the first of tied minima
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    # over everything, tied minima share the gradient
    np.testing.assert_array_equal(grad_of(lambda t: t.min(), [[0.0, 2.0], [0.0, 0.0]], backend), [[1 / 3, 0], [1 / 3, 1 / 3]])
    t = mt.tensor([[3.0, 1.0], [0.0, 5.0]], backend=backend)
    assert t.argmin().item() == 2 and t.argmin().dtype == mt.int64
    np.testing.assert_array_equal(t.argmin(1, keepdim=True).numpy(), [[1], [0]])
    assert t.min(0, keepdim=True).values.shape == (1, 2)


def test_prod_and_its_gradient_with_zeros(backend):
    x = [[2.0, 3.0, 4.0], [2.0, 0.0, 5.0], [0.0, 0.0, 7.0]]
    assert mt.tensor(x, backend=backend).prod().item() == 0
    np.testing.assert_array_equal(mt.tensor(x, backend=backend).prod(1).numpy(), [24, 0, 0])
    # one zero: only its position gets a gradient (the product of the others); two zeros: none
    np.testing.assert_array_equal(grad_of(lambda t: t.prod(1), x, backend), [[12, 8, 6], [0, 10, 0], [0, 0, 0]])
    assert mt.tensor([[1, 2], [3, 4]], backend=backend).prod().dtype == mt.int64


def test_var_std_logsumexp_values(backend):
    x = mt.tensor([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]], dtype=mt.float64, backend=backend)
    np.testing.assert_allclose(x.var(1).numpy(), [5 / 3, 0], rtol=1e-15)
    np.testing.assert_allclose(x.var(1, correction=0).numpy(), [1.25, 0], rtol=1e-15)
    np.testing.assert_allclose(x.var(1, unbiased=False).numpy(), [1.25, 0], rtol=1e-15)
    np.testing.assert_allclose(x.std(dim=(0, 1)).numpy(), np.std(x.numpy(), ddof=1), rtol=1e-15)
    assert x.var(1, keepdim=True).shape == (2, 1)
    np.testing.assert_allclose(x.logsumexp(1).numpy(), np.log(np.exp(x.numpy()).sum(1)), rtol=1e-15)
    big = mt.tensor([1000.0, 1000.0], dtype=mt.float64, backend=backend)
    assert big.logsumexp(0).item() == pytest.approx(1000 + math.log(2), rel=1e-15)
    with pytest.raises(RuntimeError, match="either unbiased or correction"):
        x.var(1, unbiased=True, correction=0)
    with pytest.raises(IndexError, match="dimension 2 is out of range for a tensor with 2 dimensions"):
        x.std(2)


def test_std_of_equal_values_has_gradient_zero(backend):
    np.testing.assert_array_equal(grad_of(lambda t: t.std(1), [[2.0, 2.0, 2.0]], backend), [[0, 0, 0]])


def test_var_over_dim_empty_tuple_is_over_every_dim_forward_and_backward(backend):
    # torch's forward reads dim=() as every dim, but its backward as no dim (a gradient 4x too big
    # here); this engine keeps one meaning
    values = [[1.0, 2.0], [4.0, 7.0]]
    np.testing.assert_allclose(grad_of(lambda t: t.var(dim=()), values, backend),
                               grad_of(lambda t: t.var(), values, backend), rtol=1e-15)
    np.testing.assert_allclose(grad_of(lambda t: t.var(), values, backend),
                               2 * (np.array(values) - 3.5) / 3, rtol=1e-15)


def test_any_and_all(backend):
    x = mt.tensor([[0.0, 1.0], [0.0, 0.0]], backend=backend)
    assert x.any().item() is True and x.all().item() is False
    np.testing.assert_array_equal(x.any(1).numpy(), [True, False])
    np.testing.assert_array_equal(x.all(0, keepdim=True).numpy(), [[False, False]])
    assert x.any().dtype == mt.bool_ and x.any(dim=(0, 1)).shape == ()


# ----- activations ------------------------------------------------------------------------------
def test_normal_cdf_against_math_erf():
    x = np.concatenate([np.linspace(-40, 40, 20001), [0.0, 1e-300, -1e-300, 3.5355, -3.5355]])
    exact = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    ours = normal_cdf(x, np)
    # the bounds _erf.py states (measured 5.9e-16, 5.7e-16 and 2.0e-12 on a 10x finer grid)
    assert np.abs(ours - exact).max() < 6e-16
    relative = np.abs(ours - exact) / np.maximum(exact, 1e-300)
    assert relative[x >= 0].max() < 6e-16
    assert relative[(x < 0) & (exact > 1e-300)].max() < 3e-12  # also deep in the tail: Phi(-37) = 6e-300
    assert normal_cdf(np.array([np.inf, -np.inf, np.nan]), np).tolist()[:2] == [1.0, 0.0]


def test_activation_values(backend):
    x = mt.tensor([-1.0, 0.0, 1.0, 30.0], dtype=mt.float64, backend=backend)
    phi = np.array([0.5 * math.erfc(1 / math.sqrt(2)), 0.5, 0.5 * math.erfc(-1 / math.sqrt(2)), 1.0])
    np.testing.assert_allclose(F.gelu(x).numpy(), x.numpy() * phi, rtol=1e-14)
    np.testing.assert_allclose(F.silu(x).numpy(), x.numpy() / (1 + np.exp(-x.numpy())), rtol=1e-15)
    np.testing.assert_allclose(F.elu(x, alpha=2.0).numpy(), [2 * math.expm1(-1), 0, 1, 30], rtol=1e-15)
    np.testing.assert_allclose(F.softplus(x).numpy(), [math.log1p(math.exp(-1)), math.log(2), math.log1p(math.e), 30])
    assert F.softplus(x, beta=2, threshold=1).numpy()[2] == 1.0  # 2 * 1 > 1: linear branch, x itself
    np.testing.assert_array_equal(grad_of(lambda t: F.softplus(t), [25.0, 1e4], backend), [1, 1])
    np.testing.assert_array_equal(grad_of(lambda t: F.elu(t, alpha=0.5), [-0.0, 0.0, 2.0], backend), [0.5, 0.5, 1])
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(x, approximate="fast")


def test_activation_modules_and_tensor_softmax(backend):
    x = mt.tensor([[1.0, 2.0, 3.0]], dtype=mt.float64, backend=backend)
    for module, fn in ((mt.nn.GELU(), F.gelu), (mt.nn.SiLU(), F.silu), (mt.nn.ELU(), F.elu), (mt.nn.Softplus(), F.softplus)):
        np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())
    np.testing.assert_array_equal(mt.nn.LogSoftmax(dim=1)(x).numpy(), F.log_softmax(x, 1).numpy())
    np.testing.assert_array_equal(mt.nn.LogSoftmax()(x).numpy(), F.log_softmax(x, 1).numpy())  # 2-d: dim 1
    np.testing.assert_array_equal(x.softmax(-1).numpy(), F.softmax(x, 1).numpy())
    np.testing.assert_array_equal(x.log_softmax(1).numpy(), F.log_softmax(x, 1).numpy())
    assert repr(mt.nn.GELU(approximate="tanh")) == "GELU(approximate='tanh')"
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        x.softmax(2)


# ----- losses -----------------------------------------------------------------------------------
def test_cross_entropy_routes_options_off_the_fused_op(backend):
    logits = leaf([[1.0, 2.0, 3.0], [1.0, 0.0, -1.0]], backend)
    target = mt.tensor([2, 0], backend=backend)
    assert type(F.cross_entropy(logits, target).grad_fn).__name__ == "CrossEntropy"  # the default: fused
    smoothed = F.cross_entropy(logits, target, label_smoothing=0.1)
    assert type(smoothed.grad_fn).__name__ == "SmoothedCrossEntropy"
    # label smoothing eps: the target puts 1 - eps on its class and eps / C everywhere
    log_p = F.log_softmax(logits, 1).numpy()
    q = np.array([[0, 0, 1], [1, 0, 0]]) * 0.9 + 0.1 / 3
    assert smoothed.item() == pytest.approx(-(q * log_p).sum(1).mean(), rel=1e-14)
    smoothed.backward()
    np.testing.assert_allclose(logits.grad.numpy(), (np.exp(log_p) - q) / 2, rtol=1e-14)
    # ignore_index: that row counts for nothing, and the mean is over the rest
    ignored = F.cross_entropy(logits, mt.tensor([2, 1], backend=backend), ignore_index=1)
    assert ignored.item() == pytest.approx(-log_p[0, 2], rel=1e-14)


def test_cross_entropy_default_ignore_index_on_the_host():
    logits = mt.tensor([[1.0, 2.0], [3.0, 0.0]], dtype=mt.float64)
    loss = F.cross_entropy(logits, mt.tensor([1, -100]))
    assert loss.item() == pytest.approx(-F.log_softmax(logits, 1).numpy()[0, 1], rel=1e-14)
    with pytest.raises(IndexError, match=r"target values must lie in \[0, 2\), found \[-3\]"):
        F.cross_entropy(logits, mt.tensor([1, -3]))


def test_nll_loss(backend):
    log_p = leaf([[-1.0, -2.0], [-0.5, -3.0], [-0.1, -0.2]], backend)
    target = mt.tensor([1, 0, 1], backend=backend)
    assert F.nll_loss(log_p, target).item() == pytest.approx((2 + 0.5 + 0.2) / 3, rel=1e-15)
    loss = mt.nn.NLLLoss(ignore_index=0, reduction="sum")(log_p, target)
    assert loss.item() == pytest.approx(2.2, rel=1e-15)
    loss.backward()
    np.testing.assert_array_equal(log_p.grad.numpy(), [[0, -1], [0, 0], [0, -1]])
    with pytest.raises(ValueError, match=r"input must be \(N, C\) log-probabilities, got shape \(3,\)"):
        F.nll_loss(log_p[:, 0], target)
    with pytest.raises(NotImplementedError, match="class weights"):
        mt.nn.NLLLoss(weight=mt.ones(2))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) and 0 ** -1 on purpose
def test_binary_cross_entropy_values_and_errors(backend):
    x = mt.tensor([0.0, 0.25, 1.0], dtype=mt.float64, backend=backend)
    t = mt.tensor([0.0, 1.0, 0.0], dtype=mt.float64, backend=backend)
    # log 0 is clamped at -100, as in torch: x = 1 with target 0 costs 100
    np.testing.assert_allclose(F.binary_cross_entropy(x, t, reduction="none").numpy(), [0, math.log(4), 100], rtol=1e-15)
    w = mt.tensor([1.0, 2.0, 0.0], dtype=mt.float64, backend=backend)
    assert mt.nn.BCELoss(weight=w, reduction="sum")(x, t).item() == pytest.approx(2 * math.log(4), rel=1e-15)
    with pytest.raises(ValueError, match=r"target size \(2,\) must be the same as input size \(3,\)"):
        F.binary_cross_entropy(x, t[:2])
    if backend == "numpy":
        with pytest.raises(RuntimeError, match=r"between 0 and 1, found \[1.5\]"):
            F.binary_cross_entropy(mt.tensor([0.5, 1.5]), mt.tensor([0.0, 1.0]))
        with pytest.raises(RuntimeError, match=r"input should be between 0 and 1, found \[nan\]"):  # as torch
            F.binary_cross_entropy(mt.tensor([0.5, float("nan")]), mt.tensor([0.0, 1.0]))
        with pytest.raises(RuntimeError, match=r"target should be between 0 and 1, found \[-0.5\]"):  # as torch
            F.binary_cross_entropy(mt.tensor([0.5, 0.5]), mt.tensor([-0.5, 1.0]))


def test_binary_cross_entropy_with_logits_is_finite_at_100(backend):
    for dtype in (mt.float32, mt.float64):
        z = mt.tensor([-100.0, 100.0, -100.0, 100.0], requires_grad=True, dtype=dtype, backend=backend)
        t = mt.tensor([0.0, 0.0, 1.0, 1.0], dtype=dtype, backend=backend)
        loss = F.binary_cross_entropy_with_logits(z, t, reduction="none")
        np.testing.assert_allclose(loss.numpy(), [0, 100, 100, 0], atol=1e-30 if dtype == mt.float64 else 1e-37)
        loss.sum().backward()
        np.testing.assert_allclose(z.grad.numpy(), [0, 1, -1, 0], atol=1e-40)
    z = mt.tensor([0.0], dtype=mt.float64, backend=backend)
    loss = mt.nn.BCEWithLogitsLoss(pos_weight=mt.tensor([3.0], dtype=mt.float64, backend=backend))
    assert loss(z, mt.tensor([1.0], dtype=mt.float64, backend=backend)).item() == pytest.approx(3 * math.log(2), rel=1e-15)


def test_one_hot(backend):
    out = F.one_hot(mt.tensor([[0, 2]], backend=backend))
    assert out.dtype == mt.int64 and out.shape == (1, 2, 3)
    np.testing.assert_array_equal(out.numpy(), [[[1, 0, 0], [0, 0, 1]]])
    assert F.one_hot(mt.tensor([1], backend=backend), 4).shape == (1, 4)
    with pytest.raises(RuntimeError, match="smaller than num_classes=2, found 2"):
        F.one_hot(mt.tensor([0, 2], backend=backend), 2)
    with pytest.raises(RuntimeError, match="non-negative, found -1"):
        F.one_hot(mt.tensor([-1, 0], backend=backend))
    with pytest.raises(RuntimeError, match="only applicable to index tensor"):
        F.one_hot(mt.tensor([0.0], backend=backend))
