"""state_dict both ways: a torch model's weights (as numpy arrays) load into the same model here and
give the same outputs and gradients, and ours load into torch.nn.Sequential."""

import numpy as np
import pytest
import torch

import minitorch_relu as mt
from parity.ledger import check

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DTYPES = {np.float32: torch.float32, np.float64: torch.float64}

# Outputs and gradients are compared relative to the largest of them (ledger: state_dict.float32 and
# state_dict.float64, in parity/ledger.toml, with the reason for their size).


def assert_close_scaled(ours, theirs, dtype, what, backend="numpy"):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, torch {theirs.dtype}"
    scale = max(float(np.abs(theirs).max()), 1.0)
    check(f"state_dict.{np.dtype(dtype).name}", float(np.abs(ours - theirs).max()) / scale, backend, detail=what)




# The lesson's two models, and one with every other activation.
ARCHITECTURES = {
    "softmax regression": [("linear", 784, 10)],
    "lesson MLP": [("linear", 784, 256), ("relu",), ("linear", 256, 256), ("relu",), ("linear", 256, 10)],
    "other activations": [("linear", 6, 5), ("leaky_relu",), ("linear", 5, 5), ("sigmoid",), ("linear", 5, 4),
                          ("tanh",), ("linear", 4, 3, False)],
}


def build(lib, spec, dtype, backend="numpy"):
    layers = []
    for kind, *args in spec:
        if kind == "linear":
            bias = args[2] if len(args) > 2 else True
            if lib is torch:
                layers.append(torch.nn.Linear(args[0], args[1], bias=bias, dtype=DTYPES[dtype]))
            else:
                layers.append(mt.nn.Linear(args[0], args[1], bias=bias, dtype=dtype, backend=backend))
        else:
            name = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}[kind]
            layers.append(getattr(lib.nn, name)())
    return lib.nn.Sequential(*layers)


def inputs(spec, dtype, n=8):
    return np.random.default_rng(1).uniform(0, 1, size=(n, spec[0][1])).astype(dtype)


def compare_models(ours, theirs, x, dtype, backend):
    """Forward outputs, then the gradients of cross-entropy with respect to every parameter."""
    target = np.arange(len(x)) % 3
    out_theirs = theirs(torch.tensor(x))
    out_ours = ours(mt.tensor(x, backend=backend))
    assert_close_scaled(out_ours.numpy(), out_theirs, dtype, "forward output", backend)
    torch.nn.functional.cross_entropy(out_theirs, torch.tensor(target)).backward()
    mt.nn.functional.cross_entropy(out_ours, mt.tensor(target, backend=backend)).backward()
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close_scaled(ours_params[name].grad.numpy(), p.grad, dtype, f"gradient of {name}", backend)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_torch_state_dict_loads_here(backend, dtype, arch):
    spec = ARCHITECTURES[arch]
    torch.manual_seed(777)
    theirs = build(torch, spec, dtype)
    for p in theirs.parameters():  # the lesson's init: normal_ with std 1
        torch.nn.init.normal_(p)
    ours = build(mt, spec, dtype, backend)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, state[name], err_msg=name)
    compare_models(ours, theirs, inputs(spec, dtype), dtype, backend)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_our_state_dict_loads_into_torch(backend, dtype, arch):
    spec = ARCHITECTURES[arch]
    mt.manual_seed(777)
    ours = build(mt, spec, dtype, backend)
    theirs = build(torch, spec, dtype)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()}, strict=True)
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ours.state_dict()[name], err_msg=name)
    compare_models(ours, theirs, inputs(spec, dtype), dtype, backend)


def test_torch_tensors_load_directly(backend):
    # DESIGN: values may be torch CPU tensors as well as numpy arrays
    spec = ARCHITECTURES["other activations"]
    torch.manual_seed(0)
    theirs = build(torch, spec, np.float32)
    ours = build(mt, spec, np.float32, backend)
    ours.load_state_dict(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name], value.numpy(), err_msg=name)


@pytest.mark.parametrize("problem", ["missing", "unexpected", "shape"])
def test_load_errors_have_torch_types_and_change_nothing(backend, problem):
    spec = ARCHITECTURES["other activations"]
    ours, theirs = build(mt, spec, np.float32, backend), build(torch, spec, np.float32)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    if problem == "missing":
        del state["2.bias"]
    elif problem == "unexpected":
        state["9.weight"] = np.zeros((2, 2), dtype=np.float32)
    else:
        state["0.weight"] = np.zeros((6, 5), dtype=np.float32)
    before_ours = ours.state_dict()
    with pytest.raises(Exception) as theirs_error:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    with pytest.raises(Exception) as ours_error:
        ours.load_state_dict(state)
    assert type(ours_error.value) is type(theirs_error.value)
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, before_ours[name], err_msg=name)
