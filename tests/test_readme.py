"""The README's "Using it" block runs as written and trains (one epoch of the lesson's MLP)."""

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _using_it_block():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Using it", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the 'Using it' section should hold one python block"
    return blocks[0]


def test_the_readme_snippet_runs_as_written_and_learns():
    if not (ROOT.parent / "shared" / "data").is_dir():
        pytest.skip("the MNIST files are not at ../shared/data (see the README)")
    result = subprocess.run([sys.executable, "-c", _using_it_block()], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"last cost (\S+), test accuracy (\S+)\n", result.stdout)
    assert match, result.stdout
    cost, accuracy = float(match[1]), float(match[2])
    # One epoch of this MLP with torch's default init reaches about 96% (a net that did not learn: 10%).
    assert cost < 0.5 and accuracy > 0.93, result.stdout
