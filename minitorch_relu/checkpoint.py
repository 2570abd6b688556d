"""Training checkpoints: what `train --save DIR` writes and `train --resume DIR` reads.

    DIR/model.safetensors            the model's state_dict under torch's key names: loads as is into
                                     the same torch model (torch_model.load_state_dict(
                                     safetensors.torch.load_file(...))), or `minitorch-relu evaluate DIR`
    DIR/training_state.safetensors   everything resuming needs, in one file: the model again, the
                                     optimizer's state, the generator's state, the epoch and step
                                     reached, the costs so far and the run's settings; mid-epoch also
                                     the epoch's sample order (as the generator state it was drawn
                                     from) and its partial cost sum

Both are rewritten after every epoch (and at Ctrl-C), each atomically (serialization.write_atomically):
a crash leaves the previous whole file, never a half-written one. The state file holds its own copy
of the model, so it is complete by itself even if a crash falls between the two writes.

Resuming is exact, bit for bit: the same weights, optimizer state and generator state, and the same
order of the remaining samples, so the resumed run computes what the uninterrupted run computes.

The epoch's order is kept as the generator's state just before the DataLoader drew it: a resumed
run sets that state back, lets the same DataLoader draw the same order again, skips the batches
already done, and then puts the generator where it was at the save. So the loader stays the plain
``DataLoader(shuffle=True)`` of the lesson, and whatever it draws from the generator each epoch
(torch's loader draws a worker seed, then the sampler's seed) is replayed as it was.
"""

import json
from pathlib import Path

import numpy as np

from . import serialization
from .random import get_rng_state, set_rng_state
from .training import MODELS, build_model

MODEL_FILE = "model.safetensors"
STATE_FILE = "training_state.safetensors"
FORMAT = "minitorch_relu training checkpoint 1"
META_KEY = "minitorch_relu"  # the metadata entry (JSON) of both files

CheckpointError = serialization.CheckpointError


class Position:
    """Where a run stands: the finished epochs' costs and, inside the next epoch, the steps done.

    Mid-epoch (``step`` > 0) it also holds the partial cost sum (a 0-d array in the model's dtype,
    as the training loop accumulates it) and ``epoch_rng_state``, the generator's state just before
    the epoch's order was drawn (see the module docstring).
    """

    def __init__(self, costs=(), step=0, partial=None, epoch_rng_state=None):
        self.costs = [float(c) for c in costs]
        self.step = int(step)
        self.partial = partial
        self.epoch_rng_state = epoch_rng_state

    @property
    def epochs_done(self):
        return len(self.costs)

    def describe(self):
        if self.step:
            return f"epoch {self.epochs_done + 1}, step {self.step}"
        return f"the end of epoch {self.epochs_done}"


class ReplayableEpochs:
    """The loader's epochs, each remembering the generator state it started from (``epoch_rng_state``).

    Resuming mid-epoch (``position.step`` > 0), the first epoch is replayed: the generator is set to
    that epoch's starting state, the loader draws the same order again, the ``step`` batches already
    done are skipped, and the generator is put back to ``now_rng_state`` (its state at the save) before
    the first new batch. Every later epoch is the loader's own.
    """

    def __init__(self, loader, position=None, now_rng_state=None):
        self.loader = loader
        self.epoch_rng_state = None
        self._replay = None
        if position is not None and position.step:
            self._replay = (position.epoch_rng_state, position.step, now_rng_state)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        if self._replay is None:
            self.epoch_rng_state = get_rng_state()
            yield from self.loader
            return
        start_state, done, now_state = self._replay
        self._replay = None
        set_rng_state(start_state)
        self.epoch_rng_state = start_state
        batches = iter(self.loader)
        for _ in range(done):  # the order is drawn on the first batch; these were trained on already
            next(batches)
        set_rng_state(now_state)
        yield from batches


# ----- saving -----------------------------------------------------------------------------------------
def save(folder, model, optimizer, settings, position):
    """Write DIR/model.safetensors and DIR/training_state.safetensors (creating DIR); see the module docstring."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = model.state_dict()
    tensors = {f"model.{name}": value for name, value in weights.items()}
    optimizer_description = serialization.pack_tree(optimizer.state_dict(), "optimizer", tensors)
    tensors["rng_state"] = np.asarray(get_rng_state(), dtype=np.uint8)
    if position.step:
        tensors["epoch.rng_state"] = np.asarray(position.epoch_rng_state, dtype=np.uint8)
        tensors["epoch.partial_cost"] = np.asarray(position.partial)
    info = {"format": FORMAT, "settings": settings, "costs": position.costs, "step": position.step,
            "optimizer": optimizer_description}
    serialization.save_state(tensors, folder / STATE_FILE, metadata={META_KEY: serialization.dumps(info)})
    summary = {"model": settings.get("model"), "epochs_done": position.epochs_done, "step": position.step}
    serialization.save_state(weights, folder / MODEL_FILE,
                             metadata={"format": "pt", META_KEY: json.dumps(summary)})  # "pt": torch tensors' layout


# ----- loading ----------------------------------------------------------------------------------------
class Checkpoint:
    """A training state read back: ``settings`` (dict), ``position`` (Position), ``model_state``,
    ``optimizer_state`` (the optimizer's state_dict) and ``rng_state`` (uint8 array)."""

    def __init__(self, folder, settings, position, model_state, optimizer_state, rng_state):
        self.folder, self.settings, self.position = folder, settings, position
        self.model_state, self.optimizer_state, self.rng_state = model_state, optimizer_state, rng_state

    def restore(self, model, optimizer):
        """Load the weights and the optimizer's state, then set the engine's generator where it was."""
        model.load_state_dict(self.model_state)
        optimizer.load_state_dict(self.optimizer_state)
        set_rng_state(self.rng_state)


def load(folder):
    """The Checkpoint in ``folder`` (what `train --save` wrote); CheckpointError names what is wrong."""
    folder = Path(folder)
    path = folder / STATE_FILE
    if not folder.is_dir():
        raise CheckpointError(f"{str(folder)!r} is not a folder (--resume takes the folder given to --save)")
    if not path.is_file():
        raise CheckpointError(f"{str(folder)!r} holds no {STATE_FILE}: it is not a folder written by train --save")
    tensors = serialization.load_state(path)
    try:
        info = json.loads(serialization.load_metadata(path)[META_KEY])
        if info.get("format") != FORMAT:
            raise ValueError(f"format {info.get('format')!r}, expected {FORMAT!r}")
        optimizer_state = serialization.unpack_tree(info["optimizer"], tensors)
        step = int(info["step"])
        position = Position(info["costs"], step,
                            tensors["epoch.partial_cost"] if step else None,
                            tensors["epoch.rng_state"] if step else None)
        model_state = {name[len("model."):]: value for name, value in tensors.items() if name.startswith("model.")}
        return Checkpoint(folder, info["settings"], position, model_state, optimizer_state, tensors["rng_state"])
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: not a checkpoint this version can read ({type(exc).__name__}: {exc})") from None


def model_file(path):
    """The .safetensors file of ``path``: the file itself, or DIR/model.safetensors for a folder."""
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise CheckpointError(f"{str(path)!r}: no such file")
    return path


def model_name_in(path, weights):
    """Which of the CLI's models ``weights`` (name -> array) fits: the name train --save recorded,
    else the one whose state_dict has exactly these keys and shapes (a file torch saved)."""
    recorded = json.loads(serialization.load_metadata(path).get(META_KEY, "{}")).get("model")
    if recorded in MODELS:
        return recorded
    shapes = {name: tuple(value.shape) for name, value in weights.items()}
    for name in MODELS:
        candidate = {k: tuple(v.shape) for k, v in build_model(name).state_dict().items()}
        if candidate == shapes:
            return name
    found = ", ".join(f"{k} {s}" for k, s in shapes.items())
    raise CheckpointError(f"{path}: its tensors ({found}) fit none of the models {', '.join(MODELS)}")


def load_model(path, backend=None):
    """(model, name, dtype) from a .safetensors file or a --save folder, ready for evaluation."""
    path = model_file(path)
    weights = serialization.load_state(path)
    name = model_name_in(path, weights)
    dtypes = {value.dtype for value in weights.values() if value.dtype.kind == "f"}
    dtype = dtypes.pop() if len(dtypes) == 1 else np.dtype(np.float32)
    model = build_model(name, dtype.name, backend)
    try:
        model.load_state_dict(weights)
    except (RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return model, name, dtype.name
