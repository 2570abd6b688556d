"""The lesson's program, end to end, on each side: load MNIST, train, evaluate.

torch: the lesson's script as it was written (torchvision's MNIST with ToTensor, torch's DataLoader
with shuffle and drop_last, normal_ weights, Adam lr 0.001, ``avg_cost += cost / total_batch``, and
the test on raw ``test_data.float()`` pixels, then one random sample).
engine: the package's own command, ``minitorch-relu train --raw-test-pixels``, run in this process.

Each returns the per-epoch costs it printed and the test accuracy, so a reader of the benchmark can
see that both sides did the same work.
"""

import contextlib
import io
import re
import time


class _TimedOutput(io.StringIO):
    """Captured stdout that also notes when each "Epoch:" line was printed (per-epoch times)."""

    def __init__(self):
        super().__init__()
        self.epoch_marks = []

    def write(self, text):
        if text.startswith("Epoch:"):
            self.epoch_marks.append(time.perf_counter())
        return super().write(text)


def _parse_output(out, start):
    text = out.getvalue()
    costs = [float(c) for c in re.findall(r"Epoch: \d+ cost = (\S+)", text)]
    accuracy = re.search(r"Accuracy: (\S+)", text)
    marks = out.epoch_marks
    return {"costs": costs, "accuracy": float(accuracy.group(1)) if accuracy else None,
            "first_epoch_done_seconds": marks[0] - start if marks else None,  # data loading + epoch 1
            "epoch_seconds": [b - a for a, b in zip(marks, marks[1:])]}


def import_engine():
    """What the engine's program imports, so that imports can be timed apart from the work."""
    from minitorch_relu import cli, data, train_cli, training  # noqa: F401


def import_torch():
    import torch  # noqa: F401
    import torchvision.datasets  # noqa: F401
    import torchvision.transforms  # noqa: F401


def run_engine(model, epochs, root):
    from minitorch_relu import cli

    out, start = _TimedOutput(), time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = cli.main(["train", "--model", model, "--epochs", str(epochs), "--data-dir", root, "--quiet",
                         "--raw-test-pixels"])
    if code != 0:
        raise RuntimeError(f"minitorch-relu train exited with {code}:\n{out.getvalue()}")
    return _parse_output(out, start)


def run_torch(model, epochs, root):
    out, start = _TimedOutput(), time.perf_counter()
    with contextlib.redirect_stdout(out):
        _torch_lesson(model, epochs, root)
    return _parse_output(out, start)


def _torch_lesson(model_name, training_epochs, root):
    import random

    import torch
    import torchvision.datasets as dsets
    import torchvision.transforms as transforms

    random.seed(777)
    torch.manual_seed(777)
    learning_rate, batch_size = 0.001, 100

    mnist_train = dsets.MNIST(root=root, train=True, transform=transforms.ToTensor(), download=False)
    mnist_test = dsets.MNIST(root=root, train=False, transform=transforms.ToTensor(), download=False)
    data_loader = torch.utils.data.DataLoader(dataset=mnist_train, batch_size=batch_size, shuffle=True,
                                              drop_last=True)

    if model_name == "softmax":
        linear = torch.nn.Linear(784, 10, bias=True)
        torch.nn.init.normal_(linear.weight)
        model = linear
    else:
        linear1 = torch.nn.Linear(784, 256, bias=True)
        linear2 = torch.nn.Linear(256, 256, bias=True)
        linear3 = torch.nn.Linear(256, 10, bias=True)
        relu = torch.nn.ReLU()
        for layer in (linear1, linear2, linear3):
            torch.nn.init.normal_(layer.weight)
        model = torch.nn.Sequential(linear1, relu, linear2, relu, linear3)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    total_batch = len(data_loader)
    for epoch in range(training_epochs):
        avg_cost = 0
        for X, Y in data_loader:
            X = X.view(-1, 28 * 28)
            optimizer.zero_grad()
            hypothesis = model(X)
            cost = criterion(hypothesis, Y)
            cost.backward()
            optimizer.step()
            avg_cost += cost / total_batch
        print("Epoch:", "%04d" % (epoch + 1), "cost =", "{:.9f}".format(avg_cost))
    print("Learning finished")

    with torch.no_grad():
        X_test = mnist_test.data.view(-1, 28 * 28).float()  # the lesson's test_data: raw 0..255 pixels
        Y_test = mnist_test.targets
        prediction = model(X_test)
        correct_prediction = torch.argmax(prediction, 1) == Y_test
        accuracy = correct_prediction.float().mean()
        print("Accuracy:", accuracy.item())
        r = random.randint(0, len(mnist_test) - 1)
        X_single_data = mnist_test.data[r:r + 1].view(-1, 28 * 28).float()
        print("Label: ", mnist_test.targets[r:r + 1].item())
        print("Prediction: ", torch.argmax(model(X_single_data), 1).item())
