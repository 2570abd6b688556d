"""In-place array updates named after torch's in-place Tensor methods, so an update reads as its formula.

    lerp_(m, g, 1 - beta1)                           m = m + (1 - beta1) * (g - m)
    addcmul_(mul_(v, beta2), g, g, value=1 - beta2)  v = beta2 * v + (1 - beta2) * g * g
    addcdiv_(p, m, denom, value=-lr)                 p = p - lr * m / denom

Each overwrites its first argument and returns it, so calls chain as torch's do
(``exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)``). They keep torch's order of
operations ((value * t1) * t2, (value * t1) / t2, lerp's switch of formula at weight 0.5). torch's
CPU kernels also fuse some multiply-adds (lerp, addcmul, add with alpha), which NumPy cannot, so
those agree with torch to rounding rather than to the bit; addcdiv_ agrees to the bit.

A product of two arrays needs a temporary; each helper makes one and drops it on return. Keeping
scratch buffers per parameter instead saves little (``python -m benchmarks.optim_step``, recorded
in benchmarks/README.md), and the update then reads as the formula. Only operators and Python
scalars are used, so the same code runs on every backend's arrays.
"""

from ..backend import backend_of, on_host


def mul_(a, value):
    """a = a * value."""
    a *= value
    return a


def div_(a, value):
    """a = a / value."""
    a /= value
    return a


def add_(a, b, alpha=1):
    """a = a + alpha * b (b an array or a number), rounded as (b * alpha) then the sum."""
    a += b if alpha == 1 else b * alpha
    return a


def lerp_(start, end, weight):
    """start = start + weight * (end - start), rounded as torch.lerp_ rounds it.

    Once weight >= 0.5 torch computes end - (end - start) * (1 - weight) instead (exact at
    weight 1, and smaller rounding errors near end); both forms are kept, as torch has them.
    """
    diff = end - start
    if weight < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1 - weight
        backend_of(start).xp.subtract(end, diff, out=start)
    return start


def addcmul_(a, t1, t2, value=1):
    """a = a + value * t1 * t2, with (value * t1) * t2 rounded first, as torch.addcmul_."""
    if value == 1:
        a += t1 * t2
    else:
        product = t1 * value
        product *= t2
        a += product
    return a


def addcdiv_(a, t1, t2, value=1):
    """a = a + value * t1 / t2, with (value * t1) / t2 rounded first, as torch.addcdiv_."""
    if value == 1:
        a += t1 / t2
    else:
        quotient = t1 * value
        quotient /= t2
        a += quotient
    return a


CACHE_BLOCK = 2**15  # elements: one block of each array an update touches, ~1 MB together, fits a core's L2


def in_cache_blocks(update, *arrays, **kwargs):
    """``update(*arrays, **kwargs)`` for an elementwise update, run a block of CACHE_BLOCK elements at
    a time: each of the update's passes then finds its block in the cache, where over a whole large
    parameter (the deep MLP's 512x512 weights: 1 MB an array) every pass reads memory again.
    The same numbers as one call (every element sees the same operations); arrays that are not
    contiguous host arrays (whose blocks would be copies) take the one call."""
    present = [a for a in arrays if a is not None]
    if present[0].size <= CACHE_BLOCK or not all(on_host(a) and a.flags.c_contiguous for a in present):
        return update(*arrays, **kwargs)
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    for start in range(0, flat[0].size, CACHE_BLOCK):
        update(*(None if a is None else a[start:start + CACHE_BLOCK] for a in flat), **kwargs)
