"""Sigmoid makes gradients vanish: the lesson's 3-layer chain by autograd, then a 10-layer network.

Part 1 is the lesson's worked example, x = 1.0 -> W1 = 0.1 -> sigmoid -> W2 = 0.2 -> sigmoid ->
W3 = 0.3 -> sigmoid, computed by this engine: the forward values, the local factors sigmoid'(z),
the lesson's product of those factors, and the true gradients that backward() finds.

Part 2 builds a deeper network (10 hidden layers of 256 units on MNIST) three times, with sigmoid,
ReLU and LeakyReLU, and measures the gradient norm of every layer's weight, at initialization and
after some Adam steps. With sigmoid the layers near the input get almost nothing.
"""

import numpy as np

import minitorch_relu as mt

from . import _args, _data, _plot

ACTIVATIONS = {"sigmoid": mt.nn.Sigmoid, "relu": mt.nn.ReLU, "leaky_relu": mt.nn.LeakyReLU}


def add_arguments(parser):
    parser.add_argument("--layers", type=_args.positive_int, default=10, help="hidden layers of the deep network (default 10)")
    parser.add_argument("--width", type=_args.positive_int, default=256, help="units per hidden layer (default 256)")
    parser.add_argument("--steps", type=_args.non_negative_int, default=100, help="Adam steps before the second measurement (default 100)")
    parser.add_argument("--batch-size", type=_args.positive_int, default=64, help="examples per step (default 64)")
    parser.add_argument("--lr", type=_args.positive_float, default=1e-3, help="Adam's learning rate (default 0.001)")
    parser.add_argument("--seed", type=_args.seed, default=777)
    _data.add_data_arguments(parser)


# ----- part 1: the lesson's worked example ----------------------------------------------------------
def worked_example(x=1.0, weights=(0.1, 0.2, 0.3)):
    """Run the chain forward and backward in float64; return every number the lesson talks about."""
    x = mt.tensor(x, dtype=mt.float64)
    ws = [mt.tensor(w, dtype=mt.float64, requires_grad=True) for w in weights]
    a, activations = x, []
    for w in ws:
        a = (w * a).sigmoid()  # z_k = W_k * a_(k-1), a_k = sigmoid(z_k)
        activations.append(a.item())
    a.backward()  # y = a3; fills w.grad = dy/dW_k for every k
    # sigmoid'(z_k) = a_k (1 - a_k): the local factor backward multiplies in at layer k.
    local = [a_k * (1 - a_k) for a_k in activations]
    return {
        "activations": activations,
        "local_factors": local,
        "lesson_product": float(np.prod(local)),
        "gradients": [w.grad.item() for w in ws],
    }


def print_worked_example(result):
    a1, a2, a3 = result["activations"]
    print("Part 1: the lesson's chain  x=1.0 -> W1=0.1 -> sigmoid -> W2=0.2 -> sigmoid -> W3=0.3 -> sigmoid")
    print("forward")
    print(f"  a1 = sigmoid(W1*x)  = {a1:.3f}   ({a1:.6f})")
    print(f"  a2 = sigmoid(W2*a1) = {a2:.3f}   ({a2:.6f})")
    print(f"  a3 = sigmoid(W3*a2) = {a3:.3f}   ({a3:.6f})   = y")
    print("backward, from the output down: local factors sigmoid'(z) = a(1-a)")
    for k in (3, 2, 1):
        factor = result["local_factors"][k - 1]
        print(f"  layer {k}: sigmoid'(z{k}) = {factor:.3f}   ({factor:.6f})")
    product = result["lesson_product"]
    print(f"the lesson's product of the three factors (gradient reaching layer 1): {product:.3f}   ({product:.6f})")
    print("the full chain rule, as backward() computes it:")
    for k in (3, 2, 1):
        print(f"  dy/dW{k} = {result['gradients'][k - 1]:.6f}")
    print("Why they differ: the chain rule also multiplies, on the way down, by every later weight (W3=0.3,")
    print("W2=0.2) and by each layer's own input (a2, a1, x). The lesson keeps only the sigmoid' factors;")
    print("both shrink by at least 4x per sigmoid layer, which is the vanishing gradient.")


# ----- part 2: a deep network -----------------------------------------------------------------------
def build_deep(activation, n_inputs, width, layers, n_classes, seed):
    """Linear -> act, `layers` times, then Linear to the classes. He init for every activation, zero bias.

    He (Kaiming) init keeps a ReLU network's signal at one scale from layer to layer, so what differs
    between the three networks is the activation alone. Each starts from the same seed.
    """
    mt.manual_seed(seed)
    modules, fan_in = [], n_inputs
    for _ in range(layers):
        modules += [mt.nn.Linear(fan_in, width), ACTIVATIONS[activation]()]
        fan_in = width
    modules.append(mt.nn.Linear(fan_in, n_classes))
    model = mt.nn.Sequential(*modules)
    for layer in model:
        if isinstance(layer, mt.nn.Linear):
            mt.nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            mt.nn.init.zeros_(layer.bias)
    return model


def weight_grad_norms(model, x, y):
    """Backpropagate the loss of one batch; the norm of dL/dW for each Linear, input side first."""
    model.zero_grad()
    loss = mt.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    norms = [float(np.linalg.norm(layer.weight.grad.numpy())) for layer in model if isinstance(layer, mt.nn.Linear)]
    return norms, loss.item()


def deep_experiment(images, labels, *, layers, width, steps, batch_size, lr, seed):
    """For each activation: gradient norms at init and after `steps` Adam steps, on one fixed probe batch."""
    rng = np.random.default_rng(seed)
    probe_x, probe_y = mt.tensor(images[:batch_size]), mt.tensor(labels[:batch_size])
    results = {}
    for name in ACTIVATIONS:
        model = build_deep(name, images.shape[1], width, layers, int(labels.max()) + 1, seed)
        optimizer = mt.optim.Adam(model.parameters(), lr=lr)
        before, loss_before = weight_grad_norms(model, probe_x, probe_y)
        for _ in range(steps):
            idx = rng.integers(0, len(images), size=batch_size)
            optimizer.zero_grad()
            mt.nn.functional.cross_entropy(model(mt.tensor(images[idx])), mt.tensor(labels[idx])).backward()
            optimizer.step()
        after, loss_after = weight_grad_norms(model, probe_x, probe_y)
        results[name] = {"init": before, "trained": after, "loss_init": loss_before, "loss_trained": loss_after}
    return results


def print_deep(results, steps):
    names = list(results)
    n_linear = len(results[names[0]]["init"])
    print(f"gradient norm |dL/dW| of each layer's weight (layer 1 is next to the input, {n_linear} is the output)")
    for phase, title in (("init", "at initialization"), ("trained", f"after {steps} Adam steps")):
        print(f"  {title}")
        print(f"{'layer':>9} " + "".join(f"{name:>14}" for name in names))
        for i in range(n_linear):
            print(f"{i + 1:>9} " + "".join(f"{results[name][phase][i]:>14.3e}" for name in names))
        ratios = [results[name][phase][0] / results[name][phase][-1] for name in names]
        print(f"{'1st/last':>9} " + "".join(f"{ratio:>14.1e}" for ratio in ratios))
    print("  loss on the probe batch: " + ", ".join(
        f"{n} {results[n]['loss_init']:.3f} -> {results[n]['loss_trained']:.3f}" for n in names))


def plot_deep(results, steps, out_dir):
    made = _plot.new_figure(ncols=2)
    if made is None:
        return None
    fig, axes = made
    for ax, (phase, title) in zip(axes[0], (("init", "at initialization"), ("trained", f"after {steps} Adam steps"))):
        for name, res in results.items():
            layers = np.arange(1, len(res[phase]) + 1)
            ax.semilogy(layers, res[phase], marker="o", label=name)
        ax.set_title(f"gradient norm per layer, {title}")
        ax.set_xlabel("layer (1 = next to the input)")
        ax.set_ylabel("|dL/dW|")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    return _plot.save_png(fig, out_dir, "vanishing_gradient_norms.png")


def run(args):
    print_worked_example(worked_example())
    print()
    images, labels, source = _data.training_sample(args, n=max(2000, args.batch_size))
    print(f"Part 2: {args.layers} hidden layers of {args.width} units, sigmoid vs ReLU vs LeakyReLU")
    print(f"data: {source}")
    results = deep_experiment(images, labels, layers=args.layers, width=args.width, steps=args.steps,
                              batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    print_deep(results, args.steps)
    if _plot.load_matplotlib() is None:
        _plot.say_no_plot()
    else:
        plot_deep(results, args.steps, args.out)
    return 0
