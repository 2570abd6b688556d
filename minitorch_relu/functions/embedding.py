"""Embedding lookup (rows of a table picked by integer indices) and the row-sparse gradient it makes.

Forward:   out[..., :] = weight[indices[...], :]
Backward:  d weight = for each looked-up position k, add grad[k] to row indices[k].

A lookup touches only a few rows of a large table, so with ``sparse=True`` the gradient is not a
dense (num_embeddings, dim) array but a ``RowSparseGrad``: the list of touched rows (``indices``,
int64, 1-D, repeats allowed) and one gradient row per entry (``values``, shape (nnz, dim)). This is
torch's uncoalesced sparse COO gradient of ``nn.Embedding(sparse=True)``; ``coalesce()`` sums the
repeats, as torch does before every non-linear update. The parameter's ``.grad`` is then a Tensor
whose ``.data`` is this object (``p.grad.data.is_sparse`` is True); only SparseAdam accepts it.
"""

from ..autograd import Function
from ..backend import backend_of


class RowSparseGrad:
    """Gradient rows ``values[k]`` for table rows ``indices[k]`` of a table of ``shape``; rows not listed are 0."""

    is_sparse = True
    base = None  # never a view of another array: autograd may keep it without copying

    def __init__(self, indices, values, shape):
        if indices.ndim != 1 or values.ndim != 2 or values.shape[0] != indices.shape[0]:
            raise ValueError(f"RowSparseGrad: indices must be 1-D and values (len(indices), dim); got indices "
                             f"{tuple(indices.shape)} and values {tuple(values.shape)}")
        if values.shape[1] != shape[1]:
            raise ValueError(f"RowSparseGrad: rows of width {values.shape[1]} for a table of shape {tuple(shape)}")
        self.indices, self.values, self.shape = indices, values, tuple(shape)

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def xp(self):
        return backend_of(self.values).xp

    def astype(self, dtype, copy=True):
        return RowSparseGrad(self.indices, self.values.astype(dtype), self.shape)

    def copy(self):
        return RowSparseGrad(self.indices.copy(), self.values.copy(), self.shape)

    def coalesce(self):
        """Each row once, in increasing order, with the values of its repeats summed (torch's coalesce)."""
        xp = self.xp
        rows, inverse = xp.unique(self.indices, return_inverse=True)
        summed = xp.zeros((rows.shape[0], self.shape[1]), dtype=self.values.dtype)
        xp.add.at(summed, inverse.reshape(-1), self.values)
        return RowSparseGrad(rows.astype(self.indices.dtype, copy=False), summed, self.shape)

    def to_dense(self):
        dense = self.xp.zeros(self.shape, dtype=self.values.dtype)
        self.xp.add.at(dense, self.indices, self.values)
        return dense

    def __neg__(self):
        return RowSparseGrad(self.indices, -self.values, self.shape)

    # Gradient accumulation (a second backward, or the table used twice): sparse + sparse stays
    # sparse (the entries are appended, as torch does); sparse + dense becomes dense.
    def __add__(self, other):
        if isinstance(other, RowSparseGrad):
            if other.shape != self.shape:
                raise ValueError(f"RowSparseGrad: cannot add gradients of shapes {self.shape} and {other.shape}")
            xp = self.xp
            return RowSparseGrad(xp.concatenate([self.indices, other.indices]),
                                 xp.concatenate([self.values, other.values]), self.shape)
        dense = other.copy()
        self.xp.add.at(dense, self.indices, self.values)
        return dense

    __radd__ = __add__
    __iadd__ = __add__

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        # ``dense_grad += sparse_grad`` (NumPy calls add with out=dense): scatter-add the rows in place.
        if ufunc.__name__ == "add" and method == "__call__" and out is not None and len(out) == 1 \
                and len(inputs) == 2 and inputs[0] is out[0] and inputs[1] is self:
            self.xp.add.at(out[0], self.indices, self.values)
            return out[0]
        return NotImplemented

    def __setitem__(self, index, value):
        # zero_grad(set_to_none=False) writes grad[...] = 0: keep no rows at all, like torch's zero_().
        if index is not Ellipsis or value != 0:
            raise TypeError("a RowSparseGrad supports only grad[...] = 0")
        self.indices, self.values = self.indices[:0], self.values[:0]

    def __repr__(self):
        return f"RowSparseGrad(indices={self.indices!r}, values=<{tuple(self.values.shape)}>, shape={self.shape})"


class Embedding(Function):
    saves_arrays = True  # the indices, as torch

    def forward(self, weight, indices, padding_idx=None, sparse=False):
        if weight.ndim != 2:
            raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got shape {tuple(weight.shape)}")
        if indices.dtype.kind not in "iu":
            raise TypeError(f"embedding: indices must be integers (int64), got dtype {indices.dtype}")
        num = weight.shape[0]
        if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= num):
            raise IndexError(f"embedding: indices must lie in [0, {num}), got values in "
                             f"[{int(indices.min())}, {int(indices.max())}]")
        self.indices, self.padding_idx, self.sparse, self.weight_shape = indices, padding_idx, sparse, weight.shape
        self.dtype = weight.dtype
        return weight[indices]

    def backward(self, grad):
        rows = self.indices.reshape(-1).astype("int64", copy=False)
        values = grad.reshape(-1, self.weight_shape[1])
        if self.padding_idx is not None:  # the padding row never learns: drop its entries
            keep = rows != self.padding_idx
            rows, values = rows[keep], values[keep]
        if self.sparse:
            # own copy of the rows: the incoming grad may be shared with other inputs
            return (RowSparseGrad(rows, values.copy(), self.weight_shape),)
        dense = self.xp.zeros(self.weight_shape, dtype=self.dtype)
        self.xp.add.at(dense, rows, values)  # a row looked up twice gets both contributions
        return (dense,)
