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
    from minitorch_relu import cli, data, train_cli, training  # noqa: F401


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


def main(argv=None):
    """Run the lesson's program on one or both sides and print what each printed and how long it took."""
    import argparse
    import json
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m benchmarks.lesson", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp", choices=("softmax", "mlp"))
    parser.add_argument("--epochs", type=int, default=15, help="default 15, the lesson's")
    parser.add_argument("--framework", default="both", choices=("engine", "torch", "both"))
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"),
                        help="torchvision's layout: DATA_ROOT/MNIST/raw/ (default ../shared/data)")
    args = parser.parse_args(argv)
    sides = {"engine": run_engine, "torch": run_torch}
    for name in sides if args.framework == "both" else [args.framework]:
        start = time.perf_counter()
        result = sides[name](args.model, args.epochs, args.data_root)
        result["program_seconds"] = time.perf_counter() - start
        print(name, json.dumps(result))


if __name__ == "__main__":
    main()
