"""What every demo needs to draw: matplotlib (an optional extra), loaded only when a demo plots.

The demos never touch pyplot's global state: they build a ``matplotlib.figure.Figure`` directly and
save it, so they run on a machine with no display and never open a window.
"""

import os

INSTALL_HINT = "plots need matplotlib: pip install 'minitorch_relu[plot]'"


def load_matplotlib():
    """The ``matplotlib.figure.Figure`` class, or None when matplotlib is not installed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure


def new_figure(ncols=1, nrows=1, width=6.0, height=4.5):
    """(figure, axes) with ``nrows x ncols`` panels; None if matplotlib is missing (the caller said so)."""
    Figure = load_matplotlib()
    if Figure is None:
        return None
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_png(fig, out_dir, name):
    """Write ``fig`` to ``out_dir/name`` (creating the folder) and say where it went."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
    return path


def save_gif(fig, out_dir, name, draw_frame, n_frames, fps=10):
    """Write an animated GIF: ``draw_frame(i)`` updates ``fig`` for frame i = 0 .. n_frames - 1."""
    from matplotlib.animation import PillowWriter  # Pillow ships with matplotlib

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, path, dpi=80):
        for i in range(n_frames):
            draw_frame(i)
            writer.grab_frame()
    print(f"wrote {path} ({n_frames} frames)")
    return path


def say_no_plot():
    print(f"(no images written) {INSTALL_HINT}")
