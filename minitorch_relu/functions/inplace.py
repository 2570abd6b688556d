"""In-place ops (add_, mul_, copy_, clamp_, ...) with torch's rules, and the small ops only they need.

An in-place op computes its result out of place (the ordinary op, so promotion and gradients are
the ordinary ones), checks that the result fits the tensor, then writes it into the tensor's memory
and counts the change in its version counter. When the graph records it, the tensor's history
becomes that op, which reads a copy of the old values (torch's ``original_self``).
"""

from ..autograd import Function, is_grad_enabled, unbroadcast
from ..backend import backend_of
from ..errors import ShapeError


def apply_(target, name, compute, *others):
    """Make ``target`` hold ``compute(target)``, in place; ``others`` are the other Tensor operands."""
    grad_mode = is_grad_enabled()
    if grad_mode and target.requires_grad and target.grad_fn is None:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place operation; change it "
            "under `with no_grad():`, as an optimizer step does"
        )
    records = grad_mode and target.dtype.kind == "f" and (  # int and bool tensors never join the graph
        target.requires_grad or any(getattr(o, "requires_grad", False) for o in others))
    if records and target._base is not None:
        raise RuntimeError(
            f"{name}: in-place change of a view ({target.shape}, of a tensor of shape {target._base.shape}) "
            "while the graph is recording is not supported by this engine (torch rebases the base's history); "
            "clone() the view first"
        )
    _check_no_partial_overlap(name, target, others)
    result = compute(_snapshot(target) if records else target)
    if result.shape != target.shape:
        raise ShapeError(f"{name}: output with shape {target.shape} doesn't match the broadcast shape {result.shape}")
    if _category(result.dtype) > _category(target.dtype):
        raise RuntimeError(f"{name}: result type {result.dtype.name} can't be cast to the desired output type "
                           f"{target.dtype.name}")
    target.data[...] = result.data  # (cast to target's dtype, as torch writes it)
    target._bump_version()
    if records:
        old = target.grad_fn
        target.grad_fn, target.requires_grad = result.grad_fn, True
        if old is not None and old._retained is target:  # retain_grad() follows the tensor to its new history
            old._retained, target.grad_fn._retained = None, target
    return target


def _check_no_partial_overlap(name, target, others):
    """torch refuses ``x += x.T`` and the like: an operand that shares some (not all) of the memory
    written to. Only views and detach() share memory, and they share the version counter too."""
    for other in others:
        if getattr(other, "_version_counter", None) is target._version_counter and other is not target:
            a, b = other.data, target.data
            if not _same_layout(a, b) and backend_of(b).xp.may_share_memory(a, b):
                raise RuntimeError(f"{name}: unsupported operation: some elements of the input tensor and the "
                                   "written-to tensor refer to a single memory location; clone() the input first")


def _same_layout(a, b):
    return a is b or (a.shape == b.shape and a.strides == b.strides and _address(a) == _address(b))


def _address(array):
    interface = getattr(array, "__array_interface__", None) or getattr(array, "__cuda_array_interface__", None)
    return interface["data"][0] if interface else id(array)


def _snapshot(target):
    """The old values as a tensor of their own (same history, own memory and version counter)."""
    old = type(target)._wrap(target.data.copy())
    old.grad_fn, old.requires_grad = target.grad_fn, target.requires_grad
    return old


def _category(dtype):
    return 2 if dtype.kind == "f" else 0 if dtype.kind == "b" else 1


def fill_value(value):
    """fill_ takes a number (or a one-element Tensor, read as its number)."""
    if hasattr(value, "item") and hasattr(value, "numel"):
        if value.numel() != 1:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with shape {value.shape}")
        return value.item()
    if isinstance(value, (bool, int, float)) or hasattr(value, "dtype"):
        return value
    raise TypeError(f"fill_: value must be a number, got {type(value).__name__}")


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return (grad,)


class Fill(Function):
    """Every element set to one number: the old values get gradient 0."""

    def forward(self, x, value):
        return self.xp.full(x.shape, value, dtype=x.dtype)

    def backward(self, grad):
        return (self.xp.zeros_like(grad),)


class Copy(Function):
    """x's values replaced by src's (broadcast to x's shape, cast to x's dtype)."""

    def forward(self, x, src):
        self.src_shape = src.shape
        try:
            out = self.xp.broadcast_to(src, x.shape)
        except ValueError:
            raise ShapeError(
                f"copy_: source of shape {tuple(src.shape)} does not broadcast to {tuple(x.shape)}") from None
        return out.astype(x.dtype)

    def backward(self, grad):
        grad_src = unbroadcast(grad, self.src_shape) if self.needs_input_grad[1] else None
        return self.xp.zeros_like(grad), grad_src

