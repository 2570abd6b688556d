"""The `minitorch-relu` command: `train` runs the lesson's MNIST programs, `demo` its other points.

Each subcommand lives in its own module with add_arguments(parser) and run(args); those modules keep
their module-level imports light, since building the parser imports them all.
"""

import argparse
import importlib
import sys

# subcommand -> (module, one-line help). Each module has add_arguments(parser) and run(args) -> int.
SUBCOMMANDS = {
    "train": ("minitorch_relu.train", "train the lesson's softmax model or MLP on MNIST"),
    "demo": ("minitorch_relu.demos", "run one of the lesson's demos (vanishing, dying-relu, optimizers, compare)"),
    "graph": ("minitorch_relu.graph_cli", "draw the graph of the lesson's model for one batch (.dot/.svg/.png)"),
}


def build_parser():
    parser = argparse.ArgumentParser(prog="minitorch-relu", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
