"""Fixtures shared by the parity tests."""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny inputs: torch's worker threads only add start-up and spin time (tens of ms a call on a busy
    2-core machine). Restored afterwards for other modules (the MNIST harness sets its own count)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
