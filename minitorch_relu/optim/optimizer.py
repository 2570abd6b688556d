"""Optimizer: the bookkeeping every algorithm shares (param_groups, per-parameter state, saving).

The update rule itself lives in each algorithm's file as a plain function over arrays, so a reader
sees the formula apart from the bookkeeping, as in torch.optim.
"""

import copy

import numpy as np

from ..autograd import enable_grad
from ..backend import backend_of, get_backend
from ..nn.parameter import zero_grads
from ..tensor import Tensor


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def refuse_sparse_grads(param_groups, who):
    """Raise torch's error if any gradient is row-sparse (Embedding(sparse=True)), before any update.

    SparseAdam takes row-sparse gradients and LBFGS densifies them, as in torch; torch's SGD and
    Adagrad also accept them, this engine's do not.
    """
    for group in param_groups:
        for p in group["params"]:
            if p.grad is not None and getattr(p.grad.data, "is_sparse", False):
                hint = ", please consider SparseAdam instead" if who == "Adam" else ""
                raise RuntimeError(f"{who} does not support sparse gradients{hint}")


def check_grads(param_groups, who, sparse_ok=False):
    """Check every gradient against its parameter before any parameter changes: a step that failed
    half way would leave some parameters updated and others not."""
    if not sparse_ok:
        refuse_sparse_grads(param_groups, who)
    for group in param_groups:
        for i, p in enumerate(group["params"]):
            g = p._grad
            if g is None:
                continue
            if type(g.data) is type(p.data) and g.data.shape == p.data.shape and g.data.dtype == p.data.dtype:
                continue  # the usual case, checked at the cost of three comparisons
            values = g.data.values if getattr(g.data, "is_sparse", False) else g.data
            problem = None
            if tuple(g.data.shape) != p.shape:
                problem = f"shape {tuple(g.data.shape)}, the parameter's is {p.shape}"
            elif g.data.dtype != p.dtype:
                problem = f"dtype {g.data.dtype}, the parameter's is {p.dtype}"
            elif backend_of(values) is not backend_of(p.data):
                problem = f"backend {backend_of(values).name!r}, the parameter's is {p.backend!r}"
            if problem is not None:
                raise RuntimeError(f"{who}.step(): the gradient of parameter {i} of group "
                                   f"{param_groups.index(group)} has {problem}; nothing was updated")


def start_step(param_groups, who, sparse_ok=False):
    """check_grads, then count the coming in-place update in each stepped parameter's version, so a
    graph that saved a parameter before the step refuses to backward (torch's version check)."""
    check_grads(param_groups, who, sparse_ok)
    for group in param_groups:
        for p in group["params"]:
            if p._grad is not None:
                p._version_counter[0] += 1


def check_range(name, value, low=0.0, high=None, high_inclusive=False, label=None):
    """Raise torch's 'Invalid ...' ValueError unless low <= value (< or <=) high."""
    ok = value >= low and (high is None or (value <= high if high_inclusive else value < high))
    if not ok:
        raise ValueError(f"Invalid {label or name}: {value}")


class Optimizer:
    # True where step() must be given a closure that recomputes the loss and gradients (L-BFGS
    # evaluates the loss several times per step); training loops read this instead of the type.
    requires_closure = False

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = {}  # Parameter -> dict of its state (what state_dict saves)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self._check_group(group)
        for group in groups:
            self.add_param_group(group)

    def _check_group(self, group):
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if not p.requires_grad:
                raise ValueError("optimizer got a tensor that does not require grad")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")

    def add_param_group(self, group):
        self._check_group(group)
        params = group["params"]
        group = dict(group, params=[params] if isinstance(params, Tensor) else list(params))
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("optimizer contains a parameter more than once in one group")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.param_groups.append(group)

    def _init_state(self, p, group):
        """The state of parameter ``p`` before its first step (each algorithm that keeps state defines it)."""
        raise NotImplementedError

    def _params_to_step(self, group):
        """(p, state) for each parameter of ``group`` that has a gradient: its state is made on first
        use and its step count is advanced, as every stateful algorithm does before its update."""
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = self._init_state(p, group)
            state["step"] += 1
            yield p, state

    def zero_grad(self, set_to_none=True):
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        raise NotImplementedError

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def to(self, backend):
        """Move every state array to ``backend`` (after moving the model with Module.to).

        Arrays inside lists move too: L-BFGS keeps its history that way.
        """
        target = get_backend(backend)
        for state in self.state.values():
            for key, value in state.items():
                state[key] = _map_arrays(value, lambda a: target.asarray(backend_of(a).to_numpy(a)))
        return self

    # ----- saving and loading -------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}, as in torch.

        Arrays come out as numpy copies, so the dict can be saved with numpy or pickle.
        """
        index_of, groups, next_index = {}, [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                if id(p) not in index_of:
                    index_of[id(p)] = next_index
                    next_index += 1
                packed["params"].append(index_of[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index_of[id(p)]] = {k: _map_arrays(v, _host_copy) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state; checked in full before anything changes."""
        groups = state_dict["param_groups"]
        for i, saved in enumerate(groups):
            # Another algorithm's groups lack some of this one's hyperparameters (SGD's have no betas,
            # Adam's no momentum): refuse them rather than run with half-borrowed state.
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                raise ValueError(f"loaded state dict is not {type(self).__name__}'s: its parameter group {i} lacks "
                                 f"{', '.join(missing)} (is it another optimizer's state?)")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, the optimizer has "
                             f"{len(self.param_groups)}")
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g["params"]) for g in groups]
        if sizes != saved_sizes:
            raise ValueError(f"loaded state dict contains parameter groups of sizes {saved_sizes}, "
                             f"which do not match the optimizer's {sizes}")
        param_of = {}
        for saved, group in zip(groups, self.param_groups):
            for index, p in zip(saved["params"], group["params"]):
                param_of[index] = p
        new_state = {}
        for index, saved in state_dict["state"].items():
            if index not in param_of:
                raise ValueError(f"loaded state dict has state for parameter index {index}, which no group holds")
            p = param_of[index]

            def to_param(array, p=p):  # a copy on p's backend; same-shaped float state takes p's dtype, as in torch
                array = np.array(backend_of(array).to_numpy(array), copy=True)
                if array.shape == p.shape and np.issubdtype(array.dtype, np.floating):
                    array = array.astype(p.dtype)
                return get_backend(p.backend).asarray(array)

            entry = {key: _map_arrays(value, to_param) for key, value in saved.items()}
            new_state[p] = entry
        self.state = new_state
        for saved, group in zip(groups, self.param_groups):
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _host_copy(array):
    return np.array(backend_of(array).to_numpy(array), copy=True)


def _map_arrays(value, convert):
    """``value`` with ``convert`` applied to every array in it (Tensors' arrays too, and inside lists
    and tuples: L-BFGS keeps its history that way); anything else is deep-copied."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_map_arrays(v, convert) for v in value)
    return convert(value) if _is_array(value) else copy.deepcopy(value)


def _is_array(value):
    try:
        backend_of(value)
        return True
    except TypeError:
        return False
