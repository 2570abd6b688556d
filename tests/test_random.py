"""The engine's generator without torch: MT19937 against NumPy's, exact arithmetic, state, errors.

Equality with torch itself is parity/test_generator_parity.py's job; the literal values below were
recorded from torch 2.14.1 and that file checks the same calls against torch directly.
"""

from fractions import Fraction

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu import random as R
from minitorch_relu._fma import fma


def test_words_equal_numpys_mt19937_with_the_same_init_genrand_seeding():
    for seed in (0, 1, 777, 2**32 - 1):
        reference = np.random.RandomState(seed)._bit_generator  # legacy seeding = init_genrand
        assert np.array_equal(R.Generator().manual_seed(seed).random(2000), reference.random_raw(2000))


def test_the_10000th_word_of_seed_5489_is_the_c_standards_value():
    assert R.Generator().manual_seed(5489).random(10000)[-1] == 4123659995  # std::mt19937's required value


def test_seed_keeps_the_low_32_bits_but_initial_seed_keeps_all():
    g = R.Generator().manual_seed(2**32 + 5)
    assert np.array_equal(g.random(700), R.Generator().manual_seed(5).random(700))
    assert g.initial_seed() == 2**32 + 5
    assert R.Generator().manual_seed(-1).initial_seed() == 2**64 - 1  # stored as uint64, as torch


def test_draws_split_across_calls_equal_one_draw():
    a, b = R.Generator().manual_seed(3), R.Generator().manual_seed(3)
    parts = np.concatenate([a.random(k) for k in (1, 622, 1, 1, 624, 700, 5)])
    assert np.array_equal(parts, b.random(len(parts)))
    c = R.Generator().manual_seed(3)
    words = c.random(4).astype(np.uint64)
    assert np.array_equal(R.Generator().manual_seed(3).random64(2), (words[0::2] << np.uint64(32)) | words[1::2])


def test_known_values_recorded_from_torch():
    mt.manual_seed(0)
    assert mt.rand(3).data.tolist() == [0.49625658988952637, 0.7682217955589294, 0.08847743272781372]
    assert mt.randn(3).data.tolist() == [0.3643381893634796, 0.13439632952213287, 0.16421625018119812]
    assert mt.randn(17, dtype=mt.float64).data[:2].tolist() == [-0.16958720658124937, -1.8291720046919973]
    assert mt.randperm(10).data.tolist() == [6, 2, 4, 0, 9, 1, 7, 3, 5, 8]
    assert mt.randint(0, 10, (5,)).data.tolist() == [9, 3, 9, 8, 5]


def test_manual_seed_makes_every_draw_reproducible():
    def draws():
        mt.manual_seed(42)
        return [mt.rand(5).data, mt.randn(20).data, mt.randn(3, dtype=mt.float64).data, mt.randint(7, (4,)).data,
                mt.randperm(9).data, R.bernoulli((30,), 0.3), mt.nn.Linear(20, 3).weight.data]
    for a, b in zip(draws(), draws()):
        assert np.array_equal(a, b)


def test_state_round_trip_includes_the_cached_normal():
    g = R.Generator().manual_seed(11)
    R.normal((3,), generator=g)  # odd count: one Box-Muller value stays cached in the generator
    state = g.get_state()
    assert state.dtype == np.uint8 and state.shape == (5056,)
    first = R.normal((5,), dtype=np.float64, generator=g)
    assert np.array_equal(g.set_state(state).get_state(), state)
    assert np.array_equal(R.normal((5,), dtype=np.float64, generator=g), first)


def test_module_state_functions_act_on_the_default_generator():
    mt.manual_seed(5)
    mt.rand(7)
    state = mt.get_rng_state()
    expected = mt.rand(1000).data
    mt.manual_seed(99)
    mt.set_rng_state(state)
    assert np.array_equal(mt.rand(1000).data, expected)
    assert mt.initial_seed() == 5


def test_set_state_rejects_bad_input_and_keeps_the_state():
    g = R.Generator().manual_seed(1)
    before = g.get_state()
    with pytest.raises(ValueError, match="5056 bytes"):
        g.set_state(np.zeros(10, np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        g.set_state(before.astype(np.int64))
    bad = before.copy()
    bad[8:12] = np.frombuffer(np.int32(0).tobytes(), np.uint8)  # left = 0
    with pytest.raises(ValueError, match="not a valid MT19937 state"):
        g.set_state(bad)
    assert np.array_equal(g.get_state(), before)


@pytest.mark.parametrize("bad, error", [(1.5, TypeError), ("3", TypeError), (True, TypeError), (2**64, ValueError),
                                        (-(2**63) - 1, ValueError)])
def test_manual_seed_rejects_bad_seeds(bad, error):
    with pytest.raises(error):
        mt.manual_seed(bad)


def test_argument_errors():
    with pytest.raises(ValueError, match="low must be smaller"):
        mt.randint(5, 5, (2,))
    with pytest.raises(ValueError, match="std must be non-negative"):
        R.normal((3,), std=-1.0)
    with pytest.raises(ValueError, match="must not exceed"):
        R.uniform((3,), 2.0, 1.0)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        R.bernoulli((3,), 1.5)
    with pytest.raises(TypeError, match="float32 or float64"):
        R.normal((3,), dtype=np.int32)
    with pytest.raises(TypeError, match="minitorch_relu Generator"):
        mt.rand(3, generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match="non-negative"):
        mt.randperm(-1)
    with pytest.raises(ValueError, match="only the 'cpu' generator"):
        mt.Generator("cuda")


def test_a_generator_argument_leaves_the_default_generator_alone():
    mt.manual_seed(8)
    expected = mt.rand(4).data
    mt.manual_seed(8)
    g = mt.Generator().manual_seed(8)
    assert np.array_equal(mt.rand(4, generator=g).data, expected)
    assert np.array_equal(mt.rand(4).data, expected)


def test_distributions_have_the_right_range_and_moments():
    g = mt.Generator().manual_seed(0)
    u = R.uniform((100000,), -2.0, 3.0, generator=g)
    assert u.dtype == np.float32 and u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.03
    for dtype in (np.float32, np.float64):
        n = R.normal((100000,), 1.0, 2.0, dtype=dtype, generator=g)
        assert n.dtype == dtype and abs(n.mean() - 1.0) < 0.03 and abs(n.std() - 2.0) < 0.03
    k = R.integers(-3, 4, (10000,), generator=g)
    assert set(np.unique(k).tolist()) == set(range(-3, 4))
    b = R.bernoulli((10000,), 0.3, generator=g)
    assert set(np.unique(b).tolist()) == {0.0, 1.0} and abs(b.mean() - 0.3) < 0.02
    assert sorted(R.permutation(1000, generator=g).tolist()) == list(range(1000))


def test_normal_sizes_around_16_are_tails_of_the_same_blocks():
    # 17 values: 17 uniforms, the first 16 one block; then 16 fresh ones for the last 16 values
    g1, g2 = mt.Generator().manual_seed(4), mt.Generator().manual_seed(4)
    x = R.normal((17,), generator=g1)
    assert x[0] == R.normal((16,), generator=g2)[0]
    g2.random(1)  # the 17th uniform, overwritten by the tail
    assert np.array_equal(x[1:], R.normal((16,), generator=g2))
    assert np.array_equal(g1.get_state(), g2.get_state())


def test_fma_float64_is_exact():
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(3000) * 10.0 ** rng.integers(-6, 6, 3000) for _ in range(3))
    expected = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    assert np.array_equal(fma(a, b, c), expected)


def _nearest_float32(exact):
    guess = np.float32(float(exact))
    candidates = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
    errors = [abs(Fraction(float(c)) - exact) for c in candidates]
    best = min(errors)
    ties = [c for c, e in zip(candidates, errors) if e == best]
    return ties[0] if len(ties) == 1 else next(c for c in ties if c.view(np.int32) % 2 == 0)


def test_fma_float32_rounds_once():
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(3000).astype(np.float32) for _ in range(3))
    expected = [_nearest_float32(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))) for x, y, z in zip(a, b, c)]
    assert np.array_equal(fma(a, b, c), np.array(expected, np.float32))


def test_avx2_log_and_sincos_are_within_a_few_float32_ulps():
    x = np.linspace(2.0**-24, 1.0, 200001, dtype=np.float32)
    ulp = np.spacing(np.abs(np.log(x.astype(np.float64))).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(R._log_avx2(x) - np.log(x.astype(np.float64))) / ulp) < 4
    theta = np.linspace(0, 2 * np.pi, 200001, dtype=np.float32)
    sin, cos = R._sincos_avx2(theta)
    assert np.max(np.abs(sin - np.sin(theta.astype(np.float64)))) < 3e-7
    assert np.max(np.abs(cos - np.cos(theta.astype(np.float64)))) < 3e-7


def test_linear_init_bounds_follow_torchs_formula():
    mt.manual_seed(0)
    layer = mt.nn.Linear(784, 10)
    assert np.abs(layer.weight.data).max() < 1 / np.sqrt(784) and np.abs(layer.bias.data).max() < 1 / np.sqrt(784)
    w = mt.nn.init.xavier_uniform_(mt.tensor(np.zeros((30, 20), np.float64)))
    assert np.abs(w.data).max() <= np.sqrt(6 / 50)
    with pytest.raises(TypeError, match="float32 or float64"):
        mt.nn.init.normal_(mt.tensor(np.zeros(4, np.int64)))


def test_dataloader_draws_torchs_seeds_from_the_default_generator():
    from minitorch_relu.data import DataLoader

    data = (np.zeros((50, 2), np.uint8), np.arange(50))
    mt.manual_seed(3)
    order = np.concatenate([y.data for _, y in DataLoader(data, 10, shuffle=True)])
    # by hand: the iterator's base seed, then the sampler's seed, then randperm from a fresh generator
    mt.manual_seed(3)
    R.draw_seed()
    expected = R.permutation(50, mt.Generator().manual_seed(R.draw_seed()))
    assert np.array_equal(order, expected)
    # without shuffling only the base seed is drawn
    mt.manual_seed(3)
    list(DataLoader(data, 10))
    after = mt.rand(2).data
    mt.manual_seed(3)
    R.draw_seed()
    assert np.array_equal(mt.rand(2).data, after)


def test_dataloader_generator_and_seed_give_the_same_order():
    from minitorch_relu.data import DataLoader

    data = (np.zeros((40, 2), np.uint8), np.arange(40))

    def order(loader):
        return np.concatenate([y.data for _, y in loader])

    a = order(DataLoader(data, 8, shuffle=True, generator=mt.Generator().manual_seed(6)))
    assert np.array_equal(a, order(DataLoader(data, 8, shuffle=True, seed=6)))
    g = mt.Generator().manual_seed(6)
    R.draw_seed(g)
    assert np.array_equal(a, R.permutation(40, g))
    # a full epoch leaves the generator where torch's leaves it: one more (dropped) randperm
    loader_generator = mt.Generator().manual_seed(6)
    list(DataLoader(data, 8, shuffle=True, generator=loader_generator))
    R.permutation(40, g)
    assert np.array_equal(loader_generator.get_state(), g.get_state())
    with pytest.raises(TypeError, match="Generator"):
        DataLoader(data, 8, shuffle=True, generator=123)


def test_random_tensors_and_init_on_every_backend(backend):
    # drawn on the host, then moved: the same values on every device
    mt.manual_seed(12)
    host = [mt.rand(3, 4).numpy(), mt.randn(20).numpy(), mt.randint(5, (6,)).numpy(), mt.randperm(7).numpy(),
            mt.nn.Linear(5, 3).weight.numpy()]
    mt.manual_seed(12)
    device = [mt.rand(3, 4, backend=backend), mt.randn(20, backend=backend), mt.randint(5, (6,), backend=backend),
              mt.randperm(7, backend=backend), mt.nn.Linear(5, 3, backend=backend).weight]
    for expected, tensor in zip(host, device):
        assert tensor.backend == mt.get_backend(backend).name
        assert np.array_equal(tensor.numpy(), expected)
    x = mt.rand(2, 2, backend=backend, requires_grad=True)
    assert x.requires_grad and x.dtype == np.float32
