"""CPU benchmarks of minitorch_relu against PyTorch (run: python -m benchmarks --help).

Not part of the package: it imports torch, which the package never does.
"""
