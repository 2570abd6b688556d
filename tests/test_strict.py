"""The strict stand-in device: NumPy underneath, but it refuses what CuPy refuses.

These tests pin down the manners the rest of the suite relies on when it runs with --backend strict:
if StrictArray quietly turned into a numpy array anywhere, that run would prove nothing.
"""

import numpy as np
import pytest

from minitorch_relu_testing import strict


@pytest.fixture
def a():
    return strict.asarray([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], dtype=np.float32)


def host(x):
    assert type(x) is strict.StrictArray, f"expected a device array, got {type(x).__name__}"
    return x.get()


# ----- the host boundary -------------------------------------------------------------------------
def test_implicit_conversion_to_numpy_is_refused(a):
    for convert in (np.asarray, np.array, lambda x: np.array([x, x]), lambda x: np.float32(1) + np.asarray(x)):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
            convert(a)


def test_get_and_to_numpy_are_the_explicit_copies(a):
    out = a.get()
    assert type(out) is np.ndarray and out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1, -2, 3], [4, 5, -6]])
    out[0, 0] = 100  # a copy: the device array is untouched
    assert strict.to_numpy(a)[0, 0] == 1
    with pytest.raises(TypeError, match="StrictArray"):
        strict.to_numpy(np.ones(2))


def test_asarray_copies_host_data_and_keeps_device_arrays(a):
    source = np.arange(3.0)
    device = strict.asarray(source)
    source[0] = 7
    assert device.get()[0] == 0  # uploaded, not shared
    assert strict.asarray(a) is a
    assert strict.asarray(a, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("op", [
    lambda d, h: d + h, lambda d, h: h + d, lambda d, h: d * h, lambda d, h: h - d, lambda d, h: d @ h.T,
    lambda d, h: np.add(d, h), lambda d, h: np.maximum(h, d), lambda d, h: np.where(d > 0, d, h),
    lambda d, h: np.concatenate([d, h]),
])
def test_mixing_a_device_array_with_a_numpy_array_is_a_type_error(a, op):
    with pytest.raises(TypeError, match="numpy.ndarray"):
        op(a, np.ones((2, 3), dtype=np.float32))


def test_in_place_op_and_out_argument_refuse_numpy_arrays(a):
    with pytest.raises(TypeError, match="numpy.ndarray"):
        a += np.ones((2, 3), dtype=np.float32)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        strict.multiply(a, 2, out=np.empty((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(a.get(), [[1, -2, 3], [4, 5, -6]])  # nothing was written


def test_one_element_arrays_convert_to_python_scalars(a):
    assert float(a[0, 2]) == 3.0 and type(float(a[0, 2])) is float
    assert int(a[1, 1]) == 5
    assert bool(a[1, 1] > 4) is True and bool(a[1, 1] < 4) is False
    assert a[1, 2].item() == -6.0
    assert a.tolist() == [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]
    with pytest.raises(ValueError, match="ambiguous"):
        bool(a > 0)
    with pytest.raises(TypeError, match="one element"):
        float(a)


def test_transfers_are_counted():
    strict.reset_transfers()
    x = strict.asarray(np.arange(4.0))  # one upload
    y = strict.exp(x) * 2 + x  # device work only
    x[np.array([0, 1])] = 3.0  # a host index array is uploaded, as CuPy does
    assert strict.transfers == {"to_device": 2, "to_host": 0}
    float(y[0]), y.get(), y.tolist()
    assert strict.transfers == {"to_device": 2, "to_host": 3}


# ----- NumPy's functions on device arrays stay on the device -------------------------------------
def test_numpy_ufuncs_and_functions_dispatch_and_return_device_arrays(a):
    expected = np.array([[1, -2, 3], [4, 5, -6]], dtype=np.float32)
    np.testing.assert_allclose(host(np.exp(a)), np.exp(expected))
    np.testing.assert_array_equal(host(np.maximum(a, 0)), np.maximum(expected, 0))
    np.testing.assert_array_equal(host(np.where(a > 0, a, 0)), np.where(expected > 0, expected, 0))
    np.testing.assert_array_equal(host(np.concatenate([a, a])), np.concatenate([expected, expected]))
    np.testing.assert_array_equal(host(np.broadcast_to(a[0], (4, 3))), np.broadcast_to(expected[0], (4, 3)))
    assert host(np.sum(a)).shape == ()


def test_namespace_functions_match_numpy(a):
    expected = a.get()
    np.testing.assert_allclose(host(strict.tanh(a)), np.tanh(expected))
    np.testing.assert_array_equal(host(strict.abs(a)), np.abs(expected))
    np.testing.assert_array_equal(host(strict.zeros_like(a)), np.zeros((2, 3)))
    np.testing.assert_array_equal(host(strict.arange(4)), [0, 1, 2, 3])
    np.testing.assert_array_equal(host(strict.matmul(a, a.T)), expected @ expected.T)
    idx = strict.asarray([[2], [0]])
    np.testing.assert_array_equal(host(strict.take_along_axis(a, idx, axis=1)), [[3], [4]])
    np.testing.assert_array_equal(host(strict.expand_dims(a, 0)).shape, (1, 2, 3))
    assert strict.float32 is np.float32 and strict.pi == np.pi  # dtypes and constants pass through
    with pytest.raises(AttributeError, match="no attribute 'not_a_numpy_name'"):
        strict.not_a_numpy_name


def test_out_argument_writes_in_place_and_returns_the_same_array(a):
    buf = strict.empty_like(a)
    result = strict.multiply(a, a, out=buf)
    assert result is buf
    np.testing.assert_array_equal(buf.get(), a.get() ** 2)
    np.subtract(a, 1, out=buf)  # the numpy function, on device arrays, with a device out=
    np.testing.assert_array_equal(buf.get(), a.get() - 1)
    strict.sqrt(strict.abs(a), out=buf)
    np.testing.assert_allclose(buf.get(), np.sqrt(np.abs(a.get())))


def test_ufunc_at_scatter_adds_repeated_indices():
    out = strict.zeros(4)
    strict.add.at(out, strict.asarray([0, 0, 3]), strict.asarray([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(out.get(), [3, 0, 0, 5])
    grid = strict.zeros((2, 3))
    strict.add.at(grid, (strict.asarray([1, 1]), strict.asarray([2, 2])), 1.5)
    assert grid.get()[1, 2] == 3.0


# ----- CuPy-like array behaviour -----------------------------------------------------------------
def test_reductions_return_zero_dim_device_arrays(a):
    for value, expected in ((a.sum(), 5.0), (a.max(), 5.0), (a.min(), -6.0), (a.mean(), 5 / 6), (a.argmax(), 4)):
        assert type(value) is strict.StrictArray and value.shape == ()
        assert value.item() == pytest.approx(expected)
    np.testing.assert_array_equal(host(a.sum(axis=0, keepdims=True)), [[5, 3, -3]])
    np.testing.assert_array_equal(host(a.argmax(axis=1)), [2, 1])
    assert bool(a.any()) and not bool((a > 10).all())
    zero_d = a[0, 0]
    for reduce in (zero_d.argmax, zero_d.sum, zero_d.max):  # NumPy allows axis 0 here; CuPy does not
        with pytest.raises(np.exceptions.AxisError, match="axis 0 is out of bounds for array of dimension 0"):
            reduce(axis=0)
    assert zero_d.sum(axis=()).item() == 1.0 and zero_d.argmax().item() == 0


def test_arithmetic_comparisons_and_in_place_operators(a):
    x = a.get()
    np.testing.assert_array_equal(host(2 - a), 2 - x)
    np.testing.assert_array_equal(host(a / 2), x / 2)
    np.testing.assert_array_equal(host(a**2), x**2)
    np.testing.assert_array_equal(host(-a), -x)
    assert host(-a[0, 0]).shape == () and host(abs(a.sum())).shape == ()  # 0-d in, 0-d out
    np.testing.assert_array_equal(host(abs(a)), np.abs(x))
    np.testing.assert_array_equal(host(np.float32(3) * a), 3 * x)
    np.testing.assert_array_equal(host(a == 4), x == 4)
    np.testing.assert_array_equal(host(a >= 3), x >= 3)
    np.testing.assert_array_equal(host((a > 0) & (a < 4)), (x > 0) & (x < 4))
    before = a
    a += 1
    a *= a
    a -= strict.asarray([1.0, 1.0, 1.0], dtype=np.float32)
    assert a is before
    np.testing.assert_array_equal(a.get(), (x + 1) ** 2 - 1)


def test_indexing_views_and_item_assignment(a):
    row = a[1]
    assert type(row) is strict.StrictArray and row.base is not None
    row[0] = 40  # a view: writes reach the original, as in CuPy
    assert a.get()[1, 0] == 40
    assert a.base is None and a.copy().base is None
    assert type(a[0, 0]) is strict.StrictArray and a[0, 0].shape == ()  # a 0-d array, not a NumPy scalar
    np.testing.assert_array_equal(host(a[a < 0]), [-2, -6])
    rows, cols = strict.asarray([0, 1]), strict.asarray([2, 0])
    np.testing.assert_array_equal(host(a[rows, cols]), [3, 40])
    a[rows, cols] = strict.asarray([7.0, 8.0], dtype=np.float32)
    a[..., 1] = 0
    np.testing.assert_array_equal(a.get(), [[1, 0, 7], [8, 0, -6]])
    assert [r.tolist() for r in a] == [[1, 0, 7], [8, 0, -6]]
    assert len(a) == 2


def test_shape_methods(a):
    x = a.get()
    assert a.shape == (2, 3) and a.ndim == 2 and a.size == 6 and a.dtype == np.float32
    np.testing.assert_array_equal(host(a.T), x.T)
    np.testing.assert_array_equal(host(a.reshape(3, 2)), x.reshape(3, 2))
    np.testing.assert_array_equal(host(a.reshape((-1,))), x.ravel())
    np.testing.assert_array_equal(host(a.transpose(1, 0)), x.T)
    np.testing.assert_array_equal(host(a[None].swapaxes(0, 2)), x[None].swapaxes(0, 2))
    np.testing.assert_array_equal(host(a[:, :1].squeeze(1)), x[:, 0])
    np.testing.assert_array_equal(host(a.clip(-1, 1)), x.clip(-1, 1))
    assert a.astype(np.int64).dtype == np.int64
    assert a.astype(np.float32, copy=False).dtype == np.float32


def test_repr_shows_it_is_a_device_array(a):
    assert repr(a).startswith("strict_array([[")


def test_stricts_array_type_is_registered_as_its_own_backend():
    import minitorch_relu as mt
    from minitorch_relu.backend import backend_of

    backend = mt.get_backend("strict")
    assert backend.xp is strict and backend.array_type is strict.StrictArray
    assert backend_of(strict.zeros(2)) is backend
