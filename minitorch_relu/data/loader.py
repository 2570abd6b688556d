"""DataLoader: mini-batches cut from in-memory arrays, with torch.utils.data.DataLoader's options.

Unlike torch's loader it never touches one sample at a time: a batch is one fancy-indexing call on
the whole array (images[idx]), then one cast. With ``backend="cupy"`` the whole set is uploaded once
and batches are cut on the device; only the epoch's permutation, drawn on the host, is sent each epoch.

uint8 images are scaled to [0, 1] as torchvision's ToTensor does: cast, then divide by 255 in the
target dtype (a correctly rounded division, so float32 values equal ToTensor's bit for bit).
"""

import numpy as np

from .. import random as mt_random
from ..backend import get_backend
from ..tensor import Tensor


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"DataLoader: {name} must be a positive integer, got {value!r}")


def image_rows(images, dtype=np.float32, backend=None, raw_pixels=False):
    """Images as (N, pixels) rows in ``dtype`` on ``backend``, the way a model is fed them: uint8
    pixels scaled to [0, 1] as in training, or left raw 0..255 with ``raw_pixels`` (the lesson's
    test-time quirk). Cast, then divide in ``dtype``: the same numbers the DataLoader gives."""
    dtype = np.dtype(dtype)
    images = np.asarray(images)
    rows = images.reshape(len(images), -1).astype(dtype)
    if not raw_pixels and images.dtype == np.uint8:
        rows /= dtype.type(255)
    return get_backend(backend).asarray(rows)


class ReplaySampler:
    """A sampler giving recorded orders, one epoch per ``iter()``: replays another loader's shuffles
    (the parity tests and the `compare` demo feed torch's exact batch order to this engine)."""

    def __init__(self, orders):
        self.orders, self.epoch = list(orders), 0

    def __iter__(self):
        if self.epoch >= len(self.orders):
            raise ValueError(f"ReplaySampler: only {len(self.orders)} epoch orders were recorded")
        order = self.orders[self.epoch]
        self.epoch += 1
        return iter(order)


class DataLoader:
    """Iterate over (x, y) Tensor batches of a data set.

    dataset     an object with ``images`` and ``labels`` arrays (an MNIST), or a pair (images, labels)
    batch_size  samples per batch (> 0)
    shuffle     a new random order every epoch (each ``iter()``)
    drop_last   drop the last, smaller batch
    generator   a minitorch_relu Generator to draw from (torch's ``generator=``); by default the
                engine's default generator, reseeded by mt.manual_seed. A numpy Generator is also
                accepted (its own permutation, not torch's order)
    seed        shorthand for ``generator=mt.Generator().manual_seed(seed)``
    sampler     instead of shuffle: any iterable giving one epoch's sample indices per ``iter()``
                (how the parity tests replay torch's exact order)
    backend     where batches live ("numpy", "cupy", "strict"); the set is uploaded once
    dtype       dtype of x (float32 by default); uint8 pixels are scaled to [0, 1]
    flatten     x as (B, 784) rows (the lesson's X.view(-1, 28 * 28)); False keeps (B, 28, 28)

    x holds the chosen dtype, y int64 labels; neither requires grad.

    Shuffling draws what torch's DataLoader draws, in the same order, so after the same seeding the
    batches are torch's: each ``iter()`` takes one int64 from the generator (torch's ``_base_seed``,
    for worker processes; drawn even without shuffle). With shuffle, the first batch then takes
    another int64 from the default generator, seeds a fresh Generator with it and uses
    ``randperm(n)`` from that one (torch's RandomSampler); with ``generator=`` the permutation comes
    from that generator directly (and, like torch's sampler, a second one is drawn and dropped when
    the epoch ends).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, *, seed=None, generator=None,
                 sampler=None, backend=None, dtype=np.float32, flatten=True):
        images, labels = self._unpack(dataset)
        _check_positive_int("batch_size", batch_size)
        n = len(labels)
        if drop_last and batch_size > n:
            raise ValueError(
                f"DataLoader: batch_size={batch_size} is larger than the data set ({n} samples) with "
                "drop_last=True, so not one batch would be produced"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive (the sampler sets the order)")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        if generator is not None and not isinstance(generator, (mt_random.Generator, np.random.Generator)):
            raise TypeError(f"DataLoader: generator must be a minitorch_relu Generator (or a numpy Generator), "
                            f"got {type(generator).__name__}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"DataLoader: dtype must be a floating point type, got {dtype}")

        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.dtype = dtype
        self.flatten = flatten
        self.n = n
        self._generator = mt_random.Generator().manual_seed(seed) if seed is not None else generator
        self._backend = get_backend(backend)
        self._scale = images.dtype == np.uint8  # raw pixels -> [0, 1], as ToTensor
        # One upload of the whole set; every batch is then cut where the model runs.
        self._images = self._backend.asarray(np.ascontiguousarray(images))
        self._labels = self._backend.asarray(np.asarray(labels, dtype=np.int64))

    @staticmethod
    def _unpack(dataset):
        if isinstance(dataset, (tuple, list)) and len(dataset) == 2:
            images, labels = dataset
        elif hasattr(dataset, "images") and hasattr(dataset, "labels"):
            images, labels = dataset.images, dataset.labels
        else:
            raise TypeError(
                f"DataLoader: dataset must be an (images, labels) pair or have .images and .labels, "
                f"got {type(dataset).__name__}"
            )
        images, labels = np.asarray(images), np.asarray(labels)
        if labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"DataLoader: images {images.shape} and labels {labels.shape} must have the same first "
                "dimension, and labels must be 1-D"
            )
        if len(labels) == 0:
            raise ValueError("DataLoader: the data set is empty")
        if labels.dtype.kind not in "iu":  # a float 1.7 would silently become class 1, a nan int64's minimum
            raise TypeError(
                f"DataLoader: labels must be integer class indices, got dtype {labels.dtype}"
                + (f" (first values {labels[:3].tolist()})" if labels.dtype.kind in "fcb" else "")
                + "; convert whole-number labels with labels.astype(numpy.int64)"
            )
        return images, labels

    def __len__(self):
        """Batches per epoch, as torch counts them."""
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def _order(self):
        """This epoch's sample order on the host, or None for the natural order (no index needed)."""
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)  # one epoch's indices, in one array
            if order.ndim != 1 or (order.size and (order.min() < 0 or order.max() >= self.n)):
                raise ValueError(f"DataLoader: the sampler must give 1-D indices in [0, {self.n}), got "
                                 f"shape {order.shape}")
            return order
        if self.shuffle:
            if isinstance(self._generator, np.random.Generator):
                return self._generator.permutation(self.n)
            if self._generator is not None:
                return mt_random.permutation(self.n, self._generator)
            # torch's RandomSampler: a fresh generator, seeded from the default one, every epoch
            sampler_generator = mt_random.Generator().manual_seed(mt_random.draw_seed())
            return mt_random.permutation(self.n, sampler_generator)
        return None

    def _make_batch(self, index):
        x = self._images[index]
        y = self._labels[index]
        if self.flatten:
            x = x.reshape(x.shape[0], -1)
        # Always a fresh array: the cached set is never modified.
        if self._scale:  # cast, then divide in the target dtype: one pass (one launch on a GPU)
            x = self._backend.xp.divide(x, self.dtype.type(255), dtype=self.dtype)
        else:
            x = x.astype(self.dtype)
        return Tensor._wrap(x), Tensor._wrap(y)

    def __iter__(self):
        # torch draws its iterator's base seed when the iterator is made, before the first batch
        if not isinstance(self._generator, np.random.Generator):
            mt_random.draw_seed(self._generator)  # the default generator when none was given
        return self._batches()

    def _batches(self):
        order = self._order()
        count = len(order) if order is not None else self.n
        if order is not None:
            order = self._backend.asarray(order)  # one transfer per epoch; batches slice it on the device
        stop = count - count % self.batch_size if self.drop_last else count
        for start in range(0, stop, self.batch_size):
            window = slice(start, min(start + self.batch_size, count))
            yield self._make_batch(order[window] if order is not None else window)
        if self.shuffle and isinstance(self._generator, mt_random.Generator):
            # Once exhausted, torch's RandomSampler draws one more randperm(n) (for its num_samples % n
            # tail, empty here). From the per-epoch generator that is invisible; from a given one it
            # advances the stream by the n - 1 words of a shuffle.
            self._generator.random(max(self.n - 1, 0))

    def __repr__(self):
        return (f"DataLoader(n={self.n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, backend={self._backend.name!r}, dtype={self.dtype.name})")
