"""The lesson's program, end to end, on each side: load MNIST, train, evaluate.

torch: the lesson's script as it was written (torchvision's MNIST with ToTensor, torch's DataLoader
with shuffle and drop_last, normal_ weights, Adam lr 0.001, ``avg_cost += cost / total_batch``, and
the test on raw ``test_data.float()`` pixels): ``lesson_program`` of the one torch reference,
minitorch_relu/torch_lesson.py, which the parity tests and ``minitorch-relu demo compare`` also run.
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
    from minitorch_relu import cli, data, train  # noqa: F401


def import_torch():
    import torch  # noqa: F401
    import torchvision.datasets  # noqa: F401
    import torchvision.transforms  # noqa: F401

    from minitorch_relu import torch_lesson  # noqa: F401  (the lesson's torch program; imports the package too)


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
    from minitorch_relu import torch_lesson

    def print_epoch(epoch, cost):  # the lesson's line, which _TimedOutput times
        print("Epoch:", "%04d" % epoch, "cost =", "{:.9f}".format(cost))

    out, start = _TimedOutput(), time.perf_counter()
    with contextlib.redirect_stdout(out):
        run = torch_lesson.lesson_program(root, model, epochs, on_epoch=print_epoch, record_orders=False)
        print("Learning finished")
        print("Accuracy:", run.accuracy_raw)
    return _parse_output(out, start)
