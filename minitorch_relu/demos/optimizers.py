"""The optimizers of torch.optim, here from scratch, racing on three 2-D loss surfaces.

Each surface is an ordinary engine function of one parameter tensor p of shape (2,), so every
optimizer gets its gradient from backward(), exactly as it would inside a network:

    beale       (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2, minimum 0 at (3, 0.5)
    rosenbrock  (1 - x)^2 + 100 (y - x^2)^2, a curved flat valley, minimum 0 at (1, 1)
    saddle      x^2 - y^2 + y^4 / 4: a saddle point at (0, 0) and two minima, -1 at (0, +-sqrt(2));
                the start sits almost on the ridge (y = 0.001), so the question is who escapes

Every optimizer runs --steps steps from the same start (LBFGS: one iteration per step, with a
strong-Wolfe line search). The paths are drawn on the contours as a PNG and, frame by frame, as an
animated GIF per surface, in the manner of the well-known optimizer animations the lesson links to.
SparseAdam is in the lesson's list but takes only sparse gradients (embedding rows), which a dense
2-D point never has, so it is left out with a note.
"""

import math

import numpy as np

import minitorch_relu as mt

from . import _args, _plot


# ----- the surfaces: engine functions of p (shape (2,), or (2, H, W) to evaluate a whole grid) -------
def beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def saddle(p):
    x, y = p[0], p[1]
    return x**2 - y**2 + y**4 / 4


# name -> (function, start, minimum, plot window (xmin, xmax, ymin, ymax))
SURFACES = {
    "beale": (beale, (1.0, 1.5), (3.0, 0.5), (-1.0, 4.5, -1.5, 2.0)),
    "rosenbrock": (rosenbrock, (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0, -1.0, 3.0)),
    "saddle": (saddle, (1.5, 1e-3), (0.0, math.sqrt(2.0)), (-2.0, 2.0, -2.0, 2.0)),
}

# label -> (class name in mt.optim, constructor options). Learning rates chosen so that each path
# is readable on all three surfaces; the same settings run on every surface.
OPTIMIZERS = {
    "SGD": ("SGD", dict(lr=1e-3)),
    "Momentum": ("SGD", dict(lr=1e-3, momentum=0.9)),
    "Adagrad": ("Adagrad", dict(lr=0.5)),
    "Adadelta": ("Adadelta", dict(lr=10.0)),
    "RMSprop": ("RMSprop", dict(lr=0.01)),
    "Adam": ("Adam", dict(lr=0.05)),
    "AdamW": ("AdamW", dict(lr=0.05, weight_decay=0.01)),
    "ASGD": ("ASGD", dict(lr=1e-3)),
    "Rprop": ("Rprop", dict(lr=0.01)),
    "LBFGS": ("LBFGS", dict(lr=1.0, max_iter=1, max_eval=25, history_size=10, line_search_fn="strong_wolfe")),
}
# One colour per optimizer, the same in the PNG and in every GIF frame (matplotlib's ten "tab10"
# colours, one each: no two paths share a colour).
COLOURS = dict(zip(OPTIMIZERS, ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                                "#7f7f7f", "#bcbd22", "#17becf"]))
NOT_APPLICABLE = {"SparseAdam": "takes sparse gradients only (embedding rows); a dense 2-D point has none"}


def add_arguments(parser):
    parser.add_argument("--steps", type=_args.positive_int, default=300, help="optimizer steps per path (default 300)")
    parser.add_argument("--frames", type=_args.at_least(2), default=40, help="frames of each animated GIF (default 40)")
    parser.add_argument("--surfaces", default=",".join(SURFACES), type=_args.choices_list(list(SURFACES), "surface"),
                        help=f"comma-separated surfaces (default {','.join(SURFACES)})")


def available_optimizers():
    """(present, missing): the labels whose class exists in mt.optim, and those whose class does not."""
    present = {k: v for k, v in OPTIMIZERS.items() if hasattr(mt.optim, v[0])}
    missing = [k for k in OPTIMIZERS if k not in present]
    return present, missing


def optimize(surface, start, class_name, options, steps):
    """The path (steps + 1, 2) and the losses (steps + 1,) of one optimizer from ``start``."""
    p = mt.tensor(start, dtype=mt.float64, requires_grad=True)
    optimizer = getattr(mt.optim, class_name)([p], **options)

    def closure():  # LBFGS re-evaluates the loss; the others call it once per step
        optimizer.zero_grad()
        loss = surface(p)
        loss.backward()
        return loss

    path, losses = [p.numpy().copy()], [surface(p).item()]
    for _ in range(steps):
        optimizer.step(closure)
        path.append(p.numpy().copy())
        with mt.no_grad():
            losses.append(surface(p).item())
    return np.array(path), np.array(losses)


def run_all(surface_names, steps):
    """{surface: {label: (path, losses)}} for every optimizer present."""
    present, _ = available_optimizers()
    results = {}
    for name in surface_names:
        surface, start, _, _ = SURFACES[name]
        results[name] = {label: optimize(surface, start, cls, opts, steps) for label, (cls, opts) in present.items()}
    return results


def print_results(results, steps):
    present, missing = available_optimizers()
    for label in missing:
        print(f"skipped {label}: mt.optim.{OPTIMIZERS[label][0]} is not there yet")
    for label, why in NOT_APPLICABLE.items():
        print(f"skipped {label}: {why}")
    for name, paths in results.items():
        _, start, minimum, _ = SURFACES[name]
        print(f"{name}: start {start}, minimum at ({minimum[0]:.4g}, {minimum[1]:.4g}), {steps} steps")
        print(f"  {'optimizer':<10} {'final x':>9} {'final y':>9} {'f(x, y)':>11}   options")
        for label, (path, losses) in paths.items():
            options = ", ".join(f"{k}={v}" for k, v in present[label][1].items())
            x, y = path[-1]
            print(f"  {label:<10} {x:>9.4f} {y:>9.4f} {losses[-1]:>11.3e}   {options}")


# ----- pictures -----------------------------------------------------------------------------------------
def _contours(ax, name):
    surface, start, minimum, (x0, x1, y0, y1) = SURFACES[name]
    xs, ys = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    with mt.no_grad():
        z = surface(mt.tensor(np.stack([xs, ys]))).numpy()  # the same function, on a whole grid
    if z.min() > 0:  # positive surfaces: log-spaced levels show the flat valleys
        ax.contour(xs, ys, z, levels=np.logspace(np.log10(max(z.min(), 1e-3)), np.log10(z.max()), 25),
                   cmap="viridis", linewidths=0.6)
    else:
        ax.contour(xs, ys, z, levels=30, cmap="viridis", linewidths=0.6)
    ax.plot(*minimum, "k*", markersize=12)
    ax.plot(*start, "ko", markersize=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(name)


def _draw_paths(ax, paths):
    return {label: ax.plot(path[:, 0], path[:, 1], lw=1.5, label=label, color=COLOURS[label])[0]
            for label, (path, _) in paths.items()}


def plot_png(results, out_dir):
    fig, axes = _plot.new_figure(ncols=len(results), width=5.0)
    for ax, (name, paths) in zip(axes[0], results.items()):
        _contours(ax, name)
        _draw_paths(ax, paths)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside right upper", fontsize=8)
    return _plot.save_png(fig, out_dir, "optimizers_paths.png")


def frame_steps(steps, n_frames):
    """The step each frame shows: the start (step 0) first, the whole path (``steps``) last."""
    return [round(steps * i / (n_frames - 1)) for i in range(n_frames)]


def animation(name, paths, n_frames):
    """(figure, draw_frame) of one surface's GIF: ``draw_frame(i)`` draws every path up to frame
    i's step, with a dot at its head, and titles the frame with that step."""
    fig, axes = _plot.new_figure(width=6.5, height=4.8)
    ax = axes[0, 0]
    _contours(ax, name)
    lines = _draw_paths(ax, paths)
    # a leading "_" keeps the heads out of the legend
    heads = {label: ax.plot([], [], "o", color=COLOURS[label], markersize=4, label=f"_head {label}")[0]
             for label in lines}
    fig.legend(list(lines.values()), list(lines), loc="outside right upper", fontsize=8)
    steps = frame_steps(len(next(iter(paths.values()))[0]) - 1, n_frames)

    def draw_frame(i):
        upto = steps[i]
        for label, (path, _) in paths.items():
            lines[label].set_data(path[: upto + 1, 0], path[: upto + 1, 1])
            heads[label].set_data(path[upto : upto + 1, 0], path[upto : upto + 1, 1])
        ax.set_title(f"{name}, step {upto}")

    return fig, draw_frame


def plot_gifs(results, out_dir, n_frames):
    written = []
    for name, paths in results.items():
        fig, draw_frame = animation(name, paths, n_frames)
        colours = [COLOURS[label] for label in paths]
        written.append(_plot.save_gif(fig, out_dir, f"optimizers_{name}.gif", draw_frame, n_frames,
                                      exact_colours=colours))
    return written


def run(args):
    names = [s.strip() for s in args.surfaces.split(",") if s.strip()]
    unknown = [s for s in names if s not in SURFACES]
    if unknown:
        print(f"unknown surface(s) {unknown}; choose from {list(SURFACES)}")
        return 2
    results = run_all(names, args.steps)
    print_results(results, args.steps)
    if _plot.load_matplotlib() is None:
        _plot.say_no_plot()
    else:
        plot_png(results, args.out)
        plot_gifs(results, args.out, max(2, args.frames))
    return 0
