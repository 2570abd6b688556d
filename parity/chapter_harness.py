"""The chapter's programs (xavier, deep, dropout, batchnorm, cnn), torch against this engine in lockstep.

Torch builds each program's model as the chapter's torch program does (torch.manual_seed(777) first;
the batch order then comes from torch's DataLoader(shuffle=True, drop_last=True) over range(60000),
which draws the same numbers as the program's own loader: see mnist_harness). This engine loads
torch's initial state_dict and takes the same batches. The two run step by step side by side:

- the cost of every step is accumulated per epoch as the programs do (``avg += cost / batches``);
- dropout: a forward pre-hook on each torch Dropout draws, from a saved copy of torch's generator
  state, the very mask that torch's dropout then draws (``bernoulli_(1 - p)``, checked in
  tests/test_layers.py), and the engine replays it through ``minitorch_relu.random.bernoulli``;
- batchnorm: both nets (with and without BatchNorm) and both optimizers on each side; every epoch
  each net is evaluated (eval mode) on the training and the test images; the running statistics are
  compared at the end.

``steps`` cuts each epoch to its first ``steps`` batches (CI); ``eval_images`` limits evaluation.
python parity/chapter_harness.py NAME [epochs] [float32|float64] [steps] prints a comparison.
"""

import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from mnist_harness import SEED, data_available, data_root, load_arrays  # noqa: F401  (sets 1 thread)

import minitorch_relu as mt
from minitorch_relu import chapter
from minitorch_relu.nn import functional as F

TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# ----- the chapter's torch programs' models -----------------------------------------------------------
def _xavier_mlp(widths, dropout=None):
    linears = [torch.nn.Linear(a, b, bias=True) for a, b in zip(widths[:-1], widths[1:])]
    relu = torch.nn.ReLU()
    drop = torch.nn.Dropout(p=dropout) if dropout else None
    for layer in linears:
        torch.nn.init.xavier_uniform_(layer.weight)
    modules = []
    for layer in linears[:-1]:
        modules += [layer, relu] + ([drop] if drop is not None else [])
    return torch.nn.Sequential(*modules, linears[-1])


class TorchCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3, 1, 1), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2))
        self.layer2 = torch.nn.Sequential(torch.nn.Conv2d(32, 64, 3, 1, 1), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 2))
        self.fc = torch.nn.Linear(7 * 7 * 64, 10, bias=True)
        torch.nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        out = self.layer2(self.layer1(x.view(-1, 1, 28, 28)))
        return self.fc(out.view(out.size(0), -1))


def torch_models(name):
    """The program's torch model(s), built in the program's order (the caller seeds first)."""
    if name == "xavier":
        return [_xavier_mlp([784, 256, 256, 10])]
    if name == "deep":
        return [_xavier_mlp([784, 512, 512, 512, 512, 10])]
    if name == "dropout":
        return [_xavier_mlp([784, 512, 512, 512, 512, 10], dropout=chapter.DROPOUT_P)]
    if name == "cnn":
        return [TorchCNN()]
    if name == "batchnorm":
        linears = [torch.nn.Linear(784, 32), torch.nn.Linear(32, 32), torch.nn.Linear(32, 10)]
        relu = torch.nn.ReLU()
        bn1, bn2 = torch.nn.BatchNorm1d(32), torch.nn.BatchNorm1d(32)
        plain = [torch.nn.Linear(784, 32), torch.nn.Linear(32, 32), torch.nn.Linear(32, 10)]
        return [torch.nn.Sequential(linears[0], bn1, relu, linears[1], bn2, relu, linears[2]),
                torch.nn.Sequential(plain[0], relu, plain[1], relu, plain[2])]
    raise ValueError(f"unknown program {name!r}")


def engine_models(name, dtype, backend):
    if name == "batchnorm":
        return list(chapter.batchnorm_pair(dtype, backend))
    return [chapter.build(name, dtype, backend)]


def _state(model):
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


# ----- dropout masks: recorded from torch, replayed in the engine ----------------------------------------
class MaskRecorder:
    """A forward pre-hook for torch's Dropout modules: draws the mask torch is about to draw."""

    def __init__(self, modules):
        self.masks = []
        self.handles = [m.register_forward_pre_hook(self._hook) for m in modules if isinstance(m, torch.nn.Dropout)]

    def _hook(self, module, inputs):
        if not module.training or module.p == 0:
            return
        state = torch.get_rng_state()
        (x,) = inputs
        self.masks.append(torch.empty_like(x).bernoulli_(1 - module.p).numpy().copy())
        torch.set_rng_state(state)  # torch's own dropout now draws this same mask


@contextmanager
def replayed_masks(queue):
    """Make the engine's dropout take its masks from ``queue`` (a list, consumed in order)."""
    original = mt.random.bernoulli

    def replay(shape, p, dtype, generator=None):
        mask = queue.pop(0)
        if mask.shape != tuple(shape):
            raise AssertionError(f"replayed dropout mask has shape {mask.shape}, the engine asked for {shape}")
        return mask.astype(dtype)

    mt.random.bernoulli = replay
    try:
        yield
    finally:
        mt.random.bernoulli = original


# ----- one run -------------------------------------------------------------------------------------
@dataclass
class Side:
    costs: list = field(default_factory=list)  # per model: per-epoch average cost
    evals: list = field(default_factory=list)  # per epoch: per model ((train loss, acc), (test loss, acc)) [batchnorm]
    accuracy: list = field(default_factory=list)  # per model: final test accuracy, scaled pixels
    final_state: list = field(default_factory=list)


@dataclass
class Result:
    name: str
    dtype: str
    torch: Side
    engine: Side
    steps_per_epoch: int


def _torch_eval(model, x, y):
    was = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits, y, reduction="sum").item() / len(y)
        acc = (logits.argmax(1) == y).double().mean().item()
    model.train(was)
    return loss, acc


def _engine_eval(model, x, y):
    was = model.training
    model.eval()
    with mt.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y, reduction="sum").item() / len(y)
        acc = float((logits.data.argmax(axis=1) == y.data).astype(np.float64).mean().item())
    model.train(was)
    return loss, acc


def lockstep(arrays, name, dtype="float32", epochs=1, steps=None, backend="numpy", eval_images=None, lr=None,
             batch=None):
    """Train torch and the engine side by side from the same start on the same batches; see the module doc."""
    default_lr, default_batch, _ = chapter.DEFAULTS[name]
    lr, batch = lr or default_lr, batch or default_batch
    tdtype = TORCH_DTYPES[dtype]
    be = mt.get_backend(backend)

    torch.manual_seed(SEED)
    theirs = [m.to(tdtype) for m in torch_models(name)]
    ours = engine_models(name, dtype, backend)
    for t, o in zip(theirs, ours):
        o.load_state_dict(_state(t))
    recorder = MaskRecorder([m for t in theirs for m in t.modules()])
    t_opts = [torch.optim.Adam(t.parameters(), lr=lr) for t in theirs]
    o_opts = [mt.optim.Adam(o.parameters(), lr=lr) for o in ours]

    n = len(arrays.train_labels)
    x_np = (arrays.train_images.reshape(n, -1).astype(dtype) / np.dtype(dtype).type(255))
    x_torch = torch.from_numpy(x_np)
    y_np = np.asarray(arrays.train_labels, dtype=np.int64)
    y_torch = torch.from_numpy(y_np)
    m_eval = eval_images or len(arrays.test_labels)
    test_x = (arrays.test_images[:m_eval].reshape(m_eval, -1).astype(dtype) / np.dtype(dtype).type(255))
    test_y = np.asarray(arrays.test_labels[:m_eval], dtype=np.int64)
    train_eval_x, train_eval_y = x_np[:m_eval], y_np[:m_eval]

    index_loader = torch.utils.data.DataLoader(torch.arange(n), batch_size=batch, shuffle=True, drop_last=True)
    total = min(len(index_loader), steps) if steps else len(index_loader)
    t_side, o_side = Side(costs=[[] for _ in theirs]), Side(costs=[[] for _ in ours])
    for t in theirs:
        t.train()
    for o in ours:
        o.train()
    for _ in range(epochs):
        t_avg, o_avg = [0.0] * len(theirs), [0.0] * len(ours)
        for step, idx in enumerate(index_loader):
            if step == total:
                break  # the loader has drawn its epoch's order already; stopping early draws nothing more
            xb, yb = x_torch[idx], y_torch[idx]
            idx_np = idx.numpy()
            xo = mt.Tensor._wrap(be.asarray(x_np[idx_np]))
            yo = mt.Tensor._wrap(be.asarray(y_np[idx_np]))
            for k, (t, o, t_opt, o_opt) in enumerate(zip(theirs, ours, t_opts, o_opts)):
                recorder.masks.clear()
                t_opt.zero_grad()
                cost = torch.nn.functional.cross_entropy(t(xb), yb)
                cost.backward()
                t_opt.step()
                t_avg[k] += cost.detach() / total  # the programs' avg_cost += cost / total_batch
                masks = list(recorder.masks)
                with replayed_masks(masks):
                    o_opt.zero_grad()
                    loss = F.cross_entropy(o(xo), yo)
                    loss.backward()
                    o_opt.step()
                assert not masks, f"{len(masks)} recorded dropout masks were not used by the engine"
                o_avg[k] += loss.data / total
        for k in range(len(theirs)):
            t_side.costs[k].append(float(t_avg[k]))
            o_side.costs[k].append(float(o_avg[k].item()))
        if name == "batchnorm":  # the program's per-epoch evaluation of both nets
            t_side.evals.append([(_torch_eval(t, torch.from_numpy(train_eval_x), torch.from_numpy(train_eval_y)),
                                  _torch_eval(t, torch.from_numpy(test_x), torch.from_numpy(test_y))) for t in theirs])
            o_side.evals.append([(_engine_eval(o, _wrap(be, train_eval_x), _wrap(be, train_eval_y)),
                                  _engine_eval(o, _wrap(be, test_x), _wrap(be, test_y))) for o in ours])
    for t, o in zip(theirs, ours):
        t_side.accuracy.append(_torch_eval(t, torch.from_numpy(test_x), torch.from_numpy(test_y))[1])
        o_side.accuracy.append(_engine_eval(o, _wrap(be, test_x), _wrap(be, test_y))[1])
        t_side.final_state.append(_state(t))
        o_side.final_state.append(o.state_dict())
    return Result(name, dtype, t_side, o_side, total)


def _wrap(backend, array):
    return mt.Tensor._wrap(backend.asarray(array))


def max_relative(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))


def state_difference(ours, theirs, names=None):
    """The largest |ours - theirs| / max|theirs| over the entries named (all by default); integer
    entries (num_batches_tracked) must be equal."""
    worst = 0.0
    for key, value in theirs.items():
        if names is not None and key not in names:
            continue
        if not np.issubdtype(value.dtype, np.floating):
            assert np.array_equal(ours[key], value), key
            continue
        scale = max(float(np.max(np.abs(value))), 1e-300)
        worst = max(worst, float(np.max(np.abs(ours[key] - value))) / scale)
    return worst


def report(result):
    lines = [f"{result.name} {result.dtype}: {result.steps_per_epoch} steps per epoch"]
    for k, (t_costs, o_costs) in enumerate(zip(result.torch.costs, result.engine.costs)):
        for epoch, (a, b) in enumerate(zip(o_costs, t_costs), 1):
            lines.append(f"  model {k} epoch {epoch:2d}  torch {b:.9f}  engine {a:.9f}  rel {abs(a - b) / abs(b):.2e}")
        lines.append(f"  model {k} test accuracy: torch {result.torch.accuracy[k]:.4f} engine {result.engine.accuracy[k]:.4f}; "
                     f"final weights max rel diff {state_difference(result.engine.final_state[k], result.torch.final_state[k]):.2e}")
    for epoch, (t_ev, o_ev) in enumerate(zip(result.torch.evals, result.engine.evals), 1):
        for k, (t_e, o_e) in enumerate(zip(t_ev, o_ev)):
            lines.append(f"  epoch {epoch} model {k} train/test loss torch {t_e[0][0]:.6f}/{t_e[1][0]:.6f} "
                         f"engine {o_e[0][0]:.6f}/{o_e[1][0]:.6f}; acc torch {t_e[0][1]:.4f}/{t_e[1][1]:.4f} "
                         f"engine {o_e[0][1]:.4f}/{o_e[1][1]:.4f}")
    return "\n".join(lines)


if __name__ == "__main__":
    args = sys.argv[1:]
    name = args[0] if args else "xavier"
    epochs = int(args[1]) if len(args) > 1 else 1
    dtype = args[2] if len(args) > 2 else "float32"
    steps = int(args[3]) if len(args) > 3 else None
    threads = int(args[4]) if len(args) > 4 else 1
    torch.set_num_threads(threads)
    print(f"torch threads {torch.get_num_threads()}")
    print(report(lockstep(load_arrays(), name, dtype, epochs, steps, eval_images=2000)))
