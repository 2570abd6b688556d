"""Flatten: merge dimensions start_dim..end_dim into one (default: all but the batch), a reshape."""

from .module import Module


def _flat_shape(shape, start_dim, end_dim):
    ndim = max(len(shape), 1)
    start, end = start_dim % ndim, end_dim % ndim
    if not -ndim <= start_dim < ndim or not -ndim <= end_dim < ndim or start > end:
        raise IndexError(f"Flatten: start_dim={start_dim}, end_dim={end_dim} do not fit a tensor of shape {shape}")
    merged = 1
    for n in shape[start:end + 1]:
        merged *= n
    return tuple(shape[:start]) + (merged,) + tuple(shape[end + 1:])


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.reshape(*_flat_shape(x.shape, self.start_dim, self.end_dim))

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
