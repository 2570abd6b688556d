"""One parity harness for every optimizer: the same problem, the same start, minitorch_relu vs torch.optim.

A *problem* is a set of starting parameters, some fixed data, and a loss written once: it uses only
operators that both libraries share (@, +, -, *, **, indexing, mean/sum), plus ``lib.embedding`` for
the lookup problem. ``run`` steps one library's optimizer on it and records the parameters after
every step (the whole trajectory, not just the end, so two runs that merely converge to the same
minimum do not pass by accident).

    from parity.optim_harness import PROBLEMS, run, max_rel_diff
    ours = run("minitorch", "Adam", {"lr": 0.05}, PROBLEMS["least_squares"], steps=300)
    ref = run("torch", "Adam", {"lr": 0.05}, PROBLEMS["least_squares"], steps=300)
    assert max_rel_diff(ours.trajectory, ref.trajectory) < 1e-10

With ``maximize=True`` the harness hands the optimizer the *negated* loss, so ascending it still
walks towards the minimum and the run stays finite.
"""

import copy
from dataclasses import dataclass, field

import numpy as np
import torch

import minitorch_relu as mt

torch.set_num_threads(1)  # the machines are shared; these problems are tiny

LBFGS_NAMES = {"LBFGS"}


# ----- problems ------------------------------------------------------------------------------------
@dataclass
class Problem:
    name: str
    start: dict  # parameter name -> float64 array
    data: dict  # constant name -> array (float64, or int64 indices)
    loss: object  # loss(params, data, step, lib) -> scalar tensor of either library
    sparse: bool = False  # the gradient is row-sparse (embedding lookups): SparseAdam's problem


def _least_squares():
    """Mean squared error of a 3-output linear model on 32 noisy points: two parameters, W and b."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 5))
    W_true, b_true = rng.normal(size=(3, 5)), rng.normal(size=3)
    Y = X @ W_true.T + b_true + 0.1 * rng.normal(size=(32, 3))
    start = {"W": 0.1 * rng.normal(size=(3, 5)), "b": np.zeros(3)}

    def loss(p, d, step, lib):
        return ((d["X"] @ p["W"].T + p["b"] - d["Y"]) ** 2).mean()

    return Problem("least_squares", start, {"X": X, "Y": Y}, loss)


def _rosenbrock():
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.5, 2): a curved valley, minimum at (1, 1)."""

    def loss(p, d, step, lib):
        x, y = p["xy"][0], p["xy"][1]
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    return Problem("rosenbrock", {"xy": np.array([-1.5, 2.0])}, {}, loss)


def _embedding_lookup():
    """Rows of a (12, 4) table looked up in batches of 10 indices with repeats (and rows never used),
    pulled towards per-position targets; the table's gradient is row-sparse."""
    rng = np.random.default_rng(1)
    n_steps = 400
    idx = rng.integers(0, 9, size=(n_steps, 10))  # rows 9..11 never looked up: they must not move
    idx[:, 1] = idx[:, 0]  # every batch repeats a row: coalescing must sum the two
    targets = rng.normal(size=(n_steps, 10, 4))
    start = {"weight": rng.normal(size=(12, 4))}

    def loss(p, d, step, lib):
        rows = lib.embedding(d["idx"][step], p["weight"])
        return ((rows - d["targets"][step]) ** 2).sum()

    return Problem("embedding", start, {"idx": idx, "targets": targets}, loss, sparse=True)


PROBLEMS = {p.name: p for p in (_least_squares(), _rosenbrock(), _embedding_lookup())}


# ----- the two libraries -----------------------------------------------------------------------------
class _Torch:
    name = "torch"

    def __init__(self, backend=None):
        pass

    def param(self, array):
        return torch.tensor(array, dtype=torch.float64, requires_grad=True)

    def const(self, array):
        if array.dtype.kind in "iu":
            return torch.tensor(array, dtype=torch.int64)
        return torch.tensor(array, dtype=torch.float64)

    def optimizer(self, name, params, options):
        return getattr(torch.optim, name)(params, **options)

    @staticmethod
    def embedding(idx, weight):
        return torch.nn.functional.embedding(idx, weight, sparse=True)

    @staticmethod
    def to_numpy(t):
        return t.detach().numpy().copy()


class _Minitorch:
    name = "minitorch"

    def __init__(self, backend=None):
        self.backend = backend

    def param(self, array):
        return mt.tensor(array, dtype=mt.float64, requires_grad=True, backend=self.backend)

    def const(self, array):
        dtype = mt.int64 if array.dtype.kind in "iu" else mt.float64
        return mt.tensor(array, dtype=dtype, backend=self.backend)

    def optimizer(self, name, params, options):
        return getattr(mt.optim, name)(params, **options)

    @staticmethod
    def embedding(idx, weight):
        return mt.nn.sparse.embedding(idx, weight, sparse=True)

    @staticmethod
    def to_numpy(t):
        return np.array(t.numpy(), copy=True)


LIBRARIES = {"torch": _Torch, "minitorch": _Minitorch}


# ----- running ---------------------------------------------------------------------------------------
@dataclass
class Run:
    trajectory: np.ndarray  # (steps, total parameter size): the flat parameters after each step
    params: dict  # name -> the library's parameter tensor, as left at the end
    optimizer: object
    losses: list = field(default_factory=list)  # the loss each step() returned (at the start of that step)

    @property
    def final(self):
        return self.trajectory[-1]


def run(library, opt_name, options, problem, steps, backend=None, save_at=None):
    """Step ``opt_name(**options)`` ``steps`` times on ``problem`` with ``library`` ("torch"/"minitorch").

    LBFGS is driven through its closure (one ``step(closure)`` per step, which may call the closure
    many times); the others by zero_grad / backward / step. With ``save_at=k`` the run stops after k
    steps, saves the optimizer's state_dict, builds fresh parameters (same values) and a fresh
    optimizer, loads the state into it and goes on: the trajectory must equal an uninterrupted one.
    """
    lib = LIBRARIES[library](backend)
    sign = -1.0 if options.get("maximize") else 1.0
    data = {k: lib.const(v) for k, v in problem.data.items()}
    params = {k: lib.param(v) for k, v in problem.start.items()}
    opt = lib.optimizer(opt_name, list(params.values()), options)
    trajectory, losses = [], []

    for step in range(steps):
        if save_at is not None and step == save_at:
            saved = copy.deepcopy(opt.state_dict())
            params = {k: lib.param(lib.to_numpy(v)) for k, v in params.items()}
            opt = lib.optimizer(opt_name, list(params.values()), options)
            opt.load_state_dict(saved)

        def closure():
            opt.zero_grad()
            loss = problem.loss(params, data, step, lib) * sign
            loss.backward()
            return loss

        if opt_name in LBFGS_NAMES:
            loss = opt.step(closure)
        else:
            loss = closure()
            opt.step()
        losses.append(float(loss.item()))
        trajectory.append(np.concatenate([lib.to_numpy(p).reshape(-1) for p in params.values()]))
    return Run(np.array(trajectory), params, opt, losses)


def max_rel_diff(ours, reference):
    """max |ours - reference| / max |reference|: one relative error for a whole trajectory."""
    ours, reference = np.asarray(ours, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if ours.shape != reference.shape:
        raise ValueError(f"shapes differ: {ours.shape} vs {reference.shape}")
    scale = np.abs(reference).max()
    return float(np.abs(ours - reference).max() / (scale if scale > 0 else 1.0))


# ----- the option grid -------------------------------------------------------------------------------
# For each optimizer: base options per problem (a learning rate chosen so the run stays finite and
# still moves a lot), and the option sets to try on top. Every option torch documents for the
# algorithm appears at least once; maximize runs on the negated loss (see above). A variant with
# "_problems" runs only on those problems.
#
# Why some settings are what they are: the two libraries' gradients differ in the last bit (BLAS and
# reduction order differ, and torch's CPU kernels fuse multiply-adds), and a run that turns chaotic
# amplifies that bit exponentially, whatever the optimizer does. RMSprop without momentum falls into
# a sign-flipping oscillation on the least-squares problem once a coordinate has converged (a 1e-17
# difference grows ~1.6x per step), so there it runs with eps=1e-3 and lr=3e-3; its default eps is
# covered on Rosenbrock. L-BFGS with fixed steps on Rosenbrock (hundreds of iterations) is chaotic
# for most settings, so only lr=0.2 runs there.
GRID = {
    "SGD": dict(base={"least_squares": {"lr": 0.05}, "rosenbrock": {"lr": 2e-4}}, steps=300, variants=[
        {}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.3}, {"momentum": 0.9, "nesterov": True},
        {"weight_decay": 0.1}, {"maximize": True},
        {"momentum": 0.5, "nesterov": True, "weight_decay": 0.05, "maximize": True}]),
    "Adam": dict(base={"least_squares": {"lr": 0.05}, "rosenbrock": {"lr": 0.02}}, steps=300, variants=[
        {}, {"betas": (0.9, 0.99)}, {"eps": 1e-3}, {"weight_decay": 0.1}, {"amsgrad": True},
        {"maximize": True}, {"amsgrad": True, "weight_decay": 0.05, "maximize": True}]),
    "AdamW": dict(base={"least_squares": {"lr": 0.05}, "rosenbrock": {"lr": 0.02}}, steps=200, variants=[
        {}, {"weight_decay": 0.3}, {"amsgrad": True}, {"betas": (0.9, 0.99), "eps": 1e-6, "maximize": True}]),
    "Adagrad": dict(base={"least_squares": {"lr": 0.3}, "rosenbrock": {"lr": 0.1}}, steps=200, variants=[
        {}, {"lr_decay": 0.01}, {"initial_accumulator_value": 0.5}, {"weight_decay": 0.1}, {"eps": 1e-2},
        {"maximize": True}]),
    "Adadelta": dict(base={"least_squares": {"lr": 1.0}, "rosenbrock": {"lr": 1.0}}, steps=200, variants=[
        {}, {"lr": 0.5}, {"rho": 0.5}, {"eps": 1e-3}, {"weight_decay": 0.1}, {"maximize": True}]),
    "RMSprop": dict(base={"least_squares": {"lr": 3e-3, "eps": 1e-3}, "rosenbrock": {"lr": 1e-3}}, steps=200,
                    variants=[
        {}, {"alpha": 0.9}, {"momentum": 0.9}, {"centered": True}, {"centered": True, "momentum": 0.5},
        {"centered": True, "alpha": 0.3},  # 1 - alpha >= 0.5: torch's other lerp formula
        {"weight_decay": 0.1}, {"maximize": True}]),
    "ASGD": dict(base={"least_squares": {"lr": 0.05}, "rosenbrock": {"lr": 2e-4}}, steps=200, variants=[
        {}, {"lambd": 1e-2}, {"alpha": 0.5}, {"t0": 50}, {"t0": 20, "lambd": 1e-3, "alpha": 0.9},
        {"weight_decay": 0.1}, {"maximize": True}]),
    "Rprop": dict(base={"least_squares": {"lr": 0.01}, "rosenbrock": {"lr": 0.01}}, steps=200, variants=[
        {}, {"etas": (0.3, 1.5)}, {"step_sizes": (1e-3, 0.05)}, {"maximize": True}]),
    "LBFGS": dict(base={"least_squares": {"lr": 1.0}, "rosenbrock": {"lr": 1.0}}, steps=20, variants=[
        {"line_search_fn": "strong_wolfe"}, {"line_search_fn": "strong_wolfe", "history_size": 3},
        {"line_search_fn": "strong_wolfe", "max_iter": 7, "max_eval": 9},
        {"line_search_fn": "strong_wolfe", "tolerance_grad": 1e-3},
        {"line_search_fn": "strong_wolfe", "tolerance_change": 1e-4},
        {"line_search_fn": "strong_wolfe", "maximize": True},
        {"lr": 0.2},
        {"lr": 0.2, "history_size": 2, "max_iter": 5, "_problems": ("least_squares",)},
        {"lr": 0.2, "tolerance_change": 1e-4, "maximize": True, "_problems": ("least_squares",)}]),
}

SPARSE_GRID = {
    "SparseAdam": dict(base={"embedding": {"lr": 0.05}}, steps=200, variants=[
        {}, {"betas": (0.5, 0.9)}, {"eps": 1e-2}, {"maximize": True}]),
}


def cases(grid=GRID, problems=("least_squares", "rosenbrock")):
    """(optimizer name, problem name, options, steps) for every optimizer x option set x problem."""
    out = []
    for name, spec in grid.items():
        for variant in spec["variants"]:
            variant = dict(variant)
            only = variant.pop("_problems", problems)
            for problem in problems:
                if problem in spec["base"] and problem in only:
                    out.append((name, problem, {**spec["base"][problem], **variant}, spec["steps"]))
    return out


def case_id(case):
    name, problem, options, steps = case
    return f"{name}-{problem}-" + ",".join(f"{k}={v}" for k, v in options.items())
