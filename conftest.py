"""Shared pytest settings.

--backend picks where the suites run: "numpy" (default), "strict" (a NumPy stand-in for a device
whose arrays refuse implicit conversion, as CuPy's do) or "cupy" (a real GPU; skipped with the reason
when CuPy or a CUDA device is missing). Tests take the ``backend`` fixture and pass it to mt.tensor.
"""

import pytest
from hypothesis import settings

# Hypothesis runs without deadlines: these machines are shared and noisy.
settings.register_profile("default", deadline=None, max_examples=60)
settings.load_profile("default")


def pytest_addoption(parser):
    parser.addoption("--backend", default="numpy", choices=["numpy", "strict", "cupy"],
                     help="array backend the suites run on (default: numpy)")


@pytest.fixture(scope="session")
def backend(request):
    name = request.config.getoption("--backend")
    if name != "numpy":
        import minitorch_relu as mt

        try:
            mt.get_backend(name)
        except RuntimeError as exc:  # no CuPy, or no CUDA device
            pytest.skip(str(exc))
    return name
