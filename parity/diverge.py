"""First-divergence locator: the first training step and the first op where this engine leaves torch.

    python -m parity.diverge --model mlp --steps 20            # float64 (default) or --dtype float32

It replays the lesson's training (torch's initial weights, torch's batches) one step at a time and,
inside each step, one op at a time. Every op of the engine is fed exactly torch's inputs -- the
layer's input and parameters going forward, the gradient arriving from above going backward, torch's
gradients and parameters for the optimizer step -- so each comparison isolates one op: differences
cannot pile up from earlier ops or steps, and chaos (see parity/README.md) plays no part. An op whose
result differs from torch's by more than rounding is reported, with its step, phase (forward,
backward, optimizer), layer and tensor.

For a learner who edits an op: the report names the op that broke parity, not just the epoch where
the costs drifted. The MNIST parity tests run it when a training comparison fails.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import minitorch_relu as mt

# "More than rounding": each comparison is the largest |engine - torch| over the largest |torch| of
# the tensor (its normwise relative error). Correctly written ops in float64 differ from torch by
# summation order only, ~1e-16 to 1e-14 relative (a product of 784 terms); a wrong formula differs by
# far more (a planted eps inside Adam's square root: 1e-3 and up). float32 rounding is 2^29 times
# coarser (~1e-7 to 1e-5 here).
ROUNDING = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}


@dataclass
class Divergence:
    step: int  # 1-based training step
    phase: str  # "forward", "backward" or "optimizer"
    where: str  # "layer 2 (ReLU)", "loss (CrossEntropyLoss)", "optimizer (Adam)"
    tensor: str  # "output", "gradient of the input", "gradient of weight", "update of 0.weight"
    error: float
    allowed: float

    def __str__(self):
        return (f"first divergence at step {self.step}, {self.phase}, {self.where}: {self.tensor} differs from "
                f"torch by {self.error:.2e} (normwise relative; rounding allows {self.allowed:.1e})")


def _error(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return float("inf")
    scale = np.abs(theirs).max() if theirs.size else 0.0
    diff = np.abs(ours - theirs).max() if theirs.size else 0.0
    if not np.isfinite(diff):
        return float("inf")
    return float(diff / scale) if scale > 0 else float(diff)


def _layers(model):
    """The model's layers in order, a reused module (torch's lesson MLP uses one ReLU twice) at each use:
    a Sequential's entries, or the model itself (softmax regression)."""
    return list(model._modules.values()) or [model]


def _leaf(array, requires_grad=True):
    return torch.tensor(array, requires_grad=requires_grad)


class Replay:
    """torch and this engine, stepped together from torch's state (see the module doc)."""

    def __init__(self, torch_model, engine_model, lr=0.001, dtype="float64", backend="numpy"):
        self.dtype, self.backend = np.dtype(dtype), backend
        self.allowed = ROUNDING[self.dtype]
        self.torch_model = torch_model.to({np.dtype(np.float64): torch.float64,
                                           np.dtype(np.float32): torch.float32}[self.dtype])
        self.t_layers, self.e_layers = _layers(self.torch_model), _layers(engine_model)
        names = [type(t).__name__ for t in self.t_layers], [type(e).__name__ for e in self.e_layers]
        if names[0] != names[1]:
            raise ValueError(f"the models differ: torch {names[0]}, engine {names[1]}")
        self.t_params = dict(self.torch_model.named_parameters())
        self.e_params = dict(engine_model.named_parameters())
        self.t_opt = torch.optim.Adam(self.torch_model.parameters(), lr=lr)
        self.e_opt = mt.optim.Adam(engine_model.parameters(), lr=lr)
        self.e_loss_fn = mt.nn.CrossEntropyLoss()

    def _engine_array(self, array):
        return mt.tensor(array, backend=self.backend).data

    def torch_step(self, x, y):
        """One plain training step of torch alone (the steps a sampled comparison skips)."""
        self.t_opt.zero_grad()
        torch.nn.functional.cross_entropy(self.torch_model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        self.t_opt.step()

    def compare_step(self, x, y):
        """One training step of both, every op of the engine fed torch's inputs; torch's step is the
        one that counts. Returns every comparison, in the order the ops ran, as (phase, where,
        tensor, error, allowed)."""
        out = []

        def compare(phase, where, pairs):
            for tensor, ours, theirs, *floor in pairs:
                out.append((phase, where, tensor, _error(ours, theirs), max([self.allowed, *floor])))

        with mt.no_grad():  # the step starts from torch's parameters and Adam state
            for name, p in self.e_params.items():
                p.data[...] = self._engine_array(self.t_params[name].detach().numpy())
        self.e_opt.load_state_dict(dict(self.e_opt.state_dict(), state=torch_optimizer_state(self.t_opt)))

        # Forward, layer by layer, each engine layer fed torch's input to it.
        t_ins, t_outs, e_ins, e_outs = [], [], [], []
        value = x
        for i, (tl, el) in enumerate(zip(self.t_layers, self.e_layers)):
            t_in, e_in = _leaf(value), mt.tensor(value, requires_grad=True, backend=self.backend)
            t_out, e_out = tl(t_in), el(e_in)
            t_ins.append(t_in), t_outs.append(t_out), e_ins.append(e_in), e_outs.append(e_out)
            compare("forward", f"layer {i} ({type(el).__name__})", [("output", e_out.numpy(), t_out.detach().numpy())])
            value = t_out.detach().numpy()

        # The loss, on torch's logits.
        t_logits, e_logits = _leaf(value), mt.tensor(value, requires_grad=True, backend=self.backend)
        t_loss = torch.nn.functional.cross_entropy(t_logits, torch.from_numpy(y))
        e_loss = self.e_loss_fn(e_logits, mt.tensor(y, backend=self.backend))
        compare("forward", "loss (CrossEntropyLoss)", [("output", e_loss.numpy(), t_loss.detach().numpy())])
        t_loss.backward()
        e_loss.backward()
        # Each entry is (softmax - onehot) / N: once the batch is fitted, softmax rounds to the one-hot
        # and the gradient is a few ulps of 1/N, so allow a few of those ulps, not of the gradient.
        t_grad = t_logits.grad.numpy()
        floor = 8 * np.finfo(self.dtype).eps / len(y) / max(np.abs(t_grad).max(), np.finfo(self.dtype).tiny)
        compare("backward", "loss (CrossEntropyLoss)", [("gradient of the logits", e_logits.grad.numpy(), t_grad, floor)])

        # Backward, last layer first, each engine layer fed torch's gradient from above.
        self.t_opt.zero_grad()
        self.e_opt.zero_grad()
        upstream = t_logits.grad.numpy()
        for i in reversed(range(len(self.t_layers))):
            t_outs[i].backward(torch.from_numpy(upstream))
            e_outs[i].backward(mt.tensor(upstream, backend=self.backend))
            pairs = [("gradient of the input", e_ins[i].grad.numpy(), t_ins[i].grad.numpy())]
            for pname, tp in self.t_layers[i].named_parameters():
                pairs.append((f"gradient of {pname}", getattr(self.e_layers[i], pname).grad.numpy(), tp.grad.numpy()))
            compare("backward", f"layer {i} ({type(self.e_layers[i]).__name__})", pairs)
            upstream = t_ins[i].grad.numpy()

        # The optimizer: the same gradients in, the same update out.
        with mt.no_grad():
            for name, p in self.e_params.items():
                p.grad.data[...] = self._engine_array(self.t_params[name].grad.numpy())
        before = {name: p.detach().numpy().copy() for name, p in self.t_params.items()}
        self.t_opt.step()
        self.e_opt.step()
        pairs = []
        for name in self.t_params:
            after = self.t_params[name].detach().numpy()
            update = after - before[name]
            # The update is read off the new parameter, which is rounded to the parameter's own ulp:
            # allow a few of those ulps relative to the update's size.
            tiny = np.finfo(self.dtype).tiny
            floor = 4 * np.finfo(self.dtype).eps * np.abs(after).max() / max(np.abs(update).max(), tiny)
            pairs.append((f"update of {name}", self.e_params[name].numpy() - before[name], update, floor))
        compare("optimizer", f"optimizer ({type(self.e_opt).__name__})", pairs)
        return out


def torch_optimizer_state(optimizer):
    """torch's optimizer state as this engine's optimizers load it: numpy arrays, an int step count."""
    return {index: {key: int(value.item()) if key == "step" else value.detach().numpy().copy()
                    for key, value in entry.items()}
            for index, entry in optimizer.state_dict()["state"].items()}


def locate(torch_model, engine_model, batches, lr=0.001, steps=None, dtype="float64", backend="numpy"):
    """Replay ``batches`` ((x, y) numpy arrays) through both models with Adam(lr); return the first
    Divergence, or None when every op stayed within rounding for every step.

    Both models must have the same layers (a Sequential of Linear and activations, or one Linear);
    the engine's parameters and Adam state are overwritten with torch's at every step.
    """
    replay = Replay(torch_model, engine_model, lr, dtype, backend)
    for step, (x, y) in enumerate(batches, 1):
        if steps is not None and step > steps:
            break
        for phase, where, tensor, error, allowed in replay.compare_step(np.asarray(x, dtype=dtype), np.asarray(y)):
            if not error <= allowed:
                return Divergence(step, phase, where, tensor, error, allowed)
    return None


def worst_errors(torch_model, engine_model, batches, lr=0.001, dtype="float64", every=1, backend="numpy"):
    """Train torch on all of ``batches``, comparing every ``every``-th step op by op (the others are
    torch's alone). Returns (the worst error of any op relative to its rounding allowance, the
    comparison that gave it, the number of steps compared)."""
    replay = Replay(torch_model, engine_model, lr, dtype, backend)
    worst, compared = (0.0, None), 0
    for step, (x, y) in enumerate(batches, 1):
        x, y = np.asarray(x, dtype=dtype), np.asarray(y)
        if (step - 1) % every:
            replay.torch_step(x, y)
            continue
        compared += 1
        for phase, where, tensor, error, allowed in replay.compare_step(x, y):
            if error / allowed > worst[0] or not np.isfinite(error):
                worst = (error / allowed, (step, phase, where, tensor, error))
    return worst[0], worst[1], compared


def lesson_start(model_name="mlp", steps=20, dtype="float64", arrays=None, epochs=None, backend="numpy"):
    """torch's lesson model (seeded as the lesson seeds it), the same model in the engine, and the
    lesson's batches in torch's order, as numpy (x scaled to [0, 1]) and int64 labels: a list of the
    first ``steps``, or with ``epochs`` a generator over that many epochs (made as they are used)."""
    from mnist_harness import BATCH, load_arrays, lesson_seed, torch_model

    from minitorch_relu.training import build_model

    arrays = arrays or load_arrays()
    lesson_seed()
    t_model = torch_model(model_name)
    engine = build_model(model_name, dtype, backend)
    n = len(arrays.train_labels)
    order = torch.utils.data.DataLoader(torch.arange(n), batch_size=BATCH, shuffle=True, drop_last=True)
    x_all = arrays.train_images.reshape(n, -1)
    scale = np.dtype(dtype).type(255)

    def batches():
        for _ in range(epochs or 1):
            for idx in order:  # each epoch draws its shuffle from torch's generator, as the lesson's loader
                idx = idx.numpy()
                yield x_all[idx].astype(dtype) / scale, arrays.train_labels[idx]

    if epochs is not None:
        return t_model, engine, batches()
    first = []
    for batch in batches():
        if len(first) == steps:
            break
        first.append(batch)
    return t_model, engine, first


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m parity.diverge", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp", choices=("softmax", "mlp"))
    parser.add_argument("--steps", type=int, default=20, help="training steps to replay (default: 20)")
    parser.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    args = parser.parse_args(argv)
    t_model, engine, batches = lesson_start(args.model, args.steps, args.dtype)
    found = locate(t_model, engine, batches, steps=args.steps, dtype=args.dtype)
    if found is None:
        print(f"no divergence: every op of {args.steps} steps ({args.model}, {args.dtype}) matched torch within "
              f"rounding ({ROUNDING[np.dtype(args.dtype)]:.0e} normwise relative)")
        return 0
    print(found)
    return 1


sys.path.insert(0, str(Path(__file__).resolve().parent))  # mnist_harness, when run as python -m parity.diverge

if __name__ == "__main__":
    sys.exit(main())
