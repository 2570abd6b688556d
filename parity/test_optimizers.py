"""Every optimizer x every option, against torch.optim, through the one harness in optim_harness.py.

Each case steps both libraries from the same start on the same problem (least squares with two
parameters, Rosenbrock, and an embedding lookup with row-sparse gradients for SparseAdam) and
compares the parameters after *every* step.

Bounds (relative to the largest parameter value, float64) are the ledger's (parity/ledger.toml):
``optim.sgd_adam`` for SGD and Adam, ``optim.lbfgs_rosenbrock`` for L-BFGS on Rosenbrock,
``optim.float64`` for the rest, each with its measured spread.
A state_dict round trip must be bit-identical to the uninterrupted run (same code, same numbers).
"""

import inspect

import numpy as np
import pytest
import torch

from parity.ledger import check
from parity.optim_harness import GRID, PROBLEMS, SPARSE_GRID, case_id, cases, max_rel_diff, run


def bound_key(name, problem):
    if name in ("SGD", "Adam"):
        return "optim.sgd_adam"
    # L-BFGS on Rosenbrock runs hundreds of iterations whose dot products torch itself rounds
    # differently with each CPU's kernels: its own spread sets that bound (see the ledger).
    return "optim.lbfgs_rosenbrock" if (name, problem) == ("LBFGS", "rosenbrock") else "optim.float64"

ALL_CASES = cases() + cases(SPARSE_GRID, problems=("embedding",))


@pytest.mark.parametrize("case", ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
def test_matches_torch(case, backend):
    name, problem, options, steps = case
    torch_options = inspect.signature(getattr(torch.optim, name)).parameters
    missing = sorted(k for k in options if not k.startswith("_") and k not in torch_options)
    if missing:  # e.g. LBFGS gained `maximize` after torch 2.11 (the GPU machine's torch)
        pytest.skip(f"torch {torch.__version__}'s {name} has no option {', '.join(missing)}")
    ours = run("minitorch", name, options, PROBLEMS[problem], steps, backend=backend)
    ref = run("torch", name, options, PROBLEMS[problem], steps)

    assert np.isfinite(ref.trajectory).all()
    # The run must go somewhere, or equal trajectories would prove nothing.
    start = np.concatenate([v.reshape(-1) for v in PROBLEMS[problem].start.values()])
    assert np.abs(ref.final - start).max() > 1e-3
    check(bound_key(name, problem), max_rel_diff(ours.trajectory, ref.trajectory), backend, detail="parameters")
    check(bound_key(name, problem), max_rel_diff(ours.losses, ref.losses), backend, detail="losses")

    if name == "ASGD":  # the averaged parameters too
        for p_ours, p_ref in zip(ours.optimizer.averaged_parameters(), ref.params.values()):
            ax_ref = ref.optimizer.state[p_ref]["ax"].numpy()
            check("optim.float64", max_rel_diff(p_ours.numpy(), ax_ref), backend, detail="averaged parameters")
    if name == "LBFGS":  # the same number of iterations and closure calls
        state_ours = ours.optimizer.state_dict()["state"][0]
        state_ref = ref.optimizer.state_dict()["state"][0]
        assert (state_ours["n_iter"], state_ours["func_evals"]) == (state_ref["n_iter"], state_ref["func_evals"])


def test_sparse_adam_leaves_unseen_rows_alone(backend):
    """Rows 9..11 of the embedding problem are never looked up: parameters unchanged, as in torch."""
    name, problem, options, steps = cases(SPARSE_GRID, problems=("embedding",))[0]
    ours = run("minitorch", name, options, PROBLEMS[problem], steps, backend=backend)
    final = ours.final.reshape(12, 4)
    start = PROBLEMS[problem].start["weight"]
    np.testing.assert_array_equal(final[9:], start[9:])
    assert np.abs(final[:9] - start[:9]).min() > 0
    state = ours.optimizer.state_dict()["state"][0]
    np.testing.assert_array_equal(state["exp_avg"][9:], 0)


# One option set per optimizer that fills every state slot it has (momentum buffers, amsgrad's max,
# centered averages, ASGD's averaging after t0, L-BFGS's history and line search).
ROUND_TRIP = [  # (added to the grid's base options for the problem, i.e. its learning rate)
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"amsgrad": True}),
    ("Adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adadelta", {"rho": 0.8}),
    ("RMSprop", {"centered": True, "momentum": 0.5}),
    ("ASGD", {"t0": 30, "lambd": 1e-3}),
    ("Rprop", {"etas": (0.4, 1.3)}),
    ("LBFGS", {"line_search_fn": "strong_wolfe", "history_size": 4, "max_iter": 2}),
    ("LBFGS", {"lr": 0.2, "history_size": 3, "max_iter": 3}),
]


@pytest.mark.parametrize("problem", ["least_squares", "rosenbrock"])
@pytest.mark.parametrize("name, extra", ROUND_TRIP, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ROUND_TRIP)])
def test_state_dict_round_trip(name, extra, problem, backend):
    options = {**GRID[name]["base"][problem], **extra}
    steps, save_at = (12, 5) if name == "LBFGS" else (120, 70)
    straight = run("minitorch", name, options, PROBLEMS[problem], steps, backend=backend)
    resumed = run("minitorch", name, options, PROBLEMS[problem], steps, backend=backend, save_at=save_at)
    assert np.isfinite(straight.trajectory).all()
    np.testing.assert_array_equal(resumed.trajectory, straight.trajectory)
    assert np.abs(straight.trajectory[-1] - straight.trajectory[save_at]).max() > 0  # it kept moving


def test_sparse_adam_round_trip(backend):
    name, problem, options, steps = cases(SPARSE_GRID, problems=("embedding",))[0]
    straight = run("minitorch", name, options, PROBLEMS[problem], 60, backend=backend)
    resumed = run("minitorch", name, options, PROBLEMS[problem], 60, backend=backend, save_at=25)
    if backend == "cupy":
        # CuPy's scatter-add sums a repeated row with atomics, in no fixed order: the two runs may
        # differ in the last bit of a coalesced gradient, so "identical" means to rounding there.
        np.testing.assert_allclose(resumed.trajectory, straight.trajectory, rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_array_equal(resumed.trajectory, straight.trajectory)


def test_grid_covers_every_constructor_option():
    """Every keyword torch's constructor takes (bar device/implementation switches) is varied somewhere."""
    skip = {"params", "foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay", "lr"}
    for name, spec in {**GRID, **SPARSE_GRID}.items():
        torch_options = set(inspect.signature(getattr(torch.optim, name)).parameters) - skip
        varied = {k for v in spec["variants"] for k in v if not k.startswith("_")}
        varied |= {k for base in spec["base"].values() for k in base}
        if name == "LBFGS":
            varied |= {"max_eval"}
        assert torch_options <= varied, f"{name}: never varied: {sorted(torch_options - varied)}"
