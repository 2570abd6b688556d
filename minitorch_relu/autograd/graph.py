"""The graph: Function (one differentiable op), no_grad, and the backward pass.

A Function is called on Tensors. Its ``forward`` sees raw arrays and returns an array; whatever
``backward`` will need is kept as an attribute of the Function object (``self.out``, ``self.x``) —
and nothing more, so the graph keeps alive only what the chain rule reads. ``backward`` receives dL/d(output) and returns
dL/d(input) for each input (None where no gradient is needed).
"""

import threading

from ..backend import backend_of, common_backend

# Function.apply wraps what ops return in Tensors, but tensor.py imports this module (Tensor.backward
# runs the pass below), so this module cannot import tensor.py back without a cycle: tensor.py hands
# its class over, once, when it is imported.
Tensor = None


def register_tensor_class(cls):
    global Tensor
    Tensor = cls


class _GradMode(threading.local):
    """Whether ops record the graph, per thread as in torch: a no_grad block in one thread leaves the
    others recording."""

    enabled = True


_grad_mode = _GradMode()
_tracer = None  # the active mt.autograd.trace() (trace.py), or None: backward then runs untraced


def is_grad_enabled():
    return _grad_mode.enabled


class set_grad_enabled:
    """Context manager that turns graph recording on or off inside a block, then restores it."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __exit__(self, *exc):
        _grad_mode.enabled = self._previous
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


# The one place that asks which device an op runs on: a few ops have a GPU version (a subclass with
# fused kernels, functions/cupy_fused.py) that Function.apply runs for CuPy arrays instead, so each
# op's own file holds its math alone.
_cupy_versions = {}


def cupy_version_of(op):
    """Class decorator: the decorated subclass of ``op`` runs in its place on CuPy arrays."""
    def register(subclass):
        _cupy_versions[op] = subclass
        return subclass

    return register


class Function:
    """Base class of every op. Subclasses write ``forward(*arrays, **options)`` and ``backward(grad)``.

    A recorded op keeps ``inputs`` (the Tensors), ``needs_input_grad`` and ``parents``: for each input,
    the Function that made it at the time of the call (None for a leaf). Edges point at Functions, not
    at tensors, so a later in-place op on an input (which gives that tensor a new history) cannot
    reroute the gradient of ops that used its old value.
    """

    # What backward reads, declared so the version check and freeing below know it: the positions
    # of the inputs whose values it saves, whether it saves its output, and whether it keeps arrays
    # of its own that torch saves as tensors (a dropout mask, max(dim)'s indices, x[idx]'s index
    # arrays): all are freed after backward, so a second backward raises, as torch's.
    saved_inputs = ()
    saves_output = False
    saves_arrays = False
    is_view = False  # the output shares memory (and the version counter) with input 0
    # (counter, version) of each saved tensor at forward time: a list (maybe empty) once the op saved
    # anything, None once freed
    saved_versions = ()
    _hooks = None  # hooks registered on the tensor this op made (torch keeps them on its grad_fn)
    _retained = None  # that tensor, if it called retain_grad()

    xp = None  # the array namespace of the inputs (numpy, cupy...), set by apply before forward runs

    def __init__(self):
        self.inputs = ()
        self.needs_input_grad = ()

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on Tensors; record it in the graph if any input requires grad."""
        arrays = [t.data for t in inputs]
        backend = common_backend(arrays, cls.__name__) if len(arrays) > 1 else backend_of(arrays[0])
        fn = _cupy_versions.get(cls, cls)() if backend.is_cupy else cls()
        fn.xp = backend.xp
        out = fn.forward(*arrays, **options)
        if type(out) is not backend.array_type:  # NumPy reductions return scalars, not 0-d arrays
            out = backend.xp.asarray(out)
        # Every op passes here: a list comprehension and `in` cost less than any() over a generator.
        needs_input_grad = tuple([t.requires_grad for t in inputs]) if _grad_mode.enabled else ()
        for t in inputs:
            if t._base is not None and _grad_mode.enabled:
                _check_view_is_current(t)
        if True in needs_input_grad:
            fn.inputs = inputs
            fn.needs_input_grad = needs_input_grad
            fn.parents = tuple([t.grad_fn for t in inputs])
            result = Tensor._from_op(out, fn)
            if fn.saved_inputs or fn.saves_output or fn.saves_arrays:
                fn.saved_versions = [(inputs[i]._version_counter, inputs[i]._version_counter[0])
                                     for i in fn.saved_inputs]
                if fn.saves_output:
                    fn.saved_versions.append((result._version_counter, 0))
        else:
            result = Tensor._wrap(out)
        if fn.is_view:  # a view and its base are one memory: an in-place change to either bumps both
            base = inputs[0]
            result._version_counter = base._version_counter
            result._base = base if base._base is None else base._base
            result._base_history = result._base.grad_fn
        return result

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    # ----- torch's view of the graph (grad_fn) --------------------------------------------------
    def name(self):
        return f"{type(self).__name__}Backward0"

    @property
    def next_functions(self):
        """((node, 0), ...) per input, as torch's: the Function that made it, an AccumulateGrad for
        a leaf that requires grad, or None."""
        edges = []
        for inp, parent, needed in zip(self.inputs, getattr(self, "parents", ()), self.needs_input_grad):
            if parent is not None:
                edges.append((parent, 0))
            else:
                edges.append((AccumulateGrad(inp) if needed else None, 0))
        return tuple(edges)

    def register_hook(self, hook):
        """hook(grad) -> None or a replacement, run on the gradient of this op's output."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad:
    """The graph's end at a leaf: its gradient is added into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "AccumulateGrad"

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    __hash__ = object.__hash__

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def saved_for_each_other(needs_input_grad):
    """Positions saved by a product (a*b, a@b, linear): a is read only for b's gradient and b only for
    a's, as torch saves them."""
    a_needs, b_needs = needs_input_grad[0], needs_input_grad[1]
    return (0, 1) if a_needs and b_needs else (0,) if b_needs else (1,) if a_needs else ()


def saves_tensors_of_options(out, tensors):
    """Declare tensors an op read through its options (the index tensors of ``x[idx]``, the indices
    of an embedding): torch saves them, so changing one in place before backward is refused, and a
    second backward raises. ``out``: the op's result."""
    if out.grad_fn is not None and tensors:
        fn = out.grad_fn
        fn.saved_versions = list(fn.saved_versions) + [(t._version_counter, t._version_counter[0]) for t in tensors]
    return out


def unbroadcast(grad, shape):
    """Sum ``grad`` back to ``shape``: the adjoint of broadcasting ``shape`` up to ``grad.shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    summed = grad.sum(axis=axes, keepdims=True) if axes else grad
    return summed.reshape(shape)


def _topological_order(root_fn):
    """Functions reachable from ``root_fn``, each before the Functions that made its inputs.

    Iterative depth-first search, so a chain of 10,000 ops cannot hit Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        # Mark a node when it is expanded, not when pushed: a node pushed early may be reached again
        # below another consumer, and must then finish before that consumer (diamond graphs).
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        stack.append((fn, True))
        for parent in fn.parents:
            if parent is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def run_backward(root, grad, retain_graph=False):
    """Propagate ``grad`` (dL/d root, an array) to every leaf that requires grad.

    The chain rule, op by op in topological order: each Function receives the sum of the gradients
    of its output's uses and hands each input its share. Intermediate gradients live only in this
    pass; a leaf's contributions are summed too, and added to its ``.grad`` once the whole pass has
    succeeded (torch's AccumulateGrad). Unless ``retain_graph``, each op's saved arrays are freed once
    used.
    """
    grads = {root.grad_fn: grad}  # Function -> dL/d(its output), summed over the output's uses
    leaf_grads = {}  # leaf Tensor -> dL/d(leaf), summed the same way (Tensors hash by identity)
    kept = set()  # ids of the arrays leaf_grads holds as they came from backward (see _unshared)
    order = _topological_order(root.grad_fn)
    if _tracer is not None:  # inside `with mt.autograd.trace()`: it records each step as it runs
        order = _tracer.steps(order)
    for fn in order:
        out_grad = grads.pop(fn)
        if fn._hooks is not None or fn._retained is not None:
            out_grad = _run_tensor_hooks(fn, out_grad)
        _check_saved_tensors(fn)
        input_grads = fn.backward(out_grad)
        if not retain_graph and fn.saved_versions != ():  # it saved something: free it
            _free_saved_tensors(fn)
        for inp, parent, in_grad, needed in zip(fn.inputs, fn.parents, input_grads, fn.needs_input_grad):
            if not needed or in_grad is None:
                continue
            in_grad = _as_grad_of(inp, in_grad)
            if parent is not None:  # an intermediate result: the Function that made it runs later
                grads[parent] = grads[parent] + in_grad if parent in grads else in_grad
            elif inp in leaf_grads:
                leaf_grads[inp] = leaf_grads[inp] + in_grad
            else:
                leaf_grads[inp] = _unshared(in_grad, out_grad, kept)
    for leaf, leaf_grad in leaf_grads.items():
        accumulate_into_leaf(leaf, leaf_grad)


def accumulate_into_leaf(leaf, grad):
    """The graph's end at a leaf (torch's AccumulateGrad): the leaf's hooks, then ``leaf.grad += grad``."""
    grad = _as_grad_of(leaf, grad)  # a sum of NumPy 0-d arrays is a scalar
    if leaf._hooks is not None:
        grad = _run_tensor_hooks(leaf, grad)
    accumulate_grad(leaf, grad)


def accumulate_grad(tensor, grad):
    """``tensor.grad += grad``, or ``= grad`` for its first gradient (kept, not copied: see _unshared)."""
    if tensor._grad is None:
        tensor._grad = Tensor._wrap(grad)
    else:
        tensor._grad.data += grad


# ----- the edge cases of adding gradients up --------------------------------------------------------
def _as_grad_of(tensor, grad):
    """``grad`` as an array of ``tensor``'s type and dtype: NumPy's 0-d ops return scalars, and a
    float64 partner must not make a float32 input's gradient float64. (A RowSparseGrad, from
    Embedding(sparse=True), stays as it is.)"""
    if type(grad) is not type(tensor.data) and not getattr(grad, "is_sparse", False):
        grad = backend_of(tensor.data).asarray(grad)
    if grad.dtype != tensor.data.dtype:
        grad = grad.astype(tensor.data.dtype)
    return grad


def _unshared(grad, out_grad, kept):
    """A leaf's first gradient, which may become its ``.grad`` and be added to in place later: copied
    if it is shared (the incoming gradient passed straight through, a view of another array, or one
    array handed to two leaves), kept as it is when backward made it for this leaf alone."""
    if grad is out_grad or grad.base is not None or id(grad) in kept:
        grad = grad.copy()
    kept.add(id(grad))
    return grad


def _check_saved_tensors(fn):
    """Refuse to compute a gradient from values that are gone or have changed since forward.

    Backward reads what forward saved (Mul's inputs, Exp's output...). If one of those tensors was
    changed in place since (an optimizer step, ``+=``, ``copy_``), the gradient would silently be
    wrong, so torch counts every tensor's in-place changes (``_version``) and raises; so do we.
    """
    if fn.saved_versions is None:
        raise RuntimeError(
            "Trying to backward through the graph a second time (or directly access saved tensors after they "
            f"have already been freed): {fn.name()} freed what it saved at the first backward. Specify "
            "retain_graph=True if you need to backward through the graph a second time."
        )
    for counter, version in fn.saved_versions:
        if counter[0] != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: a tensor saved by {fn.name()} is at version {counter[0]}; expected version "
                f"{version} instead. Hint: clone() it before changing it in place, or change it after backward."
            )


def _check_view_is_current(view):
    """A view whose base got a new history (an in-place op recorded on the base) after the view was
    taken would pass gradients to the old history: torch rebuilds the view's history then; this engine
    refuses to use it (also a view taken before its base required grad: torch's view would require it now)."""
    if view._base_history is not view._base.grad_fn:
        made_by = f" (made by {view.grad_fn.name()})" if view.grad_fn is not None else ""
        raise RuntimeError(
            f"this view{made_by} was taken before an in-place op changed its base; torch would "
            "rebase the view's history, this engine cannot: take the view again after the in-place op"
        )


def _free_saved_tensors(fn):
    """Drop the arrays ``fn`` saved for backward (torch frees saved tensors after backward)."""
    array_type = type(fn.inputs[0].data)
    attributes = vars(fn)
    for name in [name for name, value in attributes.items() if type(value) is array_type]:
        del attributes[name]
    fn.saved_versions = None


def _run_tensor_hooks(owner, grad):
    """Hooks of a tensor (kept on a leaf, or on the Function that made a non-leaf) on its gradient:
    each may return a replacement. Then a non-leaf that asked for retain_grad() keeps the result."""
    xp = owner.xp if isinstance(owner, Function) else backend_of(owner.data).xp
    grad = xp.asarray(grad)  # a sum of 0-d arrays is a NumPy scalar
    for hook in list(owner._hooks or ()):
        replaced = hook(Tensor._wrap(grad))
        if replaced is not None:
            replaced = replaced.data if isinstance(replaced, Tensor) else replaced
            if tuple(replaced.shape) != tuple(grad.shape):
                raise RuntimeError(f"hook returned a gradient of shape {tuple(replaced.shape)}, expected "
                                   f"{tuple(grad.shape)}")
            grad = replaced.astype(grad.dtype, copy=False)
    retained = getattr(owner, "_retained", None)
    if retained is not None:
        accumulate_grad(retained, grad.copy())  # a copy: the pass goes on using grad
    return grad
