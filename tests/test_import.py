"""Importing the package never imports torch (DESIGN.md). torch is for parity/, benchmarks/ and the
one torch reference, minitorch_relu/torch_lesson.py, which only they and the compare demo import, when
they run.

Checked in fresh interpreters, since this test session may already have torch loaded.
"""

import subprocess
import sys
import textwrap


def _run(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_import_minitorch_relu_does_not_import_torch():
    _run("import minitorch_relu, sys; assert 'torch' not in sys.modules, 'torch was imported'")


TORCH_REFERENCE = "minitorch_relu.torch_lesson"  # the lesson's program in torch: imports torch, by design


def test_no_module_of_the_package_imports_torch():
    # every submodule (data, demos, cli, ...) except __main__, which would run the CLI, and the torch reference
    out = _run(
        "import importlib, pkgutil, sys\n"
        "import minitorch_relu as pkg\n"
        "names = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.')\n"
        f"         if not m.name.endswith('__main__') and m.name != {TORCH_REFERENCE!r}]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "    assert 'torch' not in sys.modules, f'importing {name} imported torch'\n"
        "print(len(names))\n"
    )
    assert int(out.strip()) > 20  # the walk really found the package's modules


def _imports_within_the_package():
    """module -> the package's modules it imports (anywhere in the file, in functions too)."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "minitorch_relu"
    files = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:  # `from . import tensor` names a module; `from .x import f` does not
                    targets.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in files else target)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[module] = {t for t in targets if t in files and t != module}
    return graph


def test_the_package_has_no_import_cycle():
    # A lower layer never imports a higher one (README's map); an import inside a function counts too.
    import graphlib

    graph = _imports_within_the_package()
    assert "minitorch_relu.tensor" in graph["minitorch_relu"] and len(graph) > 50  # the walk saw the package
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_nothing_imports_cupy_or_torch_unless_asked():
    code = textwrap.dedent(f"""
        import importlib, pkgutil, sys
        import minitorch_relu as mt
        for info in pkgutil.walk_packages(mt.__path__, "minitorch_relu."):
            if info.name.endswith("__main__") or info.name == {TORCH_REFERENCE!r}:
                continue
            importlib.import_module(info.name)
        x = mt.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        from minitorch_relu_testing import register_strict_backend
        register_strict_backend()
        mt.nn.Linear(2, 2).to("strict")
        print(sorted(m for m in ("cupy", "torch") if m in sys.modules))
    """)
    assert _run(code).strip() == "[]"


def test_without_torch_the_compare_demo_runs_the_engine_alone():
    # torch made unimportable: the demo's lazy import of the torch reference gives None, not an error
    _run("import sys\n"
         "sys.modules['torch'] = None\n"
         "from minitorch_relu.demos import compare\n"
         "assert compare.import_torch_lesson() is None\n")
