"""The `train` command and its API: models, optimizer lookup, the training loop, outputs, bad input."""

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu_testing import strict
from minitorch_relu.cli import build_parser, main
from minitorch_relu.data import DataLoader
from minitorch_relu.chapter import fill_defaults
from minitorch_relu.train_cli import ProgressBar, parse_optim_args
from minitorch_relu.training import (UsageError, build_model, evaluate, lesson_sample_index, make_optimizer,
                                     optimizer_classes, train)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
needs_mnist = pytest.mark.skipif(not (SHARED / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file(),
                                 reason=f"MNIST not found in {SHARED}/MNIST/raw")
LINE = {
    "epoch": r"Epoch: \d{4} cost = \d+\.\d{9}",
    "accuracy": r"Accuracy: 0\.\d+",
}


# ----- pieces -------------------------------------------------------------------------------------
def test_build_model_shapes_keys_and_init(backend):
    mt.manual_seed(777)
    softmax = build_model("softmax", backend=backend)
    assert list(softmax.state_dict()) == ["weight", "bias"]
    weight = softmax.weight.numpy()
    assert weight.shape == (10, 784) and weight.dtype == np.float32
    assert abs(weight.std() - 1.0) < 0.05 and abs(weight.mean()) < 0.05  # normal_: std 1, not kaiming's 1/28
    assert np.abs(softmax.bias.numpy()).max() <= 1 / 28  # the default init keeps its bias bound 1/sqrt(784)
    mlp = build_model("MLP", "float64", backend)
    assert [(k, v.shape) for k, v in mlp.state_dict().items()] == [
        ("0.weight", (256, 784)), ("0.bias", (256,)), ("2.weight", (256, 256)), ("2.bias", (256,)),
        ("4.weight", (10, 256)), ("4.bias", (10,))]
    assert all(p.dtype == np.float64 and p.backend == backend for p in mlp.parameters())
    mt.manual_seed(777)
    assert np.array_equal(build_model("softmax").weight.numpy(), weight)  # the seed fixes the weights
    with pytest.raises(UsageError, match="unknown model 'resnet'; choose one of softmax, mlp, xavier"):
        build_model("resnet")


def test_optimizer_lookup_is_case_insensitive():
    classes = optimizer_classes()
    assert classes["adam"] is mt.optim.Adam and classes["sgd"] is mt.optim.SGD
    assert "optimizer" not in classes
    params = [mt.nn.Parameter(mt.tensor([1.0]).data)]
    opt = make_optimizer("ADAM", params, lr=0.01, betas=(0.8, 0.9))
    assert isinstance(opt, mt.optim.Adam)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["betas"] == (0.8, 0.9)
    with pytest.raises(UsageError, match=r"unknown optimizer 'adamax'; choose one of .*Adam.*SGD"):
        make_optimizer("adamax", params)
    with pytest.raises(UsageError, match=r"Adam rejected its arguments .*nesterov"):
        make_optimizer("adam", params, nesterov=True)


def test_parse_optim_args():
    assert parse_optim_args("") == {}
    assert parse_optim_args("betas=(0.9, 0.99),eps=1e-6, amsgrad=True") == {
        "betas": (0.9, 0.99), "eps": 1e-6, "amsgrad": True}
    assert parse_optim_args("momentum=-0.5,name='x'") == {"momentum": -0.5, "name": "x"}
    with pytest.raises(UsageError, match="not a Python literal"):
        parse_optim_args("amsgrad=true")
    with pytest.raises(UsageError, match="every item must be key=value"):
        parse_optim_args("0.9")
    with pytest.raises(UsageError, match="expected key=value pairs"):
        parse_optim_args("betas=(0.9")


def _separable(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    y = (x[:, :10].argmax(axis=1)).astype(np.int64)
    return x, y


def test_train_lowers_the_cost_and_matches_a_hand_written_loop(backend):
    x, y = _separable()
    mt.manual_seed(1)
    model = build_model("softmax", backend=backend)
    start = model.state_dict()
    loader = DataLoader((x, y), batch_size=50, shuffle=True, seed=5, backend=backend)
    costs = train(model, loader, mt.optim.Adam(model.parameters(), lr=0.01), epochs=3)
    assert len(costs) == 3 and costs[2] < costs[0]

    # The same steps written out: the epoch cost is the lesson's sum of loss / batches in float32.
    twin = build_model("softmax", backend=backend)
    twin.load_state_dict(start)
    optimizer = mt.optim.Adam(twin.parameters(), lr=0.01)
    order_generator = mt.Generator().manual_seed(5)  # what DataLoader(seed=5) draws from, as torch's loader
    for epoch in range(3):
        mt.random.draw_seed(order_generator)  # the iterator's base seed
        order = mt.random.permutation(len(y), order_generator)
        mt.random.permutation(len(y), order_generator)  # the sampler's dropped randperm at the epoch's end
        total = np.float32(0)
        for b in range(4):
            idx = order[b * 50:(b + 1) * 50]
            xb, yb = mt.tensor(x[idx], backend=backend), mt.tensor(y[idx], backend=backend)
            optimizer.zero_grad()
            loss = mt.nn.CrossEntropyLoss()(twin(xb), yb)
            loss.backward()
            optimizer.step()
            total = total + np.float32(loss.item()) / np.float32(4)
        assert costs[epoch] == pytest.approx(float(total), rel=1e-6)
    np.testing.assert_allclose(model.weight.numpy(), twin.weight.numpy(), rtol=1e-6, atol=1e-7)


def test_lbfgs_gets_a_closure_and_its_first_loss_is_the_cost():
    x, y = _separable(100)
    mt.manual_seed(2)
    model = build_model("softmax")
    loader = DataLoader((x, y), batch_size=100)  # one full batch: the cost is the loss before each step
    first_loss = mt.nn.CrossEntropyLoss()(model(mt.tensor(x)), mt.tensor(y)).item()
    costs = train(model, loader, make_optimizer("LBFGS", model.parameters(), lr=1, line_search_fn="strong_wolfe"), epochs=2)
    assert costs[0] == pytest.approx(first_loss, rel=1e-6)
    assert costs[1] < costs[0] / 2


def test_training_reads_the_device_once_per_epoch():
    # On the strict stand-in every device->host copy is counted: the loop syncs only for the printed cost.
    x, y = _separable(120)
    model = build_model("mlp", backend="strict")
    loader = DataLoader((x, y), batch_size=40, shuffle=True, seed=0, backend="strict")
    optimizer = mt.optim.Adam(model.parameters())
    strict.reset_transfers()
    train(model, loader, optimizer, epochs=2)
    assert strict.transfers["to_host"] == 2
    assert strict.transfers["to_device"] == 2  # one permutation per epoch


def test_evaluate_scaled_and_raw_pixels():
    # A model that predicts class 1 when the mean pixel is above a threshold that only raw pixels pass.
    model = mt.nn.Linear(784, 2)
    model.load_state_dict({"weight": np.stack([np.zeros(784), np.full(784, 1 / 784)]).astype(np.float32),
                           "bias": np.array([10.0, 0.0], dtype=np.float32)})
    images = np.full((4, 28, 28), 200, dtype=np.uint8)  # mean 200 raw, 0.78 scaled
    labels = np.array([1, 1, 1, 0])
    assert evaluate(model, images, labels) == 0.25  # scaled: 0.78 < 10, class 0 everywhere
    assert evaluate(model, images, labels, raw_pixels=True) == 0.75  # raw: 200 > 10, class 1


def test_lesson_sample_index_is_pythons_random():
    import random

    random.seed(777)
    assert lesson_sample_index(777, 10000) == random.randint(0, 9999)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_shows_steps_time_left_and_cost_then_erases():
    stream, reads = FakeTerminal(), []

    def mean_cost():
        reads.append(1)
        return 0.25

    bar = ProgressBar(stream, clock=lambda: 0.0)  # a stopped clock: drawn at the first and the last step only
    bar.start_epoch(2, 3, 80, 0)
    for step in range(1, 81):
        bar.step(step, mean_cost)
    bar.end_epoch()
    text = stream.getvalue()
    assert len(reads) == 2  # the cost (a device read on a GPU) is read only when the bar is drawn
    assert re.search(r"\repoch 2/3:   1%\|.*\| 1/80 \[\d\d:\d\d<.*, cost=0\.2500\]", text), text
    assert re.search(r"\repoch 2/3: 100%\|#+\| 80/80 \[\d\d:\d\d<\d\d:\d\d, .*step/s, cost=0\.2500\]", text), text
    assert re.fullmatch(r"\r +\r", text.split("cost=0.2500]")[-1])  # erased at the epoch's end

    ticking = iter(range(1000))
    bar = ProgressBar(FakeTerminal(), clock=lambda: next(ticking))  # a second a step: redrawn every step
    bar.start_epoch(1, 1, 10, 4)  # a resumed epoch: 4 steps were done before
    for step in range(5, 11):
        bar.step(step, mean_cost)
    bar.end_epoch()
    assert len(reads) == 2 + 6 and "6/10" in bar.stream.getvalue() and "4/10" in bar.stream.getvalue()


def test_an_optimizer_that_declares_it_needs_a_closure_gets_one():
    calls = []

    class ClosureSGD(mt.optim.SGD):  # any name: the loop reads requires_closure, not the class's name
        requires_closure = True

        def step(self, closure=None):
            calls.append(closure)
            return super().step(closure)

    assert mt.optim.LBFGS.requires_closure and not mt.optim.Adam.requires_closure
    x, y = _separable(40)
    model = build_model("softmax")
    train(model, DataLoader((x, y), batch_size=20), ClosureSGD(model.parameters(), lr=0.1), epochs=1)
    assert len(calls) == 2 and all(callable(c) for c in calls)


# ----- the command on MNIST -----------------------------------------------------------------------
def _run(argv, capsys):
    code = main(["train", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@needs_mnist
def test_command_prints_the_lessons_lines_and_writes_outputs(tmp_path, capsys):
    costs_json, costs_csv, png = tmp_path / "c.json", tmp_path / "c.csv", tmp_path / "loss.png"
    code, out, err = _run(["--data-dir", str(SHARED), "--epochs", "2", "--costs-out", str(costs_json),
                           "--plot", str(png)], capsys)
    assert code == 0 and err == ""  # stderr is not a terminal here: no progress bar
    lines = out.splitlines()
    assert [line.split(" cost")[0] for line in lines[:2]] == ["Epoch: 0001", "Epoch: 0002"]
    import re

    assert all(re.fullmatch(LINE["epoch"], line) for line in lines[:2])
    assert lines[2] == "Learning finished"
    assert re.fullmatch(LINE["accuracy"], lines[3])
    r = lesson_sample_index(777, 10000)
    assert lines[4] == f"Label:  {mt.data.MNIST(SHARED, train=False).labels[r]}"
    assert re.fullmatch(r"Prediction:  \d", lines[5]) and len(lines) == 6
    costs = [float(line.split("= ")[1]) for line in lines[:2]]
    assert 4.0 < costs[0] < 7.0 and costs[1] < costs[0]  # normal_ init starts high; the lesson's is 5.73
    accuracy = float(lines[3].split()[1])
    assert 0.75 < accuracy < 0.95

    record = json.loads(costs_json.read_text())
    assert record["model"] == "softmax" and record["optimizer"] == "Adam" and record["seed"] == 777
    assert record["accuracy"] == accuracy and record["raw_test_pixels"] is False
    assert [round(c, 9) for c in record["costs"]] == costs
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000

    # The same seed gives the same run; CSV holds the same costs.
    code, out2, _ = _run(["--data-dir", str(SHARED), "--epochs", "2", "--costs-out", str(costs_csv)], capsys)
    assert code == 0 and out2 == out
    rows = list(csv.reader(costs_csv.open()))
    assert rows[0] == ["epoch", "cost"] and [float(r[1]) for r in rows[1:]] == record["costs"]


@needs_mnist
def test_mlp_float64_and_optimizer_options(tmp_path, capsys):
    out_file = tmp_path / "costs.json"
    argv = ["--data-dir", str(SHARED), "--model", "mlp", "--epochs", "1", "--batch-size", "1000", "--dtype", "float64",
            "--optimizer", "sgd", "--lr", "0.01", "--optim-args", "momentum=0.9", "--seed", "3", "--quiet",
            "--costs-out", str(out_file)]
    code, out, err = _run(argv, capsys)
    assert code == 0 and err == ""
    record = json.loads(out_file.read_text())
    assert (record["model"], record["dtype"], record["optimizer"], record["optim_args"]) == (
        "mlp", "float64", "SGD", {"momentum": 0.9})
    assert 20 < record["costs"][0] < 1000  # std-1 weights through 784 inputs: the lesson's MLP starts near 129
    assert float(out.splitlines()[0].split("= ")[1]) == pytest.approx(record["costs"][0], abs=1e-9)


@needs_mnist
def test_raw_test_pixels_change_only_the_evaluation(capsys):
    argv = ["--data-dir", str(SHARED), "--epochs", "1", "--batch-size", "1000", "--quiet"]
    code, scaled, _ = _run(argv, capsys)
    code_raw, raw, _ = _run(argv + ["--raw-test-pixels"], capsys)
    assert code == code_raw == 0
    assert raw.splitlines()[0] == scaled.splitlines()[0]  # the same training
    assert raw.splitlines()[2] != scaled.splitlines()[2]  # a different Accuracy line


@needs_mnist
def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    argv = ["--data-dir", str(SHARED), "--epochs", "1", "--batch-size", "1000"]
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["train", *argv]) == 0
    assert "\repoch 1/1:" in terminal.getvalue() and "/60 [" in terminal.getvalue()
    quiet = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main(["train", *argv, "--quiet"]) == 0
    assert quiet.getvalue() == ""


def test_python_dash_m_and_console_script():
    help_text = subprocess.run([sys.executable, "-m", "minitorch_relu", "train", "--help"], capture_output=True,
                               text=True, check=True, cwd=REPO).stdout
    for option in ("--model", "--optimizer", "--optim-args", "--raw-test-pixels", "--costs-out", "--plot",
                   "--download", "--data-dir", "--dtype", "--backend", "--quiet"):
        assert option in help_text
    script = Path(sys.executable).parent / "minitorch-relu"
    if script.exists():
        result = subprocess.run([str(script), "train", "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and "--raw-test-pixels" in result.stdout


def test_readme_main_command_runs_the_mlp():
    readme = (REPO / "README.md").read_text()
    command = readme.split("<!-- main-command -->")[1].split("```sh\n")[1].split("\n")[0]
    assert "minitorch-relu train --model mlp" in command


# ----- bad input ----------------------------------------------------------------------------------
def test_missing_data_folder(tmp_path, capsys):
    code, out, err = _run(["--data-dir", str(tmp_path / "none"), "--quiet"], capsys)
    assert code == 1 and out == ""
    assert f"MNIST data folder {str(tmp_path / 'none')!r} does not exist" in err
    assert ("missing MNIST file(s): train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
            "t10k-labels-idx1-ubyte\n") in err


@needs_mnist
def test_corrupt_file_is_named(tmp_path, capsys):
    raw = SHARED / "MNIST" / "raw"
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copyfile(raw / name, tmp_path / name)
    data = bytearray((raw / "train-labels-idx1-ubyte").read_bytes())
    data[-1] = (data[-1] + 1) % 10
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(bytes(data))
    code, out, err = _run(["--data-dir", str(tmp_path), "--quiet"], capsys)
    assert code == 1 and out == ""
    assert str(tmp_path / "train-labels-idx1-ubyte") in err and "md5" in err


@pytest.mark.parametrize("argv, message", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--backend", "tpu"], "argument --backend: invalid choice: 'tpu'"),
    (["--backend", "strict"], "argument --backend: invalid choice: 'strict'"),
    (["--batch-size", "0"], "argument --batch-size: must be > 0, got 0"),
    (["--batch-size", "-5"], "argument --batch-size: must be > 0, got -5"),
    (["--epochs", "ten"], "argument --epochs: expected a whole number, got 'ten'"),
    (["--lr", "-1"], "argument --lr: must be a finite number > 0, got -1"),
    (["--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
])
def test_bad_option_values_stop_at_parsing(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *argv])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--optimizer", "adamax"], "unknown optimizer 'adamax'; choose one of "),
    (["--optim-args", "betas=0.9,0.99"], "expected key=value pairs"),
    (["--optimizer", "SPARSEADAM"], "SparseAdam updates only the rows a sparse gradient touches"),
    (["--costs-out", "/nonexistent-folder/c.json"], "the folder '/nonexistent-folder' does not exist"),
    (["--costs-out", "costs.txt"], "the file name must end in .json or .csv"),
    (["--plot", "curve.jpg"], "the file name must end in .png"),
])
def test_bad_names_and_paths_fail_before_any_work(argv, message, tmp_path, capsys):
    # The data folder does not exist either: the option error must come first, before any data is read.
    code, out, err = _run(["--data-dir", str(tmp_path / "none"), *argv], capsys)
    assert code == 2 and out == ""
    assert err.startswith("minitorch-relu train: error: ") and message in err
    assert "MNIST" not in err


def test_unwritable_output_path(tmp_path, capsys):
    import os

    (tmp_path / "out.json").mkdir()
    code, _, err = _run(["--costs-out", str(tmp_path / "out.json")], capsys)
    assert code == 2 and "is a folder, not a file" in err
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root): a read-only folder cannot be tested")
        code, _, err = _run(["--costs-out", str(folder / "c.json")], capsys)
        assert code == 2 and "no permission to write there" in err
    finally:
        folder.chmod(0o700)


@needs_mnist
def test_a_write_that_fails_after_training(tmp_path, monkeypatch, capsys):
    import errno

    import minitorch_relu.train_cli as train_module

    def full_disk(path, costs, info=None):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(train_module, "write_costs", full_disk)
    target = tmp_path / "c.csv"
    code, out, err = _run(["--data-dir", str(SHARED), "--epochs", "1", "--batch-size", "1000",
                           "--costs-out", str(target)], capsys)
    assert code == 1 and "Learning finished" in out
    assert err == f"minitorch-relu train: error: could not write {target}: No space left on device\n"


def test_plot_without_matplotlib(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    code, _, err = _run(["--plot", str(tmp_path / "c.png")], capsys)
    assert code == 2 and "pip install 'minitorch_relu[plot]'" in err


@needs_mnist
def test_batch_larger_than_the_training_set(capsys):
    code, out, err = _run(["--data-dir", str(SHARED), "--batch-size", "60001"], capsys)
    assert code == 2 and out == ""
    assert "--batch-size 60001: DataLoader: batch_size=60001 is larger than the data set (60000 samples)" in err


def test_cupy_backend_without_cupy_is_a_clear_error(tmp_path, capsys):
    try:
        mt.get_backend("cupy")
    except RuntimeError as exc:
        reason = str(exc)
    else:
        pytest.skip("CuPy and a CUDA device are here")
    code, out, err = _run(["--backend", "cupy", "--data-dir", str(tmp_path / "none")], capsys)
    assert code == 2 and out == ""
    assert err == f"minitorch-relu train: error: {reason}\n"  # checked before any data is read


def test_unknown_backend_name_in_the_api():
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        build_model("softmax", backend="tpu")


def test_parser_defaults_are_the_lessons():
    args = fill_defaults(build_parser().parse_args(["train"]))
    assert (args.model, args.epochs, args.batch_size, args.lr, args.optimizer, args.seed) == (
        "softmax", 15, 100, 0.001, "Adam", 777)
    assert (args.backend, args.dtype, args.raw_test_pixels, args.download, args.data_dir) == (
        "numpy", "float32", False, False, None)


# ----- issue 12's findings: every bad value is one line and exit 2, before any work ---------------------------
@pytest.mark.parametrize("argv, message", [
    (["--seed", "-1"], "argument --seed: must lie in 0..18446744073709551615, got -1"),
    (["--seed", str(2**64)], "argument --seed: must lie in 0..18446744073709551615, got 18446744073709551616"),
    (["--lr", "inf"], "argument --lr: must be a finite number > 0, got inf"),
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got nan"),
    (["--subset", "0"], "argument --subset: must be > 0, got 0"),
])
def test_more_bad_values_stop_at_parsing_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err == f"minitorch-relu train: error: {message} (see minitorch-relu train --help)\n"


@pytest.mark.parametrize("argv, message", [
    (["--optim-args", "lr=0.1"], "--optim-args 'lr=0.1': give the learning rate with --lr, not in --optim-args"),
    (["--optim-args", "betas=(2.0, 0.9)"], "Adam rejected its arguments {'betas': (2.0, 0.9), 'lr': 0.001}: "
                                           "Invalid beta parameter at index 0: 2.0"),
    (["--optim-args", "nesterov=True"], "Adam rejected its arguments"),
    (["--optimizer", "sgd", "--optim-args", "momentum=-1"], "SGD rejected its arguments"),
])
def test_optimizer_arguments_are_checked_before_the_data_is_read(argv, message, tmp_path, capsys):
    code, out, err = _run(["--data-dir", str(tmp_path / "none"), *argv], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("minitorch-relu train: error: ") and message in err
    assert "MNIST" not in err  # the data folder (missing too) was never looked at


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"minitorch-relu {mt.__version__}\n"


def test_ctrl_c_while_reading_data_is_one_line(monkeypatch, capsys):
    import minitorch_relu.train_cli as train_module

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "_load_data", interrupted)
    code, out, err = _run(["--quiet"], capsys)
    assert (code, out, err) == (130, "", "minitorch-relu train: interrupted\n")


def test_ctrl_c_in_a_demo_is_one_line(monkeypatch, capsys):
    from minitorch_relu.demos import vanishing

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vanishing, "worked_example", interrupted)
    assert main(["demo", "vanishing", "--synthetic"]) == 130
    assert capsys.readouterr().err == "minitorch-relu demo: interrupted\n"


@needs_mnist
def test_ctrl_c_without_save_says_where_and_writes_the_finished_epochs(tmp_path, monkeypatch, capsys):
    import signal

    real_step = mt.optim.Adam.step
    calls = []

    def step_then_ctrl_c(self, closure=None):
        result = real_step(self, closure)
        calls.append(1)
        if len(calls) == 10 + 3:  # 10 steps an epoch: after step 3 of epoch 2
            signal.raise_signal(signal.SIGINT)
        return result

    monkeypatch.setattr(mt.optim.Adam, "step", step_then_ctrl_c)
    costs = tmp_path / "costs.csv"
    code, out, err = _run(["--data-dir", str(SHARED), "--subset", "1000", "--epochs", "3", "--costs-out", str(costs),
                           "--plot", str(tmp_path / "loss.png")], capsys)
    assert code == 130 and err == "interrupted at epoch 2, step 3\n"
    assert out.count("Epoch:") == 1 and "Learning finished" not in out
    rows = list(csv.reader(costs.open()))
    assert rows[0] == ["epoch", "cost"] and len(rows) == 2 and f"{float(rows[1][1]):.9f}" in out
    assert not (tmp_path / "loss.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["costs.csv"]  # no temporary file left


@needs_mnist
def test_a_diverging_run_stops_and_names_the_step(tmp_path, capsys):
    costs = tmp_path / "c.json"
    code, out, err = _run(["--data-dir", str(SHARED), "--subset", "1000", "--epochs", "3", "--model", "mlp",
                           "--lr", "1e30", "--costs-out", str(costs), "--quiet"], capsys)
    assert code == 1 and out == ""
    assert re.fullmatch(r"minitorch-relu train: error: the cost became (nan|inf) at epoch 1, step \d+: training "
                        r"diverged; try a smaller --lr \(it is 1e\+30\)\n", err), err
    assert json.loads(costs.read_text())["costs"] == []


def test_the_train_loop_checks_the_cost_without_reading_the_device_each_step():
    # The running cost of each step stays on the device: still one read per epoch when all is well.
    x, y = _separable(120)
    model = build_model("softmax", backend="strict")
    loader = DataLoader((x, y), batch_size=40, backend="strict")
    strict.reset_transfers()
    train(model, loader, mt.optim.Adam(model.parameters()), epochs=3)
    assert strict.transfers["to_host"] == 3


def test_help_lists_the_checkpoint_flags():
    import argparse

    from minitorch_relu.train_cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    text = parser.format_help()
    for option in ("--save DIR", "--resume DIR", "--subset N"):
        assert option in text
