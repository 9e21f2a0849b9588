"""minigrad's modules import each other without a cycle, read from the source with ast.

A cycle is the knot this guards against: autograd.py importing the ops that import it. Imports inside
functions count as much as those at the top of a module.
"""
import ast
from pathlib import Path

import minigrad

PACKAGE = Path(minigrad.__file__).parent


def module_names(package):
    """{dotted module name: path} for every .py file under the package folder."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = (package.name,) + path.relative_to(package).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported_modules(name, path, modules):
    """The package's own modules that module ``name`` imports, anywhere in its source."""
    found = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join(parts + ([node.module] if node.module else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules.keys()
            found.update(submodules)  # "from . import backend" imports a submodule, not the package's body...
            if len(submodules) < len(node.names):
                found.add(base)  # ...while "from .autograd import Tensor" runs autograd
    return {m for m in found if m in modules and m != name}


def import_graph(package):
    modules = module_names(package)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycle(graph):
    """One import cycle as a list of module names (first == last), or None."""
    state = {}  # name -> "open" while on the current path, "done" after
    for start in graph:
        if start in state:
            continue
        path, stack = [], [(start, iter(sorted(graph[start])))]
        state[start] = "open"
        path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = "done"
            elif state.get(child) == "open":
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = "open"
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_minigrad_has_no_import_cycle():
    cycle = find_cycle(import_graph(PACKAGE))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_core_imports_no_op():
    graph = import_graph(PACKAGE)
    assert graph["minigrad.autograd"] <= {"minigrad.backend"}
    assert "minigrad.autograd" in graph["minigrad.ops.elementwise"]  # the ops build on the core, not the reverse


def test_the_check_finds_a_cycle_through_a_function_level_import(tmp_path):
    package = tmp_path / "knot"
    (package / "ops").mkdir(parents=True)
    (package / "__init__.py").write_text("from . import core, ops\n")
    (package / "core.py").write_text("def to(x):\n    from .ops.move import Move\n    return Move(x)\n")
    (package / "ops" / "__init__.py").write_text("from .move import Move\n")
    (package / "ops" / "move.py").write_text("from ..core import to\n\nclass Move:\n    pass\n")
    assert find_cycle(import_graph(package)) == ["knot.core", "knot.ops.move", "knot.core"]
    (package / "core.py").write_text("def to(x):\n    return x\n")
    assert find_cycle(import_graph(package)) is None


def test_tensor_has_its_operators_once_minigrad_is_imported():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = ((2 - x) * x / 4 + x ** 2 - (-x) @ x).exp().sum() + x.T.reshape(2, 1)[0].double().float().to("cpu").sum()
    y.backward()
    assert x.grad.shape == (2,) and y.grad_fn.name == "Add"
