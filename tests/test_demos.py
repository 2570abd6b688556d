"""The demos of `minitorch-relu demo`: the lesson's numbers, the engine's gradients, and real images.

Every run here uses small settings (few steps, narrow layers, one epoch) so the file stays fast.
Tests that need torch, matplotlib or the MNIST files skip when those are missing.
"""

import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.demos import compare, dying_relu, main, optimizers, vanishing

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("MINITORCH_RELU_DATA") or REPO.parent / "shared" / "data")
HAVE_MNIST = (DATA / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file() or (
    DATA / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()
needs_mnist = pytest.mark.skipif(not HAVE_MNIST, reason=f"MNIST not found under {DATA}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """The demos' matrices are small: on a shared machine, idle BLAS threads only spin (10x slower)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


def assert_png(path):
    """A real PNG: the signature, and matplotlib reads it back as a non-empty RGBA image."""
    mpimg = pytest.importorskip("matplotlib.image")
    assert Path(path).read_bytes()[:8] == PNG_SIGNATURE
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100 and image.shape[2] in (3, 4)
    assert image[..., :3].std() > 0.01  # not a blank canvas


def assert_gif(path, frames):
    Image = pytest.importorskip("PIL.Image")
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.is_animated and gif.n_frames == frames


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# ----- vanishing: the lesson's worked example ---------------------------------------------------------------
def test_worked_example_matches_the_lesson_and_the_chain_rule():
    result = vanishing.worked_example()
    # The lesson's numbers, to the digits it prints.
    assert [round(a, 3) for a in result["activations"]] == [0.525, 0.526, 0.539]
    assert [round(f, 3) for f in reversed(result["local_factors"])] == [0.248, 0.249, 0.249]  # layer 3, 2, 1
    assert round(result["lesson_product"], 3) == 0.015
    # The full chain rule, written out by hand: each path multiplies sigma', the later weights and the input.
    w1, w2, w3, x = 0.1, 0.2, 0.3, 1.0
    a1 = sigmoid(w1 * x)
    a2 = sigmoid(w2 * a1)
    a3 = sigmoid(w3 * a2)
    d1, d2, d3 = a1 * (1 - a1), a2 * (1 - a2), a3 * (1 - a3)
    expected = [d3 * w3 * d2 * w2 * d1 * x, d3 * w3 * d2 * a1, d3 * a2]
    assert result["gradients"] == pytest.approx(expected, rel=1e-12)
    assert result["gradients"] == pytest.approx([0.000927, 0.009755, 0.130740], abs=5e-7)
    # backward() is smaller than the lesson's product by exactly the weights and the input on the path.
    assert result["gradients"][0] == pytest.approx(result["lesson_product"] * w3 * w2 * x, rel=1e-12)


def test_vanishing_demo_prints_the_lesson_numbers_and_writes_a_png(tmp_path, capsys):
    assert main(["vanishing", "--synthetic", "--layers", "3", "--width", "16", "--steps", "2",
                 "--batch-size", "8", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for pattern in (r"a1 = .* = 0\.525", r"a2 = .* = 0\.526", r"a3 = .* = 0\.539",
                    r"sigmoid'\(z3\) = 0\.248", r"sigmoid'\(z2\) = 0\.249", r"sigmoid'\(z1\) = 0\.249",
                    r"reaching layer 1\): 0\.015", r"dy/dW3 = 0\.130740", r"dy/dW2 = 0\.009755",
                    r"dy/dW1 = 0\.000927", r"Why they differ", r"synthetic stand-in"):
        assert re.search(pattern, out), pattern
    assert_png(tmp_path / "vanishing_gradient_norms.png")


def test_deep_sigmoid_gradients_vanish_and_relu_ones_do_not():
    x, y = vanishing._data.synthetic(64)
    results = vanishing.deep_experiment(x, y, layers=10, width=32, steps=2, batch_size=32, lr=1e-3, seed=777)
    for phase in ("init", "trained"):
        assert len(results["sigmoid"][phase]) == 11  # 10 hidden layers + the output layer
        sig, relu, leaky = (results[n][phase] for n in ("sigmoid", "relu", "leaky_relu"))
        # Ten sigmoid' factors (each <= 0.25) between the first layer and the output.
        assert sig[0] / sig[-1] < 1e-3
        assert relu[0] / relu[-1] > 0.1 and leaky[0] / leaky[-1] > 0.1
        assert sig[0] < 1e-2 * relu[0]


def test_deep_gradient_norms_match_torch():
    torch = pytest.importorskip("torch")
    x, y = vanishing._data.synthetic(16)
    for name, torch_act in (("sigmoid", torch.nn.Sigmoid), ("relu", torch.nn.ReLU), ("leaky_relu", torch.nn.LeakyReLU)):
        model = vanishing.build_deep(name, 784, 24, 6, 10, seed=3)
        norms, loss = vanishing.weight_grad_norms(model, mt.tensor(x), mt.tensor(y))
        layers = []
        for layer in model:
            if isinstance(layer, mt.nn.Linear):
                linear = torch.nn.Linear(layer.in_features, layer.out_features)
                linear.load_state_dict({"weight": torch.tensor(layer.weight.numpy()),
                                        "bias": torch.tensor(layer.bias.numpy())})
                layers.append(linear)
            else:
                layers.append(torch_act())
        reference = torch.nn.Sequential(*layers)
        torch_loss = torch.nn.functional.cross_entropy(reference(torch.tensor(x)), torch.tensor(y))
        torch_loss.backward()
        torch_norms = [m.weight.grad.norm().item() for m in reference if isinstance(m, torch.nn.Linear)]
        assert loss == pytest.approx(torch_loss.item(), rel=1e-5)
        assert norms == pytest.approx(torch_norms, rel=1e-4)  # float32; the smallest sigmoid norms are ~1e-6


# ----- dying ReLU -------------------------------------------------------------------------------------------
def test_a_dead_relu_unit_gets_exactly_zero_gradient_and_a_leaky_one_does_not():
    x, y = dying_relu.make_data()
    for act in ("relu", "leaky_relu"):
        model = dying_relu.build(act, 10, 64, seed=777, bias=-2.0)
        dead_rows = ((x.numpy() @ model[0].weight.numpy().T + model[0].bias.numpy()) <= 0).all(axis=0)
        assert dead_rows.sum() == dying_relu.count_dead(model, x)[0] > 0
        mt.nn.functional.mse_loss(model(x), y).backward()
        grad = np.abs(model[0].weight.grad.numpy()[dead_rows]).max(axis=1)
        if act == "relu":
            assert np.all(grad == 0) and np.all(model[0].bias.grad.numpy()[dead_rows] == 0)
        else:
            assert np.all(grad > 0)


def test_dead_relu_units_stay_dead_while_leaky_ones_recover(tmp_path, capsys):
    args = _parse(["dying-relu", "--steps", "30", "--out", str(tmp_path)])
    results = dying_relu.run_scenarios(args)
    relu, leaky = results["bias"]["relu"], results["bias"]["leaky_relu"]
    assert relu["counts"].shape == (31, 2)
    assert relu["counts"][0, 0] >= 40 and relu["counts"][0, 1] == 64  # most units start dead
    assert np.all(relu["counts"] == relu["counts"][0])  # ... and a ReLU network never gets them back
    assert relu["losses"][-1] == pytest.approx(relu["losses"][0], rel=0.01)  # so it hardly learns
    assert leaky["counts"][-1, 0] < relu["counts"][-1, 0] - 10  # LeakyReLU units climb back
    assert leaky["losses"][-1] < relu["losses"][-1] - 0.2  # and learns: 2.296 against 2.550 after 30 steps
    # The high learning rate kills ReLU units that start alive (default init, seed 777: 1 of 128 starts dead).
    high = results["lr"]
    assert high["relu"]["counts"][0].sum() <= 1
    assert high["relu"]["counts"][-1].sum() > high["leaky_relu"]["counts"][-1].sum() + 10

    dying_relu.print_results(results, 64, 30)  # what `demo dying-relu --steps 30` prints and draws
    dying_relu.plot_results(results, str(tmp_path))
    out = capsys.readouterr().out
    first = relu["counts"][0]
    assert f"relu: dead step 0: {first[0]}+{first[1]}, step 1: {first[0]}+{first[1]}" in out
    assert f"step 30: {first[0]}+{first[1]}" in out
    assert_png(tmp_path / "dying_relu_dead_units.png")


# ----- optimizers -------------------------------------------------------------------------------------------
def test_surfaces_have_their_minima_and_gradients():
    for name, (surface, _, minimum, _) in optimizers.SURFACES.items():
        p = mt.tensor(minimum, dtype=mt.float64, requires_grad=True)
        value = surface(p)
        value.backward()
        assert value.item() == pytest.approx(-1.0 if name == "saddle" else 0.0, abs=1e-12)
        assert np.abs(p.grad.numpy()).max() < 1e-12
    p = mt.tensor([-1.5, 2.0], dtype=mt.float64, requires_grad=True)
    optimizers.rosenbrock(p).backward()  # d/dx = -2(1-x) - 400x(y-x^2), d/dy = 200(y-x^2)
    assert p.grad.numpy().tolist() == pytest.approx([-155.0, -50.0], rel=1e-12)
    p = mt.tensor([1.5, 1.0], dtype=mt.float64, requires_grad=True)
    optimizers.saddle(p).backward()  # (2x, -2y + y^3)
    assert p.grad.numpy().tolist() == pytest.approx([3.0, -1.0], rel=1e-12)


def test_every_optimizer_path_matches_torch_optim():
    torch = pytest.importorskip("torch")
    steps = 40
    torch_surfaces = {
        "beale": lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
        "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "saddle": lambda x, y: x**2 - y**2 + y**4 / 4,
    }
    results = optimizers.run_all(list(optimizers.SURFACES), steps)
    present, _ = optimizers.available_optimizers()
    assert {"SGD", "Momentum", "Adam"} <= set(present)
    for name, paths in results.items():
        f = torch_surfaces[name]
        for label, (cls, options) in present.items():
            p = torch.tensor(optimizers.SURFACES[name][1], dtype=torch.float64, requires_grad=True)
            opt = getattr(torch.optim, cls)([p], **options)

            def closure():
                opt.zero_grad()
                loss = f(p[0], p[1])
                loss.backward()
                return loss

            expected = [p.detach().numpy().copy()]
            for _ in range(steps):
                opt.step(closure)
                expected.append(p.detach().numpy().copy())
            path, losses = paths[label]
            assert path.shape == (steps + 1, 2)
            np.testing.assert_allclose(path, np.array(expected), rtol=1e-9, atol=1e-12, err_msg=f"{label} on {name}")
            assert losses[-1] == pytest.approx(f(*torch.tensor(path[-1])).item(), rel=1e-9, abs=1e-15)


def test_optimizers_demo_prints_each_path_and_writes_png_and_gifs(tmp_path, capsys):
    assert main(["optimizers", "--steps", "20", "--frames", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "skipped SparseAdam: takes sparse gradients only" in out
    results = optimizers.run_all(["rosenbrock"], 20)
    for label, (path, losses) in results["rosenbrock"].items():
        x, y = path[-1]
        numbers = r"\s+".join(re.escape(v) for v in (f"{x:.4f}", f"{y:.4f}", f"{losses[-1]:.3e}"))
        assert re.search(rf"\n  {label}\s+{numbers}", out), label
    assert_png(tmp_path / "optimizers_paths.png")
    for name in optimizers.SURFACES:
        assert_gif(tmp_path / f"optimizers_{name}.gif", frames=3)


def test_gif_frames_start_at_step_0_and_keep_one_colour_per_optimizer():
    """Frame i shows every path up to step frame_steps[i] (0 first, the last step last) and says so in
    its title; each optimizer keeps its own colour (line, head, legend) in every frame."""
    pytest.importorskip("matplotlib")
    assert optimizers.frame_steps(300, 40)[:2] == [0, 8] and optimizers.frame_steps(300, 40)[-1] == 300
    paths = optimizers.run_all(["saddle"], 12)["saddle"]
    fig, draw_frame = optimizers.animation("saddle", paths, 4)
    ax = fig.axes[0]
    titles, colours = [], []
    for i in range(4):
        draw_frame(i)
        titles.append(ax.get_title())
        step = int(titles[-1].rsplit(" ", 1)[1])
        seen = {}
        for line in ax.lines:
            if line.get_label() in paths:  # a path: drawn from the start up to this frame's step
                assert len(line.get_xdata()) == step + 1
                np.testing.assert_array_equal(line.get_xdata(), paths[line.get_label()][0][: step + 1, 0])
            elif line.get_label().startswith("_head "):  # a path's head: the point at this frame's step
                label = line.get_label().removeprefix("_head ")
                np.testing.assert_array_equal(line.get_xydata(), paths[label][0][step: step + 1])
                seen[f"head of {label}"] = line.get_color()
        for handle, text in zip(fig.legends[0].legend_handles, fig.legends[0].get_texts()):
            seen[text.get_text()] = handle.get_color()
        colours.append(seen)
    assert titles == ["saddle, step 0", "saddle, step 4", "saddle, step 8", "saddle, step 12"]
    assert all(c == colours[0] for c in colours)
    legend = {label: colours[0][label] for label in paths}
    assert len(set(legend.values())) == len(legend) == 10  # ten optimizers, ten colours
    assert legend["Momentum"] != legend["Rprop"]
    assert legend == {label: optimizers.COLOURS[label] for label in paths}
    assert all(colours[0][f"head of {label}"] == legend[label] for label in paths)


def test_gif_palette_keeps_the_given_colours_in_every_frame():
    """Two frames with different content, quantized to the shared palette: the given colours come out
    exactly as they went in, in both."""
    Image = pytest.importorskip("PIL.Image")
    from minitorch_relu.demos import _plot

    colours = [optimizers.COLOURS["Momentum"], optimizers.COLOURS["Rprop"]]
    rgb = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colours]
    rng = np.random.default_rng(0)
    frames = []
    for seed in range(2):
        pixels = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)  # far more than 256 colours
        pixels[:4, :8 * (seed + 1)] = rgb[0]
        pixels[4:8, :8] = rgb[1]
        frames.append(Image.fromarray(pixels))
    palette = _plot.shared_palette(frames, colours)
    for frame in frames:
        out = np.asarray(frame.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB"))
        assert (out[:4, :8] == rgb[0]).all() and (out[4:8, :8] == rgb[1]).all()


def test_escaping_the_saddle():
    """From the ridge (y = 0.001), plain SGD creeps toward the saddle point; adaptive steps escape to a minimum."""
    results = optimizers.run_all(["saddle"], 300)["saddle"]
    assert abs(results["SGD"][0][-1, 1]) < 0.01
    for label in ("Adam", "RMSprop", "Rprop"):
        if label in results:
            assert results[label][0][-1] == pytest.approx([0.0, math.sqrt(2)], abs=1e-3)


# ----- compare ----------------------------------------------------------------------------------------------
@needs_mnist
def test_compare_softmax_first_epoch_is_the_lessons_cost(tmp_path, capsys):
    pytest.importorskip("torch")
    assert main(["compare", "--models", "softmax", "--epochs", "1", "--data-dir", str(DATA),
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # The lesson's "Epoch: 0001 cost = 5.728239", from torch and from this engine on the same batches.
    assert re.search(r"\n    1\s+5\.728239\s+5\.728239\n", out), out
    assert "softmax in the lesson (15 epochs, all 60000 images): cost 5.728 -> 0.395, accuracy 0.8917" in out
    assert_png(tmp_path / "compare_loss_curves.png")


@needs_mnist
def test_compare_mlp_tracks_torch_on_a_subset():
    pytest.importorskip("torch")
    from minitorch_relu import torch_lesson
    from minitorch_relu.data import MNIST

    train, test = MNIST(DATA, train=True), MNIST(DATA, train=False)
    images, labels = train.images[:1000], train.labels[:1000]
    reference = compare.run_torch(torch_lesson, "mlp", images, labels, test.images[:500], test.labels[:500], 1, 777)
    engine = compare.run_engine("mlp", images, labels, test.images[:500], test.labels[:500], 1, 777, reference)
    # Weights of std 1 give logits in the hundreds; over 10 steps float32 rounding differs by ~1e-6.
    assert engine.costs[0] == pytest.approx(reference.costs[0], rel=1e-4)
    assert engine.costs[0] > 100  # the lesson's MLP starts in the hundreds (128.86 on all the data)
    assert engine.accuracy_raw == pytest.approx(reference.accuracy_raw, abs=0.01)


@needs_mnist
def test_compare_without_torch_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(compare, "import_torch_lesson", lambda: None)
    assert main(["compare", "--models", "softmax", "--epochs", "2", "--subset", "500", "--data-dir", str(DATA),
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "torch is not installed" in out
    assert "softmax torch" not in out
    rows = re.findall(r"^\s+([12])\s+(\d+\.\d{6})$", out, flags=re.MULTILINE)
    assert [r[0] for r in rows] == ["1", "2"] and float(rows[1][1]) < float(rows[0][1])


def test_compare_without_mnist_fails_clearly(tmp_path, capsys):
    assert main(["compare", "--data-dir", str(tmp_path / "nothing"), "--out", str(tmp_path)]) == 1
    assert "compare needs MNIST" in capsys.readouterr().out


# ----- without matplotlib ----------------------------------------------------------------------------------
def test_without_matplotlib_each_demo_prints_numbers_and_the_install_hint(tmp_path, capsys, monkeypatch):
    for module in [m for m in list(sys.modules) if m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib...` now raises ImportError
    runs = {
        "vanishing": ["--synthetic", "--layers", "2", "--width", "8", "--steps", "1", "--batch-size", "4"],
        "dying-relu": ["--steps", "3", "--hidden", "8"],
        "optimizers": ["--steps", "3", "--surfaces", "saddle"],
    }
    for name, options in runs.items():
        assert main([name, *options, "--out", str(tmp_path / name)]) == 0
        out = capsys.readouterr().out
        assert "pip install 'minitorch_relu[plot]'" in out, name
        assert not (tmp_path / name).exists(), name
        numbers = {"vanishing": r"dy/dW1 = 0\.000927", "dying-relu": r"relu: dead step 0: \d+\+\d+",
                   "optimizers": r"\n  SGD\s+\d\.\d{4}\s+"}[name]
        assert re.search(numbers, out), name


def test_cli_lists_the_demos(capsys):
    from minitorch_relu.cli import main as cli_main

    with pytest.raises(SystemExit):
        cli_main(["demo", "--help"])
    out = capsys.readouterr().out
    for name in ("vanishing", "dying-relu", "optimizers", "compare"):
        assert name in out


def _parse(argv):
    import argparse

    from minitorch_relu import demos

    parser = argparse.ArgumentParser()
    demos.add_arguments(parser)
    return parser.parse_args(argv)


# ----- flags: a bad value is one line and exit 2, before any work --------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["vanishing", "--batch-size", "0"], "argument --batch-size: must be > 0, got 0"),
    (["vanishing", "--lr", "inf"], "argument --lr: must be a finite number > 0, got inf"),
    (["vanishing", "--seed", "-1"], "argument --seed: must lie in 0..18446744073709551615, got -1"),
    (["dying-relu", "--hidden", "0"], "argument --hidden: must be > 0, got 0"),
    (["dying-relu", "--bias", "nan"], "argument --bias: must be a finite number, got nan"),
    (["optimizers", "--surfaces", "beale,moon"], "argument --surfaces: unknown surface 'moon'; choose from beale, "
                                                 "rosenbrock, saddle"),
    (["optimizers", "--frames", "1"], "argument --frames: must be >= 2, got 1"),
    (["compare", "--subset", "0"], "argument --subset: must be >= 100, got 0"),
    (["compare", "--subset", "99"], "argument --subset: must be >= 100, got 99"),
    (["compare", "--epochs", "0"], "argument --epochs: must be > 0, got 0"),
    (["compare", "--models", "cnn"], "argument --models: unknown model 'cnn'; choose from softmax, mlp"),
])
def test_bad_flag_values_stop_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    assert info.value.code == 2 and captured.out == ""
    demo = f"minitorch-relu demo {argv[0]}"
    assert captured.err == f"{demo}: error: {message} (see {demo} --help)\n"


@pytest.mark.parametrize("demo", ["vanishing", "dying-relu", "optimizers", "compare"])
def test_out_that_is_a_file_is_refused_at_once(demo, tmp_path, capsys):
    existing = tmp_path / "taken.png"
    existing.write_bytes(b"x")
    for out in (existing, existing / "below"):
        with pytest.raises(SystemExit) as info:
            main([demo, "--out", str(out)])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--out" in err and str(existing) in err
    assert existing.read_bytes() == b"x"


def test_compare_suggests_only_flags_it_has(tmp_path, capsys):
    assert main(["compare", "--data-dir", str(tmp_path / "nothing"), "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "or allow a download with --download" in out
    assert _parse(["compare", "--download"]).download is True  # the flag it suggests exists
    assert not (tmp_path / "nothing").exists()
