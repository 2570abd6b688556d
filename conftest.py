"""Shared pytest settings.

--backend picks where the suites run: "numpy" (default), "strict" (a NumPy stand-in for a device
whose arrays refuse implicit conversion, as CuPy's do) or "cupy" (a real GPU; skipped with the reason
when CuPy or a CUDA device is missing). Tests take the ``backend`` fixture and pass it to mt.tensor.

On a device backend (strict, cupy) only the tests that take the ``backend`` fixture are selected —
the others would repeat the NumPy run exactly — plus those marked ``gpu`` on cupy. Tests marked
``long`` (the 15-epoch MNIST runs) are skipped on strict, which checks device manners, not results
that need many epochs.
"""

import pytest
from hypothesis import settings

from minitorch_relu_testing import register_strict_backend

register_strict_backend()  # backend="strict": the stand-in device lives with the tests, not in the package

# Hypothesis runs without deadlines: these machines are shared and noisy.
settings.register_profile("default", deadline=None, max_examples=60)
settings.register_profile("ci", settings.get_profile("default"), derandomize=True)  # python -m parity.suite
settings.load_profile("default")


def pytest_addoption(parser):
    parser.addoption("--backend", default="numpy", choices=["numpy", "strict", "cupy"],
                     help="array backend the suites run on (default: numpy)")


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a long run (15-epoch MNIST); skipped with --backend strict")
    config.addinivalue_line("markers", "gpu: needs CuPy and a CUDA device; also selected with --backend cupy")


def pytest_collection_modifyitems(config, items):
    name = config.getoption("--backend")
    if name == "numpy":
        return
    selected, deselected = [], []
    for item in items:
        wanted = "backend" in getattr(item, "fixturenames", ()) or (name == "cupy" and item.get_closest_marker("gpu"))
        (selected if wanted else deselected).append(item)
        if name == "strict" and item.get_closest_marker("long"):
            item.add_marker(pytest.mark.skip(reason="long run: skipped on the strict stand-in device"))
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


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
