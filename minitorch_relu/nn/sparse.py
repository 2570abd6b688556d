"""Embedding: a (num_embeddings, embedding_dim) table whose rows are looked up by integer index.

With ``sparse=True`` the table's gradient is row-sparse (see functions/embedding.py): only the rows
a batch looked up are listed, which is what SparseAdam expects, as with torch.nn.Embedding.
"""

import numpy as np

from ..autograd import saves_tensors_of_options
from ..backend import get_backend
from ..functions.embedding import Embedding as EmbeddingFn
from ..tensor import Tensor, default_dtype
from . import init
from .module import Module
from .parameter import Parameter


def embedding(input, weight, padding_idx=None, sparse=False):
    """Rows of ``weight`` picked by the int64 tensor ``input``: output shape input.shape + (dim,)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding: input must be a Tensor of int64 indices, got {type(input).__name__}")
    out = EmbeddingFn.apply(weight, indices=input.data, padding_idx=padding_idx, sparse=sparse)
    return saves_tensors_of_options(out, [input])  # backward reads the indices, as torch's


class Embedding(Module):
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, sparse=False, dtype=None, backend=None):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")  # torch's message
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.sparse = padding_idx, sparse
        xp = get_backend(backend).xp
        self.weight = Parameter(xp.empty((num_embeddings, embedding_dim), dtype=dtype or default_dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)  # torch's default: N(0, 1), with the padding row zeroed
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.sparse)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.sparse:
            text += ", sparse=True"
        return text
