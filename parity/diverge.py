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


def locate(torch_model, engine_model, batches, lr=0.001, steps=None, dtype="float64"):
    """Replay ``batches`` ((x, y) numpy arrays) through both models with Adam(lr); return the first
    Divergence, or None when every op stayed within rounding for every step.

    Both models must have the same layers (a Sequential of Linear and activations, or one Linear);
    the engine's parameters are overwritten with torch's at every step.
    """
    dtype = np.dtype(dtype)
    allowed = ROUNDING[dtype]
    torch_model = torch_model.to({np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[dtype])
    t_layers, e_layers = _layers(torch_model), _layers(engine_model)
    if [type(t).__name__ for t in t_layers] != [type(e).__name__ for e in e_layers]:
        raise ValueError(f"the models differ: torch {[type(t).__name__ for t in t_layers]}, "
                         f"engine {[type(e).__name__ for e in e_layers]}")
    t_params = dict(torch_model.named_parameters())
    e_params = dict(engine_model.named_parameters())
    t_opt = torch.optim.Adam(torch_model.parameters(), lr=lr)
    e_opt = mt.optim.Adam(engine_model.parameters(), lr=lr)
    e_loss_fn = mt.nn.CrossEntropyLoss()

    def first(step, phase, where, pairs):
        for tensor, ours, theirs, *floor in pairs:
            err, limit = _error(ours, theirs), max([allowed, *floor])
            if err > limit:
                return Divergence(step, phase, where, tensor, err, limit)
        return None

    for step, (x, y) in enumerate(batches, 1):
        if steps is not None and step > steps:
            break
        x = np.asarray(x, dtype=dtype)
        with mt.no_grad():  # each step starts from torch's parameters
            for name, p in e_params.items():
                p.data[...] = t_params[name].detach().numpy()

        # Forward, layer by layer, each engine layer fed torch's input to it.
        t_ins, t_outs, e_ins, e_outs = [], [], [], []
        value = x
        for i, (tl, el) in enumerate(zip(t_layers, e_layers)):
            t_in, e_in = _leaf(value), mt.tensor(value, requires_grad=True)
            t_out, e_out = tl(t_in), el(e_in)
            t_ins.append(t_in), t_outs.append(t_out), e_ins.append(e_in), e_outs.append(e_out)
            found = first(step, "forward", f"layer {i} ({type(el).__name__})",
                          [("output", e_out.numpy(), t_out.detach().numpy())])
            if found:
                return found
            value = t_out.detach().numpy()

        # The loss, on torch's logits.
        t_logits, e_logits = _leaf(value), mt.tensor(value, requires_grad=True)
        t_loss = torch.nn.functional.cross_entropy(t_logits, torch.from_numpy(np.asarray(y)))
        e_loss = e_loss_fn(e_logits, mt.tensor(np.asarray(y, dtype=np.int64)))
        found = first(step, "forward", "loss (CrossEntropyLoss)", [("output", e_loss.numpy(), t_loss.detach().numpy())])
        if found:
            return found
        t_loss.backward()
        e_loss.backward()
        found = first(step, "backward", "loss (CrossEntropyLoss)",
                      [("gradient of the logits", e_logits.grad.numpy(), t_logits.grad.numpy())])
        if found:
            return found

        # Backward, last layer first, each engine layer fed torch's gradient from above.
        t_opt.zero_grad()
        e_opt.zero_grad()
        upstream = t_logits.grad.numpy()
        for i in reversed(range(len(t_layers))):
            t_outs[i].backward(torch.from_numpy(upstream))
            e_outs[i].backward(mt.tensor(upstream))
            pairs = [("gradient of the input", e_ins[i].grad.numpy(), t_ins[i].grad.numpy())]
            for pname, tp in t_layers[i].named_parameters():
                ep = getattr(e_layers[i], pname)
                pairs.append((f"gradient of {pname}", ep.grad.numpy(), tp.grad.numpy()))
            found = first(step, "backward", f"layer {i} ({type(e_layers[i]).__name__})", pairs)
            if found:
                return found
            upstream = t_ins[i].grad.numpy()

        # The optimizer: the same gradients in, the same update out.
        with mt.no_grad():
            for name, p in e_params.items():
                p.grad.data[...] = t_params[name].grad.numpy()
        before = {name: p.detach().numpy().copy() for name, p in t_params.items()}
        t_opt.step()
        e_opt.step()
        pairs = []
        for name in t_params:
            after = t_params[name].detach().numpy()
            update = after - before[name]
            # The update is read off the new parameter, which is rounded to the parameter's own ulp:
            # allow a few of those ulps relative to the update's size.
            floor = 4 * np.finfo(dtype).eps * np.abs(after).max() / max(np.abs(update).max(), np.finfo(dtype).tiny)
            pairs.append((f"update of {name}", e_params[name].numpy() - before[name], update, floor))
        found = first(step, "optimizer", f"optimizer ({type(e_opt).__name__})", pairs)
        if found:
            return found
    return None


def lesson_start(model_name="mlp", steps=20, dtype="float64", arrays=None):
    """torch's lesson model (seeded as the lesson seeds it), the same model in the engine, and the
    first ``steps`` batches of torch's first epoch, as numpy (x scaled to [0, 1]) and int64 labels."""
    from mnist_harness import BATCH, load_arrays, lesson_seed, torch_model

    from minitorch_relu.train import build_model

    arrays = arrays or load_arrays()
    lesson_seed()
    t_model = torch_model(model_name)
    engine = build_model(model_name, dtype)
    n = len(arrays.train_labels)
    order = torch.utils.data.DataLoader(torch.arange(n), batch_size=BATCH, shuffle=True, drop_last=True)
    x_all = arrays.train_images.reshape(n, -1)
    batches = []
    for idx in order:
        if len(batches) == steps:
            break
        idx = idx.numpy()
        batches.append(((x_all[idx].astype(dtype) / np.dtype(dtype).type(255)), arrays.train_labels[idx]))
    return t_model, engine, batches


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
