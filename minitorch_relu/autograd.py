"""The graph: Function (one differentiable op), no_grad, and the backward pass.

A Function is called on Tensors. Its ``forward`` sees raw arrays and returns an array; whatever
``backward`` will need is kept as an attribute of the Function object (``self.out``, ``self.x``) —
and nothing more, so the graph keeps alive only what the chain rule reads. ``backward`` receives dL/d(output) and returns
dL/d(input) for each input (None where no gradient is needed).
"""

from .backend import backend_of, common_backend

_grad_enabled = True
_tracer = None  # the active mt.autograd.trace() (trace.py), or None: backward then runs untraced


def is_grad_enabled():
    return _grad_enabled


class set_grad_enabled:
    """Context manager that turns graph recording on or off inside a block, then restores it."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._previous
        return False


class no_grad(set_grad_enabled):
    """Stop recording the graph (evaluation, in-place updates), as torch.no_grad; also a decorator."""

    def __init__(self):
        super().__init__(False)

    def __call__(self, func):
        def wrapper(*args, **kwargs):
            with no_grad():
                return func(*args, **kwargs)

        wrapper.__name__ = func.__name__
        wrapper.__doc__ = func.__doc__
        return wrapper


class enable_grad(set_grad_enabled):
    """Record again inside a no_grad block (optimizers run closures this way, as torch does)."""

    def __init__(self):
        super().__init__(True)


class Function:
    """Base class of every op. Subclasses write ``forward(*arrays, **options)`` and ``backward(grad)``."""

    def __init__(self):
        self.inputs = ()
        self.needs_input_grad = ()

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on Tensors; record it in the graph if any input requires grad."""
        arrays = [t.data for t in inputs]
        backend = common_backend(arrays, cls.__name__) if len(arrays) > 1 else backend_of(arrays[0])
        fn = cls()
        fn.xp = backend.xp
        out = fn.forward(*arrays, **options)
        if type(out) is not backend.array_type:  # NumPy reductions return scalars, not 0-d arrays
            out = backend.xp.asarray(out)
        # Every op passes here: a list comprehension and `in` cost less than any() over a generator.
        needs_input_grad = tuple([t.requires_grad for t in inputs]) if _grad_enabled else ()
        if True in needs_input_grad:
            fn.inputs = inputs
            fn.needs_input_grad = needs_input_grad
            return _tensor.Tensor._from_op(out, fn)
        return _tensor.Tensor._wrap(out)

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError


def unbroadcast(grad, shape):
    """Sum ``grad`` back to ``shape``: the adjoint of broadcasting ``shape`` up to ``grad.shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    summed = grad.sum(axis=axes, keepdims=True) if axes else grad
    return summed.reshape(shape)


def _topological_order(root):
    """Non-leaf tensors reachable from ``root``, each before the tensors it was computed from.

    Iterative depth-first search, so a chain of 10,000 ops cannot hit Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        # Mark a node when it is expanded, not when pushed: a node pushed early may be reached again
        # below another consumer, and must then finish before that consumer (diamond graphs).
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        for parent in tensor._ctx.inputs:
            if parent._ctx is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def run_backward(root, grad):
    """Propagate ``grad`` (dL/d root, an array) to every leaf that requires grad.

    Gradients of intermediate tensors live only in a local dict; leaves accumulate into ``.grad``
    as in torch. A leaf's first gradient is stored without a copy when backward produced a fresh
    array for it alone; anything shared (the incoming grad passed straight through, a view of it, or
    one array handed to two inputs) is copied, so accumulating in place can never alias.
    """
    grads = {id(root): grad}
    stored = set()
    order = _topological_order(root)
    if _tracer is not None:  # inside `with mt.autograd.trace()`: it records each step as it runs
        order = _tracer.steps(order)
    for node in order:
        g = grads.pop(id(node))
        fn = node._ctx
        input_grads = fn.backward(g)
        for inp, ig, needed in zip(fn.inputs, input_grads, fn.needs_input_grad):
            if not needed or ig is None:
                continue
            # (a RowSparseGrad from Embedding(sparse=True) is not an array, and stays as it is)
            if type(ig) is not type(inp.data) and not getattr(ig, "is_sparse", False):  # NumPy 0-d ops give scalars
                ig = backend_of(inp.data).asarray(ig)
            if ig.dtype != inp.data.dtype:  # a float64 partner must not make a float32 input's grad float64
                ig = ig.astype(inp.data.dtype)
            if inp._ctx is not None:  # intermediate: sum contributions from every use
                key = id(inp)
                grads[key] = grads[key] + ig if key in grads else ig
            elif inp.grad is None:
                if ig is g or ig.base is not None or id(ig) in stored:
                    ig = ig.copy()
                stored.add(id(ig))
                inp.grad = _tensor.Tensor._wrap(ig)
            else:
                inp.grad.data += ig


# Tensor is used only at call time, and tensor.py imports this module: bind tensor's module last, so
# the cycle resolves whichever module is imported first (a per-call import costs ~1 µs per op).
from . import tensor as _tensor  # noqa: E402
from .trace import trace  # noqa: E402,F401  (mt.autograd.trace(), as torch.autograd holds its tools)
