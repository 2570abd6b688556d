"""Checkpoints: mt.save_state / mt.load_state (safetensors), train --save / --resume, evaluate, predict.

The safetensors files are also read here byte by byte (8-byte header length, JSON header, raw
little-endian data), so the format is checked without trusting the library that wrote it.
"""

import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu import checkpoint, serialization
from minitorch_relu.cli import main
from minitorch_relu.data import DataLoader
from minitorch_relu.training import NonFiniteCost, build_model, train

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
needs_mnist = pytest.mark.skipif(not (SHARED / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file(),
                                 reason=f"MNIST not found in {SHARED}/MNIST/raw")
SAFETENSORS_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "U8": np.uint8, "BOOL": np.bool_,
                      "I32": np.int32}


def read_safetensors_by_hand(path):
    """(tensors, metadata) parsed from the bytes: <u64 header size><JSON header><data>."""
    raw = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + size:]
    tensors = {}
    for name, entry in header.items():
        start, stop = entry["data_offsets"]
        dtype = np.dtype(SAFETENSORS_DTYPES[entry["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data[start:stop], dtype=dtype).reshape(entry["shape"])
    return tensors, metadata


# ----- mt.save_state / mt.load_state ----------------------------------------------------------------
def test_save_state_writes_safetensors_and_load_state_reads_it_back(tmp_path):
    state = {
        "weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        "double": np.array([1e-300, -0.0, np.inf, np.nan]),
        "index": np.array([-(2**63), 2**63 - 1], dtype=np.int64),
        "bytes": np.arange(5, dtype=np.uint8),
        "mask": np.array([True, False]),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "transposed": np.arange(6, dtype=np.float64).reshape(2, 3).T,  # not contiguous
        "tensor": mt.tensor([[1.5, -2.5]]),
    }
    path = tmp_path / "s.safetensors"
    assert mt.save_state(state, path, metadata={"note": "hello"}) == path
    by_hand, metadata = read_safetensors_by_hand(path)
    loaded = mt.load_state(path)
    assert metadata == {"note": "hello"}
    assert sorted(loaded) == sorted(by_hand) == sorted(state)
    for name, value in state.items():
        expected = value.numpy() if isinstance(value, mt.Tensor) else value
        for got in (loaded[name], by_hand[name]):
            assert got.dtype == expected.dtype and got.shape == expected.shape, name
            assert np.array_equal(got, expected, equal_nan=True), name
    assert np.signbit(loaded["double"][1])  # -0.0 kept bit for bit
    assert serialization.load_metadata(path) == {"note": "hello"}


def test_a_model_round_trips_through_a_file(tmp_path, backend):
    mt.manual_seed(3)
    model = build_model("mlp", "float64", backend)
    mt.save_state(model.state_dict(), tmp_path / "m.safetensors")
    other = build_model("mlp", "float64", backend)
    other.load_state_dict(mt.load_state(tmp_path / "m.safetensors"))
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        assert np.array_equal(a, b), name


def test_save_state_refuses_what_safetensors_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match="'names' has dtype <U1"):
        mt.save_state({"names": np.array(["a", "b"])}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="keys must be strings, got 0"):
        mt.save_state({0: np.zeros(1)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="metadata keys and values must be strings"):
        mt.save_state({"a": np.zeros(1)}, tmp_path / "x.safetensors", metadata={"epoch": 3})
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_load_state_names_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(serialization.CheckpointError, match="no such file"):
        mt.load_state(tmp_path / "none.safetensors")
    pickled = tmp_path / "model.pt"
    import pickle

    pickled.write_bytes(pickle.dumps({"weight": np.zeros(3)}))  # what torch.save would write: refused, never run
    with pytest.raises(serialization.CheckpointError, match=r"model\.pt: not a readable safetensors file"):
        mt.load_state(pickled)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    mt.save_state({"a": np.ones(3)}, path)
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        mt.save_state({"a": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # no temporary file left
    monkeypatch.undo()
    os.chmod(path, 0o640)
    mt.save_state({"a": np.zeros(2)}, path)
    assert (os.stat(path).st_mode & 0o777) == 0o640  # a rewritten file keeps its mode


def test_pack_tree_keeps_every_kind_of_optimizer_state():
    state = {
        "state": {0: {"step": 7, "exp_avg": np.arange(3.0), "history": [np.ones(2), np.zeros(2)],
                      "scalar": np.float32(0.1), "prev_loss": float("nan"), "none": None}},
        "param_groups": [{"lr": 0.1 + 0.2, "betas": (0.9, 0.999), "eps": 1e-300, "amsgrad": True,
                          "name": "x", "params": [0, 1]}],
    }
    tensors = {}
    description = json.loads(serialization.dumps(serialization.pack_tree(state, "opt", tensors)))
    assert sorted(tensors) == ["opt.state.0.exp_avg", "opt.state.0.history.0", "opt.state.0.history.1",
                               "opt.state.0.scalar"]
    back = serialization.unpack_tree(description, tensors)
    entry = back["state"][0]  # the int key stays an int
    assert entry["step"] == 7 and type(entry["step"]) is int
    assert np.array_equal(entry["exp_avg"], np.arange(3.0)) and isinstance(entry["history"], list)
    assert type(entry["scalar"]) is np.float32 and entry["scalar"] == np.float32(0.1)
    assert np.isnan(entry["prev_loss"]) and entry["none"] is None
    group = back["param_groups"][0]
    assert group["lr"] == 0.1 + 0.2 and group["eps"] == 1e-300  # floats exact
    assert group["betas"] == (0.9, 0.999) and type(group["betas"]) is tuple
    with pytest.raises(TypeError, match="cannot store 'opt.f' of type function"):
        serialization.pack_tree({"f": lambda: 0}, "opt", {})


def test_rng_state_round_trip():
    mt.manual_seed(5)
    state = mt.random.get_rng_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    first = mt.random.default_generator.random(4)
    mt.manual_seed(6)
    mt.random.set_rng_state(state)
    assert np.array_equal(mt.random.default_generator.random(4), first)


# ----- resuming is exact --------------------------------------------------------------------------------
def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    return x, (x[:, :10].argmax(axis=1)).astype(np.int64)


def test_replayable_epochs_are_the_loaders_and_replay_the_rest_of_an_epoch():
    x, y = _data(90)
    mt.manual_seed(11)
    plain = [batch_y.numpy() for _ in range(2) for _, batch_y in DataLoader((x, y), batch_size=20, shuffle=True)]
    mt.manual_seed(11)
    epochs = checkpoint.ReplayableEpochs(DataLoader((x, y), batch_size=20, shuffle=True))
    assert len(epochs) == 5
    seen = [batch_y.numpy() for _, batch_y in epochs]
    epoch2_start = mt.random.get_rng_state()
    seen += [batch_y.numpy() for _, batch_y in epochs]
    assert len(seen) == 10 and all(np.array_equal(a, b) for a, b in zip(seen, plain))  # nothing changed
    assert np.array_equal(epochs.epoch_rng_state, epoch2_start)
    after = mt.random.get_rng_state()

    # Resume after step 2 of epoch 2: the generator is elsewhere; the replay gives batches 3..5 of epoch 2.
    mt.manual_seed(12345)
    replay = checkpoint.ReplayableEpochs(DataLoader((x, y), batch_size=20, shuffle=True),
                                         checkpoint.Position([1.0], 2, np.float32(0), epoch2_start), after)
    rest = [batch_y.numpy() for _, batch_y in replay]
    assert len(rest) == 3 and all(np.array_equal(a, b) for a, b in zip(rest, plain[7:]))
    assert np.array_equal(mt.random.get_rng_state(), after)  # and the generator is where it was at the save
    assert np.array_equal(replay.epoch_rng_state, epoch2_start)


@pytest.mark.parametrize("optimizer, options", [("Adam", {"lr": 0.01}), ("SGD", {"lr": 0.1, "momentum": 0.9}),
                                                ("RMSprop", {"lr": 0.001, "centered": True})])
def test_resume_mid_epoch_equals_the_uninterrupted_run(tmp_path, backend, optimizer, options):
    x, y = _data()
    epochs, batch = 3, 40  # 6 steps an epoch

    def setup(position=None, now_rng_state=None):
        mt.manual_seed(4)
        model = build_model("mlp", backend=backend)
        opt = getattr(mt.optim, optimizer)(model.parameters(), **options)
        loader = DataLoader((x, y), batch_size=batch, shuffle=True, drop_last=True, backend=backend)
        return checkpoint.ReplayableEpochs(loader, position, now_rng_state), model, opt

    loader, model, opt = setup()
    straight = train(model, loader, opt, epochs)
    final = model.state_dict()

    # Stop after step 4 of epoch 2 (the 10th step), save, and continue in a fresh model, optimizer and generator.
    class StopAt:
        def __init__(self, optimizer, after):
            self.steps, self.after, real_step = 0, after, optimizer.step

            def counting_step(closure=None):
                self.steps += 1
                return real_step(closure)

            optimizer.step = counting_step

        @property
        def requested(self):
            return self.steps >= self.after

    loader, model, opt = setup()
    from minitorch_relu.training import Interrupted

    with pytest.raises(Interrupted) as info:
        train(model, loader, opt, epochs, stop=StopAt(opt, 10))
    stop = info.value
    assert (stop.epoch, stop.step, len(stop.costs)) == (2, 4, 1)
    assert isinstance(stop.partial, np.ndarray) and stop.partial.dtype == np.float32
    checkpoint.save(tmp_path, model, opt, {"model": "mlp"},
                    checkpoint.Position(stop.costs, 4, stop.partial, loader.epoch_rng_state))
    mt.manual_seed(999)  # the generator moves on; the checkpoint must bring it back

    saved = checkpoint.load(tmp_path)
    assert saved.position.step == 4 and saved.position.costs == stop.costs
    loader2, model2, opt2 = setup(saved.position, saved.rng_state)
    saved.restore(model2, opt2)
    resumed = train(model2, loader2, opt2, epochs, resume=saved.position)
    assert resumed == straight  # bit for bit: floats compared with ==
    for name, value in model2.state_dict().items():
        assert np.array_equal(value, final[name]), name


def test_a_nan_cost_names_its_epoch_and_step():
    x, y = _data(200)
    x[130] = np.nan  # sample 130: batch 4 of 50 (no shuffling)
    mt.manual_seed(0)
    model = build_model("softmax")
    with pytest.raises(NonFiniteCost, match=r"the cost became nan at epoch 1, step 3") as info:
        train(model, DataLoader((x, y), batch_size=50), mt.optim.Adam(model.parameters()), epochs=2)
    assert (info.value.epoch, info.value.step, info.value.costs) == (1, 3, [])


# ----- the command: --save, --resume, Ctrl-C, evaluate, predict ------------------------------------------
def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


TRAIN = ["train", "--data-dir", str(SHARED), "--subset", "1200", "--model", "mlp", "--quiet"]


@needs_mnist
def test_three_epochs_straight_equal_one_then_a_resume_for_two(tmp_path, capsys):
    code, straight, _ = _run([*TRAIN, "--epochs", "3"], capsys)
    assert code == 0 and straight.count("Epoch:") == 3
    code, first, _ = _run([*TRAIN, "--epochs", "1", "--save", str(tmp_path / "run")], capsys)
    assert code == 0 and first.splitlines()[0] == straight.splitlines()[0]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["model.safetensors", "training_state.safetensors"]
    code, resumed, err = _run(["train", "--data-dir", str(SHARED), "--resume", str(tmp_path / "run"), "--epochs", "3",
                               "--quiet"], capsys)
    assert code == 0 and resumed == straight
    assert f"resuming the run saved in {tmp_path / 'run'} from the end of epoch 1" in err
    # The resumed run kept saving in its folder: its model is the final one.
    accuracy = straight.splitlines()[4]
    assert _run(["evaluate", str(tmp_path / "run"), "--data-dir", str(SHARED)], capsys)[1] == accuracy + "\n"


@needs_mnist
def test_ctrl_c_saves_at_the_last_finished_step_and_the_resume_is_exact(tmp_path, capsys, monkeypatch):
    code, straight, _ = _run([*TRAIN, "--epochs", "2"], capsys)
    assert code == 0

    real_step = mt.optim.Adam.step
    calls = []
    handler_before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN in a pytest-xdist worker

    def step_then_ctrl_c(self, closure=None):  # a real SIGINT, after step 5 of epoch 2 (12 steps an epoch)
        result = real_step(self, closure)
        calls.append(1)
        if len(calls) == 12 + 5:
            signal.raise_signal(signal.SIGINT)
        return result

    monkeypatch.setattr(mt.optim.Adam, "step", step_then_ctrl_c)
    run_dir, costs = tmp_path / "run", tmp_path / "costs.json"
    code, out, err = _run([*TRAIN, "--epochs", "2", "--save", str(run_dir), "--costs-out", str(costs)], capsys)
    assert code == 130
    assert out == straight.splitlines(keepends=True)[0]  # epoch 1's line, then nothing
    assert err == (f"interrupted at epoch 2, step 5; saved in {run_dir}: continue with  "
                   f"minitorch-relu train --resume {run_dir}\n")
    written = json.loads(costs.read_text())["costs"]  # the finished epochs only
    assert len(written) == 1 and f"{written[0]:.9f}" == out.split("= ")[1].strip()
    assert signal.getsignal(signal.SIGINT) is handler_before  # the handler is put back
    assert len(calls) == 17  # no step after the one in progress
    monkeypatch.undo()

    saved = checkpoint.load(run_dir)
    assert (saved.position.epochs_done, saved.position.step) == (1, 5)
    assert saved.position.epoch_rng_state.dtype == np.uint8 and saved.position.partial.dtype == np.float32
    code, resumed, _ = _run(["train", "--data-dir", str(SHARED), "--resume", str(run_dir), "--quiet"], capsys)
    assert code == 0 and resumed == straight


@needs_mnist
def test_a_real_ctrl_c_in_a_subprocess(tmp_path):
    run_dir = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, "-m", "minitorch_relu", *TRAIN, "--subset", "60000", "--epochs", "15",
                                "--model", "softmax", "--save", str(run_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    first_line = process.stdout.readline()  # epoch 1 is done and saved
    assert first_line.startswith("Epoch: 0001 cost = ")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert err.count("\n") == 1 and err.startswith("interrupted at epoch ") and "Traceback" not in err
    assert f"minitorch-relu train --resume {run_dir}" in err
    assert checkpoint.load(run_dir).position.epochs_done >= 1


def test_save_and_resume_flags_are_checked_before_any_work(tmp_path, capsys):
    none = ["--data-dir", str(tmp_path / "no-data")]
    (tmp_path / "file").write_text("x")
    code, _, err = _run(["train", *none, "--save", str(tmp_path / "file")], capsys)
    assert code == 2 and err == f"minitorch-relu train: error: --save {str(tmp_path / 'file')!r} is a file, not a folder\n"
    code, _, err = _run(["train", *none, "--save", str(tmp_path / "a" / "b")], capsys)
    assert code == 2 and "the folder" in err and "does not exist" in err
    code, _, err = _run(["train", *none, "--resume", str(tmp_path / "nothing")], capsys)
    assert code == 2 and err.count("\n") == 1 and "is not a folder" in err
    code, _, err = _run(["train", *none, "--resume", str(tmp_path)], capsys)
    assert code == 2 and "holds no training_state.safetensors" in err

    mt.manual_seed(0)
    model = build_model("softmax")
    opt = mt.optim.Adam(model.parameters(), lr=0.01)
    checkpoint.save(tmp_path / "api", model, opt, {"model": "softmax"}, checkpoint.Position([1.0]))
    code, _, err = _run(["train", *none, "--resume", str(tmp_path / "api")], capsys)
    assert code == 2 and "does not record the run's dtype, optimizer, lr" in err and err.count("\n") == 1
    settings = {"model": "softmax", "dtype": "float32", "optimizer": "Adam", "lr": 0.01, "optim_args": "",
                "batch_size": 100, "seed": 777, "subset": None, "epochs": 4}
    checkpoint.save(tmp_path / "run", model, opt, settings, checkpoint.Position([1.0, 0.5]))
    code, _, err = _run(["train", *none, "--save", str(tmp_path / "run")], capsys)
    assert code == 2 and "already holds a checkpoint; continue it with --resume" in err
    code, _, err = _run(["train", *none, "--resume", str(tmp_path / "run"), "--lr", "0.5"], capsys)
    assert code == 2 and "whose --lr is 0.01; --lr 0.5 would change it" in err
    code, _, err = _run(["train", *none, "--resume", str(tmp_path / "run"), "--epochs", "1"], capsys)
    assert code == 2 and "--epochs 1: the saved run has already finished 2 epochs" in err
    code, _, err = _run(["train", *none, "--resume", str(tmp_path / "run")], capsys)
    assert code == 1 and "MNIST" in err  # every option is fine: only now is the data looked for


@needs_mnist
def test_evaluate_and_predict_a_saved_model(tmp_path, capsys):
    code, out, _ = _run([*TRAIN, "--epochs", "1", "--model", "softmax", "--save", str(tmp_path / "run")], capsys)
    lines = out.splitlines()
    assert code == 0
    for target in (tmp_path / "run", tmp_path / "run" / "model.safetensors"):
        assert _run(["evaluate", str(target), "--data-dir", str(SHARED)], capsys)[1] == lines[2] + "\n"
    # The lesson's sample by default: the same Label and Prediction lines as train printed.
    code, out, _ = _run(["predict", str(tmp_path / "run"), "--data-dir", str(SHARED)], capsys)
    assert code == 0 and out.splitlines()[-3:-1] == lines[3:5]
    code, out, _ = _run(["predict", str(tmp_path / "run"), "--index", "0", "--data-dir", str(SHARED)], capsys)
    picture = out.splitlines()[1:29]
    assert out.startswith("test image 0:\n") and len(picture) == 28 and "@@" in out
    assert out.splitlines()[29] == "Label:  7"  # the first test image is a 7
    code, _, err = _run(["predict", str(tmp_path / "run"), "--index", "10000", "--data-dir", str(SHARED)], capsys)
    assert code == 2 and "--index 10000: the test set has 10000 images (0..9999)" in err
    # A file whose tensors fit no model, and a file that is not safetensors.
    mt.save_state({"weight": np.zeros((3, 3), np.float32)}, tmp_path / "odd.safetensors")
    code, _, err = _run(["evaluate", str(tmp_path / "odd.safetensors")], capsys)
    assert code == 2 and "fit none of the models softmax, mlp" in err
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 5)
    code, _, err = _run(["evaluate", str(tmp_path / "junk.safetensors")], capsys)
    assert code == 2 and "not a readable safetensors file" in err and err.count("\n") == 1
