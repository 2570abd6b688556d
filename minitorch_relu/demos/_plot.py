"""What every demo needs to draw: matplotlib (an optional extra), loaded only when a demo plots.

The demos never touch pyplot's global state: they build a ``matplotlib.figure.Figure`` directly and
save it, so they run on a machine with no display and never open a window.
"""

import io
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


def save_gif(fig, out_dir, name, draw_frame, n_frames, fps=10, exact_colours=()):
    """Write an animated GIF: ``draw_frame(i)`` updates ``fig`` for frame i = 0 .. n_frames - 1.

    A GIF frame holds at most 256 colours. Left to choose them frame by frame (as matplotlib's
    PillowWriter lets it), Pillow gives each frame its own palette, so a line's colour drifts from
    frame to frame and two lines can be drawn in one colour. Every frame here uses one palette,
    which holds ``exact_colours`` (matplotlib colours: the lines') unchanged.
    """
    from PIL import Image  # Pillow ships with matplotlib

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    frames = []
    for i in range(n_frames):
        draw_frame(i)
        frames.append(render(fig, dpi=80))
    palette = shared_palette(frames, exact_colours)
    frames = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    print(f"wrote {path} ({n_frames} frames)")
    return path


def render(fig, dpi):
    """``fig`` as a Pillow RGB image."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def shared_palette(frames, exact_colours=()):
    """One 256-colour palette (a Pillow "P" image) for all ``frames``: ``exact_colours`` first, as
    they are, then the colours the last frame (the fullest) needs most."""
    from matplotlib.colors import to_rgb
    from PIL import Image

    fixed = [round(255 * c) for colour in exact_colours for c in to_rgb(colour)]
    n_rest = 256 - len(fixed) // 3
    rest = frames[-1].quantize(colors=n_rest, method=Image.Quantize.MEDIANCUT).getpalette()[: 3 * n_rest]
    palette = Image.new("P", (1, 1))
    palette.putpalette(fixed + rest)
    return palette


def say_no_plot():
    print(f"(no images written) {INSTALL_HINT}")
