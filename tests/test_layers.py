"""The package's layers: each subpackage imports only those below it, and `import biogrn` stays light."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "biogrn"
LAYERS = [
    "core",
    "dynamics",
    "policies",
    "regulation",
    "biology",
    "models",
    "data",
    "runs",
    "grn",
    "genomics",
    "integrations",
    "cli",
]
"""Bottom to top; `testing` holds reference solutions and imports nothing of biogrn. `_commands`
is the command layer's second half (what `cli` runs once it has parsed)."""


def imported_layers(path: Path) -> set[str]:
    """The biogrn subpackages a module imports, wherever in the module the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "biogrn" and len(parts) > 1 and not parts[1].startswith("_"):
                found.add(parts[1])
            elif parts[0] == "biogrn" and len(parts) == 1:
                found.add("biogrn")
    return found


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    layer = relative.parts[0] if len(relative.parts) > 1 else relative.stem
    return "cli" if layer == "_commands" else layer


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_its_own_layer_and_those_below(path):
    layer = layer_of(path)
    if layer in ("__init__", "__main__", "_version"):
        return
    imported = imported_layers(path) - {layer}
    assert "biogrn" not in imported, f"{path.name} imports the top-level package"
    if layer == "testing":
        assert not imported, f"{path.name} imports {sorted(imported)}"
        return
    rank = LAYERS.index(layer)
    above = {name for name in imported if name in LAYERS and LAYERS.index(name) > rank}
    assert not above, f"{layer}/{path.name} imports the higher layer(s) {sorted(above)}"


def test_every_subpackage_has_a_place_in_the_layers():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"testing"} <= set(LAYERS)


def test_import_biogrn_loads_neither_the_run_machinery_nor_the_data_stack():
    heavy = "{'xarray', 'pandas', 'matplotlib', 'netCDF4', 'sklearn'}"
    code = f"import sys, biogrn; print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_flat_api_is_sorted_and_resolves():
    import biogrn

    assert biogrn.__all__ == sorted(biogrn.__all__)
    for name in biogrn.__all__:
        assert getattr(biogrn, name) is not None
