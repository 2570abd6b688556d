"""The package never imports torch: torch is for parity/ and benchmarks/ only (DESIGN.md).

Checked in fresh interpreters, since this test session may already have torch loaded.
"""

import subprocess
import sys


def _run(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_import_minitorch_relu_does_not_import_torch():
    _run("import minitorch_relu, sys; assert 'torch' not in sys.modules, 'torch was imported'")


def test_no_module_of_the_package_imports_torch():
    # every submodule (data, demos, cli, ...) except __main__, which would run the CLI
    out = _run(
        "import importlib, pkgutil, sys\n"
        "import minitorch_relu as pkg\n"
        "names = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.')\n"
        "         if not m.name.endswith('__main__')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "    assert 'torch' not in sys.modules, f'importing {name} imported torch'\n"
        "print(len(names))\n"
    )
    assert int(out.strip()) > 20  # the walk really found the package's modules
