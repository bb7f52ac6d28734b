"""The layers import only downwards: core (and the embedded server) <- bulk <- operations <- jobs
<- web and management commands. A module never imports a layer above its own, every import of a
bulkadmin module is at the top of its file (none hidden in a function to dodge a cycle), and the
import graph has no cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "bulkadmin"
LAYER = {
    "core": 0,
    "devserver": 0,
    "bulk": 1,
    "operations": 2,
    "jobs": 3,
    "models": 3,
    "migrations": 3,
    "admin": 4,
    "web": 4,
    "management": 4,
    "templatetags": 4,
    "apps": 5,
}


def imported(tree: ast.Module) -> list[str]:
    """The bulkadmin modules a file imports at run time (not under `if TYPE_CHECKING:`)."""
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    names: list[str] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bulkadmin."):
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.module == "bulkadmin":
            names += [f"bulkadmin.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.startswith("bulkadmin.")]
    return names


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.name == "__init__.py" and len(relative.parts) == 1:
            continue
        layer = LAYER[relative.with_suffix("").parts[0]]
        for name in imported(ast.parse(path.read_text())):
            target = name.split(".")[1]
            if LAYER.get(target, 0) > layer:
                upward.append(f"{relative}: {name}")
    assert upward == []


def test_every_layer_of_the_package_is_ranked():
    tops = {path.relative_to(ROOT).with_suffix("").parts[0] for path in ROOT.rglob("*.py")}
    assert tops - {"__init__"} <= set(LAYER)


def modules() -> dict[str, Path]:
    """Every bulkadmin module by dotted name (a package by its own name)."""
    named = {}
    for path in ROOT.rglob("*.py"):
        parts = ("bulkadmin", *path.relative_to(ROOT).with_suffix("").parts)
        named[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return named


def function_level_imports(tree: ast.Module) -> Iterator[ast.ImportFrom | ast.Import]:
    """The imports of bulkadmin modules inside a function's body (run when called, not when the module loads)."""
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom) and any(
                    name.startswith("bulkadmin") for name in imported(ast.Module([node], []))
                ):
                    yield node


def test_every_import_of_a_bulkadmin_module_is_at_the_top_of_its_file():
    """A migration's functions run with the historical models, so they import when run."""
    hidden = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for path in sorted(ROOT.rglob("*.py"))
        if path.relative_to(ROOT).parts[0] != "migrations"
        for node in function_level_imports(ast.parse(path.read_text()))
    ]
    assert hidden == []


def import_graph() -> dict[str, set[str]]:
    """Which bulkadmin modules each one imports when it loads (`from a import b` counts as the
    module `a.b` when there is one), with the packages those imports load on the way, except the
    importer's own packages (a package's `__init__` may import its modules, which import each other)."""
    named = modules()
    graph: dict[str, set[str]] = {}
    for name, path in named.items():
        tree = ast.parse(path.read_text())
        targets = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bulkadmin":
                targets |= {f"{node.module}.{alias.name}" for alias in node.names} & named.keys() or {node.module}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names if alias.name.startswith("bulkadmin.")}
        for target in list(targets):
            parts = target.split(".")
            packages = {".".join(parts[:end]) for end in range(2, len(parts))}
            targets |= {package for package in packages if not f"{name}.".startswith(f"{package}.")}
        graph[name] = targets & named.keys()
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as the path around it, or [] when there is none."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        for target in sorted(graph[node]):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return []

    return next((found for start in sorted(graph) if (found := visit(start, []))), [])


def test_the_import_graph_has_no_cycle():
    assert cycle(import_graph()) == []


def test_a_cycle_is_found_and_shown_as_its_path():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert cycle(graph) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) == []


def test_a_hidden_import_is_found():
    tree = ast.parse("import os\n\ndef f():\n    from bulkadmin.jobs import tasks\n    import json\n")
    assert [ast.unparse(node) for node in function_level_imports(tree)] == ["from bulkadmin.jobs import tasks"]
