"""Embedding lookups and their row-sparse gradients, against torch.nn.Embedding / torch sparse tensors."""

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.functions.embedding import RowSparseGrad

try:
    import torch
except ImportError:  # the comparisons with torch skip; the other tests need NumPy only
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="compares with torch, which is not installed")

WEIGHT = np.random.default_rng(3).normal(size=(7, 3))
INDICES = np.array([[0, 4, 4], [6, 0, 4]])  # repeats, and rows 1, 2, 3, 5 never used
UPSTREAM = np.random.default_rng(4).normal(size=(2, 3, 3))


def _ours(sparse, padding_idx=None, backend=None):
    emb = mt.nn.Embedding(7, 3, padding_idx=padding_idx, sparse=sparse, dtype=mt.float64, backend=backend)
    emb.weight.data[...] = mt.tensor(WEIGHT, backend=backend).data
    out = emb(mt.tensor(INDICES, backend=backend))
    out.backward(mt.tensor(UPSTREAM, backend=backend))
    return emb, out


def _torch(sparse, padding_idx=None):
    emb = torch.nn.Embedding(7, 3, padding_idx=padding_idx, sparse=sparse, dtype=torch.float64)
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(WEIGHT))
    out = emb(torch.tensor(INDICES))
    out.backward(torch.tensor(UPSTREAM))
    return emb, out


@needs_torch
@pytest.mark.parametrize("padding_idx", [None, 4])
@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_forward_and_gradient_match_torch(sparse, padding_idx, backend):
    emb, out = _ours(sparse, padding_idx, backend)
    ref_emb, ref_out = _torch(sparse, padding_idx)
    np.testing.assert_allclose(out.numpy(), ref_out.detach().numpy(), rtol=0, atol=0)
    grad = emb.weight.grad.data
    ref_grad = ref_emb.weight.grad
    assert getattr(grad, "is_sparse", False) == ref_grad.is_sparse == sparse
    if sparse:
        # uncoalesced, as torch's: one entry per looked-up position (padding positions dropped)
        ref_grad_c = ref_grad.coalesce()
        assert grad.indices.shape[0] == ref_grad._nnz()
        ours_c = grad.coalesce()
        np.testing.assert_array_equal(mt.tensor(ours_c.indices).numpy(), ref_grad_c.indices()[0].numpy())
        np.testing.assert_allclose(mt.tensor(ours_c.values).numpy(), ref_grad_c.values().numpy(), rtol=1e-15)
        dense = mt.tensor(grad.to_dense()).numpy()
        ref_dense = ref_grad.to_dense().numpy()
    else:
        dense, ref_dense = emb.weight.grad.numpy(), ref_grad.numpy()
    np.testing.assert_allclose(dense, ref_dense, rtol=1e-15, atol=0)
    if padding_idx == 4:
        np.testing.assert_array_equal(dense[4], 0.0)  # the padding row gets no gradient
    else:
        assert np.abs(dense[4]).min() > 0


def test_padding_row_starts_at_zero():
    emb = mt.nn.Embedding(5, 2, padding_idx=-1)
    assert emb.padding_idx == 4
    np.testing.assert_array_equal(emb.weight.numpy()[4], [0.0, 0.0])
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        mt.nn.Embedding(5, 2, padding_idx=5)


@needs_torch
def test_sparse_gradients_accumulate_like_torch(backend):
    """Two backward passes append their entries (torch's sparse accumulation); coalesced they add up."""
    emb, _ = _ours(True, backend=backend)
    emb(mt.tensor(INDICES[:, :2], backend=backend)).sum().backward()
    ref_emb, _ = _torch(True)
    ref_emb(torch.tensor(INDICES[:, :2])).sum().backward()
    grad = emb.weight.grad.data
    assert grad.indices.shape[0] == ref_emb.weight.grad._nnz() == 10
    np.testing.assert_allclose(mt.tensor(grad.to_dense()).numpy(), ref_emb.weight.grad.to_dense().numpy(),
                               rtol=1e-15)


@needs_torch
def test_dense_grad_plus_sparse_grad_is_dense():
    """The table used by a lookup and by a dense op in one graph: the gradients add up to torch's."""
    w = mt.tensor(WEIGHT, requires_grad=True)
    loss = (mt.nn.sparse.embedding(mt.tensor(INDICES), w, sparse=True) ** 2).sum() + (w * 3.0).sum()
    loss.backward()
    tw = torch.tensor(WEIGHT, requires_grad=True)
    ((torch.nn.functional.embedding(torch.tensor(INDICES), tw, sparse=True) ** 2).sum() + (tw * 3.0).sum()).backward()
    grad = w.grad.data
    dense = grad.to_dense() if getattr(grad, "is_sparse", False) else grad
    np.testing.assert_allclose(dense, tw.grad.to_dense().numpy(), rtol=1e-15)


def test_row_sparse_grad_arithmetic():
    g = RowSparseGrad(np.array([2, 0, 2]), np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), (4, 2))
    c = g.coalesce()
    np.testing.assert_array_equal(c.indices, [0, 2])
    np.testing.assert_array_equal(c.values, [[3.0, 4.0], [6.0, 8.0]])
    np.testing.assert_array_equal((-g).to_dense(), -g.to_dense())
    dense = np.ones((4, 2))
    dense += g  # NumPy hands the in-place add to RowSparseGrad: a scatter-add
    np.testing.assert_array_equal(dense, [[4, 5], [1, 1], [7, 9], [1, 1]])
    g[...] = 0  # zero_grad(set_to_none=False)
    assert g.indices.shape == (0,) and g.values.shape == (0, 2)
    with pytest.raises(ValueError, match="indices must be 1-D"):
        RowSparseGrad(np.array([[0]]), np.zeros((1, 2)), (4, 2))


def test_embedding_rejects_bad_indices():
    emb = mt.nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        emb(mt.tensor([1, 4]))
    with pytest.raises(TypeError, match="int64"):
        emb(mt.tensor([1.0]))


DENSE_ONLY = [("SGD", "SGD does not support sparse gradients"),
              ("Adam", "Adam does not support sparse gradients, please consider SparseAdam instead"),
              ("AdamW", "Adam does not support sparse gradients, please consider SparseAdam instead"),
              ("Adagrad", "Adagrad does not support sparse gradients"),
              ("Adadelta", "Adadelta does not support sparse gradients"),
              ("RMSprop", "RMSprop does not support sparse gradients"),
              ("ASGD", "ASGD does not support sparse gradients"),
              ("Rprop", "Rprop does not support sparse gradients")]


@pytest.mark.parametrize("name, message", DENSE_ONLY)
def test_dense_optimizers_refuse_sparse_gradients_before_any_change(name, message, backend):
    """A dense parameter first, then the table: the error comes before the first one moves."""
    dense_p = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True, backend=backend)
    emb, _ = _ours(True, backend=backend)
    (dense_p * dense_p).sum().backward()
    opt = getattr(mt.optim, name)([dense_p, emb.weight], lr=0.1)
    state_before = opt.state_dict()
    with pytest.raises(RuntimeError) as info:
        opt.step()
    assert str(info.value) == message
    np.testing.assert_array_equal(dense_p.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(emb.weight.numpy(), WEIGHT)
    assert opt.state_dict()["state"].keys() == state_before["state"].keys()


@needs_torch
def test_sparse_adam_refuses_dense_gradients_like_torch(backend):
    emb, _ = _ours(True, backend=backend)
    dense_p = mt.tensor([1.0, 2.0], dtype=mt.float64, requires_grad=True, backend=backend)
    (dense_p * dense_p).sum().backward()
    opt = mt.optim.SparseAdam([emb.weight, dense_p])
    with pytest.raises(RuntimeError) as info:
        opt.step()
    tp = torch.tensor([1.0, 2.0], requires_grad=True)
    (tp * tp).sum().backward()
    with pytest.raises(RuntimeError) as ref:
        torch.optim.SparseAdam([tp]).step()
    assert str(info.value) == str(ref.value)
    np.testing.assert_array_equal(emb.weight.numpy(), WEIGHT)  # checked before the sparse one moved
    assert opt.state == {}


def test_sparse_adam_one_step_by_hand():
    """Row 4 looked up twice: its gradient rows are summed before the (non-linear) update."""
    emb = mt.nn.Embedding(5, 1, sparse=True, dtype=mt.float64)
    emb.weight.data[...] = 0.0
    emb(mt.tensor([4, 4, 1])).sum().backward()  # row 4 gets 1 + 1 = 2, row 1 gets 1
    mt.optim.SparseAdam([emb.weight], lr=0.1).step()
    # first step: m = 0.1 g, v = 0.001 g^2, step = 0.1 * sqrt(0.001)/0.1 * m / (sqrt(v) + 1e-8) ~ 0.1 * sign(g)
    expected = -0.1 * np.sqrt(0.001) / 0.1 * (0.1 * np.array([1.0, 2.0])) / (np.sqrt(0.001) * np.array([1.0, 2.0]) + 1e-8)
    np.testing.assert_allclose(emb.weight.numpy()[[1, 4], 0], expected, rtol=1e-15)
    np.testing.assert_array_equal(emb.weight.numpy()[[0, 2, 3], 0], 0.0)


@needs_torch
def test_lbfgs_densifies_a_sparse_gradient_like_torch(backend):
    """torch's LBFGS turns a sparse gradient dense; so does this one: same trajectory on the lookup problem."""
    from parity.optim_harness import PROBLEMS, max_rel_diff, run

    options = {"lr": 0.5, "max_iter": 4, "line_search_fn": "strong_wolfe"}
    ours = run("minitorch", "LBFGS", options, PROBLEMS["embedding"], 5, backend=backend)
    ref = run("torch", "LBFGS", options, PROBLEMS["embedding"], 5)
    assert max_rel_diff(ours.trajectory, ref.trajectory) < 1e-9
    assert np.abs(ref.final - PROBLEMS["embedding"].start["weight"].reshape(-1)).max() > 0.1
