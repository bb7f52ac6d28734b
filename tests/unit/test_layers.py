"""The layers import only downwards: core (and the embedded server) <- bulk <- operations <- jobs
<- web and management commands. A module never imports a layer above its own."""

from __future__ import annotations

import ast
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
