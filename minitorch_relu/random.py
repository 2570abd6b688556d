"""The engine's random numbers: torch's CPU generator (MT19937), bit for bit.

After ``mt.manual_seed(s)`` every draw here equals torch's after ``torch.manual_seed(s)``: the same
values, in the same order. That is what lets ``minitorch-relu train`` print the lesson's table with
no torch installed. How torch draws (read from ATen's MT19937RNGEngine.h, CPUGeneratorImpl.cpp,
core/TransformationHelper.h, native/cpu/DistributionTemplates.h and avx_mathfun.h):

* The engine is MT19937. ``manual_seed(s)`` keeps the low 32 bits of ``s`` and fills the 624-word
  state with Matsumoto and Nishimura's ``init_genrand`` recurrence. Every 624 words the state is
  "twisted" into a new block; each output word is the next state word, "tempered".
* ``random()`` is one 32-bit word; ``random64()`` is two: ``first << 32 | second``.
* A float32 uniform is ``(word & (2**24 - 1)) * 2**-24``, a float64 one ``(random64 & (2**53 - 1))
  * 2**-53``, then scaled: ``x * (to - from) + from`` (one fused multiply-add, as the compiler emits it).
* ``normal_`` on 16 or more elements fills the tensor with uniforms, then turns each block of 16
  into normals with Box-Muller: ``u[0:8]`` give the radii, ``u[8:16]`` the angles. If the size is not
  a multiple of 16, 16 fresh uniforms overwrite the last 16 elements and are transformed again.
  For float32 this is torch's x86-64 AVX2 kernel (also used on AVX-512 CPUs), whose log/sin/cos
  are the polynomial approximations of avx_mathfun.h, reproduced below operation for operation,
  with the fused multiply-adds GCC makes of them. Torch on a CPU without AVX2 (or with
  ATEN_CPU_CAPABILITY=default) uses a scalar kernel with the C library's logf/sinf/cosf instead:
  its float32 normals differ from these in the last bit for about 40% of the elements. float64
  uses the scalar kernel everywhere; its log, sin and cos are the C library's (Python's math
  module calls the same functions; NumPy's own log differs from them in the last bit at times).
* Fewer than 16 elements take a slower path: one Box-Muller pair per two elements in float64, the
  second value kept in the generator for the next call (``normal_distribution<double>``); the
  result is ``value * std + mean``, fused (AVX2/AVX-512 kernels; the no-AVX2 kernel rounds twice).
* ``randint`` (``random_(from, to)``) is ``word % range + from``, with 64-bit words from a range of
  2**28 up. ``randperm(n)`` swaps element i with element ``i + random() % (n - i)``.
* ``bernoulli(p)`` is ``uniform64 < p`` per element: dropout's masks (torch 2.14.1 takes this
  kernel on every CPU, checked here; earlier versions' source sent Intel CPUs to MKL's own generator).

Values are drawn on the host (NumPy) and then moved to a tensor's backend, so a seed gives the same
numbers on every device.
"""

import math
import os

import numpy as np

from ._fma import fma
from .backend import get_backend
from .tensor import Tensor, default_dtype

_DEFAULT_SEED = 67280421310721  # torch.Generator()'s seed when none is given (c10's default_rng_seed_val)
_N = 624  # MT19937's state words
_STATE_BYTES = 5056  # sizeof(CPUGeneratorImplState): torch.get_rng_state()'s layout, kept byte for byte

# torch.get_rng_state()'s bytes: the legacy TH generator struct, then the float normal cache.
_STATE_LAYOUT = np.dtype({
    "names": ["seed", "left", "seeded", "next", "state", "normal_x", "normal_y", "normal_rho",
              "normal_is_valid", "next_float_normal", "next_float_normal_is_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", (_N,)), "<f8", "<f8", "<f8", "<i4", "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5044, 5048],
    "itemsize": _STATE_BYTES,
})


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed takes an int, got {type(seed).__name__}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"manual_seed: the seed must be in [-2**63, 2**64), got {seed}")
    return seed % 2**64  # torch stores it as a uint64: -1 is 2**64 - 1


def _mt19937(words, pos):
    """NumPy's MT19937 (the reference algorithm, in C) holding these 624 state words; it outputs
    words[pos:] tempered, then twists. Seeding it first is only to build it: the state is set whole."""
    bits = np.random.MT19937(0)
    bits.state = {"bit_generator": "MT19937", "state": {"key": words, "pos": pos}}
    return bits


class Generator:
    """torch.Generator() for the CPU: MT19937 with torch's seeding, state layout and normal cache.

    The words come from NumPy's MT19937, the same algorithm (torch's engine twists and tempers as
    the reference code does); this class adds torch's seeding and its bookkeeping. ``left`` and
    ``next`` follow torch's engine: ``next`` is the index of the next state word to output, and a
    twist happens when ``left`` reaches 1 (so a freshly seeded generator, left = 1, twists on its
    first draw: NumPy's position 624).
    """

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise ValueError(f"Generator: only the 'cpu' generator exists here, got device={device!r}")
        self.device = "cpu"
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        """Seed as torch does (init_genrand with the low 32 bits); returns the generator."""
        seed = _check_seed(seed)
        state = [seed & 0xFFFFFFFF]
        for j in range(1, _N):  # a recurrence: each word needs the previous one, so a plain loop
            state.append((1812433253 * (state[-1] ^ (state[-1] >> 30)) + j) & 0xFFFFFFFF)
        self._seed, self._left, self._next = seed, 1, 0
        self._bits = _mt19937(np.array(state, np.uint32), _N)
        self._next_double_normal = None  # Box-Muller's second value, kept for the next small normal_
        self._next_float_normal = None  # torch keeps this one too (unused on the CPU): saved, restored
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    # ----- raw words ------------------------------------------------------------------------------
    def _raw(self, n):
        """n words (as uint64 values below 2**32), with torch's left/next moved on as its engine does."""
        if n > self._left - 1:  # one twist or more: the last block gives the last t words
            t = n - (self._left - 1) - _N * ((n - self._left) // _N)
            self._left, self._next = _N + 1 - t, t
        else:
            self._left, self._next = self._left - n, self._next + n
        return self._bits.random_raw(n)

    def random(self, n):
        """n 32-bit words (uint32), torch's random() n times."""
        return self._raw(n).astype(np.uint32)

    def random64(self, n):
        """n 64-bit words (uint64), torch's random64(): two words, the first one high."""
        words = self._raw(2 * n)
        return (words[0::2] << np.uint64(32)) | words[1::2]

    # ----- state ----------------------------------------------------------------------------------
    def get_state(self):
        """The state as torch.Generator.get_state()'s 5056 bytes (a 1-D uint8 array)."""
        pod = np.zeros((), _STATE_LAYOUT)
        pod["seed"], pod["left"], pod["seeded"], pod["next"] = self._seed, self._left, 1, self._next
        pod["state"] = self._bits.state["state"]["key"]
        if self._next_double_normal is not None:
            pod["normal_is_valid"], pod["normal_y"] = 1, self._next_double_normal
        if self._next_float_normal is not None:
            pod["next_float_normal_is_valid"], pod["next_float_normal"] = 1, self._next_float_normal
        return np.frombuffer(pod.tobytes(), np.uint8).copy()

    def set_state(self, new_state):
        """Restore a state from get_state() (or from torch's get_state(), as a uint8 array)."""
        array = np.asarray(new_state)
        if array.dtype != np.uint8 or array.shape != (_STATE_BYTES,):
            raise ValueError(f"set_state: expected a 1-D uint8 array of {_STATE_BYTES} bytes (from get_state()), "
                             f"got dtype {array.dtype} and shape {array.shape}")
        pod = np.frombuffer(array.tobytes(), _STATE_LAYOUT)[0]
        left, nxt, state = int(pod["left"]), int(pod["next"]), pod["state"]
        # torch's engine reaches left + next = 625 only (or left = 1 before its first twist)
        if not (pod["seeded"] and 0 < left <= _N and (left + nxt == _N + 1 or left == 1 and nxt <= _N)) \
                or state.max() > 0xFFFFFFFF:
            raise ValueError(f"set_state: not a valid MT19937 state (left={left}, next={nxt}, seeded={int(pod['seeded'])})")
        self._seed, self._left, self._next = int(pod["seed"]), left, nxt
        self._bits = _mt19937(state.astype(np.uint32), _N if left == 1 else nxt)
        self._next_double_normal = float(pod["normal_y"]) if pod["normal_is_valid"] else None
        self._next_float_normal = float(pod["next_float_normal"]) if pod["next_float_normal_is_valid"] else None
        return self

    def __repr__(self):
        return f"Generator(device='cpu', initial_seed={self._seed})"


default_generator = Generator()
default_generator.seed()  # like torch: a nondeterministic seed until manual_seed is called


def manual_seed(seed):
    """Reseed the default generator (nn.init, nn.Linear, rand*, DataLoader shuffling); returns it."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state: a 1-D uint8 array, torch.get_rng_state()'s bytes."""
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _generator(generator):
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a minitorch_relu Generator, got {type(generator).__name__}")
    return generator


def _float_dtype(dtype, where):
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{where}: dtype must be float32 or float64, got {dtype}")
    return dtype


def _shape(shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


# ----- uniform ------------------------------------------------------------------------------------
def _unit_uniform(gen, n, dtype):
    """n uniforms in [0, 1): 24 bits of a 32-bit word (float32) or 53 of a 64-bit one (float64)."""
    if dtype == np.float32:
        return (gen.random(n) & np.uint32(2**24 - 1)).astype(np.float32) * np.float32(2.0**-24)
    return (gen.random64(n) & np.uint64(2**53 - 1)).astype(np.float64) * 2.0**-53


def uniform(shape, low=0.0, high=1.0, dtype=None, generator=None):
    """A NumPy array like ``torch.empty(shape, dtype=dtype).uniform_(low, high)``."""
    dtype, shape = _float_dtype(dtype, "uniform"), _shape(shape)
    if not low <= high:
        raise ValueError(f"uniform: the lower bound low={low} must not exceed the upper bound high={high}")
    low_t, high_t = dtype.type(low), dtype.type(high)
    x = _unit_uniform(_generator(generator), math.prod(shape), dtype)
    values = fma(x, high_t - low_t, low_t)
    # a value rounded up onto the upper bound wraps to the lower one, so the interval stays [low, high)
    return np.where(values == high_t, low_t, values).reshape(shape)


# ----- normal -------------------------------------------------------------------------------------
def normal(shape, mean=0.0, std=1.0, dtype=None, generator=None):
    """A NumPy array like ``torch.empty(shape, dtype=dtype).normal_(mean, std)``."""
    dtype, shape = _float_dtype(dtype, "normal"), _shape(shape)
    if not std >= 0:
        raise ValueError(f"normal: std must be non-negative, got {std}")
    gen, n = _generator(generator), math.prod(shape)
    if n < 16:
        return _normal_scalar(gen, n, mean, std).astype(dtype).reshape(shape)
    box_muller = _box_muller_avx2 if dtype == np.float32 else _box_muller_float64
    out = box_muller(_unit_uniform(gen, n, dtype)[: n - n % 16], mean, std)
    out = np.concatenate([out, np.empty(n % 16, dtype)])
    if n % 16:  # the tail: 16 fresh uniforms, transformed, overwrite the last 16 values
        out[-16:] = box_muller(_unit_uniform(gen, 16, dtype), mean, std)
    return out.reshape(shape)


def _normal_scalar(gen, n, mean, std):
    """torch's normal_distribution<double>: a Box-Muller pair gives two values; the sine one is
    kept in the generator and used first by the next draw (even by the next call)."""
    out = np.empty(n, np.float64)
    for i in range(n):
        if gen._next_double_normal is not None:
            value, gen._next_double_normal = gen._next_double_normal, None
        else:
            u1, u2 = _unit_uniform(gen, 2, np.float64).tolist()
            radius = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            gen._next_double_normal = radius * math.sin(theta)
            value = radius * math.cos(theta)
        out[i] = value
    return fma(out, std, mean)


def _box_muller_float64(u, mean, std):
    """Blocks of 16 float64 uniforms -> normals, with the C library's log, sin, cos (as torch)."""
    u = u.reshape(-1, 16)
    u1, u2 = 1.0 - u[:, :8], u[:, 8:]
    log_u1 = np.array([math.log(v) for v in u1.ravel().tolist()]).reshape(u1.shape)
    radius = np.sqrt(-2.0 * log_u1)
    theta = (2.0 * math.pi) * u2
    cos = np.array([math.cos(v) for v in theta.ravel().tolist()]).reshape(theta.shape)
    sin = np.array([math.sin(v) for v in theta.ravel().tolist()]).reshape(theta.shape)
    return fma(np.concatenate([radius * cos, radius * sin], axis=1), std, mean).ravel()


# float32 Box-Muller as torch's AVX2 kernel computes it. The constants are Cephes' single-precision
# log and sin/cos polynomials, as avx_mathfun.h writes them; every step rounds to float32, and
# where GCC contracts a multiply followed by an add into one fused multiply-add, so does _fma.
_f32 = np.float32
_LOG_POLY = [_f32(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                               1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                               3.3333331174e-1)]
_LOG_Q1, _LOG_Q2 = _f32(-2.12194440e-4), _f32(0.693359375)  # ln 2 split in two parts
_PI_OVER_4_PARTS = [_f32(c) for c in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)]
_COS_POLY = [_f32(c) for c in (2.443315711809948e-005, -1.388731625493765e-003, 4.166664568298827e-002)]
_SIN_POLY = [_f32(c) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]


def _log_avx2(x):
    """log256_ps: x = m * 2**e with m in [sqrt(1/2), sqrt(2)), log x = e*ln2 + a polynomial in m - 1."""
    bits = np.maximum(x, np.finfo(_f32).tiny).view(np.int32)  # denormals cut off
    e = ((bits >> 23) - 0x7F).astype(_f32) + _f32(1)
    m = ((bits & ~0x7F800000) | 0x3F000000).view(_f32)  # the mantissa, as a number in [0.5, 1)
    small = m < _f32(0.707106781186547524)
    e = e - np.where(small, _f32(1), _f32(0))
    m = (m - _f32(1)) + np.where(small, m, _f32(0))  # m - 1, or 2m - 1 when m < sqrt(1/2)
    z = m * m
    y = np.full_like(m, _LOG_POLY[0])
    for coefficient in _LOG_POLY[1:]:
        y = fma(y, m, coefficient)
    y = fma(y * m, z, e * _LOG_Q1)
    y = fma(-z, _f32(0.5), y)
    return np.where(x <= 0, np.nan, fma(e, _LOG_Q2, m + y)).astype(_f32)


def _sincos_avx2(x):
    """sincos256_ps: reduce |x| to [-pi/4, pi/4] by octant j, then one of two polynomials each."""
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * _f32(1.27323954473516)).astype(np.int32)  # 4/pi * |x|, truncated
    j = (j + 1) & ~1
    y = j.astype(_f32)
    for part in _PI_OVER_4_PARTS:  # x - j * pi/4, with pi/4 in three parts for precision
        x = fma(y, part, x)
    sign_sin = sign_sin ^ ((j & 4) != 0)
    sign_cos = (~(j - 2) & 4) != 0
    use_sin_poly = (j & 2) == 0  # for the sine; the cosine takes the other polynomial
    z = x * x
    cos_poly = fma(fma(np.full_like(z, _COS_POLY[0]), z, _COS_POLY[1]), z, _COS_POLY[2])
    cos_poly = fma(cos_poly * z, z, -(z * _f32(0.5))) + _f32(1)
    sin_poly = fma(fma(np.full_like(z, _SIN_POLY[0]), z, _SIN_POLY[1]), z, _SIN_POLY[2])
    sin_poly = fma(sin_poly * z, x, x)
    sin = np.where(use_sin_poly, sin_poly, cos_poly)
    cos = np.where(use_sin_poly, cos_poly, sin_poly)
    return np.where(sign_sin, -sin, sin), np.where(sign_cos, -cos, cos)


def _box_muller_avx2(u, mean, std):
    """Blocks of 16 float32 uniforms -> normals, as NormalFill16<float> with AVX2."""
    u = u.reshape(-1, 16)
    radius = np.sqrt(_f32(-2) * _log_avx2(_f32(1) - u[:, :8]))
    sin, cos = _sincos_avx2(_f32(2.0 * math.pi) * u[:, 8:])
    pairs = np.concatenate([radius * cos, radius * sin], axis=1)
    return fma(pairs, _f32(std), _f32(mean)).ravel()


# ----- integers -----------------------------------------------------------------------------------
def _check_range(low, high, where):
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{where}: {name} must be an int, got {value!r}")
    if not low < high:
        raise ValueError(f"{where}: low must be smaller than high, got low={low}, high={high}")
    return int(high) - int(low)


def integers(low, high, shape, generator=None):
    """int64 array like ``torch.randint(low, high, shape)``: word % (high - low) + low."""
    span, shape = _check_range(low, high, "randint"), _shape(shape)
    gen, n = _generator(generator), math.prod(shape)
    words = gen.random64(n) if span >= 2**28 else gen.random(n).astype(np.uint64)
    return ((words % np.uint64(span)).astype(np.int64) + int(low)).reshape(shape)


def draw_seed(generator=None):
    """One int64 like ``torch.empty((), dtype=torch.int64).random_()``: a 64-bit word mod 2**63.

    DataLoader draws its seeds this way (one for the workers, one for the shuffle) every epoch.
    """
    return int(_generator(generator).random64(1)[0] % np.uint64(2**63))


def permutation(n, generator=None):
    """int64 array like ``torch.randperm(n)``: a Fisher-Yates shuffle with torch's draws.

    Element i swaps with element i + random() % (n - i), i = 0 .. n-2. The remainders are drawn at
    once; the swaps depend on each other, so they run in a loop (on Python ints: ~10 ms for 60000).
    Torch switches to 64-bit draws and an "inside-out" shuffle from n = 2**32 // 20 (214748364).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    n, gen = int(n), _generator(generator)
    if n < (2**32 - 1) // 20:
        offsets = (gen.random(max(n - 1, 0)).astype(np.int64) % np.arange(n, 1, -1)).tolist()
        order = list(range(n))
        for i, offset in enumerate(offsets):
            j = i + offset
            order[i], order[j] = order[j], order[i]
        return np.array(order, np.int64)
    picks = (gen.random64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
    order = [0] * n
    for i, z in enumerate(picks):  # inside-out: place i, moving what was at z to the end
        order[i] = order[z]
        order[z] = i
    return np.array(order, np.int64)


def bernoulli(shape, p=0.5, dtype=None, generator=None):
    """0/1 array like ``torch.empty(shape, dtype=dtype).bernoulli_(p)`` on torch's portable path:
    one float64 uniform per element, 1 where it is below p (dropout's masks: the same as torch 2.14.1's).
    """
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if not 0 <= p <= 1:
        raise ValueError(f"bernoulli: p must be in [0, 1], got {p}")
    shape = _shape(shape)
    # u = k * 2**-53 exactly (k: random64's low 53 bits), so u < p is k < ceil(p * 2**53): integers only
    k = _generator(generator).random64(math.prod(shape)) & np.uint64(2**53 - 1)
    return (k < np.uint64(math.ceil(p * 2.0**53))).astype(dtype).reshape(shape)


# ----- tensors: mt.rand, randn, randint, randperm -------------------------------------------------
def _size(size, where):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for d in size:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise ValueError(f"{where}: sizes must be non-negative ints, got {size}")
    return tuple(int(d) for d in size)


def _tensor(array, backend, requires_grad):
    return Tensor(get_backend(backend).asarray(array), requires_grad=requires_grad)


def rand(*size, generator=None, dtype=None, backend=None, requires_grad=False):
    """Uniform [0, 1) values, like torch.rand."""
    values = uniform(_size(size, "rand"), dtype=dtype or default_dtype, generator=generator)
    return _tensor(values, backend, requires_grad)


def randn(*size, generator=None, dtype=None, backend=None, requires_grad=False):
    """Standard normal values, like torch.randn."""
    values = normal(_size(size, "randn"), dtype=dtype or default_dtype, generator=generator)
    return _tensor(values, backend, requires_grad)


def randint(*args, size=None, generator=None, dtype=None, backend=None, requires_grad=False):
    """Integers in [low, high), like torch.randint: randint(high, size) or randint(low, high, size)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        args = (0,) + args
    if len(args) != 3:
        raise TypeError("randint(low=0, high, size): give high and size, or low, high and size")
    low, high, shape = args
    values = integers(low, high, _size((shape,), "randint"), generator)
    return _tensor(values.astype(dtype or np.int64), backend, requires_grad)


def randperm(n, generator=None, dtype=None, backend=None, requires_grad=False):
    """A random permutation of 0 .. n-1, like torch.randperm."""
    return _tensor(permutation(n, generator).astype(dtype or np.int64), backend, requires_grad)
