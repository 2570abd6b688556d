"""Test doubles for minitorch_relu, kept out of the package users install.

``strict`` is a stand-in device (NumPy underneath, CuPy's manners on top) so that CI without a GPU
still catches device bugs; the test configuration (the repository's conftest.py) makes it known as
the backend "strict" with ``register_strict_backend()``.
"""

from minitorch_relu.backend import Backend, register_loader


def register_strict_backend():
    """Make ``backend="strict"`` (and ``pytest --backend strict``) available."""

    def load():
        from . import strict

        return Backend("strict", strict, strict.StrictArray, strict.to_numpy)

    register_loader("strict", load)
