"""The differential fuzzer (parity/fuzz.py) in CI: 2,000 derandomized programs, or 100,000 with
MINITORCH_RELU_FUZZ_LONG=1. Every program must agree with torch or stop at a listed disagreement."""

import os
import warnings

import pytest
from hypothesis import HealthCheck, given, settings

from parity.fuzz import KNOWN, Disagreement, describe, programs, run_program

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LONG = os.environ.get("MINITORCH_RELU_FUZZ_LONG") == "1"
EXAMPLES = 100_000 if LONG else 2_000
listed = {key: 0 for key in KNOWN}




@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(program=programs)
def test_engine_agrees_with_torch_on_random_programs(program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's and NumPy's warnings (log of negatives, .grad of non-leaves)
        try:
            known = run_program(program)
        except Disagreement as exc:
            raise AssertionError(f"{exc}\n\nprogram:\n{describe(program)}") from None
    if known:
        listed[known] += 1
