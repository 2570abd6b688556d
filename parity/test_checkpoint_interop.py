"""Checkpoints between torch and this engine, through safetensors files, both ways.

- A model trained by torch and saved with ``safetensors.torch.save_file`` loads into the engine
  (`minitorch-relu evaluate FILE`), which then prints torch's test accuracy.
- The engine's checkpoint (`train --save DIR`) loads into torch as is
  (``torch_model.load_state_dict(safetensors.torch.load_file(DIR/model.safetensors))``), and torch
  then measures the accuracy the engine printed.

Accuracies are compared exactly: both sides then predict the same class for every one of the
10000 test images (checked too). float32 logits differ by rounding only (~1e-6 relative), and no
test image of these models has its two top logits that close; if one ever did, the prediction
check names it.
"""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

import minitorch_relu as mt  # noqa: E402
from minitorch_relu import checkpoint  # noqa: E402
from minitorch_relu.cli import main  # noqa: E402
from minitorch_relu.data import MNIST  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
pytestmark = pytest.mark.skipif(not (SHARED / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file(),
                                reason=f"MNIST not found in {SHARED}/MNIST/raw")


@pytest.fixture(scope="module")
def mnist():
    train, test = MNIST(SHARED, train=True), MNIST(SHARED, train=False)
    return train, test


def torch_model(name):
    if name == "softmax":
        return torch.nn.Linear(784, 10)
    return torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 10))


def torch_predictions(model, test):
    x = torch.tensor(test.images.reshape(len(test.images), -1)).float() / 255  # scaled, as the engine evaluates
    with torch.no_grad():
        predicted = model(x).argmax(1)
    accuracy = (predicted == torch.tensor(test.labels)).float().mean().item()
    return predicted.numpy(), accuracy


def engine_predictions(model, test):
    x = mt.tensor(test.images.reshape(len(test.images), -1).astype(np.float32) / np.float32(255))
    with mt.no_grad():
        return model(x).numpy().argmax(axis=1)


@pytest.mark.parametrize("name", ["softmax", "mlp"])
def test_a_model_torch_trained_and_saved_gives_torch_accuracy_here(name, mnist, tmp_path, capsys):
    train, test = mnist
    torch.manual_seed(0)
    model = torch_model(name)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    x = torch.tensor(train.images[:3000].reshape(3000, -1)).float() / 255
    y = torch.tensor(train.labels[:3000])
    for start in range(0, 3000, 100):  # one epoch over 3000 images
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[start:start + 100]), y[start:start + 100]).backward()
        optimizer.step()
    path = tmp_path / f"{name}.safetensors"
    safetensors_torch.save_file(model.state_dict(), str(path))
    expected_predictions, expected = torch_predictions(model, test)

    assert main(["evaluate", str(path), "--data-dir", str(SHARED)]) == 0
    assert capsys.readouterr().out == f"Accuracy: {expected}\n"
    engine_model, recognised, dtype = checkpoint.load_model(path)
    assert (recognised, dtype) == (name, "float32")
    assert np.array_equal(engine_predictions(engine_model, test), expected_predictions)
    for key, value in model.state_dict().items():  # the weights, bit for bit
        assert np.array_equal(engine_model.state_dict()[key], value.numpy()), key


def test_the_engines_checkpoint_loads_into_torch_and_gives_its_accuracy(mnist, tmp_path, capsys):
    _, test = mnist
    run_dir = tmp_path / "run"
    assert main(["train", "--data-dir", str(SHARED), "--model", "mlp", "--subset", "3000", "--epochs", "1",
                 "--quiet", "--save", str(run_dir)]) == 0
    printed = capsys.readouterr().out.splitlines()[2]
    model = torch_model("mlp")
    result = model.load_state_dict(safetensors_torch.load_file(str(run_dir / "model.safetensors")))
    assert not result.missing_keys and not result.unexpected_keys
    predictions, accuracy = torch_predictions(model, test)
    assert printed == f"Accuracy: {accuracy}"
    engine_model, _, _ = checkpoint.load_model(run_dir)
    assert np.array_equal(engine_predictions(engine_model, test), predictions)


def test_files_read_the_same_on_both_sides(tmp_path):
    arrays = {"f32": np.linspace(-1, 1, 7, dtype=np.float32), "f64": np.array([np.pi, -0.0, 1e-310]),
              "i64": np.array([[-(2**63), 5]], dtype=np.int64), "u8": np.arange(4, dtype=np.uint8),
              "scalar": np.array(2.5, dtype=np.float32)}
    mt.save_state(arrays, tmp_path / "engine.safetensors")
    in_torch = safetensors_torch.load_file(str(tmp_path / "engine.safetensors"))
    for key, value in arrays.items():
        assert in_torch[key].numpy().dtype == value.dtype and np.array_equal(in_torch[key].numpy(), value), key
    safetensors_torch.save_file({k: torch.from_numpy(v.copy()) for k, v in arrays.items()},
                                str(tmp_path / "torch.safetensors"))
    here = mt.load_state(tmp_path / "torch.safetensors")
    for key, value in arrays.items():
        assert here[key].dtype == value.dtype and here[key].shape == value.shape, key
        assert np.array_equal(here[key], value), key
