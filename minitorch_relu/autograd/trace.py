"""Watch the backward pass: ``with mt.autograd.trace() as tr: loss.backward()``, then ``print(tr)``.

Each step of backward (one op, in the order backward runs it) is recorded as a dict:

    step        1, 2, ... in the order the steps ran
    op          the op's name ("Sigmoid", "Linear", ...)
    name        the name ``params`` gives the op's output tensor, else None
    shape       the shape of the op's output
    grad_in     the norm of dL/d(output), the gradient that reached this op
    inputs      a label for each input: a leaf's name (from ``params``), "input"/"leaf", or the op that made it
    grads_out   the norm of the gradient the op passed to each input (None where none is needed)
    ratios      grads_out / grad_in: how much the step scaled the gradient (for sigmoid, its local factor)
    seconds     the time the step took (the op's backward and adding its results up)

Norms are Euclidean (Frobenius) norms, read back to the host: tracing is for looking, not for speed.
When no trace is active, run_backward checks one global once per backward call and nothing per op.
"""

import time

from ..backend import backend_of
from . import graph


def grad_norm(array):
    """The Euclidean norm of a gradient array (a RowSparseGrad counts its listed rows) as a float."""
    if getattr(array, "is_sparse", False):
        array = array.values
    backend = backend_of(array)
    flat = array.reshape(-1)
    return float(backend.to_numpy(backend.xp.sqrt((flat * flat).sum())))


def _names_of(params):
    """id(tensor) (and id of the op that made it) -> name, from a dict of named tensors or a Module."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    names = {}
    for name, tensor in dict(params).items():
        names[id(tensor)] = name
        if tensor.grad_fn is not None:  # backward runs the op that made it: name that op's output
            names[id(tensor.grad_fn)] = name
    return names


class trace:
    """Context manager that records every step of each backward() run inside it.

    ``params`` (a dict of name -> tensor, or a Module) names tensors in the records: leaves, and any
    intermediate result listed there too (such as ``{"a1": a1}``). Traces nest:
    the inner one records while it is active, then the outer one again.
    """

    def __init__(self, params=None):
        self.names = _names_of(params)
        self.records = []

    def __enter__(self):
        self._previous = graph._tracer
        graph._tracer = self
        return self

    def __exit__(self, *exc):
        graph._tracer = self._previous
        return False

    # ----- called by run_backward ---------------------------------------------------------------
    def steps(self, order):
        """Yield the ops of ``order`` one by one, recording what each backward step does.

        For one step, the op's ``backward`` is shadowed by a recording wrapper (an instance attribute,
        removed again before the next step), so run_backward's loop body stays exactly as it is.
        """
        for fn in order:
            seen = {}

            def recording_backward(grad, _backward=fn.backward, _needs=fn.needs_input_grad, _seen=seen):
                input_grads = _backward(grad)
                # Norms now, before run_backward adds these arrays up (a leaf's first gradient can be
                # kept as its .grad and added to in place); their time is left out of the step's.
                start = time.perf_counter()
                _seen["grad_in"], _seen["shape"] = grad_norm(grad), tuple(grad.shape)  # dL/d(output): its shape
                _seen["grads_out"] = [grad_norm(ig) if needed and ig is not None else None
                                      for ig, needed in zip(input_grads, _needs)]
                _seen["norm_seconds"] = time.perf_counter() - start
                return input_grads

            fn.backward = recording_backward
            start = time.perf_counter()
            try:
                yield fn
            finally:
                seconds = time.perf_counter() - start
                fn.__dict__.pop("backward", None)  # the class's backward again
            self._record(fn, seen, seconds - seen["norm_seconds"])

    def _record(self, fn, seen, seconds):
        grad_in, grads_out = seen["grad_in"], seen["grads_out"]
        self.records.append({
            "step": len(self.records) + 1,
            "op": type(fn).__name__,
            "name": self.names.get(id(fn)),
            "shape": seen["shape"],
            "grad_in": grad_in,
            "inputs": [self._label(t) for t in fn.inputs],
            "grads_out": grads_out,
            "ratios": [None if g is None else (g / grad_in if grad_in else float("nan")) for g in grads_out],
            "seconds": seconds,
        })

    def _label(self, tensor):
        if id(tensor) in self.names:
            return self.names[id(tensor)]
        if tensor.grad_fn is not None:
            return type(tensor.grad_fn).__name__
        return "leaf" if tensor.requires_grad else "input"

    # ----- reading it -----------------------------------------------------------------------------
    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def table(self):
        """The records as a text table, one backward step a row, top to bottom in the order they ran."""
        header = ("step", "op", "output shape", "grad in", "grads out (to each input)", "out/in", "seconds")
        rows = []
        for r in self.records:
            outs = ", ".join(f"{name}: {'-' if g is None else f'{g:.4g}'}"
                             for name, g in zip(r["inputs"], r["grads_out"]))
            ratios = ", ".join("-" if q is None else f"{q:.3g}" for q in r["ratios"])
            op = r["op"] if r["name"] is None else f"{r['name']} = {r['op']}"
            rows.append((str(r["step"]), op, str(r["shape"]), f"{r['grad_in']:.4g}", outs, ratios,
                         f"{r['seconds']:.2e}"))
        widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        return "\n".join(lines)

    def __str__(self):
        if not self.records:
            return "trace: no backward step recorded"
        return self.table()

    def __repr__(self):
        return f"<trace of {len(self.records)} backward steps>"
