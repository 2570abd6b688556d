"""The engine's generator against torch's CPU generator, bit for bit (minitorch_relu/random.py).

Every call is made on both sides after the same seeding and compared with array_equal: values,
dtypes, and the generator state bytes afterwards (so the same number of words was drawn).
Measured with torch 2.14.1 on x86-64 (its AVX2 and AVX-512 kernels agree; torch's no-AVX2 kernel,
ATEN_CPU_CAPABILITY=default, computes float32 normals with the C library's logf/sinf/cosf and
differs in the last bit, see random.py).
"""

import math

import numpy as np
import pytest
import torch

import minitorch_relu as mt
from minitorch_relu import random as R
from minitorch_relu.data import DataLoader
from minitorch_relu.training import build_model
from parity.mnist_harness import SEED, torch_model

# random.py reproduces torch's AVX2 kernels (which torch also runs on AVX-512 CPUs). Torch's no-AVX2
# kernels compute float32 normal_ with the C library's logf/sinf/cosf and round ``value * std + mean``
# twice in small normal_ calls: not reproduced, so this file does not apply there.
pytestmark = pytest.mark.skipif(
    torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"),
    reason=f"torch runs its {torch.backends.cpu.get_cpu_capability()} kernels (ATEN_CPU_CAPABILITY); the engine "
           "reproduces torch's AVX2/AVX-512 ones",
)

SEEDS = (0, 777, 2**40 + 12345, -5)
SIZES = (1, 2, 15, 16, 17, 31, 33, 1000, 1001, 7840)
DTYPES = ((np.float32, torch.float32), (np.float64, torch.float64))


def _seed(seed):
    torch.manual_seed(seed)
    mt.manual_seed(seed)


def _same_state():
    return np.array_equal(mt.get_rng_state(), torch.get_rng_state().numpy())


def _equal(ours, theirs):
    ours = ours.data if isinstance(ours, mt.Tensor) else ours
    theirs = theirs.detach().numpy()
    return ours.dtype == theirs.dtype and ours.shape == theirs.shape and np.array_equal(ours, theirs)


@pytest.mark.parametrize("seed", SEEDS)
def test_state_bytes_and_seed_equal_torchs(seed):
    _seed(seed)
    assert _same_state() and mt.initial_seed() == torch.initial_seed()
    mt.rand(1000), torch.rand(1000)
    assert _same_state()
    torch.set_rng_state(torch.from_numpy(mt.get_rng_state()))  # the engine's state loads into torch
    mt.set_rng_state(torch.get_rng_state().numpy())
    assert _equal(mt.randn(40), torch.randn(40))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ours, theirs", DTYPES)
def test_uniform_and_normal(seed, ours, theirs):
    _seed(seed)
    for n in SIZES:
        assert _equal(R.uniform((n,), dtype=ours), torch.empty(n, dtype=theirs).uniform_()), ("uniform", n)
        assert _equal(R.uniform((n,), -0.3, 0.7, ours), torch.empty(n, dtype=theirs).uniform_(-0.3, 0.7)), n
        assert _equal(R.normal((n,), dtype=ours), torch.empty(n, dtype=theirs).normal_()), ("normal", n)
        assert _equal(R.normal((n,), 0.5, 1.7, ours), torch.empty(n, dtype=theirs).normal_(0.5, 1.7)), n
        assert _same_state(), n


def test_small_normals_share_the_cached_value_across_calls():
    _seed(3)
    for n in (3, 1, 5, 2, 20, 7):
        assert _equal(R.normal((n,), dtype=np.float64), torch.empty(n, dtype=torch.float64).normal_()), n
        assert _equal(mt.randn(n), torch.randn(n)), n
    assert _same_state()


@pytest.mark.parametrize("seed", SEEDS)
def test_rand_randn_randint_randperm(seed):
    _seed(seed)
    for ours, theirs in DTYPES:
        assert _equal(mt.rand(4, 5, dtype=ours), torch.rand(4, 5, dtype=theirs))
        assert _equal(mt.randn((3, 17), dtype=ours), torch.randn((3, 17), dtype=theirs))
    assert _equal(mt.randint(10, (7,)), torch.randint(10, (7,)))
    assert _equal(mt.randint(-5, 2**27, (3, 4)), torch.randint(-5, 2**27, (3, 4)))
    assert _equal(mt.randint(0, 2**40, (9,)), torch.randint(0, 2**40, (9,)))  # 64-bit draws from 2**28 up
    for n in (0, 1, 2, 10, 1000, 60000):
        assert _equal(mt.randperm(n), torch.randperm(n)), n
    assert _same_state()


def test_generator_objects():
    g, tg = mt.Generator().manual_seed(21), torch.Generator().manual_seed(21)
    assert np.array_equal(g.get_state(), tg.get_state().numpy())
    assert _equal(mt.rand(50, generator=g), torch.rand(50, generator=tg))
    assert _equal(mt.randn(50, generator=g), torch.randn(50, generator=tg))
    assert _equal(mt.randperm(30, generator=g), torch.randperm(30, generator=tg))
    assert _equal(mt.randint(3, 9, (6,), generator=g), torch.randint(3, 9, (6,), generator=tg))
    assert np.array_equal(g.get_state(), tg.get_state().numpy())
    fresh, tfresh = mt.Generator(), torch.Generator()  # unseeded: torch's default seed 67280421310721
    assert fresh.initial_seed() == tfresh.initial_seed()
    assert np.array_equal(fresh.get_state(), tfresh.get_state().numpy())


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("ours, theirs", DTYPES)
def test_bernoulli_and_dropout_masks(p, ours, theirs):
    # torch 2.14.1 takes its portable path for bernoulli_(float p) on this Intel CPU too (measured)
    _seed(9)
    assert _equal(R.bernoulli((33, 7), p, ours), torch.empty((33, 7), dtype=theirs).bernoulli_(p))
    # and the same mask through a float64 probability tensor (always the portable kernel)
    assert _equal(R.bernoulli((100,), p, ours), torch.empty(100, dtype=theirs).bernoulli_(torch.full((100,), p, dtype=torch.float64)))
    if 0 < p < 1:  # dropout(x, q) keeps where bernoulli(1 - q)
        keep = torch.nn.functional.dropout(torch.ones(500, dtype=theirs), 1 - p) != 0
        assert np.array_equal(R.bernoulli((500,), p, ours).astype(bool), keep.numpy())
    assert _same_state()


SHAPES = ((10, 784), (256, 784), (256, 256), (10, 256), (3, 5), (7, 3, 3, 2))


@pytest.mark.parametrize("ours, theirs", DTYPES)
def test_nn_init(ours, theirs):
    _seed(123)
    for shape in SHAPES:
        def pair():
            return mt.tensor(np.zeros(shape, ours)), torch.zeros(shape, dtype=theirs)
        a, b = pair()
        assert _equal(mt.nn.init.normal_(a, 0.1, 0.02), torch.nn.init.normal_(b, 0.1, 0.02)), shape
        a, b = pair()
        assert _equal(mt.nn.init.uniform_(a, -2, 3), torch.nn.init.uniform_(b, -2, 3)), shape
        a, b = pair()
        assert _equal(mt.nn.init.xavier_uniform_(a, gain=1.3), torch.nn.init.xavier_uniform_(b, gain=1.3)), shape
        for kwargs in ({}, {"a": math.sqrt(5)}, {"mode": "fan_out", "nonlinearity": "relu"}):
            a, b = pair()
            assert _equal(mt.nn.init.kaiming_uniform_(a, **kwargs), torch.nn.init.kaiming_uniform_(b, **kwargs)), shape
    assert _same_state()


@pytest.mark.parametrize("ours, theirs", DTYPES)
def test_linear_default_init(ours, theirs):
    _seed(5)
    for fan_in, fan_out, bias in ((784, 10, True), (784, 256, True), (256, 256, True), (3, 1, False), (1, 17, True)):
        layer = mt.nn.Linear(fan_in, fan_out, bias=bias, dtype=ours)
        reference = torch.nn.Linear(fan_in, fan_out, bias=bias, dtype=theirs)
        assert _equal(layer.weight, reference.weight)
        assert (layer.bias is None) == (reference.bias is None)
        if bias:
            assert _equal(layer.bias, reference.bias)
    assert _same_state()


@pytest.mark.parametrize("name", ["softmax", "mlp"])
def test_build_model_equals_the_lessons_torch_model(name):
    _seed(SEED)
    reference = torch_model(name)
    model = build_model(name)
    ours = model.state_dict()
    theirs = reference.state_dict()
    assert list(ours) == list(theirs)
    for key in theirs:
        assert _equal(ours[key], theirs[key]), key
    assert _same_state()


@pytest.mark.parametrize("drop_last, batch", [(True, 100), (False, 128)])
def test_loader_orders_equal_torchs_for_15_epochs(drop_last, batch):
    n = 60000
    images, labels = np.zeros((n, 1), np.uint8), np.arange(n)
    _seed(SEED)
    reference = torch.utils.data.DataLoader(torch.arange(n), batch_size=batch, shuffle=True, drop_last=drop_last)
    loader = DataLoader((images, labels), batch_size=batch, shuffle=True, drop_last=drop_last)
    for epoch in range(15):
        theirs = [b.numpy() for b in reference]
        ours = [y.data for _, y in loader]
        assert len(ours) == len(theirs) and all(np.array_equal(a, b) for a, b in zip(ours, theirs)), epoch
        assert _same_state(), epoch


def test_loader_with_a_generator_equals_torchs():
    data = (np.zeros((1000, 1), np.uint8), np.arange(1000))
    g, tg = mt.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    loader = DataLoader(data, 64, shuffle=True, generator=g)
    reference = torch.utils.data.DataLoader(torch.arange(1000), batch_size=64, shuffle=True, generator=tg)
    for _ in range(3):
        assert np.array_equal(np.concatenate([y.data for _, y in loader]), torch.cat(list(reference)).numpy())
    assert np.array_equal(g.get_state(), tg.get_state().numpy())
