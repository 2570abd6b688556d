"""The `minitorch-relu` command: the lesson's MNIST programs, its demos, and saved models.

`train` runs the lesson's MNIST programs, `demo` its other points; `evaluate` and `predict` use a
model that `train --save` (or torch, through safetensors) saved.

Each subcommand lives in its own module with add_arguments(parser) and run(args); those modules keep
their module-level imports light, since building the parser imports them all.
"""

import argparse
import importlib
import sys

from . import __version__

# subcommand -> (module, one-line help). Each module has add_arguments(parser) and run(args) -> int.
SUBCOMMANDS = {
    "train": ("minitorch_relu.train_cli", "train the lesson's softmax model or MLP on MNIST"),
    "demo": ("minitorch_relu.demos", "run one of the lesson's demos (vanishing, dying-relu, optimizers, compare)"),
    "graph": ("minitorch_relu.graph_cli", "draw the graph of the lesson's model for one batch (.dot/.svg/.png)"),
    "evaluate": ("minitorch_relu.evaluate_cli", "print the test accuracy of a saved model (train --save DIR, or a .safetensors file)"),
    "predict": ("minitorch_relu.predict_cli", "show one test image, its label and a saved model's prediction"),
}


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, but a bad option is one line on stderr (and exit 2), not the whole usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = ArgumentParser(prog="minitorch-relu", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"minitorch-relu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:  # Ctrl-C: one line and the shell's code for it, not a traceback
        print(f"minitorch-relu {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
