"""`minitorch-relu demo NAME`: each point of the lesson as a program you run and see.

    vanishing    the lesson's sigmoid chain by autograd, then gradient norms in a 10-layer network
    dying-relu   ReLU units that die (large negative bias, high learning rate) and LeakyReLU that does not
    optimizers   every optimizer of the lesson on Beale, Rosenbrock and a saddle (PNG and animated GIF)
    compare      the lesson's two MNIST programs: this engine's loss curves against torch's
    init         normal(std 1) against xavier init: activation and gradient histograms per layer

Each demo prints its numbers, and writes images to --out (default out/demos) when matplotlib is
installed (pip install 'minitorch_relu[plot]').
"""

import argparse
import importlib

from . import _args

# demo name -> module in this package. Each module has add_arguments(parser) and run(args) -> int.
DEMOS = {
    "vanishing": "vanishing",
    "dying-relu": "dying_relu",
    "optimizers": "optimizers",
    "compare": "compare",
    "init": "init",
}

DEFAULT_OUT = "out/demos"


def _module(name):
    return importlib.import_module(f"{__name__}.{DEMOS[name]}")


def add_arguments(parser):
    sub = parser.add_subparsers(dest="demo", required=True, metavar="NAME")
    for name in DEMOS:
        module = _module(name)
        demo_parser = sub.add_parser(name, help=module.__doc__.splitlines()[0], description=module.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
        demo_parser.add_argument("--out", default=DEFAULT_OUT, type=_args.out_folder,
                                 help=f"folder for the images (default {DEFAULT_OUT})")
        module.add_arguments(demo_parser)


def run(args):
    return _module(args.demo).run(args)


def main(argv):
    """Run one demo from a list of words, as the command line would: main(["vanishing", "--out", "x"])."""
    from ..cli import ArgumentParser

    parser = ArgumentParser(prog="minitorch-relu demo")
    add_arguments(parser)
    return run(parser.parse_args(argv))
