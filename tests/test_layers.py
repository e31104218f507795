"""Imports only go down the data flow: every package imports packages of a lower rank only.

core, geometry -> maps -> dynamics, metrics, agents, testing -> control -> scenarios ->
datasets -> prediction -> planning -> simulation -> viz -> demo, bench -> cli.
`core` may name `maps` types under `if TYPE_CHECKING:` (annotations only)."""

from __future__ import annotations

import ast
from pathlib import Path

import urbandrive

ROOT = Path(urbandrive.__file__).parent
RANK = {
    "core": 0,
    "geometry": 1,
    "maps": 2,
    "dynamics": 3,
    "metrics": 3,
    "agents": 3,
    "testing": 3,
    "control": 4,
    "scenarios": 5,
    "datasets": 6,
    "prediction": 7,
    "planning": 8,
    "simulation": 9,
    "viz": 10,
    "demo": 11,
    "bench": 11,
    "cli": 12,
}


def _package(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes inside `if TYPE_CHECKING:` blocks."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            inside |= {id(child) for child in ast.walk(node)}
    return inside


def imported_packages(path: Path) -> list[tuple[str, int]]:
    """(urbandrive package, line) of every run-time import in `path`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(n.split(".")[1], node.lineno) for n in names if n.startswith("urbandrive.")]
    return found


MODULES = [p for p in sorted(ROOT.rglob("*.py")) if _package(p) != "__init__.py"]


def test_every_package_has_a_rank() -> None:
    packages = {_package(p) for p in MODULES} - {"__init__", "__main__"}
    assert packages <= RANK.keys(), f"give these a rank: {packages - RANK.keys()}"


def test_imports_go_down_the_data_flow() -> None:
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports urbandrive.{target}"
        for path in MODULES
        if (source := _package(path)) in RANK
        for target, line in imported_packages(path)
        if target != source and RANK.get(target, 99) >= RANK[source]
    ]
    assert not upward, "\n".join(upward)


def test_an_upward_import_is_found(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import urbandrive.maps\n"
        "def f():\n    from urbandrive.viz import render_scenario\n"
    )
    assert imported_packages(module) == [("viz", 5)]
