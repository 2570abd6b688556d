"""Dying ReLU: units whose input stays negative get gradient 0 and never learn again; LeakyReLU lives.

A small regression network (10 inputs -> 64 -> 64 -> 1, full-batch Adam, the lesson's optimizer)
is trained twice per scenario, once with ReLU and once with LeakyReLU (slope 0.01), from the same
weights:

    bias   every hidden bias starts at a large negative value (--bias, default -2.0), so most units
           start with a negative input on every example;
    lr     ordinary initialization but a learning rate far too high (--high-lr, default 0.3, 300x
           the lesson's 0.001): a few violent steps throw units into the negative region.

A unit is *dead* when its input (pre-activation) is <= 0 on every training example. A dead ReLU
passes gradient 0 to its weights and bias, so in the first layer it stays dead for good; a LeakyReLU
unit in the same place still passes 1% of the gradient and can climb back. (Adam scales steps by
the gradient's own size, so that 1% still moves the unit; a dead ReLU's gradient is exactly 0 and
Adam moves it by exactly 0.)
"""

import numpy as np

import minitorch_relu as mt

from . import _args, _plot

ACTIVATIONS = {"relu": mt.nn.ReLU, "leaky_relu": mt.nn.LeakyReLU}


def add_arguments(parser):
    parser.add_argument("--steps", type=_args.non_negative_int, default=300, help="full-batch Adam steps per run (default 300)")
    parser.add_argument("--hidden", type=_args.positive_int, default=64, help="units per hidden layer (default 64)")
    parser.add_argument("--bias", type=_args.finite_float, default=-2.0, help="starting hidden bias, scenario 'bias' (default -2.0)")
    parser.add_argument("--lr", type=_args.positive_float, default=0.01, help="learning rate, scenario 'bias' (default 0.01)")
    parser.add_argument("--high-lr", type=_args.positive_float, default=0.3, help="learning rate, scenario 'lr' (default 0.3)")
    parser.add_argument("--seed", type=_args.seed, default=777)


def make_data(n=512, n_features=10, seed=0):
    """x ~ N(0, 1); the target is a smooth nonlinear function of x, so the network has work to do."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_features)).astype(np.float32)
    y = (np.sin(x[:, :5]).sum(axis=1, keepdims=True) + 0.5 * x[:, 5:6] * x[:, 6:7]).astype(np.float32)
    return mt.tensor(x), mt.tensor(y)


def build(activation, n_inputs, hidden, seed, bias=None):
    mt.manual_seed(seed)
    model = mt.nn.Sequential(
        mt.nn.Linear(n_inputs, hidden), ACTIVATIONS[activation](),
        mt.nn.Linear(hidden, hidden), ACTIVATIONS[activation](),
        mt.nn.Linear(hidden, 1),
    )
    if bias is not None:
        for layer in (model[0], model[2]):
            mt.nn.init.constant_(layer.bias, bias)
    return model


def count_dead(model, x):
    """Dead units per hidden layer: input <= 0 on every example of x."""
    dead = []
    with mt.no_grad():
        h = x
        for layer in model:
            h = layer(h)
            if isinstance(layer, mt.nn.Linear) and layer is not model[-1]:
                dead.append(int((h.numpy() <= 0).all(axis=0).sum()))
    return dead


def train_counting(model, x, y, lr, steps):
    """Full-batch Adam; the dead units of each hidden layer before every step and after the last."""
    optimizer = mt.optim.Adam(model.parameters(), lr=lr)
    counts, losses = [count_dead(model, x)], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = mt.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        counts.append(count_dead(model, x))
    with mt.no_grad():
        losses.append(mt.nn.functional.mse_loss(model(x), y).item())
    return np.array(counts), np.array(losses)


def run_scenarios(args):
    x, y = make_data()
    scenarios = {
        "bias": dict(bias=args.bias, lr=args.lr, title=f"hidden biases start at {args.bias}, lr {args.lr}"),
        "lr": dict(bias=None, lr=args.high_lr, title=f"default init, learning rate {args.high_lr}"),
    }
    results = {}
    for key, sc in scenarios.items():
        results[key] = {"title": sc["title"]}
        for act in ACTIVATIONS:
            model = build(act, x.shape[1], args.hidden, args.seed, bias=sc["bias"])
            counts, losses = train_counting(model, x, y, sc["lr"], args.steps)
            results[key][act] = {"counts": counts, "losses": losses}
    return results


def print_results(results, hidden, steps):
    print(f"dead units (input <= 0 on all 512 examples), per hidden layer of {hidden}, during {steps} Adam steps")
    for key, res in results.items():
        print(f"scenario '{key}': {res['title']}")
        for act in ACTIVATIONS:
            counts, losses = res[act]["counts"], res[act]["losses"]
            marks = sorted({0, 1, 10, steps // 2, steps} & set(range(steps + 1)))
            trail = ", ".join(f"step {s}: {counts[s, 0]}+{counts[s, 1]}" for s in marks)
            print(f"  {act:>10}: dead {trail}   loss {losses[0]:.4f} -> {losses[-1]:.4f}")


def plot_results(results, out_dir):
    """Top row: dead units over the steps; bottom row: the training loss."""
    made = _plot.new_figure(ncols=len(results), nrows=2, height=3.5)
    if made is None:
        return None
    fig, axes = made
    for col, (key, res) in enumerate(results.items()):
        for act, style in zip(ACTIVATIONS, ("-", "--")):
            total = res[act]["counts"].sum(axis=1)
            axes[0, col].plot(np.arange(len(total)), total, style, label=act)
            axes[1, col].semilogy(np.arange(len(res[act]["losses"])), res[act]["losses"], style, label=act)
        axes[0, col].set_title(f"'{key}': {res['title']}")
        axes[0, col].set_ylabel("dead units, both hidden layers")
        axes[1, col].set_ylabel("training loss (MSE)")
        axes[1, col].set_xlabel("Adam step")
        for ax in axes[:, col]:
            ax.grid(True, alpha=0.3)
            ax.legend()
    return _plot.save_png(fig, out_dir, "dying_relu_dead_units.png")


def run(args):
    results = run_scenarios(args)
    print_results(results, args.hidden, args.steps)
    if _plot.load_matplotlib() is None:
        _plot.say_no_plot()
    else:
        plot_results(results, args.out)
    return 0
