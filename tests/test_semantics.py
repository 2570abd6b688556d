"""Torch's semantics one step off the lesson's path (issue 12): each test failed before and passes now.

Expected numbers are worked out by hand (and agree with torch 2.x, which parity/test_fuzz.py checks
on random programs).
"""

import threading

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.errors import ShapeError


def t(values, backend="numpy", requires_grad=False, dtype=None):
    return mt.tensor(values, requires_grad=requires_grad, dtype=dtype, backend=backend)


# ----- the manual SGD step and in-place ops -----------------------------------------------------------
def test_manual_sgd_step_under_no_grad_updates_the_leaf_in_place(backend):
    w = t([1.0, -2.0], backend, requires_grad=True)
    memory = w.data
    (w * w).sum().backward()
    with mt.no_grad():
        w -= 0.1 * w.grad
    assert w.data is memory and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.numpy(), [0.8, -1.6], rtol=1e-6)
    assert w._version == 1


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad(backend):
    w = t([1.0, 2.0], backend, requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.mul_(2), lambda: w.copy_(t([0.0, 0.0], backend))):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            change()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w += 1
    assert w.numpy().tolist() == [1.0, 2.0] and w._version == 0


@pytest.mark.parametrize("name, change, expected_value, expected_grad", [
    ("add_", lambda y, z: y.add_(z), [3.0, 5.0], ([2.0, 2.0], [1.0, 1.0])),
    ("sub_", lambda y, z: y.sub_(z), [1.0, 3.0], ([2.0, 2.0], [-1.0, -1.0])),
    ("mul_", lambda y, z: y.mul_(z), [2.0, 4.0], ([2.0, 2.0], [2.0, 4.0])),  # dz = old y
    ("div_", lambda y, z: y.div_(z), [2.0, 4.0], ([2.0, 2.0], [-2.0, -4.0])),  # dz = -y / z^2
    ("copy_", lambda y, z: y.copy_(z), [1.0, 1.0], ([0.0, 0.0], [1.0, 1.0])),
])
def test_in_place_ops_on_a_non_leaf_are_recorded(backend, name, change, expected_value, expected_grad):
    x = t([1.0, 2.0], backend, requires_grad=True)
    z = t([1.0, 1.0], backend, requires_grad=True)
    y = x * 2
    out = change(y, z)
    assert out is y and y.grad_fn is not None and not y.is_leaf
    np.testing.assert_allclose(y.numpy(), expected_value)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected_grad[0])
    np.testing.assert_allclose(z.grad.numpy(), expected_grad[1])


def test_pow_clamp_fill_zero_in_place(backend):
    x = t([0.5, 2.0, 3.0], backend, requires_grad=True)
    y = x * 1
    y.pow_(2)  # d/dx x^2 = 2x, from the old values
    y.clamp_(0.0, 5.0)  # 9 is clipped: no gradient there
    y.sum().backward()
    assert y.numpy().tolist() == [0.25, 4.0, 5.0]
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 4.0, 0.0])
    x.grad = None
    y = x * 1
    y.fill_(7.0)
    y.sum().backward()
    assert y.numpy().tolist() == [7.0] * 3 and x.grad.numpy().tolist() == [0.0] * 3
    y = x * 1
    assert y.zero_().numpy().tolist() == [0.0] * 3


def test_in_place_dtype_and_shape_rules():
    i = t([1, 2])
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired output type int64"):
        i.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2
    assert i.numpy().tolist() == [1, 2] and i._version == 0
    i += 3
    assert i.numpy().tolist() == [4, 5] and i.dtype == mt.int64
    f = t([1.0, 2.0])
    f.mul_(t([2.0, 2.0], dtype=mt.float64))  # computed in float64, written back as float32
    assert f.dtype == mt.float32 and f.numpy().tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match=r"output with shape \(3,\) doesn't match the broadcast shape \(2, 3\)"):
        t([1.0, 2.0, 3.0]).add_(t(np.ones((2, 3), dtype=np.float32)))


def test_in_place_on_a_plain_tensor_with_a_grad_operand_makes_it_part_of_the_graph():
    x = t([1.0, 2.0], requires_grad=True)
    z = t([0.0, 0.0])
    z.add_(x * 3)
    assert z.requires_grad and not z.is_leaf
    z.sum().backward()
    assert x.grad.numpy().tolist() == [3.0, 3.0]


def test_in_place_on_a_view_in_the_graph_is_refused():
    y = t([1.0, 2.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="in-place change of a view"):
        y[0].mul_(2)
    assert y.numpy().tolist() == [1.0, 2.0]


# ----- version counter ----------------------------------------------------------------------------
def test_versions_are_shared_by_views_and_detach():
    x = t([1.0, 2.0, 3.0, 4.0])
    v, d, r = x[1:], x.detach(), x.reshape(2, 2)
    v.add_(1)
    assert x._version == v._version == d._version == r._version == 1
    assert x.numpy().tolist() == [1.0, 3.0, 4.0, 5.0]
    c = x.clone()
    c.add_(1)
    assert c._version == 1 and x._version == 1


def test_optimizer_step_between_forward_and_backward_raises():
    w = mt.nn.Parameter(t([1.0, 2.0]))
    loss = (w * w).sum()
    opt = mt.optim.SGD([w], lr=0.1)
    w.grad = t([1.0, 1.0])
    opt.step()
    with pytest.raises(RuntimeError, match=r"modified by an inplace.*MulBackward0.*version 1; expected version 0"):
        loss.backward()


@pytest.mark.parametrize("change", [
    lambda w: mt.nn.init.zeros_(w),
    lambda w: w.data.__setitem__(0, 0) or w._bump_version(),
])
def test_changes_through_the_engine_bump_the_version(change):
    w = mt.nn.Parameter(t([1.0, 2.0]))
    y = w.exp()  # saves its output, not w
    loss = (y * w).sum()  # saves w
    change(w)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_load_state_dict_bumps_the_version():
    model = mt.nn.Linear(2, 1)
    loss = model(t([[1.0, 2.0]], requires_grad=True)).sum()  # the input's gradient reads the weight
    model.load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_changing_a_tensor_an_op_did_not_save_is_allowed():
    x = t([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y + 1  # Add saves nothing
    y.add_(5)
    z.sum().backward()
    assert x.grad.numpy().tolist() == [1.0, 1.0]


def test_output_saved_by_exp_changed_in_place_raises():
    x = t([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*ExpBackward0"):
        y.sum().backward()


# ----- backward frees the graph -------------------------------------------------------------------
def test_second_backward_raises_unless_the_graph_was_retained(backend):
    x = t([2.0], backend, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()
    assert x.grad.numpy().tolist() == [4.0]
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.numpy().tolist() == [12.0]


def test_backward_frees_the_saved_arrays():
    x = t([1.0, 2.0], requires_grad=True)
    y = x.exp()
    fn = y.grad_fn
    assert hasattr(fn, "out")
    y.sum().backward()
    assert not hasattr(fn, "out")


def test_a_graph_with_nothing_saved_can_be_walked_twice_as_in_torch():
    x = t([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    assert x.grad.numpy().tolist() == [2.0, 2.0]


# ----- grad mode per thread -----------------------------------------------------------------------
def test_no_grad_in_one_thread_leaves_other_threads_recording():
    inside, release = threading.Event(), threading.Event()

    def worker():
        with mt.no_grad():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(5)
    try:
        assert mt.is_grad_enabled()
        assert (t([1.0], requires_grad=True) * 2).requires_grad
    finally:
        release.set()
        thread.join()
    assert mt.is_grad_enabled()


def test_overlapping_no_grad_blocks_in_two_threads_restore_grad_mode():
    barrier = threading.Barrier(2)
    results = []

    def worker():
        with mt.no_grad():
            barrier.wait(5)
        results.append(mt.is_grad_enabled())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [True, True] and mt.is_grad_enabled()


# ----- grad_fn, retain_grad, hooks, clone, dim ---------------------------------------------------
def test_grad_fn_and_next_functions_walk_to_the_leaves():
    x = t([1.0, 2.0], requires_grad=True)
    w = t([3.0, 4.0], requires_grad=True)
    y = (x * w + 1).sum()
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf
    assert y.grad_fn.name() == "SumBackward0"
    (add, _), = y.grad_fn.next_functions
    assert add.name() == "AddBackward0"
    (mul, _), (constant, _) = add.next_functions
    assert mul.name() == "MulBackward0" and constant is None
    (acc_x, _), (acc_w, _) = mul.next_functions
    assert acc_x.name() == "AccumulateGrad" and acc_x.variable is x and acc_w.variable is w
    assert "grad_fn=<SumBackward0>" in repr(y)


def test_retain_grad_and_hooks_on_a_non_leaf():
    x = t([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().tolist()))
    y.register_hook(lambda g: g * 10)  # replaces y's gradient
    (y * y).sum().backward()
    assert seen == [[4.0, 8.0]]
    assert y.grad.numpy().tolist() == [40.0, 80.0]  # after the hooks, as in torch
    assert x.grad.numpy().tolist() == [80.0, 160.0]


def test_hook_on_a_leaf_replaces_its_gradient_and_can_be_removed():
    x = t([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 0 + 5)
    (x * 3).sum().backward()
    assert x.grad.numpy().tolist() == [5.0, 5.0]
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.numpy().tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        t([1.0]).register_hook(print)


def test_clone_stays_in_the_graph_and_dim():
    x = t([[1.0, 2.0]], requires_grad=True)
    c = x.clone()
    assert c.data is not x.data and c.grad_fn.name() == "CloneBackward0" and c.dim() == 2
    (c * 3).sum().backward()
    assert x.grad.numpy().tolist() == [[3.0, 3.0]]


# ----- type promotion -----------------------------------------------------------------------------
I64, F32, F64, B = mt.int64, mt.float32, mt.float64, mt.bool_


@pytest.mark.parametrize("make, dtype", [
    (lambda: t([1, 2]) * t([1.0, 2.0]), F32),  # int64 * float32
    (lambda: t(3) + t([1.0, 2.0]), F32),  # 0-d int + float32
    (lambda: t(3.0, dtype=F64) * t([1.0, 2.0]), F32),  # 0-d float64 * float32: the dimensioned one wins
    (lambda: t(3.0, dtype=F64) * t([1, 2]), F64),  # a 0-d float beats dimensioned ints
    (lambda: t([1, 2]) / t([2, 2]), F32),  # int / int
    (lambda: t([1, 4]) ** 0.5, F32),
    (lambda: t([1, 4]) ** 2, I64),
    (lambda: t([1, 4]).exp(), F32),
    (lambda: t([1, 4]).sqrt(), F32),
    (lambda: t([1, 4]) * 2.5, F32),
    (lambda: t([1.0], dtype=F64) * 2.5, F64),
    (lambda: t([True]) + 1, I64),
    (lambda: t([True]) * t([True]), B),
    (lambda: t([1], dtype=mt.int32) + t([1]), I64),
    (lambda: t([1], dtype=mt.int32) + 5, mt.int32),
])
def test_promotion_is_torchs(make, dtype):
    assert make().dtype == np.dtype(dtype)


def test_result_type_function():
    assert mt.result_type(t([1, 2]), 2.5) == np.float32
    assert mt.result_type(t([1.0]), t(1.0, dtype=F64)) == np.float32


def test_integer_negative_power_and_bool_negation_raise():
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        t([1, 2]) ** -1
    with pytest.raises(TypeError, match="bool tensor"):
        -t([True])


def test_mixed_float_dtypes_keep_gradients_in_each_inputs_dtype():
    a = t([1.0, 2.0], requires_grad=True)
    b = t(3.0, dtype=F64, requires_grad=True)
    y = a * b
    assert y.dtype == F32
    y.sum().backward()
    assert a.grad.dtype == F32 and b.grad.dtype == F64
    assert a.grad.numpy().tolist() == [3.0, 3.0] and b.grad.item() == 3.0


@pytest.mark.parametrize("x_dtype", [F64, I64])
def test_float32_linear_refuses_other_dtypes(x_dtype):
    layer = mt.nn.Linear(2, 1)
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
        layer(t([[1, 2]], dtype=x_dtype))
    with pytest.raises(RuntimeError, match="same dtype, but got: float32 != float64"):
        t([[1.0]]) @ t([[1.0]], dtype=F64)


# ----- indexing -----------------------------------------------------------------------------------
def test_integer_and_index_array_put_dimensions_where_torch_does(backend):
    x = t(np.arange(24.0).reshape(2, 3, 4), backend, requires_grad=True, dtype=F64)
    idx = t([0, 1, 2, 3, 0], backend)
    y = x[0, :, idx]
    assert y.shape == (3, 5)
    np.testing.assert_array_equal(y.numpy(), np.arange(24.0).reshape(2, 3, 4)[0][:, [0, 1, 2, 3, 0]])
    y.sum().backward()
    expected = np.zeros((2, 3, 4))
    expected[0] = [2, 1, 1, 1]
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert x[1, t([0, 2], backend)].shape == (2, 4) and x[:, 1, idx].shape == (2, 5)


def test_boolean_mask_indexing():
    x = t([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    y = x[x > 0]
    assert y.numpy().tolist() == [1.0, 3.0]
    y.sum().backward()
    assert x.grad.numpy().tolist() == [[1.0, 0.0], [1.0, 0.0]]


# ----- unsupported dtypes -------------------------------------------------------------------------
@pytest.mark.parametrize("data", [
    np.array([1 + 2j]), np.array([1.0], dtype=object), np.array(["a"]), [1j], ["a"],
])
def test_unsupported_dtypes_are_refused_when_the_tensor_is_made(data):
    with pytest.raises(TypeError, match="unsupported"):
        mt.tensor(data)


def test_parameter_of_object_array_is_refused():
    with pytest.raises(TypeError, match="unsupported dtype object"):
        mt.nn.Parameter(np.array([1.0], dtype=object))


# ----- validation before mutation -----------------------------------------------------------------
def test_grad_assignment_is_checked(backend):
    w = t([1.0, 2.0], backend, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"different size.*\(3,\).*\(2,\)"):
        w.grad = t([1.0, 2.0, 3.0], backend)
    with pytest.raises(RuntimeError, match="different type.*float64"):
        w.grad = t([1.0, 2.0], backend, dtype=F64)
    with pytest.raises(TypeError, match="Tensor or None"):
        w.grad = [1.0, 2.0]
    if backend != "numpy":
        with pytest.raises(RuntimeError, match="different device"):
            w.grad = t([1.0, 2.0])
    assert w.grad is None


@pytest.mark.parametrize("opt_class", [mt.optim.SGD, mt.optim.Adam, mt.optim.RMSprop, mt.optim.Adagrad])
def test_optimizer_checks_every_gradient_before_changing_any(opt_class):
    a, b = mt.nn.Parameter(t([1.0, 2.0])), mt.nn.Parameter(t([3.0, 4.0]))
    opt = opt_class([a, b], lr=0.1)
    a.grad = t([1.0, 1.0])
    b.grad = t([1.0, 1.0])
    b.grad.data = np.ones(3, dtype=np.float32)  # bypasses the setter, as old code could
    with pytest.raises(RuntimeError, match=r"gradient of parameter 1 of group 0 has shape \(3,\).*nothing was updated"):
        opt.step()
    assert a.numpy().tolist() == [1.0, 2.0] and b.numpy().tolist() == [3.0, 4.0]
    assert a._version == 0


def test_module_load_state_dict_with_one_unconvertible_value_changes_nothing():
    model = mt.nn.Sequential(mt.nn.Linear(2, 2), mt.nn.Linear(2, 1))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    state = {k: np.zeros_like(v) for k, v in before.items()}
    state["1.bias"] = np.array(["x"])
    with pytest.raises(RuntimeError, match=r"cannot load 1\.bias"):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_optimizer_refuses_another_optimizers_state():
    w = mt.nn.Parameter(t([1.0, 2.0]))
    adam, sgd = mt.optim.Adam([w]), mt.optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = t([1.0, 1.0])
    adam.step()
    with pytest.raises(ValueError, match="not SGD's.*lacks momentum"):
        sgd.load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="not Adam's.*betas"):
        adam.load_state_dict(sgd.state_dict())
    assert sgd.state == {}


# ----- RuntimeError where torch raises one ---------------------------------------------------------
@pytest.mark.parametrize("bad", [
    lambda: t(np.ones((2, 3))) @ t(np.ones((2, 3))),
    lambda: t(np.ones((2, 3))) + t(np.ones((2, 4))),
    lambda: t(np.ones((2, 3))).reshape(4),
    lambda: t(np.ones((2, 3))).permute(0, 0),
    lambda: t(np.ones((2, 3))).permute(0),
    lambda: mt.nn.Linear(3, 2)(t(np.ones((1, 4), dtype=np.float32))),
])
def test_shape_errors_are_runtime_errors_and_still_value_errors(bad):
    with pytest.raises(RuntimeError) as info:
        bad()
    assert isinstance(info.value, ValueError) and isinstance(info.value, ShapeError)


def test_cross_entropy_refuses_integer_logits():
    with pytest.raises(RuntimeError, match="logits must be floating point, got dtype int64"):
        mt.nn.functional.cross_entropy(t([[1, 2], [3, 4]]), t([0, 1]))


def test_sigmoid_of_complex_data_is_refused_at_the_source():
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        mt.tensor(np.array([1 + 1j, 2.0])).sigmoid()


def test_a_view_taken_before_an_in_place_op_on_its_base_is_refused_not_silently_wrong():
    x = t([1.0, 2.0], requires_grad=True)
    y = x * 1
    v = y[0]
    y.mul_(2)  # torch would give v the history of the new y (gradient 2); the old one would give 1
    with pytest.raises(RuntimeError, match="taken before an in-place op changed its base"):
        v * 1
    w = y[0] * 1  # taken again after the change: fine
    w.backward()
    assert x.grad.numpy().tolist() == [2.0, 0.0]


def test_a_view_used_before_the_in_place_op_keeps_its_gradient():
    x = t([1.0, 2.0], requires_grad=True)
    y = x * 1
    w = y[0] * 3  # used before: the graph already holds the old history, as in torch
    y.add_(1)
    w.backward()
    assert x.grad.numpy().tolist() == [3.0, 0.0]


# ----- found by the differential fuzzer (parity/fuzz.py) -------------------------------------------
def test_a_leaf_used_twice_gets_its_hook_run_once_on_the_summed_gradient():
    x = t([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().tolist()))
    (x * 2 + x * 3).sum().backward()
    assert seen == [[5.0, 5.0]] and x.grad.numpy().tolist() == [5.0, 5.0]


def test_a_failed_backward_leaves_every_grad_as_it_was():
    x = t([0.5], requires_grad=True)
    y = x + x**0.5  # Add saves nothing, Pow saves x
    y.sum().backward()
    before = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()  # torch raises before touching x.grad: so do we (the Add path is not half-added)
    np.testing.assert_array_equal(x.grad.numpy(), before)


def test_indexing_with_an_index_array_frees_it_as_torch_does():
    x = t([1.0, 2.0, 3.0], requires_grad=True)
    y = x[t([0, 2])].sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    z = x[0:2].sum()  # a slice saves nothing
    z.backward()
    z.backward()


def test_an_integer_index_gives_a_view_as_in_torch():
    x = t([1, 2, 3])
    v = x[2]
    v.add_(10)
    assert x.numpy().tolist() == [1, 2, 13] and v._version == x._version == 1


def test_bool_subtraction_relu_and_matmul_are_refused_as_in_torch():
    b = t([True, False])
    with pytest.raises(TypeError, match="subtraction.*bool"):
        b - 1
    with pytest.raises(TypeError, match="subtraction.*bool"):
        t([1, 2]) - b
    with pytest.raises(NotImplementedError):
        b.relu()
    with pytest.raises(NotImplementedError):
        b @ b


def test_numpy_scalars_keep_their_dtype():
    assert mt.tensor(np.float64(0.5)).dtype == np.float64 and mt.tensor(np.int32(3)).dtype == np.int32


def test_clamp_gradient_is_zero_at_the_bounds_as_in_torch():
    x = t([-0.5, 1.5, 0.0, 2.0, -1.0], requires_grad=True)
    y = x * 1
    y.clamp_(-0.5, 1.5)
    y.sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]


def test_in_place_with_a_partly_overlapping_operand_is_refused(backend):
    x = t([[1.0, 2.0], [3.0, 4.0]], backend)
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        x += x.T
    assert x.numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    x += x.detach()  # the very same memory is fine
    x[0].add_(x[1])  # disjoint parts too
    assert x.numpy().tolist() == [[8.0, 12.0], [6.0, 8.0]]
    # torch computes x += x[:, 0] (a strided operand is "too hard" for its check) and reads elements it
    # has already written ([[16, 18], [22, 30]]); refused here rather than giving other numbers
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        x.add_(x[:, 0])


def test_hook_on_a_0d_tensor_used_twice():
    x = t(0.0, requires_grad=True)
    c = x.clone()
    c.register_hook(lambda g: g * 2)
    c.retain_grad()
    (c + c).backward()
    assert c.grad.item() == 4.0 and x.grad.item() == 4.0


def test_sqrt_power_gradient_at_negative_zero_is_torchs():
    x = t(0.0, requires_grad=True)
    ((x / -1) ** 0.5).backward()  # torch: d/dy y**0.5 at y = -0.0 is 0.5 / sqrt(-0.0) = -inf; times -1
    assert x.grad.item() == np.inf


def test_a_cast_operand_still_notices_in_place_changes_of_the_original():
    mask = t([True, False])
    x = t([1.0, 2.0], requires_grad=True)
    y = (x * mask).sum()  # mask is promoted to float32 for the product, and saved
    mask.zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_number_divided_by_a_tensor_saves_the_reciprocal_as_torch_does():
    x = t([2.0, 4.0], requires_grad=True)
    y = 1 / x
    assert y.grad_fn.name() == "MulBackward0"
    with mt.no_grad():
        x.add_(1)  # torch saved 1/x, not x: the gradient is still computable
    y.sum().backward()
    assert x.grad.numpy().tolist() == [-0.25, -0.0625]


def test_max_gradient_is_zero_off_the_maximum_even_when_nan_flows_in():
    x = t([0.0, -1.5], requires_grad=True)
    m = x.max()
    (m * float("nan")).backward()
    assert np.isnan(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.0


def test_in_place_into_a_bool_or_int_tensor_is_never_recorded():
    b = t(True)
    b.copy_(t(1.0, requires_grad=True))
    assert not b.requires_grad and b.is_leaf and b.item() is True


def test_flatten_after_advanced_indexing_is_a_view_as_in_torch():
    x = t(np.arange(12).reshape(3, 2, 2) > 5)
    y = x[2, :, t([0, 1, 1, 0, 1])]  # NumPy would lay this out transposed; torch's result is contiguous
    flat = y.reshape(-1)
    y.fill_(True)
    assert flat.numpy().all() and flat._version == 1


def test_reshape_that_must_copy_is_not_a_view():
    x = t(np.arange(6.0).reshape(2, 3)).transpose(0, 1)
    r = x.reshape(-1)  # not expressible as a view of the transposed layout: a copy
    r.add_(1)
    assert x.numpy().tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]] and x._version == 0


def test_relu_passes_no_nan_to_inactive_units():
    x = t([-1.0, 2.0], requires_grad=True)
    (x.relu() * float("nan")).sum().backward()
    assert x.grad.numpy()[0] == 0.0 and np.isnan(x.grad.numpy()[1])


def test_relu_passes_the_gradient_where_its_input_is_nan():
    # torch's threshold_backward: 0 where out <= 0, else grad; relu(NaN) is NaN and NaN <= 0 is false
    x = t([float("nan"), -1.0, 0.0, 2.0], requires_grad=True)
    x.relu().backward(t([5.0, 5.0, 5.0, float("nan")]))
    assert np.array_equal(x.grad.numpy(), [5.0, 0.0, 0.0, np.nan], equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relus_branch_free_select_is_numpys_where_bit_for_bit(dtype):
    from minitorch_relu.functions.relu import zero_where, zero_where_not

    values = np.array([1.5, -0.0, 0.0, np.nan, -np.inf, np.inf, -2.5, np.nan, 3e-8], dtype=dtype)
    mask = np.array([True, True, False, True, True, False, False, False, True])
    got = zero_where_not(mask, values)
    want = np.where(mask, values, dtype(0))
    assert got.dtype == dtype and np.array_equal(got.view(f"u{values.itemsize}"), want.view(f"u{values.itemsize}"))
    strided = np.arange(12.0, dtype=dtype).reshape(3, 4)[:, ::2]  # a view with gaps: same result
    assert np.array_equal(zero_where_not(strided > 3, strided), np.where(strided > 3, strided, 0))
    assert zero_where_not(np.array(1.0) > 0, np.array(dtype(np.nan))).ndim == 0  # 0-d stays 0-d
    bits = f"u{values.itemsize}"
    assert np.array_equal(zero_where(mask, values).view(bits), np.where(mask, dtype(0), values).view(bits))
    into = np.full(values.shape, 7, dtype)
    assert zero_where(mask, values, out=into) is into
    assert np.array_equal(into.view(bits), np.where(mask, dtype(0), values).view(bits))


def test_changing_index_tensors_in_place_before_backward_is_refused_as_in_torch():
    # torch saves x[idx]'s index tensor and an embedding's indices: backward would scatter by them
    from minitorch_relu.nn.sparse import embedding

    x = t([1.0, 2.0, 3.0], requires_grad=True)
    idx = mt.tensor(np.array([0, 2]))
    picked = (x * 1)[idx]
    idx.add_(0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        picked.sum().backward()
    rows = mt.tensor(np.array([1, 1]))
    looked_up = embedding(rows, mt.tensor(np.ones((3, 2), np.float32), requires_grad=True))
    rows.mul_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        looked_up.sum().backward()


def test_a_second_backward_through_dropout_or_max_dim_raises_as_in_torch():
    # torch saves the dropout mask and max(dim)'s indices, and frees them after the first backward
    x = t(np.ones((4, 5)), requires_grad=True)
    for out in (mt.nn.functional.dropout(x, 0.5), x.max(dim=1).values):
        out.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            out.sum().backward()


def test_a_view_taken_before_its_base_gained_a_history_is_refused():
    # torch rebuilds such a view's history (it requires grad now); this engine says to take it again
    base = t([1.0, 2.0]).clone()  # no gradient yet
    view = base[0:1]
    base.add_(t([1.0, 1.0], requires_grad=True))  # recorded: base has a history now
    with pytest.raises(RuntimeError, match="take the view again"):
        view * 2
    assert (base[0:1] * 2).requires_grad  # taken again: fine
