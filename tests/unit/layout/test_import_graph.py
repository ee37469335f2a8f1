"""The package's import graph follows DESIGN.md: one-way layers, no cycles, private stays private.

Every ``import mouseface...`` / ``from mouseface... import`` statement in ``src/mouseface`` counts,
also those inside functions (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "mouseface"

#: folder -> layer; a folder may import folders of its own or a lower layer (no cycles)
LAYERS = {
    "io": 0,
    "face": 0,
    "features": 0,
    "stats": 1,
    "expression": 1,
    "decoding": 1,
    "neural": 1,
    "synth": 1,
    "analyses": 2,
    "report": 2,
    "library": 2,
    "pipeline": 3,
    "cli": 4,
}
#: pairs that the layers would allow but DESIGN.md forbids
FORBIDDEN = {("report", "analyses")}
#: modules at the package root that any folder may import (they import no folder)
ROOT_MODULES = {"mouseface", "mouseface.errors"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SRC.rglob("*.py")}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted import name refers to (``a.b.c`` may be attribute c of module a.b)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _edges(modules: dict[str, Path]) -> list[tuple[str, str, int]]:
    edges = []
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".")
                    base = base if is_pkg else base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{a.name}" for a in node.names]
            for t in targets:
                if not t.startswith("mouseface"):
                    continue
                dst = _resolve(t, modules)
                if dst is not None and dst != mod:
                    edges.append((mod, dst, node.lineno))
    return edges


def _folder(mod: str) -> str | None:
    parts = mod.split(".")
    if len(parts) < 2 or mod in ROOT_MODULES:
        return None
    return parts[1] if (SRC / parts[1]).is_dir() else None


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Path], list[tuple[str, str, int]]]:
    modules = _modules()
    return modules, _edges(modules)


def test_every_folder_has_a_layer(graph) -> None:
    folders = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= set(LAYERS), f"folders without a layer: {sorted(folders - set(LAYERS))}"
    top = {p.stem for p in SRC.glob("*.py")} - {"__init__", "errors"}
    assert not top, f"modules outside a folder (put each in the folder of its idea): {top}"


def test_no_cycle_between_files(graph) -> None:
    _, edges = graph
    g = nx.DiGraph((a, b) for a, b, _ in edges)
    cycles = [c for c in nx.simple_cycles(g) if len(c) > 1]
    assert not cycles, f"import cycles between files: {cycles[:5]}"


def test_no_cycle_between_folders(graph) -> None:
    _, edges = graph
    g = nx.DiGraph()
    for a, b, _ in edges:
        fa, fb = _folder(a), _folder(b)
        if fa and fb and fa != fb:
            g.add_edge(fa, fb)
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import cycles between folders: {cycles}"


def test_imports_point_one_way(graph) -> None:
    _, edges = graph
    bad = []
    for a, b, line in edges:
        fa, fb = _folder(a), _folder(b)
        if fa is None or fb is None or fa == fb:
            continue
        if LAYERS[fb] > LAYERS[fa] or (fa, fb) in FORBIDDEN:
            bad.append(f"{a}:{line} imports {b} ({fa} -> {fb})")
    assert not bad, "imports against the layers of DESIGN.md:\n" + "\n".join(bad)


def test_root_modules_import_no_folder(graph) -> None:
    _, edges = graph
    bad = [f"{a}:{n} imports {b}" for a, b, n in edges if a in ROOT_MODULES and _folder(b)]
    assert not bad, bad


def test_private_modules_stay_in_their_folder(graph) -> None:
    modules, edges = graph

    def package(m: str) -> str:
        return m if modules[m].name == "__init__.py" else m.rpartition(".")[0]

    bad = [
        f"{a}:{line} imports private {b}"
        for a, b, line in edges
        if b.rsplit(".", 1)[-1].startswith("_") and package(a) != package(b)
    ]
    assert not bad, "private modules used from another folder:\n" + "\n".join(bad)


def test_the_checker_sees_imports(graph) -> None:
    """The graph is not empty and finds a known edge (guards against a parser that sees nothing)."""
    modules, edges = graph
    assert len(modules) > 50
    assert ("mouseface.pipeline.run", "mouseface.io.config") in {(a, b) for a, b, _ in edges}
