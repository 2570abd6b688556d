"""The engine's random numbers: one NumPy generator, seeded by manual_seed.

Random values are drawn on the host and then moved to a tensor's backend, so a seed gives the same
weights on every device.
"""

import numpy as np

_generator = None  # made on first use: seeding from the OS costs import time for nothing


def manual_seed(seed):
    """Reseed the generator used by nn.init, nn.Linear and DataLoader shuffling."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed takes an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(seed)
    return _generator


def generator():
    """The generator in use now (changes after each manual_seed)."""
    global _generator
    if _generator is None:
        _generator = np.random.default_rng()
    return _generator


# --- provisional get/set_rng_state (replaced by the gen branch) ---
def get_rng_state():
    """The default generator's state as a 1-D uint8 array (as torch.get_rng_state gives a ByteTensor)."""
    import json

    state = json.dumps(generator().bit_generator.state)  # PCG64's state: a few big Python ints
    return np.frombuffer(state.encode("ascii"), dtype=np.uint8).copy()


def set_rng_state(state):
    """Restore the default generator to a state that get_rng_state returned."""
    import json

    global _generator
    array = np.asarray(state)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise TypeError(f"set_rng_state takes a 1-D uint8 array, got {array.dtype} of shape {array.shape}")
    restored = np.random.default_rng()
    restored.bit_generator.state = json.loads(array.tobytes().decode("ascii"))
    _generator = restored


# --- provisional bernoulli (replaced by the gen branch) ---
_current_generator = generator  # the parameter below shadows the function's name


def bernoulli(shape, p, dtype=np.float32, generator=None):
    """A numpy array of ``shape`` holding 1 with probability ``p`` and 0 otherwise (in ``dtype``),
    like torch's ``torch.empty(shape).bernoulli_(p)``; drawn from ``generator`` or the current one."""
    if not 0 <= p <= 1:
        raise ValueError(f"bernoulli: p must lie in [0, 1], got {p}")
    rng = generator if generator is not None else _current_generator()
    return (rng.random(shape) < p).astype(dtype)
